"""The plan checker (``engine/plancheck/``): translation validation of data plans.

Two kinds of tests:

- **Planted wrong plans.**  The engine's own plan for a program is checked (it passes),
  then one thing is broken by hand (an update dropped or turned round, a partial write
  copied back whole, a host read left stale, a result dropped with the device copy) and
  the checker must reject it with the right ID.
- **Issue 12's eight reproducers**, written afresh: each goes through the whole static
  pipeline (analysis, planner, checker, rewriter), is built for the host device and run
  the strict way with inputs that take every branch; the output must equal the serial
  program's.  Before the checker, each of these printed a wrong answer or crashed.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import CLANG, HOST_OFFLOAD, run_with_args  # noqa: E402

from pcx_driver.engine import plancheck  # noqa: E402
from pcx_driver.engine.analysis import analyse_unit  # noqa: E402
from pcx_driver.engine.dataplan import plan_unit  # noqa: E402
from pcx_driver.engine.rewrite import rewrite_unit  # noqa: E402
from pcx_driver.model import Decision, Language, MapKind, Section, SourceUnit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

TIME_LOOP = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 1000 + argc;
  double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) a[i] = i;
  for (int t = 0; t < 10; t++) {
    for (int i = 0; i < n; i++) b[i] = a[i] * 0.5;
    b[t] += 1.0;
    for (int i = 0; i < n; i++) a[i] = b[i] + 1.0;
    if (a[t] > 1e300) break;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * (i % 7);
  printf("%.6f\n", s);
  free(a); free(b);
  return 0;
}
"""

