"""Min-plus relaxation through a pivot (engine/pivot.py): Floyd-Warshall's ``i``/``j`` loops
run as one kernel per ``k``, versioned on ``path[k][k]`` on the device.

A graph without negative cycles keeps every diagonal element non-negative, so the stores
to row and column ``k`` change nothing and the kernel gives the serial answer bit for bit;
with a negative self-loop the step runs as written, on one device thread, and the answer
is still the serial one.  A relaxation whose pivot varies inside the nest, or that also
writes elsewhere, stays serial (PCX101).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit  # noqa: E402
from pcx_driver.model import Decision, Language, SourceUnit  # noqa: E402

CLANG = shutil.which("clang-19")

FLOYD = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 160
static TYPE path[N][N];
int main(int argc, char **argv) {
  int n = N - (argc > 1);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      path[i][j] = (i == j) ? DIAGONAL : ((i * 7 + j * 13) % 29 == 0 ? 1000 : (i * j) % 17 + 1);
  for (int k = 0; k < n; k++)
    for (int i = 0; i < n; i++)                     /* RELAX */
      for (int j = 0; j < n; j++)
        path[i][j] = STATEMENT;
  double s = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) s += (double)path[i][j] * ((i + 2 * j) % 5 + 1);
  printf("%.6e\n", s);
  return 0;
}
"""

MIN_LT = "path[i][j] < path[i][k] + path[k][j] ? path[i][j] : path[i][k] + path[k][j]"
SUM_LE = "path[i][k] + path[k][j] <= path[i][j] ? path[i][k] + path[k][j] : path[i][j]"


def _program(type_: str, statement: str, diagonal: str = "0") -> str:
    return FLOYD.replace("TYPE", type_).replace("STATEMENT", statement).replace("DIAGONAL", diagonal)


def _test_of(data: dict) -> str:
    remarks = [r["message"] for s in data["sources"] for n in s["nests"] for r in n["reasons"] if r["id"] == "PCX142"]
    assert len(remarks) == 1, [n for s in data["sources"] for n in s["nests"]]
    return remarks[0]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("type_,statement,test", [
    ("int", MIN_LT, "path[k][k] >= 0"),
    # a tie stores the sum: -0.0 + 0.0 is +0.0; and +inf + -inf is NaN
    ("double", MIN_LT, "path[k][k] > 0 && path[k][k] - path[k][k] == 0"),
    ("float", SUM_LE, "path[k][k] > 0 && path[k][k] - path[k][k] == 0"),
    ("unsigned", MIN_LT, "path[k][k] == 0"),  # an unsigned sum wraps: only a zero pivot is safe
])
def test_floyd_warshall_runs_one_kernel_per_pivot(tmp_path: Path, type_: str, statement: str, test: str) -> None:
    data = build_and_compare(tmp_path, _program(type_, statement), ["RELAX"])
    assert test in _test_of(data)


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_negative_cycle_runs_the_step_as_written(tmp_path: Path) -> None:
    # nodes 40 and 90 have self-loops of weight -3 and -1: their steps run as written
    src = _program("int", MIN_LT, "(i == 40 ? -3 : i == 90 ? -1 : 0)")
    data = build_and_compare(tmp_path, src, ["RELAX"])
    assert "path[k][k] >= 0" in _test_of(data)


@pytest.mark.parametrize("statement", [
    # the pivot is the loop's own index: a real dependence
    "for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) "
    "p[i][j] = p[i][j] < p[i][j] + p[j][j] ? p[i][j] : p[i][j] + p[j][j];",
    # a maximum, not a minimum: the stores to row k are not silent
    "for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) "
    "p[i][j] = p[i][j] > p[i][k] + p[k][j] ? p[i][j] : p[i][k] + p[k][j];",
    # another write to the array
    "for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { "
    "p[i][j] = p[i][j] < p[i][k] + p[k][j] ? p[i][j] : p[i][k] + p[k][j]; p[k][j] += 1; }",
])
def test_other_relaxations_stay_serial(statement: str) -> None:
    src = f"void step(int n, int k, int p[100][100]) {{\n  {statement}\n}}\n"
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    (nest,) = [x for f in ua.functions for x in f.nests if x.line == 2 and x.column == 3]
    assert nest.decision is not Decision.OFFLOADED and not nest.pivot_test, nest.remarks


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_unsigned_sums_that_wrap_run_the_step_as_written(tmp_path: Path) -> None:
    # weights near UINT_MAX: path[i][k] + path[k][j] wraps below path[i][j], and a non-zero
    # diagonal changes row and column k as the step runs; only the loop as written is right
    src = _program("unsigned", MIN_LT, "300000000u").replace("(i * j) % 17 + 1", "4000000000u + (unsigned)((i * j) % 17)")
    data = build_and_compare(tmp_path, src, ["RELAX"])
    assert "path[k][k] == 0" in _test_of(data)


INFINITE_PIVOT = r"""
#include <math.h>
#include <stdio.h>
#define N 400
static double p[N][N];
int main(int argc, char **argv) {
  int n = N - argc + 1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) p[i][j] = i == j ? 0 : (i * 7 + j * 13) % 29 + 1;
  int K = n / 2 - 1, J = K + 20;
  for (int k = 0; k <= K; k++) { p[k][K] = INFINITY; p[K][k] = INFINITY; }
  p[K][J] = -INFINITY;
  for (int k = 0; k <= K; k++)
    for (int i = 0; i < n; i++)                     /* RELAX */
      for (int j = 0; j < n; j++)
        p[i][j] = p[i][j] < p[i][k] + p[k][j] ? p[i][j] : p[i][k] + p[k][j];
  int nan = 0, minf = 0;
  for (int i = 0; i < n; i++) { nan += isnan(p[i][J]) != 0; minf += isinf(p[i][J]) && p[i][J] < 0; }
  printf("nan=%d -inf=%d\n", nan, minf);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_an_infinite_pivot_runs_the_step_as_written(tmp_path: Path) -> None:
    # p[K][K] is +inf until k = K, and p[K][J] is -inf: at k = K the store to (K, J) is
    # +inf + -inf, NaN, so the pivot row changes as the step runs (a held-out check: rows
    # that other threads relaxed read -inf, the serial program NaN)
    data = build_and_compare(tmp_path, INFINITE_PIVOT, ["RELAX"])
    assert "p[k][k] > 0 && p[k][k] - p[k][k] == 0" in _test_of(data)
