"""Flattened rows whose width and pitch are different names: parallel where the rows fit.

``u[i*ny + j]`` with ``j < nx`` (HeCBench's burger writes ``#define idx(i,j) (i)*y_points+(j)``
over ``j < x_points``) and an image's ``img[y*pitch + x]`` with ``x < width`` are rows laid
``ny`` (``pitch``) elements apart: two iterations of the outer loop touch the same element
only where a row is longer than its stride.  Nothing in the source says it is not, so the
rows were one dimension and the outer loop's independence unproved (PCX103), and the inner
loop alone was offloaded, a launch per row.  The split into ``[i][j]`` holds where
``nx <= ny``: the kernel tests that before it runs (PCX147) and runs the loop as written
where it fails (overlapping rows, whose order the serial loop fixes).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

ROWS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#define idx(i, j) (i)*ny+(j)

/* as burger does: the stride is named for the other axis */
void smooth(double *u, const double *v, int nx, int ny) {
  for (int i = 0; i < ny; i++)                                  /* TRANSPOSED */
    for (int j = 0; j < nx; j++)
      u[idx(i, j)] = v[idx(i, j)] * 0.5 + u[idx(i, j)];
}

/* an image of width w in rows of pitch elements (a size_t pitch less an int width) */
void brighten(float *img, int w, int h, size_t pitch) {
  for (int y = 0; y < h; y++)                                   /* PITCHED */
    for (int x = 0; x < w; x++)
      img[y * pitch + x] = img[y * pitch + x] * 1.5f + (float)x;
}

int main(int argc, char **argv) {
  int n = 400 + argc;
  double *u = calloc((size_t)n * n + 64, sizeof(double)), *v = malloc(sizeof(double) * ((size_t)n * n + 64));
  for (int i = 0; i < n * n + 64; i++) v[i] = i % 13;
  smooth(u, v, n - 7, n);        /* rows apart: on the device */
  smooth(u, v, n + 5, n);        /* rows overlap by 5: the loop as written */
  double s = 0;
  for (int i = 0; i < n * n + 64; i++) s += u[i] * (i % 7);
  float *img = malloc(sizeof(float) * 300 * 512);
  for (int i = 0; i < 300 * 512; i++) img[i] = (float)(i % 31);
  brighten(img, 500, 300, 512);  /* on the device */
  brighten(img, 600, 200, 512);  /* wider than the pitch: as written */
  for (int i = 0; i < 300 * 512; i++) s += img[i] * (i % 3);
  printf("%.4f\n", s);
  return 0;
}
"""


def line_of(marker: str) -> int:
    return next(k + 1 for k, t in enumerate(ROWS.splitlines()) if marker in t)


@pytest.mark.parametrize("marker, test", [("TRANSPOSED", "(long)(ny) >= (long)(nx)"),
                                          ("PITCHED", "(long)(pitch) >= (long)(w)")])
def test_rows_apart_rest_on_a_tested_fact(marker: str, test: str) -> None:
    nest = analysed_nest(ROWS, marker)
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    assert nest.row_tests == [test]
    assert any(r.id == "PCX147" and test in r.message for r in nest.remarks)


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_overlapping_rows_run_as_written(tmp_path: Path) -> None:
    build_and_compare(tmp_path, ROWS, ["TRANSPOSED", "PITCHED"])
    lines = launch_lines(tmp_path / "offload")
    # each nest runs once on the device (rows apart) and once as written (rows overlap)
    assert lines.count(line_of("TRANSPOSED")) == 1 and lines.count(line_of("PITCHED")) == 1, lines


def test_a_pitch_the_nest_assigns_is_no_fact() -> None:
    src = ROWS.replace("      img[y * pitch + x] = img[y * pitch + x] * 1.5f + (float)x;",
                       "      { img[y * pitch + x] = img[y * pitch + x] * 1.5f + (float)x; if (x == 0) pitch += 0; }")
    assert src != ROWS
    nest = analysed_nest(src, "PITCHED")
    assert nest.decision is not Decision.OFFLOADED and not nest.row_tests, [r.format() for r in nest.remarks]
