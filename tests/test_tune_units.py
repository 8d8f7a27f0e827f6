"""pcx tune's pure parts: bisection, candidate restriction, timings, byte attribution."""

from __future__ import annotations

import json

import pytest

from pcx_driver.model import (
    ArrayAccessSummary,
    DataRegion,
    Decision,
    FunctionAnalysis,
    KernelPlan,
    MapClause,
    MapKind,
    NestAnalysis,
    Plan,
    Section,
    SourceUnit,
    TargetUpdate,
    UnitAnalysis,
)
from pcx_driver.tune.candidate import Candidate, Item, bisect_culprit, own_maps
from pcx_driver.tune.flow import Timing, _same_kernel
from pcx_driver.tune.hotspots import Record, rank_hotspots, read_timings
from pcx_driver.tune.profiling import attribute_bytes, kernel_seconds


@pytest.mark.parametrize("bad", range(6))
def test_bisection_finds_the_first_failing_item_in_log_steps(bad):
    items = [Item("kernel", "k", i, str(i)) for i in range(6)]
    calls = []

    def passes(prefix):
        calls.append(len(prefix))
        return all(i.ident != bad for i in prefix)

    assert bisect_culprit(items, passes).ident == bad
    assert len(calls) <= 3


def test_bisection_finds_an_interaction_at_the_item_that_completes_it():
    items = [Item("kernel", "k", i, str(i)) for i in range(5)]
    # fails only when both 1 and 3 are on: 3 completes the failure
    assert bisect_culprit(items, lambda p: not {1, 3} <= {i.ident for i in p}).ident == 3


def arr(name, read, written, fully=False):
    return ArrayAccessSummary(name, "double", read, written, Section(name, [("0", "n")]), written_fully=fully)


def test_own_maps_follow_reads_and_writes():
    nest = NestAnalysis("f:1", "f", 1, 1, 0, 1, 1, Decision.OFFLOADED,
                        arrays=[arr("x", True, False), arr("y", False, True, True), arr("z", True, True)])
    maps = {m.kind: [s.base for s in m.sections] for m in own_maps(nest)}
    assert maps == {MapKind.TO: ["x"], MapKind.FROM: ["y"], MapKind.TOFROM: ["z"]}


def two_kernel_record():
    text = "void f(int n, double *x, double *y) {\n  for (;;) {}\n  for (;;) {}\n}\n"
    unit = SourceUnit("f.c", text)
    s1, s2 = text.index("for"), text.rindex("for")
    nests = [NestAnalysis("f:2", "f", 2, 3, s1, s1 + 11, 1, Decision.OFFLOADED, arrays=[arr("x", True, True)]),
             NestAnalysis("f:3", "f", 3, 3, s2, s2 + 11, 1, Decision.OFFLOADED, arrays=[arr("y", False, True, True)])]
    analysis = UnitAnalysis("f.c", unit.language, [FunctionAnalysis("f", 0, len(text), nests)])
    kernels = [KernelPlan(n.nest_id, "f", n.line, 3, n.start_byte, n.end_byte, Decision.OFFLOADED) for n in nests]
    region = DataRegion("f", s1, s2 + 11, 2, [MapClause(MapKind.TOFROM, [Section("x", [("0", "n")])])],
                        [TargetUpdate(s2, 3, "from", [Section("x", [("0", "n")])])], kernels=["f:2", "f:3"])
    plan = Plan("f.c", kernels, [region])
    return {"K": Record("K", unit, analysis, plan)}


def test_switching_a_kernel_off_drops_its_region_and_the_others_map_their_own_data():
    records = two_kernel_record()
    cand = Candidate.from_records(records)
    assert [i.kind for i in cand.items()] == ["kernel", "kernel", "region"]
    plan = cand.materialise("K")
    assert len(plan.regions) == 1 and all(not k.maps for k in plan.kernels)  # the region maps

    off = cand.without(Item("kernel", "K", "f:2", "f.c:2 f"), "failed the gate: wrong [PCX301]")
    plan = off.materialise("K")
    assert plan.regions == []
    k2, k3 = plan.kernels
    assert k2.decision is Decision.SERIAL and any(r.id == "PCX305" and "wrong" in r.message for r in k2.remarks)
    assert k3.decision is Decision.OFFLOADED and [m.kind for m in k3.maps] == [MapKind.FROM]
    # the recorded plan itself is never edited
    assert records["K"].plan.kernels[0].decision is Decision.OFFLOADED and records["K"].plan.regions


def test_a_prefix_that_stops_before_the_region_builds_without_it_and_knobs_apply():
    cand = Candidate.from_records(two_kernel_record())
    kernels_only = cand.restricted(cand.items()[:2])
    assert kernels_only.materialise("K").regions == []
    tuned = cand.with_knobs(("K", "f:3"), num_teams=128, simd=True)
    k3 = tuned.materialise("K").kernels[1]
    assert (k3.num_teams, k3.simd) == (128, True)
    assert cand.materialise("K").kernels[1].num_teams is None


