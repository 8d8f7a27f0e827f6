"""A data region over sections that differ by a name holds their union under an assumption.

PolyBench fdtd-2d's time loop has a kernel that writes the boundary row ``ey[0][j]`` and
kernels over ``ey[1:nx-1]`` and ``ey[0:nx]``.  The union of those sections is ``ey[0:nx]``
only when ``nx >= 1`` (for ``nx <= 0`` the boundary kernel still writes row 0), so it was
no section at all, and ``ey`` was copied in and out around every kernel of every step.
The region now maps ``ey[0:nx]`` and tests ``nx >= 1`` at run time, with the region's
statements as written on the other path (``DataRegion.assumptions``); the plan checker
walks the region knowing what the test guarantees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine.sections import union_sections
from pcx_driver.model import Assumption, Language, Section
from pcx_driver.profile import copies

CLANG = shutil.which("clang-19")


def test_sections_that_differ_by_a_name_unite_under_an_assumption() -> None:
    rows = [Section("ey", [("0", "1"), ("0", "240")]), Section("ey", [("1", "nx - 1"), ("0", "240")]),
            Section("ey", [("0", "nx"), ("0", "240")])]
    assert union_sections(rows, Language.C) is None  # no assumptions asked for: unknown
    assumed: list[Assumption] = []
    sec = union_sections(rows, Language.C, assume=assumed)
    assert sec is not None and sec.render() == "ey[0:nx][0:240]"
    assert [a.render() for a in assumed] == ["(nx) >= 1"]
    low: list[Assumption] = []  # a lower bound that differs by a name: the smaller one, if k >= 2
    sec = union_sections([Section("a", [("2", "n")]), Section("a", [("k", "n + 2 - k")])], Language.C, assume=low)
    assert sec is not None and sec.render() == "a[2:n]" and [a.render() for a in low] == ["(k) >= 2"]
    # bounds that differ by a product of names are not ordered by one assumption
    assert union_sections([Section("a", [("0", "1")]), Section("a", [("0", "n * m")])], Language.C, assume=[]) is None


BOUNDARY = r"""
#include <stdio.h>
#include <stdlib.h>
#define NY 64
/* main hands its arrays to globals: no region of main's holds them (this is about sweep's) */
double (*keep_u)[NY], (*keep_v)[NY];

static void sweep(int steps, int nx, int ny, double (*restrict u)[NY], double (*restrict v)[NY],
                  const double *restrict edge) {
  for (int t = 0; t < steps; t++) {
    for (int j = 0; j < ny; j++)                      /* NEST1 */
      v[0][j] = edge[t];
    for (int i = 1; i < nx; i++)                      /* NEST2 */
      for (int j = 0; j < ny; j++)
        v[i][j] = v[i][j] - 0.5 * (u[i][j] - u[i - 1][j]);
    for (int i = 0; i < nx - 1; i++)                  /* NEST3 */
      for (int j = 0; j < ny; j++)
        u[i][j] = u[i][j] - 0.25 * (v[i + 1][j] - v[i][j]);
  }
}

int main(int argc, char **argv) {
  int nx = 400, steps = 30;
  double (*u)[NY] = malloc(sizeof(double) * nx * NY), (*v)[NY] = malloc(sizeof(double) * nx * NY);
  double *edge = malloc(sizeof(double) * steps);
  keep_u = u;
  keep_v = v;
  for (int i = 0; i < nx; i++)
    for (int j = 0; j < NY; j++) { u[i][j] = (i * 3 + j) % 7; v[i][j] = (i + 2 * j) % 5; }
  for (int t = 0; t < steps; t++) edge[t] = t % 4;
  sweep(steps, nx, NY, u, v, edge);
  sweep(3, argc > 1 ? 0 : 1, NY, u, v, edge);        /* nx 0: the test fails, the host runs it as written */
  double s = 0;
  for (int i = 0; i < nx; i++)
    for (int j = 0; j < NY; j++) s += u[i][j] * (i % 3) + v[i][j] * (j % 2);
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_boundary_row_kernel_shares_the_region_of_the_interior_kernels(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, BOUNDARY, ["NEST1", "NEST2", "NEST3"])
    regions = [r["message"] for s in data["sources"] for r in s.get("remarks", []) if r["id"] == "PCX200"]
    assert any("v[0:nx][0:64]" in m for m in regions), regions
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="48"))
    p = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    launches = [ln for ln in p.stderr.splitlines() if "Launching kernel" in ln and "_sweep_l" in ln]
    assert len(launches) == 3 * 30, len(launches)  # (the second call is too small: its work guard)
    # u and v go in once per call, not once per kernel and step
    to_device = sum(c.size for c in copies(p.stderr) if c.to_device)
    assert to_device <= 2 * (2 * 400 * 64 * 8 + 30 * 8) + 400 * 64 * 8, to_device
