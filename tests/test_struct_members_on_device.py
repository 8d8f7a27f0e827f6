"""Members of a struct read on the device.

A kernel that maps a member's elements (``f->v[0:n]``, ``g.v[0:n]``) maps the struct only
in part: its other members are not device data.  A held-out check (miniMD's
``create_velocity``, TeaLeaf's ``kernel_initialise``) found kernels that read such a
member, the loop bound ``atom.nlocal`` or ``chunk->x``, on the device: garbage sums and
segfaults.  A scalar member read through a pointer or a reference is now taken into a
local just before the kernel (``const int pcx_f__n = f->n;``), which the kernel reads
(``firstprivate``); any other member read so keeps the nest serial (PCX118).  A local
struct is mapped whole before its members' sections (``map(to: f)``), as before.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
struct Field { int n; double scale; double *v; };
static double sum_through_pointer(const struct Field *f) {
  double s = 0.0;
  for (int i = 0; i < f->n; i++)  /* POINTER_BOUND */
    s += f->v[i];
  return s;
}
static void scale_through_pointer(struct Field *f, int n) {
  for (int i = 0; i < n; i++)  /* POINTER_MEMBER */
    f->v[i] = f->v[i] * f->scale;
}
int main(int argc, char **argv) {
  struct Field f;
  f.n = 50000 + argc;
  f.scale = 3.0;
  f.v = malloc(sizeof(double) * f.n);
  for (int i = 0; i < f.n; i++)  /* LOCAL */
    f.v[i] = (i % 7) * f.scale;
  scale_through_pointer(&f, f.n);
  printf("%.1f\n", sum_through_pointer(&f));
  free(f.v);
  return 0;
}
"""

CXX_PROGRAM = r"""
#include <cstdio>
#include <cstdlib>
struct Grid { int n; double scale; double *v; };
static double sum_through_reference(const Grid &g) {
  double s = 0.0;
  for (int i = 0; i < g.n; i++)  /* REFERENCE_BOUND */
    s += g.v[i];
  return s;
}
static void scale_through_reference(Grid &g, int n) {
  for (int i = 0; i < n; i++)  /* REFERENCE_MEMBER */
    g.v[i] = g.v[i] * g.scale;
}
static void fill(double *out, const Grid &g, int n) {
  for (int i = 0; i < n; i++)  /* REFERENCE_SCALAR_ONLY */
    out[i] = g.scale * i;
}
int main(int argc, char **argv) {
  Grid g;
  g.n = 50000 + argc;
  g.scale = 2.0;
  g.v = (double *)malloc(sizeof(double) * g.n);
  fill(g.v, g, g.n);
  scale_through_reference(g, g.n);
  std::printf("%.1f\n", sum_through_reference(g));
  std::free(g.v);
  return 0;
}
"""


def _remarks_at(data: dict, program: str, marker: str) -> list[dict]:
    """The reasons the nest on ``marker``'s line was kept serial."""
    line = next(k + 1 for k, text in enumerate(program.splitlines()) if marker in text)
    return [r for s in data["sources"] for n in s["nests"] if n["line"] == line and not n["applied"]
            for r in n["reasons"]]


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_c_members_through_a_pointer_are_passed_in_as_values(tmp_path) -> None:
    build_and_compare(tmp_path, C_PROGRAM, ["LOCAL", "POINTER_BOUND", "POINTER_MEMBER"])


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_cxx_members_through_a_reference_are_passed_in_as_values(tmp_path) -> None:
    build_and_compare(tmp_path, CXX_PROGRAM, ["REFERENCE_SCALAR_ONLY", "REFERENCE_BOUND", "REFERENCE_MEMBER"],
                      suffix=".cpp")


