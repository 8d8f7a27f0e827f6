"""The gate catches wrong plans a plugin plants (real engine, host device): it bisects to
each culprit, demotes it, and the cached result builds a correct program.

One tune run carries all three mistakes (a map(to:) on axpy's output, a missing target
update in jacobi's data region, the checksum loop offloaded without its reduction, so all
iterations race on the sum): bisection has to find each of them in turn.  (Building is what costs; one run keeps this file fast.)
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
            "--json",
            cwd=project, env={"PCX_TEST_WRONG": "to-on-output,missing-update,racy"})
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    rows = {(row["path"], row["function"], row["line"]): row for row in result["kernels"]}

    axpy = rows[("kernels.c", "axpy", 33)]
    assert axpy["status"] == "demoted" and "failed the gate" in axpy["reason"] and "PCX305" in axpy["reason"]
    racy = rows[("util.c", "checksum", 14)]
    assert racy["status"] == "demoted" and "failed the gate" in racy["reason"]
    # jacobi's region keeps u on the device without the update the host read needs: the
    # region is dropped, its kernels stay offloaded with their own maps
    jacobi = [row for key, row in rows.items() if key[1] == "jacobi" and row["status"] == "offloaded"]
    assert jacobi and all("data region dropped" in row["reason"] for row in jacobi)
    # bisection named only the culprits: the rest passed
    demoted = sorted(key[1] for key, row in rows.items() if row["status"] == "demoted")
    assert demoted == ["axpy", "checksum"]
    assert rows[("kernels.c", "matmul", 5)]["status"] == "offloaded"

    # the validated plans build a program that is correct on the device
    assert make_with_cache(project).returncode == 0
    ref = (project / ".pcx" / "runs" / result["run_id"] / "baseline" / "run0-reference" / "stdout").read_text()
    run = run_offloaded(project, "96", "2")
    assert (run.returncode, run.stdout) == (0, ref)
    assert "_matmul_l" in run.stderr and "_axpy_l" not in run.stderr and "_checksum_l" not in run.stderr
