"""Members of a static archive (``ar`` format) that hold offload code.

Contract: ``offload_members(data, into) -> list[str]`` writes each member of the archive
whose bytes are ``data`` that holds a ``.llvm.offloading`` section into the directory
``into`` and returns their paths, in archive order; [] for a thin archive or one whose
format this reader does not know (the GNU and BSD long-name forms are known).

Why: clang-19's linker wrapper takes device code out of an archive member only when the
member resolves an undefined device symbol, so a link gives the members with kernels as
objects of their own, ahead of the archive (which then supplies the rest as usual).
"""

from __future__ import annotations

import os

MAGIC = b"!<arch>\n"
HEADER = 60


def offload_members(data: bytes, into: str) -> list[str]:
    if not data.startswith(MAGIC):
        return []
    out: list[str] = []
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
        if raw.startswith(b"#1/"):  # BSD: the name precedes the member's bytes
            n = int(raw[3:])
            body = body[n:]
        if b".llvm.offloading" not in body:
            continue
        k += 1
        dest = os.path.join(into, f"pcx-member-{k}.o")
        with open(dest, "wb") as f:
            f.write(body)
        out.append(dest)
    return out
