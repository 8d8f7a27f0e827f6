"""Code that objects run where the text shows no call: constructors and destructors.

``{ Mark k(b, i); a[i] = b[i] + 0.5; }`` runs ``Mark::Mark``, which writes ``b[i]``; the
syntax shows a declaration.  Held-out checks found three ways this went wrong: the kernel
mapped ``b`` ``to`` only and the constructor's writes stayed on the device; a constructor
defined in another file (or one counting in a static global) broke the offload link of
a two-step build, past any fallback; and a destructor defined in another file wrote, in
the middle of a data region, an array it had been handed earlier.  A loop that makes or
destroys an object of a class whose constructor or destructor the user wrote is refused
(PCX105), and so is a data region whose host code does (PCX203); the standard library's
classes (``std::complex``) are not the user's code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
from test_coverage_liveness import analysed_nest  # noqa: E402

from pcx_driver.model import Decision

ROOT = Path(__file__).resolve().parent.parent
PCX_CXX = ROOT / ".venv" / "bin" / "pcx-c++"
CLANGXX = __import__("shutil").which("clang++-19")

MARKS = r"""
#include <cstdio>
#include <complex>
struct Mark { Mark(int *m, int i) { m[i] = 1; } };
struct Plain { double x, y; };
void marks(int *b, double *a, int n) {
  for (int i = 0; i < n; i++) { Mark k(b, i); a[i] = b[i] + 0.5; }          /* MARKS */
}
void plain(double *a, int n) {
  for (int i = 0; i < n; i++) { Plain p{a[i], 2.0}; std::complex<double> c(p.x, p.y); a[i] = std::abs(c); }  /* PLAIN */
}
"""


def test_a_loop_that_runs_a_users_constructor_is_refused() -> None:
    nest = analysed_nest(MARKS, "MARKS", path="t.cpp")
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX105" and "constructs a 'Mark'" in r.message for r in nest.remarks), \
        [r.format() for r in nest.remarks]
    assert analysed_nest(MARKS, "PLAIN", path="t.cpp").decision is Decision.OFFLOADED


def _two_step(tmp_path: Path, files: dict[str, str]) -> tuple[str, str]:
    """Serial (clang++-19) and pcx-c++ builds of ``files``, each source compiled to an
    object and then linked, as a Makefile does; their outputs."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    sources = [n for n in files if n.endswith(".cpp")]
    r = subprocess.run([CLANGXX, "-O2", "-w", "-std=c++17", *sources, "-o", "serial"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    for src in sources:
        r = subprocess.run([str(PCX_CXX), "-O2", "-w", "-std=c++17", "--pcx-min-work=0", "-c", src, "-o", src + ".o"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    r = subprocess.run([str(PCX_CXX), "-O2", *[s + ".o" for s in sources], "-o", "offload"], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    out = [subprocess.run([str(tmp_path / exe)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **RUN_ENV)).stdout for exe in ("serial", "offload")]
    return out[0], out[1]


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_a_constructor_of_another_file_in_a_loop_links_and_runs(tmp_path: Path) -> None:
    serial, offload = _two_step(tmp_path, {
        "point.hpp": "struct Point { double x, y; Point(double a, double b); double norm() const { return x + y; } };\n",
        "point.cpp": '#include "point.hpp"\nPoint::Point(double a, double b) : x(a), y(b) {}\n',
        "main.cpp": '#include <cstdio>\n#include "point.hpp"\nint main() {\n  double x[1000], r[1000];\n'
                    "  for (int i = 0; i < 1000; i++) x[i] = i * 0.5;\n"
                    "  for (int i = 0; i < 1000; i++) { Point p(x[i], 1.0); r[i] = p.x + p.y; }\n"
                    "  double s = 0;\n  for (int i = 0; i < 1000; i++) s += r[i];\n"
                    '  std::printf("%.3f\\n", s);\n  return 0;\n}\n'})
    assert serial == offload and serial.strip()


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_a_destructor_of_another_file_between_kernels_keeps_the_region_out(tmp_path: Path) -> None:
    serial, offload = _two_step(tmp_path, {"g.hpp": G_HPP, "b.cpp": B_CPP, "a.cpp": A_CPP})
    assert serial == offload and serial.strip()


G_HPP = '#include <vector>\nvoid keep(std::vector<double> &w);       /* b.cpp: remembers &w */\nstruct Guard { Guard(); ~Guard(); };     /* b.cpp: the destructor writes the kept vector */\n'
B_CPP = '#include "g.hpp"\nstatic std::vector<double> *kept;\nvoid keep(std::vector<double> &w) { kept = &w; }\nGuard::Guard() {}\nGuard::~Guard() { (*kept)[3] = -1; }\n'
A_CPP = r"""
#include <cstdio>
#include "g.hpp"
static void scale(std::vector<double> &v, double k) { for (size_t i = 0; i < v.size(); i++) v[i] = v[i] * k + 1; }
int main() {
  int n = 1000; std::vector<double> v(n), w(n);
  for (int i = 0; i < n; i++) { v[i] = i % 7; w[i] = i % 5; }
  keep(w);
  for (int i = 0; i < n; i++) w[i] = v[i] + w[i];
  scale(w, 0.5);
  { Guard g; }
  for (int i = 0; i < n; i++) v[i] -= w[i];
  printf("%f %f\n", v[3], w[3]);
  return 0;
}"""


POD_LOCAL = r"""
#include <cstdio>
#include <cstdlib>
int main(int argc, char **argv) {
  int n = 200000 + argc;
  double *a = (double *)malloc(n * sizeof(double)), *b = (double *)malloc(n * sizeof(double));
  double tot = 0;
  for (int i = 0; i < n; i++) a[i] = i % 13;
  for (int r = 0; r < 4; r++) {
    for (int i = 0; i < n; i++) b[i] = a[i] * 0.5 + r;
    struct { double x, y; } s;
    s.x = r * 0.5;
    s.y = s.x + 2;
    tot += s.x * s.y;
    for (int i = 0; i < n; i++) a[i] = b[i] + 1;
  }
  printf("%.3f %.3f\n", tot, a[n / 2]);
  return 0;
}
"""


def test_a_plain_struct_made_between_kernels_runs_no_users_code(tmp_path: Path) -> None:
    """HeCBench vmc (a held-out check, session 35): ``struct {FLOAT r1, r2, r12, accept;} s;``
    between kernels kept the data region out, "'(unnamed struct ...)' of the unit runs at
    line 257 where the text shows no call": libclang shows a constructor call, but a POD
    class's constructor is the compiler's and trivial."""
    src = tmp_path / "pod.cpp"
    src.write_text(POD_LOCAL)
    subprocess.run(["clang++-19", "-O1", str(src), "-o", str(tmp_path / "serial")], check=True)
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CXX), "-O1", "--pcx-remarks", str(src), "-o", str(tmp_path / "offload")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    assert "[PCX200]" in r.stderr and "unnamed struct" not in r.stderr, r.stderr
    serial = subprocess.run([str(tmp_path / "serial")], capture_output=True, text=True).stdout
    offload = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True,
                             env={**os.environ, **RUN_ENV}).stdout
    assert serial == offload and serial.strip()
