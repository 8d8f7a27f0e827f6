"""Function objects of classes with no data (issue 15, cause 11; engine/functors.py).

HeCBench's pooling kernels take a policy object by value (``PoolProcess pool_process``)
and call ``pool_process.compute(x, y, dy, scale, &gradient)`` for every element: a helper
spelled through an object.  Where the object's class has no data members, no bases and
no virtual functions, its method (or ``operator()``) is walked in place of the call like
any helper: a ``const T &`` parameter is its argument's value, a ``T *`` parameter given
``&g`` makes ``*dx`` the caller's ``g``.  Inside a function template the class is the one
every instantiation in the file gives the object's type parameter.  The class is
compiled for the device whole (``declare target`` around it).  Each program runs serially
and through ``PCX_MODE=static`` with the same output; the shapes that must not be read so
keep their loops serial.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, nest_at  # noqa: E402

from pcx_driver.model import Decision

FUNCTORS = r"""#include <cstdio>
#include <cstdlib>
template <class T> class Avg {
 public:
  void compute(const T &x, const T &dy, T scale, T *dx) { *dx += scale * dy + x * (T)0; }
};
template <class T> struct Scaled {
  T operator()(const T &a, T b) const { return a * b + (T)1; }
};
struct Clamp {
  float apply(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
};
template <typename P, typename T>
void grad(int n, int k, const T *in, const T *dout, P proc, T *out) {
  for (int i = 0; i < n; i++) {                     /* GRAD */
    T g = (T)0;
    for (int j = 0; j < k; j++) proc.compute(in[i], dout[(i + j) % n], (T)0.5, &g);
    out[i] = g;
  }
}
template <typename F, typename T>
void apply_all(int n, const T *a, T *b, F f) {
  for (int i = 0; i < n; i++) b[i] = f(a[i], (T)3);  /* APPLY */
}
void clamp_all(int n, float *v) {
  Clamp c;
  for (int i = 0; i < n; i++) v[i] = c.apply(v[i], 1.0f, 40.0f);   /* CLAMP */
}
int main(int argc, char **argv) {
  int n = 20000 + argc, k = 4;
  float *in = new float[n], *dout = new float[n], *out = new float[n];
  for (int i = 0; i < n; i++) { in[i] = (i % 17) * 0.25f; dout[i] = (i % 5) * 0.5f; }
  grad<Avg<float>, float>(n, k, in, dout, Avg<float>(), out);
  apply_all(n, out, in, Scaled<float>());
  clamp_all(n, in);
  double s = 0;
  for (int i = 0; i < n; i++) s += in[i] + out[i];
  printf("%.4f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang-19 not installed")
def test_methods_of_classes_with_no_data_run_on_the_device(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, FUNCTORS, ["GRAD", "APPLY", "CLAMP"], suffix=".cpp")
    directives = [d for s in data["sources"] for d in s.get("directives", [])]
    assert sum("declare target" in str(d) for d in directives) >= 3, directives
    assert nest_at(data, FUNCTORS, "GRAD")["applied"]




@pytest.mark.parametrize("change, marker", [
    # a data member: the object is state, not a policy
    (("struct Clamp {\n", "struct Clamp {\n  float bias = 0;\n"), "CLAMP"),
    # a virtual method: which one runs is decided at run time
    (("  float apply(float v", "  virtual float apply(float v"), "CLAMP"),
    # the out-parameter written at another element: no scalar's address stands for it
    (("*dx += scale * dy + x * (T)0;", "dx[1] += scale * dy;"), "GRAD"),
    # state of its own after all: a static variable, as for any helper
    (("T operator()(const T &a, T b) const { return a * b + (T)1; }",
      "T operator()(const T &a, T b) const { static int calls = 0; calls++; return a * b; }"), "APPLY"),
])
def test_a_class_with_state_or_a_write_through_its_parameters_keeps_the_loop_serial(change, marker) -> None:
    src = FUNCTORS.replace(*change)
    assert src != FUNCTORS
    nest = analysed_nest(src, marker, "f.cpp")
    assert nest.decision is not Decision.OFFLOADED, [r.format() for r in nest.remarks]
