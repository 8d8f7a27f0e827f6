"""A pointer parameter whose extent only the callers know: the calls hand it over.

HeCBench's pool reads ``output_data_t[output_sub_idx]`` inside ``KernelPool2DGrad``, with
an index no loop bound reaches, from ``output = new float[output_numel]`` in main, whose
count is in none of the function's parameters (PCX116 "the array's size is not known
here").  Each call that is a statement of its own and passes a local allocation of known
size stores that pointer and its element count in two thread-local variables before the
call (and clears the pointer after it); the kernel maps ``param[0:length]`` and runs on the
device only when its pointer is the stored one.  Any other call (through a function
pointer, inside an expression, from another file) runs the loop as written on the host:
that is what the run-time test is for, so a wrong length is never mapped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare, refused_nest  # noqa: E402

from pcx_driver.model import Decision

GATHER = r"""
#include <stdio.h>
#include <stdlib.h>

/* the table is read where the data says: no loop bound reaches the subscript */
void gather(int n, const double *table, const int *idx, double *out) {
  for (int i = 0; i < n; i++)                                  /* NEST1 */
    out[i] = table[idx[i]] * 0.5 + i;
}

static double through_pointer(void (*f)(int, const double *, const int *, double *),
                              int n, const double *t, const int *ix, double *o) {
  f(n, t, ix, o);                       /* no extent handed over: the loop as written */
  return o[n - 1];
}

int main(int argc, char **argv) {
  int m = 5000 + (argc > 1), n = 6000;  /* (enough elements to pay for copying the table) */
  double *table = malloc(m * sizeof(double));
  double small[10];
  int *idx = malloc(n * sizeof(int));
  double *out = malloc(n * sizeof(double));
  for (int i = 0; i < m; i++) table[i] = i * 0.25;
  for (int i = 0; i < 10; i++) small[i] = 100.0 - i;
  for (int i = 0; i < n; i++) idx[i] = (i * 37) % m;
  gather(n, table, idx, out);                                  /* CALL1 */
  double s = 0;
  for (int i = 0; i < n; i++) s += out[i] * (i % 7);
  s += through_pointer(gather, n, table, idx, out);
  for (int i = 0; i < n; i++) idx[i] = i % 10;
  if (argc > 0) gather(n, small, idx, out);                    /* CALL2 */
  for (int i = 0; i < n; i++) s += out[i] * (i % 5);
  printf("%.6f\n", s);
  free(table); free(idx); free(out);
  return 0;
}
"""

POOL = r"""
#include <cstdio>
#include <algorithm>

template <class T> class Half {
 public:
  void apply(const T &x, T *acc) { *acc += x * T(0.5); }
};

// a window over rows the caller sized: the offsets are clamped, their range is unknown here
template <typename Op, typename T>
void window(int n, int w, const T *__restrict in, Op op, T *__restrict out) {
  for (int i = 0; i < n; i++) {                                // NEST1
    int lo = std::max(i - w, 0), hi = std::min(i + w, n - 1);
    T acc = T(0);
    const T *row = in + (i / 64) * 64;
    for (int k = lo; k <= hi; k++) op.apply(row[k % 64], &acc);
    out[i] = acc;
  }
}

