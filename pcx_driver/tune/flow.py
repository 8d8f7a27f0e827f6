"""The pcx tune orchestration: baseline, hotspots, gate + bisect, profile, refine, save.

    1 baseline   build with pcx-cc in off mode (the real compiler), run every command
                 twice: the first run is the reference, the second proves the output is
                 deterministic once the lines the gate leaves out are gone (``--ignore``
                 patterns and timings, ``gate.learn_filter``); then time it (``repeats``
                 runs, medians).
    2 hotspots   build with per-nest timers and compile records (PCX_INSTRUMENT=1,
                 PCX_RECORD, static mode), run, rank the nests by measured time.
    3 candidate  the recorded plans' kernels whose nests take at least ``min_share`` of the
                 run time; written into a scratch plan cache and built with
                 PCX_MODE=validated PCX_PLAN_CACHE=<scratch> CC=pcx-cc.
    4 gate       every run under gate.GATE_ENV (through ``--run-prefix``; libomptarget
                 silent), filtered like the reference and compared with it (stdout,
                 stderr, ``--output`` files) by the pcx_compare hook; then one more run of
                 each command under gate.VALIDATION_ENV (INFO=51), never compared, counts
                 launches and bytes and finds unmapped pointers.  On failure: bisect over the
                 kernels and regions (hottest first), switch the culprit off (a kernel runs
                 serially, a region is dropped so its kernels map their own data), gate
                 again.  A kernel that passes but never launched is switched off too.
    5 profile    launches, bytes (pcx_profile hook + per-kernel attribution) and device
                 time (LIBOMPTARGET_PROFILE) of the passing candidate.
    6 refine     knob variants of the hottest kernels (collapse, simd, thread_limit,
                 num_teams, dropping a data region), each gated and timed; kept only when
                 its median beats the best by more than the measured noise.  ``budget``
                 bounds the number of variants built.
    6b demote    a kernel measured slower on the device (its launches and copies, from
                 the trace) than its serial loop (the instrumented build) is demoted, with
                 both figures (PCX309); then, if the whole program still runs slower than
                 the serial build, no kernel is kept.  ``keep_slower`` skips this step
                 (for a user whose GPU differs from the machine of the tune).
    7 save       each source's final plan into the project's plan cache (origin
                 "validated", with its measurements), checked to be exactly the plans
                 the gate passed.

Every step leaves its logs and outputs in ``.pcx/runs/<id>/``.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcx_driver import hookimpl, plancache
from pcx_driver.config import Config
from pcx_driver.model import Decision, GateVerdict, RunOutput, to_jsonable
from pcx_driver.tune.candidate import Candidate, Item, KernelRef, bisect_culprit
from pcx_driver.tune.hotspots import Hotspot, NestTiming, Record, load_records, rank_hotspots, read_timings
from pcx_driver.tune.profiling import PROFILE_ENV, RunProfile, run_profile
from pcx_driver.tune.runs import (
    RunSpec,
    TuneError,
    UsageError,
    Workspace,
    describe_run,
    last_lines,
    pcx_compilers,
)


@dataclass
class TuneOptions:
    project: Path
    build: tuple[str, ...]
    runs: list[RunSpec]
    outputs: tuple[str, ...] = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    timeout: float = 120.0
    budget: int = 6
    run_prefix: tuple[str, ...] = ()
    repeats: int = 3
    min_share: float = 0.01
    plugins: tuple[str, ...] = ()
    keep_trees: bool = False
    refine: bool = True
    gate_repeats: int = 2  # gate runs per command, with 2, 3, ... threads (races need overlap)
    ignore: tuple[str, ...] = ()  # --ignore regular expressions (pcx.toml ``ignore`` adds to them)
    ignore_timings: bool = True  # mask timings in the compared output (gate.timing_positions)
    keep_slower: bool = False  # keep kernels (and plans) measured slower than the serial code
    config_values: dict[str, Any] = field(default_factory=dict)  # e.g. the LLM settings


# ------------------------------------------------------------------------- results


@dataclass
class KernelRow:
    """One line of the final table."""

    path: str
    nest_id: str
    function: str
    line: int
    status: str  # offloaded, demoted, kept serial, cold, not run
    reason: str = ""
    baseline_seconds: float | None = None  # the nest, serial (instrumented build)
    offloaded_seconds: float | None = None  # the kernel on the device (trace)
    bytes_before: int | None = None  # first passing plan
    bytes_after: int | None = None  # final plan
    launches: int | None = None
    knobs: dict[str, Any] = field(default_factory=dict)
    key: str = ""

    @property
    def speedup(self) -> float | None:
        if self.baseline_seconds and self.offloaded_seconds:
            return self.baseline_seconds / self.offloaded_seconds
        return None


@dataclass
class Timing:
    """Several timed repetitions of all run commands (seconds per repetition)."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0

    @property
    def noise(self) -> float:
        """Relative spread: median absolute deviation over the median."""
        if len(self.samples) < 2 or self.median <= 0:
            return 0.0
        m = self.median
        return statistics.median(abs(s - m) for s in self.samples) / m


