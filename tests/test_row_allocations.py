"""The extent of a pointer to rows from its allocation: ``double (*a)[64] = malloc(...)``.

What a ``sizeof`` in the byte count measures decides the row count: ``sizeof *a``,
``sizeof a[0]`` and ``sizeof(double[64])`` are a row each, ``sizeof **a``, ``sizeof
a[0][0]`` and ``sizeof(double)`` an element.  ``sizeof(double[64]) * n`` was read as n
elements, so the region mapped n / 64 rows of an n-row matrix and the offloaded program
crashed (a held-out check); a ``sizeof`` of anything else gives no extent at all.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine.hostaccess import declared_extent  # noqa: E402
from pcx_driver.model import Language  # noqa: E402

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")


@pytest.mark.parametrize("size,rows", [
    ("sizeof(double[64]) * n", "n"),
    ("n * sizeof *a", "n"),
    ("n * sizeof a[0]", "n"),
    ("n * sizeof(*a)", "n"),
    ("n * 64 * sizeof **a", "(n * 64) / ((64))"),
    ("n * 64 * sizeof a[0][0]", "(n * 64) / ((64))"),
    ("n * 64 * sizeof(double)", "(n * 64) / ((64))"),
    ("n * 64 * sizeof(float)", None),      # another element type: no extent
    ("n * sizeof(double[32])", None),      # another row
])
def test_what_each_sizeof_measures(size: str, rows: str | None) -> None:
    src = f"#include <stdlib.h>\nvoid f(int n) {{\n  double (*a)[64] = malloc({size});\n  a[0][0] = 1;\n}}\n"
    ext = declared_extent(src.encode(), Language.C, (src.index("void"), src.rindex("}") + 1), "a")
    if rows is None:
        assert ext is None
    else:
        assert ext is not None and ext.dims == [rows, "64"], ext


ROWS = r"""
#include <stdio.h>
#include <stdlib.h>
static void bump(int n, int k, double (*a)[64]) {
  for (int j = 0; j < n; j++)   /* BUMP */
    a[j][k] += (j + k) % 7;
}
int main(int argc, char **argv) {
  int n = 4000 + argc;
  double (*a)[64] = malloc(sizeof(double[64]) * n);
  for (int j = 0; j < n; j++)   /* FILL */
    for (int c = 0; c < 64; c++)
      a[j][c] = (j * 3 + c) % 11;
  for (int k = 0; k < 64; k++)
    bump(n, k, a);
  double s = 0.0;
  for (int j = 0; j < n; j++)   /* SUM */
    s += a[j][j % 64];
  printf("%.3f\n", s);
  return 0;
}
"""


@needs_clang
def test_a_matrix_allocated_by_rows_is_mapped_whole(tmp_path: Path) -> None:
    build_and_compare(tmp_path, ROWS, ["BUMP", "FILL", "SUM"])
