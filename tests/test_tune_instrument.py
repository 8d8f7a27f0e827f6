"""Per-nest timing instrumentation: compiled with real compilers, run, timings read back."""

from __future__ import annotations

import json
import subprocess

import pytest
import tree_sitter_c
from tree_sitter import Language as TSLanguage, Parser

from pcx_driver.model import (
    Decision,
    FunctionAnalysis,
    Language,
    NestAnalysis,
    SourceUnit,
    UnitAnalysis,
)
from pcx_driver.plancache import plan_key
from pcx_driver.tune.instrument import instrument_source, outermost_nests

SOURCE = r"""#include <stdio.h>
#include <stdlib.h>

int time = 3;  /* a user global named like a libc function must not clash */

static double work(int n, double *a)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            a[j] += i * 0.5;
    for (int i = 0; i < n; i++) {
        if (a[i] > 1e300) return -1;  /* an early exit must not break anything */
        s += a[i];
    }
    return s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300;
    double *a = calloc(n, sizeof *a);
    double s = 0;
    for (int r = 0; r < 3; r++) s += work(n, a);
    if (n < 0) for (int k = 0; k < 1; k++) s = 0;
    printf("s = %.3f line %d\n", s, __LINE__);
    free(a);
    return time - 3;
}
"""


def analysis_of(unit: SourceUnit) -> UnitAnalysis:
    """Every for statement as a nest (what the engine would report), found with tree-sitter."""
    tree = Parser(TSLanguage(tree_sitter_c.language())).parse(unit.data)
    functions = []

    def fors(node, fn, out):
        if node.type == "for_statement":
            line = node.start_point[0] + 1
            out.append(NestAnalysis(f"{fn}:{line}", fn, line, node.start_point[1] + 1, node.start_byte,
                                    node.end_byte, 1, Decision.SERIAL))
        for child in node.children:
            fors(child, fn, out)

    for node in tree.root_node.children:
        if node.type == "function_definition":
            name = node.child_by_field_name("declarator").child_by_field_name("declarator").text.decode()
            nests: list[NestAnalysis] = []
            fors(node, name, nests)
            functions.append(FunctionAnalysis(name, node.start_byte, node.end_byte, nests))
    return UnitAnalysis(unit.path, unit.language, functions)


def test_only_outermost_nests_are_timed():
    unit = SourceUnit("t.c", SOURCE)
    ids = [n.nest_id for n in outermost_nests(analysis_of(unit))]
    assert ids == ["work:9", "work:12", "main:24", "main:25"]


@pytest.mark.parametrize("compiler", ["clang-19", "gcc"])
def test_instrumented_program_keeps_lines_and_output_and_writes_timings(tmp_path, compiler):
    unit = SourceUnit("t.c", SOURCE, Language.C, str(tmp_path))
    text = instrument_source(unit, analysis_of(unit))
    (tmp_path / "t.c").write_text(text)
    subprocess.run([compiler, "-O1", "-Wall", "-Werror", "t.c", "-o", "t"], cwd=tmp_path, check=True)
    (tmp_path / "plain.c").write_text(SOURCE)
    subprocess.run([compiler, "-O1", "plain.c", "-o", "plain"], cwd=tmp_path, check=True)
    timing = tmp_path / "timing.jsonl"
    got = subprocess.run(["./t", "300"], cwd=tmp_path, capture_output=True, text=True,
                         env={"PCX_TIMING_FILE": str(timing)})
    want = subprocess.run(["./plain", "300"], cwd=tmp_path, capture_output=True, text=True)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (0, "s = 40365000.000 line 26\n")
    rows = [json.loads(line) for line in timing.read_text().splitlines()]
    by_nest = {r["nest"]: r for r in rows}
    # main:25 never ran (n >= 0): no line for it
    assert sorted(by_nest) == ["main:24", "work:12", "work:9"]
    assert by_nest["work:9"]["entries"] == 3 and by_nest["main:24"]["entries"] == 1
    assert by_nest["work:9"]["line"] == 9
    assert all(r["key"] == plan_key(unit) and r["unit"] == "t.c" for r in rows)
    # the n^2 nest dominates the n nest, and the caller's nest includes its callees
    assert by_nest["work:9"]["seconds"] > by_nest["work:12"]["seconds"]
    assert by_nest["main:24"]["seconds"] >= by_nest["work:9"]["seconds"]


