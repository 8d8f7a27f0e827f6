"""Loop bounds read from an integer array element (NPB's ``for (i = 1; i < grid_points[0]-1;
i++)``): ``g[0]`` at constant subscripts of a declared integer array that the nest never
writes, and no integer memory written through a pointer in the nest, is one symbol of the
bound (``affine._element``).  The analysis rows are in test_analysis_snippets.py; here a
program of that shape, built with ``PCX_MODE=static`` and run on the host device."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

PROGRAM = r"""
#include <stdio.h>
static int grid_points[3];
static double u[40][40][5], rhs[40][40][5];
static void add(void) {
  int i, j, m;
  for (i = 1; i < grid_points[0] - 1; i++)          /* NEST1 */
    for (j = 1; j < grid_points[1] - 1; j++)
      for (m = 0; m < 5; m++)
        u[i][j][m] = u[i][j][m] + rhs[i][j][m];
}
int main(int argc, char **argv) {
  grid_points[0] = 30 + argc;
  grid_points[1] = 40 - argc;
  for (int i = 0; i < 40; i++)
    for (int j = 0; j < 40; j++)
      for (int m = 0; m < 5; m++) { u[i][j][m] = i - j; rhs[i][j][m] = (i * j + m) % 7; }
  for (int t = 0; t < 3; t++) add();
  double s = 0;
  for (int i = 0; i < 40; i++)
    for (int j = 0; j < 40; j++) s += u[i][j][i % 5] * ((i + 2 * j) % 9);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_bounds_from_an_integer_array_element(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["NEST1"])


# Rodinia lud's column walk below the diagonal, ``a[j * size + i]`` with ``j`` from ``i + 1``,
# in a function that takes ``a`` as a pointer: the section's end needs the sign of the stride
# ``size``, which only the serial loop around the nest gives (``0 <= i <= size - 1``, so
# ``size >= i + 2 >= 2`` wherever the nest runs).
LUD = r"""
#include <stdio.h>
#include <stdlib.h>
static void lud(float *a, int size) {
  int i, j, k;
  float sum;
  for (i = 0; i < size; i++) {
    for (j = i; j < size; j++) {                      /* ROW */
      sum = a[i * size + j];
      for (k = 0; k < i; k++) sum -= a[i * size + k] * a[k * size + j];
      a[i * size + j] = sum;
    }
    for (j = i + 1; j < size; j++) {                  /* COLUMN */
      sum = a[j * size + i];
      for (k = 0; k < i; k++) sum -= a[j * size + k] * a[k * size + i];
      a[j * size + i] = sum / a[i * size + i];
    }
  }
}
int main(int argc, char **argv) {
  int n = 48 + (argc > 1);
  float *a = malloc(sizeof(float) * n * n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) a[i * n + j] = (i == j) ? n + 1.0f : 1.0f / (1 + i + 2 * j);
  lud(a, n);
  double s = 0;
  for (int i = 0; i < n * n; i++) s += a[i] * (i % 7 + 1);
  printf("%.4f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_an_lu_column_walk_over_a_pointer_is_bounded_by_the_loop_around_it(tmp_path) -> None:
    build_and_compare(tmp_path, LUD, ["ROW", "COLUMN"])


# A convolution's edges (HeCBench convolution1D): ``in[start + j]`` runs over
# [i - r, i + r], below 0 and past n - 1 at the ends, but only under the guard that keeps it
# inside: the guard is the subscript's bound, ``in[0:n]``, whatever the loops reach.
# ``conv`` is called through a pointer, so no call gives ``in``'s extent.  ``conv_half``
# starts its window at ``i - width / 2``: that the window's end, ``i + width - 1 - width / 2``,
# is at least the guard's ``n - 1`` at the last ``i`` takes C's integer division (isl is
# told what ``width / 2`` is: dependence._division_facts).
CONVOLUTION = r"""
#include <stdio.h>
#include <stdlib.h>
void conv(const double *in, double *out, const double *w, int n, int r) {
  for (int i = 0; i < n; i++) {                       /* CONV */
    double s = 0;
    int start = i - r;
    for (int j = 0; j <= 2 * r; j++)
      if (start + j >= 0 && start + j < n)
        s += in[start + j] * w[j];
    out[i] = s;
  }
}
void conv_half(const double *in, double *out, const double *w, int n, int width) {
  for (int i = 0; i < n; i++) {                       /* HALF */
    double s = 0;
    int start = i - width / 2;
    for (int j = 0; j < width; j++)
      if (start + j >= 0 && start + j < n)
        s += in[start + j] * w[j];
    out[i] = s;
  }
}
void edges(const float *in, float *out, int n) {
  for (int i = 0; i < n; i++)                         /* EDGES */
    out[i] = (i > 0 ? in[i - 1] : 0.0f) + in[i] + (i + 1 < n ? in[i + 1] : 0.0f);
}
int main(int argc, char **argv) {
  int n = 1000 + 37 * (argc > 1), r = 3;
  double *in = malloc(sizeof(double) * n), *out = malloc(sizeof(double) * n), w[7];
  double *half = malloc(sizeof(double) * n);
  float *f = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
  for (int i = 0; i < n; i++) { in[i] = (i * 7) % 13 - 6; f[i] = (float)((i * 5) % 11); }
  for (int j = 0; j < 7; j++) w[j] = 1.0 / (j + 1);
  void (*volatile run)(const double *, double *, const double *, int, int) = conv;
  void (*volatile run_half)(const double *, double *, const double *, int, int) = conv_half;
  void (*volatile run_edges)(const float *, float *, int) = edges;
  run(in, out, w, n, r);
  run_edges(f, g, n);
  run_half(in, half, w, n, 5);
  double s = 0;
  for (int i = 0; i < n; i++) s += out[i] * (i % 5 + 1) + g[i] + half[i] * (i % 3);
  printf("%.6f %.3f %.3f\n", s, out[0], g[n - 1]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_guard_on_the_subscript_bounds_a_convolutions_edges(tmp_path) -> None:
    data = build_and_compare(tmp_path, CONVOLUTION, ["CONV", "HALF", "EDGES"])
    maps = " ".join(str(n) for s in data["sources"] for n in s["nests"] if n.get("applied"))
    assert "in[0:n]" in maps, maps


# A guard looser than its loop (loopfuzz seed 41100031): ``i < n / 2`` inside ``i < r`` with
# n / 2 past the rows of the VLA.  The section stays the loop's, p[0:r]: a guard never widens it.
LOOSER = (Path(__file__).parent / "fixtures" / "loopfuzz" / "30-guard-looser-than-its-loop.c").read_text()


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_guard_looser_than_its_loop_never_widens_the_section(tmp_path) -> None:
    data = build_and_compare(tmp_path, LOOSER, ["LOOSE"])
    maps = " ".join(str(n) for s in data["sources"] for n in s["nests"] if n.get("applied"))
    assert "p[0:r" in maps and "n / 2" not in maps, maps


# A bound read through a pointer to integers (HeCBench winograd's ``tile_i <
# cpu_global_size[0]``): one symbol when the nest writes no integer memory at all, which
# the pointer might point into; a nest that writes integers keeps it unknown (PCX110).
DIMS = r"""
#include <stdio.h>
#include <stdlib.h>
static void run(float *out, const float *in, size_t *dims, int *counter) {
  for (int i = 0; i < (int)dims[0]; i++)        /* ROWS */
    for (int j = 0; j < 300; j++)
      out[i * 300 + j] = in[i * 300 + j] * 2.0f + (float)dims[1];
  for (int i = 0; i < (int)dims[0]; i++)        /* COUNTS */
    counter[i] = (int)dims[1] + i;
}
int main(int argc, char **argv) {
  size_t *dims = malloc(2 * sizeof(size_t));
  dims[0] = 200 + (argc > 1); dims[1] = 300;
  float *in = malloc(sizeof(float) * 300 * 300), *out = malloc(sizeof(float) * 300 * 300);
  int *cnt = malloc(sizeof(int) * 300);
  for (int i = 0; i < 300 * 300; i++) { in[i] = (float)(i % 11); out[i] = 0; }
  run(out, in, dims, cnt);
  double s = 0;
  for (int i = 0; i < 300 * 300; i++) s += out[i] * (i % 3);
  printf("%.2f %d\n", s, cnt[7]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_bound_read_through_a_pointer_to_integers(tmp_path) -> None:
    data = build_and_compare(tmp_path, DIMS, ["ROWS"])
    nest = nest_at(data, DIMS, "COUNTS")
    assert not nest["applied"] and any(r["id"] == "PCX110" for r in nest["reasons"]), nest


# ``n < sizeof(dims) / sizeof(int)`` (HeCBench dense-embedding's loop over its table sizes):
# sizeof reads no value of its operand, so the bound is one loop-invariant symbol.
SIZEOF_BOUND = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  const int dims[] = {768, 2048, 1024 + (argc > 1)};
  float *out = malloc(sizeof(float) * 4096 * 3);
  for (size_t n = 0; n < sizeof(dims) / sizeof(int); n++)     /* TABLES */
    for (int i = 0; i < 4096; i++) out[n * 4096 + i] = (float)(i % dims[n] + n);
  double s = 0;
  for (int i = 0; i < 4096 * 3; i++) s += out[i] * (i % 3);
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_bound_of_sizeof_over_sizeof_is_loop_invariant(tmp_path) -> None:
    build_and_compare(tmp_path, SIZEOF_BOUND, ["TABLES"])
