"""Call-site provenance holds only for functions no other file can call.

``smooth(out, in, n)`` is called in its own file with two fresh allocations, so the
unit's call sites say ``out`` and ``in`` are distinct.  But it has external linkage: the
program's other file calls it in place, ``smooth(a, a + 1, n)``.  Trusting the one file's
call sites offloaded it unchecked, and that call aborted on the host device (one buffer
mapped twice, the second section extending the first).  Only a ``static`` function whose
address is never taken has all its callers in the unit (or any such function, when the
build links this one source alone); this one is versioned at run time (PCX128) and runs as
written on the overlapping call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402

CLANG = shutil.which("clang-19")
PCX_CC = Path(sys.executable).parent / "pcx-cc"

LIB = r"""
#include <stdlib.h>
SCOPE void smooth(double *out, const double *in, int n) {
  for (int i = 0; i < n - 2; i++)
    out[i] = 0.25 * in[i] + 0.5 * in[i + 1] + 0.25 * in[i + 2];
}
double lib_run(int n) {
  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) a[i] = (i * 7) % 13;
  smooth(b, a, n);
  double s = 0;
  for (int i = 0; i < n - 2; i++) s += b[i];
  free(a); free(b);
  return s;
}
"""

MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
void smooth(double *out, const double *in, int n);
double lib_run(int n);
int main(void) {
  int n = 5000;
  double *a = malloc(sizeof(double) * (n + 1));
  for (int i = 0; i <= n; i++) a[i] = (i * 5) % 11;
  smooth(a, a + 1, n);
  double s = 0;
  for (int i = 0; i <= n; i++) s += a[i] * (i % 3 + 1);
  printf("%.6f %.6f\n", s, lib_run(n));
  free(a);
  return 0;
}
"""


def _smooth_nest(scope: str, extra: str = "", whole_program: bool = False):
    ua = analyse_unit(SourceUnit("lib.c", LIB.replace("SCOPE", scope) + extra, Language.C,
                                 whole_program=whole_program))
    return next(n for f in ua.functions if f.name == "smooth" for n in f.nests)


def test_call_sites_prove_distinct_parameters_only_of_a_static_function() -> None:
    closed = _smooth_nest("static")
    assert closed.decision is Decision.OFFLOADED and not closed.alias_checks, [r.format() for r in closed.remarks]
    for nest in (_smooth_nest(""),  # external linkage: other files may call it
                 _smooth_nest("static", "void (*hook)(double *, const double *, int) = smooth;\n")):  # escapes
        assert nest.alias_checks, [r.format() for r in nest.remarks]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_function_called_from_another_file_in_place_gives_the_serial_output(tmp_path) -> None:
    (tmp_path / "lib.c").write_text(LIB.replace("SCOPE", ""))
    (tmp_path / "main.c").write_text(MAIN)
    r = subprocess.run([CLANG, "-O1", "lib.c", "main.c", "-o", "serial"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    for argv in (["-c", "lib.c"], ["-c", "main.c"], ["lib.o", "main.o", "-o", "offload"]):
        r = subprocess.run([str(PCX_CC), "-O1", *argv], cwd=tmp_path, capture_output=True, text=True, env=env)
        assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    serial = subprocess.run(["./serial"], cwd=tmp_path, capture_output=True, text=True)
    offload = subprocess.run(["./offload"], cwd=tmp_path, capture_output=True, text=True, env=dict(os.environ, **RUN_ENV))
    assert (offload.returncode, offload.stdout) == (0, serial.stdout), offload.stderr


def test_a_build_of_this_one_source_alone_has_every_call_in_it() -> None:
    """``pcx-cc lib.c -o prog`` (SourceUnit.whole_program): no other file exists to call
    ``smooth``, external linkage or not; an escaping address still counts."""
    whole = _smooth_nest("", whole_program=True)
    assert whole.decision is Decision.OFFLOADED and not whole.alias_checks, [r.format() for r in whole.remarks]
    escaped = _smooth_nest("", "void (*hook)(double *, const double *, int) = smooth;\n", whole_program=True)
    assert escaped.alias_checks, [r.format() for r in escaped.remarks]


CHAIN = r"""
#include <stdlib.h>
static void step(double *out, const double *in, const double *w, int n) {
  for (int i = 0; i < n; i++)
    out[i] = in[i] * w[i] + 1.0;
}
static void run(double *out, int reps, double *in, double *w, int n) {
  for (int r = 0; r < reps; r++)
    step(out, in, w, n);
  REASSIGN
}
double go(int n) {
  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n), *c = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) { b[i] = i; c[i] = 2; }
  run(a, 3, b, c, n);
  return a[n - 1];
}
"""


@pytest.mark.parametrize("reassign,distinct", [("", True), ("in = out;", False)],
                         ids=["passed on unchanged", "the caller reassigns one"])
def test_parameters_passed_on_are_distinct_where_the_callers_are(reassign, distinct) -> None:
    """Rodinia hotspot's shape: ``run`` passes its own parameters on to ``step``; they are
    distinct allocations at ``run``'s only call, so ``step``'s are too, unless ``run``
    reassigns one of them."""
    ua = analyse_unit(SourceUnit("chain.c", CHAIN.replace("REASSIGN", reassign), Language.C))
    (nest,) = [n for f in ua.functions if f.name == "step" for n in f.nests]
    assert nest.decision is Decision.OFFLOADED and (not nest.alias_checks) is distinct, \
        [r.format() for r in nest.remarks]


def _one_call(program: str) -> str:
    """test_coverage_versioning's template program (HeCBench stddev's shape) without its
    second, aliasing call: every call now passes two distinct allocations."""
    lines = [ln for ln in program.splitlines() if "colnorm(data, data" not in ln]
    assert len(lines) == len(program.splitlines()) - 1
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_the_plan_checker_knows_parameters_the_calls_prove_distinct(tmp_path) -> None:
    """HeCBench stddev's shape, built as the whole program: ``out`` and ``data`` are
    distinct allocations at the only call, so the kernel is not versioned; the plan
    checker, which takes two unrestricted pointer parameters for one array unless told
    otherwise (FunctionAnalysis.distinct_params), must not then refuse it (PCX215)."""
    from test_coverage_liveness import build_and_compare
    from test_coverage_versioning import TEMPLATE

    data = build_and_compare(tmp_path, _one_call(TEMPLATE), ["NEST1"], suffix=".cpp")
    ids = [r["id"] for s in data["sources"] for n in s["nests"] for r in n["reasons"]]
    assert "PCX128" not in ids and "PCX215" not in ids, ids


METHOD = r"""
#include <stdlib.h>
struct Grid {
  static void smooth(double *out, const double *in, int n) {
    for (int i = 0; i < n - 2; i++)
      out[i] = 0.25 * in[i] + 0.5 * in[i + 1] + 0.25 * in[i + 2];
  }
};
double run(int n) {
  double *a = (double *)malloc(sizeof(double) * n), *b = (double *)malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) a[i] = (i * 7) % 13;
  Grid::smooth(b, a, n);
  return b[0];
}
"""


def test_a_method_is_never_taken_for_having_all_its_calls_here() -> None:
    """A ``static`` member function has external linkage (and a virtual one is called
    through its base): its calls here prove nothing about its parameters, whole program
    or not."""
    for whole in (False, True):
        ua = analyse_unit(SourceUnit("m.cpp", METHOD, Language.CXX, whole_program=whole))
        (nest,) = [n for n in ua.nests() if n.line == 5]
        assert nest.decision is not Decision.OFFLOADED or nest.alias_checks, [r.format() for r in nest.remarks]
