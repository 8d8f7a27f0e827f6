"""Pure parsing of a compiler command line into an ``Invocation``.

scan-build-py's ``compilation.py`` is the model: small functions, each a contract, no
I/O and no globals (response files are read through a function the caller passes), so
the whole module is tested with tables of real command lines.

Vocabulary:
    args        the arguments after the compiler name, as the build system gave them
    expanded    ``args`` with ``@file`` response files expanded (for analysis only: the
                real compiler always receives the original ``args``)
    position    an input's index in ``args`` (None when it came from a response file,
                where the driver cannot substitute it)
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field

from pcx_driver import options as opt

TYPE_CHECKING = False  # typing costs ~3 ms of every compile's start-up; annotations only
if TYPE_CHECKING:
    from typing import Callable

#: Languages pcx rewrites (the ``-x`` spellings a real driver uses).
REWRITABLE = ("c", "c++", "cuda")

_EXTENSION_LANGUAGE: dict[str, str] = {
    ".c": "c",
    ".i": "cpp-output",
    ".cc": "c++",
    ".cp": "c++",
    ".cxx": "c++",
    ".cpp": "c++",
    ".CPP": "c++",
    ".c++": "c++",
    ".C": "c++",
    ".ii": "c++-cpp-output",
    ".cu": "cuda",
    ".h": "c-header",
    ".hh": "c++-header",
    ".hpp": "c++-header",
    ".hxx": "c++-header",
    ".H": "c++-header",
    ".s": "assembler",
    ".S": "assembler-with-cpp",
    ".sx": "assembler-with-cpp",
    ".o": "object",
    ".obj": "object",
    ".lo": "object",
    ".a": "archive",
    ".so": "shared-object",
}

#: ``-x`` values that mean one of the rewritable languages.
_X_ALIASES = {"c": "c", "c++": "c++", "cuda": "cuda", "cu": "cuda"}


class Mode(str, enum.Enum):
    COMPILE = "compile"  # -c: sources to objects
    COMPILE_LINK = "compile+link"  # sources (and maybe objects) to an executable/library
    LINK = "link"  # objects and archives only
    PASS_THROUGH = "pass-through"  # not a compile (-E, -M, --version ...): forward unchanged


@dataclass(frozen=True)
class Input:
    path: str
    language: str  # "c", "c++", "cuda", "object", "archive", ... or "unknown"
    position: int | None  # index in ``args``; None: inside a response file
    x_language: str | None = None  # the ``-x`` in force for it (None: by extension)

    @property
    def rewritable(self) -> bool:
        return self.language in REWRITABLE and self.position is not None and self.path != "-"


@dataclass(frozen=True)
class Dependencies:
    """The make-dependency options of a compile (``-MD -MF f -MT t ...``)."""

    generate: bool = False  # -MD or -MMD
    depfile: str | None = None  # -MF
    targets: tuple[str, ...] = ()  # -MT / -MQ values


@dataclass
class Invocation:
    args: list[str]
    expanded: list[str]
    mode: Mode
    inputs: list[Input] = field(default_factory=list)
    output: str | None = None
    semantic_args: list[str] = field(default_factory=list)
    dependencies: Dependencies = field(default_factory=Dependencies)
    offload_args: list[str] = field(default_factory=list)  # OFFLOAD options the user gave
    too_hard: str | None = None  # why sources must be compiled unchanged
    pass_reason: str | None = None  # why the command is passed through (mode PASS_THROUGH)

    @property
    def sources(self) -> list[Input]:
        return [i for i in self.inputs if i.language in REWRITABLE]


# ------------------------------------------------------------------ pcx's own flags


def split_pcx_flags(args: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Separate ``--pcx-NAME[=V]`` flags (settings) from the compiler's arguments.

    Contract: pure; keeps the order of the remaining arguments; ``--pcx-NAME`` without
    ``=`` has the value "" (a bool setting reads that as true).  Arguments inside
    response files are not inspected.
    """
    flags: dict[str, list[str]] = {}
    rest: list[str] = []
    for a in args:
        if a.startswith("--pcx-") and len(a) > 6:
            name, _, value = a[6:].partition("=")
            flags.setdefault(name, []).append(value)
        else:
            rest.append(a)
    return flags, rest


# ------------------------------------------------------------------ response files


