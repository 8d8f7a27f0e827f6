"""The serial programs of the ParaCodex paper's benchmark set (issue 15), 26 from HeCBench
and 7 from Rodinia: is the hot loop offloaded, and is the output the serial program's?

    .venv/bin/python bench/paracodex.py --paracodex DIR [--jobs 2] [--json out.json] [names]

DIR is a checkout of Scientific-Computing-Lab/ParaCodex (its serial programs are read from
``workdirs/serial_omp_hecbench_workdir/golden_labels/src/<name>-serial``, built in a work
folder, never copied here).  The Rodinia programs come from
``workdirs/serial_omp_rodinia_workdir/data/src/<name>-omp``, OpenMP versions: their
``#pragma omp`` lines are blanked to give the serial program (``without_openmp``), and the
files they write their results to count as output.  For each program, with the source
files, ``-std`` and run arguments of its Makefile.nvc (``HOST_ARGS``: smaller ones of the same meaning where the
Makefile's are sized for a GPU):

1. the serial build (clang++-19 -O2);
2. the instrumented build (``PCX_INSTRUMENT=1``, pcx tune's per-nest timing), run once:
   the nest with the most time is the program's hot loop;
3. the static build (``--pcx-mode=static``, the host device), run once under
   ``LIBOMPTARGET_INFO=16`` and ``OMP_TARGET_OFFLOAD=MANDATORY``: the hot loop counts as
   offloaded only if a kernel whose line lies in it launched, or kernels of functions it
   calls launched that took, together, at least half its time in the instrumented run;
4. its output against the serial run's, lines that report timings left out (the gate's
   rule: a line whose varying tokens are times), numbers within 1e-6.

A row reads ``hot+same`` (the goal), ``same`` (right, hot loop serial: the remark says
why), ``hot+close``/``close`` (equal within 1e-5 but not 1e-6: a single-precision sum in
another order), ``WRONG``, ``crash``, ``timeout``, ``build-fail`` or ``not-in-checkout`` (a
snapshot of ParaCodex without the program's folder or sources).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcx_driver.engine import callgraph  # noqa: E402
from pcx_driver.gate import first_difference  # noqa: E402
from pcx_driver.tune.hotspots import load_records, read_timings  # noqa: E402

#: the HeCBench programs of ParaCodex's results (results/hecbench/paracodex_hecbench_codes)
PROGRAMS = ("ace atomicCost atomicIntrinsics bsearch colorwheel convolution1D dense-embedding entropy geodesic "
            "heat jacobi keogh layout matrix-rotate meanshift michalewicz mixbench particlefilter pathfinder "
            "pnpoly pool randomAccess stddev stencil1d vanGenuchten winograd").split()
HECBENCH = Path("workdirs/serial_omp_hecbench_workdir")
#: Run arguments for a 2-core host device: the Makefile's are sized for a GPU (colorwheel's
#: serial run alone passes 120 s here).  Same meaning, fewer repeats or smaller inputs, but
#: not so few that another loop becomes the hot one (stddev runs its Makefile's 100
#: repeats: with 2, the ``rand()`` fill was the hottest nest and the kernel a minority;
#: convolution1D's Makefile runs 1000: with 5, its ``rand()`` fill and host reference check
#: took about half the driver loop, and the verdict flipped between runs).  stencil1d's
#: usage says "length is a multiple of 256"; at 2,000,000 (not one) its serial build wrote
#: past its output array, so it runs at 2,097,152.
HOST_ARGS = {
    "ace": ["1"], "atomicCost": ["8", "2"], "atomicIntrinsics": ["10"], "bsearch": ["1048576", "2"], "colorwheel": ["10", "1024", "2"],
    "convolution1D": ["100000", "40"], "dense-embedding": ["10000", "64", "1"], "entropy": ["1024", "1024", "2"],
    "geodesic": ["1"], "heat": ["1024", "50"], "keogh": ["128", "200000", "2"], "layout": ["10"],
    "matrix-rotate": ["1000", "2"], "michalewicz": ["100000", "2"], "mixbench": ["4"],
    "particlefilter": ["-x", "128", "-y", "128", "-z", "10", "-np", "4000"], "pathfinder": ["100000", "100", "5"],
    "pool": ["8", "30", "128", "128", "24", "24", "2"], "randomAccess": ["1"], "stddev": ["4096", "1024", "100"],
    "stencil1d": ["2097152", "5"], "vanGenuchten": ["64", "64", "64", "5"],
}


def _cities() -> str:
    """geodesic's ``locations.txt`` (upstream a DVC file, absent from a plain checkout):
    2,000 cities, latitude and longitude, from a fixed seed; the program reads at most its
    2,097,152 and leaves the rest of its zero-filled buffer as it is, serial and offloaded
    alike."""
    import random

    r = random.Random(7)
    return "".join(f"{r.uniform(-80, 80):.4f} {r.uniform(-179, 179):.4f}\n" for _ in range(2000))


RODINIA = Path("workdirs/serial_omp_rodinia_workdir")
#: the Rodinia programs of the set (data/src/<name>-omp: OpenMP versions, made serial here)
RODINIA_PROGRAMS = "b+tree backprop bfs hotspot lud nw srad".split()
#: the Makefile's graph (graph1MW_6.txt) and b+tree's key file are not in the checkout;
#: srad at 100 iterations where the Makefile asks 1000 (a 2-core host device); hotspot at
#: 200 steps where the Makefile's 2 leave reading the input files 94% of the time
RODINIA_ARGS = {"bfs": ["4", "input/graph65536.txt"], "srad": ["100", "0.5", "1024", "1024", "4"],
                "hotspot": ["512", "512", "200", "4", "input/temp_512", "input/power_512"]}
#: files a Rodinia program writes its results to, compared like its standard output
RODINIA_OUTPUTS = {"b+tree": ["output.txt"], "bfs": ["result.txt"], "nw": ["result.txt"], "srad": ["image_out.pgm"]}
#: outputs that are float results rounded to 8 bits: srad's image comes from the mean and
#: variance of ``float`` sums over the image; summed in another order (the offloaded
#: reduction), 4 of 1,048,576 pixels at 100 iterations land one grey level apart (checked
#: by hand: the same build with those two reductions left on the host, every other kernel
#: offloaded, writes the serial image byte for byte).  Within that, the row reads "close".
RODINIA_QUANTISED = {"srad": ["image_out.pgm"]}


def _keys() -> str:
    """b+tree's ``mil.txt`` (a count, then the keys): 250,000 distinct keys below a
    million in a fixed random order, where Rodinia's file holds a million."""
    import random

    keys = random.Random(11).sample(range(1, 1_000_001), 250_000)
    return f"{len(keys)}\n" + "".join(f"{k}\n" for k in keys)


