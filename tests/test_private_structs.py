"""Structs declared in a loop body are each iteration's own.

C codes with small vector structs (aobench's ``vec``, ray tracers, particle codes) build a
struct per iteration and hand its address to helpers that normalise or update it:
``vec n; ... vnormalize(&n);``.  Every such loop stayed serial (a held-out HeCBench check:
aobench's render loop), for three reasons at once: a write to a member of the struct
(PCX118), its address taken (PCX119) and the helper writing through its parameter
(PCX105).  A variable declared in the body is private to the iteration under OpenMP, so
writes to its arithmetic members are no hazard, and a helper given ``&n`` is walked as if
inlined, ``c->x`` standing for ``n.x``.  A helper that keeps the pointer, steps past the
struct (``c[1]``), or hands it to a library call stays refused.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <math.h>
typedef struct { double x, y, z; } vec;
static vec *kept;
static double vdot(vec a, vec b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static void vnormalize(vec *c) {
  double length = sqrt(vdot(*c, *c));
  if (fabs(length) > 1.0e-17) { c->x /= length; c->y /= length; c->z /= length; }
}
static void half(vec *c) { c->y = c->x * 0.5; }
static void settle(vec *c) { half(c); c->x += c->y; }
static void keep(vec *c) { kept = c; c->x += 1; }
static void spill(vec *c) { c[1].x = 3; c->y = 2; }
static void zero(vec *c) { memset(c, 0, sizeof *c); }
#define N 20000
double out[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) {  /* MEMBERS */
    vec n;
    n.x = i; n.y = argc; n.z = i * 0.5;
    n.x = n.x / (1.0 + n.z);
    out[i] = n.x + 2 * n.y + 3 * n.z;
  }
  for (int i = 0; i < N; i++) {  /* NORMALISED */
    vec n = {i, 1.0, i * 0.25};
    vnormalize(&n);
    out[i] += n.x + 2 * n.y + 3 * n.z;
  }
  for (int i = 0; i < N; i++) {  /* NESTED_HELPERS */
    vec n = {i, 0.0, 0.0};
    settle(&n);
    out[i] += n.x - n.y;
  }
  for (int i = 0; i < N; i++) { vec n = {i, 0, 0}; keep(&n); out[i] += n.x; }  /* KEPT */
  for (int i = 0; i < N; i++) {  /* SPILLED */
    vec n[2] = {{i, 0, 0}, {0, 0, 0}};
    spill(&n[0]);
    out[i] += n[1].x;
  }
  for (int i = 0; i < N; i++) { vec n = {i, 1, 1}; zero(&n); out[i] += n.y; }  /* ZEROED */
  double s = 0;
  for (int i = 0; i < N; i++) s += out[i] * (i % 5);
  printf("%.10g %d\n", s, kept != 0);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_structs_of_an_iteration_and_helpers_given_their_address_offload(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["MEMBERS", "NORMALISED", "NESTED_HELPERS"])
    for marker, words in (("KEPT", "as a pointer value"), ("SPILLED", "not an array of its own"),
                          ("ZEROED", "memset")):
        nest = nest_at(data, PROGRAM, marker)
        assert not nest["applied"] and any(words in r["message"] for r in nest["reasons"]), (marker, nest)


SINCOS = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <math.h>
#define N 2000
float x[N], y[N], p[N];
int main(int argc, char **argv) {
  for (int j = 0; j < N; j++) { x[j] = j * 0.01f; y[j] = (j % 7) * 0.5f * argc; }
  for (int t = 0; t < N; t++) {  /* PERIODOGRAM */
    float freq = 0.1f + t * 0.001f, xc = 0, xs = 0, c, s;
    for (int j = 0; j < N; j++) {
      sincosf(freq * x[j], &s, &c);
      xc += y[j] * c;
      xs += y[j] * s;
    }
    p[t] = xc * xc + xs * xs;
  }
  printf("%.6e %.6e\n", p[7], p[N - 1]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_sincos_into_scalars_of_the_iteration_offloads(tmp_path) -> None:
    # HeCBench lombscargle's periodogram: ``sincosf(x, &s, &c)`` was a call with no visible
    # definition taking addresses (PCX105, PCX119); it writes the iteration's own s and c
    build_and_compare(tmp_path, SINCOS, ["PERIODOGRAM"])
