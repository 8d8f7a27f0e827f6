"""The plain typed objects that flow one way through the stages.

    invocation -> SourceUnit -> UnitAnalysis -> Plan -> Rewrite -> build -> RunOutput
               -> GateVerdict / Profile

Every stage receives these objects and returns new ones; no stage reaches into another's
internals.  Each object is a dataclass that round-trips through JSON (``to_json`` /
``from_json``) so a run can be dumped, inspected, cached and resumed.

Positions: ``line`` and ``column`` are 1-based, as a compiler prints them; ``start_byte``
and ``end_byte`` are 0-based offsets into ``SourceUnit.text`` encoded as UTF-8 (the
coordinates tree-sitter uses), so the rewriter can edit exact text.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any


class Language(str, enum.Enum):
    C = "c"
    CXX = "c++"
    CUDA = "cuda"


class Decision(str, enum.Enum):
    """What happened to one loop nest (the JSON report uses these strings)."""

    OFFLOADED = "offloaded"
    SERIAL = "kept serial"
    NOT_ANALYSED = "not analysed"


class MapKind(str, enum.Enum):
    TO = "to"
    FROM = "from"
    TOFROM = "tofrom"
    ALLOC = "alloc"


@dataclass
class SourceUnit:
    """One translation unit as the user wrote it."""

    path: str  # the path as given on the command line (what #line and remarks name)
    text: str  # decoded source (UTF-8, undecodable bytes kept via surrogateescape)
    language: Language = Language.C
    directory: str = "."  # the working directory of the compile
    # Flags that change meaning (-I, -D, -U, -std, -include, -isystem, ...), for libclang.
    semantic_args: list[str] = field(default_factory=list)
    # The user's OpenMP directives (``engine.ompport.OpenMPScan`` of the text as written),
    # set by the pipeline when it hands the analysis a copy with them blanked out and the
    # rewriter the text as written; None: the text has no OpenMP to port.
    openmp: Any = None
    # The command compiles this one source and links it into an executable with no other
    # user code (``pcx-c++ main.cpp -o main``): every call of its functions is in this text
    # (cc.sources.whole_program), so a pointer parameter's extent may come from them.
    whole_program: bool = False

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape")


@dataclass
class Remark:
    """One diagnostic with a stable ID from ``pcx_driver.diagnostics.REMARKS``."""

    id: str
    file: str
    line: int
    column: int
    message: str

    def format(self) -> str:
        from pcx_driver.diagnostics import level_of

        return f"{self.file}:{self.line}:{self.column}: {level_of(self.id)}: {self.message} [{self.id}]"


@dataclass
class Section:
    """An array section in OpenMP syntax: ``name[lower:length][lower:length]...``.

    ``base`` is the C expression mapped (a variable name, or ``v_data`` for a local
    pointer the rewriter introduces).  Each dimension is a pair of C expressions.
    """

    base: str
    dims: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        return self.base + "".join(f"[{lo}:{ln}]" for lo, ln in self.dims)


@dataclass
class MapClause:
    kind: MapKind
    sections: list[Section]

    def render(self) -> str:
        return f"map({self.kind.value}: " + ", ".join(s.render() for s in self.sections) + ")"


@dataclass
class ArrayAccessSummary:
    """What one kernel does to one array (or pointer-to-array), over the whole nest."""

    name: str
    element_type: str  # C type of one element, e.g. "double"
    read: bool
    written: bool
    section: Section  # the exact (or safely over-approximated) section touched
    exact: bool = True  # False when the section is an over-approximation
    written_fully: bool = False  # every element of ``section`` is written before being read
    # C++ containers (std::vector, std::array) cannot be mapped as objects: the rewriter
    # maps ``name.data()`` through a local pointer and renames these byte ranges (each an
    # occurrence of the container expression inside the nest) to that pointer.
    container: str = ""  # "", "std::vector", "std::array"
    base_ranges: list[tuple[int, int]] = field(default_factory=list)
    # a container reached through an element accessor (``domain.x(i)`` for the private
    # ``domain.m_x[i]``): the call's callee expression (``domain.x``), which gives the
    # local pointer its value (``&domain.x(0)``), and the byte of each accessor call's
    # opening and closing parenthesis, which the rewrite turns into brackets
    accessor: str = ""
    brackets: list[tuple[int, int]] = field(default_factory=list)
    # The members of a struct element type (semantics.Decl.element_fields): a kernel that
    # writes elements member by member defines them whole only by assigning each of these
    # (the plan checker verifies it in the syntax).
    element_fields: list[str] = field(default_factory=list)
    # What the kernel writes, over-approximated as ``section`` is (None: not known or not
    # written): a data region may copy just this back after the kernel, where host code
    # in the loop around reads the array (engine/dataflow.py).
    write_section: Section | None = None
    # The pointer parameter's extent comes from its callers (section ``[0:length_var]``):
    # the kernel runs on the device only at calls that hand it over.
    caller_extent: CallerExtent | None = None
    # What the section rests on (strides assumed >= 0, engine/extents.py): the kernel tests
    # them at run time, and runs as written where one fails.
    assumptions: list[Assumption] = field(default_factory=list)


@dataclass
class CallSiteExtent:
    """One call that hands a pointer parameter's extent to the callee (``CallerExtent``)."""

    start_byte: int  # the call's expression statement
    end_byte: int
    line: int
    argument: str  # the argument as written: the allocation the callee's pointer is
    count: str  # its element count, in the caller's names, valid at the call


