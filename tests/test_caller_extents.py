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

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
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
  int m = 5000 + (argc > 1), n = 2000;
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
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="16"))
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-1500:]
    return sum(1 for ln in p.stderr.splitlines() if "Launching kernel" in ln and re.search(rf"_l{line}\b", ln))


def _line(program: str, marker: str) -> int:
    return next(k + 1 for k, text in enumerate(program.splitlines()) if marker in text)


def test_the_calls_that_know_the_extent_hand_it_over() -> None:
    nest = analysed_nest(GATHER, "NEST1")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    (table,) = [a for a in nest.arrays if a.name == "table"]
    handed = table.caller_extent
    assert handed is not None and table.section.dims == [("0", handed.length_var)]
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
