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

from pcx_driver.engine import callgraph, hostaccess
from pcx_driver.engine.sections import loop_start
from pcx_driver.model import Decision, Plan, Remark, Section, SourceUnit, UnitAnalysis


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


#: a literal section length up to this counts as a constant, not a problem size (``c[0:3]``)
_SMALL_LITERAL = 16


def _section_degree(sec: Section, literal_floor: int = 1) -> int:
    """Dimensions of a section longer than ``literal_floor`` elements: a whole n x 400 array
    counts 2, as an array's dimensions are the problem's sizes whether or not they are
    literals (a length that is a literal of at most ``literal_floor`` counts 0)."""
    from pcx_driver.engine.loops import c_int_literal

    def small(ln: str) -> bool:
        v = c_int_literal(ln.strip())
        return v is not None and v <= literal_floor

    return sum(1 for _, ln in sec.dims if not small(ln))


#: a section of literal lengths of at most this many elements costs one transfer's latency
_SMALL_COPY = 1024


def _small_constant(sec: Section) -> bool:
    """Every length of ``sec`` is a literal and it holds at most ``_SMALL_COPY`` elements
    (HeCBench randomAccess's ``ran[0:128]``): its copy costs the same at every problem
    size, so a kernel whose work grows with one (degree 1 or more) outgrows it."""
    from pcx_driver.engine.loops import c_int_literal

    total = 1
    for _, ln in sec.dims:
        v = c_int_literal(ln.strip())
        if v is None:
            return False
        total *= max(v, 0)
    return total <= _SMALL_COPY


def outweighed(unit: SourceUnit, analysis: UnitAnalysis, plan: Plan) -> list[Outweighed]:
    """Kernels inside a serial loop of a data region that also holds a whole-array
    ``target update`` of an array the kernel uses, where the kernel's work per launch is of
    no higher degree than that array's size; and kernels of a region launched in two or
    more of its serial loops for work per launch of degree 1 or less (``_launch_bound``)."""
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    exprs = {n.nest_id: n for n in analysis.nests()}
    user_kernels = _user_kernels(unit)
    found: dict[str, Outweighed] = {}
    for r in plan.regions:
        whole = {m_sec.base: m_sec for m in r.maps for m_sec in m.sections}
        kernels = [k for k in plan.offloaded() if k.function == r.function and r.start_byte <= k.start_byte < r.end_byte]
        for k in kernels:
            if k.start_byte not in user_kernels and k.nest_id in exprs and k.nest_id not in found:
                why = _launch_bound(data, root, r.start_byte, k, exprs[k.nest_id])
                if why:
                    found[k.nest_id] = Outweighed(k.nest_id, why)
        for u in r.updates:
            loop = hostaccess.innermost_loop(root, u.byte, r.start_byte)
            if loop is None:
                continue
            for sec in u.sections:
                if whole.get(sec.base) is None or whole[sec.base].render() != sec.render():
                    continue  # part of the array: cheap enough
                size = _section_degree(sec)
                if size == 0:
                    continue
                small = _small_constant(sec)
                for k in kernels:
                    if k.start_byte in user_kernels:  # a target loop the user wrote: kept on the device
                        continue
                    nest = exprs.get(k.nest_id)
                    if nest is None or k.nest_id in found or not (loop.start_byte <= k.start_byte < loop.end_byte):
                        continue
                    if all(a.name != sec.base and a.section.base != sec.base for a in nest.arrays):
                        continue
                    d = degree(nest.work_expr) if nest.work_expr else None
                    if d is None or d > size or (small and d >= 1):
                        continue  # (a few hundred elements of fixed size: outgrown by any growing kernel)
                    line = data.count(b"\n", 0, loop.start_byte) + 1
                    found[k.nest_id] = Outweighed(k.nest_id, (
                        f"the data plan copies all of '{sec.base}' ({sec.render()}) {u.direction} the device at "
                        f"line {u.line}, once per iteration of the loop at line {line}, and the kernel's work per "
                        f"launch ({nest.work_expr}) grows no faster than that array (degree {d} <= {size}): the copies "
                        f"cost more than the kernel saves; kept serial"))
    return list(found.values())


