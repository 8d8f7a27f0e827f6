"""The gate compares only what the program printed (issue 17, items 3 and 7).

- libomptarget's own lines never reach the compared text: compared runs have it silent
  (``GATE_ENV``), launches and bytes come from a separate INFO=51 run, and runtime lines
  are stripped from every compared text besides;
- stderr and ``--output`` files (also one that receives redirected stderr) are compared;
- timings are masked (``timing_positions``), ``--ignore REGEX`` lines are dropped, and the
  report lists both; a result printed beside a timing is still compared.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver.gate import (
    GATE_ENV,
    TIMING_MASK,
    VALIDATION_ENV,
    compare_runs,
    info_run_problems,
    learn_filter,
    run_program,
    strip_runtime_lines,
    timing_positions,
    tokenize_line,
)
from pcx_driver.model import RunOutput
from test_tune_flow import FAKE, KERN, MAKEFILE, pcx

CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")


def out(stdout: str = "", stderr: str = "", files: dict[str, str] | None = None, code: int | None = 0) -> RunOutput:
    return RunOutput(argv=["prog"], returncode=code, stdout=stdout, stderr=stderr, seconds=0.1, files=files or {})


# ------------------------------------------------------------------ runtime lines

RUNTIME = """\
omptarget device 0 info: Entering OpenMP kernel at b.c:4:1 with 2 arguments:
omptarget device 0 info: from(a[0:n])[80]
"PluginInterface" device 0 info: Launching kernel __omp_offloading_fe00_20caea_main_l4 with 1 blocks
omptarget device 0 info: Copying data from device to host, TgtPtr=0x5, HstPtr=0x6, Size=80, Name=a[0:n]
"PluginInterface" error: Failure to allocate device memory: Failed to allocate from memory manager
omptarget error: Call to targetDataBegin failed, abort target.
b.c:7:1: omptarget fatal error 1: failure of target construct while offloading is mandatory
OMP: Info #276: omp_set_nested routine deprecated, please use omp_set_max_active_levels instead.
"""


def test_runtime_lines_are_stripped_and_program_lines_kept() -> None:
    program = "a9=9.000000\ninfo: 3 items\nomptarget is a word here\nlog: omptarget device 0 info: quoted\n"
    assert strip_runtime_lines(RUNTIME) == ""
    assert strip_runtime_lines(RUNTIME + program) == program
    assert strip_runtime_lines("checksum 1.5\n") == "checksum 1.5\n"


def test_compare_runs_never_compares_runtime_lines() -> None:
    ref = out("sum 1.5\n", "b[0] = 2.0\n", {"err.txt": "b[0] = 2.0\n"})
    cand = out(RUNTIME + "sum 1.5\n", "b[0] = 2.0\n" + RUNTIME, {"err.txt": RUNTIME + "b[0] = 2.0\n" + RUNTIME})
    assert compare_runs(ref, cand, stderr=True).passed
    wrong = out("sum 1.5\n", RUNTIME + "b[0] = 7.0\n", {"err.txt": "b[0] = 2.0\n"})
    verdict = compare_runs(ref, wrong, stderr=True)
    assert not verdict.passed and verdict.reasons[0].startswith("stderr line 1, token 5")
    assert compare_runs(ref, wrong).passed  # stderr is compared only when asked (pcx tune asks)


# ------------------------------------------------------------------ timings


@pytest.mark.parametrize("line, again, timings", [
    ("Elapsed time         =       1.23 (s)", "Elapsed time = 1.31 (s)", ["1.23", "(s)"]),  # LULESH
    ("Grind time (us/z/c)  = 0.123 (per dom)", "Grind time (us/z/c)  = 0.125 (per dom)", ["0.123"]),
    ("FOM = 1234.5 (z/s)", "FOM = 1200.5 (z/s)", ["1234.5", "(z/s)"]),
    ("Total time: 0.000", "Total time: 0.000", ["0.000"]),  # same in both runs: still a timing
    ("elapsed 0.12 s, checksum 12345", "elapsed 0.13 s, checksum 12345", ["0.12", "s,"]),
    ("kernel took 12ms sum=3.5", "kernel took 15ms sum=3.5", ["12ms"]),
    ("Bandwidth: 12.3 GB/s", "Bandwidth: 11.3 GB/s", ["12.3", "GB/s"]),
    ("GFLOPS 12.5 n=100", "GFLOPS 12.9 n=100", ["12.5"]),
    ("result 1.5 in 0.3 seconds", "result 1.5 in 0.4 seconds", ["0.3", "seconds"]),
    ("kernel time: 1.5 ms, checksum(y) 1.25e+05", "kernel time: 1.7 ms, checksum(y) 1.25e+05", ["1.5", "ms,"]),
    # results, not timings: a time-step counter, an energy, a time stamp with no timing word
    ("time step 10: energy = 1.23e5", "time step 10: energy = 1.23e5", []),
    ("started at 1733.123456789 by process 1234", "started at 1734.1 by process 1235", []),
    ("sum 1.5 after 3 iterations", "sum 1.5 after 3 iterations", []),
])
def test_timing_positions(line: str, again: str, timings: list[str]) -> None:
    tokens = tokenize_line(line)
    assert [tokens[j].text for j in sorted(timing_positions(tokens, tokenize_line(again)))] == timings


def test_learn_filter_masks_timings_drops_ignored_lines_and_reports_them() -> None:
    first = out("n = 100, elapsed 0.5 s\nchecksum 1.5\nseed 17\n", "z[0] = 2.0\nz[1] = 3.0\n")
    second = out("n = 100, elapsed 0.7 s\nchecksum 1.5\nseed 99\n", "z[0] = 2.0\nz[1] = 3.0\n")
    filt, ignored = learn_filter(first, second, [r"^seed "])
    assert [i.describe() for i in ignored] == [
        "stdout line 3: 'seed 17' (--ignore ^seed )",
        "stdout line 1: 'n = 100, elapsed 0.5 s' (timing: 0.5 s)",
    ]
    assert filt.apply(first).stdout == f"n = 100 , elapsed {TIMING_MASK} {TIMING_MASK}\nchecksum 1.5\n"
    assert compare_runs(filt.apply(first), filt.apply(second), stderr=True).passed
    # a wrong result beside the timing, or in stderr, is still caught
    slow_wrong = out("n = 101, elapsed 9.9 s\nchecksum 1.5\nseed 5\n", first.stderr)
    assert "token 3" in compare_runs(filt.apply(first), filt.apply(slow_wrong), stderr=True).reasons[0]
    wrong_z = out("n = 100, elapsed 0.1 s\nchecksum 1.5\nseed 5\n", "z[0] = 2.0\nz[1] = 4.0\n")
    assert compare_runs(filt.apply(first), filt.apply(wrong_z), stderr=True).reasons[0].startswith("stderr line 2")
    # without timings, the varying elapsed time is a difference
    plain, _ = learn_filter(first, second, [r"^seed "], timings=False)
    assert not compare_runs(plain.apply(first), plain.apply(second)).passed


def test_stderr_that_varies_between_serial_runs_is_not_compared_and_the_report_says_so() -> None:
    first = out("checksum 1.5\n", "allocated at 0x7ffd1000\n")
    second = out("checksum 1.5\n", "allocated at 0x7ffd2000\n")
    filt, ignored = learn_filter(first, second)
    assert [i.stream for i in ignored] == ["stderr"] and "stderr not compared" in ignored[0].describe()
    assert compare_runs(filt.apply(first), filt.apply(out("checksum 1.5\n", "other\n")), stderr=True).passed
    assert not compare_runs(filt.apply(first), filt.apply(out("checksum 2.5\n")), stderr=True).passed


def test_a_bad_pattern_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        learn_filter(out(), out(), ["(unclosed"])


# ------------------------------------------------------------------ real offload programs

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(void) {
  int n = 4000;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) a[i] = 0.5 * i;
  double t0 = now();
#pragma omp target teams distribute parallel for map(to: a[0:n]) map(MAPKIND: b[0:n])
  for (int i = 0; i < n; i++) b[i] = 2.0 * a[i] + 1.0;
  printf("n = %d, elapsed %.6f s\n", n, now() - t0);
  for (int i = 0; i < n; i += 500) fprintf(stderr, "b[%d] = %.6f\n", i, b[i]);
  return 0;
}
"""
OFFLOAD = ["-O1", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
           "-Wl,-rpath,/usr/lib/llvm-19/lib"]