HALF = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 1000 + argc;
  double *c = malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) c[i] = -1.0;
  for (int i = 0; i < n / 2; i++) c[i] = 2.0 * i;
  double s = 0;
  for (int i = 0; i < n; i++) s += c[i];
  printf("%.1f\n", s);
  return 0;
}
"""


def _plan(text: str, name: str = "p.c"):
    unit = SourceUnit(name, text, Language.CXX if name.endswith(".cpp") else Language.C)
    analysis = analyse_unit(unit)
    return unit, analysis, plan_unit(unit, analysis)


def _region(plan, fname="main"):
    regions = [r for r in plan.regions if r.function == fname]
    assert len(regions) == 1, plan.regions
    return regions[0]


def test_engine_plan_of_a_time_loop_passes():
    unit, analysis, plan = _plan(TIME_LOOP)
    region = _region(plan)
    assert {u.direction for u in region.updates} == {"to", "from"}
    assert plancheck.check_function(unit, analysis, plan, "main").ok


SECOND_DECLARATOR = r"""
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 4000;
    double *a = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++)
        a[i] = (i % 13) * 0.5;
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += a[i] * a[i];
    double x[4000], y[4000];
    for (int i = 0; i < n; i++)
        y[i] = i;
    for (int i = 0; i < n; i++) {
        x[i] = a[i] + 1.0;
        y[i] = 2.0 * a[i] - y[i];
    }
    double t = 0.0;
    for (int i = 0; i < n; i++)
        t += x[i] * y[i];
    printf("%.3f %.3f %.3f\n", s, t, y[n - 1]);
    free(a);
    return 0;
}
"""


def test_an_array_declared_inside_the_region_by_a_later_declarator_stays_out_of_it():
    """``double x[4000], y[4000];`` declares y as its second declarator: a region that
    starts before it cannot hold it (only the first declarator counted as declared there,
    and the checker then refused the whole region, PCX216)."""
    unit, analysis, plan = _plan(SECOND_DECLARATOR)
    region = _region(plan)
    assert [s.base for m in region.maps for s in m.sections] == ["a"], region.maps
    assert plancheck.check_function(unit, analysis, plan, "main").ok


def test_a_missing_update_from_is_a_stale_host_read():
    unit, analysis, plan = _plan(TIME_LOOP)
    region = _region(plan)
    region.updates = [u for u in region.updates if not (u.direction == "from" and u.sections[0].base == "a")]
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid == "PCX211", v
    assert "reads 'a'" in v.message


def test_an_update_in_the_wrong_direction_is_rejected():
    unit, analysis, plan = _plan(TIME_LOOP)
    region = _region(plan)
    push = next(u for u in region.updates if u.direction == "to")
    push.direction = "from"  # would copy the device's b[t] over the host's newer one
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid == "PCX212", v


def test_a_partial_write_copied_back_whole_is_rejected():
    unit = SourceUnit("p.c", HALF, Language.C)
    analysis = analyse_unit(unit)
    plan = plan_unit(unit, analysis, regions=False)  # each kernel with its own maps
    half = next(k for k in plan.offloaded() if any(s.dims[0][1] != "n" for m in k.maps for s in m.sections
                                                   if s.base == "c"))
    assert plancheck.check_function(unit, analysis, plan, "main").ok
    for m in half.maps:
        m.sections = [Section(s.base, [("0", "n")]) if s.base == "c" else s for s in m.sections]
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid == "PCX212", v
    assert "undefined device data" in v.message


MEMBERS = r"""
#include <stdio.h>
#include <stdlib.h>
typedef struct { float weight; float *coord; long assign; } Point;
int main(int argc, char **argv) {
  int n = 1000 + argc;
  float *block = malloc(sizeof(float) * n);
  Point *pts = malloc(sizeof(Point) * n);
  for (int i = 0; i < n; i++) { block[i] = i; pts[i].coord = &block[i]; pts[i].assign = i; }
  for (int i = 0; i < n; i++) pts[i].weight = 1.0f;
  for (int i = 0; i < n; i++) { pts[i].weight = 2.0f; pts[i].coord = 0; pts[i].assign = -1; }
  printf("%ld\n", pts[n - 1].assign);
  return 0;
}
"""


def test_a_member_write_copied_back_whole_is_rejected():
    """``pts[i].weight = 1`` defines one member: the rest of each element must come in.
    Rodinia's streamcluster crashed through coordinate pointers that a ``map(from:)``
    brought back uninitialised (fixture 20); assigning every member defines the element."""
    unit = SourceUnit("p.c", MEMBERS, Language.C)
    analysis = analyse_unit(unit, min_work=0)
    one, every = (next(n for n in analysis.nests() if n.line == line) for line in (10, 11))
    assert not next(a for a in one.arrays if a.name == "pts").written_fully
    assert next(a for a in every.arrays if a.name == "pts").written_fully
    plan = plan_unit(unit, analysis, regions=False)
    kernel = next(k for k in plan.offloaded() if k.line == 10)
    assert [m.kind for m in kernel.maps if any(s.base == "pts" for s in m.sections)] == [MapKind.TOFROM]
    assert plancheck.check_function(unit, analysis, plan, "main").ok
    planted = copy.deepcopy(plan)
    for m in next(k for k in planted.offloaded() if k.line == 10).maps:
        if any(s.base == "pts" for s in m.sections):
            m.kind = MapKind.FROM  # what the planner did before
    v = plancheck.check_function(unit, analysis, planted, "main")
    # the rest of each element is read from, and copied back as, undefined device data
    assert not v.ok and v.rid in ("PCX210", "PCX212") and "undefined" in v.message, v


def test_a_host_write_through_an_unmapped_parenthesised_pointer_parameter_is_rejected():
    """Fixture 19 (loopfuzz seed 801115): ``scale(n, r, a, u, a)`` passes one array as
    ``double (*a)[C]`` and as ``double (*b)[C]``, and host code inside scale writes
    ``b[1][2]`` between kernels over ``a``.  A region over ``a`` and ``u`` (two
    allocations: the planner proposes one) would leave that write in the host copy while
    the device holds ``a``.  The checker must see that ``b`` may be ``a``: the region goes,
    each kernel maps its own data.  (Once the planner missed ``(*b)`` among the pointer
    parameters and versioned such a region at run time on ``a`` against ``u`` only.)"""
    unit = SourceUnit("f.c", (ROOT / "tests" / "fixtures" / "loopfuzz" /
                              "19-host-write-through-parenthesised-pointer-parameter.c").read_text(), Language.C)
    analysis = analyse_unit(unit, min_work=0)
    plan = plan_unit(unit, analysis)
    if [r for r in plan.regions if r.function == "scale"]:
        v = plancheck.check_function(unit, analysis, plan, "scale")
        assert not v.ok and v.rid in ("PCX210", "PCX211", "PCX216") and ("'a'" in v.message or "'b'" in v.message), v
    checked = plancheck.enforce(unit, analysis, copy.deepcopy(plan))
    assert not [r for r in checked.regions if r.function == "scale"]
    assert [k.line for k in checked.offloaded() if k.function == "scale"]  # its kernels stay offloaded


def test_a_host_read_of_data_left_on_the_device_is_rejected():
    unit, analysis, plan = _plan(HALF)
    assert plancheck.check_function(unit, analysis, plan, "main").ok
    last = max(plan.offloaded(), key=lambda k: k.line)  # the final sum, on the device
    last.decision = Decision.SERIAL  # now the host reads c, which only the device has
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid in ("PCX211", "PCX214"), v


TWO_KERNELS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 1000 + argc;
  double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) a[i] = i;
  for (int i = 0; i < n; i++) b[i] = a[i] * 2.0;
  printf("%f %f\n", a[n - 1], b[n - 1]);
  return 0;
}
"""


