"""Issue 15, cause 1: C89 code reuses ``int i, j;`` for every loop.  Whether the value a
nest leaves in an index or scalar is "used after the loop" is decided by liveness over
the function's control flow (engine/liveness.py): dead when every path from the nest
redefines it before reading it.  A table of kernels, each with the decision for its first
nest, then one program built with ``PCX_MODE=static pcx-cc`` and run on the host device."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import run_with_args  # noqa: E402

OFF, SER = Decision.OFFLOADED, Decision.SERIAL
ROOT = Path(__file__).resolve().parent.parent
PCX_CC = ROOT / ".venv" / "bin" / "pcx-cc" if (ROOT / ".venv" / "bin" / "pcx-cc").exists() else \
    Path(sys.executable).parent / "pcx-cc"
CLANG = shutil.which("clang-19")

NEST = "for (i = 0; i < n; i++) for (j = 0; j < n; j++) a[i * n + j] = b[i * n + j] * 2.0;"
GLOBALS = "int gj; void use(int v);\n"

# (what follows the nest, or a pair (before, after); decision; remark id; id for pytest)
CASES = [
    ("for (j = 0; j < n; j++) b[j] = 1.0;", OFF, "PCX100", "next loop redefines j"),
    ("for (i = 0; i < n; i++) for (j = 0; j < n; j++) b[i] = j;", OFF, "PCX100", "redefined in a nest, then dead"),
    ("for (i = 0; i < n; i++) for (j = 0; j < n; j++) b[i] = j; b[0] = j;", SER, "PCX112",
     "a zero-trip loop leaves j to a later read"),
    ("for (; j < n; j++) b[j] = 1.0;", SER, "PCX112", "read in a later loop's condition"),
    ("if (n > 3) goto out; for (j = 0; j < n; j++) b[j] = 1.0; out: b[0] = j;", SER, "PCX112",
     "goto past the redefinition"),
    ("goto out; out: j = 0; b[0] = j;", OFF, "PCX100", "goto to a redefinition"),
    (("for (t = 0; t < n; t++) { b[0] += j;", "}"), SER, "PCX112", "back edge reaches a read"),
    (("for (t = 0; t < n; t++) { j = 2; b[0] += j;", "}"), OFF, "PCX100", "back edge reaches a redefinition"),
    ("if (n > 1) j = 1; else j = 2; b[0] = j;", OFF, "PCX100", "both branches redefine"),
    ("if (n > 1) j = 1; b[0] = j;", SER, "PCX112", "one branch redefines"),
    ("j = j + 1; b[0] = j;", SER, "PCX112", "redefinition reads the old value"),
    ("j++;", SER, "PCX112", "increment reads"),
    ("if (n > 0 && (j = 0)) b[0] = 1; b[1] = j;", SER, "PCX112", "definition under && may not run"),
    ("do { j = 0; } while (n < 0); b[0] = j;", OFF, "PCX100", "do body runs once"),
    ("while (n < 0) { j = 0; } b[0] = j;", SER, "PCX112", "while body may not run"),
    ("switch (n) { case 1: j = 0; break; default: j = 1; } b[0] = j;", OFF, "PCX100", "every case redefines"),
    ("switch (n) { case 1: j = 0; break; default: break; } b[0] = j;", SER, "PCX112", "a case skips it"),
    ("int *pj = &j; j = 0; b[0] = *pj;", SER, "PCX112", "address taken"),
    ("use(j);", SER, "PCX112", "passed to a call"),
    ("return;", OFF, "PCX100", "function ends"),
    (("for (t = 0; t < n; t++) {", "if (t > 2) break; j = 0; } b[0] = j;"), SER, "PCX112", "break skips the redefinition"),
    (("for (t = 0; t < n; t++) {", "if (t > 2) continue; j = 0; b[1] = j; }"), OFF, "PCX100",
     "continue reaches the next iteration's redefinition"),
    (("do {", "} while (j < n);"), SER, "PCX112", "read in the do-while condition around the nest"),
    (("t = 0; while (t < n) {", "t++; } b[0] = j;"), SER, "PCX112", "read after the loop around the nest"),
    ("L: if (n > 5) { j = 0; n--; goto L; } b[0] = j;", SER, "PCX112", "a goto back edge does not hide the exit path"),
    # a preprocessor conditional between statements: any part may be the compiled one
    ("\n#ifdef OPEN\n  use(0);\n#endif\n  for (j = 0; j < n; j++) b[j] = 1.0;", OFF, "PCX100",
     "an #ifdef before the redefinition"),
    ("\n#ifdef OPEN\n  b[0] = j;\n#else\n  j = 0;\n#endif\n  b[1] = j;", SER, "PCX112",
     "an #ifdef part reads it"),
    # names in a part that is not compiled resolve to nothing: its assignment defines nothing
    ("\n#if defined(OPEN)\n  j = 1;\n#elif defined(CLOSED)\n  j = 2;\n#else\n  j = 3;\n#endif\n  b[0] = j;", SER,
     "PCX112", "only the compiled #if part is read"),
    ("\n#ifdef OPEN\n  j = 1;\n#endif\n  b[0] = j;", SER, "PCX112", "an #ifdef without #else may skip it"),
]


def _source(after, decl: str = "int i, j, t;", nest: str = NEST) -> str:
    before, post = ("", after) if isinstance(after, str) else after
    return (GLOBALS + "void kernel(int n, double *restrict a, double *restrict b) {\n  " + decl + "\n  " + before +
            "\n  " + nest + "\n  " + post + "\n}\n")


def _first_nest(src: str):
    """The nest on line 5 (the one under test; a loop around it starts on line 4)."""
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    nests = [n for f in ua.functions if f.name == "kernel" for n in f.nests if n.line == 5]
    assert nests, [(n.line, [r.format() for r in n.remarks]) for f in ua.functions for n in f.nests]
    return nests[0]


@pytest.mark.parametrize("after,decision,rid", [c[:3] for c in CASES], ids=[c[3] for c in CASES])
def test_index_liveness(after, decision, rid) -> None:
    nest = _first_nest(_source(after))
    msgs = [r.format() for r in nest.remarks]
    assert nest.decision is decision and nest.remarks[0].id == rid, msgs
    if decision is OFF:
        assert "j" in nest.private, msgs


def test_global_index_stays_conservative() -> None:
    src = _source("for (gj = 0; gj < n; gj++) b[gj] = 1.0;", "int i, t;",
                  "for (i = 0; i < n; i++) for (gj = 0; gj < n; gj++) a[i * n + gj] = 1.0;")
    nest = _first_nest(src)
    assert nest.decision is SER and nest.remarks[0].id == "PCX112", [r.format() for r in nest.remarks]


def test_scalar_redefined_after_the_nest_is_private() -> None:
    nest_src = "for (i = 0; i < n; i++) { s = b[i] * 2.0; a[i] = s + 1.0; }"
    dead = _first_nest(_source("s = 0; for (i = 0; i < n; i++) s += a[i]; b[0] = s;", "int i; double s;", nest_src))
    assert dead.decision is OFF and "s" in dead.private, [r.format() for r in dead.remarks]
    live = _first_nest(_source("for (i = 0; i < n; i++) s += a[i]; b[0] = s;", "int i; double s;", nest_src))
    assert live.decision is SER and live.remarks[0].id == "PCX112", [r.format() for r in live.remarks]


PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
/* C89 style: one i, j for every loop, as PolyBench writes its kernels */
static void kernel(int n, double *restrict a, double *restrict b, double *restrict c) {
  int i, j;
  double t;
  for (i = 0; i < n; i++)            /* NEST1 */
    for (j = 0; j < n; j++)
      a[i * n + j] = (double)((i * j + 1) % n) / n;
  for (i = 0; i < n; i++) {          /* NEST2 */
    t = 0.0;
    for (j = 0; j < n; j++)
      t += a[i * n + j];
    b[i] = t;
  }
  for (i = 0; i < n; i++) {          /* NEST3 */
    t = b[i] * 0.5;
    c[i] = t + 1.0;
  }
  t = 0.0;
  for (j = 0; j < n; j++)
    t += c[j];
  printf("%.6f %d\n", t, j);
}
int main(int argc, char **argv) {
  int n = argc > 1 ? 300 : 200;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n), *c = malloc(sizeof(double) * n);
  kernel(n, a, b, c);
  for (int i = 0; i < n; i += 37) printf("%.6f %.6f\n", b[i], c[i]);
  free(a); free(b); free(c);
  return 0;
}
"""


