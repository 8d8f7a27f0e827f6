"""The data plan of a unit (``plan_unit``): per-kernel maps, regions, updates, versioning.

This module puts the plan together; the questions it asks have their own modules:
``sections`` (the section algebra), ``hostscan`` (what a host statement does to the
tracked arrays), ``dataflow`` (where each buffer's current value lives along a region,
hence its updates) and ``regions`` (where a function's region goes and its map kinds).

Contract of ``plan_unit(unit, analysis) -> Plan``:

- Every nest of the analysis becomes a KernelPlan with the nest's decision and clauses.
  An offloaded kernel's ``maps`` are correct ON THEIR OWN: ``to`` for arrays only read,
  ``from`` for arrays written fully and not read, ``tofrom`` otherwise (``alloc``/``to``
  when the host never reads the array after the kernel).  Inside a data region these
  same clauses find the data present (libomptarget looks mappings up by host address)
  and copy nothing, so a region can be dropped at any time without losing soundness.
- Per function, the offloaded kernels are grouped into one ``target data`` region that
  wraps the outermost sequential loop around them (time steps, convergence loops, the k
  loop of LU) or the statements from the first kernel to the last.  A walk over the
  region's statements (``Flow``) follows, per array buffer, whether the host copy is
  current and whether the device copy is defined; it places ``target update from``
  before a host statement that reads device-written data, ``target update to`` after a
  host statement that writes mapped data, and decides the region's map kinds: ``to``
  only for buffers a kernel may read before the device defines them, ``from`` only for
  buffers the host reads after the region (or that escape the function) and may be
  stale on the host at the region's end.
- Pointer swaps (``tmp = a; a = b; b = tmp;``) between mapped buffers are followed: the
  walk keeps one state per assignment of names to buffers; buffers that may be swapped
  are mapped with one common section, so each kernel's map of ``a[...]`` finds whichever
  device buffer ``a`` points to now.
- Host writes of single elements (``a[i][i] = x``) go back with an element ``update to``
  and need no ``update from`` of the rest first (``Flow.stale``); when the elements
  cannot be named at the push, the walk is redone with every partial write reading first.
- Kernel functions that are not callees (host code between their kernels): an array a
  function only reads (``_read_only``: element reads, on the host and in its kernels) may
  stay in the caller's region; the caller makes both copies current before the call.
  When the function itself reads that parameter on the host only through element updates
  inside its own region, planned assuming nothing about the host copy (``entry_safe``),
  the caller brings nothing home, and its region lists the function's kernels (if they
  are dropped or kept serial, the region goes too).  Arrays passed to other kernel
  functions stay out of the caller's region (per array, not the whole region).
- An array with no fixed section and no declared extent (a pointer parameter) is mapped
  with the hull of its sections over the loops around its kernels (``_widen``).
- When a region cannot be formed soundly (a mapped pointer gets other memory, a loop
  condition reads mapped data, ``return``/``goto`` leaves the region, section bounds
  change inside it), the kernels keep their own maps and a PCX203 remark says why.
  Each region carries a PCX200 remark and each update a PCX201 remark.
"""

from __future__ import annotations

import itertools

import tree_sitter

from pcx_driver.engine import callgraph, hostaccess
from pcx_driver.engine.calls import MATH_FUNCTIONS
from pcx_driver.engine.hostaccess import LOOP_TYPES, all_nodes, is_element_read, param_names, text_of
from pcx_driver.engine.hostscan import PURE_CALLS, Callee, RegionRefused
from pcx_driver.engine.regions import (
    NO_FIXED_SECTION,
    FunctionPlan,
    call_sites,
    file_scope_names,
    function_node,
    kernel_function_calls,
    live_after,
    map_clauses,
    plan_region,
)
from pcx_driver.model import (
    ArrayAccessSummary,
    DataRegion,
    Decision,
    FunctionAnalysis,
    KernelPlan,
    Language,
    LocalPointer,
    MapClause,
    MapKind,
    NestAnalysis,
    Plan,
    Remark,
    Section,
    SourceUnit,
    UnitAnalysis,
)


# ------------------------------------------------------------------ kernels


def _kernel_from_nest(n: NestAnalysis) -> KernelPlan:
    # a struct whose member's elements the kernel maps is mapped itself, not firstprivate
    roots = {a.name.split(".")[0] for a in n.arrays if "." in a.name}
    from pcx_driver.engine.traffic import ELEMENT_BYTES

    return KernelPlan(
        nest_id=n.nest_id,
        element_bytes={a.name: ELEMENT_BYTES[a.element_type] for a in n.arrays if a.element_type in ELEMENT_BYTES},
        function=n.function,
        line=n.line,
        column=n.column,
        start_byte=n.start_byte,
        end_byte=n.end_byte,
        decision=n.decision,
        remarks=list(n.remarks),
        collapse=n.collapse,
        private=list(n.private),
        firstprivate=[v for v in n.firstprivate if v not in roots],
        struct_maps=[v for v in n.firstprivate if v in roots],
        reductions=list(n.reductions),
        # (finite: ``m - m`` is NaN for a NaN or an infinity, with no header to include;
        # ``<=``, not ``==``, which -Wfloat-equal -Werror refuses)
        nan_test=" && ".join(f"{r.variable} - {r.variable} <= 0" for r in n.reductions if r.nan_start),
        caller_extents=[a.caller_extent for a in n.arrays if a.caller_extent is not None],
        assumptions=sorted({x for a in n.arrays for x in a.assumptions}, key=lambda x: x.name),
        stride_facts=list(n.stride_facts),
        row_tests=list(n.row_tests),
        atomic_updates=list(n.atomic_updates),
        atomic_arrays=list(n.atomic_arrays),
        work_estimate=n.work_estimate,
        pragma_claim=n.pragma_claim,
        private_arrays=list(n.private_arrays),
        pivot_test=n.pivot_test,
        lastprivate=list(n.lastprivate),
        lastprivate_init=n.lastprivate_init,
        exits=list(n.exits),
    )


