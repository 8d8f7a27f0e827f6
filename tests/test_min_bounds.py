"""Tiled loops bounded by a minimum (issue 15, causes 8 and 10): ``for (i = ii; i < MIN(ii
+ B, n); i++)``, or ``cnt = std::min(B, n - base)`` then ``i < cnt``.

The loop runs where both ``i < ii + B`` and ``i < n`` hold (engine/minimum.py says which
calls compute a minimum: ``std::min``, a macro or a function of the unit whose body is the
ternary; never a name alone).  The tile loop is then parallel (tiles do not overlap), the
sections end at ``n - 1`` (the arm isl proves attained, never a bound past the array), and
a tile filled and read in each step of a serial loop inside the kernel is private to each
iteration (HeCBench meanshift).  Each program runs serially and through ``PCX_MODE=static``
on the host device with the same output; the shapes that must not be read as a minimum
keep their loops serial.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, nest_at  # noqa: E402

from pcx_driver.model import Decision

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

TILED = r"""#include <stdio.h>
#include <stdlib.h>
#define B 32
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define LEAST(a, b) ((a) > (b) ? (b) : (a))
static int imin(int a, int b) { return a < b ? a : b; }

void scale(int n, const float *in, float *out) {
  for (int ii = 0; ii < n; ii += B) {              /* MACRO */
    for (int i = ii; i < MIN(ii + B, n); i++)
      out[i] = 0.5f * in[i] + 1.0f;
  }
}
void shift(int n, const float *in, float *out) {
  for (int ii = 0; ii < n; ii += B) {              /* LOCAL */
    int cnt = imin(B, n - ii);
    for (int i = 0; i < cnt; i++)
      out[ii + i] = 0.25f * in[ii + i];
  }
}
void swapped(int n, const float *in, float *out) {
  for (int ii = 0; ii < n; ii += B) {              /* SWAPPED */
    for (int i = ii; i < LEAST(n, ii + B); i++)
      out[i] = in[i] - 2.0f;
  }
}
/* each point against every other, the points read through a tile of 4-vectors */
void gather(int n, const float *data, float *next) {
  float tile[B * 4];
  for (int t = 0; t < n; t++) {                    /* TILE */
    float acc = 0;
    for (int base = 0; base < n; base += B) {
      int cnt = imin(B, n - base);
      for (int i = 0; i < cnt; i++)
        for (int j = 0; j < 4; j++)
          tile[i * 4 + j] = data[(base + i) * 4 + j];
      for (int i = 0; i < cnt; i++)
        for (int j = 0; j < 4; j++)
          acc += tile[i * 4 + j] * data[t * 4 + j];
    }
    next[t] = acc;
  }
}
int main(int argc, char **argv) {
  int n = 3000 + (argc > 1) * 17;
  float *a = malloc(sizeof(float) * n * 4), *b = malloc(sizeof(float) * n * 4), *c = malloc(sizeof(float) * n);
  for (int i = 0; i < 4 * n; i++) a[i] = (float)(i % 13) * 0.25f;
  scale(n, a, b);
  shift(n, b, a);
  swapped(n, a, b);
  gather(n, a, c);
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] + b[i] + c[i] * 1e-3;
  printf("%.4f\n", s);
  return 0;
}
"""


@needs_clang
def test_tile_loops_bounded_by_a_minimum_offload_with_the_serial_output(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, TILED, ["MACRO", "LOCAL", "SWAPPED", "TILE"])
    tile = nest_at(data, TILED, "TILE")
    assert any("'tile' is private to each iteration" in r["message"] for r in tile["reasons"]), tile




@pytest.mark.parametrize("change", [
    # a function named like a minimum that is none: its tiles overlap
    ("static int imin(int a, int b) { return a < b ? a : b; }", "static int imin(int a, int b) { return a > b ? a : b; }"),
    # the macro's arms the wrong way round: the larger one
    ("#define LEAST(a, b) ((a) > (b) ? (b) : (a))", "#define LEAST(a, b) ((a) > (b) ? (a) : (b))"),
])
def test_a_call_that_is_no_minimum_is_no_bound(change) -> None:
    src = TILED.replace(*change)
    marker = "LOCAL" if "imin" in change[0] else "SWAPPED"
    nest = analysed_nest(src, marker, "t.c")
    assert nest.decision is not Decision.OFFLOADED, nest.remarks


def test_a_bound_no_arm_attains_gives_no_section() -> None:
    """``i < MIN(ii + B, m)`` with ``ii < n``: the last index read is ``min(last ii + B - 1,
    m - 1)``, which neither arm is for every ``n`` and ``m``; a section to either could
    reach past ``in``, so its extent stays unknown (PCX116) and the loop serial."""
    src = TILED.replace("void scale(int n, const float *in, float *out) {",
                        "void scale(int n, const float *in, float *out, int m) {").replace(
                        "i < MIN(ii + B, n)", "i < MIN(ii + B, m)").split("int main")[0]
    nest = analysed_nest(src, "MACRO")
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX116" for r in nest.remarks), nest.remarks


TRIANGLES = r"""#include <stdio.h>
#include <stdlib.h>
#define MIN(a, b) ((a) < (b) ? (a) : (b))
/* L*U from a packed LU factor (Rodinia lud's check): row i of L meets column j of U
   up to the smaller of the two */
void product(const float *lu, float *out, int n) {
  for (int i = 0; i < n; i++)                           /* PRODUCT */
    for (int j = 0; j < n; j++) {
      float sum = 0, l;
      for (int k = 0; k <= MIN(i, j); k++) {
        l = i == k ? 1.0f : lu[i * n + k];
        sum += l * lu[k * n + j];
      }
      out[i * n + j] = sum;
    }
}
/* the same bound written one past the minimum */
void shifted(const float *lu, float *out, int n) {
  for (int i = 0; i < n; i++)                           /* SHIFTED */
    for (int j = 0; j < n; j++) {
      float sum = 0;
      for (int k = 0; k < MIN(i, j) + 1; k++)
        sum += lu[i * n + k] * lu[k * n + j];
      out[i * n + j] = sum;
    }
}
int main(int argc, char **argv) {
  int n = 150 + (argc > 1) * 7;
  float *lu = malloc(sizeof(float) * n * n), *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
  for (int i = 0; i < n * n; i++) lu[i] = (float)((i * 7919) % 1000) * 1e-3f;
  product(lu, a, n);
  shifted(lu, b, n);
  double s = 0;
  for (int i = 0; i < n * n; i++) s += (a[i] + 2 * b[i]) * (i % 13);
  printf("%.3f\n", s);
  return 0;
}
"""


@needs_clang
def test_a_triangle_under_a_minimum_of_two_indices_has_its_sections(tmp_path: Path) -> None:
    """``k <= MIN(i, j)`` reads ``lu[i*n + k]``: the greatest element, ``n*n - 1``, is read
    where ``i = k = n - 1`` (and ``j = n - 1``), which isl cannot check as a value of
    ``i*n + k`` (no affine form: ``n`` is a parameter) but can as a point of the loops'
    domain.  Both loops offload where nothing tells the array's size (they were PCX116; in
    the whole program ``main``'s allocations give it) and give the serial output."""
    functions = TRIANGLES.split("int main")[0]
    for marker in ("PRODUCT", "SHIFTED"):
        nest = analysed_nest(functions, marker)
        assert nest.decision is Decision.OFFLOADED, (marker, nest.remarks)
    build_and_compare(tmp_path, TRIANGLES, ["PRODUCT", "SHIFTED"])
