"""A data region in the caller around calls that are passed ``*p`` (issue 15 cause 9,
issue 16: data motion).

PolyBench declares each array as a pointer to a whole array through a macro
(``POLYBENCH_2D_ARRAY_DECL(A, ...)``: ``double (*A)[N][M]; A = ... alloc ...;``) and passes
``POLYBENCH_ARRAY(A)``, defined as ``*A``, to its ``init_array`` and ``kernel_*``
functions, whose loops are offloaded.  Without a region in ``main`` each function maps
its own data: what ``init_array`` computed on the device came back to the host, and went
to the device again for the kernel.  The caller's region maps ``A[0:1][0:N][0:M]``, the one
array the calls are given; the callees' kernels find it present.  It is a region only where
the macro that declares the pointer does nothing else with it: one that also stores it
elsewhere leaves each function mapping its own data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.profile import copies  # noqa: E402

CLANG = shutil.which("clang-19")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define NI 300
#define NJ 200
/* nested macros, as PolyBench's: the declarator comes from one, the allocation from another */
#define DECL_VAR(x) (*x)
#define ARR_2D_F(var, d1, d2) var[d1][d2]
#define ARR_1D_F(var, d1) var[d1]
#define ALLOC(n, type) calloc((n), sizeof(type))
#define ARRAY_2D_DECL(var, d1, d2) double ARR_2D_F(DECL_VAR(var), d1, d2); var = (double (*)[d1][d2]) ALLOC((d1) * (d2), double)%(EXTRA)s
#define ARRAY_1D_DECL(var, d1) double ARR_1D_F(DECL_VAR(var), d1); var = (double (*)[d1]) ALLOC(d1, double)
#define ARRAY(x) *x
#define FREE_ARRAY(x) free((void *)x)
double *keep;
static double clock_now;
static void timer_start(void) { clock_now = 1.0; }
static void timer_stop(void) { clock_now = 2.0; }

static void init_array(int ni, int nj, double A[NI][NJ], double x[NJ]) {
  for (int j = 0; j < nj; j++)                            /* INIT_X */
    x[j] = 1.0 + j / (double)nj;
  for (int i = 0; i < ni; i++)                            /* INIT_A */
    for (int j = 0; j < nj; j++)
      A[i][j] = (double)((i * j + 1) %% nj) / (5.0 * ni);
}

static void kernel(int ni, int nj, double A[NI][NJ], double x[NJ], double y[NI]) {
  for (int i = 0; i < ni; i++) {                          /* KERNEL */
    double s = 0.0;
    for (int j = 0; j < nj; j++)
      s += A[i][j] * x[j];
    y[i] = s;
  }
}

int main(int argc, char **argv) {
  int ni = NI - (argc > 1), nj = NJ;
  ARRAY_2D_DECL(A, NI, NJ);
  ARRAY_1D_DECL(x, NJ);
  ARRAY_1D_DECL(y, NI);
  init_array(ni, nj, ARRAY(A), ARRAY(x));
  timer_start();
  kernel(ni, nj, ARRAY(A), ARRAY(x), ARRAY(y));
  timer_stop();
  double t = 0.0;
  for (int i = 0; i < ni; i++) t += (*y)[i] * (i %% 5 + 1);
  printf("%%.12e %%g\n", t, clock_now);
  FREE_ARRAY(A);
  FREE_ARRAY(x);
  FREE_ARRAY(y);
  return 0;
}
"""

A_BYTES = 300 * 200 * 8


def _remarks(data: dict) -> list[str]:
    return [f"{r['line']}: {r['message']} [{r['id']}]" for s in data["sources"] for r in s["remarks"]]


def _host_to_device(tmp_path: Path) -> list[int]:
    r = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **RUN_ENV, "LIBOMPTARGET_INFO": "32"})
    assert r.returncode == 0, r.stderr[-2000:]
    return [c.size for c in copies(r.stderr) if c.to_device]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_the_caller_holds_what_the_calls_are_passed(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, PROGRAM.replace("%(EXTRA)s", "") % (), ["INIT_X", "INIT_A", "KERNEL"])
    remarks = _remarks(data)
    main_line = next(k + 1 for k, t in enumerate(PROGRAM.splitlines()) if "init_array(ni, nj, ARRAY(A)" in t)
    assert any(r.startswith(f"{main_line}: target data region keeps A[0:1][0:300][0:200]") and "kernel call(s)" in r
               for r in remarks), remarks
    # A goes to the device once, at the region's start: neither init_array's result nor
    # the kernel's input is copied again
    to_device = _host_to_device(tmp_path)
    assert to_device.count(A_BYTES) == 1, to_device


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_declaring_macro_that_keeps_the_pointer_leaves_the_calls_their_own_maps(tmp_path: Path) -> None:
    # ``keep = (double *)var``: another name of A, which host code could read anywhere
    src = PROGRAM.replace("%(EXTRA)s", "; keep = (double *)var") % ()
    data = build_and_compare(tmp_path, src, ["INIT_A", "KERNEL"])
    main_line = next(k + 1 for k, t in enumerate(src.splitlines()) if "init_array(ni, nj, ARRAY(A)" in t)
    assert not any(r.startswith(f"{main_line}: target data region keeps A") for r in _remarks(data)), _remarks(data)
    assert _host_to_device(tmp_path).count(A_BYTES) == 2



#: the same calls written without macros, ``*A``, with host code between them that writes
#: an element of A and reads one of x: the region brings them home and back around it
PLAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#define NI 300
#define NJ 200
static void init_array(int ni, int nj, double A[NI][NJ], double x[NJ]) {
  for (int j = 0; j < nj; j++)                            /* INIT_X */
    x[j] = 1.0 + j / (double)nj;
  for (int i = 0; i < ni; i++)                            /* INIT_A */
    for (int j = 0; j < nj; j++)
      A[i][j] = (double)((i * j + 1) % nj) / (5.0 * ni);
}
static void kernel(int ni, int nj, double A[NI][NJ], double x[NJ], double y[NI]) {
  for (int i = 0; i < ni; i++) {                          /* KERNEL */
    double s = 0.0;
    for (int j = 0; j < nj; j++)
      s += A[i][j] * x[j];
    y[i] = s;
  }
}
int main(int argc, char **argv) {
  int ni = NI - (argc > 1), nj = NJ;
  double (*A)[NI][NJ] = malloc(sizeof *A);
  double (*x)[NJ] = malloc(sizeof *x);
  double (*y)[NI] = malloc(sizeof *y);
  init_array(ni, nj, *A, *x);
  (*A)[3][4] += 1.0;
  printf("%.3f\n", (*x)[5]);
  kernel(ni, nj, *A, *x, *y);
  double t = 0.0;
  for (int i = 0; i < ni; i++) t += (*y)[i] * (i % 5 + 1);
  printf("%.12e\n", t);
  free(A); free(x); free(y);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_pointer_to_a_whole_array_passed_as_star_p(tmp_path: Path) -> None:
    # (its calls also need no run-time alias test: ``*A`` is the storage malloc gave A)
    data = build_and_compare(tmp_path, PLAIN, ["INIT_X", "INIT_A", "KERNEL"])
    remarks = _remarks(data)
    main_line = next(k + 1 for k, t in enumerate(PLAIN.splitlines()) if "init_array(ni, nj, *A, *x);" in t)
    assert any(r.startswith(f"{main_line}: target data region keeps A[0:1][0:300][0:200]") for r in remarks), remarks
    assert not any("PCX128" in r or "PCX104" in r for r in remarks), remarks
