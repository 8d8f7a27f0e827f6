"""C++ objects that are one object under two names (held-out checks of 2026-12-07).

Each program gave a wrong answer, or made libomptarget abort, where the serial build ran:

* two references to one object: ``smooth(S& out, const S& in)`` called as
  ``smooth(*s, *s)`` reads and writes one member array, which the dependence test took for
  two arrays (an array inside an object was distinct from every other member array);
* a pointer into an array inside a struct (``g.p = g.buf``, ``double *q = s.buf``): the
  struct's array was distinct from every name but a pointer parameter;
* a buffer handed to a method that keeps it in its object (``d.attach(a)``), then written
  on the host through the object (``d.m_x[0] = ...``) while a data region held it: only
  another explicit argument counted as a place the call could store it;
* an accessor called on a pointer the nest declares (``Grid *p = grids + i % 2;
  ... p->x(i)``): the kernel's data pointer was taken once, before the loop.

Each now runs with the serial output (kernels where they are sound: the aliasing ones are
kept serial or tested at run time, PCX104/PCX128).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

CLANGXX = shutil.which("clang++-19")

TWO_REFERENCES = r"""
#include <cstdio>
const int N = 30000;
struct Field { double v[N]; };
static void smooth(Field &out, const Field &in, int n) {
  for (int i = 1; i < n - 1; ++i)
    out.v[i] = 0.25 * in.v[i - 1] + 0.5 * in.v[i] + 0.25 * in.v[i + 1];
}
int main(int argc, char **) {
  Field *f = new Field, *g = new Field;
  for (int i = 0; i < N; i++) { f->v[i] = (i * 7 % 113) * 1.0; g->v[i] = 0; }
  smooth(*g, *f, N - argc);      /* two objects */
  smooth(*f, *f, N - argc);      /* one object under both names: in place */
  double s = 0;
  for (int i = 0; i < N; i++) s += f->v[i] * (i % 3 + 1) + g->v[i];
  std::printf("%.6f %.6f\n", s, f->v[12345]);
  delete f; delete g;
  return 0;
}
"""

POINTER_INTO_STRUCT = r"""
#include <cstdio>
const int N = 30000;
struct Buffers { double buf[N]; double *p; } g;
int main(int argc, char **) {
  int n = N - argc;
  g.p = g.buf;
  for (int i = 0; i < N; i++) g.buf[i] = (i % 97) * 0.5;
  for (int i = 0; i < n - 1; i++)
    g.buf[i] = g.p[i + 1] * 2.0;           /* reads what the next iteration writes */
  struct Local { double buf[N]; } s;
  for (int i = 0; i < N; i++) s.buf[i] = i % 11;
  double *q = s.buf;
  for (int i = 1; i < n; i++)
    s.buf[i] = q[i - 1] + 1.0;             /* a recurrence through another name */
  double t = 0;
  for (int i = 0; i < N; i++) t += g.buf[i] + s.buf[i] * (i % 5);
  std::printf("%.3f\n", t);
  return 0;
}
"""

KEPT_BY_A_METHOD = r"""
#include <cstdio>
#include <cstdlib>
const int N = 100000;
struct Holder {
  double *m_x = nullptr;
  void attach(double *p) { m_x = p; }
};
int main(int argc, char **) {
  int n = N - argc;
  double *a = (double *)std::malloc(N * sizeof(double));
  Holder d;
  d.attach(a);
  for (int i = 0; i < n; i++) a[i] = i * 0.5;
  d.m_x[0] = 100.0;                        /* the host writes a through the object */
  for (int i = 0; i < n; i++) a[i] += 1.0;
  double seen = d.m_x[1];                  /* and reads it */
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i];
  std::printf("%.1f %.1f %.1f\n", a[0], seen, s);
  std::free(a);
  return 0;
}
"""

ACCESSOR_ON_A_LOOP_POINTER = r"""
#include <cstdio>
#include <vector>
struct Grid {
  std::vector<double> m_x;
  double &x(int i) { return m_x[i]; }
};
int main(int argc, char **) {
  const int n = 20000 - argc;
  Grid grids[2], out;
  grids[0].m_x.assign(20000, 1.0);
  grids[1].m_x.assign(20000, 100.0);
  out.m_x.assign(20000, 0.0);
  Grid *p = &grids[0];
  for (int i = 0; i < n; i++) {
    Grid *p = grids + (i % 2);             /* another object every other iteration */
    out.x(i) = p->x(i) * 2.0;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += out.x(i);
  std::printf("%.1f %.1f\n", s, p->x(0));
  return 0;
}
"""


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
@pytest.mark.parametrize("program", [TWO_REFERENCES, POINTER_INTO_STRUCT, KEPT_BY_A_METHOD,
                                     ACCESSOR_ON_A_LOOP_POINTER],
                         ids=["two-references", "pointer-into-struct", "kept-by-a-method", "accessor-on-loop-pointer"])
def test_one_object_under_two_names_keeps_the_serial_answer(tmp_path: Path, program: str) -> None:
    build_and_compare(tmp_path, program, [], suffix=".cpp")


DISTINCT_OBJECTS = r"""
#include <cstdio>
const int N = 30000;
struct Field { double v[N]; };
static Field F, G;
static void smooth(Field &out, const Field &in, int n) {
  for (int i = 1; i < n - 1; ++i)                           /* SMOOTH */
    out.v[i] = 0.25 * in.v[i - 1] + 0.5 * in.v[i] + 0.25 * in.v[i + 1];
}
int main(int argc, char **) {
  for (int i = 0; i < N; i++) { F.v[i] = (i * 7 % 113) * 1.0; G.v[i] = 0; }
  smooth(G, F, N - argc);
  double s = 0;
  for (int i = 0; i < N; i++) s += G.v[i] * (i % 3 + 1);
  std::printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_two_distinct_objects_still_offload(tmp_path: Path) -> None:
    # ``smooth(G, F)`` of two objects of their own: the member arrays are apart
    build_and_compare(tmp_path, DISTINCT_OBJECTS, ["SMOOTH"], suffix=".cpp")