def split_response_file(text: str) -> list[str]:
    """Arguments of a response file: whitespace-separated, with shell-like quoting.

    Contract: pure; raises ValueError on unbalanced quotes.
    """
    import shlex  # only when a response file is read (start-up time)

    return shlex.split(text, comments=False, posix=True)


def expand_response_files(
    args: list[str], read: Callable[[str], str | None], depth: int = 8
) -> tuple[list[str], list[int | None], str | None]:
    """``args`` with every ``@file`` replaced by its arguments, recursively.

    ``read(path)`` returns the file's text or None when it cannot be read.  Returns
    (expanded, origins, problem): ``origins[k]`` is the index in ``args`` of
    ``expanded[k]`` when it is a top-level argument, None when it came from a response
    file; ``problem`` is None if all went well.  An unreadable response file is kept
    literally, as gcc does, but reported so the caller can play safe.
    """
    out: list[str] = []
    origins: list[int | None] = []
    problem: str | None = None
    for idx, a in enumerate(args):
        if a.startswith("@") and len(a) > 1:
            text = read(a[1:]) if depth > 0 else None
            if text is None:
                problem = problem or f"response file {a} cannot be read"
            else:
                try:
                    inner = split_response_file(text)
                except ValueError:
                    problem = problem or f"response file {a} has unbalanced quotes"
                else:
                    expanded, _, inner_problem = expand_response_files(inner, read, depth - 1)
                    out.extend(expanded)
                    origins.extend([None] * len(expanded))
                    problem = problem or inner_problem
                    continue
        out.append(a)
        origins.append(idx)
    return out, origins, problem


# ------------------------------------------------------------------ languages


def language_by_extension(path: str) -> str:
    """The language a real driver infers from ``path``'s extension ("unknown" if none).

    Contract: pure; ``foo.so.1`` is a shared object; ``.C`` is C++ (case matters).
    """
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    if ext in _EXTENSION_LANGUAGE:
        return _EXTENSION_LANGUAGE[ext]
    if ".so." in base:
        return "shared-object"
    return "unknown"


def input_language(path: str, x_language: str | None) -> str:
    """The language of one input given the ``-x`` in force (None or "none": by extension)."""
    if x_language and x_language != "none":
        return _X_ALIASES.get(x_language, x_language)
    if path == "-":
        return "unknown"  # stdin without -x: the real driver will complain, not us
    return language_by_extension(path)


# ------------------------------------------------------------------ parsing


def _looks_like_input(arg: str) -> bool:
    return arg == "-" or not arg.startswith("-")


def parse(args: list[str], read: Callable[[str], str | None] | None = None) -> Invocation:
    """Classify a command line.

    ``args`` are the arguments after the compiler name; ``read`` reads response files
    (None: ``@file`` arguments are not expanded and make the command too hard).
    Contract: pure apart from ``read``.  Positions of inputs refer to ``args``; inputs
    that only appear inside a response file get position None.  Unknown options are
    assumed to take no value (as ccache does) and are left alone.
    """
    expanded, origins, response_problem = expand_response_files(args, read or (lambda _p: None))

    inputs: list[Input] = []
    semantic: list[str] = []
    offload: list[str] = []
    output: str | None = None
    compile_only = False
    verbose = False
    not_a_compile: str | None = None
    too_hard: str | None = response_problem
    gen_deps = False
    depfile: str | None = None
    targets: list[str] = []
    x_language: str | None = None

    i = 0
    n = len(expanded)
    while i < n:
        a = expanded[i]
        nxt = expanded[i + 1] if i + 1 < n else None
        if _looks_like_input(a):
            inputs.append(Input(a, input_language(a, x_language), origins[i], x_language))
            i += 1
            continue
        if a == "-c":
            compile_only = True
            i += 1
            continue
        if a == "-v":
            verbose = True
            i += 1
            continue
        m = opt.match(a, nxt)
        if m is None:  # unknown: passed through untouched
            i += 1
            continue
        words = expanded[i : i + m.consumed]
        f = m.option.flags
        if f & opt.NOT_A_COMPILE and not_a_compile is None:
            not_a_compile = a
        if f & opt.TOO_HARD and too_hard is None:
            too_hard = f"option {a} is not supported by the rewriter"
        if f & opt.SEMANTIC:
            semantic.extend(words)
        if f & opt.OFFLOAD:
            offload.extend(words)
        if f & opt.OUTPUT:
            output = m.value
        if f & opt.LANGUAGE:
            x_language = None if m.value in (None, "none") else m.value
        if f & opt.DEPENDENCY:
            name = m.option.name
            if name in ("-MD", "-MMD"):
                gen_deps = True
            elif name == "-MF":
                depfile = m.value
            elif name in ("-MT", "-MQ") and m.value is not None:
                targets.append(m.value)
        i += m.consumed

    inv = Invocation(
        args=list(args),
        expanded=expanded,
        mode=Mode.PASS_THROUGH,
        inputs=inputs,
        output=output,
        semantic_args=semantic,
        dependencies=Dependencies(gen_deps, depfile, tuple(targets)),
        offload_args=offload,
        too_hard=too_hard,
    )
    inv.mode, inv.pass_reason = classify(inputs, compile_only, verbose, not_a_compile)
    return inv


