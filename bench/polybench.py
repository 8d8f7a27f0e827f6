"""PolyBench/C 4.2.1 (issues 15 and 12): what pcx-cc offloads, and whether it is right.

Every kernel of ``utilities/benchmark_list`` (30: datamining, linear-algebra, medley,
stencils) is built in two configurations, ``shipped`` (the sources as distributed) and
``restrict`` (``-DPOLYBENCH_USE_RESTRICT``), each twice:

- serial:    ``clang-19 -O2`` with ``utilities/polybench.c``;
- offloaded: ``PCX_MODE=static pcx-cc -O2 -gline-tables-only`` (the default offload
  target: the host device ``x86_64-pc-linux-gnu`` on a machine without a GPU), with
  ``--pcx-report`` (what each loop nest became, and why) and ``--pcx-emit`` (the rewritten
  sources, kept under ``OUT/<config>/<kernel>/emit``).

Both get ``-D<DATASET>_DATASET -DPOLYBENCH_DUMP_ARRAYS -DPOLYBENCH_TIME`` and run under
the strict environment (OMP_TARGET_OFFLOAD=MANDATORY LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD=0
MALLOC_PERTURB_=165 OMP_NUM_THREADS=2).  The dumped arrays (stderr) are compared number by
number at ``|a-b| <= 1e-9 + 1e-6*max(|a|,|b|)`` (the gate's tolerance).  A second run of the
offloaded program with LIBOMPTARGET_INFO=48 counts kernel launches and the bytes copied
each way (skipped when pcx-cc rewrote nothing); its output is never compared.

Full precision: PolyBench prints with ``DATA_PRINTF_MODIFIER`` ("%0.2lf "), which each
kernel's header defines unconditionally, so ``-DDATA_PRINTF_MODIFIER=...`` cannot override
it.  Both builds therefore get ``-include OUT/pcx_bench_dump.h``
(``--polybench-precision`` leaves it out): a header that defines
``fprintf(...)`` as a function printing a value formatted with "%0.2lf "/"%0.2f " as
"%.17g " and passing anything else to vfprintf.  Only print_array calls fprintf.

Per kernel and configuration the table shows:

- ``nests``: top-level loop nests of the ``kernel_*`` function (a loop with no loop around
  it in that function; 51 over the 30 kernels, found with tree-sitter independently of the
  engine) that contain an offloaded loop, out of all of them;
- ``main``: whether the main nest contains an offloaded loop.  The main nest is the
  deepest top-level nest (most loops nested in each other); ties go to the one with more
  loops in it, then to the first in the source.  For a time-stepped stencil it is the
  time loop, which counts as offloaded when a nest inside it is;
- ``reasons``: the remark IDs of the report's records inside the nests that have no
  offloaded loop (``PCX112x3`` = three records with that reason);
- launches, bytes host->device and device->host (LIBOMPTARGET_INFO=48 lines), of the
  whole program; ``12 (10)`` = 12 launches, 10 of them of target regions in ``kernel_*``
  (the rest are in init_array and the like);
- ``t_off``/``t_ser``: PolyBench's own kernel timer (POLYBENCH_TIME), offloaded and serial,
  and their ratio (serial / offloaded: above 1 the offloaded build is faster);
- verdict: same, WRONG (the arrays differ: the first differing array is named in the
  notes and the JSON), unstable (they differ, and so does the serial build compiled with
  ``-fassociative-math``: the kernel's output changes with the order of its sums, as
  gramschmidt's does on its rank-deficient input, so no comparison can judge a parallel
  reduction there; never counted as same), crash (non-zero exit, signal, or no complete dump), build-fail
  (either build failed; the log is in the build directory), timeout.
  ``fallback`` in the notes means pcx-cc compiled the original source after its own
  rewrite failed to compile (PCX007) or an internal error (PCX001): not wrong, but a bug.

Totals per configuration follow the table.  Exit status 1 when any kernel is not ``same``.

    .venv/bin/python bench/polybench.py [--kernels gemm,atax] [--config shipped|restrict|both]
        [--dataset MEDIUM] [--jobs 1] [--timeout 300] [--json OUT.json] [--out DIR]
        [--polybench DIR]   (default: $PCX_POLYBENCH, else ../shared/polybench-c-4.2.1
                             beside the repository)

Times are wall-clock kernel times on whatever machine runs this; with ``--jobs`` above 1
the runs share the cores and the times mean less (the verdicts do not change).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcx_driver.profile import profile_from_info  # noqa: E402

CONFIGS = {"shipped": [], "restrict": ["-DPOLYBENCH_USE_RESTRICT"]}
STRICT_ENV = {
    "OMP_TARGET_OFFLOAD": "MANDATORY",
    "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
    "MALLOC_PERTURB_": "165",
    "OMP_NUM_THREADS": "2",
}
RTOL, ATOL = 1e-6, 1e-9
INFO_REMARKS = {"PCX100", "PCX117", "PCX200", "PCX201", "PCX202"}  # not reasons to stay serial
LOOPS = ("for_statement", "while_statement", "do_statement")

DUMP_HEADER = r"""/* pcx bench/polybench.py: PolyBench's dump at full precision (forced include). */
#ifndef PCX_BENCH_DUMP_H
#define PCX_BENCH_DUMP_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
static int pcx_bench_fprintf(FILE *f, const char *fmt, ...) __attribute__((unused));
static int pcx_bench_fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    if (strcmp(fmt, "%0.2lf ") == 0 || strcmp(fmt, "%0.2f ") == 0)
        r = fprintf(f, "%.17g ", va_arg(ap, double));
    else
        r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
