"""bench/datamove's minimum is a measurement, so it is tested like one: on examples whose
right answer is known by hand, the probed minimum must come out at that answer."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")


@pytest.fixture(scope="module")
def datamove():
    spec = importlib.util.spec_from_file_location("bench_datamove", ROOT / "bench" / "datamove.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_an_array_the_host_rewrites_between_kernels_comes_in_again(datamove):
    """alias.c: a kernel fills a (n+1 doubles), the host then rewrites a[1..n] (a serial
    recurrence) and fills b, and blend() reads a and b on the device.  A perfect plan moves
    a out once (the host reads it), and a and b in once each: a's second trip is needed."""
    row = datamove.measure(ROOT / "examples" / "c" / "alias.c")
    n = 200000
    assert row.matches_serial
    # Every element of a the host changed, and all of b; the recurrence leaves a few
    # elements at their old value (a fixed point), which need not move.
    assert 0.9 * 2 * n * 8 < row.min_to <= 2 * n * 8
    assert row.min_from == (n + 1) * 8
    moved = row.plan.to_dev + row.plan.from_dev
    assert moved <= 1.10 * (row.min_to + row.min_from)


def test_a_wavefront_moves_its_matrix_in_and_out_once(datamove):
    """nw.c: 580 anti-diagonal kernels on one score matrix that stays on the device; the
    probes must not count the matrix again per kernel."""
    row = datamove.measure(ROOT / "examples" / "c" / "nw.c")
    assert row.matches_serial
    assert row.naive.launches > 500
    assert row.min_to == row.plan.to_dev
    assert row.min_from == row.plan.from_dev
