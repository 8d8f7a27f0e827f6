"""A kernel maps an array ``map(from:)`` (no copy in) only when it writes every element of
the section: a write that may not happen leaves its element to the device's undefined
memory, which the copy back then puts over the host's value.

An adversarial campaign (session 35) found the write counted as total where it sits in a
loop that no subscript follows and that may run no iteration: ``for (j = 0; j < m; j++)
A[i] = ...`` with ``m == 0``, a triangle ``j < i`` (row 0 has none), a trip count read from
an array (``j < cnt[i]``).  Such a loop must now provably run at least once wherever the
loops around it run (engine/extents.py, ``_runs_at_least_once``); else the section is
copied in first.  Each program initialises ``A`` on the host (a ``puts`` keeps that loop
off the device, so no region defines the device copy for it) and is built serially and
with ``PCX_MODE=static``, then run on the host device with ``MALLOC_PERTURB_`` filling
fresh memory.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

PROGRAM = r"""
#include <stdio.h>
#define N 5000
double A[N], B[N], C[N], D[N];
int cnt[N];
int main(int argc, char **argv) {
  int m = argc - 1;  /* 0 without arguments: the inner loop below runs no iteration */
  for (int k = 0; k < N; k++) {
    A[k] = 7.0 + k; B[k] = 1.0 + k; C[k] = 3.0 * k; D[k] = -k; cnt[k] = k % 3;
    if (k == 0) puts("set");
  }
  for (int i = 0; i < N; i++)  /* MAYBE_NONE */
    for (int j = 0; j < m; j++) A[i] = B[i] + j;
  for (int i = 0; i < N; i++)  /* TRIANGLE */
    for (int j = 0; j < i; j++) C[i] = B[j] + i;
  for (int i = 0; i < N; i++)  /* COUNTED */
    for (int j = 0; j < cnt[i]; j++) D[i] = B[i] * j;
  for (int i = 0; i < N; i++)  /* AT_LEAST_ONE */
    for (int j = 0; j <= m; j++) B[i] = B[i] * 0.5 + j;
  double s = 0;
  for (int k = 0; k < N; k += 7) s += A[k] + C[k] + D[k] + B[k];
  printf("%.6f %g %g %g\n", s, A[0], C[0], D[0]);
  return 0;
}
"""


@needs_clang
def test_a_write_in_a_loop_that_may_not_run_is_copied_in_first(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["MAYBE_NONE", "TRIANGLE", "COUNTED"])
    for marker, name in (("MAYBE_NONE", "A"), ("TRIANGLE", "C"), ("COUNTED", "D")):
        maps = " ".join(nest_at(data, PROGRAM, marker)["directives"])
        assert f"map(from: {name}[" not in maps and f" {name}[" in maps, (marker, maps)
