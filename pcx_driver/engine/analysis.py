"""Analysis of one translation unit: which loop nests may run on the device, and how.

Entry point: ``analyse_unit(unit) -> UnitAnalysis``.

For every function, each outermost ``for`` loop is a candidate nest.  A candidate that is
provably parallel and mappable is reported OFFLOADED (with collapse, private,
firstprivate, reductions, array sections, atomic updates, called user functions and a
work estimate).  Otherwise it is reported SERIAL (or NOT_ANALYSED for macro, #if and
parse problems) with remarks that name the variable and line, and the loops directly
inside it become candidates in turn: that is how the kernels inside a time-step loop, or
inside LU's k loop, are found.  Every refusal carries a stable PCX id.

Soundness rules: a dependence is assumed unless isl proves there is none; a section is
computed from the loop bounds and, where that is not possible, from the declared extent,
else the nest is refused (PCX116); pointers are assumed to alias unless restrict,
distinct local allocations, or distinct at every call site in the unit (PCX104; decided in
engine/aliasing.py).

This module only runs the analyses per candidate and turns their answers into the
decision and its remarks; each question has its own module: the nest (``nest.py``),
affine forms and invariants (``affine.py``), legality of indices, bounds, calls and
hazards (``legality.py``, ``calls.py``), scalars (``scalars.py``), aliasing
(``aliasing.py``), iteration domains and subscript ranges (``ranges.py``), dependences
and collapse depth (``parallel.py``, ``dependence.py``), array sections (``extents.py``)
and the work estimate (``work.py``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from tree_sitter import Node

from pcx_driver.config import BUILTIN_OPTIONS
from pcx_driver.engine import callgraph, hostaccess
from pcx_driver.engine import scalars as scalar_mod
from pcx_driver.engine import work as work_mod
from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine.affine import AffineForms
from pcx_driver.engine.aliasing import AliasOracle
from pcx_driver.engine.calls import UserFunctions, user_object_code, user_object_sites
from pcx_driver.engine.dependence import loop_domain, nonneg_on
from pcx_driver.engine.extents import Extents
from pcx_driver.engine.legality import Legality, MultiRefusal, Refusal
from pcx_driver.engine.loops import Poly, c_int_literal
from pcx_driver.engine.macros import list_names, macro_problem
from pcx_driver.engine.nest import (Nest, build_nest, candidates, check_minimum_arms, enclosing_facts, innermost_in_band,
                                    perfect_depth)
from pcx_driver.engine.parallel import Parallelism
from pcx_driver.engine.pivot import pivot_relaxation
from pcx_driver.engine.privatise import covered_private_array, private_array, private_note
from pcx_driver.engine.ranges import AccessRanges
from pcx_driver.engine.scalar_reach import ScalarReach
from pcx_driver.engine.semantics import Decl, Semantics, unqualified
from pcx_driver.engine.source import FunctionInfo, SourceModel, strip_parens, walk
from pcx_driver.model import (
    ArrayAccessSummary,
    AtomicArray,
    Decision,
    FunctionAnalysis,
    NestAnalysis,
    MemberValue,
    StrideFact,
    PrivateArray,
    Remark,
    Section,
    SourceUnit,
    TypedNames,
    UnitAnalysis,
)

#: calls that start a thread of the program (by name or qualified name), and classes whose
#: construction does
THREAD_STARTS = frozenset({"pthread_create", "thrd_create", "std::async"})
THREAD_CLASSES = frozenset({"std::thread", "std::jthread"})
#: <fenv.h>'s functions that read the exception flags or set the rounding mode or the
#: environment: the host thread's, which a kernel's device threads neither raise nor follow
FENV_CALLS = frozenset({"fetestexcept", "fegetexceptflag", "fesetexceptflag", "feclearexcept", "feraiseexcept",
                        "fesetround", "fesetenv", "feholdexcept", "feupdateenv", "fegetenv",
                        "std::fetestexcept", "std::fesetround", "std::feclearexcept", "std::fesetenv",
                        "std::feholdexcept", "std::feupdateenv"})
#: flags that make floating-point exceptions or the rounding mode part of the program's meaning
FENV_FLAGS = ("-frounding-math", "-ftrapping-math", "-ffp-exception-behavior=strict",
              "-ffp-exception-behavior=maytrap", "-ffp-model=strict")
#: calls that install a signal handler (its function is one of their arguments), and the
#: members of ``struct sigaction`` that name one
SIGNAL_INSTALLERS = frozenset({"signal", "sigset", "bsd_signal", "sysv_signal"})
SIGNAL_MEMBERS = frozenset({"sa_handler", "sa_sigaction"})

#: refusal reasons reported per nest
MAX_REASONS = 4
#: nests whose estimated work is a known constant below this are kept serial (PCX115): the
#: default of the ``min-work`` setting, which also guards symbolic estimates at run time
MIN_WORK: float = next(o.default for o in BUILTIN_OPTIONS if o.name == "min-work")


#: refusals a user's ``parallel for`` may answer for under --pcx-trust-pragmas: a subscript
#: the dependence test cannot read (never a dependence it found, PCX101, nor anything about
#: the data: extents, aliasing, calls)
PRAGMA_ANSWERS = frozenset({"PCX102", "PCX103"})


def analyse_unit(unit: SourceUnit, min_work: float = MIN_WORK, trust_pragmas: bool = False) -> UnitAnalysis:
    """Analyse every loop nest of ``unit`` (see the module docstring); a nest whose work
    estimate is a constant below ``min_work`` is kept serial (PCX115).  With
    ``trust_pragmas``, a loop under the user's ``parallel for`` refused only for subscripts
    the analysis cannot test (PRAGMA_ANSWERS) is offloaded on the pragma's word (PCX129)."""
    return _UnitAnalyser(unit, min_work, trust_pragmas).run()


# ============================================================================ unit


def _runs_under(graph, roots) -> dict[str, str]:
    """Each function of ``roots`` (a signal handler, a destructor) and every function it
    calls, with the root it runs under (the first by name where several reach it)."""
    out: dict[str, str] = {}
    for root in sorted(roots):
        for f in graph.reachable({root}):
            out.setdefault(f, root)
    return out


