"""What pcx-cc knows about compiler options: ONE sorted table with flag bits.

The model is ccache's ``compopt.cpp``: command-line knowledge is data, and a unit test
(tests/test_options.py) checks the table stays sorted and consistent.  Anything the
table marks ``TOO_HARD`` makes the driver get out of the way (compile unchanged).

Bits:
    TAKES_ARG         the value may be the next argument (``-o out``)
    TAKES_CONCAT_ARG  the value may be joined (``-oout``, ``-std=c11``, ``-Wl,-O1``);
                      an entry whose name ends in ``=`` or ``,`` ONLY takes a joined value
    TAKES_PATH        the value is a path
    SEMANTIC          changes what the source means (preprocessing, language, target):
                      collected into ``SourceUnit.semantic_args`` for the analysis
    NOT_A_COMPILE     the command does not compile to an object (``-E``, ``--version``):
                      pass the whole command through
    TOO_HARD          pcx cannot keep the option's meaning if it rewrites: compile unchanged
    LINK_ONLY         only meaningful to the link step
    DEPENDENCY        a make-dependency option (``-MD``, ``-MF`` ...)
    OUTPUT            names the output file (``-o``)
    LANGUAGE          sets the language of the inputs that follow (``-x``)
    OFFLOAD           an OpenMP/offload option the driver may also add (never twice)

This module is pure data and lookups: no I/O, no imports beyond the standard library.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

TAKES_ARG = 1 << 0
TAKES_CONCAT_ARG = 1 << 1
TAKES_PATH = 1 << 2
SEMANTIC = 1 << 3
NOT_A_COMPILE = 1 << 4
TOO_HARD = 1 << 5
LINK_ONLY = 1 << 6
DEPENDENCY = 1 << 7
OUTPUT = 1 << 8
LANGUAGE = 1 << 9
OFFLOAD = 1 << 10

ARG = TAKES_ARG | TAKES_CONCAT_ARG  # ``-I dir`` and ``-Idir``
PATH_ARG = ARG | TAKES_PATH


@dataclass(frozen=True)
class CompilerOption:
    name: str
    flags: int

    @property
    def joined_only(self) -> bool:
        """``-std=``-style entries: the value is always part of the same argument."""
        return self.name.endswith(("=", ","))


# Sorted by name (ASCII order).  Keep it sorted: tests/test_options.py checks it.
OPTIONS: tuple[CompilerOption, ...] = tuple(
    CompilerOption(n, f)
    for n, f in [
        ("-###", NOT_A_COMPILE),
        ("--analyze", NOT_A_COMPILE),
        ("--gcc-toolchain=", TAKES_CONCAT_ARG | TAKES_PATH | SEMANTIC),
        ("--help", NOT_A_COMPILE),
        ("--libomptarget-amdgpu-bc-path=", TAKES_CONCAT_ARG | TAKES_PATH | OFFLOAD),
        ("--libomptarget-nvptx-bc-path=", TAKES_CONCAT_ARG | TAKES_PATH | OFFLOAD),
        ("--offload-arch=", TAKES_CONCAT_ARG | OFFLOAD),
        ("--param", TAKES_ARG),
        ("--print-", TAKES_CONCAT_ARG | NOT_A_COMPILE),
        ("--rocm-device-lib-path=", TAKES_CONCAT_ARG | TAKES_PATH | OFFLOAD),
        ("--sysroot", TAKES_ARG | TAKES_PATH | SEMANTIC),
        ("--sysroot=", TAKES_CONCAT_ARG | TAKES_PATH | SEMANTIC),
        ("--target=", TAKES_CONCAT_ARG | SEMANTIC),
        ("--version", NOT_A_COMPILE),
        ("-A", ARG | SEMANTIC),
        ("-B", PATH_ARG),
        ("-C", SEMANTIC),
        ("-CC", SEMANTIC),
        ("-D", ARG | SEMANTIC),
        ("-E", NOT_A_COMPILE),
        ("-F", PATH_ARG | SEMANTIC),
        ("-I", PATH_ARG | SEMANTIC),
        ("-L", PATH_ARG | LINK_ONLY),
        ("-M", NOT_A_COMPILE | DEPENDENCY),
        ("-MD", DEPENDENCY),
        ("-MF", PATH_ARG | DEPENDENCY),
        ("-MG", DEPENDENCY),
        ("-MJ", PATH_ARG | TOO_HARD),  # a compilation database entry would name the temp file
        ("-MM", NOT_A_COMPILE | DEPENDENCY),
        ("-MMD", DEPENDENCY),
        ("-MP", DEPENDENCY),
        ("-MQ", ARG | DEPENDENCY),
        ("-MT", ARG | DEPENDENCY),
        ("-P", SEMANTIC),
        ("-S", NOT_A_COMPILE),  # assembly output: pass through unchanged
        ("-T", PATH_ARG | LINK_ONLY),
        ("-U", ARG | SEMANTIC),
        ("-Wa,", TAKES_CONCAT_ARG),
        ("-Wl,", TAKES_CONCAT_ARG | LINK_ONLY),
        # clang 16+ makes these errors in C99 and later; turned off (or back into warnings)
        # they decide whether old C parses at all, so the analysis parse needs them too
        ("-Wno-c++11-narrowing", SEMANTIC),  # an error in C++11 and later, unless turned off
        ("-Wno-error=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-Wno-implicit-function-declaration", SEMANTIC),
        ("-Wno-implicit-int", SEMANTIC),
        ("-Wno-incompatible-pointer-types", SEMANTIC),
        ("-Wno-int-conversion", SEMANTIC),
        ("-Wno-narrowing", SEMANTIC),
        ("-Wp,", TAKES_CONCAT_ARG | TOO_HARD),  # may hide -MD,file / -D from our parsing
        ("-Xarch_device", TAKES_ARG),
        ("-Xarch_host", TAKES_ARG),
        ("-Xassembler", TAKES_ARG),
        ("-Xclang", TAKES_ARG),
        ("-Xcuda-fatbinary", TAKES_ARG),
        ("-Xcuda-ptxas", TAKES_ARG),
        ("-Xlinker", TAKES_ARG | LINK_ONLY),
        ("-Xoffload-linker", TAKES_ARG | LINK_ONLY),
        ("-Xopenmp-target", TAKES_ARG | OFFLOAD),
        ("-Xopenmp-target=", TAKES_CONCAT_ARG | TOO_HARD),  # takes a joined triple AND the next arg
        ("-Xpreprocessor", TAKES_ARG | TOO_HARD),
        ("-ansi", SEMANTIC),
        ("-arch", TAKES_ARG | SEMANTIC),
        ("-aux-info", TAKES_ARG | TAKES_PATH),
        ("-b", TAKES_ARG | SEMANTIC),  # old gcc: -b machine
        ("-c", 0),  # the mode; the parser looks for it by name
        ("-dumpbase", TAKES_ARG),
        ("-dumpdir", TAKES_ARG | TAKES_PATH),
        ("-dumpfullversion", NOT_A_COMPILE),
        ("-dumpmachine", NOT_A_COMPILE),
        ("-dumpspecs", NOT_A_COMPILE),
        ("-dumpversion", NOT_A_COMPILE),
        ("-e", TAKES_ARG | LINK_ONLY),
        ("-fblocks", SEMANTIC),
        ("-fbracket-depth=", TAKES_CONCAT_ARG | SEMANTIC),  # deep expressions: the analysis parse needs it too
        ("-fconstexpr-depth=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-fdeclspec", SEMANTIC),
        ("-fdollars-in-identifiers", SEMANTIC),
        # the floating-point environment and aliasing rules the analysis honours
        # (engine/analysis.py FENV_FLAGS, engine/scalar_reach.py)
        ("-ffp-exception-behavior=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-ffp-model=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-fgnu89-inline", SEMANTIC),
        ("-fms-compatibility", SEMANTIC),
        ("-fms-extensions", SEMANTIC),
        ("-fno-strict-aliasing", SEMANTIC),
        ("-foffload-options=", TAKES_CONCAT_ARG | OFFLOAD),
        ("-foffload=", TAKES_CONCAT_ARG | OFFLOAD),
        ("-fopenmp", SEMANTIC | OFFLOAD),
        ("-fopenmp-targets=", TAKES_CONCAT_ARG | OFFLOAD),
        ("-fopenmp=", TAKES_CONCAT_ARG | SEMANTIC | OFFLOAD),
        ("-frounding-math", SEMANTIC),
        ("-fshort-enums", SEMANTIC),
        ("-fshort-wchar", SEMANTIC),
        ("-fsigned-char", SEMANTIC),
        ("-fsyntax-only", NOT_A_COMPILE),
        ("-ftemplate-depth=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-ftrapping-math", SEMANTIC),
        ("-funsigned-char", SEMANTIC),
        ("-idirafter", PATH_ARG | SEMANTIC),
        ("-iframework", PATH_ARG | SEMANTIC),
        ("-imacros", PATH_ARG | SEMANTIC),
        ("-imultilib", TAKES_ARG | SEMANTIC),
        ("-include", PATH_ARG | SEMANTIC),
        ("-include-pch", TAKES_ARG | TAKES_PATH | SEMANTIC),
        ("-iprefix", PATH_ARG | SEMANTIC),
        ("-iquote", PATH_ARG | SEMANTIC),
        ("-isysroot", PATH_ARG | SEMANTIC),
        ("-isystem", PATH_ARG | SEMANTIC),
        ("-isystem-after", TAKES_ARG | TAKES_PATH | SEMANTIC),
        ("-ivfsoverlay", TAKES_ARG | TAKES_PATH | TOO_HARD),
        ("-iwithprefix", PATH_ARG | SEMANTIC),
        ("-iwithprefixbefore", PATH_ARG | SEMANTIC),
        ("-l", ARG | LINK_ONLY),
        ("-mllvm", TAKES_ARG),
        ("-nodefaultlibs", LINK_ONLY),
        ("-nostartfiles", LINK_ONLY),
        ("-nostdinc", SEMANTIC),
        ("-nostdinc++", SEMANTIC),
        ("-nostdlib", LINK_ONLY),
        ("-o", PATH_ARG | OUTPUT),
        ("-pie", LINK_ONLY),
        ("-print-", TAKES_CONCAT_ARG | NOT_A_COMPILE),
        ("-pthread", SEMANTIC),  # (_REENTRANT; and threads may call the file's kernels, PCX146)
        ("-rdynamic", LINK_ONLY),
        ("-save-temps", TOO_HARD),  # would keep temporaries named after the temp file
        ("-save-temps=", TAKES_CONCAT_ARG | TOO_HARD),
        ("-shared", LINK_ONLY),
        ("-specs", TAKES_ARG | TAKES_PATH),
        ("-specs=", TAKES_CONCAT_ARG | TAKES_PATH),
        ("-static", LINK_ONLY),
        ("-std=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-stdlib=", TAKES_CONCAT_ARG | SEMANTIC),
        ("-target", TAKES_ARG | SEMANTIC),
        ("-trigraphs", SEMANTIC),
        ("-u", ARG | LINK_ONLY),
        ("-undef", SEMANTIC),
        ("-x", ARG | LANGUAGE),
        ("-z", TAKES_ARG | LINK_ONLY),
    ]
)

_NAMES: tuple[str, ...] = tuple(o.name for o in OPTIONS)
_BY_NAME: dict[str, CompilerOption] = {o.name: o for o in OPTIONS}
# Options that accept a joined value, longest first so "-include-pch" beats "-include"
# and "-fopenmp-targets=" beats "-fopenmp=".
_CONCAT: tuple[CompilerOption, ...] = tuple(
    sorted((o for o in OPTIONS if o.flags & TAKES_CONCAT_ARG), key=lambda o: -len(o.name))
)


@dataclass(frozen=True)
class Match:
    """One option found at some argv position."""

    option: CompilerOption
    value: str | None  # the argument's value, joined or separate (None: takes none)
    consumed: int  # argv entries used: 1, or 2 when the value was the next argument


def find(name: str) -> CompilerOption | None:
    """The table entry named exactly ``name`` (binary search; the table is sorted)."""
    i = bisect_left(_NAMES, name)
    return OPTIONS[i] if i < len(_NAMES) and _NAMES[i] == name else None


def match(arg: str, following: str | None) -> Match | None:
    """Recognise ``arg`` (with ``following`` the next argv entry or None).

    Contract: pure.  Returns None for an argument the table does not know (the caller
    passes unknown flags through untouched).  An option that takes a separate value
    but is last on the line matches with ``value=None`` and ``consumed=1``.
    """
    exact = _BY_NAME.get(arg)
    if exact is not None and not exact.joined_only:
        if exact.flags & TAKES_ARG:
            if following is None:
                return Match(exact, None, 1)
            return Match(exact, following, 2)
        return Match(exact, None, 1)
    for opt in _CONCAT:
        if arg.startswith(opt.name) and len(arg) > len(opt.name) - (1 if opt.joined_only else 0):
            if not opt.joined_only and len(arg) == len(opt.name):
                continue
            return Match(opt, arg[len(opt.name):], 1)
    return None


def has(flags: int, bit: int) -> bool:
    return bool(flags & bit)


#: options that name a folder of headers, the value joined or the next argument
HEADER_DIR_OPTIONS = ("-I", "-iquote", "-isystem", "-idirafter")


def include_dirs(args: list[str], options: tuple[str, ...] = HEADER_DIR_OPTIONS) -> list[str]:
    """The header folders ``args`` name through ``options``, as spelled, in order
    (``-Iinc``, ``-isystem dir``); the longest option a word starts with is its own."""
    longest_first = sorted(options, key=len, reverse=True)
    out: list[str] = []
    for k, a in enumerate(args):
        if a in options:
            if k + 1 < len(args):
                out.append(args[k + 1])
            continue
        name = next((o for o in longest_first if a.startswith(o)), None)
        if name is not None:
            out.append(a[len(name):])
    return out