def keep_outweighed_serial(unit: SourceUnit, analysis: UnitAnalysis, plan: Plan) -> None:
    """Demote, in the checked plan, each kernel that maps its own data inside a serial loop
    where those copies outweigh its work (PCX115 with the figures).  This runs after the
    plan checker, which may have dropped the region that held a kernel's data (ludcmp's
    row update lost its region, then mapped ``A[0:i + 1][0:400]`` at each of 400 launches:
    290 MB in, 3.9x the serial time).  Such a kernel reads and writes its data only
    through its own maps, so running it as written on the host changes nothing else."""
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    exprs = {n.nest_id: n for n in analysis.nests()}
    user_kernels = _user_kernels(unit)
    graph = callgraph.of(data, unit.language)
    # a caller's region may hold a callee kernel's data: its maps then find it present
    held = graph.reachable({s.spelled for r in plan.regions for s in graph.sites_between(r.start_byte, r.end_byte)},
                           spelled=True)
    for k in plan.offloaded():
        if k.start_byte in user_kernels or k.nest_id not in exprs or not k.maps or k.function in held:
            continue
        if any(r.function == k.function and r.start_byte <= k.start_byte < r.end_byte for r in plan.regions):
            continue  # a region holds its data: outweighed() judged its updates
        why = _own_copies_outweigh(data, root, k, exprs[k.nest_id])
        if why:
            k.decision = Decision.SERIAL
            k.remarks = [r for r in k.remarks if r.id != "PCX100"]
            k.remarks.append(Remark("PCX115", unit.path, k.line, k.column, why))


def _user_kernels(unit: SourceUnit) -> set[int]:
    """Start bytes of the target loops the user wrote (engine/ompport.py): they are not
    second-guessed."""
    scan = unit.openmp
    return {p.loop for p in scan.pragmas if p.kernel} if scan is not None else set()


def _own_copies_outweigh(data: bytes, root, k, nest) -> str:
    """Why a kernel that maps its own data inside a serial loop copies more than it works
    (ludcmp's row update: ``A[0:i + 1][0:n]`` in each of ``n`` launches of ``(n - i) * i``
    work), or "".  Copies at every launch are the kernel's own map clauses.  A section the
    kernel writes crosses the bus back (and, ``tofrom``, both ways) at every launch, and a
    round trip of a section of degree ``s`` costs at least as much as ``s``-degree work on
    the host, which touches each element once at memory speed.  Sections only read are not
    charged: a copy one way of a small element type can cost less than the work on it
    (Needleman-Wunsch's diagonal kernel copies one character of each sequence per cell)."""
    loop = hostaccess.innermost_loop(root, k.start_byte, 0)
    if loop is None:
        return ""
    d = degree(nest.work_expr) if nest.work_expr else None
    if d is None:
        return ""
    for m in k.maps:
        if m.kind.value not in ("from", "tofrom"):
            continue
        for sec in m.sections:
            size = _section_degree(sec, literal_floor=_SMALL_LITERAL)
            if size and d <= size:
                line = data.count(b"\n", 0, loop.start_byte) + 1
                return (f"the kernel maps '{sec.render()}' {m.kind.value} the device at each launch, once per "
                        f"iteration of the loop at line {line}, and its work per launch ({nest.work_expr}) grows no "
                        f"faster than that section (degree {d} <= {size}): the copies cost more than the kernel "
                        f"saves; kept serial")
    return ""


