"""``i < v.size()`` in an offloaded C++ loop.

The kernel maps a ``std::vector`` through a local pointer to its elements (``pcx_v =
v.data()``); a ``v.size()`` left in the loop test made the kernel capture the vector
object itself, which clang warns it cannot map ("type 'std::vector<double>' is not
trivially copyable and not guaranteed to be mapped correctly [-Wopenmp-mapping]").  Under
``-Werror`` the rewritten file failed to compile and the build fell back to its original
source (PCX007), offloading nothing.  The size is taken before the kernel, as a member
read through a reference is, and the kernel reads that copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import PCX_CC, analysed_nest, run_with_args  # noqa: E402

CLANGXX = shutil.which("clang++-19")

PROGRAM = r"""
#include <cstdio>
#include <vector>
double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++)                         /* DOT */
    s += a[i] * b[i];
  return s;
}
void axpy(std::vector<double> &y, const std::vector<double> &x, double a) {
  for (size_t i = 0; i < y.size(); i++)                         /* AXPY */
    y[i] += a * x[i];
}
int main(int argc, char **argv) {
  std::vector<double> a(100000 + argc, 1.5), b(100000 + argc, 2.0);
  axpy(a, b, 0.5);
  printf("%.6f\n", dot(a, b));
  return 0;
}
"""


def test_the_size_is_a_value_taken_before_the_kernel() -> None:
    nest = analysed_nest(PROGRAM, "DOT", "t.cc")
    assert [(mv.expression, len(mv.ranges)) for mv in nest.member_values] == [("a.size()", 1)]


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_a_werror_build_offloads_loops_bounded_by_size(tmp_path: Path) -> None:
    src = tmp_path / "prog.cc"
    src.write_text(PROGRAM)
    serial, offload = tmp_path / "serial", tmp_path / "offload"
    r = subprocess.run([CLANGXX, "-O1", str(src), "-o", str(serial)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC.parent / "pcx-c++"), "-O1", "-Wall", "-Werror", str(src), "-o", str(offload)],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    run = subprocess.run([str(offload)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, OMP_TARGET_OFFLOAD="MANDATORY", LIBOMPTARGET_INFO="16"))
    assert run.stderr.count("Launching kernel") == 2, run.stderr
    assert run_with_args(offload, []) == run_with_args(serial, [])
