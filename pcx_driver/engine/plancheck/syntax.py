"""Syntax facts the plan checker reads off the tree: declarations, parameters, copies between pointers, array accesses.

Pure functions of a tree-sitter node and the unit's bytes; nothing here knows the plan.
"""

from __future__ import annotations


import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import text_of
from pcx_driver.engine.source import node_key, walk
from pcx_driver.engine.symsect import UNWRAP
from pcx_driver.model import Language

_CONDITIONAL = frozenset({"if_statement", "conditional_expression", "switch_statement", "while_statement",
                          "do_statement", "case_statement"})


def declaration_of(n: tree_sitter.Node) -> tree_sitter.Node | None:
    """The init_declarator (or declaration) that declares identifier ``n``, if it does."""
    cur = n
    while cur.parent is not None and cur.parent.type in ("pointer_declarator", "array_declarator",
                                                         "init_declarator", "reference_declarator",
                                                         "parenthesized_declarator"):
        if cur.parent.type not in ("parenthesized_declarator", "reference_declarator") and \
                cur.parent.child_by_field_name("declarator") != cur:
            return None
        cur = cur.parent
        if cur.type == "init_declarator":
            return cur
    if cur.parent is not None and cur.parent.type == "declaration" and cur.parent.child_by_field_name("declarator") is not None \
            and cur.type != "init_declarator" and any(c.id == cur.id for c in cur.parent.named_children[1:]):
        return cur.parent
    return None


def preorder(node: tree_sitter.Node | None):
    """``source.walk`` (pre-order), nothing for a missing node."""
    return walk(node) if node is not None else ()


