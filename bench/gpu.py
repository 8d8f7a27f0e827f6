"""The profitability table on a real GPU (issue 16): build here, run on a lent GPU machine.

    .venv/bin/python bench/gpu.py toolchain --out /tmp/cuda12    # here, once: CUDA 12 ptxas + nvlink
    .venv/bin/python bench/gpu.py build --out /tmp/gpubuild --cuda-path /tmp/cuda12
    .venv/bin/python bench/gpu.py pack /tmp/gpubuild --out .gpucarry    # ~43 MB; .gpucarry ignored
    # on the GPU machine (the device tool's run, carry [".gpucarry"]), one command:
    #   sh bench/gpu_device.sh        (unpacks to /tmp/g, runs, writes $OUT/gpu.json)
    .venv/bin/python bench/gpu.py table gpu.json                 # here: the table

``build`` compiles, for the 30 PolyBench/C kernels (both configurations of
bench/polybench.py, MEDIUM data set unless ``--dataset``) and the examples of
bench/profitability.py, the serial program (clang-19 -O2) and pcx-cc's static plan for
NVIDIA (``--pcx-offload-target=nvptx64-nvidia-cuda``, sm_90 unless ``--arch``), plus a
program with one empty kernel (the runtime's start-up), and writes ``manifest.json``.
``pack`` puts the builds and the offload runtime (libomptarget and every library it
loads: the GPU machine has CUDA's driver but no LLVM) into two xz archives to carry.

LLVM 19's offload runtime reads a cubin's GPU architecture from the ELF header layout of
CUDA 12 and before (ELF ABI version 7); CUDA 13's ptxas and nvlink write version 8, and
the runtime then finds "No images found compatible with the installed hardware" (seen on
an H200, driver 580).  ``toolchain`` makes a folder to pass as ``--cuda-path``: CUDA 12's
ptxas and libdevice (the pip wheel nvidia-cuda-nvcc-cu12), and, as ``bin/nvlink``,
bench/gpu_nvlink.py, which links with CUDA 12's nvJitLink (the wheel
nvidia-nvjitlink-cu12), since nvlink is in no wheel.  Binaries built so ran on the H200.

``run`` needs only Python's standard library and the repository: it runs each serial
build, then each offloaded build once under ``LIBOMPTARGET_INFO=48`` with
``OMP_TARGET_OFFLOAD=MANDATORY`` (outputs compared with the serial run's, kernel launches
and bytes counted, so an offload counts only where its kernels launched on the GPU), then
``--runs`` more times for the clock.  Serial programs run several at a time (the machine's
cores), offloaded ones one at a time.  Rows are written after each program, and no new
program starts once ``--budget`` seconds have passed, so a lease that ends early still
returns what it measured.

``table`` prints the rows as the Markdown table of the closing notes: wall time of the
serial and offloaded program, their ratio, the ratio without the runtime's start-up, the
PolyBench kernel timer's ratio, kernel launches and bytes moved.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import polybench as pb  # noqa: E402  (stdlib-only at import time)
from pcx_driver.gate import first_difference  # noqa: E402
from pcx_driver.profile import profile_from_info  # noqa: E402

NVPTX = "nvptx64-nvidia-cuda"
RUNTIME_LIBS = ("libomptarget.so.19.1", "libomp.so.5")
STARTUP_PROGRAM = "int main(void) { int x = 0;\n#pragma omp target map(tofrom: x)\nx += 1;\nreturn x - 1; }\n"


# -- build (here) --------------------------------------------------------------------------

def _runtime_closure() -> list[Path]:
    """libomptarget, libomp and every library ldd says they load, but for libc's own."""
    llvm = Path("/usr/lib/llvm-19/lib")
    found: dict[str, Path] = {n: llvm / n for n in RUNTIME_LIBS}
    for lib in list(found.values()):
        out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) != 2 or not parts[1].strip().startswith("/"):
                continue
            name, path = parts[0].strip(), Path(parts[1].split("(")[0].strip())
            if name.startswith(("libc.so", "libm.so", "libgcc_s", "libstdc++", "ld-linux")):
                continue
            found.setdefault(name, path)
    return list(found.items())