NESTED = r"""
#include <stdio.h>
#include <stdlib.h>
struct Shape { int n; double *w; };
struct Mesh { struct Shape shape; double *v; };
static void scale(struct Mesh *m) {
  for (int i = 0; i < m->shape.n; i++)  /* NESTED_MEMBER */
    m->v[i] = m->v[i] * 2.0 + m->shape.w[i];
}
int main(int argc, char **argv) {
  struct Mesh m;
  m.shape.n = 40000 + argc;
  m.v = malloc(sizeof(double) * m.shape.n);
  m.shape.w = malloc(sizeof(double) * m.shape.n);
  for (int i = 0; i < m.shape.n; i++) { m.v[i] = i % 5; m.shape.w[i] = 0.5; }
  scale(&m);
  double s = 0;
  for (int i = 0; i < m.shape.n; i++) s += m.v[i] * (i % 3);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_member_of_a_member_through_a_pointer_stays_on_the_host(tmp_path) -> None:
    data = build_and_compare(tmp_path, NESTED, [])
    assert any(r["id"] == "PCX118" for r in _remarks_at(data, NESTED, "NESTED_MEMBER"))


RETURNED_STRUCT = r"""
#include <stdio.h>
typedef struct { double re, im; } pair;
static pair twist(pair a, double w) { pair c = {a.re * w - a.im, a.im * w + a.re}; return c; }
int main(int argc, char **argv) {
  enum { N = 20000 };
  static pair p[N];
  static double out[N];
  for (int k = 0; k < N; k++) { p[k].re = k * 0.25 + argc; p[k].im = 1.0 / (k + 1); }
  for (int k = 0; k < N; k++)  /* MEMBER_OF_A_RETURNED_VALUE */
    out[k] = twist(p[k], 0.5).re;
  double s = 0.0;
  for (int k = 0; k < N; k++) {  /* THROUGH_A_LOCAL */
    pair t = twist(p[k], 2.0);
    s += t.im + out[k];
  }
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_member_of_a_returned_struct_stays_on_the_host(tmp_path) -> None:
    # clang-19 rejects ``f(x).re`` in any target region ("expected addressable lvalue in
    # 'map' clause"): the rewrite failed to compile and the whole file built unchanged
    # (RSBench); now that nest alone stays serial, with the way round in its remark
    data = build_and_compare(tmp_path, RETURNED_STRUCT, ["THROUGH_A_LOCAL"])
    assert any(r["id"] == "PCX118" and "a call returns" in r["message"]
               for r in _remarks_at(data, RETURNED_STRUCT, "MEMBER_OF_A_RETURNED_VALUE"))


BORROWED_FROM_A_STRUCT = r"""
#include <stdio.h>
#include <stdlib.h>
typedef struct { int n; double *v, *w; } Field;
static void bump(Field f, int k) { f.v[k] += 100.0; }  /* a copy of the struct, the same buffer */
int main(int argc, char **argv) {
  Field s;
  s.n = 20000 + argc;
  s.v = calloc(s.n, sizeof(double));
  s.w = calloc(s.n, sizeof(double));
  int n = s.n;
  double *v = s.v, *w = s.w;
  for (int t = 0; t < 3; t++) {
    for (int i = 0; i < n; i++)  /* FORWARD */
      w[i] = v[i] + 1.0;
    for (int i = 0; i < n; i++)  /* BACK */
      v[i] = w[i] * 0.5;
    s.v[t] += 1000.0;            /* the host reaches v's buffer through the struct */
    bump(s, t + 3);
  }
  double acc = 0;
  for (int t = 0; t < 10; t++) { bump(s, t); acc += v[t]; }
  printf("%.6f %.6f %.6f\n", v[0], v[4], acc);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_pointer_borrowed_from_a_struct_comes_home_where_the_struct_is_used(tmp_path) -> None:
    # ``double *v = s.v;`` then ``s.v[t] += ...`` and ``bump(s, ...)`` (a struct passed by
    # value still points at v's buffer): a region holding v lost both writes, and the last
    # loop, calling bump, ran as one kernel that could not see bump's write.  (Without
    # the region, FORWARD and BACK copy their arrays at each step: the cost model keeps
    # them on the host, PCX115.)
    data = build_and_compare(tmp_path, BORROWED_FROM_A_STRUCT, [])
    remarks = [r["message"] for s in data["sources"] for r in s["remarks"]]
    assert not any(m.startswith("target data region keeps") for m in remarks), remarks
    assert any("takes its value from 's.v'" in m for m in remarks), remarks
    reasons = [r["message"] for s in data["sources"] for n in s["nests"] for r in n["reasons"]]
    assert any("pointer member 'f.v' of its parameter 'f'" in m for m in reasons), reasons


C89_STEP = r"""
#include <stdio.h>
struct grid { int n; double scale; double *v; };
static void step(struct grid *g, double *__restrict out)
{
  int i;
  out[0] = 0;
  for (i = 0; i < g->n; i++)  /* AFTER_A_STATEMENT */
    out[i] = g->v[i] * g->scale;
}
int main(int argc, char **argv)
{
  static double v[5000], out[5000];
  struct grid g;
  int i;
  double t = 0;
  (void)argv;
  g.n = 5000 - argc; g.scale = 1.5; g.v = v;
  for (i = 0; i < 5000; i++) v[i] = i;
  step(&g, out);
  for (i = 0; i < 5000; i++) t += out[i];
  printf("%.17g\n", t);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_member_values_get_a_block_of_their_own_in_c89_builds(tmp_path) -> None:
    # The member values' locals (``const int pcx_g__n = g->n;``) went right before the
    # kernel, after the function's statements: with -Werror=declaration-after-statement
    # the rewrite failed to compile and the file built unchanged (PCX007).  They now open
    # a block that closes after the kernel.  (The kernel itself needs ``out`` apart from
    # ``g->v``: restrict on ``out``, used only as ``out[i]`` in the function, says so.)
    import os
    import subprocess

    from test_coverage_liveness import CLANG, PCX_CC, run_with_args

    src = tmp_path / "step.c"
    src.write_text(C89_STEP)
    flags = ["-O1", "-std=gnu89", "-Werror=declaration-after-statement"]
    assert subprocess.run([CLANG, *flags, str(src), "-o", str(tmp_path / "serial")]).returncode == 0
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC), *flags, "--pcx-remarks", "--pcx-min-work=0", str(src), "-o",
                        str(tmp_path / "offload")], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    assert "step.c:8:3: remark: loop nest offloaded to the device" in r.stderr, r.stderr
    assert run_with_args(tmp_path / "offload", []) == run_with_args(tmp_path / "serial", [])


