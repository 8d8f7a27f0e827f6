"""The cost model (issue 16): a kernel runs on the device only when its work pays.

Every offloaded nest has a work estimate, trip counts times statements per iteration.  A
constant estimate below ``--pcx-min-work`` keeps the nest serial (PCX115, with the
figures); a symbolic one becomes OpenMP's ``if(target: WORK >= min-work)`` on the kernel,
so small instances run on the host -- but never for a kernel whose data a ``target data``
region holds on the device (``if(target: false)`` runs on the HOST copy, stale there).
The guarded histogram is run both ways, small and large, under the default and the
mandatory offload policy, against the serial build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver.config import Config
from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.engine.rewrite import held_by_regions, kernel_directive, work_guard
from pcx_driver.model import DataRegion, Decision, KernelPlan, Plan, SourceUnit
from pcx_driver.stages import planner

BIN = Path(sys.executable).parent
CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
VALIDATION_ENV = {"LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0", "MALLOC_PERTURB_": "165", "OMP_NUM_THREADS": "2"}

# zlib's inflate_table in small: a code-length histogram whose trip count (codes) is known
# only at run time, called many times on a few hundred codes, or once on millions.
HISTOGRAM = r"""#include <stdio.h>
#include <stdlib.h>

static unsigned long histogram(int codes, const unsigned char *restrict lens)
{
    int count[16];
    for (int len = 0; len < 16; len++)
        count[len] = 0;
    for (int sym = 0; sym < codes; sym++)
        count[lens[sym] & 15]++;
    unsigned long s = 0;
    for (int len = 0; len < 16; len++)
        s = s * 31u + (unsigned long)count[len];
    return s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    int reps = argc > 2 ? atoi(argv[2]) : 1;
    unsigned char *lens = malloc((size_t)n);
    unsigned int seed = 12345u;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        lens[i] = (unsigned char)(seed >> 16);
    }
    unsigned long total = 0;
    for (int r = 0; r < reps; r++) {
        lens[r % n] ^= 1;
        total = total * 7u + histogram(n, lens);
    }
    printf("n=%d reps=%d total=%lu\n", n, reps, total);
    free(lens);
    return 0;
}
"""
HISTOGRAM_LINE = 9  # the guarded nest

# Two kernels in a time-step loop: one data region keeps u and v on the device, so neither
# kernel may fall back to the host, whatever n is.
REGION = r"""#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    double *u = malloc((size_t)n * sizeof *u), *v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++)
        u[i] = i % 11;
    for (int t = 0; t < 10; t++) {
        for (int i = 1; i < n - 1; i++)
            v[i] = 0.5 * (u[i - 1] + u[i + 1]);
        for (int i = 1; i < n - 1; i++)
            u[i] = v[i];
    }
    double s = 0;
    for (int i = 0; i < n; i++)
        s += u[i] * (i % 3);
    printf("%.6f\n", s);
    free(u);
    free(v);
    return 0;
}
"""

SMALL_CONSTANT = r"""
void clear(double *restrict a, double (*restrict m)[64]) {
    for (int i = 0; i < 8; i++)
        a[i] = 0;
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 64; j++)
            m[i][j] = 0;
}
"""


def _nests(src: str, min_work: float | None = None):
    unit = SourceUnit("k.c", src)
    ua = analyse_unit(unit) if min_work is None else analyse_unit(unit, min_work=min_work)
    return {n.line: n for n in ua.nests()}


# ------------------------------------------------------------------ the analysis


def test_a_small_constant_nest_stays_serial_with_its_figures():
    nests = _nests(SMALL_CONSTANT)
    small, bigger = nests[3], nests[5]
    assert small.decision is Decision.SERIAL
    (r,) = small.remarks
    assert r.id == "PCX115"
    assert r.message.startswith("estimated work 16 (8 * 2; 8 iterations in total) is below --pcx-min-work=1000")
    # 10 * (1 + 64 * 2) = 1290: offloaded, and the remark shows why
    assert bigger.decision is Decision.OFFLOADED and bigger.work_estimate == 1290 and bigger.work_expr == ""
    assert "estimated work 1.29e+03 (10 * (1 + 64 * 2)), at least --pcx-min-work=1000" in bigger.remarks[0].message


REMAINDER_BOUNDS = r"""
void fill(double *restrict out, double *restrict tmp, int n) {
    for (int i = 0; i < n; i++) {
        int m = i % 16 + 1;
        for (int j = 0; j < m; j++)
            tmp[j] = i + j * 0.5;
        int k = i & 7;
        for (int j = 0; j <= k; j++)
            out[i * 8 + j] = tmp[j];
    }
}
"""


def test_a_trip_count_bounded_by_a_remainder_or_mask_is_too_little_work():
    """``m = i % 16 + 1`` is at most 16, ``i & 7`` at most 7: each inner loop does at most a
    few dozen steps of work, which a launch per outer iteration cannot pay for (a held-out
    check: 40,000 launches of at most 16 iterations each, always on the device)."""
    nests = _nests(REMAINDER_BOUNDS)
    for line, bound in ((5, "m <= 16"), (8, "k <= 7")):
        assert nests[line].decision is Decision.SERIAL, nests[line].remarks
        assert any(r.id == "PCX115" and f"({bound})" in r.message for r in nests[line].remarks), nests[line].remarks


def test_the_threshold_is_a_setting():
    assert _nests(SMALL_CONSTANT, min_work=10)[3].decision is Decision.OFFLOADED
    assert _nests(SMALL_CONSTANT, min_work=2000)[5].decision is Decision.SERIAL
    assert _nests(SMALL_CONSTANT, min_work=0)[3].decision is Decision.OFFLOADED


def test_the_setting_comes_from_flag_environment_and_pcx_toml(tmp_path):
    assert planner.min_work(Config.resolve({}, environ={}, cwd=tmp_path)) == 1000.0
    assert planner.min_work(Config.resolve({"min-work": ["5e4"]}, environ={}, cwd=tmp_path)) == 5e4
    assert planner.min_work(Config.resolve({}, environ={"PCX_MIN_WORK": "7"}, cwd=tmp_path)) == 7.0
    (tmp_path / "pcx.toml").write_text("[pcx]\nmin-work = 42\n")
    assert planner.min_work(Config.resolve({}, environ={}, cwd=tmp_path)) == 42.0


def test_a_run_time_trip_count_gives_a_symbolic_estimate():
    nest = _nests(HISTOGRAM)[HISTOGRAM_LINE]
    assert nest.decision is Decision.OFFLOADED
    assert nest.work_expr == "(double)(codes) * 2"
    assert "estimated work codes * 2" in nest.remarks[0].message
    src = ("void f(int n, int m, double (*restrict a)[64], double *restrict b) {\n"
           "  for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { a[i][j & 63] = 1; b[i] += 2; }\n"
           "  for (int i = 0; i < 2 * n; i += 4) b[i] = 0;\n"
           "  for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) a[i][j] = 0;\n}\n")
    by_line = {n.line: n for n in analyse_unit(SourceUnit("k.c", src)).nests()}
    assert by_line[3].work_expr == "(double)((2*n - 1) / 4 + 1) * 2"
    # a triangular inner loop: its trip count is counted as 1000, and the remark says so
    assert by_line[4].work_expr == "(double)(n) * 2001"
    assert "a trip count not known counted as 1000" in by_line[4].remarks[0].message


# ------------------------------------------------------------------ where the guard goes


def test_the_guard_renders_only_with_an_expression_and_a_threshold():
    k = KernelPlan("f:3", "f", 3, 1, 0, 10, Decision.OFFLOADED, work_expr="(double)(n) * 2", min_work=1000)
    assert work_guard(k) == "if(target: (double)(n) * 2 >= 1000)"
    assert kernel_directive(k).startswith("omp target teams distribute parallel for if(target: (double)(n) * 2 >= 1000)")
    assert "if(" not in kernel_directive(k, guard=False)
    k.min_work = 0
    assert work_guard(k) == ""


def test_kernels_a_region_may_hold_get_no_guard():
    src = ("void f(int n, double *a) { for (int i = 0; i < n; i++) a[i] = 0; }\n"
           "void g(int n, double *a) { f(n, a); }\n"
           "void h(int n, double *a) { for (int i = 0; i < n; i++) a[i] = 1; }\n"
           "int main(void) {\n  double a[100];\n  g(100, a);\n  for (int i = 0; i < 100; i++) a[i] += 1;\n"
           "  h(100, a);\n  return 0;\n}\n")
    data = src.encode()

    def kernel(fn: str, marker: str) -> KernelPlan:
        start = data.index(marker.encode())
        return KernelPlan(f"{fn}:1", fn, 1, 1, start, start + 10, Decision.OFFLOADED)

    kf, kh, km = kernel("f", "for (int i = 0; i < n; i++) a[i] = 0"), kernel("h", "for (int i = 0; i < n; i++) a[i] = 1"), \
        kernel("main", "for (int i = 0; i < 100")
    region_start = data.index(b"g(100, a);")
    region = DataRegion("main", region_start, data.index(b"a[i] += 1;") + 10, 6, [])
    plan = Plan("k.c", [kf, kh, km], [region])
    # f is reached from the region through g; main's kernel is inside it; h is called after it
    assert held_by_regions(data, SourceUnit("k.c", src).language, plan) == {"f:1", "main:1"}
    assert held_by_regions(data, SourceUnit("k.c", src).language, Plan("k.c", [kf, kh, km])) == set()


# ------------------------------------------------------------------ real builds and runs


def _build(tmp: Path, name: str, src: str, *extra: str) -> tuple[Path, str, str]:
    (tmp / f"{name}.c").write_text(src)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    emit = tmp / f"{name}-emit"
    r = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu",
                        "--pcx-remarks", f"--pcx-emit={emit}", *extra, "-O2", "-gline-tables-only",
                        f"{name}.c", "-o", name], cwd=tmp, capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    (emitted,) = emit.rglob("*.c")
    return tmp / name, emitted.read_text(), r.stderr


def _serial_output(tmp: Path, source: str, *libs: str) -> str:
    """What the serial build of ``source`` (clang-19 -O2) prints, run once without arguments."""
    subprocess.run([CLANG, "-O2", source, "-o", "serial", *libs], cwd=tmp, check=True, timeout=120)
    return subprocess.run([str(tmp / "serial")], capture_output=True, text=True, check=True, timeout=120).stdout


def _run(exe: Path, args: list[str], policy: str | None) -> tuple[str, int]:
    env = dict(os.environ, LIBOMPTARGET_INFO="16", **VALIDATION_ENV)
    if policy is not None:
        env["OMP_TARGET_OFFLOAD"] = policy
    r = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr.count("Launching kernel")


@needs_clang
def test_guarded_histogram_runs_on_the_host_when_small_and_on_the_device_when_large(tmp_path):
    exe, text, remarks = _build(tmp_path, "hist", HISTOGRAM)
    # (the work of a launch must also pay for what it copies: a byte of each code, both ways
    # for the 16 counts, one unit of work per 16 bytes)
    assert ("omp target teams distribute parallel for if(target: (double)(codes) * 2 >= 1000 + 0.0625 * (double)(codes)"
            " + 8)") in text
    assert (f"hist.c:{HISTOGRAM_LINE}:5: remark: loop nest offloaded to the device; estimated work codes * 2; "
            "launched once per iteration of loops around calls to 'histogram' (line 28); "
            "on the host when below --pcx-min-work=1000 plus what its maps copy at each launch (0.0625 * "
            "(double)(codes) + 8) (if(target:)) [PCX100]") in remarks
    assert "hist.c:7:5: remark: estimated work 32 (16 * 2; 16 iterations in total) is below" in remarks
    subprocess.run([CLANG, "-O2", "hist.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args, launches in ((["300", "200"], 0), (["300000", "2"], 2)):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=120).stdout
        for policy in ("DEFAULT", "MANDATORY"):
            out, launched = _run(exe, args, policy)
            assert (out, launched) == (serial, launches), (args, policy)


@needs_clang
def test_min_work_zero_offloads_regardless(tmp_path):
    exe, text, _ = _build(tmp_path, "hist", HISTOGRAM, "--pcx-min-work=0")
    assert "if(target:" not in text
    assert _run(exe, ["300", "3"], "MANDATORY")[1] == 2 * 3  # per call: the 16-trip clearing loop, the histogram


@needs_clang
def test_a_region_with_a_declaration_among_its_statements_tests_its_guard_where_it_starts_ends_and_at_each_kernel(
        tmp_path):
    # ``double s = 0;`` may be used after the region, so it has no braces (an enter/exit
    # pair) and no copy of its statements as a host path: its work guard is lifted onto
    # the enter/exit data and each kernel, which runs its loop as written where it fails.
    exe, text, remarks = _build(tmp_path, "region", REGION)
    # computed once where it starts: the enter and exit data and each kernel read the same;
    # the two kernels of the time loop count once per step
    guard = ("((double)(n) * 2) + (10) * ((double)(n - 2) * 2) + (10) * ((double)(n - 2) * 2) + ((double)(n) * 2) "
             ">= 1000 * (1 + 10 + 10 + 1)")
    assert f"int pcx_region_test_1; pcx_region_test_1 = ({guard});" in text
    assert "omp target enter data map(alloc: u[" in text and text.count(") if(pcx_region_test_1)") == 2
    assert text.count("if (!(pcx_region_test_1)) {") == 4  # each kernel's host version
    assert ("region.c:8:5: remark: loop nest offloaded to the device; estimated work n * 2; launched once per "
            "call; the region at line 8 runs on the host, as written, when below --pcx-min-work=1000 [PCX100]"
            ) in remarks
    subprocess.run([CLANG, "-O2", "region.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args, launches in ((["50"], 0), (["5000"], 22)):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=60).stdout
        for policy in ("DEFAULT", "MANDATORY"):
            assert _run(exe, args, policy) == (serial, launches), (args, policy)


# The size the guard reads halves inside the region through a macro the analysis does not
# read as a store: a guard tested again at the second kernel found it false there and ran
# the loop on the host copy of b, which only the device had written (a held-out check).
SHRUNK = r"""#include <stdio.h>
#include <stdlib.h>
#define SHRINK n = n / 2
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 600;
    long *b = malloc(sizeof(long) * n);
    for (int i = 0; i < n; i++) b[i] = i % 7;
    long s = 0;
    SHRINK;
    for (int i = 0; i < n; i++) s += b[i];
    printf("%ld\n", s);
    return 0;
}
"""


@needs_clang
def test_a_lifted_guard_is_read_once_where_its_region_starts(tmp_path):
    exe, text, _ = _build(tmp_path, "shrunk", SHRUNK)
    assert ") if(pcx_region_test_1)" in text
    subprocess.run([CLANG, "-O2", "shrunk.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args in (["10"], ["600"], ["5000"]):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=60).stdout
        assert _run(exe, args, "MANDATORY")[0] == serial, args


@needs_clang
def test_kernels_in_a_data_region_whose_guard_a_call_could_change_never_fall_back_alone(tmp_path):
    # The guard would read a file-scope variable, which a call inside the region could
    # change between its enter and its exit: no guard, the kernels stay on the device.
    source = REGION.replace("int main(int argc, char **argv)\n{\n    int n =", "int n;\n\nint main(int argc, char **argv)\n{\n    n =")
    assert source != REGION
    exe, text, remarks = _build(tmp_path, "region", source)
    assert "omp target enter data" in text
    assert "if(target:" not in text and "if (!(" not in text and ") if(" not in text
    assert "always on the device: a target data region holds its data [PCX100]" in remarks
    subprocess.run([CLANG, "-O2", "region.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    serial = subprocess.run([str(tmp_path / "serial"), "50"], capture_output=True, text=True, check=True,
                            timeout=60).stdout
    out, launched = _run(exe, ["50"], "DEFAULT")
    assert out == serial and launched >= 20


# A k-means assignment step.  The 8-iteration loop inside the distance helper, called for
# every point and centroid, once became a guarded kernel of its own (a fork of teams and
# threads per call: the program ran 1,000x slower than serial).  Now the point loop that
# calls the helper is the kernel, the helper only reads its arrays (access/footprint.py)
# and its loop runs inside that kernel (PCX141): one launch in all.
KMEANS = r"""#include <stdio.h>
#include <stdlib.h>
static double dist(const double *a, const double *b, int d) {
  double s = 0.0;
  for (int k = 0; k < d; k++) { double t = a[k] - b[k]; s += t * t; }
  return s;
}
int main(int argc, char **argv) {
  int n = 2000, d = argc > 1 ? atoi(argv[1]) : 8, K = 16;
  double *pts = malloc(sizeof(double) * n * d), *cent = malloc(sizeof(double) * K * d);
  int *assign = malloc(sizeof(int) * n);
  for (int i = 0; i < n * d; i++) pts[i] = (double)((i * 7919u) % 1000u);  /* whole numbers: */
  for (int c = 0; c < K * d; c++) cent[c] = pts[c * 13];  /* sums exact in any order, so ties too */
  for (int i = 0; i < n; i++) {
    int best = 0; double bd = 1e300;
    for (int c = 0; c < K; c++) { double dd = dist(&pts[i * d], &cent[c * d], d); if (dd < bd) { bd = dd; best = c; } }
    assign[i] = best;
  }
  long s = 0; for (int i = 0; i < n; i++) s += assign[i] * (i % 7);
  printf("%ld\n", s);
  return 0;
}
"""


@needs_clang
def test_the_loop_that_calls_a_distance_helper_is_the_kernel(tmp_path):
    exe, text, remarks = _build(tmp_path, "km", KMEANS)
    assert "km.c:5:3: remark: loop in 'dist', which offloaded kernels call (line 14)" in remarks
    assert "km.c:14:3: remark: loop nest offloaded to the device" in remarks
    assert "#pragma omp declare target" in text
    subprocess.run([CLANG, "-O2", "km.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args in (["8"], ["600"]):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=120).stdout
        out, launched = _run(exe, args, "MANDATORY")
        assert out == serial
        assert launched == 4, (args, launched)  # the point loop and main's three other nests, once each


BRACELESS = r"""#include <stdio.h>
#include <stdlib.h>
static void square(long *v, int n) {
  if (n > 0)
    for (int i = 0; i < n; i++) v[i] = (long)i * i;   /* the braceless body of an if */
}
static void sign(long *restrict w, const long *restrict v, int n) {
  for (int i = 0; i < n; i++)   /* a switch inside is copied whole */
    switch (i % 3) { case 0: w[i] = v[i]; break; case 1: w[i] = -v[i]; break; default: w[i] = 1; }
}
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  long *v = malloc(sizeof(long) * (n + 1)), *w = malloc(sizeof(long) * (n + 1)), s = 0;
  square(v, n);
  sign(w, v, n);
  for (int i = 0; i < n; i++) s = (s + w[i]) % 1000003;
  printf("%ld\n", s);
  return 0;
}
"""


@needs_clang
def test_host_versions_keep_braceless_bodies_and_switches(tmp_path):
    exe, text, remarks = _build(tmp_path, "br", BRACELESS)
    assert text.count("if (!((double)(n) * ") == 2, remarks
    subprocess.run([CLANG, "-O2", "br.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args in (["10"], ["5000"], ["0"]):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=120).stdout
        for policy in ("DEFAULT", "MANDATORY"):
            out, launched = _run(exe, args, policy)
            assert out == serial, (args, policy)
            if policy == "MANDATORY":
                assert launched == (2 if args == ["5000"] else 0), (args, launched)


# doitgen's shape: inner loops under two serial loops, launched once per (r, q) pair.  The
# kernels share a data region, so each cannot fall back alone; the region as a whole runs
# on the host, as written, unless every kernel in it does --pcx-min-work per launch.
INNER_UNDER_TWO_SERIAL = r"""#include <stdio.h>
#include <stdlib.h>
/* doitgen's shape: two serial loops around inner loops that share a scratch row */
static void step(int nr, int nq, int np, double *restrict A, const double *restrict C4, double *restrict sum) {
  for (int r = 0; r < nr; r++)
    for (int q = 0; q < nq; q++) {
      for (int p = 0; p < np; p++) {
        double s = 0.0;
        for (int k = 0; k < np; k++) s += A[(r * nq + q) * np + k] * C4[k * np + p];
        sum[p] = s;
      }
      for (int p = 0; p < np; p++) A[(r * nq + q) * np + p] = sum[p];
    }
}
int main(int argc, char **argv) {
  int nr = atoi(argv[1]), nq = atoi(argv[2]), np = atoi(argv[3]);
  double *A = malloc(sizeof(double) * nr * nq * np), *C4 = malloc(sizeof(double) * np * np);
  double *sum = malloc(sizeof(double) * np);
  unsigned seed = 7u;   /* host recurrences: main holds no data region */
  for (int i = 0; i < nr * nq * np; i++) { seed = seed * 1103515245u + 12345u; A[i] = (double)(seed >> 28); }
  for (int i = 0; i < np * np; i++) { seed = seed * 1103515245u + 12345u; C4[i] = (double)(seed >> 29) - 2.0; }
  step(nr, nq, np, A, C4, sum);
  double t = 0.0;
  for (int i = 0; i < nr * nq * np; i++) t = t * 0.5 + A[i];
  printf("%.1f\n", t);
  return 0;
}
"""


@needs_clang
def test_a_region_of_small_kernels_under_serial_loops_runs_on_the_host_as_written(tmp_path):
    exe, text, remarks = _build(tmp_path, "dg", INNER_UNDER_TWO_SERIAL)
    assert ("dg.c:12:7: remark: loop nest offloaded to the device; estimated work np * 2; launched once per "
            "iteration of the loops at lines 5, 6; the region at line 5 runs on the host, as written, when below "
            "--pcx-min-work=1000 [PCX100]") in remarks
    # one launch costs about min-work: the kernels must average that much per launch
    assert "if (!(((double)(np) * (3 + (double)(np) * 2)) + ((double)(np) * 2) >= 2000)) {" in text
    subprocess.run([CLANG, "-O2", "dg.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args, launches in ((["20", "20", "20"], 0), (["2", "3", "60"], 2 * 2 * 3)):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=120).stdout
        assert _run(exe, args, "MANDATORY") == (serial, launches), args


# Levinson-Durbin in small: kernels whose work is the index of the serial loop around them
# (``k``, unknown where the region starts).  The region's guard averages it over the loop:
# (1 + n - 1) / 2 per launch, so small n runs as written on the host, large n on the device.
TRIANGULAR_UNDER_SERIAL = (Path(__file__).parent / "fixtures" / "programs" / "levinson_durbin.c").read_text()


@needs_clang
def test_a_serial_loops_index_in_the_estimate_is_averaged_over_that_loop(tmp_path):
    exe, text, remarks = _build(tmp_path, "durbin", TRIANGULAR_UNDER_SERIAL)
    assert ("durbin.c:12:9: remark: loop nest offloaded to the device: reduction(+:sum); estimated work k * 2; "
            "launched once per iteration of the loop at line 9; the region at line 9 runs on the host, as "
            "written, when below --pcx-min-work=1000 [PCX100]") in remarks
    mean_k = "((((double)(1) + (double)(n - 1)) / 2))"
    per_kernel = f"((double)({mean_k}) * 2)"
    assert f"if (!({per_kernel} + {per_kernel} + {per_kernel} >= 3000)) {{" in text
    subprocess.run([CLANG, "-O2", "durbin.c", "-o", "serial", "-lm"], cwd=tmp_path, check=True, timeout=120)
    # n = 300: k averages 150, 300 work per launch: host.  n = 3000: 3000 per launch: device,
    # three kernels per iteration of k (the y[k] write goes to the device by an update).
    for args, launches in ((["300"], 0), (["3000"], 3 * 2999)):
        serial = subprocess.run([str(tmp_path / "serial"), *args], capture_output=True, text=True, check=True,
                                timeout=120).stdout
        assert _run(exe, args, "MANDATORY") == (serial, launches), args


# The same function called inside a caller's data region: the region's data may be on the
# device where it starts, so it is never guarded (its host copy would read stale data).
HELD_BY_CALLER = INNER_UNDER_TWO_SERIAL.replace(
    "for (int i = 0; i < np * np; i++) { seed = seed * 1103515245u + 12345u; C4[i] = (double)(seed >> 29) - 2.0; }",
    "for (int i = 0; i < np * np; i++) C4[i] = (double)(i % 5) - 2.0;")


@needs_clang
def test_a_region_whose_data_a_caller_may_hold_is_never_guarded(tmp_path):
    exe, text, remarks = _build(tmp_path, "held", HELD_BY_CALLER)
    assert "runs on the host, as written" not in remarks and "if (!(" not in text.split("int main")[0]
    subprocess.run([CLANG, "-O2", "held.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    serial = subprocess.run([str(tmp_path / "serial"), "4", "4", "30"], capture_output=True, text=True,
                            check=True, timeout=120).stdout
    assert _run(exe, ["4", "4", "30"], "MANDATORY")[0] == serial


# LU, left-looking: the host computes row i's lower part, a kernel its upper part; host and
# kernel each need the other's rows.  Only the rows change hands: the host loop's part of
# row i goes to the device before the kernel, the kernel's row comes back after it
# (tests/test_row_updates.py), so the kernel's (n - i) * i work per launch is not charged
# with whole-matrix copies.
LU_COPIES = r"""#include <stdio.h>
#include <stdlib.h>
#define N 300
static double A[N][N];
static void kernel_lu(int n, double A[N][N]) {
  int i, j, k;
  for (i = 0; i < n; i++) {
    for (j = 0; j < i; j++) {
      for (k = 0; k < j; k++) A[i][j] -= A[i][k] * A[k][j];
      A[i][j] /= A[j][j];
    }
    for (j = i; j < n; j++)
      for (k = 0; k < i; k++) A[i][j] -= A[i][k] * A[k][j];
  }
}
int main(void) {
  for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) A[i][j] = (i == j) ? N + 1.0 : (double)((i * j) % 7) / N;
  kernel_lu(N, A);
  double s = 0; for (int i = 0; i < N; i++) s += A[i][(i * 7) % N];
  printf("%.8f\n", s);
}
"""

# The same copies around a matrix product (work n^3 per launch on n^2 data) do pay.
PRODUCT_COPIES = r"""#include <stdio.h>
#include <stdlib.h>
#define N 96
static double A[N][N], B[N][N], C[N][N];
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : N;
  unsigned seed = 3u;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      seed = seed * 1103515245u + 12345u; A[i][j] = (double)(seed >> 28);
      seed = seed * 1103515245u + 12345u; B[i][j] = (double)(seed >> 29);
    }
  double acc = 0.0;
  for (int t = 0; t < 4; t++) {
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        double s = 0.0;
        for (int k = 0; k < n; k++) s += A[i][k] * B[k][j];
        C[i][j] = s;
      }
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) acc = acc * 0.5 + C[i][j];   /* host: reads all of C */
    A[t][t] += 1.0;
  }
  printf("%.6f\\n", acc);
  return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("name, src, updates", [
    ("lu", LU_COPIES, ["omp target update to(A[i:1][0:N])", "omp target update from(A[i:1][0:300])"]),
    ("product", PRODUCT_COPIES, ["omp target update from(C[0:"]),
])
def test_whole_array_copies_in_a_loop_are_charged_to_the_kernels_they_serve(tmp_path, name, src, updates):
    """The product's whole-C copy per step is paid for by n^3 work per launch; LU moves only
    rows, so nothing charges its kernel."""
    exe, text, remarks = _build(tmp_path, name, src)
    assert all(u in text for u in updates) and "work per launch" not in remarks, (text, remarks)
    serial = _serial_output(tmp_path, f"{name}.c")
    out, launched = _run(exe, [], "MANDATORY")
    assert out == serial and launched >= 4