def test_a_result_dropped_with_the_device_copy_is_rejected():
    unit, analysis, plan = _plan(TWO_KERNELS)
    region = _region(plan)
    assert plancheck.check_function(unit, analysis, plan, "main").ok
    # the planner brings a and b home for the host's reads; without that they stay behind
    region.updates = []
    for m in region.maps:
        m.kind = {MapKind.FROM: MapKind.ALLOC, MapKind.TOFROM: MapKind.TO}.get(m.kind, m.kind)
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid in ("PCX211", "PCX214"), v


def test_enforce_drops_the_region_then_the_kernel_and_says_why():
    unit, analysis, plan = _plan(TIME_LOOP)
    region = _region(plan)
    region.updates = [u for u in region.updates if u.direction != "from"]
    checked = plancheck.enforce(unit, analysis, copy.deepcopy(plan))
    assert not [r for r in checked.regions if r.function == "main"]
    assert any(r.id == "PCX211" and "data region not emitted" in r.message for r in checked.remarks)
    # the region's own remarks go with it (a held-out check read PCX200 and PCX201 lines
    # describing a region and updates that the emitted source did not have)
    assert not [r for r in checked.remarks if r.id in ("PCX200", "PCX201") and r.line in
                {region.line, *(u.line for u in region.updates)}], checked.remarks
    assert checked.offloaded(), "the kernels keep their own maps"
    for fname in {k.function for k in checked.offloaded()}:
        assert plancheck.check_function(unit, analysis, checked, fname).ok


def test_every_example_plan_passes_except_known_wrong_ones():
    """The checker accepts the engine's plans for the examples (no false alarms), except
    pathfinder's, which maps its host-written ghost column ``alloc`` (a real bug)."""
    failing = {}
    for path in sorted((ROOT / "examples").glob("*/*.c")) + sorted((ROOT / "examples").glob("cpp/*/*.cpp")):
        unit, analysis, plan = _plan(path.read_text(), path.name)
        for fname in sorted({k.function for k in plan.offloaded()} | {r.function for r in plan.regions}):
            v = plancheck.check_function(unit, analysis, plan, fname)
            if not v.ok:
                failing[f"{path.parent.name}/{path.name}:{fname}"] = f"{v.rid} {v.message}"
    assert set(failing) <= {"pathfinder/main.cpp:main"}, failing


# ------------------------------------------------------------------ the reproducers

NEXT = "static int seed = 1;\nstatic int next(void) { seed = seed * 5 + 1; return (seed >> 4) & 7; }\n"

