"""One candidate loop nest as the analyses see it: its loops, what it touches, what it knows.

Contract:
- ``candidates(node)``: the outermost ``for`` statements inside a node (the candidate
  nests of a function body, or the loops inside a refused nest).
- ``build_nest(node, model, sem, poly) -> Nest``: the loops of the nest rooted at ``node``
  (each with its bounds read as ``Poly`` by ``poly``, once what the nest writes is known),
  what it touches (``access.collect``), its loop indices, the scalars it writes and its
  body-local constants (``int idx = i * n + j`` becomes its value).  ``poly(node, nest)`` is
  the affine reader (``affine.AffineForms.poly``); it may record known values in
  ``nest.values`` and the parenthesised text of multi-operand macros in ``nest.wrap``.
- ``perfect_depth(root)``: how many loops are perfectly nested from the root.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine.access import NestFacts, collect
from pcx_driver.engine.hostaccess import LOOP_TYPES
from pcx_driver.engine.loops import Loop, Poly, parse_loop, single_statement
from pcx_driver.engine.semantics import Semantics, narrow_integer
from pcx_driver.engine.source import SourceModel, walk


@dataclass
class Nest:
    """A candidate nest: its loops (outer first), what it touches and what is known in it."""

    root: Loop
    loops: list[Loop]
    by_node: dict[int, Loop]
    facts: NestFacts
    index_keys: dict[str, str] = field(default_factory=dict)  # index name -> decl key (last seen)
    index_key_set: set[str] = field(default_factory=set)  # decl keys of every loop index of the nest
    root_key: str | None = None
    written: set[str] = field(default_factory=set)  # decl keys written inside the nest
    # symbols with known values: an int (#define, const) or a Poly fact (int w = cols + 2, never changed)
    values: dict = field(default_factory=dict)
    # macros whose replacement list is more than one operand (``#define W N+8``) -> the text to
    # render for them, that list in parentheses: a section's text is read again as a
    # polynomial (engine/sections.py), where ``N*(W)`` would lose its parentheses
    wrap: dict[str, str] = field(default_factory=dict)
    local_polys: dict[str, Poly] = field(default_factory=dict)  # body-local constants
    # body-local scalars set once to a minimum (``int cnt = imin(B, n - base)``): its arms
    local_mins: dict[str, list[Poly]] = field(default_factory=dict)
    # arrays private to each iteration (engine/privatise.py): no dependence to test
    private_arrays: set[str] = field(default_factory=set)
    # arrays whose only dependences are a pivot's silent stores (engine/pivot.py)
    pivot_arrays: set[str] = field(default_factory=set)
    # what the split of flattened subscripts into rows rests on (``dependence.delinearise``:
    # ``u[i*ny + j]``, ``j < nx``, is ``u[i][j]`` when ``ny - nx >= 0``), each a polynomial of
    # parameters ``>= 0``, tested at run time (``NestAnalysis.row_tests``)
    row_facts: list[Poly] = field(default_factory=list)

    def rendered(self, symbol: str) -> str:
        """The C text of a symbol in a rendered polynomial (``Poly.render``)."""
        return self.wrap.get(symbol, symbol)
    # facts (each ``p >= 0``) from the serial loops around the nest: ``i >= 0`` and
    # ``i <= m - 1`` for an enclosing ``for (i = 0; i < m; i++)`` (``enclosing_facts``)
    context: list[Poly] = field(default_factory=list)


#: reads an expression node of a nest as a polynomial, or None (``AffineForms.poly``)
PolyReader = Callable[[Node | None, Nest], Poly | None]
#: the arms of a minimum as polynomials, or None (``AffineForms.min_arms``)
ArmsReader = Callable[[Node | None, "Nest"], "list[Poly] | None"]


def build_nest(node: Node, model: SourceModel, sem: Semantics, poly: PolyReader,
               constant: Callable[[Node], int | None] | None = None, arms: ArmsReader | None = None) -> Nest:
    """``constant``: a compile-time integer's value (``AffineForms.int_constant``), for
    steps written with a macro or a ``const`` variable; ``arms``: the arms of a minimum a
    loop is bounded by (``AffineForms.min_arms``)."""
    text = model.text
    loops: list[Loop] = []
    by_node: dict[int, Loop] = {}

    def build(n: Node, parent: Loop | None, depth: int) -> Loop:
        lp = parse_loop(n, text, lambda _x: None, constant, conditions=parent is not None)
        lp.parent, lp.depth = parent, depth
        loops.append(lp)
        if lp.problem is None or parent is None:
            by_node[n.id] = lp
        body = n.child_by_field_name("body")
        if body is not None:
            for inner in inner_fors(body):
                child = build(inner, lp, depth + 1)
                if child.problem is None:
                    lp.children.append(child)
        return lp

    root = build(node, None, 0)
    facts = collect(node, by_node, model, sem)
    nest = Nest(root, [lp for lp in loops if lp.node.id in by_node], by_node, facts)
    root_problem = None
    for lp in nest.loops:
        if lp.index_node is not None:
            d = sem.decl_of(lp.index_node.start_byte) or sem.decl_declared_at(lp.index_node.start_byte)
            if d is not None:
                anc = lp.parent
                while anc is not None:
                    if anc.index == lp.index:
                        lp.problem = ("PCX110", f"loop index '{lp.index}' shadows an outer index")
                        # The nest's reading of subscripts keys indices by name: the outer
                        # loop would be taken as varying what the inner 'i' varies, and
                        # judged parallel (a race: `for i < R { for (int i ...) b[i] += }`).
                        # The outer nest is refused; the inner loop is a nest of its own.
                        if root_problem is None:
                            root_problem = ("PCX110", f"loop index '{lp.index}' (line "
                                            f"{lp.node.start_point[0] + 1}) shadows the index of an "
                                            "enclosing loop of the nest")
                    anc = anc.parent
                nest.index_keys[lp.index] = d.key
                nest.index_key_set.add(d.key)
                if lp is root:
                    nest.root_key = d.key
    if root_problem is not None and root.problem is None:
        root.problem = root_problem
    nest.written = {r.decl.key for r in facts.scalars if r.write and r.decl is not None}
    _local_constants(nest, poly, arms)
    # second pass: bounds as polynomials, now that we know what the nest writes
    def converted_text(x: Node) -> str:
        """(the start of ``int i = n - 8`` with a long ``n`` is ``(int)(n - 8)``)"""
        target = sem.changing_conversions.get((x.start_byte, x.end_byte))
        return f"({target})({text(x)})" if target else text(x)

    for lp in nest.loops:
        again = parse_loop(lp.node, converted_text, lambda x: poly(x, nest), constant, conditions=lp.parent is not None)
        if lp.problem is None:
            lp.problem = again.problem
        lp.init, lp.bound, lp.low, lp.high, lp.step, lp.op = again.init, again.bound, again.low, again.high, again.step, again.op
        lp.inexact, lp.whole_last, lp.whole_test = again.inexact, again.whole_last, again.whole_test
        if arms is not None and lp.problem is None and lp.step > 0 and lp.op in ("<", "<=") \
                and len(again.bound_nodes) == 2 and lp.init is not None:
            _bound_by_minimum(lp, arms(again.bound_nodes[1], nest))
    return nest


def _bound_by_minimum(lp: Loop, arms: list[Poly] | None) -> None:
    """``i < min(a, b)``: each arm bounds the index too (``alt_highs``).  A bound that is
    one symbol where the nest runs (``count``, set before it) stays the loop's high, with
    ``count <= a`` and ``count <= b`` as facts; one that is not (a local of the nest's
    body) gives way to a constant arm's (a bound that stays small wherever the others
    are not read), or the first's."""
    if not arms:
        return
    lp.min_arms = list(arms)
    if lp.bound is not None and lp.high is not None:
        return  # (``Loop.alt_highs`` and ``Loop.bound_facts`` follow from the arms)
    primary = next((a for a in arms if a.is_const), arms[0])
    lp.bound, lp.low, lp.high = primary, lp.init, primary - Poly.const(1 if lp.op == "<" else 0)
    lp.high_from_arm = True