# PolyBench's ludcmp in small: parameters that may alias version the function's kernels at
# run time, so the plan checker drops the data region around LU's row loop, and the row
# update then maps its own rows, A[0:i + 1][0:n], at each of n launches.  Its work per
# launch, (n - i) * (3 + 2i), grows no faster than those round trips: it is kept serial
# after the check.  The substitution's reduction only reads its row of A: not charged.
LU_OWN_COPIES = r"""#include <stdio.h>
#include <stdlib.h>
#define N 200
void solve(int n, double A[N][N], double *b, double *y) {
  int i, j, k;
  double w;
  for (i = 0; i < n; i++) {
    for (j = 0; j < i; j++) {
      w = A[i][j];
      for (k = 0; k < j; k++) w -= A[i][k] * A[k][j];
      A[i][j] = w / A[j][j];
    }
    for (j = i; j < n; j++) {
      w = A[i][j];
      for (k = 0; k < i; k++) w -= A[i][k] * A[k][j];
      A[i][j] = w;
    }
  }
  for (i = 0; i < n; i++) {
    w = b[i];
    for (j = 0; j < i; j++) w -= A[i][j] * y[j];
    y[i] = w;
  }
}
int main(void) {
  /* one allocation for the three: solve's parameters may overlap (no restrict, no region) */
  double *pool = malloc((N * N + 2 * N) * sizeof(double));
  double (*A)[N] = (double (*)[N])pool;
  double *b = pool + N * N, *y = pool + N * N + N;
  for (int i = 0; i < N; i++) {
    b[i] = (i + 1) / (double)N;
    for (int j = 0; j < N; j++) A[i][j] = (i == j) ? N + 1.0 : (double)((i * j) % 7) / N;
  }
  solve(N, A, b, y);
  double s = 0;
  for (int i = 0; i < N; i++) s += y[i] + A[i][(i * 7) % N];
  printf("%.10f\n", s);
  return 0;
}
"""


