"""The pcx plugin (entry point ``pcx: llm``): settings and ``pcx_propose_rewrite``.

Off unless ``llm`` is enabled (``--pcx-llm``, ``PCX_LLM=1`` or ``llm = true`` in a trusted
pcx.toml), because it sends source code to a server.  The API key is read from
``OPENAI_API_KEY`` at call time; it is never a setting, never logged and never saved, and
it goes only to an endpoint the user named: ``llm``, ``llm-base-url`` and ``llm-log-dir``
are needs-trust settings, which a pcx.toml gives only when the user trusted it
(``pcx trust DIR``); otherwise the command line, the environment (``PCX_LLM_BASE_URL``,
``OPENAI_BASE_URL``) or the default api.openai.com decide.

Conversations are kept per (file, nest, source text) for the life of the process, so the
feedback ``pcx tune`` passes on a later call continues the same conversation; a call with
empty feedback starts a new one.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pcx_driver import hookimpl
from pcx_driver.config import OptionSpec
from pcx_driver.model import NestAnalysis, SourceUnit

# Every build that has this plugin installed imports this module (its settings must be
# known), and almost none turns it on: what only a proposal needs (the agent, the client,
# the audit log, logging, hashlib) is imported by the first proposal.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pcx_llm.agent import NestSession
    from pcx_llm.client import ClientSettings

#: The plugin's settings, one table (``--pcx-NAME``, ``PCX_NAME``, pcx.toml ``NAME``).
OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("llm", False, "let an LLM propose rewrites for nests the rule engine kept serial "
               "(sends source code to the server at llm-base-url)", "bool", needs_trust=True),
    OptionSpec("llm-backoff", 1.0, "first wait in seconds before retrying a 429/5xx/timeout (doubles each retry)", "float"),
    OptionSpec("llm-base-url", None, "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 for vLLM "
               "(default: OPENAI_BASE_URL, else api.openai.com); the key comes from OPENAI_API_KEY",
               needs_trust=True),
    OptionSpec("llm-log-dir", None, "where prompts and responses are saved (default: .pcx/llm of the working directory)",
               needs_trust=True),
    OptionSpec("llm-max-attempts", 3, "proposals per nest, and re-asks per stage for a malformed reply", "int"),
    OptionSpec("llm-max-tokens", 4096, "max_tokens of each completion", "int"),
    OptionSpec("llm-model", None, "model name the server knows (required when llm is on)"),
    OptionSpec("llm-retries", 3, "retries of one request on 429, 5xx, timeout or connection failure", "int"),
    OptionSpec("llm-timeout", 120.0, "seconds to wait for one completion", "float"),
)

_DEFAULTS = {o.name: o.default for o in OPTIONS}
_MAX_SESSIONS = 64
_sessions: "OrderedDict[tuple[str, ...], NestSession]" = OrderedDict()


def _setting(config: Any, name: str) -> Any:
    """``config.get(name)``, or the default when the config was resolved without our specs."""
    try:
        value = config.get(name)
    except (KeyError, AttributeError):
        return _DEFAULTS[name]
    return _DEFAULTS[name] if value is None and _DEFAULTS[name] is not None else value


def reset_sessions() -> None:
    """Forget every conversation (tests; a long-lived process between tune runs)."""
    _sessions.clear()


def _log() -> Any:
    import logging

    return logging.getLogger("pcx_llm")


def _key(unit: SourceUnit, nest: NestAnalysis, settings: ClientSettings) -> tuple[str, ...]:
    import hashlib

    digest = hashlib.sha256(unit.data).hexdigest()
    return (unit.path, nest.nest_id, digest, settings.base_url or "", settings.model)


def log_directory(config: Any) -> Path:
    """``llm-log-dir``, else ``.pcx/llm`` of the working directory (the project directory
    under ``pcx tune``; not the unit's directory, which may be a scratch build copy)."""
    configured = _setting(config, "llm-log-dir")
    return Path(configured) if configured else Path.cwd() / ".pcx" / "llm"


@hookimpl
def pcx_add_options() -> list[OptionSpec]:
    return list(OPTIONS)


@hookimpl
def pcx_propose_rewrite(unit: SourceUnit, nest: NestAnalysis, feedback: list[str], config: Any) -> str | None:
    """Replacement text for ``nest``'s byte range, or None (off, refused, failed, out of budget)."""
    if not _setting(config, "llm"):
        return None
    try:
        return _propose(unit, nest, list(feedback or []), config)
    except Exception as exc:  # no traceback reaches a user; the audit log has the exchanges
        _log().warning("%s:%d:%d: warning: LLM proposal failed: %s: %s [PCX502]",
                       unit.path, nest.line, nest.column, type(exc).__name__, exc)
        return None


def _propose(unit: SourceUnit, nest: NestAnalysis, feedback: list[str], config: Any) -> str | None:
    from pcx_llm.agent import NestSession
    from pcx_llm.audit import AuditLog
    from pcx_llm.client import ChatClient, ClientSettings

    model = _setting(config, "llm-model")
    if not model:
        _log().warning("%s:%d:%d: warning: llm is on but no model is set (PCX_LLM_MODEL / --pcx-llm-model) [PCX502]",
                       unit.path, nest.line, nest.column)
        return None
    settings = ClientSettings(
        model=str(model),
        base_url=_setting(config, "llm-base-url") or os.environ.get("OPENAI_BASE_URL") or None,
        timeout=float(_setting(config, "llm-timeout")),
        retries=int(_setting(config, "llm-retries")),
        backoff=float(_setting(config, "llm-backoff")),
        max_tokens=int(_setting(config, "llm-max-tokens")),
    )
    max_attempts = int(_setting(config, "llm-max-attempts"))
    key = _key(unit, nest, settings)
    session = _sessions.get(key)
    if session is not None and feedback:
        _sessions.move_to_end(key)
        return session.continue_with(feedback)
    api_key = os.environ.get("OPENAI_API_KEY") or None
    audit = AuditLog(log_directory(config), f"{Path(unit.path).name}-{nest.nest_id}",
                     secrets=(api_key,) if api_key else ())
    session = NestSession(unit, nest, ChatClient(settings, api_key, audit), max_attempts)
    _sessions[key] = session
    while len(_sessions) > _MAX_SESSIONS:
        _sessions.popitem(last=False)
    return session.start(feedback)
