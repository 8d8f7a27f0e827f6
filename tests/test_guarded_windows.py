"""Issue 15, cause 10: a window clipped at an image's edges, in a flattened array.

HeCBench's entropy reads a 5x5 window around each pixel, ``v[yy * width + xx]`` with
``yy = y + dy`` and ``xx = x + dx``, only ``if (xx >= 0 && yy >= 0 && yy < height && xx <
width)``.  The loops' bounds reach two rows and columns outside on every side, and the
guards bound the row and the column, not the flattened subscript.  Row-major reasoning
(engine/ranges.py, ``_guarded_rows``): a row ``r >= 0``, a column ``0 <= c <= width - 1``
and a guard ``r <= height - 1`` keep ``r * width + c`` in ``[0, height * width - 1]``, so the
pointer parameter maps ``v[0:height*width]`` where before the extent was unknown (PCX116).
A guard that lets the column reach past the row keeps the nest serial.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

CLANG = shutil.which("clang-19")

ENTROPY = r"""
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
void entropy(float *out, const char *v, int height, int width) {
  for (int y = 0; y < height; y++)                   /* PIXELS */
    for (int x = 0; x < width; x++) {
      char count[16];
      for (int i = 0; i < 16; i++) count[i] = 0;
      int total = 0;
      for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
          int xx = x + dx, yy = y + dy;
          if (xx >= 0 && yy >= 0 && yy < height && xx < width) {
            count[v[yy * width + xx]]++;
            total++;
          }
        }
      float e = 0;
      for (int k = 0; k < 16; k++) {
        float p = (float)count[k] / total;
        if (p > 0) e -= p * log2f(p);
      }
      out[y * width + x] = e;
    }
}
int main(int argc, char **argv) {
  int width = 120 + (argc > 1), height = 90;
  char *in = malloc((size_t)height * width);
  float *out = malloc(sizeof(float) * height * width);
  for (int i = 0; i < height * width; i++) in[i] = (char)((i * 7 + i / 13) % 16);
  entropy(out, in, height, width);
  double s = 0;
  for (int i = 0; i < height * width; i++) s += out[i] * (i % 5 + 1);
  printf("%.4f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_window_clipped_at_the_edges_maps_the_whole_image(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, ENTROPY, ["PIXELS"])
    directives = nest_at(data, ENTROPY, "PIXELS")["directives"]
    assert "map(to: v[0:(long)((long)height*width)" in " ".join(directives), directives


def test_a_column_guard_wider_than_the_row_keeps_the_nest_serial() -> None:
    # xx < width + 1 lets the last column reach the next row's first element, and on the
    # last row past the image
    src = ENTROPY.replace("xx < width)", "xx < width + 1)").split("int main")[0]
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    (nest,) = [x for f in ua.functions for x in f.nests if x.line == 6]
    assert nest.decision is not Decision.OFFLOADED, nest.remarks
