"""Step 4 of pcx tune (gate + bisect): the largest candidate reachable by switching culprits
off that passes the gate.

On a failure, bisect over the candidate's kernels and regions (hottest first), switch
the culprit off (a kernel runs serially, a region is dropped so its kernels map their
own data) and gate again.  A kernel that passes but never launched is switched off too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pcx_driver.tune.candidate import Candidate, Item, KernelRef, bisect_culprit
from pcx_driver.tune.evaluate import Evaluation, Evaluator

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


def gate_and_bisect(session: TuneSession, evaluator: Evaluator, cand: Candidate, order: list[KernelRef]
                    ) -> tuple[Candidate, Evaluation | None]:
    """The largest candidate reachable by switching culprits off that passes the gate,
    with its evaluation (None when no kernel is left)."""
    progress = session.progress
    progress.step("gate: offloaded runs vs the serial reference", total=None)
    known_good: list[Item] = []
    while cand.kernels:
        ev = evaluator.evaluate(cand, "gate", profile=True, repeats=True)
        progress.advance()
        if ev.passed:
            idle = [r for r in cand.kernels if r not in ev.launched]
            if not idle:
                return cand, ev
            for ref in idle:
                reason = "never launched by the run commands (not validated)"
                if _rewrite_failed(ev.build_log, cand.records[ref[0]].unit.path):
                    reason = "the rewritten source failed to compile [PCX007]"
                cand = cand.without(Item("kernel", ref[0], ref[1], cand.label(ref)), reason)
                progress.note(f"{cand.label(ref)}: {reason}")
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
            sub = evaluator.evaluate(cand.restricted(good + prefix), "bisect")
            progress.advance()
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
        progress.note(f"demoted {culprit.label}: {reason}")
    return cand, None


def _rewrite_failed(build_log: str, path: str) -> bool:
    try:
        text = Path(build_log).read_text(errors="replace")
    except OSError:
        return False
    return any("[PCX007]" in line and Path(path).name in line for line in text.splitlines())