#define fprintf(...) pcx_bench_fprintf(__VA_ARGS__)
#endif
"""


def default_polybench() -> Path:
    env = os.environ.get("PCX_POLYBENCH")
    return Path(env) if env else (ROOT.parent / "shared" / "polybench-c-4.2.1")


def benchmark_list(pb: Path) -> list[str]:
    """Relative paths of the 30 kernels' sources, as PolyBench lists them."""
    return [line.strip().removeprefix("./") for line in (pb / "utilities" / "benchmark_list").read_text().split()
            if line.strip()]


def kernel_name(rel: str) -> str:
    return Path(rel).stem


# -- the kernel's top-level loop nests (tree-sitter; independent of the engine) ----------

@dataclass
class TopNest:
    line: int
    end_line: int
    depth: int  # loops nested in each other, the nest's own included
    loops: int  # loops in it, its own included


def _parser():
    from tree_sitter import Language, Parser
    import tree_sitter_c

    return Parser(Language(tree_sitter_c.language()))


def _function_name(fn) -> str | None:
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    if d is None:
        return None
    inner = d.child_by_field_name("declarator")
    return inner.text.decode() if inner is not None else None


def _depth_and_count(node) -> tuple[int, int]:
    depth, count = 0, 0
    stack = [(node, 0)]
    while stack:
        n, d = stack.pop()
        if n.type in LOOPS:
            d += 1
            count += 1
            depth = max(depth, d)
        stack.extend((c, d) for c in n.children)
    return depth, count


def kernel_nests(source: bytes) -> tuple[str, list[TopNest]]:
    """The ``kernel_*`` function's name and its top-level loop nests, in source order."""
    tree = _parser().parse(source)
    found: list[TopNest] = []
    name = ""
    stack = [(tree.root_node, None, False)]
    while stack:
        n, fn, in_loop = stack.pop()
        if n.type == "function_definition":
            fn = _function_name(n)
        if n.type in LOOPS and fn and fn.startswith("kernel_") and not in_loop:
            depth, count = _depth_and_count(n)
            found.append(TopNest(n.start_point[0] + 1, n.end_point[0] + 1, depth, count))
            name = fn
            in_loop = True
        stack.extend((c, fn, in_loop) for c in reversed(n.children))
    found.sort(key=lambda t: t.line)
    return name, found