@dataclass
class TuneResult:
    run_id: str
    run_dir: str
    status: str  # "ok", "failed"
    message: str = ""
    kernels: list[KernelRow] = field(default_factory=list)
    hotspots: list[Hotspot] = field(default_factory=list)
    baseline: Timing = field(default_factory=Timing)
    offloaded: Timing = field(default_factory=Timing)
    variants: list[dict[str, Any]] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)
    builds: int = 0
    ignored: list[str] = field(default_factory=list)  # what the gate does not compare, and why
    proposals: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = to_jsonable(self)
        for row, k in zip(data["kernels"], self.kernels):
            row["speedup"] = k.speedup
        for name in ("baseline", "offloaded"):
            t: Timing = getattr(self, name)
            data[name] = {"samples": t.samples, "median": t.median, "noise": t.noise}
        data["speedup"] = (self.baseline.median / self.offloaded.median) if self.offloaded.median else None
        return data


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


@dataclass
class GateRuns:
    """The gate runs of one build: why it fails ([] when it passes), the kernels its info
    runs launched, their launches and bytes, and the first compared runs' seconds."""

    reasons: list[str] = field(default_factory=list)
    launched: list[str] = field(default_factory=list)
    profile: RunProfile = field(default_factory=RunProfile)
    seconds: float = 0.0


