"""pcx tune's orchestration on a small project, with a stand-in analysis (no engine needed).

The builds, the offloaded runs on the host device and the gate are real; only the
analysis comes from ``tests/tune_plugins/pcx_test_tune_fake_engine.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver import plancache
from pcx_driver.config import Config
from pcx_driver.model import Language, SourceUnit

HERE = Path(__file__).parent
PCX = str(Path(sys.executable).parent / "pcx")
PLUGINS = str(HERE / "tune_plugins")

MAKEFILE = """\
CC ?= cc
CFLAGS ?= -O2
app: main.o kern.o
\t$(CC) $(CFLAGS) -o $@ main.o kern.o -lm
%.o: %.c
\t$(CC) $(CFLAGS) -c $< -o $@
"""

KERN = """\
void scale(int n, double *restrict y, const double *restrict x)
{
    /* fake-kernel to=x:n from=y:n */
    for (int i = 0; i < n; i++)
        y[i] = 3.0 * x[i] + 1.0;
}

void shift(int n, double *restrict z, const double *restrict y)
{
    /* fake-kernel to=y:n tofrom=z:n */
    for (int i = 0; i < n; i++)
        z[i] = z[i] + 0.5 * y[i];
}
"""

MAIN = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void scale(int n, double *restrict y, const double *restrict x);
void shift(int n, double *restrict z, const double *restrict y);

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "crash") == 0) abort();
    if (argc > 1 && strcmp(argv[1], "hang") == 0) { sleep(30); return 0; }
    if (argc > 1 && strcmp(argv[1], "clock") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        printf("started at %ld.%09ld by process %d\n", (long)ts.tv_sec, ts.tv_nsec, (int)getpid());
    }
    int n = argc > 2 ? atoi(argv[2]) : 200000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = calloc(n, sizeof *z);
    for (int i = 0; i < n; i++)
        x[i] = (i % 17) * 0.25;
    for (int r = 0; r < 5; r++) {
        scale(n, y, x);
        shift(n, z, y);
    }
    double s = 0;
    for (int i = 0; i < n; i++)
        s += z[i] * (i % 7);
    printf("checksum %.9e\n", s);
    FILE *f = fopen("out.txt", "w");
    fprintf(f, "z[1] = %.6f\n", z[1]);
    fclose(f);
    return 0;
}
"""


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "proj"
    p.mkdir()
    (p / "Makefile").write_text(MAKEFILE)
    (p / "kern.c").write_text(KERN)
    (p / "main.c").write_text(MAIN)
    return p


