"""Where host code may reach a region's arrays without naming them: aliases and calls.

A data region keeps arrays on the device and brings them home only where host code names
them.  That is sound only if nothing else reaches them, and a held-out check found 28
programs where something did (wrong outputs): a global or static set to the array (``g =
v;``, ``keep(v)``), a pointer returned by a call (``q = id(v)``, ``std::begin(v)``,
``std::data(v)``, ``&v.at(0)``), a struct built from it (``make(v)``, ``init(&s, v)``), a
lambda capturing it by reference, ``std::ref``/``std::tie``/``std::bind``, a chained
assignment (``q = r = v``).  The two questions here are the planner's:

- ``alias_site(fnode, data, names, kernels, keeps) -> (name, line, how) | None``: the first
  place in the function where one of ``names`` (the arrays a region would hold) flows
  anywhere but into a subscript read or write, a size query, a pure library call, a plain
  local pointer copy (which the region follows as a move), or an argument of a function
  that ``keeps(fname, index)`` says does not keep it.  The region is refused there.
- ``reaches_globals(data, language, fname) -> bool``: may a call of ``fname`` touch memory
  through a file-scope or static variable, a function pointer or code this file cannot
  see?  Such a call inside a region may read and write every array the caller could have
  stored somewhere (its parameters and globals), so the region brings them home before it
  and sends them back after it.
- ``keeps_parameter`` / ``keeps_pointer(data, language, fname, index)``: may a function of
  the file keep what its ``index``-th argument points at (the first: anything reached
  through it too), or the pointer itself (the second, for engine/scalar_reach.py)?
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import tree_sitter

from pcx_driver.engine import hostaccess, hostscan
from pcx_driver.engine.hostaccess import text_of
from pcx_driver.engine.source import arguments_of, strip_parens
from pcx_driver.model import Language

#: calls that read their arguments' values and touch no memory another name could reach
#: (the C library's and C++'s value functions, timers, output)
PURE_CALLS = hostscan.PURE_CALLS | hostaccess.READ_ONLY_STD | {"gettimeofday", "omp_get_wtime", "sizeof"}
#: library calls that read or write through a pointer they are given and keep none of
#: it (the region counts the read and the write at the call), and pointer swaps it follows
NON_KEEPING = frozenset(
    "free delete memcpy memmove memset memcmp qsort bsearch fread fwrite fscanf sscanf scanf fgets strcpy strncpy "
    "strcmp strlen std::swap swap std::copy std::fill std::fill_n std::sort std::accumulate std::transform "
    "std::memcpy std::memset".split()
)
KEPT = ", which may keep it"
#: member calls on an array object that only read its size
SIZE_QUERIES = frozenset({"size", "empty", "capacity", "length"})


def pure_call(fname: str) -> bool:
    """A call of ``fname`` reads the values it is given and nothing else (``std::printf``
    of ``<cstdio>`` is the C library's ``printf``)."""
    return fname in PURE_CALLS or fname.startswith("std::chrono::") or (
        fname.startswith("std::") and fname[len("std::"):] in hostscan.PURE_CALLS)


def keeps_nothing(fname: str) -> bool:
    """A library call of ``fname`` keeps no pointer it is given: it reads values, or reads
    and writes through the pointer while it runs (``memcpy``, ``scanf``)."""
    return fname in NON_KEEPING or pure_call(fname)


def alias_site(fnode: tree_sitter.Node, data: bytes, names: set[str], kernels: list[tuple[int, int]],
               keeps: Callable[[str, int], bool], identity: frozenset[str] = frozenset(),
               kept: set[str] | None = None, span: tuple[int, int] | None = None,
               ranks: dict[str, int] | None = None, declared_at: frozenset[int] = frozenset()
               ) -> tuple[str, int, str] | None:
    """See the module docstring.  ``kernels``: byte ranges of the offloaded loops (their
    bodies are the analysis's); ``keeps(fname, i)``: may function ``fname`` keep its
    ``i``-th argument (store it, return it, pass it on to one that may)?  ``kept``: when
    given, an array passed to such a function is put there instead of answered (the
    region then counts it among what a call reaching globals may touch).  ``span``: the region's
    bytes, where host code naming a struct a held pointer was taken from reaches it.
    ``ranks``: the dimensions of each held array, where ``m[3]`` of a 2-D ``m`` is a row (a
    pointer into it), not an element.  ``declared_at``: where the uses of macros that declare a held
    pointer start (``POLYBENCH_2D_ARRAY_DECL(A, ...)``, TypedNames.pointed_arrays): its
    name among their arguments is its declaration, not a use."""
    for name in sorted(names):
        borrow = hostaccess.member_borrow(fnode, name, data, span)
        if borrow is not None and (borrow[2] or kept is None):
            owner = re.split(r"\.|->", borrow[0])[0]  # (a struct's pointer member, a container's data())
            return name, borrow[1], (f"it takes its value from '{borrow[0]}', which host code also reaches "
                                     f"through '{owner}'")
        if borrow is not None:
            kept.add(name)  # the caller's struct holds it: what a call reaching globals may touch
    body = fnode.child_by_field_name("body")
    nodes = list(hostaccess.all_nodes(body)) if body is not None else []
    statics = {text_of(data, d) for n in nodes if n.type == "declaration" and hostaccess.declared_static(n, data)
               for d in hostaccess.all_nodes(n) if d.type == "identifier"}
    locals_ = {text_of(data, n) for n in nodes if n.type == "identifier" and _declared_here(n)} - statics
    scalars = frozenset(arithmetic_names(fnode, data))
    for n in nodes:
        if n.type != "identifier" or text_of(data, n) not in names:
            continue
        if any(lo <= n.start_byte < hi for lo, hi in kernels) or (
                n.parent is not None and n.parent.type == "argument_list" and n.parent.parent is not None
                and n.parent.parent.start_byte in declared_at):
            continue
        how = _flow(n, data, keeps, identity, locals_, scalars, ranks or {})
        if how is None and span is not None and not span[0] <= n.start_byte < span[1]:
            how = _copied_before(n, data, names, nodes, span)
        if how is not None and kept is not None and how.endswith(KEPT):
            kept.add(text_of(data, n))
            continue
        if how is not None:
            return text_of(data, n), n.start_point[0] + 1, how
    return None


def _copied_before(n: tree_sitter.Node, data: bytes, names: set[str], nodes: list, span: tuple[int, int]) -> str | None:
    """``double *c = b;`` (or ``c = b;``) outside the region, ``c`` used inside it: the
    region follows pointer copies only where it sees them (a held-out check: ``c += 5``
    after the copy, and ``c[0]`` written in the region, lost the write)."""
    top = n
    while top.parent is not None and top.parent.type in ("parenthesized_expression", "cast_expression"):
        top = top.parent
    parent = top.parent
    dst = None
    if parent is not None and parent.type == "init_declarator" and parent.child_by_field_name("value") == top:
        dst = hostaccess.declared_identifier(parent, data)
    elif parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("right") == top:
        left = strip_parens(parent.child_by_field_name("left"))
        dst = text_of(data, left) if left is not None and left.type == "identifier" else None
    if dst is None or dst in names:
        return None
    uses = [x for x in nodes if x.type == "identifier" and text_of(data, x) == dst]
    moved = any(x.parent is not None and (x.parent.type == "update_expression" or (
        x.parent.type == "assignment_expression" and x.parent.child_by_field_name("left") == x and
        text_of(data, x.parent.child_by_field_name("operator")) != "=")) for x in uses)
    # (passed to a kernel function, it is the region's data by its address, as before)
    touched = any(span[0] <= x.start_byte < span[1] and x.parent is not None and (
        (x.parent.type == "subscript_expression" and x.parent.child_by_field_name("argument") == x) or
        (x.parent.type == "pointer_expression" and text_of(data, x.parent)[:1] == "*")) for x in uses)
    if touched or (moved and any(span[0] <= x.start_byte < span[1] for x in uses)):
        return f"'{dst}' takes its value before the region and host code in it uses that copy"
    return None


def implicit_holder(fn: tree_sitter.Node | None, data: bytes, locals_: frozenset[str]) -> str | None:
    """Where a call may keep an argument beside its explicit arguments: the object a
    method is called on (``d.setX(a)``, ``pd->setX(a)``), the static data of a class or
    namespace (``Reg::put(a)``), what a callable variable captures (a lambda,
    ``std::function``), or the object of the member function the call is made in
    (``setX(a)`` in ``Domain::run``).  None for a plain call of a free function."""
    if fn is None:
        return None
    if fn.type == "field_expression":
        return f"the object it is called on ('{text_of(data, fn.child_by_field_name('argument'))}')"
    if fn.type in ("qualified_identifier", "template_function") and "::" in text_of(data, fn):
        return "the static data of its class or namespace"
    name = text_of(data, fn)
    if fn.type == "identifier" and name in locals_:
        return f"what the callable '{name}' captures"
    f = fn
    while f is not None and f.type != "function_definition":
        f = f.parent
    if fn.type == "identifier" and f is not None and _member_function(f, data):
        return "the object of the member function it is called in"
    return None


def _member_function(fdef: tree_sitter.Node, data: bytes) -> bool:
    """A C++ member function: defined in a class body, or as ``X::f`` outside it."""
    if fdef.parent is not None and fdef.parent.type == "field_declaration_list":
        return True
    d = fdef.child_by_field_name("declarator")
    while d is not None and d.type in ("pointer_declarator", "reference_declarator"):
        d = d.child_by_field_name("declarator")
    inner = d.child_by_field_name("declarator") if d is not None and d.type == "function_declarator" else None
    return inner is not None and inner.type == "qualified_identifier"


def _flow(n: tree_sitter.Node, data: bytes, keeps: Callable[[str, int], bool],
          identity: frozenset[str] = frozenset(), locals_: frozenset[str] = frozenset(),
          scalars: frozenset[str] = frozenset(), ranks: dict[str, int] | None = None) -> str | None:
    """Why identifier ``n`` (a held array) is an alias in its context, or None."""
    if _enclosing_body(n) == "lambda_expression":
        return "a lambda captures it"
    if _declared_here(n):
        return None
    top = n
    while top.parent is not None and top.parent.type == "parenthesized_expression":
        top = top.parent
    parent = top.parent
    if parent is None:
        return None
    t = parent.type
    if t == "subscript_expression" and parent.child_by_field_name("argument") == top:
        row = _row_of(parent, (ranks or {}).get(text_of(data, n), 1))
        if row is not None:
            # ``double *r = m[10];``: a row is a pointer into the array; no copy of it is
            # followed (a held-out check lost the writes through r)
            return _flow(row, data, keeps, identity, frozenset(), scalars)
        return _element_flow(parent, data)
    if t == "pointer_expression" and text_of(data, parent)[:1] == "*":
        return _element_flow(parent, data)  # ``*v``: its first element (``sizeof *v`` included)
    if t == "pointer_expression" and hostaccess.posix_memalign_of(parent, data) is not None:
        return None  # ``posix_memalign((void **)&v, ...)``: an allocation into it
    if t == "field_expression" and parent.child_by_field_name("argument") == top:
        field = text_of(data, parent.child_by_field_name("field"))
        call = parent.parent
        if field in SIZE_QUERIES:
            return None
        if field in ("at", "front", "back", "operator[]") and call is not None and call.type == "call_expression":
            return _element_flow(call, data)
        if field == "data" and call is not None and call.type == "call_expression" and \
                call.parent is not None and call.parent.type == "subscript_expression" and \
                call.parent.child_by_field_name("argument") == call:
            return _element_flow(call.parent, data)  # v.data()[i]
        if field == "data" and call is not None and call.type == "call_expression" and \
                not arguments_of(call.child_by_field_name("arguments")) and \
                call.parent is not None and call.parent.type == "argument_list":
            # ``f(n, v.data())``: the array's address passed on, as ``f(n, p)`` passes a
            # pointer: the callee's use of it decides, as for a pointer
            return _flow(call, data, keeps, identity, locals_, scalars, ranks)
        return f"'{text_of(data, parent)}' may point into it"
    if t == "argument_list":
        call = parent.parent
        fn = call.child_by_field_name("function") if call is not None else None
        fname = text_of(data, fn) if fn is not None else ""
        if pure_call(fname) or fname in NON_KEEPING:
            return None
        if fname in identity:  # ``POLYBENCH_ARRAY(A)``: the array itself, passed on
            return _flow(call, data, keeps, identity, locals_, scalars, ranks)
        argv = [c.id for c in arguments_of(parent)]  # (comments between arguments are no arguments)
        if top.id in argv and not keeps(fname, argv.index(top.id)):
            return None
        if not _value_only(call, data):
            return f"'{text_of(data, call)}' may return a pointer into it"
        holder = implicit_holder(fn, data, locals_)
        if holder is not None:
            # (host code may then reach it through that, with no call a scan would see:
            # ``d.setX(a); ... d.m_x[0] = 100;``, a held-out check)
            return f"'{text_of(data, call)}' may store it in {holder}"
        others = [a for a in arguments_of(parent) if a.id != top.id]
        if any(not plain_value(a, data, scalars) for a in others):
            # (``init(&s, v)``: the struct may now hold it, and its uses are no calls)
            return f"'{text_of(data, call)}' may store it where another argument reaches"
        return f"it is passed to '{fname}'{KEPT}"
    if t in ("init_declarator", "assignment_expression"):
        if t == "assignment_expression" and parent.child_by_field_name("left") == top:
            return None  # the pointer itself is set (a move the region follows or refuses)
        dst = parent.child_by_field_name("declarator" if t == "init_declarator" else "left")
        dst = strip_parens(dst)
        if dst is not None and dst.type == "pointer_declarator":
            dst = dst.child_by_field_name("declarator")
        if t == "init_declarator" and dst is not None and dst.type == "identifier" and \
                text_of(data, dst) in locals_:
            return None  # ``double *q = v;``: a local copy, followed as a move
        if t == "assignment_expression" and dst is not None and dst.type == "identifier" and \
                text_of(data, dst) in locals_ and parent.parent is not None and \
                parent.parent.type == "expression_statement":
            return None  # ``q = v;`` into a local, as a statement: followed as a move (or refused)
        return f"'{text_of(data, parent)}' stores it"
    if t == "unary_expression" and text_of(data, parent.child_by_field_name("operator")) == "!":
        return None  # a null test
    if t in ("binary_expression",):
        op = text_of(data, parent.child_by_field_name("operator"))
        if op in ("==", "!=", "<", ">", "<=", ">=", "&&", "||"):
            return None  # a pointer comparison or a null test
        return f"'{text_of(data, parent)}' computes a pointer into it"
    if t in ("sizeof_expression", "if_statement", "condition_clause", "while_statement", "delete_expression"):
        return None
    if t == "cast_expression" and parent.child_by_field_name("value") == top and parent.parent is not None \
            and parent.parent.type == "argument_list":
        # ``f((nRarray *) v)``: the same address, passed as an argument (HeCBench ace)
        return _flow(parent, data, keeps, identity, locals_, scalars, ranks)
    return f"'{text_of(data, parent)}' uses its address"


def plain_value(arg: tree_sitter.Node, data: bytes, scalars: frozenset[str]) -> bool:
    """An argument that can hold no address: a literal, or an expression over names of
    arithmetic locals (``scalars``) and literals with no ``&``, subscript or call."""
    for x in hostaccess.all_nodes(arg):
        if x.type in ("pointer_expression", "subscript_expression", "call_expression", "field_expression",
                      "string_literal", "cast_expression", "compound_literal_expression"):
            return False
        if x.type == "identifier" and text_of(data, x) not in scalars:
            return False
    return True


def _value_only(call: tree_sitter.Node, data: bytes) -> bool:
    """The result of ``call`` is dropped or used as a value: a statement of its own, an
    argument of a pure call, or the value of an arithmetic variable."""
    up = call.parent
    while up is not None and up.type == "parenthesized_expression":
        up = up.parent
    if up is None:
        return False
    if up.type == "expression_statement":
        return True
    if up.type == "argument_list":
        fn = up.parent.child_by_field_name("function") if up.parent is not None else None
        return fn is not None and pure_call(text_of(data, fn))
    if up.type == "init_declarator":
        d = up.child_by_field_name("declarator")
        ty = up.parent.child_by_field_name("type") if up.parent is not None else None
        return d is not None and d.type == "identifier" and ty is not None and \
            ty.type in ("primitive_type", "sized_type_specifier")
    return False


def _row_of(access: tree_sitter.Node, rank: int) -> tree_sitter.Node | None:
    """The outermost subscript of ``access``'s chain (``m[3]`` of ``m[3][j]``) when the chain
    names fewer subscripts than the array's ``rank``: a row, which C passes as a pointer."""
    cur, depth = access, 1
    while cur.parent is not None and cur.parent.type == "subscript_expression" and \
            cur.parent.child_by_field_name("argument") == cur:
        cur, depth = cur.parent, depth + 1
    return cur if depth < rank else None


def _element_flow(access: tree_sitter.Node, data: bytes) -> str | None:
    """An element ``v[i]`` (or ``v.at(i)``): a value read or a write, unless its address
    or a reference to it is taken."""
    cur = access
    while cur.parent is not None and cur.parent.type in ("parenthesized_expression", "subscript_expression",
                                                          "field_expression") and \
            cur.parent.child_by_field_name("argument") == cur:
        cur = cur.parent
    parent = cur.parent
    if parent is None:
        return None
    if parent.type == "pointer_expression" and text_of(data, parent)[:1] == "&":
        up = parent.parent
        fn = up.parent.child_by_field_name("function") if up is not None and up.type == "argument_list" \
            and up.parent is not None else None
        if fn is not None and (text_of(data, fn) in NON_KEEPING or pure_call(text_of(data, fn))):
            return None  # ``fscanf(f, "%lf", &a[i])``, ``memcpy(&a[k], ...)``: used there, not kept
        return f"'{text_of(data, parent)}' takes an element's address"
    if parent.type == "init_declarator" and getattr(parent.child_by_field_name("declarator"), "type", "") == \
            "reference_declarator":
        return "a reference to an element is bound"
    if parent.type == "init_declarator" and cur.type == "field_expression" and \
            getattr(parent.child_by_field_name("declarator"), "type", "") == "pointer_declarator":
        return f"'{text_of(data, parent)}' keeps a pointer into an element's member"
    if parent.type == "argument_list":
        call = parent.parent
        fn = call.child_by_field_name("function") if call is not None else None
        fname = text_of(data, fn) if fn is not None else ""
        if fname in ("std::addressof", "std::ref", "std::cref"):
            return f"'{fname}' takes an element's address"
    return None


def arithmetic_names(fnode: tree_sitter.Node, data: bytes) -> set[str]:
    """Parameters and locals of ``fnode`` declared as plain arithmetic values (``int n``,
    ``double x = 0``): no pointer, array, reference or named type."""
    out: set[str] = set()
    for n in hostaccess.all_nodes(fnode):
        if n.type not in ("declaration", "parameter_declaration"):
            continue
        ty = n.child_by_field_name("type")
        if ty is None or ty.type not in ("primitive_type", "sized_type_specifier"):
            continue
        for d in n.children_by_field_name("declarator"):
            d = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            if d is not None and d.type == "identifier":
                out.add(text_of(data, d))
    return out


def _declared_here(n: tree_sitter.Node) -> bool:
    """``n`` is the name a declaration declares (``double *v = ...``, ``double v[N]``)."""
    cur, up = n, n.parent
    while up is not None and up.type in ("pointer_declarator", "array_declarator", "reference_declarator",
                                         "parenthesized_declarator", "init_declarator", "function_declarator"):
        d = up.child_by_field_name("declarator")
        if d is None and up.type == "parenthesized_declarator":
            d = up.named_children[0] if up.named_children else None  # ``(*a)[n]``
        if d is None or d.id != cur.id:
            return False  # (a name in an array's size or an initialiser)
        if up.type == "init_declarator":
            return True
        cur, up = up, up.parent
    return up is not None and up.type in ("declaration", "parameter_declaration", "field_declaration") and cur is not n \
        or (up is not None and up.type == "declaration" and cur is n)


def _enclosing_body(n: tree_sitter.Node) -> str | None:
    """The kind of the nearest function body around ``n`` ("function_definition" or
    "lambda_expression"), None at file scope."""
    up = n.parent
    while up is not None and up.type not in ("function_definition", "lambda_expression"):
        up = up.parent
    return up.type if up is not None else None


def _parameter(data: bytes, language: Language, fname: str, index: int,
               depth: int) -> tuple[tree_sitter.Node, str] | None:
    """The definition of ``fname`` in this file and the name of its ``index``-th
    parameter; None where either is not known (or the calls go deeper than 4)."""
    fnode = hostaccess.functions_by_name(data, language).get(fname.split("<")[0])
    if fnode is None or depth > 4:
        return None
    params = hostaccess.param_names(fnode, data)
    if index >= len(params) or not params[index]:
        return None
    return fnode, params[index]


@lru_cache(maxsize=4096)
def keeps_parameter(data: bytes, language: Language, fname: str, index: int, depth: int = 0) -> bool:
    """May function ``fname`` keep its ``index``-th argument?  Not when it is defined in
    this file and its parameter there is only subscripted, size-queried or passed on to a
    function that does not keep it either; everything else (no definition, a store, a
    return, a capture) may."""
    found = _parameter(data, language, fname, index, depth)
    if found is None:
        return True
    fnode, name = found

    def keeps(callee: str, i: int) -> bool:
        return keeps_parameter(data, language, callee, i, depth + 1)

    return alias_site(fnode, data, {name}, [], keeps) is not None


@lru_cache(maxsize=4096)
def keeps_pointer(data: bytes, language: Language, fname: str, index: int, depth: int = 0) -> bool:
    """May function ``fname`` keep the pointer it takes as argument ``index`` past the call
    (store it, return it, take its address)?  Not when it is defined in this file and uses
    the parameter only to reach what it points at (``f->n``, ``p[i]``, ``*p``), to test it,
    or as an argument of such a function.  (``keeps_parameter`` asks more: whether a member
    read through it may point into an array; engine/scalar_reach.py needs only this.)"""
    found = _parameter(data, language, fname, index, depth)
    if found is None:
        return True
    fnode, name = found
    body = fnode.child_by_field_name("body")
    for x in hostaccess.all_nodes(body) if body is not None else ():
        if x.type != "identifier" or text_of(data, x) != name:
            continue
        up = x.parent
        while up is not None and up.type == "parenthesized_expression":
            x, up = up, up.parent
        if up is None:
            return True
        if up.type in ("field_expression", "subscript_expression") and up.child_by_field_name("argument") == x:
            continue
        if up.type == "pointer_expression" and text_of(data, up)[:1] == "*":
            continue
        if up.type in ("binary_expression", "unary_expression") and text_of(
                data, up.child_by_field_name("operator")) in ("==", "!=", "!", "&&", "||"):
            continue
        if up.type == "argument_list" and up.parent is not None and up.parent.type == "call_expression":
            callee = up.parent.child_by_field_name("function")
            k = [c for c in up.named_children if c.type != "comment"].index(x)
            callee_name = text_of(data, callee) if callee is not None else ""
            if keeps_nothing(callee_name):
                continue  # (memcpy(p3, p0, ...): read or written through, kept by nobody)
            if callee is not None and callee.type == "identifier" and not keeps_pointer(
                    data, language, callee_name, k, depth + 1):
                continue
        return True
    return False


@lru_cache(maxsize=8)
def unit_pointer_globals(data: bytes, language: Language) -> frozenset[str]:
    """``pointer_globals`` of a whole unit's text, once per text."""
    return frozenset(pointer_globals(hostaccess.nodes_of_type(data, language, "declaration"), data))


def pointer_globals(declarations: Iterable[tree_sitter.Node], data: bytes) -> set[str]:
    """File-scope variables among ``declarations`` that may hold an address: declared as
    pointers (at any level) or of a non-arithmetic type (a struct may hold a pointer).  An
    ``int`` counter or a ``double`` table cannot lead to another array."""
    out: set[str] = set()
    for decl in declarations:
        if decl.type != "declaration" or _enclosing_body(decl) is not None:
            continue  # (namespaces, linkage blocks and preprocessor branches included)
        ty = decl.child_by_field_name("type")
        arithmetic = ty is not None and ty.type in ("primitive_type", "sized_type_specifier")
        for d in decl.children_by_field_name("declarator"):
            if d.type == "function_declarator":
                continue
            pointer = any(x.type in ("pointer_declarator", "reference_declarator") for x in hostaccess.all_nodes(d)) \
                and not any(x.type == "function_declarator" for x in hostaccess.all_nodes(d))
            # (a bare ``gs`` of ``static struct S gs;`` is its own declarator)
            name = text_of(data, d) if d.type == "identifier" else hostaccess.declared_identifier(d, data)
            if name and (pointer or not arithmetic):
                out.add(name)
    return out


@lru_cache(maxsize=4096)
def reaches_globals(data: bytes, language: Language, fname: str, depth: int = 0) -> bool:
    """See the module docstring: True unless ``fname`` is defined in this file and
    (through the functions it calls, a few deep) names no file-scope variable that may
    hold an address (``pointer_globals``), declares no static, and calls nothing but pure
    library calls and such functions."""
    if pure_call(fname):
        return False
    fnode = hostaccess.functions_by_name(data, language).get(fname.split("<")[0])
    if fnode is None or depth > 4:
        return True
    body = fnode.child_by_field_name("body")
    globals_ = unit_pointer_globals(data, language)
    for n in hostaccess.all_nodes(body) if body is not None else ():
        if n.type == "identifier" and text_of(data, n) in globals_:
            return True
        if n.type == "storage_class_specifier" and text_of(data, n) == "static":
            return True
        if n.type == "lambda_expression":
            return True
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            callee = text_of(data, fn) if fn is not None else ""
            if fn is None or fn.type not in ("identifier", "qualified_identifier", "template_function"):
                return True  # through a pointer, an object or a member
            if callee != fname and reaches_globals(data, language, callee, depth + 1):
                return True
    return False
