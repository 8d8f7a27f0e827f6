"""Array privatisation (issue 16): a scratch array each iteration writes before it reads.

PolyBench's doitgen fills ``sum[0:np]`` for every ``(r, q)`` and copies it into ``A``:
``sum`` is written by every iteration (PCX101), so only the inner loops were kernels,
4,000 launches of little work.  Each iteration writes the whole of ``sum`` before reading
it, so it may have its own copy: the outer loops become one kernel, with a per-iteration
``double pcx_priv_sum[E]`` (``E``, the declared extent), and the last iteration copies it
back, which is what the serial program leaves in ``sum`` (engine/privatise.py, PCX140).
The kernel runs only where the written range fits ``E``, the loop as written otherwise.

Each program below runs serially and through ``PCX_MODE=static`` on the host device,
with inputs that take both sides of the range test; the shapes that must not be
privatised are refused with the dependence they leave.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

CLANG = shutil.which("clang-19")
PCX_CC = Path(sys.executable).parent / "pcx-cc"
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")

# A row transform with a scratch row in a parameter declared tmp[NP]; m (argv[1]) is the
# row length: up to NP the rows run as one kernel, past it as written (tmp has room).
ROWS = r"""#include <stdio.h>
#include <stdlib.h>
#define NP 32
#define NC 64

static void rows(int nr, int m, double A[][NC], const double *w, double tmp[NP])
{
  for (int r = 0; r < nr; r++) {            /* ROWS */
    for (int p = 0; p < m; p++) {
      tmp[p] = A[r][p] * w[p];
      for (int s = 0; s < p; s++)
        tmp[p] += 0.25 * A[r][s];
    }
    for (int p = 0; p < m; p++)
      A[r][p] = tmp[p] - 0.5 * w[p];
  }
}

int main(int argc, char **argv)
{
  int nr = 300, m = argc > 1 ? atoi(argv[1]) : NP;
  double (*A)[NC] = malloc(sizeof(double) * nr * NC);
  double *w = malloc(sizeof(double) * NC), *tmp = calloc(NC, sizeof(double));
  for (int r = 0; r < nr; r++)
    for (int c = 0; c < NC; c++)
      A[r][c] = (double)((r * 7 + c * 3) % 17) / 17.0;
  for (int c = 0; c < NC; c++)
    w[c] = 1.0 + c % 5;
  rows(nr, m, A, w, tmp);
  double s = 0, t = 0;
  for (int r = 0; r < nr; r++)
    for (int c = 0; c < NC; c++)
      s += A[r][c] * (c + 1);
  for (int c = 0; c < NC; c++)
    t += tmp[c] * (c + 2);
  printf("m=%d A %.10e tmp %.10e\n", m, s, t);
  free(A); free(w); free(tmp);
  return 0;
}
"""

# A local scratch array of constant extent in main, read after the nest: the value it has
# there is the last iteration's, which the copy-back must leave.
LOCAL = r"""#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 5000;
  double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
  double acc[8];
  for (int i = 0; i < n; i++) {
    x[i] = (double)(i % 13) - 6.0;
    y[i] = 0.0;
  }
  for (int k = 0; k < 8; k++)
    acc[k] = -1.0;
  for (int i = 0; i < n; i++) {              /* LOCAL */
    for (int k = 0; k < 8; k++)
      acc[k] = x[i] * (k + 1);
    for (int k = 0; k < 8; k++)
      y[i] += acc[k] * acc[k];
  }
  double s = 0;
  for (int i = 0; i < n; i++)
    s += y[i] * (i % 7);
  printf("n=%d s=%.10e acc3=%.6f acc7=%.6f\n", n, s, acc[3], acc[7]);
  return 0;
}
"""


# A scratch parameter beside other kernels of its function, and a caller whose kernels
# would keep the arrays on the device across the call: the kernel that may run as written
# (its range test) must find every array it touches on the host.
BESIDE_A_REGION = r"""#include <stdio.h>
#include <stdlib.h>
#define NP 40

static void work(int n, int r, int c, double *restrict a, double *restrict g, double tmp[NP])
{
  for (int i = 0; i < n; i++)
    a[i] = i * 0.5;
  for (int i = 1; i < n - 1; i++)
    a[i] = i * 2.0 + 1.0;
  for (int i = 0; i < r; i++) {              /* SCRATCH */
    for (int j = 0; j < c; j++)
      tmp[j] = g[i * c + j] + j;
    for (int j = 0; j < c; j++)
      g[i * c + j] = tmp[j] * 2.0;
  }
}

