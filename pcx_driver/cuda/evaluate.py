"""Evaluate the translator on a set of CUDA example programs (tests and bench/pareval.py).

An example directory holds, for each program ``NAME.cu``, either

* ``NAME.expected``: its expected stdout, produced by an independent serial C twin
  ``NAME.serial.c`` (never by the translator), or
* ``NAME.refused``: lines ``PCX4nn LINE`` naming the refusals the translator must report.

``evaluate(example, workdir)`` translates, builds for the host device with clang-19 (as
C by default: the examples use no C++; as C++ where the translation uses the Thrust
runtime), runs under the gate's validation environment and compares with the expected
output through ``pcx_driver.gate.compare_runs``.  Every step's failure is recorded in the
result, never raised.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pcx_driver import gate
from pcx_driver.cuda.project import ProjectTranslation, translate_project, translate_single
from pcx_driver.cuda.tables import toolkit_library
from pcx_driver.cuda.translate import translate_source
from pcx_driver.model import Language, RunOutput, SourceUnit

CLANG = {"c": "clang-19", "c++": "clang++-19"}
HOST_OFFLOAD_FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
                      "-Wl,-rpath,/usr/lib/llvm-19/lib"]
NVCC_FLAGS = ["-arch=sm_90", "-rdc=true"]  # -rdc: the dynamic-parallelism example is valid CUDA
#: Numbers in the output must match the serial twin within this tolerance (reductions
#: in a different order, libm vs CUDA fast intrinsics); other text must match exactly.
RTOL, ATOL = 1e-5, 1e-6
#: The gate's strict environment, plus KMP_BLOCKTIME=0: block-cooperative kernels run a
#: block's threads as a parallel region, and with more threads than cores libomp's
#: default 200 ms spin at each barrier makes them several times slower.  Speed only:
#: it changes no result and hides no mapping error.
RUN_ENV = {**gate.VALIDATION_ENV, "KMP_BLOCKTIME": "0"}


@dataclass
class Example:
    name: str
    source: Path
    expected: str | None = None  # expected stdout (run examples)
    refusals: list[tuple[str, int]] = field(default_factory=list)  # (ID, line) (refused examples)
    program: list[Path] = field(default_factory=list)  # a multi-file program's sources (else empty)

    @property
    def must_refuse(self) -> bool:
        return self.expected is None

    @property
    def sources(self) -> list[Path]:
        return self.program or [self.source]

    @property
    def twin(self) -> Path:
        """The independent serial C twin whose output is ``expected``."""
        if self.program:
            return self.source.parent / f"{self.name}.serial.c"
        return self.source.with_suffix(".serial.c")


@dataclass
class ExampleResult:
    name: str
    must_refuse: bool
    translated: bool = False
    compiled: bool = False
    validated: bool = False
    refused_as_expected: bool = False
    kernels: dict[str, int] = field(default_factory=dict)  # kernel -> line in the .cu
    launched: list[str] = field(default_factory=list)  # kernels seen launching (INFO 0x10)
    detail: str = ""
    seconds: float = 0.0
    run_seconds: float = 0.0  # the translated program's run alone (strict environment)
    stdout: str = ""

    @property
    def passed(self) -> bool:
        return self.refused_as_expected if self.must_refuse else self.validated


def discover(root: Path) -> list[Example]:
    """Every example under ``root`` (recursively), sorted by name.

    A directory ``D`` holding ``D.expected`` is one program of several files: its ``.cu``
    files are translated together (``pcx_driver.cuda.project``), its twin is
    ``D/D.serial.c``."""
    out: list[Example] = []
    programs = sorted(d for d in root.rglob("*") if d.is_dir() and (d / f"{d.name}.expected").exists())
    for d in programs:
        cus = sorted(d.glob("*.cu"))
        main = d / "main.cu" if (d / "main.cu").exists() else cus[0]
        out.append(Example(d.name, main, expected=(d / f"{d.name}.expected").read_text(), program=cus))
    for cu in sorted(root.rglob("*.cu")):
        if any(d in cu.parents for d in programs):
            continue
        exp, ref = cu.with_suffix(".expected"), cu.with_suffix(".refused")
        if exp.exists():
            out.append(Example(cu.stem, cu, expected=exp.read_text()))
        elif ref.exists():
            pairs = [ln.split() for ln in ref.read_text().splitlines() if ln.strip()]
            out.append(Example(cu.stem, cu, refusals=[(p[0], int(p[1])) for p in pairs]))
    return sorted(out, key=lambda e: e.name)


def nvcc_path() -> str | None:
    return shutil.which("nvcc") or ("/usr/local/bin/nvcc" if Path("/usr/local/bin/nvcc").exists() else None)


def nvcc_includes() -> list[str]:
    """``-I`` flags for toolkit libraries installed apart from nvcc (the ``nvidia-curand``
    wheel's ``include``), from ``PCX_NVCC_INCLUDE`` (directories, ``:``-separated)."""
    return [f"-I{d}" for d in os.environ.get("PCX_NVCC_INCLUDE", "").split(os.pathsep) if d]


def missing_toolkit_header(diagnostics: str) -> str:
    """The toolkit library header nvcc could not find (``curand_kernel.h``), or ''."""
    for m in re.finditer(r"fatal error: ([\w./]+): No such file", diagnostics):
        if toolkit_library(m.group(1)):
            return m.group(1)
    return ""


def nvcc_compile(source: Path | Example, workdir: Path, timeout: float = 300) -> tuple[bool, str]:
    """``nvcc -c`` the source (each source of a program): proves it is valid CUDA.
    (ok, diagnostics)"""
    nvcc = nvcc_path()
    if nvcc is None:
        return False, "nvcc not found"
    for src in source.sources if isinstance(source, Example) else [source]:
        obj = workdir / (src.stem + ".nvcc.o")
        p = subprocess.run([nvcc, *NVCC_FLAGS, *nvcc_includes(), "-c", str(src), "-o", str(obj)], capture_output=True,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            return False, p.stderr
    return True, ""


NVPTX_FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch=sm_90",
               "--libomptarget-nvptx-bc-path=/usr/lib/llvm-19/lib"]


def nvptx_compile(example: Example, workdir: Path, language: str = "c") -> tuple[bool, str]:
    """Compile the translation for a real GPU target (sm_90, object file only: no GPU here)."""
    if example.program:
        tr = _translate_program(example, workdir / "nvptx")
        if not tr.ok:
            return False, "refused"
        for i, src in enumerate(tr.sources):
            p = subprocess.run([CLANG[language], *NVPTX_FLAGS, *(["-x", "c++"] if language == "c++" else []), "-c",
                                src, "-o", str((workdir / f"nvptx{i}.o").resolve())],
                               capture_output=True, text=True, cwd=example.source.parent)
            if p.returncode != 0:
                return False, p.stderr[-2000:]
        return True, ""
    unit = SourceUnit(path=example.source.name, text=example.source.read_text(), language=Language.CUDA)
    tr = translate_source(unit)
    if not tr.ok:
        return False, "refused"
    if tr.cxx:
        language = "c++"  # the Thrust runtime is C++
    src = workdir / (example.name + ".nvptx" + (".c" if language == "c" else ".cpp"))
    src.write_text(tr.text)
    p = subprocess.run([CLANG[language], *NVPTX_FLAGS, "-I", str(example.source.parent.resolve()), "-c", str(src.resolve()), "-o", str((workdir / "nvptx.o").resolve())],
                       capture_output=True, text=True, cwd=example.source.parent)
    return p.returncode == 0, p.stderr[-2000:]


def _kernel_lines(remarks: list) -> dict[str, int]:
    out = {}
    for r in remarks:
        m = re.match(r"CUDA kernel (\w+) translated", r.message)
        if r.id == "PCX400" and m:
            out[m.group(1)] = r.line
    return out


def launched_as(kernel: str, line: int, entry: str) -> bool:
    """Whether offload entry ``entry`` (``__omp_offloading_<id>_<function>_l<line>[_n]``)
    is the launcher of ``kernel`` defined at ``line`` of the .cu; in C++ the function
    part is mangled (``_Z6reduce4dim3...``)."""
    if not re.search(rf"_l{line}(_\d+)?$", entry):
        return False
    return f"_{kernel}_l{line}" in entry or f"{len(kernel)}{kernel}" in entry


def _translate_program(example: Example, outdir: Path) -> ProjectTranslation:
    """Translate a multi-file example into ``outdir`` (written), as ``pcx translate
    main.cu other.cu -o outdir/`` run from the example's directory would."""
    tr = translate_project([str(s) for s in example.program], str(outdir.resolve()), base=str(example.source.parent))
    if tr.ok:
        for path, content in tr.files.items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(content)
    return tr


def _evaluate_program(example: Example, workdir: Path, language: str, timeout: float) -> ExampleResult:
    t0 = time.monotonic()
    res = ExampleResult(example.name, example.must_refuse)
    tr = _translate_program(example, workdir / "out")
    res.kernels = _kernel_lines(tr.remarks)
    if not tr.ok:
        res.detail = "; ".join(r.format() for r in tr.remarks if r.id != "PCX400")
        res.seconds = time.monotonic() - t0
        return res
    res.translated = True
    exe = workdir / example.name
    build = subprocess.run([CLANG[language], *HOST_OFFLOAD_FLAGS, *(["-x", "c++"] if language == "c++" else []),
                            *tr.sources, "-o", str(exe.resolve()), "-lm"],
                           capture_output=True, text=True, cwd=example.source.parent)
    return _run_and_compare(example, res, build, exe, workdir, timeout, t0)


def evaluate(example: Example, workdir: Path, language: str = "c", timeout: float = 120) -> ExampleResult:
    """Translate, build, run and compare one example (or check its refusals)."""
    if example.program:
        return _evaluate_program(example, workdir, language, timeout)
    t0 = time.monotonic()
    res = ExampleResult(example.name, example.must_refuse)
    # As ``pcx translate NAME.cu -o NAME.c`` run in the example's directory would.
    tr = translate_single(str(example.source), base=str(example.source.parent))
    res.kernels = _kernel_lines(tr.remarks)
    if example.must_refuse:
        got = {(r.id, r.line) for r in tr.remarks}
        missing = [f"{i} line {ln}" for i, ln in example.refusals if (i, ln) not in got]
        res.refused_as_expected = not tr.ok and not missing
        res.detail = ("missing refusal: " + ", ".join(missing)) if missing else ("" if not tr.ok else "translated")
        res.seconds = time.monotonic() - t0
        return res
    if not tr.ok:
        res.detail = "; ".join(r.format() for r in tr.remarks if r.id != "PCX400")
        res.seconds = time.monotonic() - t0
        return res
    res.translated = True
    if tr.cxx:
        language = "c++"  # the Thrust runtime is C++
    src = workdir / (example.name + (".c" if language == "c" else ".cpp"))
    src.write_text(tr.text)
    exe = workdir / example.name
    # Build from the example's directory: the #line directives name ``NAME.cu``, and clang
    # names offload entries after the presumed line only when that file exists.
    # -I: the program's own quoted headers, which the translation (written elsewhere) includes.
    build = subprocess.run([CLANG[language], *HOST_OFFLOAD_FLAGS, "-I", str(example.source.parent.resolve()),
                            str(src.resolve()), "-o", str(exe.resolve()), "-lm"],
                           capture_output=True, text=True, cwd=example.source.parent)
    return _run_and_compare(example, res, build, exe, workdir, timeout, t0)


def _run_and_compare(example: Example, res: ExampleResult, build: subprocess.CompletedProcess, exe: Path,
                     workdir: Path, timeout: float, t0: float) -> ExampleResult:
    if build.returncode != 0:
        res.detail = "build failed: " + build.stderr[-2000:]
        res.seconds = time.monotonic() - t0
        return res
    res.compiled = True
    run = gate.run_program([str(exe)], cwd=str(workdir), env=RUN_ENV, timeout=timeout)
    res.stdout = run.stdout
    res.run_seconds = run.seconds
    res.launched = gate.kernel_launches(run.stderr)
    reference = RunOutput(argv=[], returncode=0, stdout=example.expected or "", stderr="", seconds=0.0)
    verdict = gate.compare_runs(reference, run, rtol=RTOL, atol=ATOL)
    unlaunched = [k for k, line in res.kernels.items() if not any(launched_as(k, line, n) for n in res.launched)]
    res.validated = verdict.passed and not unlaunched
    reasons = list(verdict.reasons) + [f"kernel {k} never launched on the device" for k in unlaunched]
    res.detail = "; ".join(reasons)
    res.seconds = time.monotonic() - t0
    return res


def serial_seconds(example: Example, workdir: Path, timeout: float = 120) -> float | None:
    """Build the serial twin with ``clang-19 -O2`` and time one run (None: no twin or it failed)."""
    if example.must_refuse or not example.twin.exists():
        return None
    exe = workdir / (example.name + ".serial")
    b = subprocess.run([CLANG["c"], "-O2", str(example.twin.resolve()), "-o", str(exe.resolve()), "-lm"],
                       capture_output=True, text=True)
    if b.returncode != 0:
        return None
    run = gate.run_program([str(exe)], cwd=str(workdir), env=RUN_ENV, timeout=timeout)
    return run.seconds if run.returncode == 0 else None


#: Below this serial time a run measures process and offload start-up, not the kernels.
TIMED_SERIAL_SECONDS = 0.05


def startup_seconds(workdir: Path, timeout: float = 60) -> float | None:
    """One run of a program whose only work is an empty target region, built like the
    translations: what every translated program pays before its first kernel (process
    start, the offload runtime's start-up and image registration)."""
    src = workdir / "pcx_startup.c"
    src.write_text("#include <stdio.h>\nint main(void)\n{\n  int x = 0;\n"
                   "#pragma omp target map(tofrom: x)\n  x = 1;\n  printf(\"%d\\n\", x);\n  return 0;\n}\n")
    exe = workdir / "pcx_startup"
    b = subprocess.run([CLANG["c"], *HOST_OFFLOAD_FLAGS, str(src), "-o", str(exe)], capture_output=True, text=True)
    if b.returncode != 0:
        return None
    run = gate.run_program([str(exe)], cwd=str(workdir), env=RUN_ENV, timeout=timeout)
    return run.seconds if run.returncode == 0 else None