def _user_openmp_in_the_way(unit: SourceUnit, k: KernelPlan) -> bool:
    """Whether the user's OpenMP keeps kernel ``k`` from a run-time alias test, whose host
    path is a copy of the loop as written: every pragma the loop holds must be a
    worksharing ``for`` of a region pcx removes (HeCBench winograd's ``#pragma omp for``
    under its ported ``parallel``), which the copy runs on the one host thread, as an
    orphaned worksharing loop outside a parallel region does: the serial loop."""
    if unit.openmp is None or not unit.openmp.pragmas:
        return False
    inside = [p for p in unit.openmp.pragmas if k.start_byte <= p.start < k.end_byte]
    around = [p for p in unit.openmp.pragmas if p.scope is not None and p.scope[0] <= k.start_byte < p.scope[1]]
    return any(not (p.words in (["for"], ["for", "simd"]) and p.group is not None) for p in inside) or \
        any(not (p.words == ["parallel"] and p.candidate) for p in around)


def _version_for_aliasing(unit: SourceUnit, fnode: tree_sitter.Node, offl: list[KernelPlan],
                          nests: dict[str, NestAnalysis]) -> list[KernelPlan]:
    """Give each kernel whose nest may touch one array through two pointers (the analysis's
    ``alias_checks``) its run-time alias test over its own map sections; keep serial, with
    PCX104, one that cannot be versioned: the loop cannot be copied beside itself
    (labels, cases, preprocessor lines), or the file holds the user's OpenMP (whose
    directives a host copy of the loop would lose).  The offloaded kernels are returned."""
    kept = []
    for k in offl:
        pairs = nests[k.nest_id].alias_checks
        if pairs:
            test = alias_test(pairs, k.maps, set(nests[k.nest_id].alias_reads))
            why = _host_version_problem(unit, fnode, k) or ("a pointer is not mapped by the kernel" if not test else "")
            if why:
                k.decision = Decision.SERIAL
                names = ", ".join(f"'{a}' and '{b}'" for a, b in pairs)
                k.remarks = [r for r in k.remarks if r.id not in ("PCX100", "PCX128")]
                k.remarks.append(Remark("PCX104", unit.path, k.line, k.column,
                                        f"{names} may point to overlapping memory (neither is restrict, and they are "
                                        f"not provably distinct allocations), and the loop is not versioned: {why}"))
                continue
            k.alias_test = test
            k.alias_read_only = set(pairs) <= set(nests[k.nest_id].alias_reads)
        kept.append(k)
    return kept


def _version_for_run_time_tests(unit: SourceUnit, fnode: tree_sitter.Node, offl: list[KernelPlan]) -> list[KernelPlan]:
    """A kernel with a floating min/max (``KernelPlan.nan_test``) runs the loop as written
    where the start value is NaN or infinite (serially ``if (e > m)`` never holds from a
    NaN, which OpenMP's combination of the partial results would drop; and OpenMP's
    partial maxima start at the least finite value, not -inf), and one whose
    sections rest on run-time facts (``KernelPlan.tested_at_run_time``) where they fail.
    One whose loop cannot be copied beside itself, or whose file holds the user's OpenMP,
    stays serial.  The offloaded kernels are returned."""
    kept = []
    for k in offl:
        if k.reruns() and _host_version_problem(unit, fnode, k):
            k.decision = Decision.SERIAL
            k.remarks = [r for r in k.remarks if r.id != "PCX100"]
            reason = next(r for r in k.reductions if r.restarts or r.zero_sign).rerun_reason()
            k.remarks.append(Remark("PCX112", unit.path, k.line, k.column, (
                f"{reason}, which a reduction checks by running the loop again as written, and "
                f"{_host_version_problem(unit, fnode, k)}")))
            continue
        if k.nan_test and _host_version_problem(unit, fnode, k):
            k.decision = Decision.SERIAL
            k.remarks = [r for r in k.remarks if r.id != "PCX100"]
            k.remarks.append(Remark("PCX112", unit.path, k.line, k.column, (
                f"a floating minimum or maximum needs a finite start (a NaN start stays serially, which a reduction "
                f"would drop; -inf loses to OpenMP's least finite start), and the loop cannot be copied for a "
                f"run-time check ({k.nan_test})")))
            continue
        why = _host_version_problem(unit, fnode, k) if k.tested_at_run_time() else ""
        if why:
            k.decision = Decision.SERIAL
            k.remarks = [r for r in k.remarks if r.id not in ("PCX100", "PCX202")]
            facts = [f"the extent of '{c.param}', which only the callers know" for c in k.caller_extents] + \
                [f"{a.name} >= 0" for a in k.assumptions] + \
                [f"the last index of strided loop '{f.index}' ({f.last})" for f in k.stride_facts] + \
                [f"rows of flattened subscripts apart ({t})" for t in k.row_tests]
            k.remarks.append(Remark("PCX116", unit.path, k.line, k.column, (
                f"the sections rest on {' and '.join(facts)}, tested at run time, and the loop has no version as "
                f"written for where they fail: {why}")))
            continue
        kept.append(k)
    return kept


def _host_version_problem(unit: SourceUnit, fnode: tree_sitter.Node, k: KernelPlan) -> str:
    """Why kernel ``k`` can have no host version beside it (the loop as written, which a
    run-time test runs instead of the kernel), "" when it can."""
    if _user_openmp_in_the_way(unit, k):
        return "the file holds OpenMP directives of its own"
    stmt = hostaccess.statement_at(fnode, k.start_byte)
    if stmt is None or not hostaccess.can_copy(stmt):
        return "the loop cannot be copied for a run-time check (a label, case or preprocessor line)"
    return ""


#: libm functions host code may call in a versioned region (a user's own min/max might not be pure)
LIBM = MATH_FUNCTIONS - {"min", "max"}


