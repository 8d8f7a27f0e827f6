"""The OpenMP that pcx-cc / pcx-c++ emit is portable (issues 3 and 8, "Rewrite").

For every example program (examples/c/*.c, examples/cpp/*/main.cpp, examples/demo/heat.c)
the rewritten source that ``--pcx-emit`` keeps must

* contain OpenMP target compute constructs: at least one, and at least one per
  ``pcx: expect offload`` marker of the example (found with tree-sitter, not regexes);
* compile with clang-19 / clang++-19 for NVIDIA GPUs (nvptx64, ``--offload-arch=sm_90``),
  and the object must really carry an sm_90 device image (a CUDA ELF, EM_CUDA = 190,
  inside the ``.llvm.offloading`` section) and one offload entry per compute construct;
  the demo is also LINKED into an executable, which proves device linking
  (clang-linker-wrapper, ptxas/nvlink of CUDA 13) works;
* compile with gcc 12 / g++ 12 (``-fopenmp -foffload=disable -Wall``), without any
  warning about an unknown or ignored pragma or an OpenMP construct, and the object must
  call ``GOMP_target_ext`` (gcc lowered the target regions rather than ignoring them).

Offloading to the host device is covered by tests/test_examples.py and
tests/test_cpp_examples.py; this file only compiles.

Cost: the rewrite of each example runs once per session, shared by the pytest-xdist
workers through a lock file (the emitted text does not depend on -O, so it is produced
with -O0, which halves pcx-cc's own host compile).  Every compile is parametrized
separately so xdist spreads them.  The self-tests at the end prove that the checks fail
on a broken pragma.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin" / "pcx-cc").exists() else Path(sys.executable).parent
PCX_FLAGS = ["--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu"]
LLVM_LIB = "/usr/lib/llvm-19/lib"
NVPTX_FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch=sm_90",
               f"--libomptarget-nvptx-bc-path={LLVM_LIB}"]
GCC_FLAGS = ["-fopenmp", "-foffload=disable", "-Wall"]
TIMEOUT_S = 300  # per compile; a loaded 2-core machine makes a 2 s compile take 20 s

CLANG = shutil.which("clang-19")
CLANGXX = shutil.which("clang++-19")
GCC = shutil.which("gcc-12") or shutil.which("gcc")
GXX = shutil.which("g++-12") or shutil.which("g++")
# clang finds CUDA (ptxas, nvlink) on PATH or at /usr/local/cuda; without it no sm_90 code.
HAVE_CUDA = shutil.which("ptxas") is not None or Path("/usr/local/cuda/bin/ptxas").exists()
HAVE_NVPTX_RTL = Path(LLVM_LIB, "libomptarget-nvptx-sm_90.bc").exists()

EM_CUDA = 190  # ELF e_machine of a CUDA cubin
OFFLOAD_MAGIC = b"\x10\xff\x10\xad"  # LLVM's OffloadBinary header
ENTRY_SIZE = 32  # LLVM 19 __tgt_offload_entry: addr, name, size (8 each), flags, data (4 each)
# The data-environment directives: not kernels, so they have no offload entry.
DATA_DIRECTIVE = re.compile(r"omp\s+target\s+(?:(?:enter|exit)\s+)?data\b|omp\s+target\s+update\b")
COMPUTE_DIRECTIVE = re.compile(r"omp\s+target\b")
# A diagnostic about a pragma or an OpenMP construct: what "portable OpenMP" must never
# draw.  gcc: "ignoring '#pragma omp ...' [-Wunknown-pragmas]"; clang: [-Wopenmp-mapping],
# [-Wsource-uses-openmp], [-Wopenmp-clauses], [-Wignored-pragmas] ...
PRAGMA_WARNING = re.compile(r"warning:.*(?:pragma|openmp|\bomp\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    """One example program: ``key`` names it in test ids and in the shared cache."""

    key: str
    source: Path
    cxx: bool
    link: bool = False  # the nvptx test links this one into an executable

    @property
    def std(self) -> str:
        # the standards the examples are written to (examples/README.md, the Makefiles)
        return "-std=c++17" if self.cxx else "-std=c11"

    @property
    def suffix(self) -> str:
        return ".cpp" if self.cxx else ".c"


def _examples() -> list[Example]:
    out = [Example(f"c/{p.stem}", p, False) for p in sorted((ROOT / "examples" / "c").glob("*.c"))]
    out += [Example(f"cpp/{p.parent.name}", p, True)
            for p in sorted((ROOT / "examples" / "cpp").glob("*/main.cpp"))]
    out.append(Example("demo/heat", ROOT / "examples" / "demo" / "heat.c", False, link=True))
    return out


EXAMPLES = _examples()
IDS = [e.key for e in EXAMPLES]


# ------------------------------------------------------------------ the rewritten sources


@dataclass(frozen=True)
class Emission:
    """What pcx-cc did with one example: its exit status, stderr, and the kept source."""

    rc: int
    stderr: str
    path: Path | None

    def text(self) -> str:
        assert self.rc == 0, f"pcx-cc failed (rc {self.rc}):\n{self.stderr[-3000:]}"
        assert self.path is not None and self.path.is_file(), \
            f"pcx-cc kept no rewritten source with --pcx-emit:\n{self.stderr[-3000:]}"
        return self.path.read_text()


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder all xdist workers of THIS run share (pytest-xdist's documented pattern:
    each worker's basetemp is ``pytest-N/popen-gwK``); without xdist, the session's own."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pcx-portability"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _pcx_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def emitted(example: Example, shared_root: Path) -> Emission:
    """The rewritten source of ``example``, produced once per session under a lock so
    the nvptx and gcc tests of one example (possibly on two workers) share one pcx run."""
    work = shared_root / example.key.replace("/", "-")
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = work / "emission.json"
        if not record.exists():
            driver = VENV_BIN / ("pcx-c++" if example.cxx else "pcx-cc")
            cmd = [str(driver), *PCX_FLAGS, "--pcx-emit=emit", "-O0", example.std,
                   "-c", str(example.source), "-o", "pcx.o"]
            try:
                p = subprocess.run(cmd, cwd=work, env=_pcx_env(), capture_output=True, text=True,
                                   timeout=TIMEOUT_S)
                rc, err = p.returncode, p.stderr
            except subprocess.TimeoutExpired:
                rc, err = 124, f"pcx-cc timed out after {TIMEOUT_S} s"
            # the driver names a kept file by its path relative to the cwd, or by its
            # basename when it lies outside (pcx_driver/driver.py, _emit_name)
            kept = work / "emit" / example.source.name
            record.write_text(json.dumps({"rc": rc, "stderr": err,
                                          "path": str(kept) if kept.is_file() else None}))
        data = json.loads(record.read_text())
    return Emission(data["rc"], data["stderr"], Path(data["path"]) if data["path"] else None)


def _pragmas(text: str, cxx: bool) -> list[str]:
    """The argument of every ``#pragma`` of a source ("omp target ..."), via tree-sitter."""
    from tree_sitter import Language, Parser

    if cxx:
        import tree_sitter_cpp as grammar
    else:
        import tree_sitter_c as grammar
    tree = Parser(Language(grammar.language())).parse(text.encode())
    out: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "preproc_call":
            directive, arg = node.child_by_field_name("directive"), node.child_by_field_name("argument")
            if directive is not None and directive.text == b"#pragma" and arg is not None:
                out.append(" ".join(arg.text.decode().split()))
        stack.extend(node.children)
    return out