@dataclass
class CallerExtent:
    """A pointer parameter whose extent only the callers know (issue 15, cause 8: a
    ``new T[n]`` in main, indexed in the callee through subscripts no bound reaches).

    Each call in ``sites`` stores its argument and that allocation's element count in two
    thread-local variables just before the call (``base_var``, ``length_var``); the
    function's first declarations take them over into locals (``local_base``,
    ``local_length``) and clear the stored pointer, so that a hand-over is read by the
    one call it was made for and by no later one, whatever way that call ends (a
    ``longjmp`` or an exception out of it included).  The kernel maps
    ``param[0:local_length]`` and runs on the device only when ``param`` is the pointer
    handed over, as written on the host otherwise (another caller, a call through a
    pointer, another file's call)."""

    function: str
    param: str
    base_var: str
    length_var: str
    local_base: str
    local_length: str
    body_byte: int  # where the function's body begins: its first statement or declaration
    sites: list[CallSiteExtent] = field(default_factory=list)

    @property
    def test(self) -> str:
        return f"(const void *)({self.param}) == {self.local_base}"


@dataclass
class Reduction:
    op: str  # "+", "*", "min", "max", "&&", "||", "&", "|", "^"
    variable: str
    # a floating min/max, whose start must be finite: ``if (e > m) m = e;`` from a NaN never
    # changes serially, where OpenMP's combination drops the NaN, and OpenMP starts each
    # partial maximum at the least finite value, which wins over a start and elements all
    # -inf (the kernel is versioned on ``m - m <= 0``)
    nan_start: bool = False
    # the end bytes of its updates that a NaN element restarts, ``m = m < e ? m : e``
    # (``std::min(e, m)``, ``MIN(m, e)`` of such a macro): serially a NaN element becomes
    # the value and the next element replaces it, and of a +0 and a -0 the later is kept,
    # neither of which a reduction does.  The rewriter appends ``, FLAG |= !(m <= m)`` to each
    # (a NaN partial value), and after the kernel runs the loop as written from the start
    # value again where the flag is set or the result is 0, infinite or NaN
    # (``KernelPlan.reruns``).  Such a nest writes nothing else, so running it again is
    # what it did.  Empty: no such update.
    restarts: list[int] = field(default_factory=list)
    # a floating min/max whose result may be a zero of either sign (``scalars.
    # _zero_signs_agree``): +0 and -0 compare equal, so the loop keeps the one its order
    # picks (``if (e > m) m = e`` the first), and a reduction's combination may keep the
    # other.  Checked as ``restarts`` is: after the kernel, a zero result runs the loop as
    # written again (``KernelPlan.reruns``), so the nest must write nothing else.
    zero_sign: bool = False

    def rerun_reason(self) -> str:
        """Why its kernel may run the loop again (``restarts`` or ``zero_sign``)."""
        if self.restarts:
            return f"'{self.variable}' takes an element where the comparison fails (a NaN element restarts it)"
        return (f"the {'minimum' if self.op == 'min' else 'maximum'} '{self.variable}' may end at a zero of either "
                "sign (+0 and -0 compare equal: the loop keeps the one its order picks, a reduction may keep the other)")


@dataclass
class AtomicArray:
    """An array whose every access in a nest is an update with one reduction operator (a
    histogram, PCX117): its updates are made atomic, or on a CPU device, where a small
    section allows, reduced into a copy per thread (engine/schedule.py)."""

    name: str
    op: str  # the OpenMP reduction operator: "+", "*", "&", "|", "^"
    updates: list[tuple[int, int]]  # its update statements (byte ranges), in atomic_updates
    declared_elements: int | None = None  # the array's declared size (elements), where constant
    # a parameter or a local: clang-19 cannot reduce a global array's section in a target
    # region (its device code names the host symbol: an undefined reference at link time)
    local: bool = False


