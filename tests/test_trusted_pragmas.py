"""A user's ``parallel for`` whose subscripts the analysis cannot test (a scatter through a
permutation) runs on the device on the pragma's word only where something checks it:
``--pcx-trust-pragmas`` (the user says so), or pcx tune, whose gate compares the result
with the serial program and whose validated plan a plain build then applies (PCX129).
Static mode alone never trusts a pragma (PCX126), and no setting trusts one over a
dependence the analysis found (PCX125) or over data it cannot map (PCX116).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver.config import Config
from pcx_driver.gate import kernel_launches
from pcx_driver.model import Decision, Language, SourceUnit
from pcx_driver.pipeline import run_pipeline
from pcx_driver.plugins import make_plugin_manager
from tune_e2e_support import BIN, make_with_cache, pcx, run_offloaded

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

# The scatter's pragma is right (perm is a permutation: 7919 is prime to n); no analysis
# can see that from the loop.
SCATTER = """\
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 300000;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  int *perm = malloc(n * sizeof *perm);
  for (int k = 0; k < n; k++) {
    a[k] = k % 17;
    perm[k] = (int)(((long)k * 7919) % n);
  }
#pragma omp parallel for
  for (int i = 0; i < n; i++)
    b[perm[i]] = 2 * a[i] + 1;
  double s = 0;
  for (int k = 0; k < n; k++) s += b[k] * (k % 5);
  printf("%.1f\\n", s);
  free(a); free(b); free(perm);
  return 0;
}
"""
SCATTER_LINE = 13  # the scatter loop


def analyse(text: str, trust: bool):
    environ = {"PCX_TRUST_PRAGMAS": "1"} if trust else {}
    config = Config.resolve({}, environ)
    pm, _ = make_plugin_manager(entry_points=False)
    unit = SourceUnit(path="t.c", text=text, language=Language.C, directory=".")
    return run_pipeline(unit, pm, config)


def nest_at(result, line: int):
    return next(n for n in result.analysis.nests() if n.line == line)


def ids(nest) -> list[str]:
    return [r.id for r in nest.remarks]


def test_static_mode_keeps_the_scatter_on_the_cpu_and_names_the_way_to_trust_it():
    result = analyse(SCATTER, trust=False)
    nest = nest_at(result, SCATTER_LINE)
    assert nest.decision is Decision.SERIAL and ids(nest)[:2] == ["PCX126", "PCX103"]
    assert "pcx tune does, and its gate checks the result (--pcx-trust-pragmas)" in nest.remarks[0].message


def test_trusting_pragmas_offloads_the_scatter_with_the_pragma_named():
    result = analyse(SCATTER, trust=True)
    nest = nest_at(result, SCATTER_LINE)
    assert nest.decision is Decision.OFFLOADED and nest.pragma_claim == SCATTER_LINE - 1
    claim = next(r for r in nest.remarks if r.id == "PCX129")
    assert "the OpenMP pragma at line 12" in claim.message and "b[perm[i]]" in claim.message
    kernel = next(k for k in result.plan.kernels if k.nest_id == nest.nest_id)
    assert kernel.pragma_claim == SCATTER_LINE - 1
    # b is written at unknown places: it is copied in whole, so what the loop leaves is kept
    assert "map(tofrom: b[" in result.rewrite.text


@pytest.mark.parametrize("body, kept_by", [
    # a dependence the analysis found: the pragma is wrong, no setting trusts it
    ("for (int i = 1; i < n; i++) a[i] = a[i - 1] + b[perm[i]];", "PCX125"),
    # a scatter into an array whose size the analysis does not know: its data cannot be mapped
    ("for (int i = 0; i < n; i++) out[perm[i]] = a[i];", "PCX116"),
])
def test_the_pragma_answers_only_for_subscripts_the_analysis_cannot_test(body: str, kept_by: str):
    text = ("#include <stdlib.h>\nvoid f(int n, double *restrict a, double *restrict b, int *restrict perm, "
            "double *restrict out) {\n#pragma omp parallel for\n  " + body + "\n}\n")
    nest = nest_at(analyse(text, trust=True), 4)
    assert nest.decision is not Decision.OFFLOADED and kept_by in ids(nest), ids(nest)
    assert "PCX129" not in ids(nest)


def serial_output(tmp_path: Path) -> str:
    (tmp_path / "serial.c").write_text(SCATTER)
    subprocess.run(["clang-19", "-O1", "-w", "serial.c", "-o", "serial"], cwd=tmp_path, check=True)
    return subprocess.run(["./serial", "300000"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout


@needs_clang
def test_trusted_scatter_runs_on_the_device_and_prints_the_serial_output(tmp_path: Path):
    (tmp_path / "app.c").write_text(SCATTER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    build = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-trust-pragmas", "--pcx-remarks",
                            "--pcx-offload-target=x86_64-pc-linux-gnu", "-O1", "-fopenmp", "app.c", "-o", "app"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert f"app.c:{SCATTER_LINE}:3: remark: offloaded on the word of the OpenMP pragma at line 12" in build.stderr
    run = run_offloaded(tmp_path, "300000")
    assert run.returncode == 0 and run.stdout == serial_output(tmp_path)
    assert any(f"_main_l{SCATTER_LINE}" in k for k in kernel_launches(run.stderr)), kernel_launches(run.stderr)


@pytest.mark.slow
@needs_clang
def test_tune_offloads_the_scatter_on_the_pragmas_word_and_a_plain_build_applies_it(tmp_path: Path):
    project = tmp_path / "scatter"
    project.mkdir()
    (project / "app.c").write_text(SCATTER)
    (project / "Makefile").write_text("CFLAGS ?= -O1 -fopenmp\napp: app.c\n\t$(CC) $(CFLAGS) -o app app.c\n"
                                      "clean:\n\trm -f app\n")
    r = pcx("tune", "--build", "make", "--run", "./app 300000", "--no-refine", "--repeats", "1",
            "--gate-repeats", "1", "--min-share", "0", "--json", "--keep-slower", cwd=project)
    assert r.returncode == 0, r.stderr
    rows = {(row["function"], row["line"]): row for row in json.loads(r.stdout)["kernels"]}
    assert rows[("main", SCATTER_LINE)]["status"] == "offloaded", rows
    entry = json.loads(next((project / ".pcx" / "plans").glob("*.json")).read_text())
    trusted = [k for k in entry["decisions"]["kernels"] if k["trusted"]]
    assert [k["nest_id"] for k in trusted] == [f"main:{SCATTER_LINE}"]

    # a plain build (validated mode, no flag) applies what the gate passed, and says why
    build = make_with_cache(project)
    assert build.returncode == 0, build.stderr
    assert "[PCX129]" in build.stderr and "[PCX008]" in build.stderr
    run = run_offloaded(project, "300000")
    assert run.returncode == 0 and run.stdout == serial_output(tmp_path)
    assert any(f"_main_l{SCATTER_LINE}" in k for k in kernel_launches(run.stderr))