def _launch_bound(data: bytes, root, floor: int, k, nest) -> str:
    """Why a kernel launched once per iteration of two or more serial loops of its region
    costs its launches more than it saves, or "": its work per launch has degree 1 or less
    (ludcmp's ``w -= A[i][k] * A[k][j]`` over ``k < j``, inside the ``i`` and ``j`` loops:
    80,000 launches of at most 2n work each ran 190x slower than serial)."""
    loops, n = [], root.descendant_for_byte_range(k.start_byte, k.start_byte)
    while n is not None and n.start_byte >= floor:
        if n.type in hostaccess.LOOP_TYPES and n.start_byte < k.start_byte:
            loops.append(n)
        n = n.parent
    d = degree(nest.work_expr) if nest.work_expr else None
    if len(loops) < 2 or d is None or d > 1:
        return ""
    # work that names no index of those loops is the same at every launch: the region's
    # run-time guard weighs it (``np * 2`` inside the r and q loops); work that grows with
    # them (``j * 2`` for j < i < n) cannot be weighed where the region starts
    indices = {hostaccess.text_of(data, got[0]) for lp in loops if (got := loop_start(lp, data)) is not None}
    if not hostaccess.expression_identifiers(nest.work_expr) & indices:
        return ""
    lines = ", ".join(str(data.count(b"\n", 0, lp.start_byte) + 1) for lp in reversed(loops))
    return (f"launched once per iteration of the serial loops at lines {lines} for work per launch of degree {d} "
            f"({nest.work_expr}): the launches cost more than the kernel saves; kept serial")


# ------------------------------------------------------------- bytes next to a naive plan

#: bytes of the element types the planner maps (anything else is written ``sizeof(T)``)
ELEMENT_BYTES = {"char": 1, "signed char": 1, "unsigned char": 1, "bool": 1, "_Bool": 1, "int8_t": 1, "uint8_t": 1,
                 "short": 2, "unsigned short": 2, "int16_t": 2, "uint16_t": 2, "int": 4, "unsigned": 4,
                 "unsigned int": 4, "float": 4, "int32_t": 4, "uint32_t": 4, "long": 8, "unsigned long": 8,
                 "long long": 8, "unsigned long long": 8, "double": 8, "size_t": 8, "int64_t": 8, "uint64_t": 8}


def region_traffic(unit: SourceUnit, analysis: UnitAnalysis, plan: Plan) -> list[Remark]:
    """One PCX205 remark per data region: the bytes its maps and updates move, next to what
    a naive plan moves that maps every array a kernel touches ``tofrom`` at every launch
    (what a hand port without a data plan does; issue 18).  Both are polynomials of the
    program's sizes, per run of the region.  A loop without a canonical header counts as
    ``iterations_L`` (L its line); a section that grows with a serial loop's index is
    counted at the index's last value, and the naive figure is then an upper bound."""
    from pcx_driver.engine.loops import Poly

    if not plan.regions:
        return []
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    types = {(n.function, a.name): a.element_type for n in analysis.nests() for a in n.arrays}
    by_name = {a.name: a.element_type for n in analysis.nests() for a in n.arrays}  # a callee's, say
    out = []
    for r in plan.regions:
        kernels = [k for k in plan.offloaded() if k.function == r.function and r.start_byte <= k.start_byte < r.end_byte]
        if not kernels:
            continue
        bounded = False

        def moved(sec: Section, loops: list[tuple[str, Poly, Poly]]) -> Poly:
            nonlocal bounded
            elem = types.get((r.function, sec.base)) or by_name.get(sec.base)
            total = Poly.const(ELEMENT_BYTES[elem]) if elem in ELEMENT_BYTES else Poly.sym(f"sizeof({elem or 'element'})")
            for _, ln in sec.dims:
                length = _poly(ln, unit)
                for index, count, last in loops:
                    if index in length.symbols():
                        length, bounded = length.substitute(index, last), True
                total = total * length
            for _, count, _ in loops:
                total = total * count
            return total

        into, back, naive = Poly(), Poly(), Poly()
        for m in r.maps:
            for sec in m.sections:
                if m.kind.value in ("to", "tofrom"):
                    into = into + moved(sec, [])
                if m.kind.value in ("from", "tofrom"):
                    back = back + moved(sec, [])
        for u in r.updates:
            loops = _loops_around(data, root, u.byte, r.start_byte)
            for sec in u.sections:
                if u.direction == "to":
                    into = into + moved(sec, loops)
                else:
                    back = back + moved(sec, loops)
        for k in kernels:
            loops = _loops_around(data, root, k.start_byte, r.start_byte)
            for m in (k.alone_maps or k.maps):
                for sec in m.sections:
                    naive = naive + moved(sec, loops).scale(2)
        calls = ("; kernels in functions the region calls are not counted"
                 if _calls_kernel_holders(unit, r, plan) else "")
        out.append(Remark("PCX205", unit.path, r.line, 1, (
            f"data moved by this region, per run: {_bytes(into)} in, {_bytes(back)} out; a naive plan mapping each "
            f"kernel's arrays tofrom at every launch: {'at most ' if bounded else ''}{_bytes(naive)}{calls}")))
    return out


