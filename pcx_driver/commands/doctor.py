"""``pcx doctor``: which compilers, offload targets, runtime and GPUs this machine really has.

Nothing is taken on trust: each offload target is probed by building a tiny OpenMP
program (a mapped reduction plus ``omp_is_initial_device()`` inside a target region) in a
temporary directory, and running it where a device for it exists.  Probes run in
parallel with timeouts; a missing tool or a hung probe is a row in the table, never a
traceback.

Exit status: 0 when at least one offload target builds AND runs on a device here, else 1.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pcx_driver import families as fam
from pcx_driver import toolchain

LLVM_LIB = "/usr/lib/llvm-19/lib"  # where Debian's clang-19 keeps libomptarget
COMPILE_TIMEOUT = 90.0
RUN_TIMEOUT = 20.0

#: Compilers pcx knows, with the flag that prints a version and how to pick the line
#: that names it (nvcc prints a banner first; the others lead with the version).
COMPILERS: tuple[tuple[str, str, str], ...] = (
    ("clang-19", "--version", "first"),
    ("clang", "--version", "first"),
    ("gcc", "--version", "first"),
    ("nvc", "--version", "nonempty"),
    ("nvcc", "--version", "release"),
)

#: The probe: a mapped reduction (data really has to cross to the device) and a check
#: that the target region did not run on the initial (host) device.
PROBE_SOURCE = r"""#include <omp.h>
#include <stdio.h>
int main(void) {
  enum { N = 1000 };
  static double a[N];
  double s = 0;
  int initial = -1;
  for (int i = 0; i < N; i++) a[i] = i;
#pragma omp target teams distribute parallel for map(to: a[0:N]) map(tofrom: s) reduction(+: s)
  for (int i = 0; i < N; i++) s += a[i];
#pragma omp target map(from: initial)
  initial = omp_is_initial_device();
  printf("pcx-probe sum=%.0f initial=%d devices=%d\n", s, initial, omp_get_num_devices());
  return 0;
}
"""
PROBE_OUTPUT = re.compile(r"pcx-probe sum=(\d+) initial=(-?\d+) devices=(\d+)")
PROBE_SUM = "499500"


@dataclass(frozen=True)
class TargetProbe:
    """One way of building offload code: a compiler of a family, and an offload target.

    The flags are the ones pcx-cc itself adds (``families.offload_flags``), so what the
    doctor finds working is what a build gets.
    """

    key: str  # short name used in JSON and tests
    title: str
    compiler: str
    family: fam.Family
    target: str
    offload: bool  # False: the target region runs on the host (counts as no offload)
    device: str  # which device must exist to run it: "host", "nvidia", "amd"
    hint: str  # what to install when it fails


TARGET_PROBES: tuple[TargetProbe, ...] = (
    TargetProbe("x86_64-pc-linux-gnu", "host device (x86_64-pc-linux-gnu), clang-19", "clang-19",
                fam.CLANG, fam.HOST, True, "host", "apt-get install clang-19 clang-tools-19 libomp-19-dev"),
    TargetProbe("nvptx64-nvidia-cuda", "NVIDIA sm_90 (nvptx64-nvidia-cuda), clang-19", "clang-19",
                fam.CLANG, fam.NVPTX, True, "nvidia", "install the CUDA toolkit (clang-19 looks in /usr/local/cuda)"),
    TargetProbe("amdgcn-amd-amdhsa", "AMD gfx90a (amdgcn-amd-amdhsa), clang-19", "clang-19",
                fam.CLANG, fam.AMDGCN, True, "amd", "apt-get install lld-19 rocm-device-libs"),
    TargetProbe("gcc-host", "gcc -fopenmp (target regions run on the host)", "gcc",
                fam.GCC, fam.HOST, False, "host", "apt-get install gcc"),
    TargetProbe("gcc-nvptx", "NVIDIA sm_80 (nvptx-none), gcc", "gcc",
                fam.GCC, fam.NVPTX, True, "nvidia", "apt-get install gcc-12-offload-nvptx"),
    TargetProbe("nvc-nvptx", "NVIDIA sm_90, nvc -mp=gpu", "nvc",
                fam.NVC, fam.NVPTX, True, "nvidia", "install the NVIDIA HPC SDK"),
)


@dataclass
class CompilerInfo:
    name: str
    path: str | None
    version: str | None


@dataclass
class TargetResult:
    key: str
    title: str
    offload: bool
    built: bool = False
    ran: bool | None = None  # None: not run (no device for it here)
    works: bool = False  # built, ran, right answer, and (for offload) not on the host
    detail: str = ""
    command: str = ""
    seconds: float = 0.0


@dataclass
class GpuInfo:
    nvidia_smi: list[str] = field(default_factory=list)
    nvidia_devices: list[str] = field(default_factory=list)
    kfd: bool = False

    @property
    def nvidia(self) -> bool:
        return bool(self.nvidia_smi) or any(re.fullmatch(r"/dev/nvidia\d+", d) for d in self.nvidia_devices)


@dataclass
class DoctorReport:
    compilers: list[CompilerInfo]
    targets: list[TargetResult]
    libomptarget: str | None
    libomptarget_how: str
    gpus: GpuInfo
    ok: bool


# ------------------------------------------------------------------------------ running


def run_bounded(argv: list[str], cwd: str, timeout: float, env: dict[str, str] | None = None) -> tuple[int | None, str]:
    """Run ``argv`` in its own process group; on timeout kill the group and return None.

    Returns (exit status or None, stdout and stderr together).  A missing executable is
    status 127, as a shell reports it.
    """
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        return 127, str(exc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # clang forks its tools and a probe may spawn threads: kill the whole group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace")


def compiler_info(name: str, flag: str, pick: str) -> CompilerInfo:
    path = shutil.which(name)
    if path is None:
        return CompilerInfo(name, None, None)
    rc, out = run_bounded([path, flag], cwd=tempfile.gettempdir(), timeout=20)
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    version: str | None = None
    if rc == 0 and lines:
        if pick == "release":
            version = next((ln for ln in lines if "release" in ln), lines[-1])
        else:
            version = lines[0]
    return CompilerInfo(name, path, version or f"(`{name} {flag}` failed)")


def first_error(output: str) -> str:
    """The line of a compiler's output a user needs first (its first error), shortened."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    line = next((ln for ln in lines if "error" in ln.lower()), lines[0] if lines else "no output")
    return line if len(line) <= 220 else line[:217] + "..."


