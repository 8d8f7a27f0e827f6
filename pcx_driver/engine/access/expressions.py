"""Expressions of a nest: operators, literals and hazards, and the question each operand asks
(an array reference, a scalar read or write, a member read, a call)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.access import arrays, calls, inline, names
from pcx_driver.engine.access.facts import CallRef, ScalarRef
from pcx_driver.engine.loops import Loop
from pcx_driver.engine.source import declarator_identifier

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk


def expr(w: Walk, n: Node, loops: list[Loop], cond: bool, stmt: Node | None,
         header_of: Loop | None = None) -> None:
    ty = n.type
    if ty == "assignment_expression":
        op = w.t(n.child_by_field_name("operator"))
        right = n.child_by_field_name("right")
        if right is not None:
            expr(w, right, loops, cond, stmt, header_of)
        left = n.child_by_field_name("left")
        if left is not None:
            names.lvalue(w, left, loops, cond, stmt, op, n, read=op != "=", header_of=header_of)
        callee = w.sem.callee_of(n.start_byte, n.end_byte) if w.m.is_cxx else None
        if callee is not None and not callee.defaulted and not callee.library:
            # a user's ``operator=`` / ``operator+=`` is a call, checked like any helper (one
            # that counted copies in a static was offloaded as a plain copy: a held-out check)
            w.facts.calls.append(CallRef(n, callee.name, callee, loops))
        return
    if ty == "update_expression":
        arg = n.child_by_field_name("argument")
        op = "++" if "++" in w.t(n) else "--"
        if arg is not None:
            names.lvalue(w, arg, loops, cond, stmt, op, n, read=True, header_of=header_of)
        return
    if ty == "declaration":  # for-init declaration
        for d in n.children_by_field_name("declarator"):
            ident = declarator_identifier(d)
            decl = w.sem.decl_declared_at(ident.start_byte) if ident is not None else None
            if decl is not None:
                w.facts.local_keys.add(decl.key)
            v = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if v is not None:
                expr(w, v, loops, cond, stmt, header_of)
            if ident is not None:
                w.facts.scalars.append(ScalarRef(w.t(ident), decl, ident, False, True, "=", d, stmt, loops,
                                                    cond, header_of))
        return
    if ty in ("subscript_expression",):
        arrays.access(w, n, loops, cond, stmt, read=True, write=False, op="", assign=None)
        return
    if ty == "field_expression":
        if arrays.is_access_chain(n):
            arrays.access(w, n, loops, cond, stmt, read=True, write=False, op="", assign=None)
            return
        names.member_read(w, n, loops, cond, stmt, header_of)
        return
    if ty == "call_expression":
        calls.call(w, n, loops, cond, stmt, header_of)
        return
    if ty == "identifier":
        names.ident(w, n, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
        return
    if ty == "pointer_expression":
        op = w.t(n.child_by_field_name("operator"))
        target = inline.dereferenced_scalar(w, n)
        if target is not None:  # ``*dx`` in a helper given ``&g``: a read of g
            names.ident(w, target, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
            return
        if op == "&":
            w.hazard("PCX119", f"address of '{w.t(n.child_by_field_name('argument'))}' taken inside the nest", n)
        else:
            w.hazard("PCX118", f"dereference '{w.t(n)}' through a pointer cannot be analysed", n)
        return
    if ty == "conditional_expression":
        c = n.child_by_field_name("condition")
        if c is not None:
            expr(w, c, loops, cond, stmt, header_of)
        for f in ("consequence", "alternative"):
            b = n.child_by_field_name(f)
            if b is not None:
                # a branch runs only where the condition says so, as an if's: a guard of its
                # accesses (``i > 0 ? u[i - 1] : 0.0``)
                if c is not None:
                    w.guards.append((c, f == "consequence"))
                expr(w, b, loops, True, stmt, header_of)
                if c is not None:
                    w.guards.pop()
        return
    if ty == "binary_expression":
        op = w.t(n.child_by_field_name("operator"))
        left = n.child_by_field_name("left")
        right = n.child_by_field_name("right")
        if left is not None:
            expr(w, left, loops, cond, stmt, header_of)
        if right is not None:
            short = op in ("&&", "||") and left is not None
            if short:  # evaluated only when the left operand is true (&&) or false (||)
                w.guards.append((left, op == "&&"))
            expr(w, right, loops, cond or op in ("&&", "||"), stmt, header_of)
            if short:
                w.guards.pop()
        if op in ("<<", ">>") and _is_stream(w, left):
            w.hazard("PCX134", "iostream output/input inside the nest", n)
            return
        callee = w.sem.callee_of(n.start_byte, n.end_byte) if w.m.is_cxx else None
        if callee is not None:
            # an overloaded operator is a call: checked like any helper (``acc << x`` with a
            # user ``operator<<`` that updates acc through a reference was taken for a shift)
            w.facts.calls.append(CallRef(n, callee.name, callee, loops))
        return
    if ty == "lambda_expression":
        w.hazard("PCX130", "lambda expression inside the nest", n)
        return
    if ty in ("new_expression", "delete_expression"):
        w.hazard("PCX133", f"'{w.t(n).split()[0].split('[')[0]}' expression inside the nest", n)
        return
    if ty == "throw_expression":
        w.hazard("PCX132", "throw inside the nest", n)
        return
    if ty in ("sizeof_expression", "alignof_expression", "string_literal", "number_literal", "char_literal",
              "true", "false", "null", "nullptr", "concatenated_string", "type_descriptor", "comment"):
        return
    if ty == "qualified_identifier":
        text = w.t(n)
        if text in ("std::cout", "std::cerr", "std::clog", "std::cin", "std::endl"):
            w.hazard("PCX134", f"'{text}' used inside the nest", n)
            return
        name = n.child_by_field_name("name")
        if name is not None and name.type == "identifier":
            names.ident(w, name, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
        return
    if ty == "compound_literal_expression":
        # (tree-sitter-cpp reads C++'s ``V3{a, b, c}`` as one too)
        what = "a temporary object built from a braced list" if w.m.is_cxx else "compound literal"
        w.hazard("PCX122", f"{what} ('{w.t(n)[:40]}') inside the nest", n)
        return
    if ty == "comma_expression":
        for c in n.named_children:
            expr(w, c, loops, cond, stmt, header_of)
        return
    for c in n.named_children:
        if c.type in ("type_descriptor", "primitive_type", "type_identifier"):
            continue
        expr(w, c, loops, cond, stmt, header_of)


def _is_stream(w: Walk, n: Node | None) -> bool:
    while n is not None and n.type == "binary_expression":
        n = n.child_by_field_name("left")
    if n is None:
        return False
    text = w.t(n)
    if text in ("std::cout", "std::cerr", "std::clog", "std::cin", "cout", "cerr", "cin", "clog"):
        return True
    if n.type == "identifier":
        d = w.decl(n)
        return d is not None and ("ostream" in d.type_spelling or "istream" in d.type_spelling)
    return False