def _build_pair(out: Path, name: str, serial_cmd: list[str], offload_cmd: list[str], env: dict) -> dict:
    d = out / "progs" / name
    d.mkdir(parents=True, exist_ok=True)
    row = {"program": name, "dir": str(d.relative_to(out))}
    for exe, cmd, e in (("serial", serial_cmd, None), ("offload", offload_cmd, env)):
        r = subprocess.run(cmd + ["-o", exe], cwd=d, env=e, capture_output=True, text=True, timeout=600)
        (d / f"{exe}-build.log").write_text(" ".join(cmd) + f"\n(exit {r.returncode})\n" + r.stdout + r.stderr)
        if r.returncode:
            row["build"] = f"{exe} build failed"
            return row
    report = d / "report.json"
    if report.exists():
        applied = 0
        for unit in json.loads(report.read_text()).get("sources", []):
            applied += sum(1 for n in unit.get("nests", []) if n.get("applied"))
        row["nests_applied"] = applied
    row["build"] = "ok"
    return row


def toolchain(args) -> int:
    """CUDA 12's ptxas, libdevice and nvJitLink from their pip wheels, and our nvlink."""
    import tempfile
    import zipfile

    out = args.out.resolve()
    (out / "bin").mkdir(parents=True, exist_ok=True)
    (out / "nvvm").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--platform", "manylinux2014_x86_64", "--python-version", "3.12", "-d", tmp,
                        "nvidia-cuda-nvcc-cu12==12.6.*", "nvidia-nvjitlink-cu12==12.6.*"], check=True)
        for whl in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(whl) as z:
                for name in z.namelist():
                    if name.endswith("/bin/ptxas") or name.endswith("libnvJitLink.so.12"):
                        (out / "bin" / Path(name).name).write_bytes(z.read(name))
                    elif "/nvvm/libdevice/" in name and name.endswith(".bc"):
                        (out / "nvvm" / "libdevice").mkdir(exist_ok=True)
                        (out / "nvvm" / "libdevice" / Path(name).name).write_bytes(z.read(name))
    shutil.copy2(ROOT / "bench" / "gpu_nvlink.py", out / "bin" / "nvlink")
    for exe in ("ptxas", "nvlink"):
        (out / "bin" / exe).chmod(0o755)
    for name in ("include", "bin/fatbinary"):
        if not (out / name).exists() and (Path("/usr/local/cuda") / name).exists():
            (out / name).symlink_to(Path("/usr/local/cuda") / name)
    (out / "version.txt").write_text("CUDA Version 12.6.85\n")
    print(f"{out}: pass --cuda-path={out} to clang-19 (bench/gpu.py build --cuda-path)")
    return 0


def pack(args) -> int:
    """The builds and the offload runtime as two xz archives in ``--out`` (carried)."""
    import tarfile

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out / "libs.tar.xz", "w:xz") as t:
        for name, path in _runtime_closure():
            t.add(path, arcname=name)
    with tarfile.open(out / "progs.tar.xz", "w:xz") as t:
        for name in ("manifest.json", "startup", "progs"):
            t.add(args.build / name, arcname=name)
    for f in sorted(out.iterdir()):
        print(f"{f}: {f.stat().st_size / 1e6:.1f} MB")
    return 0


def build(args) -> int:
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pcx_c = str(Path(sys.executable).parent / "pcx-cc")
    pcx_cxx = str(Path(sys.executable).parent / "pcx-c++")
    target = [f"--pcx-offload-target={args.target}", f"--pcx-offload-arch={args.arch}", "--pcx-mode=static",
              "--pcx-report=report.json", "-gline-tables-only"]
    if args.cuda_path:
        target.append(f"--cuda-path={args.cuda_path}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    jobs: list[tuple] = []
    polybench = pb.default_polybench()
    (out / "pcx_bench_dump.h").write_text(pb.DUMP_HEADER)
    if not args.no_polybench:
        for rel in pb.benchmark_list(polybench):
            src = polybench / rel
            for config, extra in pb.CONFIGS.items():
                flags = ["-O2", "-I", str(polybench / "utilities"), "-I", str(src.parent),
                         f"-D{args.dataset}_DATASET", "-DPOLYBENCH_DUMP_ARRAYS", "-DPOLYBENCH_TIME", *extra,
                         "-include", str(out / "pcx_bench_dump.h"),
                         str(polybench / "utilities" / "polybench.c"), str(src), "-lm"]
                jobs.append((f"{pb.kernel_name(rel)}.{config}", ["clang-19", *flags], [pcx_c, *target, *flags],
                             "polybench"))
    if not args.no_examples:
        for p in sorted((ROOT / "examples" / "c").glob("*.c")):
            jobs.append((p.stem, ["clang-19", "-O2", str(p), "-lm"], [pcx_c, *target, "-O2", str(p), "-lm"],
                         "example"))
        for p in sorted((ROOT / "examples" / "cpp").glob("*/main.cpp")):
            jobs.append(("cpp-" + p.parent.name, ["clang++-19", "-O2", str(p), "-lm"],
                         [pcx_cxx, *target, "-O2", str(p), "-lm"], "example"))
    if args.only:
        jobs = [j for j in jobs if any(j[0].startswith(o) for o in args.only.split(","))]
    (out / "startup").mkdir()
    (out / "startup" / "s.c").write_text(STARTUP_PROGRAM)
    device = ([f"--offload-arch={args.arch}", "--libomptarget-nvptx-bc-path=/usr/lib/llvm-19/lib"]
              + ([f"--cuda-path={args.cuda_path}"] if args.cuda_path else []) if args.target == NVPTX else [])
    subprocess.run(["clang-19", "-O2", "-fopenmp", f"-fopenmp-targets={args.target}", *device, "s.c", "-o", "s"],
                   cwd=out / "startup", check=True)

    def one(job):
        name, serial_cmd, offload_cmd, kind = job
        row = _build_pair(out, name, serial_cmd, offload_cmd, env)
        row["kind"] = kind
        print(f"built {name}: {row['build']}, {row.get('nests_applied', 0)} nests offloaded", flush=True)
        return row

    with ThreadPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(one, jobs))
    (out / "manifest.json").write_text(json.dumps({"dataset": args.dataset, "arch": args.arch,
                                                   "target": args.target, "programs": rows},
                                                  indent=1))
    return 0