@needs_clang
def test_a_kernel_copying_its_own_rows_each_iteration_stays_serial(tmp_path):
    exe, text, remarks = _build(tmp_path, "lud", LU_OWN_COPIES)
    assert ("lud.c:13:5: remark: the kernel maps 'A[0:i + 1][0:200]' tofrom the device at each launch, once per "
            "iteration of the loop at line 7, and its work per launch") in remarks
    assert "lud.c:21:5: remark: loop nest offloaded to the device: reduction(+:w)" in remarks
    assert "(degree 2 <= 2): the copies cost more than the kernel saves; kept serial [PCX115]" in remarks
    assert "lud.c:13:5: remark: loop nest offloaded" not in remarks
    serial = _serial_output(tmp_path, "lud.c")
    out, launched = _run(exe, [], "MANDATORY")
    assert out == serial and launched <= 1 + 200  # main's initialisation, the substitution


@needs_clang
def test_a_kernel_launched_in_two_serial_loops_for_linear_work_stays_serial(tmp_path):
    """The same solver with restrict parameters: one region holds A across the row loop,
    moving rows only, and the row update runs on the device.  The reduction over ``k`` in
    the column loop would be launched once per (i, j) for at most 2n work each (PolyBench's
    ludcmp: 80,000 launches, 190x the serial time): kept serial, with the launch figures."""
    src = LU_OWN_COPIES.replace("void solve(int n, double A[N][N], double *b, double *y)",
                                "void solve(int n, double A[restrict N][N], double *restrict b, double *restrict y)")
    exe, text, remarks = _build(tmp_path, "ludr", src)
    assert ("ludr.c:10:7: remark: launched once per iteration of the serial loops at lines 7, 8 for work per launch "
            "of degree 1") in remarks
    assert "ludr.c:13:5: remark: loop nest offloaded to the device" in remarks
    assert "ludr.c:21:5: remark: loop nest offloaded to the device: reduction(+:w)" in remarks
    assert "target update from(A[i:1][0:200])" in text
    serial = _serial_output(tmp_path, "ludr.c")
    out, launched = _run(exe, [], "MANDATORY")
    assert out == serial and launched < 1000


