"""The validated plan cache in ``.pcx/plans/``: *decisions*, never text.

A cache entry may come with a cloned repository or from a shared directory, so it is
untrusted input.  It therefore holds only decisions, named by nest identity (the
``<function>:<line>`` nest ids of the analysis):

- which nests are offloaded (and, for one that pcx tune demoted, why not);
- the variant of each offloaded nest: ``collapse``, ``num_teams``, ``thread_limit``,
  ``simd`` (numbers and a flag, checked for type and range);
- which ``target data`` regions are kept (by the set of nests each one covers).

A build that finds an entry analyses and plans the current source afresh (the planner
stage, through the plugin manager, exactly as static mode does) and ``apply_decisions``
restricts that fresh plan to the cached decisions.  Every clause the compiler sees (maps,
sections, reductions, privates, updates) comes from the fresh analysis; nothing from the
cache reaches the compiler as text.  A cached decision the analysis does not prove legal
(a nest it keeps serial, a nest or region the source no longer has, a collapse deeper
than the nest) is dropped, with one ``warning`` line per source [PCX307].

Interface:

- ``cache_dir(config, cwd) -> Path | None``: --pcx-plan-cache, else the nearest usable
  ``.pcx/`` upward from cwd, up to the project root (``config.find_plan_cache``).
- ``plan_key(unit) -> str``: sha256 over the source text, language and semantic flags.
- ``lookup(unit, config, warn) -> CachedDecisions | None``: the decisions for exactly this
  source, or None.  A corrupt, foreign, oversized or non-regular entry (a FIFO, a link to
  /dev/zero) is ignored with a PCX307 warning; it never blocks and never raises.
- ``apply_decisions(unit, analysis, plan, decisions) -> (Plan, [messages])``.
- ``store(unit, plan, measurements, config) -> Path``: the decisions of a (materialised)
  plan, written atomically (tmp + rename) under a lock.

Format: one JSON file per source, ``<cache_dir>/plans/<plan_key>.json``::

    {"format": "pcx-plan-cache/2",
     "key": "<plan_key>",                       # must equal the file name and plan_key(unit)
     "source": {"path": ..., "language": "c", "semantic_args": [...], "sha256": "<text hash>"},
     "decisions": {"kernels": [{"nest_id": "scale:2", "offload": true, "collapse": 1,
                                "num_teams": 128, "thread_limit": null, "simd": false,
                                "reason": "", "trusted": false}, ...],
                   "regions": [{"function": "jacobi", "kernels": ["jacobi:12", "jacobi:16"]}]},
     "measurements": {...},                      # free-form numbers from pcx tune (reports only)
     "created": "<ISO time>", "pcx_version": "..."}

Entries of the first format (``pcx-plan-cache/1``, a whole plan with clause text) are
still read, for their decisions only.

Writers take an exclusive ``fcntl`` lock on ``plans/.lock`` and publish with ``os.replace``
so a concurrent build reads either the old entry or the new one, never half of one.
"""

from __future__ import annotations

import copy
import datetime
import fcntl
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from pcx_driver.config import find_plan_cache, read_regular_file
from pcx_driver.model import Decision, Plan, Remark, SourceUnit, UnitAnalysis, to_jsonable

FORMAT = "pcx-plan-cache/2"
OLD_FORMATS = ("pcx-plan-cache/1",)
#: Part of every key: unchanged since the first format, so entries keep their names.
KEY_VERSION = "pcx-plan-cache/1"
PLANS_SUBDIR = "plans"
LOCK_NAME = ".lock"
#: An entry larger than this is not read (a real one is a few kB).
MAX_ENTRY_BYTES = 4 << 20
#: Bounds of the numeric knobs (OpenMP takes positive ints; anything else is not ours).
MAX_KNOB = 1 << 24
MAX_REASON = 300
MAX_NESTS = 100_000


class CacheEntryError(ValueError):
    """An entry that must not be trusted; the message says why."""


