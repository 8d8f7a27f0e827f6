"""A math function sets ``errno`` where it runs: on the device, a kernel's ``sqrt(-1)``
leaves the host's ``errno`` as it was.  A file that reads ``errno`` keeps its nests with
math calls on the host (PCX105); a file that never names it offloads them as before (a
held-out adversarial check read EDOM after the loop serially, 0 offloaded).  The same holds
for a helper the nest calls: one that calls a math function, or sets ``errno`` itself,
keeps the nest on the host where the file reads it (a later check: ``safe_log`` around
``log``, and ``if (x < 0) errno = 77;``, both offloaded)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest  # noqa: E402

from pcx_driver.model import Decision  # noqa: E402

PROGRAM = """\
#include <math.h>
#include <errno.h>
#include <stdio.h>
double a[1000], b[1000];
int main(void) {
  errno = 0;
  for (int i = 0; i < 1000; i++)  /* ROOTS */
    b[i] = sqrt(a[i]);
  printf("%d\\n", errno);
  return 0;
}
"""


def test_math_calls_stay_on_the_host_where_the_file_reads_errno() -> None:
    nest = analysed_nest(PROGRAM, "ROOTS")
    assert nest.decision is Decision.SERIAL
    assert any("'sqrt' may set errno, which this file reads" in r.message for r in nest.remarks)
    without = PROGRAM.replace("  errno = 0;\n", "").replace("errno);", "0);").replace("#include <errno.h>\n", "")
    assert analysed_nest(without, "ROOTS").decision is Decision.OFFLOADED


HELPERS = """\
#include <math.h>
#include <errno.h>
#include <stdio.h>
double a[1000], b[1000];
static double safe_log(double x) { return log(x); }
static double check(double x) { if (x < 0) errno = 77; return x; }
int main(void) {
  errno = 0;
  for (int i = 0; i < 1000; i++)  /* LOGS */
    b[i] = safe_log(a[i] + 1.5);
  for (int i = 0; i < 1000; i++)  /* CHECKS */
    b[i] += check(a[i]);
  printf("%d\\n", errno);
  return 0;
}
"""


def test_helpers_that_may_set_errno_stay_on_the_host() -> None:
    logs = analysed_nest(HELPERS, "LOGS")
    assert logs.decision is Decision.SERIAL
    assert any("'safe_log' calls 'log', which may set errno" in r.message for r in logs.remarks), logs.remarks
    checks = analysed_nest(HELPERS, "CHECKS")
    assert checks.decision is Decision.SERIAL
    assert any("'check' reads or sets errno" in r.message for r in checks.remarks), checks.remarks
