"""Wrong plans a plugin plants (real engine, host device) never reach the build: the plan
checker refuses wrong data plans before anything runs, and the gate catches what no
static check can see, bisects to it and demotes it; the cached result builds a correct
program.

One tune run carries all three mistakes: a map(to:) on axpy's output and a missing target
update in jacobi's data region (both data-plan mistakes: the plan checker refuses them,
PCX21x), and the checksum loop offloaded without its reduction, so all iterations race
on the sum (a kernel mistake: the gate's bisection finds it).  (Building is what costs; one run keeps this file fast.)
"""

from __future__ import annotations

import json

import pytest

from tune_e2e_support import copy_example, make_with_cache, need_engine, pcx, run_offloaded


@pytest.mark.slow
def test_planted_wrong_plans_are_caught_bisected_and_demoted(tmp_path):
    need_engine()
    project = copy_example(tmp_path)
    r = pcx("tune", "--build", "make", "--run", "./app 96 2", "--output", "result.txt", "--no-refine",
            "--repeats", "1", "--gate-repeats", "1", "--min-share", "0", "--plugin", "pcx_test_tune_wrong_plan",
            "--json", "--keep-slower",
            cwd=project, env={"PCX_TEST_WRONG": "to-on-output,missing-update,racy"})
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    rows = {(row["path"], row["function"], row["line"]): row for row in result["kernels"]}

    axpy = rows[("kernels.c", "axpy", 33)]
    assert axpy["status"] == "kept serial" and "plan check failed" in axpy["reason"], axpy
    racy = rows[("util.c", "checksum", 14)]
    assert racy["status"] == "demoted" and "failed the gate" in racy["reason"]
    # jacobi's region keeps u on the device without the update the host read needs: the
    # checker drops the region, its kernels stay offloaded with their own maps
    jacobi = [row for key, row in rows.items() if key[1] == "jacobi" and row["status"] == "offloaded"]
    assert jacobi
    # bisection named only the culprit the checker could not see
    demoted = sorted(key[1] for key, row in rows.items() if row["status"] == "demoted")
    assert demoted == ["checksum"]
    assert rows[("kernels.c", "matmul", 5)]["status"] == "offloaded"

    # the validated plans build a program that is correct on the device
    assert make_with_cache(project).returncode == 0
    ref = (project / ".pcx" / "runs" / result["run_id"] / "baseline" / "run0-reference" / "stdout").read_text()
    run = run_offloaded(project, "96", "2")
    assert (run.returncode, run.stdout) == (0, ref)
    assert "_matmul_l" in run.stderr and "_axpy_l" not in run.stderr and "_checksum_l" not in run.stderr
