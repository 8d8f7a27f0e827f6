"""A finite-volume flux loop, miniWeather's shape (a held-out check, session 35).

miniWeather's serial ``compute_tendencies_z`` computes, for every cell interface ``(k, i)``,
four interpolated values in scratch arrays ``stencil[4]``, ``vals[NV]`` and ``d3[NV]``,
zeroes ``d3[DENS]`` on the top and bottom boundaries, and writes one flux per variable in
blocks of ``(nz + 1)`` rows of ``nx + 1`` interfaces: ``f[v*(nz+1)*(nx+1) + k*(nx+1) +
i]``.  Both of its interface nests stayed serial, for four reasons, none of them a real
dependence:

1. ``d3`` was not private: the boundary store after the loop that fills it is a
   conditional write, and the privatiser wanted every write unconditional.  Only the
   writes that cover the reads must be; a plain store before every read writes the copy
   as it wrote the shared array (engine/privatise.py, ``covered_private_array``).
2. The scratch arrays "may overlap" the global pointer ``hy``: a local array whose name is
   only ever subscripted for an element cannot be reached through any pointer
   (engine/aliasing.py, ``_unreachable_local_array``).
3. The split of the flattened subscript tried the row width ``nx`` (it divides ``k*nx``
   of ``k*nx + k + i``) and gave up when ``k + i`` is no remainder within it; the padded
   width ``nx + 1`` is now tried next (engine/dependence.py, ``_stride_options``).
4. ``enum { DENS, MOM, HEAT }`` had no values for the analysis (a ``constexpr int`` did):
   enumerators now fold like constants.

And the inner loop alone compared ``nx*nz + nx + nz + 1 + i`` with ``i``, ``nx*nz`` free
to isl: products of two parameters now get their lower bounds from the parameters'
(``dependence._product_facts``).  Each program runs serially and through
``PCX_MODE=static`` on the host device; the shapes that must stay serial do.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

FLUXES = r"""
#include <stdio.h>
#include <stdlib.h>
enum { DENS, MOM, HEAT, NV };
static int nx, nz;
double *hy;
static void fluxes(const double *state, double *flux, double dt) {
  int i, k, v, s;
  double st[4], d3[NV], vals[NV], r, w;
  for (k = 0; k < nz + 1; k++) {  /* INTERFACES */
    for (i = 0; i < nx; i++) {
      for (v = 0; v < NV; v++) {
        for (s = 0; s < 4; s++)
          st[s] = state[v * (nz + 4) * nx + (k + s) * nx + i];
        vals[v] = (-st[0] + 7 * st[1] + 7 * st[2] - st[3]) / 12;
        d3[v] = -st[0] + 3 * st[1] - 3 * st[2] + st[3];
      }
      r = vals[DENS] + hy[k];
      w = vals[MOM] / r;
      if (k == 0 || k == nz) {
        w = 0;
        d3[DENS] = 0;
      }
      flux[DENS * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = r * w - dt * d3[DENS];
      flux[MOM * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = r * w * w - dt * d3[MOM];
      flux[HEAT * (nz + 1) * (nx + 1) + k * (nx + 1) + i] = r * w * vals[HEAT] - dt * d3[HEAT];
    }
  }
}
static void sweep(double *flux, int w, int h) {
  for (int k = 1; k < h + 1; k++)   /* each row reads the one before */
    for (int i = 0; i < w; i++)  /* SWEEP_ROW */
      flux[MOM * (h + 1) * (w + 1) + k * (w + 1) + i] =
          flux[MOM * (h + 1) * (w + 1) + (k - 1) * (w + 1) + i] * 0.5 + flux[DENS * (h + 1) * (w + 1) + k * (w + 1) + i];
}
int main(int argc, char **argv) {
  nx = 1200 + argc; nz = 40;
  size_t ns = (size_t)NV * (nz + 4) * nx, nf = (size_t)NV * (nz + 1) * (nx + 1);
  double *state = malloc(ns * sizeof(double)), *flux = calloc(nf, sizeof(double));
  hy = malloc((nz + 1) * sizeof(double));
  for (size_t j = 0; j < ns; j++) state[j] = 1.0 + (j % 17) * 0.125;
  for (int k = 0; k <= nz; k++) hy[k] = 2.0 + k * 0.01;
  for (int t = 0; t < 3; t++) fluxes(state, flux, 0.1);
  sweep(flux, nx, nz);
  double c = 0;
  for (size_t j = 0; j < nf; j++) c += flux[j] * (1 + j % 7);
  printf("%.8e %.12e\n", c, flux[(nz + 1) * (nx + 1) + 3]);
  return 0;
}
"""


@needs_clang
def test_interface_fluxes_with_a_boundary_store_are_one_kernel(tmp_path) -> None:
    data = build_and_compare(tmp_path, FLUXES, ["INTERFACES"])
    nest = nest_at(data, FLUXES, "INTERFACES")
    said = " ".join(r["message"] for r in nest["reasons"])
    for name in ("st", "vals", "d3"):
        assert f"'{name}' is private to each iteration" in said, said
    # The row loop under the serial sweep: no dependence between the two variables' rows
    # (``w*h`` is at least ``w + h - 1`` where both are at least 1); what keeps it on the
    # host is the cost of mapping the hull of the two rows at each of h launches
    row = nest_at(data, FLUXES, "SWEEP_ROW")
    ids = [r["id"] for r in row["reasons"]]
    assert "PCX101" not in ids and "PCX115" in ids, row["reasons"]


def _decision(src: str, marker: str):
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    line = next(k + 1 for k, t in enumerate(src.splitlines()) if marker in t)
    (nest,) = [n for f in ua.functions for n in f.nests if n.line == line]
    return nest


@pytest.mark.parametrize("changes", [
    # the boundary store reads the array: what the loop wrote, fine; and the element it
    # keeps is read back first in the next iteration: a value carried between them
    [("      for (v = 0; v < NV; v++) {", "      double prev = d3[HEAT];\n      for (v = 0; v < NV; v++) {"),
     ("- dt * d3[HEAT];", "- dt * d3[HEAT] + prev * 1e-3;")],
    # the scratch array's address kept in the global pointer: hy may point into it
    [("  for (k = 0; k < nz + 1; k++) {  /* INTERFACES */",
      "  hy = d3;\n  for (k = 0; k < nz + 1; k++) {  /* INTERFACES */")],
    # the same through a macro whose replacement list names it
    [("static int nx, nz;", "#define SCRATCH d3\nstatic int nx, nz;"),
     ("  for (k = 0; k < nz + 1; k++) {  /* INTERFACES */",
      "  hy = SCRATCH;\n  for (k = 0; k < nz + 1; k++) {  /* INTERFACES */")],
    # rows one interface too long: i = nx + 1 is the next row's first, which the next k writes
    [("    for (i = 0; i < nx; i++) {", "    for (i = 0; i < nx + 2; i++) {")],
], ids=["read-before-written", "address-kept", "address-kept-by-a-macro", "row-too-long"])
def test_shapes_that_are_no_such_flux_loop_stay_serial(changes) -> None:
    src = FLUXES
    for old, new in changes:
        assert old in src
        src = src.replace(old, new)
    nest = _decision(src.split("int main")[0], "INTERFACES")
    assert nest.decision is not Decision.OFFLOADED, [r.format() for r in nest.remarks]


#: Found on the way (a wrong answer since flattened subscripts were first split, issue
#: 15): a nest that writes two blocks of three, ``a[0*n*m + i*m + j]`` and ``a[2*n*m +
#: i*m + j]``, was taken to write its section, the hull of both, whole: ``map(from:)``
#: brought the middle block back from the device, where nothing had defined it.  The same
#: with rows of ``w + 1`` of which the loop writes ``w`` (the flux arrays above, where
#: ``k*(w + 1) + i`` with ``i < w`` was read as a full row of ``w``).
TWO_BLOCKS_OF_THREE = r"""
#include <stdio.h>
#include <stdlib.h>
static void ends(double *a, int n, int m) {
  for (int i = 0; i < n; i++)  /* TWO_BLOCKS */
    for (int j = 0; j < m; j++) {
      a[0 * n * m + i * m + j] = i + j;
      a[2 * n * m + i * m + j] = i - j;
    }
}
static void short_rows(double *a, int n, int w) {
  for (int k = 0; k < n; k++)  /* SHORT_ROWS */
    for (int i = 0; i < w; i++)
      a[k * (w + 1) + i] = k * 0.5 + i;
}
int main(int argc, char **argv) {
  int n = 300 + argc, m = 200;
  double *a = malloc(sizeof(double) * 3 * n * m);
  for (int k = 0; k < 3 * n * m; k++) {
    a[k] = 7.0;
    if (k == 0) puts("set");  /* (host code: no region keeps a on the device) */
  }
  ends(a, n, m);
  double s0 = 0, s1 = 0;
  for (int k = 0; k < n * m; k++) { s0 += a[k]; s1 += a[n * m + k]; }
  short_rows(a, n, m - 1);
  double s2 = 0;
  for (int k = 0; k < n * m; k++) s2 += a[k] * (k % 3);
  printf("%.1f %.1f %.1f\n", s0, s1, s2);
  return 0;
}
"""


@needs_clang
def test_a_section_written_in_part_is_copied_to_the_device_first(tmp_path) -> None:
    data = build_and_compare(tmp_path, TWO_BLOCKS_OF_THREE, ["TWO_BLOCKS", "SHORT_ROWS"])
    for marker in ("TWO_BLOCKS", "SHORT_ROWS"):
        maps = " ".join(nest_at(data, TWO_BLOCKS_OF_THREE, marker)["directives"])
        assert "map(tofrom: a[" in maps, maps


#: A local array is apart from every pointer only while nothing can make a pointer to one
#: of its elements (an adversarial campaign, session 35: each of these gave the device's
#: uninitialised memory where the serial program printed 1 3 5, the run-time overlap test
#: of ``gp`` and ``a`` left out).  ``KEEP`` and the reference binder stand for the forms
#: seen: a macro whose list takes the address, a builtin, a member of an element, a C++
#: reference bound to an element (also a by-reference parameter, std::addressof).
ESCAPES = {
    "macro-takes-the-address": ("c", "#define KEEP(x) gp = &x\n", "  KEEP(a[0]);\n"),
    "builtin-addressof": ("c", "", "  gp = __builtin_addressof(a[0]);\n"),
    "reference-to-an-element": ("cpp", "", "  double &r = a[0];\n  gp = &r;\n"),
    "reference-parameter": ("cpp", "static void keep(double &x) { gp = &x; }\n", "  keep(a[0]);\n"),
}
ESCAPE = r"""
#include <stdio.h>
#include <stdlib.h>
double *gp;
int n;
PRELUDE
static void kern(void) {
  double a[4];
  for (int i = 0; i < 4; i++) a[i] = i;
ESCAPE
  for (int i = 0; i < n; i++)  /* THROUGH_GP */
    gp[i] = a[i] * 2 + 1;
  for (int i = 0; i < 4; i++) printf("%.10g\n", a[i]);
}
int main(int argc, char **argv) {
  n = argc > 1 ? 2 : 3;
  kern();
  return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("form", sorted(ESCAPES))
def test_a_pointer_to_an_element_keeps_the_overlap_test(tmp_path, form) -> None:
    import json
    import os
    import subprocess

    from test_coverage_liveness import run_with_args

    lang, prelude, escape = ESCAPES[form]
    src = tmp_path / f"prog.{lang}"
    src.write_text(ESCAPE.replace("PRELUDE\n", prelude).replace("ESCAPE\n", escape))
    cc, driver = ("clang-19", "pcx-cc") if lang == "c" else ("clang++-19", "pcx-c++")
    bindir = Path(sys.executable).parent
    subprocess.run([cc, "-O1", "-w", str(src), "-o", str(tmp_path / "serial")], check=True)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu", PCX_MIN_WORK="0")
    r = subprocess.run([str(bindir / driver), "-O1", "-w", f"--pcx-report={tmp_path / 'r.json'}", str(src), "-o",
                        str(tmp_path / "offload")], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    for args in ([], ["x"]):
        assert run_with_args(tmp_path / "offload", args) == run_with_args(tmp_path / "serial", args), (form, args)
    nests = [n for s in json.loads((tmp_path / "r.json").read_text())["sources"] for n in s["nests"]]
    line = next(k + 1 for k, t in enumerate(src.read_text().splitlines()) if "THROUGH_GP" in t)
    (nest,) = [n for n in nests if n["line"] == line]
    assert not nest.get("applied") or any(x["id"] == "PCX128" for x in nest["reasons"]), nest
