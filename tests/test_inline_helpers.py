"""Issue 15, cause 4: helpers that read arrays through their parameters.

``grad(phi, x, y, z)`` returning ``phi[x+1][y][z] - phi[x-1][y][z]`` is walked as if
inlined (engine/access/inline.py): its reads become reads of the caller's array at the
caller's subscripts, so the nest that calls it is tested for dependences and mapped like
any other, and the helper is compiled for the device.  A helper that writes through a
parameter, assigns one, loops, or is given an array of other extents is refused with the
reason.  Each program runs serially and through ``PCX_MODE=static`` on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

OFF = Decision.OFFLOADED
needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

# A phase-field style step: 3-D grids passed as T (*)[NY][NZ], gradients by helpers that call
# helpers, a macro around a helper's call, an early return, and a scalar helper argument
# that is an expression of the caller's indices.
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define NX 20
#define NY 18
#define NZ 16
#define SQ(x) ((x) * (x))
typedef double grid_t[NY][NZ];

static double gx(double p[][NY][NZ], double h, int x, int y, int z) { return (p[x + 1][y][z] - p[x - 1][y][z]) / (2 * h); }
static double gy(double p[][NY][NZ], double h, int x, int y, int z) { return (p[x][y + 1][z] - p[x][y - 1][z]) / (2 * h); }
static double gz(double p[][NY][NZ], double h, int x, int y, int z) { return (p[x][y][z + 1] - p[x][y][z - 1]) / (2 * h); }
static double weight(double a) { return 1.0 + 0.1 * a; }
static double norm2(double p[][NY][NZ], double h, int x, int y, int z) {
  return SQ(gx(p, h, x, y, z)) + SQ(gy(p, h, x, y, z)) + SQ(weight(gz(p, h, x, y, z)));
}
static double clamp_read(const double *v, int k, int n) {
  if (k >= n) return v[n - 1];
  return v[k];
}

static void step(grid_t *restrict phi, grid_t *restrict out, const double *restrict w, double h) {
  for (int x = 1; x < NX - 1; x++)                          /* FORCE */
    for (int y = 1; y < NY - 1; y++)
      for (int z = 1; z < NZ - 1; z++)
        out[x][y][z] = norm2(phi, h, x, y, z) * clamp_read(w, z + 2, NZ);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? 3 : 2;
  grid_t *a = malloc(sizeof(double) * NX * NY * NZ), *b = malloc(sizeof(double) * NX * NY * NZ);
  double *w = malloc(sizeof(double) * NZ);
  for (int z = 0; z < NZ; z++) w[z] = 0.5 + 0.01 * z;
  for (int x = 0; x < NX; x++)
    for (int y = 0; y < NY; y++)
      for (int z = 0; z < NZ; z++)
        a[x][y][z] = b[x][y][z] = ((x * 7 + y * 3 + z) % 11) * 0.1;
  for (int s = 0; s < steps; s++) {
    step(a, b, w, 0.5);
    grid_t *t = a; a = b; b = t;
  }
  double sum = 0;
  for (int x = 0; x < NX; x++)
    for (int y = 0; y < NY; y++)
      for (int z = 0; z < NZ; z++) sum += a[x][y][z] * (1 + (x + y + z) % 5);
  printf("%.9e\n", sum);
  free(a); free(b); free(w);
  return 0;
}
"""


@needs_clang
def test_a_nest_calling_array_reading_helpers_offloads_and_gives_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["FORCE"])


HELPERS = r"""
#define N 64
static double get(const double *v, int k) { return v[k]; }
static void put(double *v, int k, double x) { v[k] = x; }
static double bump(const double *v, int k) { k = k + 1; return v[k]; }
static double total(const double *v, int n) { double s = 0; for (int k = 0; k < n; k++) s += v[k]; return s; }
static double at2(double m[][N], int i, int j) { return m[i][j]; }
static double half(const double *v, int k) { return v[k / 2]; }
"""

