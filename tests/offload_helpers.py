"""Helpers for the data-plan and rewrite tests: hand-built analyses, real builds, real runs.

Until (and besides) the real analysis, a test describes each offloadable nest by the line
of its ``for`` and the arrays it touches; ``analysis_of`` finds the byte ranges with
tree-sitter.  ``build_and_run`` compiles a source with clang-19 for the host device,
runs it the strict way (OMP_TARGET_OFFLOAD=MANDATORY, no pooled device memory, poisoned
malloc, two threads) and returns the output with the bytes moved and kernels launched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pcx_driver.engine import hostaccess
from pcx_driver.model import (
    ArrayAccessSummary,
    Decision,
    FunctionAnalysis,
    Language,
    NestAnalysis,
    Reduction,
    Section,
    SourceUnit,
    UnitAnalysis,
)
from pcx_driver.profile import copies

CLANG = shutil.which("clang-19") or "clang-19"
CLANGXX = shutil.which("clang++-19") or "clang++-19"
HOST_OFFLOAD = ["-O1", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
                "-Wl,-rpath,/usr/lib/llvm-19/lib"]
RUN_ENV = {
    "OMP_TARGET_OFFLOAD": "MANDATORY",
    "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
    "MALLOC_PERTURB_": "165",
    "OMP_NUM_THREADS": "2",
    "LIBOMPTARGET_INFO": "48",
}


@dataclass
class Arr:
    """One array a nest touches: ``mode`` is "r", "w" or "rw"; dims are (lower, length)."""

    name: str
    dims: list[tuple[str, str]]
    mode: str = "r"
    full: bool = False  # written fully (every element of the section)
    type: str = "double"
    container: str = ""


@dataclass
class Nest:
    line: int | str  # the line of the outer ``for``, or a marker comment on it
    arrays: list[Arr] = field(default_factory=list)
    collapse: int = 1
    private: list[str] = field(default_factory=list)
    reductions: list[tuple[str, str]] = field(default_factory=list)
    atomic: list[str] = field(default_factory=list)  # text of statements made atomic
    calls: list[str] = field(default_factory=list)
    offload: bool = True


def _loop_on_line(root, line: int):
    stack = [root]
    found = None
    while stack:
        n = stack.pop()
        if n.type in ("for_statement", "for_range_loop") and n.start_point[0] + 1 == line:
            if found is None or n.start_byte < found.start_byte:
                found = n
        stack.extend(n.children)
    assert found is not None, f"no for loop on line {line}"
    return found


def analysis_of(unit: SourceUnit, nests: list[Nest]) -> UnitAnalysis:
    data = unit.data
    root = hostaccess.parse(data, unit.language).root_node
    functions: dict[int, FunctionAnalysis] = {}
    for spec in nests:
        if isinstance(spec.line, str):  # a marker comment on the loop's line
            spec.line = unit.text[: unit.text.index(spec.line)].count("\n") + 1
        loop = _loop_on_line(root, spec.line)
        fn = loop
        while fn.type != "function_definition":
            fn = fn.parent
        decl = fn.child_by_field_name("declarator")
        while decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        fname = hostaccess.text_of(data, decl.child_by_field_name("declarator"))
        fa = functions.setdefault(fn.start_byte, FunctionAnalysis(fname, fn.start_byte, fn.end_byte))
        body = loop.text
        arrays = []
        for a in spec.arrays:
            ranges = []
            if a.container:
                stack = [loop]
                while stack:
                    n = stack.pop()
                    if n.type == "subscript_expression":
                        arg = n.child_by_field_name("argument")
                        if arg.type == "identifier" and hostaccess.text_of(data, arg) == a.name:
                            ranges.append((arg.start_byte, arg.end_byte))
                    stack.extend(n.children)
            arrays.append(ArrayAccessSummary(a.name, a.type, "r" in a.mode, "w" in a.mode,
                                             Section(a.name, list(a.dims)), True, a.full, a.container, ranges))
        atomics = []
        for stmt in spec.atomic:
            i = body.find(stmt.encode())
            assert i >= 0, stmt
            atomics.append((loop.start_byte + i, loop.start_byte + i + len(stmt.encode())))
        fa.nests.append(NestAnalysis(
            nest_id=f"{fname}:{spec.line}", function=fname, line=spec.line, column=loop.start_point[1] + 1,
            start_byte=loop.start_byte, end_byte=loop.end_byte, depth=spec.collapse,
            decision=Decision.OFFLOADED if spec.offload else Decision.SERIAL,
            collapse=spec.collapse, private=list(spec.private),
            reductions=[Reduction(op, v) for op, v in spec.reductions], arrays=arrays,
            atomic_updates=atomics, calls=list(spec.calls), work_estimate=1e6))
    dev = {}
    for name in {c for s in nests for c in s.calls}:
        for n in root.named_children:
            if n.type == "function_definition" and hostaccess.text_of(data, n.child_by_field_name("declarator")).startswith(name + "("):
                dev[name] = (n.start_byte, n.end_byte)
    fns = sorted(functions.values(), key=lambda f: f.start_byte)
    for f in fns:
        f.nests.sort(key=lambda n: n.start_byte)
    return UnitAnalysis(unit.path, unit.language, fns, [], dev)


@dataclass
class RunResult:
    stdout: str
    stderr: str
    returncode: int
    to_device: int
    from_device: int
    launches: int
    copies: list

    @property
    def array_to_device(self) -> int:
        """Bytes of array sections copied in (scalars such as reduction results excluded)."""
        return sum(c.size for c in self.copies if c.to_device and "[" in c.name)

    @property
    def array_from_device(self) -> int:
        return sum(c.size for c in self.copies if not c.to_device and "[" in c.name)


def compile_source(path: Path, out: Path, offload: bool, cxx: bool = False, cwd: Path | None = None,
                   extra: list[str] | None = None) -> subprocess.CompletedProcess:
    cc = CLANGXX if cxx else CLANG
    flags = HOST_OFFLOAD if offload else ["-O1"]
    return subprocess.run([cc, *flags, *(extra or []), str(path), "-o", str(out), "-lm"],
                          capture_output=True, text=True, cwd=cwd, timeout=180)


def run(exe: Path, env_extra: dict[str, str] | None = None) -> RunResult:
    env = dict(os.environ, **RUN_ENV, **(env_extra or {}))
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120, cwd=exe.parent)
    cs = copies(p.stderr)
    launches = p.stderr.count("info: Launching kernel")
    return RunResult(p.stdout, p.stderr, p.returncode, sum(c.size for c in cs if c.to_device),
                     sum(c.size for c in cs if not c.to_device), launches, cs)


def launch_lines(exe: Path, args: list[str] | None = None) -> list[int]:
    """The source line of each kernel launch (``Launching kernel ..._l<line>``) of a run of
    ``exe args`` on the host device, in order; the run must succeed."""
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="16"))
    p = subprocess.run([str(exe), *(args or [])], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return [int(m) for m in re.findall(r"Launching kernel \S+_l(\d+)\b", p.stderr)]


def run_with_args(exe: Path, args: list[str]) -> tuple[int, str]:
    """(exit status, stdout) of ``exe args`` the strict way, without libomptarget's report."""
    env = dict(os.environ, **RUN_ENV)
    env.pop("LIBOMPTARGET_INFO", None)
    p = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout


def write_unit(tmp: Path, name: str, text: str) -> SourceUnit:
    (tmp / name).write_text(text)
    lang = Language.CXX if name.endswith((".cpp", ".cc")) else Language.C
    return SourceUnit(name, text, lang, str(tmp))


def serial_and_offloaded(tmp: Path, unit: SourceUnit, rewritten: str) -> tuple[RunResult, RunResult]:
    """Build the original serially and the rewritten text for the host device; run both."""
    cxx = unit.language is Language.CXX
    suffix = ".cpp" if cxx else ".c"
    src = tmp / unit.path
    serial = tmp / "serial.exe"
    r = compile_source(src, serial, offload=False, cxx=cxx)
    assert r.returncode == 0, r.stderr
    rw = tmp / ("rewritten" + suffix)
    rw.write_text(rewritten)
    off = tmp / "offload.exe"
    r = compile_source(rw, off, offload=True, cxx=cxx, cwd=tmp)
    assert r.returncode == 0, r.stderr + "\n" + rewritten
    return run(serial), run(off)
