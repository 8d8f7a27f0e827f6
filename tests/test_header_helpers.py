"""Helpers a project header defines (issue 15, cause 4; engine/header_helpers.py).

A function whose definition is in a header the unit includes (LULESH's ``FABS`` and
``SQRT`` overloads in lulesh.h, ``sq`` below) counts as a math call where its body is one
``return`` of an expression over scalar parameters, literals, operators, casts and libm:
the nest that calls it is offloaded, and the compiler makes it a device function.  One
that reads through a pointer, touches a global or calls anything else keeps the nest
serial, with the header named.  Built and run on the host device, compared with serial.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, build_and_compare, nest_at  # noqa: E402

HEADER = r"""
#include <math.h>
#include <stdlib.h>
typedef double real8;
typedef float real4;
static inline real4 SQRT(real4 arg) { return sqrtf(arg); }
static inline real8 SQRT(real8 arg) { return sqrt(arg); }
static inline real8 FABS(real8 arg) { return fabs(arg); }
static inline double sq(double x) { return x * x; }
static inline double clampd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }
static inline double at(const double *p, int i) { return p[i]; }
extern int calls;
static inline double counted(double x) { calls++; return x; }
static inline double noisy(double x) { return x + rand() % 2; }
"""

PROGRAM = r"""
#include <stdio.h>
#include "helpers.h"
int calls = 0;
int main(int argc, char **argv) {
  int n = 20000 + (argc > 1);
  double *a = (double *)malloc(sizeof(double) * n), *b = (double *)malloc(sizeof(double) * n);
  double *c = (double *)malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) a[i] = (i % 101) - 50.25;
  for (int i = 0; i < n; i++)  /* PURE */
    b[i] = SQRT(FABS(a[i])) + sq(a[i]) + clampd(a[i], -10.0, 10.0) + (double)SQRT((real4)(i % 7));
  for (int i = 1; i < n; i++)  /* POINTER */
    c[i] = at(a, i - 1);
  for (int i = 0; i < n; i++)  /* GLOBAL */
    c[i] += counted(a[i]);
  double s = 0, t = 0;
  for (int i = 0; i < n; i++) s += b[i];
  for (int i = 1; i < n; i++) t += c[i] * (i % 3);
  printf("%.6f %.6f %d\n", s, t, calls);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_headers_pure_helpers_run_on_the_device_and_the_others_keep_their_nests_serial(tmp_path: Path) -> None:
    (tmp_path / "helpers.h").write_text(HEADER)
    data = build_and_compare(tmp_path, PROGRAM, ["PURE"], suffix=".cpp")
    for marker, helper in (("POINTER", "at"), ("GLOBAL", "counted")):
        nest = nest_at(data, PROGRAM, marker)
        assert nest["decision"] != "offloaded", nest
        assert any(r["id"] == "PCX105" and f"'{helper}', defined in helpers.h" in r["message"]
                   for r in nest["reasons"]), nest


def test_a_helper_calling_what_is_not_libm_is_not_pure(tmp_path: Path) -> None:
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Decision, Language, SourceUnit

    (tmp_path / "helpers.h").write_text(HEADER)
    program = '#include "helpers.h"\nvoid f(int n, double *__restrict a, const double *__restrict b) {\n' \
              '  for (int i = 0; i < n; i++)\n    a[i] = noisy(b[i]);\n}\n'
    src = tmp_path / "t.cpp"
    src.write_text(program)
    ua = analyse_unit(SourceUnit(str(src), program, Language.CXX, directory=str(tmp_path)))
    (nest,) = ua.nests()
    assert nest.decision is Decision.SERIAL and any("'noisy', defined in helpers.h" in r.message for r in nest.remarks)
