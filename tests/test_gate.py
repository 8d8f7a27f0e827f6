"""The correctness gate: output comparison, the INFO=51 unmapped-pointer rule on real
clang-19 offload programs, process handling, and the portable-OpenMP check."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pcx_driver.diagnostics import REMARKS, level_of
from pcx_driver.gate import (
    VALIDATION_ENV,
    check_portable_openmp,
    compare_runs,
    first_difference,
    kernel_launches,
    portability_problems,
    run_program,
    unmapped_pointers,
    unmapped_use_sites,
)
from pcx_driver.model import EmittedDirective, Rewrite, RunOutput, SourceUnit

CLANG = shutil.which("clang-19")
OFFLOAD = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
           "-Wl,-rpath,/usr/lib/llvm-19/lib"]
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")


def build(tmp_path: Path, name: str, source: str, offload: bool = True, debug: bool = True) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    flags = (OFFLOAD if debug else [f for f in OFFLOAD if f != "-gline-tables-only"]) if offload else ["-O2"]
    subprocess.run([CLANG, *flags, str(src), "-o", str(exe), "-lm"], check=True, capture_output=True)
    return exe


def run(exe: Path, *args: str, env: dict[str, str] | None = None) -> RunOutput:
    return run_program([str(exe), *args], cwd=exe.parent, env=VALIDATION_ENV if env is None else env,
                       timeout=60)


def out(stdout: str, code: int | None = 0, stderr: str = "") -> RunOutput:
    return RunOutput(argv=["prog"], returncode=code, stdout=stdout, stderr=stderr, seconds=0.1)


# --------------------------------------------------------------------------- real programs

# b is a heap pointer used in the kernel with no map clause: works on the host device
# (shared address space), a bad pointer on a GPU.  The gate must catch it.
UNMAPPED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) { a[i] = i; b[i] = 0; }
  #pragma omp target teams distribute parallel for map(to: a[0:n])
  for (int i = 0; i < n; i++) b[i] = 2 * a[i];
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i];
  printf("%.6e\n", s);
  return 0;
}
"""

# Same computation, mapped correctly; plus a kernel inside a target data region whose
# pointers are legitimately present (implicit use_address with a Mapping exists line).
MAPPED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) { a[i] = i; b[i] = 0; }
  #pragma omp target teams distribute parallel for map(to: a[0:n]) map(from: b[0:n])
  for (int i = 0; i < n; i++) b[i] = 2 * a[i];
  #pragma omp target data map(to: a[0:n]) map(tofrom: b[0:n])
  {
    #pragma omp target teams distribute parallel for
    for (int i = 0; i < n; i++) b[i] += a[i];
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i];
  printf("%.6e\n", s);
  return 0;
}
"""

# An input mapped with map(alloc:): the device sees garbage (MALLOC_PERTURB_), so the
# output differs from the serial program.
ALLOC_INPUT = MAPPED.replace("map(to: a[0:n]) map(from: b[0:n])", "map(alloc: a[0:n]) map(from: b[0:n])")

# Pointer mapped by an enclosing data region for the first kernel only; the second kernel
# uses it after the region closed: still unmapped there.
MAPPED_THEN_NOT = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  int n = 100;
  double *a = calloc(n, sizeof *a);
  #pragma omp target data map(tofrom: a[0:n])
  {
    #pragma omp target teams distribute parallel for
    for (int i = 0; i < n; i++) a[i] = i;
  }
  #pragma omp target teams distribute parallel for
  for (int i = 0; i < n; i++) a[i] += 1;
  printf("%.1f\n", a[n - 1]);
  return 0;
}
"""


@needs_clang
def test_unmapped_heap_pointer_is_caught(tmp_path: Path) -> None:
    serial = run(build(tmp_path, "ser", UNMAPPED, offload=False), env={})
    offl = run(build(tmp_path, "off", UNMAPPED))
    assert offl.returncode == 0 and offl.stdout == serial.stdout  # the host device hides it...
    assert unmapped_pointers(offl.stderr) == ["b"]  # ...the INFO=51 rule does not
    verdict = compare_runs(serial, offl)
    assert not verdict.passed
    assert verdict.reasons == ["pointer 'b' used on the device without a mapping (kernel at off.c:8:3) [PCX302]"]


@needs_clang
def test_correct_maps_and_data_region_pass(tmp_path: Path) -> None:
    serial = run(build(tmp_path, "ser", MAPPED, offload=False), "777", env={})
    offl = run(build(tmp_path, "off", MAPPED), "777")
    assert unmapped_pointers(offl.stderr) == []
    # the data-region kernel did print use_address lines: the rule saw and excused them
    assert "use_address(b)" in offl.stderr
    verdict = compare_runs(serial, offl)
    assert verdict.passed, verdict.reasons
    assert len(kernel_launches(offl.stderr)) == 2
    assert kernel_launches(offl.stderr)[0].endswith("_main_l8")


