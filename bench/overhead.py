"""How much pcx-cc adds to a build: Make projects, each built N times per variant.

    .venv/bin/python bench/overhead.py [--runs 5] [--jobs 1] [--project NAME ...]
                                       [--external NAME=DIR[::MAKE ARGS]]

Projects (each built clean in a temp copy; default: zlib-sized and lulesh-sized):
    zlib-sized    bench/projectgen.py: 15 C files of 150-1,100 lines (8,300 lines), -O2,
                  an archive and two programs, 17 compiler invocations; two files hold
                  loops that static mode offloads (zlib: one of 15)
    lulesh-sized  bench/projectgen.py: C-style C++, one file of 2,900 lines and three
                  of 250-650, -O2 -std=c++17, one link
    fixture       tests/fixtures/make_project: 4 tiny C files (~40 ms a compile), the
                  worst case for a wrapper's start-up cost
    examples      every program of examples/c and examples/cpp as one Make project
    --external    a project of your own (e.g. a configured zlib, LULESH), copied and
                  built with ``make CC=... CXX=... MAKE ARGS``; it needs a clean target

Variants:
    plain         CC=clang-19 CXX=clang++-19
    pass-through  CC=pcx-cc CXX=pcx-c++, PCX_OFFLOAD_TARGET=none  (argv forwarded, exec)
    default       CC=pcx-cc CXX=pcx-c++                 (validated mode, no plan cache:
                                                         the sh front runs the compiler)
    static        CC=pcx-cc CXX=pcx-c++, PCX_MODE=static (the full pipeline on every source)

Builds are interleaved (plain, pass-through, default, static, plain, ...) so that load
from other processes spreads over all variants; the median of each is reported with its
ratio to plain, with the CPU time (user + system) of the build's processes beside the
wall time.  Python's byte-code cache is enabled in a private directory
(PYTHONPYCACHEPREFIX), as in a normal installation.  Results also go to
bench/out/overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import projectgen  # noqa: E402
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


def make_projects(tmp: Path, wanted: list[str], external: list[str]) -> dict[str, tuple[Path, int, str, list[str]]]:
    """name -> (project directory, compiler invocations per build, description, make args)."""
    out: dict[str, tuple[Path, int, str, list[str]]] = {}
    for name in wanted:
        if name in projectgen.PROJECTS:
            write, invocations = projectgen.PROJECTS[name]
            files = write(tmp / name)
            lines = sum((tmp / name / f).read_text().count("\n") for f in files)
            out[name] = (tmp / name, invocations, f"{name}: bench/projectgen.py, {len(files)} files, {lines} lines", [])
        elif name == "fixture":
            fixture = Path(shutil.copytree(PROJECT, tmp / "fixture"))
            # 3 compiles + 1 link + 1 compile-and-link per build
            out[name] = (fixture, 5, "tests/fixtures/make_project: 4 tiny C files", [])
        elif name == "examples":
            examples = tmp / "examples"
            examples.mkdir()
            c = sorted((ROOT / "examples" / "c").glob("*.c"))
            cpp = sorted((ROOT / "examples" / "cpp").glob("*/main.cpp"))
            for src in c:
                shutil.copy(src, examples / f"c_{src.name}")
            for src in cpp:
                shutil.copy(src, examples / f"cpp_{src.parent.name}.cpp")
            (examples / "Makefile").write_text(EXAMPLES_MAKEFILE)
            out[name] = (examples, 2 * (len(c) + len(cpp)),
                         f"examples/: {len(c)} C and {len(cpp)} C++ programs, -O2, compile then link", [])
    for spec in external:
        name, _, rest = spec.partition("=")
        directory, _, make_args = rest.partition("::")
        dest = Path(shutil.copytree(directory, tmp / f"external-{name}", symlinks=True))
        out[name] = (dest, 0, f"{name}: {directory} (outside the repository)", shlex.split(make_args))
    return out


def build_once(project: Path, env: dict[str, str], jobs: int, make_args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of every process of the build) of one clean build."""
    subprocess.run(["make", "-s", "clean"], cwd=project, env=env, check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(["make", "-s", f"-j{jobs}", f"CC={env['CC']}", f"CXX={env['CXX']}", *make_args],
                       cwd=project, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"build failed ({env['CC']}):\n{r.stdout}\n{r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


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
    ap.add_argument("--project", choices=(*projectgen.PROJECTS, "fixture", "examples"), action="append",
                    help="this project (repeatable; default zlib-sized and lulesh-sized)")
    ap.add_argument("--external", action="append", default=[], metavar="NAME=DIR[::MAKE ARGS]",
                    help="also build this project of your own (repeatable)")
    ap.add_argument("--variant", action="append", help="only this variant (repeatable; plain is always built)")
    opts = ap.parse_args()
    clang, clangxx = shutil.which("clang-19"), shutil.which("clang++-19")
    if clang is None or clangxx is None:
        print("bench/overhead.py: clang-19 is not installed", file=sys.stderr)
        return 1
    result = {"runs": opts.runs, "jobs": opts.jobs, "cpus": os.cpu_count(), "load_before": os.getloadavg(),
              "projects": {}}
    wanted = opts.project or ([] if opts.external else list(projectgen.PROJECTS))
    table = variants(clang, clangxx)
    if opts.variant:
        table = {k: v for k, v in table.items() if k == "plain" or k in opts.variant}
    with tempfile.TemporaryDirectory(prefix="pcx-bench-") as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PCX_") and k != "PYTHONDONTWRITEBYTECODE"}
        base["PATH"] = f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}"
        base["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        for pname, (project, compiles, about, make_args) in make_projects(Path(tmp), wanted, opts.external).items():
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in table}
            for name, extra in table.items():  # warm-up: byte-code cache, page cache
                build_once(project, {**base, **extra}, opts.jobs, make_args)
            for _ in range(opts.runs):
                for name, extra in table.items():
                    times[name].append(build_once(project, {**base, **extra}, opts.jobs, make_args))
            plain = statistics.median(t for t, _ in times["plain"])
            plain_cpu = statistics.median(c for _, c in times["plain"])
            print(f"{about}; {opts.runs} clean builds per variant, make -j{opts.jobs}"
                  + (f", {compiles} compiler invocations per build" if compiles else ""))
            print(f"{'variant':<14}{'median s':>10}{'ratio':>8}{'per invocation':>17}{'CPU s':>9}{'CPU ratio':>11}")
            rows = result["projects"][pname] = {"about": about, "invocations": compiles, "variants": {}}
            for name, ts in times.items():
                med = statistics.median(t for t, _ in ts)
                cpu = statistics.median(c for _, c in ts)
                per = f"{(med - plain) / compiles * 1000:>13.1f} ms" if compiles else f"{'':>16}"
                print(f"{name:<14}{med:>10.3f}{med / plain:>7.2f}x{per}{cpu:>9.2f}{cpu / plain_cpu:>10.2f}x")
                rows["variants"][name] = {"median_s": med, "ratio": med / plain, "all_s": [t for t, _ in ts],
                                          "cpu_median_s": cpu, "cpu_ratio": cpu / plain_cpu,
                                          "all_cpu_s": [c for _, c in ts]}
            print()
        floor = result["python_start_s"] = python_floor(base)
    result["load_after"] = os.getloadavg()
    print(summary(result, list(table)))
    print(f"(a bare start of the venv's Python takes {floor * 1000:.1f} ms: the floor of any Python wrapper; "
          f"load average before {result['load_before'][0]:.1f}, after {result['load_after'][0]:.1f}, "
          f"{result['cpus']} CPUs)")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "overhead.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


def summary(result: dict, names: list[str]) -> str:
    """The projects side by side: plain seconds, then each variant's ratio (wall, CPU)."""
    head = "| project | " + " | ".join(("plain clang-19" if n == "plain" else n) for n in names) + " |"
    lines = [head, "|" + "---|" * (len(names) + 1)]
    for rows in result["projects"].values():
        v = rows["variants"]
        cells = [f"{v['plain']['median_s']:.2f} s (CPU {v['plain']['cpu_median_s']:.2f} s)"]
        cells += [f"{v[n]['ratio']:.2f}x (CPU {v[n]['cpu_ratio']:.2f}x)" for n in names if n != "plain"]
        lines.append(f"| {rows['about']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
