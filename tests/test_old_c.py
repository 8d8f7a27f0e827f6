"""Old C that the build accepts is analysed (issue 15, cause 14): a K&R definition with
C89's implicit int is read, and compiled, with its ``int`` written out (PCX015); where the
build rejects it, the build fails as it would without pcx; loops the syntax reader cannot
place in a function get a remark (PCX016) instead of silence."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver.engine.oldc import explicit_int
from pcx_driver.model import Language, SourceUnit

PCX_CC = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "pcx-cc"
STRICT = {"OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16", "OMP_NUM_THREADS": "2"}

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

KR_PROGRAM = """\
#include <stdio.h>
static double a[20000], b[20000];
static scale(n, s)
int n; double s;
{
  int i;
  for (i = 0; i < n; i++)
    a[i] = b[i] * s + i;
  return n;
}
main(argc, argv)
int argc; char **argv;
{
  int i; double t = 0;
  for (i = 0; i < 20000; i++) b[i] = i * 0.5;
  scale(20000, 3.0 + argc);
  for (i = 0; i < 20000; i++) t += a[i];
  printf("%.17g\\n", t);
  return 0;
}
"""


def _build(tmp: Path, name: str, text: str, flags: list[str], driver: str) -> subprocess.CompletedProcess:
    (tmp / name).write_text(text)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    return subprocess.run([driver, "-O1", "--pcx-remarks", "--pcx-min-work=0", *flags, name, "-o", name[:-2]]
                          if driver != "clang-19" else [driver, "-O1", *flags, name, "-o", name[:-2] + "-serial"],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=300)


def test_implicit_int_is_written_out_only_where_the_type_is_missing() -> None:
    unit = SourceUnit("kr.c", KR_PROGRAM, Language.C, semantic_args=["-Wno-error=implicit-int"])
    text, lines = explicit_int(unit)
    assert lines == [3, 11]
    assert "static int scale(n, s)\n" in text and "\nint main(argc, argv)\n" in text
    assert text.replace("int scale", "scale").replace("int main", "main") == KR_PROGRAM


def test_a_kr_program_the_build_accepts_is_offloaded_with_the_serial_output(tmp_path) -> None:
    flags = ["-Wno-error=implicit-int", "-Wno-deprecated-non-prototype"]
    serial = _build(tmp_path, "kr.c", KR_PROGRAM, flags, "clang-19")
    assert serial.returncode == 0, serial.stderr
    r = _build(tmp_path, "kr.c", KR_PROGRAM, flags, str(PCX_CC))
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    assert "kr.c:3:1: remark: function definitions without a return type (lines 3, 11) are read and compiled " \
           "with the implicit 'int' written out [PCX015]" in r.stderr, r.stderr
    assert "kr.c:7:3: remark: loop nest offloaded to the device" in r.stderr, r.stderr  # scale's loop
    expected = subprocess.run([str(tmp_path / "kr-serial")], capture_output=True, text=True).stdout
    got = subprocess.run([str(tmp_path / "kr")], capture_output=True, text=True, env=dict(os.environ, **STRICT))
    assert got.returncode == 0 and got.stdout == expected, got.stderr
    assert got.stderr.count("Launching kernel") >= 3  # both fills, scale's loop and the sum


def test_where_the_build_rejects_implicit_int_it_still_fails(tmp_path) -> None:
    serial = _build(tmp_path, "kr.c", KR_PROGRAM, [], "clang-19")
    r = _build(tmp_path, "kr.c", KR_PROGRAM, [], str(PCX_CC))
    assert serial.returncode != 0 and r.returncode == serial.returncode
    assert "[PCX004]" in r.stderr and "[PCX015]" not in r.stderr, r.stderr
    assert "kr.c:3:8: error: type specifier missing" in r.stderr, r.stderr  # the user's text, as written


def test_loops_the_syntax_reader_cannot_place_get_a_remark(tmp_path) -> None:
    program = ("#include <stdio.h>\n#define BEGIN {\n#define END }\nstatic double x[1000];\n"
               "void fill(double *a, int n) BEGIN\n  for (int i = 0; i < n; i++) a[i] = i;\nEND\n"
               "int main(void) { fill(x, 1000); printf(\"%g\\n\", x[999]); return 0; }\n")
    r = _build(tmp_path, "m.c", program, [], str(PCX_CC))
    assert r.returncode == 0, r.stderr
    assert "m.c:6:3: remark: the syntax reader did not read lines 5-6 as part of a function (a macro that " \
           "hides C syntax?): the loops there are not analysed [PCX016]" in r.stderr, r.stderr
    assert subprocess.run([str(tmp_path / "m")], capture_output=True, text=True).stdout == "999\n"

