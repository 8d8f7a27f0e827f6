"""How calls are translated: kernel launches, CUDA runtime API calls, symbol copies, intrinsics.

``k<<<g, b, shmem, stream>>>(args)`` becomes a call of the kernel's host launcher
``k(dim3 g, dim3 b, shmem, args)`` (the stream is dropped: every launch is synchronous);
a runtime call becomes the prologue's function of the same meaning (``tables.API``),
``cudaMemcpyToSymbol``/``FromSymbol`` the copy helpers printed with the symbol, and
math intrinsics and ``min``/``max`` their C forms.  Atomics and barriers are statements
(``statements.py``); here they are only refused where they sit inside an expression.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.cuda import tables
from pcx_driver.cuda.dim3 import Dim3Rules
from pcx_driver.cuda.names import UnitScope
from pcx_driver.cuda.parse import MACRO_BODY_HEAD, call_args, call_name, launches, parse_macro_body, text, walk
from pcx_driver.cuda.printer import Ctx, Printer


class CallRules:
    """The rules for ``call_expression`` nodes; launch extents are dim3 values (``Dim3Rules``)."""

    def __init__(self, printer: Printer, scope: UnitScope, dim3: Dim3Rules) -> None:
        self.printer = printer
        self.scope = scope
        self.dim3 = dim3

    def call(self, node: Node, ctx: Ctx) -> str | None:
        launch = next((c for c in node.children if c.type == "kernel_call_syntax"), None)
        if launch is not None:
            return self.launch(node, launch, ctx)
        if ctx.kernel is not None and ctx.kernel.groups.method(node) is not None:
            return self.group_query(node, ctx)
        name = call_name(node)
        if not name:
            return None
        if name == "dim3":
            args = call_args(node)
            if len(args) == 1:  # dim3(grid) copies a dim3, dim3(n) makes one: the type decides
                return self.dim3.value(args[0], ctx)
            return self.dim3.make(self.printer.inner_args(node, ctx), node)
        base = tables.atomic_base(name)
        if base in tables.ATOMICS:
            raise self.printer.refuse("PCX405", node, f"{name} whose result is used inside an expression has no OpenMP atomic form; assign it to a variable")
        if base in tables.ATOMICS_REFUSED:
            raise self.printer.refuse("PCX405", node, f"{name} (wrap-around atomic) has no OpenMP equivalent")
        if name in ("__syncthreads", "__threadfence", "__threadfence_block", "__threadfence_system"):
            raise self.printer.refuse("PCX407", node, f"{name}() must be a statement of its own")
        if name in tables.CACHE_LOADS:  # __ldg, __ldcs...: a load with a cache hint
            args = self.printer.inner_args(node, ctx)
            return f"(*({args[0]}))" if len(args) == 1 else None
        if name in tables.CACHE_STORES:  # __stcs...: a store with a cache hint
            args = self.printer.inner_args(node, ctx)
            return f"((void)(*({args[0]}) = ({args[1]})))" if len(args) == 2 else None
        if name in tables.INTRINSICS:
            return tables.INTRINSICS[name] + self.printer.emit(node.child_by_field_name("arguments"), ctx)
        if name in tables.MINMAX and name not in self.scope.user_minmax:
            if any(n.type in ("assignment_expression", "update_expression") for a in call_args(node) for n in walk(a)):
                raise self.printer.refuse("PCX407", node, f"{name}() with an argument that has side effects (it would be evaluated twice)")
            return tables.MINMAX[name] + self.printer.emit(node.child_by_field_name("arguments"), ctx)
        if name in tables.SYMBOL_COPIES:
            return self.symbol_copy(node, name, ctx)
        api = tables.API.get(name)
        if api is not None:
            if ctx.device:
                raise self.printer.refuse("PCX406", node, f"{name} called from device code has no translation")
            return self.api_call(node, name, api, ctx)
        if ctx.device and tables.unknown_intrinsic(name) and name not in self.scope.user:
            # passed through it would not compile: say so instead
            raise self.printer.refuse("PCX407", node, f"CUDA device intrinsic {name} has no translation")
        return None

    def group_query(self, node: Node, ctx: Ctx) -> str:
        """``block.thread_rank()``, ``tile.size()``...: its C text (``coop.Groups.expression``);
        a tile's exchanges are statements of their own (``phases.py``)."""
        expr = ctx.kernel.groups.expression(node)
        if expr is None:
            raise self.printer.refuse("PCX402", node, f"cooperative groups {text(node)} has no translation here (a shuffle, "
                                      "vote or sync must be a statement of its own in a kernel split at its barriers)")
        return expr

    def api_call(self, node: Node, name: str, api: tables.ApiCall, ctx: Ctx) -> str:
        args = self.printer.inner_args(node, ctx)
        missing = api.arity - len(args)
        if missing < 0 or missing > len(api.defaults):
            raise self.printer.refuse("PCX406", node, f"{name} called with {len(args)} arguments")
        if missing:
            args += list(api.defaults[len(api.defaults) - missing:])
        if api.cast_first and args:
            args[0] = f"(void **)({args[0]})"
        return f"{api.rename or name}({', '.join(args)})"

    def symbol_copy(self, node: Node, name: str, ctx: Ctx) -> str:
        direction = tables.SYMBOL_COPIES[name]
        raw = call_args(node)
        if not raw:
            raise self.printer.refuse("PCX406", node, f"{name} without arguments")
        # cudaMemcpyToSymbol(symbol, src, ...) / cudaMemcpyFromSymbol(dst, symbol, ...)
        sym_index = 0 if direction == "to" else 1
        if len(raw) <= sym_index:
            raise self.printer.refuse("PCX406", node, f"{name} without a symbol argument")
        sym_node = raw[sym_index]
        if sym_node.type == "pointer_expression":
            sym_node = sym_node.child_by_field_name("argument")
        sym, targs = text(sym_node), ""
        if sym_node.type == "template_function" and text(sym_node.child_by_field_name("name")) in self.scope.templates:
            sym, targs = text(sym_node.child_by_field_name("name")), text(sym_node.child_by_field_name("arguments"))
        if sym not in self.scope.symbols:
            raise self.printer.refuse("PCX406", node, f"{name} on {sym}, which is not a __device__/__constant__ variable defined earlier in this file")
        if sym in self.scope.templates and not targs:
            raise self.printer.refuse("PCX406", node, f"{name} on the variable template {sym} without its template arguments")
        args = self.printer.inner_args(node, ctx)
        del args[sym_index]
        defaults = ["0", "cudaMemcpyHostToDevice" if direction == "to" else "cudaMemcpyDeviceToHost"]
        if not 2 <= len(args) <= 4 + (1 if name.endswith("Async") else 0):
            raise self.printer.refuse("PCX406", node, f"{name} called with {len(args) + 1} arguments")
        args = args[:4]
        args += defaults[len(args) - 2:]
        return f"pcx_{direction}_symbol_{sym}{targs}({', '.join(args[:4])})"  # coef<T>: pcx_to_symbol_coef<T>

    def macro_body(self, body: Node) -> str | None:
        """A ``#define`` body that launches kernels (``#define RUN(k, g) k<<<dim3(g), 256>>>(d, n)``),
        each launch rewritten as a launch in code is (``launch``); None when it launches none.

        The launch's parts are macro text (``k`` may be a parameter), so they are kept as
        written; only the extents are made dim3s, by type (``pcx_dim3_of``) or from a
        ``dim3(...)`` spelled in the body.  A body with ``<<<`` that does not parse as
        statements is refused where the macro is used (``names.MACRO_LAUNCH``)."""
        tree = parse_macro_body(body)
        found = launches(tree.root_node)
        if not found or tree.root_node.has_error:
            return None
        raw, shift, out, pos = body.text or b"", len(MACRO_BODY_HEAD), [], 0
        for call in found:
            config = next(c for c in call.children if c.type == "kernel_call_syntax")
            parts = [c for c in config.named_children if c.type != "comment"]
            fn = call.child_by_field_name("function")
            if not 2 <= len(parts) <= 4 or fn.type not in ("identifier", "template_function"):
                raise self.printer.refuse("PCX407", body, f"kernel launch {text(call)} in a macro body is not understood")
            shmem = f"(size_t)({text(parts[2])})" if len(parts) > 2 else "0"
            launch = f"{text(fn)}({', '.join([_macro_extent(parts[0]), _macro_extent(parts[1]), shmem] + [text(a) for a in call_args(call)])})"
            out += [raw[pos:call.start_byte - shift].decode("utf-8", "surrogateescape"), launch]
            pos = call.end_byte - shift
        return "".join(out) + raw[pos:].decode("utf-8", "surrogateescape")

    def launch(self, node: Node, config: Node, ctx: Ctx) -> str:
        kname = text(node.child_by_field_name("function"))
        if ctx.device:
            raise self.printer.refuse("PCX404", node, f"kernel launch {kname}<<<...>>> from device code (dynamic parallelism) is not supported")
        fn = node.child_by_field_name("function")
        if fn.type == "template_function":  # k<float, 64><<<...>>>: the launcher is a template too
            kname = self.printer.emit(fn, ctx)
        elif fn.type != "identifier":
            raise self.printer.refuse("PCX407", node, f"launch of {kname} (a member or qualified kernel) is not supported")
        parts = [c for c in config.named_children if c.type != "comment"]
        if not 2 <= len(parts) <= 4:
            raise self.printer.refuse("PCX407", config, "launch configuration needs 2 to 4 values")
        grid, block = self.dim3.value(parts[0], ctx), self.dim3.value(parts[1], ctx)
        shmem = f"(size_t)({self.printer.emit(parts[2], ctx)})" if len(parts) > 2 else "0"
        args = self.printer.inner_args(node, ctx)
        return f"{kname}({', '.join([grid, block, shmem] + args)})"


def _macro_extent(expr: Node) -> str:
    """A launch extent written in a macro body, as a dim3: ``dim3(a, b)`` is made, anything
    else (an int, a dim3, ``dim3(g)`` around either) goes through ``pcx_dim3_of``."""
    if expr.type == "call_expression" and call_name(expr) == "dim3":
        args = [text(a) for a in call_args(expr)]
        if len(args) == 1:
            return f"pcx_dim3_of({args[0]})"
        if 2 <= len(args) <= 3:
            return "pcx_dim3_make(" + ", ".join([f"(unsigned int)({a})" for a in args] + ["1"] * (3 - len(args))) + ")"
    return f"pcx_dim3_of({text(expr)})"

