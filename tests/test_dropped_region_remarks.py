"""The remarks say what the emitted source does when the rewrite drops a plan's piece.

A kernel the rewrite cannot place (PCX204: versioned for aliasing, while a caller's region
may hold its data) takes that region down with it, and the region's remarks, which had
described ``target data`` the source never got, go too; a kernel planned inside it no
longer says a region holds its data (a held-out check read PCX200 for a region and
PCX100 "offloaded" for the kernel that PCX204 then kept serial).  It maps its own data
then, and takes back the work guard it has alone: such kernels of 80 iterations,
launched once per path, ran unguarded 768,003 times in HeCBench libor (333 s against 23 s
serial; another held-out check).
"""

from __future__ import annotations

from pcx_driver.config import Config
from pcx_driver.model import Language, SourceUnit
from pcx_driver.pipeline import run_pipeline
from pcx_driver.plugins import make_plugin_manager

PROGRAM = r"""
#include <cstdio>
static double weigh(const double *a, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += a[i] * (double)(i % 17 + 1);
  return s;
}
static double *scratch() { static double buf[5000]; return buf; }
void accumulate(double *a, int n) {
  double *s = scratch();
  for (int i = 0; i < n; i++) s[i] += a[i];
}
int main() {
  static double a[5000];
  std::printf("%f %f\n", weigh(a, 5000), weigh(scratch(), 5000));
  accumulate(scratch(), 5000);
  std::printf("%f\n", weigh(scratch(), 5000));
  return 0;
}
"""


def test_a_region_the_rewrite_drops_takes_its_remarks() -> None:
    unit = SourceUnit("t.cpp", PROGRAM, Language.CXX, semantic_args=["-fopenmp"])
    pm, errors = make_plugin_manager(entry_points=False)
    assert not errors
    result = run_pipeline(unit, pm, Config.resolve({"mode": ["static"]}, environ={}))
    text = result.rewrite.text
    said = {(r.line, r.id): r.message for r in result.remarks}
    accumulate_loop = PROGRAM.splitlines().index("  for (int i = 0; i < n; i++) s[i] += a[i];") + 1
    assert "target data" not in text and "enter data" not in text
    (region_line,) = [line for (line, rid), m in said.items() if rid == "PCX204" and "data region not emitted" in m]
    assert (region_line, "PCX200") not in said and (region_line, "PCX205") not in said
    assert (accumulate_loop, "PCX100") not in said and (accumulate_loop, "PCX204") in said
    assert not any("a target data region holds its data" in m for m in said.values()), said
    weigh_loop = PROGRAM.splitlines().index("  for (long i = 0; i < n; i++) s += a[i] * (double)(i % 17 + 1);") + 1
    assert "the data region it was planned in is not emitted" in said[(weigh_loop, "PCX100")]
    # (alone it maps its own data: the guard asks for work to pay for copying a[0:n] in too)
    assert "if(target: (double)(n) * 2 >= 1000 + 0.5 * (double)(n))" in text
