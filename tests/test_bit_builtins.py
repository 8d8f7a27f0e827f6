"""Bit-counting builtins are values of their argument (HeCBench popcount's
``result[i] = __builtin_popcountll(data[i])``: "call to '__builtin_popcountll', which has
no visible definition", PCX105, before).  A function of the user's that happens to be named
``popcount`` is still a call like any other."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, build_and_compare, refused_nest  # noqa: E402

import pytest

BITS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 50000 + argc;
  unsigned long long *d = malloc(sizeof *d * n);
  int *r = malloc(sizeof *r * n);
  for (int i = 0; i < n; i++) d[i] = (unsigned long long)i * 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < n; i++)                                   /* BITS */
    r[i] = __builtin_popcountll(d[i]) + (d[i] ? __builtin_clzll(d[i]) : 64) + __builtin_parityll(d[i]);
  long s = 0;
  for (int i = 0; i < n; i++) s += r[i] * (i % 7);
  printf("%ld\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_bit_counting_builtins_are_values(tmp_path: Path) -> None:
    build_and_compare(tmp_path, BITS, ["BITS"])


def test_a_user_function_named_like_one_is_a_call() -> None:
    src = BITS.replace("#include <stdlib.h>\n", "#include <stdlib.h>\nint popcountll(unsigned long long x);\n")
    src = src.replace("__builtin_popcountll(d[i])", "popcountll(d[i])")
    refused_nest(src, "BITS", "PCX105", "popcountll")
