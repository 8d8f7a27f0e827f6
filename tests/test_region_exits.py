"""A data region is left only through its end.

A held-out adversarial check put a call between two kernels that leaves by ``longjmp``
(C) or by an exception (C++): the region's exit was skipped, its arrays stayed on the
device, and later kernels found the stale copies (C: the host's writes lost), or the
exception left an OpenMP structured block and terminated the program (C++).  A call of a
function of the file that throws or calls ``longjmp``, itself or through its callees,
now keeps the region from forming (PCX203); the kernels map their own data.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

BODY = r"""
#define N 20000
double a[N], b[N];
void work(int t) {
  for (int i = 0; i < N; i++) a[i] = a[i] + b[i];  /* FIRST */
  check(t);
  for (int i = 0; i < N; i++) b[i] = a[i] * 0.5;   /* SECOND */
}
"""

C_PROGRAM = r"""
#include <stdio.h>
#include <setjmp.h>
jmp_buf env;
static void bail(void) { longjmp(env, 1); }
void check(int t) { if (t == 1) bail(); }
""" + BODY + r"""
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { a[i] = i; b[i] = argc; }
  for (int t = 0; t < 4; t++) {
    if (setjmp(env) == 0) work(t);
    a[0] += 1000; b[1] = 3;
  }
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i] + b[i];
  printf("%.17g %.17g\n", s, a[0]);
  return 0;
}
"""

CXX_PROGRAM = r"""
#include <cstdio>
#include <stdexcept>
void check(int t) { if (t == 1) throw std::runtime_error("t == 1"); }
""" + BODY + r"""
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) { a[i] = i; b[i] = argc; }
  for (int t = 0; t < 4; t++) {
    try { work(t); } catch (const std::exception &e) { std::printf("caught at %d: %s\n", t, e.what()); }
    a[0] += 1000; b[1] = 3;
  }
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i] + b[i];
  std::printf("%.17g %.17g\n", s, a[0]);
  return 0;
}
"""


def _region_refusal(data: dict) -> list[str]:
    return [r["message"] for s in data["sources"] for r in s["remarks"]
            if r["id"] == "PCX203" and "'check' at line" in r["message"]]


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_call_that_may_longjmp_keeps_the_region_from_forming(tmp_path) -> None:
    data = build_and_compare(tmp_path, C_PROGRAM, ["FIRST", "SECOND"])
    assert any("may leave the region by longjmp or an exception" in m for m in _region_refusal(data)), data


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_a_call_that_may_throw_keeps_the_region_from_forming(tmp_path) -> None:
    data = build_and_compare(tmp_path, CXX_PROGRAM, ["FIRST", "SECOND"], suffix=".cpp")
    assert any("may leave the region by longjmp or an exception" in m for m in _region_refusal(data)), data


GOTO_CLEANUP = r"""
#include <stdio.h>
#include <stdlib.h>
static int work(int n, double *out) {
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  int rc = -1;
  if (!a || !b) goto fail;
  for (int i = 0; i < n; i++) a[i] = i * 0.5;  /* FILL */
  for (int i = 0; i < n; i++) b[i] = a[i] * 2;  /* DOUBLE */
  if (b[n - 1] < 0) goto fail;
  for (int i = 0; i < n; i++) out[i] = a[i] + b[i];  /* SUM */
  rc = 0;
fail:
  free(a);
  free(b);
  return rc;
}
int main(int argc, char **argv) {
  static double out[100000];
  int rc = work(100000 - argc, out);
  double s = 0;
  for (int i = 0; i < 100000; i++) s += out[i] * (i % 3);
  printf("%d %.1f\n", rc, s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_forward_gotos_to_a_cleanup_label_keep_the_kernels(tmp_path) -> None:
    # C's ``goto fail`` idiom: one goto kept every loop of the function serial (PCX216, a
    # held-out adversarial check).  With no region of its own, a forward jump only skips
    # statements, each checked as if it ran; the kernels map their own data
    build_and_compare(tmp_path, GOTO_CLEANUP, ["FILL", "DOUBLE", "SUM"])