class _UnitAnalyser:
    def __init__(self, unit: SourceUnit, min_work: float = MIN_WORK, trust_pragmas: bool = False):
        self.unit = unit
        self.min_work = min_work
        self.trust_pragmas = trust_pragmas
        self.model = SourceModel.parse(unit)
        self.sem = Semantics.build(unit)
        self.userfns = UserFunctions(self.model, self.sem)
        self.aliases = AliasOracle(self.model, self.sem)
        self.scalar_reach = ScalarReach(self.model, self.sem,
                                        strict_aliasing="-fno-strict-aliasing" not in self.model.unit.semantic_args)
        self.affine = AffineForms(self.model, self.sem)
        self.ranges = AccessRanges(self.model, self.affine)
        self.parallel = Parallelism(self.model, self.ranges)
        self.extents = Extents(self.model, self.affine, self.ranges)
        self.legality = Legality(self.model, self.sem, self.userfns, self.affine)
        self.result = UnitAnalysis(unit.path, unit.language)
        # _may_change's walks, once per loop body and per function (NPB SP: 5 s of 19)
        self._assigned_in_body: dict[tuple[int, int], set[str]] = {}
        self._addressed_in_function: dict[int, set[str]] = {}

    # ------------------------------------------------------------------ helpers
    def t(self, n: Node | None) -> str:
        return self.model.text(n)

    def line(self, n: Node | int) -> int:
        return self.model.line_col(n if isinstance(n, int) else n.start_byte)[0]

    def remark(self, rid: str, byte: int, message: str) -> Remark:
        line, col = self.model.line_col(byte)
        return Remark(rid, self.unit.path, line, col, message)

    @functools.cached_property
    def _thread_start(self) -> tuple[str, int] | None:
        """The first call in the unit that starts a thread (``pthread_create``, ``thrd_create``,
        ``std::thread``, ``std::async``), by name and line; None when there is none."""
        for (start, _), c in sorted(self.sem.calls.items()):
            if c.name in THREAD_STARTS and c.library or c.qualified in THREAD_STARTS or \
                    c.kind == "constructor" and c.parent_type.split("<")[0] in THREAD_CLASSES:
                return c.qualified or c.name, self.line(start)
        return None

    def _kernels_under_threads(self) -> list[tuple[str, str]]:
        """Where the file starts threads, its loops stay on the host.  A kernel copies back
        the whole section it maps: elements it did not write (a condition around the store,
        a member of a struct element) get the values they had at its start, over what
        another thread wrote meanwhile (a held-out check: lost updates of ``items[0].cnt``
        while the kernel wrote ``items[i].flag``); and kernels that several threads launch
        at once over overlapping sections make libomptarget abort ("explicit extension not
        allowed", another held-out check)."""
        start = self._thread_start
        if start is None and "-pthread" in self.unit.semantic_args:
            # (the threads may start in another file of the program and call this one's
            # functions at once: a held-out check whose two threads' kernels mapped
            # overlapping halos, and libomptarget aborted)
            return [("PCX146", "the program is built with -pthread: threads started in another file may call "
                               "this one's kernels at once, mapping overlapping sections or copying back over "
                               "another thread's writes")]
        if start is None:
            return []
        return [("PCX146", f"the file starts threads ('{start[0]}', line {start[1]}): kernels launched from "
                           "several threads may map overlapping sections or copy back over another thread's writes")]

    @functools.cached_property
    def _fenv_use(self) -> str | None:
        """What makes the floating-point environment part of the file's meaning: a call of
        ``FENV_CALLS`` (by name and line), ``#pragma STDC FENV_ACCESS ON``, or a flag of
        ``FENV_FLAGS``; None when nothing does."""
        for (start, _), c in sorted(self.sem.calls.items()):
            if (c.name in FENV_CALLS or c.qualified in FENV_CALLS) and (c.library or c.definition is None):
                return f"'{c.qualified or c.name}' at line {self.line(start)}"
        for n in walk(self.model.root):
            if n.type == "preproc_call" and "FENV_ACCESS" in self.model.text(n) and \
                    " ON" in " ".join(self.model.text(n).split()).upper():
                return f"'#pragma STDC FENV_ACCESS ON' at line {self.line(n.start_byte)}"
        flag = next((f for f in FENV_FLAGS if f in self.unit.semantic_args), None)
        return f"'{flag}'" if flag else None

    @functools.cached_property
    def _signal_handlers(self) -> dict[str, str]:
        """Functions that run inside a signal handler of the file: each handler (a
        function named in ``signal(SIG, f)`` or stored in ``act.sa_handler``) and every
        function it calls, each with the handler it runs under."""
        graph = callgraph.of(self.model.data, self.unit.language)
        handlers: set[str] = set()
        for site in graph.sites:
            if site.name in SIGNAL_INSTALLERS and site.arguments:
                handlers |= {a for a in site.arguments if a in graph.definitions}
        for n in walk(self.model.root):
            if n.type == "assignment_expression":
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                field = left.child_by_field_name("field") if left is not None and left.type == "field_expression" \
                    else None
                value = strip_parens(right)
                if value is not None and value.type == "pointer_expression":  # (``= &handler``)
                    value = strip_parens(value.child_by_field_name("argument"))
                if field is not None and self.model.text(field) in SIGNAL_MEMBERS and value is not None \
                        and self.model.text(value) in graph.definitions:
                    handlers.add(self.model.text(value))
        return _runs_under(graph, handlers)

    def _kernels_in_signal_handlers(self, fi: FunctionInfo) -> list[tuple[str, str]]:
        """A loop that runs inside a signal handler stays on the host: the handler runs
        where the signal finds the program, in the middle of host code that a data region
        around it thinks it alone touches (a held-out check: ``raise`` in a host loop ran
        the handler's kernel on the device copy, which the region's ``update to`` after
        the loop then overwrote), and offloading is no async-signal-safe operation."""
        handler = self._signal_handlers.get(fi.name.split("::")[-1])
        if handler is None:
            return []
        where = "is a signal handler" if handler == fi.name.split("::")[-1] else f"runs in signal handler '{handler}'"
        return [("PCX149", f"'{fi.name}' {where}: it runs wherever a signal interrupts the host code, which may "
                           "hold the data on the device")]

    @functools.cached_property
    def _destructor_functions(self) -> dict[str, str]:
        """Functions that run after ``main`` returns: each ``__attribute__((destructor))``
        (``[[gnu::destructor]]``) function of the file and every function it calls, each
        with the destructor it runs under."""
        data = self.model.data
        found: set[str] = set()
        for fi in self.model.functions():
            body = fi.node.child_by_field_name("body")
            head_end = body.start_byte if body is not None else fi.node.end_byte  # (attributes come before it)
            if b"destructor" in data[fi.node.start_byte:head_end] and any(
                    n.type in ("attribute_specifier", "attribute_declaration", "attribute")
                    and b"destructor" in data[n.start_byte:n.end_byte]
                    for n in walk(fi.node) if n.end_byte <= head_end):
                found.add(fi.name.split("::")[-1])
        for n in self.model.root.named_children:  # ``void fini(void) __attribute__((destructor));``
            if n.type == "declaration" and b"destructor" in self.model.data[n.start_byte:n.end_byte]:
                for d in n.children_by_field_name("declarator"):
                    while d is not None and d.type not in ("function_declarator", "identifier"):
                        d = d.child_by_field_name("declarator")
                    ident = d.child_by_field_name("declarator") if d is not None and d.type == "function_declarator" \
                        else None
                    if ident is not None and ident.type == "identifier":
                        found.add(self.model.text(ident))
        return _runs_under(callgraph.of(data, self.unit.language), found)

    def _kernels_in_destructors(self, fi: FunctionInfo) -> list[tuple[str, str]]:
        """A loop that runs after ``main`` returns stays on the host: the offload runtime
        shuts down in a destructor of its own, which may run first (a held-out check: a
        kernel in a destructor function crashed the program after main, its output lost)."""
        name = fi.name.split("::")[-1]
        dtor = self._destructor_functions.get(name)
        if dtor is None:
            return []
        where = "is a destructor function" if dtor == name else f"runs in destructor function '{dtor}'"
        return [("PCX150", f"'{fi.name}' {where}: it runs after main returns, when the offload runtime may "
                           "already be shut down")]

    def _kernels_under_fenv(self) -> list[tuple[str, str]]:
        """Where the file reads the floating-point exception flags or sets the rounding
        mode, its loops stay on the host: a kernel's device threads raise their own flags,
        which ``fetestexcept`` on the host never sees (a held-out check: a division by zero
        in the loop was reported serially, not offloaded), and a GPU does not follow the
        host's ``fesetround``."""
        use = self._fenv_use
        if use is None:
            return []
        return [("PCX148", f"the file uses the floating-point environment ({use}): a kernel's device threads "
                           "keep their own exception flags and rounding mode")]

    def _references_to_written_elements(self, fi: FunctionInfo, nest: Nest) -> list[tuple[str, str]]:
        """A scalar reference the nest reads (``double &r = v[0];``, a ``const double &x``
        parameter given ``v[0]``) may name an element the nest writes: each iteration
        reads the element as it is then, not one value (a held-out check).  Unless it is
        bound to a variable of its own or a temporary (``AliasOracle.reference_apart``)."""
        # (a restrict pointer's elements are reached through nothing else while it writes them)
        written = [a for a in nest.facts.arrays if a.write and a.decl is not None
                   and not (a.decl.shape == "pointer" and a.decl.restrict)]
        if not written:
            return []
        out, seen = [], set()
        for r in nest.facts.scalars:
            d = r.decl
            if d is None or not d.reference or d.shape != "scalar" or d.key in seen or r.write or \
                    d.key in nest.facts.local_keys or d.key in nest.facts.bindings:
                continue
            seen.add(d.key)
            same = [a for a in written if not (d.integral and a.decl.floating or d.floating and a.decl.integral)]
            if same and not self.aliases.reference_apart(fi, d):
                out.append(("PCX104", f"'{d.name}' is a reference that may name an element of '{same[0].base}', "
                                      "which the nest writes"))
        return out

    def _unstable_macro_sections(self) -> None:
        """An offloaded nest whose sections name a macro the unit redefines or ``#undef``s
        stays serial: the text may mean another value (or nothing) at the kernel."""
        unstable = hostaccess.unstable_macros(self.model.data, self.unit.language)
        if not unstable:
            return
        for n in self.result.nests():
            if n.decision is not Decision.OFFLOADED:
                continue
            named = set().union(*(hostaccess.expression_identifiers(x) for a in n.arrays
                                  for d in a.section.dims for x in d))
            bad = sorted(named & unstable)
            if bad:
                n.decision = Decision.SERIAL
                n.remarks = [Remark("PCX113", self.unit.path, n.line, n.column, (
                    f"a section of this nest is written with macro '{bad[0]}', which this file redefines or "
                    "#undefs: it may mean another value at the kernel; left alone"))]

    def _unread_top_level(self) -> None:
        """PCX016 for loops that the syntax reader did not place in any function: the
        compiler accepts the text (libclang found no error) but tree-sitter read it as
        stray statements (a macro that writes a function's header, an extension), so no
        stage would ever see those loops, and silence would hide that."""
        m = self.model
        # (a block at file scope is never C: a misread header, such as a K&R definition whose
        # parameters have a macro type, leaves its body so, with no error node at all)
        if not m.has_errors and not any(n.type == "compound_statement" for n in m.root.children):
            return
        for n in m.root.children:
            if n.type not in ("ERROR", "compound_statement", "expression_statement") and not (
                    n.has_error and n.type not in ("function_definition", "namespace_definition",
                                                   "linkage_specification", "template_declaration")):
                continue
            # (a loop the reader lost may be left as its keyword alone, even read as a name)
            loop = next((x for x in walk(n) if x.type in hostaccess.LOOP_TYPES
                         or x.child_count == 0 and self.t(x) in ("for", "while", "do")), None)
            if loop is None:
                continue
            first, last = self.line(n), self.line(max(n.start_byte, n.end_byte - 1))
            self.result.remarks.append(self.remark("PCX016", loop.start_byte, (
                f"the syntax reader did not read lines {first}-{last} as part of a function (a macro that hides "
                "C syntax?): the loops there are not analysed")))

    # ------------------------------------------------------------------ driver
    def run(self) -> UnitAnalysis:
        m, sem = self.model, self.sem
        if sem.has_errors or (not sem.available and m.has_errors):
            first = sem.error_messages[0] if sem.error_messages else "parse error"
            where = sem.first_error_offset or (m.error_ranges[0][0] if m.error_ranges else 0)
            self.result.remarks.append(self.remark("PCX004", where, f"source has syntax errors ({first}); not analysed"))
            return self.result
        self._unread_top_level()
        clash = directive_word_macros(sem.macro_defs)
        if clash:
            at = next((n.start_byte for n in walk(m.root) if n.type in ("preproc_def", "preproc_function_def")
                       and self.t(n.child_by_field_name("name")) == clash[0]), 0)
            self.result.remarks.append(self.remark("PCX017", at, (
                f"macro '{clash[0]}' is named like a word of the OpenMP directives pcx writes, which the "
                "preprocessor would rewrite; the file is compiled as written")))
            return self.result
        omp = m.omp_pragmas()
        port = self.unit.openmp  # the user's OpenMP pragmas, blanked in this text (engine/ompport.py)
        self._port = port if not omp else None
        if omp:
            self.result.remarks.append(self.remark(
                "PCX003", omp[0].start_byte, f"source already uses OpenMP (line {self.line(omp[0])}); left as it is"))
        for fi in m.functions():
            fa = FunctionAnalysis(fi.name, fi.node.start_byte, fi.node.end_byte)
            self.affine.function = fi
            body = fi.node.child_by_field_name("body")
            self._offloaded_groups: list[dict[str, list[ArrayRef]]] = []
            if body is not None:
                for cand in candidates(body):
                    if omp or port is not None:
                        self._omp_refusal(fa, fi, cand)
                    else:
                        self._analyse_candidate(fa, fi, cand)
            self._macro_loops(fa, fi)
            self._unread_loops(fa, fi)
            fa.alias_pairs = self.aliases.cross_nest_pairs(fi, self._offloaded_groups)
            fa.row_extents = self._row_extents(fi)
            fa.distinct_params = self.aliases.distinct_pairs(fi)
            self.result.functions.append(fa)
        if port is not None and not omp:
            from pcx_driver.engine.ompport import settle

            settle(self.result, port)
        self._unstable_macro_sections()
        for n in self.result.nests():
            for a in n.arrays if n.decision is Decision.OFFLOADED else ():
                for name in set().union(*(hostaccess.expression_identifiers(x) for d in a.section.dims for x in d)):
                    value = self.affine.macro_value(name) if name not in self.result.constants else None
                    if value is not None:
                        self.result.constants[name] = value
        self._device_functions()
        self.result.pure_macros = {name for name, (function_like, _) in sem.macro_defs.items()
                                   if function_like and macro_problem(name, sem) is None}
        self.result.identity_macros = {name for name in sem.macro_defs if _identity_macro(name, sem)}
        self.result.deref_macros = {name for name in self.result.identity_macros if _identity_macro(name, sem, deref=True)}
        self.result.typed_names = _typed_names(sem, self.model)
        self.result.writing_macros = _writing_macros(sem)
        self.result.reference_args = {start: refs for (start, _), refs in sem.reference_args.items()}
        self.result.reference_stores = dict(sem.stores_through_references)
        self.result.accessor_calls = {start: member.name for (start, _), member in sem.accessors.items()}
        self.result.macro_table = _macro_table(sem, self.model.data, self.unit.language,
                                               [n.work_expr for n in self.result.nests() if n.work_expr])
        if self._thread_start is not None:
            self.result.thread_start = "'%s', line %d" % self._thread_start
        self.result.object_code = [(b, f"a '{name}' is constructed" if made else f"'{name}' is destroyed")
                                   for b, made, name in user_object_sites(sem)]
        self.result.call_targets = sorted((s, e, c.definition[0], c.definition[1], c.name)
                                          for (s, e), c in sem.calls.items()
                                          if c.definition and not (c.kind == "constructor" and c.defaulted))
        self.result.foreign_functions = {c.name for c in sem.calls.values() if c.kind == "function"
                                         and c.definition is None and not c.defined_in and not c.library}
        return self.result

    def _row_extents(self, fi: FunctionInfo) -> dict[str, tuple[int | None, ...]]:
        """FunctionAnalysis.row_extents: the function's parameters and locals declared with
        two or more dimensions, and the constant extents of all but the first."""
        out: dict[str, tuple[int | None, ...]] = {}
        for byte, d in self.sem.decls_at.items():
            if not (fi.node.start_byte <= byte < fi.node.end_byte) or d.kind not in ("param", "local") \
                    or len(d.dims) < 2:
                continue
            rows = tuple(int(x) if x is not None and x.isdigit() else None for x in d.dims[1:])  # libclang's counts
            out[d.name] = rows if d.name not in out or out[d.name] == rows else tuple(None for _ in rows)
        return out

    def _write_section(self, nest, fi: FunctionInfo, refs: list, summary: ArrayAccessSummary) -> Section | None:
        """ArrayAccessSummary.write_section: the section of the writes alone, where some
        accesses only read (``A[i][j] -= A[i][k] * A[k][j]`` writes row i, reads rows < i)."""
        writes = [a for a in refs if a.write]
        if not writes or summary.container or any(a.whole for a in refs):
            return None
        if len(writes) == len(refs):
            return summary.section
        alone = self.extents.summary(nest, fi, writes, [])
        self.extents.take_notes()  # said once, of the whole section
        return alone.section if alone is not None else None

    def _device_functions(self) -> None:
        """The functions offloaded kernels call (``declare target``).  A kernel inside one
        of them would be a target construct inside a target region; it stays a loop there
        (PCX141), which can make others serial in turn."""
        for _ in range(16):
            offloaded = [n for n in self.result.nests() if n.decision is Decision.OFFLOADED]
            used = sorted({c for n in offloaded for c in n.calls})
            self.result.device_functions = self.userfns.closure(used)
            inside = [(n, name) for n in offloaded for name, (lo, hi) in self.result.device_functions.items()
                      if lo <= n.start_byte < hi]
            if not inside:
                return
            for n, name in inside:
                callers = sorted({k.line for k in offloaded if k is not n and name in self.userfns.closure(k.calls)})
                where = f" (line{'s' if len(callers) > 1 else ''} {', '.join(map(str, callers))})" if callers else ""
                n.decision = Decision.SERIAL
                n.remarks = [r for r in n.remarks if r.id not in ("PCX100", "PCX128", "PCX140", "PCX202")]
                n.remarks.append(Remark("PCX141", self.unit.path, n.line, n.column,
                                        f"loop in '{name}', which offloaded kernels call{where}: it runs inside them, "
                                        "on the device, not as a kernel of its own"))

    def _omp_refusal(self, fa: FunctionAnalysis, fi: FunctionInfo, cand: Node) -> None:
        port = getattr(self, "_port", None)
        if port is not None:
            # The user's pragmas are blanked in this text: a loop goes through the normal
            # analysis unless an OpenMP construct that stays on the CPU holds it, calls its
            # function, or sits inside it (then only the loops inside are analysed).
            from pcx_driver.engine.ompport import KEPT_CONSTRUCT, cpu_reason

            why = cpu_reason(port, fi.name, cand.start_byte, cand.end_byte)
            if why is None:
                self._analyse_candidate(fa, fi, cand)
                return
            fa.nests.append(self._nest_record(fi, cand, Decision.SERIAL,
                                              [self.remark(KEPT_CONSTRUCT, cand.start_byte, why[0])]))
            body = cand.child_by_field_name("body")
            if why[1] and body is not None:
                for inner in candidates(body):
                    self._omp_refusal(fa, fi, inner)
            return
        prev = cand.prev_named_sibling
        under = prev is not None and prev.type == "preproc_call" and "omp" in self.t(prev)
        rid = "PCX120" if under else "PCX003"
        msg = ("loop is already under an OpenMP directive" if under
               else "source already uses OpenMP directives; loop left as it is")
        fa.nests.append(self._nest_record(fi, cand, Decision.NOT_ANALYSED, [self.remark(rid, cand.start_byte, msg)]))

    def _unread_loops(self, fa: FunctionAnalysis, fi: FunctionInfo) -> None:
        """Loops clang compiles that the syntax tree does not read as loops get a remark of
        their own: ``UNROLL2 for (...)`` with ``#define UNROLL2 _Pragma("unroll 2")``
        reads as a declaration, and the loop was left serial with no word (a held-out
        check)."""
        mine = [off for off in self.sem.for_loops if fi.node.start_byte <= off < fi.node.end_byte]
        if not mine:
            return
        read = {n.start_byte for n in walk(fi.node) if n.type == "for_statement"}
        for off in sorted(set(mine) - read - {n.start_byte for n in fa.nests}):
            line, col = self.model.line_col(off)
            # the code before the loop on its line, or else the line before it
            lines = self.model.data[:off].rsplit(b"\n", 2)
            what = next((t for t in (x.decode("utf-8", "replace").strip() for x in reversed(lines[-2:])) if t), "")
            why = (f"the syntax tree does not read this loop as one (after '{what}', a macro such as a _Pragma "
                   "reads as part of the statement)" if what else "the syntax tree does not read this loop as one")
            fa.nests.append(NestAnalysis(
                nest_id=self._nest_id(fi.name, line, col), function=fi.name, line=line, column=col, start_byte=off,
                end_byte=off, depth=0, decision=Decision.NOT_ANALYSED,
                remarks=[self.remark("PCX114", off, f"{why}; left alone")]))

    def _macro_loops(self, fa: FunctionAnalysis, fi: FunctionInfo) -> None:
        seen = set()
        for off in self.sem.macro_loops:
            if not (fi.node.start_byte <= off < fi.node.end_byte) or off in seen:
                continue
            seen.add(off)
            node = self.model.root.descendant_for_byte_range(off, off)
            while node is not None and node.parent is not None and node.parent.type not in ("compound_statement",):
                node = node.parent
            end = node.end_byte if node is not None else off
            mu = self.sem.macro_at(off)
            name = mu.name if mu is not None else "a macro"
            line, col = self.model.line_col(off)
            fa.nests.append(NestAnalysis(
                nest_id=self._nest_id(fi.name, line, col), function=fi.name, line=line, column=col, start_byte=off, end_byte=end,
                depth=0, decision=Decision.NOT_ANALYSED,
                remarks=[self.remark("PCX113", off, f"loop comes from the expansion of macro '{name}'; left alone")],
            ))

    def _nest_id(self, function: str, line: int, col: int) -> str:
        """"<function>:<line>", with ":<column>" added when two nests start on one line."""
        used = self.__dict__.setdefault("_ids", set())
        nid = f"{function}:{line}"
        if nid in used:
            nid = f"{function}:{line}:{col}"
        used.add(nid)
        return nid

    def _nest_record(self, fi: FunctionInfo, node: Node, decision: Decision, remarks: list[Remark],
                     depth: int = 1) -> NestAnalysis:
        line, col = self.model.line_col(node.start_byte)
        return NestAnalysis(
            nest_id=self._nest_id(fi.name, line, col), function=fi.name, line=line, column=col, start_byte=node.start_byte,
            end_byte=node.end_byte, depth=depth, decision=decision, remarks=remarks,
        )

    def _analyse_candidate(self, fa: FunctionAnalysis, fi: FunctionInfo, node: Node) -> None:
        try:
            nest = self._analyse_nest(fi, node)
            fa.nests.append(nest)
            return
        except Refusal as r:
            fa.nests.append(self._nest_record(fi, node, r.decision, [self.remark(r.rid, node.start_byte, r.message)]))
            recurse = r.recurse
        except MultiRefusal as mr:
            # the first reasons, one per distinct message, are enough to act on
            fa.nests.append(self._nest_record(
                fi, node, mr.decision, [self.remark(rid, node.start_byte, msg) for rid, msg in mr.reasons[:MAX_REASONS]]))
            recurse = mr.recurse
        except Exception as exc:  # an analysis bug must cost one nest, never the compile
            fa.nests.append(self._nest_record(fi, node, Decision.NOT_ANALYSED, [self.remark(
                "PCX122", node.start_byte, f"loop nest not analysed: internal analysis error ({type(exc).__name__}: {exc})")]))
            recurse = True
        if recurse:
            body = node.child_by_field_name("body")
            if body is not None:
                for cand in candidates(body):
                    self._analyse_candidate(fa, fi, cand)

    # ================================================================== one nest
    def _analyse_nest(self, fi: FunctionInfo, node: Node) -> NestAnalysis:
        m, sem = self.model, self.sem
        if node.type == "for_range_loop":
            raise Refusal("PCX110", "range-based for loop is not in canonical form (init; index < bound; index += step)")
        if not sem.available:
            raise Refusal("PCX122", f"semantic analysis unavailable ({sem.error}); loop not analysed",
                          Decision.NOT_ANALYSED, recurse=False)
        if node.start_byte not in sem.for_loops:
            if m.in_preproc_conditional(node):
                raise Refusal("PCX114", "loop is in a preprocessor branch that is not compiled; left alone",
                              Decision.NOT_ANALYSED, recurse=False)
            raise Refusal("PCX113", "loop is not compiled as written (macro expansion); left alone",
                          Decision.NOT_ANALYSED, recurse=False)
        if m.has_error_in(node.start_byte, node.end_byte):
            raise Refusal("PCX122", "the parser did not understand part of this loop (a macro?); not analysed",
                          Decision.NOT_ANALYSED)
        if m.contains_preproc(node):
            raise Refusal("PCX114", "preprocessor directive inside the loop nest; left alone", Decision.NOT_ANALYSED)
        hint = m.loop_hint_before(node)
        if hint is not None:
            # the hint must be followed by its loop, and an OpenMP loop directive too: no order
            # of the two compiles (clang: "expected a for ... to follow '#pragma unroll'")
            raise Refusal("PCX114", f"'{m.text(hint).strip()}' (line {self.line(hint.start_byte)}) belongs to this "
                          "loop, and no directive can go between it and the loop; its inner loops are analysed")
        uses = [mu for mu in sem.macros_in(node.start_byte, node.end_byte) if mu.function_like]
        if uses:
            # the names a macro's list reads where it is used are reads the nest's walk does
            # not see (``IN(i, 2)`` of ``#define IN(i,j) in[(i)+(j)*n]`` reads ``n``): a nest
            # that assigns one could carry its value between iterations unseen (a held-out
            # check: ``x[i] = IN(i, 2); n = i % 50;`` ran with a private ``n``)
            written = hostaccess.assigned_and_declared(node, m.data, node.start_byte, node.end_byte)
            reached = hostaccess.macro_names(m.data, m.unit.language)
            for mu in uses:
                hit = sorted(list_names(mu.name, mu.body, mu.params, sem, reached) & written)
                if hit:
                    raise Refusal("PCX113", f"function-like macro '{mu.name}' (line {self.line(mu.start)}) reads "
                                  f"'{hit[0]}', which the loop nest assigns; left alone", Decision.NOT_ANALYSED)
        for mu in uses:
            # a macro whose expansion is an expression over its arguments is analysed through its
            # arguments (engine/macros.py); any other is refused here, whatever the walk later sees
            # (the names its list reads are scalars the nest never assigns: checked above)
            why = self.affine.macro_use_problem(mu, access=True, unwritten=True)
            if why is not None:
                raise Refusal("PCX113", f"function-like macro '{mu.name}' (line {self.line(mu.start)}) cannot be "
                              f"analysed through: {why}; left alone", Decision.NOT_ANALYSED)
        qualifier = next((m.text(c) for c in fi.node.children
                          if c.type == "type_qualifier" and m.text(c) in ("constexpr", "consteval")), None)
        if qualifier is not None:
            # (clang: "statement not allowed in constexpr function"; the whole file fell back)
            raise Refusal("PCX122", f"loop in a {qualifier} function, which may hold no OpenMP directive",
                          recurse=False)
        if fi.is_template:
            self.legality.template(fi)

        nest = build_nest(node, self.model, self.sem, self.affine.poly, self.affine.int_constant,
                          self.affine.min_arms)
        strides = self._whole_steps(nest, node)
        nest.context = enclosing_facts(nest, fi.node.child_by_field_name("body") or fi.node, m.text, self.affine.poly,
                                       lambda loop, name: self._may_change(fi, loop, name))
        check_minimum_arms(nest, lambda arm, loops: nonneg_on(
            arm, [loop_domain(loops, nest.context)], nest.values))
        root = nest.root
        if root.problem is not None:
            raise Refusal(*root.problem)
        reasons: list[tuple[str, str]] = []
        self.legality.hazards(nest, reasons)
        self.legality.indices_and_bounds(nest, reasons)
        exits: list[tuple[int, int]] = []
        calls = self.legality.calls(nest, reasons, exits)
        hidden = user_object_code(sem, node.start_byte, node.end_byte, m.line_col)
        if hidden is not None:
            reasons.append(("PCX105", f"the loop {hidden}"))
        reasons.extend(_members_written_elsewhere(nest, lambda root, written: self.aliases.member_root_apart(
            fi, root, written)))
        reasons.extend(self.scalar_reach.reached_scalars(nest.facts, fi.node.child_by_field_name("body") or fi.node,
                                                         lambda decl: self.aliases.origin(decl, fi.node)))
        reasons.extend(_wide_floats(nest))
        reasons.extend(_unmappable_arrays(nest))
        reasons.extend(_aliased_globals(sem.aliased_globals))
        if reasons:
            raise MultiRefusal(reasons)
        fn_body = fi.node.child_by_field_name("body")
        index_outside = {k for k in nest.index_key_set if k not in nest.facts.local_keys}
        sv = scalar_mod.classify(nest.facts, node, m, sem, fn_body, index_outside, nest.root_key,
                                 instantiations=self.legality.instantiations.get(fi.node.id),
                                 pure_calls=self.legality.pure_calls(nest))
        sv.problems.extend(self._references_to_written_elements(fi, nest))
        start = root.bound_nodes[0] if root.bound_nodes else None
        if sv.lastprivate and (root.init is None or start is None or any(
                x.type in ("call_expression", "assignment_expression", "update_expression") for x in walk(start))):
            sv.problems.append(("PCX112", f"loop index '{root.index}' is used after the loop, and its start "
                                          f"'{m.text(start) if start is not None else '?'}' is no plain value to "
                                          "give it where the loop runs no iteration"))
        if sv.problems:
            raise MultiRefusal(sv.problems)
        versioned: list[tuple[str, str, bool]] = []  # (pointer, pointer, either written)
        privates: list[PrivateArray] = []
        pivots: list[str] = []
        arrays, atomics, atomic_arrays, notes, groups = self._check_arrays(nest, fi, reasons, versioned, privates, pivots)
        self._user_minmax(node, sv)
        reasons.extend(_restarts_rerun(sv, arrays, atomics, privates))
        reasons.extend(self._kernels_under_threads())
        reasons.extend(self._kernels_under_fenv())
        reasons.extend(self._kernels_in_signal_handlers(fi))
        reasons.extend(self._kernels_in_destructors(fi))
        claim = self._pragma_claim(node, reasons)
        if claim:
            answered, reasons = reasons, []
        if reasons:
            raise MultiRefusal(reasons)
        rows = self._row_tests(nest, node)  # (what _check_arrays' dependence tests assumed)
        collapse = self.parallel.collapse(nest)
        innermost = innermost_in_band(root, collapse)
        work, total, all_const, shown, work_expr, guessed = work_mod.estimate(nest)
        if all_const and work < self.min_work:
            raise Refusal("PCX115", f"estimated work {work:.3g} ({shown}; {total} iterations in total) is below "
                          f"--pcx-min-work={self.min_work:g}; too little work to pay for an offload", recurse=False)
        capped = None if all_const else self._capped_work(nest)
        if capped is not None and capped[0] < self.min_work:
            raise Refusal("PCX115", f"estimated work at most {capped[0]:.3g} ({capped[1]}) is below "
                          f"--pcx-min-work={self.min_work:g}; too little work to pay for an offload", recurse=False)
        line, col = m.line_col(node.start_byte)
        result = NestAnalysis(
            nest_id=self._nest_id(fi.name, line, col), function=fi.name, line=line, column=col, start_byte=node.start_byte,
            end_byte=node.end_byte, depth=perfect_depth(root), decision=Decision.OFFLOADED, collapse=collapse,
            innermost_depth=innermost,
            private=sv.private, firstprivate=[v for v in sv.firstprivate if not self._is_index_name(nest, v)],
            reductions=sv.reductions, arrays=arrays, atomic_updates=atomics, atomic_arrays=atomic_arrays, calls=calls, work_estimate=work,
            work_expr=work_expr, alias_checks=[(a, b) for a, b, _ in versioned],
            alias_reads=[(a, b) for a, b, written in versioned if not written], pragma_claim=claim,
            private_arrays=privates, pivot_test=" && ".join(f"({t})" for t in pivots) if len(pivots) > 1 else "".join(pivots),
            lastprivate=sv.lastprivate, lastprivate_init=m.text(start) if sv.lastprivate and start is not None else "",
            member_values=_member_values(nest.facts.member_values, m) + _container_sizes(arrays, node, m), stride_facts=strides, row_tests=rows,
            exits=exits,
        )
        self._offloaded_groups.append(groups)
        clauses = []
        if collapse > 1:
            clauses.append(f"collapse({collapse})")
        clauses += [f"reduction({r.op}:{r.variable})" for r in sv.reductions]
        if sv.private:
            clauses.append("private(" + ", ".join(sv.private) + ")")
        summary = "loop nest offloaded to the device" + (": " + " ".join(clauses) if clauses else "")
        guess = f", a trip count not known counted as {work_mod.UNKNOWN_TRIP}" if guessed else ""
        if work_expr:
            summary += f"; estimated work {shown}{guess}"
        elif all_const:
            summary += f"; estimated work {work:.3g} ({shown}), at least --pcx-min-work={self.min_work:g}"
        else:
            summary += f"; estimated work {work:.3g} ({shown}{guess})"
        if exits:
            first = m.data[exits[0][0]:exits[0][1]].decode("utf-8", "surrogateescape")
            summary += (f"; an iteration that reaches '{first.strip()}' (line {self.line(exits[0][0])}) ends there, "
                        "and the program leaves after the kernel")
        restarting = next((r for r in sv.reductions if r.restarts or r.zero_sign), None)
        if restarting is not None and restarting.restarts:
            summary += (f"; '{restarting.variable}' takes the element where the comparison fails, so the loop runs "
                        "again as written where a partial value is NaN or the result is 0 or infinite")
        elif restarting is not None:
            summary += (f"; the loop runs again as written where '{restarting.variable}' ends at 0 (of +0 and -0 "
                        "it keeps the one its order picks) or at an infinity")
        result.remarks.append(self.remark("PCX100", node.start_byte, summary))
        for rid, msg in notes:
            result.remarks.append(self.remark(rid, node.start_byte, msg))
        for f in strides:
            result.remarks.append(self.remark("PCX202", node.start_byte, (
                f"the last index of strided loop '{f.index}' (line {f.line}) is taken as {f.last}, where its range is "
                f"a whole number of steps ({f.test}): tested at run time, the loop runs as written where it is not")))
        if rows:
            result.remarks.append(self.remark("PCX147", node.start_byte, (
                f"flattened subscripts split into rows that lie apart where {' && '.join(rows)}: tested at run "
                "time, the loop runs as written where it is not")))
        if claim:
            result.remarks.append(self.remark("PCX129", node.start_byte, (
                f"offloaded on the word of the OpenMP pragma at line {claim} (--pcx-trust-pragmas): pcx cannot test "
                f"{'; '.join(msg for _, msg in answered[:MAX_REASONS])}; the pragma says the iterations are "
                "independent (pcx tune's gate checks the result)")))
        if versioned:
            pairs = ", ".join(f"'{a}' and '{b}'" for a, b, _ in versioned)
            result.remarks.append(self.remark(
                "PCX128", node.start_byte, f"{pairs} may point into one array (not provably distinct allocations, "
                "and restrict, where given, does not keep apart what a pair only reads or the hull of strided "
                "accesses): the loop is versioned at run time, on the device when their address ranges are "
                "disjoint" + (" (or, for a pair only read, the same)" if any(not w for _, _, w in versioned) else "")
                + ", as written otherwise"))
        return result

    def _row_tests(self, nest, node: Node) -> list[str]:
        """C tests of what the split of flattened subscripts into rows rests on
        (``Nest.row_facts``), each operand widened to ``long`` (a ``size_t`` pitch less
        an ``int`` width would wrap and always pass).  Evaluated before the nest, so the
        names they read may be neither assigned nor declared in it: a Refusal otherwise."""
        if not nest.row_facts:
            return []
        written = hostaccess.assigned_and_declared(node, self.model.data, node.start_byte, node.end_byte)

        def wide(symbol: str) -> str:
            return f"(long)({nest.rendered(symbol)})"

        tests = []
        for f in nest.row_facts:
            hit = sorted(s for s in f.symbols() if s in written or s in nest.index_keys)
            if hit:
                raise Refusal("PCX103", f"flattened subscripts split into rows only where {f.render()} >= 0, which "
                              f"reads '{hit[0]}', assigned or declared in the loop nest; not tested at run time")
            more = Poly({t: c for t, c in f.terms.items() if c > 0})
            less = Poly({t: -c for t, c in f.terms.items() if c < 0})
            tests.append(f"{more.render(wide)} >= {less.render(wide)}")
        return tests

    def _whole_steps(self, nest, node: Node) -> list[StrideFact]:
        """The strided loops of ``nest`` whose last index is not known (``Loop.inexact``)
        and whose sections could reach past the elements they touch for it
        (``Legality.overreaching``: ``b[i + j]`` under ``i < n; i += 256``): each takes its
        last index where the range is a whole number of steps (``Loop.whole_last``), which
        the kernel tests before it runs; so only where the start and the bound read no
        index of the nest and nothing the nest declares or assigns (the test is evaluated
        before the nest, with the values the loop then starts from)."""
        out: list[StrideFact] = []
        written = None
        for lp in nest.loops:
            if not lp.inexact or lp.whole_last is None or lp.problem is not None or \
                    self.legality.overreaching(nest, lp) is None:
                continue
            if written is None:
                written = hostaccess.assigned_and_declared(node, self.model.data, node.start_byte, node.end_byte)
            indices = {x.index for x in nest.loops}
            names = [x for b in lp.bound_nodes for x in walk(b) if x.type == "identifier"]
            if any(self.model.text(x) in indices or self.model.text(x) in written for x in names):
                continue
            if any(d is not None and d.decl_offset is not None and node.start_byte <= d.decl_offset < node.end_byte
                   for d in (self.sem.decl_of(x.start_byte) for x in names)):
                continue
            if lp.step > 0:
                lp.high = lp.whole_last
            else:
                lp.low = lp.whole_last
            lp.inexact = False
            out.append(StrideFact(lp.index, self.line(lp.node.start_byte), lp.whole_last.render(nest.rendered),
                                  lp.whole_test))
        return out

    def _user_minmax(self, node: Node, sv: scalar_mod.ScalarVerdict) -> None:
        """A minimum or maximum the user's own ``parallel for`` over ``node`` reduces
        (``reduction(min: m)``) needs no check of a zero's sign (``Reduction.zero_sign``):
        the program as written already combines it in any order."""
        port = getattr(self, "_port", None)
        user = next((p for p in port.candidates() if p.loop == node.start_byte), None) if port is not None else None
        if user is None:
            return
        sv.reductions = [dataclasses.replace(r, zero_sign=False) if r.zero_sign and user.reductions.get(r.variable) == r.op
                         else r for r in sv.reductions]

    def _pragma_claim(self, node: Node, reasons: list[tuple[str, str]]) -> int:
        """The line of the user's ``parallel for`` over ``node`` that answers every one of
        ``reasons`` (PRAGMA_ANSWERS) when pragmas are trusted; 0 otherwise."""
        port = getattr(self, "_port", None)
        if not (reasons and self.trust_pragmas and port is not None):
            return 0
        if any(rid not in PRAGMA_ANSWERS for rid, _ in reasons):
            return 0
        for p in port.candidates():
            if p.loop == node.start_byte and not p.kernel and p.group is None:
                return p.line
        return 0

    def _may_change(self, fi: FunctionInfo, loop, name: str) -> bool:
        """Whether ``name``, read in the header of ``loop`` (a serial loop around a nest), may
        change while the loop's body runs: assigned or declared in the body, not a local or
        parameter (a call could change a global), or its address taken in the function."""
        body = loop.child_by_field_name("body")
        if body is None:
            return True
        key = (body.start_byte, body.end_byte)
        if key not in self._assigned_in_body:  # (asked for every name of every loop around every nest)
            self._assigned_in_body[key] = hostaccess.assigned_and_declared(body, self.model.data, body.start_byte,
                                                                           body.end_byte)
        if name in self._assigned_in_body[key]:
            return True
        header = [x for part in loop.children if part.id != body.id for x in walk(part)
                  if x.type == "identifier" and self.model.text(x) == name]
        for x in header:
            d = self.sem.decl_of(x.start_byte) or self.sem.decl_declared_at(x.start_byte)
            if d is None:
                if self.sem.macro_at(x.start_byte) is None:
                    return True
            elif d.kind not in ("local", "param") and not (d.const and d.shape == "scalar") and d.kind != "enum":
                return True
        if fi.node.start_byte not in self._addressed_in_function:
            self._addressed_in_function[fi.node.start_byte] = {
                self.model.text(arg).strip("() ") for x in walk(fi.node)
                if x.type == "pointer_expression" and self.model.text(x)[:1] == "&"
                and (arg := x.child_by_field_name("argument")) is not None}
        return name in self._addressed_in_function[fi.node.start_byte]

    def _capped_work(self, nest: Nest) -> tuple[float, str] | None:
        """The work estimate with each trip count's bounded names at their bounds (a tile
        loop ``i < tile_count``, ``tile_count = std::min(TILE_WIDTH, n - base)``: at most
        ``TILE_WIDTH`` iterations), when that makes it a constant: (work, the bounds used).
        Only names a trip count grows with are capped (a bound on ``m`` in ``n - m`` would
        give a lower trip count, not a higher one)."""
        bounds: dict[str, int] = {}
        for lp in nest.loops:
            tc = lp.trip_count()
            if tc is None:
                return None
            for node in lp.bound_nodes:
                for x in walk(node):
                    if x.type != "identifier":
                        continue
                    d = self.sem.decl_of(x.start_byte)
                    b = self.affine.upper_bound(d) if d is not None and d.kind == "local" else None
                    name = self.t(x)
                    if b is None or name not in tc.symbols():
                        continue
                    c = tc.coeff_of(name)
                    if tc.degree_in([name]) != 1 or not c.is_const or c.const_value < 0:
                        return None
                    bounds[name] = b
        if not bounds:
            return None
        saved = {k: nest.values[k] for k in bounds if k in nest.values}
        nest.values.update(bounds)
        try:
            work, _, all_const, _, _, _ = work_mod.estimate(nest)
        finally:
            for k in bounds:
                nest.values.pop(k, None)
            nest.values.update(saved)
        if not all_const:
            return None
        return work, ", ".join(f"{k} <= {v}" for k, v in sorted(bounds.items()))

    def _is_index_name(self, nest: Nest, name: str) -> bool:
        return name in nest.index_keys

    # ------------------------------------------------------------------ arrays
    def _declared_elements(self, a: ArrayRef) -> int | None:
        """Elements of the array ``a`` refers to, where its declaration gives every extent
        as a constant (``double y[N]``, N a macro); None otherwise."""
        if a.decl is None or a.decl.shape != "array" or not a.decl.dims:
            return None
        total = 1
        for d in a.decl.dims:
            value = None if d is None else c_int_literal(d.strip())
            if value is None and d is not None and d.strip().isidentifier():
                value = self.affine.macro_value(d.strip())
            if value is None or value <= 0:
                return None
            total *= value
        return total

    def _check_arrays(self, nest: Nest, fi: FunctionInfo, reasons: list[tuple[str, str]],
                      versioned: list[tuple[str, str, bool]], privates: list[PrivateArray], pivots: list[str]):
        facts = nest.facts
        groups: dict[str, list[ArrayRef]] = {}
        for a in facts.arrays:
            if a.decl is not None and a.decl.key in facts.local_keys and not a.member:
                continue  # an array declared inside the nest is private to the iteration
            key = (a.root_decl.key if a.root_decl else a.root) + ("." + a.base.split(".")[-1].split(">")[-1] if a.member else "")
            groups.setdefault(key, []).append(a)
        # subscripts as polynomials
        for refs in groups.values():
            for a in refs:
                with facts.bound(a.bindings):
                    if a.window:  # a helper's window: its offset plus the window's own index
                        off = self.affine.poly(a.window_offset, nest) if a.window_offset is not None else Poly.const(0)
                        a.polys = [None if off is None else off + Poly.sym(a.window)]
                        continue
                    a.polys = [self.affine.access_macro_poly(a, nest)] if a.index_macro is not None else \
                        [None if a.whole else self.affine.poly(s, nest) for s in a.subs]
                    if a.offset is not None:  # through a view ``row = A + e`` (access/views.py)
                        off = self.affine.poly(a.offset, nest)
                        a.polys[-1] = None if off is None or a.polys[-1] is None else off + a.polys[-1]
        self.aliases.check_nest(groups, fi, reasons, versioned)
        atomics: list[tuple[int, int]] = []
        atomic_arrays: list[AtomicArray] = []
        notes: list[tuple[str, str]] = []
        summaries: list[ArrayAccessSummary] = []
        for key, refs in groups.items():
            carried: list[tuple[str, str]] = []
            atomic = self.parallel.check_root(nest, refs, carried)
            pivot = pivot_relaxation(nest, refs, self.model.text) if carried and not atomic else None
            if pivot is not None:  # stores that change nothing while the test holds
                pivots.append(pivot)
                nest.pivot_arrays.add(refs[0].base)
                notes.append(("PCX142", f"'{refs[0].base}' is relaxed through a pivot (min-plus, line "
                              f"{self.line(refs[0].node)}): the loops are parallel while {pivot}, tested on the "
                              "device before each launch; the loop runs as written where it fails"))
            elif carried and not atomic:
                private = None
                # (``#define SCRATCH d3`` then ``p = SCRATCH;``: another name for the shared
                # array, which no walk of the text sees)
                if refs[0].decl is None or refs[0].decl.key not in self.sem.named_in_macro_lists():
                    private, _ = private_array(nest, refs, self.model)
                    if private is None:
                        private, _ = covered_private_array(nest, refs, self.model, self.ranges,
                                                           fi.node.child_by_field_name("body") or fi.node)
                if private is None:
                    reasons.extend(carried)
                else:  # each iteration has its own copy: the dependence is gone
                    privates.append(private)
                    nest.private_arrays.add(private.name)
                    notes.append(("PCX140", private_note(private, nest, self.line)))
                    if not private.copy:
                        continue  # the kernel names only its copy: nothing of the array to map
            if atomic:
                updates = sorted({(a.stmt.start_byte, a.stmt.end_byte) for a in refs if a.stmt is not None})
                atomics.extend(u for u in updates if u not in atomics)
                op = self.parallel.histogram_operator(refs)
                decl = refs[0].decl
                if decl is not None and decl.element_type in ("_Bool", "bool") and op in ("+", "*", "^"):
                    # each update makes the element 0 or 1 again: not an operation whose updates
                    # may come in any order (clang-19's offload link also failed on it)
                    reasons.append(("PCX117", f"'{refs[0].base}' is an array of bool updated with '{op}=': each "
                                              "update makes an element 0 or 1, so they cannot come in any order"))
                    continue
                if op:
                    atomic_arrays.append(AtomicArray(refs[0].base, op, updates, self._declared_elements(refs[0]),
                                                     local=decl is not None and decl.kind in ("param", "local")))
                notes.append(("PCX117", f"update of '{refs[0].base}' made atomic (histogram idiom, line "
                              f"{self.line(refs[0].node)})"))
            summary = self.extents.summary(nest, fi, refs, reasons)
            if summary is not None:
                summaries.append(summary)
                notes.extend(self.extents.take_notes())
                summary.write_section = self._write_section(nest, fi, refs, summary)
        return summaries, sorted(atomics), atomic_arrays, notes, groups


