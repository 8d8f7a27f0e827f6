"""Parameters that every call passes distinct storage (issue 15, cause 5(b)), all pairs.

When a nest's arrays are proven apart by the function's call sites, the plan checker is
told which parameter pairs are apart; a pair it is not told about may be one array.
Every pair of pointer parameters is therefore asked, not only the nest's: LULESH's
``CalcPressureForElems`` writes ``bvc`` and ``pbvc`` in a kernel and ``p_new`` on the
host, and ``map(from: bvc)`` was refused ("brings undefined device data", PCX212) as if
``bvc`` might be ``p_new``.  A caller's own fresh allocation (``half`` below) is apart
from the caller's parameters, so the pair holds through two levels of calls.
Built serially and with ``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
static void press(double *p_new, double *bvc, double *pbvc, double *comp, int length) {
  for (int i = 0; i < length; ++i) {  /* KERNEL */
    double c1s = 2.0 / 3.0;
    bvc[i] = c1s * (comp[i] + 1.0);
    pbvc[i] = c1s;
  }
  p_new[0] = bvc[0];
  for (int i = 1; i < length; ++i)  /* CARRIED */
    p_new[i] = 0.5 * p_new[i - 1] + bvc[i] * comp[i];
}
static void energy(double *p_new, double *bvc, double *pbvc, double *comp, int n) {
  double *half = (double *)malloc(n * sizeof(double));
  press(half, bvc, pbvc, comp, n);
  for (int i = 0; i < n; ++i) comp[i] += 1e-3 * half[i];  /* UPDATE */
  press(p_new, bvc, pbvc, comp, n);
  free(half);
}
int main(int argc, char **argv) {
  int n = 20000 + argc;
  double *p = (double *)malloc(n * sizeof(double)), *b = (double *)malloc(n * sizeof(double));
  double *pb = (double *)malloc(n * sizeof(double)), *c = (double *)malloc(n * sizeof(double));
  for (int i = 0; i < n; ++i) c[i] = (i % 17) * 0.25;
  energy(p, b, pb, c, n);
  printf("%.9f %.9f %.9f %.9f\n", p[n - 1], b[3], pb[9], c[n / 2]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_kernel_apart_from_a_host_written_parameter_passes_the_check(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["KERNEL", "UPDATE"])
    kernel = nest_at(data, PROGRAM, "KERNEL")
    text = " ".join(r["message"] for r in kernel["reasons"])
    assert "PCX212" not in text and "versioned at run time" not in text, text
    assert "dependence" in " ".join(r["message"] for r in nest_at(data, PROGRAM, "CARRIED")["reasons"])


OUT_PARAMETER = r"""
#include <stdio.h>
#define NR 30000
#define PER 8
static int cidx[NR * PER], rptr[NR + 1];
static double val[NR * PER], x[NR], y[NR];
static void spmv(const int *ci, const int *rp, const double *v, const double *xv, double *yv, int n,
                 double *first) {
  for (int i = 0; i < n; i++) {  /* SPMV */
    double s = 0.0;
    for (int k = rp[i]; k < rp[i + 1]; k++)
      s += v[k] * xv[ci[k]];
    yv[i] = s;
  }
  *first = yv[0];
}
int main(int argc, char **argv) {
  double f = 0.0;
  rptr[0] = 0;
  for (int i = 0; i < NR; i++) rptr[i + 1] = rptr[i] + PER;
  for (int k = 0; k < NR * PER; k++) { cidx[k] = (k * 31) % NR; val[k] = (k % 7) * 0.25 + argc; }
  for (int i = 0; i < NR; i++) x[i] = 1.0 / (i + 1);
  spmv(cidx, rptr, val, x, y, NR, &f);
  double t = 0.0;
  for (int i = 0; i < NR; i++) t += y[i];
  printf("%.12e %.12e\n", t, f);
  return 0;
}
"""


def test_an_out_parameter_given_a_variables_address_is_apart_from_the_arrays(tmp_path) -> None:
    """NPB CG's ``conj_grad(..., &rnorm)``: the address of the caller's own scalar is
    storage of its own, apart from every array.  It was "unknown", so the plan checker took
    ``v`` and ``xv`` (each possibly the out-parameter) for one array and kept the product
    serial ("may be one array, read through two sections", PCX215; a held-out check)."""
    build_and_compare(tmp_path, OUT_PARAMETER, ["SPMV"])
