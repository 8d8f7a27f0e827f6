"""The plan checker's own proof that a kernel writes a whole section (``plancheck/coverage.py``).

A ``map(from:)`` over elements the kernel does not write copies undefined device memory
over the host's values.  Twice the analysis claimed a total write that was not one, and the
checker, which took the claim on trust, let both through.  Here the analysis is made to
claim every write total (as a bug in it would), and the checker alone must refuse each
plan that copies back what no iteration wrote; where the writes do cover the section (2-D,
flattened rows, a loop that surely runs), it must prove the same
claim true and accept the plan.
"""

from __future__ import annotations

import pytest

from pcx_driver.engine import plancheck
from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.engine.dataplan import plan_unit
from pcx_driver.model import Language, MapKind, SourceUnit


def _program(decls: str, body: str, length: str) -> str:
    return f"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {{
  int n = 200 + argc, m = 100 - argc;
  {decls}
  for (int i = 0; i < {length}; i++) a[i] = -1.0;
  {body}
  double s = 0;
  for (int i = 0; i < {length}; i++) s += a[i] * (i % 7);
  printf("%f\\n", s);
  return 0;
}}
"""


FLAT = "double *a = malloc(3 * n * m * sizeof(double));"

# kernels whose writes miss elements of the section the analysis would map back
MISSES = {
    # a write under a loop that may run no iteration (m may be 0)
    "inner loop may not run": _program(FLAT, """
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++)
      a[i] = j * 0.5;""", "n"),
    # the first and last of three blocks written, the middle one not
    "two blocks of three": _program(FLAT, """
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      a[i * m + j] = 1.0 + j;
      a[2 * n * m + i * m + j] = 2.0 + j;
    }""", "3 * n * m"),
    # a triangle: a[0] is never written
    "triangle": _program(FLAT, """
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      a[i] = j;""", "n"),
    # every other element
    "step of two": _program(FLAT, """
  for (int i = 0; i < n; i += 2)
    a[i] = i;""", "n"),
    # rows of m written m + 1 apart
    "padded rows": _program(FLAT, """
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++)
      a[i * (m + 1) + j] = j;""", "n * (m + 1)"),
}


def _plan(source: str, claim_everything: bool):
    unit = SourceUnit("cover.c", source, Language.C)
    analysis = analyse_unit(unit, min_work=0)
    if claim_everything:  # what a wrong analysis would say
        for nest in analysis.nests():
            for a in nest.arrays:
                if a.written:
                    a.written_fully = True
    return unit, analysis, plan_unit(unit, analysis, regions=False)


def _kind_of_a(plan, line: int):
    kernel = next(k for k in plan.offloaded() if k.line == line)
    return [m.kind for m in kernel.maps if any(s.base == "a" for s in m.sections)]


@pytest.mark.parametrize("case", sorted(MISSES))
def test_a_copy_back_over_elements_no_iteration_writes_is_refused_whatever_the_analysis_says(case):
    source = MISSES[case]
    line = source.splitlines().index("  for (int i = 0; i < n; i++)" if "step" not in case
                                     else "  for (int i = 0; i < n; i += 2)") + 1
    unit, analysis, plan = _plan(source, claim_everything=True)
    assert _kind_of_a(plan, line) == [MapKind.FROM], "the planted claim makes the planner copy back only"
    verdict = plancheck.check_function(unit, analysis, plan, "main")
    assert not verdict.ok and verdict.rid == "PCX212" and "undefined" in verdict.message, verdict


TWO_D = """
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 200 + argc, m = 100 - argc;
  double (*a)[m] = malloc(sizeof(double[n][m]));
  for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i][j] = -1.0;
  for (int i = 0; i < n; i++) /* kernel */
    for (int j = 0; j < m; j++)
      a[i][j] = i + j;
  double s = 0;
  for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) s += a[i][j] * (j % 7);
  printf("%f\\n", s);
  return 0;
}
"""

COVERS = {
    "two dimensions": TWO_D,
    "flattened rows": _program(FLAT, """
  for (int i = 0; i < n; i++) /* kernel */
    for (int j = 0; j < m; j++)
      a[i * m + j] = i - j;""", "n * m"),
    "a loop that surely runs": _program(FLAT, """
  for (int i = 0; i < n; i++) /* kernel */
    for (int j = 0; j < 3; j++)
      a[i] = j * 0.5;""", "n"),
}


@pytest.mark.parametrize("case", sorted(COVERS))
def test_writes_that_cover_the_section_pass_the_checkers_own_proof(case):
    source = COVERS[case]
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "/* kernel */" in text)
    # the claim planted as for the misses: here it is true, and the checker proves it
    unit, analysis, plan = _plan(source, claim_everything=True)
    assert _kind_of_a(plan, line) == [MapKind.FROM], plan
    verdict = plancheck.check_function(unit, analysis, plan, "main")
    assert verdict.ok, verdict
