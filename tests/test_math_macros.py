"""<math.h>'s macros in a kernel: INFINITY, HUGE_VAL and NAN expand to constant builtins
(``__builtin_inff()``), isinf, isnan, isfinite and signbit to classification builtins
(``__builtin_isinf_sign(x)``).  They are values, as libm's functions are: a held-out
check (HeCBench perplexity) found its main loop left serial because ``INFINITY`` "calls
'__builtin_inff'" (PCX113).  The rows below hold NaNs and infinities, so every branch of
the classification runs, on the host device and serially."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

ROWS = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 3000 + argc, m = 200;
  double *a = malloc(sizeof(double) * n * m), *lo = malloc(sizeof(double) * n), *hi = malloc(sizeof(double) * n);
  int *bad = malloc(sizeof(int) * n);
  for (int i = 0; i < n * m; i++) a[i] = (((i % 1000) * 7919) % 1000) * 0.001 - 0.5;
  for (int i = 0; i < n; i += 17) a[i * m + 3] = NAN;
  for (int i = 0; i < n; i += 23) a[i * m + 5] = -INFINITY;
  for (int i = 0; i < n; i++) {  /* ROWS */
    double mn = INFINITY, mx = -HUGE_VAL;
    int nans = 0;
    for (int j = 0; j < m; j++) {
      double x = a[i * m + j];
      if (isnan(x)) { nans++; continue; }
      if (x < mn) mn = x;
      if (x > mx) mx = x;
    }
    lo[i] = isinf(mn) ? NAN : mn;
    hi[i] = isfinite(mx) && !signbit(mx) ? mx : 0.0;
    bad[i] = nans;
  }
  double s = 0;
  long b = 0;
  for (int i = 0; i < n; i++) { s += isnan(lo[i]) ? 1.0 : (isinf(lo[i]) ? 2.0 : lo[i]) + hi[i]; b += bad[i]; }
  printf("%.9f %ld\n", s, b);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_math_h_constants_and_classification_are_values_in_a_kernel(tmp_path) -> None:
    build_and_compare(tmp_path, ROWS, ["ROWS"])
