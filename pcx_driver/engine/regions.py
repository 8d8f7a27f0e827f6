"""Where a function's ``target data`` region goes, which sections it maps, with which kinds.

``plan_region(fp, kernels) -> (DataRegion, ...)``: the region wraps the outermost
sequential loop around the function's offloaded kernels (time steps, convergence loops)
or the statements from the first kernel (or call of a kernel function) to the last; it
holds each array with one section that stays fixed inside it (the union of the kernels'
sections, the declared extent, or the hull over the loops around the kernels), walks its
statements (``engine.dataflow``) for the updates, and picks each map's kind from what the
walk found and whether the host reads the array after the region.  ``RegionRefused``
says why no region can be formed.  ``FunctionPlan`` is one function as the planner sees it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import tree_sitter

from pcx_driver.engine import callgraph, escapes, hostaccess
from pcx_driver.engine.dataflow import Flow, State, WholeNeeded, element_push
from pcx_driver.engine.hostaccess import (
    LOOP_TYPES,
    all_nodes,
    assigned_and_declared,
    declared_identifier,
    text_of,
)
from pcx_driver.engine.hostscan import Callee, RegionRefused, passed_array, pointee_passed
from pcx_driver.engine.sections import (
    fixed_section,
    known_value,
    linear_form,
    loop_range,
    render_form,
    same_section,
    subtract,
    union_sections,
    widen_over,
)
from pcx_driver.engine.source import arguments_of, strip_parens
from pcx_driver.model import (
    ArrayAccessSummary,
    Assumption,
    DataRegion,
    Decision,
    FunctionAnalysis,
    KernelPlan,
    Language,
    MapClause,
    MapKind,
    NestAnalysis,
    Section,
    SourceUnit,
    TargetUpdate,
    TypedNames,
)

def map_clauses(entries: list[tuple[MapKind, Section]]) -> list[MapClause]:
    """Group sections by kind, in a fixed kind order (stable text)."""
    out = []
    for kind in (MapKind.TO, MapKind.TOFROM, MapKind.FROM, MapKind.ALLOC):
        secs = [s for k, s in entries if k is kind]
        if secs:
            out.append(MapClause(kind, secs))
    return out


@dataclass
class FunctionPlan:
    """One function as the planner sees it: its tree, its kernels and their nests, the
    names that escape it (parameters, file-scope names), and what is known of the kernel
    functions it calls."""

    unit: SourceUnit
    data: bytes
    fn: FunctionAnalysis
    fnode: tree_sitter.Node
    kernels: list[KernelPlan]
    nests: dict[str, NestAnalysis]
    globals_: set[str]
    params: set[str]
    kernel_functions: set[str] = field(default_factory=set)
    # kernel functions -> indices of the array parameters they only read (``_read_only``)
    read_only: dict[str, set[int]] = field(default_factory=dict)
    # kernel functions -> read-only parameters they never assume current on the host
    entry_safe: dict[str, set[int]] = field(default_factory=dict)
    # integer values of the macros the kernels' sections name (Plan.constants)
    constants: dict[str, int] = field(default_factory=dict)
    # function-like macros that expand to an expression over their arguments
    # (UnitAnalysis.pure_macros): host code calling one calls nothing
    pure_macros: set[str] = field(default_factory=set)
    # one-parameter macros that are their argument (UnitAnalysis.identity_macros)
    identity_macros: set[str] = field(default_factory=set)
    # those that are what their argument points to (UnitAnalysis.deref_macros)
    deref_macros: set[str] = field(default_factory=set)
    # functions of the user's other files (UnitAnalysis.foreign_functions)
    foreign_functions: set[str] = field(default_factory=set)
    # calls of the unit's own functions as libclang resolves them (UnitAnalysis.call_targets)
    call_targets: list = field(default_factory=list)
    object_code: list = field(default_factory=list)  # (UnitAnalysis.object_code)
    typed_names: TypedNames = field(default_factory=lambda: TypedNames())  # (UnitAnalysis.typed_names)
    # whether its region's sections may rest on run-time assumptions (plan_unit's
    # ``no_assumptions``: not where another region may hold its kernels' data)
    assume: bool = True
    _locals: set[str] | None = None

    def pointee_extents(self, name: str) -> list[str] | None:
        """The extents of the array that local ``name`` points to, when it is declared in
        this function as a pointer to a whole array (``double (*A)[N][M]``)."""
        found = [dims for at, dims in self.typed_names.pointed_arrays.get(name, ())
                 if self.fnode.start_byte <= at < self.fnode.end_byte]
        return list(found[0]) if len(found) == 1 else None

    @property
    def locals_(self) -> set[str]:
        """Names declared in the body.  Anything else a kernel touches (a parameter, also
        one declared through a macro such as PolyBench's ``POLYBENCH_1D(w, N, n)``, a
        global) belongs to the caller and escapes."""
        if self._locals is None:
            body = self.fnode.child_by_field_name("body")
            self._locals = set()
            statics = [] if self.fn.name == "main" else [  # a static local outlives the call
                (n.start_byte, n.end_byte) for n in (all_nodes(body) if body is not None else ())
                if n.type == "declaration" and any(c.type == "storage_class_specifier"
                                                   and text_of(self.data, c) == "static" for c in n.children)]
            for n in all_nodes(body) if body is not None else ():
                if any(lo <= n.start_byte < hi for lo, hi in statics):
                    continue
                if n.type in ("init_declarator", "declaration", "for_range_loop", "function_declarator"):
                    name = declared_identifier(n, self.data) if n.type != "function_declarator" else None
                    if name:
                        self._locals.add(name)
                    if n.type == "function_declarator" and n.parent is not None and n.parent.type == "declaration":
                        inner = n.child_by_field_name("declarator")  # C++ ``std::vector<T> v(n);``
                        if inner is not None and inner.type == "identifier":
                            self._locals.add(text_of(self.data, inner))
                    if n.type == "declaration":
                        for d in n.named_children:
                            name = (text_of(self.data, d) if d.type == "identifier" else
                                    declared_identifier(d, self.data) if d.type != "init_declarator" else None)
                            if name:
                                self._locals.add(name)
        return self._locals


def function_node(root: tree_sitter.Node, fa: FunctionAnalysis, data: bytes,
                   language: Language) -> tree_sitter.Node | None:
    for n in hostaccess.function_definitions(data, language):
        if n.start_byte <= fa.start_byte < n.end_byte and n.end_byte >= fa.end_byte - 1:
            return n
    node = root.descendant_for_byte_range(fa.start_byte, fa.start_byte)
    while node is not None and node.type != "function_definition":
        node = node.parent
    return node


@functools.lru_cache(maxsize=16)
def static_names(data: bytes, language: Language) -> frozenset[str]:
    """The unit's file-scope names declared ``static`` (no other file can name them)."""
    out: set[str] = set()
    for child in hostaccess.file_scope_declarations(hostaccess.parse(data, language).root_node):
        if hostaccess.declared_static(child, data):
            out |= file_scope_names_of(child, data)
    return frozenset(out)


