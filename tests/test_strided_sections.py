"""Sections of blocked loops: the last index a strided loop reaches.

``for (kk = 0; kk < N; kk += B) for (k = 0; k < B; k++) a[kk + k]`` touches ``a[0:N]``
when B divides N, but the section read ``kk <= N - 1`` and mapped ``a[0:N + B - 1]``: B - 1
elements past the accesses, copied to the device and back (a held-out check: MachSuite's
blocked gemm, and a region whose exit copy overwrote what the host had written through
another pointer meanwhile; with a guard page after the array, a crash).  Where the range
is a compile-time constant spelled through names (macros), the loop's last index is the
bound less what the stride leaves short of it; where it is not known, the kernel tests that
the range is whole blocks (PCX202, ``model.StrideFact``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402
from test_struct_members_on_device import _remarks_at  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

BLOCKED = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 3072
#define B 48
static void relax(double *restrict a, double *restrict tail, int steps) {
  for (int s = 0; s < steps; s++) {
    for (int kk = 0; kk < N; kk += B)  /* BLOCKED_CONSTANT */
      for (int k = 0; k < B; k++)
        a[kk + k] = a[kk + k] * 0.5 + 1.0;
    tail[0] += 1.0;  /* just past a's last element */
  }
}
static void scale(double *a, int n) {
  for (int kk = 0; kk < n; kk += 16)  /* BLOCKED_RUNTIME */
    for (int k = 0; k < 16; k++)
      a[kk + k] = a[kk + k] * 2.0;
}
int main(int argc, char **argv) {
  double *buf = malloc((N + B) * sizeof(double));
  for (int i = 0; i < N + B; i++) buf[i] = i + argc;
  relax(buf, buf + N, 6);
  scale(buf, N);
  double s = 0;
  for (int i = 0; i < N + B; i++) s += buf[i] * (i % 5);
  printf("%.3f %.3f\n", buf[N], s);
  return 0;
}
"""


def test_a_blocked_loop_maps_only_what_it_touches(tmp_path) -> None:
    data = build_and_compare(tmp_path, BLOCKED, [])
    sections = [r["message"] for s in data["sources"] for r in s["remarks"] if r["id"] == "PCX200"]
    assert not any("B + N - 1" in m for m in sections), sections
    # a range known only at run time: the kernel tests that it is whole blocks
    # (tests/test_strided_blocks.py), and runs the loop as written where it is not
    runtime = nest_at(data, BLOCKED, "BLOCKED_RUNTIME")
    assert runtime["applied"] and any("strided loop 'kk'" in r["message"] and "taken as n - 16" in r["message"]
                                      for r in runtime["reasons"]), runtime


LONG_DOUBLE = r"""
#include <stdio.h>
int main(int argc, char **argv) {
  static double x[100000];
  int n = 100000 - argc;
  for (int i = 0; i < n; i++)  /* FILL */
    x[i] = 1.0 / (i + 1);
  long double s = 0;
  for (int i = 0; i < n; i++)  /* LONG_DOUBLE_SUM */
    s += x[i];
  printf("%.12Lf\n", s);
  return 0;
}
"""


def test_a_long_double_sum_is_no_reduction(tmp_path) -> None:
    # clang's offload build of reduction(+: s) on a long double calls libatomic, which the
    # link lacks: the program failed to link and the driver fell back (graph500)
    data = build_and_compare(tmp_path, LONG_DOUBLE, ["FILL"])
    assert any("long double" in r["message"] for r in _remarks_at(data, LONG_DOUBLE, "LONG_DOUBLE_SUM"))


def test_a_flat_walk_across_rows_stays_serial() -> None:
    # TSVC's vbor reads ``aa[0][i]`` with i up to LEN-1, past its rows of 64: the section
    # mapped row 0 alone ("over-approximates"), and the kernel read unmapped memory (-nan)
    from test_coverage_liveness import refused_nest

    src = ("#define N2 64\n#define LEN 4096\ndouble aa[N2][N2], x[LEN];\n"
           "void k(void) {\n  for (int i = 0; i < LEN; i++)  /* FLAT */\n    x[i] = aa[0][i] * 0.5;\n}\n")
    refused_nest(src, "FLAT", "PCX116", "walks across rows")


def test_a_macro_defined_twice_decides_no_walk_across_rows() -> None:
    # ``#undef W`` / ``#define W 32``: the first value (64) is not the one this loop reads,
    # so ``g[i][j + 32]`` with j < W is no walk past its rows
    from test_coverage_liveness import analysed_nest

    src = ("#define W 64\nvoid f(double m[][W]) { m[0][0] = 1; }\n#undef W\n#define W 32\n"
           "double g[100][64], h[100][W];\n"
           "void k(void) {\n  for (int i = 0; i < 100; i++)  /* COPY */\n"
           "    for (int j = 0; j < W; j++) h[i][j] = g[i][j + 32];\n}\n")
    nest = analysed_nest(src, "COPY")
    assert not any("walks across rows" in r.message for r in nest.remarks), nest.remarks
