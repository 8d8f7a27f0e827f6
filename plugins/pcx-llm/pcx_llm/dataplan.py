"""Stage 2: the model's explicit data plan, checked against the program before any code.

The plan is one JSON object::

    {"arrays": [{"name": "y", "section": "y[0:n]", "map": "tofrom",
                 "read": true, "written": true}],
     "regions": [{"construct": "target teams distribute parallel for",
                  "lines": [6, 7], "collapse": 1, "reductions": [], "private": []}],
     "expected_bytes": {"to_device": "16*n", "from_device": "8*n"}}

``check_data_plan`` holds it against the nest's ``NestAnalysis``: every array the nest
touches must appear, with a section of the right shape and a map kind that agrees with
what the nest reads and writes.  A rejected plan goes back to the model with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pcx_driver.model import ArrayAccessSummary, MapKind, NestAnalysis, Section


@dataclass
class PlannedArray:
    name: str
    section: Section
    map: MapKind
    read: bool | None = None
    written: bool | None = None


@dataclass
class DataPlan:
    arrays: list[PlannedArray] = field(default_factory=list)
    regions: list[dict[str, Any]] = field(default_factory=list)
    expected_bytes: dict[str, Any] = field(default_factory=dict)


def parse_section(text: str) -> Section | None:
    """``"y[0:n][j:m]"`` -> ``Section("y", [("0", "n"), ("j", "m")])``; None if malformed.

    A dimension without ``:`` (``a[i]``) is one element: ``(i, 1)``.
    """
    text = text.strip()
    base_end = text.find("[")
    base = (text if base_end < 0 else text[:base_end]).strip()
    if not base:
        return None
    dims: list[tuple[str, str]] = []
    i = base_end if base_end >= 0 else len(text)
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] != "[":
            return None
        depth, j, colon = 0, i, -1
        while j < len(text):
            ch = text[j]
            if ch in "[(":
                depth += 1
            elif ch in "])":
                depth -= 1
                if depth == 0:
                    break
            elif ch == ":" and depth == 1 and colon < 0:
                colon = j
            j += 1
        if j >= len(text):
            return None
        inner = text[i + 1 : j]
        if colon < 0:
            lo, ln = inner.strip(), "1"
        else:
            lo, ln = text[i + 1 : colon].strip() or "0", text[colon + 1 : j].strip()
        if not ln:
            return None  # a[lo:] has an implicit length only for arrays of known size
        dims.append((lo, ln))
        i = j + 1
    return Section(base, dims)


def parse_data_plan(obj: Any) -> tuple[DataPlan | None, list[str]]:
    """Build a DataPlan from parsed JSON; ``(None, problems)`` if its shape is wrong."""
    problems: list[str] = []
    if not isinstance(obj, dict):
        return None, ["the data plan must be a JSON object with keys arrays, regions, expected_bytes"]
    for key in ("arrays", "regions", "expected_bytes"):
        if key not in obj:
            problems.append(f"the data plan has no {key!r} key")
    arrays_raw = obj.get("arrays", [])
    regions = obj.get("regions", [])
    expected = obj.get("expected_bytes", {})
    if not isinstance(arrays_raw, list):
        problems.append("'arrays' must be a list")
        arrays_raw = []
    if not isinstance(regions, list) or not all(isinstance(r, dict) for r in regions):
        problems.append("'regions' must be a list of objects")
        regions = []
    elif not regions:
        problems.append("'regions' is empty: name the target construct that runs the nest")
    if not isinstance(expected, dict) or not {"to_device", "from_device"} <= set(expected):
        problems.append("'expected_bytes' must be an object with to_device and from_device")
        expected = {}
    plan = DataPlan(regions=list(regions), expected_bytes=dict(expected))
    for k, entry in enumerate(arrays_raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"arrays[{k}] must be an object with a string 'name'")
            continue
        name = entry["name"].strip()
        raw_section = entry.get("section")
        section = parse_section(raw_section) if isinstance(raw_section, str) else None
        if section is None:
            problems.append(f"array {name}: 'section' must be an OpenMP array section like {name}[0:n]")
            continue
        try:
            kind = MapKind(str(entry.get("map", "")).strip().lower())
        except ValueError:
            problems.append(f"array {name}: 'map' must be one of to, from, tofrom, alloc")
            continue
        flags = {}
        for key in ("read", "written"):
            value = entry.get(key)
            if value is not None and not isinstance(value, bool):
                problems.append(f"array {name}: {key!r} must be true or false")
            flags[key] = value if isinstance(value, bool) else None
        plan.arrays.append(PlannedArray(name, section, kind, flags["read"], flags["written"]))
    for r in regions:
        construct = str(r.get("construct", ""))
        if not construct.replace("omp", "", 1).strip().startswith("target"):
            problems.append(f"region {construct!r}: the construct must be an OpenMP target construct")
    return (None, problems) if problems else (plan, [])


def _allowed_maps(a: ArrayAccessSummary) -> set[MapKind]:
    """Map kinds that are correct for what the nest does to ``a``, whatever comes before
    or after it: an input must arrive (to), an output must come back (from), and an array
    written only in part must also arrive, or the copy back overwrites the untouched part."""
    if a.read and a.written:
        return {MapKind.TOFROM}
    if a.written:
        return {MapKind.FROM, MapKind.TOFROM} if a.written_fully else {MapKind.TOFROM}
    if a.read:
        return {MapKind.TO, MapKind.TOFROM}
    return set(MapKind)


def check_data_plan(plan: DataPlan, nest: NestAnalysis) -> list[str]:
    """Reasons the plan disagrees with the analysis of ``nest``; empty when consistent."""
    problems: list[str] = []
    by_name: dict[str, PlannedArray] = {}
    for p in plan.arrays:
        if p.name in by_name:
            problems.append(f"array {p.name} appears twice in the data plan")
        by_name[p.name] = p
    for a in nest.arrays:
        p = by_name.get(a.name)
        if p is None:
            what = "reads and writes" if a.read and a.written else "writes" if a.written else "reads"
            problems.append(f"the nest {what} {a.name} ({a.section.render()}) but the data plan does not map it")
            continue
        if p.section.base not in (a.name, a.section.base):
            problems.append(f"array {a.name}: the section {p.section.render()} names {p.section.base}, not {a.name}")
        if a.section.dims and len(p.section.dims) != len(a.section.dims):
            problems.append(f"array {a.name}: the section has {len(p.section.dims)} dimension(s); "
                            f"the nest uses {len(a.section.dims)} ({a.section.render()})")
        allowed = _allowed_maps(a)
        if p.map not in allowed:
            need = " or ".join(sorted(k.value for k in allowed))
            why = ("it is read and written" if a.read and a.written else
                   "it is written only in part" if a.written and not a.written_fully else
                   "it is written" if a.written else "it is read")
            problems.append(f"array {a.name}: map({p.map.value}:) is wrong because {why} by the nest; use map({need}:)")
        if p.read is not None and a.read and not p.read:
            problems.append(f"array {a.name}: the plan says it is not read, but the nest reads it")
        if p.written is not None and a.written and not p.written:
            problems.append(f"array {a.name}: the plan says it is not written, but the nest writes it")
    return problems