def file_scope_names_of(child: tree_sitter.Node, data: bytes, cxx: bool = False) -> set[str]:
    """The names a file-scope declaration declares, functions' aside.  In C++ a
    construction ``std::vector<double> GV(N);`` parses as a function's declaration, which
    syntax cannot tell from ``double f(T);``: its name counts (a function's name in the set
    is never a mapped buffer; a global container left out was taken for a local, and a
    call that wrote it between kernels got no update: a held-out check)."""
    out = set()
    for d in child.named_children:
        ident = d
        while ident is not None and ident.type not in ("identifier",):
            ident = ident.child_by_field_name("declarator")
        if ident is not None and (d.type != "function_declarator" or cxx):
            out.add(text_of(data, ident))
    return out


def file_scope_names(root: tree_sitter.Node, data: bytes, cxx: bool = False) -> set[str]:
    out = set()
    for child in hostaccess.file_scope_declarations(root):
        out |= file_scope_names_of(child, data, cxx)
    return out


def _region_range(fp: FunctionPlan, starts: list[int]) -> tuple[tree_sitter.Node, int, int]:
    """The block and byte range to wrap: the outermost loop around each kernel (or the
    kernel itself), climbed to the children of their deepest common block."""
    body = fp.fnode.child_by_field_name("body")
    anchors = []
    for b in starts:
        node = hostaccess.statement_at(fp.fnode, b)
        if node is None:
            raise RegionRefused(f"no statement at byte {b}")
        anchor, n = node, node.parent
        while n is not None and n != body:
            if n.type in LOOP_TYPES:
                anchor = n
            n = n.parent
        anchors.append(anchor)

    def blocks(n: tree_sitter.Node) -> list[tree_sitter.Node]:
        chain = []
        while n is not None and n != fp.fnode:
            if n.type == "compound_statement":
                chain.append(n)
            n = n.parent
        return chain[::-1]

    chains = [blocks(a.parent) for a in anchors]
    common = None
    for level in zip(*chains):
        if all(x == level[0] for x in level):
            common = level[0]
        else:
            break
    if common is None:
        raise RegionRefused("kernels share no block")
    kids = []
    for a in anchors:
        n = a
        while n.parent != common:
            n = n.parent
        kids.append(n)
    return common, min(k.start_byte for k in kids), max(k.end_byte for k in kids)


