"""A candidate offload of the whole project, and the edits tuning makes to it.

A candidate is the recorded plan of every source (by plan key) restricted to a set of
enabled kernels and data regions, with per-kernel knob settings.  The gate's bisection
switches kernels and regions off; the refinement changes knobs.  Plans are never edited
in place: ``materialise`` returns fresh copies.

Soundness of a restriction: a kernel that is switched off runs serially on the host, so
any data region around it would leave the host with stale data; a region is therefore
kept only while every kernel inside it is enabled.  A kernel whose region is dropped
maps its own data, derived from the analysis of its nest (read-only -> ``to``, fully
overwritten and not read -> ``from``, anything else -> ``tofrom``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pcx_driver.model import (
    DataRegion,
    Decision,
    KernelPlan,
    MapClause,
    MapKind,
    NestAnalysis,
    Plan,
    Remark,
)
from pcx_driver.tune.hotspots import Record

#: (plan key, nest id) names a kernel across the project.
KernelRef = tuple[str, str]
#: (plan key, index of the region in the recorded plan).
RegionRef = tuple[str, int]

KNOBS = ("collapse", "num_teams", "thread_limit", "simd")


def own_maps(nest: NestAnalysis) -> list[MapClause]:
    """Map clauses for a kernel that runs outside any data region."""
    by_kind: dict[MapKind, list] = {}
    for a in nest.arrays:
        if a.read and not a.written:
            kind = MapKind.TO
        elif a.written and a.written_fully and not a.read:
            kind = MapKind.FROM
        else:
            kind = MapKind.TOFROM
        by_kind.setdefault(kind, []).append(copy.deepcopy(a.section))
    return [MapClause(kind, sections) for kind, sections in by_kind.items()]


@dataclass(frozen=True)
class Item:
    """One thing the bisection can switch off: a kernel or a data region."""

    kind: str  # "kernel" or "region"
    key: str
    ident: str | int  # nest id or region index
    label: str  # for messages: "kernels.c:14 matmul" or "data region kernels.c:16 (jacobi)"

    @property
    def ref(self) -> Any:
        return (self.key, self.ident)


@dataclass
class Candidate:
    records: dict[str, Record]
    kernels: set[KernelRef] = field(default_factory=set)
    regions: set[RegionRef] = field(default_factory=set)
    knobs: dict[KernelRef, dict[str, Any]] = field(default_factory=dict)
    # why a kernel or region was switched off (shown in the report and saved with the plan)
    demoted: dict[Any, str] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: dict[str, Record], keep: set[KernelRef] | None = None) -> "Candidate":
        """Every offloaded kernel (or those in ``keep``) and every region of the records."""
        cand = cls(records)
        for key, rec in records.items():
            if rec.plan is None:
                continue
            for k in rec.plan.offloaded():
                if keep is None or (key, k.nest_id) in keep:
                    cand.kernels.add((key, k.nest_id))
            for i, _r in enumerate(rec.plan.regions):
                cand.regions.add((key, i))
        cand.regions = {r for r in cand.regions if cand.region_enabled(r)}
        return cand

    def copy(self) -> "Candidate":
        return Candidate(self.records, set(self.kernels), set(self.regions),
                         {k: dict(v) for k, v in self.knobs.items()}, dict(self.demoted))

    # ------------------------------------------------------------ queries

    def kernel_plan(self, ref: KernelRef) -> KernelPlan | None:
        rec = self.records.get(ref[0])
        if rec is None or rec.plan is None:
            return None
        return next((k for k in rec.plan.kernels if k.nest_id == ref[1]), None)

    def region(self, ref: RegionRef) -> DataRegion | None:
        rec = self.records.get(ref[0])
        if rec is None or rec.plan is None or not 0 <= ref[1] < len(rec.plan.regions):
            return None
        return rec.plan.regions[ref[1]]

    def region_enabled(self, ref: RegionRef) -> bool:
        r = self.region(ref)
        return (
            r is not None
            and ref in self.regions
            and all((ref[0], nid) in self.kernels for nid in r.kernels)
        )

    def label(self, ref: KernelRef) -> str:
        k = self.kernel_plan(ref)
        rec = self.records.get(ref[0])
        path = rec.unit.path if rec else "?"
        return f"{path}:{k.line} {k.function}" if k else f"{path} {ref[1]}"

    def region_label(self, ref: RegionRef) -> str:
        r = self.region(ref)
        rec = self.records.get(ref[0])
        path = rec.unit.path if rec else "?"
        return f"data region {path}:{r.line} ({r.function})" if r else f"data region {path} #{ref[1]}"

    def items(self, order: list[KernelRef] | None = None) -> list[Item]:
        """Enabled kernels (in ``order``, e.g. hottest first) then enabled regions.

        Kernels come first so that when a bisection prefix includes a region, it already
        includes all the region's kernels.
        """
        kernels = [k for k in (order or []) if k in self.kernels]
        kernels += sorted(k for k in self.kernels if k not in kernels)
        out = [Item("kernel", k[0], k[1], self.label(k)) for k in kernels]
        out += [Item("region", r[0], r[1], self.region_label(r))
                for r in sorted(self.regions) if self.region_enabled(r)]
        return out

    def restricted(self, items: list[Item]) -> "Candidate":
        """This candidate with only ``items`` enabled."""
        c = self.copy()
        c.kernels = {i.ref for i in items if i.kind == "kernel"}
        c.regions = {i.ref for i in items if i.kind == "region"}
        return c

    def without(self, item: Item, reason: str) -> "Candidate":
        c = self.copy()
        if item.kind == "kernel":
            c.kernels.discard(item.ref)
        else:
            c.regions.discard(item.ref)
        c.demoted[item.ref] = reason
        return c

    def with_knobs(self, ref: KernelRef, **knobs: Any) -> "Candidate":
        c = self.copy()
        c.knobs.setdefault(ref, {}).update(knobs)
        return c

    def keys(self) -> list[str]:
        """Plan keys of the sources this candidate touches (every source with a kernel)."""
        return sorted({k[0] for k in self.kernels} | {k[0] for k in self.demoted if isinstance(k, tuple)})

    # ------------------------------------------------------------ plans

    def materialise(self, key: str) -> Plan | None:
        """The plan for one source under this candidate (None: the source has no record)."""
        rec = self.records.get(key)
        if rec is None or rec.plan is None:
            return None
        plan = copy.deepcopy(rec.plan)
        nests = {n.nest_id: n for n in rec.analysis.nests()} if rec.analysis else {}
        kept_regions: list[DataRegion] = []
        covered: set[str] = set()
        for i, region in enumerate(plan.regions):
            if self.region_enabled((key, i)):
                kept_regions.append(region)
                covered.update(region.kernels)
        plan.regions = kept_regions
        for k in plan.kernels:
            ref = (key, k.nest_id)
            if k.decision is not Decision.OFFLOADED:
                continue
            if ref not in self.kernels:
                k.decision = Decision.SERIAL
                reason = self.demoted.get(ref, "not selected by pcx tune")
                k.remarks = [r for r in k.remarks if r.id != "PCX100"]
                k.remarks.append(Remark("PCX305", rec.unit.path, k.line, k.column, reason))
                k.maps = []
                continue
            if k.nest_id not in covered and not k.maps:
                nest = nests.get(k.nest_id)
                if nest is None:  # cannot map it safely without its analysis
                    k.decision = Decision.SERIAL
                    k.remarks.append(Remark("PCX305", rec.unit.path, k.line, k.column,
                                            "its data region was dropped and its own data cannot be mapped"))
                    continue
                k.maps = own_maps(nest)
            for name, value in self.knobs.get(ref, {}).items():
                setattr(k, name, value)
        return plan

    def plans(self) -> dict[str, Plan]:
        out = {}
        for key in self.records:
            plan = self.materialise(key)
            if plan is not None:
                out[key] = plan
        return out

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary (what is on, with which knobs) for logs."""
        return {
            "kernels": sorted(self.label(k) for k in self.kernels),
            "regions": sorted(self.region_label(r) for r in self.regions if self.region_enabled(r)),
            "knobs": {self.label(k): v for k, v in self.knobs.items() if k in self.kernels},
        }


def bisect_culprit(items: list[Item], passes) -> Item:
    """The first item whose addition makes the prefix fail.

    Precondition: ``passes(items)`` is False and ``passes([])`` is True (the serial
    program is the reference).  Invariant: the prefix of length ``lo`` passes and the
    prefix of length ``hi`` fails; about log2(len(items)) gate runs.
    """
    lo, hi = 0, len(items)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(items[:mid]):
            lo = mid
        else:
            hi = mid
    return items[hi - 1]