# meanshift's shape (HeCBench): a tile loop whose trip count is `count = MIN(TILE, n - base)`
# runs at most TILE iterations, so its work per launch is bounded by a constant below
# --pcx-min-work, however large n is: kept serial (PCX115, "at most"), not launched once
# per tile per point (meanshift ran past 120 s against 13 s serial).
TILED_MIN = r"""#include <stdio.h>
#include <stdlib.h>
#define TILE 32
#define MIN(a, b) ((a) < (b) ? (a) : (b))
int main(int argc, char **argv) {
  int n = argc > 1 ? 700 : 900;
  int tile = argc > 5 ? 16 : TILE;
  float *x = malloc(sizeof(float) * n), *y = calloc(n, sizeof(float));
  for (int i = 0; i < n; i++) x[i] = (i % 11) * 0.5f;
  for (int p = 0; p < n; p++) {
    float acc = 0.f;
    for (int base = 0; base < n; base += tile) {
      int count = MIN(TILE, n - base);
      for (int i = 0; i < count; i++) acc += x[base + i] * (p % 3);
    }
    y[p] = acc + (p > 0 ? y[p - 1] * 0.5f : 0.f);
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += y[i];
  printf("%.3f\n", s);
  return 0;
}
"""


@needs_clang
def test_a_tile_loop_bounded_by_a_min_is_too_little_work(tmp_path):
    exe, text, remarks = _build(tmp_path, "tiles", TILED_MIN)
    assert ("tiles.c:14:7: remark: estimated work at most 64 (count <= 32) is below --pcx-min-work=1000; "
            "too little work to pay for an offload [PCX115]") in remarks
    serial = _serial_output(tmp_path, "tiles.c")
    out, launched = _run(exe, [], "MANDATORY")
    assert out == serial and launched <= 2  # the initialisation and the final sum, never per tile


