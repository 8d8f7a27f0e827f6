"""Step 6 of pcx tune (refine): knob variants of the hottest kernels, each gated and timed.

The variants: collapse, simd, thread_limit, num_teams, dropping a data region.  A
variant is kept only when its median beats the best by more than the measured noise;
``budget`` bounds the number of variants built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pcx_driver.tune.candidate import Candidate, Item, KernelRef
from pcx_driver.tune.evaluate import Evaluation, Evaluator

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


def variants(cand: Candidate, hot: list[KernelRef]) -> list[tuple[str, Candidate]]:
    """The variants of ``cand`` to try, each with its name, hottest kernel first."""
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


def refine(session: TuneSession, evaluator: Evaluator, cand: Candidate, best: Evaluation, hot: list[KernelRef]
           ) -> tuple[Candidate, Evaluation]:
    """The best of ``cand`` and its variants kept one after another; each variant tried
    is added to the result's ``variants``."""
    o, progress = session.options, session.progress
    todo = variants(cand, hot)[: max(0, o.budget)]
    if not todo:
        return cand, best
    progress.step(f"refine: {len(todo)} variant(s) (--budget {o.budget})", total=len(todo))
    for name, variant in todo:
        # apply the variant to the current best (earlier kept variants stay in effect)
        trial = _rebase(variant, cand)
        ev = evaluator.evaluate(trial, "refine", profile=True, repeats=True)
        progress.advance()
        entry: dict[str, Any] = {"variant": name, "passed": ev.passed and trial.kernels <= ev.launched}
        if not entry["passed"]:
            entry["kept"] = False
            entry["reason"] = ev.reasons[0] if ev.reasons else "a kernel did not launch"
            session.result.variants.append(entry)
            continue
        # below 3 samples the noise is not known: ask for a clearly larger gain
        floor = 0.03 if o.repeats >= 3 else 0.10
        threshold = max(floor, 2 * max(best.timing.noise, ev.timing.noise))
        entry.update(median=ev.timing.median, best_median=best.timing.median, threshold=threshold)
        entry["kept"] = ev.timing.median < best.timing.median * (1 - threshold)
        session.result.variants.append(entry)
        if entry["kept"]:
            progress.note(f"kept {name}: {best.timing.median:.3f} s -> {ev.timing.median:.3f} s")
            cand, best = trial, ev
    return cand, best


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