def main_nest(nests: list[TopNest]) -> int:
    """Index of the main nest: deepest, then most loops, then first."""
    best = 0
    for i, t in enumerate(nests):
        b = nests[best]
        if (t.depth, t.loops) > (b.depth, b.loops):
            best = i
    return best


# -- comparing PolyBench dumps -----------------------------------------------------------

def parse_dump(stderr: str) -> dict[str, list[str]] | None:
    """Arrays of a PolyBench dump (``begin dump: NAME`` ... ``end   dump: NAME``) as
    token lists; None without a complete ``==BEGIN/END DUMP_ARRAYS==`` pair.  Lines from
    libomptarget (``omptarget ...``, ``"PluginInterface" ...``) are dropped first."""
    lines = [ln for ln in stderr.splitlines()
             if not ln.startswith("omptarget") and not ln.startswith('"PluginInterface"')]
    text = "\n".join(lines)
    start, end = text.find("==BEGIN DUMP_ARRAYS=="), text.find("==END   DUMP_ARRAYS==")
    if start < 0 or end < start:
        return None
    arrays: dict[str, list[str]] = {}
    for m in re.finditer(r"begin dump: (\S+)(.*?)end   dump: \1", text[start:end], re.S):
        arrays[m.group(1)] = m.group(2).split()
    return arrays


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        fa, fb = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(fa) or math.isnan(fb):
        return False
    return abs(fa - fb) <= ATOL + RTOL * max(abs(fa), abs(fb))


@dataclass
class ArrayDiff:
    array: str
    elements: int
    wrong: int
    first_index: int
    expected: str
    got: str


def compare_dumps(ref: dict[str, list[str]], got: dict[str, list[str]]) -> list[ArrayDiff]:
    """One entry per array that differs (missing arrays and length changes included)."""
    diffs: list[ArrayDiff] = []
    for name, values in ref.items():
        other = got.get(name)
        if other is None:
            diffs.append(ArrayDiff(name, len(values), len(values), 0, "(array)", "(missing)"))
            continue
        bad = [i for i, (a, b) in enumerate(zip(values, other)) if not _close(a, b)]
        if len(values) != len(other):
            bad.append(min(len(values), len(other)))
        if bad:
            i = bad[0]
            diffs.append(ArrayDiff(name, len(values), len(bad), i,
                                   values[i] if i < len(values) else "(end)",
                                   other[i] if i < len(other) else "(end)"))
    return diffs


# -- building and running ----------------------------------------------------------------

@dataclass
class Result:
    kernel: str
    config: str
    nests_total: int = 0
    nests_offloaded: int = 0
    nest_lines: list[int] = field(default_factory=list)  # first line of each top-level nest
    offloaded_lines: list[int] = field(default_factory=list)
    main_line: int = 0
    main_offloaded: bool = False
    reasons: dict[str, int] = field(default_factory=dict)
    launches: int = 0  # the whole program's
    kernel_launches: int = 0  # of target regions in kernel_* (the rest: init_array, main, ...)
    bytes_to_device: int = 0
    bytes_from_device: int = 0
    t_serial: float | None = None
    t_offload: float | None = None
    verdict: str = ""
    notes: list[str] = field(default_factory=list)
    diffs: list[dict] = field(default_factory=list)
    directory: str = ""
    seconds: float = 0.0  # wall time of the whole row (builds and runs)


@dataclass
class Setup:
    pb: Path
    out: Path
    dataset: str
    timeout: float
    cc: str
    pcx: str
    full_precision: bool = True


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None, timeout: float, log: Path | None = None):
    """(returncode or None on timeout, stdout, stderr)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        if log:
            log.write_text(" ".join(cmd) + "\n(timeout)\n" + out + err)
        return None, out, err
    if log:
        log.write_text(" ".join(cmd) + f"\n(exit {p.returncode})\n" + p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def _kernel_time(stdout: str) -> float | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            return float(line.strip())
        except ValueError:
            continue
    return None


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PCX_") and not k.startswith("LIBOMPTARGET_") and not k.startswith("OMP_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _reassociation_changes(setup, flags, srcs, d: Path, env, run_env, serial_err: str, timeout: float) -> bool:
    """Whether the serial program's dump changes when clang may reassociate its sums."""
    loose = ["-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math"]
    rc, _, _ = _run([setup.cc, *flags, *loose, *srcs, "-o", "serial-reassoc", "-lm"], d, env, timeout,
                    d / "serial-reassoc-build.log")
    if rc != 0:
        return False
    rc, _, err = _run(["./serial-reassoc"], d, run_env, setup.timeout)
    if rc != 0:
        return False
    return bool(compare_dumps(parse_dump(serial_err) or {}, parse_dump(err) or {}))