def _writing_macros(sem: Semantics) -> set[str]:
    """UnitAnalysis.writing_macros: the main file's macros whose replacement list assigns,
    increments, takes an address or holds inline assembly, and those that name one."""
    from pcx_driver.engine.macros import WRITE_TOKENS

    storing = WRITE_TOKENS | {"&", "asm", "__asm__", "__asm"}
    defs = {n: set(body) for n, (_, body) in sem.macro_defs.items()}
    return callgraph.reaching_closure({n for n, toks in defs.items() if toks & storing}, defs)


def _macro_table(sem: Semantics, data: bytes, language: Language,
                 expressions: list[str]) -> dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]]:
    """UnitAnalysis.macro_table: the macros the file's loop headers and the nests' work
    estimates name (the bounds the engine's own expressions are made of), the function-like
    macros an assignment stores through (``IN(i,j) = ...``, for the plan checker's
    ``coverage``), and those their replacement lists name, transitively (``_PB_N`` and the header's
    ``POLYBENCH_LOOP_BOUND`` it expands through); none the file redefines
    (``sem.unstable_macros``).  Only names the main file defines or names start it: looking
    up a header's macro walks the whole unit's top level (``Semantics.any_macro``), which
    a file whose bounds name no macro never pays."""
    from pcx_driver.engine.source import nodes_of_type

    seeds: set[str] = set()
    for loop in nodes_of_type(data, language, "for_statement"):
        for part in ("initializer", "condition", "update"):
            node = loop.child_by_field_name(part)
            if node is not None:
                seeds |= hostaccess.identifiers_in(node, data)
    for e in expressions:
        seeds |= hostaccess.expression_identifiers(e, language)
    for store in nodes_of_type(data, language, "assignment_expression"):
        left = store.child_by_field_name("left")
        while left is not None and left.type in ("parenthesized_expression", "field_expression") and left.named_children:
            left = left.named_children[0]
        fn = left.child_by_field_name("function") if left is not None and left.type == "call_expression" else None
        if fn is not None and fn.type == "identifier":
            seeds.add(hostaccess.text_of(data, fn))  # ``IN(i,j) = ...``: the plan checker reads its expansion
    table: dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]] = {}
    todo = [n for n in seeds if n in sem.macro_defs and n not in sem.unstable_macros]
    while todo and len(table) < 4096:
        name = todo.pop()
        if name in table or name in sem.unstable_macros:
            continue
        found = sem.any_macro(name)
        if found is None:
            continue
        function_like, body, params = found
        table[name] = (function_like, tuple(body), tuple(params))
        todo.extend(t for t in body if t not in table and t not in params and (t[:1].isalpha() or t[:1] == "_"))
    return table