def test_diagnostics_name_the_users_lines(tmp_path):
    broken = SOURCE.replace("s += a[i];", "s += a[i] + undeclared;")
    unit = SourceUnit("t.c", broken, Language.C, str(tmp_path))
    (tmp_path / "t.c").write_text(instrument_source(unit, analysis_of(unit)))
    r = subprocess.run(["clang-19", "-c", "t.c", "-o", "t.o"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0
    assert "t.c:14:" in r.stderr and "undeclared" in r.stderr


def test_no_nests_and_cuda_are_left_unchanged():
    unit = SourceUnit("t.c", "int main(void) { return 0; }\n")
    assert instrument_source(unit, analysis_of(unit)) == unit.text
    cu = SourceUnit("k.cu", SOURCE, Language.CUDA)
    assert instrument_source(cu, analysis_of(SourceUnit("k.cu", SOURCE))) == SOURCE


def test_candidate_kernels_inside_serial_loops_get_their_own_timer(tmp_path):
    unit = SourceUnit("t.c", SOURCE, Language.C, str(tmp_path))
    analysis = analysis_of(unit)
    for nest in analysis.nests():
        if nest.nest_id == "work:10":  # the inner loop ends where its serial parent ends
            nest.decision = Decision.OFFLOADED
    (tmp_path / "t.c").write_text(instrument_source(unit, analysis))
    subprocess.run(["clang-19", "-O1", "-Wall", "-Werror", "t.c", "-o", "t"], cwd=tmp_path, check=True)
    timing = tmp_path / "timing.jsonl"
    got = subprocess.run(["./t", "200"], cwd=tmp_path, capture_output=True, text=True,
                         env={"PCX_TIMING_FILE": str(timing)})
    assert got.returncode == 0, got.stderr
    by_nest = {r["nest"]: r for r in map(json.loads, timing.read_text().splitlines())}
    assert by_nest["work:10"]["entries"] == 3 * 200 and by_nest["work:9"]["entries"] == 3
    assert by_nest["work:9"]["seconds"] >= by_nest["work:10"]["seconds"] > 0


PRAGMAS = r"""#include <stdio.h>

int main(void)
{
    static double a[4000];
    double s = 0;
#pragma omp parallel for \
        schedule(static)
    for (int i = 0; i < 4000; i++)
        a[i] = i * 0.5;
#pragma omp parallel for reduction(+: s)
    for (int i = 0; i < 4000; i++)
        s += a[i];
#pragma omp parallel for // a comment in the pragma line: this loop is not timed
    for (int i = 0; i < 4000; i++)
        a[i] = 0;
    printf("%.1f line %d\n", s, __LINE__);
    return 0;
}
"""


@pytest.mark.parametrize("compiler", ["clang-19", "gcc"])
def test_a_loops_own_pragmas_move_inside_its_timer(tmp_path, compiler):
    """A `#pragma omp parallel for` must stay right before its loop: the timer goes around
    both, the pragma becoming a _Pragma operator (lines kept); a pragma line holding a
    comment, which _Pragma cannot hold, leaves its loop untimed."""
    unit = SourceUnit("t.c", PRAGMAS, Language.C, str(tmp_path))
    text = instrument_source(unit, analysis_of(unit))
    assert '_Pragma("omp parallel for schedule(static)")' in text
    (tmp_path / "t.c").write_text(text)
    subprocess.run([compiler, "-O1", "-fopenmp", "-Wall", "-Werror", "t.c", "-o", "t"], cwd=tmp_path, check=True)
    timing = tmp_path / "timing.jsonl"
    got = subprocess.run(["./t"], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"PCX_TIMING_FILE": str(timing), "OMP_NUM_THREADS": "2"})
    assert got.stdout == "3999000.0 line 17\n"
    assert sorted(json.loads(line)["nest"] for line in timing.read_text().splitlines()) == ["main:12", "main:9"]


MACRO_LOOP = r"""#include <stdio.h>
#define FOR_EACH(i, n) for (int i = 0; i < (n); i++)
int main(void)
{
    float out[1000];
    FOR_EACH(i, 1000) {
        out[i] = 2.0f * i;
    }
    double s = 0;
    for (int i = 0; i < 1000; i++) s += out[i];
    printf("%.1f\n", s);
    return 0;
}
"""


@pytest.mark.parametrize("compiler", ["clang-19", "gcc"])
def test_a_loop_written_through_a_macro_is_not_timed(tmp_path, compiler):
    # The macro's use is the nest's whole text, its body a statement after it: braces
    # around the use closed before the body and the build fell back (PCX007, HeCBench mask).
    unit = SourceUnit("m.c", MACRO_LOOP, Language.C, str(tmp_path))
    analysis = analysis_of(unit)
    use = MACRO_LOOP.index("FOR_EACH(i, 1000)")
    analysis.functions[0].nests.insert(0, NestAnalysis("main:6", "main", 6, 5, use, use + len("FOR_EACH(i, 1000)"),
                                                       1, Decision.NOT_ANALYSED))
    text = instrument_source(unit, analysis)
    (tmp_path / "m.c").write_text(text)
    subprocess.run([compiler, "-O1", "-Wall", "-Werror", "m.c", "-o", "m"], cwd=tmp_path, check=True)
    timing = tmp_path / "timing.jsonl"
    got = subprocess.run(["./m"], cwd=tmp_path, capture_output=True, text=True, env={"PCX_TIMING_FILE": str(timing)})
    assert got.stdout == "999000.0\n"
    assert [json.loads(line)["nest"] for line in timing.read_text().splitlines()] == ["main:10"]


OLD_C = r"""#include <stdio.h>
static float w[4096];
setup(n)          /* C89: no return type, an 'int' the analysis reads written out */
int n;
{
    int i;
    for (i = 0; i < n; i++) w[i] = 0.5f * i;
    return 0;
}
scale(int n) { int i; for (i = 0; i < n; i++) w[i] *= 2.0f; return 0; }
int main(void)
{
    double s = 0;
    setup(4096);
    scale(4096);
    for (int i = 0; i < 4096; i++) s += w[i];
    printf("%.1f\n", s);
    return 0;
}
"""


def test_old_c_is_timed_where_its_loops_are(tmp_path):
    """Each implicit 'int' the analysis writes out moves the nests' offsets: the timers
    go into the text the analysis read (PipelineResult.written), where every one was left
    out before (Rodinia backprop: only the file without old C was timed).  The program
    still prints what it printed, and each of its four loops has a line in the file."""
    from pathlib import Path
    import os
    import sys

    (tmp_path / "old.c").write_text(OLD_C)
    driver = Path(sys.executable).parent / "pcx-cc"
    env = dict(os.environ, PCX_INSTRUMENT="1")
    subprocess.run([str(driver), "-O1", "-w", "-std=gnu89", "old.c", "-o", "old"], cwd=tmp_path, check=True, env=env)
    timing = tmp_path / "timing.jsonl"
    got = subprocess.run(["./old"], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"PCX_TIMING_FILE": str(timing)})
    assert got.stdout == "8386560.0\n"
    timed = sorted(json.loads(line)["nest"] for line in timing.read_text().splitlines())
    assert timed == ["main:16", "scale:10", "setup:7"], timed