RODINIA_INPUTS = {"b+tree": {"input/mil.txt": _keys}}
#: inputs a program opens above its folder (srad reads ``../input/image.pgm``): copied there
RODINIA_ABOVE = {"srad": ["input/image.pgm"]}
#: inputs a program reads that a checkout may lack, written where missing
INPUTS = {"geodesic": {"locations.txt": _cities}}
STRICT = {"OMP_TARGET_OFFLOAD": "MANDATORY", "OMP_NUM_THREADS": "2"}
TIMING_LINE = re.compile(r"(?i)(\btime\b|runtime|elapsed|\btook\b|\bms\b|\bsec\b|seconds|\bus\b|GB/s|GFLOP|throughput|"
                         r"bandwidth|\(s\)|\(ms\)|\(us\)|\d s(,|\s*$))")
FLOAT_RTOL = 1e-5  # single precision, summed in another order
KERNEL_LINE = re.compile(r"Launching kernel __omp_offloading_\w+?_l(\d+)\b")


@dataclass
class Row:
    program: str
    verdict: str = ""
    hot_line: int = 0
    hot_function: str = ""
    hot_share: float = 0.0
    hot_offloaded: bool = False
    hot_reason: str = ""
    nests_offloaded: int = 0
    kernels_launched: list[int] = field(default_factory=list)
    t_serial: float = 0.0
    t_offload: float = 0.0
    note: str = ""


