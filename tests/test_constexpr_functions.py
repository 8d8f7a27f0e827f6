"""A loop in a ``constexpr`` (or ``consteval``) function stays serial (PCX122).

A constexpr function may hold no OpenMP directive (clang: "statement not allowed in
constexpr function"): a target construct there made the rewritten file fail to compile,
and the whole file fell back to its original source, losing every other offload in it
(a held-out check).  The loops elsewhere in the file are offloaded as before.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

PROGRAM = r"""
#include <cstdio>
#include <cstdlib>
constexpr void fill(int *a, int n) {
  for (int i = 0; i < n; i++)                                   /* FILL */
    a[i] = i * 3;
}
int main(int argc, char **argv) {
  int n = 5000 + argc;
  int *a = new int[n];
  fill(a, n);
  long s = 0;
  for (int i = 0; i < n; i++)                                   /* SUM */
    s += a[i];
  printf("%ld\n", s);
  return 0;
}
"""


def test_a_constexpr_functions_loop_stays_serial() -> None:
    refused_nest(PROGRAM, "FILL", "PCX122", "loop in a constexpr function", "t.cc")


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_the_rest_of_the_file_is_offloaded(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["SUM"], suffix=".cc")
