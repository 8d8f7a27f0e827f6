"""A loop that leaves the program when a check fails: ``if (v[k] <= 0) exit(VolumeError);``.

LULESH checks every element's volume this way after its force and Lagrange loops
(``exit(VolumeError)`` under ``#if USE_MPI ... #else``); the loop was refused ("'exit' may
leave the nest", PCX108), so the array it checks had to come back from the device first.
Serially the iterations before the failing one ran and the program ended there; nothing
they wrote can be seen after ``exit``.  So the kernel turns the statement into ``{ FLAG =
1; continue; }`` (the rest of that iteration never runs, as serially), and the program
leaves right after the kernel with the statement as written.  The call must be a
statement of its own under ``if``s in the outer loop's body, every such call the same
statement, and its status the same in every iteration; otherwise the loop stays serial
with the reason.  Built serially and with ``PCX_MODE=static``, run on the host device
with and without a failing element: the same output and exit status.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define USE_MPI 0
#define VolumeError (-1)
static void lagrange(double *vdov, double *dxx, const double *vnew, int n) {
  for (int k = 0; k < n; ++k) {  /* WRITES_THEN_CHECKS */
    double third = dxx[k] / 3.0;
    vdov[k] = dxx[k] * 2.0;
    dxx[k] -= third;
    if (vnew[k] <= 0.0) {
#if USE_MPI
      MPI_Abort(0, VolumeError);
#else
      exit(VolumeError);
#endif
    }
  }
}
int main(int argc, char **argv) {
  const int n = 50000;
  double *v = malloc(sizeof(double) * n), *d = malloc(sizeof(double) * n), *q = malloc(sizeof(double) * n);
  for (int k = 0; k < n; k++) { v[k] = 1.0 + k % 13; d[k] = k * 0.5; }
  if (argc > 1) v[n - 7] = -1.0;
  printf("checking %d elements\n", n);
  for (int k = 0; k < n; k++)  /* ONLY_CHECKS */
    if (v[k] <= 0.0) abort();
  for (int k = 0; k < n; k++) d[k] += v[k];
  for (int k = 0; k < n; k++) {  /* INNER_LOOP */
    for (int j = 0; j < 3; j++)
      if (d[k] < j - 5) exit(2);
  }
  int code = 0;
  for (int k = 0; k < n; k++) {  /* STATUS_CHANGES */
    code = k % 5;
    if (d[k] < -1.0) exit(code);
  }
  for (int k = 0; k < n; k++) {  /* TWO_STATUSES */
    if (d[k] < -2.0) exit(4);
    if (d[k] > 1e9) exit(5);
  }
  lagrange(q, d, v, n);
  double s = 0;
  for (int k = 0; k < n; k++) s += q[k] + d[k];
  printf("%.6f\n", s);
  return 0;
}
"""


def test_a_loop_that_exits_offloads_and_leaves_as_serially(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["WRITES_THEN_CHECKS"])
    lines = PROGRAM.splitlines()
    line = next(k + 1 for k, text in enumerate(lines) if "WRITES_THEN_CHECKS" in text)
    assert line in launch_lines(tmp_path / "offload")


def test_abort_with_no_status_is_the_same_statement_after_the_kernel() -> None:
    from test_coverage_liveness import analysed_nest
    from pcx_driver.model import Decision

    nest = analysed_nest(PROGRAM, "ONLY_CHECKS")
    assert nest.decision is Decision.OFFLOADED and nest.exits, [r.format() for r in nest.remarks]


@pytest.mark.parametrize("marker, words", [
    ("INNER_LOOP", "inside an inner loop or a switch"),
    ("STATUS_CHANGES", "its status 'code' changes in the nest"),
    ("TWO_STATUSES", "leaves the program by different statements"),
])
def test_exits_the_kernel_cannot_keep_stay_serial(marker, words) -> None:
    refused_nest(PROGRAM, marker, "PCX108", words)


HANDLER = r"""
#include <stdio.h>
#include <stdlib.h>
static double *g;
static int gn;
static void report(void) { double s = 0; for (int i = 0; i < gn; i++) s += g[i]; printf("%f\n", s); }
int main(int argc, char **argv) {
  gn = 100000;
  g = malloc(sizeof(double) * gn);
  atexit(report);
  for (int k = 0; k < gn; k++) {  /* SEEN_BY_HANDLER */
    if (k == 10 && argc > 1) exit(2);
    g[k] = 1.0;
  }
  return 0;
}
"""


def test_an_exit_handler_keeps_the_loop_serial() -> None:
    # the handler sums what the iterations wrote: serially only the first ten
    refused_nest(HANDLER, "SEEN_BY_HANDLER", "PCX108", "registers exit handlers")
