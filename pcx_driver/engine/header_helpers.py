"""Helpers a project header defines that are as safe on the device as libm (issue 15, cause 4).

LULESH's ``inline real8 FABS(real8 arg) { return fabs(arg) ; }`` and ``SQRT``, a header's
``static inline double sq(double x) { return x * x; }``: the analysis sees the call, and
libclang where its definition is, but the engine's model is the main file's text.  Such a
function is read here from its header: it counts as a math call when its body is one
``return`` of an expression over its parameters (each a scalar: no pointer, reference or
array), literals, operators, casts and libm calls.  It reads no
memory and writes none, so a kernel may call it wherever the serial loop did; the compiler
makes it a device function (OpenMP 5.0: a function referenced in a target region with its
definition in the translation unit is declare target implicitly; clang-19 and gcc do, for
overloads too, which an explicit ``declare target to(SQRT)`` cannot name).
"""

from __future__ import annotations

from functools import lru_cache

from tree_sitter import Node

from pcx_driver.engine.hostaccess import text_of
from pcx_driver.model import Language

#: expression nodes that compute a value from their children and nothing else
_PURE_EXPRESSIONS = frozenset({
    "binary_expression", "unary_expression", "conditional_expression", "parenthesized_expression",
    "cast_expression", "number_literal", "true", "false", "type_descriptor", "primitive_type",
    "type_identifier", "sized_type_specifier", "argument_list", "type_qualifier",
})  # (no name but a parameter's: ``Config::scale`` or a macro constant may be host memory)


def is_pure_helper(path: str, start: int, end: int, language: Language, math) -> bool:
    """Whether the function defined in ``path`` at bytes ``start..end`` is a pure scalar
    helper (see the module text).  ``math(name)`` says whether a called name is libm's."""
    return _pure(path, start, end, language is Language.CXX, math)


@lru_cache(maxsize=256)
def _definition(path: str, start: int, end: int, cxx: bool) -> tuple[bytes, Node] | None:
    from pcx_driver.engine.source import parse_snippet

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if not 0 <= start < end <= len(data):
        return None
    text = data[start:end]
    root = parse_snippet(text, Language.CXX if cxx else Language.C).root_node
    node = next((n for n in root.named_children if n.type == "function_definition"), None)
    return (text, node) if node is not None and not root.has_error else None


def _pure(path: str, start: int, end: int, cxx: bool, math) -> bool:
    found = _definition(path, start, end, cxx)
    if found is None:
        return False
    data, fn = found
    params = _scalar_params(fn, data)
    body = fn.child_by_field_name("body")
    if params is None or body is None or body.named_child_count != 1:
        return False
    ret = body.named_children[0]
    if ret.type != "return_statement" or ret.named_child_count != 1:
        return False
    return _pure_expression(ret.named_children[0], data, params, math)


def _scalar_params(fn: Node, data: bytes) -> set[str] | None:
    """The parameter names, where every parameter is a plain scalar; None otherwise."""
    decl = fn.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        if decl.type in ("pointer_declarator", "reference_declarator"):
            return None  # returns a pointer or a reference: not a value
        decl = decl.child_by_field_name("declarator")
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    if plist is None:
        return None
    names: set[str] = set()
    for p in plist.named_children:
        if p.type != "parameter_declaration":
            return None
        d = p.child_by_field_name("declarator")
        if d is None or d.type != "identifier":
            return None  # a pointer, reference, array or unnamed parameter
        names.add(text_of(data, d))
    return names


def _pure_expression(n: Node, data: bytes, params: set[str], math) -> bool:
    if n.type == "identifier":
        return text_of(data, n) in params
    if n.type == "call_expression":
        f = n.child_by_field_name("function")
        if f is None or f.type not in ("identifier", "qualified_identifier") or not math(text_of(data, f)):
            return False
        args = n.child_by_field_name("arguments")
        return args is not None and all(_pure_expression(a, data, params, math) for a in args.named_children)
    if n.type not in _PURE_EXPRESSIONS:
        return False
    if n.type == "unary_expression" and text_of(data, n)[:1] in ("*", "&"):
        return False
    return all(_pure_expression(c, data, params, math) for c in n.named_children
               if c.type not in ("type_descriptor", "primitive_type", "type_identifier", "sized_type_specifier"))
