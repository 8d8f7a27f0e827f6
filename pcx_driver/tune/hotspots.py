"""Compile records and per-nest timings: which nests are hot, and what the engine said.

The instrumented build (``PCX_INSTRUMENT=1 PCX_RECORD=<dir>``) leaves one record per
compiled source, ``<dir>/<plan_key>.json`` = ``{"unit": ..., "analysis": ..., "plan": ...}``
(``model.to_jsonable`` output; analysis or plan may be null), and each run of the
instrumented program appends per-nest JSON lines to ``PCX_TIMING_FILE``
(``pcx_driver.tune.instrument``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pcx_driver.model import Decision, NestAnalysis, Plan, SourceUnit, UnitAnalysis, from_jsonable


@dataclass
class Record:
    key: str
    unit: SourceUnit
    analysis: UnitAnalysis | None
    plan: Plan | None

    def nest(self, nest_id: str) -> NestAnalysis | None:
        if self.analysis is None:
            return None
        for n in self.analysis.nests():
            if n.nest_id == nest_id:
                return n
        return None


def load_records(directory: Path) -> tuple[dict[str, Record], list[str]]:
    """Every readable record (by key) and a warning for each unreadable one."""
    records: dict[str, Record] = {}
    problems: list[str] = []
    if not directory.is_dir():
        return records, problems
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            unit = from_jsonable(SourceUnit, raw["unit"])
            analysis = from_jsonable(UnitAnalysis, raw.get("analysis"))
            plan = from_jsonable(Plan, raw.get("plan"))
        except Exception as exc:  # a record is our own output, but never crash on one
            problems.append(f"{path.name}: unreadable compile record ({type(exc).__name__}: {exc})")
            continue
        records[path.stem] = Record(path.stem, unit, analysis, plan)
    return records, problems


@dataclass
class NestTiming:
    key: str
    unit: str
    nest_id: str
    line: int
    seconds: float = 0.0
    entries: int = 0
    per_run: list[float] = field(default_factory=list)


def read_timings(paths: list[Path]) -> dict[tuple[str, str], NestTiming]:
    """Sum the timing lines of several runs by (plan key, nest id)."""
    out: dict[tuple[str, str], NestTiming] = {}
    for i, path in enumerate(paths):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            try:
                row = json.loads(line)
                ident = (str(row["key"]), str(row["nest"]))
                seconds, entries = float(row["seconds"]), int(row["entries"])
            except (ValueError, KeyError, TypeError):
                continue  # a run killed while writing leaves half a line
            t = out.get(ident)
            if t is None:
                t = out[ident] = NestTiming(ident[0], str(row.get("unit", "")), ident[1], int(row.get("line", 0)))
                t.per_run = [0.0] * len(paths)
            t.seconds += seconds
            t.entries += entries
            t.per_run[i] += seconds
    return out


@dataclass
class Hotspot:
    """One measured nest, with what the engine decided for it."""

    key: str
    path: str
    nest_id: str
    function: str
    line: int
    seconds: float
    share: float  # of the whole program's measured run time
    entries: int
    decision: str  # Decision value in the recorded plan ("offloaded", "kept serial", ...)
    reason: str  # first remark of a refused nest, "" when offloaded

    @property
    def offloadable(self) -> bool:
        return self.decision == Decision.OFFLOADED.value


def rank_hotspots(
    records: dict[str, Record], timings: dict[tuple[str, str], NestTiming], total_seconds: float
) -> list[Hotspot]:
    """Measured nests, hottest first.  ``total_seconds`` is the instrumented runs' wall time."""
    hot: list[Hotspot] = []
    for (key, nest_id), t in timings.items():
        rec = records.get(key)
        decision, reason, function, path = "not analysed", "no compile record", "", t.unit
        if rec is not None:
            path = rec.unit.path
            nest = rec.nest(nest_id)
            kernel = next((k for k in rec.plan.kernels if k.nest_id == nest_id), None) if rec.plan else None
            source = kernel or nest
            if source is not None:
                function = source.function
                decision = source.decision.value
                remarks = [r for r in source.remarks if r.id != "PCX100"]
                reason = f"{remarks[0].message} [{remarks[0].id}]" if remarks and decision != "offloaded" else ""
        share = t.seconds / total_seconds if total_seconds > 0 else 0.0
        hot.append(Hotspot(key, path, nest_id, function, t.line, t.seconds, share, t.entries, decision, reason))
    hot.sort(key=lambda h: (-h.seconds, h.path, h.line))
    return hot