def strip(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    while node is not None and node.type in UNWRAP:
        node = node.child_by_field_name("value") if node.type == "cast_expression" else (
            node.named_children[0] if node.named_children else None)
    return node


def declared_name(node: tree_sitter.Node, data: bytes) -> str | None:
    d = node.child_by_field_name("declarator") if node.type != "identifier" else node
    while d is not None and d.type not in ("identifier", "field_identifier"):
        if d.type in ("function_declarator",):
            return None
        nxt = d.child_by_field_name("declarator")
        if nxt is None and d.type in ("reference_declarator", "parenthesized_declarator") and d.named_children:
            nxt = d.named_children[-1]  # ``T &r``, ``double (*b)[C]`` (seed 801115's b went unseen)
        if nxt is None:
            return None
        d = nxt
    return text_of(data, d) if d is not None else None


def declared_in(body: tree_sitter.Node | None, name: str, data: bytes) -> bool:
    for n in preorder(body):
        if n.type == "identifier" and text_of(data, n) == name and declaration_of(n) is not None:
            return True
        if n.type in ("for_range_loop", "condition_clause") and declared_name(n, data) == name:
            return True
        if n.type == "function_declarator" and n.parent is not None and n.parent.type == "declaration":
            inner = n.child_by_field_name("declarator")  # ``std::vector<int> v(n);`` as C++ parses it
            if inner is not None and text_of(data, inner) == name:
                return True
    return False


def unrestricted_pointer_params(fnode: tree_sitter.Node, data: bytes) -> list[str]:
    """Parameters that are pointers (or arrays, which are pointers) with no ``restrict``.
    (Two ``restrict`` pointers that are only read may overlap, C11 6.7.3.1, but neither
    may point to what the function writes: the engine's kernels compare such a pair at run
    time, PCX128, and run on the device only where they are apart.)"""
    d = hostaccess.function_declarator(fnode)
    params = d.child_by_field_name("parameters") if d is not None else None
    root = fnode
    while root.parent is not None:
        root = root.parent
    pointer_types = pointer_typedefs(root, data)
    out = []
    for p in params.named_children if params is not None else ():
        text = text_of(data, p)
        ty = p.child_by_field_name("type")
        typed = ty is not None and text_of(data, ty) in pointer_types  # ``vec_t p`` with vec_t an array
        if "restrict" in text or not ("*" in text or "[" in text or "(" in text or typed):
            continue
        if "**" in text or "*[" in text.replace(" ", ""):
            continue  # pointers to pointers (argv) point into arrays of pointers, not our data
        name = declared_name(p, data)
        if name:
            out.append(name)
    return out


def pointee_kinds(fnode: tree_sitter.Node, data: bytes) -> dict[str, str]:
    """Parameter -> the arithmetic type it points to (``int``, ``double``; signedness and
    qualifiers dropped), for parameters declared as one level of pointer or array of a
    built-in type other than ``char``; the others (typedefs, structs, void, char) are left
    out: they may point anywhere."""
    d = hostaccess.function_declarator(fnode)
    params = d.child_by_field_name("parameters") if d is not None else None
    out = {}
    for p in params.named_children if params is not None else ():
        ty = p.child_by_field_name("type")
        if ty is None or ty.type not in ("primitive_type", "sized_type_specifier"):
            continue
        words = [w for w in text_of(data, ty).split() if w not in ("signed", "unsigned")]
        kind = " ".join(words) or "int"
        decl = p.child_by_field_name("declarator")
        depth = 0
        while decl is not None and decl.type in ("pointer_declarator", "array_declarator"):
            depth += 1
            decl = decl.child_by_field_name("declarator")
        if depth == 1 and decl is not None and decl.type == "identifier" and "char" not in kind:
            out[text_of(data, decl)] = kind
    return out


def may_alias(a: str | None, b: str | None) -> bool:
    """Whether pointers to these kinds may address one object: C's effective-type rule
    (C11 6.5p7, what -fstrict-aliasing assumes) lets an ``int *`` and a ``double *`` never
    do so; an unknown kind (None) may alias anything."""
    return a is None or b is None or a == b


def pointer_typedefs(root: tree_sitter.Node, data: bytes) -> set[str]:
    """Names ``typedef``'d to an array or pointer type (a parameter of such a type is a pointer)."""
    out = set()
    for n in root.named_children:
        if n.type != "type_definition":
            continue
        for d in n.children_by_field_name("declarator"):
            if d.type in ("array_declarator", "pointer_declarator"):
                inner = d
                while inner is not None and inner.type != "type_identifier":
                    inner = inner.child_by_field_name("declarator")
                if inner is not None:
                    out.add(text_of(data, inner))
    return out


def by_value(data: bytes, language: Language, fname: str, position: int) -> bool:
    """Every definition of ``fname`` in this file takes its ``position``-th parameter by
    value (no reference, no template, no variadic tail there): the callee cannot change
    the variable passed there, nor reach a buffer through an element passed there.  A
    method call (``d.y(i)``, ``d->y(i)``) names the file's every function ``y``."""
    last = _last_name(fname)
    method = last != fname and "::" not in fname
    defs = [(f, d) for f in hostaccess.function_definitions(data, language)
            if (d := function_declarator_of(f)) is not None and d.child_by_field_name("declarator") is not None
            and (text_of(data, d.child_by_field_name("declarator")) == fname
                 or method and _last_name(text_of(data, d.child_by_field_name("declarator"))) == last)]
    for f, d in defs:
        plist = d.child_by_field_name("parameters")
        params = [p for p in plist.named_children if p.type != "comment"] if plist is not None else []
        if position >= len(params) or params[position].type != "parameter_declaration" or \
                f.parent is None or f.parent.type == "template_declaration":
            return False
        if any(x.type in ("reference_declarator", "variadic_declarator") for x in hostaccess.all_nodes(params[position])):
            return False
    return bool(defs)


def _last_name(name: str) -> str:
    """``y`` of ``domain.y``, ``d->y`` and ``Domain::y``: what a method call names."""
    for sep in ("->", ".", "::"):
        name = name.rsplit(sep, 1)[-1]
    return name


def function_declarator_of(fdef: tree_sitter.Node) -> tree_sitter.Node | None:
    """A definition's function declarator, through a returned reference or pointer
    (``Real_t& x(Index_t i)``, which ``hostaccess.parameters`` does not read)."""
    d = fdef.child_by_field_name("declarator")
    while d is not None and d.type in ("pointer_declarator", "reference_declarator", "parenthesized_declarator"):
        d = d.child_by_field_name("declarator") or (d.named_children[-1] if d.named_children else None)
    return d if d is not None and d.type == "function_declarator" else None


def is_static_local(fnode: tree_sitter.Node, name: str, data: bytes) -> bool:
    for n in preorder(fnode.child_by_field_name("body")):
        if n.type == "declaration" and hostaccess.declared_static(n, data):
            if any(declared_name(d, data) == name for d in n.named_children):
                return True
    return False


def function_named(data: bytes, language: Language, name: str) -> tree_sitter.Node | None:
    """The first definition of function ``name`` in ``hostaccess.parse(data, language)``."""
    return hostaccess.functions_by_name(data, language).get(name)


def pointer_copies(fnode: tree_sitter.Node, data: bytes):
    """(lhs, rhs) for every ``lhs = rhs`` and ``T *lhs = rhs`` between plain names."""
    for n in preorder(fnode):
        if n.type == "assignment_expression":
            left, right = n.child_by_field_name("left"), strip(n.child_by_field_name("right"))
        elif n.type == "init_declarator":
            left, right = n, strip(n.child_by_field_name("value"))
        else:
            continue
        if right is None or right.type not in ("identifier", "field_expression"):
            continue
        lname = declared_name(left, data) if left.type == "init_declarator" else (
            text_of(data, left) if left is not None and left.type in ("identifier", "field_expression") else None)
        if lname:
            yield lname.replace(" ", ""), text_of(data, right).replace(" ", "")


def syntactic_accesses(node: tree_sitter.Node | None, data: bytes, only: str | None = None):
    """(read names, written names, names written under a condition, members written) in
    ``node``: the base of every subscript, dereference, or pointer passed on; a name passed
    to a call or offset counts as written (the callee may write through it).  A write to a
    member of an element (``p[i].w = 1``) is partial: the rest of the element keeps its
    value.  ``members`` maps each name written that way to the first-level members that
    plain, unconditional assignments write ("" for a deeper or compound write, which
    writes no member whole); a write not through a member is never in it."""
    reads: set[str] = set()
    writes: set[str] = set()
    guarded: set[str] = set()
    members: dict[str, set[str]] = {}
    for n in preorder(node):
        if n.type not in ("subscript_expression", "pointer_expression", "identifier", "field_expression"):
            continue
        if n.type == "subscript_expression":
            base = n.child_by_field_name("argument")
            while base is not None and base.type == "subscript_expression":
                base = base.child_by_field_name("argument")
            if base is None or base.type not in ("identifier", "field_expression"):
                continue
            if n.parent is not None and n.parent.type == "subscript_expression" and n.parent.child_by_field_name("argument") == n:
                continue
            name = text_of(data, base).replace(" ", "")
            top = n
        elif n.type == "pointer_expression" and text_of(data, n).startswith("*"):
            arg = strip(n.child_by_field_name("argument"))
            if arg is None or arg.type != "identifier":
                continue
            name = text_of(data, arg)
            top = n
        elif n.type == "identifier" and only is not None and text_of(data, n) == only:
            # the parameter passed on, or assigned from, makes it written
            p = n.parent
            while p is not None and p.type in ("parenthesized_expression", "cast_expression", "binary_expression"):
                p = p.parent
            if p is not None and p.type in ("argument_list", "init_declarator") or (
                    p is not None and p.type == "assignment_expression" and p.child_by_field_name("right") is not None
                    and n.start_byte >= p.child_by_field_name("right").start_byte):
                writes.add(only)
            continue
        else:
            continue
        if only is not None and name != only:
            continue
        p = top.parent
        member: list[str] = []  # the members selected above the element, outermost last
        while p is not None and p.type in ("field_expression", "parenthesized_expression"):
            if p.type == "field_expression":
                member.append(text_of(data, p.child_by_field_name("field")) if p.child_by_field_name("field") else "")
            top, p = p, p.parent
        written = (p is not None and p.type == "assignment_expression" and p.child_by_field_name("left") == top) or (
            p is not None and p.type == "update_expression") or (
            p is not None and p.type == "pointer_expression" and text_of(data, p).startswith("&"))
        if written:
            writes.add(name)
            conditional = False
            q = top.parent
            while q is not None and node_key(q) != node_key(node):
                if q.type in _CONDITIONAL or (q.type == "binary_expression" and q.child_by_field_name("operator") is not None
                                              and q.child_by_field_name("operator").type in ("&&", "||")):
                    guarded.add(name)
                    conditional = True
                    break
                q = q.parent
            op = p.child_by_field_name("operator") if p.type == "assignment_expression" else None
            if member:
                plain = (len(member) == 1 and not conditional and p.type == "assignment_expression"
                         and op is not None and op.type == "=")
                members.setdefault(name, set()).add(member[0] if plain else "")
            if p.type != "assignment_expression" or (op is not None and op.type != "="):
                reads.add(name)
        else:
            reads.add(name)
    return reads, writes, guarded, members



_JUMP_TARGETS = {"continue_statement": ("for_statement", "for_range_loop", "while_statement", "do_statement"),
                 "break_statement": ("for_statement", "for_range_loop", "while_statement", "do_statement",
                                     "switch_statement")}


def skippable_writes(node: tree_sitter.Node | None, data: bytes) -> set[str] | None:
    """Names written where a jump inside ``node`` may skip the write: a ``break`` or
    ``continue`` skips the rest of the loop (or switch) it leaves, and nothing after it, so
    a search loop with a ``break`` leaves the writes after that loop sure (particlefilter's
    resampling: ``for (x...) if (cdf[x] >= u) { index = x; break; }  xj[i] = ax[index];``).
    None when a ``return`` or ``goto`` may skip anything."""
    names: set[str] = set()
    for n in preorder(node):
        if n.type in ("return_statement", "goto_statement"):
            return None
        targets = _JUMP_TARGETS.get(n.type)
        if targets is None:
            continue
        t = n.parent
        while t is not None and t.type not in targets and node_key(t) != node_key(node):
            t = t.parent
        if t is None or t.type not in targets:
            return None
        names |= syntactic_accesses(t, data)[1]
    return names


# ------------------------------------------------------------------ entry points