def makefile_facts(text: str) -> tuple[list[str], str, list[str]]:
    """(source files, -std flag or "", run arguments) of a HeCBench Makefile.nvc."""
    joined = text.replace("\\\n", " ")
    m = re.search(r"^source\s*=\s*(.+)$", joined, re.M)
    sources = m.group(1).split() if m else ["main.cpp"]
    std = re.search(r"-std=\S+", joined)
    args = re.search(r"^RUN_ARGS[ \t]*\?=[ \t]*(.*)$", joined, re.M)
    run = args.group(1).split() if args and args.group(1).strip() else []
    if not run:
        line = re.search(r"^run:.*\n\t.*\./\$\(program\)(.*)$", joined, re.M)
        run = line.group(1).split() if line else []
        run = [] if run == ["$(RUN_ARGS)"] else run
    return sources, std.group(0) if std else "", run


def _run(cmd: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int | None, str, str, float]:
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "", time.monotonic() - t
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t


def _untimed(text: str) -> str:
    return "".join(ln + "\n" for ln in text.splitlines() if not TIMING_LINE.search(ln) and
                   not ln.startswith(("omptarget", '"PluginInterface"')))


def sibling_includes(text: str, hecbench: Path | None) -> list[str]:
    """``-I`` flags for the Makefile's ``-I../<dir>`` that a HeCBench checkout holds: the
    ParaCodex copy of a program keeps only its own folder (entropy's ``reference.h`` lives
    in ``../entropy-cuda``), so without them its serial build fails."""
    if hecbench is None:
        return []
    out = []
    for rel in re.findall(r"-I\.\./([\w.-]+)", text):
        d = hecbench / "src" / rel
        if d.is_dir():
            out += ["-I", str(d)]
    return out


@dataclass
class Program:
    """One program of the set, ready to build in ``folder``: its sources (relative to the
    folder), the compile flags both builds share, its run arguments, the files it writes
    whose contents count as output, and whether it is C or C++."""

    name: str
    folder: Path
    sources: list[str]
    flags: list[str]
    args: list[str]
    outputs: list[str] = field(default_factory=list)
    quantised: list[str] = field(default_factory=list)
    cxx: bool = True


def hecbench_program(checkout: Path, name: str, work: Path, hecbench: Path | None = None) -> Program:
    """A HeCBench ``<name>-serial`` folder copied into ``work/<name>``, with the sources,
    ``-std`` and run arguments of its Makefile.nvc (``HOST_ARGS`` where those are sized for
    a GPU)."""
    src_dir = checkout / HECBENCH / "golden_labels" / "src" / f"{name}-serial"
    _require(src_dir, [])
    d = work / name
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(src_dir, d, ignore=shutil.ignore_patterns("main", "*.o"))
    for data, write in INPUTS.get(name, {}).items():
        if not (d / data).exists():  # an input the checkout holds only as a large-file pointer
            (d / data).write_text(write())
    makefile = (d / "Makefile.nvc").read_text(errors="replace")
    sources, std, args = makefile_facts(makefile)
    # -fopenmp: the Makefiles build with nvc -mp, and several "serial" programs call the
    # OpenMP runtime (omp_get_thread_num in bsearch, omp_get_wtime for their timers)
    flags = ["-O2", "-fopenmp", "-I", str(checkout / HECBENCH / "gate_sdk"), *sibling_includes(makefile, hecbench),
             "-w"] + ([std] if std else [])
    return Program(name, d, sources, flags, HOST_ARGS.get(name, args))


def without_openmp(text: str) -> str:
    """A source with its ``#pragma omp`` directives blanked, continuation lines included,
    every other line where it was (so that line numbers still name the same code): the
    serial program that the checkout's OpenMP version was written from."""
    out, blanking = [], False
    for line in text.split("\n"):
        words = line.replace("#", " # ", 1).split()
        starts = words[:3] == ["#", "pragma", "omp"]
        if blanking or starts:
            blanking = line.rstrip().endswith("\\")
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


