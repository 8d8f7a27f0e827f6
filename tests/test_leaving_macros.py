"""A macro whose expansion leaves the block stops a data region, like the statement it hides.

``#define CHECK(c) if (c) { ...; return 0.0; }`` between two kernels reads, to the syntax
tree, as a call.  A data region around both kernels (its ``target exit data`` after the
second) was then left early: the stack array's device mapping outlived the call, and a
later function's stack array, at an address inside it, was found "present" and not
copied (a held-out check: a wrong sum, or libomptarget's "explicit extension not allowed").
In a structured ``target data`` block the same macro made the rewrite fail to compile
("cannot return from OpenMP region", Rodinia heartwall's avilib ``ERR_EXIT``), and the whole
file fell back to its original text.

Now the planner refuses the region (PCX203 names the macro and its token) and the plan
checker refuses it too (PCX216); the kernels map their own data.  The macros come from
libclang (a header's count), so ``break``, ``continue``, ``goto``, ``throw`` and long jumps
count as well.  Built serially and with ``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import PCX_CC, build_and_compare  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

EARLY_OUT = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 4096
LEAVE
int status;

__attribute__((noinline)) double fill(int n, int stop)
{
    double a[N];
    int i;
    for (i = 0; i < n; i++) a[i] = i;             /* FILL */
    for (i = 0; i < n; i++)
        if (rand() < 0) a[i] = 0;
    CHECK(stop);
    for (i = 0; i < n; i++) a[i] = a[i] * 2.0;    /* TWICE */
    double s = 0;
    for (i = 0; i < n; i++) s += a[i];            /* TOTAL */
    return s;
}

__attribute__((noinline)) double sum(int n)
{
    double b[N];
    int i;
    for (i = 0; i < n; i++) b[i] = rand() % 7 + 0.5;
    double s = 0;
    for (i = 0; i < n; i++) s += b[i];            /* SUM */
    return s;
}

int main(int argc, char **argv)
{
    double f = fill(N, argc < 2);
    double g = fill(N, 0);
    srand(1);
    double s = sum(N - 16);
    printf("%g %g %d %.1f\n", f, g, status, s);
    return 0;
}
"""

MACROS = {
    "return": "#define CHECK(c) { if (c) { status = 1; return 0.0; } }",
    "goto": "#define CHECK(c) { if (c) { status = 2; goto out; } }",
}


@pytest.mark.parametrize("token", sorted(MACROS))
def test_a_macro_that_leaves_between_kernels_keeps_no_region(tmp_path, token) -> None:
    program = EARLY_OUT.replace("LEAVE", MACROS[token])
    if token == "goto":
        program = program.replace("    return s;\n}\n\n__attribute__((noinline)) double sum",
                                  "    return s;\nout:\n    return -1.0;\n}\n\n__attribute__((noinline)) double sum", 1)
    build_and_compare(tmp_path, program, ["FILL", "TWICE", "TOTAL", "SUM"])
    src = tmp_path / "prog.c"
    r = subprocess.run([str(PCX_CC), "--pcx-mode=static", "--pcx-remarks", "-O1", "-c", str(src), "-o", "x.o"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert f"macro 'CHECK' at line 15 may leave the region (its expansion holds '{token}')" in r.stderr, r.stderr


STRUCTURED = r"""
#include <stdio.h>
#define N 20000
#define ERR_EXIT(x) { status = (x); return 0; }
static double u[N], v[N];
int status;
int step(int n, int fail)
{
    for (int i = 0; i < n; i++)  /* A */
        u[i] = i * 0.5;
    if (fail) ERR_EXIT(3);
    for (int i = 0; i < n; i++)  /* B */
        v[i] = u[i] + 1.0;
    return 1;
}
int main(int argc, char **argv)
{
    int ok = step(N, argc > 1);
    double s = 0;
    for (int i = 0; i < N; i++) s += v[i] + u[i];
    printf("%d %d %.3f\n", ok, status, s);
    return 0;
}
"""


def test_a_leaving_macro_in_a_structured_region_no_longer_breaks_the_rewrite(tmp_path) -> None:
    # before: the region's block held ``return`` and clang refused the rewrite (PCX007),
    # so no loop of the file was offloaded
    build_and_compare(tmp_path, STRUCTURED, ["A", "B"])