def _bytes(p) -> str:
    return f"{p.const_value:,} bytes" if p.is_const else f"{p.render()} bytes"


def _poly(expr: str, unit: SourceUnit):
    """``expr`` (a section length the planner wrote) as a polynomial: literals, names,
    ``+ - *`` and parentheses; any other subexpression is one opaque symbol."""
    from pcx_driver.engine.loops import Poly, c_int_literal

    data, node = hostaccess.parse_expression(expr, unit.language)

    def conv(n) -> Poly:
        if n is None:
            return Poly.sym(f"({expr})")
        t = hostaccess.text_of(data, n)
        if n.type == "parenthesized_expression" and n.named_child_count == 1:
            return conv(n.named_children[0])
        if n.type == "number_literal" and c_int_literal(t) is not None:
            return Poly.const(c_int_literal(t))
        if n.type == "cast_expression":  # (size_t)n: a length's value, whatever its type
            return conv(n.child_by_field_name("value"))
        if n.type == "unary_expression" and hostaccess.text_of(data, n.child_by_field_name("operator")) == "-":
            return -conv(n.child_by_field_name("argument"))
        if n.type == "binary_expression":
            op = hostaccess.text_of(data, n.child_by_field_name("operator"))
            if op in ("+", "-", "*"):
                a, b = conv(n.child_by_field_name("left")), conv(n.child_by_field_name("right"))
                return a + b if op == "+" else a - b if op == "-" else a * b
        return Poly.sym(t if n.type == "identifier" else f"({t})")

    return conv(node) if node is not None else Poly.sym(f"({expr})")


def _loops_around(data: bytes, root, pos: int, floor: int) -> list:
    """``(index, iterations, last index value)`` of each loop around ``pos`` that starts at
    or after ``floor``, innermost first (engine/loops.py reads canonical headers; any other
    loop runs ``iterations_L`` times, L its line)."""
    from pcx_driver.engine.loops import Poly, loops_around

    found = []
    for n, loop in loops_around(root, data, pos, floor):
        trip = loop.trip_count() if loop is not None and not loop.problem else None
        if trip is not None:
            found.append((loop.index, trip, loop.high if loop.step > 0 else loop.low))
        else:
            found.append(("", Poly.sym(f"iterations_{n.start_point[0] + 1}"), Poly()))
    # an inner loop's bounds may name an outer index: count it at that index's last value
    out = []
    for i, (index, trip, last) in enumerate(found):
        for outer, _, outer_last in found[i + 1:]:
            if outer and outer in trip.symbols():
                trip = trip.substitute(outer, outer_last)
        out.append((index, trip, last))
    return out


def _calls_kernel_holders(unit: SourceUnit, region, plan: Plan) -> bool:
    """Whether the region calls a function of this file that holds a kernel."""
    holders = {k.function for k in plan.offloaded()}
    return any(site.spelled in holders
               for site in callgraph.of(unit.data, unit.language).sites_between(region.start_byte, region.end_byte))