def _status_crashed(rc: int | None, stderr: str) -> str | None:
    if rc is None:
        return "timeout"
    if rc != 0:
        return f"exit {rc}" if rc > 0 else f"signal {-rc}"
    if parse_dump(stderr) is None:
        return "no complete dump"
    return None


def _report_records(report: Path, source: Path) -> tuple[dict | None, list[str]]:
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return None, []
    unit = None
    for s in data.get("sources", []):
        if os.path.normpath(s.get("path", "")) == os.path.normpath(str(source)):
            unit = s
    if unit is None:
        return None, []
    return unit, [r["id"] for r in unit.get("remarks", [])]


def bench_one(setup: Setup, rel: str, config: str) -> Result:
    t_start = time.monotonic()
    pb, name = setup.pb, kernel_name(rel)
    src = pb / rel
    res = Result(name, config)
    d = setup.out / config / name
    if d.exists():
        shutil.rmtree(d)
    (d / "emit").mkdir(parents=True)
    res.directory = str(d)

    _, nests = kernel_nests(src.read_bytes())
    res.nests_total = len(nests)
    res.nest_lines = [t.line for t in nests]
    mi = main_nest(nests) if nests else -1
    res.main_line = nests[mi].line if nests else 0

    flags = ["-O2", "-I", str(pb / "utilities"), "-I", str(src.parent), f"-D{setup.dataset}_DATASET",
             "-DPOLYBENCH_DUMP_ARRAYS", "-DPOLYBENCH_TIME", *CONFIGS[config]]
    if setup.full_precision:
        flags += ["-include", str(setup.out / "pcx_bench_dump.h")]
    srcs = [str(pb / "utilities" / "polybench.c"), str(src)]
    env = _base_env()
    build_timeout = max(setup.timeout, 120)

    rc, _, _ = _run([setup.cc, *flags, *srcs, "-o", "serial", "-lm"], d, env, build_timeout, d / "serial-build.log")
    if rc != 0:
        res.verdict = "build-fail"
        res.notes.append("serial build failed (serial-build.log)")
        res.seconds = time.monotonic() - t_start
        return res
    report = d / "report.json"
    pcx_env = {**env, "PCX_MODE": "static"}
    rc, _, _ = _run([setup.pcx, f"--pcx-report={report}", f"--pcx-emit={d / 'emit'}", "-gline-tables-only",
                     *flags, *srcs, "-o", "offload", "-lm"], d, pcx_env, build_timeout, d / "pcx-build.log")
    unit, unit_remarks = _report_records(report, src)
    for rid in ("PCX001", "PCX007"):
        if rid in unit_remarks:
            res.notes.append(f"fallback ({rid})")
    if unit is not None:
        offloaded = [False] * len(nests)
        for rec in unit.get("nests", []):
            if rec.get("function", "").startswith("kernel_") and rec.get("applied"):
                for i, t in enumerate(nests):
                    if t.line <= rec["line"] <= t.end_line:
                        offloaded[i] = True
        reasons: Counter[str] = Counter()
        for rec in unit.get("nests", []):
            if not rec.get("function", "").startswith("kernel_"):
                continue
            for i, t in enumerate(nests):
                if t.line <= rec["line"] <= t.end_line and not offloaded[i]:
                    reasons.update(r["id"] for r in rec.get("reasons", []) if r["id"] not in INFO_REMARKS)
        res.reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        res.offloaded_lines = [t.line for t, o in zip(nests, offloaded) if o]
        res.nests_offloaded = sum(offloaded)
        res.main_offloaded = bool(nests) and offloaded[mi]
    else:
        res.notes.append("no pcx report for the kernel source")
    if rc != 0:
        res.verdict = "build-fail"
        res.notes.append("pcx-cc build failed (pcx-build.log)")
        res.seconds = time.monotonic() - t_start
        return res

    run_env = {**env, **STRICT_ENV}
    rc_s, out_s, err_s = _run(["./serial"], d, run_env, setup.timeout)
    (d / "serial.stderr").write_text(err_s)
    crashed = _status_crashed(rc_s, err_s)
    if crashed:
        res.verdict = "timeout" if crashed == "timeout" else "crash"
        res.notes.append(f"serial program: {crashed}")
        res.seconds = time.monotonic() - t_start
        return res
    res.t_serial = _kernel_time(out_s)

    rc_o, out_o, err_o = _run(["./offload"], d, run_env, setup.timeout)
    (d / "offload.stderr").write_text(err_o)
    crashed = _status_crashed(rc_o, err_o)
    if crashed:
        res.verdict = "timeout" if crashed == "timeout" else "crash"
        res.notes.append(f"offloaded program: {crashed}: {_last_line(err_o)}")
    else:
        res.t_offload = _kernel_time(out_o)
        diffs = compare_dumps(parse_dump(err_s) or {}, parse_dump(err_o) or {})
        res.diffs = [asdict(x) for x in diffs]
        if diffs and _reassociation_changes(setup, flags, srcs, d, env, run_env, err_s, build_timeout):
            # The serial program itself gives these answers once its sums are reassociated
            # (as every parallel reduction does): the kernel is ill-conditioned, and the
            # comparison cannot tell a wrong plan from rounding.  Reported apart, never "same".
            res.verdict = "unstable"
            x = diffs[0]
            res.notes.append(f"{x.array}: {x.wrong}/{x.elements} differ, and the serial build with "
                             f"-fassociative-math differs too: ill-conditioned under reassociation")
        elif diffs:
            res.verdict = "WRONG"
            x = diffs[0]
            res.notes.append(f"{x.array}: {x.wrong}/{x.elements} differ, first [{x.first_index}] "
                             f"{x.expected} vs {x.got}" + (f"; also {', '.join(y.array for y in diffs[1:])}"
                                                            if len(diffs) > 1 else ""))
        else:
            res.verdict = "same"

    rewritten = unit is not None and unit.get("compiled") == "rewritten"
    if rewritten and res.verdict != "timeout":
        rc_i, _, err_i = _run(["./offload"], d, {**run_env, "LIBOMPTARGET_INFO": "48"}, setup.timeout)
        if rc_i is not None:
            prof = profile_from_info(err_i)
            res.launches = prof.launches
            res.kernel_launches = sum(k.launches for k in prof.kernels if k.function.startswith("kernel_"))
            res.bytes_to_device = prof.bytes_to_device
            res.bytes_from_device = prof.bytes_from_device
            # An offload counts only if it ran: a nest whose kernels a run-time work guard
            # kept on the host (below --pcx-min-work) is counted as serial, with a note.
            ran = [k.line for k in prof.kernels if k.launches and k.function.startswith("kernel_")]
            spans = {t.line: t for t in nests}
            idle = [ln for ln in res.offloaded_lines
                    if not any(spans[ln].line <= x <= spans[ln].end_line for x in ran)]
            if idle:
                res.offloaded_lines = [ln for ln in res.offloaded_lines if ln not in idle]
                res.nests_offloaded = len(res.offloaded_lines)
                res.main_offloaded = res.main_offloaded and nests[mi].line not in idle
                res.reasons["host(min-work)"] = len(idle)
                res.notes.append(f"nests at lines {', '.join(map(str, idle))} ran on the host "
                                 f"(run-time work guard below --pcx-min-work)")
    res.seconds = time.monotonic() - t_start
    return res


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:120] if lines else ""