# HeCBench randomAccess's shape: each step the host seeds 128 generators (a helper with a
# search loop, serial), then a kernel runs every generator over n/32 updates of the table
# (atomic xors).  The region copies the seeds back and forth each step: 1 KB, the same at
# every table size, which a kernel whose work grows with n outgrows (traffic._small_constant);
# charging it as a problem-sized array kept the update loop serial.
SEEDED_UPDATES = r"""#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
static uint64_t seed_of(uint64_t k) {
  uint64_t v = k * 2654435761u + 12345u;
  for (int b = 0; b < 8; b++) {
    if (v & 1) break;
    v >>= 1;
  }
  return v | 1;
}
int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? 1u << 12 : 1u << 14;
  uint64_t *table = malloc(sizeof(uint64_t) * n);
  uint64_t seed[128];
  for (int r = 0; r < 3; r++) {
    for (uint64_t i = 0; i < n; i++) table[i] = i;
    for (int j = 0; j < 128; j++) seed[j] = seed_of((uint64_t)j * n + r);
    for (int j = 0; j < 128; j++) {                     /* UPDATES */
      for (uint64_t u = 0; u < 4 * n / 128; u++) {
        seed[j] = (seed[j] << 1) ^ ((int64_t)seed[j] < 0 ? 7u : 0u);
        table[seed[j] & (n - 1)] ^= seed[j];
      }
    }
  }
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; i++) sum += table[i] * (i % 7);
  for (int j = 0; j < 128; j++) sum ^= seed[j];
  printf("%llu\n", (unsigned long long)sum);
  return 0;
}
"""