@dataclass
class ArrayReduction:
    """``reduction(op: section)`` on a kernel: a copy of the section per thread."""

    op: str
    section: Section


@dataclass
class MemberValue:
    """A scalar member a nest reads through a pointer or a reference (``f->n``, ``g.scale``):
    the struct is not on the device (or only the member arrays a kernel maps are), so the
    rewriter takes the value into a local before the kernel and the kernel reads that
    (``firstprivate``).  The nest never writes a struct member."""

    expression: str  # as written, e.g. "f->n"
    type: str  # the member's type as declared, without qualifiers ("int", "Index_t")
    ranges: list[tuple[int, int]] = field(default_factory=list)  # its occurrences in the nest
    # C tests (``(0) < (n)``), one per occurrence, that its loops run: the value is read only
    # where one holds, as the serial program reads it only then
    guards: list[str] = field(default_factory=list)


@dataclass
class PrivateArray:
    """An array private to each iteration of a nest (engine/privatise.py), with what the
    rewriter needs to emit it: a copy declared in the loops' body, the uses renamed, and
    the last iteration's copy-back."""

    name: str
    private_name: str  # the per-iteration copy, e.g. pcx_priv_sum
    element_type: str
    extent: int
    body_start: int  # the first statement of the perfect loops' body (the copy is declared before it)
    body_end: int  # the end of that body's last statement (the copy-back follows it)
    uses: list[tuple[int, int]] = field(default_factory=list)  # byte ranges of the name, renamed
    low: str = ""  # the range every iteration writes, inclusive bounds as C text
    high: str = ""
    last: list[tuple[str, str]] = field(default_factory=list)  # (index, its last value) of each perfect loop
    bounds_test: str = ""  # C condition under which x[low..high] fits the copy
    # False for a local array nothing reads after the nest (privatise.covered_private_array):
    # no copy back
    copy: bool = True

    def declaration(self) -> str:
        return f"{self.element_type} {self.private_name}[{self.extent}];"

    def copy_back(self) -> str:
        last = " && ".join(f"{i} == ({v})" for i, v in self.last)
        k = f"pcx_k_{self.name}"
        return (f"if ({last}) for (long long {k} = ({self.low}); {k} <= ({self.high}); {k}++) "
                f"{self.name}[{k}] = {self.private_name}[{k}];")


@dataclass
class NestAnalysis:
    """The analysis of one loop nest: legality, clauses and data, with reasons."""

    nest_id: str  # "<function>:<line>", stable within a source text
    function: str
    line: int
    column: int
    start_byte: int  # the ``for`` statement (the rewriter inserts directives before it)
    end_byte: int
    depth: int  # loops in the nest (perfect part)
    decision: Decision
    remarks: list[Remark] = field(default_factory=list)
    collapse: int = 1  # loops to collapse when offloaded
    # 1-based depth, in the perfectly nested band from the root, of a loop with no loop in
    # its body (the nest's innermost), when the band reaches one within ``collapse``; 0 when
    # loops remain below the collapsed band.  engine/schedule.py reads it for CPU devices.
    innermost_depth: int = 0
    private: list[str] = field(default_factory=list)
    firstprivate: list[str] = field(default_factory=list)
    reductions: list[Reduction] = field(default_factory=list)
    arrays: list[ArrayAccessSummary] = field(default_factory=list)
    # statements (byte ranges) that must be guarded by ``#pragma omp atomic``
    atomic_updates: list[tuple[int, int]] = field(default_factory=list)
    # the arrays those updates belong to, where one operator updates all of an array
    atomic_arrays: list[AtomicArray] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # user functions called (need declare target)
    work_estimate: float = 0.0  # static estimate: trip counts x body cost
    # the estimate as a C expression of names in scope at the nest, e.g.
    # "(double)(n) * (1 + (double)(m) * 2)"; "" when the estimate is a compile-time constant
    work_expr: str = ""
    # Pairs of pointers the nest reads or writes that may point into one array (neither is
    # restrict, nor provably distinct): the nest is offloaded as if they did not, and the
    # rewrite versions it at run time (issue 15, cause 5(c)): the device version runs only
    # when the address ranges of the two sections are disjoint, the loop as written otherwise.
    alias_checks: list[tuple[str, str]] = field(default_factory=list)
    # Strided loops whose last index the sections assume (``StrideFact``), tested at run time.
    stride_facts: list[StrideFact] = field(default_factory=list)
    # What the split of flattened subscripts into rows rests on, as C tests evaluated before
    # the nest (``u[i*ny + j]`` with ``j < nx`` is ``u[i][j]``, and its rows apart, where
    # ``(long)(ny) >= (long)(nx)``): the loop runs as written where one fails.
    row_tests: list[str] = field(default_factory=list)
    # The pairs of ``alias_checks`` the nest only reads: one buffer mapped twice under the
    # same section is found present, so their test also passes when the sections coincide.
    alias_reads: list[tuple[str, str]] = field(default_factory=list)
    # The line of the user's ``parallel for`` whose claim of independence this offload rests
    # on, where the analysis could not test a subscript (PCX129, --pcx-trust-pragmas); 0:
    # the analysis proved the nest parallel.
    pragma_claim: int = 0
    # Arrays private to each iteration (engine/privatise.py); the kernel runs only where
    # each one's ``bounds_test`` holds, as written otherwise.
    private_arrays: list[PrivateArray] = field(default_factory=list)
    # The root loop's index, read after the loop: ``lastprivate`` with the value the loop's
    # initialisation gives it first (``lastprivate_init``), for a loop that runs no iteration
    lastprivate: list[str] = field(default_factory=list)
    lastprivate_init: str = ""
    # A min-plus relaxation through a pivot (engine/pivot.py): a C test of the pivot's own
    # element (``path[k][k] >= 0``) under which the nest is parallel; evaluated on the
    # device before each launch, the loop running as written (one thread) where it fails.
    pivot_test: str = ""
    # Scalar members read through a pointer or reference, passed in as local values
    member_values: list[MemberValue] = field(default_factory=list)
    # ``exit(E);`` / ``abort();`` statements (byte ranges) in the outer loop's body: the
    # kernel sets a flag and ends the iteration there, and the program leaves after it
    # with the statement as written (Legality.exit_problem)
    exits: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class HostAccess:
    """A host statement between kernels that touches arrays a kernel also touches."""

    start_byte: int
    end_byte: int
    line: int
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)


