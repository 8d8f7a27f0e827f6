"""Updates that look like reductions but whose serial result depends on the order.

A held-out adversarial check found four: an ``||``/``&&`` whose other operand has an effect
or may trap (serially it runs only while the variable allows it; in a reduction every
thread's copy starts at the identity and runs it each iteration: wrong flags, a SIGFPE);
a ternary max that picks the element where the comparison fails (a NaN element resets the
maximum serially: now offloaded with a check of every partial value, which runs the loop
again as written where one is NaN, tests/test_restarting_minimum.py); a ``bool`` summed (each step makes it 0 or 1 again), as a scalar or as a
histogram array (whose offload link also failed); and thread-local variables, which OpenMP
can neither map nor make firstprivate (the whole file fell back, PCX007).  Each stays
serial with its reason; the forms that are reductions still offload.  So does a counter
whose updated value the iteration reads (``arr[i] = input[pos++]``, TACLe's audiobeam):
it was summed as a reduction, each thread's copy starting at 0.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

PROGRAM = r"""
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#define N 20000
static double a[N];
static int k[N], b[N], c[N];
static _Thread_local double tl[64];
int main(int argc, char **argv) {
  int f = 0, ok = 1, g = 0;
  bool any = 0, h[4] = {0, 0, 0, 0};
  double m1 = -1e300, m2 = -1e300, s = 0;
  for (int i = 0; i < N; i++) { a[i] = ((i * 37) % 1000) * 0.01 + argc; k[i] = (i % 9) - 4; b[i] = 0; }
  a[1500] = NAN;
  for (int i = 0; i < 64; i++) tl[i] = i;
  for (int i = 0; i < N; i++)  /* SIDE_EFFECT */
    f = f || (k[i] > 2 && (b[i] = 1) > 0);
  for (int i = 0; i < N; i++)  /* TRAPS */
    ok = ok && (k[i] != 0 && 100 / k[i] > 0);
  for (int i = 0; i < N; i++)  /* PLAIN_OR */
    g = g || (a[i] > 9.5);
  for (int i = 0; i < N; i++)  /* NAN_PICKS_ELEMENT */
    m1 = (a[i] < m1) ? m1 : a[i];
  for (int i = 0; i < N; i++)  /* KEEPS_MAX */
    m2 = (a[i] > m2) ? a[i] : m2;
  for (int i = 0; i < N; i++)  /* BOOL_SUM */
    any += k[i];
  for (int i = 0; i < N; i++)  /* BOOL_HISTOGRAM */
    h[k[i] & 3] += 1;
  for (int i = 0; i < N; i++)  /* THREAD_LOCAL */
    s += a[i] * tl[i % 64];
  int pos = 0, v = 7;
  for (int i = 0; i < N / 2; i++)  /* UPDATE_VALUE_READ */
    c[i] = k[pos++];
  for (int i = N / 2; i < N; i++)  /* ASSIGNMENT_VALUE_READ */
    c[i] = (v += 3);
  for (int i = 0; i < N; i++) b[i] += c[i] + pos;
  int nb = 0;
  for (int i = 0; i < N; i++) nb += b[i];
  printf("%d %d %d %d %.3f %.3f %d %d%d%d%d %.3f\n", f, ok, g, nb, m1, m2, any, h[0], h[1], h[2], h[3], s);
  return 0;
}
"""


def test_order_dependent_updates_stay_serial_and_reductions_offload(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["PLAIN_OR", "KEEPS_MAX", "NAN_PICKS_ELEMENT"])
    for marker, rid, words in (("SIDE_EFFECT", "PCX112", "carries a value"), ("TRAPS", "PCX112", "carries a value"),
                               ("BOOL_SUM", "PCX112", "each step makes it 0 or 1"),
                               ("BOOL_HISTOGRAM", "PCX117", "array of bool"),
                               ("THREAD_LOCAL", "PCX119", "thread-local array"),
                               ("UPDATE_VALUE_READ", "PCX112", "carries a value"),
                               ("ASSIGNMENT_VALUE_READ", "PCX112", "carries a value")):
        refused_nest(PROGRAM, marker, rid, words)


CALLS = r"""
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>
static double max(double a, double b) { return std::fabs(a) > std::fabs(b) ? std::fabs(a) : std::fabs(b); }
int main(int argc, char **argv) {
  const int n = 100000;
  std::vector<double> x(n);
  std::vector<int> k(n);
  for (int i = 0; i < n; i++) { x[i] = (i % 100) * 0.5 - 30 + n - i; k[i] = (i * 7) % 1000; }
  if (argc < 3) x[75000] = NAN;
  double lo = 1e300, hi = -1e300, big = 0, hi2 = -1e300, hi3 = -1e300;
  int kl = 1 << 30;
  for (int i = 0; i < n; i++) lo = std::min(x[i], lo);            /* ELEMENT_FIRST */
  for (int i = 0; i < n; i++) hi = std::max(hi, x[i]);            /* RUNNING_FIRST */
  for (int i = 0; i < n; i++) big = max(big, x[i]);               /* USER_MAX */
  for (int i = 0; i < n; i++) kl = std::min(k[i], kl);            /* INTEGER */
  for (int i = 0; i < n; i++) hi2 = std::fmax(x[i], hi2);         /* FMAX */
  for (int i = 0; i < n; i++) hi3 = std::max<double>(hi3, x[i] * 2);
  printf("%.1f %.1f %.1f %d %.1f %.1f\n", lo, hi, big, kl, hi2, hi3);
  return 0;
}
"""


def test_min_and_max_calls_are_reductions_only_as_the_library_defines_them(tmp_path) -> None:
    """``std::min(x[i], m)`` takes a NaN element (``b < a ? b : a``), and the running
    value starts again after it: serially the minimum of what follows the last NaN (a
    held-out finding: it was reduced alone; now every partial value is checked, and the
    loop runs again as written where one is NaN).  A program's own function named
    ``max`` (here the largest magnitude) is no maximum: it stays serial.
    ``std::max(m, x[i])``, an integer ``std::min`` in either order and ``std::fmax``
    (which ignores a NaN) offload."""
    build_and_compare(tmp_path, CALLS, ["RUNNING_FIRST", "INTEGER", "FMAX", "ELEMENT_FIRST"], suffix=".cpp")
    refused_nest(CALLS, "USER_MAX", "PCX112", "'big'", path="t.cpp")
