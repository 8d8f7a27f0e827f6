"""A data region over a serial loop whose kernels' sections move with its index (issue
15, cause 7): Needleman-Wunsch's anti-diagonal sweep offloads the cells of each diagonal,
``score[(k + 1) * m + (d + 1 - k)]`` for ``k <= d``, a section that grows with ``d``.  The
region around the ``d`` loop maps the hull over every ``d``: the index's coefficient is
``m``, a name, whose sign the loop proves where it runs (``d < m - 2``: ``m >= 3``;
``sections.widen_over``), which the region tests before it starts.  The back sweep's
least element, ``(m - d - 2) * m - 3``, is non-negative through ``d``'s upper bound
(``dependence.nonneg_below_bounds``).  Before, no section stayed fixed and each diagonal
mapped its own (PCX203), or the kernel stayed serial for its copies."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine.dependence import nonneg_below_bounds
from pcx_driver.engine.loops import Poly
from pcx_driver.engine.sections import linear_form, render_form, subtract, widen_over
from pcx_driver.model import Language

SWEEP = r"""#include <stdio.h>
#include <stdlib.h>
static void sweep(int m, int *score, const int *cost) {
  for (int d = 0; d < m - 2; d++) {                       /* DIAG */
    for (int k = 0; k <= d; k++) {                          /* CELLS */
      int at = (k + 1) * m + (d + 1 - k);
      int best = score[at - 1 - m] + cost[at];
      if (score[at - 1] - 3 > best) best = score[at - 1] - 3;
      if (score[at - m] - 3 > best) best = score[at - m] - 3;
      score[at] = best;
    }
  }
  for (int d = m - 4; d >= 0; d--) {                      /* BACK */
    for (int k = 0; k <= d; k++) {                          /* BACKCELLS */
      int at = (m - k - 2) * m + k + m - d - 2;
      int best = score[at - 1 - m] + cost[at];
      if (score[at - 1] - 3 > best) best = score[at - 1] - 3;
      if (score[at - m] - 3 > best) best = score[at - m] - 3;
      score[at] = best;
    }
  }
}
int main(int argc, char **argv) {
  int m = argc > 1 ? 301 : 700;
  int *score = malloc(sizeof(int) * m * m), *cost = malloc(sizeof(int) * m * m);
  srand(7);  /* main's loops stay on the host (rand, printf): sweep's region is its own */
  for (int i = 0; i < m * m; i++) { cost[i] = rand() % 11 - 5; score[i] = 0; }
  for (int i = 0; i < m; i++) { score[i] = -3 * i; score[i * m] = -3 * i; if (i < 0) printf("!"); }
  sweep(m, score, cost);
  long s = 0;
  for (int i = 0; i < m * m; i++) { s += score[i] * (long)(i % 13); if (score[i] == 1 << 30) printf("!"); }
  printf("%ld\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_diagonal_sweep_keeps_its_matrix_in_one_region(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, SWEEP, ["CELLS", "BACKCELLS"])
    diag = next(k + 1 for k, t in enumerate(SWEEP.splitlines()) if "DIAG" in t)
    regions = [r["message"] for s in data["sources"] for r in s["remarks"] if r["id"] == "PCX200" and r["line"] == diag]
    # both sweeps' hulls: the first from 0, the second up to (m - 2) * m + m - 2
    assert regions and "score[0:m*m - m - 1]" in regions[0], regions


def test_a_product_is_proved_nonnegative_through_an_upper_bound() -> None:
    """The back sweep's least element, ``(m - d - 2) * m - 3`` under ``0 <= d <= m - 4``:
    ``d = m - 4 - s`` (s >= 0) makes it ``2m + s*m - 3``, non-negative for m >= 3."""
    m, d = Poly.sym("m"), Poly.sym("d")
    least = (m - d - Poly.const(2)) * m - Poly.const(3)
    assert nonneg_below_bounds(least, [d, m - Poly.const(4) - d], {"m": 3, "d": 0})
    assert not nonneg_below_bounds(least, [d, m - Poly.const(1) - d], {"m": 3, "d": 0})  # d up to m - 1


def _widened(lo: str, length: str, var: str, least: str, most: str, runs: list | None = None):
    a, n = linear_form(lo, Language.C), linear_form(length, Language.C)
    dims = [[a, subtract(a, {m: -c for m, c in n.items()})]]
    rng = (var, linear_form(least, Language.C), linear_form(most, Language.C))
    return tuple(render_form(x) for x in dims[0]) if widen_over(dims, rng, runs) else None


def test_an_index_times_a_name_widens_only_where_the_loop_proves_its_sign() -> None:
    # d in [0, m - 3]: m >= 3, so d * m is greatest at d = m - 3, if the loop runs: the
    # span m - 3 >= 0 is handed back, for the region to test (where it fails, no hull)
    runs: list = []
    assert _widened("d", "d*m - d + m + 2", "d", "0", "m - 3", runs) == ("0", "m*m - 2*m + 2")
    assert [render_form(r) for r in runs] == ["m - 3"]
    # without a test to hand it to, no hull
    assert _widened("d", "d*m - d + m + 2", "d", "0", "m - 3") is None
    # d in [0, n - 3] says nothing of m's sign: no hull
    assert _widened("d", "d*m - d + m + 2", "d", "0", "n - 3", []) is None
    # a negative coefficient, -m with m >= 1: greatest at the first d
    assert _widened("0", "10 - d*m", "d", "0", "m - 1", []) == ("0", "10")