int main(int argc, char **argv) {
  const int n = 4096 + (argc > 1);
  const int total = n + 64;
  float *in = new float[total];
  float *out = new float[n];
  for (int i = 0; i < total; i++) in[i] = (i % 13) * 0.5f;
  Half<float> op;
  for (int rep = 0; rep < 2; rep++)
    window<Half<float>, float>(n, 3, in, op, out);             // CALL1
  double s = 0;
  for (int i = 0; i < n; i++) s += out[i] * (i % 3);
  printf("%.3f\n", s);
  delete[] in;
  delete[] out;
  return 0;
}
"""


def _launches(exe: Path, line: int) -> int:
    return launch_lines(exe).count(line)


def _line(program: str, marker: str) -> int:
    return next(k + 1 for k, text in enumerate(program.splitlines()) if marker in text)


def test_the_calls_that_know_the_extent_hand_it_over() -> None:
    nest = analysed_nest(GATHER, "NEST1")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    (table,) = [a for a in nest.arrays if a.name == "table"]
    handed = table.caller_extent
    assert handed is not None and table.section.dims == [("0", handed.local_length)]
    assert [(s.line, s.argument, s.count) for s in handed.sites] == [
        (_line(GATHER, "CALL1"), "table", "m"), (_line(GATHER, "CALL2"), "small", "10")]
    assert any(r.id == "PCX202" and "handed over by the calls that know it" in r.message for r in nest.remarks)


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_handed_over_calls_run_on_the_device_and_the_others_as_written(tmp_path: Path) -> None:
    build_and_compare(tmp_path, GATHER, ["NEST1"])
    # the two calls that hand the extent over launch the kernel; the call through a
    # function pointer runs the loop as written
    assert _launches(tmp_path / "offload", _line(GATHER, "NEST1")) == 2


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_template_with_a_functor_gets_the_extent_from_its_caller(tmp_path: Path) -> None:
    build_and_compare(tmp_path, POOL, ["NEST1"], suffix=".cpp")
    assert _launches(tmp_path / "offload", _line(POOL, "NEST1")) == 2


@pytest.mark.parametrize("old,new", [
    pytest.param("  gather(n, table, idx, out);                                  /* CALL1 */\n",
                 "  m = m + 0;\n  gather(n, table, idx, out);\n", id="the count changes after the allocation"),
    pytest.param("gather(n, table, idx, out);                                  /* CALL1 */",
                 "{ int m = 3; gather(n, table, idx, out); }", id="the count's name means another variable"),
    pytest.param("gather(n, table, idx, out);                                  /* CALL1 */",
                 "gather(n, table + 1, idx, out);", id="a pointer into the allocation"),
    pytest.param("gather(n, table, idx, out);                                  /* CALL1 */",
                 "(void)(gather(n, table, idx, out), 0);", id="a call inside an expression"),
    pytest.param("gather(n, table, idx, out);                                  /* CALL1 */",
                 "gather(n, table, idx, (table = table + 0, out));", id="an argument that moves the pointer"),
])
def test_a_call_that_cannot_vouch_for_the_count_hands_nothing_over(old, new) -> None:
    """With the second call (a local array of 10) gone, only the first could hand the
    extent over; each change below makes its count unsure, and the loop stays serial."""
    src = GATHER.replace("  if (argc > 0) gather(n, small, idx, out);                    /* CALL2 */\n", "")
    assert src.count(old) == 1
    refused_nest(src.replace(old, new), "NEST1", "PCX116", "extent of 'table' cannot be determined")


def test_a_function_that_moves_the_pointer_hands_nothing_over() -> None:
    src = GATHER.replace("  for (int i = 0; i < n; i++)                                  /* NEST1 */",
                         "  table += 0;\n  for (int i = 0; i < n; i++)                                  /* NEST1 */")
    refused_nest(src, "NEST1", "PCX116", "extent of 'table' cannot be determined")


# Ways a count or a pointer changes between the allocation and the call that no plain
# assignment shows (a held-out check's crashes: the kernel mapped 10 elements of a table
# it read 1,000 of).  Each keeps the hand-over off at that call.
UNSEEN_CHANGES = [
    pytest.param("  int *pm = &m;\n  *pm = 10;\n", "t.c", id="the count changed through a pointer"),
    pytest.param("#define SHRINK(x) ((x) = 10)\n  SHRINK(m);\n", "t.c", id="the count changed by a macro"),
    pytest.param("#define REPOINT(x) ((x) = small)\n  REPOINT(table);\n", "t.c", id="the pointer moved by a macro"),
    pytest.param("  int &rm = m;\n  rm = 10;\n", "t.cpp", id="the count changed through a reference"),
    pytest.param("  std::swap(table, idx2);\n", "t.cpp", id="the pointer swapped"),
]


@pytest.mark.parametrize("change,path", UNSEEN_CHANGES)
def test_a_change_no_assignment_shows_keeps_the_extent_unknown(change, path) -> None:
    src = GATHER.replace("  if (argc > 0) gather(n, small, idx, out);                    /* CALL2 */\n", "")
    src = src.replace("  gather(n, table, idx, out);                                  /* CALL1 */",
                      change + "  gather(n, table, idx, out);                                  /* CALL1 */")
    if path.endswith(".cpp"):
        src = src.replace("#include <stdlib.h>", "#include <stdlib.h>\n#include <utility>")
        src = src.replace("malloc(m * sizeof(double));", "(double *)malloc(m * sizeof(double));")
        src = src.replace("double *out = malloc(", "double *idx2 = table;\n  double *out = (double *)malloc(")
        src = src.replace("int *idx = malloc(", "int *idx = (int *)malloc(")
    nest = analysed_nest(src, "NEST1", path=path)
    assert all(a.caller_extent is None for a in nest.arrays), [r.format() for r in nest.remarks]


SAME_NAMES = r"""
#include <stdio.h>
#include <stdlib.h>
/* two functions whose name and parameter join to the same text: a(b_c), a_b(c) */
void a(int n, const double *b_c, const int *ix, double *o) {
  for (int i = 0; i < n; i++)                                   /* NEST_A */
    o[i] = b_c[ix[i]] + 1.0;
}
void a_b(int n, const char *c, const int *ix, double *o) {
  for (int i = 0; i < n; i++)                                   /* NEST_AB */
    o[i] += c[ix[i]];
}
int main(int argc, char **argv) {
  int n = 4000 + argc, m = 9000;
  double *t = malloc(m * sizeof(double)), *o = malloc(n * sizeof(double));
  char *s = malloc(m * sizeof(char));
  int *ix = malloc(n * sizeof(int));
  for (int i = 0; i < m; i++) { t[i] = i * 0.5; s[i] = (char)(i % 100); }
  for (int i = 0; i < n; i++) ix[i] = (i * 13) % m;
  a(n, t, ix, o);
  a_b(n, s, ix, o);
  double z = 0;
  for (int i = 0; i < n; i++) z += o[i] * (i % 3);
  printf("%.2f\n", z);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_functions_whose_names_join_alike_keep_their_own_hand_overs(tmp_path: Path) -> None:
    build_and_compare(tmp_path, SAME_NAMES, ["NEST_A", "NEST_AB"])


LEFT_BY_LONGJMP = r"""
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
static jmp_buf jb;
static int bail = 1;
void scat(double *p, const int *idx, int n) {
  if (bail) { bail = 0; longjmp(jb, 1); }
  for (int i = 0; i < n; i++)                                    /* SCATTER */
    p[idx[i]] += 1.0 + idx[i];
}
void through(double *p, const int *idx, int n) { scat(p, idx, n); }
int main(int argc, char **argv) {
  int n = 2000 + argc;
  int *idx = malloc(n * sizeof(int));
  for (int i = 0; i < n; i++) idx[i] = (i * 7) % 10;
  double *big = malloc(1000 * sizeof(double));
  if (!setjmp(jb)) scat(big, idx, n);       /* hands 1000 over, then leaves by longjmp */
  free(big);
  double *b = malloc(10 * sizeof(double));  /* (often where big was) */
  for (int i = 0; i < 10; i++) b[i] = i;
  through(b, idx, n);                       /* hands nothing over */
  double s = 0;
  for (int i = 0; i < 10; i++) s += b[i] * (i % 3);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_hand_over_is_taken_by_the_call_it_was_made_for(tmp_path: Path) -> None:
    # The callee takes the hand-over into locals as it starts: a call left by longjmp
    # leaves nothing behind for a later call of a smaller block at the same address.
    build_and_compare(tmp_path, LEFT_BY_LONGJMP, [])
    assert _launches(tmp_path / "offload", _line(LEFT_BY_LONGJMP, "SCATTER")) == 0


OVERLOADS = r"""
#include <cstdio>
namespace A { void scat(double *p, const int *idx, int n) {
  for (int i = 0; i < n; i++) p[idx[i]] += 1.0 + idx[i]; } }              // NEST_A
namespace B { void scat(double *p, const int *idx, int n) {
  for (int i = 0; i < n; i++) p[idx[i]] += 3.0; } }                       // NEST_B
void scat(float *p, const int *idx, int n) {
  for (int i = 0; i < n; i++) p[idx[i]] += 2.0f; }                        // NEST_F
using namespace B;
int main(int argc, char **argv) {
  int n = 3000 + argc, m = 1000;
  int *idx = new int[n];
  for (int i = 0; i < n; i++) idx[i] = (i * 7) % 1000;
  double *a = new double[m];
  double *b = new double[10];
  float *f = new float[10];
  for (int i = 0; i < m; i++) a[i] = i;
  for (int i = 0; i < 10; i++) { b[i] = i; f[i] = i; }
  A::scat(a, idx, n);
  for (int i = 0; i < n; i++) idx[i] = i % 10;
  scat(b, idx, n);
  scat(f, idx, n);
  double s = 0;
  for (int i = 0; i < m; i++) s += a[i] * (i % 13);
  for (int i = 0; i < 10; i++) s += b[i] + f[i];
  std::printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_overloads_and_namesakes_each_take_their_own_hand_over(tmp_path: Path) -> None:
    # one pair of variables per function (a held-out check: the namesakes shared one pair,
    # and the rewrite declared the locals in one of them only: PCX007)
    build_and_compare(tmp_path, OVERLOADS, ["NEST_B", "NEST_F"], suffix=".cpp")


def test_a_count_read_through_a_member_assigned_after_the_allocation_is_unsure() -> None:
    # ``malloc(sizeof(t_speed) * p.nx * p.ny)`` and then ``p.nx = 64``: the member's store is
    # no assignment of ``p`` itself, and the count at the call is another
    from test_struct_members_on_device import LATTICE

    src = LATTICE.replace("  for (int t = 0; t < 3; t++)", "  p.nx = 64;\n  for (int t = 0; t < 3; t++)")
    assert src != LATTICE
    nest = analysed_nest(src, "SHIFT")
    assert nest.decision is not Decision.OFFLOADED, [r.format() for r in nest.remarks]


ELSEWHERE = r"""
void report(const double *p, int n);   // defined in another file: takes the pointer's value
void renew(double *&p, int n);         // defined in another file: may store into the pointer
void gather(int n, const double *table, const int *idx, double *out) {
  for (int i = 0; i < n; i++)                                  // NEST1
    out[i] = table[idx[i]] * 0.5;
}
void run(int n, const int *idx, double *out) {
  const int m = 5000;
  double *table = new double[m];
  report(table, m);
  gather(n, table, idx, out);
  delete[] table;
}
"""


@pytest.mark.parametrize("extra,handed", [
    pytest.param("", True, id="a call taking the pointer's value"),
    pytest.param("  renew(table, m);\n", False, id="a call taking the pointer by reference"),
])
def test_calls_into_other_files_keep_the_pointer_by_their_parameters(extra, handed) -> None:
    # libclang's parameters of a function declared only here (or defined in a header) say
    # whether the call can store into the pointer (HeCBench pool passes its arrays to a
    # reference check in reference.h)
    src = ELSEWHERE.replace("  report(table, m);\n", "  report(table, m);\n" + extra)
    nest = analysed_nest(src, "NEST1", path="t.cpp")
    (table,) = [a for a in nest.arrays if a.name == "table"] or [None]
    assert (table is not None and table.caller_extent is not None) is handed, [r.format() for r in nest.remarks]


REPEATS = r"""
#include <stdio.h>
#include <stdlib.h>
/* the kernel inside the helper's own repeat loop: the helper's data region tests the
   hand-over once, before the loop, and holds the arrays across its repeats */
void smooth(const double *table, const int *idx, double *out, int n, int reps) {
  for (int r = 0; r < reps; r++)
    for (int i = 0; i < n; i++)                                        /* NEST1 */
      out[i] = 0.5 * out[i] + table[idx[i]] + r;
}
int main(int argc, char **argv) {
  int m = 3000 + argc, n = 20000;
  double *table = malloc(sizeof(double) * m), *out = calloc(n, sizeof(double));
  int *idx = malloc(sizeof(int) * n);
  for (int i = 0; i < m; i++) table[i] = (i % 17) * 0.25;
  for (int i = 0; i < n; i++) idx[i] = (i * 7919) % m;
  smooth(table, idx, out, n, 4);                                       /* CALL1 */
  (smooth(table, idx, out, n, 3), (void)0);      /* inside an expression: as written */
  double s = 0;
  for (int i = 0; i < n; i++) s += out[i] * (i % 3);
  printf("%.4f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_region_tests_the_hand_over_for_its_kernels(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, REPEATS, ["NEST1"])
    remarks = [r["message"] for s in data["sources"] for r in s["remarks"] if r["line"] == _line(REPEATS, "NEST1") - 1]
    assert any("target data region keeps" in m for m in remarks), remarks
    # four repeats on the device at the call that hands the extent over; none at the other
    assert _launches(tmp_path / "offload", _line(REPEATS, "NEST1")) == 4


def test_a_handed_over_count_is_a_long_product() -> None:
    """``malloc(m * k * sizeof(double))`` hands over ``m * k``, computed in ``long``
    (``malloc``'s own product is a ``size_t``): in ``int`` it wrapped for a 4 GiB table,
    and the kernel read past the count it was given."""
    from pcx_driver.config import Config
    from pcx_driver.model import Language, SourceUnit
    from pcx_driver.pipeline import run_pipeline
    from pcx_driver.plugins import make_plugin_manager

    program = GATHER.replace("int m = 5000 + (argc > 1), n = 6000;", "int m = 50 + (argc > 1), k = 100, n = 2000;") \
        .replace("double *table = malloc(m * sizeof(double));", "double *table = malloc(m * k * sizeof(double));") \
        .replace("for (int i = 0; i < m; i++) table[i]", "for (int i = 0; i < m * k; i++) table[i]")
    assert program.count("m * k") == 2
    pm, _ = make_plugin_manager(entry_points=False)
    result = run_pipeline(SourceUnit("t.c", program, Language.C, semantic_args=["-fopenmp"]), pm,
                          Config.resolve({"mode": ["static"]}, environ={}))
    handed = [ln for ln in result.rewrite.text.splitlines() if "pcx_xlen" in ln and "m * k" in ln]
    assert handed and all("= (long)((long)m * k)" in ln for ln in handed), handed
