"""C++ spellings of a row view and of an instantiation.

HeCBench's cross writes each element's three components through ``auto* out_row = out +
3*i`` in a function template that the file instantiates explicitly (``template void
cross_kernel<float>(...)``), calling it nowhere.  A view declared ``auto *`` has its
array's element type (it was refused: "pointer 'out_row' declared inside the nest may
alias an array", PCX118), and an explicit instantiation is an instantiation ("function
template 'cross_kernel' has no instantiation in this file", PCX136, before).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

CROSS = r"""
#include <cstdio>
template <typename T>
void cross(int numel, T *out, const T *x1, const T *x2) {
  for (int i = 0; i < numel; i++) {                               // ROWS
    auto *out_row = out + 3 * i;
    const auto *a = x1 + 3 * i;
    const auto *b = x2 + 3 * i;
    out_row[0] = a[1] * b[2] - a[2] * b[1];
    out_row[1] = a[2] * b[0] - a[0] * b[2];
    out_row[2] = a[0] * b[1] - a[1] * b[0];
  }
}
template void cross<float>(int, float *, const float *, const float *);

int main(int argc, char **argv) {
  int n = 20000 + argc;
  float *x1 = new float[3 * n], *x2 = new float[3 * n], *out = new float[3 * n];
  for (int i = 0; i < 3 * n; i++) { x1[i] = (i % 7) * 0.5f; x2[i] = (i % 5) - 2.0f; }
  cross(n, out, x1, x2);
  double s = 0;
  for (int i = 0; i < 3 * n; i++) s += out[i] * (i % 3);
  printf("%.3f\n", s);
  delete[] x1; delete[] x2; delete[] out;
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_auto_row_views_offload_with_the_serial_output(tmp_path: Path) -> None:
    build_and_compare(tmp_path, CROSS, ["ROWS"], suffix=".cpp")


def test_an_explicit_instantiation_is_an_instantiation() -> None:
    alone = CROSS[:CROSS.index("int main")]
    nest = analysed_nest(alone, "ROWS", path="t.cpp")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    none = alone.replace("template void cross<float>(int, float *, const float *, const float *);", "")
    nest = analysed_nest(none, "ROWS", path="t.cpp")
    assert nest.decision is not Decision.OFFLOADED and any(r.id == "PCX136" for r in nest.remarks)