def _identity_macro(name: str, sem: Semantics, deref: bool = False) -> bool:
    """A function-like macro of one parameter whose replacement is it or ``*`` it, in
    parentheses or not (PolyBench's ``POLYBENCH_ARRAY(x)``); with ``deref``, ``*`` it only."""
    found = sem.any_macro(name)
    if found is None or not found[0] or len(found[2]) != 1:
        return False
    body = [t for t in found[1] if t not in ("(", ")")]
    return body == ["*", found[2][0]] if deref else body in ([found[2][0]], ["*", found[2][0]])


def _member_values(reads: list, m) -> list[MemberValue]:
    """The nest's scalar member reads through pointers or references, one ``MemberValue``
    per expression with every occurrence; its guard holds where any occurrence is read."""
    out: dict[str, MemberValue] = {}
    for node, member, guard, _, _ in reads:
        text = " ".join(m.text(node).split())
        mv = out.setdefault(text, MemberValue(text, unqualified(member.type_spelling)))
        mv.ranges.append((node.start_byte, node.end_byte))
        if guard not in mv.guards:
            mv.guards.append(guard)
    return list(out.values())


def _container_sizes(arrays: list, node: Node, m) -> list[MemberValue]:
    """``v.size()`` of a container the kernel maps through a local pointer, read in the nest
    (``i < v.size()``), as a value taken before the kernel, like a member: the kernel
    would otherwise capture the container object itself, which OpenMP cannot map (clang:
    "not trivially copyable and not guaranteed to be mapped correctly", an error under
    ``-Werror``).  The nest does not resize what it maps, so the value is the one before."""
    names = {a.name for a in arrays if a.container and a.section.base == a.name}
    out: dict[str, MemberValue] = {}
    for call in walk(node):
        if call.type != "call_expression":
            continue
        f = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        if f is None or f.type != "field_expression" or args is None or args.named_child_count:
            continue
        obj, op, field = f.child_by_field_name("argument"), f.child_by_field_name("operator"), \
            f.child_by_field_name("field")
        if obj is None or obj.type != "identifier" or m.text(obj) not in names or m.text(op) != "." \
                or m.text(field) != "size":
            continue
        mv = out.setdefault(m.text(obj), MemberValue(f"{m.text(obj)}.size()", "std::size_t", guards=["1"]))
        mv.ranges.append((call.start_byte, call.end_byte))
    return list(out.values())


