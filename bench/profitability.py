"""Profitability (issue 16): launches and time against the serial build, per program.

    .venv/bin/python bench/profitability.py [--runs 3] [--polybench] [names ...]

For every example (examples/c/*.c, examples/cpp/*/main.cpp) this builds the serial
program (``clang-19 -O2``; ``clang++-19`` for C++) and the static plan (``PCX_MODE=static
pcx-cc -O2``, the default offload target: the host device on a machine without a GPU),
runs each ``--runs`` times under the strict environment (OMP_TARGET_OFFLOAD=MANDATORY,
OMP_NUM_THREADS=2) and reports the medians of whole-program wall time, their ratio, and
the kernel launches of one more run with LIBOMPTARGET_INFO=48 (its output is not timed).
Outputs are compared too (the gate's 1e-6 tolerance): a program whose offloaded output
differs is marked WRONG.  The offload runtime's start-up (a program with one empty kernel,
timed the same way, run by run beside each offloaded program so that both see the same
machine) is a fixed cost that any offloaded program pays; the ``w/o start-up`` column
divides by the offloaded time minus it.  Where that difference is within 2 ms (the
start-up's own spread here) the program's work cannot be told from the start-up: the
column says ``start-up`` and the row is not judged slow.

``--polybench`` adds the 30 PolyBench/C kernels in both configurations from
bench/polybench.py (its own kernel timer, its launch counts in ``kernel_*``), so one table
holds both.  Goal on the host device: no program slower than 2x its serial build
(``slow`` in the last column, judged without the start-up where a kernel launched).  The host device has only the machine's cores, so a ratio
below 1 is expected where the data are small; the point is that no plan explodes.
Results also go to bench/out/profitability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pcx_driver.gate import first_difference  # noqa: E402
from pcx_driver.profile import profile_from_info  # noqa: E402

STRICT_ENV = {"OMP_TARGET_OFFLOAD": "MANDATORY", "OMP_NUM_THREADS": "2",
              "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0"}
SLOW = 2.0


def examples(names: list[str]) -> list[tuple[str, Path, bool]]:
    found = [(p.stem, p, False) for p in sorted((ROOT / "examples" / "c").glob("*.c"))]
    found += [("cpp-" + p.parent.name, p, True) for p in sorted((ROOT / "examples" / "cpp").glob("*/main.cpp"))]
    return [e for e in found if not names or e[0] in names]


def _timed(exe: Path, cwd: Path, env: dict[str, str], runs: int) -> tuple[float | None, str]:
    times, out = [], ""
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run([str(exe)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            return None, r.stderr[-300:]
        out = r.stdout
    return statistics.median(times), out


#: below this difference from the start-up (seconds) a program's work is not measurable
NOISE = 0.002


def _timed_beside(exe: Path, startup: Path | None, cwd: Path, env: dict[str, str],
                  runs: int) -> tuple[float | None, str, float | None]:
    """``_timed`` of ``exe``, each run after one of the start-up program: the medians of
    both (None for the start-up when there is none)."""
    times, starts, out = [], [], ""
    for _ in range(runs):
        if startup is not None:
            starts.append(_timed(startup, startup.parent, env, 1)[0])
        t, out = _timed(exe, cwd, env, 1)
        if t is None:
            return None, out, None
        times.append(t)
    starts = [x for x in starts if x is not None]
    return statistics.median(times), out, statistics.median(starts) if starts else None


def measure(name: str, src: Path, cxx: bool, runs: int, work: Path, startup: Path | None = None) -> dict:
    d = work / name
    d.mkdir(parents=True)
    cc = "clang++-19" if cxx else "clang-19"
    pcx = str(Path(sys.executable).parent / ("pcx-c++" if cxx else "pcx-cc"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    row = {"program": name, "kind": "example"}
    serial = subprocess.run([cc, "-O2", str(src), "-o", "serial", "-lm"], cwd=d, capture_output=True, text=True)
    off = subprocess.run([pcx, "--pcx-mode=static", "-O2", str(src), "-o", "offload", "-lm"], cwd=d, env=env,
                         capture_output=True, text=True)
    if serial.returncode or off.returncode:
        row["verdict"] = "build-fail"
        return row
    run_env = {**env, **STRICT_ENV}
    t_ser, out_ser = _timed(d / "serial", d, run_env, runs)
    t_off, out_off, t_start = _timed_beside(d / "offload", startup, d, run_env, runs)
    info = subprocess.run([str(d / "offload")], cwd=d, env={**run_env, "LIBOMPTARGET_INFO": "48"},
                          capture_output=True, text=True, timeout=300)
    prof = profile_from_info(info.stderr)
    row.update(t_serial=t_ser, t_offload=t_off, t_startup=t_start, launches=prof.launches,
               bytes_to_device=prof.bytes_to_device, bytes_from_device=prof.bytes_from_device)
    if t_ser is None or t_off is None:
        row["verdict"] = "crash"
    else:
        # the gate's comparison: numbers equal within 1e-6 relative (a parallel sum rounds differently)
        row["verdict"] = "same" if first_difference(out_ser, out_off) is None else "WRONG"
        row["ratio"] = t_ser / t_off if t_off > 0 else None
    return row


STARTUP_PROGRAM = r"""int main(void) { int x = 0;
#pragma omp target map(tofrom: x)
x += 1;
return x - 1; }
"""


def startup_program(work: Path) -> Path | None:
    """A program with one empty kernel: its wall time is the offload runtime's start-up
    (device image load, plugin init), which every offloaded program pays once, whatever
    its plan."""
    d = work / "_startup"
    d.mkdir(parents=True)
    (d / "s.c").write_text(STARTUP_PROGRAM)
    r = subprocess.run(["clang-19", "-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu",
                        "-Wl,-rpath,/usr/lib/llvm-19/lib", "s.c", "-o", "s"], cwd=d, capture_output=True)
    return None if r.returncode else d / "s"


def polybench_rows(jobs: int) -> list[dict]:
    out = ROOT / "bench" / "out" / "profitability-polybench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()  # (a stale table must not stand in for this run's)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "polybench.py"), "--config", "both", "--json",
                           str(out), "--jobs", str(jobs)], check=False)
    if not out.exists():  # (exit 1 only says some kernel's verdict is not "same": its rows say which)
        raise SystemExit(f"profitability.py: bench/polybench.py wrote no table (exit {done.returncode}); the "
                         "examples' rows above stand, the PolyBench rows are missing")
    rows = []
    for r in json.loads(out.read_text()).get("rows", []):
        t_ser, t_off = r.get("t_serial"), r.get("t_offload")
        rows.append({"program": f"{r['kernel']} ({r['config']})", "kind": "polybench", "verdict": r["verdict"],
                     "launches": r.get("kernel_launches", 0), "t_serial": t_ser, "t_offload": t_off,
                     "ratio": (t_ser / t_off) if t_ser and t_off else None,
                     "bytes_to_device": r.get("bytes_to_device", 0), "bytes_from_device": r.get("bytes_from_device", 0)})
    return rows


def _ms(t) -> str:
    return "-" if t is None else f"{t * 1000:.1f}"


def _judged(r: dict) -> float | None:
    """The ratio a row is judged by: without the start-up where a kernel launched; none
    where the program's work cannot be told from the start-up."""
    if r.get("startup_bound"):
        return None
    return r["ratio_net"] if r.get("ratio_net") is not None else r.get("ratio")


