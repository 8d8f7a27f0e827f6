"""The rewrite must not break a build the user's warning flags allow.

The casts pcx writes in clauses and run-time tests (``(long)n``, ``(double)(n) * 2``) are C
casts: a C++ build with ``-Werror -Wold-style-cast``, clean for clang, failed on them and
fell back to its original source (PCX007, every offload of the file lost).  Such a
rewritten file says to the compiler that old-style casts are expected; the user's own
unrewritten files keep the warning.  Two more from a held-out check: a loop with another
statement after it on its line, whose guarded kernel was the body of an ``else`` without
braces (-Wmisleading-indentation, in -Wall), and a file that opens with a UTF-8
byte-order mark, which the rewrite's first line pushed off the file's start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import PCX_CC, run_with_args  # noqa: E402

CLANGXX = shutil.which("clang++-19")

PROGRAM = r"""
#include <cstdio>
#include <cstdlib>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 5000;
  double *a = new double[static_cast<size_t>(n)];
  for (int i = 0; i < n; i++) a[i] = i % 13;
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i];
  printf("%.1f\n", s);
  delete[] a;
  return 0;
}
"""


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_old_style_cast_errors_do_not_undo_the_rewrite(tmp_path: Path) -> None:
    (tmp_path / "prog.cc").write_text(PROGRAM)
    (tmp_path / "own.cc").write_text("int own() { return (int)2.5; }\n")
    flags = ["-O1", "-Werror", "-Wold-style-cast"]
    r = subprocess.run([CLANGXX, *flags, "prog.cc", "-o", "serial"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    driver = str(PCX_CC.parent / "pcx-c++")
    r = subprocess.run([driver, *flags, "prog.cc", "-o", "offload"], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    run = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="16"))
    assert "Launching kernel" in run.stderr, run.stderr
    assert run_with_args(tmp_path / "offload", []) == run_with_args(tmp_path / "serial", [])
    # the user's own cast in a file with nothing to rewrite is still an error
    r = subprocess.run([driver, *flags, "-c", "own.cc"], cwd=tmp_path, capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode != 0 and "old-style cast" in r.stderr


CLANG = shutil.which("clang-19")
ONE_LINE = r"""#include <stdio.h>
#define N 100000
double x[N];
static double sum(int n){ double s=0; for(int i=0;i<n;i++) s+=x[i]*x[i]; return s; }
int main(void){ for(int i=0;i<N;i++) x[i]=i%7; printf("%.1f\n", sum(N)); return 0; }
"""


#: a floating minimum: its kernel is versioned on a finite start, a test written without
#: ``==`` (``m - m <= 0``), which -Wfloat-equal -Werror refused (the rewrite fell back, PCX007)
MINIMUM = r"""#include <stdio.h>
#define N 100000
double x[N];
int main(void) {
  for (int i = 0; i < N; i++) x[i] = (i * 37 % 1001) * 0.5 - 7.0;
  double m = x[5];
  for (int i = 0; i < N; i++)
    if (x[i] < m) m = x[i];
  printf("%.2f\n", m);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("name, text, extra", [("one_line.c", ONE_LINE, []), ("bom.c", "\ufeff" + ONE_LINE, []),
                                               ("minimum.c", MINIMUM, ["-Wfloat-equal"])])
def test_wall_werror_builds_keep_their_kernels(tmp_path: Path, name: str, text: str, extra: list[str]) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    flags = ["-O1", "-Wall", "-Werror", *extra]
    r = subprocess.run([CLANG, *flags, name, "-o", "serial"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC), *flags, name, "-o", "offload"], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    run = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="16"))
    assert run.stderr.count("Launching kernel") == 2, run.stderr
    assert run_with_args(tmp_path / "offload", []) == run_with_args(tmp_path / "serial", [])