def _version_region(fp: FunctionPlan, region: DataRegion, offl: list[KernelPlan]) -> str:
    """Give ``region`` (in a function with kernels versioned for aliasing) one run-time
    check: its statements run on the device path only when the sections it maps are
    pairwise disjoint, as written on the host otherwise (``DataRegion.alias_test``).  On
    the device path each name it maps is then its own array, which is what the plan
    assumed.  "" when done, else why not: the host path must be a copy of the statements
    (workguard.region_statements), every kernel's data must be the region's, and host code
    inside the region must touch none of it, nor anything that may be it: no mapped name,
    pointer parameter or file-scope name, and no call but to pure library functions (libm
    included) and macros that expand to an expression over their arguments."""
    from pcx_driver.engine import workguard

    data = fp.data
    bases = [sec.base for m in region.maps for sec in m.sections]
    if not bases or any(not b.isidentifier() for b in bases) or len(set(bases)) != len(bases):
        return "a mapped section is not a plain variable's"
    inside = [k for k in offl if region.start_byte <= k.start_byte < region.end_byte]
    if {k.nest_id for k in inside} != set(region.kernels) or set(region.kernels) != {k.nest_id for k in offl}:
        return "a kernel of the function is outside the region"
    if any(sec.base not in bases for k in inside for m in k.maps for sec in m.sections):
        return "a kernel maps data the region does not"
    if workguard.region_statements(fp.unit, region) is None:
        return "its statements cannot be copied for a run-time check"
    # Host code may use the mapped names (the plan's updates keep both copies right, and the
    # test makes each name its own array), but nothing else that may point into them.
    touchy = (fp.globals_ | _pointer_params(fp.fnode, data)) - set(bases)
    for n in all_nodes(fp.fnode):
        if not (region.start_byte <= n.start_byte < region.end_byte) or \
                any(k.start_byte <= n.start_byte < k.end_byte for k in inside):
            continue
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            name = text_of(data, fn) if fn is not None else "?"
            if name not in PURE_CALLS and name not in LIBM and name not in fp.pure_macros:
                return f"host code inside the region calls '{name}'"
        elif n.type == "identifier" and text_of(data, n) in touchy and not (
                n.parent is not None and n.parent.type == "call_expression"):
            return f"host code inside the region uses '{text_of(data, n)}' (line {n.start_point[0] + 1})"
    pairs = [(a, b) for i, a in enumerate(bases) for b in bases[i + 1:]]
    # a pair the region only copies in, and never updates, may be one buffer under one
    # section (HPCCG's waxpby(n, 1, x, 0, x, p)): the second map finds the first present
    copied_in = {sec.base for m in region.maps if m.kind is MapKind.TO for sec in m.sections} - \
        {sec.base for u in region.updates for sec in u.sections}
    test = alias_test(pairs, region.maps, {(a, b) for a, b in pairs if a in copied_in and b in copied_in})
    known = workguard.known_at(fp.unit, region.start_byte)
    if not test or known is None or not known.covers(hostaccess.expression_identifiers(test)):
        return "the bounds of its sections are not known where it starts"
    region.alias_test = test
    return ""


def _lift_tests(fp: FunctionPlan, region: DataRegion, offl: list[KernelPlan], lifted: list[KernelPlan]) -> str:
    """Give ``region`` the run-time tests of the kernels ``lifted`` (``KernelPlan.
    tested_at_run_time``: handed-over extents, assumed strides, whole blocks): it maps its
    data only where they hold (``DataRegion.lifted_tests``), and each of its kernels runs
    on the device only there (``KernelPlan.region_test``), as written otherwise.  Where
    they fail, nothing is on the device and every statement runs as the user wrote it
    (an update of data not on the device does nothing; the kernels of functions it calls
    map their own).  "" when done, else why not: each such kernel must be the region's;
    each kernel of the region a loop that can be copied, with no host version of its own
    (an alias, NaN, pivot or private array's test); and each name a test reads known where
    the region starts (a caller's hand-over is taken in the function's first
    declarations), a local or a parameter (a call may change a global), and neither
    assigned, declared, addressed nor referenced inside the region: the region's exit
    evaluates the test again and must find what its entry found."""
    from pcx_driver.engine import workguard

    inside = [k for k in offl if k.nest_id in region.kernels]
    if not {k.nest_id for k in lifted} <= {k.nest_id for k in inside}:
        return "a kernel it tests is outside it"
    tests: list[str] = []
    for k in sorted(lifted, key=lambda k: k.start_byte):
        tests.extend(t for t in k.fact_tests() if t not in tests)
    taken = {n for k in lifted for c in k.caller_extents for n in (c.local_base, c.local_length)}
    names = set().union(*(hostaccess.expression_identifiers(t) for t in tests)) - taken
    why = workguard.lift_problem(fp.unit, fp.fnode, fp.globals_, region, inside, names)
    if why:
        return why
    region.lifted_tests = tests
    for k in inside:
        k.region_test = region.lifted_test
    return ""


def _maps_of_their_own(kernels: list[KernelPlan]) -> None:
    """Kernels planned inside a region that is dropped take the maps they need alone
    (``KernelPlan.alone_maps``)."""
    for k in kernels:
        if k.alone_maps:
            k.maps, k.alone_maps = k.alone_maps, []


def _pointer_params(fnode: tree_sitter.Node, data: bytes) -> set[str]:
    """Parameters declared as pointers or arrays (what another pointer may point into)."""
    out = set()
    for p in hostaccess.parameters(fnode):
        shaped = any(d.type in ("pointer_declarator", "array_declarator", "reference_declarator")
                     for d in hostaccess.declarator_chain(p))
        name = hostaccess.declared_identifier(p, data)
        if name and shaped:
            out.add(name)
    return out


def address_range(sec: Section) -> tuple[str, str]:
    """C integer expressions of the address of section ``sec``'s first element and of the
    byte after its last one (row-major: every element lies between the two).  ``unsigned
    long`` holds an address on the LP64 hosts an offload build targets, and C89 has it
    (``long long`` failed cJSON's ``-std=c89 -pedantic -Werror``)."""
    first = sec.base + "".join(f"[{lo}]" for lo, _ in sec.dims)
    last = sec.base + "".join(f"[({lo}) + ({ln}) - 1]" for lo, ln in sec.dims)
    return (f"(unsigned long)(const void *)&{first}", f"(unsigned long)(const void *)(&{last} + 1)")