class NotInCheckout(Exception):
    """The program's folder, or a source its Makefile names, is not in this checkout of
    ParaCodex (its snapshot of 2026-12-07 holds b+tree, backprop, bfs and hotspot whole,
    lud without its sources, and neither nw nor srad): a row of its own, not a harness
    error."""


def _require(folder: Path, sources: list[str]) -> None:
    if not folder.is_dir():
        raise NotInCheckout(f"{folder.name} is not in this checkout")
    missing = [s for s in sources if not (folder / s).is_file()]
    if missing:
        raise NotInCheckout(f"{folder.name} lacks {', '.join(missing[:3])}")


def rodinia_program(checkout: Path, name: str, work: Path) -> Program:
    """A Rodinia program of the set made serial: ``data/src/<name>-omp`` and the shared
    ``common`` folder copied into ``work/<name>`` (its sources include
    ``../../common/...``) with every OpenMP directive blanked (``without_openmp``)."""
    root = checkout / RODINIA / "data" / "src"
    _require(root / f"{name}-omp", [])
    d = work / name
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(root / "common", d / "common")
    prog = d / f"{name}-omp"
    shutil.copytree(root / f"{name}-omp", prog,
                    ignore=shutil.ignore_patterns("main", "*.o", "*.nsys-rep", "log", "output.txt", "inputGen"))
    for f in prog.rglob("*"):
        if f.suffix in (".c", ".cpp", ".h") and f.is_file():
            f.write_text(without_openmp(f.read_text(errors="replace")))
    (prog / "input").mkdir(exist_ok=True)
    for data, write in RODINIA_INPUTS.get(name, {}).items():
        if not (prog / data).exists():
            (prog / data).write_text(write())
    for data in RODINIA_ABOVE.get(name, []):
        (d / data).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(prog / data, d / data)
    sources, std, args = makefile_facts((prog / "Makefile.nvc").read_text(errors="replace"))
    _require(prog, sources)
    cxx = any(s.endswith(".cpp") for s in sources)
    # GNU dialects: the Makefiles build every file with nvc++, and the shared timer header
    # needs ``struct timezone``, which strict C99 hides
    std = "-std=gnu++14" if cxx else "-std=gnu99"
    # old C (backprop's implicit int, lud's undeclared functions) builds as nvc++ takes it
    old_c = [] if cxx else ["-Wno-error=implicit-int", "-Wno-error=implicit-function-declaration"]
    flags = ["-O2", "-fopenmp", "-I", str(checkout / RODINIA / "gate_sdk"), "-w", std, *old_c]
    return Program(name, prog, sources, flags + ["-lm"], RODINIA_ARGS.get(name, args),
                   outputs=RODINIA_OUTPUTS.get(name, []), quantised=RODINIA_QUANTISED.get(name, []), cxx=cxx)


