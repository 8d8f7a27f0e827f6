"""Issue 15, cause 7: an inner parallel loop under a serial loop whose host part reads and
writes rows, with the data kept on the device across the serial loop.

A row-by-row LU factorisation: at row ``i`` host code computes the row's left part
(``a[i][0:i]``, a recurrence along the row that reads the rows above), then a kernel
updates its right part (``a[i][i:n]``, parallel over columns).  The data region around
the row loop moves only what changes hands: after the host loop, ``update to`` of the
rows it wrote (its loops bound them: ``a[i:1][0:160]``, Flow._loop_written, whole rows
because clang-19 copies the wrong bytes for ``target update to(a[i:1][0:3])``); after the
kernel, ``update from`` of the section the kernel wrote (``a[i:1][0:n]``,
ArrayAccessSummary.write_section), because the host reads it at the next rows.  So
O(n^2) bytes move instead of the whole matrix each way at every row (O(n^3)), and the
plan checker proves it: a host loop's writes are taken over its index's range, and a
kernel's writes are its write section.
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

from pcx_driver.profile import copies  # noqa: E402

CLANG = shutil.which("clang-19")

LU = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 160
static double a[N][N];
static void factor(int n) {
  for (int i = 0; i < n; i++) {                       /* ROWS */
    for (int j = 0; j < i; j++) {
      for (int k = 0; k < j; k++)
        a[i][j] -= a[i][k] * a[k][j];
      a[i][j] /= a[j][j];
    }
    for (int j = i; j < n; j++) {                     /* RIGHT */
      double s = a[i][j];
      for (int k = 0; k < i; k++)
        s -= a[i][k] * a[k][j];
      a[i][j] = s;
    }
  }
}
int main(int argc, char **argv) {
  int n = N - (argc > 1);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      a[i][j] = (i == j) ? N : ((i * 7 + j * 3) % 11) * 0.125;
  factor(n);
  double t = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) t += a[i][j] * ((i + 2 * j) % 5 + 1);
  printf("%.9e\n", t);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_row_loop_keeps_its_matrix_on_the_device_and_moves_only_rows(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, LU, ["RIGHT"])
    (src,) = data["sources"]
    text = " ".join(r["message"] for r in src["remarks"])
    assert "target update to(a[i:1][0:160])" in text, text
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="48"))
    p = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    launches = [ln for ln in p.stderr.splitlines() if "Launching kernel" in ln and "_factor_l" in ln]
    moved = sum(c.size for c in copies(p.stderr) if c.name.startswith("a["))
    n, row = 160, 160 * 8
    assert len(launches) == n
    # the matrix in once, each row's left part in and the whole row back once: ~3 matrices
    # (the whole matrix each way at every row would be 2 * n of them)
    assert moved <= 4 * n * row, moved


# loopfuzz seed 43000047 in small: the host writes a row's first three elements (one
# statement and a loop) from the row above, the kernel the rest of the row.  Pushed as
# ``p0[i:1][0:3]``, clang-19 copied 4 bytes, and the kernel read two stale elements.
FIRST_COLUMNS = (Path(__file__).parent / "fixtures" / "loopfuzz" / "31-row-prefix-pushed-as-a-partial-row.c").read_text()


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_rows_first_elements_written_on_the_host_go_to_the_device_as_a_whole_row(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, FIRST_COLUMNS, ["REST"])
    text = " ".join(r["message"] for r in data["sources"][0]["remarks"])
    assert "target update to(p0[i:1][0:26])" in text, text


# Host loops that walk past the row they name (C lays rows out one after another, and
# code walks them flat): the rows they reach go back to the device, not the row named.
# A held-out check's versions each printed a wrong sum (``update to(a[5:1][0:120])``
# after a loop over a[5][0..359]).
FLAT_WALKS = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 96
static double a[N][N], b[N][N];
int main(int argc, char **argv) {
  int n = argc > 1 ? N - 1 : N;
  for (int i = 0; i < N; i++)                                   /* INIT */
    for (int j = 0; j < N; j++) { a[i][j] = (i * 7 + j * 3) % 17; b[i][j] = (i + 2 * j) % 5; }
  for (int i = 0; i < N * 3; i++) { a[5][i] = i; if (i < 0) puts(""); }     /* rows 5 to 7 */
  for (int i = 0; i < n; i++)                                   /* ADD */
    for (int j = 0; j < n; j++)
      b[i][j] += a[i][j];
  double s = 0;
  for (int i = 0; i < N; i++)                                   /* SUM */
    for (int j = 0; j < N; j++) s += (a[i][j] * (j % 5 + 1) + b[i][j]) * (i % 3 + 1);
  printf("%.3f\n", s);
  return 0;
}
"""

FLAT_VLA = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? 99 : 100, m = 90;
  double (*a)[m] = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++)                                   /* INIT */
    for (int j = 0; j < m; j++) a[i][j] = (i * j) % 17;
  for (int i = 0; i < n * m - 1; i++) { a[0][i] = a[0][i + 1] + 1; if (i < 0) puts(""); }
  double s = 0;
  for (int i = 0; i < n; i++)                                   /* SUM */
    for (int j = 0; j < m; j++) s += a[i][j] * (j % 5 + 1);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("program", [FLAT_WALKS, FLAT_WALKS.replace("a[5][i] = i;", "a[i % N][-1] = i;"), FLAT_VLA],
                         ids=["rows", "row-before", "vla"])
def test_host_loops_that_walk_across_rows_push_every_row_they_reach(tmp_path: Path, program: str) -> None:
    build_and_compare(tmp_path, program, ["INIT", "SUM"])
