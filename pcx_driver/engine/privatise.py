"""Array privatisation: a scratch array that each iteration of a nest writes before it
reads it gets a private copy per iteration (issue 16: doitgen's ``sum``).

PolyBench's doitgen computes, for every ``(r, q)``, a row ``sum[0:np]`` and copies it into
``A[r][q][:]``.  ``sum`` is written by every iteration of ``r`` and ``q`` (PCX101), so
only the inner ``p`` loops were kernels: 4,000 launches where an expert launches one.
Each iteration writes all of ``sum`` before reading any of it, so each may have its own.

Contract: ``private_array(nest, refs, model) -> (PrivateArray | None, why)``: ``refs`` are
every access of one array in ``nest``.  The array is private to each iteration of the
nest's perfectly nested loops (their body is ``B``) when, and only when, all of these hold
(each is checked in the syntax; any doubt refuses):

1. it is a one-dimensional array whose extent ``E`` is a constant of its declaration, of
   an arithmetic element type, and every use of its name in the nest is a subscript
   ``x[v]`` listed in ``refs`` (no pointer arithmetic, no call argument, no alias taken);
   the nest calls nothing but pure library functions (a callee could reach the shared
   array as a global or through another pointer);
2. ``B`` is a block of statements, with no ``break``, ``continue``, ``goto`` or ``return``;
3. the first statement of ``B`` that uses the array is a canonical loop ``F`` (unit step,
   affine bounds ``[lo, hi]``) whose body's first statement to use it is ``x[p] = e;``
   (``p`` its index, ``e`` not using the array), at the top level of the body: every
   iteration of ``F`` writes ``x[p]`` before it reads any element, so ``F`` writes all of
   ``x[lo..hi]``, and its other uses are ``x[p]`` too;
4. every later statement of ``B`` that uses the array is a canonical loop whose uses are
   ``x[its index + c]`` (constant ``c``, NPB's ``cv[i - 1]``, ``cv[i + 1]``) and whose
   bounds, shifted by each ``c``, lie within ``[lo, hi]``: each reads only what ``F``
   wrote in the same iteration of ``B``;
5. the bounds of these loops name nothing the nest writes or declares, nor an index of
   its loops, and the perfectly nested loops are canonical, unit-step and rectangular;
   where their trip counts are constants, they run at least ``MIN_ITERATIONS`` (fewer
   would make a narrow kernel of what were wide ones: a profitability rule, not a
   legality one).

Then an iteration of ``B`` computes the same values from a fresh array ``T pcx_priv_x[E]``
as from the shared one, which it never reads.  The last iteration (every index of the
perfect loops at its upper bound) copies ``x[lo..hi]`` back: the serial program leaves
there what its last iteration wrote, and touches nothing else of ``x``.  ``E`` must hold
``x[lo..hi]``.  For an array object (a local or global ``T x[E]``) it does: the serial
program writes every one of those elements itself, and a write outside the object would
be undefined behaviour, which compilers assume away too.  A parameter declared
``T x[E]`` is a pointer, whose ``E`` binds nothing: the kernel runs only when
``lo >= 0 && hi < E`` (``bounds_test``), the loop as written otherwise, which the
rewriter emits as it does the run-time alias test.  Such a kernel may run as written, on
the host copies, so no data region may hold its data: the plan checker checks it as a
version (plancheck/kernels.py, PCX215), and its function is not summarised for its
callers' regions (dataplan.py).

A plan for the nest as written stays right for the privatised kernel: it leaves ``x`` on
the device as the original would, and reads no element of it.
"""

from __future__ import annotations

import math

from pcx_driver.engine import hostaccess
from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine.affine import concrete
from pcx_driver.engine.hostscan import PURE_CALLS
from pcx_driver.engine.loops import Loop, Poly, single_statement
from pcx_driver.engine.minimum import computes_minimum
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.semantics import ARITH_WORDS
from pcx_driver.engine.source import SourceModel, walk
from pcx_driver.model import PrivateArray

