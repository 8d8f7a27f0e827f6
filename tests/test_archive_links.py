"""A static archive that holds offloaded code, linked by pcx-cc.

clang-19's linker wrapper takes device code out of an archive member only when the member
resolves an undefined device symbol, so pcx gives the link the members that hold kernels
as objects of their own, ahead of the archive (pcx_driver/cc/archives.py).  A held-out
build of darknet named its archive twice (``$^ ... $(ALIB)``), and linking it whole twice
defined every symbol twice; an archive with a member nothing uses, which needs a symbol
nobody defines, failed to link whole where a plain link never pulls that member in.  An
archive named by ``-L. -lNAME`` (lame's Makefile) got no offload link at all: undefined
``__tgt_target_kernel``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import VENV_BIN

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

LIB = "void scale(float *x, int n, float a) {\n  for (int i = 0; i < n; i++)\n    x[i] *= a;\n}\n"
UNUSED = "double not_defined_anywhere(double);\ndouble helper(double x) { return not_defined_anywhere(x); }\n"
MAIN = ("#include <stdio.h>\nvoid scale(float *x, int n, float a);\n"
        "int main(void) {\n  static float v[5000];\n  for (int i = 0; i < 5000; i++) v[i] = i;\n"
        "  scale(v, 5000, 2.0f);\n  printf(\"%g\\n\", v[4999]);\n  return 0;\n}\n")


def _sh(args, cwd, env=None):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.mark.parametrize("link", [["main.o", "liba.a", "liba.a"], ["main.o", "libb.a"], ["main.o", "-L.", "-la"],
                                  ["main.o", "-L", ".", "-l", "b", "-lm"]],
                         ids=["named-twice", "unused-member", "-l", "-l apart"])
def test_kernels_in_an_archive_link_and_launch(tmp_path, link) -> None:
    env = {**os.environ, "PCX_MODE": "static", "PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"}
    for name, text in (("lib.c", LIB), ("unused.c", UNUSED), ("main.c", MAIN)):
        (tmp_path / name).write_text(text)
    _sh([str(VENV_BIN / "pcx-cc"), "-O1", "--pcx-min-work=0", "-c", "lib.c", "-o", "lib.o"], tmp_path, env)
    _sh(["clang-19", "-O1", "-c", "unused.c", "-o", "unused.o"], tmp_path)
    _sh(["clang-19", "-O1", "-c", "main.c", "-o", "main.o"], tmp_path)
    _sh(["ar", "rcs", "liba.a", "lib.o"], tmp_path)
    _sh(["ar", "rcs", "libb.a", "lib.o", "unused.o"], tmp_path)
    r = _sh([str(VENV_BIN / "pcx-cc"), "-O1", *link, "-o", "app"], tmp_path, env)
    assert "warning" not in r.stderr, r.stderr
    run = _sh(["./app"], tmp_path, {**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"})
    assert run.stdout == "9998\n"
    assert "Launching kernel" in run.stderr
