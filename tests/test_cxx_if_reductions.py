"""``if (d > m) m = d;`` is a maximum in C++ too (HPCCG's ``compute_residual``).

C's ``if`` holds its test in parentheses; C++'s in a ``condition_clause``, which the
if-form reduction pattern did not look into: the loop was refused as "updated
conditionally, e.g. an argmin/argmax" (PCX112) while ``m = std::max(m, d)`` beside it was
offloaded.  Now both are ``reduction(max:m)`` / ``reduction(min:m)``; a NaN element is
skipped by the comparison, serially and in every partial result.  A condition with an
initialiser (``if (double e = f(i); e < m)``) is not matched.  Built serially and with
``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")

PROGRAM = r"""
#include <cmath>
#include <cstdio>
#include <vector>
static double residual(const double *a, const double *b, int n) {
  double m = 0.0;
  for (int i = 0; i < n; ++i) {  /* MAX */
    double d = std::fabs(a[i] - b[i]);
    if (d > m) m = d;
  }
  return m;
}
static double lowest(const double *a, int n) {
  double lo = 1e300;
  for (int i = 0; i < n; ++i)  /* MIN */
    if (a[i] * 0.5 < lo) lo = a[i] * 0.5;
  return lo;
}
int main(int argc, char **argv) {
  int n = 300000 + argc;
  std::vector<double> a(n), b(n);
  for (int i = 0; i < n; ++i) { a[i] = std::sin(i * 1e-3) * (i % 1000); b[i] = std::cos(i * 2e-3); }
  a[12345] = NAN;
  std::printf("%.12e %.12e\n", residual(a.data(), b.data(), n), lowest(a.data(), n));
  return 0;
}
"""


def test_if_form_minimum_and_maximum_are_reductions_in_cxx(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["MAX", "MIN"], suffix=".cpp")


@pytest.mark.parametrize("marker, clause", [("MAX", "max:m"), ("MIN", "min:lo")])
def test_the_nest_names_its_reduction(marker, clause) -> None:
    nest = analysed_nest(PROGRAM, marker, "t.cpp")
    assert any(f"reduction({clause})" in r.message for r in nest.remarks), [r.format() for r in nest.remarks]


def test_a_condition_with_an_initialiser_is_not_matched() -> None:
    src = PROGRAM.replace("double d = std::fabs(a[i] - b[i]);\n    if (d > m) m = d;",
                          "if (double d = std::fabs(a[i] - b[i]); d > m) m = d;")
    nest = analysed_nest(src, "MAX", "t.cpp")
    assert not any("reduction(max:m)" in r.message for r in nest.remarks)