def _build(tmp_path: Path, name: str, mapkind: str, offload: bool) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(PROGRAM.replace("MAPKIND", mapkind))
    subprocess.run([CLANG, *(OFFLOAD if offload else ["-O1"]), str(src), "-o", str(tmp_path / name)],
                   check=True, capture_output=True, timeout=120)
    return tmp_path / name


def _run(exe: Path, redirect: bool, env: dict[str, str] | None) -> RunOutput:
    """Run ``exe``; with ``redirect`` its stderr goes to err.txt, read as an output file."""
    err = exe.parent / "err.txt"
    err.unlink(missing_ok=True)
    argv = ["/bin/sh", "-c", f"./{exe.name} 2> err.txt"] if redirect else [f"./{exe.name}"]
    run = run_program(argv, cwd=exe.parent, env=env, timeout=60)
    if redirect:
        run.files["err.txt"] = err.read_text()
    return run


@needs_clang
@pytest.mark.parametrize("redirect", [False, True], ids=["stderr", "file receiving stderr"])
def test_result_on_stderr_correct_kernel_passes_planted_wrong_kernel_fails(tmp_path, redirect) -> None:
    serial = _build(tmp_path, "serial", "from", offload=False)
    first, second = _run(serial, redirect, None), _run(serial, redirect, None)
    filt, ignored = learn_filter(first, second)
    assert [(i.stream, i.line) for i in ignored] == [("stdout", 1)] and ignored[0].why.startswith("timing: ")

    good = _build(tmp_path, "good", "from", offload=True)
    info = _run(good, redirect, VALIDATION_ENV)  # INFO=51: libomptarget's lines land in the output
    assert "omptarget device 0 info" in (info.files["err.txt"] if redirect else info.stderr)
    assert info_run_problems(first, info) == []
    assert compare_runs(filt.apply(first), filt.apply(info), stderr=True).passed  # stripped even there
    compared = _run(good, redirect, GATE_ENV)  # what pcx tune compares: libomptarget silent
    assert "omptarget" not in compared.stderr + "".join(compared.files.values())
    assert compare_runs(filt.apply(first), filt.apply(compared), stderr=True).passed

    wrong = _build(tmp_path, "wrong", "to", offload=True)  # b never comes back from the device
    verdict = compare_runs(filt.apply(first), filt.apply(_run(wrong, redirect, GATE_ENV)), stderr=True)
    assert not verdict.passed
    assert verdict.reasons[0].startswith("output file err.txt line 1" if redirect else "stderr line 1"), verdict.reasons


