"""Flags: a scalar a loop only sets, each time to one constant (issue 15, Rodinia bfs).

Graph and convergence codes end a sweep with a flag: ``stop = true;`` where a node
changed, ``done = 0;`` where a point moved.  The loop never reads it; serially it ends as
that constant if any iteration set it, as it was otherwise.  For a ``bool`` that is
``reduction(||: stop)`` (or ``&&`` when set to false); for another integer ``max`` where
it starts at most at the constant and ``min`` where it starts at least at it, which needs
its start known before the loop (a literal set in straight-line code).  Everything else
stays what it was: refused where the flag is read after the loop (PCX112).  (Rodinia
bfs's own flag loop stays serial beside its scatter, which a serial loop must make: the
copies would cost more than the kernel saves, PCX115.)  Each program runs serially and
through ``PCX_MODE=static`` on the host device with the same output.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

FLAGS = r"""#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
/* halve each distance until no value moves (a sweep to a fixed point, as BFS's update) */
int relax(int n, int *x, const int *y) {
  int rounds = 0;
  bool moved;
  do {
    moved = false;
    for (int v = 0; v < n; v++) {                 /* ANY */
      int next = (x[v] + y[v]) / 2;
      if (next != x[v]) {
        x[v] = next;
        moved = true;
      }
    }
    rounds++;
  } while (moved && rounds < 64);
  return rounds;
}
/* every point inside its box (a convergence test: set to 0 where one is not) */
int inside(int n, const float *x, float lo, float hi) {
  int ok = 1;
  for (int i = 0; i < n; i++)                     /* ALL */
    if (x[i] < lo || x[i] > hi)
      ok = 0;
  return ok;
}
/* a flag that starts below the constant it is set to */
int marked(int n, const float *x) {
  int mark = 0;
  for (int i = 0; i < n; i++)                     /* MARK */
    if (x[i] > 0.75f)
      mark = 7;
  return mark;
}
int main(int argc, char **argv) {
  int n = 20000 + (argc > 1) * 3;
  int *x = malloc(sizeof(int) * n), *y = malloc(sizeof(int) * n);
  float *f = malloc(sizeof(float) * n);
  for (int i = 0; i < n; i++) {
    x[i] = (int)((i * 7919L + 13) % 100000);
    y[i] = (int)((i * 104729L) % 5000);
    f[i] = (float)((i * 37) % 101) / 100.0f;
  }
  int r = relax(n, x, y);
  long c = 0;
  for (int i = 0; i < n; i++) c += x[i];
  printf("%d %ld %d %d %d %d\n", r, c, inside(n, f, 0.0f, 1.0f), inside(n, f, 0.1f, 1.0f),
         marked(n, f), marked(n / 100, f));
  return 0;
}
"""


@needs_clang
def test_flags_set_to_one_constant_are_reductions(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, FLAGS, ["ANY", "ALL", "MARK"])
    kernels = {n["line"]: n for s in data["sources"] for n in s["nests"] if n.get("applied")}
    lines = FLAGS.splitlines()
    ops = {m: kernels[next(k + 1 for k, t in enumerate(lines) if m in t)]["reasons"] for m in ("ANY", "ALL", "MARK")}
    assert any("reduction(||:moved)" in r["message"] for r in ops["ANY"]), ops["ANY"]
    assert any("reduction(min:ok)" in r["message"] for r in ops["ALL"]), ops["ALL"]
    assert any("reduction(max:mark)" in r["message"] for r in ops["MARK"]), ops["MARK"]


@pytest.mark.parametrize("change", [
    # the start is not known before the loop: above the constant, max would keep it
    ("int marked(int n, const float *x) {\n  int mark = 0;", "int marked(int n, const float *x, int mark) {\n  if (0)"),
    # two different constants: which one is last depends on the order
    ("      mark = 7;", "      mark = 7;\n    else if (x[i] < 0.05f) mark = 3;"),
    # read in the loop: it carries a value between iterations
    ("      mark = 7;", "      mark = 7 + 0 * mark;"),
    # an unsigned start of -1 is the greatest value, not one below the constant
    ("  int mark = 0;", "  unsigned mark = -1;"),
    # another name may set it
    ("  int mark = 0;", "  int mark = 0, *alias = &mark; (void)alias;"),
])
def test_what_is_no_flag_stays_serial(change) -> None:
    src = FLAGS.replace(*change).split("int main")[0]
    nest = analysed_nest(src, "MARK")
    assert nest.decision is not Decision.OFFLOADED, nest.remarks