#: ELF ABI version of the cubins CUDA 13's ptxas and nvlink write; LLVM 19's offload
#: runtime reads the GPU architecture from the older (version 7) header layout, finds
#: "No images found compatible with the installed hardware" and, under the default
#: offload policy, runs every kernel on the host (seen on an H200 with driver 580).
CUDA_ABI_V8 = 8
EM_CUDA = 190
UNREADABLE_CUBIN = (
    "; but its GPU code is a CUDA 13 cubin (ELF ABI version 8), which LLVM 19's offload runtime "
    "cannot load: kernels would not run on the GPU. Build with --cuda-path= naming a CUDA 12 "
    "toolkit (`python bench/gpu.py toolchain --out DIR` makes one from pip wheels)")


def cubin_abi_versions(binary: Path) -> list[int]:
    """The ELF ABI versions of the CUDA device images embedded in ``binary`` (clang keeps
    them whole inside the offload section, so their ELF headers can be found by magic)."""
    try:
        data = binary.read_bytes()
    except OSError:
        return []
    found, at = [], data.find(b"\x7fELF", 1)
    while at >= 0:
        if len(data) >= at + 20 and int.from_bytes(data[at + 18:at + 20], "little") == EM_CUDA:
            found.append(data[at + 8])
        at = data.find(b"\x7fELF", at + 4)
    return found


def probe_target(probe: TargetProbe, workdir: Path, gpus: GpuInfo) -> TargetResult:
    """Build the probe for one target in its own directory; run it where a device exists."""
    result = TargetResult(probe.key, probe.title, probe.offload)
    compiler = shutil.which(probe.compiler)
    if compiler is None:
        result.detail = f"{probe.compiler} not found on PATH ({probe.hint})"
        return result
    here = workdir / probe.key
    here.mkdir()
    (here / "probe.c").write_text(PROBE_SOURCE)
    llvm_lib = toolchain.llvm_libdir(toolchain.Compiler(compiler, probe.family)) or LLVM_LIB
    flags = fam.offload_flags(probe.family, probe.target, "link", [], llvm_lib=llvm_lib)
    argv = [compiler, "-O1", *flags, "probe.c", "-o", "probe"]
    result.command = " ".join([probe.compiler, *argv[1:]])
    start = time.monotonic()
    rc, out = run_bounded(argv, str(here), COMPILE_TIMEOUT)
    result.seconds = round(time.monotonic() - start, 2)
    if rc is None:
        result.detail = f"compile timed out after {COMPILE_TIMEOUT:.0f} s"
        return result
    if rc != 0:
        result.detail = f"does not build: {first_error(out)} ({probe.hint})"
        return result
    result.built = True
    unreadable = ""
    if probe.family == fam.CLANG and probe.target == fam.NVPTX and CUDA_ABI_V8 in cubin_abi_versions(here / "probe"):
        unreadable = UNREADABLE_CUBIN
    has_device = {"host": True, "nvidia": gpus.nvidia, "amd": gpus.kfd}[probe.device]
    if not has_device:
        result.detail = (f"builds; not run (no {probe.device.upper() if probe.device == 'amd' else 'NVIDIA'} GPU "
                         f"here){unreadable}")
        return result
    env = dict(os.environ, OMP_NUM_THREADS="2")
    if probe.offload:
        env["OMP_TARGET_OFFLOAD"] = "MANDATORY"  # a silent host fallback must not pass
    rc, out = run_bounded([str(here / "probe")], str(here), RUN_TIMEOUT, env)
    result.seconds = round(time.monotonic() - start, 2)
    result.ran = True
    found = PROBE_OUTPUT.search(out)
    if rc is None:
        result.detail = f"run timed out after {RUN_TIMEOUT:.0f} s"
    elif rc != 0 or found is None:
        result.detail = f"run failed (exit {rc}): {first_error(out)}{unreadable}"
    elif found.group(1) != PROBE_SUM:
        result.detail = f"wrong result: sum={found.group(1)}, expected {PROBE_SUM}"
    elif probe.offload and found.group(2) != "0":
        result.detail = "target region ran on the host, not on a device"
    else:
        result.works = True
        where = "on the host (no offload)" if not probe.offload else f"on a device (omp_get_num_devices() = {found.group(3)})"
        result.detail = f"builds and runs {where}"
    return result