def build_and_compare(tmp_path: Path, program: str, markers: list[str], suffix: str = ".c") -> dict:
    """Serial build vs PCX_MODE=static pcx-cc on the host device: same output with and without
    an argument; every line carrying one of ``markers`` offloaded in the report."""
    src = tmp_path / ("prog" + suffix)
    src.write_text(program)
    cc = CLANG if suffix == ".c" else shutil.which("clang++-19")
    driver = PCX_CC if suffix == ".c" else PCX_CC.parent / "pcx-c++"
    serial, offload, report = tmp_path / "serial", tmp_path / "offload", tmp_path / "report.json"
    r = subprocess.run([cc, "-O1", "-w", str(src), "-o", str(serial), "-lm"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(driver), "-O1", "-w", f"--pcx-report={report}", str(src), "-o", str(offload), "-lm"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    data = json.loads(report.read_text())
    nests = [n for s in data["sources"] for n in s["nests"]]
    lines = program.splitlines()
    for m in markers:
        line = next(k + 1 for k, text in enumerate(lines) if m in text)
        rec = [n for n in nests if n["line"] == line]
        assert rec and rec[0].get("applied"), (m, rec, r.stderr)
    for args in ([], ["x"]):
        assert run_with_args(offload, args) == run_with_args(serial, args), args
    return data


def refused_nest(program: str, marker: str, rid: str, words: str, path: str = "t.c"):
    """``analysed_nest``, checked to stay serial with a remark ``rid`` whose message holds
    ``words``."""
    nest = analysed_nest(program, marker, path)
    assert nest.decision is not Decision.OFFLOADED, [r.format() for r in nest.remarks]
    assert any(r.id == rid and words in r.message for r in nest.remarks), (marker, nest.remarks)
    return nest


def analysed_nest(program: str, marker: str, path: str = "t.c"):
    """The analysis (``NestAnalysis``) of the nest on the line of ``program`` that carries
    ``marker``, the program analysed as the file ``path`` (its suffix says C or C++)."""
    lang = Language.CXX if path.endswith((".cpp", ".cc")) else Language.C
    ua = analyse_unit(SourceUnit(path, program, lang))
    line = next(k + 1 for k, t in enumerate(program.splitlines()) if marker in t)
    (nest,) = [n for f in ua.functions for n in f.nests if n.line == line]
    return nest


def nest_at(data: dict, program: str, marker: str) -> dict:
    """The report's record of the nest on the line of ``program`` that carries ``marker``."""
    line = next(k + 1 for k, text in enumerate(program.splitlines()) if marker in text)
    (nest,) = [n for s in data["sources"] for n in s["nests"] if n["line"] == line]
    return nest


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_reused_indices_program_offloads_and_gives_the_serial_output(tmp_path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["NEST1", "NEST2", "NEST3"])


# Subscripts through a scalar declared at the top of the function and assigned at the top
# of the loop body (Rodinia srad and nw, C89 style): ``k = i + Nr * j; d[k] = img[k] ...``.
# That one unconditional store, read only after it in the body, is the scalar's value there.
ASSIGNED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int Nr = 40 + (argc > 1), Nc = 30, i, j, k, n, s;
  float *img = malloc(sizeof(float) * Nr * Nc), *dN = malloc(sizeof(float) * Nr * Nc);
  float *dS = malloc(sizeof(float) * Nr * Nc);
  for (k = 0; k < Nr * Nc; k++) img[k] = (float)((k * 7) % 13);
  for (j = 0; j < Nc; j++)                              /* NEST1 */
    for (i = 0; i < Nr; i++) {
      k = i + Nr * j;
      n = (i == 0) ? k : k - 1;
      s = (i == Nr - 1) ? k : k + 1;
      dN[k] = img[n] - img[k];
      dS[k] = img[s] - img[k];
    }
  double t = 0;
  for (k = 0; k < Nr * Nc; k++) t += dN[k] * 3 + dS[k];
  printf("%.3f %d\n", t, k);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_subscript_through_a_scalar_assigned_first_in_the_body(tmp_path) -> None:
    build_and_compare(tmp_path, ASSIGNED, ["NEST1"])


@pytest.mark.parametrize("body,offloaded", [
    ("k = i + n * j; a[k] = b[k] * 2;", True),
    # read before the store: the previous iteration's value
    ("a[k] = b[i + n * j]; k = i + n * j;", False),
    # stored under a condition
    ("if (i > 0) k = i + n * j; a[i + n * j] = b[k];", False),
    # stored twice
    ("k = i + n * j; a[k] = 1; k = k + 1; b[k] = 2;", False),
])
def test_a_scalar_holds_its_one_store_only_where_it_dominates_the_reads(body, offloaded) -> None:
    src = ("void f(float *restrict a, float *restrict b, int n, int m) {\n  int i, j, k = 0;\n"
           f"  for (j = 0; j < m; j++)\n    for (i = 0; i < n; i++) {{ {body} }}\n}}\n")
    nest = analyse_unit(SourceUnit("t.c", src, Language.C)).nests()[0]
    assert (nest.decision is Decision.OFFLOADED) == offloaded, [r.format() for r in nest.remarks]


# An index read after its loop (HeCBench randomAccess reuses the outer loop's ``i`` for an
# inner loop; C89 code reads a loop's final index): the root loop's index comes back with
# ``lastprivate(i) map(tofrom: i)`` (clang-19 copies a lastprivate scalar of a combined
# target construct back only when it is mapped too), and is first given the loop's start,
# which is what the serial loop leaves there when it runs no iteration.
FINAL_INDEX = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = 5000 + (argc > 1), i, rep = 3, lim = (argc > 1) ? 3 : 3000;
  double *t = malloc(sizeof(double) * n);
  long s = 0;
  for (i = 0; i < rep; i++) {
    for (i = 0; i < n; i++)                      /* REUSED */
      t[i] = i * 0.5;
    s += i;
  }
  for (i = n; i > 7; i -= 3) t[i - 1] += 1.0;    /* DOWN */
  int last = i;
  for (i = 5; i < lim; i++) t[i] *= 2;           /* MAYBE: no iteration with an argument */
  double z = 0;
  for (int k = 0; k < n; k++) z += t[k];
  printf("%ld %d %d %.2f\n", s, last, i, z);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_an_index_read_after_its_loop_comes_back_through_lastprivate(tmp_path) -> None:
    data = build_and_compare(tmp_path, FINAL_INDEX, ["REUSED", "DOWN", "MAYBE"])
    directives = " ".join(d for s in data["sources"] for n in s["nests"] for d in n["directives"])
    assert directives.count("lastprivate(i) map(tofrom: i)") == 3, directives


def test_a_define_inside_the_function_does_not_keep_loop_indices_live() -> None:
    # GSL's cblas defines ``BASE`` inside every routine: the liveness of ``int i, j;`` gave
    # up at the definition, and every reused index looked used after its loop (PCX112)
    src = ("void f(int n, double *c, const double *a) {\n#define BASE double\n  int i, j;\n"
           "  for (int r = 0; r < 2; r++) {\n"
           "    for (i = 0; i < n; i++) for (j = 0; j < n; j++) c[i * n + j] += (BASE)a[i * n + j];  /* FIRST */\n"
           "    for (i = 0; i < n; i++) for (j = 0; j < n; j++) c[i * n + j] *= 0.5;\n  }\n#undef BASE\n}\n")
    nest = analysed_nest(src, "FIRST")
    assert nest.decision is Decision.OFFLOADED and nest.depth == 2, [r.format() for r in nest.remarks]
