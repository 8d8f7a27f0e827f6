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
from typing import TYPE_CHECKING, Any

from pcx_driver.model import Decision

if TYPE_CHECKING:
    from pcx_driver.tune.candidate import Candidate
    from pcx_driver.tune.evaluate import Evaluator
    from pcx_driver.tune.hotspots import Hotspot, Record
    from pcx_driver.tune.session import TuneSession

MAX_NESTS = 3


def offer_refused_nests(session: TuneSession, evaluator: Evaluator, records: dict[str, Record], cand: Candidate,
                        hot: list[Hotspot], proposals: Any) -> list[dict[str, Any]]:
    refused = [h for h in hot if h.decision != Decision.OFFLOADED.value and h.share >= session.options.min_share]
    results: list[dict[str, Any]] = []
    if not refused:
        return results
    session.progress.step(f"llm: proposals for {min(len(refused), MAX_NESTS)} refused hot nest(s)", total=None)
    for h in refused[:MAX_NESTS]:
        rec = records.get(h.key)
        nest = rec.nest(h.nest_id) if rec is not None else None
        if nest is None:
            continue

        def build_and_gate(new_source: str, rec=rec) -> Any:
            return gate_source(session, evaluator, cand, rec, new_source, proposals.GateOutcome)

        outcome = proposals.propose_until_accepted(rec.unit, nest, session.pm, session.config, build_and_gate,
                                                   session.config.values.get("llm-max-attempts"))
        entry: dict[str, Any] = {
            "path": rec.unit.path, "nest_id": nest.nest_id, "accepted": outcome.accepted,
            "attempts": len(outcome.attempts), "remarks": [r.format() for r in outcome.remarks],
        }
        if outcome.accepted and outcome.source is not None:
            saved = session.run_dir / "llm" / rec.unit.path
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(outcome.source, errors="surrogateescape")
            entry["source"] = str(saved)
        verdict = "accepted, saved to " + entry["source"] if outcome.accepted else "no accepted proposal"
        session.progress.note(f"llm {rec.unit.path}:{nest.line}: {verdict}")
        results.append(entry)
    return results


def _source_in_tree(run_dir: Path, rec: Record, tree: Path) -> Path:
    """Where ``rec``'s source lies in a fresh copy of the project."""
    hot_tree = run_dir / "hotspots" / "tree"
    directory = Path(rec.unit.directory)
    try:
        rel = directory.resolve().relative_to(hot_tree.resolve())
    except ValueError:
        rel = Path(".")
    return tree / rel / rec.unit.path


def gate_source(session: TuneSession, evaluator: Evaluator, cand: Candidate, rec: Record, new_source: str,
                GateOutcome: Any) -> Any:
    """Build ``cand`` with ``new_source`` in place of ``rec``'s source, and gate it."""

    def prepare(tree: Path) -> None:
        _source_in_tree(session.run_dir, rec, tree).write_text(new_source, errors="surrogateescape")

    build, gate = evaluator.gate_edited(cand, "llm", prepare)
    if gate is None:
        return GateOutcome(compiled=False, compile_errors=build.tail(40))
    outcome = GateOutcome(compiled=True, passed=True)
    outcome.candidate_seconds = gate.seconds
    outcome.launched_kernels += gate.launched
    if gate.reasons:
        outcome.passed = False
        outcome.reasons = gate.reasons
    return outcome