def test_timings_are_summed_per_nest_and_a_torn_line_is_skipped(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    row = {"key": "K", "unit": "f.c", "nest": "f:2", "line": 2, "seconds": 0.5, "entries": 2}
    a.write_text(json.dumps(row) + "\n" + json.dumps({**row, "nest": "f:3", "seconds": 0.1}) + "\n")
    b.write_text(json.dumps(row) + '\n{"key": "K", "nest": "f:3", "sec')
    t = read_timings([a, b, tmp_path / "missing.jsonl"])
    assert t[("K", "f:2")].seconds == 1.0 and t[("K", "f:2")].entries == 4
    assert t[("K", "f:2")].per_run == [0.5, 0.5, 0.0]
    hot = rank_hotspots(two_kernel_record(), t, total_seconds=2.0)
    assert [(h.nest_id, h.share, h.decision) for h in hot] == [("f:2", 0.5, "offloaded"), ("f:3", 0.05, "offloaded")]


INFO = """\
omptarget device 0 info: Copying data from host to device, HstPtr=0x1, TgtPtr=0x2, Size=800, Name=a[0:n]
"PluginInterface" device 0 info: Launching kernel __omp_offloading_fe00_1_f_l2 with 1 blocks and 1 threads
"PluginInterface" device 0 info: Launching kernel __omp_offloading_fe00_1_f_l3 with 1 blocks and 1 threads
omptarget device 0 info: Copying data from device to host, TgtPtr=0x2, HstPtr=0x1, Size=80, Name=a[0:n]
omptarget device 0 info: Copying data from host to device, HstPtr=0x1, TgtPtr=0x2, Size=8, Name=b[0:1]
"PluginInterface" device 0 info: Launching kernel __omp_offloading_fe00_1_f_l2 with 1 blocks and 1 threads
omptarget device 0 info: Copying data from device to host, TgtPtr=0x2, HstPtr=0x1, Size=800, Name=a[0:n]
"""


def test_copies_are_charged_to_the_launch_they_serve():
    assert attribute_bytes(INFO) == {
        "__omp_offloading_fe00_1_f_l2": (808, 800),
        "__omp_offloading_fe00_1_f_l3": (0, 80),
    }


def test_trace_times_are_matched_to_launches_in_order(tmp_path):
    trace = tmp_path / "t.json"
    ev = lambda ts, dur: {"name": "Runtime: target exe", "ts": ts, "dur": dur,
                          "args": {"detail": ";unknown;unknown;0;0;;"}}
    trace.write_text(json.dumps({"traceEvents": [ev(30, 1000), ev(10, 2000), ev(20, 500),
                                                 {"name": "Kernel Target", "ts": 1, "dur": 9}]}))
    names = ["k_l2", "k_l3", "k_l2"]
    assert kernel_seconds(trace, names) == {"k_l2": 0.003, "k_l3": 0.0005}
    assert kernel_seconds(tmp_path / "missing.json", names) == {}


def test_timing_median_and_noise():
    t = Timing([1.0, 1.2, 0.9, 1.0, 5.0])
    assert t.median == 1.0
    assert t.noise == pytest.approx(0.1)
    assert Timing([2.0]).noise == 0.0


@pytest.mark.parametrize(
    "launched, planned, same",
    [(("main", 12), ("main", 12), True), (("main", 11), ("main", 12), True), (("main", 13), ("main", 12), False),
     (("_Z4stepPdi", 7), ("step", 7), True), (("other", 12), ("main", 12), False)],
)
def test_launched_kernels_are_matched_to_planned_nests(launched, planned, same):
    assert _same_kernel(planned[0], planned[1], launched[0], launched[1]) is same


def test_the_gate_uses_the_tune_tolerances_and_a_users_compare_still_wins(tmp_path, monkeypatch):
    from pcx_driver.model import GateVerdict, RunOutput
    from pcx_driver.tune.flow import TuneOptions, Tuner

    ref = RunOutput(["./a"], 0, "x = 1.000000\n", "", 0.1)
    near = RunOutput(["./a"], 0, "x = 1.000100\n", "", 0.1)
    loose = Tuner._plugin_manager(TuneOptions(tmp_path, ("make",), [], rtol=1e-3))
    strict = Tuner._plugin_manager(TuneOptions(tmp_path, ("make",), [], rtol=1e-6))
    assert loose.hook.pcx_compare(reference=ref, candidate=near, config=None).passed
    assert not strict.hook.pcx_compare(reference=ref, candidate=near, config=None).passed

    import types

    from pcx_driver import hookimpl

    mod = types.ModuleType("pcx_test_tune_always_fails")
    mod.pcx_compare = hookimpl(lambda reference, candidate, config: GateVerdict(False, ["user says no"]))
    monkeypatch.setitem(__import__("sys").modules, mod.__name__, mod)
    pm = Tuner._plugin_manager(TuneOptions(tmp_path, ("make",), [], rtol=1e-3, plugins=(mod.__name__,)))
    assert pm.hook.pcx_compare(reference=ref, candidate=ref, config=None).reasons == ["user says no"]
