"""Flat subscripts whose strides are names no loop bounds: the kernel tests their sign.

HeCBench's convolution3D reads ``X[II(n, c, h+p, w+q)]`` with ``#define II(n,c,h,w)
((n)*C*Hin*Win+(c)*Hin*Win+(h)*Win+w)``: ``Hin`` and ``Win`` bound no loop, so nothing
says they are not negative, and which end of the subscript's range is the least is
unknown (PCX116 "the range ... cannot be bounded").  Taken as ``>= 0``, the range is a
polynomial of the parameters; the kernel runs on the device only where the test holds at
run time, and the loop as written otherwise (a negative stride walks the array backwards:
the section computed for positive ones would miss what it reads).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Assumption, Decision

CONV = r"""
#include <stdio.h>
#include <stdlib.h>

/* as convolution3D writes it: the last parameter bare, given a sum (w + q) */
#define II(n, c, h, w) ((n) * C * Hin * Win + (c) * Hin * Win + (h) * Win + w)

void conv(const float *X, const float *Wt, float *Y, int N, int M, int C, int K,
          int Hin, int Win, int Hout, int Wout) {
  for (int n = 0; n < N; n++)                                  /* NEST1 */
    for (int m = 0; m < M; m++)
      for (int h = 0; h < Hout; h++)
        for (int w = 0; w < Wout; w++) {
          float s = 0;
          for (int c = 0; c < C; c++)
            for (int p = 0; p < K; p++)
              for (int q = 0; q < K; q++)
                s += X[II(n, c, h + p, w + q)] * Wt[((m * C + c) * K + p) * K + q];
          Y[((n * M + m) * Hout + h) * Wout + w] = s;
        }
}

/* a column walk whose stride the caller picks: negative walks the rows backwards (with
 * work enough per element to pay for copying the rows it strides over) */
void column(const double *a, double *out, int rows, int first, int stride) {
  for (int i = 0; i < rows; i++) {                             /* NEST2 */
    double v = a[first + i * stride];
    for (int t = 0; t < 40; t++)
      v = v * 0.5 + t;
    out[i] = v;
  }
}

int main(int argc, char **argv) {
  int N = 2, M = 3, C = 2, K = 3, Hin = 20 + (argc > 1), Win = 18;
  int Hout = Hin - K + 1, Wout = Win - K + 1;
  float *X = malloc(sizeof(float) * N * C * Hin * Win);
  float *Wt = malloc(sizeof(float) * M * C * K * K);
  float *Y = malloc(sizeof(float) * N * M * Hout * Wout);
  for (int i = 0; i < N * C * Hin * Win; i++) X[i] = (i % 11) * 0.5f;
  for (int i = 0; i < M * C * K * K; i++) Wt[i] = (i % 5) - 2.0f;
  conv(X, Wt, Y, N, M, C, K, Hin, Win, Hout, Wout);
  double s = 0;
  for (int i = 0; i < N * M * Hout * Wout; i++) s += Y[i] * (i % 7);
  int rows = 3000, cols = 40;
  double *a = malloc(sizeof(double) * rows * cols), *out = malloc(sizeof(double) * rows);
  for (int i = 0; i < rows * cols; i++) a[i] = i % 97;
  column(a, out, rows, 5, cols);                               /* down the rows */
  for (int i = 0; i < rows; i++) s += out[i] * (i % 3);
  column(a, out, rows, (rows - 1) * cols + 7, -cols);          /* up the rows: on the host */
  for (int i = 0; i < rows; i++) s += out[i] * (i % 5);
  printf("%.3f\n", s);
  return 0;
}
"""


def test_strides_no_loop_bounds_are_assumed_and_tested() -> None:
    nest = analysed_nest(CONV, "NEST1")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    (x,) = [a for a in nest.arrays if a.name == "X"]
    assert {a.name for a in x.assumptions} == {"Hin", "Win", "C"} and all(a.bound == 0 for a in x.assumptions)
    assert any(r.id == "PCX202" and "Hin >= 0 and Win >= 0" in r.message for r in nest.remarks)
    nest = analysed_nest(CONV, "NEST2")
    (a,) = [a for a in nest.arrays if a.name == "a"]
    assert a.assumptions == [Assumption("stride", 0)], [r.format() for r in nest.remarks]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_negative_stride_runs_the_loop_as_written(tmp_path: Path) -> None:
    build_and_compare(tmp_path, CONV, ["NEST1", "NEST2"])
    lines = launch_lines(tmp_path / "offload")
    nest1, nest2 = (next(k + 1 for k, t in enumerate(CONV.splitlines()) if m in t) for m in ("NEST1", "NEST2"))
    assert lines.count(nest1) == 1 and lines.count(nest2) == 1, lines  # the backward walk stayed on the host


def test_a_file_scope_stride_is_no_assumption() -> None:
    """Only the function's own scalars are tested before the kernel (a call in the nest
    could change a file-scope one); here the calls hand the extent of 'a' over instead."""
    src = CONV.replace("void column(const double *a, double *out, int rows, int first, int stride) {",
                       "int stride;\nvoid column(const double *a, double *out, int rows, int first, int unused) {")
    assert src != CONV
    nest = analysed_nest(src, "NEST2")
    (a,) = [x for x in nest.arrays if x.name == "a"]
    assert a.assumptions == [] and a.caller_extent is not None, [r.format() for r in nest.remarks]


def test_a_bare_parameter_after_a_minus_is_not_read_as_a_sum() -> None:
    """``((n) - w)`` given ``i + 1`` is ``n - i + 1`` as the preprocessor writes it, not
    ``n - (i + 1)``: no subscript is read from it (and the pointer has no other extent)."""
    src = r"""
