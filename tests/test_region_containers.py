"""C++ containers held by a data region (held-out C++ checks, both wrong outputs before):

- a region maps a ``std::vector`` through the local pointer the rewrite takes from it
  (``pcx_r`` for ``r``); a call ``dot(r, r)`` inside it was not seen to pass the region's
  data, so ``dot``'s kernel kept its run-time work guard and, with a small ``n``, ran on
  the stale host copy (a CG solver printed ``it=0``).  It is held now: always on the
  device;
- a global ``std::vector<double> GV(N);`` parses as a function's declaration in C++: it
  was no global to the planner, and a host function writing it between two kernels got no
  ``target update``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")

SOLVER = r"""
#include <cstdio>
#include <vector>
static double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double s = 0;
  int n = a.size();
  for (int i = 0; i < n; i++)  /* DOT */
    s += a[i] * b[i];
  return s;
}
static int solve(const std::vector<double> &b, int n) {
  std::vector<double> r(n);
  for (int i = 0; i < n; i++)  /* START */
    r[i] = b[i] * 0.5;
  double rr = dot(r, r);
  int it = 0;
  while (it < 5 && rr > 1e-12) {
    for (int i = 0; i < n; i++)  /* SCALE */
      r[i] = r[i] * 0.75;
    rr = dot(r, r);
    it++;
  }
  std::printf("rr=%.6f it=%d\n", rr, it);
  return it;
}
int main(int argc, char **argv) {
  int n = 100 * argc;  /* small: below the default --pcx-min-work */
  std::vector<double> b(n);
  for (int i = 0; i < n; i++) b[i] = (i % 3) + 1;
  solve(b, n);
  return 0;
}
"""

GLOBAL_VECTOR = r"""
#include <cstdio>
#include <vector>
const int N = 4096;
std::vector<double> GV(N);
static void poke(int s) { GV[s % N] += 10.0; }
static double peek(int s) { return GV[(s * 7) % N]; }
static double run(int steps) {
  for (int i = 0; i < N; i++) GV[i] = 1.0;
  std::vector<double> w(N);
  double seen = 0;
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < N; i++)  /* HALF */
      w[i] = GV[i] * 0.5;
    poke(s);
    for (int i = 0; i < N; i++)  /* ADD */
      GV[i] = w[i] + GV[i];
    seen += peek(s);
  }
  double t = 0;
  for (int i = 0; i < N; i++) t += GV[i];
  return t + seen;
}
int main(int argc, char **argv) {
  std::printf("sum=%.6f\n", run(3 + argc));
  return 0;
}
"""


def test_a_callee_of_a_region_holding_a_container_is_never_guarded(tmp_path) -> None:
    data = build_and_compare(tmp_path, SOLVER, ["START", "SCALE", "DOT"], suffix=".cpp")
    dot = nest_at(data, SOLVER, "DOT")
    assert any("always on the device: a target data region holds its data" in r["message"] for r in dot["reasons"]), dot


def test_a_global_vector_written_by_a_host_function_is_updated(tmp_path) -> None:
    data = build_and_compare(tmp_path, GLOBAL_VECTOR, ["HALF", "ADD"], suffix=".cpp")
    updates = [r["message"] for s in data["sources"] for r in s["remarks"] if r["id"] == "PCX201"]
    assert any("target update to(GV[0:N])" in m for m in updates), updates
