"""A section is emitted as text, and that text must mean at the directive what it meant
where the analysis read it (held-out adversarial programs):

- ``sizeof a / sizeof a[0]`` as a bound became the symbol ``(sizeofa/sizeofa[0])`` in a
  length's guard: the rewrite did not compile (PCX007).  Symbols keep the space between
  two words;
- an extent written with a macro the file later ``#undef``s (``double a[LEN]; #undef LEN``)
  did not compile, and one it redefines (``#undef N / #define N 400``) mapped 400 of 1,000
  elements, garbage sums.  A nest or region whose sections name such a macro is planned
  without them (the nest stays serial, PCX113; the region is not formed, PCX203).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

SIZEOF_BOUNDS = r"""
#include <stdio.h>
double a[20000], b[20000];
int main(int argc, char **argv) {
  for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++)  /* FILL */
    a[i] = i * argc;
  for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++)  /* DOUBLE */
    b[i] = a[i] * 2;
  double s = 0;
  for (int i = 0; i < 20000; i++) s += b[i] * (i % 3);
  printf("%.1f\n", s);
  return 0;
}
"""

REDEFINED = r"""
#include <stdio.h>
#define N 20000
double a[N], b[N];
static void fill(int k) {
  for (int i = 0; i < N; i++)  /* FILL */
    a[i] = i * k;
}
#undef N
#define N 400
int main(int argc, char **argv) {
  fill(argc);
  for (int i = 0; i < 20000; i++)  /* SCALE */
    b[i] = a[i] * 0.5;
  double s = 0;
  for (int i = 0; i < 20000; i++) s += b[i] * (i % 3);
  printf("%.1f %d\n", s, N);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_sizeof_bound_is_emitted_as_c(tmp_path) -> None:
    data = build_and_compare(tmp_path, SIZEOF_BOUNDS, ["FILL", "DOUBLE"])
    regions = [r["message"] for s in data["sources"] for r in s["remarks"] if r["id"] == "PCX200"]
    assert regions and "a[0:(sizeof a / sizeof a[0])]" in regions[0], regions


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_sections_naming_a_redefined_macro_are_not_emitted(tmp_path) -> None:
    # (SCALE's bounds are literals: its sections name no macro)
    data = build_and_compare(tmp_path, REDEFINED, ["SCALE"])
    nest = nest_at(data, REDEFINED, "FILL")
    assert not nest["applied"] and any("which this file redefines or #undefs" in r["message"]
                                       for r in nest["reasons"]), nest


SHADOWED = r"""
#include <stdio.h>
enum { N = 20000 };
double a[N], b[N];
static double work(int N) {
  for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++)  /* SCALE */
    b[i] = a[i] * N;
  double s = 0;
  for (unsigned i = 0; i < sizeof b / sizeof b[0]; i++)  /* SUM */
    s += b[i] * (i % 3);
  return s;
}
int main(int argc, char **argv) {
  for (int i = 0; i < 20000; i++) a[i] = i * argc;
  printf("%.1f\n", work(3));
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_declared_extent_shadowed_in_the_function_is_not_used(tmp_path) -> None:
    # ``double b[N]`` with the enum N, read in ``work(int N)``: the region mapped b[0:N],
    # three elements there, and the kernels wrote 20000 (a heap overrun: "double free or
    # corruption", a held-out adversarial check)
    data = build_and_compare(tmp_path, SHADOWED, ["SCALE", "SUM"])
    regions = [r["message"] for s in data["sources"] for r in s["remarks"] if r["id"] == "PCX200"]
    assert not any("b[0:N]" in m for m in regions), regions


QUALIFIED = r"""
#include <cstdio>
namespace cfg { int n = 20000; }
double a[20000], b[20000];
int main(int argc, char **argv) {
  cfg::n -= argc - 1;
  for (int i = 0; i < cfg::n; i++)  /* FILL */
    a[i] = i;
  for (int i = 0; i < cfg::n; i++)  /* DOUBLE */
    b[i] = a[i] * 2;
  double s = 0;
  for (int i = 0; i < 20000; i++) s += b[i] * (i % 3);
  std::printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_a_namespace_variable_read_by_a_kernel_is_named_by_no_clause(tmp_path) -> None:
    # ``firstprivate(n)`` for ``cfg::n`` did not compile (PCX007, a held-out check): such
    # a scalar is passed in implicitly, as OpenMP does for any scalar it is not told of
    build_and_compare(tmp_path, QUALIFIED, ["FILL", "DOUBLE"], suffix=".cpp")
