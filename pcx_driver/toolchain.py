"""Finding the real compiler, its family, and the offload target of this machine.

The real C compiler is ``--pcx-cc`` / ``PCX_CC`` / pcx.toml ``cc`` (the settings in
``config.py``), else the launcher form's argv[1], else the first of clang-19, clang, gcc
on PATH.  pcx-cc never picks itself: a candidate that is a pcx wrapper (same realpath as
this program, named pcx-cc/pcx-c++, or a script that runs ``pcx_driver``) is skipped.
``ACTIVE_ENV`` is set for the real compiler's process so that a pcx-cc reached again
through some other wrapper forwards straight to a real compiler instead of recursing.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from pcx_driver.families import Family

# This module is on pcx-cc's pass-through path: it imports only what Python has already
# loaded at start-up (os, sys; not even functools, whose import costs ~2.5 ms of the
# pass-through budget); families, shutil and subprocess load lazily.

#: Set in the environment of every compiler pcx-cc runs: the realpaths it ran, joined by
#: os.pathsep.  A pcx-cc that finds it set was reached again through another wrapper.
ACTIVE_ENV = "PCX_CC_ACTIVE"

_WRAPPER_NAMES = ("pcx-cc", "pcx-c++")

#: Autodetection order, the families' ``c_compilers``/``cxx_compilers`` in FAMILIES order
#: (spelled out so the pass-through path need not import families; a test checks they agree).
AUTODETECT_C: tuple[str, ...] = ("clang-19", "clang", "gcc", "cc", "nvc")
AUTODETECT_CXX: tuple[str, ...] = ("clang++-19", "clang++", "g++", "c++", "nvc++")


class Compiler:
    """A real compiler: ``path`` as found (argv[0] of the real compiler) and its family."""

    __slots__ = ("path", "family")

    def __init__(self, path: str, family: Family) -> None:
        self.path = path
        self.family = family

    def __repr__(self) -> str:
        return f"Compiler({self.path!r}, {self.family.name})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compiler) and (self.path, self.family) == (other.path, other.family)

    def __hash__(self) -> int:
        return hash(self.path)


def which(name: str, path: str | None = None) -> str | None:
    """``shutil.which`` for executables, without importing shutil (start-up time)."""
    if "/" in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    for d in (path if path is not None else os.environ.get("PATH", os.defpath)).split(os.pathsep):
        candidate = os.path.join(d or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class ToolchainError(RuntimeError):
    """No usable real compiler (the message says what was tried)."""


def _self_paths() -> set[str]:
    paths = set()
    for p in (sys.argv[0] if sys.argv else "",):
        if p:
            w = which(p) or p
            paths.add(os.path.realpath(w))
    return paths


def is_pcx_wrapper(path: str) -> bool:
    """True when ``path`` (an existing executable) is pcx-cc/pcx-c++ or a script running it."""
    real = os.path.realpath(path)
    if os.path.basename(real) in _WRAPPER_NAMES or os.path.basename(path) in _WRAPPER_NAMES:
        return True
    if real in _self_paths():
        return True
    try:
        with open(real, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return head.startswith(b"#!") and b"pcx_driver" in head


def resolve_executable(name: str) -> str | None:
    """``name`` as a runnable path: a path with a slash must be an executable file;
    a bare name is looked up on PATH."""
    return which(name)


def _candidates(cxx: bool) -> tuple[str, ...]:
    return AUTODETECT_CXX if cxx else AUTODETECT_C


_FAMILY_OF: dict[str, Family] = {}  # path -> family, one --version probe per process


def detect_family(path: str) -> Family:
    """The family of the compiler at ``path``: by name (also its realpath), else by
    ``--version``; gcc when nothing answers (the most common ``cc``)."""
    if path not in _FAMILY_OF:
        _FAMILY_OF[path] = _detect_family(path)
    return _FAMILY_OF[path]


def _detect_family(path: str) -> Family:
    from pcx_driver import families as fam

    for name in (path, os.path.realpath(path)):
        f = fam.family_from_name(os.path.basename(name))
        if f is not None:
            return f
    import subprocess  # only to ask an unknown name's --version (start-up time)

    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=20,
            # If ``path`` is a script that runs pcx-cc again, that pcx-cc must skip it.
            env={**os.environ, ACTIVE_ENV: os.pathsep.join(
                p for p in (os.environ.get(ACTIVE_ENV, ""), os.path.realpath(path)) if p)},
        )
        f = fam.family_from_version(out.stdout + out.stderr)
    except (OSError, subprocess.SubprocessError):
        f = None
    return f or fam.GCC


def find_path(
    configured: str | None, launcher: str | None, cxx: bool, visited: frozenset[str] | set[str] = frozenset()
) -> str:
    """The real compiler's path: the launcher form's argv[1], else the configured setting,
    else the first of clang-19, clang, gcc (or their C++ drivers) on PATH.

    A choice that is missing, is a pcx wrapper, or was already run by an outer pcx-cc
    (``visited``, realpaths) falls through to the next: a wrapper wrapping a wrapper must
    not recurse.  Raises ToolchainError when nothing is left.
    """
    for name in (launcher, configured):
        if name:
            path = resolve_executable(name)
            if path is None and name is configured:
                raise ToolchainError(f"the configured {'C++' if cxx else 'C'} compiler {name!r} is not an "
                                     f"executable (see {'PCX_CXX / --pcx-cxx' if cxx else 'PCX_CC / --pcx-cc'})")
            if path and os.path.realpath(path) not in visited and not is_pcx_wrapper(path):
                return path
    tried = _candidates(cxx)
    for name in tried:
        path = which(name)
        if path and os.path.realpath(path) not in visited and not is_pcx_wrapper(path):
            return path
    raise ToolchainError(f"no real {'C++' if cxx else 'C'} compiler found on PATH (tried {', '.join(tried)}); "
                         f"set {'PCX_CXX' if cxx else 'PCX_CC'} or --pcx-{'cxx' if cxx else 'cc'}=")


def choose(
    configured: str | None, launcher: str | None, cxx: bool, visited: frozenset[str] | set[str] = frozenset()
) -> Compiler:
    """``find_path`` with the compiler's family."""
    path = find_path(configured, launcher, cxx, visited)
    return Compiler(path, detect_family(path))


