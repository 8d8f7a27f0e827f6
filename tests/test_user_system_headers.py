"""A header of the program found through ``-isystem`` (or one that says ``#pragma GCC
system_header``) declares the program's own functions, not the C library's.

A held-out check: ``ext_bump``, defined in another file that pcx also compiled (its loop
over the global ``g`` offloaded), was declared in a header found through ``-isystem``.
The analysis took it for library code that touches no user data, so ``main``'s data
region held ``g`` across the call; the callee's kernel updated the device copy, and the
region's ``update to`` after the call wrote the stale host copy over it.  With ``-I`` the
program was right.  Now every header under a directory the command names is the user's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import PCX_CC  # noqa: E402

MAIN = r"""#include <stdio.h>
#include <extlib.h>
#define N 20000
double g[N], a[N];
int main(void) {
  for (int i = 0; i < N; i++) { a[i] = i; g[i] = 1; }
  for (int i = 0; i < N; i++) g[i] = g[i] * 2;
  ext_bump(N);
  for (int i = 0; i < N; i++) a[i] += g[i];
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i];
  printf("%.1f\n", s);
  return 0;
}
"""
EXT = r"""#include <extlib.h>
extern double g[];
void ext_bump(int n) { for (int i = 0; i < n; i++) g[i] += 1000; }
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
@pytest.mark.parametrize("how", ["-isystem", "pragma"])
def test_a_users_header_found_as_a_system_header_declares_user_code(tmp_path: Path, how: str) -> None:
    (tmp_path / "inc").mkdir()
    pragma = "#pragma GCC system_header\n" if how == "pragma" else ""
    (tmp_path / "inc" / "extlib.h").write_text(pragma + "void ext_bump(int n);\n")
    (tmp_path / "main.c").write_text(MAIN)
    (tmp_path / "ext.c").write_text(EXT)
    inc = ["-isystem", "inc"] if how == "-isystem" else ["-I", "inc"]
    subprocess.run(["clang-19", "-O1", *inc, "main.c", "ext.c", "-o", "serial"], cwd=tmp_path, check=True)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    for src in ("ext.c", "main.c"):
        subprocess.run([str(PCX_CC), "-O1", *inc, "-c", src], cwd=tmp_path, check=True, env=env, timeout=300)
    subprocess.run([str(PCX_CC), "main.o", "ext.o", "-o", "offload"], cwd=tmp_path, check=True, env=env, timeout=300)
    run = dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="16")
    serial = subprocess.run(["./serial"], cwd=tmp_path, capture_output=True, text=True).stdout
    got = subprocess.run(["./offload"], cwd=tmp_path, capture_output=True, text=True, env=run, timeout=120)
    assert "Launching kernel" in got.stderr
    assert got.stdout == serial == "220030000.0\n"
