"""A macro whose replacement list is not one operand where it is used.

``#define W N+8`` makes ``a[i*W + j]`` the access ``a[i*N + 8 + j]``, and ``#define IDX(i,j)
(i)*N+(j)`` makes ``IDX(i,j)*3`` the index ``i*N + 3*j``: read as the values ``W`` and
``IDX(i, j)``, the analysis saw rows that do not overlap where they do, and sections past
the array (a wrong answer and a crash on the host device).  A use is read as one value
only where the list binds as tightly as parentheses would (``macros.stands_as_written``);
a macro inside another's list is expanded as the preprocessor does.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import run_with_args  # noqa: E402
from test_coverage_liveness import PCX_CC, analysed_nest, build_and_compare, refused_nest  # noqa: E402

from pcx_driver.engine.macros import ATOM, UNARY, binding_strength
from pcx_driver.model import Decision

CLANG = shutil.which("clang-19")

TEMPLATE = r"""
#include <stdio.h>
#define N 64
#define W N+8
#define IDX(i,j) (i)*N+(j)
#define ROW (W)
double a[4 * N * N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++)  /* NEST */
    for (int j = 0; j < N; j++)
      a[ACCESS] = i + 0.001 * j + argc;
  double s = 0;
  for (int k = 0; k < 4 * N * N; k++) s += a[k] * (k % 7 + 1);
  printf("%.6f\n", s);
  return 0;
}
"""


@pytest.mark.parametrize("tokens,strength", [
    (["N"], ATOM), (["(", "N", "+", "1", ")"], ATOM), (["f", "(", "x", ")"], ATOM),
    (["N", "+", "8"], 12), (["(", "i", ")", "*", "y", "+", "(", "j", ")"], 12), (["x", "?", "a", ":", "b"], 3),
    (["-", "1"], UNARY), (["(", "int", ")", "x"], UNARY),
])
def test_binding_strength_is_the_loosest_operator_outside_parentheses(tokens, strength) -> None:
    assert binding_strength(tokens) == strength


@pytest.mark.parametrize("access", ["i*W + j", "IDX(i,j)*3", "2*IDX(j,i) + i"])
def test_a_list_that_binds_to_its_neighbours_is_not_read_as_a_value(access) -> None:
    nest = analysed_nest(TEMPLATE.replace("ACCESS", access), "NEST")
    assert nest.decision is not Decision.OFFLOADED, [r.format() for r in nest.remarks]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("access", ["IDX(i,j)", "i*ROW + j", "j + i*N + W"])
def test_a_list_that_stands_as_written_offloads_with_the_serial_output(tmp_path, access) -> None:
    build_and_compare(tmp_path, TEMPLATE.replace("ACCESS", access), ["NEST"])


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("access", ["i*W + j", "IDX(i,j)*3"])
def test_a_list_that_binds_to_its_neighbours_gives_the_serial_output(tmp_path, access) -> None:
    import os
    import subprocess

    src = tmp_path / "p.c"
    src.write_text(TEMPLATE.replace("ACCESS", access))
    serial, offload = tmp_path / "s", tmp_path / "o"
    subprocess.run([CLANG, "-O1", "-w", str(src), "-o", str(serial)], check=True)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    subprocess.run([str(PCX_CC), "-O1", "-w", "--pcx-min-work=0", str(src), "-o", str(offload)], check=True, env=env)
    assert run_with_args(offload, []) == run_with_args(serial, [])


REGION = r"""
#include <stdio.h>
#define N 256
#define W N+8
static double a[N * (N + 8)];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++)  /* FILL */
    for (int j = 0; j < W; j++)
      a[i*(W) + j] = i + j * 0.5 + argc;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      a[i*W + j] = a[i*W + j] * 2 + 1;
  double s = 0;
  for (int k = 0; k < N * (N + 8); k++)  /* SUM */
    s += a[k] * (k % 7 + 1);
  printf("%.17g\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_data_region_maps_a_multi_operand_macro_extent_as_its_value(tmp_path) -> None:
    # The kernel's section a[0:N*(W)] was read again as a polynomial for the region, where
    # the parentheses around W fell away: a[0:N*W] is a[0:N*N+8], 248 elements short.
    data = build_and_compare(tmp_path, REGION, ["FILL", "SUM"])
    region = [d["text"] for s in data["sources"] for d in s["directives"] if "a[0:" in d["text"]]
    assert region and "a[0:N*W]" not in region[0].replace(" ", ""), region


TRAILING_OPERATOR = r"""
#include <stdio.h>
#define N 4096
#define OFF N-1-
static double a[N], b[N];
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { a[i] = i + argc; b[i] = 0; }  /* FILL */
  for (int i = 0; i < N; i++) b[OFF i] = a[i] * 2;
  double s = 0;
  for (int k = 0; k < N; k++)  /* SUM */
    s += b[k] * (k % 7 + 1);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_host_code_the_parser_cannot_read_keeps_no_region(tmp_path) -> None:
    # ``b[OFF i]`` with ``#define OFF N-1-``: tree-sitter reads an error node, and the region's
    # update took its first token for the index: ``update to(b[OFF:1])``, which clang
    # rejects (the file fell back, PCX007).  What the scan cannot read stops the region.
    build_and_compare(tmp_path, TRAILING_OPERATOR, ["FILL", "SUM"])


DOUBLE_BOUND = r"""
#include <stdio.h>
#include <stdlib.h>
#define LEN_ len
static void fill(double len, double *a) {
  for (int i = 0; i < LEN_; i++)  /* NEST */
    a[i] = i + 1.0;
}
int main(int argc, char **argv) {
  int n = 3000 + argc;
  double *a = calloc(n + 2, sizeof *a);
  fill(n + 0.5, a);
  double s = 0;
  for (int i = 0; i < n + 2; i++) s += a[i];
  printf("%.1f\n", s);
  free(a);
  return 0;
}
"""


def test_a_macro_bound_that_names_a_double_is_no_integer_bound() -> None:
    """``i < LEN_`` of ``#define LEN_ len`` and a ``double len`` runs to the ceiling of
    ``len``: read as the symbol ``LEN_``, the kernel mapped ``a[0:(long)LEN_]``, one element
    short (a held-out check: 500500 for 501501).  What the expansion names is checked as the
    names a bound spells out are: the loop stays serial, as ``i < len`` does."""
    refused_nest(DOUBLE_BOUND, "/* NEST */", "PCX110", "not loop-invariant integer")
    refused_nest(DOUBLE_BOUND.replace("i < LEN_", "i < len"), "/* NEST */", "PCX110", "not loop-invariant integer")