def measure(prog: Program, timeout: float) -> Row:
    row = Row(prog.name)
    d, args, flags, sources = prog.folder, prog.args, prog.flags, prog.sources
    bin_dir = Path(sys.executable).parent
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PCX_", "LIBOMPTARGET_", "OMP_"))}
    env = {**base, **STRICT}
    plain, driver = ("clang++-19", "pcx-c++") if prog.cxx else ("clang-19", "pcx-cc")
    builds = {
        "serial": ([plain, *flags, *sources, "-o", "serial"], base),
        "instrumented": ([str(bin_dir / driver), *flags, *sources, "-o", "instrumented"],
                         {**base, "PCX_INSTRUMENT": "1", "PCX_RECORD": str(d / "records")}),
        "offload": ([str(bin_dir / driver), "--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu",
                     f"--pcx-report={d / 'report.json'}", "-gline-tables-only", *flags, *sources, "-o", "offload"],
                    base),
    }
    for exe, (cmd, e) in builds.items():
        rc, out, err, _ = _run(cmd, d, e, 600)
        (d / f"{exe}-build.log").write_text(" ".join(cmd) + f"\n(exit {rc})\n{out}{err}")
        if rc != 0:
            row.verdict, row.note = "build-fail", f"{exe} build failed"
            return row
    rc, out_s, err_s, row.t_serial = _run(["./serial", *args], d, env, timeout)
    if rc is None or rc != 0:
        row.verdict, row.note = "serial-fails", f"serial run: exit {rc}"
        return row
    written_s = _written(d, prog.outputs)
    # the hot loop: the instrumented run's per-nest timings
    timing = d / "timing.jsonl"
    _run(["./instrumented", *args], d, {**env, "PCX_TIMING_FILE": str(timing)}, timeout * 3)
    records, _ = load_records(d / "records")
    timings = sorted(read_timings([timing]).values(), key=lambda t: -t.seconds)
    if timings:
        hot = timings[0]
        total = sum(t.seconds for t in timings) or 1.0
        row.hot_line, row.hot_share = hot.line, hot.seconds / total
        rec = records.get(hot.key)
        nest = rec.nest(hot.nest_id) if rec is not None else None
        end_line = hot.line
        if nest is not None:
            row.hot_function = nest.function
            end_line = rec.unit.text[:nest.end_byte].count("\n") + 1
            if nest.remarks:
                row.hot_reason = nest.remarks[0].format().split(": remark: ", 1)[-1][:160]
    else:
        end_line = 0
    rc, out_o, err_o, row.t_offload = _run(["./offload", *args], d, {**env, "LIBOMPTARGET_INFO": "16"}, timeout)
    report = d / "report.json"
    if report.exists():
        data = json.loads(report.read_text())
        row.nests_offloaded = sum(1 for s in data.get("sources", []) for n in s.get("nests", []) if n.get("applied"))
    row.kernels_launched = sorted({int(x) for x in KERNEL_LINE.findall(err_o)})
    row.hot_offloaded = bool(row.hot_line) and (
        any(row.hot_line <= k <= end_line for k in row.kernels_launched)
        or _callee_kernel_carries(timings, records, row.kernels_launched))
    if rc is None:
        row.verdict = "timeout"
        return row
    if rc != 0:
        row.verdict, row.note = "crash", (err_o.strip().splitlines() or [""])[-1][:160]
        return row
    written_o = _written(d, prog.outputs)

    def differs(rtol: float) -> str | None:
        def file_differs(f: str) -> str | None:
            if f in prog.quantised and rtol > 1e-6:
                return _levels_apart(written_s[f], written_o[f])
            return first_difference(written_s[f], written_o[f], rtol=rtol)

        return (first_difference(_untimed(out_s), _untimed(out_o), rtol=rtol)
                or first_difference(_untimed(err_s), _untimed(err_o), rtol=rtol)
                or next((f"{f}: {diff}" for f in prog.outputs if (diff := file_differs(f))), None))

    diff = differs(1e-6)
    if diff and differs(FLOAT_RTOL) is None:
        # single-precision sums in another order (jacobi's float `error`: serial 0.00781058,
        # offloaded 0.00781059, the sum in double 0.0078105924): not a wrong plan, shown apart
        row.verdict, row.note = ("hot+close" if row.hot_offloaded else "close"), f"1e-6: {diff[:150]}"
    elif diff:
        row.verdict, row.note = "WRONG", diff[:200]
    else:
        row.verdict = "hot+same" if row.hot_offloaded else "same"
    return row


def _levels_apart(expected: str, got: str) -> str | None:
    """Where two 8-bit images written as text (srad's PGM) differ by more than a float sum
    in another order explains: a value one grey level away from the serial one, in fewer
    than one value in 10,000 (a pixel near a rounding boundary after the image's mean moved
    in its last bit).  Anything else is a difference."""
    a, b = expected.split(), got.split()
    if len(a) != len(b):
        return f"{len(b)} values where the serial run wrote {len(a)}"
    apart = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
    far = [(i, x, y) for i, x, y in apart if not (x.isdigit() and y.isdigit() and abs(int(x) - int(y)) == 1)]
    if far or len(apart) * 10_000 >= len(a):
        i, x, y = (far or apart)[0]
        return f"{len(apart)} of {len(a)} values differ; value {i + 1}: expected {x!r}, got {y!r}"
    return None