def check_minimum_arms(nest: Nest, nonneg: Callable[[Poly, list[Loop]], bool]) -> None:
    """Keep what a minimum says of a loop only where each arm is provably >= 0 over the
    loops around it (``nonneg(arm, loops)``): ``std::min<size_t>(T, n - b)`` is ``T`` when
    ``n - b`` wraps, and the facts ``i <= n - b - 1`` would then be false.  Otherwise the
    loop is as if its bound were opaque: its high is dropped where it came from an arm."""
    for lp in nest.loops:
        if not lp.min_arms:
            continue
        outer = []
        up = lp.parent
        while up is not None:
            outer.insert(0, up)
            up = up.parent
        if all(a.is_const and a.const_value >= 0 or nonneg(a, outer) for a in lp.min_arms):
            continue
        lp.min_arms = []
        if lp.high_from_arm:
            lp.bound, lp.low, lp.high, lp.high_from_arm = None, None, None, False


def _local_constants(nest: Nest, poly: PolyReader, arms: ArmsReader | None = None) -> None:
    """Body-local scalars assigned once at their declaration become their value (int idx = i*n+j)."""
    writes: dict[str, list] = {}
    for r in nest.facts.scalars:
        if r.write and r.decl is not None and r.decl.key in nest.facts.local_keys:
            writes.setdefault(r.decl.key, []).append(r)
    for key, refs in writes.items():
        if len(refs) != 1 or refs[0].decl.key in nest.index_key_set:
            continue
        r = refs[0]
        if r.assign is None or r.assign.type != "init_declarator" or not r.decl.integral or narrow_integer(r.decl):
            continue
        v = r.assign.child_by_field_name("value")
        if v is None:
            continue
        with nest.facts.bound(r.bindings):
            p = poly(v, nest)
            both = arms(v, nest) if p is None and arms is not None else None
        if p is not None:
            nest.local_polys[key] = p
        elif both:
            nest.local_mins[key] = both
    _assigned_constants(nest, poly)


