"""The floating-point environment is the host thread's (a held-out check).

A division by zero inside an offloaded loop raised ``FE_DIVBYZERO`` on a device thread, and
``fetestexcept`` on the host said no exception happened; a GPU would also ignore the
host's ``fesetround``.  A file that reads the exception flags or sets the rounding mode
(``<fenv.h>``'s functions, ``#pragma STDC FENV_ACCESS ON``, ``-frounding-math`` and the
like) keeps its loops on the host (PCX148) and prints what the serial program prints.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, refused_nest  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

DIVIDE = r"""#include <fenv.h>
#include <stdio.h>
#define N 20000
double x[N], d[N], y[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { x[i] = i + 1; d[i] = (i == 1234 && argc < 3) ? 0.0 : 2.0; }
  feclearexcept(FE_ALL_EXCEPT);
  for (int i = 0; i < N; i++) y[i] = x[i] / d[i];                   /* DIVIDE */
  printf("divide by zero raised: %s\n", fetestexcept(FE_DIVBYZERO) ? "yes" : "no");
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_file_that_tests_the_exception_flags_keeps_its_loops_on_the_host(tmp_path: Path) -> None:
    build_and_compare(tmp_path, DIVIDE, [])
    refused_nest(DIVIDE, "DIVIDE", "PCX148", "floating-point environment ('feclearexcept' at line 7)")


@pytest.mark.parametrize("how", ["pragma", "flag"])
def test_fenv_access_and_rounding_flags_count_too(how: str) -> None:
    plain = DIVIDE.replace("  feclearexcept(FE_ALL_EXCEPT);\n", "").replace(
        'fetestexcept(FE_DIVBYZERO) ? "yes" : "no"', '"?"')
    assert analysed_nest(plain, "DIVIDE").decision is Decision.OFFLOADED
    if how == "pragma":
        refused_nest("#pragma STDC FENV_ACCESS ON\n" + plain, "DIVIDE", "PCX148", "FENV_ACCESS ON")
        return
    unit = SourceUnit("t.c", plain, Language.C, ".", semantic_args=["-frounding-math"])
    line = next(k + 1 for k, t in enumerate(plain.splitlines()) if "DIVIDE" in t)
    nest = next(n for f in analyse_unit(unit).functions for n in f.nests if n.line == line)
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX148" and "-frounding-math" in r.message for r in nest.remarks), nest.remarks
