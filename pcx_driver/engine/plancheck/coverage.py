"""The plan checker's own proof that a kernel writes every element of a section.

A section copied back to the host (``map(from:)``, a region's ``from``) must hold what the
kernel wrote in every element, or the copy puts undefined device memory over the host's
values.  The analysis says so (``ArrayAccess.written_fully``); twice that claim was wrong
(two blocks of three written; a write inside a loop that may run no iteration), and the
checker, which trusted it, let both through.  This module proves it again from the syntax
alone, with no help from the analysis:

- the writes that count are plain stores ``a[e1]...[ek] = ...`` (compound ones too) that
  no condition, ``&&``/``||`` or ``while`` guards, and whose every enclosing loop inside
  the kernel is a counted ``for`` with a step of one whose index and bounds the body does
  not change (``UnitFacts.index_range``);
- subscripts that are affine in the loop indices: the image of the iteration domain is an
  isl set (an index no subscript follows must run: isl keeps its constraint), and the
  section, a box, must be a subset of the union of the images, for every value of the
  names the bounds mention (a product of names is a name of its own: what holds for every
  value of it holds for the product);
- a flattened subscript (``a[i*m + j]``, ``a[(k*ny + j)*nx + i]``), which isl cannot read:
  the loops must fold into one mixed-radix number, each index's coefficient the span of
  the indices inside it, so the image is one interval, which must hold the section.  The
  spans are loop trip counts, taken as nonnegative: a row width below zero, which runs no
  iteration, is assumed not to meet another one below zero (their product, the span, would
  look positive).

Anything else (a call writing through a pointer, ``*p = ...``, a range-for, a step of two)
proves nothing, and the write is not taken as total.
"""

from __future__ import annotations

import tree_sitter

from pcx_driver.engine.hostaccess import text_of
from pcx_driver.engine.plancheck.syntax import _CONDITIONAL, preorder
from pcx_driver.engine.source import arguments_of, node_key, subscript_index
from pcx_driver.engine.symsect import Lin, Sect, add, bounded, empty, freeze, le, lin_node, subst, times

_ONE: Lin = freeze({(): 1})


def covers(facts, node: tree_sitter.Node, name: str, sections: list[Sect]) -> bool:
    """Whether kernel ``node`` surely writes every element of each of ``sections`` of
    ``name`` (canonical) before it ends."""
    todo = [s for s in sections if not empty(s)]
    if not todo:
        return True
    if not all(bounded(s) for s in todo):
        return False
    # constant macros by value: the analysis writes ``M``'s value where the loop says ``M``
    todo = [tuple((subst(lo, facts.macro_values), subst(hi, facts.macro_values)) for lo, hi in s) for s in todo]
    writes = [w for w in (_write(facts, node, *found) for found in _stores(facts, node, name)) if w is not None]
    if not writes:
        return False
    return all(_covered(s, writes) for s in todo)


class _Write:
    """One unconditional store: its subscripts and the ranges of the loops around it,
    outermost first (``(index, lo, hi)``, inclusive, linear)."""

    def __init__(self, subs: list[Lin], loops: list[tuple[str, Lin, Lin]]) -> None:
        self.subs = subs
        self.loops = loops


def _stores(facts, node: tree_sitter.Node, name: str):
    """(store, target, bytes) for each plain or compound assignment in ``node`` to an
    element of array ``name``: the target is a subscript chain, in the unit's bytes or in
    those of the text a function-like macro (``IN(i,j) = ...``, ``in[(i)+(j)*n]``) or a
    C++ element accessor (``d.y(i) = ...``, whose body is ``return m_y[i];``: libclang's
    reading, ``UnitAnalysis.accessor_calls``) stands for."""
    for n in preorder(node):
        if n.type != "assignment_expression":
            continue
        data, top = facts.data, _element(facts.data, n.child_by_field_name("left"))
        if top is not None and top.type == "call_expression":
            data, top = _resolved(facts, top)
            top = _element(data, top)
        if top is None or top.type != "subscript_expression":
            continue
        base = top
        while base.type == "subscript_expression":
            base = base.child_by_field_name("argument")
            if base is None:
                break
        if base is None or base.type not in ("identifier", "field_expression"):
            continue
        if facts.canonical(text_of(data, base).replace(" ", "")) == name:
            yield n, top, data


def _element(data: bytes, top: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The element an assignment's left side names, parentheses and members of it (``p[i].x``:
    a part of element p[i]; kernel_accesses takes it as whole only where every member is
    written) taken off."""
    while top is not None and (top.type == "parenthesized_expression" and top.named_children or
                               top.type == "field_expression" and _dot(data, top)):
        top = top.named_children[0] if top.type == "parenthesized_expression" else top.child_by_field_name("argument")
    return top


def _resolved(facts, call: tree_sitter.Node) -> tuple[bytes, tree_sitter.Node | None]:
    """What call ``call`` on an assignment's left side stands for, parsed on its own."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.macros import expand_expression

    fn = call.child_by_field_name("function")
    text = text_of(facts.data, call)
    if fn is not None and fn.type == "identifier" and facts.macro_table.get(text_of(facts.data, fn), (False,))[0]:
        expanded = expand_expression(text, facts.macro_table, facts.lang)
        return hostaccess.parse_expression(expanded, facts.lang) if expanded else (b"", None)
    accessor = _accessor_text(facts, call)
    return hostaccess.parse_expression(accessor, facts.lang) if accessor else (b"", None)


