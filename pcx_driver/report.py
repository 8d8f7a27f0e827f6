"""The ``--pcx-report=FILE`` JSON report: per source, per loop nest, what was decided and why.

Format (version 1)::

    {"version": 1, "tool": "pcx-cc 0.1.0",
     "sources": [
       {"file": "src/a.c", "path": "/abs/src/a.c", "directory": "/abs", "language": "c",
        "mode": "static", "offload_target": "x86_64-pc-linux-gnu",
        "compiled": "rewritten" | "original",
        "remarks": [{"id": "PCX009", "level": "remark", "line": 1, "column": 1, "message": "..."}],
        "nests": [{"id": "main:12", "function": "main", "file": "src/a.c", "line": 12, "column": 5,
                   "decision": "offloaded" | "kept serial" | "not analysed", "applied": true,
                   "reasons": [{"id": "PCX100", "line": 12, "column": 5, "message": "..."}],
                   "directives": ["omp target teams distribute parallel for map(tofrom: a[0:n])"]}],
        "directives": [{"line": 10, "text": "omp target data map(to: a[0:n])", "nest": null}]}]}

Under ``make -j`` many compiles share one file: ``merge`` takes an exclusive fcntl lock on
``FILE.lock``, replaces the entries of the sources it writes (matched by absolute path)
and atomically replaces the file.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from typing import Any

from pcx_driver.diagnostics import level_of

VERSION = 1


def remark_json(r: Any) -> dict[str, Any]:
    return {"id": r.id, "level": level_of(r.id), "line": r.line, "column": r.column, "message": r.message}


def source_entry(
    *,
    file: str,
    directory: str,
    language: str,
    mode: str,
    offload_target: str,
    compiled: str,
    result: Any = None,
    remarks: list[Any] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """One source's entry.  ``result`` is a ``pipeline.PipelineResult`` or None (not
    analysed); ``remarks`` are unit-level remarks from the driver (PCX00x)."""
    applied = compiled == "rewritten"
    nests: list[dict[str, Any]] = []
    region_directives: list[dict[str, Any]] = []
    by_nest: dict[str, list[str]] = {}
    rewrite = getattr(result, "rewrite", None)
    if rewrite is not None:
        for d in rewrite.directives:
            if d.nest_id is None:
                region_directives.append({"line": d.line, "text": d.text, "nest": None})
            else:
                by_nest.setdefault(d.nest_id, []).append(d.text)
    plan = getattr(result, "plan", None)
    analysis = getattr(result, "analysis", None)
    records = plan.kernels if plan is not None else (analysis.nests() if analysis is not None else [])
    for k in records:
        decision = getattr(k.decision, "value", str(k.decision))
        nests.append(
            {
                "id": k.nest_id,
                "function": k.function,
                "file": file,
                "line": k.line,
                "column": k.column,
                "decision": decision,
                "applied": applied and decision == "offloaded",
                "reasons": [
                    {"id": r.id, "line": r.line, "column": r.column, "message": r.message} for r in k.remarks
                ],
                "directives": by_nest.get(k.nest_id, []),
            }
        )
    unit_remarks = list(remarks)
    if analysis is not None:
        unit_remarks.extend(analysis.remarks)
    if plan is not None:
        unit_remarks.extend(plan.remarks)
    return {
        "file": file,
        "path": os.path.normpath(os.path.join(directory, file)),
        "directory": directory,
        "language": language,
        "mode": mode,
        "offload_target": offload_target,
        "compiled": compiled,
        "remarks": [remark_json(r) for r in unit_remarks],
        "nests": nests,
        "directives": region_directives,
    }


def merge(report_path: str, entries: list[dict[str, Any]], tool: str) -> None:
    """Add ``entries`` to the report file, replacing older entries for the same sources.

    Safe under ``make -j``: an exclusive lock serialises writers; readers never see a
    half-written file (temp file + rename in the same directory).
    """
    report_path = os.path.abspath(report_path)
    directory = os.path.dirname(report_path) or "."
    os.makedirs(directory, exist_ok=True)
    with open(report_path + ".lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            data: dict[str, Any] = {"version": VERSION, "tool": tool, "sources": []}
            try:
                with open(report_path, encoding="utf-8") as f:
                    old = json.load(f)
                if isinstance(old, dict) and isinstance(old.get("sources"), list):
                    data["sources"] = old["sources"]
            except (OSError, ValueError):
                pass  # missing or corrupt: start afresh
            fresh = {e["path"] for e in entries}
            data["sources"] = [e for e in data["sources"] if e.get("path") not in fresh] + entries
            atomic_write(report_path, json.dumps(data, indent=1, sort_keys=False) + "\n")
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def atomic_write(path: str, text: str | bytes) -> None:
    """Write ``path`` through a temp file in the same directory and ``os.replace``."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pcx-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)
        try:  # keep the file's mode (mkstemp makes 0600)
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