JUMPS = {"break_statement", "continue_statement", "goto_statement", "return_statement"}
#: a nest whose loops run a known number of iterations below this keeps its dependence:
#: a copy per iteration would make a kernel of few threads, each running the inner loops
#: that were kernels of their own (a time loop of 4 steps around two row loops)
MIN_ITERATIONS = 256


def perfect_loops(nest: Nest) -> list[Loop]:
    """The root and the loops perfectly nested in it (each the only statement of the last)."""
    chain = [nest.root]
    while True:
        inner = single_statement(chain[-1].body)
        if inner is None or inner.type != "for_statement" or inner.id not in nest.by_node:
            return chain
        chain.append(nest.by_node[inner.id])


def _scratch_problem(nest: Nest, refs: list[ArrayRef], model: SourceModel) -> str:
    """Why the array ``refs`` access is no scratch array either rule may copy ("" when it
    is one): a one-dimensional array named by a variable, of a constant extent and an
    arithmetic element type, named in the nest only where it is subscripted, in a nest
    that calls nothing but pure library functions (a callee may reach the shared array
    through another name, or as a global)."""
    d, name = refs[0].decl, refs[0].base
    if d is None or not name.isidentifier() or any(a.base != name or a.member or a.fields or a.via_data or a.whole
                                                    or a.window or a.view or len(a.subs) != 1 for a in refs):
        return "not a one-dimensional array named by a variable"
    impure = [c.name for c in nest.facts.calls if c.name not in PURE_CALLS and not computes_minimum(c.callee, model)]
    if impure:
        return f"the nest calls '{impure[0]}'"
    if len(d.dims) != 1 or d.dims[0] is None or not d.dims[0].isdigit() or int(d.dims[0]) <= 0:
        return "its declaration gives no constant extent"
    # in a function template, a type parameter is arithmetic: the nest is analysed only
    # when every instantiation in the file is with arithmetic types (Legality.template)
    words = ARITH_WORDS | _type_parameters(nest.root.node, model)  # (a private copy is declared with them)
    if not d.element_type or any(w not in words for w in d.element_type.replace("const", "").split()):
        return f"its element type '{d.element_type}' is not arithmetic"
    if any(a.hidden_base for a in refs):
        return f"'{name}' is named inside an access macro's list, where no private copy can replace it"
    bases = {a.base_node.start_byte for a in refs}
    for n in walk(nest.root.node):
        if n.type == "identifier" and model.text(n) == name and n.start_byte not in bases:
            return f"'{name}' is used other than subscripted (line {model.line_col(n.start_byte)[0]})"
    return ""


def _type_parameters(node, model: SourceModel) -> set[str]:
    """The type parameters of the function template around ``node`` (none outside one)."""
    from pcx_driver.engine.legality import template_parameters

    while node is not None and node.type != "function_definition":
        node = node.parent
    return {p for p, _ in template_parameters(node, model)} if node is not None else set()


