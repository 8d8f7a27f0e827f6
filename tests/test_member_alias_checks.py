"""Arrays reached through one member of a variable (``s->a``, ``s.b``) that may be one
buffer are compared at run time, as pointer parameters are (PCX128).

A struct of arrays (``struct Field { double *u, *v, *w; int n; }``) is how much C keeps
its arrays; its members may point into one allocation, and nothing in the unit says they
do not.  Such a loop stayed serial (PCX104).  The host computes each member's address
range before the loop, with the member loads the loop itself makes, and runs the kernel
where the ranges are disjoint, the loop as written where they are not: ``s->a = s->b + 1``
(a shifted view, the aliasing trap) still gives the serial answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
struct Field { double *a, *b, *c; int n; };
void triad(struct Field *s, double q) {
  for (int i = 0; i < s->n; i++)                                /* TRIAD */
    s->a[i] = s->b[i] + q * s->c[i];
}
static double sum(const double *x, int n) { double t = 0; for (int i = 0; i < n; i++) t += x[i] * (i % 5 + 1); return t; }
int main(int argc, char **argv) {
  int n = 20000 + argc;
  double *pool = malloc(sizeof(double) * 4 * n);
  for (int i = 0; i < 4 * n; i++) pool[i] = i % 7;
  struct Field f = { pool, pool + n, pool + 2 * n, n };
  triad(&f, 0.5);                                               /* apart: on the device */
  struct Field g = { pool + 2 * n + 1, pool + 2 * n, pool + 3 * n, n };
  triad(&g, 0.25);                                              /* a = b + 1: as written */
  struct Field h = { pool, pool, pool, n };
  for (int i = 0; i < h.n; i++)                                 /* LOCAL */
    h.a[i] = h.b[i] * 2.0 + h.c[i];
  printf("%.3f\n", sum(pool, 4 * n));
  return 0;
}
"""


def test_member_pairs_are_checked_at_run_time() -> None:
    nest = analysed_nest(PROGRAM, "TRIAD")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    assert {frozenset(p) for p in nest.alias_checks} == {
        frozenset(("s->a", "s->b")), frozenset(("s->a", "s->c")), frozenset(("s->b", "s->c"))}
    assert any(r.id == "PCX128" for r in nest.remarks)


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_member_arrays_that_overlap_run_as_written(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["TRIAD", "LOCAL"])
