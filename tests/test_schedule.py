"""Each kernel's loop schedule is fitted to the device it is built for (engine/schedule.py).

On a GPU every loop the analysis proved may be collapsed is: the collapsed iterations fill
its threads.  On a CPU device (the host device) the innermost loop stays whole, so that it
vectorises and its indices need no division; the outer loops are enough for a few cores.
The kernel says so (PCX143).  A histogram's updates are atomic on a GPU; on a CPU device,
where the array is small and of constant size, each thread adds into its own copy
(``reduction(+: h[0:256])``, PCX144).  Built and run here on the host device, and compared
with the serial program.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pcx_driver.config import Config  # noqa: E402
from pcx_driver.model import Language, SourceUnit  # noqa: E402
from pcx_driver.pipeline import run_pipeline  # noqa: E402
from pcx_driver.plugins import make_plugin_manager  # noqa: E402
from test_coverage_liveness import CLANG, build_and_compare, nest_at  # noqa: E402

STENCILS = r"""
#include <stdio.h>
#include <stdlib.h>
static void sweep(int n, int m, double a[n][m], double b[n][m], double c[n][4][m]) {
  for (int i = 1; i < n - 1; i++)  /* TWO */
    for (int j = 1; j < m - 1; j++)
      b[i][j] = 0.25 * (a[i - 1][j] + a[i + 1][j] + a[i][j - 1] + a[i][j + 1]);
  for (int i = 0; i < n; i++)  /* THREE */
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < m; j++)
        c[i][k][j] = a[i][j] * (k + 1) + b[i][j];
  for (int i = 0; i < n; i++) {  /* BELOW */
    for (int j = 0; j < m; j++) {
      double s = 0;
      for (int k = 0; k < 4; k++)
        s += c[i][k][j];
      a[i][j] = s / 8;
    }
  }
}
int main(int argc, char **argv) {
  int n = 150 + (argc > 1), m = 130;
  double (*a)[m] = malloc(sizeof(double) * n * m), (*b)[m] = calloc(n * m, sizeof(double));
  double (*c)[4][m] = malloc(sizeof(double) * n * 4 * m);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++)
      a[i][j] = (i * 7 + j * 3) % 11;
  for (int t = 0; t < 5; t++)
    sweep(n, m, a, b, c);
  double s = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++)
      s += a[i][j] * ((i + j) % 5) + b[i][j];
  printf("%.6f\n", s);
  return 0;
}
"""


def _collapse_remark(nest: dict) -> str:
    return next((r["message"] for r in nest["reasons"] if r["id"] == "PCX143"), "")


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_on_the_host_device_the_innermost_loop_is_never_collapsed(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, STENCILS, ["TWO", "THREE", "BELOW"])
    two, three, below = (nest_at(data, STENCILS, m) for m in ("TWO", "THREE", "BELOW"))
    assert "collapse" not in " ".join(two["directives"]), two
    assert "collapse(1) of the 2 loops" in _collapse_remark(two), two
    assert "collapse(2)" in " ".join(three["directives"]), three
    assert "collapse(2) of the 3 loops" in _collapse_remark(three), three
    # the PCX100 remark names the clause as emitted
    offloaded = {m: next(r["message"] for r in n["reasons"] if r["id"] == "PCX100") for m, n in
                 (("TWO", two), ("THREE", three))}
    assert "collapse(" not in offloaded["TWO"] and "collapse(2)" in offloaded["THREE"], offloaded
    # loops remain below the collapsed band (the k loop): nothing to narrow
    assert "collapse(2)" in " ".join(below["directives"]) and not _collapse_remark(below), below


def _plan(target: str):
    config = Config.resolve({"offload-target": [target]}, {})
    pm, _ = make_plugin_manager(entry_points=False)
    unit = SourceUnit(path="t.c", text=STENCILS, language=Language.C, directory=".")
    return run_pipeline(unit, pm, config).plan


def test_a_gpu_build_collapses_every_loop_the_analysis_proved() -> None:
    line = {m: next(k + 1 for k, t in enumerate(STENCILS.splitlines()) if m in t) for m in ("TWO", "THREE")}
    for target, two, three in (("nvptx64-nvidia-cuda", 2, 3), ("amdgcn-amd-amdhsa", 2, 3),
                               ("x86_64-pc-linux-gnu", 1, 2)):
        kernels = {k.line: k for k in _plan(target).offloaded()}
        assert (kernels[line["TWO"]].collapse, kernels[line["THREE"]].collapse) == (two, three), target
        narrowed = [r for k in kernels.values() for r in k.remarks if r.id == "PCX143"]
        assert bool(narrowed) == (target == "x86_64-pc-linux-gnu"), target


HISTOGRAMS = r"""
#include <stdio.h>
#include <stdlib.h>
#define BINS 64
int global_hist[32];
static void count(int n, const unsigned *v, double *w, double sums[BINS], long big[100000]) {
  int local[256] = {0};
  for (int i = 0; i < n; i++)  /* LOCAL */
    local[v[i] & 255]++;
  for (int i = 0; i < n; i++)  /* SUMS */
    sums[v[i] % BINS] += w[i];
  for (int i = 0; i < n; i++)  /* BIG */
    big[v[i] % 100000] += 1;
  long s = 0;
  for (int b = 0; b < 256; b++)
    s += (long)local[b] * (b % 7);
  printf("%ld\n", s);
}
int main(int argc, char **argv) {
  int n = 200000 + (argc > 1);
  unsigned *v = malloc(sizeof(unsigned) * n);
  double *w = malloc(sizeof(double) * n), sums[BINS] = {0};
  long *big = calloc(100000, sizeof(long));
  for (int i = 0; i < n; i++) {
    v[i] = (unsigned)i * 2654435761u;
    w[i] = (i % 17) * 0.25;
  }
  count(n, v, w, sums, big);
  for (int i = 0; i < n; i++)  /* GLOBAL */
    global_hist[v[i] & 31] += 2;
  long t = 0;
  for (int b = 0; b < 100000; b++)
    t += big[b] * (b % 5);
  for (int b = 0; b < BINS; b++)
    printf("%d %.2f\n", b, sums[b]);
  printf("%ld\n", t);
  return 0;
}
"""


def _ids(nest: dict) -> list[str]:
    return [r["id"] for r in nest["reasons"]]


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_on_the_host_device_a_small_histogram_is_a_reduction_and_a_large_one_stays_atomic(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, HISTOGRAMS, ["LOCAL", "SUMS", "BIG", "GLOBAL"])
    local, sums, big, glob = (nest_at(data, HISTOGRAMS, m) for m in ("LOCAL", "SUMS", "BIG", "GLOBAL"))
    # 256 ints and 64 doubles (a parameter declared sums[BINS]): a copy per thread
    assert "PCX144" in _ids(local) and "reduction(+: local[0:256])" in " ".join(local["directives"]), local
    assert "PCX144" in _ids(sums) and "reduction(+: sums[" in " ".join(sums["directives"]), sums
    assert not any("atomic" in d for d in local["directives"] + sums["directives"]), (local, sums)
    # 800,000 bytes per thread is too much for a thread's stack: atomics
    assert "PCX144" not in _ids(big) and "omp atomic update" in big["directives"], big
    # clang-19 cannot reduce a global array's section in a target region: atomics
    assert "PCX144" not in _ids(glob) and "omp atomic update" in glob["directives"], glob


def test_a_gpu_build_keeps_the_histograms_atomic() -> None:
    config = Config.resolve({"offload-target": ["nvptx64-nvidia-cuda"]}, {})
    pm, _ = make_plugin_manager(entry_points=False)
    unit = SourceUnit(path="t.c", text=HISTOGRAMS, language=Language.C, directory=".")
    kernels = run_pipeline(unit, pm, config).plan.offloaded()
    assert len([k for k in kernels if k.atomic_updates]) == 4
    assert not any(k.array_reductions for k in kernels)
