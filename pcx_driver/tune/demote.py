"""Step 6b of pcx tune (demote): kernels measured slower on the device than their serial loops.

A kernel whose device time (its launches and copies, from the trace) is above its serial
loop's (the instrumented build) is demoted, with both figures (PCX309); then, if the
whole program still runs slower than the serial build, no kernel is kept.
``keep_slower`` skips this step (for a user whose GPU differs from the machine of the tune).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pcx_driver.tune.bisection import gate_and_bisect
from pcx_driver.tune.candidate import Candidate, Item, KernelRef
from pcx_driver.tune.evaluate import Evaluation, Evaluator, kernel_numbers
from pcx_driver.tune.hotspots import NestTiming
from pcx_driver.tune.timing import Timing

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession

#: A kernel is slower than its serial loop when its device time (launches and own copies)
#: exceeds the loop's serial time by this factor and by ``SLOWER_SECONDS``: both figures
#: come from single runs, so small differences are noise.
SLOWER_FACTOR = 1.25
SLOWER_SECONDS = 0.005


def demote_slower(session: TuneSession, evaluator: Evaluator, timings: dict[KernelRef, NestTiming],
                  cand: Candidate, best: Evaluation, order: list[KernelRef]) -> tuple[Candidate, Evaluation | None]:
    """Demote the kernels measured slower than their serial loops, gate what is left;
    keep nothing when the whole program is still slower than the serial build."""
    progress = session.progress
    slow = slower_kernels(cand, timings, best)
    if slow:
        progress.step(f"demote: {len(slow)} kernel(s) slower than their serial loops", total=None)
        for ref, reason in slow.items():
            label = cand.label(ref)
            cand = cand.without(Item("kernel", ref[0], ref[1], label), reason)
            progress.note(f"demoted {label}: {reason}")
        if not cand.kernels:
            return cand, None
        cand, ev = gate_and_bisect(session, evaluator, cand, [r for r in order if r in cand.kernels])
        if ev is None:
            return cand, None
        best = ev
    why = whole_program_slower(session.result.baseline, best.timing)
    if why is None:
        return cand, best
    progress.note(f"no kernel kept: {why}")
    for ref in sorted(cand.kernels):
        cand = cand.without(Item("kernel", ref[0], ref[1], cand.label(ref)), why)
    return cand, None


def slower_kernels(cand: Candidate, timings: dict[KernelRef, NestTiming], ev: Evaluation) -> dict[KernelRef, str]:
    """The kernels of ``cand`` measured slower on the device (``ev``'s profile) than their
    serial loops (``timings``, the instrumented build), each with a reason that has both figures."""
    out: dict[KernelRef, str] = {}
    for ref in sorted(cand.kernels):
        k = cand.kernel_plan(ref)
        serial = timings.get(ref)
        nums = kernel_numbers(ev, k) if k is not None else None
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