def _restarts_rerun(sv: scalar_mod.ScalarVerdict, arrays: list[ArrayAccessSummary], atomics: list,
                    privates: list[PrivateArray]) -> list[tuple[str, str]]:
    """A minimum or maximum that a NaN element restarts (``Reduction.restarts``), or that
    may end at a zero of either sign (``zero_sign``), is checked after the kernel, which
    runs the loop as written again where the check fails, every reduction set back to its
    start: the nest must write nothing else that running it twice would change (an array,
    an atomic update, the index read after the loop)."""
    restarting = next((r for r in sv.reductions if r.restarts or r.zero_sign), None)
    if restarting is None:
        return []
    written = next((a.name for a in arrays if a.written), None) or next((p.name for p in privates if p.copy), None)
    what = f"writes '{written}'" if written else "makes atomic updates" if atomics else \
        f"leaves its index '{sv.lastprivate[0]}' for after the loop" if sv.lastprivate else ""
    if not what:
        return []
    return [("PCX112", f"{restarting.rerun_reason()}, which a reduction checks by running the loop again as "
                       f"written, and the loop {what}")]


def _wide_floats(nest) -> list[tuple[str, str]]:
    """A ``long double`` or ``__float128`` the nest uses: GPU targets have neither (clang's
    nvptx build stops: "requires 128 bit size 'long double' type support"), and one such
    kernel costs the whole file its rewrite there."""
    for ref in [*nest.facts.arrays, *nest.facts.scalars]:
        d = ref.decl
        ty = f"{d.type_spelling} {d.element_type}" if d is not None else ""
        wide = next((w for w in ("long double", "__float128", "_Float128") if w in ty), None)
        if wide:
            return [("PCX145", f"'{d.name}' is a {wide}, which GPU targets do not have")]
    return []


