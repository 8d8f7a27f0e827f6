"""Updates that read like reductions in the source but are not, once expanded or converted.

A held-out adversarial check of the minimum/maximum work found each of these giving a
wrong answer (or, the last, a file that fell back whole):

- a macro use read as one operand where its expansion is not one: ``s = s + MIN(x, y)``
  with ``#define MIN(a,b) (a) < (b) ? (a) : (b)`` is ``s = (s + x < y) ? x : y``;
  ``p = p * GROWTH`` with ``#define GROWTH 1.0 + 1e-3``; ``MIN(m, x & 7)`` of a macro
  whose parameters have no parentheses (``macros.stands_as_written``, ``select_form``);
- a minimum stored through a conversion that changes the value: ``unsigned char m`` given
  an int -1 holds 255, and ``int s = s < u ? s : u`` compares in unsigned;
- ``double m = fminf(m, e)``, which rounds m to float at every step, the start included;
- a function template instantiated where no call shows it: through its address, an
  explicit instantiation beside a call, or a call in another template;
- a structured binding named in a reduction clause (clang rejects it).

Each stays serial (or, for the template, keeps its reason), and the program prints the
serial answer; the real reductions beside them still offload.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

C_PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#define MIN(a,b) (a) < (b) ? (a) : (b)
#define BARE_MIN(a,b) a < b ? a : b
#define GROWTH 1.0 + 1e-3
#define N 6000
static int k[N];
static double x[N], y[N];
static unsigned u[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) {
    k[i] = (i % 997 == 5) ? -1 : 100 + (i * 13) % 89;
    x[i] = (i * 7 % 50) * 0.25 - argc;
    y[i] = (i * 11 % 40) * 0.5;
    u[i] = 1000u + (unsigned)(i % 77);
  }
  double s = 0, p = 1, t = 1e9;
  unsigned char c = 200;
  int si = -5, bm = 1000;
  double dm = 0.1;
  for (int i = 0; i < N; i++) s = s + MIN(x[i], y[i]);    /* SUM_OF_MIN */
  for (int i = 0; i < 300; i++) p = p * GROWTH;             /* PRODUCT_OF_MACRO */
  for (int i = 0; i < N; i++) bm = BARE_MIN(bm, k[i] & 7);  /* BARE_PARAMETERS */
  for (int i = 0; i < N; i++) if (k[i] < c) c = k[i];       /* NARROWING_STORE */
  for (int i = 0; i < N; i++) si = si < u[i] ? si : u[i];   /* UNSIGNED_COMPARE */
  for (int i = 0; i < N; i++) dm = fminf(dm, y[i] + 1.0);   /* FMINF_ROUNDS */
  for (int i = 0; i < N; i++) t = MIN(t, x[i] * 2.0);       /* REAL_MINIMUM */
  printf("%a %a %d %d %d %a %a\n", s, p, bm, c, si, dm, t);
  return 0;
}
"""


def test_shapes_that_are_not_reductions_stay_serial_and_print_the_serial_answer(tmp_path) -> None:
    build_and_compare(tmp_path, C_PROGRAM, ["REAL_MINIMUM"])
    for marker in ("SUM_OF_MIN", "PRODUCT_OF_MACRO", "BARE_PARAMETERS", "NARROWING_STORE", "UNSIGNED_COMPARE",
                   "FMINF_ROUNDS"):
        nest = analysed_nest(C_PROGRAM, marker)
        assert not any("reduction(" in r.message for r in nest.remarks), (marker, [r.format() for r in nest.remarks])


CXX_PROGRAM = r"""
#include <cstdio>
#include <utility>
#define N 4096
static double xs[N];
template <class T> T total(const double *x, int n) {
  T s = 0;
  for (int i = 0; i < n; i++) s += x[i];  /* TEMPLATE_SUM */
  return s;
}
template <class U> U through(const double *x, int n) { return total<U>(x, n); }
template <class T> T total2(const double *x, int n) {
  T s = 0;
  for (int i = 0; i < n; i++) s += x[i];  /* ADDRESS_TAKEN */
  return s;
}
template <class T> T total3(const double *x, int n) {
  T s = 0;
  for (int i = 0; i < n; i++) s += x[i];  /* EXPLICIT_BESIDE_CALL */
  return s;
}
template int total3<int>(const double *, int);
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) xs[i] = i < N / 2 ? 1.5 : -0.5 - argc;
  float f = total<float>(xs, N);
  int g = through<int>(xs, N);
  float f2 = total2<float>(xs, N);
  int (*fp)(const double *, int) = &total2<int>;
  float f3 = total3<float>(xs, N);
  std::pair<double, double> pr(0.0, 1.0);
  auto [acc, unused] = pr;
  for (int i = 0; i < N; i++) acc += xs[i];  /* STRUCTURED_BINDING */
  std::printf("%a %d %a %d %a %a %a\n", f, g, f2, fp(xs, N), f3, acc, unused);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_templates_instantiated_out_of_sight_and_bindings_stay_serial(tmp_path) -> None:
    data = build_and_compare(tmp_path, CXX_PROGRAM, [], suffix=".cpp")
    assert data["sources"][0]["compiled"] == "rewritten"  # (no fallback of the whole file)
    for marker, rid in (("ADDRESS_TAKEN", "PCX136"), ("STRUCTURED_BINDING", "PCX118")):
        nest = analysed_nest(CXX_PROGRAM, marker, "t.cpp")
        assert any(r.id == rid for r in nest.remarks), (marker, [r.format() for r in nest.remarks])
    for marker in ("TEMPLATE_SUM", "EXPLICIT_BESIDE_CALL"):  # (an int instantiation among the float ones)
        nest = analysed_nest(CXX_PROGRAM, marker, "t.cpp")
        assert any(r.id == "PCX112" and "not every instantiation makes floating" in r.message for r in nest.remarks), \
            (marker, [r.format() for r in nest.remarks])
