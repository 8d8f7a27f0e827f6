"""Kernels in a program that starts threads.

A kernel copies back the whole section it maps.  Elements it does not write (a condition
around the store, a member of a struct element left out) get back the values they had at
its start, over what another thread wrote meanwhile: a held-out check lost millions of
``items[0].cnt++`` of a second thread while the kernel set ``items[i].flag``.  Kernels
that several threads launch at once over overlapping sections make libomptarget abort
("explicit extension not allowed", another held-out check).  Where the file starts a
thread, its loops stay on the host (PCX146), and the output is the serial one.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, refused_nest  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

THREADED = r"""
#include <pthread.h>
#include <stdio.h>
#define N 20000
struct item { long cnt; int flag; };
static struct item items[N];
static double x[N], y[N];
static void *count(void *arg) {
  long *n = arg;
  for (int k = 0; k < 1000; k++) (*n)++;
  return 0;
}
int main(int argc, char **argv) {
  long n = 0;
  pthread_t th;
  pthread_create(&th, 0, count, &n);
  for (int i = 0; i < N; i++)  /* WHOLE */
    x[i] = i * 0.5 + argc;
  for (int i = 0; i < N; i++)  /* CONDITIONAL */
    if (i % 3 == 0) y[i] = x[i];
  for (int i = 0; i < N; i++)  /* MEMBER */
    items[i].flag = i + argc;
  pthread_join(th, 0);
  double s = 0;
  for (int i = 0; i < N; i++) s += x[i] + y[i] + items[i].flag;
  printf("%ld %.3f\n", n, s);
  return 0;
}
"""


def test_a_threaded_file_keeps_its_loops_on_the_host(tmp_path) -> None:
    build_and_compare(tmp_path, THREADED, [])
    for marker in ("WHOLE", "CONDITIONAL", "MEMBER"):
        refused_nest(THREADED, marker, "PCX146", "starts threads ('pthread_create', line 16)")


def test_a_file_without_threads_still_offloads_partial_writes() -> None:
    from test_coverage_liveness import analysed_nest
    from pcx_driver.model import Decision

    alone = THREADED.replace("pthread_create(&th, 0, count, &n);", "count(&n);").replace("pthread_join(th, 0);", "")
    assert analysed_nest(alone, "CONDITIONAL").decision is Decision.OFFLOADED


WORKER = r"""
#define N 200000
double x[N + 2], y[N + 2];
void smooth(int lo, int hi) {           /* two threads of another file call it, on halves */
  for (int i = lo; i < hi; i++)                                   /* SMOOTH */
    y[i] = 0.25 * x[i - 1] + 0.5 * x[i] + 0.25 * x[i + 1];
}
"""


def test_a_file_built_with_pthread_keeps_its_loops_on_the_host(tmp_path) -> None:
    """The threads may start in another file (a held-out check: ``main.c`` ran ``smooth``
    on two halves at once, each kernel mapped its halo, the sections overlapped and
    libomptarget aborted).  ``-pthread`` on the compile says the program may: the
    driver hands it to the analysis, which keeps the loops on the host; without it they
    offload."""
    import os
    import subprocess

    from test_coverage_liveness import PCX_CC

    (tmp_path / "work.c").write_text(WORKER)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    for flags, offloaded in (([], True), (["-pthread"], False)):
        report = tmp_path / f"report{len(flags)}.json"
        r = subprocess.run([str(PCX_CC), "-O1", *flags, f"--pcx-report={report}", "-c", "work.c", "-o", "work.o"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        import json

        nests = [n for s in json.loads(report.read_text())["sources"] for n in s["nests"] if n["line"] == 5]
        assert nests and bool(nests[0].get("applied")) is offloaded, (flags, nests)
        if not offloaded:
            assert any(x["id"] == "PCX146" and "-pthread" in x["message"] for x in nests[0]["reasons"]), nests
