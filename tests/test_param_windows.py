"""Helpers that write through pointer parameters, in windows (engine/paramwindows.py).

An RGB image loop calls ``shade(x, y, img + (y * w + x) * 3)``, and the helper, after
filling a colour table of its own through another helper, writes ``pix[2 - b]`` for
``b`` in ``0..2``: each call touches the three bytes from its pointer, so the pixel loops
are parallel (HeCBench colorwheel).  The call becomes an access ``img[off + x]``, ``x`` in
``0..2``, and rows of ``3 * w`` bytes delinearise.  A helper that writes into an array
the loop body declares writes that iteration's own copy.  Windows that overlap between
iterations, or offsets the helper cannot bound, keep the loop serial.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit  # noqa: E402
from pcx_driver.model import Decision, Language, SourceUnit  # noqa: E402

CLANG = shutil.which("clang-19")

IMAGE = r"""
#include <stdio.h>
#include <stdlib.h>
#define COLS 12
static void set_colour(int table[COLS][3], int r, int g, int b, int k) {
  table[k][0] = r; table[k][1] = g; table[k][2] = b;
}
static void shade(float fx, float fy, unsigned char *pix) {
  int table[COLS][3];
  int k = 0;
  for (int i = 0; i < COLS; i++) set_colour(table, 20 * i, 255 - 20 * i, (i * 37) % 256, k++);
  int c = (int)(fx * 7 + fy * 3) % COLS;
  for (int b = 0; b < 3; b++)
    pix[2 - b] = (unsigned char)(table[c][b] / 2 + b);
}
static void triple(const float *in, float out[3]) {
  for (int b = 0; b < 3; b++) out[b] = in[0] * (b + 1);
}
int main(int argc, char **argv) {
  int w = 300 + (argc > 1), h = 200;
  unsigned char *img = malloc((size_t)w * h * 3);
  float *val = malloc(sizeof(float) * w), *sum = malloc(sizeof(float) * w);
  for (int i = 0; i < w; i++) val[i] = (i % 13) * 0.5f;
  for (int y = 0; y < h; y++)                        /* IMAGE */
    for (int x = 0; x < w; x++) {
      size_t idx = ((size_t)y * w + x) * 3;
      shade((float)x, (float)y, img + idx);
    }
  for (int i = 0; i < w; i++) {                      /* LOCAL */
    float t[3];
    triple(&val[i], t);
    sum[i] = t[0] + t[1] + t[2];
  }
  long s = 0;
  for (long i = 0; i < (long)w * h * 3; i++) s += img[i] * (i % 7);
  double z = 0;
  for (int i = 0; i < w; i++) z += sum[i];
  printf("%ld %.3f\n", s, z);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_helper_writing_three_bytes_per_pixel_and_one_writing_a_local_array(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, IMAGE, ["IMAGE", "LOCAL"])
    nest = nest_at(data, IMAGE, "IMAGE")
    # both loops may be collapsed; on the host device (a CPU) the innermost stays whole
    assert "collapse" not in " ".join(nest["directives"]), nest
    assert any(r["id"] == "PCX143" and "collapse(1) of the 2 loops that may be collapsed" in r["message"]
               for r in nest["reasons"]), nest


HELPERS = r"""
static void put3(unsigned char *p, int v) { for (int b = 0; b < 3; b++) p[b] = (unsigned char)(v + b); }
static void put_n(unsigned char *p, int n, int v) { for (int b = 0; b < n; b++) p[b] = (unsigned char)v; }
static void put_at(unsigned char *p, int k) { p[k] = 1; }
"""


@pytest.mark.parametrize("loop, why", [
    # windows of 3 bytes, one byte apart: iterations overlap
    ("for (int x = 0; x < n; x++) put3(img + x, x);", "PCX101"),
    # a bound the helper only knows at run time
    ("for (int x = 0; x < n; x++) put_n(img + 4 * x, 4, x);", "cannot be bounded"),
    # an offset the helper takes as a value
    ("for (int x = 0; x < n; x++) put_at(img + 4 * x, x % 4);", "cannot be bounded"),
])
def test_windows_that_may_overlap_keep_the_loop_serial(loop: str, why: str) -> None:
    src = HELPERS + f"void run(int n, unsigned char *img) {{\n  {loop}\n}}\n"
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    (nest,) = [x for f in ua.functions if f.name == "run" for x in f.nests]
    assert nest.decision is not Decision.OFFLOADED, nest.remarks
    assert any(why in (r.id + " " + r.message) for r in nest.remarks), [r.message for r in nest.remarks]