def find_libomptarget(probe_binary: Path | None) -> tuple[str | None, str]:
    """The libomptarget a built offload program loads (ldd), else the one LLVM 19 ships."""
    if probe_binary is not None and probe_binary.exists() and shutil.which("ldd"):
        rc, out = run_bounded(["ldd", str(probe_binary)], str(probe_binary.parent), 20)
        for line in out.splitlines():
            m = re.match(r"\s*(libomptarget\S*)\s*=>\s*(\S+)", line)
            if m and m.group(2) != "not":
                return m.group(2), "ldd of the host-device probe"
    found = sorted(glob.glob(os.path.join(LLVM_LIB, "libomptarget.so*")))
    if found:
        return found[0], f"found in {LLVM_LIB}"
    return None, "not found"


def find_gpus() -> GpuInfo:
    info = GpuInfo(nvidia_devices=sorted(glob.glob("/dev/nvidia*")), kfd=os.path.exists("/dev/kfd"))
    smi = shutil.which("nvidia-smi")
    if smi:
        rc, out = run_bounded([smi, "-L"], tempfile.gettempdir(), 20)
        if rc == 0:
            info.nvidia_smi = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("GPU")]
    return info


def diagnose() -> DoctorReport:
    """Probe everything (in parallel; two cores are plenty for four small builds)."""
    with tempfile.TemporaryDirectory(prefix="pcx-doctor-") as tmp, ThreadPoolExecutor(max_workers=4) as pool:
        workdir = Path(tmp)
        compiler_jobs = [pool.submit(compiler_info, *c) for c in COMPILERS]
        gpus = find_gpus()
        target_jobs = [pool.submit(probe_target, p, workdir, gpus) for p in TARGET_PROBES]
        compilers = [j.result() for j in compiler_jobs]
        targets = [j.result() for j in target_jobs]
        host = workdir / "x86_64-pc-linux-gnu" / "probe"
        lib, how = find_libomptarget(host)
    ok = any(t.works and t.offload for t in targets)
    return DoctorReport(compilers, targets, lib, how, gpus, ok)


# ------------------------------------------------------------------------------ output


def report_json(report: DoctorReport) -> str:
    data = asdict(report)
    data["gpus"]["nvidia"] = report.gpus.nvidia
    return json.dumps(data, indent=2)


def render(report: DoctorReport, console: Console) -> None:
    compilers = Table(title="compilers")
    compilers.add_column("name", style="bold")
    compilers.add_column("path")
    compilers.add_column("version")
    for c in report.compilers:
        compilers.add_row(c.name, c.path or "[dim]not found[/]", c.version or "")
    console.print(compilers)

    targets = Table(title="offload targets (probe built and run here)")
    targets.add_column("target", style="bold")
    targets.add_column("status", no_wrap=True)
    targets.add_column("detail")
    for t in report.targets:
        if t.works:
            status = "[green]works[/]"
        elif t.built:
            status = "[yellow]builds[/]"
        else:
            status = "[red]fails[/]"
        targets.add_row(t.title, status, t.detail)
    console.print(targets)

    console.print(f"[bold]libomptarget:[/] {report.libomptarget or '[red]not found[/]'} ({report.libomptarget_how})")
    gpu_lines = list(report.gpus.nvidia_smi)
    if report.gpus.nvidia_devices:
        gpu_lines.append("device files: " + " ".join(report.gpus.nvidia_devices))
    if report.gpus.kfd:
        gpu_lines.append("/dev/kfd present (AMD ROCm)")
    console.print("[bold]GPUs:[/] " + ("; ".join(gpu_lines) if gpu_lines else "none (no nvidia-smi GPU, /dev/nvidia*, /dev/kfd)"))
    if report.ok:
        working = ", ".join(t.key for t in report.targets if t.works and t.offload)
        console.print(f"[green]ok:[/] offload works here for {working}")
    else:
        console.print("[red]no offload target works here[/]: pcx-cc will compile sources unchanged")


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check compilers, offload targets and GPUs.

    Reports each compiler (path, version), the OpenMP runtime (libomptarget) and GPUs.

    Builds a tiny OpenMP offload program for each target (host device, NVIDIA sm_90,
    AMD gfx90a, gcc) and runs it where a device exists, under OMP_TARGET_OFFLOAD=MANDATORY.
    Exits 0 when at least one offload target works, 1 otherwise.
    """
    report = diagnose()
    if as_json:
        click.echo(report_json(report))
    else:
        render(report, Console(soft_wrap=False))
    sys.exit(0 if report.ok else 1)