# ------------------------------------------------------------------ through pcx tune

TIMED_MAIN = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void scale(int n, double *restrict y, const double *restrict x);
void shift(int n, double *restrict z, const double *restrict y);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "clock") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        printf("started at %ld.%09ld by process %d\n", (long)ts.tv_sec, ts.tv_nsec, (int)getpid());
    }
    int n = argc > 2 ? atoi(argv[2]) : 200000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = calloc(n, sizeof *z);
    for (int i = 0; i < n; i++)
        x[i] = (i % 17) * 0.25;
    double t0 = now();
    for (int r = 0; r < 5; r++) {
        scale(n, y, x);
        shift(n, z, y);
    }
    double t = now() - t0;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += y[i] * (i % 7);
    /* the timings stand beside results; z (shift's output) goes to stderr only */
    printf("n = %d, elapsed %.6f s\n", n, t);
    printf("kernel time: %.3f ms, checksum(y) %.9e\n", 1e3 * t, s);
    printf("Bandwidth: %.2f GB/s\n", 5 * 5.0 * 8 * n / (t > 0 ? t : 1) / 1e9);
    for (int i = 0; i < n; i += n / 8)
        fprintf(stderr, "z[%d] = %.9f\n", i, z[i]);
    return 0;
}
"""


@pytest.fixture
def timed_project(tmp_path):
    p = tmp_path / "proj"
    p.mkdir()
    (p / "Makefile").write_text(MAKEFILE)
    (p / "kern.c").write_text(KERN)
    (p / "main.c").write_text(TIMED_MAIN)
    return p


RUNS = ("--run", "./app clock 100000", "--run", "./app run 50000 2> err.txt", "--output", "err.txt")


@pytest.mark.slow
def test_tune_a_program_printing_timings_and_results_on_stderr(timed_project):
    """No wrapper script: the timings are left out, the varying start line is --ignore'd,
    the results on stderr and in the file that receives stderr are compared, and both
    kernels pass (the gate's own runs have libomptarget silent)."""
    r = pcx("tune", "--shell", "--build", "make", *RUNS, "--ignore", "^started at ", *FAKE, "--no-refine",
            "--repeats", "1", "--json", "--keep-slower", cwd=timed_project)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    rows = {row["function"]: row for row in result["kernels"]}
    assert rows["scale"]["status"] == "offloaded" and rows["shift"]["status"] == "offloaded", rows
    assert rows["scale"]["launches"] == 10  # counted in the info runs (5 launches per command)
    ignored = "\n".join(result["ignored"])
    assert "(--ignore ^started at )" in ignored
    assert "'Bandwidth: " in ignored and "'kernel time: " in ignored and "elapsed" in ignored
    assert "file err.txt" not in ignored and "stderr not compared" not in ignored
    run_dir = Path(result["run_dir"])
    gate_files = list(run_dir.glob("*-gate/gate-run1/files/err.txt"))
    assert gate_files and all("omptarget" not in f.read_text() for f in gate_files)
    assert all("z[0] =" in f.read_text() for f in gate_files)


@pytest.mark.slow
@pytest.mark.parametrize("wrong, good, where, plant", [
    # shift's result (z) is printed on stderr only
    ("shift", "scale", "stderr line 1", "z[i] + 0.5 * y[i]=>z[i] + 0.625 * y[i]"),
    # scale's result (y) is the checksum beside a timing on stdout
    ("scale", "shift", "checksum", "3.0 * x[i] + 1.0=>3.0 * x[i] + 1.25"),
])
def test_tune_catches_a_planted_wrong_kernel_beside_timings_and_on_stderr(timed_project, wrong, good, where, plant):
    (timed_project / "pcx.toml").write_text('ignore = ["^started at "]\n')  # pcx.toml's way to --ignore
    r = pcx("tune", "--shell", "--build", "make", *RUNS, *FAKE, "--plugin", "pcx_test_tune_wrong_kernel",
            "--no-refine", "--repeats", "1", "--json", "--keep-slower", cwd=timed_project,
            env={"PCX_TEST_WRONG_KERNEL": plant})
    assert r.returncode == 0, r.stderr
    rows = {row["function"]: row for row in json.loads(r.stdout)["kernels"]}
    assert rows[good]["status"] == "offloaded", rows
    assert rows[wrong]["status"] == "demoted", rows[wrong]
    assert "PCX301" in rows[wrong]["reason"], rows[wrong]
    if where == "checksum":
        # the checksum beside the masked kernel time (line 2 once the --ignore'd line is gone)
        assert "stdout line 2, token 6: expected '2.099907250e+06'" in rows[wrong]["reason"], rows[wrong]
    else:
        assert where in rows[wrong]["reason"], rows[wrong]
