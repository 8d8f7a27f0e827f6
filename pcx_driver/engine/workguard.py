"""Run-time work guards: a kernel whose work estimate is symbolic runs on the host below
``--pcx-min-work`` (issue 16).

The guard is attached after the plan checker has settled the data regions, because
whether a kernel may fall back to the host depends on them: a kernel whose data a
``target data`` region may hold must always run on the device (``if(target: false)``
would run it on the HOST copy, stale while the region holds the data; see
``regionreach.held_by_regions``).  A kernel outside every region maps its own data, so the
host copy is current at its start and the fallback is sound.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcx_driver.model import Decision, Language, Plan, Remark, SourceUnit, UnitAnalysis
from pcx_driver.config import BUILTIN_OPTIONS

#: the default of ``--pcx-min-work`` (trip counts x statements per iteration)
MIN_WORK: float = next(o.default for o in BUILTIN_OPTIONS if o.name == "min-work")

HELD_NOTE = "; always on the device: a target data region holds its data"


def min_work(config) -> float:
    """The ``min-work`` setting (``MIN_WORK`` for a config without it)."""
    try:
        value = config.get("min-work")
    except (KeyError, AttributeError):
        return MIN_WORK
    return MIN_WORK if value is None else float(value)


def attach_work_guards(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan, threshold: float) -> None:
    """Give each offloaded kernel with a symbolic work estimate its run-time guard
    (``if(target: WORK >= threshold)``, rendered by the rewriter), unless a data region
    of the final plan may hold its data, and say which in its PCX100 remark."""
    if analysis is None:
        return
    _note_launches(unit, plan)
    if threshold <= 0:
        return
    # (a guard is evaluated besides what it estimates: an estimate that calls a function or
    # stores would do so once more; such a kernel has no guard)
    exprs = {n.nest_id: n.work_expr for n in analysis.nests()
             if n.work_expr and plain_arithmetic(n.work_expr, unit.language, effects_only=True)}
    kernels = [k for k in plan.kernels if k.decision is Decision.OFFLOADED and exprs.get(k.nest_id)]
    if not kernels:
        return
    # A region holding kernels only through calls gets their guards, read where it starts
    # (engine/callerguard.py); its callees then keep their own.
    from pcx_driver.engine.callerguard import caller_guards

    released = caller_guards(unit, analysis, plan, exprs, threshold)
    guards = planned_guards(unit, plan, exprs, threshold, [r for r in plan.regions if r not in released])
    for r in plan.regions:
        if r in released:
            continue
        guard = guards.regions.get(id(r), "")
        if guard and id(r) in guards.lifted:
            r.lifted_tests.append(guard)
            for k in plan.offloaded():
                if k.nest_id in r.kernels:
                    k.region_test = r.lifted_test
        else:
            r.work_guard = guard
    for k in kernels:
        if k.nest_id in guards.by_region:
            note = (f"; the region at line {guards.by_region[k.nest_id].line} runs on the host, as written, when "
                    f"below --pcx-min-work={threshold:g}")
        elif k.nest_id in guards.held:
            note = HELD_NOTE
            k.alone_work_expr, k.min_work = exprs[k.nest_id], threshold
            k.alone_copy_cost = kernel_copy_cost(unit, k, k.alone_maps or k.maps)
        else:
            k.work_expr, k.min_work = exprs[k.nest_id], threshold
            k.copy_cost = kernel_copy_cost(unit, k, k.maps)
            note = (f"; on the host when below --pcx-min-work={threshold:g}"
                    + (f" plus what its maps copy at each launch ({k.copy_cost})" if k.copy_cost else "") + " (if(target:))")
        _annotate(k, note)


#: bytes copied to or from the device that cost one unit of work (``--pcx-min-work``'s
#: unit; a statement of one iteration counts 1 or 2): a PCIe link moves 16 bytes in about
#: the time a core streams them through one statement.  An element-wise copy, one double
#: in and one out per two units of work, pays where it pays today; a kernel that copies
#: several times its work at every launch does not, on any device.
BYTES_PER_WORK = 16


def work_test_text(work: str, threshold: float, copies: str) -> str:
    """A kernel's run-time guard as C: its work at least ``threshold`` plus what it copies."""
    return f"{work} >= {threshold:g}" + (f" + {copies}" if copies else "")


