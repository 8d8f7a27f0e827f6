"""Old C that the user's flags accept and tree-sitter's grammar does not: C89's implicit int.

A function defined with no return type (``main() { ... }``, ``scale(n, s) int n; { ... }``,
Rodinia backprop's and many a classic benchmark's) means ``int``.  clang 16 and later
reject it in C99 and later unless the build says ``-Wno-error=implicit-int`` (or
``-std=c89``, ``-Wno-implicit-int``); tree-sitter's C grammar never reads it as a
function, so its loops went unanalysed without a word.

``explicit_int(unit)`` answers the text with ``int `` written where clang says the type
is missing, and the lines it wrote on, or None.  Every stage, the rewriter included,
sees that text (as with ``conditionals.active_view``): the compiled program is the same,
because ``int`` is what C89 reads there; lines stay where they were.

The places come from libclang, which knows C: a parse with the compile's own flags says
whether they accept the file (an implicit int that is an error there stays one: the
user's build must fail as it would without pcx), and a second one with the diagnostic
turned on finds each place, since the flags may have silenced it.  Both run only for a C
unit whose tree-sitter parse has an error outside every function definition, which is
what an implicit-int definition leaves.
"""

from __future__ import annotations

from pcx_driver.model import Language, SourceUnit

IMPLICIT_INT = "-Wimplicit-int"


def explicit_int(unit: SourceUnit) -> tuple[str, list[int]] | None:
    """See the module docstring."""
    if unit.language is not Language.C or not _top_level_error(unit):
        return None
    try:
        places = _implicit_int_places(unit)
    except Exception:  # libclang missing or failing: analyse the text as written
        return None
    if not places:
        return None
    data = unit.data
    out, last = [], 0
    for offset in places:
        out += [data[last:offset], b"int "]
        last = offset
    out.append(data[last:])
    lines = [data.count(b"\n", 0, offset) + 1 for offset in places]
    return b"".join(out).decode("utf-8", "surrogateescape"), lines


def _top_level_error(unit: SourceUnit) -> bool:
    from pcx_driver.engine.hostaccess import parse

    root = parse(unit.data, Language.C).root_node
    if not root.has_error:
        return False
    return any(n.has_error or n.type == "ERROR" for n in root.children if n.type != "function_definition")


def _implicit_int_places(unit: SourceUnit) -> list[int]:
    """Byte offsets in the main file where a function definition's type is missing, when
    the compile's flags accept them (no error in the main file); else none."""
    import dataclasses

    import clang.cindex as ci

    from pcx_driver.engine.semantics import parse_translation_unit

    as_built, path = parse_translation_unit(unit, 0)
    if any(d.severity >= ci.Diagnostic.Error and _in_main(d, path) for d in as_built.diagnostics):
        return []  # the build rejects the file (an implicit int among its errors): as written
    probe = dataclasses.replace(unit, semantic_args=[*unit.semantic_args, IMPLICIT_INT,
                                                     "-Wno-error=implicit-int"])
    tu, path = parse_translation_unit(probe, 0)
    places = set()
    for d in tu.diagnostics:
        if d.option == IMPLICIT_INT and _in_main(d, path) and _starts_definition(tu, d.location.offset, path):
            places.add(d.location.offset)
    return sorted(places)


def _in_main(d, path: str) -> bool:
    return d.location.file is not None and d.location.file.name == path


def _starts_definition(tu, offset: int, path: str) -> bool:
    """Whether a function definition of the main file has its name at ``offset`` (clang's
    implicit-int diagnostic points at the declarator; a declaration such as ``static x;``
    is left alone: tree-sitter reads it well enough)."""
    import clang.cindex as ci

    for c in tu.cursor.get_children():
        if c.kind == ci.CursorKind.FUNCTION_DECL and c.is_definition() and c.location.file is not None \
                and c.location.file.name == path and c.location.offset == offset:
            return True
    return False