def _mentioned_after(fp: FunctionPlan, names: set[str], pos: int) -> bool:
    """Is one of ``names`` used after byte ``pos`` other than by ``free(name)``?  A macro
    whose list names it (``OUT(4, 3)`` of ``#define OUT(i,j) out[(i)+(j)*n]``) uses it."""
    for n in all_nodes(fp.fnode):
        if n.start_byte >= pos and n.type == "identifier" and \
                hostaccess.stands_for(fp.data, fp.unit.language, text_of(fp.data, n)) & names:
            call = n.parent.parent if n.parent is not None and n.parent.type == "argument_list" else None
            fn = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
            if fn is not None and text_of(fp.data, fn) == "free":
                continue
            if n.parent is not None and n.parent.type == "delete_expression":
                continue
            return True
    return False


#: the refusal of a region whose arrays all change inside its range (declared there, say):
#: about its sections, not about host code that may reach them
NO_FIXED_SECTION = "no array section stays fixed across the kernels"


def live_after(fp: FunctionPlan, names: set[str], node_end: int, enclosing: tree_sitter.Node | None) -> bool:
    """May the host read one of ``names`` after byte ``node_end``?  Parameters, globals
    and locals that borrow other storage (``hostaccess.borrows``: ``double *wv = w;``)
    escape to the caller; inside a loop, anything the loop mentions comes round again."""
    if names & (fp.params | fp.globals_) or names - fp.locals_:
        return True
    if any(hostaccess.borrows(fp.fnode, n, fp.data) for n in names):
        return True  # a local pointer into the caller's (or another object's) storage
    if _mentioned_after(fp, names, node_end):
        return True
    n = enclosing
    while n is not None and n != fp.fnode:
        if n.type in LOOP_TYPES and any(hostaccess.stands_for(fp.data, fp.unit.language, x) & names
                                        for x in hostaccess.identifiers_in(n, fp.data)):
            return True
        n = n.parent
    return False


