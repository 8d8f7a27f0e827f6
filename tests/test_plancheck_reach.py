"""The plan checker's own rule for buffers that host code reaches through another name
(``engine/plancheck/reach.py``).

The planner refuses a data region where an array it would hold escapes (a global set to
it, a pointer a call returns, a lambda, ``std::ref``...: ``engine/escapes.py``).  The
checker must not rely on that: with the planner's rule switched off here, every one of
these plans still fails the check, and the engine's plans for the examples still pass.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_plancheck import _plan  # noqa: E402

from pcx_driver.engine import escapes, plancheck  # noqa: E402

STENCIL = """
  for (int t = 0; t < 4; t++) {{
    for (int i = 1; i < N - 1; i++)
      v[i] = 0.25 * u[i-1] + 0.5 * u[i] + 0.25 * u[i+1];
    {host}
    for (int i = 0; i < N; i++)
      u[i] = v[i] * 0.9 + u[i] * 0.1;
  }}
  printf("%f %f\\n", u[7], v[7]);
  return 0;
}}
"""

C_HEAD = """#include <stdio.h>
#include <stdlib.h>
#define N 40000
{decls}
int main(void) {{
  double *u = malloc(N * sizeof(double)), *v = malloc(N * sizeof(double));
  for (int i = 0; i < N; i++) {{ u[i] = i % 17; v[i] = 0; }}
  {before}
"""

CXX_HEAD = """#include <cstdio>
#include <vector>
#include <functional>
#include <memory>
#define N 40000
{decls}
int main() {{
  std::vector<double> u(N), v(N);
  for (int i = 0; i < N; i++) {{ u[i] = i % 17; v[i] = 0; }}
  {before}
"""

# (file, declarations, code before the time loop, host code between its kernels)
ESCAPES = {
    "kept_by_a_helper": ("p.c", "static double *g; static void keep(double *p) { g = p; }\n"
                                "static void bump(void) { g[7] += 1.0; }", "keep(v);", "bump();"),
    "kept_in_a_static_struct": ("p.c", "struct S { double *p; }; static struct S gs;\n"
                                       "static void keep(double *p) { gs.p = p; }\n"
                                       "static void bump(void) { gs.p[7] += 1.0; }", "keep(v);", "bump();"),
    "returned_by_a_call": ("p.c", "static double *id(double *p) { return p + 2; }",
                           "double *q = id(v);", "q[5] = 1.0;"),
    "chained_assignment": ("p.c", "", "double *q, *r; q = r = v;", "q[7] = 1.0;"),
    "stored_in_a_struct": ("p.c", "struct S { double *p; };", "struct S s; s.p = v;", "s.p[7] = 1.0;"),
    "lambda": ("p.cpp", "", "auto bump = [&] { v[7] += 1.0; };", "bump();"),
    "address_of_an_element": ("p.cpp", "", "double *q = std::addressof(v[0]);", "q[7] = 1.0;"),
    "member_at": ("p.cpp", "", "double *q = &v.at(0);", "q[7] = 1.0;"),
    "std_ref": ("p.cpp", "", "auto r = std::ref(v);", "r.get()[7] = 1.0;"),
}


def _program(file: str, decls: str, before: str, host: str) -> str:
    head = CXX_HEAD if file.endswith(".cpp") else C_HEAD
    return head.format(decls=decls, before=before) + STENCIL.format(host=host)


@pytest.fixture
def planner_without_escape_rule(monkeypatch):
    monkeypatch.setattr(escapes, "alias_site", lambda *args, **kwargs: None)


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_the_checker_rejects_a_region_reached_through_another_name(case, planner_without_escape_rule):
    file, decls, before, host = ESCAPES[case]
    unit, analysis, plan = _plan(_program(file, decls, before, host), file)
    assert [r for r in plan.regions if r.function == "main"], "the planner (its rule off) holds a region"
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid in ("PCX216", "PCX211", "PCX210"), v


INIT = "static void init(int n, double *a) { for (int i = 0; i < n; i++) a[i] = a[i] * 0.5 + i; }"


@pytest.mark.parametrize("decls, before, host", [
    ("", "", "v[7] = 1.0;"),                       # the array by its own name
    (INIT, "init(N, v);", "v[7] = 1.0;"),          # a function of the file that keeps nothing
    ("", "", "printf(\"%f\\n\", v[3]);"),            # a pure library call
])
def test_the_checker_still_passes_what_it_can_follow(decls, before, host):
    unit, analysis, plan = _plan(_program("p.c", decls, before, host), "p.c")
    assert [r for r in plan.regions if r.function == "main"]
    assert plancheck.check_function(unit, analysis, plan, "main").ok


def test_a_call_reaching_globals_reads_and_writes_what_a_helper_kept():
    """With the planner's rule on, the region stays (``keep(v)`` drops its result, so only
    a global can hold ``v``) and brings ``v`` home before ``bump()`` and sends it back
    after it: the check passes.  Without those updates it fails."""
    file, decls, before, host = ESCAPES["kept_by_a_helper"]
    unit, analysis, plan = _plan(_program(file, decls, before, host), file)
    regions = [r for r in plan.regions if r.function == "main"]
    assert len(regions) == 1 and {u.direction for u in regions[0].updates} == {"to", "from"}
    assert plancheck.check_function(unit, analysis, plan, "main").ok
    regions[0].updates = []
    v = plancheck.check_function(unit, analysis, plan, "main")
    assert not v.ok and v.rid in ("PCX210", "PCX211"), v
