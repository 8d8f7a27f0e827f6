"""Is the value a nest leaves in a local scalar ever read?  Liveness over a function's CFG.

Contract: ``FunctionCfg.build(body)`` turns one function body (tree-sitter) into a small
control-flow graph whose nodes hold the expressions they evaluate, in order; ``after(stmt)``
is the node control reaches when ``stmt`` completes normally.  ``first_read(cfg, start,
key, key_of)`` searches every path from ``start`` and returns the first identifier that
reads ``key`` before any definition of it, or None when every path redefines ``key`` (or
leaves the function) first: the value is dead, so a private copy loses nothing.

Why a CFG and not "the next reference in the text": C89 code reuses ``int i, j;`` for
every loop, so the next reference after a nest is usually ``for (j = 0; ...)``.  That
redefinition kills the value only if it is reached on every path: the loop around it may
run zero times, a ``goto`` may jump past it, a loop back edge may lead to a read before
the nest, ``for (; j < n; ...)`` reads it in the condition.  The graph answers all of these.

Soundness rules: only plain ``x = e`` (e evaluated first), ``for (x = e; ...)`` and a new
declaration of ``x`` define it; a definition under ``&&``, ``||`` or ``?:``, inside a
lambda or statement expression is ignored (it may not run); ``x += e``, ``x++`` read it.
Any construct the builder does not model (``switch`` with nested case labels, ``try``,
computed goto, ``setjmp``, a preprocessor conditional inside an expression or one whose
parts are not whole statements) raises ``Unsupported`` and the caller treats the value as
live; a preprocessor conditional between statements branches to each of its parts.  Globals, references and address-taken variables are the
caller's business (it refuses them before asking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from tree_sitter import Node

from pcx_driver.engine.source import strip_parens

KeyOf = Callable[[Node], "str | None"]



class Unsupported(Exception):
    """A construct whose control flow the builder does not model: the caller stays conservative."""


@dataclass
class CfgNode:
    exprs: list[Node] = field(default_factory=list)
    succ: list[int] = field(default_factory=list)


@dataclass
class FunctionCfg:
    nodes: list[CfgNode] = field(default_factory=list)
    after_of: dict[int, int] = field(default_factory=dict)  # statement node id -> successor CFG node
    exit: int = 0

    @classmethod
    def build(cls, body: Node) -> "FunctionCfg":
        b = _Builder()
        b.cfg.exit = b.new()
        b.stmt(body, b.cfg.exit)
        for label, users in b.gotos.items():
            if label not in b.labels:
                raise Unsupported(f"goto to an unknown label '{label}'")
            for u in users:
                b.cfg.nodes[u].succ.append(b.labels[label])
        return b.cfg

    def after(self, stmt: Node) -> int | None:
        return self.after_of.get(stmt.id)


class _Builder:
    def __init__(self) -> None:
        self.cfg = FunctionCfg()
        self.breaks: list[int] = []
        self.continues: list[int] = []
        self.labels: dict[str, int] = {}
        self.gotos: dict[str, list[int]] = {}

    def new(self, exprs: list[Node] | None = None, succ: list[int] | None = None) -> int:
        self.cfg.nodes.append(CfgNode(list(exprs or []), list(succ or [])))
        return len(self.cfg.nodes) - 1

    def label(self, name: str) -> int:
        if name not in self.labels:
            self.labels[name] = self.new()
        return self.labels[name]

    def seq(self, stmts: list[Node], nxt: int) -> int:
        for s in reversed(stmts):
            nxt = self.stmt(s, nxt)
        return nxt

    def loop_body(self, body: Node | None, brk: int, cont: int) -> int:
        if body is None:
            return cont
        self.breaks.append(brk)
        self.continues.append(cont)
        try:
            return self.stmt(body, cont)
        finally:
            self.breaks.pop()
            self.continues.pop()

    def stmt(self, n: Node, nxt: int) -> int:
        """Build ``n`` so that it continues to ``nxt``; returns its entry node."""
        self.cfg.after_of[n.id] = nxt
        ty = n.type
        # (``#define BASE double`` inside a body, GSL's cblas: a definition runs nothing; an
        # ``#include`` there may hold any code, and stays unsupported)
        if ty in ("comment", ";", "{", "}", "preproc_call", "preproc_def", "preproc_function_def",
                  "empty_statement", "type_definition",
                  "struct_specifier", "enum_specifier", "union_specifier", "class_specifier",
                  "alias_declaration", "using_declaration", "static_assert_declaration", "namespace_alias_definition"):
            return nxt
        if ty == "compound_statement":
            return self.seq([c for c in n.named_children], nxt)
        if ty in ("expression_statement", "declaration"):
            return self.new([n], [nxt])
        if ty == "if_statement":
            cons = n.child_by_field_name("consequence")
            alt = n.child_by_field_name("alternative")
            then_e = self.stmt(cons, nxt) if cons is not None else nxt
            else_e = self.stmt(alt, nxt) if alt is not None else nxt
            cond = n.child_by_field_name("condition")
            return self.new([cond] if cond is not None else [], [then_e, else_e])
        if ty == "else_clause":
            return self.seq(list(n.named_children), nxt)
        if ty == "while_statement":
            cond = self.new([n.child_by_field_name("condition")])
            body_e = self.loop_body(n.child_by_field_name("body"), nxt, cond)
            self.cfg.nodes[cond].succ = [body_e, nxt]
            return cond
        if ty == "do_statement":
            cond = self.new([n.child_by_field_name("condition")])
            body_e = self.loop_body(n.child_by_field_name("body"), nxt, cond)
            self.cfg.nodes[cond].succ = [body_e, nxt]
            return body_e
        if ty == "for_statement":
            c = n.child_by_field_name("condition")
            cond = self.new([c] if c is not None else [])
            u = n.child_by_field_name("update")
            upd = self.new([u] if u is not None else [], [cond])
            body_e = self.loop_body(n.child_by_field_name("body"), nxt, upd)
            self.cfg.nodes[cond].succ = [body_e, nxt] if c is not None else [body_e]
            init = n.child_by_field_name("initializer")
            return self.new([init] if init is not None else [], [cond])
        if ty == "for_range_loop":
            head = self.new([n.child_by_field_name("right")])
            body_e = self.loop_body(n.child_by_field_name("body"), nxt, head)
            self.cfg.nodes[head].succ = [body_e, nxt]
            return head
        if ty == "break_statement":
            if not self.breaks:
                raise Unsupported("break outside a loop or switch")
            return self.new([], [self.breaks[-1]])
        if ty == "continue_statement":
            if not self.continues:
                raise Unsupported("continue outside a loop")
            return self.new([], [self.continues[-1]])
        if ty == "return_statement":
            return self.new([c for c in n.named_children], [self.cfg.exit])
        if ty == "goto_statement":
            lab = n.child_by_field_name("label")
            if lab is None or lab.type != "statement_identifier":
                raise Unsupported("computed goto")
            g = self.new()
            self.gotos.setdefault(lab.text.decode(), []).append(g)
            return g
        if ty == "labeled_statement":
            lab = n.child_by_field_name("label")
            inner = [c for c in n.named_children if c.id != (lab.id if lab is not None else -1)]
            entry = self.seq(inner, nxt)
            if lab is None:
                return entry
            ln = self.label(lab.text.decode())
            self.cfg.nodes[ln].succ.append(entry)
            return ln
        if ty == "switch_statement":
            return self.switch(n, nxt)
        if ty in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_elifdef", "preproc_else"):
            return self.preprocessor_branch(n, nxt)
        raise Unsupported(f"statement '{ty}'")

    def preprocessor_branch(self, n: Node, nxt: int) -> int:
        """``#ifdef X ... #else ... #endif`` between statements: which part is compiled is
        fixed at build time, so a path through any part (or none, without ``#else``) covers
        it.  Only when each part holds whole statements that tree-sitter parsed cleanly."""
        if n.has_error:
            raise Unsupported("preprocessor conditional that does not hold whole statements")
        alt = n.child_by_field_name("alternative")
        skip = {c.id for c in (n.child_by_field_name("name"), n.child_by_field_name("condition"), alt) if c is not None}
        body = [c for c in n.named_children if c.id not in skip]
        if any(c.type.endswith("_expression") or c.type == "identifier" for c in body):
            raise Unsupported("preprocessor conditional around part of an expression")
        first = self.seq(body, nxt)
        other = self.preprocessor_branch(alt, nxt) if alt is not None else nxt
        if n.type == "preproc_else":
            return first
        return self.new([], [first, other])

    def switch(self, n: Node, nxt: int) -> int:
        body = n.child_by_field_name("body")
        if body is None or body.type != "compound_statement":
            raise Unsupported("switch without a braced body")
        cases = [c for c in body.named_children if c.type != "comment"]
        if any(c.type != "case_statement" for c in cases):
            raise Unsupported("statements outside case labels in a switch")
        self.breaks.append(nxt)
        entries: list[int] = []
        has_default = False
        try:
            follow = nxt
            for c in reversed(cases):
                value = c.child_by_field_name("value")
                has_default = has_default or value is None
                stmts = [s for s in c.named_children if value is None or s.id != value.id]
                for s in stmts:
                    if any(x.type == "case_statement" for x in _descendants(s)):
                        raise Unsupported("case label nested in a statement")
                follow = self.seq(stmts, follow)
                entries.append(follow)
        finally:
            self.breaks.pop()
        cond = n.child_by_field_name("condition")
        succ = list(reversed(entries)) + ([] if has_default else [nxt])
        return self.new([cond] if cond is not None else [], succ)


def _descendants(n: Node):
    stack = list(n.children)
    while stack:
        x = stack.pop()
        yield x
        stack.extend(x.children)


# ---------------------------------------------------------------------------- events


def _event(n: Node | None, key: str, key_of: KeyOf) -> tuple[str, Node] | None:
    """The first thing evaluating ``n`` does to ``key``: ("use", ident), ("def", node) or None."""
    if n is None:
        return None
    ty = n.type
    if ty == "identifier":
        return ("use", n) if key_of(n) == key else None
    if ty in ("field_identifier", "type_identifier", "primitive_type", "statement_identifier", "string_literal",
              "number_literal", "char_literal", "comment"):
        return None
    if ty == "preproc_if" or ty == "preproc_ifdef":
        raise Unsupported("preprocessor conditional inside the function")
    if ty == "assignment_expression":
        left = strip_parens(n.child_by_field_name("left"))
        right = n.child_by_field_name("right")
        op = n.child_by_field_name("operator")
        if left is not None and left.type == "identifier" and key_of(left) == key:
            if op is None or op.type != "=":
                return ("use", left)
            ev = _event(right, key, key_of)
            return ev if ev is not None and ev[0] == "use" else ("def", n)
        return _unordered([right, left], key, key_of)
    if ty == "update_expression":
        return _unordered([n.child_by_field_name("argument")], key, key_of)
    if ty == "comma_expression":
        return _ordered([n.child_by_field_name("left"), n.child_by_field_name("right")], key, key_of)
    if ty == "binary_expression":
        op = n.child_by_field_name("operator")
        if op is not None and op.type in ("&&", "||"):
            return _ordered([n.child_by_field_name("left")], key, key_of) or _reads_only(
                n.child_by_field_name("right"), key, key_of)
    if ty == "conditional_expression":
        ev = _event(n.child_by_field_name("condition"), key, key_of)
        if ev is not None:
            return ev
        return _reads_only(n.child_by_field_name("consequence"), key, key_of) or _reads_only(
            n.child_by_field_name("alternative"), key, key_of)
    if ty in ("lambda_expression", "compound_statement", "gnu_asm_expression"):
        return _reads_only(n, key, key_of)
    if ty in ("declaration", "init_declarator") or ty.endswith("_declarator"):
        return _declaration(n, key, key_of)
    if ty == "sizeof_expression":
        return None if n.child_by_field_name("type") is not None else _reads_only(n, key, key_of)
    if ty == "call_expression":
        f = n.child_by_field_name("function")
        if f is not None and f.type == "identifier" and f.text in (b"setjmp", b"_setjmp", b"sigsetjmp"):
            raise Unsupported("setjmp")
    return _unordered(list(n.named_children), key, key_of)


def _declaration(n: Node, key: str, key_of: KeyOf) -> tuple[str, Node] | None:
    if n.type == "declaration":
        return _ordered(list(n.children_by_field_name("declarator")), key, key_of)
    if n.type == "init_declarator":
        ev = _event(n.child_by_field_name("value"), key, key_of)
        if ev is not None and ev[0] == "use":
            return ev
        inner = _declaration(n.child_by_field_name("declarator"), key, key_of)
        return inner or ev
    if n.type == "identifier":
        # a new declaration of the variable starts a new lifetime: its old value is gone
        return ("def", n) if key_of(n) == key else None
    # array, pointer, function declarators: sizes are read (VLA), the name is declared
    uses = [c for c in n.named_children if c.id != (n.child_by_field_name("declarator") or n).id]
    ev = _unordered(uses, key, key_of)
    if ev is not None and ev[0] == "use":
        return ev
    d = n.child_by_field_name("declarator")
    return (_declaration(d, key, key_of) if d is not None else None) or ev


def _ordered(parts: list[Node | None], key: str, key_of: KeyOf) -> tuple[str, Node] | None:
    for p in parts:
        ev = _event(p, key, key_of)
        if ev is not None:
            return ev
    return None


def _unordered(parts: list[Node | None], key: str, key_of: KeyOf) -> tuple[str, Node] | None:
    """Operands whose order C leaves unspecified: a read anywhere counts before any definition."""
    found = None
    for p in parts:
        ev = _event(p, key, key_of)
        if ev is not None and ev[0] == "use":
            return ev
        found = found or ev
    return found


def _reads_only(n: Node | None, key: str, key_of: KeyOf) -> tuple[str, Node] | None:
    """Code that may not run: its reads count, its definitions do not."""
    if n is None:
        return None
    stack = [n]
    while stack:
        x = stack.pop()
        if x.type == "identifier" and key_of(x) == key:
            return ("use", x)
        stack.extend(reversed(x.children))
    return None


def first_read(cfg: FunctionCfg, start: int, key: str, key_of: KeyOf) -> Node | None:
    """An identifier reached from ``start`` that reads ``key`` before it is defined, or None."""
    seen = {start}
    stack = [start]
    while stack:
        i = stack.pop()
        ev = _ordered(cfg.nodes[i].exprs, key, key_of)
        if ev is not None:
            if ev[0] == "use":
                return ev[1]
            continue  # defined here: this path no longer carries the nest's value
        for s in cfg.nodes[i].succ:
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return None