@dataclass
class KernelDecision:
    """What pcx tune decided for one nest."""

    nest_id: str
    offload: bool
    collapse: int | None = None
    num_teams: int | None = None
    thread_limit: int | None = None
    simd: bool = False
    reason: str = ""  # why a nest the analysis proves is not offloaded (shown as PCX305)
    # offloaded on the user's pragma's word (PCX129): the gate passed it, so a build that
    # applies this decision analyses the source with --pcx-trust-pragmas
    trusted: bool = False


@dataclass
class RegionDecision:
    """A ``target data`` region kept, named by the nests it covers."""

    function: str
    kernels: list[str] = field(default_factory=list)


@dataclass
class CachedDecisions:
    kernels: list[KernelDecision] = field(default_factory=list)
    regions: list[RegionDecision] = field(default_factory=list)
    origin: str = "validated"

    def offloaded(self) -> list[str]:
        return [k.nest_id for k in self.kernels if k.offload]

    def trusts_pragmas(self) -> bool:
        """Whether a kernel rests on the user's pragma (the gate passed it)."""
        return any(k.offload and k.trusted for k in self.kernels)


# ------------------------------------------------------------------------- locating


def _config_value(config: Any, name: str) -> Any:
    if config is None:
        return None
    try:
        return config.get(name)
    except KeyError:
        return None


def cache_dir(config: Any, cwd: str | os.PathLike[str] = ".") -> Path | None:
    """The plan cache directory: --pcx-plan-cache (relative to cwd), else ``.pcx/`` upward
    up to the project root (see ``config.find_plan_cache`` for what is skipped)."""
    explicit = _config_value(config, "plan-cache")
    base = Path(cwd)
    if explicit:
        return (base / explicit).resolve()
    found = find_plan_cache(base, getattr(config, "file", None))
    return Path(found) if found else None


def plans_dir(directory: Path) -> Path:
    return directory / PLANS_SUBDIR


# ------------------------------------------------------------------------- keys


def text_hash(unit: SourceUnit) -> str:
    return hashlib.sha256(unit.data).hexdigest()


