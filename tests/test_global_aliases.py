"""Globals that are one object under two names (``__attribute__((alias("a")))``).

Two map clauses would copy ``a`` and ``b`` apart, and the device image cannot resolve the
alias: the rewritten file failed to compile and fell back (PCX007, a held-out check).
A file that declares one keeps its loops on the host (PCX118; a kernel over any other
array of it made the device compile fail the same way) and prints the serial output.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

PROGRAM = r"""#include <stdio.h>
#define N 100000
double a[N], c[N];
extern double b[N] __attribute__((alias("a")));
int main(void) {
  for (int i = 0; i < N; i++) a[i] = i;                              /* TARGET */
  double s = 0;
  for (int i = 0; i < N; i++) s += b[i];                             /* ALIAS */
  for (int i = 0; i < N; i++) c[i] = 2.0 * i;                        /* OTHER */
  for (int i = 0; i < N; i++) s += c[i];
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_globals_one_object_under_two_names_stay_on_the_host(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PROGRAM, [])
    for marker in ("TARGET", "ALIAS", "OTHER"):
        refused_nest(PROGRAM, marker, "PCX118", "globals as one object under two names ('a', 'b'")
