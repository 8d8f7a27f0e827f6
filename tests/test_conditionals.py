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


# NPB's CG: an '#if defined(_OPENMP)' that every -fopenmp build compiles, around two lines of
# main(), and C89 loop indices reused by every 'parallel for'.  Nothing is skipped, but the
# directive lines used to stay: the liveness of 'j' could not be followed through main
# (PCX112 'loop index is used after the loop' on every loop).  Commented-out pragmas (NPB
# keeps old ones in /* */ blocks) are no directives either.
ACTIVE_BRANCH = r"""
#include <stdio.h>
#include <omp.h>
int main(void) {
  int i, j, n = 5000, threads = 1;
  static double x[5000], z[5000];
#pragma omp parallel for private(j)
  for (j = 0; j < n; j++) z[j] = (j % 13) * 0.5;
/*
#pragma omp for nowait
*/
#pragma omp parallel for private(j)
  for (j = 0; j < n; j++) x[j] = 2.0 * z[j] + 1.0;
#pragma omp parallel
  {
#if defined(_OPENMP)
#pragma omp master
    threads = omp_get_num_threads();
#endif
  }
  double s = 0;
  for (i = 0; i < n; i++) s += x[i] * (i % 7);
  printf("%.3f %d\n", s, threads > 0);
  return 0;
}
"""


@needs_clang
def test_an_active_branch_and_commented_pragmas_leave_the_loops_to_the_analysis(tmp_path):
    src = tmp_path / "active.c"
    src.write_text(ACTIVE_BRANCH)
    view = active_view(SourceUnit("active.c", ACTIVE_BRANCH, Language.C, str(tmp_path), ["-fopenmp"]))
    assert view is not None and view.skipped_lines == [] and "#if" not in view.text
    serial = subprocess.run(["clang-19", "-O1", "-fopenmp", str(src), "-o", str(tmp_path / "serial")],
                            capture_output=True, text=True)
    assert serial.returncode == 0, serial.stderr
    want = subprocess.run([str(tmp_path / "serial")], capture_output=True, text=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    build = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-remarks", "--pcx-min-work=0",
                            "--pcx-offload-target=x86_64-pc-linux-gnu", "-O1", "-fopenmp", str(src),
                            "-o", str(tmp_path / "app")], capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stderr
    assert "PCX112" not in build.stderr and build.stderr.count("[PCX124]") == 2, build.stderr
    run = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True,
                         env={**os.environ, **VALIDATION_ENV, "LIBOMPTARGET_INFO": "48"})
    assert run.returncode == 0 and run.stdout == want
    assert len(kernel_launches(run.stderr)) >= 2


# A particle filter's frame loop (Rodinia, HeCBench) with '#ifdef DEBUG' prints between its
# kernels: no OpenMP anywhere, yet the #if lines inside the loop nest kept the whole frame
# loop out of the analysis (PCX114).  Without -DDEBUG the prints are not compiled and the
# inner loops are kernels inside a data region around the frame loop; with it, the active
# print reads the weights each frame, and the program is still the serial one.
DEBUG_PRINTS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 4000 + (argc > 1), frames = 5;
  float *w = malloc(n * sizeof *w), *x = malloc(n * sizeof *x);
  for (int i = 0; i < n; i++) { w[i] = 1.0f / n; x[i] = (i % 17) * 0.25f; }
  for (int f = 0; f < frames; f++) {
    for (int i = 0; i < n; i++)                 /* MOVE */
      x[i] = x[i] * 0.5f + (float)((i * 7 + f) % 11);
#ifdef DEBUG
    printf("frame %d: x[0] = %f\n", f, x[0]);
#endif
    for (int i = 0; i < n; i++)                 /* WEIGH */
      w[i] = w[i] * 0.75f + x[i] * 0.001f;
#if defined(DEBUG) && DEBUG > 1
    for (int i = 0; i < n; i++) printf("%f\n", w[i]);
#endif
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += w[i] * (i % 5) + x[i];
  printf("%.4f\n", s);
  return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("flags", [[], ["-DDEBUG"]])
def test_debug_prints_under_ifdef_leave_a_time_loops_kernels_to_the_analysis(tmp_path, flags):
    src = tmp_path / "frames.c"
    src.write_text(DEBUG_PRINTS)
    serial = subprocess.run(["clang-19", "-O1", *flags, str(src), "-o", str(tmp_path / "serial")],
                            capture_output=True, text=True)
    assert serial.returncode == 0, serial.stderr
    want = subprocess.run([str(tmp_path / "serial")], capture_output=True, text=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    build = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-remarks", "--pcx-min-work=0",
                            "--pcx-offload-target=x86_64-pc-linux-gnu", "-O1", *flags, str(src),
                            "-o", str(tmp_path / "app")], capture_output=True, text=True, env=env)
    assert build.returncode == 0 and "pcx-cc: warning" not in build.stderr, build.stderr
    assert "PCX114" not in build.stderr and "[PCX013]" in build.stderr, build.stderr
    run = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True,
                         env={**os.environ, **VALIDATION_ENV, "LIBOMPTARGET_INFO": "48"})
    assert run.returncode == 0 and run.stdout == want, run.stderr[-2000:]
    if flags:  # the print reads x every frame: whatever the plan, the output is the serial one
        return
    lines = DEBUG_PRINTS.splitlines()
    for marker in ("MOVE", "WEIGH"):
        line = next(k + 1 for k, t in enumerate(lines) if marker in t)
        launched = [k for k in kernel_launches(run.stderr) if k.endswith(f"_l{line}")]
        assert len(launched) == 5, (marker, kernel_launches(run.stderr))