def test_a_restrict_parameter_the_function_stores_may_still_be_the_member() -> None:
    # ``g->v = out`` makes the member a pointer based on ``out``: restrict allows both to
    # reach one element then, and ``out[i] = g->v[i - 1] + 1`` carries a dependence.  The
    # kernel runs only where the two address ranges are disjoint (PCX128), tested after
    # the store: here, never
    from pcx_driver.model import Decision
    from test_coverage_liveness import analysed_nest

    program = C89_STEP.replace("  out[0] = 0;\n", "  out[0] = 0;\n  g->v = out;\n").replace(
        "out[i] = g->v[i] * g->scale;", "out[i + 1] = g->v[i] * g->scale + 1;")
    nest = analysed_nest(program, "AFTER_A_STATEMENT")
    assert nest.decision is not Decision.OFFLOADED or {frozenset(p) for p in nest.alias_checks} == {
        frozenset(("out", "g->v"))}, nest.alias_checks
    assert analysed_nest(C89_STEP, "AFTER_A_STATEMENT").decision is Decision.OFFLOADED



LATTICE = r"""
#include <stdio.h>
#include <stdlib.h>
#define NSPEEDS 9
typedef struct { float speeds[NSPEEDS]; } t_speed;
typedef struct { int nx, ny; float omega; } t_param;
static void collide(const t_param params, t_speed *cells, t_speed *tmp) {
  for (int jj = 0; jj < params.ny; jj++)  /* COLLIDE */
    for (int ii = 0; ii < params.nx; ii++) {
      float local = 0.f;
      for (int kk = 0; kk < NSPEEDS; kk++) local += tmp[ii + jj * params.nx].speeds[kk];
      for (int kk = 0; kk < NSPEEDS; kk++)
        cells[ii + jj * params.nx].speeds[kk] = tmp[ii + jj * params.nx].speeds[kk] + params.omega * (local / 9.f - tmp[ii + jj * params.nx].speeds[kk]);
    }
}
static void shift(const t_param params, t_speed *cells, t_speed *tmp) {
  for (int jj = 0; jj < params.ny; jj++)  /* SHIFT */
    for (int ii = 0; ii < params.nx; ii++) {
      int x_e = (ii + 1) % params.nx;
      tmp[ii + jj * params.nx].speeds[0] = cells[ii + jj * params.nx].speeds[0];
      tmp[ii + jj * params.nx].speeds[1] = cells[x_e + jj * params.nx].speeds[1];
    }
}
int main(int argc, char **argv) {
  t_param p = {128, 64 + argc, 1.7f};
  t_speed *cells = malloc(sizeof(t_speed) * p.nx * p.ny), *tmp = malloc(sizeof(t_speed) * p.nx * p.ny);
  for (int i = 0; i < p.nx * p.ny; i++) for (int k = 0; k < NSPEEDS; k++) { cells[i].speeds[k] = (i * 7 + k) % 13 * 0.1f; tmp[i].speeds[k] = 0.5f * k; }
  for (int t = 0; t < 3; t++) { shift(p, cells, tmp); collide(p, cells, tmp); }
  double s = 0; for (int i = 0; i < p.nx * p.ny; i++) for (int k = 0; k < NSPEEDS; k++) s += cells[i].speeds[k] * (k + 1) + tmp[i].speeds[k];
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_writes_into_a_member_array_of_an_element_offload(tmp_path) -> None:
    # A lattice-Boltzmann code's ``cells[ii + jj * nx].speeds[kk] = ...`` (a held-out C
    # mini-app): a write into the member array of one element was refused (PCX118).  It is
    # a write of that element, read too (SHIFT writes 2 of 9 speeds: the other 7 go to the
    # device and back, as COLLIDE then reads them)
    build_and_compare(tmp_path, LATTICE, ["COLLIDE", "SHIFT"])


READ_WHERE_SERIAL_READS = r"""
#include <stdio.h>
#include <stddef.h>
struct P { double scale, w; };
struct S { double x, y; };
static double dot(int n, const double *x, const struct P *p) {
  double s = 0.0;
  for (int i = 0; i < n; i++)  /* GUARDED */
    s += p->scale * x[i];
  return s;
}
static double some(int n, const double *x, const int *use, const struct P *p) {
  double s = 0.0;
  for (int i = 0; i < n; i++)  /* CONDITIONAL */
    s += use[i] ? p->w * x[i] : x[i];
  return s;
}
static double energy(int n, const struct P *q) {
  double e = 0.0;
  for (int i = 0; i < n; i++) {  /* LOCAL_POINTER */
    const struct P *b = &q[i];
    e += b->scale * b->w;
  }
  return e;
}
static void shift(int n, struct S *s, const struct S *c) {
  for (int i = 0; i < n; i++)  /* INTO_WRITTEN */
    s[i].y = c->y + i;
}
static double x[4000];
static int use0[4000], use1[4000];
static struct P ps[4000];
static struct S sv[4000];
int main(int argc, char **argv) {
  struct P q = {2.0, 10.0};
  for (int i = 0; i < 4000; i++) {
    x[i] = i % 17; use1[i] = i % 2; ps[i].scale = i % 5; ps[i].w = 0.5;
    sv[i].x = i; sv[i].y = 2 * i;
  }
  shift(4000, sv, &sv[5 + argc]);
  double t = 0;
  for (int i = 0; i < 4000; i++) t += sv[i].y;
  printf("%.1f %.1f %.1f %.1f %.1f %.1f\n", dot(4000, x, &q), dot(0, x, NULL), some(4000, x, use1, &q),
         some(4000, x, use0, NULL), energy(4000, ps), t);
  return 0;
}
"""


def test_member_values_are_read_only_where_the_serial_program_reads_them(tmp_path) -> None:
    # A held-out check: ``p->scale`` taken before the kernel crashed where p is null and the
    # loop runs no iteration, and where p is read only under a condition; a pointer declared
    # in the loop had its outer namesake's member read (a wrong energy); ``c->y`` with c
    # pointing into the array the loop writes gave the value before the loop, not the one the
    # serial loop reads once it wrote it.
    from test_coverage_liveness import refused_nest

    build_and_compare(tmp_path, READ_WHERE_SERIAL_READS, ["GUARDED"])
    for marker, words in (("CONDITIONAL", "under a condition"), ("LOCAL_POINTER", "declared inside the nest"),
                          ("INTO_WRITTEN", "may point into an array of 'struct S'")):
        refused_nest(READ_WHERE_SERIAL_READS, marker, "PCX118", words)


MEMBER_OF_ANOTHER_TYPE = r"""
#include <stdio.h>
#include <stdlib.h>
struct C { double k; };
struct Params { double k; int steps; };
static void scale_by(double *x, const struct C *p, int n) {
  for (int i = 0; i < n; i++)  /* CAST_INTO_WRITTEN */
    x[i] = x[i] * p->k + 1;
}
static void scale_by_params(double *x, const struct Params *p, int n) {
  for (int i = 0; i < n; i++)  /* PARAMS_APART */
    x[i] = x[i] * p->k + 1;
}
static double a[20001];
int main(int argc, char **argv) {
  struct Params prm = {1.0 + argc * 0.25, 3};
  double *b = malloc(20000 * sizeof *b);
  for (int i = 0; i <= 20000; i++) a[i] = i * 0.001 + 1;
  for (int i = 0; i < 20000; i++) b[i] = i % 13;
  scale_by(a, (const struct C *)&a[500 + argc], 20000);
  scale_by_params(b, &prm, 20000);
  double s = 0, t = 0;
  for (int i = 0; i < 20000; i++) { s += a[i] * (i % 7 + 1); t += b[i]; }
  printf("%.3f %.3f\n", s, t);
  free(b);
  return 0;
}
"""


def test_a_member_of_another_struct_type_may_still_read_the_written_array(tmp_path) -> None:
    # A held-out check: ``p->k`` through a ``struct C *`` cast from ``&a[500]`` reads a double
    # of the double array the loop writes (C's effective types allow it); taken once before
    # the kernel, every iteration past 500 used the old value.  A pointer that every call
    # passes the address of a struct variable, beside arrays of their own, reads none.
    from test_coverage_liveness import refused_nest

    build_and_compare(tmp_path, MEMBER_OF_ANOTHER_TYPE, ["PARAMS_APART"])
    refused_nest(MEMBER_OF_ANOTHER_TYPE, "CAST_INTO_WRITTEN", "PCX118", "may point into an array of 'double'")