def alias_test(pairs: list[tuple[str, str]], maps: list[MapClause],
               same_ok: set[tuple[str, str]] = frozenset()) -> str:
    """The C condition under which no section of one pointer of each pair overlaps a section
    of the other: an empty section overlaps nothing (its ends are not computed), else one
    range ends before the other starts.  For a pair in ``same_ok`` (only read), two sections
    over the very same range pass too: the second map finds the first present.  "" when a
    pointer has no section in ``maps``."""
    by_base: dict[str, list[Section]] = {}
    for m in maps:
        for sec in m.sections:
            by_base.setdefault(sec.base, []).append(sec)
    tests = []
    for a, b in pairs:
        if not by_base.get(a) or not by_base.get(b):
            return ""
        for sa in by_base[a]:
            for sb in by_base[b]:
                (a0, a1), (b0, b1) = address_range(sa), address_range(sb)
                empty = list(dict.fromkeys(f"({ln}) <= 0" for _, ln in sa.dims + sb.dims
                                           if not (ln.isdigit() and int(ln) > 0)))
                same = [f"({a0} == {b0} && {a1} == {b1})"] if (a, b) in same_ok or (b, a) in same_ok else []
                tests.append("(" + " || ".join(empty + [f"{a1} <= {b0}", f"{b1} <= {a0}"] + same) + ")")
    return " && ".join(tests)


def standalone_kind(a: ArrayAccessSummary, live_after: bool = True) -> MapKind:
    """The map kind that makes one kernel correct with no enclosing data region."""
    needs_in = a.read or (a.written and not a.written_fully)
    needs_out = a.written and live_after
    if needs_in and needs_out:
        return MapKind.TOFROM
    if needs_in:
        return MapKind.TO
    return MapKind.FROM if needs_out else MapKind.ALLOC




def _read_only(fnode: tree_sitter.Node, data: bytes) -> set[int]:
    """Indices of the array parameters of the C function ``fnode`` that it only reads:
    every use is a whole element (as many subscripts as the parameter has dimensions)
    used as a value, never assigned, incremented, address-taken, passed on, stored or
    read through a field; the parameter itself is never reassigned."""
    decl = fnode.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    params = decl.child_by_field_name("parameters") if decl is not None else None
    body = fnode.child_by_field_name("body")
    out: set[int] = set()
    if params is None or body is None:
        return out
    for i, p in enumerate(params.named_children):
        if p.type != "parameter_declaration":
            continue
        rank, d, name = 0, p.child_by_field_name("declarator"), None
        while d is not None:
            if d.type in ("pointer_declarator", "array_declarator"):
                rank += 1
            elif d.type == "identifier":
                name = text_of(data, d)
                break
            d = d.child_by_field_name("declarator") or (d.named_children[0] if d.named_children else None)
        if name is None or rank == 0:
            continue
        uses = [n for n in all_nodes(body) if n.type == "identifier" and text_of(data, n) == name]
        if all(is_element_read(n, rank, data) for n in uses):
            out.add(i)
    return out


def _summarise(fp: FunctionPlan, offl: list[KernelPlan], ordered_params: list[str]) -> Callee | None:
    """The kernel-function summary of ``fp`` (see ``Callee``), or None when its pointer
    parameters are used outside its kernels or its kernels touch other arrays."""
    arrays = {a.name for k in offl for a in fp.nests[k.nest_id].arrays}
    containers = {a.name for k in offl for a in fp.nests[k.nest_id].arrays if a.container}
    if not arrays or not arrays <= set(ordered_params):
        return None
    spans = [(k.start_byte, k.end_byte) for k in offl]
    for n in all_nodes(fp.fnode.child_by_field_name("body")):
        if n.type == "identifier" and text_of(fp.data, n) in arrays and not any(a <= n.start_byte < b for a, b in spans):
            if text_of(fp.data, n) in containers and _is_size_query(n, fp.data):
                continue  # v.size() reads no element
            return None
    effects: dict[int, tuple[bool, bool, bool]] = {}
    defined: dict[int, Section] = {}
    for i, p in enumerate(ordered_params):
        if p not in arrays:
            continue
        needs_in = writes = reads = False
        for k in sorted(offl, key=lambda k: k.start_byte):
            for a in fp.nests[k.nest_id].arrays:
                if a.name != p:
                    continue
                if a.written and a.written_fully and a.exact and not reads and i not in defined:
                    # written whole before anything reads it: a section of the callee's own
                    # (``v[1:n-2]`` of a stencil, ``p[0:m]``), which defines the caller's
                    # array only where the call's values make it the caller's whole section
                    # (the caller compares; taking any for the whole left the rest of the
                    # array undefined on the device: an adversarial check's 18 wrong answers)
                    defined[i] = a.section
                if a.read or (a.written and not a.written_fully):
                    reads = True
                    needs_in = needs_in or i not in defined
                writes = writes or a.written
        effects[i] = (needs_in, writes, reads)
    return Callee(fp.fn.name, ordered_params, effects,
                  {i for i, p in enumerate(ordered_params) if p in containers}, defined)


def _is_size_query(ident: tree_sitter.Node, data: bytes) -> bool:
    """``v.size()`` / ``v.empty()``: the container's length, not its elements."""
    fe = ident.parent
    if fe is None or fe.type != "field_expression" or fe.child_by_field_name("argument") != ident:
        return False
    field_ = fe.child_by_field_name("field")
    call = fe.parent
    return (field_ is not None and text_of(data, field_) in ("size", "empty")
            and call is not None and call.type == "call_expression")



# ------------------------------------------------------------------ the unit