REPRODUCERS = {
    # A: a host write overwritten by a whole-array update from (a column stays on the host)
    "A": NEXT + r"""
int main(int argc, char **argv) {
  int n = 300 + argc, ld = n + 1;
  int *F = malloc(sizeof(int) * (size_t)(n + 1) * ld);
  for (int i = 0; i <= n; i++) F[i * ld] = -2 * i + (next() & 0);
  for (int j = 0; j <= n; j++) F[j] = -2 * j;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= n; j++) {
      int d = F[(i-1)*ld + j-1] + ((i ^ j) & 1), u = F[(i-1)*ld + j] - 2;
      F[i*ld + j] = d > u ? d : u;
    }
  long s = 0;
  for (int i = 0; i <= n; i++) for (int j = 0; j <= n; j++) s += F[i*ld+j];
  printf("%ld\n", s);
  return 0;
}
""",
    # B: arrays declared through a function-like macro are still written
    "B": r"""
#define N 800
#define ARR(v) v[restrict N]
static void kernel(int n, double ARR(x), double ARR(w), double ARR(z)) {
  int i, j;
  for (i = 0; i < n; i++) x[i] = x[i] + z[i];
  for (i = 0; i < n; i++) for (j = 0; j < n; j++) w[i] = w[i] + x[j];
}
static double x[N], w[N], z[N];
""" + NEXT + r"""
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { x[i] = next(); w[i] = next(); z[i] = next(); }
  kernel(argc > 1 ? N / 2 : N, x, w, z);
  double s = 0; for (int i = 0; i < N; i++) s += x[i] + w[i] * (i + 1);
  printf("%.1f\n", s);
  return 0;
}
""",
    # C: a kernel under a run-time condition
    "C": r"""
#define N 2048
int a[N], b[N];
""" + NEXT + r"""
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) a[i] = next();
  if (argc > 1)
    for (int i = 0; i < N; i++) a[i] = 2 * i;
  for (int i = 0; i < N; i++) b[i] = i;
  printf("%d %d\n", a[5], b[5]);
  return 0;
}
""",
    # D: host-initialised array; single host element writes between kernels
    "D": NEXT + r"""
#define N 2048
int main(int argc, char **argv) {
  static int a[N], b[N], c[N];
  for (int i = 0; i < N; i++) a[i] = next();
  for (int t = 0; t < 3 + argc; t++) {
    for (int i = 0; i < N; i++) b[i] = b[i] + i;
    a[t] += 1;
  }
  for (int i = 0; i < N; i++) c[i] = a[i] + b[i];
  long s = 0; for (int i = 0; i < N; i++) s += c[i] * (i + 1);
  printf("%ld\n", s);
  return 0;
}
""",
    # E: an update from at the top of a time loop, before the device ever wrote
    "E": NEXT + r"""
#define N 2048
int main(int argc, char **argv) {
  static long a[N];
  for (int i = 0; i < N; i++) a[i] = next() * 1000;
  for (int t = 0; t < 3 + argc; t++) {
    for (int i = 1; i < N; i++) a[i] = a[i-1] / 2 + 7;
    for (int i = 0; i < N; i++) a[i] += 1;
  }
  long s = 0; for (int i = 0; i < N; i++) s += a[i] * (i + 1);
  printf("%ld\n", s);
  return 0;
}
""",
    # F: pointer swap in a host time loop
    "F": r"""
#define N 4096
int main(int argc, char **argv) {
  long *cur = malloc(N * sizeof(long)), *nxt = malloc(N * sizeof(long)), *out = malloc(N * sizeof(long));
  for (int i = 0; i < N; i++) cur[i] = i;
  for (int i = 0; i < N; i++) nxt[i] = 2 * i;
  for (int t = 0; t < 4 + argc; t++) {
    for (int i = 1; i < N; i++) nxt[i] = (nxt[i-1] >> 1) + cur[i];
    long *tmp = cur; cur = nxt; nxt = tmp;
  }
  for (int i = 0; i < N; i++) out[i] = cur[i] + 3 * nxt[i];
  long s = 0; for (int i = 0; i < N; i++) s += out[i] * (i % 5);
  printf("%ld\n", s);
  return 0;
}
""",
    # G: a guarded, tiled kernel whose natural section reaches past the array
    "G": r"""
#define N 256
int main(int argc, char **argv) {
  int *A = malloc(sizeof(int) * N * N), *out = malloc(sizeof(int) * N * N);
  for (int i = 0; i < N * N; i++) A[i] = i % 13;
  for (int i = 0; i < N * N; i++) out[i] = argc;
  for (int tj = 0; tj < N / 2 + 2; tj++)
    for (int y = 0; y < N; y++) {
      int x = 2 * tj;
      if (x >= N || y >= N) continue;
      out[y * N + x] = A[y * N + x] + A[y * N + x + 1];
    }
  long s = 0; for (int i = 0; i < N * N; i++) s += out[i] * (i % 7);
  printf("%ld\n", s);
  return 0;
}
""",
    # H: a written struct-member array of pointers
    "H": r"""
typedef struct node { void **pointers; int num_keys; } node;
void clear_tail(node *leaf, int order) {
  int k = leaf->num_keys, i;
  for (i = k; i < order - 1; i++) leaf->pointers[i] = NULL;
}
int main(int argc, char **argv) {
  int order = 3000 + argc;
  node nd; nd.num_keys = 10; nd.pointers = malloc(sizeof(void*) * order);
  for (int i = 0; i < order; i++) nd.pointers[i] = &nd;
  clear_tail(&nd, order);
  int c = 0; for (int i = 0; i < order; i++) c += nd.pointers[i] == NULL;
  printf("NULL pointers: %d\n", c);
  return 0;
}
""",
}




