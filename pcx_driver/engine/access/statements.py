"""Statements of a nest: loops, branches and declarations, and the statements that stop it
(return, goto, a break out of the parallel loop, exceptions, assembly, preprocessor lines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.access.facts import ScalarRef
from pcx_driver.engine.access.inline import leaves_when
from pcx_driver.engine.access.views import view_of
from pcx_driver.engine.loops import Loop
from pcx_driver.engine.source import declarator_identifier

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk


def visit(w: Walk, n: Node, loops: list[Loop], cond: bool, stmt: Node | None, in_switch_or_loop: bool) -> None:
    ty = n.type
    if ty == "for_statement":
        loop = w.loops_by_node.get(n.id)
        inner = loops + [loop] if loop is not None else loops
        for f in ("initializer", "condition", "update"):
            c = n.child_by_field_name(f)
            if c is not None:
                w.expr(c, inner, cond, n, header_of=loop)
        body = n.child_by_field_name("body")
        if body is not None:
            extra = loop.conditions if loop is not None else []
            w.guards.extend((c, True) for c in extra)  # ``t < T && base + t < n``: an if around the body
            # a break in the nest root's own body leaves the parallel loop
            visit(w, body, inner, cond if loop is not None and not extra else True, None, n.id != w.root.id)
            del w.guards[len(w.guards) - len(extra):]
        return
    if ty in ("for_range_loop",):
        w.hazard("PCX110", "range-based for loop inside the nest", n)
        return
    if ty in ("while_statement", "do_statement"):
        for c in n.named_children:
            if c.type in ("parenthesized_expression", "condition_clause"):
                w.expr(c, loops, True, n)
            else:
                visit(w, c, loops, True, None, True)
        return
    if ty == "if_statement":
        c = n.child_by_field_name("condition")
        if c is not None:
            w.expr(c, loops, cond, n)
        for f in ("consequence", "alternative"):
            b = n.child_by_field_name(f)
            if b is not None:
                if c is not None:
                    w.guards.append((c, f == "consequence"))
                visit(w, b, loops, True, None, in_switch_or_loop)
                if c is not None:
                    w.guards.pop()
        return
    if ty == "else_clause":
        for c in n.named_children:
            visit(w, c, loops, True, None, in_switch_or_loop)
        return
    if ty == "switch_statement":
        c = n.child_by_field_name("condition")
        if c is not None:
            w.expr(c, loops, cond, n)
        b = n.child_by_field_name("body")
        if b is not None:
            visit(w, b, loops, True, None, True)
        return
    if ty == "labeled_statement" and n.child_by_field_name("label") is not None:
        # a goto from outside may jump in: no OpenMP construct can be entered so (clang
        # rejects the rewrite: "use of undeclared label")
        w.hazard("PCX108", f"label '{w.t(n.child_by_field_name('label'))}' inside the nest, which a goto may "
                           "jump to", n)
        return
    if ty in ("compound_statement", "case_statement", "labeled_statement"):
        value = n.child_by_field_name("value") if ty == "case_statement" else None
        label = n.child_by_field_name("label") if ty == "labeled_statement" else None
        depth = len(w.guards)
        skipped = False
        for c in n.named_children:
            if (value is not None and c.id == value.id) or (label is not None and c.id == label.id):
                continue  # the case constant / the label name
            visit(w, c, loops, cond or skipped or ty == "case_statement", None, in_switch_or_loop)
            # ``if (x >= n) continue;``: the rest of the block runs only where x < n, and may not run
            jumped = leaves_when(c, ("continue_statement", "break_statement")) if ty == "compound_statement" else None
            if jumped is not None:
                w.guards.append((jumped, False))
                skipped = True
        del w.guards[depth:]
        return
    if ty == "expression_statement":
        w.facts.statements += 1
        for c in n.named_children:
            w.expr(c, loops, cond, n)
        return
    if ty == "declaration":
        w.facts.statements += 1
        declaration(w, n, loops, cond)
        return
    if ty == "return_statement":
        if w.inlining:  # the helper's result: a read of the expression
            for c in n.named_children:
                w.expr(c, loops, True, n)
            return
        w.hazard("PCX108", "return statement leaves the nest", n)
        return
    if ty == "goto_statement":
        w.hazard("PCX108", "goto statement inside the nest", n)
        return

    if ty == "break_statement":
        if not in_switch_or_loop:
            w.hazard("PCX108", "break leaves the parallel loop", n)
        return
    if ty in ("continue_statement", "comment", ";", "empty_statement"):
        return
    if ty in ("throw_statement", "try_statement"):
        w.hazard("PCX132", "exception handling (throw/try) inside the nest", n)
        return
    if ty in ("gnu_asm_expression", "asm_statement"):
        w.hazard("PCX122", "inline assembly inside the nest", n)
        return
    if ty in ("type_definition", "struct_specifier", "class_specifier", "alias_declaration",
              "using_declaration", "static_assert_declaration"):
        return
    if ty.startswith("preproc"):
        if not w.m.is_loop_hint(n):  # #pragma unroll: a hint to the compiler, read by nothing here
            w.hazard("PCX114", "preprocessor directive inside the nest", n)
        return
    if n.is_named and ty.endswith("_expression"):
        w.expr(n, loops, cond, stmt)
        return
    if ty == "function_definition":
        # C++'s ``regElemSize(i) = 0;`` (a call's reference result assigned) reads to
        # tree-sitter as a pure virtual function declared in the loop (LULESH)
        w.hazard("PCX122", f"the parser reads '{w.t(n).strip()[:60]}' as a declaration (a call's result "
                           "assigned?); not analysed", n)
        return
    w.hazard("PCX122", f"statement '{ty}' is not supported inside a nest", n)


def declaration(w: Walk, n: Node, loops: list[Loop], cond: bool) -> None:
    if any(c.type == "storage_class_specifier" and w.t(c) == "static" for c in n.children):
        w.hazard("PCX119", "static local variable declared inside the nest", n)
        return
    for d in n.children_by_field_name("declarator"):
        ident = declarator_identifier(d)
        decl = w.sem.decl_declared_at(ident.start_byte) if ident is not None else None
        if decl is not None:
            w.facts.local_keys.add(decl.key)
            if decl.shape == "array":
                w.facts.local_arrays.add(decl.key)
            if decl.shape == "pointer" and d.type == "init_declarator":
                view = view_of(w, decl, d.child_by_field_name("value"))
                if view is None:
                    w.hazard("PCX118", f"pointer '{decl.name}' declared inside the nest may alias an array", d)
                else:  # ``row = A + i * m``: its subscripts are A's (access/views.py)
                    w.facts.views[decl.key] = view
                    for e in [*view.prefix, view.offset]:
                        if e is not None:
                            w.expr(e, loops, cond, n)
                    continue
            if decl.reference and d.type == "init_declarator":
                w.hazard("PCX118", f"reference '{decl.name}' declared inside the nest may alias an array", d)
            if decl.shape == "container":
                w.hazard("PCX135", f"container '{decl.name}' constructed inside the nest", d)
        elif ident is not None:
            w.hazard("PCX122", f"cannot resolve the declaration of '{w.t(ident)}'", d)
        if d.type == "init_declarator":
            v = d.child_by_field_name("value")
            if v is not None:
                w.expr(v, loops, cond, n)
            if ident is not None and decl is not None:
                w.facts.scalars.append(
                    ScalarRef(decl.name, decl, ident, False, True, "=", d, n, loops, cond)
                )
        # VLA sizes and array declarators: their size expressions are reads
        for sub in _walk_sizes(d):
            w.expr(sub, loops, cond, n)


def _walk_sizes(d: Node):
    """Size expressions of array declarators inside declarator ``d``."""
    out = []
    stack = [d]
    while stack:
        n = stack.pop()
        if n.type == "array_declarator":
            s = n.child_by_field_name("size")
            if s is not None:
                out.append(s)
        if n.type in ("init_declarator",):
            x = n.child_by_field_name("declarator")
            if x is not None:
                stack.append(x)
            continue
        x = n.child_by_field_name("declarator")
        if x is not None:
            stack.append(x)
    return out