#define BACK(n, w) ((n) - w)
void back(const double *a, double *out, int n) {
  for (int i = 0; i < n - 1; i++)                              /* BACKWARDS */
    out[i] = a[BACK(n, i + 1)];
}
"""
    nest = analysed_nest(src, "BACKWARDS")
    assert nest.decision is not Decision.OFFLOADED, [r.format() for r in nest.remarks]
    assert any(r.id == "PCX116" and "'a'" in r.message for r in nest.remarks), [r.format() for r in nest.remarks]


GAPS = r"""
#include <stdio.h>
#include <stdlib.h>
/* every (gap - 1)-th element: the stride is a name less one (with work enough per element
 * to pay for copying what it strides over) */
void pick(const double *a, double *out, int n, int gap) {
  for (int i = 0; i < n; i++) {                                 /* PICK */
    double v = a[i * (gap - 1)];
    for (int t = 0; t < 40; t++)
      v = v * 0.5 + t;
    out[i] = v + 1.0;
  }
}
int main(int argc, char **argv) {
  int n = 3000 + argc;
  double *a = malloc(sizeof(double) * n * 8), *out = malloc(sizeof(double) * n);
  for (int i = 0; i < n * 8; i++) a[i] = i % 101;
  double s = 0;
  for (int gap = 0; gap < 9; gap += 4) {
    /* gap 0 walks backwards from the middle (as written, on the host); 4 and 8 forwards */
    pick(gap == 0 ? a + n * 4 : a, out, n, gap);
    for (int i = 0; i < n; i++) s += out[i] * (i % 7 + gap);
  }
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_stride_less_a_constant_is_tested_at_its_own_bound(tmp_path: Path) -> None:
    nest = analysed_nest(GAPS, "PICK")
    (a,) = [x for x in nest.arrays if x.name == "a"]
    assert a.assumptions == [Assumption("gap", 1)], [r.format() for r in nest.remarks]
    build_and_compare(tmp_path, GAPS, ["PICK"])
    line = next(k + 1 for k, t in enumerate(GAPS.splitlines()) if "PICK" in t)
    launched = launch_lines(tmp_path / "offload")
    assert launched.count(line) == 2, launched  # gap 4 and 8; gap 0 (a stride of -1) as written
