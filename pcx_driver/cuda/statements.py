"""How device expression statements are translated: barriers, fences and atomics.

``__syncthreads();`` in a kernel is ``#pragma omp barrier``, a ``__threadfence*()`` an
``omp flush``, and an atomic call used as a statement, or assigned to a variable, the
``omp atomic`` update/write/capture/compare form of its operation (``tables.ATOMICS``).
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.cuda import tables
from pcx_driver.cuda.parse import call_args, call_name, has_side_effects, text
from pcx_driver.cuda.printer import Ctx, Printer


class DeviceStatements:
    """The rules for expression statements in device code, and the atomic constructs."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer

    def expression_statement(self, node: Node, ctx: Ctx) -> str | None:
        expr = node.named_children[0] if node.named_children else None
        if expr is None:
            return None
        if ctx.kernel is not None and any(g.statement.id == node.id for g in ctx.kernel.groups.groups.values()):
            return ""  # ``cg::thread_block_tile<N> t = cg::tiled_partition<N>(b);``: calls on t are translated
        if ctx.kernel is not None and expr.type == "call_expression" and call_name(expr) != "__syncthreads" \
                and ctx.kernel.groups.is_barrier(expr):
            return "{\n#pragma omp barrier" + self.printer.line_at(node) + "}"  # block.sync()
        if expr.type == "call_expression":
            name = call_name(expr)
            if name == "__syncthreads":
                if ctx.kernel is None:
                    raise self.printer.refuse("PCX407", expr, "__syncthreads() outside a kernel")
                return "{\n#pragma omp barrier" + self.printer.line_at(node) + "}"
            if name in ("__threadfence", "__threadfence_block", "__threadfence_system"):
                return "{\n#pragma omp flush" + self.printer.line_at(node) + "}"
            if tables.atomic_base(name) in tables.ATOMICS:
                return self.atomic(expr, ctx, capture=None, stmt=node)
        if expr.type == "assignment_expression" and text(expr.child_by_field_name("operator")) == "=":
            right = expr.child_by_field_name("right")
            if right.type == "call_expression" and tables.atomic_base(call_name(right)) in tables.ATOMICS:
                left = expr.child_by_field_name("left")
                if has_side_effects(left):
                    raise self.printer.refuse("PCX405", left, "atomic capture into an expression with side effects")
                return self.atomic(right, ctx, capture=self.printer.emit(left, ctx), stmt=node)
        return None

    def atomic(self, call: Node, ctx: Ctx, capture: str | None, stmt: Node) -> str:
        """One atomic call as an ``omp atomic`` construct; ``capture`` receives the old value."""
        name = call_name(call)
        op = tables.ATOMICS[tables.atomic_base(name)]
        raw = call_args(call)
        want = 3 if op == "cas" else 2
        if len(raw) != want:
            raise self.printer.refuse("PCX405", call, f"{name} with {len(raw)} arguments")
        ptr = raw[0]
        if has_side_effects(ptr):
            raise self.printer.refuse("PCX405", ptr, f"{name} on an address with side effects")
        if ptr.type == "pointer_expression" and text(ptr.child_by_field_name("operator")) == "&":
            lv = self.printer.emit(ptr.child_by_field_name("argument"), ctx)
        else:
            lv = f"(*({self.printer.emit(ptr, ctx)}))"
        vals = [self.printer.emit(a, ctx) for a in raw[1:]]
        back = self.printer.line_at(stmt, end=True)
        if op in ("max", "min", "cas"):
            temps = f"__typeof__({lv}) pcx_v = ({vals[-1]})"
            if op == "cas":
                temps += f", pcx_c = ({vals[0]})"
                cond = f"{lv} == pcx_c"
            else:
                cond = f"{lv} < pcx_v" if op == "max" else f"{lv} > pcx_v"
            update = f"if ({cond}) {{ {lv} = pcx_v; }}"
            if capture is None:
                return f"{{ {temps};\n#pragma omp atomic compare\n{update} }}" + back
            return f"{{ {temps};\n#pragma omp atomic compare capture\n{{ {capture} = {lv}; {update} }} }}" + back
        update = f"{lv} = ({vals[0]});" if op == "=" else f"{lv} {op}= ({vals[0]});"
        if capture is None:
            kind = "write" if op == "=" else "update"
            return f"{{\n#pragma omp atomic {kind}\n{update} }}" + back
        return f"{{\n#pragma omp atomic capture\n{{ {capture} = {lv}; {update} }} }}" + back
