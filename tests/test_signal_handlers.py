"""Loops in signal handlers stay on the host (PCX149; a held-out check).

A handler runs wherever the signal interrupts the program: ``raise`` inside a host loop,
in the middle of a data region that holds the arrays on the device, ran the handler's
kernel on the device copy, and the region's ``update to`` after the host loop wrote the
stale host copy over it (50015000 where the serial program prints 50025000).  A function
installed with ``signal`` or through ``sigaction``'s ``sa_handler``, and every function
it calls, keeps its loops on the host; the program prints the serial output.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, refused_nest  # noqa: E402

from pcx_driver.model import Decision

HANDLERS = r"""#include <signal.h>
#include <stdio.h>
#include <string.h>
#define N 10000
double a[N], c[N], e[N];
static void bump(double *v) {
  for (int i = 0; i < N; i++) v[i] += 0.5;                             /* CALLED */
}
static void on_usr1(int sig) {
  (void)sig;
  for (int i = 0; i < N; i++) c[i] += 1;                               /* SIGNAL */
}
static void on_usr2(int sig) {
  (void)sig;
  bump(e);
}
int main(void) {
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = on_usr2;
  sigaction(SIGUSR2, &act, 0);
  signal(SIGUSR1, on_usr1);
  for (int i = 0; i < N; i++) { a[i] = i; c[i] = 1; e[i] = 2; }
  for (int i = 0; i < N; i++) { a[i] += 1; if (i == 5) raise(SIGUSR1); if (i == 7) raise(SIGUSR2); }
  for (int i = 0; i < N; i++) a[i] += c[i] + e[i];
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i];
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_loops_that_run_in_signal_handlers_stay_on_the_host(tmp_path: Path) -> None:
    build_and_compare(tmp_path, HANDLERS, [])
    refused_nest(HANDLERS, "SIGNAL", "PCX149", "'on_usr1' is a signal handler")
    refused_nest(HANDLERS, "CALLED", "PCX149", "'bump' runs in signal handler 'on_usr2'")


def test_the_same_loop_outside_a_handler_offloads() -> None:
    plain = HANDLERS.replace("  signal(SIGUSR1, on_usr1);\n", "").replace("  act.sa_handler = on_usr2;\n", "")
    assert analysed_nest(plain, "SIGNAL").decision is Decision.OFFLOADED
