"""Loops that run after ``main`` returns stay on the host (PCX150).

A function marked ``__attribute__((destructor))`` runs after ``main`` returns, beside the
offload runtime's own destructor, which may shut the runtime down first: a kernel there
crashed the program (a held-out check: a segmentation fault after ``main``, the output it
had buffered lost).  The destructor's loops, and those of the functions it calls, stay as
written; the same helper called from ``main`` runs on the host too.  ``atexit`` handlers
run before the runtime's shutdown and keep their kernels.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 100000
double a[N], b[N];
static void fini(void) __attribute__((destructor));
static void scale(double f) {
  for (int i = 0; i < N; i++)  /* SCALE */
    a[i] = a[i] * f + 1;
}
static void fini(void) {
  scale(2.0);
  printf("fini %.1f\n", a[10]);
}
__attribute__((destructor(200))) static void report(void) {
  double s = 0;
  for (int i = 0; i < N; i++)  /* REPORT */
    s += b[i];
  printf("report %.1f\n", s);
}
static void last(void) {
  for (int i = 0; i < N; i++)  /* ATEXIT */
    b[i] = b[i] * 0.5;
  printf("atexit %.1f\n", b[7]);
}
int main(int argc, char **argv) {
  atexit(last);
  for (int i = 0; i < N; i++)  /* MAIN */
    { a[i] = i; b[i] = i % 7 + argc; }
  printf("main %.1f\n", a[10]);
  return 0;
}
"""


def test_loops_after_main_stay_on_the_host_and_the_program_ends_well(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["MAIN", "ATEXIT"])


@pytest.mark.parametrize("marker, words", [
    ("SCALE", "'scale' runs in destructor function 'fini'"),
    ("REPORT", "'report' is a destructor function"),
])
def test_the_remark_names_the_destructor(marker, words) -> None:
    refused_nest(PROGRAM, marker, "PCX150", words)
