"""Timed repetitions of the run commands: the samples, their median and noise."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession

#: Runs whose output is compared with an offloaded run's, or timed: libomptarget silent,
#: whatever the user's shell says.
QUIET_ENV = {"LIBOMPTARGET_INFO": "0"}


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


def time_runs(session: TuneSession, tree: Path, label: str, env: dict[str, str] | None = None,
              advance: bool = False) -> Timing:
    """Run every command ``repeats`` times in ``tree``; one sample per repetition (their sum)."""
    o = session.options
    timing = Timing()
    for r in range(o.repeats):
        total = 0.0
        for i, spec in enumerate(o.runs):
            run = session.ws.run(tree, spec, f"{label}/rep{r}-run{i}", env={**QUIET_ENV, **(env or {})},
                                 prefix=o.run_prefix)
            total += run.seconds
            if advance:
                session.progress.advance()
        timing.samples.append(total)
    return timing
