"""Issue 15, cause 5(c): pointers that may alias are compared at run time.

A nest that writes through one pointer and reads through another that may point into the
same array (neither is restrict, the translation unit cannot prove them distinct) is
offloaded with a run-time alias check, as LLVM's loop versioning and Polly's run-time
checks do: the device version runs when the address ranges of the two sections are
disjoint, the loop as written otherwise (remark PCX128).  The aliasing trap
``smooth(a + 1, a, n)`` beside a disjoint call must give the serial answer in both calls,
and the disjoint call must really launch its kernel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV, run_with_args  # noqa: E402
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine import dataplan
from pcx_driver.profile import copies
from pcx_driver.model import MapClause, MapKind, Section

CLANG = shutil.which("clang-19")

# Both calls of each helper: one with distinct arrays, one with overlapping ones.  The
# second argument decides the overlap, so the serial and offloaded programs are compared
# on both paths of every check.
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define M 120

static void smooth(double *dst, const double *src, int n) {
  for (int i = 0; i < n - 1; i++)            /* NEST1 */
    dst[i] = 0.5 * (src[i] + src[i + 1]);
}

/* PolyBench's shape: array parameters without restrict, filled by the caller */
static void mv(int n, double A[M][M], double x[M], double y[M]) {
  int i, j;
  for (i = 0; i < n; i++) {                  /* NEST2 */
    y[i] = 0.0;
    for (j = 0; j < n; j++)
      y[i] += A[i][j] * x[j];
  }
}

/* a time loop: the kernel maps its own data each step (no region may hold it) */
static void relax(int steps, int n, double *u, double *v) {
  for (int t = 0; t < steps; t++) {
    for (int i = 1; i < n - 1; i++)          /* NEST3 */
      v[i] = (u[i - 1] + u[i] + u[i + 1]) / 3.0;
    for (int i = 1; i < n - 1; i++)          /* NEST4 */
      u[i] = v[i];
  }
}

int main(int argc, char **argv) {
  int n = 6000, shift = argc > 1 ? 1 : n;
  double *a = malloc(sizeof(double) * 2 * n), *b = malloc(sizeof(double) * n);
  for (int i = 0; i < 2 * n; i++) a[i] = (i * 7 % 13) * 0.25;
  for (int i = 0; i < n; i++) b[i] = 0;
  smooth(b, a, n);                           /* distinct */
  smooth(a + shift, a, n);                   /* overlapping with an argument, else distinct */
  double s = 0;
  for (int i = 0; i < 2 * n; i++) s += a[i] * (i % 5);
  for (int i = 0; i < n; i++) s += b[i];
  double (*A)[M] = malloc(sizeof(double) * M * M);
  double *x = malloc(sizeof(double) * 2 * M);
  for (int i = 0; i < M; i++) for (int j = 0; j < M; j++) A[i][j] = (i + 2 * j) % 7;
  for (int i = 0; i < 2 * M; i++) x[i] = i % 3;
  mv(M, A, x, x + M);                        /* distinct */
  mv(M, A, x, argc > 1 ? x + M / 2 : x + M); /* y overlaps x with an argument */
  for (int i = 0; i < 2 * M; i++) s += x[i] * (i % 3 + 1);
  relax(20, n, b, argc > 1 ? b : a);         /* v is u with an argument */
  for (int i = 0; i < n; i++) s += b[i] * (i % 7);
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_versioned_nests_give_the_serial_output_on_both_paths(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["NEST1", "NEST2", "NEST3"])
    versioned = {n["line"] for s in data["sources"] for n in s["nests"]
                 if n["applied"] and any(r["id"] == "PCX128" for r in n["reasons"])}
    lines = PROGRAM.splitlines()
    assert versioned >= {k + 1 for k, text in enumerate(lines) if "NEST1" in text or "NEST2" in text
                         or "NEST3" in text}, versioned


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_the_device_version_runs_only_where_the_pointers_are_disjoint(tmp_path: Path) -> None:
    # Without an argument every call passes distinct arrays: every versioned kernel
    # launches.  With one, the overlapping calls run their loops as written: fewer launches.
    build_and_compare(tmp_path, PROGRAM, ["NEST1"])
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="16"))

    def launches(args: list[str]) -> int:
        p = subprocess.run([str(tmp_path / "offload"), *args], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        return p.stderr.count("Launching kernel")

    distinct, overlapping = launches([]), launches(["x"])
    # smooth x2, mv x2 and relax's two kernels x20 run on the device when distinct; with the
    # argument the second smooth, the second mv and all of relax run on the host
    assert distinct - overlapping >= 2 + 40, (distinct, overlapping)
    assert run_with_args(tmp_path / "offload", ["x"]) == run_with_args(tmp_path / "serial", ["x"])


def test_alias_test_compares_the_address_ranges_of_the_sections() -> None:
    maps = [MapClause(MapKind.TO, [Section("src", [("0", "n")])]),
            MapClause(MapKind.FROM, [Section("dst", [("1", "n - 2")])])]
    test = dataplan.alias_test([("dst", "src")], maps)
    assert "&dst[1]" in test and "&src[0]" in test and "(n - 2) <= 0" in test
    assert dataplan.alias_test([("dst", "w")], maps) == ""  # w has no section: no test


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("first,second,expected", [
    ((0, 10), (10, 5), 1),   # adjacent: disjoint
    ((0, 10), (9, 5), 0),    # one element shared
    ((4, 2), (0, 10), 0),    # inside
    ((3, 0), (0, 10), 1),    # empty: overlaps nothing
])
def test_alias_test_in_c(tmp_path: Path, first, second, expected) -> None:
    # The condition the rewriter emits, evaluated by the C compiler on real addresses,
    # including a 2-D section whose rows are contiguous.
    maps = [MapClause(MapKind.TO, [Section("p", [("lo1", "n1")])]),
            MapClause(MapKind.TOFROM, [Section("q", [("lo2", "n2")])]),
            MapClause(MapKind.TO, [Section("R", [("r0", "1"), ("0", "5")])])]
    test = dataplan.alias_test([("p", "q"), ("q", "R")], maps)
    src = tmp_path / "t.c"
    src.write_text("#include <stdio.h>\n"
                   "int main(void) { static double buf[64]; double *p = buf, *q = buf;\n"
                   f"  int lo1 = {first[0]}, n1 = {first[1]}, lo2 = {second[0]}, n2 = {second[1]};\n"
                   "  double (*R)[5] = (double (*)[5])(buf + 40); int r0 = 1;\n"
                   f"  printf(\"%d\\n\", ({test}) ? 1 : 0); return 0; }}\n")
    subprocess.run([CLANG, "-O1", str(src), "-o", str(tmp_path / "t")], check=True, capture_output=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, check=True).stdout
    assert int(out) == expected


# A time loop whose kernels share two pointers that may alias: one data region for the
# whole loop, versioned once at run time (its sections compared before it starts).
STENCIL = r"""
#include <stdio.h>
#include <stdlib.h>
static void jacobi(int steps, int n, double *A, double *B) {
  for (int t = 0; t < steps; t++) {
    for (int i = 1; i < n - 1; i++)          /* NEST1 */
      B[i] = (A[i - 1] + A[i] + A[i + 1]) / 3.0;
    for (int i = 1; i < n - 1; i++)          /* NEST2 */
      A[i] = (B[i - 1] + B[i] + B[i + 1]) / 3.0;
  }
}
int main(int argc, char **argv) {
  int n = 20000;
  double *a = malloc(sizeof(double) * (n + 1)), *b = malloc(sizeof(double) * n);
  for (int i = 0; i <= n; i++) a[i] = (i * 37 % 101) * 0.5;
  for (int i = 0; i < n; i++) b[i] = 0;
  jacobi(50, n, a, b);                       /* distinct */
  jacobi(50, n, a, argc > 1 ? a + 1 : b);    /* B inside A with an argument */
  double s = 0;
  for (int i = 0; i <= n; i++) s += a[i] * (i % 7 + 1);
  for (int i = 0; i < n; i++) s += b[i];
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_time_loop_is_versioned_once_and_keeps_its_data_on_the_device(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, STENCIL, ["NEST1", "NEST2"])
    (region,) = [r for s in data["sources"] for r in s.get("remarks", []) if r["id"] == "PCX200"] or [None]
    assert region is not None and "versioned at run time" in region["message"], data
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="48"))

    def run(args: list[str]) -> tuple[int, int]:
        p = subprocess.run([str(tmp_path / "offload"), *args], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        jacobi = [ln for ln in p.stderr.splitlines() if "Launching kernel" in ln and "_jacobi_l" in ln]
        return len(jacobi), sum(c.size for c in copies(p.stderr) if c.to_device)

    n = 20000
    launches, to_device = run([])
    assert launches == 2 * 2 * 50  # both calls, every step, on the device
    # A and B in once per call, not once per step (and main's own kernels' arrays once)
    assert to_device <= 4 * 2 * (n + 1) * 8, to_device
    assert run(["x"])[0] == 2 * 50  # overlapping: the second call runs as written


# A versioned region whose host code uses its data between the kernels: boundary values
# the host sets each step (ludcmp's and fdtd's shape).  The plan's updates keep both copies
# right, and the region's test makes each name its own array on the device path.
BOUNDARY = r"""
#include <stdio.h>
#include <stdlib.h>

static void relax(int steps, int n, double *u, double *v) {
  for (int t = 0; t < steps; t++) {
    for (int i = 1; i < n - 1; i++)          /* NEST1 */
      v[i] = (u[i - 1] + u[i] + u[i + 1]) / 3.0;
    v[0] = 0.5 * t;                           /* host: boundaries of v */
    v[n - 1] = -0.25 * t;
    for (int i = 0; i < n; i++)              /* NEST2 */
      u[i] = 0.5 * (u[i] + v[i]);
  }
}

int main(int argc, char **argv) {
  int n = 30000;
  double *a = malloc(sizeof(double) * 2 * n);
  for (int i = 0; i < 2 * n; i++) a[i] = (i * 7 % 13) * 0.25;
  relax(40, n, a, argc > 1 ? a + n / 2 : a + n);   /* v overlaps u with an argument */
  double s = 0;
  for (int i = 0; i < 2 * n; i++) s += a[i] * (i % 5);
  printf("%.6f\n", s);
  return 0;
}
"""


def test_a_host_access_beyond_a_mapped_section_fails_the_check_in_a_versioned_region() -> None:
    """The region's test proves only its mapped sections disjoint, so host code inside a
    versioned region may use its names only within their sections: the planner keeps the
    region (and its updates of v[0:1] and v[n - 1:1]), and the plan checker refuses it,
    since v[0] lies outside v[0:n] when n is 0 (ludcmp's y[i] beside a region mapping
    y[0:n-1] is the same check).  The program then gives the serial output on both paths."""
    from pcx_driver.engine import plancheck
    from test_plancheck import _plan

    unit, analysis, plan = _plan(BOUNDARY)
    (region,) = [r for r in plan.regions if r.function == "relax"]
    assert region.alias_test and region.updates
    verdict = plancheck.check_function(unit, analysis, plan, "relax")
    assert not verdict.ok and "beyond its mapped section" in verdict.message, verdict


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_host_code_between_versioned_kernels_gives_the_serial_output(tmp_path: Path) -> None:
    build_and_compare(tmp_path, BOUNDARY, [])


# A function template over its element type (HeCBench stddev): ``Type *std`` and ``const
# Type *data`` may be one array whatever ``Type`` is, and their address ranges can be
# compared all the same.  Called once with two arrays and once with one array twice.
TEMPLATE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
template <typename Type, typename IdxType = int>
void colnorm(Type *out, const Type *data, IdxType D, IdxType N) {
  for (IdxType c = 0; c < D; c++) {                 /* NEST1 */
    Type sum = 0;
    for (IdxType r = 0; r < N; r++) sum += data[r * D + c] * data[r * D + c];
    out[c] = sqrtf(sum / N);
  }
}
int main(int argc, char **argv) {
  int D = 64 + (argc > 1), N = 50;
  float *data = (float *)malloc(sizeof(float) * D * N), *out = (float *)malloc(sizeof(float) * D);
  for (int i = 0; i < D * N; i++) data[i] = (float)(i % 17) * 0.25f;
  colnorm(out, data, D, N);
  double s = 0;
  for (int c = 0; c < D; c++) s += out[c];
  colnorm(data, data, D, 1);                        /* one array under both names */
  for (int c = 0; c < D; c++) s += data[c];
  printf("%.4f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_template_over_its_element_type_is_versioned(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, TEMPLATE, ["NEST1"], suffix=".cpp")
    reasons = [r["id"] for s in data["sources"] for n in s["nests"] for r in n["reasons"]]
    assert "PCX128" in reasons, reasons


# A kernel versioned for aliasing with a scratch array declared in its body (HeCBench
# meanshift's ``float new_position[D] = {0.f};``): the plan check gave every name the
# kernel touches a buffer of its own, the scratch array too, then found it unmapped.
SCRATCH = r"""
#include <stdio.h>
#include <stdlib.h>
static void smooth3(const float *data, float *out, int n) {
  for (int t = 1; t < n - 1; t++) {                /* NEST1 */
    float acc[3] = {0.f};
    for (int j = 0; j < 3; j++) acc[j] += data[t - 1 + j] * (j + 1);
    out[t] = acc[0] + acc[1] + acc[2];
  }
}
int main(int argc, char **argv) {
  int n = 4000 + (argc > 1);
  float *a = malloc(sizeof(float) * n), *b = calloc(n, sizeof(float));
  for (int i = 0; i < n; i++) a[i] = (float)(i % 29);
  smooth3(a, b, n);
  smooth3(a, a, n);                                 /* one array under both names */
  double s = 0;
  for (int i = 0; i < n; i++) s += b[i] + a[i];
  printf("%.2f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_versioned_kernel_with_a_scratch_array_passes_the_plan_check(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, SCRATCH, ["NEST1"])
    reasons = [r["id"] for s in data["sources"] for n in s["nests"] for r in n["reasons"]]
    assert "PCX128" in reasons and "PCX215" not in reasons, reasons


# PolyBench gramschmidt's shape: a versioned region over a column loop whose host code
# calls function-like macros (an identity ``ZERO(x) x``, ``ROOT(x) sqrt(x)``) and writes
# the diagonal ``R[k][k]`` of a parameter ``double R[N][N]``.  A macro that expands to an
# expression over its arguments calls nothing; ``R[k][k]`` lies inside the mapped rows
# ``R[0:n][0:N]`` because a subscript stays inside its row.  The third call passes Q == A:
# the region's test sends it down the host path.
COLUMNS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#define M 1500
#define N 24
#define ZERO(x) x
#define ROOT(x) sqrt(x)

static void columns(int m, int n, double A[M][N], double R[N][N], double Q[M][N]) {
  int i, j, k;
  for (k = 0; k < n; k++) {
    R[k][k] = ROOT(ZERO(1.0) + k);
    for (i = 0; i < m; i++)                     /* NEST1 */
      Q[i][k] = A[i][k] / R[k][k];
    for (j = k + 1; j < n; j++)                 /* NEST2 */
      for (i = 0; i < m; i++)
        A[i][j] = A[i][j] - Q[i][k] * 0.5;
  }
}

int main(int argc, char **argv) {
  double (*A)[N] = malloc(sizeof(double) * M * N), (*Q)[N] = malloc(sizeof(double) * M * N);
  double (*R)[N] = malloc(sizeof(double) * N * N);
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) A[i][j] = (i * 3 + j * 5) % 11;
  columns(M, N, A, R, Q);
  columns(M, N, A, R, argc > 1 ? A : Q);        /* Q is A: the host path */
  double s = 0;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) s += A[i][j] * ((i + j) % 3) + Q[i][j];
  for (int k = 0; k < N; k++) s += R[k][k];
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_host_macro_calls_and_row_subscripts_keep_a_versioned_region(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, COLUMNS, ["NEST1", "NEST2"])
    regions = [r["message"] for s in data["sources"] for r in s.get("remarks", []) if r["id"] == "PCX200"]
    assert any("versioned at run time" in m for m in regions), data
    refusals = [r["message"] for s in data["sources"] for r in s.get("remarks", []) if r["id"] in ("PCX203", "PCX216") and "'main'" not in r["message"]]
    assert not refusals, refusals
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="48"))
    p = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, env=env, timeout=120)
    launches = [ln for ln in p.stderr.splitlines() if "Launching kernel" in ln and "_columns_l" in ln]
    assert p.returncode == 0 and len(launches) == 2 * 2 * 24, len(launches)
