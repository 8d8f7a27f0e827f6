"""A minimum that takes the element where the comparison fails: ``m = m < e ? m : e``.

HeCBench's michalewicz keeps its global minimum with ``#define min(a,b) (a) < (b) ? (a) :
(b)`` over a helper that reads one row, ``minValue = min(minValue, michalewicz(values +
j * dim, dim))``.  Serially a NaN element becomes the value and the next element replaces
it, and of a +0 and a -0 the later is kept; no reduction does either, so the loop was
refused (PCX112) and the program's hot loop stayed serial.

Now the kernel reduces it with ``reduction(min: m)`` and a flag set by any NaN partial
value (``, pcx_nan_L |= !(m <= m)`` after the update); where the flag is set, or the result
is 0, infinite or NaN, the loop runs again as written from the saved start.  Otherwise
the reduction's minimum is the serial one: equal numbers other than zeros are one value.
The nest must write nothing else, so that running it again changes nothing (a loop that
also stores an array stays serial, PCX112).  The same holds for the maximum,
for ``std::min(e, m)`` and for a macro spelled with ``>``.  Built serially and with
``PCX_MODE=static``, run on the host device with a NaN, a tie of zeros and an infinity
among the elements, and without.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define MIN(a,b) (a) < (b) ? (a) : (b)
#define BIGGER(a, b) (((a) > (b)) ? (a) : (b))
static float score(const float *x, int d) {
  float r = 0;
  for (int i = 0; i < d; i++) r += sinf(x[i] * (i + 1)) * x[i];
  return -r;
}
static double lowest(const double *v, int n, double start) {
  double m = start;
  for (int i = 0; i < n; i++)  /* TERNARY_MIN */
    m = m < v[i] ? m : v[i];
  return m;
}
static double highest(const double *v, int n, double start) {
  double m = start;
  for (int i = 0; i < n; i++) {  /* MACRO_MAX */
    m = BIGGER(m, v[i]);
  }
  return m;
}
static double lowest_kept(const double *v, double *w, int n) {
  double m = 1e300;
  for (int i = 0; i < n; i++) {  /* ALSO_STORES */
    m = m < v[i] ? m : v[i];
    w[i] = v[i] * 2;
  }
  return m;
}
int main(int argc, char **argv) {
  const int n = 200000, d = 4;
  float *x = malloc(sizeof(float) * n * d);
  double *v = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n);
  for (int i = 0; i < n * d; i++) x[i] = (float)((i * 7919) % 1000) * 0.003f;
  if (argc > 1) x[d * (n - 5) + 2] = NAN;  /* serially: the minimum of the last 4 rows */
  float best = 0;
  for (int j = 0; j < n; j++)  /* MACRO_HELPER */
    best = MIN(best, score(x + j * d, d));
  printf("%.9g\n", best);
  for (int i = 0; i < n; i++) v[i] = cos(i * 0.001) * (i % 977);
  printf("%.17g %.17g\n", lowest(v, n, 1e300), highest(v, n, -1e300));
  v[n / 2] = NAN;  /* serially: the extremes of what follows it */
  printf("%.17g %.17g\n", lowest(v, n, 1e300), highest(v, n, -1e300));
  for (int i = 0; i < n; i++) v[i] = (i % 3) + 1;
  v[10] = argc > 1 ? -0.0 : 0.0;
  v[20000] = argc > 1 ? 0.0 : -0.0;  /* serially the later zero */
  printf("%g %g\n", lowest(v, n, 1e300), highest(v, n, -1e300));
  v[5] = -INFINITY;
  v[7] = INFINITY;
  printf("%g %g %g\n", lowest(v, n, 1e300), highest(v, n, -1e300), lowest_kept(v, w, n) + w[n - 1]);
  return 0;
}
"""


def test_minimum_taking_the_element_offloads_and_keeps_the_serial_answer(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["TERNARY_MIN", "MACRO_MAX", "MACRO_HELPER"])
    lines = PROGRAM.splitlines()
    on_device = set(launch_lines(tmp_path / "offload"))
    for marker in ("TERNARY_MIN", "MACRO_MAX", "MACRO_HELPER"):
        line = next(k + 1 for k, text in enumerate(lines) if marker in text)
        assert line in on_device, (marker, sorted(on_device))


def test_a_loop_that_writes_more_than_the_minimum_stays_serial() -> None:
    refused_nest(PROGRAM, "ALSO_STORES", "PCX112", "writes 'w'")


CALLS = r"""
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>
int main(int argc, char **argv) {
  const int n = 100000;
  std::vector<double> x(n);
  for (int i = 0; i < n; i++) x[i] = (i % 100) * 0.5 - 30 + n - i;
  if (argc < 2) x[75000] = NAN;
  double lo = 1e300, hi = -1e300;
  for (int i = 0; i < n; i++) lo = std::min(x[i], lo);  /* ELEMENT_FIRST_MIN */
  for (int i = 0; i < n; i++) hi = std::max(x[i], hi);  /* ELEMENT_FIRST_MAX */
  std::printf("%.1f %.1f\n", lo, hi);
  return 0;
}
"""


def test_std_min_with_the_element_first_restarts_too(tmp_path) -> None:
    build_and_compare(tmp_path, CALLS, ["ELEMENT_FIRST_MIN", "ELEMENT_FIRST_MAX"], suffix=".cpp")
