"""What a header declares is the file's too: globals, externs and macros the syntax of the
source does not show.

The analysis reads the source's own text with tree-sitter and the whole translation unit
with libclang.  Where a name's declaration lived in a header, the syntax-only scans missed
it (held-out checks on NAS's LU, whose globals live in applu.h):

- a ``static`` array of a header, written on the host by a called function between two
  kernels of a data region, got no ``target update``: the second kernel read the stale
  device copy;
- an ``extern`` array of a header, defined and written by a function of another file,
  was held on the device across that call;
- a function-like macro of a header whose list reads a scalar the loop assigns
  (``#define AT(i) c[(i) * stride]``) gave the loop a private ``stride``.

Each program below prints what its serial build prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
from test_coverage_liveness import CLANG, PCX_CC, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

HEADER_STATIC = "static double tally[32];\nstatic int width;\n"

CALLED_WRITER = r"""
#include <stdio.h>
#include "state.h"
static void bump(int i) { tally[i % 32] += i * 0.5; }
int main(void) {
  width = 32;
  for (int k = 0; k < width; k++) tally[k] = k;              /* FIRST */
  for (int i = 0; i < 2000; i++) bump(i);                   /* host writes through a call */
  double s = 0;
  for (int k = 0; k < width; k++) s += tally[k] * (k + 1);   /* SECOND */
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_header_static_written_by_a_call_between_kernels(tmp_path: Path) -> None:
    (tmp_path / "state.h").write_text(HEADER_STATIC)
    build_and_compare(tmp_path, CALLED_WRITER, ["FIRST", "SECOND"])


def two_files(tmp_path: Path, header: str, other: str, main: str, remark: str) -> None:
    """main.c and other.c (with ``header``) built in one command, serial and by pcx-cc:
    the same output, and ``remark`` among pcx's remarks."""
    (tmp_path / "shared.h").write_text(header)
    (tmp_path / "other.c").write_text('#include "shared.h"\n' + other)
    (tmp_path / "main.c").write_text('#include <stdio.h>\n#include <stdlib.h>\n#include "shared.h"\n' + main)
    files = [str(tmp_path / "main.c"), str(tmp_path / "other.c")]
    r = subprocess.run([CLANG, "-O1", "-w", *files, "-o", str(tmp_path / "serial")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC), "-O1", "-w", "--pcx-remarks", *files, "-o", str(tmp_path / "offload")],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    assert remark in r.stderr, r.stderr
    runs = [subprocess.run([str(tmp_path / exe)], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, **RUN_ENV)).stdout for exe in ("serial", "offload")]
    assert runs[0] == runs[1] and runs[0].strip(), runs


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_header_extern_written_by_another_file(tmp_path: Path) -> None:
    two_files(tmp_path, "#define N 3000\nextern double u[N];\nvoid smooth(int k);\n",
              "double u[N];\nvoid smooth(int k) { for (int i = 1; i < N; i++) u[i] += u[i - 1] * 0.001 + k; }\n",
              "int main(void) {\n"
              "  for (int i = 0; i < N; i++) u[i] = i % 17;\n"
              "  smooth(3);\n"
              "  double s = 0;\n  for (int i = 0; i < N; i++) s += u[i];\n"
              '  printf("%.3f\\n", s);\n  return 0;\n}\n',
              "'smooth' at line 6 is defined in another file and may use 'u'")


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_helper_that_keeps_the_array_and_calls_another_file(tmp_path: Path) -> None:
    """``keep(a, n)`` stores ``a`` in a header's pointer and calls ``touch``, defined in
    the other file, whose loop pcx offloads there: its kernel found ``a`` present (this
    file's region held it), wrote the device copy, and the region's ``target update to``
    after the call overwrote that with the host's (a held-out check)."""
    two_files(tmp_path, "extern double *gp;\nvoid touch(int n);\n",
              "double *gp;\nvoid touch(int n) { for (int i = 0; i < n; i++) gp[i] += 1.5; }\n",
              "static void keep(double *a, int n) { gp = a; touch(n); }\n"
              "int main(void) {\n  int n = 5000;\n  double *a = malloc(sizeof(double) * n);\n"
              "  for (int i = 0; i < n; i++) a[i] = i % 7;\n"
              "  keep(a, n);\n"
              "  double s = 0;\n  for (int i = 0; i < n; i++) s += a[i];\n"
              '  printf("%.2f\\n", s);\n  return 0;\n}\n',
              "'keep' at line 9 calls 'touch' (defined in another file), which may reach 'a'")


