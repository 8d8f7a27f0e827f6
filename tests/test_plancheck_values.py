"""What the plan checker takes a name's value to be (``plancheck/facts.py``: ``definitions``,
``assigned``; ``walk.callee_effect``).

A callee's kernel that writes ``p[0:m]`` defines the caller's whole array only when ``m``
is its length.  The planner once took any total write of a parameter for the whole
argument (``dataplan._summarise``; now the caller compares the section, in its own names,
with its whole array); an adversarial check then found the checker agreeing wherever it
misread ``m``: a definition ``h = n`` kept after ``n`` changed, a change it did
not see (a parenthesised ``(h) = ...``, a macro that assigns, a C++ reference), a block's
own ``int m`` in the callee taken for the parameter.  The planner no longer claims it;
here the claim is planted again, and the checker alone must refuse each region, while the
real pipeline prints the serial output.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine import dataflow, dataplan, hostscan, plancheck  # noqa: E402
from pcx_driver.engine.analysis import analyse_unit  # noqa: E402
from pcx_driver.model import Language, Section, SourceUnit  # noqa: E402


def _program(helper: str, before: str, lang: str = "c") -> str:
    alloc = ("double *v = (double *)malloc(n * sizeof(double)), *w = (double *)malloc(n * sizeof(double));"
             if lang == "c" else "std::vector<double> v(n), w(n);")
    pointer = "v" if lang == "c" else "v.data()"
    head = "#include <stdio.h>\n#include <stdlib.h>\n" if lang == "c" else "#include <cstdio>\n#include <vector>\n"
    return head + helper + f"""
int main(int argc, char **argv) {{
  int n = 20000 + argc;
  int h = n;
  {before}
  {alloc}
  v[0] = 1.0;
  for (int i = 1; i < n; i++) v[i] = v[i - 1] * 0.5 + 1.0;  /* serial: the host's values */
  for (int i = 0; i < n; i++) w[i] = 0.0;
  for (int t = 0; t < 3; t++) {{
    prefix(h, {pointer});
    for (int i = 0; i < n; i++)  /* READ_ALL */
      w[i] += v[i];
  }}
  double s = 0;
  for (int i = 0; i < n; i++) s += w[i] * (i % 7 + 1);
  printf("%.6f\\n", s);
  return 0;
}}
"""


PREFIX = """
static void prefix(int m, double *p) {
  for (int i = 0; i < m; i++)  /* PREFIX */
    p[i] = i * 0.5;
}
"""

SHADOWED = """
static void prefix(int m, double *p) {
  if (m > 0) {
    int m = 5000;
    for (int i = 0; i < m; i++)  /* PREFIX */
      p[i] = i * 0.5;
  }
}
"""

CASES = {
    # h is the old n: the array is 3000 longer than what prefix writes
    "a definition whose name changes": (_program(PREFIX, "n += 3000;"), "c"),
    "a parenthesised assignment": (_program(PREFIX, "(h) = h / 2;"), "c"),
    "a macro that assigns": (_program("#define HALVE(x) ((x) /= 2)\n" + PREFIX, "HALVE(h);"), "c"),
    "a C++ reference parameter": (_program("static void halve(int &x) { x /= 2; }\n" + PREFIX, "halve(h);", "cpp"), "cpp"),
    "a C++ reference variable": (_program(PREFIX, "int &r = h; r -= 7000;", "cpp"), "cpp"),
    "a block's own m in the callee": (_program(SHADOWED, ""), "c"),
}


PLANTED = Section("\0planted", [])


def _plant(monkeypatch) -> None:
    """The old claim: a call whose callee writes a section of its parameter whole defines
    the caller's whole array, whatever the section."""
    monkeypatch.setattr(hostscan.HostScanner, "defined_section",
                        lambda self, callee, i, name, argv: PLANTED if callee.defined.get(i) is not None else None)
    real = dataflow.same_section
    monkeypatch.setattr(dataflow, "same_section", lambda a, b, *rest: a is PLANTED or real(a, b, *rest))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_checker_alone_refuses_a_region_that_takes_a_shorter_write_for_the_whole(case, monkeypatch):
    source, lang = CASES[case]
    unit = SourceUnit("t." + lang, source, Language.C if lang == "c" else Language.CXX)
    analysis = analyse_unit(unit, min_work=0)
    _plant(monkeypatch)
    plan = dataplan.plan_unit(unit, analysis)
    assert any(r.function == "main" for r in plan.regions), "the planted claim gives main a region"
    verdict = plancheck.check_function(unit, analysis, plan, "main")
    assert not verdict.ok, verdict


@pytest.mark.skipif(shutil.which("clang-19") is None or shutil.which("clang++-19") is None,
                    reason="clang-19 not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_pipeline_prints_the_serial_output(case, tmp_path):
    source, lang = CASES[case]
    build_and_compare(tmp_path, source, ["PREFIX", "READ_ALL"], suffix="." + lang)