def autodetect(cxx: bool) -> Compiler:
    return choose(None, None, cxx)


def cxx_companion(c: Compiler) -> Compiler:
    """The C++ driver of the same family (and installation) as the C driver ``c``."""
    from pcx_driver import families as fam

    name = fam.cxx_name_for(c.path, c.family)
    if name:
        path = resolve_executable(name)
        if path and not is_pcx_wrapper(path):
            return Compiler(path, c.family)
    for n in c.family.cxx_compilers:
        path = which(n)
        if path and not is_pcx_wrapper(path):
            return Compiler(path, c.family)
    return autodetect(cxx=True)


def llvm_libdir(compiler: Compiler) -> str | None:
    """clang's ``lib`` directory (libomptarget, device bitcode): ``<prefix>/bin/clang``
    -> ``<prefix>/lib`` when libomptarget is there; None for other families."""
    if compiler.family.name != "clang":
        return None
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(compiler.path)))
    lib = os.path.join(prefix, "lib")
    try:
        if any(n.startswith("libomptarget.so") for n in os.listdir(lib)):
            return lib
    except OSError:
        pass
    return None


def detect_offload_target(configured: str | None) -> str:
    """The setting if given, else the GPU present (NVIDIA, then AMD), else the host device."""
    from pcx_driver import families as fam

    if configured:
        return configured
    if os.path.exists("/dev/nvidia0") or which("nvidia-smi"):
        return fam.NVPTX
    if os.path.exists("/dev/kfd"):
        return fam.AMDGCN
    return fam.HOST