# (loop, offloaded?, remark id, words the first remark holds)
CASES = [
    ("for (int i = 0; i < n; i++) b[i] = get(a, i) * get(a, i);", True, "PCX100", ""),
    # each call's parameters stand for its own arguments: get(a, i + 2) reads a[i + 2] even
    # after get(a, i) (loopfuzz seed 9501133 read it as a[i] and lost this dependence when
    # the nest kept one binding per parameter)
    ("for (int i = 0; i < n - 2; i++) a[i] = get(a, i) + get(a, i + 2) + get(a, i);", False, "PCX101",
     "'a'"),
    ("for (int i = 0; i < n - 2; i++) b[i] = get(a, i) + get(a, i + 2) + get(a, i);", True, "PCX100", ""),
    # the helper's read of a[i + 1] is an anti-dependence on the nest's write of a[i]
    ("for (int i = 0; i < n - 1; i++) a[i] = get(a, i + 1);", False, "PCX101", "'a'"),
    ("for (int i = 0; i < n; i++) put(b, i, a[i]);", False, "PCX105", "writes through its parameter 'v'"),
    ("for (int i = 0; i < n; i++) b[i] = bump(a, i);", False, "PCX105", "assigns its parameter 'k'"),
    # a helper with a loop that only reads: the call reads all of 'a' (access/footprint.py),
    # whose size a pointer parameter does not give
    ("for (int i = 0; i < n; i++) b[i] = total(a, i);", False, "PCX116", "'total' (line 10) may read any element"),
    ("for (int i = 0; i < n; i++) b[i] = at2(m3, i, 0);", False, "PCX105", "same element type and extents"),
]


@pytest.mark.parametrize("loop,offloaded,rid,words", CASES, ids=[c[0][28:70] for c in CASES])
def test_helper_calls_in_a_nest(loop, offloaded, rid, words) -> None:
    src = (HELPERS + "void kernel(int n, double *restrict a, double *restrict b, double (*restrict m3)[N + 1]) {\n  "
           + loop + "\n}\n")
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nest = [n for f in ua.functions if f.name == "kernel" for n in f.nests][0]
    msgs = [r.format() for r in nest.remarks]
    assert (nest.decision is OFF) == offloaded and nest.remarks[0].id == rid, msgs
    assert words in nest.remarks[0].message, msgs


def test_a_helper_subscript_that_cannot_be_expanded_names_no_helper_parameter() -> None:
    """``v[k / 2]`` with ``k`` bound to the caller's ``i``: not a loop-invariant symbol
    (which would put the helper's ``k`` into the caller's map clauses)."""
    src = HELPERS + "void kernel(int n, double *restrict a, double *restrict b) {\n  " \
        "for (int i = 0; i < n; i++) b[i] = half(a, i);\n}\n"
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nest = [n for f in ua.functions if f.name == "kernel" for n in f.nests][0]
    for a in nest.arrays:
        assert "k" not in " ".join(x for d in a.section.dims for x in d).split(), a.section


def test_reads_a_clamping_helper_never_makes_do_not_bound_the_section() -> None:
    """``rdu(a2, i + 1, n)`` reads ``p[m - 1]`` only when ``k >= m`` and ``p[0]`` only when
    ``k < 0``, neither of which happens for ``i + 1`` in ``[2, n - 1]``: the section must still
    cover the reads that do run (loopfuzz seed 9200047 mapped ``a2[n - 1:1]``)."""
    src = ("typedef unsigned int u32;\n"
           "static u32 rdu(const u32 *p, int k, int m) { if (k >= m) return p[m - 1]; if (k < 0) return p[0];"
           " return p[k] + (p[k] >> 3); }\n"
           "void f(int n, u32 *restrict a1, u32 *restrict a2) {\n"
           "  for (int i = 1; i < n - 1; i++) a1[i] = rdu(a2, i + 1, n);\n}\n")
    nest = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()[0]
    lo, length = {a.name: a.section.dims[0] for a in nest.arrays}["a2"]
    assert nest.decision is OFF and lo in ("0", "2") and length in ("n", "n - 2"), (lo, length)