def private_array(nest: Nest, refs: list[ArrayRef], model: SourceModel) -> tuple[PrivateArray | None, str]:
    """The privatisation of the array ``refs`` access, or (None, why not); see the module."""
    text = model.text
    d = refs[0].decl
    name = refs[0].base
    if d is not None and (d.shape not in ("array", "pointer") or d.kind not in ("param", "local", "global")):
        return None, "not an array or pointer variable"
    why = _scratch_problem(nest, refs, model)
    if why:
        return None, why
    chain = perfect_loops(nest)
    body = chain[-1].body
    if body is None or body.type != "compound_statement":
        return None, "the loops' body is a single statement"
    if any(n.type in JUMPS for n in walk(body)):
        return None, "the loops' body holds a jump statement"
    declared = _declared_names(nest.root.node, text)
    written = {s.name for s in nest.facts.scalars if s.write} | {lp.index for lp in nest.loops}
    wrap = nest.rendered
    for lp in chain:
        if lp.problem or lp.step != 1 or lp.low is None or lp.high is None or \
                (lp.low.symbols() | lp.high.symbols()) & (written | declared):
            return None, f"loop '{lp.index}' is not canonical and rectangular with a unit step"
    trips = [concrete(lp.high - lp.low + Poly.const(1), nest.values) for lp in chain]
    if all(t.is_const for t in trips) and math.prod(t.const_value for t in trips) < MIN_ITERATIONS:
        return None, (f"the loops it would be private to run {math.prod(t.const_value for t in trips)} iterations: "
                      "the loops inside them are the wider kernels")
    stmts = [c for c in body.named_children if c.type != "comment"]
    using = [s for s in stmts if any(s.start_byte <= a.node.start_byte < s.end_byte for a in refs)]
    if sum(len([a for a in refs if s.start_byte <= a.node.start_byte < s.end_byte]) for s in using) != len(refs):
        return None, "a use is outside the loops' body"
    loops = []
    for s in using:
        lp = nest.by_node.get(s.id) if s.type == "for_statement" else None
        if lp is None or lp.problem or lp.step != 1 or lp.low is None or lp.high is None:
            return None, f"a statement using it (line {model.line_col(s.start_byte)[0]}) is not a canonical loop"
        own = [a for a in refs if s.start_byte <= a.node.start_byte < s.end_byte]
        lbody = lp.body
        if lbody is None or any(not (lbody.start_byte <= a.node.start_byte < lbody.end_byte) for a in own):
            return None, f"the loop at line {model.line_col(s.start_byte)[0]} uses it in its header"
        offsets = [_offset(a, lp.index, text) for a in own]
        if any(c is None for c in offsets) or (not loops and any(offsets)):
            return None, (f"the loop at line {model.line_col(s.start_byte)[0]} subscripts it other than by its "
                          "index" + ("" if loops else " (the first loop: its index alone)"))
        if any(sc.write and sc.name == lp.index and lbody.start_byte <= sc.node.start_byte < lbody.end_byte
               for sc in nest.facts.scalars) or lp.index in _declared_names(lbody, text):
            return None, f"the loop at line {model.line_col(s.start_byte)[0]} writes or redeclares its own index"
        if (lp.low.symbols() | lp.high.symbols()) & (written | declared):
            return None, f"the bounds of the loop at line {model.line_col(s.start_byte)[0]} change in the nest"
        loops.append((s, lp, own, offsets))
    s, f_loop, own, _ = loops[0]
    for g, lp, _, offsets in loops[1:]:  # reads within what the first loop wrote
        below = lp.low + Poly.const(min(offsets)) - f_loop.low
        above = f_loop.high - lp.high - Poly.const(max(offsets))
        if not (below.is_const and below.const_value >= 0 and above.is_const and above.const_value >= 0):
            return None, (f"the loop at line {model.line_col(g.start_byte)[0]} reaches past what the loop at line "
                          f"{model.line_col(s.start_byte)[0]} writes")
    lead = _leading_write(f_loop, own, name, text)
    if lead is None:
        return None, (f"the loop at line {model.line_col(s.start_byte)[0]} does not begin with "
                      f"'{name}[{f_loop.index}] = ...' (every element written before it is read)")
    low, high = f_loop.low.render(wrap), f_loop.high.render(wrap)
    extent = int(d.dims[0])
    tests = [] if f_loop.low.is_const and f_loop.low.const_value >= 0 else [f"({low}) >= 0"]
    if not (f_loop.high.is_const and f_loop.high.const_value < extent):
        tests.append(f"({high}) < {extent}")
    if d.shape == "array" and d.kind in ("local", "global"):
        tests = []  # an array object: the serial program's own writes x[lo..hi] are within it
    if tests and not hostaccess.can_copy(nest.root.node):
        return None, "the loop cannot be copied beside itself for its range test (a label, case or preprocessor line)"
    return PrivateArray(
        name=name, private_name=f"pcx_priv_{name}", element_type=" ".join(d.element_type.split()), extent=extent,
        body_start=stmts[0].start_byte, body_end=stmts[-1].end_byte,
        uses=sorted((a.base_node.start_byte, a.base_node.end_byte) for a in refs), low=low, high=high,
        last=[(lp.index, lp.high.render(wrap)) for lp in chain], bounds_test=" && ".join(tests),
    ), ""


