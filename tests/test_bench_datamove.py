"""bench/datamove's minimum is a measurement, so it is tested like one: on examples whose
right answer is known by hand, the probed minimum must come out at that answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import bench_module

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")


@pytest.fixture(scope="module")
def datamove():
    return bench_module("datamove")


def test_an_array_the_host_rewrites_between_kernels_comes_in_again(datamove):
    """alias.c: a kernel fills a (n+1 doubles); smooth_into(b, a) runs on the device (its
    pointers are compared at run time: disjoint), smooth_into(a + 1, a) as written on the
    host (they overlap: a recurrence); blend() reads a and b on the device.  The versioned
    kernel maps its own data (no region may hold it: its host version reads the host
    copies), so the plan moves a and b more often than the minimum, which counts what
    must move: a out once for the host's recurrence, a and b in again for blend."""
    row = datamove.measure(ROOT / "examples" / "c" / "alias.c")
    n = 200000
    assert row.matches_serial
    assert row.plan.launches == 4  # a's fill, smooth_into's first call, blend, the sums
    # Every element of a the host changed, and all of b; the recurrence leaves a few
    # elements at their old value (a fixed point), which need not move.
    assert 0.8 * n * 8 < row.min_to <= 2 * n * 8
    assert row.min_from == (n + 1) * 8
    # smooth_into's own maps: a in, b out; blend's: a and b in again
    assert row.plan.to_dev <= 4 * n * 8 and row.plan.from_dev <= 2 * (n + 1) * 8


def test_a_wavefront_moves_its_matrix_in_and_out_once(datamove):
    """nw.c: 580 anti-diagonal kernels on one score matrix that stays on the device; the
    probes must not count the matrix again per kernel."""
    row = datamove.measure(ROOT / "examples" / "c" / "nw.c")
    assert row.matches_serial
    assert row.naive.launches > 500
    assert row.min_to == row.plan.to_dev
    assert row.min_from == row.plan.from_dev
