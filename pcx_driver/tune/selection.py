"""Step 3 of pcx tune (candidate): the recorded kernels hot enough to try, hottest first.

A kernel whose nest takes at least ``min_share`` of the measured run time is selected;
the others are set aside with the reason (cold, or never run).  A data region is planned
for all its kernels together, so a hot kernel brings the other kernels of its region
along (else the region could never be enabled).
"""

from __future__ import annotations

from pcx_driver.tune.candidate import Candidate, KernelRef
from pcx_driver.tune.hotspots import NestTiming, Record


def select_candidate(records: dict[str, Record], timings: dict[KernelRef, NestTiming], measured_seconds: float,
                     min_share: float) -> tuple[Candidate, list[KernelRef]]:
    """The candidate of the selected kernels (the others demoted with their reason), and
    the selected kernels hottest first (the order the bisection and refinement try them)."""
    total = measured_seconds or 1.0
    selected: set[KernelRef] = set()
    skipped: dict[KernelRef, str] = {}
    for key, rec in records.items():
        for k in rec.plan.offloaded() if rec.plan else []:
            t = timings.get((key, k.nest_id))
            if t is None or t.entries == 0:
                skipped[(key, k.nest_id)] = "not run: the run commands never reach it"
            elif t.seconds / total < min_share:
                skipped[(key, k.nest_id)] = (f"cold: {1e3 * t.seconds:.2f} ms, {100 * t.seconds / total:.2f}% "
                                             f"of the run time (below --min-share {100 * min_share:g}%)")
            else:
                selected.add((key, k.nest_id))
    for key, rec in records.items():
        for region in rec.plan.regions if rec.plan else []:
            members = {(key, nid) for nid in region.kernels}
            if members & selected:
                for ref in members:
                    if ref in skipped and not skipped[ref].startswith("not run"):
                        del skipped[ref]
                        selected.add(ref)
    order = sorted(selected, key=lambda r: -(timings[r].seconds if r in timings else 0.0))
    cand = Candidate.from_records(records, selected)
    cand.demoted.update(skipped)
    return cand, order