def compute_constructs(text: str, cxx: bool) -> list[str]:
    """The target pragmas that launch a kernel (not target data / enter / exit / update)."""
    return [p for p in _pragmas(text, cxx) if COMPUTE_DIRECTIVE.match(p) and not DATA_DIRECTIVE.match(p)]


def offload_markers(source: Path, cxx: bool) -> int:
    """How many ``pcx: expect offload`` marker comments the ORIGINAL source carries."""
    from tree_sitter import Language, Parser

    if cxx:
        import tree_sitter_cpp as grammar
    else:
        import tree_sitter_c as grammar
    tree = Parser(Language(grammar.language())).parse(source.read_bytes())
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment" and re.fullmatch(r"(?:/\*|//)\s*pcx:\s*expect\s+offload\s*(?:\*/)?",
                                                   node.text.decode().strip()):
            count += 1
        stack.extend(node.children)
    return count


# ------------------------------------------------------------------ reading the objects


def elf_sections(data: bytes) -> dict[str, bytes]:
    """Name -> contents of the sections of a little-endian ELF64 file (host x86-64)."""
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not an ELF64 LE file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    _, _, _, _, stroff, strsize = headers[shstrndx]
    names = data[stroff:stroff + strsize]
    out: dict[str, bytes] = {}
    for name, sh_type, _flags, _addr, offset, size in headers:
        label = names[name:names.index(b"\0", name)].decode()
        out[label] = b"" if sh_type == 8 else data[offset:offset + size]  # 8: SHT_NOBITS
    return out


def cuda_images(offloading: bytes) -> int:
    """How many CUDA ELF images (e_machine EM_CUDA) the offload binaries hold."""
    count, i = 0, offloading.find(b"\x7fELF")
    while i >= 0:
        if len(offloading) >= i + 20 and struct.unpack_from("<H", offloading, i + 18)[0] == EM_CUDA:
            count += 1
        i = offloading.find(b"\x7fELF", i + 4)
    return count