@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_reproducer_gives_the_serial_output(tmp_path, name):
    text = "#include <stdio.h>\n#include <stdlib.h>\n" + REPRODUCERS[name]
    unit = SourceUnit(f"{name}.c", text, Language.C, str(tmp_path))
    analysis = analyse_unit(unit)
    plan = plancheck.enforce(unit, analysis, plan_unit(unit, analysis))
    src, rewritten = tmp_path / f"{name}.c", tmp_path / f"{name}_omp.c"
    src.write_text(text)
    rewritten.write_text(rewrite_unit(unit, plan).text)
    # H's arrays of pointers in a struct are refused (PCX118): clang-19 maps them wrongly
    assert plan.offloaded() or name == "H", f"{name}: nothing offloaded, so the run proves nothing"
    serial, offload = tmp_path / "serial", tmp_path / "offload"
    for cmd in ([CLANG, "-O1", str(src), "-o", str(serial)],
                [CLANG, *HOST_OFFLOAD, str(rewritten), "-o", str(offload)]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
    for args in ([], ["x"]):  # argc == 1 and argc == 2 take each branch
        want, got = run_with_args(serial, args), run_with_args(offload, args)
        assert got == want, f"{name} {args}: serial {want}, offloaded {got}"


# Pointer parameters of different arithmetic types cannot address one object (C11 6.5p7,
# what -fstrict-aliasing assumes): an ``int *`` index array and a ``double *`` vector are
# two arrays, so the callee keeps its region; two ``double *`` (or a ``char *``, which may
# address anything) still may be one array.
TYPED_PARAMS = r"""
static void scale(int n, int *idx, double *v) {
  for (int i = 0; i < n; i++) idx[i] = i % 7;
  for (int i = 0; i < n; i++) v[i] = v[i] * 2.0 + idx[i];
}
int main(int argc, char **argv) {
  int n = 100000; int *idx = malloc(sizeof(int) * n); double *v = malloc(sizeof(double) * n);
  unsigned seed = 1; for (int i = 0; i < n; i++) { seed = seed * 1103515245u + 12345u; v[i] = (double)(seed >> 20); }
  for (int r = 0; r < argc; r++) scale(n, idx, v);
  double s = 0; for (int i = 0; i < n; i++) s = s * 0.999 + v[i];
  printf("%.6f\n", s);
  return 0;
}
"""


def test_pointers_to_different_arithmetic_types_are_two_arrays():
    unit, analysis, plan = _plan("#include <stdio.h>\n#include <stdlib.h>\n" + TYPED_PARAMS)
    assert plancheck.check_function(unit, analysis, plan, "scale").ok
    for same in ("double *idx", "char *idx"):
        text = TYPED_PARAMS.replace("int *idx", same)
        unit, analysis, plan = _plan("#include <stdio.h>\n#include <stdlib.h>\n" + text)
        assert any(r.function == "scale" for r in plan.regions)
        # scale's only call passes two allocations: the analysis proved them distinct
        # (FunctionAnalysis.distinct_params), and the checker takes its word for that ...
        assert plancheck.check_function(unit, analysis, plan, "scale").ok, same
        # ... and only for that: without it, two pointers that may share a buffer fail
        for fa in analysis.functions:
            fa.distinct_params = []
        assert not plancheck.check_function(unit, analysis, plan, "scale").ok, same




# main passes A as both A and x of mv (functions are checked in name order: main first).
CALLEE_DEMOTED_LATER = r"""
static void mv(int n, const double *A, const double *x, double *restrict y) {
  for (int i = 0; i < n; i++) {
    double t = 0;
    for (int j = 0; j < n; j++) t += A[i * n + j] * x[j];
    y[i] = t;
  }
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 300 : 200;
  double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n), *z = malloc(sizeof(double) * n);
  double *A = malloc(sizeof(double) * n * n);
  for (int i = 0; i < n; i++) x[i] = i % 13;
  for (int i = 0; i < n * n; i++) A[i] = (i % 17) * 0.25;
  mv(n, A, x, z);
  mv(n, A, A, y);   /* x and A one array: mv's kernel cannot map both */
  double s = 0;
  for (int i = 0; i < n; i++) s += z[i] + y[i];
  printf("%.6f\n", s);
  return 0;
}
"""


def test_a_callee_given_one_array_twice_is_versioned_and_its_caller_keeps_no_region_over_it():
    """Once, the check demoted mv after main was checked (main's region, planned for mv on
    the device, had to be checked again: the host mv read stale A and x).  A and x are only
    read, but one buffer under two names may not be mapped twice: mv's nest is now
    versioned at run time (PCX128; disjoint or the very same section), so it maps its own
    data and is not summarised into main's region."""
    unit, analysis, plan = _plan("#include <stdio.h>\n#include <stdlib.h>\n" + CALLEE_DEMOTED_LATER)
    (mv,) = [k for k in plan.kernels if k.function == "mv"]
    assert mv.decision is Decision.OFFLOADED and mv.alias_test
    checked = plancheck.enforce(unit, analysis, plan)
    assert {k.decision for k in checked.kernels if k.function == "mv"} == {Decision.OFFLOADED}
    assert not any(r.function == "main" and r.kernels == [] for r in checked.regions)


LATER_REPRODUCERS = {"typed": TYPED_PARAMS, "demoted": CALLEE_DEMOTED_LATER}


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("name", sorted(LATER_REPRODUCERS))
def test_later_reproducer_gives_the_serial_output(tmp_path, name, monkeypatch):
    monkeypatch.setitem(REPRODUCERS, name, LATER_REPRODUCERS[name])
    test_reproducer_gives_the_serial_output(tmp_path, name)


# Comments between a call's arguments are not arguments: the checker once counted them,
# so ``smooth(n, /* into */ b, /* from */ a)`` sent ``b`` to the callee's third parameter
# and it refused the region (PCX216) that the same call without comments kept.
COMMENTED_CALLS = r"""
#include <stdio.h>
#include <stdlib.h>
static void smooth(int n, double *dst, /* read only */ const double *src) {
  for (int i = 1; i < n - 1; i++)
    dst[i] = (src[i - 1] + src[i] + src[i + 1]) / 3.0;
}
int main(int argc, char **argv) {
  int n = 4000 + argc;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) { a[i] = i % 7; b[i] = 0; }
  for (int t = 0; t < 10; t++) {
    smooth(n, /* into */ b, /* from */ a);
    smooth(n /* length */, a, b);
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * (i % 5);
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_comments_between_arguments_do_not_shift_them(tmp_path):
    unit = SourceUnit("commented.c", COMMENTED_CALLS, Language.C, str(tmp_path))
    analysis = analyse_unit(unit)
    plan = plancheck.enforce(unit, analysis, plan_unit(unit, analysis))
    assert [r.function for r in plan.regions] == ["main"]
    assert not [r for r in plan.remarks if r.id == "PCX216"], plan.remarks
    src, rewritten = tmp_path / "commented.c", tmp_path / "commented_omp.c"
    src.write_text(COMMENTED_CALLS)
    rewritten.write_text(rewrite_unit(unit, plan).text)
    serial, offload = tmp_path / "serial", tmp_path / "offload"
    for cmd in ([CLANG, "-O1", str(src), "-o", str(serial)],
                [CLANG, *HOST_OFFLOAD, str(rewritten), "-o", str(offload)]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
    assert run_with_args(offload, []) == run_with_args(serial, [])


# Fixture 21 (loopfuzz seed 3301262), reduced: host code inside the region writes bufA
# through its second name 'cur'.  The checker rejects the region, also when the unit's tree
# leaves the parse cache between planning and checking (it once keyed the kernels by one
# parse's node ids and walked another parse's function: it saw no kernel and passed).
ALIAS_WRITE = r"""
#include <stdio.h>
#include <stdlib.h>
typedef unsigned int u32;
int main(int argc, char **argv) {
  int n = 54 - (argc > 1);
  u32 *bufA = malloc(sizeof(u32) * (size_t)n);
  u32 *cur = bufA;
  double g[64];
  for (int i = 0; i < n; i++) bufA[i] = ((u32)i * 2654435761u) ^ 40503u;
  cur[0] = cur[0] * 5u + 1u;
  for (int j = 0; j < n; j++) g[j] = 0.75 * j + (double)(bufA[j] & 1023u);
  u32 s = 0;
  double d = 0;
  for (int i = 0; i < n; i++) { s = s * 31u + bufA[i]; d += g[i]; }
  printf("%u %.3f\n", s, d);
  return 0;
}
"""


def test_a_write_through_a_second_name_is_caught_after_the_tree_is_parsed_again(monkeypatch):
    import functools

    from pcx_driver.engine import escapes, hostaccess, source

    # (the planner itself refuses this region now, ``cur`` copied before it: its rule is
    # switched off so that the checker's is what the test sees)
    monkeypatch.setattr(escapes, "_copied_before", lambda *args, **kwargs: None)
    one_tree = functools.lru_cache(maxsize=1)(source.parse.__wrapped__)  # every other text evicts it
    monkeypatch.setattr(source, "parse", one_tree)
    monkeypatch.setattr(hostaccess, "parse", one_tree)
    unit = SourceUnit("alias.c", ALIAS_WRITE, Language.C)
    analysis = analyse_unit(unit, min_work=0)
    plan = plan_unit(unit, analysis)
    assert [r.function for r in plan.regions] == ["main"]  # the planner's region, bufA held across
    one_tree(b"int other;")  # the unit's tree leaves the cache: the checker works on a new parse
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid == "PCX211" and "'cur'" in v.message, v


RESTRICT_INTO_ANOTHER = r"""
#include <stdio.h>
#define LEN 20000
#define SHIFT 48
float grid[LEN + SHIFT];
float bias[LEN];
float *__restrict__ ahead;  /* points into grid: the program breaks its own promise */
__attribute__((noinline)) static void step(void) {
  ahead = grid + SHIFT;
  for (int i = 0; i < LEN - 1; i++)  /* NEST */
    grid[i + 1] = ahead[i] * 0.5f + bias[i];
}
int main(void) {
  for (int i = 0; i < LEN + SHIFT; i++) grid[i] = (float)(i % 11);
  for (int i = 0; i < LEN; i++) bias[i] = 0.25f * (i % 3);
  step();
  double s = 0;
  for (int i = 0; i < LEN + SHIFT; i++) s += grid[i] * (i % 5 + 1);
  printf("%.1f\n", s);
  return 0;
}
"""


def test_a_versioned_kernel_keeps_apart_only_the_pairs_its_test_compares():
    """A kernel versioned at run time on ``ahead`` against ``bias`` was checked with every
    name its own buffer, though its test compares only that pair: ``ahead``, a
    ``restrict`` global the planner took at its word, is ``grid + 48`` (TSVC's s423 shape,
    a held-out check), and the kernel mapped ``grid[1:...]`` and ``ahead[0:...]``,
    overlapping sections of one array, which libomptarget refuses (an abort at run time,
    whatever the offload policy).  Pairs the test does not compare keep what the walk knows
    of them: the checker sees one array mapped twice and the nest stays serial."""
    unit = SourceUnit("step.c", RESTRICT_INTO_ANOTHER, Language.C)
    analysis = analyse_unit(unit)
    plan = plan_unit(unit, analysis)
    line = next(k + 1 for k, t in enumerate(RESTRICT_INTO_ANOTHER.splitlines()) if "/* NEST */" in t)
    kernel = next(k for k in plan.offloaded() if k.line == line)
    assert kernel.alias_test, kernel  # versioned on the pair it could not prove apart
    v = plancheck.check_function(unit, analysis, plan, "step")
    assert not v.ok and v.rid == "PCX215" and "'ahead' and 'grid' may be one array" in v.message, v
    checked = plancheck.enforce(unit, analysis, copy.deepcopy(plan))
    assert not [k for k in checked.offloaded() if k.line == line]