# -- output ------------------------------------------------------------------------------

def _bytes(n: int) -> str:
    if n == 0:
        return "0"
    if n < 1_000_000:
        return f"{n / 1e3:.1f}K"
    return f"{n / 1e6:.1f}M"


def _ms(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e3:.1f}"


def _reasons(r: dict[str, int]) -> str:
    return " ".join(k if v == 1 else f"{k}x{v}" for k, v in r.items()) or "-"


def table(results: list[Result]) -> str:
    head = ["kernel", "config", "nests", "main", "launches", "H->D", "D->H", "off ms", "ser ms", "ser/off",
            "verdict", "reasons (nests left serial)"]
    rows = []
    for r in results:
        ratio = (f"{r.t_serial / r.t_offload:.2f}" if r.t_serial and r.t_offload else "-")
        verdict = r.verdict + (" *" if any(n.startswith("fallback") for n in r.notes) else "")
        rows.append([r.kernel, r.config, f"{r.nests_offloaded}/{r.nests_total}", "yes" if r.main_offloaded else "no",
                     f"{r.launches}" + (f" ({r.kernel_launches})" if r.kernel_launches != r.launches else ""),
                     _bytes(r.bytes_to_device), _bytes(r.bytes_from_device), _ms(r.t_offload),
                     _ms(r.t_serial), ratio, verdict, _reasons(r.reasons)])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    fmt = lambda row: "  ".join(c.ljust(w) if i in (0, 1, 3, 10, 11) else c.rjust(w)  # noqa: E731
                                for i, (c, w) in enumerate(zip(row, widths))).rstrip()
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    notes = [f"  {r.kernel} ({r.config}): {'; '.join(r.notes)}" for r in results if r.notes]
    if notes:
        lines += ["", "notes (* = fallback):"] + notes
    return "\n".join(lines)


