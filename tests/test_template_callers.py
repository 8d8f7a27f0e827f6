"""A function template instantiated only by calls in another template's body.

HeCBench's atomicCost calls ``wiAtomicOnGlobalMem<T>(result, size, n)`` inside the
template ``atomicCost<T>``, which main instantiates with double, int and float; its
convolution1D calls ``conv1d(mask, a, b, ...)`` inside ``conv1D<T>``.  libclang lists no
instantiation of the callee (its calls are dependent), so its loops were refused as a
template "with no instantiation in this file" (PCX136).  The callee's instantiations are
the caller's, put in for the call's template arguments, written (``<T>``) or deduced from
an argument declared with the caller's parameter; a type that is not arithmetic, or a call
that cannot be followed, keeps PCX136.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

CLANGXX = shutil.which("clang++-19")

PROGRAM = r"""
#include <cstdio>
#include <cstdlib>
#include <cstring>
template <typename T>
void accumulate(T *result, int size, int n) {
  for (int tid = 0; tid < n; tid++)                         /* NEST1 */
    for (int i = tid * size; i < (tid + 1) * size; i++)
      result[tid] += i % 2;
}
template <typename T>
void smooth(const T *in, T *out, int n) {
  for (int i = 1; i < n - 1; i++)                           /* NEST2 */
    out[i] = (in[i - 1] + in[i] + in[i + 1]) / 3;
}
template <typename T>
void run(int n, int size) {
  T *r = (T *)malloc(sizeof(T) * n), *a = (T *)malloc(sizeof(T) * n), *b = (T *)malloc(sizeof(T) * n);
  memset(r, 0, sizeof(T) * n);
  for (int i = 0; i < n; i++) { a[i] = i % 7; b[i] = 0; }
  accumulate<T>(r, size, n);
  smooth(a, b, n);
  double s = 0;
  for (int i = 0; i < n; i++) s += r[i] + b[i];
  printf("%.3f\n", s);
  free(r); free(a); free(b);
}
int main(int argc, char **argv) {
  run<double>(20000 + (argc > 1), 8);
  run<int>(20000, 8);
  run<float>(20000, 8);
  return 0;
}
"""


def _decision(src: str, marker: str) -> tuple[Decision, list[str]]:
    ua = analyse_unit(SourceUnit("t.cpp", src, Language.CXX))
    line = next(k + 1 for k, text in enumerate(src.splitlines()) if marker in text)
    (nest,) = [n for n in ua.nests() if n.line == line]
    return nest.decision, [r.format() for r in nest.remarks]


def test_the_calling_templates_instantiations_are_the_callees() -> None:
    for marker in ("NEST1", "NEST2"):
        decision, remarks = _decision(PROGRAM, marker)
        assert decision is Decision.OFFLOADED, remarks


@pytest.mark.parametrize("change", [
    pytest.param(("accumulate<T>(r, size, n);", "accumulate<T *>((T **)0, size, 0);"), id="a pointer type"),
    pytest.param(("smooth(a, b, n);", "smooth(a + 0, b, n);"), id="an argument whose type is not a declaration's"),
])
def test_calls_that_do_not_give_arithmetic_types_keep_pcx136(change) -> None:
    old, new = change
    assert PROGRAM.count(old) == 1
    marker = "NEST2" if "smooth" in old else "NEST1"
    decision, remarks = _decision(PROGRAM.replace(old, new), marker)
    assert decision is not Decision.OFFLOADED and any("PCX136" in r for r in remarks), remarks


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_templates_called_from_templates_offload_and_give_the_serial_output(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["NEST1", "NEST2"], suffix=".cpp")


NON_TYPE_PARAMETER = r"""
#include <cstdio>
#include <cstdlib>
template <int N>
double dot(const double *a, const double *b, int reps) {
  double s = 0;
  for (int r = 0; r < reps; r++)  /* DOT */
    for (int i = 0; i < N; i++)
      s += a[i] * b[i];
  return s;
}
int main(int argc, char **argv) {
  const int n = 4096;
  double *a = (double *)malloc(sizeof(double) * n), *b = (double *)malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) { a[i] = i % 7; b[i] = 1.0 / (1 + i % 5); }
  std::printf("dot = %.6f\n", dot<n>(a, b, 3 + argc));
  return 0;
}
"""


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_a_non_type_template_parameter_is_a_constant_not_a_firstprivate(tmp_path) -> None:
    # ``firstprivate(reps, N)`` named the template's constant ``N``: clang rejected the
    # rewrite ("expected variable name") and the whole file fell back (HeCBench kalman).
    build_and_compare(tmp_path, NON_TYPE_PARAMETER, ["DOT"], suffix=".cpp")


TEMPLATE_SUM = r"""
#include <cstdio>
#include <cstdlib>
template <class T>
T dot(const T *__restrict a, const T *__restrict b, int n) {
  T sum = 0.0;
  for (int i = 0; i < n; i++)  /* SUM */
    sum += a[i] * b[i];
  return sum;
}
int main(int argc, char **argv) {
  int n = 50000 + argc;
  double *a = (double *)malloc(n * sizeof(double)), *b = (double *)malloc(n * sizeof(double));
  float *fa = (float *)malloc(n * sizeof(float)), *fb = (float *)malloc(n * sizeof(float));
  for (int i = 0; i < n; i++) { a[i] = i % 7; b[i] = 0.5 * (i % 3); fa[i] = i % 5; fb[i] = 0.25f * (i % 4); }
  std::printf("%.1f %.1f\n", dot(a, b, n), (double)dot(fa, fb, n));
  return 0;
}
"""


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_a_sum_of_the_templates_type_is_a_reduction_when_every_instantiation_is_floating(tmp_path) -> None:
    # BabelStream's ``T sum; sum += a[i] * b[i]`` was "not an arithmetic variable" (PCX112):
    # its type is T, which each call of the unit makes float or double.
    build_and_compare(tmp_path, TEMPLATE_SUM, ["SUM"], suffix=".cpp")


THROUGH_A_TEMPLATE = TEMPLATE_SUM.replace("int main(int argc, char **argv) {", """template <class T>
double run(const T *a, const T *b, int n) {
  return (double)dot(a, b, n);
}
int main(int argc, char **argv) {""").replace("dot(a, b, n), (double)dot(fa, fb, n)", "run(a, b, n), run(fa, fb, n)")


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_a_template_sum_instantiated_through_another_template_is_a_reduction(tmp_path) -> None:
    # BabelStream calls dot<T> from its stream driver template: the instantiations that
    # decide whether T is floating are the driver's (Legality.instantiations)
    assert THROUGH_A_TEMPLATE != TEMPLATE_SUM
    build_and_compare(tmp_path, THROUGH_A_TEMPLATE, ["SUM"], suffix=".cpp")


@pytest.mark.parametrize("program,call", [
    pytest.param(TEMPLATE_SUM, "(double)dot(fa, fb, n)", id="called directly"),
    pytest.param(THROUGH_A_TEMPLATE, "run(fa, fb, n)", id="through another template"),
])
def test_an_integer_instantiation_keeps_the_template_sum_serial(program, call) -> None:
    # with T = int, ``sum += a[i] * 0.5`` would round at each step: the order matters
    int_call = call.replace("(fa, fb, n)", "((const int *)fa, (const int *)fb, n)")
    src = program.replace("sum += a[i] * b[i];", "sum += a[i] * 0.5;").replace(call, int_call)
    assert src.count(int_call) == 1
    decision, remarks = _decision(src, "SUM")
    assert decision is not Decision.OFFLOADED and any("PCX112" in r for r in remarks), remarks


CLASS_TEMPLATE = r"""
#include <cstdlib>
template <class T> struct Stream {
  T *a, *b; long n;
  void copy();
};
template <class T> void Stream<T>::copy() {
  for (long i = 0; i < n; i++)                                  /* MEMBER */
    b[i] = a[i];
}
template struct Stream<double>;
"""


def test_a_class_templates_member_says_so() -> None:
    """BabelStream's ``SerialStream<T>``, explicitly instantiated as a class: its members'
    loops stay serial, and the remark says why (it said the template had no instantiation)."""
    decision, remarks = _decision(CLASS_TEMPLATE, "MEMBER")
    assert decision is not Decision.OFFLOADED
    assert any("member function of class template 'Stream'" in r and "PCX136" in r for r in remarks), remarks