# -- run (there) ---------------------------------------------------------------------------

def _exec(exe: Path, env: dict, timeout: float) -> tuple[int | None, str, str, float]:
    t = time.perf_counter()
    try:
        p = subprocess.run([str(exe)], cwd=exe.parent, env=env, capture_output=True, text=True,
                           errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "", time.perf_counter() - t
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t


def _differs(kind: str, ser: tuple, off: tuple) -> str | None:
    if kind == "polybench":
        diffs = pb.compare_dumps(pb.parse_dump(ser[2]) or {}, pb.parse_dump(off[2]) or {})
        if not diffs:
            return None
        x = diffs[0]
        return f"{x.array}: {x.wrong}/{x.elements} differ, first [{x.first_index}] {x.expected} vs {x.got}"
    return first_difference(ser[1], off[1])


def run(args) -> int:
    base = args.dir.resolve()
    manifest = json.loads((base / "manifest.json").read_text())
    env = {**os.environ, "LD_LIBRARY_PATH": f"{base / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
           "OMP_TARGET_OFFLOAD": "MANDATORY"}
    env = {k: v for k, v in env.items() if not k.startswith("LIBOMPTARGET_")}
    t0 = time.monotonic()
    result = {"dataset": manifest["dataset"], "arch": manifest["arch"], "rows": []}
    if shutil.which("nvidia-smi"):
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True)
        result["gpu"] = smi.stdout.strip() or smi.stderr.strip()
    else:
        result["gpu"] = f"no nvidia-smi (offload target {manifest.get('target')})"
    startup = [_exec(base / "startup" / "s", env, 60) for _ in range(5)]
    result["startup_rc"] = [s[0] for s in startup]
    result["startup"] = statistics.median(s[3] for s in startup) if all(s[0] == 0 for s in startup) else None
    print(f"GPU: {result['gpu']}; start-up {result['startup']}", flush=True)
    progs = [r for r in manifest["programs"] if r.get("build") == "ok"]

    def serial(row):
        exe = base / row["dir"] / "serial"
        first = _exec(exe, env, args.timeout)
        times = [first[3]] + [_exec(exe, env, args.timeout)[3] for _ in range(args.runs - 1)]
        return first, statistics.median(times)

    with ThreadPoolExecutor(args.serial_jobs) as ex:
        serials = list(ex.map(serial, progs))
    print(f"serial runs done at {time.monotonic() - t0:.0f}s", flush=True)
    save = Path(args.json)
    for row, (ser, t_ser) in zip(progs, serials):
        if time.monotonic() - t0 > args.budget:
            result["stopped"] = f"budget of {args.budget}s spent before {row['program']}"
            break
        exe = base / row["dir"] / "offload"
        rec = {"program": row["program"], "kind": row["kind"], "nests_applied": row.get("nests_applied", 0),
               "t_serial": t_ser, "k_serial": pb._kernel_time(ser[1]) if row["kind"] == "polybench" else None}
        info = _exec(exe, {**env, "LIBOMPTARGET_INFO": "48"}, args.timeout)
        if ser[0] != 0:
            rec["verdict"] = f"serial exit {ser[0]}"
        elif info[0] != 0:
            rec["verdict"] = "crash" if info[0] is not None else "timeout"
            rec["note"] = info[2].strip().splitlines()[-1][:200] if info[2].strip() else ""
        else:
            prof = profile_from_info(info[2])
            rec.update(launches=prof.launches, bytes_to_device=prof.bytes_to_device,
                       bytes_from_device=prof.bytes_from_device)
            bad = _differs(row["kind"], ser, info)
            rec["verdict"] = "WRONG" if bad else "same"
            if bad:
                rec["note"] = bad
            timed = [_exec(exe, env, args.timeout) for _ in range(args.runs)]
            if all(t[0] == 0 for t in timed):
                rec["t_offload"] = statistics.median(t[3] for t in timed)
                if row["kind"] == "polybench":
                    ks = [pb._kernel_time(t[1]) for t in timed]
                    rec["k_offload"] = statistics.median(ks) if None not in ks else None
        result["rows"].append(rec)
        print(f"{rec['program']:28} {rec['verdict']:6} serial {t_ser:.3f}s offload {rec.get('t_offload', 0):.3f}s "
              f"launches {rec.get('launches', '-')}", flush=True)
        save.write_text(json.dumps(result, indent=1))
    result["seconds"] = time.monotonic() - t0
    save.write_text(json.dumps(result, indent=1))
    return 0


