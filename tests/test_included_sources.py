"""A source file included by another (``#include "kernel.cc"``, Parboil's style) is not
analysed where it is included; a remark says so (PCX014) instead of silence."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PCX_CXX = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "pcx-c++"


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_an_included_source_gets_a_remark(tmp_path) -> None:
    (tmp_path / "kernel.cc").write_text("static void twice(double *a, int n) {\n"
                                        "  for (int i = 0; i < n; i++) a[i] = 2 * a[i];\n}\n")
    (tmp_path / "main.cc").write_text('#include <cstdio>\n#include "kernel.cc"\n'
                                      "int main() { static double a[5000] = {1}; twice(a, 5000);\n"
                                      '  std::printf("%f\\n", a[0]); return 0; }\n')
    driver = PCX_CXX if PCX_CXX.exists() else shutil.which("pcx-c++")
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(driver), "--pcx-remarks", "-O1", "main.cc", "-o", "main"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "main.cc:2:1: remark: 'kernel.cc' is a source file included here: its loops are not analysed" \
        in r.stderr, r.stderr
    assert subprocess.run([str(tmp_path / "main")], capture_output=True, text=True).stdout == "2.000000\n"


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_header_with_loops_gets_a_remark(tmp_path) -> None:
    # HeCBench-style ``kernels.h``: its loops stayed on the host without a word (a held-out
    # check: laplace3d, lrn, mandelbrot, lci, maxFlops); a header without loops says nothing
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "kernels.h").write_text("static void scale(double *a, int n) {\n"
                                                "  for (int i = 0; i < n; i++) a[i] *= 2;\n}\n")
    (tmp_path / "consts.h").write_text("#define N 5000\nstatic inline int twice(int x) { return 2 * x; }\n")
    (tmp_path / "main.c").write_text('#include <stdio.h>\n#include "consts.h"\n#include "kernels.h"\n'
                                     "static double a[N];\nint main(void) { scale(a, twice(N) / 2);\n"
                                     '  printf("%f\\n", a[0]); return 0; }\n')
    driver = PCX_CXX.parent / "pcx-cc" if PCX_CXX.exists() else shutil.which("pcx-cc")
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(driver), "--pcx-remarks", "-O1", "-Iinc", "main.c", "-o", "main"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "main.c:3:1: remark: 'kernels.h' defines functions with loops ('scale'), which pcx does not analyse " \
           "in a header: their loops stay as written [PCX018]" in r.stderr, r.stderr
    assert "consts.h" not in r.stderr, r.stderr