@needs_clang
def test_missing_map_to_gives_output_difference(tmp_path: Path) -> None:
    serial = run(build(tmp_path, "ser", ALLOC_INPUT, offload=False), env={})
    offl = run(build(tmp_path, "off", ALLOC_INPUT))
    verdict = compare_runs(serial, offl)
    assert not verdict.passed
    assert verdict.reasons[0].startswith("stdout line 1, token 1: expected '1.498500e+06', got ")
    assert verdict.reasons[0].endswith("[PCX301]")


@needs_clang
def test_rule_is_per_kernel_entry(tmp_path: Path) -> None:
    offl = run(build(tmp_path, "off", MAPPED_THEN_NOT))
    sites = unmapped_use_sites(offl.stderr)
    assert [(s.name, s.location) for s in sites] == [("a", "off.c:12:3")]


@needs_clang
def test_crash_is_reported_with_signal(tmp_path: Path) -> None:
    exe = build(tmp_path, "crash", '#include <signal.h>\n#include <stdio.h>\n'
                'int main(void){ printf("1\\n"); fflush(stdout); raise(SIGSEGV); return 0; }', offload=False)
    crashed = run(exe, env={})
    assert crashed.returncode == -11
    verdict = compare_runs(out("1\n"), crashed)
    assert not verdict.passed
    assert verdict.reasons == ["offloaded run: expected exit status 0, got killed by SIGSEGV [PCX303]"]


# --------------------------------------------------------------------------- run_program


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    script = f"(sleep 3; touch {marker}) & sleep 30"
    start = time.monotonic()
    r = run_program(["sh", "-c", script], timeout=0.5)
    assert r.returncode is None
    assert time.monotonic() - start < 5
    time.sleep(3.5)
    assert not marker.exists()  # the background child was killed with its group
    verdict = compare_runs(out(""), r)
    assert not verdict.passed and verdict.reasons[0].startswith("offloaded run timed out after")
    assert verdict.reasons[0].endswith("[PCX304]")


def test_leftover_child_does_not_turn_an_exit_into_a_timeout(tmp_path: Path) -> None:
    r = run_program(["sh", "-c", "echo done; sleep 30 & exit 3"], timeout=1)
    assert (r.returncode, r.stdout) == (3, "done\n")


def test_run_program_env_prefix_and_missing_file(tmp_path: Path) -> None:
    r = run_program(["sh", "-c", 'echo "$OMP_TARGET_OFFLOAD $OMP_NUM_THREADS"; echo err >&2'],
                    env=VALIDATION_ENV, prefix=["env", "X=1"])
    assert (r.returncode, r.stdout, r.stderr) == (0, "MANDATORY 2\n", "err\n")
    assert r.argv[:2] == ["env", "X=1"]
    missing = run_program([str(tmp_path / "nope")])
    assert missing.returncode == 127 and "cannot run" in missing.stderr


def test_validation_env_closes_blind_spots() -> None:
    assert VALIDATION_ENV["OMP_TARGET_OFFLOAD"] == "MANDATORY"
    assert VALIDATION_ENV["LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD"] == "0"
    assert VALIDATION_ENV["MALLOC_PERTURB_"] == "165"
    assert int(VALIDATION_ENV["LIBOMPTARGET_INFO"]) & 51 == 51
    assert int(VALIDATION_ENV["OMP_NUM_THREADS"]) >= 2


# --------------------------------------------------------------------------- comparison

@pytest.mark.parametrize(
    "expected, got, diff",
    [
        ("sum 1.000000e+00\n", "sum 1.000000e+00\n", None),
        ("sum 1.000000e+00\n", "sum 1.000001e+00\n", None),  # within rtol 1e-6
        ("sum 1.000000e+00\n", "sum 1.000010e+00\n", "line 1, token 2: expected '1.000000e+00', got '1.000010e+00'"),
        ("count 12\n", "count 13\n", "line 1, token 2: expected '12', got '13'"),
        ("count 1000000000\n", "count 1000000001\n", "line 1, token 2: expected '1000000000', got '1000000001'"),
        ("a\nb\nc 0.5\n", "a\nb\nc 0.6\n", "line 3, token 2: expected '0.5', got '0.6'"),
        ("sum 1\n", "total 1\n", "line 1, token 1: expected 'sum', got 'total'"),
        ("x=-0.000000e+00\n", "x=0.000000e+00\n", None),
        ("v[  3] =   1.50\n", "v[ 3] = 1.50\n", None),  # padding is not significant
        ("1 2\n", "1 2 3\n", "line 1: expected end of line, got '3' ('1 2 3')"),
        ("a\nb\n", "a\n", "line 2: expected 'b', got end of output"),
        ("a\n", "a\nb\n", "line 2: expected end of output, got 'b'"),
        ("nan inf\n", "nan inf\n", None),
        ("nan\n", "1.0\n", "line 1, token 1: expected 'nan', got '1.0'"),
        ("ptr 0x1f\n", "ptr 0x2f\n", "line 1, token 2: expected '0x1f', got '0x2f'"),
        ("(3,4)\n", "(3,5)\n", "line 1, token 4: expected '4', got '5'"),
    ],
)
def test_first_difference(expected: str, got: str, diff: str | None) -> None:
    assert first_difference(expected, got) == diff


