"""Subscripts in 32-bit unsigned arithmetic, which wraps around 2**32.

``b[i + h + h]`` with ``unsigned h = 1u << 31`` is ``b[i]`` in C.  The analysis read the
subscript as the integer ``i + 2h`` and mapped ``b`` from 2**32 on (a held-out check: a
segmentation fault); the same reading could take two subscripts that wrap onto one element
for two.  Now an unsigned operation that mixes a loop index with another value is no
affine subscript (PCX103 for a write), and one without a loop index is one value, written
as C computes it.  An index with constants (``b[i + 1]`` for ``unsigned i < n - 1``)
stays affine.  Built serially and with ``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

WRAP = r"""
#include <stdio.h>
#include <stdlib.h>
static void fill(unsigned n, unsigned h, double *b) {
  for (unsigned i = 0; i < n; i++)  /* WRAP */
    b[i + h + h] = i * 2.0;
}
static void shift(unsigned n, unsigned h, double *c, const double *b) {
  for (unsigned i = 0; i < n; i++)  /* INVARIANT */
    c[i] = b[i] + b[(h + h) + 3];
}
static void next(unsigned n, double *c, const double *b) {
  for (unsigned i = 0; i < n - 1; i++)  /* PLAIN */
    c[i] = c[i] * 0.5 + b[i + 1];
}
int main(int argc, char **argv) {
  unsigned n = 20000;
  double *b = malloc(n * sizeof(double)), *c = malloc(n * sizeof(double));
  fill(n, argc > 5 ? 7u : 1u << 31, b);
  shift(n, argc > 5 ? 7u : 1u << 31, c, b);
  next(n, c, b);
  double s = 0;
  for (unsigned i = 0; i < n; i++) s += b[i] + c[i] * (i % 3);
  printf("%.1f %.1f %.1f\n", s, b[0], c[n - 1]);
  return 0;
}
"""


def test_wrapping_subscripts_are_not_read_as_integers(tmp_path) -> None:
    build_and_compare(tmp_path, WRAP, ["INVARIANT", "PLAIN"])


def test_an_index_with_an_unsigned_offset_is_not_affine() -> None:
    refused_nest(WRAP, "WRAP", "PCX103", "b[i + h + h]")