MACRO_READS = r"""
#include <stdio.h>
#include "at.h"
static double b[1000], c[2000];
int main(void) {
  int stride = 1;
  for (int i = 0; i < 2000; i++) c[i] = i;
  for (int i = 0; i < 1000; i++) { b[i] = AT(i); stride = 1 + (i >= 500); }   /* READS */
  double s = 0;
  for (int i = 0; i < 1000; i++) s += b[i];
  printf("%.1f\n", s);
  return 0;
}
"""


def test_a_header_macro_that_reads_what_the_loop_assigns(tmp_path: Path) -> None:
    (tmp_path / "at.h").write_text("#define SCALE(x) (x)\n#define AT(i) c[SCALE(i) * stride]\n")
    src = tmp_path / "prog.c"
    src.write_text(MACRO_READS)
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Language, SourceUnit

    ua = analyse_unit(SourceUnit(str(src), MACRO_READS, Language.C, directory=str(tmp_path)))
    line = next(k + 1 for k, t in enumerate(MACRO_READS.splitlines()) if "READS" in t)
    (nest,) = [n for f in ua.functions for n in f.nests if n.line == line]
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX113" and "reads 'stride'" in r.message for r in nest.remarks), \
        [r.format() for r in nest.remarks]


SPECIALIZED = r"""
#include <cstdio>
template <class T> void gather(T *out, const T *table, const int *idx, int n) {
  for (int i = 0; i < n; i++) out[i] = table[idx[i]] * 2 + 1;                      /* PRIMARY */
}
template <> void gather<int>(int *out, const int *table, const int *idx, int n) {
  for (int i = 0; i < n; i++) out[i] = table[idx[i]] - 1;
}
template <class T> long run(int m, T *out, const int *idx, int n) {
  T *table = new T[m];
  for (int i = 0; i < m; i++) table[i] = i % 101;
  gather(out, table, idx, n);          /* T = int: the specialization runs, which takes nothing */
  delete[] table;
  long s = 0;
  for (int i = 0; i < n; i++) s += out[i];
  return s;
}
int main() {
  int n = 4000, *idx = new int[n], *out = new int[n];
  for (int i = 0; i < n; i++) idx[i] = (i * 37) % 1000;
  std::printf("%ld\n", run(1000, out, idx, n));
  return 0;
}
"""


def test_no_hand_over_to_a_template_with_explicit_specializations() -> None:
    nest = analysed_nest(SPECIALIZED, "PRIMARY", path="t.cpp")
    assert all(a.caller_extent is None for a in nest.arrays), [r.format() for r in nest.remarks]


MACRO_DECLARED = r"""
#include <stdio.h>
#define DECLARE(name, n) static double name[n]
DECLARE(tally, 4096);                                   /* a global the syntax cannot see */
static void bump(int i) { tally[i % 4096] += i * 0.5; }
int main(void) {
  for (int k = 0; k < 4096; k++) tally[k] = k % 13;                 /* FIRST */
  for (int i = 0; i < 2000; i++) bump(i);
  double s = 0;
  for (int k = 0; k < 4096; k++) s += tally[k] * (k % 7);      /* SECOND */
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_global_a_macro_declares(tmp_path: Path) -> None:
    build_and_compare(tmp_path, MACRO_DECLARED, ["FIRST", "SECOND"])

