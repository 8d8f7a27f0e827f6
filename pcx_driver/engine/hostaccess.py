"""Syntax facts the data planner and the rewriter need about function bodies.

The loop analysis (``engine.analysis``) describes each nest; this module answers the
questions about the code *around* nests, from the tree-sitter tree of the unit:

- which statement starts at a byte, and whether a directive can be inserted before it
  without changing what the program means (a braceless body needs ``{ ... }``);
- the statement structure of a function body (blocks, sequential loops such as time
  steps, conditionals) with every host statement's reads and writes of named arrays;
- pointer assignments (``tmp = a; a = b; b = tmp;``) that the planner must follow;
- the definitions and prototypes of functions (for ``declare target``);
- the extent of an array from its declaration or its ``malloc``.

All positions are byte offsets into the UTF-8 text, as in ``pcx_driver.model``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import tree_sitter

# ``parse`` is the unit's one tree (source.parse); the planning stages read it through here
from pcx_driver.engine.source import arguments_of, nodes_of_type, parse, parse_snippet, strip_parens, uncast, walk
from pcx_driver.model import Language

# Parents under which a statement may be preceded by another statement (a directive).
_STATEMENT_LISTS = frozenset({"compound_statement", "case_statement", "translation_unit", "declaration_list"})

LOOP_TYPES = frozenset({"for_statement", "while_statement", "do_statement", "for_range_loop"})


def is_statement(node: tree_sitter.Node) -> bool:
    t = node.type
    return t.endswith("_statement") or t in ("declaration", "for_range_loop", "function_definition")


def statement_at(root: tree_sitter.Node, byte: int) -> tree_sitter.Node | None:
    """The outermost statement that starts exactly at ``byte`` (None if none does)."""
    node = root.descendant_for_byte_range(byte, byte)
    best = None
    while node is not None and node.start_byte == byte:
        if is_statement(node):
            best = node
        node = node.parent
    return best


def innermost_loop(root: tree_sitter.Node, pos: int, floor: int) -> tree_sitter.Node | None:
    """The innermost loop around position ``pos`` that starts at or after ``floor``."""
    n = root.descendant_for_byte_range(pos, pos)
    while n is not None and n.start_byte >= floor:
        if n.type in LOOP_TYPES and n.start_byte < pos < n.end_byte:
            return n
        n = n.parent
    return None


def node_for_range(root: tree_sitter.Node, start: int, end: int) -> tree_sitter.Node | None:
    """The statement that covers exactly ``start..end`` or, failing that, the smallest
    statement that encloses the range."""
    node = root.descendant_for_byte_range(start, max(start, end - 1))
    while node is not None and not is_statement(node):
        node = node.parent
    return node


def needs_braces(stmt: tree_sitter.Node) -> bool:
    """True when ``stmt`` is the braceless body of an if/else/loop/label: a directive
    inserted before it would change the program's meaning (or not compile) unless the
    statement and the directive are wrapped in ``{ ... }``."""
    parent = stmt.parent
    return parent is not None and parent.type not in _STATEMENT_LISTS


def text_of(data: bytes, node: tree_sitter.Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")


def identifiers_in(node: tree_sitter.Node, data: bytes) -> set[str]:
    """Every identifier spelled inside ``node`` (variables, fields excluded)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            out.add(text_of(data, n))
        elif n.type == "field_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None:
                stack.append(arg)
            continue
        stack.extend(n.children)
    return out


def parse_expression(expr: str, language: Language = Language.C) -> tuple[bytes, tree_sitter.Node | None]:
    """``expr`` (a C expression the engine wrote: a section bound, a work estimate) parsed
    on its own: the bytes parsed and the expression's node (None if it is not one)."""
    data = f"long pcx__e = ({expr});".encode()
    decl = parse_snippet(data, language).root_node.named_children[0]
    init = decl.child_by_field_name("declarator")
    value = init.child_by_field_name("value") if init is not None else None
    return data, value


def expression_identifiers(expr: str, language: Language = Language.C) -> set[str]:
    """The identifiers an expression written by the engine reads (fields excluded)."""
    data, node = parse_expression(expr, language)
    return identifiers_in(node, data) if node is not None else set()


# ------------------------------------------------------------------ functions


def function_declarator(fnode: tree_sitter.Node) -> tree_sitter.Node | None:
    """The ``function_declarator`` of a function definition (under pointers, references)."""
    d = fnode.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    return d


@functools.lru_cache(maxsize=16)
def function_definitions(data: bytes, language: Language = Language.C) -> tuple[tree_sitter.Node, ...]:
    """Every function definition of ``data`` (nodes of ``parse(data, language)``), in
    pre-order: found once per text, where the planner and the checker look functions up
    by name or by position many times (a LULESH-sized file walked its 560,000 nodes 200
    times)."""
    return tuple(nodes_of_type(data, language, "function_definition"))


#: library functions that never offload: an array passed to one is host data, read and written
HOST_LIBRARY_CALLS = frozenset(
    "memcpy memmove memset memcmp strcpy strncpy strcat strcmp strncmp sprintf snprintf sscanf scanf fscanf "
    "fread fwrite fgets fputs fprintf printf qsort bsearch free realloc std::copy std::fill std::sort "
    "std::memcpy std::memset std::accumulate std::min_element std::max_element".split())


@functools.lru_cache(maxsize=16)
def functions_by_name(data: bytes, language: Language = Language.C) -> dict[str, tree_sitter.Node]:
    """The first definition of each function ``data`` defines, by name."""
    out: dict[str, tree_sitter.Node] = {}
    for n in function_definitions(data, language):
        out.setdefault(function_name(n, data), n)
    return out


def unseen_call(data: bytes, language: Language, fname: str) -> bool:
    """A call of a function this file does not define (a header's or another file's), and
    no library function that never offloads: its body may hold kernels of its own, which
    would find data that a region holds present on the device and use that copy."""
    return fname not in HOST_LIBRARY_CALLS and fname not in functions_by_name(data, language)


def called_name(n: tree_sitter.Node, parens: bool = True) -> bool:
    """Identifier ``n`` (a function's name, maybe qualified or templated, and with
    ``parens`` in parentheses) is what a call calls, not a value."""
    wrappers = ("qualified_identifier", "template_function") + (("parenthesized_expression",) if parens else ())
    while n.parent is not None and n.parent.type in wrappers:
        n = n.parent
    p = n.parent
    return p is not None and p.type == "call_expression" and p.child_by_field_name("function") == n


@functools.lru_cache(maxsize=16)
def addressed_functions(data: bytes, language: Language = Language.C) -> frozenset[str]:
    """Functions ``data`` defines whose name it also uses as a value (``hook = zero_head``,
    a table of them, ``std::function<void()> f = negate``): a call through a pointer may
    run them."""
    defined = set(functions_by_name(data, language))
    out = set()
    for n in nodes_of_type(data, language, "identifier"):
        name = text_of(data, n)
        if name not in defined or called_name(n, parens=False):
            continue  # (``(k)()`` counts: the scan does not follow it by name)
        p = n.parent
        while p is not None and p.type in ("qualified_identifier", "template_function"):
            p = p.parent
        if p is not None and p.type in ("function_declarator", "preproc_def", "preproc_function_def"):
            continue
        out.add(name)
    return frozenset(out)


@functools.lru_cache(maxsize=16)
def macro_names(data: bytes, language: Language = Language.C) -> dict[str, frozenset[str]]:
    """Each macro ``data`` defines -> the identifiers its replacement names, through the
    macros it names in turn (``#define DATA storage``: {storage}; ``#define RESET()
    zero_head()``: {zero_head}): host code that uses the macro uses those."""
    direct: dict[str, set[str]] = {}
    for n in nodes_of_type(data, language, "preproc_def", "preproc_function_def"):
        name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
        if name is None:
            continue
        body = text_of(data, value) if value is not None else ""
        snippet = f"void pcx__m(void) {{ {body} ; }}".encode("utf-8", "surrogateescape")
        found = identifiers_in(parse_snippet(snippet, language).root_node, snippet) - {"pcx__m"}
        params = n.child_by_field_name("parameters")
        if params is not None:
            found -= {text_of(data, p) for p in params.named_children}
        direct[text_of(data, name)] = found
    out: dict[str, frozenset[str]] = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            for x in direct.get(todo.pop(), ()):
                if x not in seen:
                    seen.add(x)
                    todo.append(x)
        out[name] = frozenset(seen)
    return out


