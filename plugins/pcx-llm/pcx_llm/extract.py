"""Parsing a model's reply: one fenced code block, a JSON data plan, refusals.

The reply is Markdown written by an untrusted model.  Nothing here interprets C; the code
block found is handed to ``pcx_driver.tune.proposals.check_proposal``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

CODE_LANGS = frozenset({"", "c", "cpp", "c++", "cxx", "cc", "cuda", "cu", "h"})

# Openings of a refusal.  Only consulted when a reply carries no code block at all, so a
# false positive merely ends a session that had produced nothing usable anyway.
_REFUSAL_OPENINGS = (
    "i can't", "i cannot", "i can not", "i won't", "i will not", "i'm sorry", "i am sorry",
    "sorry, i", "i'm unable", "i am unable", "i'm not able", "i am not able", "as an ai",
)


@dataclass
class Fence:
    lang: str  # the info string's first word, lower-cased ("" if none)
    body: str


def fenced_blocks(reply: str) -> list[Fence]:
    """Every fenced block (``` or ~~~, CommonMark style) of ``reply``, in order.

    An unterminated fence runs to the end of the reply (CommonMark does the same).
    """
    blocks: list[Fence] = []
    lines = reply.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip(" ")
        indent = len(lines[i]) - len(stripped)
        marker = stripped[:3]
        if indent <= 3 and marker in ("```", "~~~"):
            run = len(stripped) - len(stripped.lstrip(marker[0]))
            info = stripped[run:].strip()
            lang = info.split()[0].lower() if info else ""
            body: list[str] = []
            i += 1
            while i < len(lines):
                s = lines[i].lstrip(" ")
                if s.startswith(marker[0] * run) and not s.strip(marker[0]).strip():
                    break
                body.append(lines[i])
                i += 1
            blocks.append(Fence(lang, "\n".join(body)))
        i += 1
    return blocks


def extract_code(reply: str) -> tuple[str | None, str | None]:
    """The one code block of ``reply``: ``(code, None)`` or ``(None, problem)``."""
    code = [b for b in fenced_blocks(reply) if b.lang in CODE_LANGS]
    if not code:
        return None, "the reply has no fenced code block; send the replacement as exactly one ```c block"
    if len(code) > 1:
        return None, (f"the reply has {len(code)} code blocks; send exactly one ```c block holding "
                      "only the statements that replace the nest")
    if not code[0].body.strip():
        return None, "the code block is empty"
    return code[0].body, None


def extract_json(reply: str) -> tuple[object | None, str | None]:
    """The JSON object of a reply (a ```json block, else the whole reply)."""
    blocks = [b for b in fenced_blocks(reply) if b.lang == "json"] or [b for b in fenced_blocks(reply) if b.lang == ""]
    candidates = [b.body for b in blocks] if blocks else [reply]
    if len(candidates) > 1:
        return None, "the reply has more than one JSON block; send the data plan as exactly one ```json block"
    try:
        return json.loads(candidates[0]), None
    except json.JSONDecodeError as exc:
        return None, f"the data plan is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


def looks_like_refusal(reply: str, refusal_field: str | None = None) -> bool:
    """True if the model declined (the API's ``refusal`` field, or a reply that opens
    like a refusal and holds no fenced block)."""
    if refusal_field:
        return True
    if fenced_blocks(reply):
        return False
    opening = reply.strip().lower().replace("\u2019", "'")[:80]
    return opening.startswith(_REFUSAL_OPENINGS)