def kernel_copy_cost(unit: SourceUnit, k, maps: list) -> str:
    """``copy_cost`` of kernel ``k`` mapping ``maps``; "" for a loop the user's own
    ``parallel for`` ports (engine/ompport.py): the user asked for its parallelism, and
    where its data moves is the port's plan, not a choice between device and host."""
    if unit.openmp is not None and any(p.loop == k.start_byte for p in unit.openmp.candidates()):
        return ""
    cost = copy_cost(maps, k.element_bytes)
    return cost if not cost or plain_arithmetic(cost, unit.language, effects_only=True) else ""


def copy_cost(maps: list, element_bytes: dict[str, int]) -> str:
    """What ``maps`` copy at each launch, in units of work (one per ``BYTES_PER_WORK``
    bytes; ``tofrom`` counts both ways, ``alloc`` nothing), as a C expression of the
    sections' lengths; "" when nothing.  An array of an unknown element type counts 8
    bytes an element.  (NPB LU's jacld, called once per plane, maps its four 5x5 blocks
    ``tofrom`` at each call: 11,300 work for 227 KB, 11x the serial time at class S, past
    120 s against 3.8 s at class W.)"""
    from pcx_driver.engine.loops import c_int_literal

    constant, scales = 0.0, {}  # symbolic lengths (as C) -> their factor, like terms summed
    for m in maps:
        ways = {"to": 1, "from": 1, "tofrom": 2}.get(m.kind.value, 0)
        for sec in m.sections if ways else ():
            scale = ways * element_bytes.get(sec.base, 8) / BYTES_PER_WORK
            symbolic = []
            for _, length in sec.dims:
                v = c_int_literal(length.strip())
                if v is None:
                    symbolic.append(f"(double)({length})")
                else:
                    scale *= max(v, 0)
            if not symbolic:
                constant += scale
            else:
                scales[" * ".join(symbolic)] = scales.get(" * ".join(symbolic), 0.0) + scale
    terms = [f"{scale:g} * {lengths}" if scale != 1 else lengths for lengths, scale in scales.items() if scale]
    return " + ".join(terms + ([f"{constant:g}"] if constant else []))


@dataclass
class PlannedGuards:
    """The work guards a plan gets with a given set of regions holding data."""

    regions: dict[int, str]  # id(region) -> its guard ("" or absent: none)
    kernels: dict[str, str]  # nest_id -> the guard of a kernel guarded alone (``WORK >= min``)
    by_region: dict  # nest_id -> the guarded region that decides for it
    held: set[str]  # nest_ids a region holds: always on the device
    # ids of the regions whose guard is lifted (``DataRegion.lifted_tests``): their
    # statements cannot be copied, so their enter/exit data and kernels each test it
    lifted: set[int]


def planned_guards(unit: SourceUnit, plan: Plan, exprs: dict[str, str], threshold: float,
                   active: list) -> PlannedGuards:
    """The guards of regions and kernels when the regions in ``active`` hold data (the one
    computation ``attach_work_guards`` applies and ``callerguard`` reads ahead of it)."""
    from pcx_driver.engine.regionreach import held_by_regions

    held = held_by_regions(unit.data, unit.language, plan, active)
    regions, by_region, lifted = {}, {}, set()
    for r in active:
        regions[id(r)] = region_guard(unit, plan, r, exprs, threshold, [x for x in active if x is not r])
        if regions[id(r)]:
            by_region.update({n: r for n in r.kernels})
            if not copyable(unit, r):
                lifted.add(id(r))
    # (the test the rewriter emits for each: ``rewrite.work_test``)
    kernels = {k.nest_id: work_test_text(exprs[k.nest_id], threshold, kernel_copy_cost(unit, k, k.maps))
               for k in plan.offloaded()
               if exprs.get(k.nest_id) and not k.user_directive and k.nest_id not in by_region
               and k.nest_id not in held}
    return PlannedGuards(regions, kernels, by_region, held, lifted)


def copyable(unit: SourceUnit, region) -> bool:
    """Whether a guard of ``region`` can copy its statements as its host path (else it is
    lifted: ``DataRegion.lifted_tests``)."""
    return region_statements(unit, region) is not None and not region.lifted_tests


