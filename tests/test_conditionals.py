"""OpenMP under #if/#ifdef is decided on the branches the build compiles
(``engine/conditionals.py``): the branches these flags leave out and the conditional
directive lines are blanked (offsets kept) before the analysis, so a target region under
an undefined ``OMP_OFFLOAD`` no longer keeps pcx out of a file, and a loop header written
once per branch parses.  Each build of tests/fixtures/programs/ifdef_branches.c, with the
flags of each branch, prints the serial program's output under the strict environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.conditionals import active_view
from pcx_driver.gate import VALIDATION_ENV, kernel_launches
from pcx_driver.model import Language, SourceUnit

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "fixtures" / "programs" / "ifdef_branches.c"
BIN = Path(sys.executable).parent
needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")


def test_the_view_keeps_offsets_and_only_the_compiled_branch():
    text = PROGRAM.read_text()
    for flags, kept, gone in ((["-DOPEN"], "#pragma omp parallel for", "#pragma omp target"),
                              ([], "    for (int i = 1; i < n - 1; i++) {", "#pragma omp")):
        view = active_view(SourceUnit("ifdef_branches.c", text, Language.C, str(PROGRAM.parent), flags))
        assert view is not None and len(view.text) == len(text)
        assert view.text.count("\n") == text.count("\n")
        assert kept in view.text and gone not in view.text
        code = view.text[view.text.index("#include"):]  # past the comment, which names the macros
        assert not any(ln.lstrip().startswith(("#if", "#el", "#endif")) for ln in code.splitlines())
        assert "defined(" not in code
        assert view.text.count("for (int i = 1;") == 1


def test_a_file_without_conditionals_has_no_view():
    assert active_view(SourceUnit("t.c", "#pragma omp parallel for\nfor (;;) {}\n", Language.C)) is None


@needs_clang
@pytest.mark.parametrize("flags, kernel_line, remark", [
    ([], 18, "[PCX100]"),                             # the plain loop, offloaded by the analysis
    (["-DOPEN"], 16, "[PCX124]"),                     # the user's 'parallel for', ported
    (["-DOPEN", "-DOMP_OFFLOAD"], 12, "[PCX003]"),    # the user's own target loop, as written
])
def test_each_set_of_flags_builds_the_serial_answer(tmp_path, flags, kernel_line, remark):
    serial = subprocess.run(["clang-19", "-O1", str(PROGRAM), "-o", str(tmp_path / "serial")],
                            capture_output=True, text=True)
    assert serial.returncode == 0, serial.stderr
    want = subprocess.run([str(tmp_path / "serial")], capture_output=True, text=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    build = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-remarks", "--pcx-min-work=0",
                            "--pcx-offload-target=x86_64-pc-linux-gnu", "-O1", "-fopenmp", *flags, str(PROGRAM),
                            "-o", str(tmp_path / "app")], capture_output=True, text=True, env=env)
    assert build.returncode == 0 and "pcx-cc: warning" not in build.stderr, build.stderr
    assert "[PCX013]" in build.stderr and remark in build.stderr
    run = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True, env={**env, **VALIDATION_ENV})
    assert (run.returncode, run.stdout) == (0, want)
    smooth = [k for k in kernel_launches(run.stderr) if "smooth" in k]
    assert len(smooth) == 4 and all(k.endswith(f"smooth_l{kernel_line}") for k in smooth), smooth
