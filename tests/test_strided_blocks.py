"""Block loops: a strided loop whose range is a run-time value, with an inner loop across
each block (``for (i = 0; i < n; i += B) for (j = 0; j < B; j++) b[i + j] = ...``).

Code ported from CUDA writes its thread blocks this way (HeCBench's stencil1d).  The last
index of ``i`` is not known at compile time: below ``n``, but how far below depends on
``n % B``, so the section of ``b`` from ``i + j`` could reach up to ``B - 1`` elements past
what the loop touches (PCX116), and the engine offloaded the ``j`` loops instead, once per
block: 78,000 launches where one would do.  Where the range holds a whole number of steps
the last index is ``n - B`` and the section ends where the accesses do; the kernel tests
that at run time and runs the loop as written otherwise (``model.StrideFact``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

BLOCKS = r"""
#include <stdio.h>
#include <stdlib.h>
#define B 64
#define R 3

/* a 1-D stencil in blocks of B, each staged through a local copy with its halo */
void blur(const int *a, int *b, int n) {
  for (int i = 0; i < n; i = i + B) {                          /* BLOCKS */
    int tile[B + 2 * R];
    for (int j = 0; j < B; j++) {
      int g = i + j;
      tile[j + R] = a[g + R];
      if (j < R) {
        tile[j] = a[g];
        tile[j + R + B] = a[g + R + B];
      }
    }
    for (int j = 0; j < B; j++) {
      int s = 0;
      for (int o = -R; o <= R; o++) s += tile[j + R + o];
      b[i + j] = s;
    }
  }
}

/* the same walk downwards, from the last block to the first */
void scale_down(double *x, int n) {
  for (int i = n - B; i >= 0; i -= B)                          /* DOWN */
    for (int j = 0; j < B; j++)
      x[i + j] = x[i + j] * 0.5 + j;
}

int main(int argc, char **argv) {
  /* a whole number of blocks, then one more element: the last block runs past n, into
     the padding the allocations leave for it (as the serial program reads and writes) */
  long total = 0;
  for (int n = 4096 + argc - 1; n <= 4097 + argc - 1; n++) {
    int padded = (n + B - 1) / B * B;
    int *a = malloc(sizeof(int) * (padded + 2 * R + B)), *b = calloc(padded, sizeof(int));
    double *x = malloc(sizeof(double) * padded);
    for (int i = 0; i < padded + 2 * R + B; i++) a[i] = (i * 7) % 23;
    for (int i = 0; i < padded; i++) x[i] = i % 11;
    blur(a, b, n);
    scale_down(x, padded);
    for (int i = 0; i < padded; i++) total += b[i] * (i % 5) + (long)x[i] * (i % 3);
    free(a); free(b); free(x);
  }
  printf("%ld\n", total);
  return 0;
}
"""


def test_a_block_loop_takes_its_last_index_where_the_blocks_are_whole() -> None:
    nest = analysed_nest(BLOCKS, "BLOCKS")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    (fact,) = nest.stride_facts
    assert fact.index == "i" and fact.last == "n - 64"
    assert fact.test == "(n) > (0) && ((n) - (0)) % 64 == 0"
    (b,) = [a for a in nest.arrays if a.name == "b"]
    assert b.section.render() == "b[0:B + n - 64]"  # (B is 64)
    assert any(r.id == "PCX202" and "taken as n - 64" in r.message for r in nest.remarks)
    down = analysed_nest(BLOCKS, "DOWN")
    assert down.decision is Decision.OFFLOADED, [r.format() for r in down.remarks]
    assert [(f.last, f.test) for f in down.stride_facts] == [("0", "(n - B) >= (0) && ((n - B) - (0)) % 64 == 0")]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_the_kernel_runs_where_the_blocks_are_whole_and_as_written_elsewhere(tmp_path: Path) -> None:
    build_and_compare(tmp_path, BLOCKS, ["BLOCKS", "DOWN"])
    launched = launch_lines(tmp_path / "offload")
    blocks, down = (next(k + 1 for k, t in enumerate(BLOCKS.splitlines()) if m in t) for m in ("BLOCKS", "DOWN"))
    # n = 4096 is 64 whole blocks: one launch; n = 4097 is not: the loop as written
    assert launched.count(blocks) == 1, launched
    assert launched.count(down) == 2, launched  # (its range is always padded to whole blocks)


def test_a_bound_the_nest_assigns_is_no_fact() -> None:
    """The test runs before the kernel: a start or bound the nest changes (or declares)
    would be read with another value there, and the loop keeps its PCX116."""
    src = BLOCKS.replace("  for (int i = 0; i < n; i = i + B) {                          /* BLOCKS */",
                         "  int m = n;\n  for (int i = 0; i < m; i = i + B) {                          /* BLOCKS */\n"
                         "    if (i == 0) m = n;")
    assert src != BLOCKS
    nest = analysed_nest(src, "BLOCKS")
    assert nest.decision is not Decision.OFFLOADED and not nest.stride_facts


REPEATED = r"""
#include <stdio.h>
#include <stdlib.h>
#define B 128
/* the block loop inside a repeat loop: one data region holds both arrays across the
   repeats where the blocks are whole, and maps nothing where they are not */
int main(int argc, char **argv) {
  int n = argc > 1 ? 8000 : 8192;
  int padded = (n + B - 1) / B * B;
  double *a = malloc(sizeof(double) * padded), *b = malloc(sizeof(double) * padded);
  for (int i = 0; i < padded; i++) a[i] = i % 13;              /* INIT */
  double total = 0;
  for (int r = 0; r < 4; r++) {
    for (int i = 0; i < n; i += B)                             /* REPEATED */
      for (int j = 0; j < B; j++)
        b[i + j] = a[i + j] * 0.5 + a[i + (j + 1) % B] + r;
    for (int i = 0; i < n; i += B)
      for (int j = 0; j < B; j++)
        a[i + j] = b[i + j] * 0.25;
  }
  for (int i = 0; i < n; i++) total += a[i] * (i % 5);
  printf("%.4f\n", total);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_region_tests_whole_blocks_for_its_kernels(tmp_path: Path) -> None:
    """The region's ``target enter/exit data`` carry the test as ``if(...)`` and each of
    its kernels tests it too: 8,192 elements are 64 whole blocks (every loop on the
    device, the arrays copied once), 8,000 are not (all of it as written, nothing mapped)."""
    data = build_and_compare(tmp_path, REPEATED, ["INIT", "REPEATED"])
    remarks = [r["message"] for s in data["sources"] for r in s["remarks"]]
    assert any("target data region keeps" in m for m in remarks), remarks
    for args, launches in (([], 1 + 4 * 2 + 1), (["x"], 0)):
        assert len(launch_lines(tmp_path / "offload", args)) == launches, args