@dataclass
class FunctionAnalysis:
    name: str
    start_byte: int
    end_byte: int
    nests: list[NestAnalysis] = field(default_factory=list)
    host_accesses: list[HostAccess] = field(default_factory=list)
    # Arrays of different offloaded nests that may be one array (not restrict, not provably
    # distinct allocations): a data region mapping both would map one buffer twice.
    alias_pairs: list[tuple[str, str]] = field(default_factory=list)
    # arrays of arrays the function declares (parameters and locals, ``double A[N][M]``):
    # the constant extents of their dimensions after the first (None: not constant).  An
    # index into one of those stays inside it (C forbids reaching the next row through it).
    row_extents: dict[str, tuple[int | None, ...]] = field(default_factory=dict)
    # pointer parameters that point to distinct objects at every call of the function
    # (aliasing.AliasOracle: every call in this text passes distinct allocations), and
    # pairs of a pointer parameter and a global it never points into
    distinct_params: list[tuple[str, str]] = field(default_factory=list)



@dataclass
class TypedNames:
    """Names of a unit, by what libclang says their types are, for the scans of host code
    in a data region: each is a way to reach memory that the syntax alone does not show."""
    # variables a call may go through (function pointers and references, std::function,
    # lambdas): tree-sitter misreads ``void (&f)() = k;``
    callable_variables: set[str] = field(default_factory=set)
    # references to whole arrays (``double (&ra)[N] = a;``): another name of an array
    array_references: set[str] = field(default_factory=set)
    # struct members declared as references (``struct R { double &r; };``): ``rr.r`` reads
    # and writes whatever the member was bound to, maybe an element of a region's array
    reference_members: set[str] = field(default_factory=set)
    # variables of user class types: a range-for over one calls its ``begin()``, which may
    # return a pointer into any array
    user_objects: set[str] = field(default_factory=set)
    # arrays declared at file or namespace scope (a header's ``extern double a[N];`` too):
    # two of them are never one array, whatever a pointer may point to
    global_arrays: set[str] = field(default_factory=set)
    # variables declared at file or namespace scope in a header, that this file names and
    # may change (not const), with their shape (semantics.Decl.shape): file-scope names the
    # syntax of this file does not declare, which host code and called functions may
    # write between kernels like its own (a held-out check: NPB's globals in applu.h)
    header_globals: dict[str, str] = field(default_factory=dict)
    # local pointers to whole arrays (``double (*A)[N][M]``: PolyBench's heap arrays, which
    # its macros declare): name -> [(the declaration's byte, the extents of the array it
    # points to)]; an argument ``*A`` passes that array
    pointed_arrays: dict[str, list[tuple[int, list[str]]]] = field(default_factory=dict)

