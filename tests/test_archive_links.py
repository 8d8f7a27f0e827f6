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


# A member with kernels that the program never references: a plain link leaves it out, so
# its constructor never runs and the program's weak default stands.
PLUGIN = ("#include <stdio.h>\nint mode(void) { return 2; }\n"
          "__attribute__((constructor)) static void announce(void) { puts(\"plugin loaded\"); }\n"
          "void boost(float *x, int n) {\n  for (int i = 0; i < n; i++)\n    x[i] += 1.0f;\n}\n")
WEAK_MAIN = MAIN.replace("int main(void) {", "__attribute__((weak)) int mode(void) { return 1; }\nint main(void) {") \
    .replace('printf("%g\\n", v[4999]);', 'printf("%g mode=%d\\n", v[4999], mode());')


@pytest.mark.parametrize("steps", ["compile+link", "link"])
def test_a_member_the_program_never_uses_stays_out(tmp_path, steps) -> None:
    assert WEAK_MAIN != MAIN and "mode=" in WEAK_MAIN
    env = {**os.environ, "PCX_MODE": "static", "PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"}
    for name, text in (("lib.c", LIB), ("plugin.c", PLUGIN), ("main.c", WEAK_MAIN)):
        (tmp_path / name).write_text(text)
    for name in ("lib", "plugin"):
        _sh([str(VENV_BIN / "pcx-cc"), "-O1", "--pcx-min-work=0", "-c", f"{name}.c", "-o", f"{name}.o"], tmp_path, env)
    _sh(["ar", "rcs", "libp.a", "lib.o", "plugin.o"], tmp_path)
    if steps == "link":
        _sh(["clang-19", "-O1", "-c", "main.c", "-o", "main.o"], tmp_path)
    r = _sh([str(VENV_BIN / "pcx-cc"), "-O1", "main.o" if steps == "link" else "main.c", "libp.a", "-o", "app"],
            tmp_path, env)
    assert "warning" not in r.stderr, r.stderr
    run = _sh(["./app"], tmp_path, {**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"})
    assert run.stdout == "9998 mode=1\n"  # no "plugin loaded": the member was not linked
    assert "Launching kernel" in run.stderr
