"""Helpers with loops of their own that only read the arrays they are passed (issue 15, cause 4).

``dist(&pts[i * d], cent + c * d, d)`` in a k-means assignment loop: the helper's loop
cannot be walked in place of the call, but it only reads through its pointer parameters,
so the call reads (at most) the whole of ``pts`` and ``cent``.  The nest is offloaded when
it writes neither; the helper goes to the device with ``declare target`` and its own loop
runs inside the kernel (PCX141), not as a nested kernel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import CLANG  # noqa: E402
from test_coverage_liveness import build_and_compare  # noqa: E402

KMEANS = r"""
#include <stdio.h>
#include <stdlib.h>

static float dist(const float *a, const float *b, int d) {
  float s = 0.0f;
  for (int k = 0; k < d; k++) {                        /* DIST */
    float t = a[k] - b[k];
    s += t * t;
  }
  return s;
}

static float weighted(const float *x, int d) {
  float s = 0.0f;
  for (int k = 0; k < d; k++) s += x[k] * (k + 1);     /* WEIGHTED */
  return s;
}

static float both(const float *x, const float *y, int d) { return weighted(x, d) + dist(x, y, d); }

int main(int argc, char **argv) {
  int n = 3000 + (argc > 1), k = 7, d = 5;
  const size_t bytes = n * d * sizeof(float);
  float *pts = malloc(bytes);
  float *cent = malloc(sizeof(float) * k * d);
  int *member = malloc(sizeof(int) * n);
  float *sc = malloc(sizeof(float) * n);
  for (int i = 0; i < n * d; i++) pts[i] = (float)((i * 37) % 101) / 10.0f;
  for (int i = 0; i < k * d; i++) cent[i] = (float)((i * 13) % 97) / 10.0f;
  for (int it = 0; it < 4; it++) {
    for (int i = 0; i < n; i++) {                      /* ASSIGN */
      int best = 0;
      float bd = dist(&pts[i * d], &cent[0], d);
      for (int c = 1; c < k; c++) {
        float dd = dist(&pts[i * d], cent + c * d, d);
        if (dd < bd) { bd = dd; best = c; }
      }
      member[i] = best;
    }
    for (int c = 0; c < k; c++)
      for (int j = 0; j < d; j++) {
        float s = 0; int cnt = 0;
        for (int i = 0; i < n; i++) if (member[i] == c) { s += pts[i * d + j]; cnt++; }
        if (cnt) cent[c * d + j] = s / cnt;
      }
  }
  for (int i = 0; i < n; i++) sc[i] = both(pts + i * d, cent + (i % k) * d, d);   /* SCORE */
  double tot = 0;
  for (int i = 0; i < n; i++) tot += member[i] * 0.5 + sc[i];
  printf("%.3f\n", tot);
  free(pts); free(cent); free(member); free(sc);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_kmeans_assignment_offloads_through_a_helper_with_a_loop(tmp_path) -> None:
    report = build_and_compare(tmp_path, KMEANS, ["ASSIGN", "SCORE"])
    nests = {n["line"]: n for s in report["sources"] for n in s["nests"]}
    lines = KMEANS.splitlines()
    for marker in ("DIST", "WEIGHTED"):  # the helpers' loops run inside the kernels
        line = next(k + 1 for k, text in enumerate(lines) if marker in text)
        assert not nests[line].get("applied")
        assert any(r["id"] == "PCX141" for r in nests[line]["reasons"]), nests[line]


def _nest(src: str, marker: str):
    unit = SourceUnit("t.c", src, Language.C)
    line = next(k + 1 for k, text in enumerate(src.splitlines()) if marker in text)
    return next(n for n in analyse_unit(unit).nests() if n.line == line)


PRELUDE = """
#include <stdlib.h>
static double sum(const double *p, int k) { double s = 0; for (int q = 0; q < k; q++) s += p[q]; return s; }
static void fill(double *p, int k) { for (int q = 0; q < k; q++) p[q] = q; }
static double via_local(const double *p, int k) { const double *r = p; double s = 0;
  for (int q = 0; q < k; q++) s += r[q]; return s; }
static double via_fill(double *p, int k) { fill(p, k); return p[0]; }
static double through(const double *p, int k) { return sum(p + 1, k - 1) + sum(p, 1); }
static double scratch(const double *p, int k) { double t[4]; struct { double s; } acc; acc.s = 0;
  for (int q = 0; q < 4; q++) t[q] = p[q]; for (int q = 0; q < 4; q++) acc.s += t[q] * k; return acc.s; }
static double forge(const double *p, long addr) { ((double *)addr)[0] = p[0]; return p[1]; }
static double peek(const double *p, long addr) { const double *q = (const double *)addr; return q[0] + p[0]; }
"""


@pytest.mark.parametrize("body,offloaded,why", [
    # reads only, through another helper: offloaded
    ("b[i] = through(a + i, 4);", True, ""),
    # reads the array the nest writes: the whole read meets the write
    ("a[i] = sum(a + i, 4);", False, "PCX102"),
    # writes through its parameter
    ("fill(b + i, 1);", False, "writes through"),
    # copies its parameter into a pointer variable
    ("b[i] = via_local(&a[i], 4);", False, "uses it as a pointer value"),
    # passes it to a helper that writes
    ("b[i] = via_fill(a + i, 4);", False, "cannot be bounded"),
    # writes only its own local array and struct: offloaded
    ("b[i] = scratch(a + i, 3);", True, ""),
    # writes through a pointer it made from an integer
    ("b[i] = forge(a + i, (long)i);", False, "which is not an array of its own"),
    # reads through a pointer it made from an integer
    ("b[i] = peek(a + i, (long)i);", False, "which is neither its parameter nor an array of its own"),
])
def test_a_helper_that_does_more_than_read_keeps_the_nest_serial(body, offloaded, why) -> None:
    src = PRELUDE + ("int main(int argc, char **argv) {\n  int n = 100 + argc;\n"
                     "  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);\n"
                     "  for (int i = 0; i < n; i++) { a[i] = i; b[i] = 0; }\n"
                     f"  for (int i = 0; i < n - 8; i++) {body}  /* NEST */\n"
                     "  return (int)b[3];\n}\n")
    nest = _nest(src, "NEST")
    assert (nest.decision is Decision.OFFLOADED) == offloaded, [r.format() for r in nest.remarks]
    assert why in " ".join(f"{r.message} [{r.id}]" for r in nest.remarks)