@functools.lru_cache(maxsize=16)
def pointer_variables(data: bytes, language: Language = Language.C) -> frozenset[str]:
    """Names ``data`` declares as variables, parameters or members that a call may go through:
    anything but a function (``void (*hook)(void)``, ``std::function<void()> f``, ``auto g
    = [](){...}``)."""
    out = set()
    for n in nodes_of_type(data, language, "declaration", "init_declarator", "parameter_declaration",
                           "field_declaration", "optional_parameter_declaration"):
        chain = declarator_chain(n)
        if not chain or chain[-1].type not in ("identifier", "field_identifier"):
            continue
        if len(chain) >= 2 and chain[-2].type == "function_declarator" and n.type in ("declaration",
                                                                                         "field_declaration"):
            continue  # a prototype or a method's declaration
        out.add(text_of(data, chain[-1]))
    return frozenset(out)


def calls_through_pointer(call: tree_sitter.Node, data: bytes, language: Language) -> bool:
    """``call`` goes through a pointer or an object rather than to a function by name:
    ``hook()``, ``f()`` of a parameter ``void (*f)(void)``, ``table[k]()``, ``s.fp()``."""
    fn = strip_parens(call.child_by_field_name("function"))
    if fn is None:
        return False
    if fn.type == "field_expression":
        fn = fn.child_by_field_name("field")
    if fn is not None and fn.type in ("identifier", "field_identifier", "qualified_identifier", "template_function"):
        name = text_of(data, fn)
        return name in pointer_variables(data, language) and name not in functions_by_name(data, language)
    return True


@functools.lru_cache(maxsize=16)
def pointer_callers(data: bytes, language: Language = Language.C) -> frozenset[str]:
    """Functions ``data`` defines that call through a pointer, themselves or through the
    functions they call (``call(void (*f)(void)) { f(); }``)."""
    from pcx_driver.engine import callgraph

    direct = {name for name, fnode in functions_by_name(data, language).items()
              if any(n.type == "call_expression" and calls_through_pointer(n, data, language) for n in walk(fnode))}
    return frozenset(callgraph.of(data, language).reaching({callgraph.last_name(n) for n in direct}))


#: calls that never return to their caller but jump to a ``setjmp`` further up
NONLOCAL_JUMPS = frozenset({"longjmp", "siglongjmp", "_longjmp", "__builtin_longjmp"})


@functools.lru_cache(maxsize=16)
def _leaving_functions(data: bytes, language: Language) -> frozenset[str]:
    from pcx_driver.engine import callgraph

    graph = callgraph.of(data, language)
    direct = set()
    for name, fnode in functions_by_name(data, language).items():
        if any(n.type in ("throw_statement", "throw_expression") for n in all_nodes(fnode)):
            direct.add(name)
    direct |= {s.caller for s in graph.sites if s.name in NONLOCAL_JUMPS and s.caller}
    return frozenset(graph.reaching({callgraph.last_name(n) for n in direct}))


def leaves_nonlocally(data: bytes, language: Language, fname: str) -> bool:
    """Whether a call of ``fname`` may leave its caller other than by returning: a function
    of this file that throws or calls ``longjmp``, itself or through its callees, or
    ``longjmp`` itself.  A data region around such a call would be left with its data on
    the device (``longjmp``), or terminate the program (an exception leaving an OpenMP
    structured block).  Functions this file does not define are taken to return."""
    from pcx_driver.engine import callgraph

    name = callgraph.last_name(fname)
    return name in NONLOCAL_JUMPS or name in _leaving_functions(data, language)


def function_name(fnode: tree_sitter.Node, data: bytes) -> str:
    """The name a function definition declares ("" when there is none)."""
    d = function_declarator(fnode)
    inner = d.child_by_field_name("declarator") if d is not None else None
    return text_of(data, inner) if inner is not None else ""


def function_ranges(data: bytes, language: Language, names: list[str]) -> list[tuple[int, int]]:
    """Byte ranges of the file-scope definitions and prototypes of the functions ``names``
    (each range a whole top-level declaration, ready to wrap in ``declare target``)."""
    root = parse(data, language).root_node
    wanted = set(names)
    ranges: list[tuple[int, int]] = []

    def declared_name(node: tree_sitter.Node) -> str | None:
        decl = node.child_by_field_name("declarator")
        while decl is not None and decl.type not in ("function_declarator",):
            decl = decl.child_by_field_name("declarator")
        if decl is None:
            return None
        inner = decl.child_by_field_name("declarator")
        return text_of(data, inner) if inner is not None else None

    def visit(container: tree_sitter.Node) -> None:
        for child in container.named_children:
            if child.type in ("function_definition", "declaration"):
                if declared_name(child) in wanted:
                    ranges.append((child.start_byte, child.end_byte))
            elif child.type in ("linkage_specification", "declaration_list", "namespace_definition"):
                body = child.child_by_field_name("body") or child
                if body is not child:
                    visit(body)
                else:
                    for c in child.named_children:
                        if c.type == "declaration_list":
                            visit(c)

    visit(root)
    return ranges


def declared_static(declaration: tree_sitter.Node, data: bytes) -> bool:
    """Whether ``declaration`` has the ``static`` storage class (a file-scope name no other
    file can name; a local that keeps its value between calls)."""
    return any(c.type == "storage_class_specifier" and text_of(data, c) == "static" for c in declaration.children)


#: blocks at file scope whose declarations are file-scope declarations too
_FILE_SCOPE_BLOCKS = frozenset({"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef",
                                "linkage_specification", "declaration_list", "namespace_definition"})