def call_sites(fp: FunctionPlan, callees: dict[str, Callee]) -> list[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(call, statement) for every call in ``fp`` of a kernel function (not itself)."""
    out = []
    for site in _sites_in(fp):
        if site.spelled in callees and site.spelled != fp.fn.name:
            stmt = site.node.parent
            while stmt is not None and not hostaccess.is_statement(stmt):
                stmt = stmt.parent
            if stmt is not None:
                out.append((site.node, stmt))
    return out


def kernel_function_calls(fp: FunctionPlan, lo: int, hi: int, callees: dict[str, Callee]
                           ) -> list[tuple[tree_sitter.Node, str]]:
    """Calls within bytes lo..hi of functions that offload but are not callees."""
    return [(site.node, site.spelled) for site in _sites_in(fp)
            if site.node.end_byte > lo and site.start_byte < hi and site.spelled in fp.kernel_functions
            and site.spelled not in callees and site.arguments is not None]


def _sites_in(fp: FunctionPlan) -> list[callgraph.CallSite]:
    return callgraph.of(fp.data, fp.unit.language).sites_between(fp.fnode.start_byte, fp.fnode.end_byte)


def plan_region(fp: FunctionPlan, offl: list[KernelPlan], callees: dict[str, Callee] | None = None,
                 stale_entry: set[str] = frozenset(), after: int = -1) -> tuple[DataRegion, list[str], list[str]]:
    """Form the function's data region; returns it, the arrays mapped with their declared
    extent (wider than the kernels touch), and the C++ containers it maps.  ``after``: only
    the calls of kernel functions that start after that byte (``offl`` is chosen alike).

    An array whose kernels' sections differ by a name (``ey[0:1]`` beside ``ey[0:NX]``) is
    held with the union under an assumption on that name (``DataRegion.assumptions``),
    tested at run time before the region, whose statements then run as written when it
    fails; where they cannot be copied, or the names are not set where the region starts,
    the region is planned again without assumptions (such arrays keep per-kernel maps)."""
    from pcx_driver.engine import workguard

    got = _plan_region(fp, offl, callees, stale_entry, after, fp.assume)
    region = got[0]
    if region.assumptions:
        known = workguard.known_at(fp.unit, region.start_byte)
        if workguard.region_statements(fp.unit, region) is None or known is None or \
                not known.covers({a.name for a in region.assumptions}):
            got = _plan_region(fp, offl, callees, stale_entry, after, False)
    return got


def _plan_region(fp: FunctionPlan, offl: list[KernelPlan], callees: dict[str, Callee] | None,
                 stale_entry: set[str], after: int, assume: bool) -> tuple[DataRegion, list[str], list[str]]:
    data, lang = fp.data, fp.unit.language
    callees = callees or {}
    calls = [(c, st) for c, st in call_sites(fp, callees) if st.start_byte > after]
    if not offl and not calls:
        raise RegionRefused("no kernel after the host code that stops the region")
    block, lo, hi = _region_range(fp, [k.start_byte for k in offl] + [st.start_byte for _, st in calls])
    inside = [k for k in fp.kernels if k.decision is Decision.OFFLOADED and lo <= k.start_byte < hi]
    nests = {k.start_byte: fp.nests[k.nest_id] for k in inside}
    changed = assigned_and_declared(fp.fnode, data, lo, hi)
    # Arrays passed to kernel functions: mapped here with their declared extent.
    passed: set[str] = set()
    passed_containers: set[str] = set()
    unfollowed: list[tuple[tree_sitter.Node, tree_sitter.Node]] = []  # (call, argument) no name
    # pointers passed as ``*p`` (PolyBench's ``POLYBENCH_ARRAY(A)``) -> the extents of the
    # array they point to: mapped as ``p[0:1][0:N][0:M]``, the one array the call is given
    pointees: dict[str, list[str]] = {}
    for call, _ in calls:
        callee = callees[text_of(data, call.child_by_field_name("function"))]
        argv = arguments_of(call.child_by_field_name("arguments"))
        for i, a in enumerate(argv):
            got = passed_array(a, data) if i in callee.effects else None
            if got is None and i in callee.effects and (p := pointee_passed(a, data, fp.deref_macros)) is not None \
                    and (dims := fp.pointee_extents(p)) is not None:
                pointees[p] = dims
                got = (p, False)
            if got is not None:
                passed.add(got[0])
                if got[1] or i in callee.containers:
                    passed_containers.add(got[0])
            elif i in callee.effects:
                unfollowed.append((call, a))

    # Arrays passed to kernel functions that map their own data: one such function only
    # reads may share (declared extent, both copies current at the call); the others stay
    # out of the region (their kernels map them, the walk does not track them).
    excluded: dict[str, str] = {}  # name -> why it stays out
    for call, _ in kernel_function_calls(fp, lo, hi, callees):
        fname = text_of(data, call.child_by_field_name("function"))
        ro = fp.read_only.get(fname, set()) if lang is Language.C else set()
        argv = arguments_of(call.child_by_field_name("arguments"))
        for i, a in enumerate(argv):
            got = passed_array(a, data)
            if i in ro and got is not None and not got[1]:
                passed.add(got[0])
            else:
                for name in sorted(hostaccess.identifiers_in(a, data)):
                    excluded.setdefault(name, f"'{name}' is passed at line {call.start_point[0] + 1} to '{fname}', "
                                              "which offloads with host code between its kernels")

    # Arrays the region can hold: a plain name declared outside it, with one section
    # (the union of the kernels' sections, or the declared extent) whose bounds do not
    # change inside the region.  Others keep their per-kernel maps.
    fscope = (fp.fnode.start_byte, fp.fnode.end_byte)

    def extent_changed(ext: hostaccess.Extent) -> set[str]:
        # A declared extent is evaluated again at the region's start: its variables must
        # keep the values they had at the allocation.
        return changed | assigned_and_declared(fp.fnode, data, ext.byte, hi, declarations=False)
    by_name: dict[str, list[ArrayAccessSummary]] = {}
    starts: dict[str, list[int]] = {}  # name -> start byte of the kernel of each access
    for b, n in nests.items():
        for a in n.arrays:
            by_name.setdefault(a.name, []).append(a)
            starts.setdefault(a.name, []).append(b)
    sections: dict[str, Section] = {}
    over: list[str] = []
    assumptions: list[Assumption] = []  # what the sections assume (fixed_section)
    for name in sorted(passed):
        by_name.setdefault(name, [])
    for name, accs in by_name.items():
        if not name.isidentifier() or (name in changed and not _only_pointer_moves(fp, name, lo, hi)):
            continue
        if name in excluded:
            continue
        if any(a.element_type != accs[0].element_type for a in accs):
            continue
        sec = fixed_section([a.section for a in accs], lang, changed, fp.constants,
                            assumptions if assume else None) if accs and name not in passed else None
        if sec is None and (name in passed_containers or any(a.container for a in accs)):
            sec = fixed_section([Section(name, [("0", f"{name}.size()")])], lang, changed)
        if sec is None and name in pointees:
            sec = fixed_section([Section(name, [("0", "1")] + [("0", d) for d in pointees[name]])], lang, changed)
            over.append(name)
        elif sec is None:
            ext = hostaccess.declared_extent(data, lang, fscope, name) \
                or hostaccess.assigned_allocation(fp.fnode, data, name, lo)
            if ext is not None:
                sec = fixed_section([Section(name, [("0", d) for d in ext.dims])], lang, extent_changed(ext))
                over.append(name)
        if sec is None and accs and name not in passed and not any(a.container for a in accs):
            # No extent known: the sections over every iteration of the loops around them
            hull = [_widen(fp, a.section, b, lo, lang, assumptions if assume else None)
                    for a, b in zip(accs, starts[name])]
            if all(h is not None for h in hull):
                sec = fixed_section(hull, lang, changed, fp.constants, assumptions if assume else None)
                # (loops that run no times give a negative length: rewrite.emitted_length)
        if sec is not None:
            sections[name] = Section(name, sec.dims)
    if not sections:
        why = [excluded[n] for n in sorted(by_name) if n in excluded]
        if not why and not offl and unfollowed:
            # (PolyBench's ``kernel_atax(m, n, POLYBENCH_ARRAY(A), ...)``: a macro, ``*A``)
            call, arg = unfollowed[0]
            why = [f"the arrays passed to '{text_of(data, call.child_by_field_name('function'))}' (line "
                   f"{call.start_point[0] + 1}) are expressions such as '{text_of(data, arg)}', not names of "
                   "arrays it can map"]
        raise RegionRefused(why[0] if why else NO_FIXED_SECTION)

    # Can host code reach the arrays through another name (engine/escapes.py)?  Refused at
    # the end (the walk's own refusals say more where they apply); an array passed to a
    # function that may keep it counts among what a call reaching globals may touch.
    kept: set[str] = set()
    site = escapes.alias_site(fp.fnode, data, set(sections),
                              [(k.start_byte, k.end_byte) for k in fp.kernels if k.decision is Decision.OFFLOADED],
                              lambda fname, i: escapes.keeps_parameter(data, lang, fname, i),
                              frozenset(fp.identity_macros), kept, (lo, hi),
                              {n: len(sec.dims) for n, sec in sections.items()},
                              frozenset(at for n in pointees for at, _ in fp.typed_names.pointed_arrays.get(n, ())))

    def walk(elementwise: bool, defined: frozenset[str] = frozenset()) -> tuple[Flow, list[State]]:
        """``defined``: buffers the region maps ``to`` (a walk before found the device
        reads them first), so the device copy is defined from the region's start.  An
        array passed as ``*p`` is one of them: the calls define their own sections of it,
        in their parameters' terms, which need not cover the whole array mapped here."""
        defined = defined | frozenset(pointees)
        flow = Flow(data, nests, set(sections), set(sections) & fp.globals_, (lo, hi), callees,
                     {(st.start_byte, st.end_byte) for _, st in calls},
                     {n: len(sec.dims) for n, sec in sections.items()}, elementwise)
        flow.constants = fp.constants
        flow.scanner.cxx = fp.unit.language is Language.CXX
        # what a call that reaches globals may touch: what the caller may have stored
        flow.scanner.reachable = set(sections) & (fp.params | fp.globals_ | kept)
        flow.scanner.file_scope = escapes.unit_pointer_globals(data, lang) - set(sections)
        flow.scanner.reaches_globals = lambda fname: fname not in fp.pure_macros and \
            escapes.reaches_globals(data, lang, fname)
        flow.scanner.containers = {a.name for accs in by_name.values() for a in accs if a.container} | passed_containers
        flow.scanner.kernel_functions = fp.kernel_functions
        flow.scanner.pointees = set(pointees)
        flow.scanner.deref_macros = fp.deref_macros
        flow.scanner.read_only = fp.read_only
        flow.scanner.entry_safe = fp.entry_safe
        flow.scanner.unseen = lambda fname: hostaccess.unseen_call(data, lang, fname)
        # globals another file can name: a function of the user's there may offload them
        flow.scanner.foreign = fp.foreign_functions
        flow.scanner.call_targets = fp.call_targets
        flow.scanner.object_code = fp.object_code
        flow.scanner.typed_names = fp.typed_names
        flow.scanner.shared_globals = (set(sections) & fp.globals_) - static_names(data, lang)
        flow.stale_entry = set(stale_entry) & set(sections)
        flow.whole = dict(sections)
        names0 = tuple(sorted((n, n) for n in sections))
        flow.need_to = set(defined)
        states = [State(names0, frozenset(set(sections) - flow.stale_entry), defined)]
        states = flow.run_block([c for c in block.named_children if lo <= c.start_byte and c.end_byte <= hi], states)
        if flow.stale:  # the host copy is not the current one: the exit copy would lose elements
            raise WholeNeeded
        flow.pending, flow.pending_sections = {}, {}  # host writes after the last kernel: the host copy is current
        return flow, states

    def settled(elementwise: bool) -> tuple[Flow, list[State]]:
        flow, states = walk(elementwise)
        # A whole push inside a loop of the region (LU's row of L, written by a host loop
        # before each kernel) because the device copy was not yet defined there: walk
        # again with the region's entry map defining it, so that host loops push only
        # what they wrote (Flow._loop_written).
        again = {n for pos, table in flow.update_to.items() if hostaccess.innermost_loop(fp.fnode, pos, lo) is not None
                 for n, elems in table.items() if elems is None}
        if again:
            flow, states = walk(elementwise, frozenset(again | flow.need_to))
        return flow, states

    try:
        flow, states = settled(True)
    except WholeNeeded:
        flow, states = settled(False)

    # Buffers that pointer moves may exchange must share one section.
    groups: list[set[str]] = [{n} for n in sections]
    for pair in flow.swapped:
        hit = [g for g in groups if g & pair]
        groups = [g for g in groups if g not in hit] + [set().union(*hit) | pair]
    for g in groups:
        if len(g) > 1:
            sec = union_sections([Section("x", sections[n].dims) for n in sorted(g)], lang)
            if sec is None:
                ext = [hostaccess.declared_extent(data, lang, fscope, n) for n in sorted(g)]
                if all(e is not None for e in ext) and len({tuple(e.dims) for e in ext}) == 1:
                    sec = fixed_section([Section("x", [("0", d) for d in ext[0].dims])], lang,
                                         set().union(*(extent_changed(e) for e in ext)))
                    over.extend(sorted(g))
            if sec is None:
                raise RegionRefused(f"buffers {', '.join(sorted(g))} are swapped but have different sections")
            for n in g:
                sections[n] = Section(n, list(sec.dims))

    region_maps: list[tuple[MapKind, Section]] = []
    final_from: list[str] = []  # names brought home by an update at the region's end
    for g in sorted(groups, key=lambda g: sorted(g)):
        live = live_after(fp, g, hi, block)
        exit_stale = {b for s in states for b in g if b not in s.host_ok}
        if len(g) > 1 and live and not g & (fp.params | fp.globals_):
            # Swapped buffers: after the region the host reads through the names, so
            # copy back what each live name points to now, not every buffer.
            for n in sorted(g):
                if _mentioned_after(fp, {n}, hi) and any(s.buf(n) in exit_stale for s in states):
                    final_from.append(n)
            live = False
        for n in sorted(g):
            # a read-only parameter's host copy is no staler at the end than at the start
            needs_out = live and n in exit_stale and n not in flow.stale_entry
            # copied back, it must be defined on the device on every path (a kernel under
            # a condition that did not run leaves the host's values, which must be there)
            needs_in = n in flow.need_to or (needs_out and any(n not in s.dev_ok for s in states))
            kind = (MapKind.TOFROM if needs_in and needs_out else MapKind.TO if needs_in
                    else MapKind.FROM if needs_out else MapKind.ALLOC)
            region_maps.append((kind, sections[n]))
    updates = []
    for byte in sorted(set(flow.update_from) | set(flow.from_elements)):
        names = flow.update_from.get(byte, set())
        secs = [sections[n] for n in sorted(names)]
        for n, elems in sorted(flow.from_elements.get(byte, {}).items()):
            if n not in names:  # only the elements the host reads
                secs.extend(Section(n, [(i, "1") for i in e]) for e in sorted(elems))
        updates.append(TargetUpdate(byte, _line(data, byte), "from", secs))
    for byte, written in sorted(flow.after_kernel.items()):  # right after a kernel: what it wrote
        updates.append(TargetUpdate(byte, _line(data, byte), "from", [written[n] for n in sorted(written)]))

    def _whole_object(name: str) -> bool:
        """Whether the region maps all of the array (its declared or allocated extent)."""
        if name in over:
            return True
        ext = hostaccess.declared_extent(data, lang, fscope, name)
        if ext is None or len(ext.dims) != len(sections[name].dims):
            return False
        for whole, (start, length) in zip(ext.dims, sections[name].dims):
            forms = [linear_form(x, lang) for x in ("0", start, whole, length)]
            if any(f is None for f in forms) or any(
                    known_value(subtract(a, b), fp.constants) != 0 for a, b in (forms[:2], forms[2:])):
                return False
        return True

    for byte in sorted(set(flow.update_to) | set(flow.update_to_sections)):
        secs = []
        table = flow.update_to.get(byte, {})
        looped = flow.update_to_sections.get(byte, {})
        for n in sorted(set(table) | set(looped)):
            elems = table.get(n, set())
            if elems is not None and not element_push(elems, len(sections[n].dims)):
                elems = None
            if elems is None:
                secs.append(sections[n])  # push the whole section
                continue
            # only the elements the host wrote, and what host loops wrote (Flow._loop_written)
            parts = [Section(n, [(i, "1") for i in e]) for e in sorted(elems)] + looped.get(n, [])
            if not looped.get(n):
                secs.extend(parts)
                continue
            # A host loop wrote with the host copy current, so it is current at this push:
            # the hull of the parts may go, or else the whole section (one section per
            # array: clang-19 rejects two elements of one array in an update).
            joined = union_sections(parts, lang, fp.constants) if len(parts) > 1 else parts[0]
            if joined is not None and not _whole_object(n):
                # The parts come from the host's accesses, so they lie inside the array, but
                # the region maps only what its kernels touch: an update reaching past that
                # copies nothing at all (libomptarget skips a section not wholly present).
                # Over the loops around the update it must lie inside, or the region's goes.
                wide = _widen(fp, joined, byte, lo, lang)
                hull = union_sections([wide, sections[n]], lang, fp.constants) if wide is not None else None
                if hull is None or not same_section(hull, sections[n], lang):
                    joined = None
            secs.append(Section(n, joined.dims) if joined is not None else sections[n])
        updates.append(TargetUpdate(byte, _line(data, byte), "to", secs))
    if final_from:  # byte == the region's end: the rewriter puts it last inside the region
        updates.append(TargetUpdate(hi, _line(data, hi), "from", [sections[n] for n in final_from]))
    region = DataRegion(fp.fn.name, lo, hi, _line(data, lo), map_clauses(region_maps), updates, [k.nest_id for k in inside])
    strongest: dict[str, int] = {}  # name -> the greatest bound assumed (all are ``>=``)
    for a in assumptions:
        strongest[a.name] = max(strongest.get(a.name, a.bound), a.bound)
    region.assumptions = [Assumption(n, b) for n, b in sorted(strongest.items())]
    mapped = {sec.base for _, sec in region_maps}
    if site is not None:
        raise RegionRefused(f"host code may reach '{site[0]}' through another name (line {site[1]}: {site[2]})")
    return region, over, sorted(mapped & flow.scanner.containers)


def _widen(fp: FunctionPlan, sec: Section, kernel: int, lo: int, lang: Language,
           assumptions: list[Assumption] | None = None) -> Section | None:
    """``sec`` over every iteration of the loops that enclose the kernel at byte
    ``kernel`` and start at or after ``lo``: each dimension's least start and greatest
    end, when the bounds are linear in the loop variables.  None when not.  With
    ``assumptions`` (a list), a loop variable may multiply a name whose sign the loop
    proves where it runs: that the loop runs (``m >= 3``) is added to them, the region's
    run-time test (``sections.widen_over``)."""
    dims = []
    for start, length in sec.dims:
        a, n = linear_form(start, lang), linear_form(length, lang)
        if a is None or n is None:
            return None
        dims.append([a, {m: c for m, c in subtract(a, {m: -c for m, c in n.items()}).items()}])  # [lo, hi)
    node = hostaccess.statement_at(fp.fnode, kernel)
    n = node.parent if node is not None else None
    runs: list[dict] = []
    while n is not None and n.start_byte >= lo:
        if n.type in LOOP_TYPES:
            rng = loop_range(n, fp.data, lang)
            if rng is not None and not widen_over(dims, rng, runs if assumptions is not None else None):
                return None
        n = n.parent
    for span in runs:  # ``m - 3 >= 0``: one name, coefficient 1, is what a region's test says
        names = [m for m in span if m]
        if len(names) != 1 or len(names[0]) != 1 or span[names[0]] != 1:
            return None
        assumptions.append(Assumption(names[0][0], -span.get((), 0)))
    return Section(sec.base, [(render_form(a), render_form(subtract(b, a))) for a, b in dims])


def _idents_of(expr: str, lang: Language) -> set[str]:
    return hostaccess.expression_identifiers(expr, lang)


def _only_pointer_moves(fp: FunctionPlan, name: str, lo: int, hi: int) -> bool:
    """True when ``name`` changes in lo..hi only by plain ``name = other`` moves (the
    walk then checks that ``other`` is a tracked buffer)."""
    for n in all_nodes(fp.fnode):
        if n.end_byte <= lo or n.start_byte >= hi:
            continue
        if n.type == "assignment_expression":
            left = strip_parens(n.child_by_field_name("left"))
            if left is not None and left.type == "identifier" and text_of(fp.data, left) == name:
                if text_of(fp.data, n.child_by_field_name("operator")) != "=":
                    return False
        elif n.type == "update_expression":
            target = n.child_by_field_name("argument")
            if target is not None and target.type == "identifier" and text_of(fp.data, target) == name:
                return False
        elif n.type in ("init_declarator", "declaration", "parameter_declaration"):
            for d in n.children_by_field_name("declarator"):  # every one: double x[4], y[5];
                target = hostaccess.declared_name_node(d)
                if target is not None and text_of(fp.data, target) == name:
                    return False
        elif n.type == "pointer_expression" and text_of(fp.data, n)[:1] == "&":
            arg = strip_parens(n.child_by_field_name("argument"))
            if arg is not None and arg.type == "identifier" and text_of(fp.data, arg) == name:
                return False
    return True


def _line(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1
