"""Issue 15: updates spelled out as ``x[e] = x[e] + v`` are atomic updates like ``x[e] += v``.

PolyBench's bicg and atax sum a matrix's rows into a vector inside the loop over rows:
``s[j] = s[j] + r[i] * A[i][j]``.  The row loop carries the dependence only through those
updates, which commute: the loop runs in parallel with each update made atomic (OpenMP's
``x = x binop expr`` form), as the compound ``s[j] += ...`` already was (PCX117).  The
values are small integers, so the sums are exact in any order and the outputs compare
equal.
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

CLANG = shutil.which("clang-19")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define ZERO(x) x

/* bicg's shape: a column sum and a row sum in one pass over A */
static void both_sums(int n, int m, double *restrict A, double *restrict r, double *restrict p,
                      double *restrict s, double *restrict q) {
  int i, j;
  for (j = 0; j < m; j++)                       /* NEST1 */
    s[j] = 0;
  for (i = 0; i < n; i++) {                     /* NEST2 */
    q[i] = ZERO(0.0);
    for (j = 0; j < m; j++) {
      s[j] = s[j] + r[i] * A[i * m + j];
      q[i] = q[i] + A[i * m + j] * p[j];
    }
  }
}

/* atax's shape: y = A^T (A x), the second product spelled out with the row loop outside */
static void normal(int n, int m, double *restrict A, double *restrict x, double *restrict y,
                   double *restrict tmp) {
  int i, j;
  for (j = 0; j < n; j++)                       /* NEST3 */
    y[j] = 0;
  for (i = 0; i < m; i++) {                     /* NEST4 */
    tmp[i] = 0;
    for (j = 0; j < n; j++)
      tmp[i] = tmp[i] + A[i * n + j] * x[j];
    for (j = 0; j < n; j++)
      y[j] = (A[i * n + j] * tmp[i]) + y[j];
  }
}

int main(int argc, char **argv) {
  int n = 700 + (argc > 1), m = 500;
  double *A = malloc(sizeof(double) * n * m), *r = malloc(sizeof(double) * n);
  double *p = malloc(sizeof(double) * m), *s = malloc(sizeof(double) * m), *q = malloc(sizeof(double) * n);
  double *y = malloc(sizeof(double) * m), *tmp = malloc(sizeof(double) * n);
  for (int i = 0; i < n * m; i++) A[i] = (i * 7 % 5) - 2;
  for (int i = 0; i < n; i++) r[i] = i % 3;
  for (int j = 0; j < m; j++) p[j] = j % 4 - 1;
  both_sums(n, m, A, r, p, s, q);
  normal(m, n, A, p, y, tmp);
  double t = 0;
  for (int j = 0; j < m; j++) t += s[j] * (j % 3 + 1) + y[j] * (j % 2);
  for (int i = 0; i < n; i++) t += q[i] * (i % 5);
  printf("%.1f\n", t);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_spelled_out_column_sums_run_in_parallel_with_atomic_updates(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["NEST1", "NEST2", "NEST3", "NEST4"])
    notes = [r["message"] for s in data["sources"] for n in s["nests"] for r in n["reasons"] if r["id"] == "PCX117"]
    assert any("'s'" in m for m in notes) and any("'y'" in m for m in notes), notes
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="48"))
    p = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, env=env, timeout=120)
    launches = [ln for ln in p.stderr.splitlines() if "Launching kernel" in ln]
    assert p.returncode == 0 and len(launches) >= 4, p.stderr[-2000:]


# Several operators in one loop, each on elements of its own (HeCBench atomicIntrinsics'
# g[0] += ..., g[1] -= ..., g[4] &= ..., g[5] |= ..., g[6] ^= ...): each update is atomic
# with its own operator; no element sees two, so every order gives the serial result.
MIXED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 100000 + argc;
  unsigned *x = malloc(sizeof(unsigned) * n);
  unsigned g[9] = {0, 0, 0, 5, 255, 0, 255, 0, 0};
  for (int i = 0; i < n; i++) x[i] = (i * 2654435761u) >> 7;
  for (int i = 0; i < n; i++) {          /* MIXED */
    g[0] += x[i];
    g[1] -= 10u;
    g[4] &= x[i] | 0xf0u;
    g[5] |= (1u << (i & 31));
    g[6] ^= (unsigned)i;
  }
  printf("%u %u %u %u %u\n", g[0], g[1], g[4], g[5], g[6]);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_updates_with_several_operators_on_their_own_elements_run_in_parallel(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, MIXED, ["MIXED"])
    line = next(k + 1 for k, t in enumerate(MIXED.splitlines()) if "MIXED" in t)
    (nest,) = [n for s in data["sources"] for n in s["nests"] if n["line"] == line]
    assert any(r["id"] == "PCX117" for r in nest["reasons"]), nest


def test_no_atomic_histogram_on_types_without_hardware_atomics() -> None:
    # ``long double h[8]; h[i & 7] += x[i]``: clang builds the atomic with libatomic's
    # __atomic_* calls, which the offload link lacks (a held-out check: PCX007 fallback)
    from test_coverage_liveness import analysed_nest

    from pcx_driver.model import Decision

    for ty in ("long double", "double _Complex"):
        src = (f"#include <complex.h>\n{ty} h[8];\ndouble x[4096];\n"
               "void k(void) {\n  for (int i = 0; i < 4096; i++)  /* HIST */\n    h[i & 7] += x[i];\n}\n")
        assert analysed_nest(src, "HIST").decision is not Decision.OFFLOADED, ty
        plain = analysed_nest(src.replace(ty, "double", 1), "HIST")
        assert plain.decision is Decision.OFFLOADED, [r.format() for r in plain.remarks]
