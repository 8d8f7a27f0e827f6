"""Issue 15, cause 5(b): provenance through allocation macros and wrappers.

PolyBench declares each array with a macro that declares a pointer and stores a fresh
allocation in it (``POLYBENCH_1D_ARRAY_DECL(x, ...)``: ``double (*x)[N]; x = (double
(*)[N]) polybench_alloc_data(N, sizeof(double));``) and passes it as ``POLYBENCH_ARRAY(x)``,
defined as ``*x``.  tree-sitter sees two macro calls; libclang sees the store.  The
kernel's parameters are then distinct at its only call site, so its loops and the data
region around its serial loop need no run-time alias test (PCX128): as shipped, PolyBench's
ludcmp was versioned, and a versioned region cannot hold host code that reads beyond its
sections, so its kernels stayed serial.  A macro that stores anything other than a fresh
allocation keeps the pair unproven.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

CLANG = shutil.which("clang-19")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 300
/* PolyBench's wrapper, by its name: a fresh allocation at every call */
void *polybench_alloc_data(unsigned long long n, int size) { return calloc(n, size); }
#define ARRAY_DECL(var, dim) double (*var)[dim]; var = (double (*)[dim]) %(ALLOC)s
#define ARRAY_DECL2(var, d1, d2) double (*var)[d1][d2]; var = (double (*)[d1][d2]) %(ALLOC2)s
#define ARRAY(x) *x
static void solve(int n, double A[N][N], double b[N], double x[N], double y[N]) {
  for (int i = 0; i < n; i++) {                   /* FORWARD */
    double w = b[i];
    for (int j = 0; j < i; j++) w -= A[i][j] * y[j];
    y[i] = w;
  }
  for (int j = 0; j < n; j++)                     /* SCALE */
    x[j] = y[j] * 0.5 + A[j][j] * 1e-3 + x[j] * 0.25;
}
int main(int argc, char **argv) {
  int n = N - (argc > 1);
  ARRAY_DECL2(A, N, N);
  ARRAY_DECL(b, N);
  ARRAY_DECL(x, N);
  ARRAY_DECL(y, N);
  for (int i = 0; i < N; i++) {
    (*b)[i] = (i % 7) * 0.5;
    (*x)[i] = 0;
    for (int j = 0; j < N; j++) (*A)[i][j] = (i == j) ? 2.0 : ((i + j) % 5) * 1e-3;
  }
  solve(n, ARRAY(A), ARRAY(b), ARRAY(x), ARRAY(y));
  double s = 0;
  for (int i = 0; i < N; i++) s += (*x)[i] * (i % 3 + 1);
  printf("%.9e\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_arrays_a_macro_allocates_are_distinct_at_the_call(tmp_path: Path) -> None:
    src = PROGRAM.replace("%(ALLOC)s", "polybench_alloc_data((dim), sizeof(double))")
    src = src.replace("%(ALLOC2)s", "calloc((d1) * (d2), sizeof(double))")
    data = build_and_compare(tmp_path, src, ["SCALE"])
    remarks = " ".join(r["message"] + f" [{r['id']}]" for s in data["sources"] for r in s["remarks"])
    assert "PCX128" not in remarks and "PCX104" not in remarks, remarks


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_macro_that_stores_another_pointer_proves_nothing(tmp_path: Path) -> None:
    # every array of the program is one allocation: the macro stores the same pointer
    src = PROGRAM.replace("/* PolyBench's", "static double pool[4 * N * N];\n/* PolyBench's")
    src = src.replace("%(ALLOC)s", "(void *)pool").replace("%(ALLOC2)s", "(void *)pool")
    data = build_and_compare(tmp_path, src, [])
    remarks = " ".join(r["message"] + f" [{r['id']}]" for s in data["sources"] for r in s["remarks"])
    assert "PCX128" in remarks or "PCX104" in remarks, remarks