def pcx(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 170) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": PLUGINS, **(env or {})}
    return subprocess.run([PCX, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout)


FAKE = ("--plugin", "pcx_test_tune_fake_engine")


def test_planted_wrong_map_is_caught_bisected_and_demoted_and_the_good_kernel_is_cached(project, tmp_path):
    prefix_log = tmp_path / "prefix.log"
    prefix = tmp_path / "launcher"
    prefix.write_text(f'#!/bin/sh\necho "$@" >> {prefix_log}\nexec "$@"\n')
    prefix.chmod(0o755)
    # a wrong kernel body (the plan checker would refuse a wrong map before the gate sees it)
    r = pcx("tune", "--build", "make", "--run", "./app run 200000", "--output", "out.txt", *FAKE,
            "--plugin", "pcx_test_tune_wrong_kernel", "--no-refine", "--repeats", "1", "--json", "--keep-slower",
            "--run-prefix", str(prefix), cwd=project,
            env={"PCX_TEST_WRONG_KERNEL": "z[i] + 0.5 * y[i]=>z[i] + 0.625 * y[i]"})
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    rows = {row["function"]: row for row in result["kernels"]}
    assert rows["scale"]["status"] == "offloaded", rows
    assert rows["shift"]["status"] == "demoted"
    assert "failed the gate" in rows["shift"]["reason"] and "PCX301" in rows["shift"]["reason"]
    assert rows["scale"]["launches"] == 5
    assert rows["scale"]["bytes_after"] > 0
    assert [h["function"] for h in result["hotspots"]][:1] in (["main"], ["scale"], ["shift"])
    # the gate and the profiler ran through the launcher
    launched = prefix_log.read_text()
    assert "./app run 200000" in launched
    # the cache holds the validated plan: scale offloaded, shift serial with the reason
    # (keyed with -fopenmp: a build that can rewrite compiles every file with OpenMP)
    unit = SourceUnit("kern.c", KERN, Language.C, str(project), ["-fopenmp"])
    plan = plancache.lookup(unit, Config.resolve({}, environ={}, cwd=project))
    assert plan is not None and plan.origin == "validated"
    decisions = {k.nest_id.split(":")[0]: k.offload for k in plan.kernels}
    assert decisions == {"scale": True, "shift": False}
    assert any(k.reason for k in plan.kernels if not k.offload)
    run_dir = Path(result["run_dir"])
    assert (run_dir / "baseline" / "run0-reference" / "stdout").read_text().startswith("checksum")
    assert not any(p.name == "tree" for p in run_dir.rglob("tree"))  # build copies are cleaned up

    # a plain build applies the cached plan without the (fake) analysis and stays correct
    env = {**os.environ, "CC": str(Path(sys.executable).parent / "pcx-cc"), "PCX_REMARKS": "1"}
    env.pop("PCX_PLUGIN", None)
    b = subprocess.run(["make"], cwd=project, env=env, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    assert "[PCX008]" in b.stderr and "kern.c" in b.stderr
    run = subprocess.run(["./app", "run", "200000"], cwd=project, capture_output=True, text=True,
                         env={**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"})
    ref = (run_dir / "baseline" / "run0-reference" / "stdout").read_text()
    assert run.stdout == ref
    assert "_scale_l" in run.stderr and "_shift_l" not in run.stderr

    rep = pcx("report", "--json", "--plot", str(tmp_path / "k.png"), cwd=project)
    assert rep.returncode == 0, rep.stderr
    assert {k["function"] for k in json.loads(rep.stdout)["kernels"]} >= {"scale", "shift"}
    assert (tmp_path / "k.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "run, expect",
    [
        ("./app crash", "baseline run `./app crash` was killed by SIGABRT"),
        ("./app hang", "timed out"),
        ("./app clock", "not deterministic"),
        ("./nonexistent", "exited with status 127"),
    ],
)
def test_baseline_problems_give_one_clear_message(project, run, expect):
    r = pcx("tune", "--build", "make", "--run", run, "--timeout", "2", "--repeats", "1", cwd=project)
    assert r.returncode == 1
    assert expect in " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr


def test_failing_baseline_build_is_reported_with_its_log(project):
    (project / "kern.c").write_text(KERN + "syntax error here\n")
    r = pcx("tune", "--build", "make", "--run", "./app", cwd=project)
    assert r.returncode == 1
    text = " ".join(r.stderr.split())
    assert "baseline (serial) build failed" in text and "build.log" in text and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args, expect",
    [
        ((), "Missing option '--run'"),
        (("--run", "./app 'unbalanced"), "cannot split --run"),
        (("--run", "./app", "--output", "/etc/passwd"), "inside the project"),
        (("--run", "./app", "--timeout", "0"), "--timeout"),
        (("--run", "./app", "--plugin", "no_such_pcx_plugin"), "plugin no_such_pcx_plugin failed to load"),
    ],
)
def test_usage_errors_exit_2(project, args, expect):
    r = pcx("tune", "--build", "make", *args, cwd=project)
    assert r.returncode == 2, r.stderr
    assert expect in r.stderr and "Traceback" not in r.stderr


def test_report_without_a_cache_says_so(project):
    r = pcx("report", cwd=project)
    assert r.returncode == 1 and "no plan cache" in r.stderr


def test_llm_without_the_plugin_is_a_usage_error(project, monkeypatch):
    from click.testing import CliRunner

    from pcx_driver.commands import tune as tune_command

    monkeypatch.setattr(tune_command, "_plugin_options", lambda plugins: set())
    r = CliRunner().invoke(tune_command.tune, ["-C", str(project), "--build", "make", "--run", "./app", "--llm"])
    assert r.exit_code == 2
    assert "--llm needs the LLM plugin" in r.output


def test_llm_proposals_for_a_refused_hot_nest_are_gated_with_feedback(project):
    r = pcx("tune", "--build", "make", "--run", "./app run 200000", *FAKE, "--plugin", "pcx_test_tune_proposer",
            "--llm", "--llm-max-attempts", "2", "--no-refine", "--repeats", "1", "--min-share", "0.001", "--json",
            cwd=project)
    assert r.returncode == 0, r.stderr
    proposals = {p["nest_id"]: p for p in json.loads(r.stdout)["proposals"]}
    checksum = proposals["main:28"]
    assert checksum["attempts"] == 2  # the map(alloc:) proposal failed the gate, the fixed one passed
    assert "PCX501" in checksum["remarks"][0]
    assert checksum["accepted"] and Path(checksum["source"]).read_text().count("#pragma omp target") == 1