class Progress:
    """What the tuner tells the person watching (the CLI gives a rich implementation)."""

    def step(self, title: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def note(self, message: str) -> None: ...
    def done(self) -> None: ...


# ------------------------------------------------------------------------- the tuner


class Tuner:
    def __init__(self, options: TuneOptions, progress: Progress | None = None) -> None:
        self.o = options
        self.progress = progress or Progress()
        self.project = options.project.resolve()
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.run_id = f"{stamp}-{secrets.token_hex(2)}"
        self.run_dir = self.project / ".pcx" / "runs" / self.run_id
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.ws = Workspace(self.project, self.run_dir, options.build, options.outputs, options.timeout,
                            keep_trees=options.keep_trees)
        self.pm = self._plugin_manager(options)
        specs = tuple(s for specs in self.pm.hook.pcx_add_options() if specs for s in specs)
        self.config = Config.resolve({}, environ=os.environ, cwd=self.project, extra_specs=specs)
        for line in self.config.warnings():  # e.g. llm-base-url from an untrusted pcx.toml
            self.progress.note(f"warning: {line}")
        self.config.values.update({"rtol": options.rtol, "atol": options.atol})
        self.config.values.update(options.config_values)
        self.cc, self.cxx = pcx_compilers()
        self.scratch_cache = self.run_dir / "candidate-cache"
        self.result = TuneResult(self.run_id, str(self.run_dir), "failed")
        self.references: list[RunOutput] = []
        self.filters: list[Any] = []  # gate.OutputFilter per run command (from the baseline)
        self.ignore_patterns = tuple(dict.fromkeys([*(self.config.get("ignore") or ()), *options.ignore]))
        self.records: dict[str, Record] = {}
        self.timings: dict[tuple[str, str], NestTiming] = {}
        self._evaluations: dict[str, Evaluation] = {}
        self._counter = 0

    @staticmethod
    def _plugin_manager(options: TuneOptions) -> Any:
        """Defaults and entry points, then this tune's tolerances, then --plugin modules.

        pluggy asks the last registered first: a user's pcx_compare still wins, and ours
        answers before the default validator (which does not know --rtol/--atol).
        """
        import importlib

        from pcx_driver.plugins import make_plugin_manager

        pm, errors = make_plugin_manager(())
        for e in errors:
            raise TuneError(f"plugin {e.name} failed to load: {e.message}")
        pm.register(_Tolerances(options.rtol, options.atol), name="pcx-tune-tolerances")
        for name in _plugin_names(options):
            if pm.has_plugin(name):
                continue
            try:
                pm.register(importlib.import_module(name), name=name)
            except Exception as exc:  # a user's plugin: report it, never a traceback
                raise UsageError(f"plugin {name} failed to load: {type(exc).__name__}: {exc}") from None
        return pm

    # ------------------------------------------------------------ environment

    def _base_env(self) -> dict[str, str]:
        # settings a user's shell may carry that would change what a step builds
        env = {"CC": self.cc, "CXX": self.cxx, "PCX_INSTRUMENT": "0", "PCX_RECORD": "", "PCX_STRICT": "0",
               "PCX_TRUST_PRAGMAS": "0"}
        names = _plugin_names(self.o)
        if names:
            env["PCX_PLUGIN"] = ",".join(names)  # the builds load what the gate loads
        return env

    def _label(self, what: str) -> str:
        self._counter += 1
        return f"{self._counter:02d}-{what}"

    # ------------------------------------------------------------ step 1: baseline

    def baseline(self) -> None:
        self.progress.step("baseline: serial build and reference runs", total=len(self.o.runs) * (2 + self.o.repeats))
        build = self.ws.build("baseline", {**self._base_env(), "PCX_MODE": "off"})
        self.result.builds += 1
        if not build.ok:
            raise TuneError(
                f"the baseline (serial) build failed: `{' '.join(self.o.build)}` "
                f"{'timed out' if build.returncode is None else f'exited with status {build.returncode}'}; "
                f"log: {build.log}\n{last_lines(build.tail(), 8)}"
            )
        from pcx_driver.gate import learn_filter

        for i, spec in enumerate(self.o.runs):
            first = self.ws.run(build.tree, spec, f"baseline/run{i}-reference", env=QUIET_ENV,
                                prefix=self.o.run_prefix)
            self.progress.advance()
            if first.returncode != 0:
                raise TuneError(
                    f"the baseline run `{spec.text}` {describe_run(first)} (--timeout {self.o.timeout:g}); "
                    f"pcx tune needs run commands that succeed with the serial program; "
                    f"output in {self.run_dir / 'baseline' / f'run{i}-reference'}\n{last_lines(first.stderr)}"
                )
            second = self.ws.run(build.tree, spec, f"baseline/run{i}-again", env=QUIET_ENV,
                                 prefix=self.o.run_prefix)
            self.progress.advance()
            try:
                filt, ignored = learn_filter(first, second, self.ignore_patterns, self.o.ignore_timings,
                                             self.o.rtol, self.o.atol)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            self.filters.append(filt)
            verdict = self.compare(first, second, i)
            if not verdict.passed:
                raise TuneError(
                    f"the serial program's output is not deterministic: two runs of `{spec.text}` differ "
                    f"({verdict.reasons[0] if verdict.reasons else 'differs'}). pcx tune checks offloaded "
                    f"output against it: leave such lines out with --ignore REGEX (timings are left out "
                    f"already), or widen --rtol/--atol for numbers"
                )
            self.references.append(first)
            for line in ignored:
                text = f"`{spec.text}` {line.describe()}"
                self.result.ignored.append(text)
                self.progress.note(f"not compared: {text}")
        self.result.baseline = self.time_runs(build.tree, "baseline/timing", advance=True)
        self.ws.discard(build.tree)
        self.progress.note(f"baseline: {len(self.o.runs)} run(s), median {self.result.baseline.median:.3f} s "
                           f"(noise {100 * self.result.baseline.noise:.1f}%)")

    def compare(self, reference: RunOutput, candidate: RunOutput, index: int) -> GateVerdict:
        """Compare two runs of run command ``index`` through the pcx_compare hook, after
        leaving out what the gate does not compare (``self.filters[index]``)."""
        if index < len(self.filters):
            reference, candidate = self.filters[index].apply(reference), self.filters[index].apply(candidate)
        verdict = self.pm.hook.pcx_compare(reference=reference, candidate=candidate, config=self.config)
        if verdict is None:
            from pcx_driver.gate import compare_runs

            verdict = compare_runs(reference, candidate, self.o.rtol, self.o.atol, stderr=True)
        return verdict

    def time_runs(self, tree: Path, label: str, env: dict[str, str] | None = None, advance: bool = False) -> Timing:
        timing = Timing()
        for r in range(self.o.repeats):
            total = 0.0
            for i, spec in enumerate(self.o.runs):
                run = self.ws.run(tree, spec, f"{label}/rep{r}-run{i}", env={**QUIET_ENV, **(env or {})},
                                  prefix=self.o.run_prefix)
                total += run.seconds
                if advance:
                    self.progress.advance()
            timing.samples.append(total)
        return timing

    # ------------------------------------------------------------ step 2: hotspots

    def hotspots(self) -> list[Hotspot]:
        self.progress.step("hotspots: instrumented build and timed runs", total=len(self.o.runs))
        records_dir = self.run_dir / "records"
        # PCX_TRUST_PRAGMAS: a loop under the user's 'parallel for' that the analysis cannot
        # test is a candidate on the pragma's word (PCX129); the gate checks it like any other
        env = {**self._base_env(), "PCX_MODE": "static", "PCX_INSTRUMENT": "1", "PCX_RECORD": str(records_dir),
               "PCX_TRUST_PRAGMAS": "1",
               "PCX_PLAN_CACHE": str(self.run_dir / "empty-cache")}
        build = self.ws.build("hotspots", env)
        self.result.builds += 1
        if not build.ok:
            raise TuneError(f"the instrumented build failed; log: {build.log}\n{last_lines(build.tail(), 8)}")
        files = []
        total = 0.0
        for i, spec in enumerate(self.o.runs):
            timing = self.run_dir / "hotspots" / f"timing-run{i}.jsonl"
            run = self.ws.run(build.tree, spec, f"hotspots/run{i}", env={"PCX_TIMING_FILE": str(timing)})
            self.progress.advance()
            if run.returncode != 0:
                raise TuneError(f"the instrumented program failed: `{spec.text}` {describe_run(run)}; "
                                f"output in {self.run_dir / 'hotspots' / f'run{i}'}")
            files.append(timing)
            total += run.seconds
        self.ws.discard(build.tree)
        self.records, problems = load_records(records_dir)
        for rec in self.records.values():
            _relative_to_tree(rec.unit, build.tree)
        for p in problems:
            self.progress.note(f"warning: {p}")
        if not self.records:
            raise TuneError(
                "no source was compiled through pcx-cc: the build must use $(CC)/$(CXX) from the "
                f"environment (CC={self.cc}); log: {build.log}"
            )
        self.timings = read_timings(files)
        hot = rank_hotspots(self.records, self.timings, total)
        self.measured_seconds = total
        self.result.hotspots = hot
        for h in hot[:5]:
            self.progress.note(f"hotspot {h.path}:{h.line} {h.function}: {h.seconds:.3f} s "
                               f"({100 * h.share:.0f}%), {h.decision}")
        return hot

    # ------------------------------------------------------------ steps 3-4: build and gate

    def _materialise_cache(self, cand: Candidate, cache: Path) -> dict[str, str]:
        """Write ``cand``'s plans into a fresh scratch cache; returns them as JSON by key."""
        import shutil

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
        memo = json.dumps([cand.describe(), profile, repeats, str(cache)], sort_keys=True, default=str)
        if memo in self._evaluations:
            return self._evaluations[memo]
        label = self._label(what)
        plans: dict[str, str] = {}
        if cache is None:
            cache = self.scratch_cache
            plans = self._materialise_cache(cand, cache)
        (self.run_dir / label).mkdir(parents=True, exist_ok=True)
        (self.run_dir / label / "candidate.json").write_text(json.dumps(cand.describe(), indent=1))
        # PCX_MIN_WORK=0: no run-time guard (if(target: WORK >= min-work)), so that every
        # kernel of the candidate runs on the device, where the gate validates it, whatever
        # the run commands' sizes; the cached decisions came from the analysis at the
        # user's min-work (the hotspots build), and the user's builds add the guard again.
        build = self.ws.build(label, {**self._base_env(), "PCX_MODE": "validated", "PCX_PLAN_CACHE": str(cache),
                                      "PCX_REMARKS": "1", "PCX_MIN_WORK": "0"})
        self.result.builds += 1
        ev = Evaluation(False, build_log=str(build.log), plans=plans)
        if not build.ok:
            ev.build_failed = True
            ev.reasons = [f"the build failed; log: {build.log}"]
            self._evaluations[memo] = ev
            return ev
        gate = self.gate_runs(build.tree, label)
        if gate.reasons:
            ev.reasons = gate.reasons
            self.ws.discard(build.tree)
            self._evaluations[memo] = ev
            return ev
        ev.passed = True
        ev.launched = self._match_launches(cand, gate.launched)
        ev.profile = gate.profile
        if profile:
            prof = RunProfile()
            for i, spec in enumerate(self.o.runs):
                trace = self.run_dir / label / f"profile-run{i}.json"
                run = self.ws.run(build.tree, spec, f"{label}/profile-run{i}",
                                  env={**PROFILE_ENV, "LIBOMPTARGET_PROFILE": str(trace)}, prefix=self.o.run_prefix)
                if run.returncode == 0:
                    info = _info_only(run)
                    prof.merge(run_profile(self.pm.hook.pcx_profile(run=info, config=self.config), info.stderr, trace))
            ev.profile = prof
        if repeats:
            ev.timing = self.time_runs(build.tree, f"{label}/timing", env={"OMP_TARGET_OFFLOAD": "MANDATORY"})
        self.ws.discard(build.tree)
        self._evaluations[memo] = ev
        return ev

    def gate_runs(self, tree: Path, label: str) -> GateRuns:
        """Gate the program built in ``tree``.

        Every run command runs ``gate_repeats`` times under gate.GATE_ENV (libomptarget
        silent) and is compared with its reference; then once under gate.VALIDATION_ENV
        (INFO=51), whose output is never compared: it only has to exit like the reference
        and use no unmapped pointer, and it is where launches and bytes are counted.
        """
        from pcx_driver.gate import info_run_problems, kernel_launches

        out = GateRuns()
        for rep, env in enumerate(gate_environments(self.o.gate_repeats)):
            for i, spec in enumerate(self.o.runs):
                where = f"{label}/gate-run{i}" + (f"-rep{rep}" if rep else "")
                run = self.ws.run(tree, spec, where, env=env, prefix=self.o.run_prefix)
                if rep == 0:
                    out.seconds += run.seconds
                verdict = self.compare(self.references[i], run, i)
                if not verdict.passed:
                    threads = f" (OMP_NUM_THREADS={env['OMP_NUM_THREADS']})" if rep else ""
                    out.reasons = ([f"`{spec.text}`{threads}: {r}" for r in verdict.reasons]
                                   or [f"`{spec.text}` failed the gate"])
                    return out
        for i, spec in enumerate(self.o.runs):
            run = self.ws.run(tree, spec, f"{label}/info-run{i}", env=info_environment(),
                              prefix=self.o.run_prefix)
            problems = info_run_problems(self.references[i], run)
            if problems:
                out.reasons = [f"`{spec.text}`: {r}" for r in problems]
                return out
            info = _info_only(run)
            out.launched += kernel_launches(info.stderr)
            out.profile.merge(run_profile(self.pm.hook.pcx_profile(run=info, config=self.config), info.stderr, None))
        return out

    def _match_launches(self, cand: Candidate, names: list[str]) -> set[KernelRef]:
        from pcx_driver.profile import parse_kernel_name

        seen = {(p.function, p.line) for n in set(names) if (p := parse_kernel_name(n))}
        out: set[KernelRef] = set()
        for ref in cand.kernels:
            k = cand.kernel_plan(ref)
            if k is not None and any(_same_kernel(k.function, k.line, f, l) for f, l in seen):
                out.add(ref)
        return out

    def gate_and_bisect(self, cand: Candidate, order: list[KernelRef]) -> tuple[Candidate, Evaluation | None]:
        """The largest candidate reachable by switching culprits off that passes the gate."""
        self.progress.step("gate: offloaded runs vs the serial reference", total=None)
        known_good: list[Item] = []
        while cand.kernels:
            ev = self.evaluate(cand, "gate", profile=True, repeats=True)
            self.progress.advance()
            if ev.passed:
                idle = [r for r in cand.kernels if r not in ev.launched]
                if not idle:
                    return cand, ev
                for ref in idle:
                    reason = "never launched by the run commands (not validated)"
                    if _rewrite_failed(ev.build_log, cand.records[ref[0]].unit.path):
                        reason = "the rewritten source failed to compile [PCX007]"
                    cand = cand.without(Item("kernel", ref[0], ref[1], cand.label(ref)), reason)
                    self.progress.note(f"{cand.label(ref)}: {reason}")
                continue
            # Bisect only over what is not known to be good: a prefix that passed in an
            # earlier round still passes without the culprits found since.
            items = cand.items(order)
            good = [i for i in items if i in known_good]
            rest = [i for i in items if i not in known_good]
            if not rest:  # a flaky failure of a set that passed before: start afresh
                known_good.clear()
                good, rest = [], items
            failures: dict[int, Evaluation] = {len(rest): ev}

            def passes(prefix: list[Item]) -> bool:
                sub = self.evaluate(cand.restricted(good + prefix), "bisect")
                self.progress.advance()
                if not sub.passed:
                    failures[len(prefix)] = sub
                return sub.passed

            culprit = rest[0] if len(rest) == 1 else bisect_culprit(rest, passes)
            known_good.extend(rest[: rest.index(culprit)])
            why = failures.get(rest.index(culprit) + 1, ev).reasons
            reason = "failed the gate: " + (why[0] if why else "wrong output")
            if culprit.kind == "region":
                reason = "data region dropped (kernels map their own data); " + reason
            cand = cand.without(culprit, reason)
            self.progress.note(f"demoted {culprit.label}: {reason}")
        return cand, None

    # ------------------------------------------------------------ step 6: refine

    def variants(self, cand: Candidate, hot: list[KernelRef]) -> list[tuple[str, Candidate]]:
        out: list[tuple[str, Candidate]] = []
        for ref in hot:
            if ref not in cand.kernels:
                continue
            k = cand.kernel_plan(ref)
            rec = cand.records[ref[0]]
            nest = rec.nest(ref[1])
            current = {**{n: getattr(k, n) for n in ("collapse", "num_teams", "thread_limit", "simd")},
                       **cand.knobs.get(ref, {})}
            label = cand.label(ref)
            max_collapse = max(nest.collapse if nest else 1, k.collapse)
            for c in range(1, max_collapse + 1):
                if c != current["collapse"]:
                    out.append((f"{label}: collapse({c})", cand.with_knobs(ref, collapse=c)))
            if not current["simd"]:
                out.append((f"{label}: simd", cand.with_knobs(ref, simd=True)))
            for tl in (64, 256):
                if current["thread_limit"] != tl:
                    out.append((f"{label}: thread_limit({tl})", cand.with_knobs(ref, thread_limit=tl)))
            if current["num_teams"] is None:
                out.append((f"{label}: num_teams(128)", cand.with_knobs(ref, num_teams=128)))
            for i, region in enumerate(rec.plan.regions if rec.plan else []):
                rref = (ref[0], i)
                if ref[1] in region.kernels and cand.region_enabled(rref):
                    item = Item("region", ref[0], i, cand.region_label(rref))
                    out.append((f"{item.label}: dropped",
                                cand.without(item, "data region dropped by refinement (faster without it)")))
        seen: set[str] = set()
        unique = []
        for name, c in out:
            if name not in seen:
                seen.add(name)
                unique.append((name, c))
        return unique

    def refine(self, cand: Candidate, best: Evaluation, hot: list[KernelRef]) -> tuple[Candidate, Evaluation]:
        todo = self.variants(cand, hot)[: max(0, self.o.budget)]
        if not todo:
            return cand, best
        self.progress.step(f"refine: {len(todo)} variant(s) (--budget {self.o.budget})", total=len(todo))
        for name, variant in todo:
            # apply the variant to the current best (earlier kept variants stay in effect)
            trial = _rebase(variant, cand)
            ev = self.evaluate(trial, "refine", profile=True, repeats=True)
            self.progress.advance()
            entry: dict[str, Any] = {"variant": name, "passed": ev.passed and trial.kernels <= ev.launched}
            if not entry["passed"]:
                entry["kept"] = False
                entry["reason"] = ev.reasons[0] if ev.reasons else "a kernel did not launch"
                self.result.variants.append(entry)
                continue
            # below 3 samples the noise is not known: ask for a clearly larger gain
            floor = 0.03 if self.o.repeats >= 3 else 0.10
            threshold = max(floor, 2 * max(best.timing.noise, ev.timing.noise))
            entry.update(median=ev.timing.median, best_median=best.timing.median, threshold=threshold)
            entry["kept"] = ev.timing.median < best.timing.median * (1 - threshold)
            self.result.variants.append(entry)
            if entry["kept"]:
                self.progress.note(f"kept {name}: {best.timing.median:.3f} s -> {ev.timing.median:.3f} s")
                cand, best = trial, ev
        return cand, best

    # ------------------------------------------------------------ step 6b: demote

    def demote_slower(self, cand: Candidate, best: Evaluation, order: list[KernelRef]
                      ) -> tuple[Candidate, Evaluation | None]:
        """Demote the kernels measured slower than their serial loops, gate what is left;
        keep nothing when the whole program is still slower than the serial build."""
        slow = slower_kernels(cand, self.timings, best)
        if slow:
            self.progress.step(f"demote: {len(slow)} kernel(s) slower than their serial loops", total=None)
            for ref, reason in slow.items():
                label = cand.label(ref)
                cand = cand.without(Item("kernel", ref[0], ref[1], label), reason)
                self.progress.note(f"demoted {label}: {reason}")
            if not cand.kernels:
                return cand, None
            cand, ev = self.gate_and_bisect(cand, [r for r in order if r in cand.kernels])
            if ev is None:
                return cand, None
            best = ev
        why = whole_program_slower(self.result.baseline, best.timing)
        if why is None:
            return cand, best
        self.progress.note(f"no kernel kept: {why}")
        for ref in sorted(cand.kernels):
            cand = cand.without(Item("kernel", ref[0], ref[1], cand.label(ref)), why)
        return cand, None

    # ------------------------------------------------------------ the whole flow

    def run(self) -> TuneResult:
        try:
            return self._run()
        finally:
            self.ws.discard_all()
            self.progress.done()
            try:
                (self.run_dir / "result.json").write_text(json.dumps(self.result.to_json(), indent=1))
            except OSError:
                pass

    def _run(self) -> TuneResult:
        self.baseline()
        hot = self.hotspots()
        total = getattr(self, "measured_seconds", 0.0) or 1.0
        selected: set[KernelRef] = set()
        skipped: dict[KernelRef, str] = {}
        for key, rec in self.records.items():
            for k in rec.plan.offloaded() if rec.plan else []:
                t = self.timings.get((key, k.nest_id))
                if t is None or t.entries == 0:
                    skipped[(key, k.nest_id)] = "not run: the run commands never reach it"
                elif t.seconds / total < self.o.min_share:
                    skipped[(key, k.nest_id)] = (f"cold: {1e3 * t.seconds:.2f} ms, {100 * t.seconds / total:.2f}% "
                                                 f"of the run time (below --min-share {100 * self.o.min_share:g}%)")
                else:
                    selected.add((key, k.nest_id))
        # A data region is planned for all its kernels together: a hot kernel brings the
        # other kernels of its region along (else the region could never be enabled).
        for key, rec in self.records.items():
            for region in rec.plan.regions if rec.plan else []:
                members = {(key, nid) for nid in region.kernels}
                if members & selected:
                    for ref in members:
                        if ref in skipped and not skipped[ref].startswith("not run"):
                            del skipped[ref]
                            selected.add(ref)
        order = sorted(selected, key=lambda r: -(self.timings[r].seconds if r in self.timings else 0.0))
        cand = Candidate.from_records(self.records, selected)
        cand.demoted.update(skipped)
        first: Evaluation | None = None
        best: Evaluation | None = None
        if cand.kernels:
            cand, first = self.gate_and_bisect(cand, order)
            best = first
        if first is not None and self.o.refine:
            cand, best = self.refine(cand, first, order)
        if best is not None and not self.o.keep_slower:
            cand, best = self.demote_slower(cand, best, order)
        self.result.offloaded = best.timing if best is not None else Timing()
        if self.o.config_values.get("llm"):
            self.offer_to_llm(cand, hot)
        self.result.kernels = self.rows(cand, first, best)
        self.save(cand, best)
        self.result.status = "ok"
        return self.result

    # ------------------------------------------------------------ step 7: save

    def save(self, cand: Candidate, best: Evaluation | None) -> None:
        keys = sorted({r[0] for r in cand.kernels} | {r[0] for r in cand.demoted if isinstance(r, tuple)})
        if not keys:
            return
        self.progress.step("save: validated plans to the plan cache", total=None)
        cache = self.project / ".pcx"
        config = Config(values={"plan-cache": str(cache)})
        rows_by_key: dict[str, list[dict[str, Any]]] = {}
        for row in self.result.kernels:
            rows_by_key.setdefault(row.key, []).append({**to_jsonable(row), "speedup": row.speedup})
        written = []
        for key in keys:
            plan = cand.materialise(key)
            if plan is None:
                continue
            rec = self.records[key]
            measurements = {
                "run_id": self.run_id,
                "build": list(self.o.build),
                "runs": [s.text for s in self.o.runs],
                "rtol": self.o.rtol,
                "atol": self.o.atol,
                "baseline": {"median": self.result.baseline.median, "noise": self.result.baseline.noise},
                "offloaded": {"median": self.result.offloaded.median, "noise": self.result.offloaded.noise},
                "kernels": rows_by_key.get(key, []),
            }
            written.append(plancache.store(rec.unit, plan, measurements, config))
        self.result.saved = [str(p) for p in written]
        # What the user's builds will apply must be exactly what passed the gate.
        saved = {}
        for path in written:
            entry = json.loads(path.read_text())
            if any(k["offload"] for k in entry["decisions"]["kernels"]):
                saved[entry["key"]] = json.dumps(entry["decisions"], sort_keys=True)
        gated = best.plans if best is not None else {}
        if saved != gated:
            for key in keys:
                plancache.remove(self.records[key].unit, config)
            self.result.saved = []
            raise TuneError("internal error: the plans to save differ from the plans that passed the gate; "
                            "nothing was saved")

    # ------------------------------------------------------------ the table

    def rows(self, cand: Candidate, first: Evaluation | None, best: Evaluation | None) -> list[KernelRow]:
        rows: list[KernelRow] = []
        for key, rec in sorted(self.records.items(), key=lambda kv: kv[1].unit.path):
            for k in rec.plan.kernels if rec.plan else []:
                ref = (key, k.nest_id)
                t = self.timings.get(ref)
                row = KernelRow(rec.unit.path, k.nest_id, k.function, k.line, "", key=key,
                                baseline_seconds=t.seconds if t else None)
                if k.decision is not Decision.OFFLOADED:
                    row.status = "kept serial"
                    rs = [r for r in k.remarks if r.id != "PCX100"]
                    row.reason = f"{rs[0].message} [{rs[0].id}]" if rs else ""
                    if t is None:
                        continue  # refused and never measured: not interesting here
                elif ref in cand.kernels:
                    row.status = "offloaded"
                    row.knobs = {n: v for n, v in cand.knobs.get(ref, {}).items()}
                    if row.knobs:
                        row.reason = "variant kept [PCX306]: " + ", ".join(f"{n}={v}" for n, v in row.knobs.items())
                    else:
                        row.reason = "passed the gate [PCX300]"
                    for i, region in enumerate(rec.plan.regions):
                        why = cand.demoted.get((key, i))
                        if k.nest_id in region.kernels and why:
                            row.reason += f"; its {why}"
                    row.bytes_before = _kernel_bytes(first, k)
                    row.bytes_after = _kernel_bytes(best, k)
                    nums = _kernel_numbers(best, k)
                    if nums is not None:
                        row.launches = nums.launches
                        row.offloaded_seconds = nums.seconds or None
                else:
                    reason = cand.demoted.get(ref, "not selected")
                    row.status = ("cold" if reason.startswith("cold") else
                                  "not run" if reason.startswith("not run") else "demoted")
                    tagged = reason.rstrip().endswith("]") and "[PCX" in reason
                    row.reason = reason + (" [PCX305]" if row.status == "demoted" and not tagged else "")
                rows.append(row)
        rows.sort(key=lambda r: -(r.baseline_seconds or 0.0))
        return rows

    # ------------------------------------------------------------ LLM proposals

    def offer_to_llm(self, cand: Candidate, hot: list[Hotspot]) -> None:
        try:
            from pcx_driver.tune import proposals
        except ImportError:
            self.progress.note("LLM proposals are not available (pcx_driver.tune.proposals is missing)")
            return
        from pcx_driver.tune.llm import offer_refused_nests

        self.result.proposals = offer_refused_nests(self, cand, hot, proposals)


#: A kernel is slower than its serial loop when its device time (launches and own copies)
#: exceeds the loop's serial time by this factor and by ``SLOWER_SECONDS``: both figures
#: come from single runs, so small differences are noise.
SLOWER_FACTOR = 1.25
SLOWER_SECONDS = 0.005


def slower_kernels(cand: Candidate, timings: dict[KernelRef, NestTiming], ev: Evaluation) -> dict[KernelRef, str]:
    """The kernels of ``cand`` measured slower on the device (``ev``'s profile) than their
    serial loops (``timings``, the instrumented build), each with a reason that has both figures."""
    out: dict[KernelRef, str] = {}
    for ref in sorted(cand.kernels):
        k = cand.kernel_plan(ref)
        serial = timings.get(ref)
        nums = _kernel_numbers(ev, k) if k is not None else None
        if serial is None or nums is None or nums.seconds <= 0:
            continue
        if nums.seconds > serial.seconds * SLOWER_FACTOR and nums.seconds - serial.seconds > SLOWER_SECONDS:
            out[ref] = (f"slower than the serial loop it replaces: {_ms(nums.seconds)} on the device "
                        f"({nums.launches} launch{'es' if nums.launches != 1 else ''}, {nums.bytes_moved} bytes "
                        f"moved) vs {_ms(serial.seconds)} serial ({serial.entries} entr"
                        f"{'ies' if serial.entries != 1 else 'y'}); --keep-slower keeps it [PCX309]")
    return out


def whole_program_slower(baseline: Timing, offloaded: Timing) -> str | None:
    """Why a plan must not be kept: the offloaded program's median time is above the
    serial one's by more than the noise of either (3% at least); None when it is not."""
    if not baseline.samples or not offloaded.samples or baseline.median <= 0:
        return None
    margin = max(0.03, 2 * max(baseline.noise, offloaded.noise))
    if offloaded.median <= baseline.median * (1 + margin):
        return None
    return (f"the whole program ran slower offloaded: {offloaded.median:.3f} s vs {baseline.median:.3f} s "
            f"serial (medians of {len(offloaded.samples)} and {len(baseline.samples)} runs); "
            f"--keep-slower keeps the plan [PCX309]")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 10 else f"{seconds:.2f} s"


#: Runs whose output is compared with an offloaded run's, or timed: libomptarget silent,
#: whatever the user's shell says.
QUIET_ENV = {"LIBOMPTARGET_INFO": "0"}


def gate_environments(repeats: int) -> list[dict[str, str]]:
    """The compared gate runs' environment for each repetition: GATE_ENV, then the same
    with one more thread each time.  A race shows only when iterations of different
    threads overlap; different team sizes on a busy machine give it more chances."""
    from pcx_driver.gate import GATE_ENV

    base = int(GATE_ENV.get("OMP_NUM_THREADS", "2"))
    return [{**GATE_ENV, "OMP_NUM_THREADS": str(base + r)} for r in range(max(1, repeats))]


def info_environment() -> dict[str, str]:
    """The environment of the run that counts launches and bytes (never compared)."""
    from pcx_driver.gate import VALIDATION_ENV

    return dict(VALIDATION_ENV)


def _relative_to_tree(unit: Any, tree: Path) -> None:
    """A source a build named by its absolute path inside the scratch copy (CMake does)
    is named relative to the copy instead, as the project's own path: the table, the plan
    cache and the LLM step then see ``main.cpp``, not ``.pcx/runs/<id>/hotspots/tree/main.cpp``."""
    if not os.path.isabs(unit.path):
        return
    for root in dict.fromkeys((str(tree), os.path.realpath(tree))):
        rel = os.path.relpath(unit.path, root)
        if not rel.startswith(".."):
            unit.path, unit.directory = rel, root
            return


def _info_only(run: RunOutput) -> RunOutput:
    """``run`` with the runtime's INFO lines as its stderr, wherever the run command sent
    them (``./app 2> log.txt``), and nothing else: what the launch and byte counters read."""
    from pcx_driver.gate import runtime_lines

    return RunOutput(list(run.argv), run.returncode, "", runtime_lines(run), run.seconds)


def _plugin_names(options: TuneOptions) -> list[str]:
    """PCX_PLUGIN from the environment, then --plugin, each once."""
    names = [n for n in os.environ.get("PCX_PLUGIN", "").split(",") if n] + list(options.plugins)
    return list(dict.fromkeys(names))


class _Tolerances:
    """The run-time gate with this tune's --rtol/--atol."""

    def __init__(self, rtol: float, atol: float) -> None:
        self.rtol, self.atol = rtol, atol

    @hookimpl
    def pcx_compare(self, reference: RunOutput, candidate: RunOutput, config: Any) -> GateVerdict:
        from pcx_driver.gate import compare_runs

        return compare_runs(reference, candidate, self.rtol, self.atol, stderr=True)


def _same_kernel(planned_function: str, planned_line: int, launched_function: str, launched_line: int) -> bool:
    """Does a launched kernel (function, directive line) belong to a planned nest?

    The directive sits just above the loop (the rewriter gives it the nest's line, or up
    to two lines before it); C++ names arrive mangled.
    """
    same_function = launched_function == planned_function or (
        launched_function.startswith("_Z") and planned_function in launched_function)
    return same_function and planned_line - 2 <= launched_line <= planned_line


def _kernel_numbers(ev: Evaluation | None, k) -> Any:
    if ev is None or ev.profile is None:
        return None
    for nums in ev.profile.kernels.values():
        if _same_kernel(k.function, k.line, nums.function, nums.line):
            return nums
    return None


def _kernel_bytes(ev: Evaluation | None, k) -> int | None:
    nums = _kernel_numbers(ev, k)
    return nums.bytes_moved if nums is not None else None


def _rewrite_failed(build_log: str, path: str) -> bool:
    try:
        text = Path(build_log).read_text(errors="replace")
    except OSError:
        return False
    return any("[PCX007]" in line and Path(path).name in line for line in text.splitlines())


def _rebase(variant: Candidate, best: Candidate) -> Candidate:
    """``variant`` was derived from an earlier candidate; carry over what ``best`` has
    since kept, then re-apply the variant's own change."""
    trial = best.copy()
    for ref, knobs in variant.knobs.items():
        if knobs != best.knobs.get(ref):
            trial.knobs.setdefault(ref, {}).update(knobs)
    for ref in list(trial.regions):
        if ref not in variant.regions:
            trial.regions.discard(ref)
            if ref in variant.demoted:
                trial.demoted[ref] = variant.demoted[ref]
    return trial
