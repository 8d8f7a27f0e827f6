"""One chat completion against any OpenAI-compatible server, with retries and an audit.

The ``openai`` client does the HTTP; its own retry loop is off (``max_retries=0``) so the
policy is ours and visible: retry on 429, 5xx, timeouts and connection failures, with
exponential backoff (``backoff * 2**k``, or the server's ``Retry-After`` when it sends
one, capped at ``MAX_WAIT``); fail at once on any other status (400, 401, 404, ...).
Every try, failed or not, is written to the audit log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pcx_llm.audit import AuditLog

MAX_WAIT = 60.0  # seconds; a Retry-After beyond this is not honoured


class EndpointError(Exception):
    """The server could not give an answer within the retry budget (message is safe to show)."""


@dataclass
class Reply:
    text: str
    refusal: str | None = None
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class ClientSettings:
    model: str
    base_url: str | None = None
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0
    max_tokens: int = 4096
    temperature: float = 0.0


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ChatClient:
    """Sends a conversation, returns the assistant's reply; see the module docstring."""

    def __init__(
        self,
        settings: ClientSettings,
        api_key: str | None,
        audit: AuditLog,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import openai

        self.settings = settings
        self.audit = audit
        self._sleep = sleep
        self._openai = openai
        # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client needs one.
        self._client = openai.OpenAI(
            api_key=api_key or "no-key",
            base_url=settings.base_url or None,
            timeout=settings.timeout,
            max_retries=0,
        )
        self.usage_total: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}

    def _retryable(self, exc: Exception) -> bool:
        o = self._openai
        if isinstance(exc, (o.APITimeoutError, o.APIConnectionError)):
            return True
        if isinstance(exc, o.APIStatusError):
            return exc.status_code == 429 or exc.status_code >= 500
        return False

    def complete(self, messages: list[dict[str, str]], stage: str) -> Reply:
        s = self.settings
        request = {"model": s.model, "messages": messages, "max_tokens": s.max_tokens, "temperature": s.temperature}
        last_error = "no attempt made"
        for attempt in range(max(0, s.retries) + 1):
            started = time.monotonic()
            try:
                response = self._client.chat.completions.create(**request)
            except Exception as exc:
                seconds = round(time.monotonic() - started, 3)
                status = getattr(exc, "status_code", None)
                last_error = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
                retry = self._retryable(exc) and attempt < s.retries
                self.audit.record(stage, {
                    "status": "error", "error": last_error, "detail": str(exc)[:2000], "attempt": attempt + 1,
                    "will_retry": retry, "base_url": s.base_url, "request": request, "seconds": seconds,
                })
                if not retry:
                    break
                wait = _retry_after(exc)
                wait = min(MAX_WAIT, wait if wait is not None else s.backoff * (2**attempt))
                self._sleep(wait)
                continue
            seconds = round(time.monotonic() - started, 3)
            choice = response.choices[0] if response.choices else None
            message = choice.message if choice is not None else None
            text = (message.content or "") if message is not None else ""
            refusal = getattr(message, "refusal", None) if message is not None else None
            usage = {}
            if response.usage is not None:
                usage = {k: int(getattr(response.usage, k) or 0) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
                for k, v in usage.items():
                    self.usage_total[k] += v
            reply = Reply(text, refusal, choice.finish_reason if choice is not None else None, usage)
            self.audit.record(stage, {
                "status": "ok", "attempt": attempt + 1, "base_url": s.base_url, "request": request,
                "response": {"text": text, "refusal": refusal, "finish_reason": reply.finish_reason,
                             "model": getattr(response, "model", None)},
                "usage": usage, "seconds": seconds,
            })
            return reply
        raise EndpointError(f"LLM endpoint failed after {attempt + 1} tries: {last_error}")