def plan_key(unit: SourceUnit) -> str:
    """sha256 over the source bytes, the language and the flags that change meaning.

    The path is deliberately not part of the key: the same text built from a scratch copy
    of the project (as pcx tune does) must find the same entry.
    """
    identity = {
        "format": KEY_VERSION,
        "text": text_hash(unit),
        "language": getattr(unit.language, "value", str(unit.language)),
        "semantic_args": list(unit.semantic_args),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def entry_path(directory: Path, key: str) -> Path:
    return plans_dir(directory) / f"{key}.json"


# ------------------------------------------------------------------------- decisions


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _knob(d: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = d.get(name)
    if value is None:
        return None
    if not _is_int(value) or not low <= value <= high:
        raise CacheEntryError(f"{name} of nest {str(d.get('nest_id'))[:80]!r} is {str(value)[:40]!r}, "
                              f"not a whole number in {low}..{high}")
    return value


def _nest_id(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 512:
        raise CacheEntryError(f"nest id {str(value)[:80]!r} is not a short string")
    return value


def _reason(value: Any) -> str:
    """A demotion reason as a single printable line (it is shown, never compiled)."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(text.split())[:MAX_REASON]


def _kernel(d: Any, offload: Any) -> KernelDecision:
    if not isinstance(d, dict):
        raise CacheEntryError("a kernel decision is not an object")
    if not isinstance(offload, bool):
        raise CacheEntryError(f"offload of nest {str(d.get('nest_id'))[:80]!r} is not true or false")
    simd, trusted = d.get("simd", False), d.get("trusted", False)
    for name, value in (("simd", simd), ("trusted", trusted)):
        if not isinstance(value, bool):
            raise CacheEntryError(f"{name} of nest {str(d.get('nest_id'))[:80]!r} is not true or false")
    return KernelDecision(
        nest_id=_nest_id(d.get("nest_id")), offload=offload,
        collapse=_knob(d, "collapse", 1, 64), num_teams=_knob(d, "num_teams", 1, MAX_KNOB),
        thread_limit=_knob(d, "thread_limit", 1, MAX_KNOB), simd=simd, reason=_reason(d.get("reason")),
        trusted=trusted,
    )


def _regions(raw: Any) -> list[RegionDecision]:
    if not isinstance(raw, list) or len(raw) > MAX_NESTS:
        raise CacheEntryError("regions is not a list")
    out = []
    for r in raw:
        if not isinstance(r, dict) or not isinstance(r.get("kernels"), list):
            raise CacheEntryError("a region decision is not an object with a list of kernels")
        function = r.get("function")
        if not isinstance(function, str) or len(function) > 512:
            raise CacheEntryError("a region decision has no function name")
        out.append(RegionDecision(function, [_nest_id(n) for n in r["kernels"]]))
    return out


def parse_decisions(raw: Any) -> CachedDecisions:
    """The decisions of a ``pcx-plan-cache/2`` entry; CacheEntryError on any shape error."""
    if not isinstance(raw, dict):
        raise CacheEntryError("decisions is not an object")
    kernels = raw.get("kernels")
    if not isinstance(kernels, list) or len(kernels) > MAX_NESTS:
        raise CacheEntryError("kernels is not a list")
    return CachedDecisions([_kernel(k, k.get("offload") if isinstance(k, dict) else None) for k in kernels],
                           _regions(raw.get("regions", [])))


def decisions_of_old_plan(raw: Any) -> CachedDecisions:
    """The decisions in a ``pcx-plan-cache/1`` entry's plan; its text (maps, sections,
    reductions, byte ranges) is never read."""
    if not isinstance(raw, dict):
        raise CacheEntryError("plan is not an object")
    if raw.get("origin") != "validated":
        raise CacheEntryError(f"plan origin is {str(raw.get('origin'))[:40]!r}, not 'validated'")
    kernels = raw.get("kernels")
    if not isinstance(kernels, list) or len(kernels) > MAX_NESTS:
        raise CacheEntryError("plan kernels is not a list")
    out = []
    for k in kernels:
        if not isinstance(k, dict) or k.get("decision") not in [d.value for d in Decision]:
            raise CacheEntryError("a plan kernel has no decision")
        reason = ""
        for r in k.get("remarks") or []:
            if isinstance(r, dict) and r.get("id") == "PCX305":
                reason = r.get("message", "")
        out.append(_kernel({**k, "reason": reason}, k["decision"] == Decision.OFFLOADED.value))
    return CachedDecisions(out, _regions(raw.get("regions", [])))


def decisions_of(plan: Plan) -> CachedDecisions:
    """What a (materialised, gate-passed) plan decides: offloaded nests with their knobs,
    nests pcx tune demoted with the reason, and the regions it keeps."""
    kernels = []
    for k in plan.kernels:
        demoted = [r.message for r in k.remarks if r.id == "PCX305"]
        if k.decision is Decision.OFFLOADED:
            kernels.append(KernelDecision(k.nest_id, True, k.collapse, k.num_teams, k.thread_limit, bool(k.simd),
                                          trusted=bool(k.pragma_claim)))
        elif demoted:
            kernels.append(KernelDecision(k.nest_id, False, reason=_reason(demoted[-1])))
    regions = [RegionDecision(r.function, sorted(r.kernels)) for r in plan.regions]
    return CachedDecisions(kernels, regions)


def apply_decisions(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan,
                    decisions: CachedDecisions) -> tuple[Plan, list[str]]:
    """``plan`` (fresh from the analysis of the current source) restricted to ``decisions``.

    Returns the plan to rewrite (origin "validated") and one message per cached decision
    that was dropped because the analysis does not prove it.  A nest offloaded by the
    fresh plan but not by the decisions runs serially (PCX305); a region is kept only when
    the decisions name exactly its nests and all of them are offloaded; a kernel whose
    region is not kept maps its own data, derived from its analysis.
    """
    from pcx_driver.tune.candidate import own_maps  # the same rule pcx tune's candidates use

    plan = copy.deepcopy(plan)
    dropped: list[str] = []
    wanted = {d.nest_id: d for d in decisions.kernels}
    fresh = {k.nest_id: k for k in plan.kernels}
    nests = {n.nest_id: n for n in analysis.nests()} if analysis is not None else {}
    for d in decisions.kernels:
        if not d.offload:
            continue
        k = fresh.get(d.nest_id)
        if k is None:
            dropped.append(f"nest {d.nest_id[:80]!r} is not in this source")
        elif k.decision is not Decision.OFFLOADED:
            why = next((f" [{r.id}]" for r in k.remarks if r.id != "PCX100"), "")
            dropped.append(f"nest {d.nest_id} is not proved parallel by the analysis{why}")
    for k in plan.kernels:
        if k.decision is not Decision.OFFLOADED:
            continue
        d = wanted.get(k.nest_id)
        if d is None or not d.offload:
            _demote(unit, k, (d.reason if d is not None else "") or "not selected by pcx tune")
            continue
        nest = nests.get(k.nest_id)
        deepest = max(k.collapse, nest.collapse if nest is not None else 1)
        if d.collapse is not None:
            if d.collapse <= deepest:
                k.collapse = d.collapse
            else:
                dropped.append(f"collapse({d.collapse}) of nest {k.nest_id} is deeper than its {deepest} "
                               f"perfectly nested loop(s)")
        k.num_teams, k.thread_limit, k.simd = d.num_teams, d.thread_limit, d.simd
    offloaded = {k.nest_id for k in plan.kernels if k.decision is Decision.OFFLOADED}
    want_regions = {(r.function, tuple(sorted(r.kernels))) for r in decisions.regions}
    kept, covered, matched = [], set(), set()
    for r in plan.regions:
        sig = (r.function, tuple(sorted(r.kernels)))
        if sig in want_regions and set(r.kernels) <= offloaded:
            kept.append(r)
            covered.update(r.kernels)
            matched.add(sig)
    for function, members in sorted(want_regions - matched):
        if set(members) <= offloaded:
            dropped.append(f"data region over {', '.join(members)[:200]} is not planned for this source")
    plan.regions = kept
    for k in plan.kernels:
        if k.decision is Decision.OFFLOADED and k.nest_id not in covered and not k.maps:
            nest = nests.get(k.nest_id)
            if nest is None:
                _demote(unit, k, "its data region was dropped and its own data cannot be mapped")
            else:
                k.maps = own_maps(nest)
    plan.origin = "validated"
    return plan, dropped


def _demote(unit: SourceUnit, k: Any, reason: str) -> None:
    k.decision = Decision.SERIAL
    k.remarks = [r for r in k.remarks if r.id != "PCX100"]
    k.remarks.append(Remark("PCX305", unit.path, k.line, k.column, reason))
    k.maps = []


# ------------------------------------------------------------------------- reading


def _default_warn(message: str) -> None:
    sys.stderr.write(f"pcx: warning: {message}\n")
    sys.stderr.flush()


def validate_entry(unit: SourceUnit, raw: Any, key: str) -> CachedDecisions:
    """The decisions in a parsed entry if it belongs to ``unit``; else CacheEntryError."""
    if not isinstance(raw, dict):
        raise CacheEntryError("not a JSON object")
    if raw.get("format") != FORMAT and raw.get("format") not in OLD_FORMATS:
        raise CacheEntryError(f"unknown format {str(raw.get('format'))[:40]!r}")
    if raw.get("key") != key:
        raise CacheEntryError("entry belongs to another source (key mismatch)")
    source = raw.get("source")
    if not isinstance(source, dict) or source.get("sha256") != text_hash(unit):
        raise CacheEntryError("entry was made for different source text")
    if raw.get("format") == FORMAT:
        return parse_decisions(raw.get("decisions"))
    return decisions_of_old_plan(raw.get("plan"))


def _read_json(path: Path) -> Any:
    """Parse one entry file: a regular file (no FIFO, device or symbolic link) of at most
    MAX_ENTRY_BYTES, valid UTF-8 JSON.  OSError, ValueError or RecursionError otherwise."""
    data = read_regular_file(str(path), MAX_ENTRY_BYTES, follow=False)
    return json.loads(data.decode("utf-8"))


def read_entry(path: Path) -> dict[str, Any]:
    """Parse one cache file (no trust checks: for ``pcx report``)."""
    raw = _read_json(path)
    if not isinstance(raw, dict) or (raw.get("format") != FORMAT and raw.get("format") not in OLD_FORMATS):
        raise CacheEntryError(f"{path}: not a pcx plan cache entry")
    return raw


def iter_entries(directory: Path) -> Iterator[tuple[Path, dict[str, Any] | None, str]]:
    """Every entry file with its parsed content (None and a reason when unreadable)."""
    pdir = plans_dir(directory)
    if not pdir.is_dir():
        return
    for path in sorted(pdir.glob("*.json")):
        try:
            yield path, read_entry(path), ""
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            yield path, None, str(exc)


def lookup(unit: SourceUnit, config: Any, warn: Callable[[str], None] | None = None) -> CachedDecisions | None:
    """The cached decisions for exactly this source, or None (never raises, never blocks)."""
    warn = warn or _default_warn
    try:
        directory = cache_dir(config, unit.directory or ".")
    except OSError:
        return None
    if directory is None:
        return None
    path = entry_path(directory, plan_key(unit))
    where = f"{unit.path}: cached plan {path}"
    try:
        raw = _read_json(path)
        return validate_entry(unit, raw, plan_key(unit))
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        warn(f"{where} is corrupt (not UTF-8); ignored [PCX307]")
    except json.JSONDecodeError as exc:
        warn(f"{where} is corrupt (invalid JSON: {exc.msg}); ignored [PCX307]")
    except CacheEntryError as exc:
        warn(f"{where} is corrupt or foreign ({exc}); ignored [PCX307]")
    except RecursionError:
        warn(f"{where} is corrupt (nested too deeply); ignored [PCX307]")
    except (OSError, ValueError) as exc:
        warn(f"{where} is unreadable ({exc}); ignored [PCX307]")
    return None


# ------------------------------------------------------------------------- writing


class _Lock:
    """An exclusive advisory lock on ``plans/.lock`` (released on close or process exit)."""

    def __init__(self, directory: Path) -> None:
        self.path = plans_dir(directory) / LOCK_NAME
        self.fd = -1

    def __enter__(self) -> "_Lock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def make_entry(unit: SourceUnit, plan: Plan, measurements: dict[str, Any] | None) -> dict[str, Any]:
    from pcx_driver import __version__

    return {
        "format": FORMAT,
        "key": plan_key(unit),
        "source": {
            "path": unit.path,
            "language": getattr(unit.language, "value", str(unit.language)),
            "semantic_args": list(unit.semantic_args),
            "sha256": text_hash(unit),
        },
        "decisions": to_jsonable(decisions_of(plan)),
        "measurements": to_jsonable(measurements or {}),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "pcx_version": __version__,
    }


def store(unit: SourceUnit, plan: Plan, measurements: dict[str, Any] | None, config: Any) -> Path:
    """Save the decisions of ``plan`` for ``unit``; returns the entry's path.

    The cache is ``cache_dir(config, unit.directory)``, or ``<unit.directory>/.pcx`` when
    none exists yet.
    """
    directory = cache_dir(config, unit.directory or ".") or (Path(unit.directory or ".").resolve() / ".pcx")
    plans_dir(directory).mkdir(parents=True, exist_ok=True)
    entry = make_entry(unit, plan, measurements)
    path = entry_path(directory, entry["key"])
    text = json.dumps(entry, indent=1, sort_keys=True) + "\n"
    with _Lock(directory):
        atomic_write_text(path, text)
    return path


def remove(unit: SourceUnit, config: Any) -> bool:
    """Drop the entry for ``unit`` (when a re-tune finds its plan no longer passes)."""
    directory = cache_dir(config, unit.directory or ".")
    if directory is None:
        return False
    path = entry_path(directory, plan_key(unit))
    if not plans_dir(directory).is_dir():
        return False
    with _Lock(directory):
        try:
            path.unlink()
            return True
        except FileNotFoundError:
            return False
