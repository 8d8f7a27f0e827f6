"""A caller's data region around calls keeps the callees' work guards (issue 16).

``main`` calls ``init`` and ``smooth`` on arrays it allocated; a ``target data`` region
around the two calls keeps the arrays on the device between them.  The kernels it holds
must then always run on the device (their host fallback would read the stale host copy),
so small instances (PolyBench's jacobi-1d at MEDIUM: 200 launches of 400 elements) lost
the work guards that sent them to the host.  The region is guarded instead, with the
conjunction of the callees' guards read where it starts (``smooth``'s ``LEN_`` is its
parameter ``len``, the argument ``len`` in ``main``): small sizes run as written with no
launch, large ones on the device, the same answer either way.  Where an argument may
change inside the region, or a callee changes its parameter, the guards could disagree:
the region stays unguarded and its kernels always run on the device.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines, run_with_args  # noqa: E402

CLANG = shutil.which("clang-19")
PCX_CC = Path(sys.executable).parent / "pcx-cc"

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define N 4000
#define LEN_ len
#define STEPS_ steps
static void init(int len, double a[N], double b[N]) {
  for (int i = 0; i < LEN_; i++) {                /* INIT */
    a[i] = (i % 7) / 7.0;
    b[i] = 0.0;
  }
}
static void smooth(int steps, int len, double a[N], double b[N]) {
  /*CALLEE*/
  for (int t = 0; t < STEPS_; t++) {
    for (int i = 1; i < LEN_ - 1; i++)            /* SWEEP_AB */
      b[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0;
    for (int i = 1; i < LEN_ - 1; i++)            /* SWEEP_BA */
      a[i] = (b[i - 1] + b[i] + b[i + 1]) / 3.0;
  }
}
int main(int argc, char **argv) {
  int len = argc > 1 ? atoi(argv[1]) : 100;
  int steps = 20;
  double (*a)[N] = malloc(sizeof *a), (*b)[N] = malloc(sizeof *b);
  init(len, *a, *b);
  /*BETWEEN*/
  smooth(steps, len, *a, *b);
  double s = 0;
  for (int i = 0; i < len; i++) s += (*a)[i] * (i % 3 + 1);
  printf("%.12e\n", s);
  free(a);
  free(b);
  return 0;
}
"""

SMALL, LARGE = "100", "3000"  # 2 x 98 and 2 x 2998 elements per time step; the guard: 2 x 1000


def _build(tmp_path: Path, program: str) -> tuple[Path, list[str]]:
    """The serial program's outputs must match the offloaded one's at both sizes; returns
    the offloaded binary and the caller region's PCX200 remarks."""
    src = tmp_path / "smooth.c"
    src.write_text(program)
    serial, offload, report = tmp_path / "serial", tmp_path / "offload", tmp_path / "report.json"
    r = subprocess.run([CLANG, "-O1", str(src), "-o", str(serial)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC), "-O1", f"--pcx-report={report}", str(src), "-o", str(offload)],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    for size in (SMALL, LARGE):
        assert run_with_args(offload, [size]) == run_with_args(serial, [size]), size
    main_line = next(k + 1 for k, t in enumerate(program.splitlines()) if "init(len, *a, *b);" in t)
    data = json.loads(report.read_text())
    region = [m["message"] for s in data["sources"] for m in s["remarks"]
              if m["id"] == "PCX200" and m["line"] == main_line]
    assert region and "2 kernel call(s)" in region[0], region
    return offload, region


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_small_calls_run_as_written_large_ones_on_the_device(tmp_path: Path) -> None:
    offload, region = _build(tmp_path, PROGRAM)
    assert "entered where the work guards of 'init', 'smooth' hold" in region[0], region
    assert launch_lines(offload, [SMALL]) == []
    launched = launch_lines(offload, [LARGE])
    assert len(launched) == 1 + 2 * 20, launched  # init once, two sweeps per time step


CALL = "smooth(steps, len, *a, *b);"


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("edits", [
    # the argument changes after the region starts
    [("/*BETWEEN*/", "len -= argc > 2;")],
    # ... through a macro, or inline assembly (the syntax shows no store)
    [("#define N 4000", "#define N 4000\n#define HALVE len /= 8"), ("/*BETWEEN*/", "HALVE;")],
    [("/*BETWEEN*/", '__asm__("shrl $3, %0" : "+r"(len));')],
    # the argument is another variable at the call: a block's own 'len'
    [(CALL, "{ int len = steps * 3; smooth(steps, len, *a, *b); }")],
    # ... or a global, which a call inside the region changes
    [("int main(", "int glen;\nstatic void shrink(void) { glen /= 8; }\nint main("),
     ("/*BETWEEN*/", "shrink();"), (CALL, "smooth(steps, glen, *a, *b);"), ("int steps = 20;", "int steps = 20;\n  glen = len;")],
    # the callee changes its parameter, or hides it behind a local of the same name
    [("/*CALLEE*/", "if (len > N) len = N;")],
    [("/*CALLEE*/", "{ int len = steps * 3;"), ("a[i] = (b[i - 1] + b[i] + b[i + 1]) / 3.0;\n  }",
                                               "a[i] = (b[i - 1] + b[i] + b[i + 1]) / 3.0;\n  }\n  }")],
])
def test_guards_that_could_disagree_leave_the_kernels_on_the_device(tmp_path: Path, edits) -> None:
    program = PROGRAM
    for old, new in edits:
        assert old in program, old
        program = program.replace(old, new, 1)
    _, region = _build(tmp_path, program)
    assert "entered where" not in region[0], region


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_guard_does_not_divide_by_what_a_call_not_made_would(tmp_path: Path) -> None:
    # with one argument d is 0 and smooth is not called: a region guard reading len / d
    # would trap (SIGFPE) where the program runs fine
    program = PROGRAM.replace("int steps = 20;", "int steps = 20, d = argc - 2;").replace(
        CALL, "if (d) smooth(steps, len / d, *a, *b);")
    _, region = _build(tmp_path, program)
    assert "entered where" not in region[0], region


def test_a_parameter_replaced_in_an_expression_of_one_letter_keeps_the_rest() -> None:
    """``workguard.substitute`` cut the expression out of its parse by searching for its
    text, and found the ``n`` of ``long pcx__e = (n)``: ``n`` with n -> k + 1 came back as
    ``ng ``.  A callee's section ``y[0:n]`` in the caller's names is such an expression."""
    from pcx_driver.engine.workguard import substitute
    from pcx_driver.model import Language

    values = {"n": "k + 1", "m": "z"}
    assert substitute("n", values, Language.C) == "(k + 1)"
    assert substitute("(size_t)n * 2 + m", values, Language.C) == "(size_t)(k + 1) * 2 + (z)"
    assert substitute("long_name - 1", values, Language.C) == "long_name - 1"
