"""Arrays allocated by assignment, and data regions that start after a call into another file.

C89 and HeCBench code declares its pointers first and allocates them later (``double *a,
*b; ... a = malloc(n * sizeof(double));``, ``Ksat = new double[size];``).  The one store
to such a pointer, in a block that holds the use, before it, gives its extent as an
initialiser would (``hostaccess.assigned_allocation``).

A data region that would hold an array across a call into another file (a header's
checker, ``reference(Ksat, ...)``) is refused: that function's own kernels would find the
array present on the device.  The region then starts after that call, over the time loop
that follows it, instead of being dropped whole by the plan checker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pcx_driver.engine.hostaccess import assigned_allocation, parse
from pcx_driver.model import Language
sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import CLANG, run  # noqa: E402
from test_coverage_liveness import build_and_compare  # noqa: E402

def _extent(body: str, name: str) -> list[str] | None:
    src = f"#include <stdlib.h>\nvoid f(int n, int m, int c) {{\n{body}\n  /*USE*/ g(a);\n}}\n"
    data = src.encode()
    fn = next(n for n in parse(data, Language.C).root_node.named_children if n.type == "function_definition")
    ext = assigned_allocation(fn, data, name, data.index(b"/*USE*/"))
    return ext.dims if ext is not None else None


@pytest.mark.parametrize("body,dims", [
    ("  double *a;\n  a = malloc(n * sizeof(double));", ["n"]),
    ("  double *a = NULL;\n  a = (double *)calloc(n, sizeof *a);", ["n"]),
    ("  double *a, *b;\n  b = malloc(m * sizeof(double));\n  a = malloc((n + 1) * sizeof a[0]);", ["(n + 1)"]),
    # a second store: which allocation the use sees depends on the path
    ("  double *a;\n  a = malloc(n * sizeof(double));\n  if (c) a = malloc(m * sizeof(double));", None),
    # allocated under a condition: the use may see no allocation at all
    ("  double *a;\n  if (c) { a = malloc(n * sizeof(double)); }", None),
    # the count changes between the allocation and the use
    ("  double *a;\n  a = malloc(n * sizeof(double));\n  n = n * 2;", None),
    # stored through its address
    ("  double *a;\n  a = malloc(n * sizeof(double));\n  h(&a);", None),
    # initialised to other memory first
    ("  double buf[4];\n  double *a = buf;\n  a = malloc(n * sizeof(double));", None),
    # a count of other units is no extent
    ("  double *a;\n  a = malloc(n * sizeof(float));", None),
    # the one store through its address: posix_memalign
    ("  double *a = NULL;\n  posix_memalign((void **)&a, 64, n * sizeof(double));", ["n"]),
    ("  double *a;\n  if (posix_memalign((void **)&a, 64, n * sizeof(double))) return;", None),
])
def test_one_allocating_store_before_the_use_gives_the_extent(body, dims) -> None:
    assert _extent(body, "a") == dims


CHECK_H = r"""
static double host_checksum(const double *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i] * (i % 3);
  return s;
}
"""

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "check.h"

static void step(const double *restrict a, double *restrict b, int n) {
  for (int i = 0; i < n; i++)                          /* STEP */
    b[i] = 0.5 * a[i] + 0.25 * b[i];
}

int main(int argc, char **argv) {
  int n = 20000 + (argc > 1), repeat = 30;
  double *a, *b;
  a = malloc(n * sizeof(double));
  b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) {                        /* INIT */
    a[i] = (i % 13) * 0.5;
    b[i] = 1.0 + (i % 5);
  }
  printf("%.3f\n", host_checksum(a, n));
  for (int r = 0; r < repeat; r++)
    step(a, b, n);
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i] * (i % 7);     /* SUM */
  printf("%.6f\n", s);
  free(a);
  free(b);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_the_region_starts_after_a_call_into_another_file(tmp_path) -> None:
    (tmp_path / "check.h").write_text(CHECK_H)
    report = build_and_compare(tmp_path, PROGRAM, ["STEP", "INIT"])
    remarks = [m["message"] for s in report["sources"] for m in s["remarks"]]
    assert any("starts after line 20" in m and "'host_checksum', defined in another file" in m for m in remarks), remarks
    assert any(m.startswith("target data region keeps") for m in remarks), remarks
    assert not any("plan check failed" in m for m in remarks), remarks
    got = run(tmp_path / "offload")
    n = 20000
    assert got.launches >= 30 + 2
    # a and b go to the device once for the 30 steps, not once per step
    assert got.array_to_device <= 3 * n * 8, got.array_to_device
