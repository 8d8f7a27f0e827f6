"""Min-plus relaxation through a pivot: Floyd-Warshall's inner loops, parallel while the
pivot's own element keeps the pivot row and column fixed.

In ``for (i...) for (j...) p[i][j] = p[i][j] < p[i][k] + p[k][j] ? p[i][j] : p[i][k] + p[k][j];``
(PolyBench's floyd-warshall, the textbook all-pairs shortest paths) the iteration ``(i, k)``
writes ``p[i][k]``, which later iterations of row ``i`` read, and ``(k, j)`` writes
``p[k][j]``, which later rows read: isl finds loop-carried dependences (PCX101).  Those
writes store ``min(p[i][k], p[i][k] + p[k][k])`` and ``min(p[k][j], p[k][k] + p[k][j])``:
the value already there whenever ``p[k][k] >= 0`` (``> 0`` for a floating type under
``<``, where ``x + 0.0`` may turn ``-0.0`` into ``+0.0``, and finite, where ``+inf +
-inf`` is NaN; ``== 0`` for an unsigned type, whose sums wrap), and ``p[k][k]`` itself is one of them.  So when the test holds on entry, no store changes the pivot row or column, every
read of them sees the value it had on entry, in any order, and each ``p[i][j]`` is
computed from the same values as in the serial loop: bit for bit the same result.  When it
fails (a negative cycle), the loop must run as written.

``pivot_relaxation(nest, refs, text)`` recognises the statement, the one kind of write it
allows to the array in the nest, and returns the C test (``path[k][k] >= 0``) or None.
The kernel is then versioned on that test, evaluated where the data is (the rewriter's
``pivot`` block: a one-element target region, then the kernel or the loop as written in
a one-thread target region), and the dependence tests leave this array out
(``Nest.pivot_arrays``) for the nest's loops.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine.loops import Poly
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.source import strip_parens

_MIN_CALLS = {"min", "fmin", "fminf", "fminl", "std::min", "std::fmin"}


def _index_of(p: Poly | None, indices: set[str]) -> str | None:
    """The loop index ``p`` is, alone, with coefficient 1; None otherwise."""
    if p is None or len(p.terms) != 1:
        return None
    ((mono, c),) = p.terms.items()
    return mono[0] if c == 1 and len(mono) == 1 and mono[0] in indices else None


def _flat(text: str) -> str:
    return "".join(text.split())


def pivot_relaxation(nest: Nest, refs: list[ArrayRef], text: Callable[[Node], str]) -> str | None:
    """The test under which ``refs`` (every access of one array in ``nest``) carry no
    dependence, as the module docstring says; None when they are not that statement."""
    writes = [a for a in refs if a.write]
    if len(writes) != 1 or any(a.view or a.index_macro for a in refs):  # (the rule reads the accesses' own text)
        return None
    w = writes[0]
    indices = set(nest.index_keys)
    if w.op != "=" or w.conditional or w.fields or w.via is not None or len(w.polys) != 2 or w.read:
        return None
    a, b = (_index_of(p, indices) for p in w.polys)
    if a is None or b is None or a == b:
        return None
    assign = w.node.parent
    if assign is None or assign.type != "assignment_expression" or w.stmt is None:
        return None
    rhs = strip_parens(assign.child_by_field_name("right"))
    pair = _min_operands(rhs, text)
    if pair is None:
        return None
    x, s, tie = pair
    if _flat(text(x)) != _flat(text(w.node)):
        x, s = s, x
    # a tie that stores the sum may turn -0.0 into +0.0: a floating type then needs p[k][k] > 0
    sum_on_tie = tie is None or _flat(text(tie)) != _flat(text(x))
    if _flat(text(x)) != _flat(text(w.node)) or s.type != "binary_expression" or text(s.child_by_field_name("operator")) != "+":
        return None
    terms = [strip_parens(s.child_by_field_name("left")), strip_parens(s.child_by_field_name("right"))]
    by_node = {r.node.id: r for r in refs}
    got = [by_node.get(t.id) if t is not None else None for t in terms]
    if any(r is None or r.write or len(r.polys) != 2 or r.fields for r in got):
        return None
    row = next((r for r in got if _index_of(r.polys[0], indices) == a), None)  # p[a][c]
    col = next((r for r in got if r is not row and _index_of(r.polys[1], indices) == b), None)  # p[c][b]
    if row is None or col is None:
        return None
    c_row, c_col = row.subs[1], col.subs[0]
    if _flat(text(c_row)) != _flat(text(c_col)) or row.polys[1] is None or row.polys[1] != col.polys[0]:
        return None
    pivot = row.polys[1]
    if any(s in indices for mono in pivot.terms for s in mono):
        return None  # the pivot varies in the nest: a real dependence
    if c_row.type != "identifier":
        return None
    # the only accesses: the write, reads of the same element, the row and the column
    allowed = {w.node.id, row.node.id, col.node.id}
    for r in refs:
        if r.node.id in allowed:
            continue
        if r.write or r.fields or r.polys not in (w.polys, row.polys, col.polys):
            return None
        if not (rhs.start_byte <= r.node.start_byte < rhs.end_byte):
            return None
    # the pivot must not be written in the nest
    if any(r.write and r.name == text(c_row) for r in nest.facts.scalars):
        return None
    integer = w.decl is not None and w.decl.integral
    base, k = text(w.base_node), text(c_row)
    if integer and _wraps(w.decl.element_type):
        # an unsigned sum wraps (defined in C): x + p[k][k] may be below x for any p[k][k]
        # but 0, so only a zero pivot leaves row and column as they are
        return f"{base}[{k}][{k}] == 0"
    pivot = f"{base}[{k}][{k}]"
    if integer:
        return f"{pivot} >= 0"
    # A floating pivot must be finite too: +inf + -inf is NaN, which a minimum that takes
    # the sum where the comparison fails stores over a -inf of the pivot row (a held-out
    # check: the rows other threads read then differed).  ``x - x == 0`` is false for an
    # infinity and a NaN, with no header needed.
    return f"{pivot} {'>' if sum_on_tie else '>='} 0 && {pivot} - {pivot} == 0"


def _wraps(element: str) -> bool:
    """An unsigned type that C's promotions do not widen to int: its sums wrap."""
    words = [w for w in element.split() if w not in ("const", "volatile")]
    if "unsigned" not in words and not any(w.startswith("uint") or w == "size_t" for w in words):
        return False
    return not any(w in ("char", "short", "uint8_t", "uint16_t") for w in words)