def plan_unit(unit: SourceUnit, analysis: UnitAnalysis, regions: bool = True,
              no_assumptions: frozenset[str] | None = None) -> Plan:
    """Plan data movement for every nest of ``analysis``; see the module docstring.

    ``regions=False`` gives per-kernel maps only (the baseline the benchmark compares).
    A region whose sections need a run-time assumption (``DataRegion.assumptions``) runs
    its statements as written on the host when it fails; where another region may hold
    its kernels' data (a caller's region around a call), that host copy may be stale, so
    the unit is planned again with no assumptions in those functions
    (``no_assumptions``).
    """
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    plan = Plan(unit.path, constants=dict(analysis.constants))
    globals_ = file_scope_names(root, data, unit.language is not Language.C) | set(analysis.typed_names.header_globals)
    used_names: set[str] = set()
    calls: list[str] = []

    fplans: list[tuple[FunctionPlan, list[KernelPlan]]] = []
    seen_functions: set[int] = set()
    versioned: set[str] = set()  # functions with a kernel versioned for aliasing: no region
    unsummarised: set[str] = set()  # ... unless every test guards pairs only read
    for fa in analysis.functions:
        kernels = [_kernel_from_nest(n) for n in fa.nests]
        plan.kernels.extend(kernels)
        nests = {n.nest_id: n for n in fa.nests}
        offl = [k for k in kernels if k.decision is Decision.OFFLOADED]
        fnode = function_node(root, fa, data, unit.language)
        if fnode is None:
            for k in offl:  # no syntax to reason about: the analysis's sections, tofrom-safe kinds
                if nests[k.nest_id].alias_checks:  # and no loop to version
                    k.decision = Decision.SERIAL
                    continue
                k.maps = map_clauses([(standalone_kind(a), Section(a.section.base, list(a.section.dims)))
                                for a in nests[k.nest_id].arrays])
            continue
        seen_functions.add(fnode.start_byte)
        fp = FunctionPlan(unit, data, fa, fnode, kernels, nests, globals_, set(param_names(fnode, data)),
                          constants=plan.constants, pure_macros=analysis.pure_macros, identity_macros=analysis.identity_macros,
                          deref_macros=analysis.deref_macros,
                          foreign_functions=analysis.foreign_functions, call_targets=analysis.call_targets,
                          object_code=analysis.object_code,
                          typed_names=analysis.typed_names,
                          assume=fa.name not in (no_assumptions or ()))
        for k in offl:
            calls.extend(c for c in nests[k.nest_id].calls if c not in calls)
        # Per-kernel maps: correct alone, and inside a region they find the data present.
        for k in offl:
            nest = nests[k.nest_id]
            entries = []
            stmt = hostaccess.statement_at(fnode, k.start_byte)
            for a in nest.arrays:
                live = live_after(fp, {a.name}, k.end_byte, stmt)
                entries.append((standalone_kind(a, live), Section(a.section.base, list(a.section.dims))))
                if not a.exact:
                    k.remarks.append(Remark("PCX202", unit.path, k.line, k.column,
                                            f"section {a.section.render()} of '{a.name}' over-approximates the accesses"))
            k.maps = map_clauses(entries)
        offl = _version_for_aliasing(unit, fnode, offl, nests)
        offl = _version_for_run_time_tests(unit, fnode, offl)
        mapped = {sec.base for k in offl for m in k.maps for sec in m.sections}
        cross = any(a in mapped and b in mapped for a, b in fa.alias_pairs)
        if any(k.alias_test for k in offl) or cross:
            versioned.add(fa.name)
        if any(k.alias_test and not k.alias_read_only for k in offl) or cross or any(k.nan_test or k.reruns() or k.tested_at_run_time() for k in offl) or \
                any(p.bounds_test for k in offl for p in k.private_arrays):  # (a kernel that may run as written)
            unsummarised.add(fa.name)
        fplans.append((fp, offl))

    # Functions whose kernels do all the work on their pointer parameters: their callers
    # can keep those arrays on the device across calls.
    callees: dict[str, Callee] = {}
    for fp, offl in fplans:
        if offl and fp.fn.name not in unsummarised:
            summary = _summarise(fp, offl, param_names(fp.fnode, data))
            if summary is not None:
                callees[fp.fn.name] = summary
    if callees:
        for fnode in all_nodes(root):
            if fnode.type == "function_definition" and fnode.start_byte not in seen_functions:
                name = _function_name(fnode, data)
                fa = FunctionAnalysis(name, fnode.start_byte, fnode.end_byte)
                fp = FunctionPlan(unit, data, fa, fnode, [], {}, globals_, set(param_names(fnode, data)),
                                  constants=plan.constants, object_code=analysis.object_code)
                if call_sites(fp, callees):
                    fplans.append((fp, []))

    # functions with offloaded kernels, and every function that calls one, directly or not
    kernel_functions = callgraph.of(data, unit.language).reaching({fp.fn.name for fp, offl in fplans if offl},
                                                                 spelled=True)
    read_only: dict[str, set[int]] = {}
    if unit.language is Language.C:  # C++ references could write through an element
        for fnode in all_nodes(root):
            if fnode.type == "function_definition" and _function_name(fnode, data) in kernel_functions:
                read_only[_function_name(fnode, data)] = _read_only(fnode, data)
    # Kernel functions that read an array parameter on the host only element by element,
    # inside their region: planned assuming nothing about its host copy (element
    # updates), so callers may pass device-current data without bringing it home.
    entry_safe: dict[str, set[int]] = {}
    early: dict[str, tuple[DataRegion, list[str], list[str]]] = {}
    offloaded_in = {fp.fn.name: offl for fp, offl in fplans}
    for fp, offl in fplans:
        fp.kernel_functions, fp.read_only, fp.entry_safe = kernel_functions, read_only, entry_safe
        ro = read_only.get(fp.fn.name, set())
        if not (regions and offl and ro and fp.fn.name not in callees) or fp.fn.name in versioned \
                or _through_accessors(fp, offl) or any(k.tested_at_run_time() for k in offl):
            continue  # (a kernel tested at run time, or its region, runs as written where the test fails)
        params = param_names(fp.fnode, data)
        names = {params[i] for i in ro if i < len(params)}
        try:
            got = plan_region(fp, offl, callees, names)
        except RegionRefused:
            continue
        region = got[0]
        kept = {s.base for m in region.maps for s in m.sections} & names
        whole_from = {s.base for u in region.updates if u.direction == "from" for s in u.sections
                      if any(ln != "1" for _, ln in s.dims)}
        body = fp.fnode.child_by_field_name("body")
        inside = {p for p in kept if all(region.start_byte <= n.start_byte < region.end_byte for n in all_nodes(body)
                                         if n.type == "identifier" and text_of(data, n) == p)}
        safe = {i for i in ro if i < len(params) and params[i] in inside - whole_from}
        if safe:
            entry_safe[fp.fn.name] = safe
            early[fp.fn.name] = got
    for fp, offl in fplans:
        fp.kernel_functions = kernel_functions
        fp.read_only = read_only
        fp.entry_safe = entry_safe
        fa, fnode = fp.fn, fp.fnode
        sites = call_sites(fp, callees) if callees else []
        if not offl and not sites:
            continue
        region = None
        region_containers: list[str] = []
        worth = len(offl) + len(sites) > 1 or any(_in_loop(fnode, b) for b in
                                                  [k.start_byte for k in offl] + [st.start_byte for _, st in sites])
        anchor = offl[0] if offl else None
        where = (anchor.line, anchor.column) if anchor else (sites[0][1].start_point[0] + 1, sites[0][1].start_point[1] + 1)
        through = _through_accessors(fp, offl)
        if regions and worth and through:
            plan.remarks.append(Remark("PCX203", unit.path, *where,
                                       f"no target data region in '{fa.name}': '{through[0]}' is reached through an "
                                       "element accessor, whose calls on the host the data planner does not follow; "
                                       "kernels map their own data"))
            worth = False
        if regions and worth and analysis.thread_start:
            # (a region copies back the union of its kernels' sections at its end: elements
            # no kernel wrote too, over what another thread wrote meanwhile; see PCX146)
            plan.remarks.append(Remark("PCX203", unit.path, *where, (
                f"no target data region in '{fa.name}': the file starts threads ({analysis.thread_start}), whose "
                "writes a region's copy back at its end could undo; kernels map their own data")))
            worth = False
        nan_tested = next((k for k in offl if k.nan_test or k.reruns()), None)
        if regions and worth and nan_tested is not None:
            why = f"starts at NaN or an infinity ({nan_tested.nan_test})" if nan_tested.nan_test else \
                "ends at NaN, 0 or an infinity or meets a NaN element"
            plan.remarks.append(Remark("PCX203", unit.path, *where, (
                f"no target data region in '{fa.name}': the kernel at line {nan_tested.line} runs as written where its "
                f"minimum or maximum {why}; kernels map their own data")))
            worth = False
        tested = next((k for k in offl if k.tested_at_run_time()), None)
        # (the region may test them for its kernels: _lift_tests, once it is planned)
        lifted = [k for k in offl if k.tested_at_run_time()] if regions and worth else []
        if regions and worth and fa.name in versioned:
            # One run-time check for the whole region, or each kernel its own (and no region)
            try:
                region, over, region_containers = plan_region(fp, offl, callees)
                _kernel_maps_within(region, plan.kernels)
                why = _version_region(fp, region, offl)
            except RegionRefused as refused:
                region, why = None, str(refused)
            if why:
                if region is not None:
                    _maps_of_their_own(offl)
                region, region_containers = None, []
                alias = "each kernel versioned for aliasing (PCX128) maps its own data" if any(
                    k.alias_test for k in offl) else "kernels map their own data, as " + ", ".join(
                    f"'{a}' and '{b}'" for a, b in fa.alias_pairs) + " may be one array (PCX128)"
                plan.remarks.append(Remark("PCX203", unit.path, *where,
                                           f"no target data region in '{fa.name}': {why}; {alias}"))
        elif regions and worth:
            try:
                got = early.get(fa.name)
                if got is None:
                    got, after, blocked = _region_past_blocks(fp, offl, callees)
                    if blocked is not None:
                        sites = [(c, st) for c, st in sites if st.start_byte > after]
                        line = data.count(b"\n", 0, after) + 1
                        plan.remarks.append(Remark("PCX203", unit.path, got[0].line, 1,
                                                   f"the target data region in '{fa.name}' starts after line "
                                                   f"{line}: {blocked}"))
                region, over, region_containers = got
                for name in sorted(set(over)):
                    plan.remarks.append(Remark("PCX202", unit.path, region.line, 1,
                                               f"'{name}' is mapped with its declared extent"))
            except RegionRefused as why:
                plan.remarks.append(Remark("PCX203", unit.path, *where,
                                           f"no target data region in '{fa.name}': {why}; kernels map their own data"))
        if region is not None:
            unstable = hostaccess.unstable_macros(data, unit.language)
            named = {x for m in region.maps for s in m.sections for d in s.dims for e in d
                     for x in hostaccess.expression_identifiers(e)} & unstable if unstable else set()
            if named:  # (a declared extent written with a macro the file redefines later)
                _maps_of_their_own(offl)
                plan.remarks.append(Remark("PCX203", unit.path, *where, (
                    f"no target data region in '{fa.name}': its sections name macro '{sorted(named)[0]}', which "
                    "this file redefines or #undefs; kernels map their own data")))
                region = None
        if lifted:
            why = _lift_tests(fp, region, offl, lifted) if region is not None else "no region"
            if why:
                if region is not None:
                    _maps_of_their_own(offl)
                    plan.remarks.append(Remark("PCX203", unit.path, *where, (
                        f"no target data region in '{fa.name}': the kernel at line {tested.line} runs as written "
                        f"where the facts its sections rest on fail at run time (PCX202), and the region cannot test "
                        f"them before it ({why}); kernels map their own data")))
                region, region_containers = None, []
        if region is not None:
            plan.regions.append(region)
            if not region.alias_test:
                _kernel_maps_within(region, plan.kernels)
            names = ", ".join(s.render() for m in region.maps for s in m.sections)
            plan.remarks.append(Remark("PCX200", unit.path, region.line, 1,
                                       f"target data region keeps {names} on the device across "
                                       f"{len(region.kernels)} kernel(s) and {len(sites)} kernel call(s)"
                                       + ("; versioned at run time for aliasing: on the device when these sections "
                                          "are pairwise disjoint, as written otherwise (PCX128)"
                                          if region.alias_test else "")))
            for u in region.updates:
                plan.remarks.append(Remark("PCX201", unit.path, u.line, 1,
                                           f"target update {u.direction}({', '.join(s.render() for s in u.sections)})"
                                           f" where host code {'reads' if u.direction == 'from' else 'wrote'} device data"))
        if region is not None:
            # Data that a kernel function reads through its own element updates (its
            # ``entry_safe`` parameters) is left stale on the host here: if its kernels
            # are dropped or kept serial, this region must go too.
            for call, fname in kernel_function_calls(fp, region.start_byte, region.end_byte, callees):
                if fname in entry_safe:
                    region.kernels.extend(k.nest_id for k in offloaded_in.get(fname, [])
                                          if k.nest_id not in region.kernels)
        _containers(unit, plan, fp, offl, region, used_names, region_containers)
        _member_values(unit, plan, fp, offl, used_names)

    # Functions the device functions call in turn (the analysis lists them all in
    # device_functions; only those reachable from an offloaded kernel are needed).
    todo = list(calls)
    while todo:
        name = todo.pop()
        rng = analysis.device_functions.get(name)
        if rng is None:
            continue
        body = hostaccess.parse(data, unit.language).root_node.descendant_for_byte_range(rng[0], max(rng[0], rng[1] - 1))
        for ident in hostaccess.identifiers_in(body, data) if body is not None else ():
            if ident in analysis.device_functions and ident not in calls:
                calls.append(ident)
                todo.append(ident)
    plan.declare_target = calls
    if calls:
        ranges = set(analysis.device_functions.get(c) for c in calls if c in analysis.device_functions)
        ranges |= set(hostaccess.function_ranges(data, unit.language, calls))
        # Constant file-scope tables the device functions read must exist on the device
        # (TOOLCHAIN.md: a static const table without declare target segfaulted).
        used: set[str] = set()
        for lo, hi in ranges:
            node = root.descendant_for_byte_range(lo, max(lo, hi - 1))
            if node is not None:
                used |= hostaccess.identifiers_in(node, data)
        ranges |= set(hostaccess.const_globals(data, unit.language, used))
        plan.declare_target_ranges = sorted(r for r in ranges if r)
    if no_assumptions is None:
        from pcx_driver.engine.regionreach import held_by_regions

        held = {r.function for r in plan.regions if r.assumptions and held_by_regions(
            data, unit.language, plan, [x for x in plan.regions if x is not r]) & set(r.kernels)}
        if held:
            return plan_unit(unit, analysis, regions, frozenset(held))
    return plan