def _assigned_constants(nest: Nest, poly: PolyReader) -> None:
    """A scalar declared outside the nest (C89 style, ``int i, j, k;`` at the top) that one
    unconditional statement of a loop body assigns, ``k = i + Nr * j;``, and that is read
    only after it in that body, holds that value wherever it is read: Rodinia srad's and
    nw's subscripts go through such a ``k``.  (Whether ``k`` is private or live after the
    nest is the scalar analysis's question; this is only its value.)"""
    writes: dict[str, list] = {}
    for r in nest.facts.scalars:
        if r.write and r.decl is not None and r.decl.key not in nest.facts.local_keys \
                and r.decl.key not in nest.index_key_set:
            writes.setdefault(r.decl.key, []).append(r)
    for key, refs in writes.items():
        r = refs[0]
        if len(refs) != 1 or r.op != "=" or r.conditional or r.bindings or not r.decl.integral or narrow_integer(r.decl) \
                or r.assign is None or r.assign.type != "assignment_expression":
            continue
        stmt = r.assign.parent
        block = stmt.parent if stmt is not None else None
        if stmt is None or stmt.type != "expression_statement" or block is None or block.type != "compound_statement" \
                or block.parent is None or block.parent.id not in nest.by_node:
            continue
        reads = [x for x in nest.facts.scalars if x.read and x.decl is not None and x.decl.key == key]
        if any(x.bindings or x.header_of is not None or x.assign is not None
               or not (stmt.end_byte <= x.node.start_byte and x.node.end_byte <= block.end_byte) for x in reads):
            continue
        p = poly(r.assign.child_by_field_name("right"), nest)
        if p is not None:
            nest.local_polys[key] = p


def candidates(node: Node) -> list[Node]:
    """The outermost for (and range-for) statements inside ``node`` (``node`` itself if it is one)."""
    if node.type in ("for_statement", "for_range_loop"):
        return [node]
    out: list[Node] = []
    stack = list(reversed(node.children))
    while stack:
        n = stack.pop()
        if n.type in ("for_statement", "for_range_loop"):
            out.append(n)
            continue
        if n.type in ("lambda_expression", "function_definition", "class_specifier", "struct_specifier"):
            continue
        stack.extend(reversed(n.children))
    return out


def inner_fors(node: Node) -> list[Node]:
    """The outermost canonical ``for`` statements inside ``node``."""
    return [n for n in candidates(node) if n.type == "for_statement"]


def innermost_in_band(root: Loop, depth: int) -> int:
    """The depth (1-based) of the first loop of the perfectly nested band from ``root``,
    within ``depth`` loops, that holds no loop of any kind; 0 when loops remain below."""
    lp = root
    for d in range(1, depth + 1):
        if lp.body is None or not any(n.type in LOOP_TYPES for n in walk(lp.body)):
            return d
        inner = single_statement(lp.body)
        nxt = next((c for c in lp.children if inner is not None and c.node.id == inner.id), None)
        if nxt is None:
            return 0
        lp = nxt
    return 0


def perfect_depth(root: Loop) -> int:
    """How many loops, from ``root``, each hold the next as their only statement."""
    depth = 1
    lp = root
    while True:
        inner = single_statement(lp.body)
        nxt = next((c for c in lp.children if inner is not None and c.node.id == inner.id), None)
        if nxt is None:
            return depth
        depth += 1
        lp = nxt


def enclosing_facts(nest: Nest, fn_body: Node, text: Callable[[Node], str], poly: PolyReader,
                    changed: Callable[[Node, str], bool]) -> list[Poly]:
    """Bounds of the index of each ``for`` loop around the nest, inside the function: they hold
    wherever the nest runs when nothing in that loop but its own update assigns the index or
    a name its bounds read (``changed(loop, name)``), and the nest names no other variable so
    (a shadowing declaration would make the fact about another ``i``)."""
    inner = {lp.index for lp in nest.loops} | {
        text(x) for x in _identifiers(nest.root.node) if x.parent is not None and x.parent.type in (
            "init_declarator", "declaration", "parameter_declaration", "array_declarator", "pointer_declarator")}
    out: list[Poly] = []
    n = nest.root.node.parent
    while n is not None and n.id != fn_body.id:
        if n.type == "for_statement":
            lp = parse_loop(n, text, lambda x: poly(x, nest))
            if lp.problem is None and lp.low is not None and lp.high is not None and lp.index not in inner:
                names = {lp.index} | lp.low.symbols() | lp.high.symbols()
                if not any(changed(n, name) for name in names):
                    i = Poly.sym(lp.index)
                    out += [i - lp.low, lp.high - i]
        n = n.parent
    return out


def _identifiers(node: Node):
    stack = [node]
    while stack:
        x = stack.pop()
        if x.type == "identifier":
            yield x
        stack.extend(x.children)
