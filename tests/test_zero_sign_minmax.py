"""A floating minimum or maximum that may end at a zero of either sign (``Reduction.zero_sign``).

+0.0 and -0.0 compare equal, so ``if (a[i] > mx) mx = a[i];`` keeps the first zero it meets
and ``mn = a[i] < mn ? a[i] : mn`` the first too, where an OpenMP reduction combines its
partial results in an order of its own and may keep the other: the offloaded program
printed ``0`` where the serial one printed ``-0`` (a held-out check).  Such a kernel runs
the loop again as written where its result is 0, every reduction set back to its start, so
the nest may write nothing else; where it does, it stays serial.  A start that is a literal
other than -0.0 with elements that are never -0.0 (``fabs(e)``, ``e * e``, an integer)
needs no check: jacobi's ``err = fmax(err, fabs(next - a[i]))`` stays a plain reduction.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, refused_nest  # noqa: E402

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

ZEROS = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 20000 + argc - 1;
  double *a = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = -1.0 - i % 100;
  a[5] = -0.0; a[n - 5] = 0.0;
  double mx = -1e300, mn = 1e300, s = 0;
  for (int i = 0; i < n; i++) if (a[i] > mx) mx = a[i];          /* MAX */
  for (int i = 0; i < n; i++) a[i] = -a[i];
  a[5] = 0.0; a[n - 5] = -0.0;
  for (int i = 0; i < n; i++) { mn = a[i] < mn ? a[i] : mn; s += a[i]; }   /* MIN */
  printf("%g %g %.17g\n", mx, mn, s);
  return 0;
}
"""


@needs_clang
def test_a_maximum_that_ends_at_zero_keeps_the_sign_the_loop_picks(tmp_path: Path) -> None:
    build_and_compare(tmp_path, ZEROS, ["MAX", "MIN"])
    nest = analysed_nest(ZEROS, "MAX")
    assert [(r.op, r.zero_sign) for r in nest.reductions] == [("max", True)]
    assert any(r.id == "PCX100" and "the loop runs again as written where 'mx' ends at 0" in r.message
               for r in nest.remarks)


def test_a_sum_beside_the_minimum_is_computed_again_with_it() -> None:
    nest = analysed_nest(ZEROS, "MIN")
    assert sorted((r.op, r.zero_sign) for r in nest.reductions) == [("+", False), ("min", True)]


def test_a_nest_that_also_writes_an_array_stays_serial() -> None:
    program = ZEROS.replace("if (a[i] > mx) mx = a[i];          /* MAX */",
                            "{ if (a[i] > mx) mx = a[i]; a[i] += 1; }   /* MAX */")
    refused_nest(program, "MAX", "PCX112", "'mx' may end at a zero of either sign")


JACOBI = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 100000 + argc - 1;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  int *k = malloc(n * sizeof *k);
  for (int i = 0; i < n; i++) { a[i] = (i % 7) * 0.25 - (i % 3 == 0 ? 0.0 : -0.0); k[i] = i % 5 - 2; }
  double err = 0.0, sq = -1.0, top = -1e9;
  for (int i = 1; i < n - 1; i++) {            /* FABS */
    b[i] = 0.5 * (a[i - 1] + a[i + 1]);
    err = fmax(err, fabs(b[i] - a[i]));
    if (b[i] * b[i] > sq) sq = b[i] * b[i];
    top = k[i] > top ? k[i] : top;
  }
  printf("%g %g %g %g\n", err, sq, top, b[n / 2]);
  return 0;
}
"""


@needs_clang
def test_elements_that_are_never_negative_zero_need_no_check(tmp_path: Path) -> None:
    build_and_compare(tmp_path, JACOBI, ["FABS"])
    nest = analysed_nest(JACOBI, "FABS")
    assert sorted((r.variable, r.zero_sign) for r in nest.reductions) == [
        ("err", False), ("sq", False), ("top", False)]


@pytest.mark.parametrize("start", ["-0.0", "x0"])
def test_a_start_that_may_be_negative_zero_is_checked(start: str) -> None:
    program = JACOBI.replace("double err = 0.0,", f"double x0 = argc > 5 ? 1.0 : -0.0; double err = {start},")
    refused_nest(program, "FABS", "PCX112", "'err' may end at a zero of either sign")


TWO = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 50000 + argc - 1;
  float *a = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = 1.0f + i % 3;
  a[7] = -0.0f; a[n - 7] = 0.0f;
  float mx = -1e30f, mn = 1e30f;
  for (int i = 0; i < n; i++) { if (a[i] > mx) mx = a[i]; if (a[i] < mn) mn = a[i]; }  /* BOTH */
  printf("%g %g %g\n", mx, mn, 1.0f / mn);
  return 0;
}
"""


@needs_clang
def test_each_checked_reduction_is_tested_after_the_kernel(tmp_path: Path) -> None:
    # the maximum ends at 3, the minimum at a zero: the test of the first alone missed it
    build_and_compare(tmp_path, TWO, ["BOTH"])
