"""Access macros: a function-like macro that expands to one element of an array it is
given (issue 15, cause 2).

NPB MG writes every grid access as ``#define I3D(array,n1,n2,i3,i2,i1)
(array[(i3)*n2*n1 + (i2)*n1 + (i1)])``; each use was refused ("macro 'I3D' subscripts
memory", PCX113), 82 times.  A use is now the element of the array argument that the
macro's subscript names (``engine/macros.access_macro``): the subscript is read as a
subscript macro's expansion is, with each parameter standing for its argument, so the
dependence test, the sections and the maps see ``u[(i3)*n2*n1 + (i2)*n1 + (i1)]``.  The
rewrite edits nothing inside the expansion.  A use whose other arguments call or assign,
or whose array argument is no array variable, is refused with its reason; a sweep that
carries a value along ``i3`` keeps ``i3`` serial.  Built serially and with
``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define I3D(array,n1,n2,i3,i2,i1) (array[(i3)*n2*n1 + (i2)*n1 + (i1)])
static int pick(int i) { return i; }
static void resid(double *u, double *v, double *r, int n1, int n2, int n3, double a) {
  int i3, i2, i1;
  for (i3 = 1; i3 < n3 - 1; i3++)  /* STENCIL */
    for (i2 = 1; i2 < n2 - 1; i2++)
      for (i1 = 1; i1 < n1 - 1; i1++)
        I3D(r, n1, n2, i3, i2, i1) = I3D(v, n1, n2, i3, i2, i1) - a * I3D(u, n1, n2, i3, i2, i1)
          - (I3D(u, n1, n2, i3, i2 - 1, i1) + I3D(u, n1, n2, i3, i2 + 1, i1)
             + I3D(u, n1, n2, i3 - 1, i2, i1) + I3D(u, n1, n2, i3 + 1, i2, i1)
             + I3D(u, n1, n2, i3, i2, i1 - 1) + I3D(u, n1, n2, i3, i2, i1 + 1));
}
static void sweep(double *u, int n1, int n2, int n3) {
  for (int i3 = 1; i3 < n3; i3++)  /* SWEEP */
    for (int i2 = 0; i2 < n2; i2++)
      for (int i1 = 0; i1 < n1; i1++)
        I3D(u, n1, n2, i3, i2, i1) += 0.5 * I3D(u, n1, n2, i3 - 1, i2, i1);
}
static void called(double *u, int n1, int n2, int n3) {
  for (int i3 = 0; i3 < n3; i3++)  /* CALL_ARG */
    for (int i2 = 0; i2 < n2; i2++)
      for (int i1 = 0; i1 < n1; i1++)
        I3D(u, n1, n2, i3, i2, pick(i1)) *= 0.5;
}
int main(int argc, char **argv) {
  int n = 40 + argc;
  double *u = malloc(sizeof(double) * n * n * n), *v = malloc(sizeof(double) * n * n * n);
  double *r = malloc(sizeof(double) * n * n * n);
  for (int i = 0; i < n * n * n; i++) { u[i] = (i % 7) * 0.1; v[i] = (i % 5) * 0.2; r[i] = 0; }
  for (int it = 0; it < 3; it++) {
    resid(u, v, r, n, n, n, 0.5);
    sweep(r, n, n, n);
    called(r, n, n, n);
    for (int i = 0; i < n * n * n; i++) u[i] = 0.5 * u[i] + 0.1 * r[i];
  }
  double s = 0;
  for (int i = 0; i < n * n * n; i++) s += r[i] * (i % 3) * 1e-3;
  printf("%.6e %.9f %.9f\n", s, r[n * n + n + 1], u[n * n * n / 2]);
  return 0;
}
"""


def test_access_macro_loops_offload_with_the_serial_output(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["STENCIL"])
    called = " ".join(r["message"] for r in nest_at(data, PROGRAM, "CALL_ARG")["reasons"])
    assert "an argument of macro 'I3D' has side effects or calls" in called, called
    # i3 carries u from plane i3 - 1: the dependence test read the macro's subscript
    sweep = " ".join(r["message"] for r in nest_at(data, PROGRAM, "SWEEP")["reasons"])
    assert "loop-carried dependence on 'u'" in sweep, sweep


NAMED_IN_THE_LIST = r"""
#include <stdio.h>
#include <stdlib.h>
#define IN(i,j) in[(i)+(j)*n]
#define OUT(i,j) out[(i)+(j)*n]
#define A(i,j) a[(i)*n+(j)]
static void stencil(int n, const double *in, double *out) {
  for (int j = 1; j < n - 1; j++)  /* NAMED_STENCIL */
    for (int i = 1; i < n - 1; i++)
      OUT(i,j) += 0.25 * (IN(i-1,j) + IN(i+1,j) + IN(i,j-1) + IN(i,j+1));
}
static void shift(int n, double *in) {
  for (int i = 1; i < n * n; i++)  /* NAMED_CARRIED */
    IN(i,0) += 0.5 * IN(i-1,0);
}
int main(int argc, char **argv) {
  int n = 300 + argc;
  double *in = malloc(sizeof(double) * n * n), *out = calloc(n * n, sizeof(double));
  double *a = malloc(sizeof(double) * n * n);
  double s = 0;
  for (int j = 0; j < n; j++)  /* NAMED_FILL */
    for (int i = 0; i < n; i++)
      IN(i,j) = (double)(i + j) + argc;
  for (int it = 0; it < 3; it++) stencil(n, in, out);
  shift(n, in);
  for (int i = 0; i < n; i++)  /* BEFORE_READ */
    for (int j = 0; j < n; j++)
      A(i,j) = i + j * 0.5 + argc;
  s += A(2,2);
  for (int i = 0; i < n; i++)  /* AFTER_READ */
    for (int j = 0; j < n; j++)
      A(i,j) = A(i,j) * 2 + 1;
  s += A(2,2);
  for (int k = 0; k < n * n; k++) s += out[k] + in[k] * 1e-3 + a[k] * (k % 7 + 1);
  printf("%.3f\n", s);
  free(in); free(out); free(a);
  return 0;
}
"""