@needs_clang
def test_a_small_fixed_array_copied_each_step_does_not_outweigh_a_growing_kernel(tmp_path):
    exe, text, remarks = _build(tmp_path, "seeded", SEEDED_UPDATES)
    line = next(k + 1 for k, t in enumerate(SEEDED_UPDATES.splitlines()) if "UPDATES" in t)
    assert f"seeded.c:{line}:5: remark: loop nest offloaded" in remarks, remarks
    assert "seed[0:128]" in text and "omp atomic" in text
    serial = _serial_output(tmp_path, "seeded.c")
    out, launched = _run(exe, [], "MANDATORY")
    assert out == serial and launched >= 3  # the update kernel at each of the 3 steps


# A flag array the region keeps on the device, and beside it, among the region's
# statements, a row loop of cnt (30) iterations under a serial loop that calls rand():
# the row kernel maps only its own arrays, so it keeps its work guard and runs on the
# host where small.  It was "always on the device" (the region held it by position
# alone) and launched once per row: 4,000 launches for 0.00 s of serial work (a held-out
# check).
BESIDE_A_REGION = r"""#include <stdio.h>
#include <stdlib.h>
static void mark(int *m, int n) {
  for (int i = 0; i < n; i++)
    m[i] = (i % 3 == 0);
}
int main(int argc, char **argv) {
  int rows = argc > 1 ? atoi(argv[1]) : 4000, n = 90;
  int *m = calloc(n, sizeof(int));
  mark(m, n);
  int cnt = 0;
  for (int i = 0; i < n; i++)
    if (m[i] == 1) cnt++;
  int *tab = malloc(sizeof(int) * cnt * rows);
  double *val = malloc(sizeof(double) * rows);
  for (int x = 0; x < rows; x++) val[x] = x * 0.5;
  for (int x = 0; x < rows; x++) {
    val[x] += rand() % 2;
    for (int y = 0; y < cnt; y++)   /* ROW */
      tab[x * cnt + y] = (int)val[x] + y;
  }
  long s = 0;
  for (int i = 0; i < cnt * rows; i++) s += tab[i];
  printf("cnt=%d sum=%ld\n", cnt, s);
  return 0;
}
"""


@needs_clang
def test_a_kernel_beside_a_region_that_maps_none_of_its_data_keeps_its_guard(tmp_path):
    exe, text, remarks = _build(tmp_path, "rows", BESIDE_A_REGION)
    line = BESIDE_A_REGION.splitlines().index(next(t for t in BESIDE_A_REGION.splitlines() if "/* ROW */" in t)) + 1
    assert "target enter data" in text or "target data" in text
    (row,) = [r for r in remarks.splitlines() if r.startswith(f"rows.c:{line}:5: remark: loop nest offloaded")]
    assert row.endswith("on the host when below --pcx-min-work=1000 plus what its maps copy at each launch (0.25 * "
                        "(double)(cnt) + 0.5) (if(target:)) [PCX100]"), row
    serial = _serial_output(tmp_path, "rows.c")
    out, launched = _run(exe, [], "MANDATORY")
    assert out == serial and launched < 10, launched
