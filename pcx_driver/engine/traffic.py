"""Copies that outweigh the kernels they serve (issue 16, data motion in loops).

A data region keeps arrays on the device across the kernels of a serial loop, but host
code in that loop may need them back each iteration: the planner then puts a ``target
update`` inside the loop.  An update of part of an array is cheap; one of the whole array
costs as much as the array each iteration.  When a kernel served by such an update does
no more work per launch than the update moves (its work estimate is a polynomial of no
higher degree in the sizes than the array's number of dimensions: LU's row update, work
``(n - i) * i``, against a whole ``n x n`` matrix copied both ways per row), the offload
cannot pay on any device: the kernel stays serial (PCX115, with the figures), and the
function is planned again without it.  A kernel of higher degree (a matrix product inside
the loop, work ``n^3`` per launch on ``n^2`` data) keeps its copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcx_driver.engine import hostaccess
from pcx_driver.model import Plan, Section, SourceUnit, UnitAnalysis


@dataclass
class Outweighed:
    """A kernel whose per-iteration copies cost at least its work."""

    nest_id: str
    message: str


def degree(expr: str) -> int | None:
    """The polynomial degree of a C expression in its identifiers (``(n - i) * (1 + i * 2)``
    -> 2); None where it is not a polynomial (a division by a variable, a call)."""
    data, node = hostaccess.parse_expression(expr)
    return _deg(node, data)


def _deg(n, data: bytes) -> int | None:
    if n is None:
        return None
    t = n.type
    if t == "number_literal":
        return 0
    if t == "identifier":
        return 1
    if t == "parenthesized_expression":
        return _deg(n.named_children[0], data)
    if t == "cast_expression":
        return _deg(n.child_by_field_name("value"), data)
    if t == "unary_expression":
        return _deg(n.child_by_field_name("argument"), data)
    if t == "binary_expression":
        op = hostaccess.text_of(data, n.child_by_field_name("operator"))
        a, b = _deg(n.child_by_field_name("left"), data), _deg(n.child_by_field_name("right"), data)
        if a is None or b is None:
            return None
        if op == "*":
            return a + b
        if op in ("+", "-"):
            return max(a, b)
        if op == "/" and b == 0:
            return a
    return None


def _section_degree(sec: Section) -> int:
    """Dimensions of a section longer than one element: a whole n x 400 array counts 2, as
    an array's dimensions are the problem's sizes whether or not they are literals."""
    return sum(1 for _, ln in sec.dims if ln.strip() != "1")


def outweighed(unit: SourceUnit, analysis: UnitAnalysis, plan: Plan) -> list[Outweighed]:
    """Kernels inside a serial loop of a data region that also holds a whole-array
    ``target update`` of an array the kernel uses, where the kernel's work per launch is of
    no higher degree than that array's size."""
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    exprs = {n.nest_id: n for n in analysis.nests()}
    scan = unit.openmp  # engine/ompport.py: the user's own target loops are not second-guessed
    user_kernels = {p.loop for p in scan.pragmas if p.kernel} if scan is not None else set()
    found: dict[str, Outweighed] = {}
    for r in plan.regions:
        whole = {m_sec.base: m_sec for m in r.maps for m_sec in m.sections}
        kernels = [k for k in plan.offloaded() if k.function == r.function and r.start_byte <= k.start_byte < r.end_byte]
        for u in r.updates:
            loop = _innermost_loop(root, u.byte, r.start_byte)
            if loop is None:
                continue
            for sec in u.sections:
                if whole.get(sec.base) is None or whole[sec.base].render() != sec.render():
                    continue  # part of the array: cheap enough
                size = _section_degree(sec)
                if size == 0:
                    continue
                for k in kernels:
                    if k.start_byte in user_kernels:  # a target loop the user wrote: kept on the device
                        continue
                    nest = exprs.get(k.nest_id)
                    if nest is None or k.nest_id in found or not (loop.start_byte <= k.start_byte < loop.end_byte):
                        continue
                    if all(a.name != sec.base and a.section.base != sec.base for a in nest.arrays):
                        continue
                    d = degree(nest.work_expr) if nest.work_expr else None
                    if d is None or d > size:
                        continue
                    line = data.count(b"\n", 0, loop.start_byte) + 1
                    found[k.nest_id] = Outweighed(k.nest_id, (
                        f"the data plan copies all of '{sec.base}' ({sec.render()}) {u.direction} the device at "
                        f"line {u.line}, once per iteration of the loop at line {line}, and the kernel's work per "
                        f"launch ({nest.work_expr}) grows no faster than that array (degree {d} <= {size}): the copies "
                        f"cost more than the kernel saves; kept serial"))
    return list(found.values())


def _innermost_loop(root, pos: int, floor: int):
    """The innermost loop around position ``pos`` that starts at or after ``floor``."""
    n = root.descendant_for_byte_range(pos, pos)
    while n is not None and n.start_byte >= floor:
        if n.type in hostaccess.LOOP_TYPES and n.start_byte < pos < n.end_byte:
            return n
        n = n.parent
    return None
