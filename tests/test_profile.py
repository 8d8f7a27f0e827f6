"""Profiles from real libomptarget INFO output: launch counts per kernel, bytes each way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver.gate import VALIDATION_ENV, run_program
from pcx_driver.profile import copies, parse_kernel_name, profile_from_info

CLANG = shutil.which("clang-19")
CLANGXX = shutil.which("clang++-19")
OFFLOAD = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
           "-Wl,-rpath,/usr/lib/llvm-19/lib"]

# Every byte figure below follows from the program: n=1000 doubles (8000 bytes), a data
# region that copies a in and b out (8000 each), a partial update of half of b (4000), a
# time loop launching one kernel 5 times with no copies, and a reduction kernel mapping
# a (8000 in) and s (8 in, 8 out).
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) a[i] = i;
  #pragma omp target data map(to: a[0:n]) map(from: b[0:n])
  {
    for (int t = 0; t < 5; t++) {
      #pragma omp target teams distribute parallel for
      for (int i = 0; i < n; i++) b[i] = (t + 1) * a[i];
    }
    #pragma omp target update from(b[0:n/2])
  }
  double s = 0;
  #pragma omp target teams distribute parallel for reduction(+:s) map(to: a[0:n])
  for (int i = 0; i < n; i++) s += a[i];
  printf("%.6e %.6e\n", s, b[3]);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_profile_of_a_real_run(tmp_path: Path) -> None:
    (tmp_path / "p.c").write_text(PROGRAM)
    subprocess.run([CLANG, *OFFLOAD, "p.c", "-o", "p"], cwd=tmp_path, check=True, capture_output=True)
    run = run_program(["./p"], cwd=tmp_path, env=VALIDATION_ENV, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    prof = profile_from_info(run.stderr)
    assert [(k.function, k.line, k.launches) for k in prof.kernels] == [("main", 11, 5), ("main", 17, 1)]
    assert all(k.name.startswith("__omp_offloading_") and k.name.endswith(f"_l{k.line}") for k in prof.kernels)
    assert prof.launches == 6
    assert prof.bytes_to_device == 8000 + 8000 + 8
    assert prof.bytes_from_device == 4000 + 8000 + 8
    names = [(c.to_device, c.size, c.name) for c in copies(run.stderr)]
    assert (False, 4000, "b[0:n]") in names and (True, 8, "s") in names


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_cxx_kernel_names_keep_the_mangled_function(tmp_path: Path) -> None:
    (tmp_path / "p.cpp").write_text(
        "#include <vector>\n#include <cstdio>\n"
        "struct S { void g(double *a, int n) {\n"
        "  #pragma omp target teams distribute parallel for map(tofrom: a[0:n])\n"
        "  for (int i = 0; i < n; i++) a[i] *= 2; } };\n"
        "int main() { std::vector<double> v(10, 1.0); S s; s.g(v.data(), 10); printf(\"%f\\n\", v[0]); }\n"
    )
    subprocess.run([CLANGXX, *OFFLOAD, "p.cpp", "-o", "p"], cwd=tmp_path, check=True, capture_output=True)
    run = run_program(["./p"], cwd=tmp_path, env=VALIDATION_ENV, timeout=60)
    prof = profile_from_info(run.stderr)
    assert [(k.function, k.line, k.launches) for k in prof.kernels] == [("_ZN1S1gEPdi", 4, 1)]
    assert (prof.bytes_to_device, prof.bytes_from_device) == (80, 80)


@pytest.mark.parametrize(
    "name, parsed",
    [
        ("__omp_offloading_fe00_216858_main_l9", ("main", 9)),
        ("__omp_offloading_10302_4a1b2c__Z6jacobiiPdS__l120", ("_Z6jacobiiPdS_", 120)),
        ("__omp_offloading_fe00_216858_heat_step_l42", ("heat_step", 42)),
        ("some_cuda_kernel", None),
    ],
)
def test_parse_kernel_name(name: str, parsed: tuple[str, int] | None) -> None:
    got = parse_kernel_name(name)
    assert (None if got is None else (got.function, got.line)) == parsed


def test_empty_and_foreign_output() -> None:
    prof = profile_from_info("hello\nworld\n")
    assert (prof.kernels, prof.launches, prof.bytes_to_device, prof.bytes_from_device) == ([], 0, 0, 0)
    odd = profile_from_info('"PluginInterface" device 0 info: Launching kernel weird with 1 blocks\n')
    assert [(k.name, k.function, k.line, k.launches) for k in odd.kernels] == [("weird", "", 0, 1)]