def _kernel_maps_within(region: DataRegion, kernels: list[KernelPlan]) -> None:
    """Inside a region a kernel's map only looks the data up; a section that is not the
    region's own may reach past it (a guarded or clipped access: libomptarget aborts on
    "explicit extension not allowed").  Map exactly the region's section instead."""
    held = {s.base: s for m in region.maps for s in m.sections}
    for k in kernels:
        if k.nest_id not in region.kernels:
            continue
        k.alone_maps = [MapClause(m.kind, [Section(s.base, list(s.dims)) for s in m.sections]) for m in k.maps]
        for m in k.maps:
            m.sections = [Section(s.base, list(held[s.base].dims)) if s.base in held else s for s in m.sections]


def _function_name(fnode: tree_sitter.Node, data: bytes) -> str:
    return hostaccess.function_name(fnode, data) or "?"


def _region_past_blocks(fp: FunctionPlan, offl: list[KernelPlan], callees: dict[str, Callee]
                        ) -> tuple[tuple[DataRegion, list[str], list[str]], int, RegionRefused | None]:
    """``plan_region`` over the function's kernels; when host code between them stops it (a
    call into another file with a mapped array: ``RegionRefused.byte``), a region over the
    kernels after that code, if there are two or one in a loop.  Also the byte the region
    starts after (-1 when it holds every kernel) and the refusal that made it start there."""
    after = -1
    first: RegionRefused | None = None
    for _ in range(8):
        part = [k for k in offl if k.start_byte > after]
        try:
            return plan_region(fp, part, callees, after=after), after, first
        except RegionRefused as refused:
            first = first or refused
            if refused.byte is None or refused.byte <= after:
                break
            stmt = hostaccess.statement_at(fp.fnode, refused.byte)
            after = stmt.end_byte if stmt is not None else refused.byte
            starts = [k.start_byte for k in offl if k.start_byte > after] + \
                [st.start_byte for _, st in call_sites(fp, callees) if st.start_byte > after]
            if not (len(starts) > 1 or any(_in_loop(fp.fnode, b) for b in starts)):
                break
    assert first is not None
    # Set-up before the work may stop a region that holds everything (HeCBench ace:
    # pointers declared, cast and stored between the first kernel calls and its time
    # loop): a region from a loop of the body that holds kernels to the end of the work,
    # the earliest loop that can be held.  Only where that was the refusal (about the
    # sections, before any host code was walked) and no code of the user's runs unseen
    # before the loop: a constructor there may keep a reference that the loop writes
    # through (``Obs o(v); ... o.tick();``), which the region's walk would not see.
    if str(first) != NO_FIXED_SECTION:
        raise first
    work = [k.start_byte for k in offl] + [st.start_byte for _, st in call_sites(fp, callees)]
    for loop in _top_loops_with_work(fp, work):
        if loop.start_byte <= after:
            continue
        if any(fp.fnode.start_byte <= b < loop.start_byte for b, _ in fp.object_code):
            break
        held = [b for b in work if b >= loop.start_byte]
        if len(held) < 2 and not any(loop.start_byte < b < loop.end_byte for b in held):
            break  # one kernel and nothing around it: a region would only repeat its maps
        start = fp.data.rfind(b"\n", 0, loop.start_byte)  # (the remark says "after" the line before)
        try:
            return plan_region(fp, [k for k in offl if k.start_byte > start], callees, after=start), start, first
        except RegionRefused:
            continue
    raise first


