"""Scalars a nest reads that a pointer it writes through may reach.

A kernel takes each scalar it reads as a value fixed when it starts: OpenMP reads a loop's
bound once, and a scalar read in the body comes in as a firstprivate copy.  Serially, a
write through a pointer to that scalar's storage changes it while the loop runs: with
``int *cnt = &n;``, ``for (i = 0; i < n; i++) { ...; cnt[0] -= 1; }`` stops half way,
where the kernel ran every iteration (a held-out check; the same through a global, a
struct member, ``&q.n``, and a union's array member overlapping the bound, ``w = u.raw``).

Contract: ``ScalarReach(model, sem, strict_aliasing).reached_scalars(facts, fn_body)``
returns one (PCX104, message) per scalar the nest reads, does not write by name, and that
a pointer it writes through may point at.  A pointer may point at a variable only where
the variable's address persists somewhere: ``&x`` stored, passed to a function that may
keep it, bound to a reference, captured by reference, or an array member of a struct or
union decaying to a pointer (``w = u.raw``); for a local, in its function; for a
file-scope or static variable, anywhere in the unit.  ``&n`` given to ``scanf`` or
``memcpy``, or to a function of the file that only reaches through it (``f->v[i]``),
keeps nothing.  Under C's and C++'s aliasing rules (``strict_aliasing``, unless
the user's flags say ``-fno-strict-aliasing``) a write through a pointer to ``double``
never changes an ``int``: only a pointee of the scalar's own type, its signed or unsigned
twin, or a character type is counted.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from pcx_driver.engine.access import NestFacts
from pcx_driver.engine.escapes import keeps_nothing, keeps_pointer
from pcx_driver.engine.semantics import Decl, Semantics
from pcx_driver.engine.source import SourceModel, walk

#: library calls given a scalar's address that they read or write and keep no copy of,
#: beside those of ``escapes.keeps_nothing`` (``strtol``'s end pointer, ``time(&t)``)
SCALAR_OUT_CALLS = frozenset({"vscanf", "vfscanf", "vsscanf", "strtol", "strtoul", "strtoll", "strtoull", "strtod",
                              "strtof", "gettimeofday", "time", "MPI_Comm_rank", "MPI_Comm_size",
                              "MPI_Allreduce", "MPI_Reduce", "MPI_Bcast", "getopt", "fprintf", "sprintf",
                              "snprintf"})
CHARACTER_TYPES = ("char", "signed char", "unsigned char", "std::byte", "std::__1::byte")


class ScalarReach:
    """The question for one translation unit; the places where a variable's address is
    kept are found once per variable (a file-scope one's walk covers the whole unit)."""

    def __init__(self, model: SourceModel, sem: Semantics, strict_aliasing: bool = True):
        self.model, self.sem, self.strict_aliasing = model, sem, strict_aliasing
        self._kept: dict[tuple[int, str], Node | None] = {}

    def reached_scalars(self, facts: NestFacts, fn_body: Node,
                        origin: Callable[[Decl | None], tuple[str, str]]) -> list[tuple[str, str]]:
        """``origin``: where a pointer points (``AliasOracle.origin``): one that points into
        storage of its own (``("object", key)``: a fresh allocation, an array) reaches no
        variable but that one."""
        model, sem = self.model, self.sem
        read_keys = {x.decl.key for x in facts.scalars if x.decl is not None}
        written = [a for a in facts.arrays if a.write and (a.decl is None or a.decl.shape == "pointer")
                   and ((kind := origin(a.decl))[0] != "object" or kind[1] in read_keys)]
        if not written:
            return []
        names_written = {r.decl.key for r in facts.scalars if r.write and r.decl is not None}
        # what the nest takes as values (scalars read, a struct's members read), and the
        # struct variables whose member arrays it maps (``s.a[i]``): a pointer into one
        # of those may overwrite what the kernel copied, or be copied back over
        candidates = [(r.decl, r.node, r.decl.shape == "record") for r in facts.scalars
                      if not r.write and r.decl is not None]
        candidates += [(a.root_decl, a.base_node, True) for a in facts.arrays
                       if a.member and a.root_decl is not None and a.root_decl.shape == "record"]
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for d, node, whole in candidates:
            if d.key in seen or d.key in names_written or d.key in facts.local_keys:
                continue
            if d.kind not in ("local", "param", "global", "static-local") or d.shape not in ("scalar", "record"):
                continue
            seen.add(d.key)
            # (a struct is mapped whole, so a pointer of any type may write some of it)
            read_type = "" if whole else _read_type(node, d, sem)
            pointers = [a for a in written if not self.strict_aliasing or a.decl is None
                        or _may_alias(a.decl.element_type, read_type)]
            if not pointers:
                continue
            scope = fn_body if d.kind in ("local", "param", "static-local") else model.root
            memo = (scope.id, d.key)
            if memo not in self._kept:
                self._kept[memo] = _persisting_address(d, scope, model, sem)
            site = self._kept[memo]
            if site is None:
                continue
            through = model.text(pointers[0].node).split("[")[0].strip()
            where = (f"line {pointers[0].node.start_point[0] + 1}): its address is kept at line "
                     f"{site.start_point[0] + 1}")
            if whole:
                out.append(("PCX104", f"'{d.name}', whose members the nest maps or reads as values fixed for the "
                                      f"kernel, may be written through '{through}' ({where}"))
                continue
            read = node
            while read.parent is not None and read.parent.type == "field_expression" and \
                    read.parent.child_by_field_name("argument") == read:
                read = read.parent
            out.append(("PCX104", f"'{model.text(read)}', which the nest reads as a value fixed for the kernel, may "
                                  f"be written through '{through}' ({where}"))
        return out


def _read_type(ident: Node, d: Decl, sem: Semantics) -> str:
    """The type the nest reads: the scalar's, or the member's of ``q.n`` (a record whose
    member is not known: "" reads as any type)."""
    if d.shape == "scalar":
        return d.element_type or d.type_spelling
    up = ident.parent
    while up is not None and up.type == "field_expression":
        field = up.child_by_field_name("field")
        member = _member(sem, field)
        if member is None:
            return ""
        if member.shape == "scalar":
            return member.element_type or member.type_spelling
        up = up.parent
    return ""


def _member(sem: Semantics, field: Node | None) -> Decl | None:
    found = sem.member_of(field.start_byte) if field is not None else None
    return found[0] if found is not None else None


def _plain(t: str) -> str:
    words = [w for w in t.replace("const", " ").replace("volatile", " ").split() if w not in ("signed", "unsigned")]
    return " ".join(words) or "int"


def _may_alias(pointee: str, read: str) -> bool:
    if not pointee or not read or pointee in CHARACTER_TYPES or "void" in pointee.split():
        return True
    return _plain(pointee) == _plain(read)


def _persisting_address(d: Decl, scope: Node, model: SourceModel, sem: Semantics) -> Node | None:
    """Where ``d``'s address (or its part's) goes somewhere that may keep it, or None."""
    for x in walk(scope):
        if x.type == "lambda_expression":
            captures = x.child_by_field_name("captures")
            if captures is not None and "&" in model.text(captures) and any(
                    y.type == "identifier" and model.text(y) == d.name for y in walk(x)):
                return x
            continue
        if x.type != "identifier" or model.text(x) != d.name:
            continue
        ref = sem.decl_of(x.start_byte)
        if ref is None or ref.key != d.key:
            continue
        top, decays = x, False
        while top.parent is not None:
            p = top.parent
            if p.type == "parenthesized_expression":
                top = p
            elif p.type == "field_expression" and p.child_by_field_name("argument") == top:
                field = p.child_by_field_name("field")
                member = _member(sem, field)
                decays = member is None or member.shape == "array"
                top = p
            elif p.type == "subscript_expression" and p.child_by_field_name("argument") == top:
                decays = False  # an element of an array member: a value again
                top = p
            else:
                break
        p = top.parent
        if p is None:
            continue
        if p.type == "pointer_expression" and model.text(p)[:1] == "&":
            if not _kept_by_no_one(p, model):
                return p
        elif p.type == "init_declarator" and "&" in model.text(p.child_by_field_name("declarator") or p).split("=")[0]:
            return p  # a reference bound to it
        elif decays and top is not x:
            # an array member used as a pointer (``int *w = u.raw;``, ``keep(u.raw)``)
            if p.type == "argument_list":
                kept = not _kept_by_no_one(top, model)
            elif p.type == "assignment_expression":
                kept = p.child_by_field_name("right") == top
            else:
                kept = p.type not in ("sizeof_expression", "field_expression", "subscript_expression")
            if kept:
                return p
    return None


def _kept_by_no_one(address: Node, model: SourceModel) -> bool:
    """``&x`` is an argument of a library call that only reads or writes through it."""
    p = address.parent
    while p is not None and p.type == "parenthesized_expression":
        p = p.parent
    if p is None or p.type != "argument_list" or p.parent is None or p.parent.type != "call_expression":
        return False
    fn = p.parent.child_by_field_name("function")
    name = model.text(fn).split("::")[-1] if fn is not None else ""
    if name in SCALAR_OUT_CALLS or keeps_nothing(name):
        return True
    # a function of this file that only reads and writes through it (``scale(&f, n)``
    # with ``f->v[i]`` inside): the address is gone when the call returns
    index = next((k for k, a in enumerate(c for c in p.named_children if c.type != "comment")
                  if a.start_byte <= address.start_byte < a.end_byte), None)
    return fn is not None and fn.type == "identifier" and index is not None and \
        not keeps_pointer(model.data, model.unit.language, name, index)