def covered_private_array(nest: Nest, refs: list[ArrayRef], model: SourceModel, ranges, fn_body) -> \
        tuple[PrivateArray | None, str]:
    """A local scratch array written in whole regions before it is read, in each iteration
    of the nest's perfectly nested loops (HeCBench convolution1D's tiled version fills
    ``tile[0..r-1]``, ``tile[r..r+TILE-1]`` and ``tile[r+TILE..2r+TILE-1]``, then reads
    ``tile[t + j]``): each statement of the loops' body that writes it comes before every
    one that reads it, its writes are unconditional ``x[e] = v`` in counted loops, and isl
    proves every element read is one written (``dependence.covers``, the loops' indices
    fixed).  The array is a local of the function that nothing reads after the nest, so
    the copy per iteration needs no copy back."""
    from pcx_driver.engine.dependence import Instance, covers

    text = model.text
    d = refs[0].decl
    name = refs[0].base
    if d is None or d.shape != "array" or d.kind != "local":
        return None, "not a local array"
    why = _scratch_problem(nest, refs, model)
    if why:
        return None, why
    for n in walk(fn_body):
        if n.type != "identifier" or text(n) != name or n.start_byte == d.decl_offset:
            continue
        if n.start_byte >= nest.root.node.end_byte:
            return None, f"'{name}' is used after the nest"
        # no other name for it: a pointer to it would still reach the shared copy
        up = n.parent
        if up is None or not ((up.type == "subscript_expression" and up.child_by_field_name("argument") is not None
                               and up.child_by_field_name("argument").id == n.id)
                              or up.type in ("sizeof_expression", "parenthesized_expression")
                              and up.parent is not None and up.parent.type == "sizeof_expression"):
            return None, f"'{name}' is used other than subscripted in the function (line {model.line_col(n.start_byte)[0]})"
    chain = perfect_loops(nest)
    body = chain[-1].body
    if body is None or body.type != "compound_statement":
        return None, "the loops' body is a single statement"
    stmts = top = [c for c in body.named_children if c.type != "comment"]

    def where(a: ArrayRef) -> int | None:
        return next((k for k, st in enumerate(stmts) if st.start_byte <= a.node.start_byte < st.end_byte), None)

    # every use inside one serial loop of the body (HeCBench meanshift's tiles, filled and
    # read in each step of ``for (base = 0; base < n; base += TILE)``): the same test in each
    # iteration of that loop, its index fixed too
    while len({where(a) for a in refs}) == 1 and where(refs[0]) is not None:
        inner = nest.by_node.get(stmts[where(refs[0])].id)
        if inner is None or inner.problem or inner.conditions or inner.body is None \
                or inner.body.type != "compound_statement":
            break
        chain = chain + [inner]
        stmts = [c for c in inner.body.named_children if c.type != "comment"]

    writes, reads = [a for a in refs if a.write], [a for a in refs if a.read]
    if not writes or not reads or any(where(a) is None for a in refs):
        return None, "it is not both written and read in the loops' body"
    if max(where(a) for a in writes) >= min(where(a) for a in reads):
        return None, "a statement reads it before (or where) the last one writes it"
    if any(n.type in JUMPS for k in {where(a) for a in writes} for n in walk(stmts[k])):
        return None, "a statement that writes it may stop early (a jump)"
    chain_keys = {lp.node.id for lp in chain}
    if any(a.op != "=" for a in writes):
        return None, "a write of it is compound"
    # The writes that cover the reads: unconditional, over counted loops.  Others, plain
    # stores before every read (miniWeather's ``if (k == 0 || k == nz) d3[ID_DENS] = 0;``
    # after the loop that fills ``d3``), write the copy as they wrote the shared array, and
    # what reads it reads them there too.
    covering = []
    for a in writes:
        inner = [lp for lp in a.loops if lp.node.id not in chain_keys]
        if not (a.conditional or a.guards or a.polys[0] is None or any(
                lp.problem or lp.conditions or lp.low is None or lp.high is None or lp.step != 1 for lp in inner)):
            covering.append(a)
    if not covering:
        return None, "every write of it is conditional or not over counted loops"

    def instance(a: ArrayRef) -> Instance:
        inst = ranges.domain_of(a, nest, a.polys, a.write)
        return Instance(inst.subs, [lb for lb in inst.loops if lb.key not in chain_keys], a.write, guards=inst.guards)

    if any(a.polys[0] is None for a in reads) or not covers([instance(a) for a in covering],
                                                          [instance(a) for a in reads], nest.values):
        return None, "isl cannot prove each element read is written first in the same iteration"
    return PrivateArray(
        name=name, private_name=f"pcx_priv_{name}", element_type=" ".join(d.element_type.split()),
        extent=int(d.dims[0]), body_start=top[0].start_byte, body_end=top[-1].end_byte,
        uses=sorted((a.base_node.start_byte, a.base_node.end_byte) for a in refs), copy=False,
    ), ""