def _accessor_text(facts, call: tree_sitter.Node) -> str | None:
    """``obj.m[(e)]`` for a call ``obj.f(e)`` (or ``obj->f(e)``) that libclang found to be
    an element accessor of data member ``m`` (``UnitAnalysis.accessor_calls``); None for
    any other call."""
    member = facts.accessor_calls.get(call.start_byte)
    fn = call.child_by_field_name("function")
    argv = arguments_of(call.child_by_field_name("arguments"))
    if member is None or fn is None or fn.type != "field_expression" or len(argv) != 1 \
            or fn.child_by_field_name("field") is None:
        return None
    obj = fn.child_by_field_name("argument")
    op = facts.data[obj.end_byte:fn.child_by_field_name("field").start_byte].decode().strip()
    return f"{text_of(facts.data, obj)}{op}{member}[({text_of(facts.data, argv[0])})]"


def _dot(data: bytes, field: tree_sitter.Node) -> bool:
    """``a.b``, not ``a->b`` (which writes through a pointer the element holds)."""
    arg = field.child_by_field_name("argument")
    return arg is not None and data[arg.end_byte:field.child_by_field_name("field").start_byte].strip() == b"."


def _write(facts, node: tree_sitter.Node, store: tree_sitter.Node, top: tree_sitter.Node, data: bytes) -> _Write | None:
    subs: list[Lin] = []
    cur = top
    while cur.type == "subscript_expression":
        idx = subscript_index(cur)
        form = lin_node(idx, data) if idx is not None else None
        if form is None:
            return None
        form = _locals_replaced(facts, node, store, freeze(form))
        if form is None:
            return None
        subs.insert(0, subst(subst(form, facts.defs), facts.macro_values))
        cur = cur.child_by_field_name("argument")
    loops: list[tuple[str, Lin, Lin]] = []
    q = store.parent
    stop = node_key(node)
    while q is not None:
        if q.type in _CONDITIONAL or q.type in ("for_range_loop", "lambda_expression") or (
                q.type == "binary_expression" and q.child_by_field_name("operator") is not None
                and q.child_by_field_name("operator").type in ("&&", "||")):
            return None
        if q.type == "for_statement":
            step = q.child_by_field_name("update")
            ranges = facts.index_range(q)
            if step is None or len(ranges) != 1:
                return None
            (index, (lo, hi)), = ranges.items()
            text = text_of(facts.data, step).replace(" ", "")
            if text not in (f"{index}++", f"++{index}", f"{index}+=1", f"{index}--", f"--{index}", f"{index}-=1"):
                return None
            if any(index == v for v, _, _ in loops):
                return None  # an inner loop's index shadows an outer one's
            loops.insert(0, (index, subst(lo, facts.macro_values), subst(hi, facts.macro_values)))
        if node_key(q) == stop:
            return _Write(subs, loops)
        q = q.parent
    return None


def _locals_replaced(facts, node: tree_sitter.Node, store: tree_sitter.Node, form: Lin) -> Lin | None:
    """``form`` with each scalar the kernel assigns replaced by its value, where that is
    one unconditional ``k = E;`` (or ``int k = E;``) earlier in a block around the store,
    the kernel's only assignment of ``k``, and ``E`` names nothing else the kernel assigns
    but loop indices (Rodinia's ``k = i + Nr * j; dN[k] = ...``).  None where a name of
    ``form`` is assigned otherwise in the kernel."""
    indices = _loop_indices(facts, node)
    assigned = facts.assigned(node, calls=False) - indices
    out = form
    for name in {v for mono, _ in form for v in mono if v in assigned}:
        value = _only_value(facts, node, store, name, assigned)
        if value is None:
            return None
        out = subst(out, {name: value})
    return out


def _only_value(facts, node: tree_sitter.Node, store: tree_sitter.Node, name: str,
                assigned: set[str]) -> Lin | None:
    """``name``'s one value at ``store`` (``_locals_replaced``); ``assigned``: what the
    kernel assigns, its loop indices left out."""
    from pcx_driver.engine.plancheck.syntax import declared_name

    found = []
    for n in preorder(node):
        if n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            if left is not None and text_of(facts.data, left).replace(" ", "") == name:
                found.append((n, n.child_by_field_name("right")))
        elif n.type == "update_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None and text_of(facts.data, arg).replace(" ", "") == name:
                return None
        elif n.type == "init_declarator" and declared_name(n, facts.data) == name:
            found.append((n, n.child_by_field_name("value")))
    if len(found) != 1 or found[0][1] is None:
        return None
    assign, value = found[0]
    op = assign.child_by_field_name("operator") if assign.type == "assignment_expression" else None
    if op is not None and op.type != "=":
        return None
    stmt = assign.parent  # the statement
    if stmt is None or stmt.type not in ("expression_statement", "declaration"):
        return None
    block = stmt.parent
    if block is None or block.type != "compound_statement":
        return None
    # the store must follow it in that block: some statement after it holds the store
    if not any(c.start_byte > stmt.start_byte and c.start_byte <= store.start_byte < c.end_byte
               for c in block.named_children):
        return None
    form = lin_node(value, facts.data)
    if form is None:
        return None
    if any(v in assigned and v != name for mono, _ in form.items() for v in mono):
        return None
    return freeze(form)