def file_scope_declarations(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The unit's file-scope ``declaration`` nodes, those inside preprocessor branches,
    ``extern "C" { }`` blocks and namespaces (named or not) included (``#ifdef PART double g[N]; #endif`` declares a
    global as much as a bare line does; the data planner took ``g`` for no global)."""
    out, todo = [], list(reversed(root.named_children))
    while todo:
        n = todo.pop()
        if n.type == "declaration":
            out.append(n)
        elif n.type in _FILE_SCOPE_BLOCKS:
            todo.extend(reversed(n.named_children))
    return out


@functools.lru_cache(maxsize=4096)
def stands_for(data: bytes, language: Language, name: str) -> frozenset[str]:
    """The names an identifier of ``data`` uses: itself, and where it is a macro the names
    its replacement reaches (``macro_names``: ``OUT(4, 3)`` of ``#define OUT(i,j)
    out[(i)+(j)*n]`` uses ``out``)."""
    return frozenset([name]) | macro_names(data, language).get(name, frozenset())


@functools.lru_cache(maxsize=16)
def unstable_macros(data: bytes, language: Language) -> frozenset[str]:
    """Macros the unit ``#undef``s or defines more than once: the same name may mean
    another value (or nothing) where a clause names it than where an array's extent did
    (``#define N 1000 / double a[N]; / #undef N / #define N 400``)."""
    seen: dict[str, int] = {}
    for n in nodes_of_type(data, language, "preproc_def", "preproc_function_def", "preproc_call"):
        if n.type in ("preproc_def", "preproc_function_def"):
            name = n.child_by_field_name("name")
            if name is not None:
                seen[text_of(data, name)] = seen.get(text_of(data, name), 0) + 1
        elif n.type == "preproc_call" and text_of(data, n.child_by_field_name("directive")).strip() == "#undef":
            arg = n.child_by_field_name("argument")
            if arg is not None:
                seen[text_of(data, arg).strip()] = 2
    return frozenset(name for name, count in seen.items() if count > 1)


def const_globals(data: bytes, language: Language, names: set[str]) -> list[tuple[int, int]]:
    """Byte ranges of file-scope ``const`` variable declarations that declare one of
    ``names`` (tables a device function reads)."""
    root = parse(data, language).root_node
    out = []
    for child in file_scope_declarations(root):
        if not any(c.type == "type_qualifier" and text_of(data, c) in ("const", "constexpr") for c in child.children):
            continue
        for d in child.children_by_field_name("declarator"):
            ident = d
            while ident is not None and ident.type != "identifier":
                ident = ident.child_by_field_name("declarator")
            if ident is not None and text_of(data, ident) in names and d.type != "function_declarator":
                out.append((child.start_byte, child.end_byte))
                break
    return out


# ------------------------------------------------------------------ array extents


@dataclass
class Extent:
    """The element count of an array from its declaration: ``dims`` are C expressions."""

    name: str
    dims: list[str] = field(default_factory=list)
    byte: int = 0  # end of the declaration (where the extent's variables are read)


def _sizeof_factor(node: tree_sitter.Node, data: bytes) -> str | None:
    """For ``X * sizeof(T)`` / ``sizeof(T) * X`` return the text of X."""
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return _sizeof_factor(node.named_children[0], data)
    if node.type != "binary_expression":
        return None
    op = node.child_by_field_name("operator")
    if op is None or text_of(data, op) != "*":
        return None
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if right is not None and right.type == "sizeof_expression":
        return text_of(data, left)
    if left is not None and left.type == "sizeof_expression":
        return text_of(data, right)
    inner = _sizeof_factor(left, data) if left is not None else None
    if inner is not None and right is not None:
        return f"({inner}) * ({text_of(data, right)})"
    return None


#: allocators whose last argument is the byte count (aligned_alloc(align, bytes))
BYTE_ALLOCATORS = frozenset({"malloc", "std::malloc", "aligned_alloc", "std::aligned_alloc", "memalign"})
#: allocators of (count, element size)
COUNT_ALLOCATORS = frozenset({"calloc", "std::calloc"})


def _byte_count_arg(call: tree_sitter.Node, data: bytes) -> tree_sitter.Node | None:
    """The byte-count argument of ``malloc(E)``, ``aligned_alloc(A, E)``, ``memalign(A, E)``."""
    fn = call.child_by_field_name("function")
    argv = arguments_of(call.child_by_field_name("arguments"))
    if fn is None or text_of(data, fn) not in BYTE_ALLOCATORS:
        return None
    wanted = 1 if text_of(data, fn) in ("malloc", "std::malloc") else 2
    return argv[-1] if len(argv) == wanted else None


def _alloc_count(value: tree_sitter.Node, data: bytes) -> str | None:
    """Element count of ``malloc(n * sizeof(T))`` / ``calloc(n, sizeof(T))`` (casts allowed)."""
    while value.type in ("cast_expression", "parenthesized_expression"):
        value = value.child_by_field_name("value") or value.named_children[-1]
    if value.type == "new_expression":  # C++ ``new T[n]``
        decl = value.child_by_field_name("declarator")
        length = decl.child_by_field_name("length") if decl is not None else None
        if length is not None and decl.child_by_field_name("declarator") is None:
            return text_of(data, length)
        return None
    if value.type != "call_expression":
        return None
    fn = value.child_by_field_name("function")
    args = value.child_by_field_name("arguments")
    if fn is None or args is None:
        return None
    argv = arguments_of(args)
    size = _byte_count_arg(value, data)
    if size is not None:
        return _sizeof_factor(size, data)
    if text_of(data, fn) in COUNT_ALLOCATORS and len(argv) == 2 and argv[1].type == "sizeof_expression":
        return text_of(data, argv[0])
    return None


def allocation_count(init: tree_sitter.Node, data: bytes, name: str) -> str | None:
    """The element count of ``T *name = malloc(n * sizeof(T))`` (``calloc(n, sizeof(T))``,
    ``aligned_alloc``, ``new T[n]``) at init declarator ``init``: only when every ``sizeof``
    in it names the pointee as declared (``T``, ``*name``, ``name[0]``).  With ``typedef
    double row_t[NY][NZ]``, ``row_t *a = malloc(sizeof(double) * NX * NY * NZ)`` holds NX
    rows, not NX * NY * NZ: a count of other units is no extent."""
    value = init.child_by_field_name("value")
    count = _alloc_count(value, data) if value is not None else None
    if count is None and value is not None:
        # ``malloc(bytes)`` with ``const size_t bytes = n * sizeof(T);`` before it
        value = _const_byte_count(value, data, init)
        count = _sizeof_factor(value, data) if value is not None else None
    if count is None or value is None or _unparen(value).type == "new_expression":
        return count
    decl = init.parent
    ty = decl.child_by_field_name("type") if decl is not None and decl.type == "declaration" else None
    pointer = init.child_by_field_name("declarator")
    plain = pointer is not None and pointer.type == "pointer_declarator" and \
        getattr(pointer.child_by_field_name("declarator"), "type", None) == "identifier"
    # the declared type is the pointee only for ``T *name``; ``T (*name)[c]`` points to rows
    return count if _sizeofs_name_pointee(value, data, name, ty if plain else None) else None


def _sizeofs_name_pointee(value: tree_sitter.Node, data: bytes, name: str, ty: tree_sitter.Node | None) -> bool:
    """``value`` (an allocation's byte count) has a ``sizeof`` and each one names what
    pointer ``name`` points to: ``*name``, ``name[0]``, or the declared type ``ty``."""
    pointee = {f"*{name}", f"{name}[0]"} | ({"".join(text_of(data, ty).split())} if ty is not None else set())
    sizes = [c for c in walk(value) if c.type == "sizeof_expression"]
    for sz in sizes:
        operand = sz.child_by_field_name("type") or sz.child_by_field_name("value")
        if operand is None or "".join(text_of(data, _unparen(operand)).split()) not in pointee:
            return False
    return bool(sizes)


def _const_byte_count(value: tree_sitter.Node, data: bytes, at: tree_sitter.Node) -> tree_sitter.Node | None:
    """The initialiser of ``bytes`` in ``malloc(bytes)`` (``aligned_alloc(A, bytes)``) when
    ``bytes`` is a ``const`` (or ``constexpr``) variable declared before ``at`` in a block
    around it: ``const size_t size_bytes = size * sizeof(float);`` (HeCBench's style).
    Nothing can store to it after its initialiser."""
    while value.type in ("cast_expression", "parenthesized_expression"):
        value = value.child_by_field_name("value") or value.named_children[-1]
    arg = _byte_count_arg(value, data) if value.type == "call_expression" else None
    if arg is None or _unparen(arg).type != "identifier":
        return None
    name = text_of(data, _unparen(arg))
    found = _declarator_before(at, data, name, lambda c: any(
        q.type == "type_qualifier" and text_of(data, q) in ("const", "constexpr") for q in c.children))
    return found.child_by_field_name("value") if found is not None else None


def _declarator_before(at: tree_sitter.Node, data: bytes, name: str, accept: Callable[[tree_sitter.Node], bool],
                       pointer: bool = False) -> tree_sitter.Node | None:
    """The init declarator of ``name`` (``*name`` too with ``pointer``) in the last
    declaration that ``accept`` takes before ``at``, in the innermost block around ``at``
    that holds one."""
    block = at.parent
    while block is not None:
        if block.type in ("compound_statement", "translation_unit"):
            found = None
            for c in block.named_children:
                if c.start_byte >= at.start_byte:
                    break
                if c.type == "declaration" and accept(c):
                    for d in c.children_by_field_name("declarator"):
                        ident = d.child_by_field_name("declarator") if d.type == "init_declarator" else None
                        if pointer and ident is not None and ident.type == "pointer_declarator":
                            ident = ident.child_by_field_name("declarator")
                        if ident is not None and ident.type == "identifier" and text_of(data, ident) == name:
                            found = d
            if found is not None:
                return found
        block = block.parent
    return None


#: initialisers that leave a pointer pointing at nothing
#: C++ library functions that take their arguments by value or const reference: an
#: element passed to one is read, never bound to a reference that writes it
READ_ONLY_STD = frozenset(
    "std::min std::max std::abs std::fabs std::sqrt std::pow std::exp std::log std::sin std::cos "
    "std::floor std::ceil std::isnan std::isinf std::isfinite std::to_string min max".split()
)
NULL_POINTERS = frozenset({"NULL", "0", "nullptr", "((void*)0)", "(void*)0"})


def assigned_allocation(fnode: tree_sitter.Node, data: bytes, name: str, use: int) -> Extent | None:
    """The extent of local pointer ``name`` from the one statement that stores to it,
    ``name = malloc(n * sizeof *name);`` (calloc, aligned_alloc, ``new T[n]``), for a use
    at byte ``use`` of function ``fnode``: C89 and HeCBench style, ``double *a, *b;`` and
    the allocations later.  Only where that is the pointer's value at the use:

    - ``name`` is declared once in the function, as ``T *name`` with no initialiser (or a
      null one), and nothing else stores to it or takes its address;
    - the allocation is a statement of a block that holds the use, before it, so every
      path to the use runs it (no ``goto`` in the function);
    - no variable of the count changes between the allocation and the use.

    ``Extent.byte`` is the end of the allocation statement."""
    decls: list[tuple[tree_sitter.Node, tree_sitter.Node | None]] = []  # (declarator, its init value)
    stores: list[tree_sitter.Node] = []
    for n in all_nodes(fnode):
        t = n.type
        if t == "goto_statement":
            return None
        if t in ("init_declarator", "pointer_declarator", "array_declarator", "function_declarator") \
                and n.parent is not None and n.parent.type in ("declaration", "parameter_declaration"):
            value = n.child_by_field_name("value") if t == "init_declarator" else None
            d = n.child_by_field_name("declarator") if t == "init_declarator" else n
            ident = d
            while ident is not None and ident.type != "identifier":
                ident = ident.child_by_field_name("declarator")
            if ident is not None and text_of(data, ident) == name:
                decls.append((d, value))
        elif t == "assignment_expression":
            left = strip_parens(n.child_by_field_name("left"))
            if left is not None and left.type == "identifier" and text_of(data, left) == name:
                stores.append(n)
        elif t == "update_expression" or (t == "pointer_expression" and text_of(data, n)[:1] == "&"):
            arg = strip_parens(n.child_by_field_name("argument"))
            if arg is not None and arg.type == "identifier" and text_of(data, arg) == name:
                call = posix_memalign_of(n, data)
                if call is None:
                    return None
                stores.append(call)
    if len(decls) != 1 or len(stores) != 1:
        return None
    declarator, init = decls[0]
    if declarator.type != "pointer_declarator" or declarator.parent is None \
            or declarator.child_by_field_name("declarator").type != "identifier":
        return None
    if init is not None and "".join(text_of(data, init).split()) not in NULL_POINTERS:
        return None
    store = stores[0]
    stmt = store.parent
    block = stmt.parent if stmt is not None else None
    memalign = store.type == "call_expression"
    if stmt is None or stmt.type != "expression_statement" or block is None or block.type != "compound_statement" \
            or not memalign and text_of(data, store.child_by_field_name("operator")) != "=" \
            or not (stmt.end_byte <= use < block.end_byte):
        return None
    if memalign:  # posix_memalign(&name, alignment, bytes)
        value = arguments_of(store.child_by_field_name("arguments"))[2]
        count = _sizeof_factor(value, data)
    else:
        value = store.child_by_field_name("right")
        count = _alloc_count(value, data) if value is not None else None
    if count is None:
        return None
    if _unparen(value).type != "new_expression":
        decl = declarator.parent if declarator.parent.type == "declaration" else declarator.parent.parent
        if not _sizeofs_name_pointee(value, data, name, decl.child_by_field_name("type") if decl is not None else None):
            return None
    counted = identifiers_in(value, data) - {name}
    if counted & assigned_and_declared(fnode, data, stmt.end_byte, use, declarations=False):
        return None
    return Extent(name, [count], stmt.end_byte)


def borrows(fnode: tree_sitter.Node, name: str, data: bytes, _seen: frozenset = frozenset()) -> bool:
    """Whether local ``name`` of function ``fnode`` is a pointer or reference that may name
    storage other than its own fresh allocations: ``double *wv = w;`` (a parameter's, so
    the caller's), ``= v.data()``, ``= &s.w[0]``, ``= g_ptr``, ``double &r = u[0]``.  Its
    buffer outlives the function whatever the local's own uses: results written through it
    must reach the host (HPCG's ``ComputeWAXPBY_ref``, ``double * const wv = w.values;``,
    lost every result).  A pointer every store of which is a fresh allocation (``malloc``,
    ``calloc``, ``aligned_alloc``, ``new``) or null, or ``posix_memalign(&p, ...)``, owns
    its storage; an array, an arithmetic value or a ``std::`` container object is its own
    storage; a declaration of another named type (a typedef may be a pointer) or ``auto``
    counts by its value, as a pointer's would.  A value that is another such local
    (``tmp = u; u = v; v = tmp;``, a swap of fresh allocations) borrows only if that one does."""
    body = fnode.child_by_field_name("body")
    seen = _seen | {name}

    def fresh(value: tree_sitter.Node | None) -> bool:
        if _fresh_or_null(value, data):
            return True
        v = _unparen(value) if value is not None else None
        other = text_of(data, v) if v is not None and v.type == "identifier" else None
        return other is not None and _local_declared(body, other, data) and \
            (other in seen or not borrows(fnode, other, data, seen))

    pointer = False
    index = _body_index(body, data) if body is not None else None
    for n in index.stores if index is not None else ():
        if n.type == "init_declarator" and declared_identifier(n, data) == name:
            d = n.child_by_field_name("declarator")
            ty = n.parent.child_by_field_name("type") if n.parent is not None else None
            if d is not None and d.type == "array_declarator":
                continue
            if d is not None and d.type == "reference_declarator":
                return True
            if d is not None and d.type == "identifier" and ty is not None and \
                    ty.type in ("primitive_type", "sized_type_specifier", "template_type"):
                continue  # a value of its own
            pointer = True
            if not fresh(n.child_by_field_name("value")):
                return True
        elif n.type == "pointer_declarator" and n.parent is not None and n.parent.type == "declaration" \
                and declared_identifier(n, data) == name:
            pointer = True  # declared without a value; its stores are checked below
        elif n.type == "assignment_expression":
            left = _unparen(n.child_by_field_name("left"))
            if left is not None and left.type == "identifier" and text_of(data, left) == name and \
                    not fresh(n.child_by_field_name("right")):
                return True
    if not pointer:
        return False
    for n in index.addresses if index is not None else ():
        if n.type == "pointer_expression" and text_of(data, n)[:1] == "&" and \
                text_of(data, _unparen(n.child_by_field_name("argument"))) == name and \
                posix_memalign_of(n, data) is None:
            return True  # its address is passed on: anything may be stored in it
    return False


class _BodyIndex:
    """The nodes of one function body that ``borrows`` and ``member_borrow`` ask about, in
    ``all_nodes`` order, gathered in one walk: those questions are asked for every array
    of every region, and each walked the whole body (NPB BT's 5,200-line file: 9 million
    node visits, a fifth of its analysis)."""

    def __init__(self, body: tree_sitter.Node, data: bytes) -> None:
        self.stores: list[tree_sitter.Node] = []  # declarators and assignments
        self.addresses: list[tree_sitter.Node] = []  # ``&x`` expressions
        self.identifiers: dict[str, list[tree_sitter.Node]] = {}
        for n in all_nodes(body):
            t = n.type
            if t in ("init_declarator", "assignment_expression") or (
                    t == "pointer_declarator" and n.parent is not None and n.parent.type == "declaration"):
                self.stores.append(n)
            elif t == "pointer_expression":
                self.addresses.append(n)
            elif t == "identifier":
                self.identifiers.setdefault(text_of(data, n), []).append(n)


@functools.lru_cache(maxsize=32)
def _body_index(body: tree_sitter.Node, data: bytes) -> _BodyIndex:
    return _BodyIndex(body, data)


def member_borrow(fnode: tree_sitter.Node, name: str, data: bytes,
                  span: tuple[int, int] | None = None) -> tuple[str, int, bool] | None:
    """Where pointer ``name`` of function ``fnode`` takes its value from a member of a struct
    (``double *v = s.v;``, ``v = p->a``, ``= &g.a[0]``): (the member expression, its line,
    whether this function names the struct again, within bytes ``span`` when given: a data
    region's, outside which the host copy is the current one).  The struct keeps the
    pointer, so ``s.v[0] += x``, ``Vec u = s; u.v[0]``, ``q = &s; q->v[0]`` or a helper
    given ``s`` reach ``v``'s buffer without naming it (a held-out check: writes lost in a
    data region).  Where the function does not name it there, only a caller's copy (a
    parameter's or a global's struct) does, which calls reaching globals may use.  None
    where the value names no member, or the struct is a local not named there."""
    body = fnode.child_by_field_name("body")
    index = _body_index(body, data) if body is not None else None
    for n in index.stores if index is not None else ():
        if n.type == "init_declarator" and declared_identifier(n, data) == name:
            value = n.child_by_field_name("value")
        elif n.type == "assignment_expression" and text_of(data, n.child_by_field_name("left")) == name:
            value = n.child_by_field_name("right")
        else:
            continue
        member = next((x for x in all_nodes(value) if x.type == "field_expression"), None) \
            if value is not None else None
        if member is None:
            continue
        root = expression_root(member)
        text, line = text_of(data, member), member.start_point[0] + 1
        if root is None or root.type != "identifier":
            return text, line, True
        rname = text_of(data, root)
        field = member.child_by_field_name("field")
        borrowed = text_of(data, field) if field is not None else ""
        uses = [x for x in index.identifiers.get(rname, ()) if
                not (value.start_byte <= x.start_byte < value.end_byte) and not _declares(x)]
        # inside the span any use may reach the buffer; outside it, only one that makes
        # another name for the struct or the borrowed member (``q = &s``, ``u = s``,
        # ``f(s)``, ``w = s.v``), which host code in the span may then use
        if any((span is None or span[0] <= x.start_byte < span[1]) or not _member_touch(x, borrowed, data)
               for x in uses):
            return text, line, True
        if not _local_declared(body, rname, data):
            return text, line, False  # a parameter's or a global's: only the caller's copy
    return None


def expression_root(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The variable an lvalue chain starts from: ``s`` of ``s.v``, ``p->a.b[i]``,
    ``(*q).v``, ``&s.w[0]`` (through members, subscripts, parentheses and dereferences)."""
    while node is not None and node.type in ("field_expression", "subscript_expression",
                                             "parenthesized_expression", "pointer_expression"):
        node = node.child_by_field_name("argument") if node.type != "parenthesized_expression" else \
            (node.named_children[0] if node.named_children else None)
    return node


def _member_touch(ident: tree_sitter.Node, borrowed: str, data: bytes) -> bool:
    """``ident`` (a struct) is used only to touch a member where it stands: an element
    (``s.v[i]``), a member assigned (``s.v = malloc(...)``, ``s.n = 4``), freed, or
    another member than ``borrowed`` read as a value."""
    fe = ident.parent
    if fe is None or fe.type != "field_expression" or fe.child_by_field_name("argument") != ident:
        return False
    up = fe.parent
    if up is None:
        return False
    if up.type == "subscript_expression" and up.child_by_field_name("argument") == fe:
        return True
    if up.type == "assignment_expression" and up.child_by_field_name("left") == fe:
        return True
    if up.type == "argument_list":
        call = up.parent
        fn = call.child_by_field_name("function") if call is not None else None
        return fn is not None and text_of(data, fn) == "free"
    field = fe.child_by_field_name("field")
    return field is not None and text_of(data, field) != borrowed


def _declares(ident: tree_sitter.Node) -> bool:
    """``ident`` is the name a declaration declares (not a use)."""
    up = ident.parent
    while up is not None and up.type in ("pointer_declarator", "array_declarator", "init_declarator",
                                         "reference_declarator", "parenthesized_declarator"):
        if up.type == "init_declarator":
            return up.child_by_field_name("declarator") is not None and \
                ident.start_byte < up.child_by_field_name("declarator").end_byte
        up = up.parent
    return up is not None and up.type == "declaration"


def _local_declared(body: tree_sitter.Node | None, name: str, data: bytes) -> bool:
    """``name`` is declared (with any declarator) inside ``body``."""
    for n in all_nodes(body) if body is not None else ():
        if n.type in ("init_declarator", "pointer_declarator", "array_declarator") and \
                declared_identifier(n, data) == name and n.parent is not None and \
                n.parent.type in ("declaration", "init_declarator"):
            return True
    return False


def _fresh_or_null(value: tree_sitter.Node | None, data: bytes) -> bool:
    if value is None:
        return True  # declared without a value: nothing borrowed yet
    v = _unparen(value)
    while v is not None and v.type == "cast_expression":
        v = _unparen(v.child_by_field_name("value"))
    if v is None:
        return False
    if "".join(text_of(data, v).split()) in NULL_POINTERS or v.type in ("null", "nullptr"):
        return True
    if v.type == "new_expression":
        return True
    fn = v.child_by_field_name("function") if v.type == "call_expression" else None
    return fn is not None and text_of(data, fn) in BYTE_ALLOCATORS | COUNT_ALLOCATORS | {"polybench_alloc_data"}


def posix_memalign_of(amp: tree_sitter.Node, data: bytes) -> tree_sitter.Node | None:
    """The call ``posix_memalign(&p, A, bytes)`` (``(void **)&p`` too) whose first argument
    is ``amp``, when that call is a statement of its own; None otherwise."""
    arg = amp
    while arg.parent is not None and arg.parent.type in ("cast_expression", "parenthesized_expression"):
        arg = arg.parent
    args = arg.parent
    call = args.parent if args is not None and args.type == "argument_list" else None
    if call is None or call.type != "call_expression" or call.parent is None \
            or call.parent.type != "expression_statement":
        return None
    argv = arguments_of(args)
    fn = call.child_by_field_name("function")
    if fn is None or text_of(data, fn) not in ("posix_memalign", "std::posix_memalign") or len(argv) != 3 \
            or argv[0].id != arg.id:
        return None
    return call


def _plain_malloc(value: tree_sitter.Node, data: bytes) -> str | None:
    """The byte count of ``malloc(E)`` or ``aligned_alloc(A, E)`` (casts allowed)."""
    while value.type in ("cast_expression", "parenthesized_expression"):
        value = value.child_by_field_name("value") or value.named_children[-1]
    size = _byte_count_arg(value, data) if value.type == "call_expression" else None
    return text_of(data, size) if size is not None else None


def declared_extent(data: bytes, language: Language, scope: tuple[int, int], name: str) -> Extent | None:
    """The extent of array ``name`` from a declaration inside ``scope`` (a function's bytes)
    or at file scope: ``T name[N][M]`` or ``T *name = malloc(N * sizeof(T))``."""
    root = parse(data, language).root_node
    found: Extent | None = None
    inside = False  # found in the function itself (its names mean what they say there)
    fnode = None
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            if not (n.start_byte <= scope[0] and scope[1] <= n.end_byte):
                continue
            fnode = n
        if n.type in ("init_declarator", "array_declarator"):
            ext = _extent_of_declarator(n, data, name)
            if ext is not None:
                ext.byte = n.end_byte
                found = ext
                inside = fnode is not None and fnode.start_byte <= n.start_byte < fnode.end_byte
        stack.extend(n.named_children)
    if found is not None and not inside and fnode is not None:
        # a file-scope extent's names may be shadowed in the function (``enum { N = 1000 };
        # double b[N];`` and ``work(int N)``: b[0:N] mapped 3 elements there, a heap overrun)
        named = set().union(*(expression_identifiers(d) for d in found.dims if d))
        if named & (set(param_names(fnode, data)) | locally_declared(fnode, data)):
            return None
    return found


def locally_declared(fnode: tree_sitter.Node, data: bytes) -> set[str]:
    """The names a function's body declares."""
    body = fnode.child_by_field_name("body")
    return {text_of(data, n) for n in all_nodes(body) if n.type == "identifier" and _declares(n)} \
        if body is not None else set()


def _in_parameter_list(node: tree_sitter.Node) -> bool:
    n = node.parent
    while n is not None and n.type not in ("compound_statement", "translation_unit"):
        if n.type in ("parameter_declaration", "parameter_list"):
            return True
        n = n.parent
    return False


def _row_pointer(decl: tree_sitter.Node, data: bytes, name: str) -> list[str] | None:
    """For ``(*name)[m][k]`` (a pointer to rows) the row dimensions ``[m, k]``."""
    dims: list[str] = []
    d = decl
    while d is not None and d.type == "array_declarator":
        size = d.child_by_field_name("size")
        if size is None:
            return None
        dims.insert(0, text_of(data, size))
        d = d.child_by_field_name("declarator")
    if not dims or d is None or d.type != "parenthesized_declarator" or d.named_child_count != 1:
        return None
    ptr = d.named_children[0]
    inner = ptr.child_by_field_name("declarator") if ptr.type == "pointer_declarator" else None
    if inner is None or inner.type != "identifier" or text_of(data, inner) != name:
        return None
    return dims


def _sizeof_dims(node: tree_sitter.Node, data: bytes) -> list[str] | None:
    """``sizeof(T[n][m])`` -> ``[n, m]``."""
    node = _unparen(node)
    if node.type != "sizeof_expression":
        return None
    td = node.child_by_field_name("type")
    d = td.child_by_field_name("declarator") if td is not None else None
    dims: list[str] = []
    while d is not None and d.type == "abstract_array_declarator":
        size = d.child_by_field_name("size")
        if size is None:
            return None
        dims.insert(0, text_of(data, size))
        d = d.child_by_field_name("declarator")
    return dims or None


def _sizeof_unit(sz: tree_sitter.Node, data: bytes, name: str, rows: list[str],
                 ty: tree_sitter.Node | None) -> str | None:
    """What ``sizeof`` expression ``sz`` measures in an allocation for ``T (*name)[rows]``:
    "row" (``sizeof *name``, ``sizeof name[0]``, ``sizeof(T[rows])``), "element" (``sizeof
    **name``, ``sizeof name[0][0]``, ``sizeof(T)`` of the declared ``T``), or None.  (A
    ``sizeof(double[64]) * n`` read as n elements mapped n / 64 rows of an n-row matrix: a
    crash, a held-out check.)"""
    operand = sz.child_by_field_name("type")
    if operand is not None:
        dims = _sizeof_dims(sz, data)
        if dims is not None:
            return "row" if dims == rows else None
        plain = operand.child_by_field_name("declarator") is None
        same = ty is not None and "".join(text_of(data, operand).split()) == "".join(text_of(data, ty).split())
        return "element" if plain and same else None
    node = sz.child_by_field_name("value")
    depth = 0  # dereferences and subscripts between the sizeof and the pointer's name
    while node is not None:
        node = _unparen(node)
        if node.type == "subscript_expression" or node.type == "pointer_expression" and \
                text_of(data, node.child_by_field_name("operator")) == "*":
            depth, node = depth + 1, node.child_by_field_name("argument")
            continue
        break
    if node is None or node.type != "identifier" or text_of(data, node) != name:
        return None
    return "row" if depth == 1 else "element" if depth == 1 + len(rows) else None


def _unparen(node: tree_sitter.Node) -> tree_sitter.Node:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def _extent_of_declarator(n: tree_sitter.Node, data: bytes, name: str) -> Extent | None:
    if n.type == "init_declarator":
        decl, value = n.child_by_field_name("declarator"), n.child_by_field_name("value")
        rows = _row_pointer(decl, data, name) if decl is not None else None
        if rows is not None and value is not None:
            # ``T (*a)[m] = malloc(sizeof(T[n][m]))`` or ``malloc(n * sizeof *a)``
            v = uncast(value)
            size = _byte_count_arg(v, data) if v.type == "call_expression" else None
            if size is not None:
                whole = _sizeof_dims(size, data)
                if whole is not None and whole[1:] == rows:
                    return Extent(name, whole)
                count = _sizeof_factor(size, data)
                decl_node = n.parent if n.parent is not None and n.parent.type == "declaration" else None
                ty = decl_node.child_by_field_name("type") if decl_node is not None else None
                units = {_sizeof_unit(c, data, name, rows, ty) for c in walk(size) if c.type == "sizeof_expression"}
                if count is not None and units == {"row"}:
                    return Extent(name, [count] + rows)  # ``n * sizeof *a``, ``sizeof(T[m]) * n``: n rows
                if count is not None and units == {"element"}:
                    # ``sizeof(T) * r * c``: a count of elements, so rows are that over a row's
                    return Extent(name, [f"({count}) / ({' * '.join(f'({r})' for r in rows)})"] + rows)
            return None
    if n.type == "array_declarator":
        dims: list[str] = []
        d = n
        while d is not None and d.type == "array_declarator":
            size = d.child_by_field_name("size")
            if size is None:
                return None
            dims.insert(0, text_of(data, size))
            d = d.child_by_field_name("declarator")
        if d is not None and d.type == "identifier" and text_of(data, d) == name and n.parent.type != "array_declarator":
            if _in_parameter_list(n) and "static" not in text_of(data, n):
                # ``T p[R][C]`` as a parameter is ``T (*p)[C]``: the caller may pass fewer
                # than R rows, so R is no extent (``T p[static R]`` would promise it)
                return None
            return Extent(name, dims)
        return None
    decl = n.child_by_field_name("declarator")
    value = n.child_by_field_name("value")
    if decl is None or value is None or decl.type != "pointer_declarator":
        return None
    inner = decl.child_by_field_name("declarator")
    if inner is None or inner.type != "identifier" or text_of(data, inner) != name:
        return None
    count = allocation_count(n, data, name)
    if count is None and n.parent is not None and n.parent.type == "declaration":
        # ``char *s = malloc(n)``: elements of one byte need no sizeof
        ty = n.parent.child_by_field_name("type")
        if ty is not None and text_of(data, ty) in ("char", "unsigned char", "signed char", "int8_t", "uint8_t"):
            count = _plain_malloc(value, data)
        elif ty is not None:
            count = _recast_allocation_count(n, value, ty, data)
    return Extent(name, [count]) if count is not None else None


def _recast_allocation_count(n: tree_sitter.Node, value: tree_sitter.Node, ty: tree_sitter.Node,
                             data: bytes) -> str | None:
    """The element count of ``T *name = (T *) other;`` where ``other`` was declared before,
    in a block around, as ``U *other = (U *) malloc(X * sizeof(T))`` (the byte count may
    be a ``const`` variable) and nothing else stores to it: the same allocation, counted in
    ``T`` (HeCBench ace: ``nRarray *phi_host = malloc(vol_in_bytes)``, then ``double
    *d_phiold = (double *) phi_host``).  Only when every ``sizeof`` of the count names
    ``T`` as declared here."""
    if _unparen(value).type != "cast_expression":
        return None
    v = uncast(value)
    if v.type != "identifier":
        return None
    other = text_of(data, v)
    source = _declarator_before(n, data, other, lambda c: True, pointer=True)
    fnode = n.parent
    while fnode is not None and fnode.type != "function_definition":
        fnode = fnode.parent
    if source is None or fnode is None:
        return None
    for x in all_nodes(fnode):  # stored to once, by its initialiser
        if x.type in ("assignment_expression", "update_expression", "pointer_expression"):
            target = strip_parens(x.child_by_field_name("left" if x.type == "assignment_expression" else "argument"))
            if target is not None and target.type == "identifier" and text_of(data, target) == other and \
                    (x.type != "pointer_expression" or text_of(data, x)[:1] == "&"):
                return None
    alloc = uncast(source.child_by_field_name("value"))
    size = _byte_count_arg(alloc, data) if alloc.type == "call_expression" else None
    if size is not None and _unparen(size).type == "identifier":
        size = _const_byte_count(alloc, data, source)
    if size is None:
        return None
    sizes = [c for c in walk(size) if c.type == "sizeof_expression"]
    pointee = "".join(text_of(data, ty).split())
    if not sizes or any("".join(text_of(data, _unparen(c.child_by_field_name("type") or c.child_by_field_name("value"))
                                        ).split()) != pointee for c in sizes):
        return None
    return _sizeof_factor(_unparen(size), data)


def can_copy(stmt) -> bool:
    """Whether a copy of loop ``stmt`` may stand beside it: not with a label inside, nor a
    ``case`` of a switch around it (either would be defined twice), nor a preprocessor line
    or ``__COUNTER__`` (its effect would happen twice: every later ``__COUNTER__`` of the
    file would count one more)."""

    def foreign_case(n) -> bool:
        up = n.parent
        while up is not None and up.type != "switch_statement":
            up = up.parent
        return up is None or up.start_byte < stmt.start_byte

    return not any(n.type == "labeled_statement" or n.type.startswith("preproc_")
                   or (n.type == "identifier" and n.text == b"__COUNTER__")
                   or (n.type == "case_statement" and foreign_case(n)) for n in walk(stmt))


def declarator_chain(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The declarators of a declaration, init declarator or parameter, outermost first,
    through pointer, array, function, parenthesised and reference declarators, ending at
    the identifier it declares (``(*b)``, ``*b``, ``b`` in ``double (*b)[C]``; never the
    size ``N`` of ``u32 p0[restrict N]``)."""
    out = []
    d = node.child_by_field_name("declarator")
    while d is not None:
        out.append(d)
        if d.type == "identifier":
            break
        inner = d.child_by_field_name("declarator")
        if inner is None and d.type in ("parenthesized_declarator", "reference_declarator") and d.named_children:
            inner = d.named_children[-1]  # ``double (*a)[n]``, ``T &r``: no field to follow
        d = inner
    return out


def declared_identifier_node(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The identifier a declaration, init declarator or parameter declares, at the end of its
    ``declarator_chain``; None when there is none."""
    chain = declarator_chain(node)
    return chain[-1] if chain and chain[-1].type == "identifier" else None


def declared_identifier(node: tree_sitter.Node, data: bytes) -> str | None:
    """The name ``declared_identifier_node`` finds, as text; for a parameter declared
    through a function-like macro (``u32 ARR(p2)``), the name the macro declares."""
    d = declared_identifier_node(node)
    if d is None:
        return None
    if node.type in _PARAMETERS and d.parent is not None and d.parent.type == "function_declarator":
        named = macro_declared_name(d.parent, data)
        if named is not None:
            return named
    return text_of(data, d)


def macro_declared_name(fd: tree_sitter.Node, data: bytes) -> str | None:
    """``u32 ARR(p2)`` (tree-sitter reads a function declarator) declares ``p2`` when ARR is
    a function-like macro whose replacement begins with one of its parameters and ``[``
    (``#define ARR(v) v[restrict N]``; PolyBench's ``POLYBENCH_1D(var, dim1, ddim1)``,
    defined in a header: libclang's, ``note_macros``): that argument, when it is a plain
    name; None otherwise."""
    macro = text_of(data, fd.child_by_field_name("declarator"))
    root = fd
    while root.parent is not None:
        root = root.parent
    position = _declaring_macros(root, data).get(macro, _DECLARING_MACROS.get(data, {}).get(macro))
    params = fd.child_by_field_name("parameters")
    args = [text_of(data, a).strip() for a in params.named_children] if params is not None else []
    if position is None or position >= len(args) or not args[position].isidentifier():
        return None
    return args[position]


@functools.lru_cache(maxsize=16)
def _declaring_macros(root: tree_sitter.Node, data: bytes) -> dict[str, int]:
    """Function-like macros whose replacement list begins with a parameter followed by ``[``
    (a declarator): name -> that parameter's position."""
    out: dict[str, int] = {}
    for n in walk(root):
        if n.type != "preproc_function_def":
            continue
        ps = n.child_by_field_name("parameters")
        names = [text_of(data, c) for c in ps.named_children] if ps is not None else []
        value = n.child_by_field_name("value")
        first = _LEADING_NAME.match(text_of(data, value)) if value is not None else None
        if first is not None and first.group(1) in names:
            out[text_of(data, n.child_by_field_name("name"))] = names.index(first.group(1))
    return out


_LEADING_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*\[")


_PARAMETERS = frozenset({"parameter_declaration", "optional_parameter_declaration", "variadic_parameter_declaration"})


def parameters(fnode: tree_sitter.Node) -> list[tree_sitter.Node]:
    """A function definition's parameter declarations in order (comments and a C ``...``
    are not parameters)."""
    d = function_declarator(fnode)
    params = d.child_by_field_name("parameters") if d is not None else None
    return [p for p in (params.named_children if params is not None else ()) if p.type in _PARAMETERS]


def param_names(fnode: tree_sitter.Node, data: bytes) -> list[str]:
    """The parameters' names in order ("" for an unnamed one), as the planner and the plan
    checker both read them."""
    return [declared_identifier(p, data) or "" for p in parameters(fnode)]


def all_nodes(node: tree_sitter.Node):
    """``node`` and every node below it, in stack order (for questions where order does
    not matter; ``source.walk`` is the pre-order walk)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


#: unit text -> function-like macros whose replacement list assigns, increments or takes an
#: address, each with the positions of the parameters it names (``note_macros``)
_STORING_MACROS: dict[bytes, dict[str, frozenset[int]]] = {}
#: unit text -> function-like macros (a header's too) whose replacement list begins with a
#: parameter and ``[``, a declarator: name -> that parameter's position (``note_macros``)
_DECLARING_MACROS: dict[bytes, dict[str, int]] = {}
#: unit text -> C++ calls binding arguments to non-const references: call start -> positions
_STORING_CALLS: dict[bytes, dict[int, frozenset[int]]] = {}
#: unit text -> macros whose replacement list may leave the statement it stands in
#: (``note_macros``): name -> the token that does
_LEAVING_MACROS: dict[bytes, dict[str, str]] = {}
#: tokens that leave a block (or the function) from inside a macro's expansion
LEAVING_TOKENS = frozenset({"return", "goto", "break", "continue", "throw", "longjmp", "siglongjmp", "_longjmp"})


def note_macros(data: bytes, defs: dict[str, tuple[bool, list[str]]], params: dict[str, list[str]],
                by_reference: dict[int, frozenset[int]] | None = None) -> None:
    """Record the function-like macros of unit ``data`` (libclang's tokens, a header's
    too: ``Semantics``) whose replacement list may store to an argument: a use
    ``SHRINK(m)`` of ``#define SHRINK(x) ((x) /= 4)`` assigns ``m``, which the syntax
    shows as a call (a held-out check: a region's section grew stale under it); and, C++,
    the calls that bind arguments to non-const references (``by_reference``: call start ->
    positions; ``std::swap(n, m)`` assigns both)."""
    from pcx_driver.engine.macros import WRITE_TOKENS  # (macros reads this module: imported here)

    found = {}
    for name, (function_like, body) in defs.items():
        if function_like and (WRITE_TOKENS | {"&"}) & set(body):
            own = params.get(name, [])
            found[name] = frozenset(k for k, p in enumerate(own) if p in body)
    if len(_STORING_MACROS) > 8:  # (a process analyses one unit, a test run many)
        _STORING_MACROS.clear()
        _STORING_CALLS.clear()
        _LEAVING_MACROS.clear()
        _DECLARING_MACROS.clear()
    _STORING_MACROS[data] = found
    _DECLARING_MACROS[data] = {name: params[name].index(body[0]) for name, (function_like, body) in defs.items()
                               if function_like and len(body) > 1 and body[1] == "["
                               and body[0] in params.get(name, [])}
    _STORING_CALLS[data] = dict(by_reference or {})
    _LEAVING_MACROS[data] = {name: next(t for t in body if t in LEAVING_TOKENS)
                             for name, (_, body) in defs.items() if LEAVING_TOKENS & set(body)}


def leaving_macro(data: bytes, node: tree_sitter.Node) -> tuple[str, str] | None:
    """(macro, token) when statement-level ``node`` of unit ``data`` is the use of a macro
    whose replacement list holds ``return``, ``goto``, ``break``, ``continue``, ``throw``
    or a long jump (``CHECK(c)`` of ``#define CHECK(c) if (c) return 0``; libclang's
    macros, a header's too: ``note_macros``): the text shows a call or a name where the
    expansion may leave the block (a held-out check: an unstructured data region's exit
    was skipped, and its mapping outlived the stack array).  None otherwise."""
    leaving = _LEAVING_MACROS.get(data)
    if not leaving:
        return None
    n = node
    if n.type == "expression_statement" and n.named_child_count >= 1:
        n = n.named_children[0]
    if n.type == "call_expression":
        n = n.child_by_field_name("function")
    if n is not None and n.type == "identifier":
        name = text_of(data, n)
        if name in leaving:
            return name, leaving[name]
    return None


def assigned_and_declared(node: tree_sitter.Node, data: bytes, lo: int, hi: int,
                           declarations: bool = True) -> set[str]:
    """Identifiers declared, assigned, incremented or address-taken within bytes lo..hi; a
    write through a dereference there (``*pn = *pn + 1``) counts as a change of every
    variable whose address ``node`` takes anywhere (``pn = &n``: a region's bound grew
    under it, a held-out check's crash), and an argument of a macro that may store to it
    (``note_macros``) as assigned."""
    out: set[str] = set()
    through = False
    storing = _STORING_MACROS.get(data, {})
    by_reference = _STORING_CALLS.get(data, {})
    for n in all_nodes(node):
        if n.end_byte <= lo or n.start_byte >= hi:
            continue
        t = n.type
        targets: list[tree_sitter.Node | None] = []
        if t == "call_expression" and by_reference.get(n.start_byte):
            argv = arguments_of(n.child_by_field_name("arguments"))
            targets.extend(argv[k] for k in by_reference[n.start_byte] if k < len(argv))
        elif t == "binary_expression" and by_reference.get(n.start_byte):
            # an overloaded operator taking a reference (``in >> n``): either operand
            targets.extend([n.child_by_field_name("left"), n.child_by_field_name("right")])
        if t == "call_expression" and storing:
            fn = n.child_by_field_name("function")
            positions = storing.get(text_of(data, fn)) if fn is not None and fn.type == "identifier" else None
            if positions:
                argv = arguments_of(n.child_by_field_name("arguments"))
                for k in positions:
                    if k < len(argv):
                        out |= identifiers_in(argv[k], data)
        if t == "assignment_expression":
            targets = [n.child_by_field_name("left")]
        elif t == "update_expression":
            targets = [n.child_by_field_name("argument")]
        elif t == "pointer_expression" and text_of(data, n)[:1] == "&":
            targets = [n.child_by_field_name("argument")]
        elif declarations and t in ("init_declarator", "declaration", "parameter_declaration"):
            targets = [declared_name_node(d) for d in n.children_by_field_name("declarator")]  # every one: int a, b[4];
        for target in targets:
            target = strip_parens(target)
            if target is not None and target.type == "identifier":
                out.add(text_of(data, target))
            elif target is not None and t != "pointer_expression" and target.type == "pointer_expression" \
                    and text_of(data, target)[:1] == "*":
                through = True
    if through:
        out |= addressed_names(node, data)
    return out


def assignment_targets(node: tree_sitter.Node):
    """(the assignment or update, what it writes) for each one inside ``node``."""
    for n in all_nodes(node):
        if n.type == "assignment_expression":
            yield n, n.child_by_field_name("left")
        elif n.type == "update_expression":
            yield n, n.child_by_field_name("argument")


def addressed_names(node: tree_sitter.Node, data: bytes) -> set[str]:
    """Variables whose address ``node`` takes (``&q``, ``&(q)``): another name may change them."""
    return {text_of(data, arg) for arg in _address_operands(node, data) if arg.type == "identifier"}


def addressed_or_bound(fnode: tree_sitter.Node, data: bytes, names: set[str]) -> set[str]:
    """Those of ``names`` whose address function ``fnode`` takes (``&n``) or to which it
    binds a reference (``int &r = n;``): a store through it changes them unseen."""
    out = addressed_names(fnode, data) & names
    for n in all_nodes(fnode):
        if n.type == "init_declarator" and any(c.type == "reference_declarator" for c in declarator_chain(n)):
            value = strip_parens(n.child_by_field_name("value"))
            if value is not None and value.type == "identifier" and text_of(data, value) in names:
                out.add(text_of(data, value))
    return out


@functools.lru_cache(maxsize=16)
def addressed_members(data: bytes, language: Language) -> frozenset[str]:
    """Names whose address the file takes as a variable or as a member (``&len``,
    ``&this->len``, ``&obj.len``): a member so named may be reached through a pointer."""
    out = set()
    for arg in _address_operands(parse(data, language).root_node, data):
        if arg.type == "identifier":
            out.add(text_of(data, arg))
        elif arg.type == "field_expression" and arg.child_by_field_name("field") is not None:
            out.add(text_of(data, arg.child_by_field_name("field")))
    return frozenset(out)


def _address_operands(node: tree_sitter.Node, data: bytes):
    """The operand of each ``&x`` in ``node``, parentheses stripped."""
    for n in all_nodes(node):
        if n.type == "pointer_expression" and text_of(data, n)[:1] == "&":
            arg = strip_parens(n.child_by_field_name("argument"))
            if arg is not None:
                yield arg


def declared_name_node(declarator: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The identifier one declarator of a declaration (``b[4]``, ``*p``, ``x = 1``, ``b``)
    declares, or None: ``declared_identifier_node`` from the declarator itself."""
    if declarator is None or declarator.type == "identifier":
        return declarator
    return declared_identifier_node(declarator)


# Parents of an element (``a[i][j]``) under which it is only read.
_WRITING_PARENTS = frozenset({"update_expression", "pointer_expression", "argument_list", "field_expression",
                              "init_declarator", "initializer_list", "compound_literal_expression"})


def is_element_read(ident: tree_sitter.Node, rank: int, data: bytes) -> bool:
    """Is ``ident`` a whole element (``rank`` subscripts) used only as a value?"""
    top, depth = ident, 0
    while top.parent is not None and top.parent.type == "subscript_expression" and \
            top.parent.child_by_field_name("argument") == top:
        top, depth = top.parent, depth + 1
    if depth != rank:
        return False  # the pointer itself, or a row of it, used as a value
    parent = top.parent
    while parent is not None and parent.type in ("parenthesized_expression", "cast_expression"):
        top, parent = parent, parent.parent
    if parent is None or parent.type in _WRITING_PARENTS:
        return False
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == top:
        return False
    return True