def _offset(a: ArrayRef, index: str, text) -> int | None:
    """``c`` for an access ``x[index + c]`` (0 for ``x[index]``), else None."""
    sub = a.subs[0]
    if sub.type == "identifier" and text(sub) == index:
        return 0
    poly = a.polys[0] if a.polys else None
    if poly is None:
        return None
    rest = poly - Poly.sym(index)
    return rest.const_value if rest.is_const else None


def _declared_names(node, text) -> set[str]:
    """The names that declarations inside ``node`` declare (not those their initialisers
    or array sizes read, which a declarator's subtree also holds: only its name)."""
    out = set()
    for d in walk(node):
        if d.type not in ("declaration", "parameter_declaration"):
            continue
        for top in d.children_by_field_name("declarator"):
            c = top
            while c is not None and c.type != "identifier":
                c = c.child_by_field_name("declarator")
            if c is not None:
                out.add(text(c))
            else:  # a shape this walk does not know ((*p), a macro): every name in it
                out |= {text(n) for n in walk(top) if n.type == "identifier"}
    return out


def _leading_write(lp: Loop, own: list[ArrayRef], name: str, text) -> ArrayRef | None:
    """The access ``x[p] = e;`` (``e`` free of ``x``) that is the first statement of loop
    ``lp``'s body to use ``x``, at the body's top level (so it runs in every iteration:
    the body has no jump); None when the first use is anything else."""
    body = lp.body
    while body is not None and body.type == "compound_statement":
        kids = [c for c in body.named_children if c.type != "comment"]
        using = [c for c in kids if any(n.type == "identifier" and text(n) == name for n in walk(c))]
        body = using[0] if using else None
    first = body
    if first is None or first.type != "expression_statement" or first.named_child_count != 1:
        return None
    assign = first.named_children[0]
    if assign.type != "assignment_expression" or text(assign.child_by_field_name("operator")) != "=":
        return None
    left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
    for a in own:
        if a.node.id == getattr(left, "id", None) and a.write and not a.conditional:
            if right is not None and any(n.type == "identifier" and text(n) == name for n in walk(right)):
                return None
            return a
    return None


def private_note(p: PrivateArray, nest: Nest, line_of) -> str:
    """The PCX140 remark of an array privatised in ``nest``: a copy per iteration of the
    innermost of its perfectly nested loops."""
    where = f"line {line_of(perfect_loops(nest)[-1].node)}"
    if not p.copy:
        return (f"'{p.name}' is private to each iteration of the loop at {where}: each writes every element it "
                f"reads first, in a copy of {p.extent} elements; nothing reads it after the loop")
    guard = f"; on the device only when {p.bounds_test}, as written otherwise" if p.bounds_test else ""
    return (f"'{p.name}' is private to each iteration of the loop at {where}: each writes "
            f"{p.name}[{p.low}..{p.high}] before reading it, in a copy of {p.extent} elements, and the last "
            f"iteration copies it back{guard}")
