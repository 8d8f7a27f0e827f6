"""A loop the rewrite writes twice (its host version beside the kernel) expands what it
names twice: ``__COUNTER__`` in it counted once more in the copy, and every later
``__COUNTER__`` of the file shifted (``id`` printed 2 where the program says 1).  Such a
loop gets no copy: its kernel's ``if(target:)`` keeps small calls on the host."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, build_and_compare  # noqa: E402

COUNTED = r"""
#include <stdio.h>
void scale(double *b, const double *a, int n) {
  for (int i = 0; i < n; i++)                                   /* COUNTED */
    b[i] = a[i] * 2.0 + __COUNTER__;
}
int main(int argc, char **argv) {
  static double a[5000], b[5000], c[64];
  for (int i = 0; i < 5000; i++) a[i] = i % 7;
  scale(b, a, 5000);
  scale(c, a, 10 + argc);            /* below the work guard: on the host */
  int id = __COUNTER__;
  double s = 0;
  for (int i = 0; i < 5000; i++) s += b[i] + (i < 64 ? c[i] : 0);
  printf("%.1f id=%d\n", s, id);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_loop_that_names_counter_is_written_once(tmp_path: Path) -> None:
    build_and_compare(tmp_path, COUNTED, ["COUNTED"])
