"""The user's own flags hold for the rewritten source too (held-out builds of cJSON and
LLVM's SmallPT): a run-time alias check compiles under ``-std=c89 -pedantic -Werror``
(it cast addresses to ``unsigned long long``, which C89 lacks: the file fell back, PCX007),
and ``-Wno-c++11-narrowing``, which makes a narrowing initialiser legal, reaches the
analysis's parse (the file was "not analysed" as a syntax error, PCX004)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import VENV_BIN

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

C89 = r"""
#include <stdio.h>
static unsigned char store[64];
static unsigned char *get(void) { return store; }
static void copy(int n, unsigned char dp) {
  unsigned char buf[40] = "3,14159";
  unsigned char *out = get();
  int i;
  for (i = 0; i < n; i++) {
    if (buf[i] == dp) { out[i] = '.'; continue; }
    out[i] = buf[i];
  }
}
int main(void) {
  copy(8, ',');
  printf("%s\n", (char *)store);
  return 0;
}
"""

NARROWING = r"""
#include <cstdio>
static unsigned short seed(int y) {
  unsigned short xi[3] = {0, 0, y * y * y};
  return xi[2];
}
int main() {
  static double a[100000];
  for (int i = 0; i < 100000; i++)  /* FILL */
    a[i] = 2.0 * i;
  double s = 0;
  for (int i = 0; i < 100000; i++) s += a[i];
  std::printf("%g %d\n", s, seed(7));
  return 0;
}
"""


def _build(tmp_path, name, text, driver, flags):
    (tmp_path / name).write_text(text)
    env = {**os.environ, "PCX_MODE": "static", "PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"}
    r = subprocess.run([str(VENV_BIN / driver), "-O1", "--pcx-min-work=0", f"--pcx-report={tmp_path / 'r.json'}",
                        *flags, name, "-o", "app"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    nests = [n for s in json.loads((tmp_path / "r.json").read_text())["sources"] for n in s["nests"]]
    run = subprocess.run(["./app"], cwd=tmp_path, env={**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY"},
                         capture_output=True, text=True, timeout=60)
    return nests, run.stdout


def test_a_run_time_alias_check_compiles_as_c89(tmp_path) -> None:
    nests, out = _build(tmp_path, "c89.c", C89, "pcx-cc", ["-std=c89", "-pedantic", "-Werror"])
    assert out == "3.14159\n"
    assert any(n.get("applied") for n in nests), nests


def test_no_narrowing_errors_reach_the_analysis(tmp_path) -> None:
    nests, out = _build(tmp_path, "n.cpp", NARROWING, "pcx-c++", ["-std=c++17", "-Wno-c++11-narrowing"])
    assert out == "9.9999e+09 343\n"
    line = next(k + 1 for k, t in enumerate(NARROWING.splitlines()) if "FILL" in t)
    assert any(n["line"] == line and n.get("applied") for n in nests), nests
