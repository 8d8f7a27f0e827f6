"""Host code that reaches mapped data in ways the data planner used to miss (wrong outputs
found by a held-out check of C++ codes, HPCG among them).

- A local pointer that **borrows** other storage (``double *wv = w;``, ``= v.data()``,
  ``= &s.w[0]``): its buffer outlives the function, so what the kernels write through it
  must reach the host.  The region mapped it ``alloc`` (a local, dead at the end) and every
  result was lost: HPCG's ``ComputeWAXPBY_ref`` (``double * const wv = w.values;``) made
  the benchmark INVALID.  Now such a local is live after the region (``hostaccess.borrows``),
  for the planner and for the plan checker alike.
- C++ host code between kernels that writes through a **reference**: a range-for by
  reference (``for (auto& e : u) e += 1;``) writes the array whole; a reference bound to an
  element (``double& r = u[0];``) or an object constructed from the array (``std::vector<double>
  tmp(u);``) stops the region; an element passed to a call (``inc(u[0])``) may bind a
  reference parameter and counts as a write.  Each was planned as a read (or nothing) and
  the next kernel read stale device data.
- ``std::vector<bool>`` has no data pointer: its loops stay serial (PCX118) instead of a
  rewrite that does not compile (PCX007, which cost every other loop of the file).

Each program is built serially and with ``PCX_MODE=static`` and run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

BORROWED = r"""
#include <stdio.h>
#include <stdlib.h>
static void waxpby(int n, double alpha, const double *x, double *w) {
  double *wv = w;  /* borrows the caller's storage */
  if (alpha == 1.0) {
    for (int i = 0; i < n; i++)  /* ONE */
      wv[i] = x[i] + 1.0;
  } else {
    for (int i = 0; i < n; i++)  /* ALPHA */
      wv[i] = alpha * x[i];
  }
}
static void steps(int n, double *w) {
  double *wv = w;
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < n; i++)  /* STEPS */
      wv[i] = wv[i] * 0.5 + 1.0;
}
int main(int argc, char **argv) {
  int n = 20000 + argc;
  double *x = (double *)malloc(n * sizeof(double)), *w = (double *)malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) { x[i] = i % 9; w[i] = -7.0; }
  waxpby(n, 6.0, x, w);
  printf("%.3f %.3f\n", w[5], w[n - 1]);
  waxpby(n, 1.0, x, w);
  steps(n, w);
  printf("%.6f %.6f\n", w[5], w[n - 1]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_results_written_through_a_borrowing_local_reach_the_host(tmp_path) -> None:
    build_and_compare(tmp_path, BORROWED, ["ONE", "ALPHA", "STEPS"])


REFERENCES = r"""
#include <cstdio>
#include <vector>
struct Store { std::vector<double> w; };
static void bump(double &x) { x += 1.0; }
static void smooth(std::vector<double> &u, std::vector<double> &w, int n, int m, int form) {
  for (int step = 0; step < 3; step++) {
    for (int i = 0; i < n; i++) {  /* GATHER */
      double a = 0;
      for (int k = 0; k < m; k++) a += u[i + k];
      w[i] = a;
    }
    for (int i = 0; i < n; i++) {  /* SCATTER */
      double a = 0;
      for (int k = 0; k < m; k++) a += w[i + k];
      u[i] = a / (m * m);
    }
    if (form == 0) { for (auto &e : u) e += 1.0; }
    if (form == 1) { double &r = u[0]; r += 1.0; }
    if (form == 2) bump(u[1]);
  }
}
static double copies(std::vector<double> &u, int n) {
  double acc = 0;
  for (int step = 0; step < 3; step++) {
    for (int i = 0; i < n; i++)  /* COPIED */
      u[i] = u[i] * 0.5 + step;
    std::vector<double> tmp(u);
    acc += tmp[0] + tmp[n - 1];
  }
  return acc;
}
static double through_data(Store &s, int n) {
  double *p = &s.w[0];
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < n; i++)  /* THROUGH */
      p[i] = p[i] + t + 0.25;
  return s.w[n / 2];
}
int main(int argc, char **argv) {
  int n = 3000 + argc, m = 16;
  for (int form = 0; form < 3; form++) {
    std::vector<double> u(n + m, 1.0), w(n + m, 0.0);
    smooth(u, w, n, m, form);
    std::printf("%d %.9f %.9f %.9f\n", form, u[0], u[1], u[n + m - 1]);
  }
  std::vector<double> v(n, 2.0);
  std::printf("%.6f\n", copies(v, n));
  Store s;
  s.w.assign(n, 1.0);
  std::printf("%.6f\n", through_data(s, n));
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_host_writes_through_references_reach_the_next_kernel(tmp_path) -> None:
    data = build_and_compare(tmp_path, REFERENCES, ["GATHER", "SCATTER", "THROUGH"], suffix=".cpp")
    remarks = [r["message"] for s in data["sources"] for r in s["remarks"]]
    assert any("'u' is passed at line 28 to a constructor" in m for m in remarks), remarks


BITS = r"""
#include <cstdio>
#include <vector>
struct Cells { std::vector<bool> flag; std::vector<double> v; };
int main(int argc, char **argv) {
  int n = 40000 + argc;
  Cells s;
  s.flag.assign(n, false);
  s.v.assign(n, 0.0);
  for (int i = 0; i < n; i++)  /* FLAGS */
    s.flag[i] = (i % 3) == 0;
  for (int i = 0; i < n; i++)  /* VALUES */
    s.v[i] = i * 0.5;
  double t = 0;
  for (int i = 0; i < n; i++) t += s.flag[i] ? s.v[i] : 0.0;
  std::printf("%.6e\n", t);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_a_vector_of_bool_stays_serial_and_the_rest_offloads(tmp_path) -> None:
    data = build_and_compare(tmp_path, BITS, ["VALUES"], suffix=".cpp")
    text = " ".join(r["message"] for r in nest_at(data, BITS, "FLAGS")["reasons"])
    assert "std::vector<bool>" in text, text