def _written(folder: Path, names: list[str]) -> dict[str, str]:
    """The output files a run wrote (read now: the next run writes them again)."""
    return {n: (folder / n).read_text(errors="replace") if (folder / n).exists() else "(not written)" for n in names}


def _callee_kernel_carries(timings: list, records: dict, launched: list[int]) -> bool:
    """The hot loop's work runs in kernels of functions it calls (``for r < repeat:
    step(...)`` with the loop in ``step``): the launched kernels of functions the hot loop
    reaches through its calls took, together, at least half the hot loop's time in the
    instrumented run (a driver loop calling two offloaded versions and a host check)."""
    hot = timings[0] if timings else None
    rec = records.get(hot.key) if hot is not None else None
    nest = rec.nest(hot.nest_id) if rec is not None else None
    if nest is None:
        return False
    graph = callgraph.of(rec.unit.text.encode(), rec.unit.language)
    called = graph.reachable({s.name for s in graph.sites_between(nest.start_byte, nest.end_byte)})
    carried = 0.0
    for t in timings[1:]:
        inner = records[t.key].nest(t.nest_id) if t.key in records else None
        if inner is not None and t.line in launched and inner.function.split("::")[-1] in called:
            carried += t.seconds  # (a launched kernel holds no other launched kernel: no double count)
    return carried >= 0.5 * hot.seconds


def table(rows: list[Row]) -> str:
    out = ["| program | verdict | hot loop (share of time) | nests offloaded | launched at lines | serial s | "
           "offload s | why the hot loop stays serial |", "|---|---|---|---:|---|---:|---:|---|"]
    for r in rows:
        hot = f"{r.hot_function}:{r.hot_line} ({r.hot_share:.0%})" if r.hot_line else "-"
        launched = ", ".join(map(str, r.kernels_launched[:6])) + (" ..." if len(r.kernels_launched) > 6 else "")
        why = "" if r.hot_offloaded else (r.hot_reason or r.note)
        out.append(f"| {r.program} | {r.verdict} | {hot} | {r.nests_offloaded} | {launched} | {r.t_serial:.2f} | "
                   f"{r.t_offload:.2f} | {why} |")
    hot = sum(r.verdict == "hot+same" for r in rows)
    close = sum(r.verdict == "hot+close" for r in rows)
    wrong = sum(r.verdict == "WRONG" for r in rows)
    out.append(f"\nhot loop offloaded with the serial output: {hot}/{len(rows)} (and {close} equal only within "
               f"{FLOAT_RTOL:g}, single-precision sums in another order); WRONG: {wrong}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paracodex", type=Path, required=True, help="a checkout of Scientific-Computing-Lab/ParaCodex")
    ap.add_argument("names", nargs="*", help=f"programs (default: the {len(PROGRAMS)} HeCBench programs and the "
                                              f"{len(RODINIA_PROGRAMS)} Rodinia ones of the set)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120, help="seconds per run")
    ap.add_argument("--work", type=Path, help="build folder (default: a temporary one)")
    ap.add_argument("--json", type=Path, help="write the rows here")
    ap.add_argument("--hecbench", type=Path, help="a HeCBench checkout, for headers a program includes from a "
                                                   "sibling folder (entropy: -I../entropy-cuda)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="pcx-paracodex-"))
    work.mkdir(parents=True, exist_ok=True)
    names = args.names or [*PROGRAMS, *RODINIA_PROGRAMS]

    def one(name: str) -> Row:
        try:
            prog = (rodinia_program(args.paracodex, name, work) if name in RODINIA_PROGRAMS
                    else hecbench_program(args.paracodex, name, work, args.hecbench))
            r = measure(prog, args.timeout)
        except NotInCheckout as exc:
            r = Row(name, verdict="not-in-checkout", note=str(exc))
        except Exception as exc:  # a harness error is a row, not the end of the run
            r = Row(name, verdict="harness-error", note=f"{type(exc).__name__}: {exc}")
        print(f"{r.program:20} {r.verdict:12} hot {r.hot_function}:{r.hot_line} offloaded={r.hot_offloaded} "
              f"{r.note[:80]}", flush=True)
        return r

    with ThreadPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(one, names))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
