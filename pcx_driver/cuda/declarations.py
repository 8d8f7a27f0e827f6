"""How declarations are translated, and ``__device__`` functions.

File-scope ``__device__``/``__constant__`` variables and ``__device__`` functions go into
``declare target`` (each variable with the copy helpers ``cudaMemcpyToSymbol`` uses);
a ``__shared__`` declaration is hoisted out of the body by the kernel's launcher; a local
living across a barrier becomes its thread's element of a per-thread array; dim3s are
``dim3.py``'s; ``T old = atomicAdd(p, v);`` declares ``old`` and captures into it.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from pcx_driver.cuda import kernels, phases, tables
from pcx_driver.cuda.dim3 import Dim3Rules
from pcx_driver.cuda.kernel_def import KernelDefinitions
from pcx_driver.cuda.names import UnitScope
from pcx_driver.cuda.parse import at_file_scope, call_name, declarator_name, function_declarator, has_keyword, text, walk
from pcx_driver.cuda.printer import Ctx, Printer
from pcx_driver.cuda.statements import DeviceStatements


class DeclarationRules:
    """The rules for ``declaration`` nodes and ``__device__`` function definitions; a
    ``__device__``/``__constant__`` variable printed is added to ``scope.symbols``."""

    def __init__(self, printer: Printer, scope: UnitScope, dim3: Dim3Rules, kernel_defs: KernelDefinitions,
                 statements: DeviceStatements) -> None:
        self.printer = printer
        self.scope = scope
        self.dim3 = dim3
        self.kernel_defs = kernel_defs
        self.statements = statements

    def declaration(self, node: Node, ctx: Ctx) -> str | None:
        if has_keyword(node, "__global__"):
            return self.kernel_defs.prototype(node)
        if has_keyword(node, "__managed__") or "__managed__" in text(node).split():
            raise self.printer.refuse("PCX407", node, "__managed__ variables are not supported")
        if not ctx.device and (has_keyword(node, "__device__") or has_keyword(node, "__constant__")):
            return self.device_variable(node)
        if not ctx.device and at_file_scope(node) and _constant_scalars(node):
            # ``constexpr int kThreads = 4;`` read by kernels: clang wants device code to
            # name only ``declare target`` variables; a constant is the same on both sides.
            return ("\n#pragma omp declare target" + self.printer.line_at(node) + self.printer.emit_children(node, ctx)
                    + "\n#pragma omp end declare target" + self.printer.line_at(node, end=True))
        if ctx.kernel is not None and any(g.statement.id == node.id for g in ctx.kernel.groups.groups.values()):
            return ""  # ``cg::thread_block b = cg::this_thread_block();``: calls on b are translated
        if has_keyword(node, "__shared__"):
            if ctx.kernel is None:
                raise self.printer.refuse("PCX407", node, "__shared__ variable outside a kernel body is not supported")
            return ""  # hoisted into the team by the kernel's launcher
        typ = node.child_by_field_name("type")
        if ctx.per_thread and any(declarator_name(d) in ctx.per_thread for d in node.children_by_field_name("declarator")):
            return self.per_thread(node, ctx)
        if typ is not None and text(typ) == "dim3":
            return self.dim3.declaration(node, ctx)
        if ctx.device:
            inits = [c for c in node.children_by_field_name("declarator")]
            for d in inits:
                v = d.child_by_field_name("value") if d.type == "init_declarator" else None
                if v is not None and v.type == "call_expression" and tables.atomic_base(call_name(v)) in tables.ATOMICS:
                    if len(inits) != 1:
                        raise self.printer.refuse("PCX405", v, f"{call_name(v)} in a declaration of several variables is not supported")
                    # ``T old = atomicAdd(p, v);`` -> ``T old; <atomic capture into old>``
                    head = self.printer.emit_children_range(node, ctx, node.start_byte, d.start_byte)
                    name_part = self.printer.emit(d.child_by_field_name("declarator"), ctx)
                    target = declarator_name(d)
                    return head + name_part + "; " + self.statements.atomic(v, ctx, capture=target, stmt=node)
        return None

    def per_thread(self, node: Node, ctx: Ctx) -> str:
        """``float acc = 0, t;`` where acc lives across a barrier: its element of the
        thread is assigned (``acc__pcx[pcx_t] = 0;``), the other declarators stay."""
        typ = node.child_by_field_name("type")
        head = self.printer.emit_children_range(node, ctx, node.start_byte, typ.end_byte)
        parts = []
        for d in node.children_by_field_name("declarator"):
            name = declarator_name(d)
            if name not in ctx.per_thread:
                parts.append(f"{head} {self.printer.emit(d, ctx)};")
            elif d.type == "init_declarator" and d.child_by_field_name("value").type == "initializer_list":
                # an array set to zero (phases._zero_list): the thread's copy
                element = f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t]"
                parts.append(f"__builtin_memset({element}, 0, sizeof {element});")
            elif d.type == "init_declarator":  # without one the element keeps its value (CUDA: indeterminate)
                parts.append(f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t] = {self.printer.emit(d.child_by_field_name('value'), ctx)};")
        return " ".join(parts)

    def device_variable(self, node: Node) -> str:
        """File-scope ``__device__``/``__constant__`` variables (and ``__device__``
        prototypes) live on the device too: ``declare target``."""
        ctx = Ctx()
        body = self.printer.emit_children(node, ctx)
        helpers = []
        for d in node.children_by_field_name("declarator"):
            if function_declarator(node) is not None:
                break
            name = declarator_name(d)
            self.scope.symbols[name] = "constant" if has_keyword(node, "__constant__") else "device"
            helpers.append(kernels.symbol_helpers(name))
        return (
            "\n#pragma omp declare target" + self.printer.line_at(node) + body.strip()
            + "\n#pragma omp end declare target\n" + "".join(helpers) + self.printer.line_at(node, end=True)
        )

    def variable_template(self, node: Node) -> str | None:
        """``template <typename T> __constant__ T coef[W];`` (None when ``node`` is not a
        variable template of device memory).  clang-19 gives a variable template's
        instantiations no device definition, even inside ``declare target``, so the
        variable becomes the static member ``v`` of a class template (whose members it
        does define), ``pcx_var_coef<T>::v``, which every use ``coef<T>`` names
        (``template_use``); its copy helpers are templates too (``pcx_to_symbol_coef<T>``)."""
        inner = next((c for c in node.named_children if c.type == "declaration"), None)
        if inner is None or function_declarator(inner) is not None or not (
            has_keyword(inner, "__device__") or has_keyword(inner, "__constant__")
        ):
            return None
        decls = inner.children_by_field_name("declarator")
        if len(decls) != 1:
            raise self.printer.refuse("PCX407", inner, "a variable template declaring several variables is not supported")
        d = decls[0]
        name = declarator_name(d)
        head, args = self.kernel_defs.template_info(node)
        ctx = Ctx()
        typ = self.printer.emit_children_range(inner, ctx, inner.start_byte, d.start_byte).strip()
        target = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
        ident = next(n for n in walk(target) if n.type == "identifier" and text(n) == name)
        shape = self.printer.emit_children_range(target, ctx, ident.end_byte, target.end_byte)
        value = d.child_by_field_name("value") if d.type == "init_declarator" else None
        init = f" = {self.printer.emit(value, ctx)}" if value is not None else ""
        holder = f"pcx_var_{name}"
        self.scope.symbols[name] = "constant" if has_keyword(inner, "__constant__") else "device"
        self.scope.templates.add(name)
        return (
            "\n#pragma omp declare target" + self.printer.line_at(node)
            + f"{head}struct {holder} {{ static {typ} v{shape}; }};\n"
            + f"{head}{typ} {holder}{args}::v{shape}{init};"
            + "\n#pragma omp end declare target\n"
            + kernels.symbol_helpers(name, (head, f"{holder}{args}::v")) + self.printer.line_at(node, end=True)
        )

    @staticmethod
    def template_use(node: Node, arguments: str) -> str:
        """``coef<T>``, a use of a device variable template (``variable_template``)."""
        return f"pcx_var_{text(node.child_by_field_name('name'))}{arguments}::v"

    def device_function(self, node: Node, ctx: Ctx, head: str = "") -> str:
        """A ``__device__`` function definition: ``declare target``, refused where it
        uses what only a kernel has (barriers, warp functions, the launch geometry; a helper
        the kernels call with those is inlined into them first, ``inline.py``).  ``head``:
        the ``template <...>`` of a function template, which goes inside the directive."""
        volatile = next((p for p in walk(node.child_by_field_name("declarator")) if p.type == "parameter_declaration"
                         and any(c.type == "type_qualifier" and text(c) == "volatile" for c in walk(p))), None)
        cooperative = any((n.type == "call_expression" and (call_name(n) == "__syncthreads" or call_name(n) in phases.WARP_CALLS))
                          or (n.type == "field_expression" and text(n.child_by_field_name("argument")) in (
                              "threadIdx", "blockIdx", "blockDim", "gridDim")) for n in walk(node))
        if volatile is not None and cooperative:
            raise self.printer.refuse("PCX407", volatile, f"{declarator_name(function_declarator(node))} takes a volatile "
                                      "pointer and the thread index: warp-synchronous code, which relies on the lanes of a "
                                      "warp running in step (no guarantee of CUDA since Volta; here a block's threads run one "
                                      "after another); use __syncwarp() or __shfl_*_sync in the kernel")
        for n in walk(node):
            if n.type == "call_expression" and call_name(n) == "__syncthreads":
                raise self.printer.refuse("PCX407", n, "__syncthreads() in a __device__ function that is not inlined into its kernel "
                                                       "(called where it may not run, or from host code) is not supported; call it from the kernel")
            if n.type == "call_expression" and call_name(n) in phases.WARP_CALLS:
                raise self.printer.refuse("PCX401", n, f"warp function {call_name(n)} in a __device__ function that is not inlined into its kernel "
                                                       "(called where it may not run, or from host code) is not supported; "
                                                       "write it in the kernel")
            if n.type == "field_expression" and text(n.child_by_field_name("argument")) in (
                "threadIdx", "blockIdx", "blockDim", "gridDim"
            ):
                raise self.printer.refuse("PCX407", n, f"{text(n)} in a __device__ function that is not inlined into its kernel "
                                                       "(called where it may not run, or from host code) is not supported; pass it from the kernel")
        body = self.printer.emit_children(node, ctx)
        return (
            "\n#pragma omp declare target" + self.printer.line_at(node.parent if head else node) + head + body.lstrip()
            + "\n#pragma omp end declare target" + self.printer.line_at(node, end=True)
        )


#: Scalar types a file-scope constant may have to be shared with device code as it is.
_SCALAR_TYPES = re.compile(r"^(?:(?:unsigned|signed|short|long|int|char|float|double|bool|size_t|u?int(?:8|16|32|64)_t)\s*)+$")


def _constant_scalars(node: Node) -> bool:
    """``const``/``constexpr`` scalars with initialisers at file scope (``constexpr int
    kThreads = 4;``, ``const float eps = 1e-5f;``), no functions, arrays or classes."""
    if not any(c.type == "type_qualifier" and text(c) in ("const", "constexpr") for c in node.children):
        return False
    if any(c.type == "storage_class_specifier" and text(c) == "extern" for c in node.children):
        return False
    typ = node.child_by_field_name("type")
    if typ is None or not _SCALAR_TYPES.match(text(typ)):
        return False
    decls = node.children_by_field_name("declarator")
    return bool(decls) and all(d.type == "init_declarator" and d.child_by_field_name("declarator").type == "identifier"
                               for d in decls)
