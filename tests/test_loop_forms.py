"""Issue 15, cause 13: loop forms.  ``i = i + BLOCK`` with ``BLOCK`` a macro (or a
``const`` variable) is a canonical OpenMP increment, and a block-tiled stencil whose block
loop steps so is offloaded whole, its tile private to each block.  A repeat loop around
it that reuses the name ``i`` (``for (int i ...) for (int i ...; i = i + BLOCK)``) is
refused as a nest of its own (PCX110): the engine keys indices by name, and would read
the outer loop as varying what the inner ``i`` varies (a race).  The inner loop is then
a nest of its own, launched once per repeat: 6 launches where the inner ``j`` loops made
thousands (HeCBench's stencil1d, checked outside the repository: 18.7 s against 0.07 s
serial before, the serial time after).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

TILED = r"""
#include <stdio.h>
#include <stdlib.h>
#define RADIUS 3
#define BLOCK 128
int main(int argc, char **argv) {
  int length = argc > 1 ? 3 * BLOCK : 40 * BLOCK, repeat = 3;
  int *a = malloc(sizeof(int) * (length + 2 * RADIUS)), *b = malloc(sizeof(int) * length);
  for (int i = 0; i < length + 2 * RADIUS; i++) a[i] = (i * 7) % 23;
  for (int i = 0; i < repeat; i++) {
    for (int i = 0; i < length; i = i + BLOCK) {           /* TILES */
      int tile[BLOCK + 2 * RADIUS];
      for (int j = 0; j < BLOCK + 2 * RADIUS && i + j < length + 2 * RADIUS; j++) tile[j] = a[i + j];
      for (int j = 0; j < BLOCK && i + j < length; j++) {
        int s = 0;
        for (int o = 0; o <= 2 * RADIUS; o++) s += tile[j + o];
        b[i + j] = s;
      }
    }
  }
  long check = 0;
  for (int i = 0; i < length; i++) check += (long)b[i] * (i % 5 + 1);
  printf("%ld\n", check);
  free(a); free(b);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_tiled_stencil_stepping_by_a_macro_offloads_its_block_loop(tmp_path) -> None:
    # (its inner loops are bounded by the length too: without ``i + j < length`` a
    # length not known at compile time leaves the last tile's end unknown, and the
    # section of b would reach BLOCK - 1 elements past it; test_strided_sections.py)
    data = build_and_compare(tmp_path, TILED, ["TILES"])
    nests = {n["line"]: n for s in data["sources"] for n in s["nests"]}
    repeat_line = next(k + 1 for k, t in enumerate(TILED.splitlines()) if "i < repeat" in t)
    assert not nests[repeat_line].get("applied")
    assert any("shadows the index of an enclosing loop" in r["message"] for r in nests[repeat_line]["reasons"])


# Loop hints inside a nest (HeCBench's pnpoly, CUDA habits): `#pragma unroll` changes nothing
# the analysis reads and compiles inside a kernel, so it is no reason to refuse the nest.  A
# loop right after its own hint cannot take a directive (neither order compiles): it is
# refused with that reason, and its inner loops are analysed.
HINTS = r"""
#include <stdio.h>
#include <stdlib.h>
#define T 4
int main(int argc, char **argv) {
  int n = argc > 1 ? 333 : 4000;
  float *x = malloc(sizeof(float) * n * T), *y = malloc(sizeof(float) * n);
  for (int k = 0; k < n * T; k++) x[k] = (k % 17) * 0.5f;
  for (int i = 0; i < n; i++) {                     /* HINTED */
    float s = 0.f;
    #pragma unroll
    for (int t = 0; t < T; t++) s += x[i * T + t] * (t + 1);
    y[i] = s;
  }
  #pragma GCC unroll 2
  for (int i = 0; i < n; i++) y[i] *= 0.5f;        /* OWN_HINT */
  double sum = 0; for (int i = 0; i < n; i++) sum += y[i] * (i % 3);
  printf("%.3f\n", sum);
  free(x); free(y);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_loop_hints_inside_a_nest_do_not_stop_its_offload(tmp_path) -> None:
    data = build_and_compare(tmp_path, HINTS, ["HINTED"])
    nests = {n["line"]: n for s in data["sources"] for n in s["nests"]}
    own = next(k + 1 for k, t in enumerate(HINTS.splitlines()) if "OWN_HINT" in t)
    assert not nests[own].get("applied")
    assert any("belongs to this loop" in r["message"] for r in nests[own]["reasons"])


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_hint_written_as_the_pragma_operator_is_a_hint(tmp_path) -> None:
    """``_Pragma("clang loop ...")`` is the same hint: the loop after it is refused with
    that reason; the file's other loops still offload (the rewrite put its run-time test
    between the operator and the loop, the text did not compile, and the whole file was
    compiled as written)."""
    program = HINTS.replace("#pragma GCC unroll 2", '_Pragma("clang loop unroll(disable)")')
    assert program != HINTS
    data = build_and_compare(tmp_path, program, ["HINTED"])
    nests = {n["line"]: n for s in data["sources"] for n in s["nests"]}
    own = next(k + 1 for k, t in enumerate(program.splitlines()) if "OWN_HINT" in t)
    assert not nests[own].get("applied")
    assert any("belongs to this loop" in r["message"] for r in nests[own]["reasons"])


def test_a_step_read_through_namespace_constants_is_canonical() -> None:
    """HeCBench meanshift's constants: ``TILE = THREADS`` in a header namespace, used through
    a local ``const`` alias.  The step's value follows the chain (``Semantics.
    const_globals_named``), so the loop is canonical and its tile's bound ``std::min(TILE,
    ...)`` caps the work of the loop inside (PCX115, "at most")."""
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Language, SourceUnit

    src = ("namespace ms { namespace gpu { constexpr int THREADS = 16; constexpr int TILE = THREADS; } }\n"
           "namespace std { template <class T> const T &min(const T &a, const T &b) { return b < a ? b : a; } }\n"
           "void k(int n, float *__restrict x, float *__restrict y) {\n"
           "  const int tile = ms::gpu::TILE;\n"
           "  for (int p = 0; p < n; p++) {\n"
           "    float acc = 0.f;\n"
           "    for (int base = 0; base < n; base += tile) {\n"
           "      int count = std::min<int>(tile, n - base);\n"
           "      for (int i = 0; i < count; i++) acc += x[base + i];\n"
           "    }\n"
           "    y[p] = acc + (p > 0 ? y[p - 1] : 0.f);\n"
           "  }\n"
           "}\n")
    ua = analyse_unit(SourceUnit("t.cpp", src, Language.CXX))
    by_line = {n.line: n for n in ua.nests()}
    assert not any(r.id == "PCX110" for r in by_line[7].remarks), [r.format() for r in by_line[7].remarks]
    # (the block loop is a kernel of its own, its step 16 read through the chain; the
    # snippet's ``std::min``, with const-reference parameters it only reads, is a device
    # function as the library's is)
    msgs = [r.format() for r in by_line[7].remarks]
    assert any("reduction(+:acc); estimated work ((n - 1) / 16 + 1) * 34" in m for m in msgs), msgs


# An inner loop that stops at the end of the data (HeCBench convolution1D's tiled version:
# ``for (t = 0; t < TILE && base + t < n; t++)``): the test's first operand bounds the
# index, the others are an if around the body (the loop may stop earlier, which runs fewer
# of the same iterations), so the block loop around it is parallel and its sections come
# from the guard.  Such a loop is no OpenMP loop: never the kernel's, never collapsed.
TILE_END = r"""
#include <stdio.h>
#include <stdlib.h>
#define T 64
int main(int argc, char **argv) {
  int n = 10000 + (argc > 1) * 37, nb = (n + T - 1) / T;
  float *in = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
  for (int i = 0; i < n; i++) { in[i] = (float)(i % 23); out[i] = -1; }
  for (int b = 0; b < nb; b++)                        /* BLOCKS */
    for (int t = 0; t < T && b * T + t < n; t++)
      out[b * T + t] = in[b * T + t] * 2.0f + (float)t;
  for (int t = 0; t < n && in[t] < 100.0f; t++)       /* STOPS */
    out[t] += 1.0f;
  double s = 0;
  for (int i = 0; i < n; i++) s += out[i] * (i % 7);
  printf("%.2f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_an_inner_loop_that_stops_at_the_end_of_the_data(tmp_path) -> None:
    data = build_and_compare(tmp_path, TILE_END, ["BLOCKS"])
    stops = nest_at(data, TILE_END, "STOPS")
    assert not stops["applied"] and stops["reasons"][0]["id"] == "PCX110", stops


WRAPPING = r"""
#include <stdio.h>
#define M 65536
double a[M], b[M], c[1000];
int main(int argc, char **argv) {
  unsigned start = 65000u + (unsigned)argc - 1u;
  for (int i = 0; i < M; i++) a[i] = i % 5;
  for (unsigned short i = 65000; i != 300; i++)  /* NARROW */
    b[i] = a[i] * 2;
  for (unsigned i = start; i != 400; i++)  /* UNSIGNED_NE */
    b[i % M] += a[i % M];
  for (size_t i = 0; i != 1000; i++)  /* FROM_ZERO */
    b[i] += 1.0;
  for (unsigned long i = 3; i != (unsigned long)-1; i--)  /* DOWN_PAST_ZERO */
    b[i] += 100;
  for (unsigned i = 900; i < 1000u; i += 0xFFFFFFFFu)  /* BIG_STEP: i = 900, 899, ..., 0 */
    b[i] += 3.0;
  for (int i = 0; i < 1000; i++) {  /* NARROW_LOCAL */
    unsigned short j = i * 100;  /* wraps past 65535: no affine subscript, a read of all of a */
    c[i] = a[j];
  }
  for (int i = 0; i < 300; i++)  /* NARROW_SUBSCRIPT */
    b[(unsigned char)i] = a[i + 7];
  double s = 0;
  for (int i = 0; i < M; i++) s += b[i] * (i % 3);
  for (int i = 0; i < 1000; i++) s += c[i];
  printf("%.17g\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_indices_that_wrap_around_stay_on_the_host(tmp_path) -> None:
    # A held-out adversarial program: ``unsigned short i = 65000; i != 300; i++`` runs 836
    # iterations, wrapping at 65536; offloaded as written, OpenMP's iteration count was 0
    # and ``map(from: b)`` brought back a device copy nothing had written
    # (``unsigned short j = i * 100`` mapped a[0:99901] of 65536 elements: a segfault)
    data = build_and_compare(tmp_path, WRAPPING, ["FROM_ZERO", "NARROW_LOCAL"])
    narrow = nest_at(data, WRAPPING, "NARROW")
    assert not narrow["applied"] and any("is a 'unsigned short', whose increments wrap around" in r["message"]
                                         for r in narrow["reasons"]), narrow
    # ``b[(unsigned char)i]`` for i < 300: iterations i and i + 256 write one element
    cast = nest_at(data, WRAPPING, "NARROW_SUBSCRIPT")
    assert not cast["applied"] and any(r["id"] == "PCX103" for r in cast["reasons"]), cast
    step = nest_at(data, WRAPPING, "BIG_STEP")
    assert not step["applied"] and any("is too large not to wrap around" in r["message"]
                                       for r in step["reasons"]), step
    for marker in ("UNSIGNED_NE", "DOWN_PAST_ZERO"):  # (the second runs i = 3, 2, 1, 0)
        unsigned = nest_at(data, WRAPPING, marker)
        assert not unsigned["applied"] and any("is tested with '!=' and may start past its bound" in r["message"]
                                               for r in unsigned["reasons"]), unsigned


ROUNDED_SUMS = r"""
#include <stdio.h>
#define N 1000
double x[N];
int k[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { x[i] = (i < N / 2) ? 1.5 * argc : -0.5; k[i] = i % 7; }
  int s = 0, c = 0, m = 0;
  long t = 0;
  for (int i = 0; i < N; i++)  /* INT_PLUS_DOUBLE */
    s += x[i];
  for (int i = 0; i < N; i++)  /* LONG_MINUS_DOUBLE */
    t = t - x[i];
  for (int i = 0; i < N; i++)  /* CAST_FIRST */
    c += (int)(x[i] * 2);
  for (int i = 0; i < N; i++)  /* INTEGERS */
    m += k[i] * 2;
  printf("%d %ld %d %d\n", s, t, c, m);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_an_integer_summing_floating_values_is_no_reduction(tmp_path) -> None:
    # ``int s; s += x[i]`` with double x rounds s at every step: 0 serially, 500 as a
    # reduction over two threads (a held-out adversarial program)
    data = build_and_compare(tmp_path, ROUNDED_SUMS, ["CAST_FIRST", "INTEGERS"])
    for marker in ("INT_PLUS_DOUBLE", "LONG_MINUS_DOUBLE"):
        nest = nest_at(data, ROUNDED_SUMS, marker)
        assert not nest["applied"] and any("takes a floating value at each update" in r["message"]
                                           for r in nest["reasons"]), nest


MIN_FUNCTION_BOUND = r"""
#include <stdio.h>
#define N 20000
#define B 96
static int imin(int x, int y) { return x < y ? x : y; }
double a[N], b[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { a[i] = i % 10 + argc; b[i] = -1; }
  for (int ii = 0; ii < N; ii += B)  /* TILES */
    for (int i = ii; i < imin(ii + B, N - 3); i++) b[i] = a[i] * 2 + b[i];
  for (int ii = 0; ii < N; ii += B)  /* STRIDED_TILES */
    for (int jj = ii; jj < imin(ii + B, N); jj += 2) b[jj] += 1;
  double s = 0;
  for (int i = 0; i < N; i++) s += b[i] * (i % 7 + 1);
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_tile_bounded_by_a_minimum_function_offloads(tmp_path) -> None:
    # ``i < imin(ii + B, n)`` with the file's own ``imin``, a minimum ternary: "bound calls
    # 'imin', which may change between iterations" kept tiled loops serial (PCX111, a
    # held-out adversarial check); a minimum changes with its arguments alone
    build_and_compare(tmp_path, MIN_FUNCTION_BOUND, ["TILES", "STRIDED_TILES"])


NAN_START = r"""
#include <stdio.h>
#include <math.h>
#define N 20000
double a[N];
static double largest(double start) {
  double m = start;
  for (int i = 0; i < N; i++)  /* IF_MAX */
    if (a[i] > m) m = a[i];
  return m;
}
static double fmax_of(double start) {
  double m = start;
  for (int i = 0; i < N; i++)  /* FMAX */
    m = fmax(m, a[i]);
  return m;
}
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) a[i] = (i % 17) * 0.5 - 4 + argc;
  printf("%g %g %g %g\n", largest(NAN), largest(-1e300), fmax_of(NAN), fmax_of(-1e300));
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_nan_start_of_an_if_maximum_runs_as_written(tmp_path) -> None:
    # ``if (a[i] > m) m = a[i];`` from m = NaN never changes m serially; OpenMP's combination
    # of the partial maxima dropped the NaN (a held-out adversarial check printed 4 for
    # nan).  The kernel is versioned on a finite start, ``m - m <= 0``
    # (build_and_compare: both offloaded, and the output, "nan ..." first, the serial one)
    build_and_compare(tmp_path, NAN_START, ["IF_MAX", "FMAX"])


MASKED_ROW = r"""
#include <stdio.h>
#include <math.h>
#define N 20000
float scores[N];
static float row_max(float start) {
  float m = start;
  for (int i = 0; i < N; i++)  /* IF_MAX */
    if (scores[i] > m) m = scores[i];
  return m;
}
static float row_fmax(float start) {
  float m = start;
  for (int i = 0; i < N; i++)  /* FMAX */
    m = fmaxf(m, scores[i]);
  return m;
}
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) scores[i] = -INFINITY;   /* a fully masked attention row */
  printf("%g %g\n", row_max(-INFINITY), row_fmax(-INFINITY));
  for (int i = 0; i < N; i++) scores[i] = (i % 17) * 0.5f - 4 + argc;
  printf("%g %g\n", row_max(-INFINITY), row_fmax(-1e30f));
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_maximum_from_minus_infinity_over_minus_infinities_stays_minus_infinity(tmp_path) -> None:
    # OpenMP starts each partial maximum at the least finite value: over a row all -inf
    # from m = -inf the kernel gave -3.40282e+38 (a held-out check, llama2.c's softmax
    # shape).  Both forms are versioned on a finite start (``m - m <= 0``) and run as
    # written from -inf; from -1e30 the fmax kernel runs on the device.
    build_and_compare(tmp_path, MASKED_ROW, ["IF_MAX", "FMAX"])


CONVERGENCE = r"""
#include <math.h>
#define RESET(x) ((x) = -INFINITY)
double sweep(double *a, const double *b, int n, int steps, double start) {
  double err = 1.0, from_caller = start;
  for (int t = 0; t < steps && err > 1e-6; t++) {
    err = 0.0;
    for (int i = 0; i < n; i++)                                 /* LITERAL */
      err = fmax(err, fabs(a[i] - b[i]));
  }
  double biggest = -1.0e30;
  int k = n / 2;
  for (int i = 0; i < n; i++)                                   /* AFTER_OTHER_STATEMENTS */
    if (a[i] > biggest) biggest = a[i];
  for (int i = 0; i < n; i++)                                   /* FROM_CALLER */
    from_caller = fmax(from_caller, a[i]);
  double masked = 0.0;
  RESET(masked);
  for (int i = 0; i < n; i++)                                   /* THROUGH_A_MACRO */
    masked = fmax(masked, a[i]);
  return err + biggest + from_caller + masked + k;
}
"""


@pytest.mark.parametrize("marker, tested", [("LITERAL", False), ("AFTER_OTHER_STATEMENTS", False),
                                            ("FROM_CALLER", True), ("THROUGH_A_MACRO", True)])
def test_a_maximum_started_from_a_finite_literal_needs_no_run_time_test(marker, tested) -> None:
    """``err = 0.0;`` before a convergence sweep is finite: the kernel keeps no start test,
    and may stay in a data region (a kernel with a test maps its own data: the heat demo's
    region was lost while every floating maximum was tested)."""
    from test_coverage_liveness import analysed_nest

    (r,) = analysed_nest(CONVERGENCE, marker).reductions
    assert r.nan_start is tested, r


def test_openmp_thread_queries_in_serial_code_get_their_own_reason() -> None:
    """Serial code written for CPU threads (HeCBench's serial versions keep
    ``omp_get_team_num()``, 0 when the program runs them): in a kernel each call answers
    for a device thread, so the nest stays serial and the remark says so, not "no visible
    definition"."""
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Decision, Language, SourceUnit

    src = ("int omp_get_thread_num(void);\n"
           "void k(int n, float *__restrict a) {\n"
           "  for (int i = 0; i < n; i++)\n"
           "    a[i] = 2.0f * i + omp_get_thread_num();\n"
           "}\n")
    (nest,) = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()
    texts = [r.format() for r in nest.remarks]
    assert nest.decision is not Decision.OFFLOADED
    assert any("OpenMP runtime call 'omp_get_thread_num'" in t and "PCX105" in t for t in texts), texts


def test_a_floating_point_index_stays_serial() -> None:
    # partialsums' ``double k; for (k = 1; k <= n; k++)``: the rewrite did not compile
    # ("variable must be of integer or pointer type") and the file fell back (PCX007)
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Decision, Language, SourceUnit

    src = "double f(int n) {\n  double s = 0, k;\n  for (k = 1; k <= n; k++)\n    s += 1.0 / (k * k);\n  return s;\n}\n"
    (nest,) = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX110" and "'double'" in r.message for r in nest.remarks), nest.remarks