def _global_arrays(sem: Semantics) -> set[str]:
    """Names of file-scope arrays (declared in a header or here); a name that is another
    file-scope variable too is left out (a function's own parameter or local of that name
    is the plan checker's to see: ``Frame.own_names``)."""
    arrays, other = set(), set()
    for d in [*sem.decls_at.values(), *sem.refs.values()]:
        if d.kind == "global":
            (arrays if d.shape == "array" else other).add(d.name)
    return arrays - other


def _typed_names(sem: Semantics, model: SourceModel) -> TypedNames:
    decls = list(sem.decls_at.values())
    return TypedNames(
        callable_variables={d.name for d in decls if any(w in d.type_spelling for w in ("(*", "(&", "function<",
                                                                                        "lambda"))},
        array_references={d.name for d in decls if "(&)[" in d.type_spelling or "(&&)[" in d.type_spelling},
        reference_members={d.name for d in decls if d.kind in ("field", "union-member") and d.reference},
        user_objects={d.name for d in decls if d.shape == "record" and not d.type_spelling.replace(
            "const ", "").startswith("std::")},
        global_arrays=_global_arrays(sem), header_globals=_header_globals(sem, model),
        pointed_arrays=_pointed_arrays(decls, sem))


def _pointed_arrays(decls: list, sem: Semantics) -> dict[str, list[tuple[int, list[str]]]]:
    """``TypedNames.pointed_arrays``: locals of type pointer to an array of constant
    extents (``double (*)[390][410]``, as libclang evaluates them), declared as C writes it
    or by a macro whose expansion only assigns the pointer (PolyBench's
    ``POLYBENCH_2D_ARRAY_DECL(A, ...)``: ``double (*A)[..][..]; A = ...``)."""
    out: dict[str, list[tuple[int, list[str]]]] = {}
    for d in decls:
        if d.kind == "local" and d.shape == "pointer" and d.decl_offset is not None and not d.reference and \
                d.type_spelling.replace(" ", "").split("(*", 1)[-1].startswith(")[") and len(d.dims) > 1 and \
                d.dims[0] is None and all(x is not None and x.isdigit() for x in d.dims[1:]):
            if d.decl_offset in sem.macros:
                # declared by a macro: its expansion may use the pointer only to assign it
                uses, assigned = sem.declaring_macro_refs.get(d.key, (0, 0))
                if uses != assigned:
                    continue
            out.setdefault(d.name, []).append((d.decl_offset, [str(x) for x in d.dims[1:]]))
    return out