int main(int argc, char **argv)
{
  int n = 1000 + argc, r = 50, c = argc > 1 ? 41 : 32;
  double *a = malloc(sizeof(double) * n), *g = malloc(sizeof(double) * r * 64);
  double *tmp = calloc(64, sizeof(double));
  for (int i = 0; i < r * 64; i++)
    g[i] = (i * 7) % 13;
  work(n, r, c, a, g, tmp);
  double s = 0, t = 0;
  for (int i = 0; i < n; i++) s += a[i] * (i % 5 + 1);
  for (int i = 0; i < r * c; i++) t += g[i] * (i % 3 + 1);
  printf("%.6f %.6f %.6f %.6f\n", s, t, tmp[0], tmp[c - 1]);
  return 0;
}
"""


def _build(tmp_path: Path, program: str) -> tuple[Path, Path, list[dict], str]:
    src = tmp_path / "prog.c"
    src.write_text(program)
    serial, offload, report = tmp_path / "serial", tmp_path / "offload", tmp_path / "report.json"
    r = subprocess.run([CLANG, "-O1", "-w", str(src), "-o", str(serial), "-lm"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC), "-O1", "-w", "--pcx-min-work=0", "--pcx-remarks", f"--pcx-report={report}",
                        str(src), "-o", str(offload), "-lm"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    nests = [n for s in json.loads(report.read_text())["sources"] for n in s["nests"]]
    return serial, offload, nests, r.stderr


def _run(exe: Path, args: list[str]) -> tuple[str, str]:
    env = dict(os.environ, **{**RUN_ENV, "LIBOMPTARGET_INFO": "16"})
    p = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout, p.stderr


def _line_of(program: str, marker: str) -> int:
    return next(k + 1 for k, text in enumerate(program.splitlines()) if marker in text)


def _build_offloaded(tmp_path: Path, program: str, marker: str) -> tuple[Path, Path, str, int]:
    """(serial, offloaded, remarks, line): the nest marked ``marker`` must be applied."""
    serial, offload, nests, remarks = _build(tmp_path, program)
    line = _line_of(program, marker)
    (nest,) = [n for n in nests if n["line"] == line]
    assert nest["applied"], (nest, remarks)
    return serial, offload, remarks, line


def _analysed(text: str, marker: str = "ROWS"):
    """The analysis of the nest marked ``marker`` in C source ``text``."""
    line = _line_of(text, marker)
    (nest,) = [n for f in analyse_unit(SourceUnit("rows.c", text, Language.C)).functions for n in f.nests
               if n.line == line]
    return nest


@needs_clang
def test_a_scratch_row_is_private_and_its_loops_are_one_kernel(tmp_path) -> None:
    serial, offload, remarks, line = _build_offloaded(tmp_path, ROWS, "ROWS")
    assert f"prog.c:{line}:3: remark: 'tmp' is private to each iteration" in remarks
    assert "(m - 1) < 32" in remarks  # the range test, named in the remark
    for args, launches in ((["32"], 1), (["7"], 1), (["1"], 1), (["0"], 1), (["40"], 0)):
        want, _ = _run(serial, args)
        got, info = _run(offload, args)
        assert got == want, args
        # one launch of the whole nest where the range fits; the loop as written past it
        assert info.count(f"_rows_l{line} ") == launches, (args, info.count("Launching"))


@needs_clang
def test_the_last_iteration_leaves_the_scratch_array_as_the_serial_program_does(tmp_path) -> None:
    serial, offload, remarks, _ = _build_offloaded(tmp_path, LOCAL, "LOCAL")
    assert "'acc' is private to each iteration" in remarks and "as written otherwise" not in remarks.split(
        "'acc' is private")[1].splitlines()[0]  # a constant range needs no run-time test
    for args in ([], ["1"], ["0"], ["77"]):
        assert _run(offload, args)[0] == _run(serial, args)[0], args


# Shapes that must keep their dependence: (what changes in ROWS' kernel, replacement).
NOT_PRIVATE = {
    "the first loop reads before it writes": ("tmp[p] = A[r][p] * w[p];", "tmp[p] += A[r][p] * w[p];"),
    "a later loop reads past the element it owns": ("A[r][p] = tmp[p] - 0.5 * w[p];", "A[r][p] = tmp[p + 1];"),
    "the write is conditional": ("tmp[p] = A[r][p] * w[p];", "if (w[p] > 2) tmp[p] = A[r][p] * w[p];"),
    "a later loop runs further": ("    for (int p = 0; p < m; p++)\n      A[r][p]", "    for (int p = 0; p <= m; p++)\n      A[r][p]"),
    "the nest calls a function": ("tmp[p] = A[r][p] * w[p];", "tmp[p] = scale(A[r][p]) * w[p];"),
    "the extent is not declared": ("double tmp[NP])", "double *tmp)"),
    "the range moves with the outer index": ("    for (int p = 0; p < m; p++) {\n      tmp[p]", "    for (int p = r % 2; p < m; p++) {\n      tmp[p]"),
    "the name is used unsubscripted": ("tmp[p] = A[r][p] * w[p];", "tmp[p] = A[r][p] * w[p] + (tmp == w);"),
}


@pytest.mark.parametrize("why", sorted(NOT_PRIVATE))
def test_shapes_that_are_not_private_keep_their_dependence(why: str) -> None:
    old, new = NOT_PRIVATE[why]
    assert old in ROWS
    text = ROWS.replace(old, new).replace("static void rows", "static double scale(double v) { return v * 2; }\n"
                                                           "static void rows")
    nest = _analysed(text)
    assert nest.decision is not Decision.OFFLOADED, why
    assert not nest.private_arrays
    # the dependence on tmp, or an earlier refusal that names it
    assert any("'tmp'" in r.message for r in nest.remarks), (why, [r.message for r in nest.remarks])


@needs_clang
def test_a_kernel_with_a_range_test_finds_its_data_on_the_host(tmp_path) -> None:
    serial, offload, remarks, _ = _build_offloaded(tmp_path, BESIDE_A_REGION, "SCRATCH")
    # the plan checker refuses a region around it: its host version would read stale copies
    assert "may run on the host while" in remarks and "[PCX215]" in remarks
    for args in ([], ["x"]):  # c = 32 on the device, c = 41 as written
        assert _run(offload, args)[0] == _run(serial, args)[0], args


def test_the_first_use_may_follow_statements_that_do_not_name_the_array() -> None:
    text = ROWS.replace("      tmp[p] = A[r][p] * w[p];", "      double v = A[r][p] * 0.5;\n      tmp[p] = v * w[p];")
    nest = _analysed(text)
    assert nest.decision is Decision.OFFLOADED and [p.name for p in nest.private_arrays] == ["tmp"]
    nested = text.replace("      tmp[p] = v * w[p];", "      { tmp[p] = v * w[p]; }")
    nest = _analysed(nested)
    assert [p.name for p in nest.private_arrays] == ["tmp"]  # a block is still the top level


# NPB's line solvers fill cv[0..n-1] and read cv[i-1], cv[i+1] over the inner points.
NEIGHBOURS = ROWS.replace("""    for (int p = 0; p < m; p++)
      A[r][p] = tmp[p] - 0.5 * w[p];""", """    for (int p = 1; p < m - 1; p++)
      A[r][p] = tmp[p - 1] - 2.0 * tmp[p] + tmp[p + 1];""")


@needs_clang
def test_later_loops_may_read_neighbours_within_what_the_first_wrote(tmp_path) -> None:
    assert NEIGHBOURS != ROWS
    serial, offload, remarks, _ = _build_offloaded(tmp_path, NEIGHBOURS, "ROWS")
    assert "'tmp' is private" in remarks, remarks
    for args in (["32"], ["5"], ["2"], ["40"]):
        assert _run(offload, args)[0] == _run(serial, args)[0], args
    # one element further and the read is of the previous iteration's value: a dependence
    further = NEIGHBOURS.replace("tmp[p + 1];", "tmp[p + 2];")
    refused = _analysed(further)
    assert not refused.private_arrays and refused.decision is not Decision.OFFLOADED


def test_a_few_iterations_around_wide_loops_keep_the_inner_kernels() -> None:
    """A time loop of 4 steps around the rows: privatising would make 4 threads of what
    are two row-wide kernels; the inner loops stay the kernels."""
    text = ROWS.replace("for (int r = 0; r < nr; r++) {            /* ROWS */",
                        "for (int r = 0; r < STEPS; r++) {            /* ROWS */").replace(
                        "#define NP 32", "#define NP 32\n#define STEPS 4")
    nests = [n for f in analyse_unit(SourceUnit("rows.c", text, Language.C)).functions for n in f.nests]
    (outer,) = [n for n in nests if n.line == _line_of(text, "ROWS")]
    assert outer.decision is not Decision.OFFLOADED and not outer.private_arrays
    assert any(n.decision is Decision.OFFLOADED and outer.line < n.line < outer.line + 10 for n in nests)


# A tile filled in regions before it is read (HeCBench convolution1D's tiled version): the
# left halo, the centre and the right halo are three loops at offsets 0, r and r + TILE
# (r = m / 2, not constants), then the stencil reads tile[t + j].  isl proves every
# element read is written first in the same block (privatise.covered_private_array, C's
# division telling it 2 * (m / 2) >= m - 1); nothing reads the tile after the loop, so
# each block has its own copy and none is copied back.  A pointer to the tile, or a read
# one past what the halos write, keeps the block loop serial.
TILED = r"""
#include <stdio.h>
#include <stdlib.h>
#define TILE 64
#define MAXM 9
static void conv_tiled(const float *mask, const float *in, float *out, int n, int m) {
  float tile[TILE + MAXM - 1];
  const int r = m / 2;
  for (int b = 0; b < n; b += TILE) {              /* TILED */
    for (int t = 0; t < r; t++) {
      const int src = b - r + t;
      tile[t] = (src >= 0) ? in[src] : 0.0f;
    }
    for (int t = 0; t < TILE; t++) {
      const int src = b + t;
      tile[r + t] = (src < n) ? in[src] : 0.0f;
    }
    for (int t = 0; t < r; t++) {
      const int src = b + TILE + t;
      tile[r + TILE + t] = (src < n) ? in[src] : 0.0f;
    }
    for (int t = 0; t < TILE && b + t < n; t++) {
      float s = 0;
      for (int j = 0; j < m; j++) s += tile[t + j] * mask[j];
      out[b + t] = s;
    }
  }
}
int main(int argc, char **argv) {
  int n = 20000 + (argc > 1) * 13, m = 7;
  float *in = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n), mask[MAXM];
  for (int i = 0; i < n; i++) in[i] = (float)(i % 19);
  for (int j = 0; j < m; j++) mask[j] = 1.0f / (j + 1);
  conv_tiled(mask, in, out, n, m);
  double s = 0;
  for (int i = 0; i < n; i++) s += out[i] * (i % 5);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")
