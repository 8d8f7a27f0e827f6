"""The text a compile with these flags sees through ``#if``/``#ifdef``: inactive branches out.

Contract:
- ``inside_functions(unit)``: whether the unit needs the view for its function bodies.
- ``active_view(unit) -> ActiveView | None``: when libclang, given the unit's own flags,
  skips some preprocessor branches of the main file, the unit's text with those branches
  and every conditional directive line of the file (``#if``, ``#ifdef``, ``#ifndef``,
  ``#elif``, ``#else``, ``#endif``, with their continuation lines) replaced by spaces,
  newlines kept: every byte offset and line stays where it was.  None when the file has
  no conditional directive, or libclang cannot parse the unit (then the text is analysed
  as it was).

Why: code that chooses between CPU OpenMP and offload code by a macro (Rodinia's
``#ifdef OMP_OFFLOAD`` target regions, ``#ifdef OPEN`` pragmas, a loop header in each
branch of an ``#ifdef``/``#else`` with one closing brace after ``#endif``) is one program
per set of flags.  Tree-sitter cannot parse a brace split across branches, and a target
region in a branch the build does not compile is not the user's offload code.  With the
inactive branches gone and the directives of the active ones removed, what remains is
exactly what the compiler compiles under these flags (the guards of an active branch are
true here), so the rewritten file built with the same flags is the same program.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
from dataclasses import dataclass

from pcx_driver.model import Language, SourceUnit

_DIRECTIVE = re.compile(rb"[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b")


@dataclass
class ActiveView:
    text: str
    skipped_lines: list[tuple[int, int]]  # first and last line of each inactive branch
    directive_lines: list[int]  # the line of each conditional directive blanked


def has_conditionals(data: bytes) -> bool:
    """Whether the text holds a conditional directive (``#if``, ``#ifdef``, ...)."""
    return any(_DIRECTIVE.match(line) for line in data.splitlines())


def inside_functions(unit: SourceUnit) -> bool:
    """Whether a conditional directive stands inside a function body (or where tree-sitter
    could not parse the text): a ``#ifdef DEBUG`` block of prints in a time-step loop
    (Rodinia's and HeCBench's particle filters) would keep the whole loop nest out of the
    analysis (PCX114), while one branch or none of it is what these flags compile.  Header
    guards and ``#ifdef __cplusplus`` at file scope need no view."""
    if b"#" not in unit.data or not has_conditionals(unit.data):
        return False
    from pcx_driver.engine.source import PREPROC_CONDITIONALS, parse, walk

    root = parse(unit.data, unit.language).root_node
    if root.has_error:
        return True
    for n in walk(root):
        if n.type in PREPROC_CONDITIONALS:
            p = n.parent
            while p is not None and p.type not in ("compound_statement", "function_definition"):
                p = p.parent
            if p is not None:
                return True
    return False


def active_view(unit: SourceUnit) -> ActiveView | None:
    """See the module docstring."""
    if unit.language is Language.CUDA or b"#" not in unit.data:
        return None
    try:
        skipped = _skipped_ranges(unit)
    except Exception:  # libclang missing or failing: analyse the text as written
        return None
    directives = _directive_lines(unit.data)
    # Nothing skipped still leaves the directive lines of active branches: a '#if
    # defined(_OPENMP)' around two lines of main() (NPB's CG) hides main's control flow
    # from the liveness of its loop indices, so they go too.
    if skipped is None or not (skipped or directives):
        return None
    data = bytearray(unit.data)
    for start, end in skipped:
        _blank(data, start, end)
    # (found in the text as written: a skipped range ends after its closing directive's
    # name, so '#elif defined(X)' would leave 'defined(X)' behind)
    for start, end in directives:
        _blank(data, start, end)
    lines = [(unit.data.count(b"\n", 0, s) + 1, unit.data.count(b"\n", 0, e) + 1) for s, e in skipped]
    return ActiveView(bytes(data).decode("utf-8", "surrogateescape"), lines,
                      [unit.data.count(b"\n", 0, s) + 1 for s, _ in directives])


def _blank(data: bytearray, start: int, end: int) -> None:
    for i in range(start, end):
        if data[i] not in (0x0A, 0x0D):
            data[i] = 0x20


def _directive_lines(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the conditional directive lines (with continuations), outside block
    comments."""
    out = []
    pos, in_comment = 0, False
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line = data[pos:end]
        if not in_comment and _DIRECTIVE.match(line):
            last = end
            while data[pos:last].rstrip(b"\r").endswith(b"\\") and last < len(data):
                nxt = data.find(b"\n", last + 1)
                last = len(data) if nxt < 0 else nxt
            out.append((pos, last))
            line = data[pos:last]
            end = last
        # block comments that stay open past this line
        i = 0
        while True:
            if in_comment:
                j = line.find(b"*/", i)
                if j < 0:
                    break
                in_comment, i = False, j + 2
            else:
                j, k = line.find(b"/*", i), line.find(b"//", i)
                if j < 0 or (0 <= k < j):
                    break
                in_comment, i = True, j + 2
        pos = end + 1
    return out


@functools.lru_cache(maxsize=1)
def _range_list():
    """libclang's CXSourceRangeList and the two functions that give and free one."""
    import clang.cindex as ci

    class RangeList(ctypes.Structure):
        _fields_ = [("count", ctypes.c_uint), ("ranges", ctypes.POINTER(ci.SourceRange))]

    lib = ci.conf.lib
    get_all = lib.clang_getAllSkippedRanges
    get_all.argtypes, get_all.restype = [ci.TranslationUnit], ctypes.POINTER(RangeList)
    dispose = lib.clang_disposeSourceRangeList
    dispose.argtypes, dispose.restype = [ctypes.POINTER(RangeList)], None
    return get_all, dispose


def _skipped_ranges(unit: SourceUnit) -> list[tuple[int, int]] | None:
    """Byte ranges of the main file that libclang's preprocessor skipped under the unit's
    flags; None when the unit has errors libclang reports (its view would not be trusted)."""
    import clang.cindex as ci

    from pcx_driver.engine.semantics import parse_translation_unit

    get_all, dispose = _range_list()
    tu, path = parse_translation_unit(unit, ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
                                      | ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    if any(d.severity >= ci.Diagnostic.Error for d in tu.diagnostics):
        return None
    found = get_all(tu)
    out = []
    try:
        for i in range(found.contents.count):
            r = found.contents.ranges[i]
            f = r.start.file
            if f is not None and os.path.abspath(f.name) == os.path.abspath(path):
                out.append((r.start.offset, r.end.offset))
    finally:
        dispose(found)
    return sorted(out)