# -- table (here) --------------------------------------------------------------------------

def _ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def table(args) -> int:
    data = json.loads(Path(args.json).read_text())
    s = data.get("startup") or 0.0
    lines = [f"GPU: {data.get('gpu')}; data set {data.get('dataset')}; runtime start-up {s * 1000:.0f} ms "
             "(one empty kernel, whole program)", "",
             "| program | verdict | nests | serial s | offload s | speed-up | w/o start-up | kernel timer | "
             "launches | MB to / from device |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["rows"]:
        ts, to = r.get("t_serial"), r.get("t_offload")
        lines.append(
            f"| {r['program']} | {r['verdict']} | {r.get('nests_applied', 0)} | {ts or 0:.3f} | {to or 0:.3f} | "
            f"{_ratio(ts, to)} | {_ratio(ts, (to - s) if to and to > s else None)} | "
            f"{_ratio(r.get('k_serial'), r.get('k_offload'))} | {r.get('launches', '-')} | "
            f"{r.get('bytes_to_device', 0) / 1e6:.1f} / {r.get('bytes_from_device', 0) / 1e6:.1f} |")
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="serial and nvptx builds, the runtime, manifest.json")
    b.add_argument("--out", type=Path, default=ROOT / ".gpu")
    b.add_argument("--dataset", default="MEDIUM", choices=["MINI", "SMALL", "MEDIUM", "LARGE", "EXTRALARGE"])
    b.add_argument("--arch", default="sm_90")
    b.add_argument("--cuda-path", help="a CUDA 12 ptxas and nvlink (see the module's notes)")
    b.add_argument("--target", default=NVPTX, help="offload target (x86_64-pc-linux-gnu: a dry run here)")
    b.add_argument("--jobs", type=int, default=2)
    b.add_argument("--only", help="comma-separated name prefixes")
    b.add_argument("--no-polybench", action="store_true")
    b.add_argument("--no-examples", action="store_true")
    c = sub.add_parser("toolchain", help="CUDA 12 ptxas, libdevice and an nvJitLink nvlink for --cuda-path")
    c.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("pack", help="the builds and the offload runtime, as archives to carry")
    p.add_argument("build", type=Path)
    p.add_argument("--out", type=Path, default=ROOT / ".gpucarry")
    r = sub.add_parser("run", help="run the builds on the GPU machine (stdlib only)")
    r.add_argument("--dir", type=Path, default=ROOT / ".gpu")
    r.add_argument("--json", required=True)
    r.add_argument("--runs", type=int, default=3)
    r.add_argument("--serial-jobs", type=int, default=8)
    r.add_argument("--timeout", type=float, default=60)
    r.add_argument("--budget", type=float, default=400, help="seconds after which no new program starts")
    t = sub.add_parser("table", help="the Markdown table of a run's JSON")
    t.add_argument("json")
    args = ap.parse_args(argv)
    return {"toolchain": toolchain, "build": build, "pack": pack, "run": run, "table": table}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
