"""Steps 3 to 5 of pcx tune for one candidate: build it, gate it, profile and time it.

A candidate's plans are written into a scratch plan cache and the project is built with
PCX_MODE=validated PCX_PLAN_CACHE=<scratch> CC=pcx-cc; the build is gated
(``gating.Gate``); a passing one is, when asked, profiled (launches, bytes and device
time: pcx_profile hook, per-kernel attribution, LIBOMPTARGET_PROFILE) and timed.
Evaluations are remembered by candidate: the bisection asks for the same one again.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pcx_driver import plancache
from pcx_driver.config import Config
from pcx_driver.tune.candidate import Candidate, KernelRef
from pcx_driver.tune.gating import Gate, GateRuns, info_only
from pcx_driver.tune.hotspots import Record
from pcx_driver.tune.profiling import PROFILE_ENV, RunProfile, run_profile
from pcx_driver.tune.runs import BuildResult
from pcx_driver.tune.timing import Timing, time_runs

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


@dataclass
class Evaluation:
    """A candidate built, gated and (when asked) profiled and timed."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    launched: set[KernelRef] = field(default_factory=set)
    profile: RunProfile | None = None
    timing: Timing = field(default_factory=Timing)
    build_log: str = ""
    build_failed: bool = False
    plans: dict[str, str] = field(default_factory=dict)  # plan key -> the plan JSON built


class Evaluator:
    """Builds and gates candidates of the project whose compile records are ``records``."""

    def __init__(self, session: TuneSession, gate: Gate, records: dict[str, Record]) -> None:
        self.session = session
        self.gate = gate
        self.records = records
        self._evaluations: dict[str, Evaluation] = {}

    def materialise_cache(self, cand: Candidate, cache: Path) -> dict[str, str]:
        """Write ``cand``'s plans into a fresh scratch cache; returns them as JSON by key."""
        if cache.exists():
            shutil.rmtree(cache)
        cache.mkdir(parents=True)
        config = Config(values={"plan-cache": str(cache)})
        written = {}
        for key, plan in cand.plans().items():
            if plan.offloaded():
                path = plancache.store(self.records[key].unit, plan, {}, config)
                written[key] = json.dumps(json.loads(path.read_text())["decisions"], sort_keys=True)
        return written

    def evaluate(self, cand: Candidate, what: str, profile: bool = False, repeats: bool = False,
                 cache: Path | None = None) -> Evaluation:
        """Build ``cand`` through a plan cache, gate every run, optionally profile and time."""
        s, o = self.session, self.session.options
        memo = json.dumps([cand.describe(), profile, repeats, str(cache)], sort_keys=True, default=str)
        if memo in self._evaluations:
            return self._evaluations[memo]
        label = s.next_label(what)
        plans: dict[str, str] = {}
        if cache is None:
            cache = s.scratch_cache
            plans = self.materialise_cache(cand, cache)
        (s.run_dir / label).mkdir(parents=True, exist_ok=True)
        (s.run_dir / label / "candidate.json").write_text(json.dumps(cand.describe(), indent=1))
        # PCX_MIN_WORK=0: no run-time guard (if(target: WORK >= min-work)), so that every
        # kernel of the candidate runs on the device, where the gate validates it, whatever
        # the run commands' sizes; the cached decisions came from the analysis at the
        # user's min-work (the hotspots build), and the user's builds add the guard again.
        build = s.build(label, {**s.base_env(), "PCX_MODE": "validated", "PCX_PLAN_CACHE": str(cache),
                                "PCX_REMARKS": "1", "PCX_MIN_WORK": "0"})
        ev = Evaluation(False, build_log=str(build.log), plans=plans)
        if not build.ok:
            ev.build_failed = True
            ev.reasons = [f"the build failed; log: {build.log}"]
            self._evaluations[memo] = ev
            return ev
        gate = self.gate.run(build.tree, label)
        if gate.reasons:
            ev.reasons = gate.reasons
            s.ws.discard(build.tree)
            self._evaluations[memo] = ev
            return ev
        ev.passed = True
        ev.launched = self._match_launches(cand, gate.launched)
        ev.profile = gate.profile
        if profile:
            prof = RunProfile()
            for i, spec in enumerate(o.runs):
                trace = s.run_dir / label / f"profile-run{i}.json"
                run = s.ws.run(build.tree, spec, f"{label}/profile-run{i}",
                               env={**PROFILE_ENV, "LIBOMPTARGET_PROFILE": str(trace)}, prefix=o.run_prefix)
                if run.returncode == 0:
                    info = info_only(run)
                    prof.merge(run_profile(s.pm.hook.pcx_profile(run=info, config=s.config), info.stderr, trace))
            ev.profile = prof
        if repeats:
            ev.timing = time_runs(s, build.tree, f"{label}/timing", env={"OMP_TARGET_OFFLOAD": "MANDATORY"})
        s.ws.discard(build.tree)
        self._evaluations[memo] = ev
        return ev

    def gate_edited(self, cand: Candidate, what: str,
                    prepare: Callable[[Path], None]) -> tuple[BuildResult, GateRuns | None]:
        """Build ``cand`` with ``prepare(tree)`` editing the project's copy first (an LLM's
        proposed source), and gate it; no gate runs (None) when the build failed."""
        s = self.session
        self.materialise_cache(cand, s.scratch_cache)
        label = s.next_label(what)
        build = s.build(label, {**s.base_env(), "PCX_MODE": "validated", "PCX_PLAN_CACHE": str(s.scratch_cache)},
                        prepare=prepare)
        if not build.ok:
            return build, None
        gate = self.gate.run(build.tree, label)
        s.ws.discard(build.tree)
        return build, gate

    def _match_launches(self, cand: Candidate, names: list[str]) -> set[KernelRef]:
        from pcx_driver.profile import parse_kernel_name

        seen = {(p.function, p.line) for n in set(names) if (p := parse_kernel_name(n))}
        out: set[KernelRef] = set()
        for ref in cand.kernels:
            k = cand.kernel_plan(ref)
            if k is not None and any(same_kernel(k.function, k.line, f, l) for f, l in seen):
                out.add(ref)
        return out


def same_kernel(planned_function: str, planned_line: int, launched_function: str, launched_line: int) -> bool:
    """Does a launched kernel (function, directive line) belong to a planned nest?

    The directive sits just above the loop (the rewriter gives it the nest's line, or up
    to two lines before it); C++ names arrive mangled.
    """
    same_function = launched_function == planned_function or (
        launched_function.startswith("_Z") and planned_function in launched_function)
    return same_function and planned_line - 2 <= launched_line <= planned_line


def kernel_numbers(ev: Evaluation | None, k) -> Any:
    """What ``ev``'s profile measured of planned kernel ``k`` (None: not measured)."""
    if ev is None or ev.profile is None:
        return None
    for nums in ev.profile.kernels.values():
        if same_kernel(k.function, k.line, nums.function, nums.line):
            return nums
    return None


def kernel_bytes(ev: Evaluation | None, k) -> int | None:
    nums = kernel_numbers(ev, k)
    return nums.bytes_moved if nums is not None else None
