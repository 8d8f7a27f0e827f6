"""The validated plan cache in ``.pcx/plans/``.

Interface (others code against these four names):

- ``cache_dir(config, cwd) -> Path | None``: --pcx-plan-cache, else the nearest ``.pcx/``
  upward from cwd, else None.
- ``plan_key(unit) -> str``: sha256 over the source text, language and semantic flags.
- ``lookup(unit, config) -> Plan | None``: a validated plan for exactly this source, or None.
  A corrupt or foreign entry is ignored (returns None) with a PCX307 warning on stderr.
- ``store(unit, plan, measurements, config) -> Path``: atomic write (tmp + rename), under a lock.

Format: one JSON file per source, ``<cache_dir>/plans/<plan_key>.json``::

    {"format": "pcx-plan-cache/1",
     "key": "<plan_key>",                       # must equal the file name and plan_key(unit)
     "source": {"path": ..., "language": "c", "semantic_args": [...], "sha256": "<text hash>"},
     "plan": <model.to_jsonable(Plan)>,          # origin is always "validated"
     "measurements": {...},                      # free-form numbers from pcx tune
     "created": "<ISO time>", "pcx_version": "..."}

An entry is trusted only if every check passes: it parses, has this format, names this key,
hashes the same text, is a validated plan, and every byte range it edits lies inside the
source with a loop keyword where a kernel starts.  Anything else is "corrupt or foreign":
a warning, never a crash and never a wrong plan.

Writers take an exclusive ``fcntl`` lock on ``plans/.lock`` and publish with ``os.replace``
so a concurrent build reads either the old entry or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from pcx_driver.model import Plan, Remark, SourceUnit, from_jsonable, to_jsonable

FORMAT = "pcx-plan-cache/1"
PLANS_SUBDIR = "plans"
LOCK_NAME = ".lock"


class CacheEntryError(ValueError):
    """An entry that must not be trusted; the message says why."""


# ------------------------------------------------------------------------- locating


def _config_value(config: Any, name: str) -> Any:
    if config is None:
        return None
    try:
        return config.get(name)
    except KeyError:
        return None


def cache_dir(config: Any, cwd: str | os.PathLike[str] = ".") -> Path | None:
    """The plan cache directory: --pcx-plan-cache (relative to cwd), else ``.pcx/`` upward."""
    explicit = _config_value(config, "plan-cache")
    base = Path(cwd)
    if explicit:
        return (base / explicit).resolve()
    here = base.resolve()
    for d in (here, *here.parents):
        candidate = d / ".pcx"
        if candidate.is_dir():
            return candidate
    return None


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
        "format": FORMAT,
        "text": text_hash(unit),
        "language": getattr(unit.language, "value", str(unit.language)),
        "semantic_args": list(unit.semantic_args),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def entry_path(directory: Path, key: str) -> Path:
    return plans_dir(directory) / f"{key}.json"


# ------------------------------------------------------------------------- reading


def _warn(unit: SourceUnit, message: str) -> None:
    remark = Remark("PCX307", unit.path, 1, 1, message)
    print(remark.format(), file=sys.stderr)


def _check_ranges(unit: SourceUnit, plan: Plan) -> None:
    data = unit.data
    size = len(data)

    def inside(start: int, end: int, what: str) -> None:
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= size):
            raise CacheEntryError(f"{what} edits bytes {start}..{end} outside the source ({size} bytes)")

    for k in plan.kernels:
        inside(k.start_byte, k.end_byte, f"kernel {k.nest_id}")
        if not (data[k.start_byte : k.start_byte + 3] == b"for" or data[k.start_byte : k.start_byte + 5] == b"while"):
            raise CacheEntryError(f"kernel {k.nest_id} does not start at a loop in this source")
        for a, b in k.atomic_updates:
            inside(a, b, f"atomic update in {k.nest_id}")
    for r in plan.regions:
        inside(r.start_byte, r.end_byte, f"data region at line {r.line}")
        for u in r.updates:
            inside(u.byte, u.byte, f"target update at line {u.line}")


def validate_entry(unit: SourceUnit, raw: Any, key: str) -> Plan:
    """The Plan in a parsed entry if it is trustworthy for ``unit``; else CacheEntryError."""
    if not isinstance(raw, dict):
        raise CacheEntryError("not a JSON object")
    if raw.get("format") != FORMAT:
        raise CacheEntryError(f"unknown format {raw.get('format')!r}")
    if raw.get("key") != key:
        raise CacheEntryError("entry belongs to another source (key mismatch)")
    source = raw.get("source")
    if not isinstance(source, dict) or source.get("sha256") != text_hash(unit):
        raise CacheEntryError("entry was made for different source text")
    try:
        plan = from_jsonable(Plan, raw["plan"])
    except Exception as exc:  # any shape error in untrusted data
        raise CacheEntryError(f"plan does not parse ({type(exc).__name__}: {exc})") from None
    if not isinstance(plan, Plan):
        raise CacheEntryError("plan is not an object")
    if plan.origin != "validated":
        raise CacheEntryError(f"plan origin is {plan.origin!r}, not 'validated'")
    _check_ranges(unit, plan)
    return plan


def read_entry(path: Path) -> dict[str, Any]:
    """Parse one cache file (no trust checks: for ``pcx report``)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
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
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            yield path, None, str(exc)


def lookup(unit: SourceUnit, config: Any) -> Plan | None:
    """A validated plan for exactly this source, or None (never raises)."""
    try:
        directory = cache_dir(config, unit.directory or ".")
    except OSError:
        return None
    if directory is None:
        return None
    key = plan_key(unit)
    path = entry_path(directory, key)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        _warn(unit, f"cached plan {path} is unreadable ({exc}); ignored")
        return None
    try:
        raw = json.loads(text)
        return validate_entry(unit, raw, key)
    except json.JSONDecodeError as exc:
        _warn(unit, f"cached plan {path} is corrupt (invalid JSON: {exc.msg}); ignored")
    except CacheEntryError as exc:
        _warn(unit, f"cached plan {path} is corrupt or foreign ({exc}); ignored")
    except RecursionError:
        _warn(unit, f"cached plan {path} is corrupt (nested too deeply); ignored")
    return None


# ------------------------------------------------------------------------- writing


class _Lock:
    """An exclusive advisory lock on ``plans/.lock`` (released on close or process exit)."""

    def __init__(self, directory: Path) -> None:
        self.path = plans_dir(directory) / LOCK_NAME
        self.fd = -1

    def __enter__(self) -> "_Lock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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

    validated = dataclasses.replace(plan, origin="validated")
    return {
        "format": FORMAT,
        "key": plan_key(unit),
        "source": {
            "path": unit.path,
            "language": getattr(unit.language, "value", str(unit.language)),
            "semantic_args": list(unit.semantic_args),
            "sha256": text_hash(unit),
        },
        "plan": to_jsonable(validated),
        "measurements": to_jsonable(measurements or {}),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "pcx_version": __version__,
    }


def store(unit: SourceUnit, plan: Plan, measurements: dict[str, Any] | None, config: Any) -> Path:
    """Save ``plan`` (as origin "validated") for ``unit``; returns the entry's path.

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
