"""Kernel names of their own for each compile of a rewritten source.

Clang names an offloaded region ``__omp_offloading_<dev>_<file>_<function>_l<line>``, where
``<dev>`` and ``<file>`` are the device and inode of the file that the region's ``#line``
names: the user's source, since the rewrite puts ``#line N "<path>"`` before each
directive it inserts.  The same source compiled twice with different macros
(``-DREAL=float`` and ``-DREAL=double``, one object each, as numeric libraries build their
precisions) gives the two kernels of a ``static`` function one name; the device image
keeps one of them, and the other object's calls run it: a wrong answer, and no error.
Plain clang does the same to target code a user wrote by hand; these kernels are pcx's,
so pcx names them apart.

``named_apart`` points the ``#line`` before each ``target`` construct at a file of this
compile's own, ``<cache>/kernel-files/<digest>/<base name>`` (``<cache>`` is
``$XDG_CACHE_HOME/pcx``, default ``~/.cache/pcx``), whose digest covers the working
directory, the source path, the rewritten text and the command's arguments.  Only the
directive's own line names it: the loop and every other line still name the user's source
(diagnostics, ``__FILE__``), and the line number is kept, so kernel names still say which
line they run (pcx tune and the benches count launches by line).

The files stay: an inode is unique only among files that exist, and an object built today
may be linked beside one built next week.  A file untouched for 30 days is removed (at
most one sweep a day).  Where the user's cache cannot be written (a sandboxed build's
HOME), the folder ``pcx-<uid>`` of the temp directory takes them; where neither can, the
text is compiled as it is, named as plain clang would name it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Mapping

from pcx_driver.engine.rewrite import c_string

#: files not used for this long are swept away
MAX_AGE_S = 30 * 24 * 3600
_SWEEP_EVERY_S = 24 * 3600
_SUBDIR = "kernel-files"
# directives that make no kernel of their own
_NO_REGION = {"data", "enter", "exit", "update"}


def cache_roots(environ: Mapping[str, str] | None = None) -> list[str]:
    """Where the files may live, first choice first: the user's cache, then a folder of
    this user's own in the temp directory (a build whose HOME cannot be written)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    temp = os.path.join(tempfile.gettempdir(), f"pcx-{os.getuid()}")
    return [os.path.join(base, "pcx", _SUBDIR), os.path.join(temp, _SUBDIR)]


def named_apart(text: str, source_path: str, cwd: str, args: list[str],
                root: str | None = None) -> tuple[str, str | None]:
    """``text`` with the ``#line`` before each ``target`` construct naming this compile's
    own file, and that file (which the compiler's diagnostics on those lines then name:
    the driver shows them under the source's name); ``text`` unchanged, and None, where
    it has none or the file cannot be made."""
    source_literal = c_string(source_path)
    lines = text.split("\n")
    kernel_lines = [i for i in range(len(lines) - 1)
                    if _is_kernel_directive(lines[i + 1]) and _line_number(lines[i], source_literal) is not None]
    if not kernel_lines:
        return text, None
    identity = json.dumps([os.path.abspath(cwd), source_path, args, text])
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:40]
    for candidate in [root] if root else cache_roots():
        own = _own_file(candidate, digest, os.path.basename(source_path), source_path)
        if own is not None:
            break
    else:
        return text, None
    for i in kernel_lines:
        lines[i] = f"#line {_line_number(lines[i], source_literal)} {c_string(own)}"
    return "\n".join(lines), own


def _is_kernel_directive(line: str) -> bool:
    words = line.split()
    return words[:3] == ["#pragma", "omp", "target"] and (len(words) == 3 or words[3] not in _NO_REGION)


def _line_number(line: str, source_literal: str) -> str | None:
    """N of ``#line N "<source>"`` exactly as the rewrite writes it, else None."""
    if not line.startswith("#line "):
        return None
    number, space, tail = line[len("#line "):].partition(" ")
    return number if space and number.isdigit() and tail == source_literal else None


def _own_file(root: str, digest: str, base: str, source_path: str) -> str | None:
    directory = os.path.join(root, digest)
    path = os.path.join(directory, base)
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
        owner = os.lstat(os.path.dirname(root))
        if stat.S_ISLNK(owner.st_mode) or owner.st_uid != os.getuid():
            return None  # another user's folder (the temp directory's choice)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        try:
            # created once and never replaced: its inode is what names the kernels
            with open(path, "x", encoding="utf-8", errors="surrogateescape") as f:
                f.write(f"/* pcx: the kernels of {source_path} as one compile rewrote it */\n")
        except FileExistsError:
            os.utime(path)
            os.utime(directory)
        _sweep(root)
    except OSError:
        return None
    return path


def _sweep(root: str) -> None:
    stamp = os.path.join(root, ".swept")
    now = time.time()
    try:
        if now - os.stat(stamp).st_mtime < _SWEEP_EVERY_S:
            return
    except FileNotFoundError:
        pass
    with open(stamp, "w"):
        pass
    for entry in os.scandir(root):
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < MAX_AGE_S:
                continue
            for inner in os.scandir(entry.path):
                os.unlink(inner.path)
            os.rmdir(entry.path)
        except OSError:
            continue
