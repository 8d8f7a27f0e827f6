"""pcx tune demotes what it measured slower than the code it replaces (issue 16, item 4).

A kernel whose device time (its launches and copies, from the trace) is above its serial
loop's time (the instrumented build) is demoted with both figures (PCX309); a plan whose
whole program is slower than the serial build is not kept; ``--keep-slower`` keeps both.
The end-to-end case plants, through the stand-in engine of tests/tune_plugins, a tiny
kernel (4 iterations) launched thousands of times: cheap serially, dear on any device.
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
from pcx_driver.model import Decision, KernelPlan, Language, Plan, SourceUnit
from pcx_driver.tune.candidate import Candidate
from pcx_driver.tune.flow import Evaluation, Timing, slower_kernels, whole_program_slower
from pcx_driver.tune.hotspots import NestTiming
from pcx_driver.tune.profiling import KernelNumbers, RunProfile

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
void tiny(int n, double *restrict v)
{
    /* fake-kernel tofrom=v:n */
    for (int i = 0; i < n; i++)
        v[i] = v[i] * 0.5 + 1.0;
}
"""

MAIN = r"""#include <stdio.h>
#include <stdlib.h>

void tiny(int n, double *restrict v);

int main(int argc, char **argv)
{
    int calls = argc > 1 ? atoi(argv[1]) : 3000;
    double v[4] = {1, 2, 3, 4};
    for (int c = 0; c < calls; c++)
        tiny(4, v);
    printf("%.9f %.9f\n", v[0], v[3]);
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


def _tune(project: Path, *extra: str) -> dict:
    r = subprocess.run([PCX, "tune", "--build", "make", "--run", "./app 3000", "--plugin", "pcx_test_tune_fake_engine",
                        "--no-refine", "--repeats", "1", "--gate-repeats", "1", "--min-share", "0", "--json", *extra],
                       cwd=project, env={**os.environ, "PYTHONPATH": PLUGINS}, capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _cached(project: Path) -> dict[str, bool] | None:
    unit = SourceUnit("kern.c", KERN, Language.C, str(project), ["-fopenmp"])
    plan = plancache.lookup(unit, Config.resolve({}, environ={}, cwd=project))
    return None if plan is None else {k.nest_id.split(":")[0]: k.offload for k in plan.kernels}


def test_a_kernel_slower_than_its_loop_is_demoted_with_its_figures(project):
    result = _tune(project)
    (row,) = [r for r in result["kernels"] if r["function"] == "tiny"]
    assert row["status"] == "demoted", row
    assert row["reason"].startswith("slower than the serial loop it replaces: ")
    assert "on the device (3000 launches" in row["reason"] and "serial (3000 entries)" in row["reason"]
    assert row["reason"].endswith("--keep-slower keeps it [PCX309]")
    assert _cached(project) in (None, {"tiny": False})  # builds apply no offload of it


def test_keep_slower_keeps_it(project):
    result = _tune(project, "--keep-slower")
    (row,) = [r for r in result["kernels"] if r["function"] == "tiny"]
    assert row["status"] == "offloaded" and row["launches"] == 3000, row
    assert _cached(project) == {"tiny": True}


# ------------------------------------------------------------------ the rules, on figures


def _candidate(*names: str) -> Candidate:
    from pcx_driver.tune.hotspots import Record

    unit = SourceUnit("k.c", "", Language.C)
    kernels = [KernelPlan(f"{n}:{i + 3}", n, i + 3, 1, 0, 1, Decision.OFFLOADED) for i, n in enumerate(names)]
    rec = Record("k", unit, None, Plan("k.c", kernels))
    return Candidate.from_records({"k": rec}, {("k", k.nest_id) for k in kernels})


def test_slower_kernels_needs_both_a_factor_and_a_margin():
    cand = _candidate("fast", "slow", "close", "tiny")
    prof = RunProfile()
    for name, line, seconds in (("fast", 3, 0.010), ("slow", 4, 0.500), ("close", 5, 0.110), ("tiny", 6, 0.004)):
        prof.kernels[f"__omp_offloading_1_{name}_l{line}"] = KernelNumbers("x", name, line, 10, seconds, 80, 80)
    ev = Evaluation(True, profile=prof)
    timings = {("k", f"{n}:{line}"): NestTiming("k", "k.c", f"{n}:{line}", line, s, 10)
               for n, line, s in (("fast", 3, 0.100), ("slow", 4, 0.100), ("close", 5, 0.100), ("tiny", 6, 0.0001))}
    slow = slower_kernels(cand, timings, ev)
    assert set(slow) == {("k", "slow:4")}  # close: within 25%; tiny: 4 ms more is below the 5 ms margin
    assert slow[("k", "slow:4")] == ("slower than the serial loop it replaces: 500.00 ms on the device (10 launches, "
                                     "160 bytes moved) vs 100.00 ms serial (10 entries); --keep-slower keeps it "
                                     "[PCX309]")


def test_whole_program_slower_than_serial_beyond_the_noise():
    base = Timing([1.00, 1.01, 0.99])
    assert whole_program_slower(base, Timing([0.5, 0.5, 0.5])) is None
    assert whole_program_slower(base, Timing([1.02, 1.02, 1.02])) is None  # within 3%
    why = whole_program_slower(base, Timing([1.5, 1.5, 1.6]))
    assert why is not None and why.startswith("the whole program ran slower offloaded: 1.500 s vs 1.000 s serial")
    assert whole_program_slower(Timing([1.0, 1.4, 0.7]), Timing([1.5, 1.5, 1.5])) is None  # noisy baseline: 30%
    assert whole_program_slower(Timing(), Timing([1.0])) is None
