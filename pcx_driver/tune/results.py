"""What a tune found: one row per kernel, the timings, and the result saved as result.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pcx_driver.model import to_jsonable
from pcx_driver.tune.hotspots import Hotspot
from pcx_driver.tune.timing import Timing


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
