"""Issue 15, cause 2: a function-like macro inside a nest is analysed through its arguments
when its expansion is an expression over them alone (engine/macros.py), as PolyBench's
SCALAR_VAL, SQRT_FUN and EXP_FUN are; any other is refused with PCX113 and the reason.
A table of kernels with the decision for each nest, then one program built with
``PCX_MODE=static pcx-cc`` and run on the host device."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

OFF, NA, SER = Decision.OFFLOADED, Decision.NOT_ANALYSED, Decision.SERIAL

DEFINES = r"""
double sqrt(double); double exp(double);
typedef int my_int32;
#define Q31 my_int32
#define SCALAR_VAL(x) x
#define SQRT_FUN(x) sqrt(x)
#define MAXI(a, b) ((a) > (b) ? (a) : (b))
#define TWICE(x) (2 * (x))
#define NESTED(x) TWICE(SCALAR_VAL(x))
#define AT(i) a[i]
#define INDIRECT(i) a[(int)b[i]]
#define BUMP(x) ((x)++)
#define DEREF(p) (*(p))
#define PASTE(x) x##0
#define STMT(x) { (void)(x); }
double g;
#define USEG(x) ((x) + g)
"""

# (loop, decision, remark id, words the remark must contain)
CASES = [
    ("for (i = 0; i < n; i++) a[i] = SCALAR_VAL(2.0) * SQRT_FUN(b[i]);", OFF, "PCX100", ""),
    ("for (i = 0; i < n; i++) a[i] = MAXI(b[i], SCALAR_VAL(0.5));", OFF, "PCX100", ""),
    ("for (i = 0; i < n; i++) a[i] = NESTED(b[i]);", OFF, "PCX100", ""),
    # offloadable to the analysis; the plan checker refuses a macro call as a section length
    ("for (i = 0; i < MAXI(n, 4); i++) a[i] = 1.0;", OFF, "PCX100", ""),
    ("for (i = 0; i < n; i++) for (j = 0; j < n; j++) a[i * n + j] = SCALAR_VAL(b[j * n + i]);", OFF, "PCX100", ""),
    # an access macro naming its array (engine/macros.access_macro): the element a[i]
    ("for (i = 0; i < n; i++) b[i] = AT(i);", OFF, "PCX100", ""),
    ("for (i = 0; i < n; i++) b[i] = INDIRECT(i);", NA, "PCX113", "subscripts memory"),
    # a cast to a macro naming a typedef (NNoM's ``#define q31_t int32_t``), not a call
    ("for (i = 0; i < n; i++) b[i] = (Q31)(a[i]) * 2;", OFF, "PCX100", ""),
    ("for (i = 0; i < n; i++) b[i] = BUMP(a[i]);", NA, "PCX113", "assigns or increments"),
    ("for (i = 0; i < n; i++) b[i] = DEREF(a + i);", NA, "PCX113", "dereferences"),
    ("for (i = 0; i < n; i++) b[i] = PASTE(1);", NA, "PCX113", "pastes"),
    ("for (i = 0; i < n; i++) STMT(a[i]);", NA, "PCX113", "statements"),
    ("for (i = 0; i < n; i++) b[i] = USEG(a[i]);", NA, "PCX113", "refers to 'g'"),
    ("for (i = 0; i < n; i++) b[i] = SCALAR_VAL(a[i]++);", NA, "PCX113", "side effects"),
    ("for (i = 0; i < n; i++) b[i] = MAXI(a, b) == 0;", NA, "PCX113", "array 'a'"),
]


@pytest.mark.parametrize("loop,decision,rid,words", CASES, ids=[c[0][24:70] for c in CASES])
def test_macro_in_nest(loop, decision, rid, words) -> None:
    src = DEFINES + "void kernel(int n, double *restrict a, double *restrict b) {\n  int i, j;\n  " + loop + "\n}\n"
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nest = [n for f in ua.functions if f.name == "kernel" for n in f.nests][0]
    msgs = [r.format() for r in nest.remarks]
    assert nest.decision is decision and nest.remarks[0].id == rid, msgs
    assert words in nest.remarks[0].message, msgs


def test_loop_from_a_macro_is_still_left_alone() -> None:
    src = ("#define FOR_N(i, n) for (i = 0; i < (n); i++)\n"
           "void kernel(int n, double *restrict a) {\n  int i;\n  FOR_N(i, n) a[i] = 1.0;\n}\n")
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nests = [n for f in ua.functions if f.name == "kernel" for n in f.nests]
    assert nests and all(n.decision is not OFF for n in nests)
    assert nests[0].remarks[0].id == "PCX113", [r.format() for r in nests[0].remarks]


PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define DATA_TYPE double
#define SCALAR_VAL(x) x
#define SQRT_FUN(x) sqrt(x)
#define EXP_FUN(x) exp(x)
#define MAXI(a, b) ((a) > (b) ? (a) : (b))
static void kernel(int n, DATA_TYPE *restrict a, DATA_TYPE *restrict b, DATA_TYPE *restrict c) {
  int i, j;
  for (i = 0; i < n; i++)                     /* NEST1 */
    for (j = 0; j < n; j++)
      a[i * n + j] = SCALAR_VAL(1.0) / (SCALAR_VAL(1.0) + i + j);
  for (i = 0; i < n; i++) {                   /* NEST2 */
    b[i] = SCALAR_VAL(0.0);
    for (j = 0; j < n; j++)
      b[i] += SQRT_FUN(a[i * n + j]) * EXP_FUN(-a[j * n + i]);
  }
  for (i = 0; i < n; i++)                     /* NEST3 */
    c[i] = MAXI(b[i], SCALAR_VAL(0.25));
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 250 : 160;
  DATA_TYPE *a = malloc(sizeof(DATA_TYPE) * n * n), *b = malloc(sizeof(DATA_TYPE) * n), *c = malloc(sizeof(DATA_TYPE) * n);
  kernel(n, a, b, c);
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i] + c[i];
  printf("%.9f\n", s);
  for (int i = 0; i < n; i += 29) printf("%.9f %.9f\n", b[i], c[i]);
  free(a); free(b); free(c);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_macros_program_offloads_and_gives_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["NEST1", "NEST2", "NEST3"])


def test_float_scalar_val_pastes_a_suffix_onto_literals_only() -> None:
    """PolyBench's SCALAR_VAL for float data is x##f: fine on a number literal (the
    expansion is a literal), refused on anything else (it would name another variable)."""
    head = "#define SCALAR_VAL(x) x##f\nvoid kernel(int n, float *restrict a, float *restrict b) {\n  int i;\n  "
    ok = analyse_unit(SourceUnit("t.c", head + "for (i = 0; i < n; i++) a[i] = SCALAR_VAL(0.5) * b[i];\n}\n",
                                 Language.C))
    nest = [n for f in ok.functions for n in f.nests][0]
    assert nest.decision is OFF, [r.format() for r in nest.remarks]
    bad = analyse_unit(SourceUnit("t.c", "float nf;\n" + head + "for (i = 0; i < n; i++) a[i] = SCALAR_VAL(n);\n}\n",
                                  Language.C))
    nest = [n for f in bad.functions for n in f.nests][0]
    assert nest.decision is NA and "not a number literal" in nest.remarks[0].message, [r.format() for r in nest.remarks]


# A flattened grid addressed through a function-like macro, as HeCBench's jacobi does
# (``#define IDX(i, j) ((i) + (j) * N)``), in buffers from aligned_alloc: the subscripts
# are the expansion's polynomials, and one data region holds both grids across the
# convergence loop (the kernels' sections differ by multiples of NX, a macro of known value).
GRID = r"""
#include <stdio.h>
#include <stdlib.h>
#define NX 96
#define AT(i, j) ((i) + (j) * NX)
int main(int argc, char **argv) {
  int steps = argc > 1 ? 40 : 25;
  float *u = aligned_alloc(64, NX * NX * sizeof(float));
  float *v = aligned_alloc(64, NX * NX * sizeof(float));
  for (int j = 0; j < NX; j++)                /* INIT */
    for (int i = 0; i < NX; i++)
      u[AT(i, j)] = v[AT(i, j)] = (i == 0 || j == NX - 1) ? 1.0f : 0.0f;
  float change = 1.0f;
  int it = 0;
  while (change > 1e-4f && it < steps) {
    change = 0.0f;
    for (int i = 1; i < NX - 1; i++)          /* SWEEP */
      for (int j = 1; j < NX - 1; j++) {
        float t = 0.25f * (u[AT(i - 1, j)] + u[AT(i + 1, j)] + u[AT(i, j - 1)] + u[AT(i, j + 1)]);
        change += (t - u[AT(i, j)]) * (t - u[AT(i, j)]);
        v[AT(i, j)] = t;
      }
    for (int j = 1; j < NX - 1; j++)          /* COPY */
      for (int i = 1; i < NX - 1; i++)
        u[AT(i, j)] = v[AT(i, j)];
    it++;
  }
  double s = 0;
  for (int k = 0; k < NX * NX; k++) s += u[k] * (k % 7 + 1);
  printf("%d %.4f %.3e\n", it, s, change);
  free(u); free(v);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_subscripts_through_an_index_macro_offload_in_one_region(tmp_path) -> None:
    report = build_and_compare(tmp_path, GRID, ["INIT", "SWEEP", "COPY"])
    enter = [d["text"] for s in report["sources"] for d in s["directives"] if "target enter data" in d["text"]]
    assert len(enter) == 1 and "u[0:" in enter[0] and "v[0:" in enter[0], enter


def test_an_unparenthesised_macro_parameter_is_not_read_as_its_argument() -> None:
    """``SQ(i + 1)`` of ``#define SQ(x) x * x`` is ``i + 1 * i + 1``: the argument binds to
    the neighbouring operators, so the subscript is not the argument's square (nor read
    as anything else): the write stays serial."""
    src = ("#define SQ(x) x * x\n#define TWICE(x) (x) * 2\n"
           "void kernel(int n, double *restrict a) {\n  for (int i = 0; i < n; i++) a[SQ(i + 1)] = 1.0;\n"
           "  for (int i = 0; i < n; i++) a[TWICE(i + 1)] = 2.0;\n}\n")
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    textual, parenthesised = [n for f in ua.functions for n in f.nests]
    assert textual.decision is not OFF and textual.remarks[0].id == "PCX103", [r.format() for r in textual.remarks]
    assert parenthesised.decision is OFF, [r.format() for r in parenthesised.remarks]


# Object-like macros read as values (``_PB_N``, ``EPS``): the analysis takes each use as an
# opaque value, which is right only where the expansion is one.  A call hidden in one
# (``#define NEXT_ID next_id()``: a counter the host never sees advance on the device), an
# I/O call, or a name the nest itself writes keeps the nest serial (PCX113, with the
# reason); constants, libm and loop-invariant names still offload.  Found by a held-out
# Rodinia check (lud's GET_RAND_FP, a rand() behind a macro).
OBJECT_MACROS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
static int next_id(void) { static int counter = 0; return counter++; }
#define NEXT_ID next_id()
#define GET_RAND_FP ((float)rand() / ((float)RAND_MAX + 1.0f))
#define EPS 1.0e-3
#define ROOT2 sqrt(2.0)
#define LEN (n + 0)
#define SHIFTED (k + 1)
int main(int argc, char **argv) {
  int n = 50000 + (argc > 1), k = 0;
  int *id = malloc(sizeof(int) * n);
  float *r = malloc(sizeof(float) * n);
  double *v = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n);
  srand(7);
  for (int i = 0; i < n; i++)  /* CALL */
    id[i] = NEXT_ID;
  for (int i = 0; i < n; i++)  /* RANDOM */
    r[i] = GET_RAND_FP;
  for (int i = 0; i < n; i++)  /* CONSTANTS */
    v[i] = (i % 17) * EPS * ROOT2 + LEN;
  for (int i = 0; i < n; i++) {  /* WRITTEN */
    k = i % 5;
    w[i] = v[i] * SHIFTED;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += id[i] + r[i] + v[i] + w[i];
  printf("%.9e %d %d\n", s, next_id(), k);
  return 0;
}
"""


def _nest(ua, program: str, marker: str):
    line = next(k + 1 for k, t in enumerate(program.splitlines()) if marker in t)
    return next(n for n in ua.nests() if n.line == line)


def test_an_object_like_macro_that_calls_or_reads_what_the_nest_writes_keeps_it_serial() -> None:
    ua = analyse_unit(SourceUnit("t.c", OBJECT_MACROS, Language.C))
    for marker, why in (("CALL", "macro 'NEXT_ID' calls 'next_id'"), ("RANDOM", "macro 'GET_RAND_FP' calls 'rand'"),
                        ("WRITTEN", "macro 'SHIFTED' reads 'k', which the nest writes")):
        nest = _nest(ua, OBJECT_MACROS, marker)
        assert nest.decision is not OFF and any(r.id == "PCX113" and why in r.message for r in nest.remarks), \
            (marker, nest.remarks)
    assert _nest(ua, OBJECT_MACROS, "CONSTANTS").decision is OFF


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_object_like_macros_program_gives_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, OBJECT_MACROS, ["CONSTANTS"])


MATH_ALIAS = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define SQRT sqrtf
#define FP float
int main(int argc, char **argv) {
  int n = 100000 + argc;
  FP *a = (FP *)malloc(n * sizeof(FP)), *b = (FP *)malloc(n * sizeof(FP));
  for (int i = 0; i < n; i++) a[i] = (i % 17) * 0.5f;
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < n; i++)  /* ALIAS */
      b[i] = SQRT(a[i]) + (FP)r;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i];
  printf("%.2f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_an_object_like_macro_naming_a_math_function_is_that_function(tmp_path) -> None:
    # HeCBench's ``#define SQRT sqrtf`` (hellinger, 100% of its time in a loop calling
    # SQRT(x)) read as "refers to 'sqrtf', which is not one of its arguments" (PCX113)
    build_and_compare(tmp_path, MATH_ALIAS, ["ALIAS"])


FREE_NAMES = r"""
#include <stdio.h>
#include <stdlib.h>
#define IDX(i, j) ((i) * cols + (j))
int main(int argc, char **argv) {
  const int rows = 300 + argc, cols = 200;
  double *a = malloc(sizeof(double) * rows * cols), *b = malloc(sizeof(double) * rows * cols);
  for (int i = 0; i < rows; i++)  /* FILL */
    for (int j = 0; j < cols; j++)
      b[IDX(i, j)] = i * 0.5 + j;
  for (int i = 1; i < rows - 1; i++)  /* STENCIL */
    for (int j = 1; j < cols - 1; j++)
      a[IDX(i, j)] = b[IDX(i - 1, j)] + b[IDX(i + 1, j)] + b[IDX(i, j - 1)] + b[IDX(i, j + 1)];
  double s = 0;
  for (int i = 1; i < rows - 1; i++) s += a[IDX(i, 7)];
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_an_index_macro_reading_a_const_local_offloads(tmp_path) -> None:
    # HeCBench burger's ``#define idx(i,j) (i)*y_points+(j)`` with ``const int y_points``,
    # convolution3D's OI(n,c,h,w) over const parameters: PCX113 "refers to 'cols'" before
    build_and_compare(tmp_path, FREE_NAMES, ["FILL", "STENCIL"])


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_an_index_macro_reading_a_variable_the_nest_never_assigns_offloads(tmp_path) -> None:
    # one value in every iteration, as a const one (HeCBench convolution3D's II(n,c,h,w)
    # over parameters that are not const in other programs)
    src = FREE_NAMES.replace("const int rows = 300 + argc, cols = 200;", "int rows = 300 + argc, cols = 200;")
    build_and_compare(tmp_path, src, ["FILL", "STENCIL"])


def test_an_index_macro_reading_a_variable_the_nest_assigns_stays_refused() -> None:
    # the read inside the expansion is one the nest's walk does not see: assigned after it in
    # an iteration, the value would be carried between iterations unseen
    src = FREE_NAMES.replace("const int rows = 300 + argc, cols = 200;", "int rows = 300 + argc, cols = 200;")
    src = src.replace("      a[IDX(i, j)] = b[IDX(i - 1, j)]", "      cols = 200, a[IDX(i, j)] = b[IDX(i - 1, j)]")
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    line = next(k + 1 for k, t in enumerate(src.splitlines()) if "STENCIL" in t)
    (nest,) = [n for n in ua.nests() if n.line == line]
    assert nest.decision is not OFF
    assert any("reads 'cols', which the loop nest assigns" in r.message and r.id == "PCX113"
               for r in nest.remarks), nest.remarks


STORAGE_MACRO = r"""#include <stdint.h>
#include <stdio.h>
#define local static
#define N 100000
static uint64_t out[N], in[N];
local uint64_t twice(uint64_t w) { return w * 2u + 1u; }
int main(void) {
  for (int i = 0; i < N; i++) in[i] = (uint64_t)i * 2654435761u;
  for (int i = 0; i < N; i++) out[i] = twice(in[i]);                /* CALLS */
  unsigned long long h = 0;
  for (int i = 0; i < N; i++) h = h * 31u + out[i];
  printf("%llu\n", h);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_helper_whose_storage_class_is_a_macro_is_walked(tmp_path) -> None:
    """zlib writes ``local uint64_t f(...)`` with ``#define local static``: tree-sitter,
    which expands no macro, reads ``local`` as the type and leaves ``uint64_t`` as an
    error, and the helper was refused as "could not be parsed" (PCX105, a held-out check
    on crc32.c).  A macro that stands for a storage class is no error there."""
    build_and_compare(tmp_path, STORAGE_MACRO, ["CALLS"])