def classify(
    inputs: list[Input], compile_only: bool, verbose: bool, not_a_compile: str | None
) -> tuple[Mode, str | None]:
    """The mode of a command and, for PASS_THROUGH, why.  Contract: pure."""
    if not_a_compile is not None:
        return Mode.PASS_THROUGH, f"{not_a_compile} is not a compile"
    if not inputs:
        return Mode.PASS_THROUGH, "-v without inputs" if verbose else "no input files"
    if any(i.path == "-" for i in inputs):
        return Mode.PASS_THROUGH, "input from stdin"
    has_sources = any(i.language in REWRITABLE for i in inputs)
    if compile_only:
        return (Mode.COMPILE, None) if has_sources else (Mode.PASS_THROUGH, "-c without C, C++ or CUDA sources")
    if has_sources:
        return Mode.COMPILE_LINK, None
    compiles_something = any(
        i.language not in ("object", "archive", "shared-object", "unknown") for i in inputs
    )
    if compiles_something:  # e.g. assembler sources linked directly
        return Mode.COMPILE_LINK, None
    return Mode.LINK, None


def depfile_candidates(inv: Invocation, source: Input) -> list[str]:
    """Where the compiler writes the .d file for ``source`` (contract: pure).

    ``-MF`` wins; else, for ``-c -o obj``, ``obj`` with its suffix replaced by ``.d``
    (clang and gcc agree); else the source's basename with ``.d`` in the working directory.
    """
    d = inv.dependencies
    if not d.generate and d.depfile is None:
        return []
    if d.depfile is not None:
        return [d.depfile]
    out: list[str] = []
    if inv.output and inv.mode is Mode.COMPILE:
        out.append(os.path.splitext(inv.output)[0] + ".d")
    stem = os.path.splitext(os.path.basename(source.path))[0]
    out.append(stem + ".d")
    if inv.output and inv.mode is Mode.COMPILE_LINK:
        # gcc names it after the output: prog-stem.d
        out.append(f"{inv.output}-{stem}.d")
    return out


def library_archives(args: list[str], cwd: str) -> list[Input]:
    """The static archives that ``-lNAME`` arguments name in the ``-L`` directories of the
    command (``-L. -lmp3lame``, lame's Makefile), as archive inputs at the ``-l`` word's
    position: one with kernels needs the offload link as an archive named as a file does.
    A shared library found first (the linker's choice unless ``-static``) is left alone:
    it holds its own device images."""
    dirs: list[str] = []
    libs: list[tuple[str, int]] = []
    static = any(a in ("-static", "-Wl,-Bstatic") for a in args)
    k = 0
    while k < len(args):
        a = args[k]
        if a in ("-L", "-l") and k + 1 < len(args):
            if a == "-L":
                dirs.append(args[k + 1])
            else:
                libs.append((args[k + 1], k))
            k += 2
            continue
        if a.startswith("-L") and len(a) > 2:
            dirs.append(a[2:])
        elif a.startswith("-l") and len(a) > 2:
            libs.append((a[2:], k))
        k += 1
    found: list[Input] = []
    for name, pos in libs:
        for d in dirs:
            base = os.path.join(cwd, d, "lib" + name)
            if not static and os.path.exists(base + ".so"):
                break
            if os.path.isfile(base + ".a"):
                found.append(Input(os.path.join(d, "lib" + name + ".a"), "archive", pos))
                break
    return found
