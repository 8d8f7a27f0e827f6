"""How dim3 declarations, constructions and launch extents are translated (C has no constructors).

A dim3 becomes the prologue's ``dim3`` struct: a local is built with ``pcx_dim3_make``, a
file-scope one with a constant brace initializer, and an extent whose type the syntax
cannot tell goes through ``pcx_dim3_of`` (C11 ``_Generic`` in C, an overload in C++).
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.cuda.names import UnitScope
from pcx_driver.cuda.parse import call_name, declarator_name, in_function, text
from pcx_driver.cuda.printer import Ctx, Printer


class Dim3Rules:
    """The dim3 rules; a name declared dim3 is added to ``scope.dim3`` where it is printed."""

    def __init__(self, printer: Printer, scope: UnitScope) -> None:
        self.printer = printer
        self.scope = scope

    def declaration(self, node: Node, ctx: Ctx) -> str | None:
        """Every CUDA way of declaring a dim3 (C has no constructors):

        ``dim3 g(a, b);`` ``dim3 t(NT * NT);`` (both parse as prototypes) ``dim3 b(n / 256);``
        ``dim3 b = dim3(16, 16);`` ``dim3 b{16, 16};`` ``dim3 b = {16, 16, 1};`` ``dim3 b = 64;``
        ``dim3 b;`` (1, 1, 1).  Locals get ``pcx_dim3_make(...)``; file-scope ones a brace
        initializer (C wants a constant there).  Arrays of and pointers to dim3 pass."""
        file_scope = not in_function(node)
        parts = []
        for d in node.children_by_field_name("declarator"):
            name = declarator_name(d)
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if d.type == "function_declarator":
                plist = d.child_by_field_name("parameters")
                ps = [p for p in plist.named_children if p.type != "comment"]
                if not self.constructor_params(ps, file_scope):
                    return None  # a real prototype of a function returning dim3
                self.scope.dim3.add(name)
                parts.append(f"{name} = {self.constructed(ps, d, ctx, file_scope)}")
                continue
            inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            if inner is None or inner.type != "identifier":
                parts.append(self.printer.emit(d, ctx))  # dim3 grids[2], dim3 *p = &g: no constructor
                continue
            self.scope.dim3.add(name)
            if value is None:
                parts.append(f"{name} = {self.make([], d, file_scope)}")
            elif value.type in ("argument_list", "initializer_list"):
                args = [a for a in value.named_children if a.type != "comment"]
                parts.append(f"{name} = {self.constructed(args, value, ctx, file_scope)}")
            elif file_scope and value.type == "call_expression" and call_name(value) == "dim3":
                args = self.printer.inner_args(value, ctx)
                parts.append(f"{name} = {self.make(args, value, file_scope)}")
            elif file_scope and value.type in ("number_literal", "binary_expression", "sizeof_expression"):
                parts.append(f"{name} = {self.make([self.printer.emit(value, ctx)], value, file_scope)}")
            else:
                parts.append(f"{name} = {self.value(value, ctx)}")
        head = self.printer.src(node.start_byte, node.child_by_field_name("type").end_byte)
        return f"{head} {', '.join(parts)};"

    def constructor_params(self, ps: list[Node], file_scope: bool) -> bool:
        """Whether ``dim3 x(P...)`` that tree-sitter read as a prototype is a constructor.

        In a function body it always is (nobody declares functions returning dim3
        there) unless a parameter has a builtin type (``dim3 f(int n);``).  At file
        scope, ``dim3 block(TILE, TILE);`` (bare names) and ``dim3 thr(NT * NT);``
        where NT is a macro, an enumerator or an arithmetic variable of the program are;
        ``dim3 f(Grid *g);`` is a prototype."""
        for p in ps:
            if p.type != "parameter_declaration":
                return False
            typ = p.child_by_field_name("type")
            if typ is None or typ.type != "type_identifier":
                return False
            if any(c.type in ("type_qualifier", "storage_class_specifier") for c in p.children):
                return False
            if file_scope and p.child_by_field_name("declarator") is not None and (
                text(typ) not in self.scope.macros and text(typ) not in self.scope.scalars
            ):
                return False
        return True

    def constructed(self, args: list[Node], node: Node, ctx: Ctx, file_scope: bool) -> str:
        """The value of ``dim3 x(args)``, ``dim3 x{args}`` or ``dim3 x = {args}``.

        ``args`` are expressions, or the parameter declarations tree-sitter read them as
        (``dim3 t(NT * NT)`` is a prototype to it).  Each is printed through the rules, so
        a refused or renamed name in it is handled like anywhere else.  A single argument
        may be a dim3 itself (``dim3 b(grid)``, ``dim3 b(make_grid(n))``: a copy), so a
        local one is decided like a launch extent (``value``); file-scope ones stay
        constant brace initializers, where only extents can appear."""
        if len(args) == 1 and not file_scope:
            arg = args[0]
            if arg.type != "parameter_declaration":
                return self.value(arg, ctx)
            declarator = arg.child_by_field_name("declarator")
            if declarator is None and text(arg) in self.scope.dim3:
                return self.printer.emit(arg, ctx)  # dim3 b(grid): a copy
            # n * m reads as ``n *m``: a product.  A name of unknown type, geo[0] or
            # make_grid(n) may be a dim3: the type decides.
            if not (declarator is None and text(arg) in self.scope.scalars) and (
                declarator is None or declarator.type != "pointer_declarator"
            ):
                return f"pcx_dim3_of({self.printer.emit(arg, ctx)})"
        return self.make([self.printer.emit(a, ctx) for a in args], node, file_scope)

    def make(self, args: list[str], node: Node, file_scope: bool = False) -> str:
        if len(args) > 3:
            raise self.printer.refuse("PCX407", node, "dim3 with more than three extents")
        args = [f"(unsigned int)({a})" for a in args] + ["1"] * (3 - len(args))
        if file_scope:
            return "{" + ", ".join(args) + "}"
        return f"pcx_dim3_make({', '.join(args)})"

    def value(self, expr: Node, ctx: Ctx) -> str:
        """A launch extent or dim3 initialiser: dim3-typed expressions pass, integers wrap.

        The syntax decides where it can (a name declared dim3, a ``dim3(...)`` call, a
        number or arithmetic); otherwise the prologue's ``pcx_dim3_of`` decides by type
        (C11 ``_Generic`` in C, overloading in C++)."""
        out = self.printer.emit(expr, ctx)
        if (expr.type == "identifier" and text(expr) in self.scope.dim3) or (
            expr.type == "call_expression" and call_name(expr) == "dim3"
        ):
            return out
        if expr.type in ("number_literal", "binary_expression", "sizeof_expression", "cast_expression") or (
            expr.type == "identifier" and text(expr) not in self.scope.dim3 and text(expr) in self.scope.scalars
        ):
            return f"pcx_dim3_make((unsigned int)({out}), 1, 1)"
        return f"pcx_dim3_of({out})"