def _min_operands(rhs: Node | None, text: Callable[[Node], str]) -> tuple[Node, Node, Node | None] | None:
    """(the two operands, the one a tie picks, None when unknown) of ``rhs`` when it is a
    minimum: ``l < r ? l : r`` (and ``<=``, ``>``/``>=`` with the branches swapped),
    ``std::min(l, r)`` (a tie picks ``l``), ``fmin(l, r)`` or ``min(l, r)``."""
    if rhs is None:
        return None
    if rhs.type == "conditional_expression":
        cond = strip_parens(rhs.child_by_field_name("condition"))
        t = strip_parens(rhs.child_by_field_name("consequence"))
        f = strip_parens(rhs.child_by_field_name("alternative"))
        if cond is None or cond.type != "binary_expression" or t is None or f is None:
            return None
        op = text(cond.child_by_field_name("operator"))
        left = strip_parens(cond.child_by_field_name("left"))
        right = strip_parens(cond.child_by_field_name("right"))
        if left is None or right is None:
            return None
        if op in ("<", "<="):
            small, large = left, right
        elif op in (">", ">="):
            small, large = right, left
        else:
            return None
        if _flat(text(t)) == _flat(text(small)) and _flat(text(f)) == _flat(text(large)):
            # ``small op large ? small : large``: on a tie, ``<`` picks ``large``
            return (small, large, large if op in ("<", ">") else small)
        return None
    if rhs.type == "call_expression":
        f = rhs.child_by_field_name("function")
        args = [x for x in rhs.child_by_field_name("arguments").named_children if x.type != "comment"]
        if f is not None and text(f) in _MIN_CALLS and len(args) == 2:
            first = strip_parens(args[0])
            return (first, strip_parens(args[1]), first if text(f) == "std::min" else None)
    return None