def test_a_tile_filled_in_regions_is_private_to_each_block(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, TILED, ["TILED"])
    remarks = " ".join(r["message"] for s in data["sources"] for n in s["nests"] for r in n["reasons"])
    assert "'tile' is private to each iteration" in remarks, remarks


# The same tile in a C++ function template (HeCBench's own conv1d_tiled<T>): the tile's
# element type is the template's parameter, arithmetic in every instantiation the file
# makes (double and float), which is when the template is analysed at all.  The kernel
# names only its private copy, so the shared tile is not mapped.
TILED_TEMPLATE = (TILED.replace("static void conv_tiled(const float *mask, const float *in, float *out",
                                "template <typename T>\nstatic void conv_tiled(const T *mask, const T *in, T *out")
                  .replace("float tile[", "T tile[").replace("float s = 0;", "T s = 0;")
                  .replace(" : 0.0f;", " : (T)0;")
                  .replace("float *in = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n), mask[MAXM];",
                           "float *in = (float *)malloc(sizeof(float) * n), *out = (float *)malloc(sizeof(float) * n),"
                           " mask[MAXM];\n  double *din = new double[n], *dout = new double[n], dmask[MAXM];")
                  .replace("  conv_tiled(mask, in, out, n, m);",
                           "  for (int i = 0; i < n; i++) din[i] = in[i];\n"
                           "  for (int j = 0; j < m; j++) dmask[j] = mask[j];\n"
                           "  conv_tiled<float>(mask, in, out, n, m);\n  conv_tiled<double>(dmask, din, dout, n, m);")
                  .replace("s += out[i] * (i % 5);", "s += out[i] * (i % 5) + dout[i];"))


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang-19 not installed")
def test_a_tile_of_the_templates_element_type_is_private_to_each_block(tmp_path: Path) -> None:
    assert "T tile[" in TILED_TEMPLATE and "conv_tiled<double>" in TILED_TEMPLATE
    data = build_and_compare(tmp_path, TILED_TEMPLATE, ["TILED"], suffix=".cpp")
    nest = nest_at(data, TILED_TEMPLATE, "TILED")
    assert any("'tile' is private to each iteration" in r["message"] for r in nest["reasons"]), nest
    assert not any("tile[" in d for d in nest["directives"]), nest["directives"]  # only the copy is used


@pytest.mark.parametrize("change", [
    ("  const int r = m / 2;\n", "  const int r = m / 2;\n  float *alias = tile;\n"),   # another name for it
    ("s += tile[t + j]", "s += tile[t + j + 1]"),                                       # one past the halo
])
def test_a_tile_with_another_name_or_read_past_its_writes_stays_shared(change) -> None:
    src = TILED.replace(*change).split("int main")[0]
    ua = analyse_unit(SourceUnit("t.c", src, Language.C))
    line = next(k + 1 for k, t in enumerate(src.splitlines()) if "TILED" in t)
    (nest,) = [n for f in ua.functions for n in f.nests if n.line == line]
    assert nest.decision is not Decision.OFFLOADED and nest.remarks[0].id == "PCX101", nest.remarks
