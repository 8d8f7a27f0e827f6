"""How much pcx-cc adds to a build: two Make projects, each built N times per variant.

    .venv/bin/python bench/overhead.py [--runs 5] [--jobs 1]

Projects (each built clean in a temp copy):
    fixture       tests/fixtures/make_project: 4 tiny C files (~40 ms a compile), the
                  worst case for a wrapper's start-up cost
    examples      every program of examples/c and examples/cpp as one Make project
                  (-O2; C files plus C-style C++ with <iostream>/<vector>), a benchmark
                  suite's build as a user runs it

Variants:
    plain         CC=clang-19 CXX=clang++-19
    pass-through  CC=pcx-cc CXX=pcx-c++, PCX_OFFLOAD_TARGET=none  (argv forwarded, exec)
    default       CC=pcx-cc CXX=pcx-c++                 (validated mode, no plan cache:
                                                         sources unchanged, offload link flags)
    static        CC=pcx-cc CXX=pcx-c++, PCX_MODE=static (the full pipeline on every source)

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


def variants(clang: str, clangxx: str) -> dict[str, dict[str, str]]:
    pcx = {"CC": "pcx-cc", "CXX": "pcx-c++"}
    return {
        "plain": {"CC": clang, "CXX": clangxx},
        "pass-through": {**pcx, "PCX_OFFLOAD_TARGET": "none"},
        "default": pcx,
        "static": {**pcx, "PCX_MODE": "static"},
    }


# The examples as one project: each program compiled to an object, then linked, the way a
# benchmark suite's Makefile builds its programs.
EXAMPLES_MAKEFILE = """\
CFLAGS ?= -O2
CXXFLAGS ?= -O2 -std=c++17
C_PROGS := $(patsubst %.c,%,$(wildcard c_*.c))
CXX_PROGS := $(patsubst %.cpp,%,$(wildcard cpp_*.cpp))

all: $(C_PROGS) $(CXX_PROGS)

c_%: c_%.o
\t$(CC) $(CFLAGS) -o $@ $< -lm

cpp_%: cpp_%.o
\t$(CXX) $(CXXFLAGS) -o $@ $< -lm

%.o: %.c
\t$(CC) $(CFLAGS) -c -o $@ $<

%.o: %.cpp
\t$(CXX) $(CXXFLAGS) -c -o $@ $<

clean:
\trm -f *.o $(C_PROGS) $(CXX_PROGS)

.PHONY: all clean
"""


def make_projects(tmp: Path) -> dict[str, tuple[Path, int, str]]:
    """name -> (project directory, compiler invocations per build, description)."""
    fixture = Path(shutil.copytree(PROJECT, tmp / "fixture"))
    examples = tmp / "examples"
    examples.mkdir()
    c = sorted((ROOT / "examples" / "c").glob("*.c"))
    cpp = sorted((ROOT / "examples" / "cpp").glob("*/main.cpp"))
    for src in c:
        shutil.copy(src, examples / f"c_{src.name}")
    for src in cpp:
        shutil.copy(src, examples / f"cpp_{src.parent.name}.cpp")
    (examples / "Makefile").write_text(EXAMPLES_MAKEFILE)
    return {
        # 3 compiles + 1 link + 1 compile-and-link per build
        "fixture": (fixture, 5, "tests/fixtures/make_project: 4 tiny C files"),
        "examples": (examples, 2 * (len(c) + len(cpp)),
                     f"examples/: {len(c)} C and {len(cpp)} C++ programs, -O2, compile then link"),
    }


def build_once(project: Path, env: dict[str, str], jobs: int) -> float:
    subprocess.run(["make", "-s", "clean"], cwd=project, env=env, check=True, capture_output=True)
    start = time.perf_counter()
    r = subprocess.run(["make", "-s", f"-j{jobs}", f"CC={env['CC']}", f"CXX={env['CXX']}"], cwd=project,
                       env=env, capture_output=True, text=True)
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
    ap.add_argument("--project", choices=("fixture", "examples"), action="append",
                    help="only this project (repeatable; default both)")
    opts = ap.parse_args()
    clang, clangxx = shutil.which("clang-19"), shutil.which("clang++-19")
    if clang is None or clangxx is None:
        print("bench/overhead.py: clang-19 is not installed", file=sys.stderr)
        return 1
    result = {"runs": opts.runs, "jobs": opts.jobs, "projects": {}}
    with tempfile.TemporaryDirectory(prefix="pcx-bench-") as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PCX_") and k != "PYTHONDONTWRITEBYTECODE"}
        base["PATH"] = f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}"
        base["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        table = variants(clang, clangxx)
        for pname, (project, compiles, about) in make_projects(Path(tmp)).items():
            if opts.project and pname not in opts.project:
                continue
            times: dict[str, list[float]] = {name: [] for name in table}
            for name, extra in table.items():  # warm-up: byte-code cache, page cache
                build_once(project, {**base, **extra}, opts.jobs)
            for _ in range(opts.runs):
                for name, extra in table.items():
                    times[name].append(build_once(project, {**base, **extra}, opts.jobs))
            plain = statistics.median(times["plain"])
            print(f"{about}; {opts.runs} clean builds per variant, make -j{opts.jobs}, "
                  f"{compiles} compiler invocations per build")
            print(f"{'variant':<14}{'median s':>10}{'ratio':>8}{'per invocation':>17}")
            rows = result["projects"][pname] = {"invocations": compiles, "variants": {}}
            for name, ts in times.items():
                med = statistics.median(ts)
                per = (med - plain) / compiles
                print(f"{name:<14}{med:>10.3f}{med / plain:>7.2f}x{per * 1000:>13.1f} ms")
                rows["variants"][name] = {"median_s": med, "ratio": med / plain, "all_s": ts}
            print()
        floor = result["python_start_s"] = python_floor(base)
    print(f"(a bare start of the venv's Python takes {floor * 1000:.1f} ms: the floor of any Python wrapper)")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "overhead.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
