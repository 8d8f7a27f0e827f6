"""pcx tune on examples/tune_project end to end (real engine, host device), then a plain
``CC=pcx-cc make`` that applies the cached validated plans without analysis."""

from __future__ import annotations

import json

import pytest
import time

from pcx_driver import plancache
from pcx_driver.config import Config
from pcx_driver.model import Language, SourceUnit
from tune_e2e_support import copy_example, make_with_cache, need_engine, pcx, run_offloaded


@pytest.mark.slow
def test_tune_project_end_to_end(tmp_path):
    need_engine()
    project = copy_example(tmp_path)
    r = pcx("tune", "--build", "make", "--run", "./app 128 2", "--run", "./app 40 3", "--output", "result.txt",
            "--budget", "1", "--repeats", "2", "--json", "--keep-slower", cwd=project)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    run_dir = project / ".pcx" / "runs" / result["run_id"]

    # 1. reference outputs, including the output file
    ref0 = (run_dir / "baseline" / "run0-reference" / "stdout").read_text()
    assert ref0.startswith("n = 128 reps = 2\n")
    assert (run_dir / "baseline" / "run0-reference" / "files" / "result.txt").read_text().startswith("y[0] =")

    # 2. hotspots: matmul (n^3) is the hottest candidate kernel, the cold weight loop is last
    offloadable = [h["function"] for h in result["hotspots"] if h["decision"] == "offloaded"]
    assert offloadable[0] == "matmul"
    assert result["hotspots"][0]["seconds"] >= result["hotspots"][-1]["seconds"]

    # 3-5. matmul passed the gate, really launched, and was profiled
    rows = {(row["path"], row["function"], row["line"]): row for row in result["kernels"]}
    matmul = rows[("kernels.c", "matmul", 5)]
    assert matmul["status"] == "offloaded" and matmul["launches"] == 2 + 3
    assert matmul["bytes_after"] > 0 and matmul["offloaded_seconds"] > 0
    assert any(row["status"] == "kept serial" and "PCX101" in row["reason"] for row in result["kernels"])
    assert len(result["variants"]) == 1  # --budget 1

    # 7. a validated plan for kernels.c in the project's cache
    # (keyed with -fopenmp: a build that can rewrite compiles every file with OpenMP)
    unit = SourceUnit("kernels.c", (project / "kernels.c").read_text(), Language.C, str(project), ["-fopenmp"])
    plan = plancache.lookup(unit, Config.resolve({}, environ={}, cwd=project))
    assert plan is not None and plan.origin == "validated"
    assert any(k.nest_id.startswith("matmul:") and k.offload for k in plan.kernels)

    # the plain build applies it (PCX008); the cache holds decisions only, so kernels.c and
    # util.c (cached entries) are analysed afresh, and main.c (no entry) only for the remarks
    analyses = tmp_path / "analyses.txt"
    start = time.monotonic()
    b = make_with_cache(project, analyses)
    assert b.returncode == 0, b.stderr
    assert any(line.startswith("kernels.c:") and "[PCX008]" in line for line in b.stderr.splitlines()), b.stderr
    assert sorted(analyses.read_text().split()) == ["kernels.c", "main.c", "util.c"]
    assert time.monotonic() - start < 60

    # and the program it builds offloads matmul and prints the reference output
    run = run_offloaded(project, "128", "2")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ref0
    assert "_matmul_l" in run.stderr  # INFO launch lines: it really ran on the device
    assert (project / "result.txt").read_text() == (
        run_dir / "baseline" / "run0-reference" / "files" / "result.txt").read_text()

    # pcx report shows the same kernels from the cache
    rep = pcx("report", "--json", cwd=project)
    assert rep.returncode == 0, rep.stderr
    assert ("kernels.c", "matmul") in {(k["path"], k["function"]) for k in json.loads(rep.stdout)["kernels"]}
