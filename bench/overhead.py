"""How much pcx-cc adds to a build: the fixture Make project built N times per variant.

    .venv/bin/python bench/overhead.py [--runs 5] [--jobs 1]

Variants (each a clean `make` of tests/fixtures/make_project in a temp copy):
    plain         CC=clang-19
    pass-through  CC=pcx-cc, PCX_OFFLOAD_TARGET=none   (argv forwarded exactly, exec)
    default       CC=pcx-cc                            (validated mode, no plan cache:
                                                        sources unchanged, offload link flags)
    static        CC=pcx-cc, PCX_MODE=static           (the full pipeline on every source)

Builds are interleaved (plain, pass-through, default, static, plain, ...) so that load
from other processes spreads over all variants; the median of each is reported with its
ratio to plain.  Python's byte-code cache is enabled in a private directory
(PYTHONPYCACHEPREFIX), as in a normal installation.  Results also go to
bench/out/overhead.json.
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
PROJECT = ROOT / "tests" / "fixtures" / "make_project"
VENV_BIN = ROOT / ".venv" / "bin"


def variants(clang: str) -> dict[str, dict[str, str]]:
    return {
        "plain": {"CC": clang},
        "pass-through": {"CC": "pcx-cc", "PCX_OFFLOAD_TARGET": "none"},
        "default": {"CC": "pcx-cc"},
        "static": {"CC": "pcx-cc", "PCX_MODE": "static"},
    }


def build_once(project: Path, env: dict[str, str], jobs: int) -> float:
    subprocess.run(["make", "-s", "clean"], cwd=project, env=env, check=True, capture_output=True)
    start = time.perf_counter()
    r = subprocess.run(["make", "-s", f"-j{jobs}", f"CC={env['CC']}"], cwd=project, env=env,
                       capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"build failed ({env['CC']}):\n{r.stdout}\n{r.stderr}")
    return elapsed


def python_floor(env: dict[str, str], runs: int = 10) -> float:
    """Seconds for the venv's Python to start and exit: the floor of any Python wrapper."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(VENV_BIN / "python"), "-c", "pass"], env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="builds per variant (default 5)")
    ap.add_argument("--jobs", type=int, default=1, help="make -j (default 1: the steadiest ratios)")
    opts = ap.parse_args()
    clang = shutil.which("clang-19")
    if clang is None:
        print("bench/overhead.py: clang-19 is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pcx-bench-") as tmp:
        project = Path(shutil.copytree(PROJECT, Path(tmp) / "make_project"))
        base = {k: v for k, v in os.environ.items() if not k.startswith("PCX_") and k != "PYTHONDONTWRITEBYTECODE"}
        base["PATH"] = f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}"
        base["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        table = variants(clang)
        times: dict[str, list[float]] = {name: [] for name in table}
        for name, extra in table.items():  # warm-up: byte-code cache, page cache
            build_once(project, {**base, **extra}, opts.jobs)
        for _ in range(opts.runs):
            for name, extra in table.items():
                times[name].append(build_once(project, {**base, **extra}, opts.jobs))
        floor = python_floor(base)
    plain = statistics.median(times["plain"])
    compiles = 5  # 3 compiles + 1 link + 1 compile-and-link per build
    print(f"fixture Make project (tests/fixtures/make_project), {opts.runs} clean builds per variant, "
          f"make -j{opts.jobs}, {compiles} compiler invocations per build")
    print(f"{'variant':<14}{'median s':>10}{'ratio':>8}{'per invocation':>17}")
    result = {"runs": opts.runs, "jobs": opts.jobs, "python_start_s": floor, "variants": {}}
    for name, ts in times.items():
        med = statistics.median(ts)
        per = (med - plain) / compiles
        print(f"{name:<14}{med:>10.3f}{med / plain:>7.2f}x{per * 1000:>13.1f} ms")
        result["variants"][name] = {"median_s": med, "ratio": med / plain, "all_s": ts}
    print(f"(a bare start of the venv's Python takes {floor * 1000:.1f} ms: the floor of any Python wrapper)")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "overhead.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