def _loop_indices(facts, node: tree_sitter.Node) -> set[str]:
    """The indices of the counted loops in ``node`` (``UnitFacts.index_range``)."""
    return {v for n in preorder(node) if n.type == "for_statement" for v in facts.index_range(n)}


# ------------------------------------------------------------------ affine: isl


def _covered(section: Sect, writes: list[_Write]) -> bool:
    affine = [w for w in writes if len(w.subs) == len(section) and _affine(w)]
    if affine and _isl_covers(section, affine):
        return True
    if len(section) == 1:
        lo, hi = section[0]
        for w in writes:
            image = _fold(w) if len(w.subs) == 1 else None
            if image is not None and le(image[0], lo) and le(hi, image[1]):
                return True
    return False


def _affine(w: _Write) -> bool:
    indices = {v for v, _, _ in w.loops}
    forms = list(w.subs) + [f for _, lo, hi in w.loops for f in (lo, hi)]
    return all(len([v for v in mono if v in indices]) <= (0 if len(mono) != 1 else 1)
               for form in forms for mono, _ in form)


class _Names:
    def __init__(self, indices: set[str]) -> None:
        self.indices = indices
        self.params: dict[tuple, str] = {}
        self.vars: dict[str, str] = {}

    def term(self, mono: tuple) -> str:
        if len(mono) == 1 and mono[0] in self.indices:
            return self.vars.setdefault(mono[0], f"v{len(self.vars)}")
        return self.params.setdefault(mono, f"p{len(self.params)}")

    def text(self, form: Lin) -> str:
        parts = [str(c) if mono == () else f"{c}*{self.term(mono)}" for mono, c in form]
        return " + ".join(parts) or "0"


def _isl_covers(section: Sect, writes: list[_Write]) -> bool:
    import islpy as isl

    names = _Names({v for w in writes for v, _, _ in w.loops})
    dims = [f"d{k}" for k in range(len(section))]
    box = " and ".join(f"{names.text(lo)} <= {d} < {names.text(hi)}" for d, (lo, hi) in zip(dims, section))
    images = []
    for w in writes:
        cons = [f"{names.text(lo)} <= {names.term((v,))} <= {names.text(hi)}" for v, lo, hi in w.loops]
        cons += [f"{d} = {names.text(s)}" for d, s in zip(dims, w.subs)]
        inner = ", ".join(names.term((v,)) for v, _, _ in w.loops)
        images.append(f"exists ({inner} : {' and '.join(cons)})" if inner else " and ".join(cons))
    params = ", ".join(names.params.values())
    try:
        whole = isl.Set(f"[{params}] -> {{ [{', '.join(dims)}] : {box} }}")
        image = isl.Set(f"[{params}] -> {{ [{', '.join(dims)}] : {' or '.join(f'({t})' for t in images)} }}")
        return whole.is_subset(image)
    except isl.Error:
        return False


# ------------------------------------------------------------------ flattened: one interval


def _fold(w: _Write) -> tuple[Lin, Lin] | None:
    """The interval ``[lo, hi)`` that a flattened subscript covers, when its loops fold into
    one mixed-radix number: the innermost digit has coefficient one, each next one the span
    of the digits inside it.  A loop no subscript follows must provably run."""
    form = dict(w.subs[0])
    indices = {v for v, _, _ in w.loops}
    parts: dict[str, dict] = {}  # index -> its coefficient, {monomial: c}
    for mono, c in list(form.items()):
        inside = [v for v in mono if v in indices]
        if not inside:
            continue
        if len(inside) != 1:
            return None
        rest = list(mono)
        rest.remove(inside[0])
        parts.setdefault(inside[0], {})[tuple(rest)] = c
        del form[mono]
    coefficient = {v: freeze(c) for v, c in parts.items()}
    base = freeze(form)  # what no index multiplies
    if any(v in indices for _, lo, hi in w.loops for f in (lo, hi) for m, _ in f for v in m):
        return None  # a range that moves with another index: no one interval
    span: Lin = _ONE
    todo = {v: (lo, hi) for v, lo, hi in w.loops if v in coefficient}
    for v, lo, hi in w.loops:
        if v not in coefficient and not le(lo, hi):
            return None  # may run no iteration, so nothing under it may be written
    while todo:
        digit = next((v for v in todo if coefficient[v] == span), None)
        if digit is None:
            return None
        lo, hi = todo.pop(digit)
        base = add(base, times(lo, span))
        span = times(add(add(hi, lo, -1), _ONE), span)  # (hi - lo + 1) * span
    return base, add(base, span)

