"""A helper that takes a struct of the iteration by reference is walked as if inlined.

Rodinia cfd's hot loop calls ``compute_velocity(density, momentum, velocity)`` with
``float3 &`` parameters, on ``float3`` variables declared in the loop body; kmeans and
NPB BT have the same shape.  The call was refused: "'velocity_of' may write through its
parameter 'm'" (PCX105), though the body, in the file, reads ``m`` and writes only the
iteration's own ``v``.  Now a ``T &`` parameter given a struct declared in the nest (each
iteration's own, OpenMP makes it private) stands for that struct in the helper's walk,
as ``T *`` given ``&v`` did: ``m.x`` is ``v.x``.

Still refused: a struct reached through a pointer member (``s.p[i]``), a helper that keeps
the struct's address, the same struct passed twice, and a struct that is not the
iteration's own.  Built serially and with ``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")

FLUX = r"""
#include <cstdio>
#include <vector>
struct vec3 { double x, y, z; };
inline void velocity_of(double &rho, vec3 &m, vec3 &v) {
  v.x = m.x / rho;
  v.y = m.y / rho;
  v.z = m.z / rho;
}
inline double speed_sq(const vec3 &v) { return v.x * v.x + v.y * v.y + v.z * v.z; }
int main(int argc, char **argv) {
  const int n = 200000 + argc;
  std::vector<double> rho(n), out(n), mx(n), my(n), mz(n);
  for (int i = 0; i < n; i++) { rho[i] = 1.0 + i % 5; mx[i] = i * 0.5; my[i] = 1.0; mz[i] = -i * 0.25; }
  double *R = rho.data(), *O = out.data(), *X = mx.data(), *Y = my.data(), *Z = mz.data();
  for (int i = 0; i < n; i++) {  /* FLUX */
    double d = R[i];
    vec3 m = {X[i], Y[i], Z[i]};
    vec3 v;
    velocity_of(d, m, v);
    O[i] = speed_sq(v) + m.x;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += O[i];
  std::printf("%.10e\n", s);
  return 0;
}
"""

HAZARDS = r"""
#include <cstdio>
struct S { double *p; double w; };
struct V { double x, y; };
V *keep;
static void poke(S &s, int i) { s.p[i] += s.w; }
static void grab(V &v) { keep = &v; v.x = 1; }
static void twice(V &a, V &b) { a.x = b.x + 1; b.x = a.x * 2; }
static void bump(V &v) { v.x += 1; }
double A[1000], O[1000];
V shared;
void run(int n) {
  for (int i = 0; i < n; i++) {  /* POKE */
    S s = {A, 0.5};
    poke(s, (i * 7) % n);
  }
  for (int i = 0; i < n; i++) {  /* GRAB */
    V v = {0, 0};
    grab(v);
    O[i] = v.x;
  }
  for (int i = 0; i < n; i++) {  /* TWICE */
    V v = {double(i), 0};
    twice(v, v);
    O[i] += v.x;
  }
  for (int i = 0; i < n; i++) {  /* SHARED */
    bump(shared);
    O[i] += shared.x;
  }
}
"""


def test_a_struct_of_the_iteration_passed_by_reference_is_offloaded(tmp_path) -> None:
    build_and_compare(tmp_path, FLUX, ["FLUX"], suffix=".cpp")


@pytest.mark.parametrize("marker, rid, words", [
    ("POKE", "PCX105", "reaches memory through the pointer member 's.p'"),
    ("GRAB", "PCX105", "uses the global or static variable 'keep'"),
    ("TWICE", "PCX105", "'twice' may write through its parameter 'a'"),
    ("SHARED", "PCX105", "'bump' may write through its parameter 'v'"),
])
def test_structs_that_are_not_the_iterations_own_stay_refused(marker, rid, words) -> None:
    refused_nest(HAZARDS, marker, rid, words, "t.cpp")
