"""Issue 15, cause 10: boundary cases written as an else-if chain.

``if (i == 0) ... else if (i == n - 1) ... else b[i] = a[i - 1] + a[i + 1];`` reads
``a[i - 1]`` only where ``i != 0``.  An untaken ``i == e`` whose ``e`` is a bound of ``i``'s
loop moves that bound one step in (``i >= 1``), and an untaken ``r == 0 && c == 0`` under a
taken ``r == 0`` says ``c != 0`` (engine/ranges.py, ``_guard_facts``).  Each read is then
bounded where it runs, and the min and max over the reads bound every one of them
(``_fold``), so the chain is offloaded with the array's own extent.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
static void edges(int n, const double *restrict a, double *restrict b) {
  for (int i = 0; i < n; i++) {                 /* EDGES */
    if (i == 0) b[i] = 2 * a[i];
    else if (i == n - 1) b[i] = a[i] - a[i - 1];
    else b[i] = 0.5 * (a[i - 1] + a[i + 1]);
  }
}
static void rows(int nr, int nc, const double *restrict t, double *restrict u) {
  for (int r = 0; r < nr; r++)                  /* ROWS */
    for (int c = 0; c < nc; c++) {
      if (r == 0 && c == 0) u[0] = t[0];
      else if (r == 0) u[c] = t[c - 1] + t[c];
      else if (c == 0) u[r * nc] = t[(r - 1) * nc] + t[r * nc];
      else u[r * nc + c] = t[r * nc + c] + t[r * nc + c - 1];
    }
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 5000 : 4000, nr = 60, nc = 70 + (argc > 1);
  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
  double *t = malloc(sizeof(double) * nr * nc), *u = malloc(sizeof(double) * nr * nc);
  for (int i = 0; i < n; i++) a[i] = (i * 13) % 17;
  for (int k = 0; k < nr * nc; k++) t[k] = (k * 7) % 11;
  edges(n, a, b);
  rows(nr, nc, t, u);
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i] * (i % 3 + 1);
  for (int k = 0; k < nr * nc; k++) s += u[k] * (k % 5);
  printf("%.3f\n", s);
  free(a); free(b); free(t); free(u);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_else_if_boundary_chains_offload_and_give_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["EDGES", "ROWS"])


def test_a_chain_whose_reads_need_a_larger_array_than_the_loop_maps_their_maximum() -> None:
    """``if (i == 0) b[i] = a[i + 1]`` reads ``a[1]`` even when ``n`` is 1: no single
    access's bound covers both ``1`` and ``n - 2``, so the section's length is their C
    maximum (``subscript_bounds``; Rodinia's hotspot reads ``temp[col]`` at a corner)."""
    src = ("void f(int n, const double *restrict a, double *restrict b) {\n"
           "  for (int i = 0; i < n; i++) {\n    if (i == 0) b[i] = a[i + 1];\n"
           "    else b[i] = a[i - 1];\n  }\n}\n")
    nest = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()[0]
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    sections = {a.name: a.section.render() for a in nest.arrays}
    assert sections == {"a": "a[0:((2) + ((n - 1) - (2)) * ((n - 1) > (2)))]", "b": "b[0:n]"}


# One element, where the corner's read is the greater; thousands, where the others are.
MAXIMUM = r"""
#include <stdio.h>
#include <stdlib.h>
static void shift(int n, const double *restrict a, double *restrict b) {
  for (int i = 0; i < n; i++) {                 /* SHIFT */
    if (i == 0) b[i] = a[i + 1];
    else b[i] = a[i - 1];
  }
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 1 : 3000;
  double *a = malloc(sizeof(double) * (n + 1)), *b = malloc(sizeof(double) * n);
  for (int i = 0; i <= n; i++) a[i] = (i * 13) % 17 + 0.5;
  shift(n, a, b);
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i] * (i % 3 + 1);
  printf("%.3f\n", s);
  free(a); free(b);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_section_of_the_maximum_of_two_reads_gives_the_serial_output(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PCX_MIN_WORK", "0")  # one element runs on the device too
    build_and_compare(tmp_path, MAXIMUM, ["SHIFT"])


# A triangular update under a serial loop (symmetric-multiply style): the inner ``j`` nest
# reads C[k][j] for k < i, so C's rows are bounded by 0 only because i >= 0, which the
# serial loop around it says (``Nest.context``); a loop whose index its body may assign says
# nothing.
TRIANGLE = """void k(int m, int n, double A[m][m], double B[m][n], double C[m][n]) {
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      double t = 0;
      for (int k = 0; k < i; k++) { C[k][j] += B[i][j] * A[i][k]; t += B[k][j] * A[i][k]; }
      C[i][j] = C[i][j] * 0.5 + t;  /* not an update: the loop over i stays serial */
    }
    AFTER
  }
}
"""


@pytest.mark.parametrize("after,offloaded", [("", True), ("if (m < 0) i = m;", False)],
                         ids=["the loop around bounds i", "its body may assign i"])
def test_the_serial_loop_around_a_nest_bounds_its_index(after, offloaded) -> None:
    ua = analyse_unit(SourceUnit("t.c", TRIANGLE.replace("AFTER", after), Language.C))
    nest = next(n for n in ua.nests() if n.line == 3)
    assert (nest.decision is Decision.OFFLOADED) == offloaded, [r.format() for r in nest.remarks]
    if not offloaded:
        assert nest.remarks[0].id == "PCX116", [r.format() for r in nest.remarks]
