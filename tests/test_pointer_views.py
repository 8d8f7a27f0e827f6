"""Pointers a nest declares into an array (issue 15, PCX118): ``double *row = A + i * m;``
then ``row[j]`` is ``A[i * m + j]`` (engine/access/views.py).  The dependence test, the
extents and the plan see ``A``; the pointer is private to each iteration and computed on
the device from the device's ``A``.  Each program runs serially and through
``PCX_MODE=static`` with the same output; a view that is moved, passed on, of another
element type, or read from the row a neighbour writes keeps its nest serial."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

VIEWS = r"""#include <stdio.h>
#include <stdlib.h>
#define M 64
static void rowscale(int n, int m, double *A, const double *s) {
  for (int i = 0; i < n; i++) {                 /* PLUS */
    double *row = A + i * m;
    for (int j = 0; j < m; j++) row[j] *= s[j];
  }
}
static void rowadd(int n, int m, float *B, const float *C) {
  for (int i = 0; i < n; i++) {                 /* ADDRESS */
    float *dst = &B[i * m];
    const float *src = C + i * m;
    for (int j = 0; j < m; j++) dst[j] = dst[j] + 2.0f * src[j];
  }
}
static void rows2d(int n, double G[][M], const double *w) {
  for (int i = 0; i < n; i++) {                 /* ROW */
    double *g = G[i];
    for (int j = 0; j < M; j++) g[j] = g[j] * w[j] + i;
  }
}
static void shifted(int n, int m, double *A) {
  for (int i = 1; i < n; i++) {                 /* SHIFTED */
    double *row = A + i * m;
    const double *up = A + (i - 1) * m;
    for (int j = 0; j < m; j++) row[j] += 0.5 * up[j];
  }
}
int main(int argc, char **argv) {
  int n = 300 + (argc > 1), m = 50;
  double *A = malloc(sizeof(double) * n * m), *s = malloc(sizeof(double) * m);
  float *B = malloc(sizeof(float) * n * m), *C = malloc(sizeof(float) * n * m);
  double (*G)[M] = malloc(sizeof(double) * n * M), w[M];
  for (int i = 0; i < n * m; i++) { A[i] = i % 7; B[i] = i % 5; C[i] = i % 3; }
  for (int j = 0; j < m; j++) s[j] = 1.0 + j * 0.01;
  for (int i = 0; i < n; i++) for (int j = 0; j < M; j++) G[i][j] = i + j;
  for (int j = 0; j < M; j++) w[j] = 0.5 + j;
  rowscale(n, m, A, s);
  rowadd(n, m, B, C);
  rows2d(n, G, w);
  shifted(n, m, A);
  double t = 0;
  for (int i = 0; i < n * m; i++) t += A[i] + B[i] * 0.5;
  for (int i = 0; i < n; i++) for (int j = 0; j < M; j++) t += G[i][j] * 1e-3;
  printf("%.6f\n", t);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_row_pointers_declared_in_the_loop_offload_with_the_serial_output(tmp_path: Path) -> None:
    build_and_compare(tmp_path, VIEWS, ["PLUS", "ADDRESS", "ROW"])




def test_a_row_read_from_the_row_a_neighbour_writes_is_a_dependence() -> None:
    nest = analysed_nest(VIEWS, "SHIFTED")
    assert nest.decision is not Decision.OFFLOADED and nest.remarks[0].id == "PCX101", nest.remarks


@pytest.mark.parametrize("change, rid", [
    # moved inside the loop: no longer A + i * m at every use
    (("for (int j = 0; j < m; j++) row[j] *= s[j];", "for (int j = 0; j < m; j++) { row[j] *= s[j]; row += 0; }"),
     "PCX118"),
    # passed on as a pointer value
    (("for (int j = 0; j < m; j++) row[j] *= s[j];", "for (int j = 0; j < m; j++) row[j] *= s[j];\n    free(row);"),
     "PCX105"),
    # another element type: its subscripts scale differently
    (("double *row = A + i * m;", "char *row = (char *)A + i * m;"), "PCX118"),
    # a view of a view: the writes reach A through a pointer the nest declared
    (("double *row = A + i * m;\n    for (int j = 0; j < m; j++) row[j] *= s[j];",
      "double *row = A + i * m;\n    double *r2 = row + 1;\n    for (int j = 0; j < m - 1; j++) r2[j] *= s[j];"),
     "PCX118"),
])
def test_a_view_that_moves_escapes_or_changes_type_keeps_the_nest_serial(change, rid) -> None:
    src = VIEWS.replace(*change)
    assert src != VIEWS
    nest = analysed_nest(src, "PLUS")
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == rid for r in nest.remarks), nest.remarks
