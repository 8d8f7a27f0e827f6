"""Types libclang 19 has and its Python bindings (18) do not name are analysed like any.

A ``_Float16`` anywhere in a file made ``Type.kind`` raise ``ValueError: Unknown template
argument kind 32``, and the file's every loop was left unanalysed (PCX122, a held-out
check).  The bindings now learn the newer kinds (``semantics._NEWER_TYPE_KINDS``).  Built
serially and with ``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

HALF = r"""
#include <stdio.h>
#define N 4000
_Float16 h[N];
double a[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++)  /* FILL */
    a[i] = (i % 100) * 0.25 + argc;
  for (int i = 0; i < N; i++)  /* HALVE */
    h[i] = (_Float16) a[i];
  double s = 0;
  for (int i = 0; i < N; i++)  /* SUM */
    s += (double) h[i];
  printf("%.3f\n", s);
  return 0;
}
"""


def test_a_file_with_float16_is_analysed_and_offloaded(tmp_path) -> None:
    build_and_compare(tmp_path, HALF, ["FILL", "HALVE", "SUM"])