def region_guard(unit: SourceUnit, plan: Plan, region, exprs: dict[str, str], threshold: float,
                 others: list | None = None) -> str:
    """The condition under which ``region`` pays: its kernels do at least ``threshold``
    work per launch on average (kernels launched once per iteration of a serial loop cost a
    launch each time: a region of small ones costs more in launches than it saves).  "" when the region cannot be guarded: a kernel it holds is
    reached through a call (its maps assume the region; the host copy would run it
    without), another region may hold its data (the host copy may be stale where it
    starts), or an estimate names something not yet known there.  ``others``: the other
    regions that hold data (default: all the plan's others)."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.regionreach import held_by_regions

    inside = [k for k in plan.offloaded() if k.function == region.function
              and region.start_byte <= k.start_byte < region.end_byte]
    ids = {k.nest_id for k in inside}
    held = held_by_regions(unit.data, unit.language, plan, [region]) & {k.nest_id for k in plan.offloaded()}
    if not inside or held != ids:
        return ""
    # Inside another region's reach (a caller's, around the call), the host copy of the
    # data may be stale where this region starts: the statements as written would read it.
    if others is None:
        others = [x for x in plan.regions if x is not region]
    if others and held_by_regions(unit.data, unit.language, plan, others) & ids:
        return ""
    if not any(exprs.get(k.nest_id) for k in inside):  # constant estimates: decided (PCX115)
        return ""
    terms = [averaged_over_loops(unit, region, k, exprs[k.nest_id]) if exprs.get(k.nest_id)
             else f"{k.work_estimate:g}" for k in inside]
    launches = [launches_in(unit, region, k) for k in inside]
    # read where the region starts, before any condition around a kernel or a loop holds:
    # only arithmetic that cannot fault nor change anything (a time loop's ``t < 10 / d``
    # under ``if (d > 0)`` divided by zero, ``t < steps()`` called steps() once more:
    # held-out checks)
    if not all(plain_arithmetic(t, unit.language) for t in terms):
        return ""
    known = known_at(unit, region.start_byte)
    if known is None or any(not known.covers(hostaccess.expression_identifiers(t)) for t in terms + launches):
        return ""
    # One launch costs about --pcx-min-work of host work (that is what the setting means), so
    # the region pays when its kernels do at least that much per launch on average: the
    # sum of their estimates against the threshold times their number, each counted as
    # often as it launches in one run of the region (NPB LU's four small flux kernels,
    # launched once per (k, i), beside three of 30x their work launched once per k: an
    # average over the seven kernels sent 1.2 million launches of ~300 work to the device,
    # 3.7x the serial time).  (Every kernel at least the threshold would send a time loop
    # to the host for one small boundary kernel.)
    if len(inside) == 1:
        guard = f"{terms[0]} >= {threshold:g}"
    elif len(set(launches)) == 1:  # (launched alike: the plain average)
        guard = f"{' + '.join(f'({t})' for t in terms)} >= {threshold * len(inside):g}"
    else:
        weighted = " + ".join(f"({t})" if n == "1" else f"({n}) * ({t})" for t, n in zip(terms, launches))
        guard = f"{weighted} >= {threshold:g} * ({' + '.join(launches)})"
    if not copyable(unit, region):
        # Its host path cannot be a copy of its statements (a declaration among them, or
        # tests of its own whose region maps nothing where they fail): the guard is lifted
        # instead, tested by its enter/exit data and by each kernel.  Not in a file with
        # the user's OpenMP, whose constructs in the region would not test it.
        if unit.openmp is not None and unit.openmp.pragmas:
            return ""
        # (names declared in headers are neither the function's nor the file's: with the
        # plan's constants given, lift_problem takes only its macros among them)
        from pcx_driver.engine.regions import file_scope_names

        root = hostaccess.parse(unit.data, unit.language).root_node
        found = locals_set_before(root, unit.data, region.start_byte)
        if found is None or lift_problem(unit, found[1], file_scope_names(root, unit.data, unit.language is not Language.C),
                                         region, inside, hostaccess.expression_identifiers(guard), plan.constants):
            return ""
    return guard


def lift_problem(unit: SourceUnit, fnode, globals_: set[str], region, inside: list, names: set[str],
                 constants: dict | None = None) -> str:
    """Why a test reading ``names`` cannot be lifted onto ``region`` (its ``target
    enter/exit data`` carry ``if(TEST)`` and each of its kernels ``inside`` runs on the
    device only where TEST holds, as written otherwise), "" when it can.  Where the test
    fails nothing is on the device and every statement runs as the user wrote it (an
    update of data not on the device does nothing; the kernels of functions it calls map
    their own).  So: each kernel a loop that can be copied, with no host version of its own
    (an alias, NaN, pivot or private array's test); each name known where the region
    starts, a local or a parameter (a call may change a global), and neither assigned,
    declared, addressed nor referenced inside the region: the region's exit evaluates the
    test again and must find what its entry found.  With ``constants`` (the plan's macro
    values), a name the function never declares must be one of them."""
    from pcx_driver.engine import hostaccess

    for k in inside:
        stmt = hostaccess.statement_at(fnode, k.start_byte)
        if stmt is None or not hostaccess.can_copy(stmt) or k.user_directive:
            return f"the loop at line {k.line} cannot be copied for a run-time check"
        if k.alias_test or k.nan_test or k.reruns() or k.pivot_test or any(p.bounds_test for p in k.private_arrays):
            return f"the kernel at line {k.line} has a run-time test of its own"
    changed = hostaccess.assigned_and_declared(fnode, unit.data, region.start_byte, region.end_byte)
    addressed = hostaccess.addressed_or_bound(fnode, unit.data, names)
    known = known_at(unit, region.start_byte)
    for name in sorted(names):
        if name in globals_:
            return f"'{name}' is a file-scope variable"
        if name in changed:
            return f"'{name}' changes inside it"
        if name in addressed:
            return f"'{name}' is reached through a pointer or a reference"
        if constants is not None and known is not None and name not in known.names and name not in constants:
            return f"'{name}' is not a local, a parameter or a constant"
    if known is None or not known.covers(names):
        return "a name its tests read is not set where it starts"
    return ""


#: the casts the engine writes into guards
_GUARD_CASTS = frozenset({"double", "long", "int", "unsigned", "size_t", "long long", "unsigned long"})


def plain_arithmetic(expr: str, language, effects_only: bool = False) -> bool:
    """Whether C expression ``expr`` is arithmetic that can neither fault nor change
    anything wherever it is evaluated: names, numbers, ``+ - *``, division and remainder
    by a nonzero literal, casts to arithmetic types.  With ``effects_only`` (a kernel's own
    guard, read where the kernel's header reads the same names), anything without a call,
    an assignment or an increment."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.source import walk

    data, node = hostaccess.parse_expression(expr, language)
    if node is None or node.has_error:
        return False
    if effects_only:
        return not any(n.type in ("call_expression", "assignment_expression", "update_expression",
                                  "comma_expression") for n in walk(node))

    def ok(n) -> bool:
        t = n.type
        if t in ("identifier", "number_literal"):
            return True
        if t == "parenthesized_expression":
            return all(ok(c) for c in n.named_children)
        if t == "unary_expression":
            return hostaccess.text_of(data, n.child_by_field_name("operator")) in ("-", "+") and ok(
                n.child_by_field_name("argument"))
        if t == "cast_expression":
            ty = n.child_by_field_name("type")
            return ty is not None and " ".join(hostaccess.text_of(data, ty).split()) in _GUARD_CASTS and ok(
                n.child_by_field_name("value"))
        if t == "binary_expression":
            op = hostaccess.text_of(data, n.child_by_field_name("operator"))
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if op in ("/", "%"):
                return literal_divisor(right, data) and ok(left)
            return op in ("+", "-", "*", ">=") and ok(left) and ok(right)
        return False

    return ok(node)


def literal_divisor(divisor, data: bytes) -> bool:
    """Whether ``divisor`` (the right operand of a ``/`` or ``%`` in an expression parsed
    from ``data``) is a nonzero integer literal, parentheses and casts aside: a guard read
    where its loops may not run must not trap."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.loops import c_int_literal
    from pcx_driver.engine.source import strip_parens

    divisor = strip_parens(divisor)
    while divisor is not None and divisor.type == "cast_expression":
        divisor = strip_parens(divisor.child_by_field_name("value"))
    return divisor is not None and divisor.type == "number_literal" and \
        c_int_literal(hostaccess.text_of(data, divisor)) not in (None, 0)


def launches_in(unit: SourceUnit, region, kernel) -> str:
    """How often ``kernel`` launches in one run of ``region``, as C: the product of the
    trip counts of the serial loops of the region around it, each averaged over the loops
    around it as ``averaged_over_loops`` does (``(double)(nz - 2) * (double)(iend -
    ist)``), or "1" outside any; a loop that is not canonical with a unit step counts as
    one (its trip count is not known where the region starts)."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.loops import loops_around

    root = hostaccess.parse(unit.data, unit.language).root_node
    around = loops_around(root, unit.data, kernel.start_byte, region.start_byte)
    factors = []
    for k, (_, loop) in enumerate(around):
        if not _unit_step(loop):
            continue
        span = loop.high - loop.low
        if span.is_const:
            factors.append(f"{max(span.const_value + 1, 0)}")
            continue
        if not (plain_arithmetic(loop.high.render(), unit.language) and plain_arithmetic(loop.low.render(),
                                                                                          unit.language)):
            continue  # (its bounds are read where the region starts: see region_guard)
        trip = f"((double)({loop.high.render()}) - (double)({loop.low.render()}) + 1)"
        # the bounds of an inner loop may name the indices of the loops around it
        factors.append(_averaged(trip, [outer for _, outer in around[k + 1:]], unit.language))
    return " * ".join(factors) or "1"


def averaged_over_loops(unit: SourceUnit, region, kernel, work: str) -> str:
    """``work`` (a kernel's estimate) with the index of each serial loop of ``region``
    around the kernel replaced by its mean over that loop, so that the region's guard,
    evaluated where the region starts, can read it: durbin's kernels do ``k * 2`` work in
    ``for (k = 1; k < n; k++)``, on average ``n`` per launch.  Loops that are not canonical
    with a unit step are left alone (the guard then names an index not yet set and is
    dropped).  Innermost first, so that a triangular inner loop's bounds are averaged over
    the outer one too."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.loops import loops_around

    root = hostaccess.parse(unit.data, unit.language).root_node
    return _averaged(work, [loop for _, loop in loops_around(root, unit.data, kernel.start_byte, region.start_byte)],
                     unit.language)


def _unit_step(loop) -> bool:
    """A canonical loop (``loops.parse_header``) with a unit step: its index runs low..high."""
    return loop is not None and not loop.problem and loop.low is not None and loop.high is not None \
        and abs(loop.step) == 1


def _averaged(expr: str, loops: list, language) -> str:
    """``expr`` with the index of each of ``loops`` (innermost first) replaced by its mean,
    ``((low + high) / 2)``, where the loop has a unit step and its bounds are arithmetic
    that cannot fault (they are read where a region starts); other indices are left as
    they are."""
    for loop in loops:
        if not _unit_step(loop):
            continue
        mean = f"(((double)({loop.low.render()}) + (double)({loop.high.render()})) / 2)"
        if plain_arithmetic(mean, language):
            expr = substitute(expr, {loop.index: mean}, language)
    return expr


def substitute(expr: str, values: dict[str, str], language) -> str:
    """``expr`` (an expression the engine wrote) with each identifier named in ``values``
    replaced by its value, parenthesised (tree-sitter finds the identifiers; fields and
    calls' names are left as they are)."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.source import walk

    data, node = hostaccess.parse_expression(expr, language)
    if node is None:
        return expr
    edits = []
    for n in walk(node):
        if n.type == "identifier" and hostaccess.text_of(data, n) in values:
            parent = n.parent
            if parent is not None and parent.type == "call_expression" and parent.child_by_field_name("function") == n:
                continue
            edits.append((n.start_byte, n.end_byte, f"({values[hostaccess.text_of(data, n)]})"))
    if not edits:
        return expr
    out = data
    for start, end, text in sorted(edits, reverse=True):
        out = out[:start] + text.encode() + out[end:]
    # the expression sits between the parentheses parse_expression put around it, after
    # ``long pcx__e = (`` (a search for its text found the ``n`` of ``long``: ``ng `` for ``n``)
    head, tail = node.start_byte + 1, len(data) - node.end_byte + 1
    return out[head:len(out) - tail].decode("utf-8", "surrogateescape")


def region_statements(unit: SourceUnit, region) -> list | None:
    """The statements of ``region`` when the rewrite can copy them as written (a run-time
    guard's host path): one block's statements with no declaration among them (the region
    has braces), each one copyable, in a file without the user's OpenMP; else None."""
    from pcx_driver.engine import hostaccess

    first = hostaccess.statement_at(hostaccess.parse(unit.data, unit.language).root_node, region.start_byte)
    if first is None or first.parent is None or first.parent.type != "compound_statement" or (
            unit.openmp is not None and unit.openmp.pragmas):
        return None
    stmts = [c for c in first.parent.named_children if region.start_byte <= c.start_byte < region.end_byte]
    if not stmts or any(c.type == "declaration" or not hostaccess.can_copy(c) for c in stmts):
        return None
    return stmts


def known_at(unit: SourceUnit, pos: int) -> "_Known | None":
    """Names whose values are set where the statement at ``pos`` starts: the enclosing
    function's parameters, file-scope variables, and locals of enclosing blocks declared
    before ``pos`` with an initializer (or as a loop index).  A guard reads only these: it
    is a heuristic, either branch is right, but it must compile and not read garbage."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.source import walk

    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    found = locals_set_before(root, data, pos)
    if found is None:
        return None
    names, fn = found

    def declared(decl, with_value: bool) -> None:
        names.update(_declared_names(decl, data, with_value))

    for n in walk(fn.child_by_field_name("declarator")):
        if n.type in ("parameter_declaration", "optional_parameter_declaration"):
            for d in walk(n):
                if d.type == "identifier":
                    names.add(hostaccess.text_of(data, d))
    for c in hostaccess.file_scope_declarations(root):
        declared(c, False)
    # A name the function never declares is a global, an enumerator or a macro
    # (PolyBench's _PB_N): visible wherever the function's loops use it.
    local: set[str] = set()
    for n in walk(fn.child_by_field_name("body")):
        if n.type == "declaration":
            before = set(names)
            declared(n, False)
            local |= names - before
            names = before
    return _Known(names, local)


def locals_set_before(root, data: bytes, pos: int) -> tuple[set[str], object] | None:
    """(the locals declared with a value before the statement at ``pos``, in the blocks
    around it or a ``for``'s initialiser around it; the function definition it is in), or
    None outside any function."""
    from pcx_driver.engine import hostaccess

    node = hostaccess.statement_at(root, pos)
    names: set[str] = set()
    while node is not None:
        parent = node.parent
        if parent is None:
            break
        if parent.type == "compound_statement":
            for c in parent.named_children:
                if c.start_byte >= node.start_byte:
                    break
                if c.type == "declaration":
                    names |= _declared_names(c, data, True)
        elif parent.type == "for_statement":
            init = parent.child_by_field_name("initializer")
            if init is not None and init.type == "declaration" and node != init:
                names |= _declared_names(init, data, True)
        elif parent.type == "function_definition":
            return names, parent
        node = parent
    return None


def _declared_names(decl, data: bytes, with_value: bool) -> set[str]:
    """The names declaration ``decl`` declares (``with_value``: only those with an
    initialiser)."""
    from pcx_driver.engine import hostaccess

    out = set()
    for d in decl.children_by_field_name("declarator"):
        if with_value and d.type != "init_declarator":
            continue
        while d is not None and d.type not in ("identifier",):
            d = d.child_by_field_name("declarator")
        if d is not None:
            out.add(hostaccess.text_of(data, d))
    return out


class _Known:
    """``name in known``: set where the region starts, or never declared in the function."""

    def __init__(self, names: set[str], local: set[str]) -> None:
        self.names, self.local = names, local

    def covers(self, wanted: set[str]) -> bool:
        return all(n in self.names or n not in self.local for n in wanted)


def _note_launches(unit: SourceUnit, plan: Plan) -> None:
    """Say in each kernel's PCX100 remark how often it launches: once per run, or once per
    iteration of the serial loops around it (and of loops around calls to its function in
    this file), which is what its estimate must pay for every time."""
    from pcx_driver.engine import callgraph, hostaccess

    kernels = plan.offloaded()
    if not kernels:
        return
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node

    def loops_around(node) -> list[int]:
        lines = []
        up = node.parent
        while up is not None and up.type != "function_definition":
            if up.type in hostaccess.LOOP_TYPES:
                lines.append(up.start_point[0] + 1)
            up = up.parent
        return sorted(lines)

    callers: dict[str, list[int]] = {}
    for site in callgraph.of(data, unit.language).sites:
        if site.plain:
            callers.setdefault(site.spelled, []).extend(site.loop_lines)
    for k in kernels:
        stmt = hostaccess.statement_at(root, k.start_byte)
        if stmt is None:
            continue
        own, outer = loops_around(stmt), sorted(set(callers.get(k.function, [])))
        if not own and not outer:
            note = "; launched once per call"
        else:
            where = [f"the loop{'s' if len(own) > 1 else ''} at line{'s' if len(own) > 1 else ''} "
                     f"{', '.join(map(str, own))}"] if own else []
            where += [f"loops around calls to '{k.function}' (line{'s' if len(outer) > 1 else ''} "
                      f"{', '.join(map(str, outer))})"] if outer else []
            note = "; launched once per iteration of " + " and ".join(where)
        _annotate(k, note)


def _annotate(k, note: str) -> None:
    """Append ``note`` to kernel ``k``'s PCX100 remark (what decided it, how often it runs)."""
    k.remarks = [Remark(r.id, r.file, r.line, r.column, r.message + note) if r.id == "PCX100" else r
                 for r in k.remarks]
