"""Members of a static archive (``ar`` format) that hold offload code.

Contract: ``offload_members(data, into) -> list[Member]`` writes each member of the
archive whose bytes are ``data`` that holds a ``.llvm.offloading`` section into the
directory ``into`` and returns them (the path written, the member's name), in archive
order; [] for a thin archive or one whose format this reader does not know (the GNU and
BSD long-name forms are known).  ``pulled_members(map_text, cwd)`` reads a linker map
(GNU ld's or lld's ``-Map``) for the archive members the link included, as
``(real path of the archive, member name)``.

Why: clang-19's linker wrapper takes device code out of an archive member only when the
member resolves an undefined device symbol, so a link gives the members with kernels as
objects of their own, ahead of the archive (which then supplies the rest as usual).  Only
the members the link as written pulls in: an object on the line is linked whatever it
holds, and a member nothing references would run its constructors and override weak
definitions (a held-out check: a library's unused member replaced the program's weak
``mode()``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# ``libx.a(member.o)`` as linker maps name an archive member (GNU ld and lld alike)
_MEMBER_IN_MAP = re.compile(r"([^\s()]+\.a)\(([^()\s]+)\)")


@dataclass(frozen=True)
class Member:
    path: str  # where its bytes were written
    name: str  # its name in the archive


def pulled_members(map_text: str, cwd: str) -> set[tuple[str, str]]:
    return {(os.path.realpath(os.path.join(cwd, a)), m) for a, m in _MEMBER_IN_MAP.findall(map_text)}

MAGIC = b"!<arch>\n"
HEADER = 60


def offload_members(data: bytes, into: str) -> list[Member]:
    if not data.startswith(MAGIC):
        return []
    out: list[Member] = []
    names = b""
    pos = len(MAGIC)
    k = 0
    while pos + HEADER <= len(data):
        header = data[pos:pos + HEADER]
        if header[58:60] != b"`\n":
            return []
        raw = header[:16].rstrip(b" ")
        try:
            size = int(header[48:58].strip() or b"0")
        except ValueError:
            return []
        body = data[pos + HEADER: pos + HEADER + size]
        pos += HEADER + size + (size & 1)
        if raw == b"//":
            names = body  # GNU long names
            continue
        if raw in (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
            continue
        name = raw.rstrip(b"/")
        if raw.startswith(b"#1/"):  # BSD: the name precedes the member's bytes
            n = int(raw[3:])
            name, body = body[:n].rstrip(b"\0"), body[n:]
        elif raw.startswith(b"/") and raw[1:].isdigit():  # GNU: an offset into the long names
            start = int(raw[1:])
            end = names.find(b"/\n", start)
            name = names[start:end if end >= 0 else len(names)]
        if b".llvm.offloading" not in body:
            continue
        k += 1
        dest = os.path.join(into, f"pcx-member-{k}.o")
        with open(dest, "wb") as f:
            f.write(body)
        out.append(Member(dest, name.decode("utf-8", "surrogateescape")))
    return out
