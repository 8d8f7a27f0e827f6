"""The shared state of one walk over a nest, and its two entry points (a statement, an expression).

Each question the walk asks lives in its own module (statements, expressions, names,
arrays, calls); they recurse through ``Walk.visit`` and ``Walk.expr`` and add what they
find to ``Walk.facts``.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine.access import expressions, statements
from pcx_driver.engine.access.facts import Hazard, NestFacts
from pcx_driver.engine.loops import Loop
from pcx_driver.engine.semantics import Decl, Semantics
from pcx_driver.engine.source import SourceModel


class Walk:
    def __init__(self, model: SourceModel, sem: Semantics, loops_by_node: dict[int, Loop], root: Node):
        self.m = model
        self.sem = sem
        self.loops_by_node = loops_by_node
        self.root = root
        self.facts = NestFacts()
        self.guards: list[tuple[Node, bool]] = []  # if conditions around the current statement
        # helpers being walked as if inlined (access/inline.py), innermost last, and the
        # call in the nest with its statement, where their accesses happen
        self.inlining: list[str] = []
        self.site: tuple[Node, Node | None] | None = None
        self._written: set[str] | None = None

    # ------------------------------------------------------------------ helpers
    def t(self, n: Node | None) -> str:
        return self.m.text(n)

    def line(self, n: Node) -> int:
        return self.m.line_col(n.start_byte)[0]

    def hazard(self, rid: str, msg: str, n: Node) -> None:
        self.facts.hazards.append(Hazard(rid, f"{msg} (line {self.line(n)})", n))

    def written_names(self) -> set[str]:
        """The names the nest assigns, increments, declares or takes the address of."""
        if self._written is None:
            from pcx_driver.engine.hostaccess import assigned_and_declared

            self._written = assigned_and_declared(self.root, self.m.data, self.root.start_byte, self.root.end_byte)
        return self._written

    def decl(self, ident: Node) -> Decl | None:
        return self.sem.decl_of(ident.start_byte)

    # ------------------------------------------------------------------ entry points
    def visit(self, n: Node, loops: list[Loop], cond: bool, stmt: Node | None, in_switch_or_loop: bool) -> None:
        statements.visit(self, n, loops, cond, stmt, in_switch_or_loop)

    def expr(self, n: Node, loops: list[Loop], cond: bool, stmt: Node | None,
             header_of: Loop | None = None) -> None:
        expressions.expr(self, n, loops, cond, stmt, header_of)