@dataclass
class UnitAnalysis:
    path: str
    language: Language
    functions: list[FunctionAnalysis] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)  # unit-level (e.g. parse errors)
    # user functions that kernels call, with their definitions' byte ranges
    device_functions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # integer values of the object-like macros the offloaded nests' sections name
    constants: dict[str, int] = field(default_factory=dict)
    # function-like macros whose every expansion is an expression over their arguments
    # (engine.macros.macro_problem is None: PolyBench's SCALAR_VAL, SQRT_FUN): host code
    # that uses one reads its arguments and nothing else, like a libm call
    pure_macros: set[str] = field(default_factory=set)
    # function-like macros of one parameter that expand to it or what it points to
    # (PolyBench's ``POLYBENCH_ARRAY(x)``, ``*x``): an argument passed through one is the
    # array itself (engine/escapes.py)
    identity_macros: set[str] = field(default_factory=set)
    # those of them that expand to what their argument points to (``*x``)
    deref_macros: set[str] = field(default_factory=set)
    # the macros the main file defines or names, and those their replacement lists name:
    # name -> (function-like?, replacement tokens, parameters); left out: macros the file
    # #undefs or defines twice.  Engine-written expressions (a work guard moved to a
    # caller, engine/callerguard.py) are expanded with them where the caller must read them.
    macro_table: dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    # macros of the main file whose expansion may store to a variable (an assignment,
    # ``++``/``--``, ``&``, inline ``asm``), directly or through another macro: a use can
    # change a name the syntax shows only as read (``HALVE;`` of ``#define HALVE len /= 8``)
    writing_macros: set[str] = field(default_factory=set)
    # C++: every call libclang resolved, by start byte -> the argument positions bound to a
    # reference parameter (an element passed there is no copy), and of those the ones bound
    # to a reference to a non-const arithmetic scalar (``halve(h)`` of ``void halve(int &)``,
    # ``std::tie(h, n) = ...``): the call may change those variables
    reference_args: dict[int, frozenset[int]] = field(default_factory=dict)
    reference_stores: dict[int, frozenset[int]] = field(default_factory=dict)
    # C++ element accessors (engine/call_shapes.subscripted_field: ``Real_t& x(Index_t i)
    # { return m_x[i]; }``, in this file or a header), by the call's start byte: the data
    # member that ``obj.x(e)`` is the element ``obj.m_x[e]`` of
    accessor_calls: dict[int, str] = field(default_factory=dict)
    # functions this unit calls that the user defines in another file (declared, not defined
    # here, and not in a system header): compiled by pcx too, they may hold kernels of their
    # own that reach the unit's globals
    foreign_functions: set[str] = field(default_factory=set)
    # every call libclang sees whose callee the unit defines, operators and constructors
    # included: (start, end, the callee definition's start, its end, its name)
    call_targets: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    # (byte, what) for each object made or destroyed by a constructor or destructor the
    # user wrote (``calls.user_object_code``): code that runs where the text shows no call
    object_code: list[tuple[int, str]] = field(default_factory=list)
    # the first call that starts a thread ("'pthread_create', line 16"), "" when none
    thread_start: str = ""
    # names whose C++ types the host scan must know (libclang's, not tree-sitter's reading)
    typed_names: TypedNames = field(default_factory=lambda: TypedNames())

    def nests(self) -> list[NestAnalysis]:
        return [n for f in self.functions for n in f.nests]


@dataclass
class TargetUpdate:
    byte: int  # insert ``#pragma omp target update`` before the statement starting here
    line: int
    direction: str  # "to" or "from"
    sections: list[Section]


@dataclass(frozen=True)
class Assumption:
    """``name >= bound``: what a data region's run-time
    test checks before the region, so that a union of sections whose bounds differ by one
    name is a plain section (``ey[0:1]`` and ``ey[0:NX]`` -> ``ey[0:NX]`` when NX >= 1)."""

    name: str
    bound: int

    def render(self) -> str:
        return f"({self.name}) >= {self.bound}"


@dataclass(frozen=True)
class StrideFact:
    """A strided loop whose range is no compile-time constant (``for (i = 0; i < n; i += 256)``)
    holds a whole number of steps and runs at least once: its last index is then the bound
    less one step (``n - 256``), where it is otherwise only known to be below the bound, and
    the sections of the subscripts that add an inner index to it (``b[i + j]``, ``j < 256``)
    end where the accesses do.  The kernel tests ``test`` at run time (``rewrite.
    device_test``) and runs the loop as written where it fails."""

    index: str
    line: int
    last: str  # the last index the kernel's sections assume, as C (``n - 256``)
    test: str  # ``(n) > (0) && ((n) - (0)) % 256 == 0``


