"""tree-sitter-cuda parsing and small, pure helpers over its syntax tree."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tree_sitter_cuda
from tree_sitter import Language, Node, Parser, Tree

from pcx_driver.engine.source import walk  # noqa: F401 - one walk for every grammar; the CUDA modules import it from here



@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_cuda.language()))


@functools.lru_cache(maxsize=32)
def parse(data: bytes) -> Tree:
    """The tree of ``data`` (cached: a unit is read by the project scan, the inliner and the
    translator; nothing edits a tree)."""
    return _parser().parse(data)


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "surrogateescape")


def has_keyword(node: Node, keyword: str) -> bool:
    """Whether ``node`` carries a CUDA keyword (``__global__``...) as a direct child or
    inside a direct ``type_qualifier`` / ``storage_class_specifier`` child."""
    for c in node.children:
        if c.type == keyword:
            return True
        if c.type in ("type_qualifier", "storage_class_specifier", "attribute_specifier") and any(
            g.type == keyword for g in c.children
        ):
            return True
    return False


def call_name(call: Node) -> str:
    """The callee's name when it is a plain identifier, else ''."""
    fn = call.child_by_field_name("function")
    return text(fn) if fn is not None and fn.type == "identifier" else ""


def call_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [c for c in args.named_children if c.type != "comment"]


def declarator_name(decl: Node | None) -> str:
    """The identifier a (possibly nested) declarator declares, or ''."""
    while decl is not None:
        if decl.type in ("identifier", "field_identifier"):
            return text(decl)
        decl = decl.child_by_field_name("declarator")
    return ""


def declarator_is_pointer(decl: Node | None) -> bool:
    """Whether a parameter declarator makes a pointer (``*p``, ``p[]``)."""
    while decl is not None:
        if decl.type in ("pointer_declarator", "array_declarator"):
            return True
        if decl.type in ("identifier", "function_declarator"):
            return False
        decl = decl.child_by_field_name("declarator")
    return False


def has_side_effects(node: Node) -> bool:
    """Conservative: calls, assignments, ++ and -- count as side effects."""
    return any(
        n.type in ("call_expression", "assignment_expression", "update_expression") for n in walk(node)
    )


@dataclass(frozen=True)
class Param:
    name: str
    pointer: bool


def parameter_declarations(fn_declarator: Node) -> list[Node] | None:
    """The parameter declarations of a function declarator (none for ``(void)``); None if
    one is unnamed or variadic."""
    plist = fn_declarator.child_by_field_name("parameters")
    out: list[Node] = []
    for p in plist.named_children if plist is not None else ():
        if p.type == "comment":
            continue
        if p.type != "parameter_declaration":
            return None
        if p.child_by_field_name("declarator") is None:
            if text(p).strip() == "void":
                continue
            return None
        out.append(p)
    return out


def parameters(fn_declarator: Node) -> list[Param] | None:
    """The parameters of a function declarator; None if one is unnamed or variadic."""
    decls = parameter_declarations(fn_declarator)
    if decls is None:
        return None
    out: list[Param] = []
    for p in decls:
        decl = p.child_by_field_name("declarator")
        name = declarator_name(decl)
        if not name:
            return None
        out.append(Param(name, declarator_is_pointer(decl)))
    return out


def function_declarator(node: Node) -> Node | None:
    """The function_declarator of a function definition or prototype declaration."""
    d = node.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    return d


def at_file_scope(node: Node) -> bool:
    """Whether ``node`` is a top-level declaration of the unit (also inside ``#if``s)."""
    p = node.parent
    while p is not None and p.type.startswith("preproc_"):
        p = p.parent
    return p is not None and p.type == "translation_unit"


def in_function(node: Node) -> bool:
    """Whether ``node`` lies inside a function body (not at file or namespace scope)."""
    p = node.parent
    while p is not None:
        if p.type in ("compound_statement", "function_definition"):
            return True
        p = p.parent
    return False


#: What a macro body is wrapped in to parse it as statements (its byte offsets in the
#: tree are this much past the body's own).
MACRO_BODY_HEAD = b"void pcx_macro_body(void) {\n"


def parse_macro_body(body: Node) -> Tree:
    """A ``#define``'s body parsed as the statements of a function (``\\`` line
    continuations are blanks to the grammar), or else as one statement missing its ``;``
    (``do { ... } while (0)``, an expression); offsets are ``len(MACRO_BODY_HEAD)`` past
    the body's.  The tree has errors when neither parses."""
    raw = body.text or b""
    tree = parse(MACRO_BODY_HEAD + raw + b"\n}\n")
    if tree.root_node.has_error:
        closed = parse(MACRO_BODY_HEAD + raw + b";\n}\n")
        if not closed.root_node.has_error:
            return closed
    return tree


def launches(root: Node) -> list[Node]:
    """The kernel launches (``k<<<g, b>>>(...)`` calls) under ``root``, outermost only."""
    out: list[Node] = []
    for n in walk(root):
        if n.type == "call_expression" and any(c.type == "kernel_call_syntax" for c in n.children) and not any(
            o.start_byte <= n.start_byte and n.end_byte <= o.end_byte for o in out
        ):
            out.append(n)
    return out


#: Syntax only C++ has: a unit with any of it (or reaching a header with it) is C++.
CXX_NODES = frozenset({
    "template_declaration", "namespace_definition", "class_specifier", "qualified_identifier",
    "new_expression", "delete_expression", "reference_declarator", "using_declaration",
    "alias_declaration", "lambda_expression", "linkage_specification", "template_function", "this",
    "nullptr", "access_specifier", "operator_name", "static_assert_declaration",
})


def uses_cxx(root: Node) -> bool:
    """Whether the tree holds syntax only C++ has (``CXX_NODES``)."""
    return any(n.type in CXX_NODES for n in walk(root))

