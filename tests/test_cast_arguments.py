"""Buffers passed to kernel functions through a cast keep one data region across the calls.

HeCBench ace allocates its grids as ``nRarray *phi = malloc(bytes)`` (``typedef double
nRarray[Y][X]``), keeps ``double *d_phiold = (double *) phi`` and calls its kernel
functions with ``(nRarray *) d_phiold`` in a time loop.  Each cast hid the buffer from the
planner, so each call mapped its own 512 MB grids (4.3x slower than serial on the host
device).  Now:

- a C cast of an argument passes the buffer it casts (``hostscan.passed_array``, the
  escape scan, the plan checker's reach, and the call-site distinctness of parameters);
- ``double *d = (double *) h``, with ``h = malloc(X * sizeof(double))`` declared before,
  has the extent X (``hostaccess._recast_allocation_count``);
- set-up code between the first calls and the time loop (pointers declared and cast) no
  longer stops every region: the region starts at the earliest loop of the body that
  holds the work and can be held.

Built serially and with ``PCX_MODE=static`` and run on the host device; the bytes copied
are libomptarget's own count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver.profile import copies

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

GRID = r"""
#include <stdio.h>
#include <stdlib.h>
#define NX 600
#define NY 64
typedef double plane_t[NY];

static void init(plane_t *g) {
  for (int i = 0; i < NX; i++)  /* INIT */
    for (int j = 0; j < NY; j++)
      g[i][j] = (double) ((i * 7 + j * 3) % 11);
}

static void smooth(plane_t *out, plane_t *in) {
  for (int i = 1; i < NX - 1; i++)  /* SMOOTH */
    for (int j = 1; j < NY - 1; j++)
      out[i][j] = 0.5 * in[i][j] + 0.125 * (in[i - 1][j] + in[i + 1][j] + in[i][j - 1] + in[i][j + 1]);
}

static void swap_grid(plane_t *a, plane_t *b) {
  for (int i = 0; i < NX; i++)  /* SWAP */
    for (int j = 0; j < NY; j++) {
      double t = a[i][j];
      a[i][j] = b[i][j];
      b[i][j] = t;
    }
}

int main(int argc, char **argv) {
  const size_t bytes = sizeof(double) * NX * NY;
  plane_t *grid = (plane_t *) malloc(bytes);
  plane_t *work = (plane_t *) malloc(bytes);
  init(grid);
  init(work);
  double *cur = (double *) grid;
  double *next = (double *) work;
  int t = 0;
  while (t < 30 + argc) {
    smooth((plane_t *) next, (plane_t *) cur);
    swap_grid((plane_t *) next, (plane_t *) cur);
    t++;
  }
  double sum = 0.0;
  for (int k = 0; k < NX * NY; k++)  /* SUM */
    sum += cur[k] * (double) (k % 5 + 1);
  printf("%.9e\n", sum);
  free(work);
  free(grid);
  return 0;
}
"""


def _bytes_to_device(exe: Path) -> int:
    env = dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="48", OMP_NUM_THREADS="2")
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    return sum(c.size for c in copies(p.stderr) if c.to_device)


def test_cast_buffers_stay_on_the_device_across_the_time_loop(tmp_path) -> None:
    build_and_compare(tmp_path, GRID, ["INIT", "SMOOTH", "SWAP", "SUM"])
    grid_bytes = 8 * 600 * 64
    # one region from the time loop on: both grids copied in once, not at every call
    # (the per-call plan copied 120 sections of a grid's size in)
    assert _bytes_to_device(tmp_path / "offload") <= 3 * grid_bytes


def test_a_cast_of_another_allocation_has_its_extent() -> None:
    from pcx_driver.engine import hostaccess
    from pcx_driver.model import Language

    code = GRID.encode()
    fn = hostaccess.functions_by_name(code, Language.C)["main"]
    ext = hostaccess.declared_extent(code, Language.C, (fn.start_byte, fn.end_byte), "cur")
    assert ext is not None and ext.dims == ["(NX) * (NY)"]
    # not when the source pointer is stored to again, nor counted in another element type
    moved = GRID.replace("init(work);", "init(work);\n  grid = work;").encode()
    fn = hostaccess.functions_by_name(moved, Language.C)["main"]
    assert hostaccess.declared_extent(moved, Language.C, (fn.start_byte, fn.end_byte), "cur") is None
    floats = GRID.replace("double *next = (double *) work;", "float *next = (float *) work;").encode()
    fn = hostaccess.functions_by_name(floats, Language.C)["main"]
    assert hostaccess.declared_extent(floats, Language.C, (fn.start_byte, fn.end_byte), "next") is None