def test_tolerances_are_parameters() -> None:
    assert compare_runs(out("1.0\n"), out("1.1\n"), rtol=0.2).passed
    assert not compare_runs(out("1.0\n"), out("1.1\n")).passed
    assert compare_runs(out("0.0\n"), out("1e-12\n")).passed  # atol
    assert not compare_runs(out("0.0\n"), out("1e-12\n"), atol=0).passed


def test_exit_status_and_files() -> None:
    v = compare_runs(out("", 3), out("", 0))
    assert v.reasons == ["offloaded run: expected exit status 3, got exit status 0 [PCX303]"]
    ref, cand = out("x\n"), out("x\n")
    ref.files, cand.files = {"out.txt": "1 2 3\n"}, {"out.txt": "1 2 4\n"}
    assert compare_runs(ref, cand).reasons == ["output file out.txt line 1, token 3: expected '3', got '4' [PCX301]"]


def test_first_difference_comes_first() -> None:
    info = ("omptarget device 0 info: Entering OpenMP kernel at p.c:5:3 with 1 arguments:\n"
            "omptarget device 0 info: use_address(q)[0] (implicit)\n"
            '"PluginInterface" device 0 info: Launching kernel __omp_offloading_1_2_main_l5 with 1 blocks\n')
    v = compare_runs(out("1\n2\n"), out("1\n3\n", stderr=info))
    assert v.reasons == ["stdout line 2, token 1: expected '2', got '3' [PCX301]",
                         "pointer 'q' used on the device without a mapping (kernel at p.c:5:3) [PCX302]"]


# --------------------------------------------------------------------------- portable OpenMP

@pytest.mark.parametrize(
    "pragma, problem",
    [
        ("omp target teams distribute parallel for map(to: a[0:n]) map(from: b[0:n])", None),
        ("omp target teams distribute parallel for collapse(2) reduction(+:s) map(tofrom: s)", None),
        ("omp target teams distribute parallel for map(present, to: a[0:n])", None),
        ("omp target teams distribute parallel for map(always, close, tofrom: a[0:n])", None),
        ("omp target data map(to: a[0:n*m]) map(alloc: t[0:n])", None),
        ("omp target update from(b[0:n/2])", None),
        ("omp declare target", None),
        ("omp parallel for schedule(static, 1)", None),  # not a target construct
        ("omp target teams distribute parallel for schedule(static, 4)", None),
        ("omp target teams distribute parallel for map(present: a[0:n])", "modifiers without a map type"),
        ("omp target enter data map(present: a[0:n])", "modifiers without a map type"),
        ("omp target teams distribute parallel for schedule(static,1)", "schedule(static, 1)"),
        ("omp target teams distribute parallel for simd schedule( static , 1 )", "schedule(static, 1)"),
        ("omp declare target enter(f)", "OpenMP 5.2"),
        ("omp ordered doacross(sink: i-1)", "OpenMP 5.2"),
        ("omp target teams ompx_bare num_teams(4)", "LLVM-only"),
        ("omp target map(to: a[0:n]", "unbalanced"),
    ],
)
def test_portability_problems(pragma: str, problem: str | None) -> None:
    problems = portability_problems("#pragma " + pragma)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_check_portable_openmp_remarks() -> None:
    assert REMARKS["PCX308"].level == "error"
    source = "#pragma omp parallel for schedule(static,1)\nint main(void){return 0;}\n"
    unit = SourceUnit(path="k.c", text=source)
    rewrite = Rewrite(
        path="k.c",
        text=("#pragma omp parallel for schedule(static,1)\n"
              "#pragma omp target teams distribute parallel for \\\n   map(present: a[0:n])\n"
              "#pragma omp target teams distribute parallel for schedule(static,1)\n"),
        directives=[EmittedDirective(line=12, text="omp target teams distribute parallel for schedule(static,1)")],
    )
    remarks = check_portable_openmp(unit, rewrite)
    assert [(r.id, r.file, r.line) for r in remarks] == [("PCX308", "k.c", 12), ("PCX308", "k.c", 2)]
    assert all(level_of(r.id) == "error" for r in remarks)
    assert "map(present: a[0:n])" in remarks[1].message
    clean = Rewrite(path="k.c", text="#pragma omp target teams distribute parallel for map(tofrom: a[0:n])\n",
                    directives=[EmittedDirective(line=3, text="omp target teams distribute parallel for map(tofrom: a[0:n])")])
    assert check_portable_openmp(unit, clean) == []


@needs_clang
def test_rule_without_debug_info_still_counts(tmp_path: Path) -> None:
    offl = run(build(tmp_path, "nog", MAPPED_THEN_NOT, debug=False))
    assert "use_address(unknown)" in offl.stderr
    assert unmapped_pointers(offl.stderr) == ["unknown"]
    mapped = run(build(tmp_path, "ok", MAPPED, debug=False))
    assert "use_address(unknown)" in mapped.stderr
    assert unmapped_pointers(mapped.stderr) == []