def table(rows: list[dict]) -> str:
    head = ["program", "launches", "serial ms", "pcx ms", "serial/pcx", "w/o start-up", "verdict", "note"]
    lines = []
    for r in rows:
        ratio, net = r.get("ratio"), r.get("ratio_net")
        judged = _judged(r)
        note = "slow" if judged is not None and judged < 1 / SLOW else ""
        shown = "start-up" if r.get("startup_bound") else "-" if net is None else f"{net:.2f}"
        lines.append([r["program"], str(r.get("launches", "-")), _ms(r.get("t_serial")), _ms(r.get("t_offload")),
                      "-" if ratio is None else f"{ratio:.2f}", shown, r["verdict"], note])
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*x) for x in lines]
    slow = [r["program"] for r in rows if _judged(r) is not None and _judged(r) < 1 / SLOW]
    wrong = [r["program"] for r in rows if r["verdict"] not in ("same",)]
    out.append(f"\n{len(rows)} programs; slower than {SLOW:g}x serial: {len(slow)}"
               + (f" ({', '.join(slow)})" if slow else "") + f"; not same: {len(wrong)}"
               + (f" ({', '.join(wrong)})" if wrong else ""))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="examples to run (default: all)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per build (median; default 3)")
    ap.add_argument("--polybench", action="store_true", help="add the PolyBench kernels (bench/polybench.py)")
    ap.add_argument("--jobs", type=int, default=1, help="PolyBench kernels built and run at once")
    args = ap.parse_args(argv)
    if shutil.which("clang-19") is None:
        print("clang-19 not found", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="pcx-profit-") as tmp:
        startup = startup_program(Path(tmp))
        for name, src, cxx in examples(args.names):
            rows.append(measure(name, src, cxx, args.runs, Path(tmp), startup))
            r = rows[-1]
            t_start = r.get("t_startup")
            if t_start is not None and r.get("t_offload") and r.get("t_serial") and r.get("launches"):
                net = r["t_offload"] - t_start
                r["ratio_net"] = r["t_serial"] / net if net > NOISE else None
                r["startup_bound"] = net <= NOISE
            print(f"  {name:14s} {r['verdict']:10s} launches {r.get('launches', '-')}", file=sys.stderr)
    if args.polybench:
        rows += polybench_rows(args.jobs)
    starts = [r["t_startup"] for r in rows if r.get("t_startup") is not None]
    print(f"offload runtime start-up (an empty kernel's program, run beside each): "
          f"{_ms(statistics.median(starts)) if starts else '-'} ms median; 'w/o start-up' is serial / (pcx - "
          "start-up) for programs that launched a kernel ('start-up': within 2 ms of it)")
    print(table(rows))
    out = ROOT / "bench" / "out" / "profitability.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    slow_or_wrong = any(r["verdict"] != "same" for r in rows)
    return 1 if slow_or_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
