"""A global that another file's function may offload stays out of this file's regions.

A held-out check of NPB's serial SP (``initialize.c``'s ``lhsinit`` beside ``x_solve.c``)
found a data region holding a global across a call of a function defined in another file.
pcx offloads that function's loop there too; at run time its kernel found the global
present (this file's region had mapped it), wrote the device copy only, and this file's
``target update to`` after its own host loop overwrote what it wrote.  A call of a
function the user defines elsewhere (declared, not defined here, not from a system header)
now keeps a region holding a global that other files can name from forming (PCX203).  The
globals here are declared inside ``#ifdef`` branches, which the planner had not taken for
file-scope declarations at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PCX_CC = ROOT / ".venv" / "bin" / "pcx-cc"

SOURCE = r"""
#include <stdio.h>
#define N 4096
#ifdef PART_INIT
extern double g[N][8];
void init_rows(int n)
{
  for (int j = 0; j < n; j++) { g[j][0] += 1.0; g[j][7] = 2.0 * j; }
}
#else
double g[N][8];
double s[N];
void init_rows(int n);
int main(int argc, char **argv)
{
  double t = 0.0, sum = 0.0;
  (void)argv;
  for (int it = 0; it < 3; it++) {
    init_rows(N);
    for (int j = 0; j < N; j++) {  /* a carried scalar: the host's */
      t = 0.5 * t + j * argc;
      g[j][1] = t;
    }
    for (int j = 0; j < N; j++)    /* reads what init_rows wrote */
      s[j] = g[j][0] + g[j][1] + g[j][7];
    for (int j = 0; j < N; j++)
      sum += s[j] * (j % 3);
  }
  printf("sum = %.6f\n", sum);
  return 0;
}
#endif
"""


def _two_objects(tmp_path: Path, source: str, part: str, cc: str, out: str) -> str:
    """``source`` as x.c compiled twice (with ``-D<part>``: a.o, without: b.o) by ``cc``
    and linked as ``out``; the remarks of both compiles."""
    (tmp_path / "x.c").write_text(source)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    extra = ["--pcx-remarks", "--pcx-min-work=0"] if cc != "clang-19" else []
    remarks = {}
    for flags, obj in (([f"-D{part}"], "a.o"), ([], "b.o")):
        r = subprocess.run([cc, "-O1", *extra, *flags, "-c", "x.c", "-o", obj], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and "warning: " not in r.stderr.replace("remark", ""), r.stderr
        remarks[obj] = r.stderr
    assert subprocess.run([cc, "a.o", "b.o", "-o", out], cwd=tmp_path, env=env).returncode == 0
    return remarks["a.o"] + remarks["b.o"]


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_call_into_another_file_keeps_shared_globals_out_of_the_region(tmp_path) -> None:
    _two_objects(tmp_path, SOURCE, "PART_INIT", "clang-19", "serial")
    remarks = _two_objects(tmp_path, SOURCE, "PART_INIT", str(PCX_CC), "offload")
    assert "'init_rows' at line 19 is defined in another file and may use 'g'" in remarks, remarks
    strict = dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="16")
    serial = subprocess.run([str(tmp_path / "serial")], capture_output=True, text=True)
    got = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, env=strict)
    assert got.stdout == serial.stdout and got.returncode == 0, got.stderr[-2000:]
    assert got.stderr.count("Launching kernel") >= 6  # init_rows' loop and this file's, every step


REACHED = r"""
#include <stdio.h>
#define N 4096
#ifdef PART_LIB
void hook(void);
void pstep(double *x, int n)  /* the region would hold x, which is main's g */
{
  for (int i = 0; i < n; i++) x[i] = x[i] * 0.5 + 1;
  hook();
  for (int i = 0; i < n; i++) x[i] += 2;
}
void cbstep(double *x, int n, void (*cb)(void))
{
  for (int i = 0; i < n; i++) x[i] -= 0.25;
  cb();
  for (int i = 0; i < n; i++) x[i] *= 1.5;
}
#else
double g[N];
void pstep(double *x, int n);
void cbstep(double *x, int n, void (*cb)(void));
void hook(void) { for (int i = 0; i < N; i++) g[i] = g[i] * 3 - 1; }
static void halve(void) { for (int i = 0; i < N; i++) g[i] = g[i] * 0.5 + 1; }
int main(int argc, char **argv)
{
  (void)argv;
  for (int i = 0; i < N; i++) g[i] = i * 0.5 + argc;
  pstep(g, N);
  cbstep(g, N, halve);
  double s = 0;
  for (int i = 0; i < N; i++) s += g[i] * (i % 7 + 1);
  printf("%.6f\n", s);
  return 0;
}
#endif
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_call_that_may_reach_a_parameter_array_from_another_file_keeps_no_region(tmp_path) -> None:
    # A held-out check, two archives: hook() (another file's) and cb() (a pointer to another
    # file's function) offload their loop over g, which the region in this file held as x:
    # their kernels wrote the device copy, and the region's ``update to`` after the call
    # overwrote it with the host's
    _two_objects(tmp_path, REACHED, "PART_LIB", "clang-19", "serial")
    remarks = _two_objects(tmp_path, REACHED, "PART_LIB", str(PCX_CC), "offload")
    assert "'hook' at line 9 is defined in another file and may reach 'x'" in remarks, remarks
    assert "'cb' at line 15 is a call through a pointer and may reach 'x'" in remarks, remarks
    strict = dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="16")
    serial = subprocess.run([str(tmp_path / "serial"), "a"], capture_output=True, text=True)
    got = subprocess.run([str(tmp_path / "offload"), "a"], capture_output=True, text=True, env=strict)
    assert got.stdout == serial.stdout and got.returncode == 0, got.stderr[-2000:]
    assert got.stderr.count("Launching kernel") >= 6