def symbol_names(sections: dict[str, bytes]) -> set[str]:
    """The names in the symbol string table (defined and undefined symbols alike)."""
    return {s.decode(errors="replace") for s in sections.get(".strtab", b"").split(b"\0") if s}


# ------------------------------------------------------------------ compiling


@dataclass(frozen=True)
class Compiled:
    """One compiler run: the command, its exit status and its diagnostics."""

    cmd: list[str]
    rc: int
    stderr: str

    def first_error(self) -> str:
        lines = self.stderr.splitlines()
        return next((ln for ln in lines if "error" in ln), lines[0] if lines else f"rc {self.rc}")

    def pragma_warnings(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if PRAGMA_WARNING.search(ln)]

    def describe(self) -> str:
        return f"$ {' '.join(self.cmd)}\nfirst error: {self.first_error()}\n{self.stderr[-4000:]}"


def compile_(cmd: list[str], cwd: Path) -> Compiled:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
        return Compiled(cmd, p.returncode, p.stderr)
    except subprocess.TimeoutExpired:
        return Compiled(cmd, 124, f"error: timed out after {TIMEOUT_S} s")


def nvptx_build(source: Path, cxx: bool, std: str, out: Path, link: bool) -> Compiled:
    compiler = CLANGXX if cxx else CLANG
    assert compiler is not None
    tail = [str(source), "-o", str(out), "-lm"] if link else ["-c", str(source), "-o", str(out)]
    return compile_([compiler, *NVPTX_FLAGS, std, "-Wall", *tail], out.parent)


def gcc_build(source: Path, cxx: bool, std: str, out: Path) -> Compiled:
    compiler = GXX if cxx else GCC
    assert compiler is not None
    return compile_([compiler, *GCC_FLAGS, std, "-c", str(source), "-o", str(out)], out.parent)


def check_nvptx(result: Compiled, out: Path, kernels: int) -> None:
    """The build succeeded cleanly and ``out`` carries sm_90 code for every kernel."""
    assert result.rc == 0, f"clang nvptx build failed:\n{result.describe()}"
    assert not result.pragma_warnings(), \
        f"clang warned about pragmas / OpenMP:\n{result.pragma_warnings()}\n{result.describe()}"
    sections = elf_sections(out.read_bytes())
    offloading = sections.get(".llvm.offloading", b"")
    assert offloading.startswith(OFFLOAD_MAGIC), f"{out.name}: no offload binary in .llvm.offloading"
    assert cuda_images(offloading) >= 1 and b"sm_90" in offloading, f"{out.name}: no sm_90 CUDA image"
    entries = len(sections.get("omp_offloading_entries", b"")) // ENTRY_SIZE
    assert entries >= kernels, f"{out.name}: {entries} offload entries for {kernels} target constructs"


def check_gcc(result: Compiled, out: Path, kernels: int) -> None:
    """The build succeeded without pragma warnings and gcc lowered the target regions."""
    assert result.rc == 0, f"gcc build failed:\n{result.describe()}"
    assert not result.pragma_warnings(), \
        f"gcc warned about pragmas / OpenMP:\n{result.pragma_warnings()}\n{result.describe()}"
    if kernels:
        assert "GOMP_target_ext" in symbol_names(elf_sections(out.read_bytes())), \
            f"{out.name}: gcc emitted no GOMP_target_ext call: target constructs were dropped"


needs_nvptx = pytest.mark.skipif(
    CLANG is None or CLANGXX is None or not HAVE_CUDA or not HAVE_NVPTX_RTL,
    reason="needs clang-19/clang++-19, CUDA's ptxas and libomptarget-nvptx-sm_90.bc")
needs_gcc = pytest.mark.skipif(GCC is None or GXX is None, reason="needs gcc and g++")


# ------------------------------------------------------------------ the tests


