"""The extent of an array from its allocation counts elements of what the pointer points to.

``double (*m)[c] = malloc(sizeof(double) * r * c)`` holds ``r`` rows, and ``row_t *g =
malloc(sizeof(double) * NX * NY * NZ)`` (``typedef double row_t[NY][NZ]``) holds ``NX``;
reading the byte count over ``sizeof(double)`` as the number of rows maps a section many
times the allocation (the fixed-seed fuzz campaign crashed on the first while the
allocation reader was being widened).  A ``sizeof`` that names the declared type is an
element count only for ``T *p``; ``sizeof *p`` and ``sizeof p[0]`` always are.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.hostaccess import declared_extent, parse
from pcx_driver.model import Language

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

DECLS = r"""
typedef double row_t[4][5];
void f(int r, int c) {
  double *flat = malloc(sizeof(double) * r * c);
  double (*rows)[c] = malloc(sizeof(double) * r * c);
  double (*rows2)[c] = malloc(r * sizeof *rows2);
  row_t *grid = malloc(sizeof(double) * 3 * 4 * 5);
  row_t *grid2 = malloc(3 * sizeof(row_t));
  float *other = malloc(r * sizeof(double));
  double *al = aligned_alloc(64, r * sizeof(double));
}
"""


@pytest.mark.parametrize("name,dims", [
    ("flat", ["(r) * (c)"]),
    ("rows", ["((r) * (c)) / ((c))", "c"]),
    ("rows2", ["r", "c"]),
    ("grid", None),
    ("grid2", ["3"]),
    ("other", None),
    ("al", ["r"]),
])
def test_allocation_extent_counts_the_pointee(name, dims) -> None:
    data = DECLS.encode()
    fn = next(n for n in parse(data, Language.C).root_node.named_children if n.type == "function_definition")
    ext = declared_extent(data, Language.C, (fn.start_byte, fn.end_byte), name)
    got = [" ".join(d.split()) for d in ext.dims] if ext is not None else None
    assert got == dims


PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#define NY 6
#define NZ 7
typedef double row_t[NY][NZ];
int main(int argc, char **argv) {
  int r = 18 - (argc > 1), c = 25, nx = 12;
  unsigned (*k)[c] = malloc(sizeof(unsigned) * (size_t)r * (size_t)c);
  double (*m)[c] = malloc(sizeof(double) * (size_t)r * (size_t)c);
  row_t *g = malloc(sizeof(double) * (size_t)nx * NY * NZ);
  for (int i = 0; i < r; i++)                       /* ROWS */
    for (int j = 0; j < c; j++) {
      m[i][j] = (double)((i * 31 + j) % 17) * 0.5;
      k[i][j] = (unsigned)(i * 7 + j * 3);
    }
  for (int i = 0; i < r; i++)                       /* TRIANGLE */
    for (int j = 0; j <= i; j++)
      if ((k[i][j] & 4u) == 0u) m[i][j] = 0.25;
  for (int x = 0; x < nx; x++)                      /* GRID */
    for (int y = 0; y < NY; y++)
      for (int z = 0; z < NZ; z++)
        g[x][y][z] = m[x + y][z] + x;
  double s = 0;
  for (int i = 0; i < r; i++)
    for (int j = 0; j < c; j++) s += m[i][j] * (j + 1);
  for (int x = 0; x < nx; x++) s += g[x][NY - 1][NZ - 2];
  printf("%.6f\n", s);
  free(k); free(m); free(g);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_row_pointer_allocations_offload_within_their_storage(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["ROWS", "TRIANGLE", "GRID"])


def test_a_triangular_nest_over_row_pointers_maps_rows_not_elements() -> None:
    """The rows' count bounds the first subscript of a triangular nest (``j <= i``): with
    ``sizeof(double) * r * c`` read as rows, the section was ``m[0:r*c][0:c]``."""
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import SourceUnit

    src = ("#include <stdlib.h>\nint main(int argc, char **argv) {\n  int r = 18 - (argc > 1), c = 25;\n"
           "  unsigned (*k)[c] = malloc(sizeof(unsigned) * (size_t)r * (size_t)c);\n"
           "  double (*m)[c] = malloc(sizeof(double) * (size_t)r * (size_t)c);\n"
           "  for (int i = 0; i < r; i++)\n    for (int j = 0; j <= i; j++)\n"
           "      if ((k[i][j] & 4u) == 0u) m[i][j] = 0.25;\n  return (int)m[1][1];\n}\n")
    nest = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()[0]
    assert {a.name: a.section.dims[0] for a in nest.arrays} == {"k": ("0", "r"), "m": ("0", "r")}
