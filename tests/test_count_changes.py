"""An allocation's element count maps its array only while the count still holds.

``a = malloc(m * sizeof *a)`` gives ``a[0:m]`` where a subscript has no bound of its own
(``a[idx[i]]``).  Two held-out programs changed ``m`` where the checks did not look:

- after the kernel, in the loop around it (``m = m / 2``): no store lies between the
  allocation and the kernel in the text, but the loop's back edge brings one, and from
  the second pass on the kernel mapped half the array it reads whole;
- through a function-like macro that assigns its argument (``#define SHRINK(x) ((x) /=
  4)``), inside a data region whose sections read ``m``: the syntax shows a call.

Both now keep the extent unknown (the kernel) or the region out (its section would not
stay fixed), and the programs print what their serial builds print.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

HALVED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 1000, m = 1000 + argc;
  int *idx = malloc(n * sizeof(int));
  double *a = malloc(m * sizeof *a);
  for (int i = 0; i < m; i++) a[i] = i * 0.5;
  for (int i = 0; i < n; i++) idx[i] = m - 1 - i;
  double s = 0;
  for (int it = 0; it < 3; it++) {                                     /* REPEATS */
    double t = 0;
    for (int i = 0; i < n; i++) t += a[idx[i]];                        /* GATHER */
    s += t * (it + 1);
    m = m / 2;
  }
  printf("%.3f %d\n", s, m);
  return 0;
}
"""


def test_a_count_changed_later_in_the_loop_is_no_extent() -> None:
    nest = analysed_nest(HALVED, "GATHER")
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX116" and "'a'" in r.message for r in nest.remarks), [r.format() for r in nest.remarks]
    # without the store the count holds, and the loop around the gather offloads it too
    fixed = HALVED.replace("    m = m / 2;\n", "")
    assert analysed_nest(fixed, "REPEATS").decision is Decision.OFFLOADED


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_macro_that_assigns_the_count_keeps_the_region_out(tmp_path: Path) -> None:
    program = r"""
#include <stdio.h>
#include <stdlib.h>
#define SHRINK(x) ((x) /= 4)
int main(int argc, char **argv) {
  int m = 4000 + argc;
  double *a = malloc(m * sizeof(double));
  for (int i = 0; i < m; i++) a[i] = i * 0.5;                          /* FILL */
  SHRINK(m);
  a[m] += 1.0;
  double s = 0;
  for (int i = 0; i < 4 * m; i++) s += a[i];                           /* SUM */
  printf("%.1f\n", s);
  return 0;
}
"""
    data = build_and_compare(tmp_path, program, ["FILL", "SUM"])
    remarks = [r["message"] for s in data["sources"] for r in s["remarks"]]
    assert not any("target data region keeps" in m for m in remarks), remarks


SWAPPED = r"""
#include <cstdio>
#include <functional>
#include <utility>
static void grow(int &x) { x += 16; }
int main(int argc, char **argv) {
  int n = 64 + 8 * (argc - 1), m = n + 16;
  double *a = new double[m + 32], *b = new double[m + 32]();
  for (int i = 0; i < n; i++) a[i] = i * 0.5;                          /* FIRST */
  for (int i = 0; i < n; i++) b[i] = a[i] * 2 + 1;
  WRITE_N;
  for (int i = 0; i < n; i++) a[i] = b[i] + 1;                         /* AFTER */
  double s = 0;
  for (int i = 0; i < n; i++) s += (a[i] + b[i]) * (i + 1);
  std::printf("%.3f %d\n", s, n);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("write", ["std::swap(n, m)", "grow(n)", "{ std::function<void(int &)> f = grow; f(n); }"],
                         ids=["std-swap", "reference-parameter", "std-function"])
def test_a_count_changed_through_a_reference_between_kernels(tmp_path: Path, write: str) -> None:
    """A call that binds the count to a non-const reference changes it where the syntax
    shows no store (held-out: the region's sections kept the old n, and libomptarget
    stopped the run at the next kernel, "explicit extension not allowed")."""
    build_and_compare(tmp_path, SWAPPED.replace("WRITE_N", write), ["FIRST"], suffix=".cpp")
