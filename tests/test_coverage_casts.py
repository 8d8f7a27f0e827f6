"""Issue 15, cause 3: a cast is not a call.  ``(DATA_TYPE) ((i*j+1) % n)`` with a macro
type, ``(real)(x)`` with a typedef, and the C++ functional cast ``Real_t(0.)`` read their
operand and nothing else (libclang says cast; tree-sitter parses a call).  A cast to a
pointer type stays what it was (refused).  Analysis rows, then a C and a C++ program built
with ``PCX_MODE=static`` and run on the host device."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

OFF, SER = Decision.OFFLOADED, Decision.SERIAL

C_HEAD = "#define DATA_TYPE double\ntypedef double real;\ntypedef double *dptr;\ndouble ext(double *);\n"
CASES = [
    ("a[i] = (DATA_TYPE) ((i * 7 + 1) % n) / n;", OFF, "PCX100"),
    ("a[i] = (real)(i) + (DATA_TYPE)(b[i]);", OFF, "PCX100"),
    ("a[i] = (int)(b[i]) * (unsigned long)(i);", OFF, "PCX100"),
    ("a[i] = ext((dptr)(b));", SER, "PCX130"),
]


@pytest.mark.parametrize("body,decision,rid", CASES, ids=[c[0] for c in CASES])
def test_c_cast(body, decision, rid) -> None:
    src = C_HEAD + ("void kernel(int n, DATA_TYPE *restrict a, real *restrict b) {\n  int i;\n"
                    f"  for (i = 0; i < n; i++) {body}\n}}\n")
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nest = [n for f in ua.functions if f.name == "kernel" for n in f.nests][0]
    assert nest.decision is decision and nest.remarks[0].id == rid, [r.format() for r in nest.remarks]


def test_cxx_functional_cast() -> None:
    src = ("typedef double Real_t;\ntypedef int Index_t;\n"
           "void kernel(int n, Real_t *__restrict__ a, const Real_t *__restrict__ b) {\n"
           "  for (Index_t i = 0; i < n; i++) a[i] = b[i] > Real_t(0.) ? Real_t(i) * b[i] : Real_t(0.5);\n}\n")
    ua = analyse_unit(SourceUnit("t.cpp", src, Language.CXX))
    nest = [n for f in ua.functions if f.name == "kernel" for n in f.nests][0]
    assert nest.decision is OFF, [r.format() for r in nest.remarks]


def test_a_cast_inside_a_called_helper_is_no_call() -> None:
    """``blend /= (FLOAT)kn;`` in a helper the loop calls (HeCBench bezier-surface's
    ``BezierBlend``): the helper's check took ``(FLOAT)`` for a call with no definition."""
    src = ("#define FLOAT float\n"
           "static FLOAT blend(int k, FLOAT mu) { FLOAT b = 1; b /= (FLOAT)(k + 1); return b * (FLOAT)k * mu; }\n"
           "void kernel(int n, FLOAT *restrict a) {\n"
           "  for (int i = 0; i < n; i++) a[i] = blend(i % 4, i / (FLOAT)(n - 1));\n}\n")
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nest = [n for f in ua.functions if f.name == "kernel" for n in f.nests][0]
    assert nest.decision is OFF, [r.format() for r in nest.remarks]


def test_a_cast_to_a_template_parameter_reads_its_operand() -> None:
    """``(T)(2 * i + 7)`` in a function template (HeCBench atomicIntrinsics): libclang's type
    is the dependent parameter, a value conversion in every instantiation, not a call; so is
    the functional ``T(i)`` (HeCBench surfel, swish, resize), a call to libclang."""
    src = ("template <class T>\nvoid f(T *__restrict out, const T *__restrict in, int n) {\n"
           "  for (int i = 0; i < n; i++) out[i] = in[i] * (T)(2 * i + 7) + (T)3 + T(i) * T(0.5);\n}\n"
           "void use(float *o, const float *v, int n) { f<float>(o, v, n); }\n")
    ua = analyse_unit(SourceUnit("t.cpp", src, Language.CXX))
    nest = [n for f in ua.functions if f.name == "f" for n in f.nests][0]
    assert nest.decision is OFF, [r.format() for r in nest.remarks]


C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define DATA_TYPE double
typedef float real;
static void kernel(int n, DATA_TYPE *restrict a, real *restrict b) {
  int i, j;
  for (i = 0; i < n; i++)                 /* NEST1 */
    for (j = 0; j < n; j++)
      a[i * n + j] = (DATA_TYPE) ((i * j + 1) % n) / n;
  for (i = 0; i < n; i++)                 /* NEST2 */
    b[i] = (real)(a[i * n + i]) + (real)(i % 3);
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 211 : 150;
  DATA_TYPE *a = malloc(sizeof(DATA_TYPE) * n * n);
  real *b = malloc(sizeof(real) * n);
  kernel(n, a, b);
  double s = 0;
  for (int i = 0; i < n * n; i++) s += a[i];
  printf("%.9f\n", s);
  for (int i = 0; i < n; i += 17) printf("%.6f\n", b[i]);
  free(a); free(b);
  return 0;
}
"""

CXX_PROGRAM = r"""
#include <cstdio>
#include <vector>
typedef double Real_t;
typedef int Index_t;
static void clamp(Index_t n, Real_t *__restrict__ e, const Real_t *__restrict__ p) {
  for (Index_t i = 0; i < n; ++i) {       // NEST1
    Real_t v = p[i] - Real_t(0.5) * Real_t(i % 7);
    e[i] = v < Real_t(0.) ? Real_t(0.) : v;
  }
}
int main(int argc, char **) {
  Index_t n = argc > 1 ? 3000 : 2000;
  std::vector<Real_t> e(n), p(n);
  for (Index_t i = 0; i < n; ++i) p[i] = Real_t(i % 11);
  clamp(n, e.data(), p.data());
  Real_t s = 0;
  for (Index_t i = 0; i < n; ++i) s += e[i];
  std::printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_casts_c_program_offloads_and_gives_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, C_PROGRAM, ["NEST1", "NEST2"])


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_casts_cxx_program_offloads_and_gives_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, CXX_PROGRAM, ["NEST1"], suffix=".cpp")