def totals(results: list[Result]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for config in CONFIGS:
        rs = [r for r in results if r.config == config]
        if not rs:
            continue
        verdicts = Counter(r.verdict for r in rs)
        reasons: Counter[str] = Counter()
        for r in rs:
            reasons.update(r.reasons)
        out[config] = {
            "kernels": len(rs),
            "nests_offloaded": sum(r.nests_offloaded for r in rs),
            "nests_offloaded_same": sum(r.nests_offloaded for r in rs if r.verdict == "same"),
            "nests": sum(r.nests_total for r in rs),
            "main_offloaded": sum(r.main_offloaded for r in rs),
            "verdicts": dict(verdicts),
            "wrong": verdicts.get("WRONG", 0),
            "crash": verdicts.get("crash", 0),
            "fallbacks": sum(any(n.startswith("fallback") for n in r.notes) for r in rs),
            "launches": sum(r.launches for r in rs),
            "bytes_to_device": sum(r.bytes_to_device for r in rs),
            "bytes_from_device": sum(r.bytes_from_device for r in rs),
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    return out


def totals_text(tot: dict[str, dict]) -> str:
    lines = []
    for config, t in tot.items():
        v = t["verdicts"]
        lines.append(
            f"{config:9s} nests offloaded {t['nests_offloaded']}/{t['nests']} ({t['nests_offloaded_same']} in kernels "
            f"with the serial output), main nest {t['main_offloaded']}/"
            f"{t['kernels']}; same {v.get('same', 0)}, WRONG {t['wrong']}, unstable {v.get('unstable', 0)}, "
            f"crash {t['crash']}, "
            f"build-fail {v.get('build-fail', 0)}, timeout {v.get('timeout', 0)}, fallbacks {t['fallbacks']}; "
            f"launches {t['launches']}, H->D {_bytes(t['bytes_to_device'])}, D->H {_bytes(t['bytes_from_device'])}")
        lines.append(f"{'':9s} reasons: {_reasons(t['reasons'])}")
    return "\n".join(lines)


def run_bench(pb: Path, kernels: list[str] | None = None, configs: list[str] = ("shipped", "restrict"),
              dataset: str = "MEDIUM", jobs: int = 1, timeout: float = 300, out: Path | None = None,
              cc: str | None = None, pcx: str | None = None, progress=None,
              full_precision: bool = True) -> list[Result]:
    """Build, run and compare; results ordered by the benchmark list, then configuration."""
    rels = benchmark_list(pb)
    if kernels:
        known = {kernel_name(r): r for r in rels}
        unknown = [k for k in kernels if k not in known]
        if unknown:
            raise SystemExit(f"unknown kernel(s): {', '.join(unknown)} (known: {', '.join(known)})")
        rels = [r for r in rels if kernel_name(r) in kernels]
    out = (out or ROOT / "bench" / "out" / "polybench").resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "pcx_bench_dump.h").write_text(DUMP_HEADER)
    pcx = pcx or shutil.which("pcx-cc", path=str(Path(sys.executable).parent)) or str(ROOT / ".venv/bin/pcx-cc")
    setup = Setup(pb.resolve(), out, dataset.upper(), timeout, cc or shutil.which("clang-19") or "clang-19", pcx,
                  full_precision)
    tasks = [(rel, c) for rel in rels for c in configs]
    results: dict[tuple[str, str], Result] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(bench_one, setup, rel, c): (rel, c) for rel, c in tasks}
        for f in futures:
            r = f.result()
            results[futures[f]] = r
            if progress:
                progress(r)
    return [results[t] for t in tasks]


