"""Flattened subscripts whose row width is a parameter plus a constant (issue 15, cause 8).

NPB FT pads its grids by one element per row: ``u0[k*d2*(d1+1) + j*(d1+1) + i]``.  The
delinearisation looked for one parameter dividing every index term and found none (``k*d2*d1
+ k*d2 + j*d1 + j``), so each such loop stayed serial ("not affine", PCX103).  It now also
tries a row width ``p + c`` (c = 1, -1, 2, -2): rewritten with ``p = S - c``, the terms share
``S``, and isl proves each remainder in ``[0, S - 1]`` with ``S = p + c`` (engine/dependence.py,
``_padded_stride``).  A row that reaches past its width (``i < d1 + 2``) names the next row's
first element: no split, and the loop stays serial.  Built serially and with
``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
static void evolve(double *u0, double *u1, const double *tw, int d1, int d2, int d3) {
  for (int k = 0; k < d3; k++)  /* EVOLVE */
    for (int j = 0; j < d2; j++)
      for (int i = 0; i < d1; i++) {
        u0[k*d2*(d1+1) + j*(d1+1) + i] = u0[k*d2*(d1+1) + j*(d1+1) + i] * tw[k*d2*(d1+1) + j*(d1+1) + i];
        u1[k*d2*(d1+1) + j*(d1+1) + i] = u0[k*d2*(d1+1) + j*(d1+1) + i];
      }
}
static void pad(double *u, int d1, int d2, int d3) {
  for (int k = 0; k < d3; k++)  /* PAD_COLUMN */
    for (int j = 0; j < d2; j++)
      for (int i = 0; i <= d1; i++)
        u[k*d2*(d1+1) + j*(d1+1) + i] += 1.0;
}
static void over(double *u, int d1, int d2) {
  for (int j = 0; j < d2; j++)  /* PAST_THE_ROW */
    for (int i = 0; i < d1 + 2; i++)
      u[j*(d1+1) + i] = u[j*(d1+1) + i] * 0.5 + j;
}
int main(int argc, char **argv) {
  int d1 = 64 + argc, d2 = 32, d3 = 16, n = (d1 + 1) * d2 * d3 + 2;
  double *u0 = (double *)malloc(n * sizeof(double)), *u1 = (double *)malloc(n * sizeof(double));
  double *tw = (double *)malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) { u0[i] = (i % 11) * 0.5; tw[i] = 1.0 + (i % 3) * 0.25; u1[i] = 0; }
  for (int t = 0; t < 3; t++) { evolve(u0, u1, tw, d1, d2, d3); pad(u1, d1, d2, d3); }
  over(u1, d1, d2 * d3);
  double s = 0;
  for (int i = 0; i < n; i++) s += u1[i] * (i % 5) * 1e-3;
  printf("%.6e %.9f %.9f\n", s, u1[n / 3], u1[d1 + 1]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_padded_rows_split_into_dimensions(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["EVOLVE", "PAD_COLUMN"])
    past = " ".join(r["message"] for r in nest_at(data, PROGRAM, "PAST_THE_ROW")["reasons"])
    assert "is not an affine function of the loop indices" in past, past


#: miniWeather's flux arrays (a held-out check, session 35): one block of (nz + 1) rows
#: of nx + 1 interfaces per variable, ``f[v*(nz+1)*(nx+1) + k*(nx+1) + i]`` with ``i <=
#: nx``.  Read as ``k*nx + k + i``, ``nx`` divides the index terms, but ``k + i`` is no
#: remainder within a row of ``nx``: the split by ``nx`` failed and the padded row width
#: ``nx + 1`` was never tried, so the k loop was "not affine" and the i loop had a false
#: dependence between the blocks of two variables (PCX101, "distance 1").
FLUX_BLOCKS = r"""
#include <stdio.h>
#include <stdlib.h>
enum { DENS, MOM, HEAT, NVARS };
static int nx, nz;
static void fluxes(const double *state, double *flux) {
  int i, k;
  for (k = 0; k < nz; k++)  /* FLUX_ROWS */
    for (i = 0; i < nx + 1; i++) {
      double a = state[k * (nx + 2) + i], b = state[k * (nx + 2) + i + 1];
      flux[DENS * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = a + b;
      flux[MOM * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = a * b;
      flux[HEAT * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = a - b;
    }
}
static void shifted(double *flux) {
  for (int k = 0; k < nz; k++)  /* ONE_PAST_THE_ROW */
    for (int i = 0; i < nx + 2; i++)
      flux[MOM * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = k + i * 0.5;
}
int main(int argc, char **argv) {
  nx = 150 + argc; nz = 40;
  double *state = (double *)malloc(sizeof(double) * nz * (nx + 2));
  double *flux = (double *)calloc((size_t)NVARS * (nz + 1) * (nx + 1), sizeof(double));
  for (int j = 0; j < nz * (nx + 2); j++) state[j] = (j % 17) * 0.125;
  for (int r = 0; r < 3; r++) fluxes(state, flux);
  shifted(flux);
  double s = 0;
  for (int j = 0; j < NVARS * (nz + 1) * (nx + 1); j++) s += flux[j] * (j % 7);
  printf("%.6f %.6f\n", s, flux[(nz + 1) * (nx + 1) + 2 * (nx + 1) + 3]);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_blocks_of_padded_rows_split_when_the_plain_width_fails(tmp_path) -> None:
    data = build_and_compare(tmp_path, FLUX_BLOCKS, ["FLUX_ROWS"])
    # i = nx + 1 is the next row's first interface, which the next k writes too: no
    # split by either width, and the k loop stays serial
    kept = nest_at(data, FLUX_BLOCKS, "ONE_PAST_THE_ROW")
    assert not kept.get("applied"), kept


#: A halo of HS = 2 cells on each side makes rows of ``nx + 2*HS``: a padding of 4, past
#: the +-1, +-2 tried blindly; the constant is read off the index's coefficient.  Before,
#: the split failed and the nest ran with its updates made atomic (PCX117); a row one cell
#: longer than its width stays serial.
HALO = r"""
#include <stdio.h>
#include <stdlib.h>
#define HS 2
#define NV 3
static void scale_interior(double *state, int nx, int nz) {
  for (int v = 0; v < NV; v++)  /* INTERIOR */
    for (int k = 0; k < nz; k++)
      for (int i = 0; i < nx; i++)
        state[v * (nz + 2 * HS) * (nx + 2 * HS) + (k + HS) * (nx + 2 * HS) + i + HS] *= 0.5;
}
static void stamp(double *state, int nx, int nz) {
  for (int k = 0; k < nz; k++)  /* ONE_PAST */
    for (int i = 0; i < nx + 2 * HS + 1; i++)
      state[(k + HS) * (nx + 2 * HS) + i] = k + i * 0.25;
}
int main(int argc, char **argv) {
  int nx = 300 + argc, nz = 100;
  size_t n = (size_t)NV * (nz + 2 * HS) * (nx + 2 * HS);
  double *s = malloc(n * sizeof(double));
  for (size_t j = 0; j < n; j++) {
    s[j] = 1.0 + j % 13;
    if (j == 0) puts("set");
  }
  scale_interior(s, nx, nz);
  stamp(s, nx, nz);
  double c = 0;
  for (size_t j = 0; j < n; j++) c += s[j] * (j % 5);
  printf("%.3f\n", c);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_halo_wider_than_two_splits_into_rows(tmp_path) -> None:
    data = build_and_compare(tmp_path, HALO, ["INTERIOR"])
    interior = nest_at(data, HALO, "INTERIOR")
    assert not any(r["id"] == "PCX117" for r in interior["reasons"]), interior["reasons"]
    assert not nest_at(data, HALO, "ONE_PAST").get("applied")