@dataclass
class DataRegion:
    """A ``target data`` region that keeps arrays on the device across kernels."""

    function: str
    start_byte: int  # first statement wrapped
    end_byte: int  # end of last statement wrapped
    line: int
    maps: list[MapClause]
    updates: list[TargetUpdate] = field(default_factory=list)
    kernels: list[str] = field(default_factory=list)  # nest_ids inside
    # Run-time guard of the whole region (issue 16): a C condition, evaluated just before
    # it, under which the region and its kernels run; otherwise the statements run on the
    # host as written.  "": always.  Set by engine/workguard.py after the plan check.
    work_guard: str = ""
    # True when ``work_guard`` is the conjunction of the guards of the kernels it holds
    # through calls, read where it starts (engine/callerguard.py): those kernels keep their
    # own guards and host versions, which agree with it whenever it is entered.
    callees_keep_guards: bool = False
    # Run-time alias check of the whole region (issue 15, cause 5(c)): true when the
    # sections it maps are pairwise disjoint; otherwise its statements run on the host as
    # written.  Its kernels' own tests (``KernelPlan.alias_test``) are then not emitted.
    alias_test: str = ""
    # What its sections assume of names they differ by (``sections.union_sections``):
    # checked at run time before it, with the host path as written when false.
    assumptions: list[Assumption] = field(default_factory=list)
    # The run-time tests of its kernels' sections (``KernelPlan.tested_at_run_time``:
    # handed-over extents, assumed strides, whole blocks), tested by the region instead:
    # its ``target enter/exit data`` carry ``if(...)``, and each of its kernels runs on the
    # device only where they hold (``KernelPlan.region_test``), as written otherwise, so
    # that where they fail the region's statements run as the user wrote them.
    lifted_tests: list[str] = field(default_factory=list)

    @property
    def lifted_test(self) -> str:
        return self.lifted_tests[0] if len(self.lifted_tests) == 1 else " && ".join(
            f"({t})" for t in self.lifted_tests)

    @property
    def bounds_test(self) -> str:
        return " && ".join(a.render() for a in self.assumptions)


