"""A dependent call in a function template reaches the explicit specializations.

HeCBench's atan2 computes ``safe_atan2f<DEGREE>(y, x)``, which calls
``unsafe_atan2f_impl<DEGREE>(...)``: that template is only declared, and defined once per
degree by explicit specializations (``template <> float approx_atan2f_P<3>(float x)``).
In the template's own text libclang names no definition for the call ("calls
'unsafe_atan2f_impl<DEGREE>', which has no visible definition", PCX105, before).  Every
explicit specialization of that name is what the call may reach: each is checked like any
callee and declared on the device.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, build_and_compare, refused_nest  # noqa: E402

POLY = r"""
#include <cstdio>
template <int D> float poly(float x);
template <> float poly<3>(float x) { return x * (1.0f + x * 0.5f); }
template <> float poly<5>(float x) { float z = x * x; return x * (1.0f + z * (0.5f + z * 0.25f)); }
template <int D> float approx(float x) { return poly<D>(x) + 1.0f; }
void compute(int n, const float *x, float *r) {
  for (int i = 0; i < n; i++)                                     // DEPENDENT
    r[i] = approx<3>(x[i]) + approx<5>(x[i]);
}
int main(int argc, char **argv) {
  int n = 100000 + argc;
  float *x = new float[n], *r = new float[n];
  for (int i = 0; i < n; i++) x[i] = (i % 100) * 0.01f;
  compute(n, x, r);
  double s = 0;
  for (int i = 0; i < n; i++) s += r[i] * (i % 3);
  printf("%.3f\n", s);
  delete[] x;
  delete[] r;
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_the_specializations_a_dependent_call_reaches_go_to_the_device(tmp_path: Path) -> None:
    build_and_compare(tmp_path, POLY, ["DEPENDENT"], suffix=".cpp")


def test_one_specialization_unfit_for_the_device_keeps_the_loop_serial() -> None:
    src = POLY.replace("float z = x * x; return x * (1.0f + z * (0.5f + z * 0.25f));", "printf(\"x\"); return x;")
    assert src != POLY
    refused_nest(src, "DEPENDENT", "PCX105", "whose specialization 'poly' performs input/output", path="t.cpp")
