"""The source model: a tree-sitter tree over the unit's bytes, the same API for C and C++.

Contract:
- ``SourceModel.parse(unit)`` never raises for any input text; a tree with ERROR or
  MISSING nodes sets ``has_errors`` and lists ``error_ranges``.
- All positions are UTF-8 byte offsets into ``unit.data`` (tree-sitter coordinates);
  ``line_col`` turns one into a 1-based (line, column) pair as a compiler prints it.
- Node types read by the analysis are the ones both grammars share (for_statement,
  subscript_expression, assignment_expression, call_expression, field_expression, ...);
  the C++-only shapes (``subscript_argument_list``, ``qualified_identifier``,
  ``template_declaration``, ``lambda_expression``...) are handled where they matter.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterator

from tree_sitter import Language as TSLanguage
from tree_sitter import Node, Parser, Tree

from pcx_driver.model import Language, SourceUnit


@lru_cache(maxsize=None)
def _parser(language: Language) -> Parser:
    if language is Language.C:
        import tree_sitter_c as grammar
    else:  # C++ (CUDA sources reach the analysis already translated to C++)
        import tree_sitter_cpp as grammar
    return Parser(TSLanguage(grammar.language()))


@lru_cache(maxsize=16)
def parse(data: bytes, language: Language = Language.C) -> Tree:
    """The tree-sitter tree of a unit's text (C++ grammar for C++ and CUDA), parsed once per
    text: the analysis (``SourceModel``), the call graph and the planning stages share it."""
    return _parser(language).parse(data)


@lru_cache(maxsize=16)
def _nodes_by_type(data: bytes, language: Language) -> dict[str, tuple[Node, ...]]:
    out: dict[str, list[Node]] = {}
    for n in walk(parse(data, language).root_node):
        out.setdefault(n.type, []).append(n)
    return {t: tuple(ns) for t, ns in out.items()}


def nodes_of_type(data: bytes, language: Language, *types: str) -> list[Node]:
    """Every node of ``parse(data, language)`` of one of ``types``, in pre-order: the
    questions that look for one kind of node anywhere in a unit (its functions, its
    ``#define`` and ``#include`` lines, its file-scope declarations) share one walk of the
    tree, where each walked all of it (a LULESH-sized file: 43,000 nodes, seven times)."""
    index = _nodes_by_type(data, language)
    if len(types) == 1:
        return list(index.get(types[0], ()))
    return sorted((n for t in types for n in index.get(t, ())), key=lambda n: (n.start_byte, -n.end_byte))


#: what a macro may stand for and still leave a definition's type to the next word
STORAGE_WORDS = frozenset({"static", "inline", "extern", "__inline", "__inline__", "register"})


def _storage_class_macros(root: Node, data: bytes) -> frozenset[str]:
    """Object-like macros the file defines as storage classes or ``inline`` (zlib's
    ``#define local static``)."""
    out = set()
    for n in root.named_children:
        if n.type == "preproc_def":
            name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
            words = data[value.start_byte:value.end_byte].decode("utf-8", "replace").split() if value else []
            if name is not None and words and set(words) <= STORAGE_WORDS:
                out.add(data[name.start_byte:name.end_byte].decode("utf-8", "replace"))
    return frozenset(out)


def _type_after_storage_macro(err: Node, data: bytes, storage: frozenset[str]) -> bool:
    """``local uint64_t f(...) {...}``: tree-sitter, which does not expand ``local``, takes
    it for the type and leaves the real type, one word, as an error before the declarator.
    The definition is whole (libclang, which expands it, reads it so), and it was refused
    as "could not be parsed" (a held-out check: zlib's crc32.c helpers)."""
    parent, before = err.parent, err.prev_sibling
    if parent is None or parent.type not in ("function_definition", "declaration") or before is None \
            or parent.child_by_field_name("type") != before or before.type != "type_identifier":
        return False
    words = [c for c in err.children if c.type in ("identifier", "type_identifier", "primitive_type")]
    return len(words) == len(err.children) == 1 and \
        data[before.start_byte:before.end_byte].decode("utf-8", "replace") in storage


@lru_cache(maxsize=4096)
def parse_snippet(data: bytes, language: Language = Language.C) -> Tree:
    """A short text the engine wrote (a bound, an estimate) parsed on its own, cached apart
    from the units' trees so that thousands of them never push a unit's tree out."""
    return _parser(language).parse(data)


PREPROC_CONDITIONALS = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else", "preproc_elifdef"}
)
PREPROC_ANY = PREPROC_CONDITIONALS | frozenset(
    {"preproc_def", "preproc_function_def", "preproc_call", "preproc_include", "preproc_directive"}
)


def walk(node: Node) -> Iterator[Node]:
    """Pre-order walk of ``node`` and all its descendants."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def strip_parens(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def uncast(node: Node | None) -> Node | None:
    """``node`` without its parentheses and C casts: ``(nRarray *) d_phi`` holds the
    address ``d_phi`` holds (HeCBench ace)."""
    node = strip_parens(node)
    while node is not None and node.type == "cast_expression":
        node = strip_parens(node.child_by_field_name("value"))
    return node


def condition_value(cond: Node | None) -> Node | None:
    """The tested expression of an ``if``/``while`` condition: C's parenthesised
    expression, or C++'s ``condition_clause`` (its ``value``; ``if (init; cond)`` too)."""
    if cond is not None and cond.type == "condition_clause":
        return cond.child_by_field_name("value") or (cond.named_children[-1] if cond.named_children else cond)
    return cond


def operands(n: Node | None, text: Callable[[Node], str], op: str = "&&") -> list[Node | None]:
    """The operands of an ``&&`` chain (of an ``||`` chain with ``op="||"``), parentheses
    stripped; ``[n]`` when ``n`` is no such chain."""
    n = strip_parens(n)
    if n is not None and n.type == "binary_expression" and text(n.child_by_field_name("operator")) == op:
        return operands(n.child_by_field_name("left"), text, op) + operands(n.child_by_field_name("right"), text, op)
    return [n]


def node_key(node: Node) -> tuple[int, int, str]:
    """A node's place in its text: equal for the same node of two parses of one text.

    ``Node.id`` is only meaningful within one tree, and a unit's text may be parsed again
    when its tree leaves the cache: the plan checker once keyed its kernels by the ids of
    one parse and walked the function of another, saw no kernel, and passed a plan that
    left a host read stale (fuzz seed 3301262)."""
    return (node.start_byte, node.end_byte, node.type)


def arguments_of(args: Node | None) -> list[Node]:
    """The arguments of an ``argument_list`` in order; comments between them are not
    arguments (``f(n, /* dst */ b)``: ``b`` is the second)."""
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def subscript_index(node: Node) -> Node | None:
    """The index expression of a subscript_expression in either grammar."""
    idx = node.child_by_field_name("index")
    if idx is not None:
        return idx
    lst = node.child_by_field_name("indices")  # C++: subscript_argument_list
    if lst is not None and lst.named_child_count == 1:
        return lst.named_children[0]
    return None


@dataclass
class FunctionInfo:
    node: Node  # the function_definition
    name: str  # as written (may be qualified, e.g. "Grid::step")
    is_template: bool = False
    is_member: bool = False  # defined inside a class body, or qualified Class::name


@dataclass
class SourceModel:
    unit: SourceUnit
    data: bytes
    tree: object
    has_errors: bool = False
    error_ranges: list[tuple[int, int]] = field(default_factory=list)
    _line_starts: list[int] = field(default_factory=list)
    _functions: "list[FunctionInfo] | None" = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def parse(cls, unit: SourceUnit) -> "SourceModel":
        data = unit.data
        tree = parse(data, unit.language)
        model = cls(unit=unit, data=data, tree=tree)
        starts = [0]
        pos = data.find(b"\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = data.find(b"\n", pos + 1)
        model._line_starts = starts
        root = tree.root_node
        if root.has_error:
            storage = _storage_class_macros(root, data)
            for n in walk(root):
                if (n.type == "ERROR" or n.is_missing) and not _type_after_storage_macro(n, data, storage):
                    model.error_ranges.append((n.start_byte, n.end_byte))
            model.has_errors = bool(model.error_ranges)
        return model

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def is_cxx(self) -> bool:
        return self.unit.language is not Language.C

    # ------------------------------------------------------------------ text and positions
    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")

    def line_col(self, byte: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._line_starts, byte) - 1
        return i + 1, byte - self._line_starts[i] + 1

    def has_error_in(self, start: int, end: int) -> bool:
        return any(s < end and e > start or (s == e and start <= s <= end) for s, e in self.error_ranges)

    # ------------------------------------------------------------------ structure
    def functions(self) -> list[FunctionInfo]:
        """Every function definition (free, member, template, inside namespaces), found
        once per model (the caller-extent search asks for them per pointer parameter)."""
        if self._functions is None:
            self._functions = self._find_functions()
        return list(self._functions)

    def _find_functions(self) -> list[FunctionInfo]:
        out: list[FunctionInfo] = []
        for n in nodes_of_type(self.data, self.unit.language, "function_definition"):
            decl = n.child_by_field_name("declarator")
            name_node = _declarator_name(decl)
            name = self.text(name_node) if name_node is not None else "<anonymous>"
            is_template = False
            is_member = name_node is not None and name_node.type in ("qualified_identifier",) and "::" in name
            p = n.parent
            while p is not None:
                if p.type == "template_declaration":
                    is_template = True
                if p.type in ("field_declaration_list",):
                    is_member = True
                p = p.parent
            if name.startswith("std::"):
                is_member = False
            out.append(FunctionInfo(n, name, is_template, is_member))
        return out

    def omp_pragmas(self) -> list[Node]:
        """``#pragma omp ...`` lines anywhere in the unit."""
        out = []
        for n in nodes_of_type(self.data, self.unit.language, "preproc_call"):
            d = n.child_by_field_name("directive")
            arg = n.child_by_field_name("argument")
            if d is not None and self.text(d).strip() == "#pragma" and self.text(arg).split()[:1] == ["omp"]:
                out.append(n)
        return out

    def in_preproc_conditional(self, node: Node) -> bool:
        p = node.parent
        while p is not None:
            if p.type in PREPROC_CONDITIONALS:
                return True
            p = p.parent
        return False

    def contains_preproc(self, node: Node) -> bool:
        """A preprocessor line inside ``node``, other than a loop hint (``#pragma unroll``),
        which changes nothing the analysis reads and compiles inside a kernel too."""
        return any(n.type in PREPROC_ANY and not self.is_loop_hint(n)
                   and not (n.parent is not None and self.is_loop_hint(n.parent)) for n in walk(node))

    def loop_hint_before(self, node: Node) -> Node | None:
        return loop_hint_before(node, self.data)

    def is_loop_hint(self, n: Node) -> bool:
        return is_loop_hint(n, self.data)


def is_loop_hint(n: Node, data: bytes) -> bool:
    """``#pragma unroll [N]``, ``#pragma nounroll``, ``#pragma GCC unroll N``, ``#pragma GCC
    ivdep``, ``#pragma clang loop ...``: a hint to the compiler about the loop after it;
    also as the operator ``_Pragma("clang loop ...")`` (tree-sitter reads it as a call
    statement that lacks its ';')."""
    if n.type == "expression_statement" and n.named_child_count == 1 and n.named_children[0].type == "call_expression":
        call = n.named_children[0]
        fn, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
        if fn is None or _node_text(fn, data) != "_Pragma" or args is None or args.named_child_count != 1 \
                or args.named_children[0].type != "string_literal":
            return False
        words = ["#pragma", *_node_text(args.named_children[0], data).strip('"').split()]
    elif n.type == "preproc_call":
        words = data[n.start_byte:n.end_byte].decode("utf-8", "replace").split()
    else:
        return False
    if len(words) < 2 or words[0] != "#pragma":
        return False
    if words[1] in ("unroll", "nounroll"):
        return True
    return len(words) >= 3 and ((words[1] == "GCC" and words[2] in ("unroll", "ivdep"))
                                or (words[1] == "clang" and words[2].startswith("loop")))


def _node_text(n: Node, data: bytes) -> str:
    return data[n.start_byte:n.end_byte].decode("utf-8", "replace")


def loop_hint_before(node: Node, data: bytes) -> Node | None:
    """The loop hint written right before the statement ``node`` (comments between), if any:
    whatever is inserted before the statement goes before its hint."""
    prev = node.prev_sibling
    while prev is not None and prev.type == "comment":
        prev = prev.prev_sibling
    return prev if prev is not None and is_loop_hint(prev, data) else None


def _declarator_name(decl: Node | None) -> Node | None:
    """The name inside a (function) declarator: f, ns::f, Class::method, operator()."""
    while decl is not None:
        if decl.type in ("identifier", "qualified_identifier", "field_identifier", "destructor_name",
                         "operator_name", "template_function"):
            return decl
        nxt = decl.child_by_field_name("declarator")
        if nxt is None:
            return None
        decl = nxt
    return None


def function_declarator(node: Node | None) -> Node | None:
    """The ``function_declarator`` of a function's definition, declaration or explicit
    instantiation ``node`` (through pointer and reference declarators), or None."""
    decl = node.child_by_field_name("declarator") if node is not None else None
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    return decl


def declarator_identifier(decl: Node | None) -> Node | None:
    """The identifier a variable declarator declares (``*a``, ``a[n]``, ``&v``, ``a = 0``)."""
    while decl is not None:
        if decl.type in ("identifier", "field_identifier"):
            return decl
        nxt = decl.child_by_field_name("declarator")
        if nxt is None:
            # reference_declarator (C++) has no field name for its inner declarator
            named = [c for c in decl.named_children if c.type not in ("type_qualifier",)]
            nxt = named[-1] if decl.type == "reference_declarator" and named else None
        if nxt is None:
            return None
        decl = nxt
    return None