@dataclass
class KernelPlan:
    """How one nest is emitted; ``maps`` is empty when a DataRegion covers its data."""

    nest_id: str
    function: str
    line: int
    column: int
    start_byte: int
    end_byte: int
    decision: Decision
    remarks: list[Remark] = field(default_factory=list)
    collapse: int = 1
    private: list[str] = field(default_factory=list)
    firstprivate: list[str] = field(default_factory=list)
    reductions: list[Reduction] = field(default_factory=list)
    maps: list[MapClause] = field(default_factory=list)
    # The maps this kernel needs when no data region holds its arrays (``maps`` inside a
    # region name the region's sections, which may differ); empty: ``maps`` serve alone.
    alone_maps: list[MapClause] = field(default_factory=list)
    atomic_updates: list[tuple[int, int]] = field(default_factory=list)
    atomic_arrays: list[AtomicArray] = field(default_factory=list)  # NestAnalysis.atomic_arrays
    # array sections reduced into a copy per thread instead of atomic updates (a CPU
    # device: engine/schedule.py); their statements are no longer in ``atomic_updates``
    array_reductions: list[ArrayReduction] = field(default_factory=list)
    # Tuning knobs (issue 4): None means "let the runtime choose".
    num_teams: int | None = None
    thread_limit: int | None = None
    simd: bool = False
    work_estimate: float = 0.0
    # Run-time guard (issue 16): the kernel runs on the device only when ``work_expr`` (the
    # analysis's symbolic work estimate) is at least ``min_work``, as OpenMP's
    # ``if(target: ...)``; "" or 0: always.  Set only on kernels outside any data region:
    # a kernel that falls back to the host reads the host copy of its data.
    work_expr: str = ""
    min_work: float = 0.0
    # What the kernel's own maps copy at each launch, in units of work (one per 8 bytes;
    # ``workguard.copy_cost``): the guard asks for that much work besides ``min_work``.
    copy_cost: str = ""
    alone_copy_cost: str = ""  # the same of ``alone_maps``, taken with ``alone_work_expr``
    # bytes of one element of each array it maps, by name (what ``copy_cost`` counts)
    element_bytes: dict[str, int] = field(default_factory=dict)
    # The work estimate a kernel planned inside a data region takes as its guard where the
    # rewriter does not emit that region (it then maps its own data, ``alone_maps``): a
    # kernel of 80 iterations launched per path ran unguarded 768,003 times (HeCBench libor)
    alone_work_expr: str = ""
    # Run-time alias check (issue 15, cause 5(c)): a C condition, true when the sections of
    # each pair of possibly overlapping pointers are disjoint; the kernel runs on the device
    # only then, and as written otherwise.  Such a kernel maps its own data: no data region
    # may hold it (its host version reads the host copies).  "": no check.
    alias_test: str = ""
    # Every pair the test guards is only read: where a caller's data region holds the data
    # (one section per caller array, found present under both names), the kernel runs
    # without the test, and its function may still be summarised for its callers.
    alias_read_only: bool = False
    # ``m - m <= 0`` for each floating min/max reduction (``Reduction.nan_start``): a NaN
    # or infinite start runs the loop as written, which keeps it.  Like the alias test, a
    # kernel with one maps its own data.  "": none.
    nan_test: str = ""
    # A target loop the user wrote (issue 18): its construct as written, without
    # '#pragma ', which the rewriter keeps, adding only ``maps``; such a kernel has no
    # run-time guard (the user asked for the device).  "": a kernel pcx made.
    user_directive: str = ""
    # NestAnalysis.pragma_claim: the user's pragma line this kernel's parallelism rests on
    pragma_claim: int = 0
    # NestAnalysis.private_arrays: declared, renamed and copied back by the rewriter
    private_arrays: list[PrivateArray] = field(default_factory=list)
    # NestAnalysis.pivot_test: the rewriter's pivot block tests it on the device
    pivot_test: str = ""
    # Structs whose pointer members' sections the kernel maps (``points.p[0:n]``): mapped
    # ``to`` themselves, so that the device copy's member points at the device section (a
    # firstprivate copy keeps the host's pointer: Rodinia streamcluster crashed)
    struct_maps: list[str] = field(default_factory=list)
    # NestAnalysis.lastprivate: the clause, a tofrom map of the index, and the index set to
    # ``lastprivate_init`` before the loop (no iteration leaves it so)
    lastprivate: list[str] = field(default_factory=list)
    lastprivate_init: str = ""
    # Pointer parameters whose extents the callers hand over (``CallerExtent``): the
    # kernel runs as written where a call did not; like the alias test, such a kernel
    # maps its own data, and no region may hold it.
    caller_extents: list[CallerExtent] = field(default_factory=list)
    # NestAnalysis.exits: each becomes ``{ FLAG = 1; continue; }``, and the statement runs
    # after the kernel where the flag is set
    exits: list[tuple[int, int]] = field(default_factory=list)
    # What its sections rest on (``ArrayAccessSummary.assumptions``), tested like those.
    assumptions: list[Assumption] = field(default_factory=list)
    # NestAnalysis.stride_facts: strided loops' last indices, tested like those.
    stride_facts: list[StrideFact] = field(default_factory=list)
    # NestAnalysis.row_tests: what its parallelism over flattened rows rests on, tested so too.
    row_tests: list[str] = field(default_factory=list)

    # The test of the data region that holds it (``DataRegion.lifted_tests``): where it
    # fails the region maps nothing and this kernel, like each of the region's, runs as
    # written (its own facts are among the region's).  "": none.
    region_test: str = ""

    def fact_tests(self) -> list[str]:
        """The C tests of the run-time facts its sections rest on (handed-over extents,
        assumed strides, the last index of a strided loop) and its parallelism (rows of
        flattened subscripts apart), facts first as the sections the other tests read are
        right only then."""
        return [*(c.test for c in self.caller_extents), *(a.render() for a in self.assumptions),
                *(f.test for f in self.stride_facts), *self.row_tests]

    def reruns(self) -> bool:
        """It may run the loop as written after itself, on the host (``Reduction.restarts``):
        like a kernel versioned at run time it maps its own data, and no region may hold it."""
        return any(r.restarts or r.zero_sign for r in self.reductions)

    def tested_at_run_time(self) -> bool:
        """Its sections rest on run-time facts (``fact_tests``) that it tests itself: it
        runs as written where they fail, maps its own data, and no region may hold it."""
        return bool(self.fact_tests()) and not self.region_test