def _header_globals(sem: Semantics, model: SourceModel) -> dict[str, str]:
    """``TypedNames.header_globals``: the file-scope variables this file names that its
    syntax does not declare at file scope (a header's, or one a macro declares here:
    ``DECLARE(acc, 16)``), but constant scalars and arrays, and a system header's
    (``stderr``, ``std::cout``: no user array is one), by name."""
    from pcx_driver.engine.regions import file_scope_names

    here = file_scope_names(model.root, model.data, model.is_cxx)
    out: dict[str, str] = {}
    for d in sem.refs.values():
        if d.kind == "global" and d.name not in here and not d.system and \
                not (d.const and d.shape in ("scalar", "array")):
            out[d.name] = d.shape
    return out


def _unmappable_arrays(nest) -> list[tuple[str, str]]:
    """Arrays no map clause can give a kernel: a global constant pointer (``double * const
    a = g.a;``, TSVC's layout), which the compiler folds to the address it was given, in
    the device code too, where it names ``g``, a host variable the device image does not
    have (the offload link failed, PCX007); a thread-local array, which clang-19 refuses
    to map ("threadprivate variables are not allowed in 'map' clause")."""
    for ref in nest.facts.arrays:
        d = ref.decl
        if d is not None and d.kind == "global" and d.shape == "pointer" and \
                d.type_spelling.replace(" ", "").endswith("*const"):
            return [("PCX118", f"'{d.name}' is a global constant pointer ('{d.type_spelling}'): the compiler "
                               "folds it to the address it holds, which device code cannot use")]
        if d is not None and d.thread_local:
            return [("PCX119", f"'{d.name}' is a thread-local array, which OpenMP cannot map")]
    return []


