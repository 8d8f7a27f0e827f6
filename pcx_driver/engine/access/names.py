"""Scalar reads and writes in a nest: identifiers, assignment targets and member reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine import hostaccess
from pcx_driver.engine.access import arrays, calls, inline
from pcx_driver.engine.access.facts import ScalarRef
from pcx_driver.engine.macros import object_macro_reads
from pcx_driver.engine.source import strip_parens, walk

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk


def lvalue(w: Walk, n: Node, loops, cond, stmt, op: str, assign: Node, read: bool, header_of=None) -> None:
    n = strip_parens(n)
    if n.type == "identifier":
        ident(w, n, loops, cond, stmt, read=read, write=True, op=op, assign=assign, header_of=header_of)
        return
    if n.type == "subscript_expression" or (n.type == "field_expression" and arrays.is_access_chain(n)):
        arrays.access(w, n, loops, cond, stmt, read=read, write=True, op=op, assign=assign)
        return
    if n.type == "field_expression":
        if private_member(w, n):  # a struct declared in the nest: every iteration's own
            return
        w.hazard("PCX118", f"write to struct member '{w.t(n)}' inside the nest", n)
        return
    if n.type == "pointer_expression":
        target = inline.dereferenced_scalar(w, n)
        if target is not None:  # ``*dx += v`` in a helper given ``&g``: a write of g
            ident(w, target, loops, cond, stmt, read=read, write=True, op=op, assign=assign, header_of=header_of)
            return
        w.hazard("PCX118", f"write through pointer dereference '{w.t(n)}'", n)
        return
    if n.type == "call_expression":
        f = n.child_by_field_name("function")
        if f is not None and f.type == "identifier" and w.sem.macro_at(f.start_byte) is not None and \
                calls.macro_element(w, n, w.t(f), n.child_by_field_name("arguments"), loops, cond, stmt,
                                    read=read, write=True, op=op):
            return
        member = w.sem.accessor_at(n.start_byte, n.end_byte)
        if member is not None and arrays.accessor_access(w, n, member, loops, cond, stmt, read, True, op):
            return
        # v.at(i) = x, or a user operator: analysed as a call and refused there
        calls.call(w, n, loops, cond, stmt, None)
        w.hazard("PCX118", f"write through the result of a call '{w.t(n)}'", n)
        return
    w.hazard("PCX118", f"write to '{w.t(n)}' cannot be analysed", n)


def private_member(w: Walk, n: Node) -> bool:
    """Whether ``n`` (``v.x``, ``v.a.b``) is an arithmetic member of a struct variable
    declared inside the nest: each iteration has its own, which no other iteration and no
    host code sees (OpenMP makes a variable declared in the loop body private), so a write
    to it is no hazard.  Not a member reached through a pointer (``->``) or an index, nor
    a pointer member (what it points to is shared)."""
    field = n.child_by_field_name("field")
    member = w.sem.member_of(field.start_byte) if field is not None else None
    if member is None or member[0].shape != "scalar" or not (member[0].integral or member[0].floating):
        return False
    root = n
    while root is not None and root.type == "field_expression":
        arg = strip_parens(root.child_by_field_name("argument"))
        if w.t(root.child_by_field_name("operator")) != ".":
            # ``c->x`` in a helper given ``&v``: ``v.x``
            return inline.bound_private_struct(w, arg) is not None
        root = arg
    d = w.decl(root) if root is not None and root.type == "identifier" else None
    if d is not None and d.reference and inline.bound_private_record(w, root) is not None:
        return True  # ``m.x`` in a helper given ``v`` for its ``vec3 &m``: ``v.x``
    return d is not None and d.key in w.facts.local_keys and d.shape == "record" and not d.reference


def ident(w: Walk, n: Node, loops, cond, stmt, read: bool, write: bool, op: str, assign, header_of=None) -> None:
    name = w.t(n)
    decl = w.decl(n)
    if decl is None:
        if w.sem.member_of(n.start_byte) is not None:
            if write or not _this_member_value(w, n, n):
                w.hazard("PCX137", f"member '{name}' of this object used inside the nest", n)
            return
        macro = w.sem.macro_at(n.start_byte)
        if macro is not None:
            if write:
                w.hazard("PCX113", f"write to macro '{name}'", n)
            elif not macro.function_like:  # read as an opaque value: right only if it is one
                reads, why = object_macro_reads(name, w.sem)
                changed = sorted(reads & w.written_names()) if why is None else []
                if changed:
                    why = f"macro '{name}' reads '{changed[0]}', which the nest writes"
                if why is not None:
                    w.hazard("PCX113", f"{why}; left alone", n)
            return
        w.hazard("PCX122", f"cannot resolve '{name}'", n)
        return
    if decl.kind == "function" and not hostaccess.called_name(n):
        # ``table[i] = write_uvlc;``: a host function's address on the device (JM lencod's
        # link failed: "undefined reference" from the device image)
        w.hazard("PCX105", f"the address of function '{name}' is taken inside the nest", n)
        return
    if decl.kind in ("enum", "function"):
        return
    if decl.key in w.facts.bindings:  # a parameter of a helper walked as if inlined
        if decl.shape in ("array", "pointer", "container"):
            w.hazard("PCX105", f"'{w.inlining[-1] if w.inlining else name}' uses its parameter '{name}' as a "
                               "pointer value", n)
        elif write:
            w.hazard("PCX105", f"'{w.inlining[-1] if w.inlining else name}' assigns its parameter '{name}'", n)
        return  # a read of the argument, which the caller's walk read
    if decl.shape in ("array", "pointer", "container") and not (decl.shape == "pointer" and write and False):
        if decl.key in w.facts.local_arrays:
            return
        w.hazard("PCX118", f"'{name}' is used as a pointer value, not through a subscript", n)
        return
    if decl.volatile:
        w.hazard("PCX119", f"volatile variable '{name}' used inside the nest", n)
        return
    if decl.thread_local:
        w.hazard("PCX119", f"'{name}' is a thread-local variable, which OpenMP can neither map nor copy into "
                           "a kernel", n)
        return
    if decl.user_copy and decl.key not in w.facts.local_keys:
        w.hazard("PCX118", f"'{name}' is an object of class '{decl.element_type}', whose copy runs the user's "
                           "constructor or destructor: the kernel's copy would run it on the device", n)
        return
    w.facts.scalars.append(ScalarRef(name, decl, n, read, write, op, assign, stmt, loops, cond, header_of,
                                     bindings=dict(w.facts.bindings) if w.inlining else {}))


def _member_value(w: Walk, n: Node, arg: Node | None, loops, cond: bool) -> str | None:
    """Record ``f->n`` (``g.n``, g a reference) as a value passed in, where ``f`` is a
    variable of the function declared outside the nest (not a helper's parameter) and the
    member an arithmetic scalar: the nest writes no struct member (lvalue), so its value is
    the one before.  The value is read before the kernel, so only where the serial program
    reads it too: not under a condition (``use[i] ? p->w : 1``, p may be null there), and
    with the test that its loops run (``MemberValue.guards``; p may be null when n is 0).
    None when recorded, else why not."""
    what = f"member '{w.t(n)}' read through a pointer inside the nest"
    if arg is None or arg.type != "identifier" or w.inlining:
        return what
    if cond:
        return what + " under a condition (its value cannot be taken before the kernel: the pointer may be " \
                      "invalid where the serial program never reads it)"
    root = w.decl(arg)
    field = n.child_by_field_name("field")
    info = w.sem.member_of(field.start_byte) if field is not None else None
    member = info[0] if info else None
    if root is not None and root.key in w.facts.local_keys:
        return what + f", through '{w.t(arg)}', declared inside the nest (no value to take before it)"
    if root is None or root.key in w.facts.bindings or member is None \
            or member.shape != "scalar" or member.volatile or not (member.integral or member.floating):
        return what
    indices = {lp.index for lp in loops}
    tests = []
    for lp in loops:
        if len(lp.bound_nodes) != 2 or lp.op not in ("<", "<=", ">", ">=", "!=") or any(
                x.type == "identifier" and w.t(x) in indices or x.type in ("call_expression", "assignment_expression",
                                                                        "update_expression")
                for b in lp.bound_nodes for x in walk(b)):
            return what + " in a loop whose bounds move with the nest (no test before it that the read runs)"
        tests.append(f"({w.t(lp.bound_nodes[0])}) {lp.op} ({w.t(lp.bound_nodes[1])})")
    w.facts.member_values.append((n, member, " && ".join(tests) or "1", root.element_type, root))
    return None


def _this_member_value(w: Walk, n: Node, field: Node | None) -> bool:
    """Record ``n`` (``len``, ``this->len`` in a member function) as a value passed in, as
    ``_member_value`` does for ``f->len``: an arithmetic scalar member, only read (the
    caller decides), outside a helper walked in place of its call (whose ``this`` is
    another object).  ``this`` is valid wherever the function runs: no guard."""
    info = w.sem.member_of(field.start_byte) if field is not None else None
    member = info[0] if info else None
    if member is None or w.inlining or member.kind != "field" or member.shape != "scalar" or member.volatile \
            or not (member.integral or member.floating) \
            or member.name in hostaccess.addressed_members(w.m.data, w.m.unit.language):
        return False
    w.facts.member_values.append((n, member, "1", member.record, None))
    return True


def member_read(w: Walk, n: Node, loops, cond, stmt, header_of) -> None:
    arg = strip_parens(n.child_by_field_name("argument"))
    op = w.t(n.child_by_field_name("operator"))
    if arg is not None and arg.type == "this":
        if not _this_member_value(w, n, n.child_by_field_name("field")):
            w.hazard("PCX137", f"member '{w.t(n)}' of this object used inside the nest", n)
        return
    if op == "->" and private_member(w, n):
        return
    if op == "->":
        # (also in the loop header: the kernel evaluates its bounds on the device, where
        # the pointer names no mapped object; HeCBench-style ``i < f->n`` crashed), unless
        # it is a scalar the rewrite passes in as a value
        why = _member_value(w, n, arg, loops, cond)
        if why is not None:
            w.hazard("PCX118", why, n)
        return
    root = arg
    while root is not None and root.type == "field_expression":
        root = strip_parens(root.child_by_field_name("argument"))
    if root is not None and root.type == "call_expression" and w.sem.accessor_at(root.start_byte, root.end_byte) is None:
        # ``cmul(a, b).r``: clang-19 rejects a member of a returned struct in any target
        # region ("expected addressable lvalue in 'map' clause"; RSBench's rewrite failed)
        w.hazard("PCX118", f"member '{w.t(n)}' of a value a call returns (clang cannot offload it; "
                           "assign the call to a local first)", n)
        return
    if root is not None and root.type == "identifier":
        d = w.decl(root)
        if d is not None and d.reference:
            if root is arg and _member_value(w, n, arg, loops, cond) is None:
                return
            w.facts.reference_members.append((w.t(root), n))
        ident(w, root, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
        return
    w.expr(arg, loops, cond, stmt, header_of) if arg is not None else None