def _pcx_version() -> str:
    """The commit the engine was at, ``+dirty`` when pcx_driver/ had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "pcx_driver"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--polybench", type=Path, default=default_polybench(),
                    help="PolyBench/C 4.2.1 directory (env PCX_POLYBENCH; default ../shared/polybench-c-4.2.1)")
    ap.add_argument("--kernels", help="comma-separated subset (e.g. gemm,atax,jacobi-2d)")
    ap.add_argument("--config", choices=["shipped", "restrict", "both"], default="both")
    ap.add_argument("--dataset", default="MEDIUM", choices=["MINI", "SMALL", "MEDIUM", "LARGE", "EXTRALARGE"])
    ap.add_argument("--jobs", type=int, default=1, help="kernels built and run at once (default 1: clean times)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per run (builds get at least 120)")
    ap.add_argument("--json", type=Path, help="write every row and the totals here")
    ap.add_argument("--out", type=Path, help="build directory (default bench/out/polybench)")
    ap.add_argument("--polybench-precision", action="store_true",
                    help="dump with PolyBench's own %%0.2lf (no forced include): shows that the include "
                         "changes no pcx decision, but compares only two decimals")
    args = ap.parse_args(argv)

    if not (args.polybench / "utilities" / "benchmark_list").is_file():
        print(f"polybench.py: no PolyBench/C at {args.polybench} (use --polybench DIR or PCX_POLYBENCH)",
              file=sys.stderr)
        return 2
    configs = list(CONFIGS) if args.config == "both" else [args.config]
    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()] if args.kernels else None
    t0 = time.monotonic()

    def progress(r: Result) -> None:
        print(f"  {r.kernel:15s} {r.config:8s} {r.verdict:10s} {r.nests_offloaded}/{r.nests_total} "
              f"({r.seconds:.1f} s)", file=sys.stderr, flush=True)

    results = run_bench(args.polybench, kernels, configs, args.dataset, args.jobs, args.timeout, args.out,
                        progress=progress, full_precision=not args.polybench_precision)
    wall = time.monotonic() - t0
    tot = totals(results)
    print(f"PolyBench/C 4.2.1, {args.dataset} dataset, PCX_MODE=static pcx-cc vs clang-19 -O2 "
          f"({len(results)} builds in {wall:.0f} s, --jobs {args.jobs})")
    print(table(results))
    print()
    print(totals_text(tot))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"dataset": args.dataset, "seconds": wall, "jobs": args.jobs,
                                         "pcx": _pcx_version(), "totals": tot,
                                         "rows": [asdict(r) for r in results]}, indent=1) + "\n")
    return 0 if all(r.verdict == "same" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
