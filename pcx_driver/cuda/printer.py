"""The reprinting core of the CUDA translator: text out of the tree, remarks, ``#line``.

``Printer.emit`` reprints a node: a node without a rule is copied byte for byte
(comments and layout included), a node with a rule is replaced by the rule's text, which
the rule builds from its children reprinted the same way.  ``Printer.rule`` answers
"no rule" for every node; the translator (``translate.py``) overrides it with the
dispatch to the rule modules, which reprint through the printer they are given.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Tree

from pcx_driver.cuda import kernels
from pcx_driver.cuda.parse import call_args
from pcx_driver.model import Remark, SourceUnit


class Refused(Exception):
    """A construct the current rule cannot express (already reported)."""


@dataclass
class Ctx:
    """Where the node being printed sits: what its rules must take into account."""

    device: bool = False  # inside __global__ / __device__ code
    kernel: kernels.KernelInfo | None = None  # the kernel whose body is being printed
    per_thread: frozenset[str] = frozenset()  # locals living across a barrier: one per thread
    thread_exit: bool = False  # in a final phase: ``return`` ends only the thread's iteration
    leave_label: str = ""  # in an earlier phase: ``return`` marks the thread left and jumps here
    leaves: bool = False  # the kernel's threads may leave before its last phase: phases skip them
    guards: tuple[str, ...] = ()  # per-thread conditions around the phases being printed (phases.Predicate)
    uniform_values: tuple[tuple[str, str], ...] = ()  # locals read as the values they still hold (a uniform return)


class Printer:
    """Reprints one unit's syntax tree and collects its remarks (each once per place)."""

    def __init__(self, unit: SourceUnit, tree: Tree) -> None:
        self.file = unit.path
        self.data = unit.data
        self.tree = tree  # parsed from ``data``
        self.remarks: list[Remark] = []
        self._seen: set[tuple[str, int, int]] = set()

    # ------------------------------------------------------------------ reporting

    def remark(self, rid: str, node: Node, message: str) -> None:
        line, col = node.start_point.row + 1, node.start_point.column + 1
        if (rid, line, col) in self._seen:
            return
        self._seen.add((rid, line, col))
        self.remarks.append(Remark(rid, self.file, line, col, message))

    def refuse(self, rid: str, node: Node, message: str) -> Refused:
        self.remark(rid, node, message)
        return Refused()

    # ------------------------------------------------------------------ printing

    def rule(self, node: Node, ctx: Ctx) -> str | None:
        """The text replacing ``node``, or None to reprint its children."""
        return None

    def src(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "surrogateescape")

    def line_at(self, node: Node, end: bool = False) -> str:
        """A ``#line`` directive (on its own line) placing the next text where ``node``
        starts (or ends), padded to its column."""
        row, col = node.end_point if end else node.start_point
        path = self.file.replace("\\", "\\\\").replace('"', '\\"')
        return f'\n#line {row + 1} "{path}"\n' + " " * col

    def emit(self, node: Node, ctx: Ctx) -> str:
        try:
            out = self.rule(node, ctx)
        except Refused:
            # Already reported; the unit fails, so keep the original text (reprinting
            # it under another rule would only repeat the report).
            return self.src(node.start_byte, node.end_byte)
        if out is not None:
            return out
        return self.emit_children(node, ctx)

    def emit_children(self, node: Node, ctx: Ctx) -> str:
        if not node.children:
            return self.src(node.start_byte, node.end_byte)
        out, pos = [], node.start_byte
        for c in node.children:
            out.append(self.src(pos, c.start_byte))
            out.append(self.emit(c, ctx))
            pos = c.end_byte
        out.append(self.src(pos, node.end_byte))
        return "".join(out)

    def emit_children_range(self, node: Node, ctx: Ctx, start: int, end: int) -> str:
        out, pos = [], start
        for c in node.children:
            if c.start_byte < start or c.end_byte > end:
                continue
            out.append(self.src(pos, c.start_byte))
            out.append(self.emit(c, ctx))
            pos = c.end_byte
        out.append(self.src(pos, end))
        return "".join(out)

    def inner_args(self, call: Node, ctx: Ctx) -> list[str]:
        return [self.emit(a, ctx) for a in call_args(call)]
