"""The audit trail: every prompt and response, with token counts, under ``.pcx/llm/``.

Layout (one directory per conversation about one nest)::

    .pcx/llm/index.jsonl                        one summary line per exchange
    .pcx/llm/<session>/0001-analysis.json       request messages, reply, usage, timing
    .pcx/llm/<session>/0002-data-plan.json
    ...

Secrets never reach disk: every string written passes through ``redact``, which removes
the API key (and any other registered secret) wherever it appears.  The key is never put
into a record in the first place; this is the second lock.  The records hold source code
and prompts, so every file is mode 0600 and every directory 0700.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"
_SEQUENCE = itertools.count(1)


def _slug(text: str, limit: int = 40) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
    return out.strip("-.")[:limit] or "x"


def _write_private(path: Path, text: str, append: bool) -> None:
    """Write (or append) ``text`` to a file only its owner can read (mode 0600, also when
    it already existed), never through a symbolic link."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", closefd=False) as fh:
            fh.write(text)
    finally:
        os.close(fd)


class AuditLog:
    """Append-only JSON records of one conversation."""

    def __init__(self, root: Path, session_name: str, secrets: tuple[str, ...] = ()) -> None:
        self.root = root
        self.secrets = tuple(s for s in secrets if s)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        # pid + a per-process sequence: two conversations never share a directory.
        self.session = f"{stamp}-{os.getpid()}-{next(_SEQUENCE)}-{_slug(session_name)}"
        self.directory = root / self.session
        self.count = 0

    def redact(self, value: Any) -> Any:
        if isinstance(value, str):
            for s in self.secrets:
                value = value.replace(s, REDACTED)
            return value
        if isinstance(value, dict):
            return {self.redact(k): self.redact(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact(v) for v in value]
        return value

    def record(self, stage: str, entry: dict[str, Any]) -> Path | None:
        """Write one exchange; returns its path (None if the directory is not writable:
        auditing must not break a tune run, but the failure is reported by the caller)."""
        self.count += 1
        entry = self.redact({"session": self.session, "seq": self.count, "stage": stage, **entry})
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.directory / f"{self.count:04d}-{_slug(stage)}.json"
            _write_private(path, json.dumps(entry, indent=2, ensure_ascii=False) + "\n", append=False)
            usage = entry.get("usage") or {}
            summary = {
                "session": self.session, "seq": self.count, "stage": stage,
                "file": str(path.relative_to(self.root)), "status": entry.get("status"),
                "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens"),
                "total_tokens": usage.get("total_tokens"), "seconds": entry.get("seconds"),
            }
            _write_private(self.root / "index.jsonl", json.dumps(summary) + "\n", append=True)
            return path
        except OSError:
            return None