def test_an_access_macro_that_names_its_array_offloads_with_the_serial_output(tmp_path) -> None:
    # ParRes Kernels' ``#define IN(i,j) in[i+(j)*n]``: the array and ``n`` are the names
    # where the macro is used.  Host code between kernels that reads through the macro
    # (``s += A(2,2)``) reads the array: the region brings it home first.
    data = build_and_compare(tmp_path, NAMED_IN_THE_LIST, ["NAMED_STENCIL", "NAMED_FILL", "BEFORE_READ",
                                                           "AFTER_READ"])
    carried = " ".join(r["message"] for r in nest_at(data, NAMED_IN_THE_LIST, "NAMED_CARRIED")["reasons"])
    assert "loop-carried dependence on 'in'" in carried, carried


READ_AFTER_THROUGH_THE_MACRO = r"""
#include <stdio.h>
#include <stdlib.h>
#define OUT(i,j) out[(i)+(j)*n]
#define C_arr(i,j) C[(i)*n+(j)]
int main(int argc, char **argv) {
  int n = 300 + argc;
  double *out = malloc(sizeof(double) * n * n), *C = calloc(n * n, sizeof(double));
  for (int j = 0; j < n; j++)  /* WRITES_OUT */
    for (int i = 0; i < n; i++)
      OUT(i,j) = 0.5 * i + j;
  if (OUT(10,0) == 5.0) printf("ok\n"); else printf("bad\n");
  for (int i = 0; i < 3; i++) printf("%.1f\n", OUT(i,i));
  for (int i = 0; i < n; i++)  /* PREFIX_NAME */
    for (int j = 0; j < n; j++)
      C_arr(i,j) += 2 * OUT(j,i);
  printf("%.2f\n", C_arr(3,4));
  free(out); free(C);
  return 0;
}
"""


def test_host_code_reading_through_the_macro_after_a_kernel_sees_its_results(tmp_path) -> None:
    # A held-out check: with the kernel's array used later only through the macro, the array
    # looked dead after the kernel and was mapped ``alloc`` (garbage printed); an array named
    # by a prefix of the macro's name (``C`` of ``C_arr``) was taken for the use's own token.
    build_and_compare(tmp_path, READ_AFTER_THROUGH_THE_MACRO, ["WRITES_OUT", "PREFIX_NAME"])


REDEFINED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 5000 + argc;
  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) { a[i] = i % 9; b[i] = i % 4; }
#define X(i) a[i]
  for (int i = 0; i < n; i++)  /* FIRST_X */
    X(i) = X(i) + 1;
#undef X
#define X(i) b[i]
  for (int i = 0; i < n; i++)  /* SECOND_X */
    X(i) = X(i) * a[i];
#undef X
#define X(i) a[n-1-(i)]
  for (int i = 0; i < n / 2; i++) {  /* THIRD_X */
    double t = X(i); X(i) = a[i]; a[i] = t;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * (i % 5) + b[i];
  printf("%.6f\n", s);
  free(a); free(b);
  return 0;
}
"""


def test_a_macro_defined_more_than_once_is_not_read_through(tmp_path) -> None:
    # A held-out check: the analysis read every use of X with one of its three lists (a
    # kernel mapped a[0:n/2] and wrote a[n-1-i]: heap corruption).  Which list a use
    # expands is not known to it, so no use is read through.
    data = build_and_compare(tmp_path, REDEFINED, [])
    for marker in ("FIRST_X", "SECOND_X", "THIRD_X"):
        why = " ".join(r["message"] for r in nest_at(data, REDEFINED, marker)["reasons"])
        assert "defined more than once or #undef'd" in why, (marker, why)


FREE_NAME_ASSIGNED = r"""
#include <stdio.h>
#define IN(i, j) in[(i) + (j) * n]
int main(int argc, char **argv) {
  static double in[100000], x[1000];
  int n = 3 + (argc > 5);
  for (int k = 0; k < 100000; k++) in[k] = k % 113;
  for (int i = 0; i < 1000; i++) {  /* ASSIGNS_N */
    x[i] = IN(i, 2);
    n = i % 50;
  }
  double s = 0;
  for (int i = 0; i < 1000; i++) s += x[i] * (i % 7);
  printf("%.3f\n", s);
  return 0;
}
"""


def test_a_name_the_macro_reads_and_the_nest_assigns_keeps_the_nest_serial(tmp_path) -> None:
    # A held-out check of our own: the read of 'n' inside the expansion is one the walk does
    # not see, so 'n' looked written only (private), and each iteration read another
    # iteration's value on the host but an undefined one in the kernel (a wrong sum).
    data = build_and_compare(tmp_path, FREE_NAME_ASSIGNED, [])
    why = " ".join(r["message"] for r in nest_at(data, FREE_NAME_ASSIGNED, "ASSIGNS_N")["reasons"])
    assert "reads 'n', which the loop nest assigns" in why, why