# One helper per neighbour, called with other arguments each time: a clamped read whose
# guard is over its own parameter (``k < 0``, ``k >= m``), through a second helper, and a
# row accessor.  Each call's references keep that call's arguments (ArrayRef.bindings), so
# the sections cover every neighbour and the clamps bound them where they run.
NEIGHBOURS = r"""
#include <stdio.h>
#include <stdlib.h>
#define W 96
static double rd(const double *p, int k, int m) {
  if (k < 0) return p[0];
  if (k >= m) return p[m - 1];
  return p[k];
}
static double avg3(const double *p, int k, int m) { return (rd(p, k - 1, m) + rd(p, k, m) + rd(p, k + 1, m)) / 3.0; }
static double at(const double (*g)[W], int r, int c) { return g[r][c]; }
static void smooth(int n, const double *restrict u, double *restrict v) {
  for (int i = 0; i < n; i++)                       /* SMOOTH */
    v[i] = 0.5 * rd(u, i - 2, n) + avg3(u, i, n) + 0.25 * rd(u, i + 2, n);
}
static void cross(int h, const double (*restrict g)[W], double (*restrict o)[W]) {
  for (int r = 1; r < h - 1; r++)                   /* CROSS */
    for (int c = 1; c < W - 1; c++)
      o[r][c] = at(g, r - 1, c) + at(g, r + 1, c) + at(g, r, c - 1) + at(g, r, c + 1) - 4 * at(g, r, c);
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 3 : 5000, h = argc > 1 ? 5 : 80;
  double *u = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
  double (*g)[W] = malloc(sizeof(double[W]) * h), (*o)[W] = calloc(h, sizeof(double[W]));
  for (int i = 0; i < n; i++) u[i] = (i * 37 % 101) * 0.01;
  for (int r = 0; r < h; r++) for (int c = 0; c < W; c++) g[r][c] = ((r * 13 + c * 7) % 17) * 0.1;
  smooth(n, u, v);
  cross(h, g, o);
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i] * (i % 7 + 1);
  for (int r = 0; r < h; r++) for (int c = 0; c < W; c++) s += o[r][c] * ((r + c) % 3);
  printf("%.9e\n", s);
  free(u); free(v); free(g); free(o);
  return 0;
}
"""


@needs_clang
def test_a_helper_called_once_per_neighbour_offloads_and_gives_the_serial_output(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PCX_MIN_WORK", "0")  # the three-element input runs on the device too
    build_and_compare(tmp_path, NEIGHBOURS, ["SMOOTH", "CROSS"])


def test_a_helper_defined_in_a_header_is_named_as_such(tmp_path) -> None:
    """PCX105 for a helper the engine does not analyse says where it is defined, not that
    its definition is invisible (Rodinia's ``percentDiff`` in a header).  A scalar function
    of its arguments there (``pct``) is read as a math call (engine/header_helpers.py)."""
    (tmp_path / "h.h").write_text("static inline double pct(double a, double b) { return a > b ? a - b : b - a; }\n"
                                  "static inline double first(const double *p) { return p[0]; }\n")
    src = ('#include "h.h"\ndouble elsewhere(double);\n'
           "void f(double *restrict a, const double *restrict b, int n) {\n"
           "  for (int i = 0; i < n; i++) a[i] = pct(a[i], b[i]) + first(b) + elsewhere(b[i]);\n}\n")
    (tmp_path / "m.c").write_text(src)
    ua = analyse_unit(SourceUnit(str(tmp_path / "m.c"), src, Language.C, str(tmp_path)))
    msgs = [r.message for r in ua.nests()[0].remarks]
    assert "call to 'first', defined in h.h, where pcx does not analyse it (line 4)" in msgs, msgs
    assert "call to 'elsewhere', which has no visible definition (line 4)" in msgs, msgs
    assert not any("'pct'" in m for m in msgs), msgs