@dataclass
class LocalPointer:
    """A local the rewriter declares for a C++ container used on the device, or (``type``
    set) for a struct member's value a kernel reads (``MemberValue``).

    ``auto *name = container.data();`` (``type name = init;``) goes before the statement
    starting at ``byte`` (the kernel, or the data region that maps it); every byte range in
    ``renames`` (an occurrence of the expression inside a kernel) is replaced by ``name``.
    """

    name: str
    container: str  # the container expression, e.g. "v"
    byte: int
    line: int
    renames: list[tuple[int, int]] = field(default_factory=list)
    # its value when not ``container.data()``: ``(n) > 0 ? &(domain.x(0)) : nullptr`` for a
    # container reached through an element accessor, whose calls' parentheses (the bytes
    # of each pair in ``brackets``) become brackets: ``domain.x(i)`` -> ``pcx_domain_m_x[i]``
    init: str = ""
    brackets: list[tuple[int, int]] = field(default_factory=list)
    type: str = ""  # a value of this type, not a pointer ("const int", "const auto")


@dataclass
class Plan:
    path: str
    kernels: list[KernelPlan] = field(default_factory=list)
    regions: list[DataRegion] = field(default_factory=list)
    declare_target: list[str] = field(default_factory=list)  # user functions
    remarks: list[Remark] = field(default_factory=list)
    origin: str = "static"  # "static" (proved by analysis) or "validated" (gate-passed)
    # Byte ranges (definitions and prototypes of ``declare_target`` functions, file-scope
    # variables used on the device) the rewriter wraps in ``declare target``.  Empty: the
    # rewriter finds the functions named in ``declare_target`` itself.
    declare_target_ranges: list[tuple[int, int]] = field(default_factory=list)
    local_pointers: list[LocalPointer] = field(default_factory=list)
    # integer values of macros its sections name (UnitAnalysis.constants): a section
    # length that is a constant >= 0 is emitted as written, any other is clamped at 0
    constants: dict[str, int] = field(default_factory=dict)

    def offloaded(self) -> list[KernelPlan]:
        return [k for k in self.kernels if k.decision is Decision.OFFLOADED]


@dataclass
class EmittedDirective:
    line: int  # line in the ORIGINAL source the directive applies to
    text: str  # the pragma as emitted, without the leading '#pragma '
    nest_id: str | None = None


@dataclass
class Rewrite:
    path: str
    text: str  # the complete rewritten source, with #line directives
    directives: list[EmittedDirective] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)
    # (line, id) of the plan's remarks this text makes untrue: a kernel it could not place
    # (its PCX100), a data region it did not emit (its PCX200, PCX201, PCX205)
    withdrawn: list[tuple[int, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.directives)


@dataclass
class RunOutput:
    """One run of a program (the gate's and the profiler's raw material)."""

    argv: list[str]
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str
    seconds: float
    files: dict[str, str] = field(default_factory=dict)  # named output files' contents


@dataclass
class GateVerdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # human-readable, first difference first


@dataclass
class KernelProfile:
    name: str  # __omp_offloading_..._<function>_l<line>
    function: str
    line: int
    launches: int = 0
    seconds: float = 0.0


@dataclass
class Profile:
    kernels: list[KernelProfile] = field(default_factory=list)
    bytes_to_device: int = 0
    bytes_from_device: int = 0
    launches: int = 0


# --------------------------------------------------------------------------- JSON


def to_jsonable(obj: Any) -> Any:
    """Turn a dataclass tree into JSON-compatible data (enums become their values)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_jsonable(x) for x in obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    return obj


def to_json(obj: Any, **kwargs: Any) -> str:
    return json.dumps(to_jsonable(obj), **kwargs)


def from_jsonable(cls: Any, data: Any) -> Any:
    """Rebuild a dataclass tree of type ``cls`` from ``to_jsonable`` output."""
    import types
    import typing

    if data is None:
        return None
    origin = typing.get_origin(cls)
    args = typing.get_args(cls)
    if origin is typing.Union or origin is types.UnionType:
        inner = [a for a in args if a is not type(None)]
        return from_jsonable(inner[0], data) if inner else data
    if origin in (list,):
        return [from_jsonable(args[0], x) for x in data]
    if origin in (tuple,):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], x) for x in data)
        if args and len(args) == len(data):
            return tuple(from_jsonable(a, x) for a, x in zip(args, data))
        return tuple(data)
    if origin in (set, frozenset):
        return origin(from_jsonable(args[0], x) for x in data)
    if origin in (dict,):
        return {k: from_jsonable(args[1], v) for k, v in data.items()}
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return cls(data)
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                kwargs[f.name] = from_jsonable(hints[f.name], data[f.name])
        return cls(**kwargs)
    return data


def from_json(cls: Any, text: str) -> Any:
    return from_jsonable(cls, json.loads(text))