def test_every_example_is_covered() -> None:
    assert sum(not e.cxx for e in EXAMPLES) >= 18 and sum(e.cxx for e in EXAMPLES) >= 8, IDS
    assert any(e.link for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_emitted_source_offloads(example: Example, shared_root: Path) -> None:
    text = emitted(example, shared_root).text()
    kernels = compute_constructs(text, example.cxx)
    wanted = max(1, offload_markers(example.source, example.cxx))
    assert len(kernels) >= wanted, \
        f"{example.key}: {len(kernels)} target compute constructs for {wanted} expected offloads"
    assert not any("schedule(static,1)" in k.replace(" ", "") for k in kernels), \
        "schedule(static,1) on a combined construct is not portable (TOOLCHAIN.md)"


@needs_nvptx
@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_nvptx_sm90(example: Example, shared_root: Path, tmp_path: Path) -> None:
    text = emitted(example, shared_root).text()
    source = tmp_path / f"rewritten{example.suffix}"
    source.write_text(text)
    out = tmp_path / ("prog" if example.link else "prog.o")
    result = nvptx_build(source, example.cxx, example.std, out, example.link)
    check_nvptx(result, out, len(compute_constructs(text, example.cxx)))


@needs_gcc
@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_gcc12(example: Example, shared_root: Path, tmp_path: Path) -> None:
    text = emitted(example, shared_root).text()
    source = tmp_path / f"rewritten{example.suffix}"
    source.write_text(text)
    out = tmp_path / "prog.o"
    check_gcc(gcc_build(source, example.cxx, example.std, out), out,
              len(compute_constructs(text, example.cxx)))


# ------------------------------------------------------------------ the checks can fail

_GOOD = """\
void scale(int n, double *restrict a)
{
#pragma omp target teams distribute parallel for map(tofrom: a[0:n])
    for (int i = 0; i < n; i++)
        a[i] *= 2.0;
}
"""
# a misspelt directive: clang rejects it, gcc -Wall ignores it with a warning
_MISSPELT = _GOOD.replace("omp target teams", "omp tagret teams")
# a map type modifier without a map type: rejected by both (STYLE/preamble rule)
_BAD_CLAUSE = _GOOD.replace("map(tofrom: a[0:n])", "map(present: a[0:n])")


@needs_nvptx
@pytest.mark.parametrize("text", [_MISSPELT, _BAD_CLAUSE], ids=["misspelt", "bad-clause"])
def test_nvptx_check_rejects_broken_pragmas(text: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.c"
    source.write_text(text)
    out = tmp_path / "bad.o"
    with pytest.raises(AssertionError):
        check_nvptx(nvptx_build(source, False, "-std=c11", out, link=False), out, 1)


@needs_gcc
@pytest.mark.parametrize("text", [_MISSPELT, _BAD_CLAUSE], ids=["misspelt", "bad-clause"])
def test_gcc_check_rejects_broken_pragmas(text: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.c"
    source.write_text(text)
    out = tmp_path / "bad.o"
    with pytest.raises(AssertionError):
        check_gcc(gcc_build(source, False, "-std=c11", out), out, 1)


@needs_gcc
def test_gcc_check_accepts_a_good_pragma(tmp_path: Path) -> None:
    """The negative self-tests above fail for the right reason, not because the checks
    reject everything."""
    source = tmp_path / "good.c"
    source.write_text(_GOOD)
    out = tmp_path / "good.o"
    check_gcc(gcc_build(source, False, "-std=c11", out), out, 1)


def test_compute_constructs_skips_data_directives() -> None:
    text = ("void f(int n, double *a) {\n#pragma omp target enter data map(to: a[0:n])\n"
            "#pragma omp target update from(a[0:n])\n#pragma omp target teams loop\n"
            "for (int i = 0; i < n; i++) a[i] = 0;\n#pragma omp target exit data map(release: a[0:n])\n}\n")
    assert compute_constructs(text, False) == ["omp target teams loop"]



def test_a_long_double_nest_stays_serial_for_every_target() -> None:
    # nvptx has no 128-bit floating type ("requires 128 bit size 'long double' type
    # support"): one such kernel failed the whole file's GPU build (PCX007)
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Decision, Language, SourceUnit

    src = "long double x[4096];\nvoid k(void) {\n  for (int i = 0; i < 4096; i++)\n    x[i] = x[i] * 2.0L;\n}\n"
    (nest,) = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX145" for r in nest.remarks), nest.remarks


GLOBAL_CONST_POINTERS = r"""
#include <stdio.h>
struct G { double a[4000]; int pad[3]; double b[4000]; } g;
double *const a = g.a;
double *const b = g.b;
double c[4000];
int main(int argc, char **argv) {
  for (int i = 0; i < 4000; i++)  /* THROUGH_CONST */
    b[i] = i * 0.5 + argc;
  for (int i = 0; i < 4000; i++)  /* PLAIN */
    c[i] = 2.0 * i + argc;
  for (int i = 0; i < 4000; i++)
    a[i] = 2.0 * b[i] + c[i];
  double s = 0;
  for (int i = 0; i < 4000; i++) s += a[i];
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_global_constant_pointer_keeps_its_nests_serial_and_the_file_builds(tmp_path) -> None:
    # TSVC's ``double * const a = g.a;``: clang folds ``a`` to ``&g.a[0]`` in device code too,
    # and the offload link failed on the host variable ``g`` (the whole file fell back, PCX007)
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_coverage_liveness import build_and_compare, refused_nest

    build_and_compare(tmp_path, GLOBAL_CONST_POINTERS, ["PLAIN"])
    refused_nest(GLOBAL_CONST_POINTERS, "THROUGH_CONST", "PCX118", "global constant pointer")
