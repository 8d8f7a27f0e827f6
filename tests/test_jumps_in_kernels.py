"""A ``break`` or ``continue`` skips only the rest of the loop it leaves.

Particle filters resample with a linear search per particle (Rodinia/HeCBench
particlefilter): ``for (x = 0; x < n; x++) if (cdf[x] >= u[i]) { index = x; break; }``
and then ``xj[i] = ax[index]``.  The search's ``break`` cannot skip the write after the
search loop, so the kernel writes all of ``xj[0:n]`` and the plan copies it back with
``from``.  The plan checker once counted any jump in the nest against every write and
refused the kernel (PCX212: "copying xj[0:n] back brings undefined device data").  A
``continue`` of the parallel loop itself does skip the write: that kernel must keep the
host's values where it skips (``tofrom``), and the output says whether it does.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

CLANG = shutil.which("clang-19")

SEARCH = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 3000 + (argc > 1);
  float *cdf = malloc(n * sizeof *cdf), *u = malloc(n * sizeof *u);
  float *ax = malloc(n * sizeof *ax), *xj = malloc(n * sizeof *xj);
  for (int i = 0; i < n; i++) {
    cdf[i] = (float)(i + 1) / n;
    u[i] = (float)((i * 37) % n) / n;
    ax[i] = i * 0.5f;
  }
  for (int i = 0; i < n; i++) {                 /* SEARCH */
    int index = -1;
    int x;
    for (x = 0; x < n; x++) {
      if (cdf[x] >= u[i]) {
        index = x;
        break;
      }
    }
    if (index == -1) index = n - 1;
    xj[i] = ax[index];
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += xj[i] * (i % 7);
  printf("%.6f\n", s);
  return 0;
}
"""

SKIP = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 3000 + (argc > 1);
  float *u = malloc(n * sizeof *u), *ax = malloc(n * sizeof *ax), *xj = malloc(n * sizeof *xj);
  for (int i = 0; i < n; i++) {
    u[i] = (float)((i * 37) % n) / n;
    ax[i] = i * 0.5f;
    xj[i] = -1.0f;
  }
  for (int i = 0; i < n; i++) {                 /* SKIP */
    float acc = 0;
    for (int x = 0; x < n; x += 97) {
      if (x > i) break;
      acc += ax[x];
    }
    if (u[i] < 0.5f) continue;
    xj[i] = acc;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += xj[i] * (i % 7);
  printf("%.6f\n", s);
  return 0;
}
"""


def _offloaded_with(data: dict, line_marker: str, program: str) -> str:
    return " ".join(nest_at(data, program, line_marker)["directives"])


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_search_loops_break_does_not_skip_the_write_after_it(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, SEARCH, ["SEARCH"])
    directive = _offloaded_with(data, "SEARCH", SEARCH)
    assert "map(from: xj[0:(long)n" in directive, directive


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_continue_of_the_parallel_loop_keeps_the_skipped_elements(tmp_path: Path) -> None:
    build_and_compare(tmp_path, SKIP, ["SKIP"])


# HeCBench winograd writes each 2x2 output tile element ``out[x * W + y]`` after ``if (x >= W
# || y >= W) continue;``: what follows the ``continue`` runs only where both are false, so
# the row and the column are in range and the flattened subscript delinearises (the
# write is also conditional: the elements skipped keep their values).
TILES = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int W = 201 + (argc > 1), tiles = (W + 1) / 2;
  float *out = malloc(sizeof(float) * W * W);
  for (int i = 0; i < W * W; i++) out[i] = -1;
  for (int ti = 0; ti < tiles; ti++)               /* TILES */
    for (int tj = 0; tj < tiles; tj++)
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
          int x = 2 * ti + i, y = 2 * tj + j;
          if (x >= W || y >= W) continue;
          out[x * W + y] = (float)(x ^ y);
        }
  double s = 0;
  for (int i = 0; i < W * W; i++) s += out[i] * (i % 5);
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_what_follows_a_continue_runs_only_where_its_condition_is_false(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, TILES, ["TILES"])
    # all four loops may be collapsed; on the host device (a CPU) the innermost stays whole
    nest = nest_at(data, TILES, "TILES")
    assert "collapse(3)" in " ".join(nest["directives"]), nest
    assert any(r["id"] == "PCX143" and "of the 4 loops that may be collapsed" in r["message"]
               for r in nest["reasons"]), nest


GOTO_INTO = r"""
#include <stdio.h>
#define N 2000
int main(int argc, char **argv) {
  static int a[N];
  int i = 5;
  for (int k = 0; k < N; k++)  /* ZERO */
    a[k] = 0;
  if (argc > 1) goto inside;
  for (i = 0; i < N; i++) {  /* LABELLED */
  inside:
    a[i] = i + 1;
  }
  long s = 0;
  for (int k = 0; k < N; k++) s += a[k];
  printf("%ld\n", s);
  return 0;
}
"""


def test_a_loop_holding_a_label_stays_serial_with_its_reason(tmp_path) -> None:
    # ``goto inside;`` from before the loop: the offloaded loop did not compile ("use of
    # undeclared label"), and the whole file fell back (PCX007)
    from test_coverage_liveness import refused_nest

    refused_nest(GOTO_INTO, "LABELLED", "PCX108", "label 'inside'")
    build_and_compare(tmp_path, GOTO_INTO, ["ZERO"])
