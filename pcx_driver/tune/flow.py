"""The pcx tune orchestration: baseline, hotspots, gate + bisect, profile, refine, save.

``Tuner`` runs these steps in order:

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

Each step is a module of its own: 1 ``baseline.py``, 2 ``measure.py``, 3 ``selection.py``,
3 to 5 for one candidate ``evaluate.py`` (its gate runs: ``gating.py``), 4 ``bisection.py``,
6 ``refine.py``, 6b ``demote.py``, 7 ``save.py`` (the table's rows: ``table.py``); what
they share (options, run directory, workspace, plugins, the result) is ``session.py``.
Every step leaves its logs and outputs in ``.pcx/runs/<id>/``.
"""

from __future__ import annotations

import json

from pcx_driver.tune.baseline import run_baseline
from pcx_driver.tune.bisection import gate_and_bisect
from pcx_driver.tune.candidate import Candidate
from pcx_driver.tune.demote import demote_slower
from pcx_driver.tune.evaluate import Evaluation, Evaluator
from pcx_driver.tune.gating import Gate
from pcx_driver.tune.measure import Measured, find_hotspots
from pcx_driver.tune.refine import refine
from pcx_driver.tune.results import TuneResult
from pcx_driver.tune.save import save_plans
from pcx_driver.tune.selection import select_candidate
from pcx_driver.tune.session import Progress, TuneOptions, TuneSession, plugin_manager
from pcx_driver.tune.table import kernel_rows
from pcx_driver.tune.timing import Timing

# Names the tests import from here (their homes are the step modules).
from pcx_driver.tune.demote import slower_kernels, whole_program_slower  # noqa: F401
from pcx_driver.tune.evaluate import same_kernel as _same_kernel  # noqa: F401


class Tuner:
    """One pcx tune of ``options.project``: the steps above, in order."""

    _plugin_manager = staticmethod(plugin_manager)

    def __init__(self, options: TuneOptions, progress: Progress | None = None) -> None:
        self.session = TuneSession(options, progress)
        self.run_dir = self.session.run_dir

    def run(self) -> TuneResult:
        s = self.session
        try:
            return self._run()
        finally:
            s.ws.discard_all()
            s.progress.done()
            try:
                (s.run_dir / "result.json").write_text(json.dumps(s.result.to_json(), indent=1))
            except OSError:
                pass

    def _run(self) -> TuneResult:
        s, o = self.session, self.session.options
        reference = run_baseline(s)
        measured = find_hotspots(s)
        cand, order = select_candidate(measured.records, measured.timings, measured.seconds, o.min_share)
        evaluator = Evaluator(s, Gate(s, reference), measured.records)
        first: Evaluation | None = None
        best: Evaluation | None = None
        if cand.kernels:
            cand, first = gate_and_bisect(s, evaluator, cand, order)
            best = first
        if first is not None and o.refine:
            cand, best = refine(s, evaluator, cand, first, order)
        if best is not None and not o.keep_slower:
            cand, best = demote_slower(s, evaluator, measured.timings, cand, best, order)
        s.result.offloaded = best.timing if best is not None else Timing()
        if o.config_values.get("llm"):
            self.offer_to_llm(evaluator, measured, cand)
        s.result.kernels = kernel_rows(measured.records, measured.timings, cand, first, best)
        save_plans(s, measured.records, cand, best)
        s.result.status = "ok"
        return s.result

    def offer_to_llm(self, evaluator: Evaluator, measured: Measured, cand: Candidate) -> None:
        """Offer the refused hot nests to a proposal plugin (llm.py), when installed."""
        s = self.session
        try:
            from pcx_driver.tune import proposals
        except ImportError:
            s.progress.note("LLM proposals are not available (pcx_driver.tune.proposals is missing)")
            return
        from pcx_driver.tune.llm import offer_refused_nests

        s.result.proposals = offer_refused_nests(s, evaluator, measured.records, cand, measured.hot, proposals)
