"""What a pcx-cc command leaves besides the object: the rewritten sources (--pcx-emit),
remarks on stderr (--pcx-remarks) and the report (--pcx-report); never fatal outside
strict mode."""

from __future__ import annotations

import os
import sys

from pcx_driver.cc.state import StrictFailure

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pcx_driver.cc.sources import SourceJob
    from pcx_driver.cc.state import Command


def emit_sources(cmd: Command, jobs: list[SourceJob]) -> None:
    """--pcx-emit: keep each rewritten source (before compiling, so a text that fails
    to compile can be inspected too)."""
    emit = cmd.config.get("emit")
    if not emit:
        return
    try:
        from pcx_driver.report import atomic_write

        for j in jobs:
            if j.text is not None:
                dest = os.path.join(cmd.cwd, emit, _emit_name(j.input.path, cmd.cwd))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                atomic_write(dest, j.text)
    except Exception as exc:  # noqa: BLE001
        _output_failed(cmd, exc)


def write_outputs(cmd: Command, jobs: list[SourceJob], target: str) -> None:
    """Remarks on stderr and the --pcx-report file; never fatal outside strict mode."""
    cfg = cmd.config.get
    try:
        if cfg("remarks"):
            for j in jobs:
                for r in all_remarks(j):
                    sys.stderr.write(r.format() + "\n")
            sys.stderr.flush()
        if cfg("report"):
            from pcx_driver import __version__, report

            entries = [
                report.source_entry(
                    file=j.input.path, directory=cmd.cwd, language=j.input.language,
                    mode=cfg("mode"), offload_target=target,
                    compiled="rewritten" if j.applied else "original",
                    result=j.result, remarks=j.remarks,
                )
                for j in jobs
            ]
            if entries:
                report.merge(os.path.join(cmd.cwd, cfg("report")), entries, f"pcx-cc {__version__}")
    except Exception as exc:  # noqa: BLE001
        _output_failed(cmd, exc)


def _output_failed(cmd: Command, exc: BaseException) -> None:
    message = f"cannot write pcx outputs ({type(exc).__name__}: {exc}) [PCX001]"
    if cmd.config.get("strict"):
        raise StrictFailure(message)
    cmd.say("warning", message)


#: Remarks that say a rewrite is in the object; untrue once the original was compiled.
_APPLIED_ONLY = frozenset({"PCX100", "PCX117", "PCX200", "PCX201", "PCX008"})


def all_remarks(job: SourceJob) -> list[Any]:
    out = list(job.remarks)
    if job.result is not None:
        out.extend(job.result.remarks)
    if job.result is not None and job.result.rewrite is not None and not job.applied:
        # a fallback: the object holds the original source, whatever the plan said
        out = [r for r in out if r.id not in _APPLIED_ONLY]
    return out


def _emit_name(path: str, cwd: str) -> str:
    full = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(full, cwd)
    return os.path.basename(full) if rel.startswith("..") else rel
