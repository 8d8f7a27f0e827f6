"""Offering the hot nests the engine refused to a proposal plugin (``--llm``).

For each refused nest that takes at least ``min_share`` of the measured time (hottest
first, at most ``MAX_NESTS``), ``proposals.propose_until_accepted`` asks the plugin for
replacement text and calls back ``build_and_gate`` here: the project is built with the
spliced source in place of the original (and the validated plans of the other sources
from the scratch cache), every run is gated against the serial reference.

An accepted proposal is a whole new source text, which a Plan cannot express; it is
saved as ``.pcx/runs/<id>/llm/<path>`` for the user to review and adopt, and reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pcx_driver.model import Decision

MAX_NESTS = 3


def offer_refused_nests(tuner: Any, cand: Any, hot: list[Any], proposals: Any) -> list[dict[str, Any]]:
    refused = [h for h in hot if h.decision != Decision.OFFLOADED.value and h.share >= tuner.o.min_share]
    results: list[dict[str, Any]] = []
    if not refused:
        return results
    tuner.progress.step(f"llm: proposals for {min(len(refused), MAX_NESTS)} refused hot nest(s)", total=None)
    for h in refused[:MAX_NESTS]:
        rec = tuner.records.get(h.key)
        nest = rec.nest(h.nest_id) if rec is not None else None
        if nest is None:
            continue

        def build_and_gate(new_source: str, rec=rec) -> Any:
            return gate_source(tuner, cand, rec, new_source, proposals.GateOutcome)

        outcome = proposals.propose_until_accepted(rec.unit, nest, tuner.pm, tuner.config, build_and_gate,
                                                   tuner.config.values.get("llm-max-attempts"))
        entry: dict[str, Any] = {
            "path": rec.unit.path, "nest_id": nest.nest_id, "accepted": outcome.accepted,
            "attempts": len(outcome.attempts), "remarks": [r.format() for r in outcome.remarks],
        }
        if outcome.accepted and outcome.source is not None:
            saved = tuner.run_dir / "llm" / rec.unit.path
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(outcome.source, errors="surrogateescape")
            entry["source"] = str(saved)
        tuner.progress.note(f"llm {rec.unit.path}:{nest.line}: "
                            f"{'accepted, saved to ' + entry['source'] if outcome.accepted else 'no accepted proposal'}")
        results.append(entry)
    return results


def _source_in_tree(tuner: Any, rec: Any, tree: Path) -> Path:
    """Where ``rec``'s source lies in a fresh copy of the project."""
    hot_tree = tuner.run_dir / "hotspots" / "tree"
    directory = Path(rec.unit.directory)
    try:
        rel = directory.resolve().relative_to(hot_tree.resolve())
    except ValueError:
        rel = Path(".")
    return tree / rel / rec.unit.path


def gate_source(tuner: Any, cand: Any, rec: Any, new_source: str, GateOutcome: Any) -> Any:
    tuner._materialise_cache(cand, tuner.scratch_cache)

    def prepare(tree: Path) -> None:
        _source_in_tree(tuner, rec, tree).write_text(new_source, errors="surrogateescape")

    label = tuner._label("llm")
    build = tuner.ws.build(label, {**tuner._base_env(), "PCX_MODE": "validated",
                                   "PCX_PLAN_CACHE": str(tuner.scratch_cache)}, prepare=prepare)
    tuner.result.builds += 1
    if not build.ok:
        return GateOutcome(compiled=False, compile_errors=build.tail(40))
    outcome = GateOutcome(compiled=True, passed=True)
    gate = tuner.gate_runs(build.tree, label)
    outcome.candidate_seconds = gate.seconds
    outcome.launched_kernels += gate.launched
    if gate.reasons:
        outcome.passed = False
        outcome.reasons = gate.reasons
    tuner.ws.discard(build.tree)
    return outcome