def _top_loops_with_work(fp: FunctionPlan, starts: list[int]) -> list[tree_sitter.Node]:
    """The loop statements of the function body's own block, or of a bare block in it (not
    nested in another statement), that hold one of ``starts`` (a kernel, or a call of a
    kernel function), in source order."""
    out: list[tree_sitter.Node] = []
    blocks = [fp.fnode.child_by_field_name("body")]
    while blocks:
        block = blocks.pop()
        for c in block.named_children if block is not None else []:
            if c.type == "compound_statement":
                blocks.append(c)
            elif c.type in LOOP_TYPES and any(c.start_byte <= b < c.end_byte for b in starts):
                out.append(c)
    return sorted(out, key=lambda c: c.start_byte)


def _in_loop(fnode: tree_sitter.Node, byte: int) -> bool:
    n = hostaccess.statement_at(fnode, byte)
    n = n.parent if n is not None else None
    while n is not None and n != fnode:
        if n.type in LOOP_TYPES:
            return True
        n = n.parent
    return False


def _through_accessors(fp: FunctionPlan, offl: list[KernelPlan]) -> list[str]:
    """The containers the function's kernels reach through element accessors
    (``domain.x(i)``): no region holds them, as host code reaches them through calls."""
    return sorted({a.name for k in offl for a in fp.nests[k.nest_id].arrays if a.accessor})