def _aliased_globals(aliased: set[str]) -> list[tuple[str, str]]:
    """A file that declares a global as another's alias (``__attribute__((alias("a")))``)
    keeps its loops on the host: the device image cannot resolve the alias (the offload
    compile of any kernel of the file failed, "alias must point to a defined variable",
    a held-out check), and maps would copy the two names apart."""
    if not aliased:
        return []
    names = ", ".join(f"'{n}'" for n in sorted(aliased)[:4])
    return [("PCX118", f"the file declares globals as one object under two names ({names}, "
                       "__attribute__((alias))), which the device image cannot resolve")]


def _members_written_elsewhere(nest, apart: Callable[[Decl, list[Decl]], bool]) -> list[tuple[str, str]]:
    """A member read as a value (``c->y``) whose struct type the nest writes elements of
    (``s[i].y = c->y + i`` with ``c == &s[5]``): the pointer may point into that array, and
    the serial loop then reads what it wrote.  Not where ``apart(root, written arrays)``
    proves the pointer's storage distinct from theirs."""
    written_decls = list({a.decl.key: a.decl for a in nest.facts.arrays if a.write and a.decl is not None}.values())
    written = {unqualified(d.element_type) for d in written_decls}
    # (an element of another struct type may hold it too: a derived class's base, a cast)
    records = {t for t in written if t.startswith(("struct ", "class ", "union ")) or t[:1].isupper()}
    # (and an element of the member's own type: ``(const struct C *)&a[500]`` into the
    # ``double`` array written, whose ``p->k`` reads a[500], as C's effective types allow)
    bytes_ = written & {"char", "signed char", "unsigned char"}
    out = []
    for node, member, _, root_type, root in nest.facts.member_values:
        # (a member of ``*this``, root None: the object is no element of an array of the
        # member's own type; its members are reached through ``this``, and none has its
        # address taken: access/names.py)
        own = unqualified(member.type_spelling) if root is not None else ""
        target = next((t for t in (root_type, own) if t and t in written), None) or \
            (sorted(records | bytes_)[0] if records | bytes_ else None)
        if root_type and target is not None and not (root is not None and apart(root, written_decls)):
            out.append(("PCX118", f"member '{node.text.decode(errors='replace')}' is read through a pointer that may "
                                  f"point into an array of '{target}' the nest writes"))
    return out


#: words of the directives the rewriter writes (``#pragma omp`` lines are macro-expanded):
#: an object-like macro of one of these names, or a function-like one of a clause that
#: takes parentheses, would rewrite them (``#define from src``: "incorrect map type")
DIRECTIVE_WORDS = frozenset("omp target teams distribute parallel for simd map to from tofrom alloc release delete "
                            "firstprivate private reduction collapse lastprivate update data enter exit declare end "
                            "atomic max min".split())
CLAUSES_WITH_ARGUMENTS = frozenset("map firstprivate private reduction collapse lastprivate if".split())


def directive_word_macros(macro_defs: dict) -> list[str]:
    """The unit's macros that would rewrite the directives pcx writes (``DIRECTIVE_WORDS``)."""
    return sorted(name for name, (function_like, _) in macro_defs.items()
                  if (not function_like and name in DIRECTIVE_WORDS)
                  or (function_like and name in CLAUSES_WITH_ARGUMENTS))