def _unique(base: str, data: bytes, used: set[str]) -> str:
    stem = "pcx_" + "".join(ch if ch.isalnum() else "_" for ch in base).strip("_")
    for i in itertools.count():
        name = stem if i == 0 else f"{stem}_{i}"
        if name not in used and name.encode() not in data:
            used.add(name)
            return name
    raise AssertionError


def _member_values(unit: SourceUnit, plan: Plan, fp: FunctionPlan, offl: list[KernelPlan], used: set[str]) -> None:
    """A struct member a kernel reads through a pointer or reference (``f->n``) is taken into
    a local just before the kernel, which reads that (``firstprivate``): the struct itself is
    not on the device, or only in part (the member arrays the kernel maps)."""
    for k in offl:
        for mv in fp.nests[k.nest_id].member_values:
            name = _unique(mv.expression, fp.data, used)
            ty = "const auto" if unit.language is Language.CXX else f"const {mv.type}"
            guard = " || ".join(g for g in mv.guards if g != "1") if "1" not in mv.guards else ""
            init = f"({guard}) ? {mv.expression} : 0" if guard else mv.expression
            plan.local_pointers.append(LocalPointer(name, mv.expression, k.start_byte, k.line,
                                                    renames=list(mv.ranges), init=init, type=ty))
            k.firstprivate.append(name)


def _containers(unit: SourceUnit, plan: Plan, fp: FunctionPlan, offl: list[KernelPlan],
                region: DataRegion | None, used: set[str], region_containers: list[str] = ()) -> None:
    """C++ containers: a local ``auto *p = v.data()`` per kernel (or per region), maps of
    ``p[...]``, and the container's occurrences in the nest renamed to ``p``."""
    per_region: dict[str, LocalPointer] = {}
    for k in offl:
        nest = fp.nests[k.nest_id]
        in_region = region is not None and k.nest_id in region.kernels
        local: dict[str, str] = {}
        for a in nest.arrays:
            if not a.container:
                continue
            expr = a.section.base or a.name
            if in_region and a.name in {s.base for m in region.maps for s in m.sections}:
                lp = per_region.get(expr)
                if lp is None:
                    lp = LocalPointer(_unique(expr, fp.data, used), expr, region.start_byte, region.line)
                    per_region[expr] = lp
                    plan.local_pointers.append(lp)
            else:
                lp = LocalPointer(_unique(expr, fp.data, used), expr, k.start_byte, k.line)
                plan.local_pointers.append(lp)
            if a.accessor:
                # element 0 exists whenever the section is not empty (extents: every access
                # through the one accessor, none conditional), and only then is it taken
                length = a.section.dims[0][1] if a.section.dims else "1"
                lp.init = f"({length}) > 0 ? &({a.accessor}(0)) : nullptr"
                lp.brackets.extend(a.brackets)
            lp.renames.extend(a.base_ranges)
            local[a.section.base] = lp.name
        if local:
            # (the maps it keeps alone too: the plan checker may drop the region, and the
            # kernel then maps what it touches through the same local pointer)
            for m in [*k.maps, *k.alone_maps]:
                m.sections = [Section(local.get(s.base, s.base), s.dims) for s in m.sections]
            if k.alias_test and any(a in local or b in local for a, b in nest.alias_checks):
                # (pointer members reached through accessors, ``domain.dxx(k)``: the test
                # reads the local pointers too, the members themselves being private)
                k.alias_test = alias_test([(local.get(a, a), local.get(b, b)) for a, b in nest.alias_checks],
                                          k.maps, {(local.get(a, a), local.get(b, b)) for a, b in nest.alias_reads})
                if not k.alias_test:
                    raise RuntimeError("a kernel's alias test lost its sections to the local pointers")
    for name in region_containers:  # passed to kernel functions only: no renames here
        if region is not None and name not in per_region:
            lp = LocalPointer(_unique(name, fp.data, used), name, region.start_byte, region.line)
            per_region[name] = lp
            plan.local_pointers.append(lp)
    if region is not None and per_region:
        rename = {lp.container: lp.name for lp in per_region.values()}
        for m in region.maps:
            m.sections = [Section(rename.get(s.base, s.base), s.dims) for s in m.sections]
        for u in region.updates:
            u.sections = [Section(rename.get(s.base, s.base), s.dims) for s in u.sections]
