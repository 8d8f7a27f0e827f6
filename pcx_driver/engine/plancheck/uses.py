"""Host uses: what each piece of host code does to the buffers the plan checker tracks.

``host_accesses`` lists, in evaluation order, every use of a tracked name: a read or a
write of a section, a new binding of a pointer, a swap, a call into a function with
device code, a call into another file, or an address stored where the checker cannot
follow it.  The checks at host code (``host.py``) apply them to the state.
"""

from __future__ import annotations

import tree_sitter

from pcx_driver.engine import escapes, hostaccess
from pcx_driver.engine.hostaccess import text_of
from pcx_driver.engine.plancheck.facts import UnitFacts
from pcx_driver.engine.plancheck.reach import CASTS
from pcx_driver.engine.plancheck.state import State
from pcx_driver.engine.plancheck.syntax import declaration_of, declared_name, function_named, preorder, strip
from pcx_driver.engine.source import arguments_of
from pcx_driver.engine.symsect import WHOLE, add, freeze, lin_node, subst
from pcx_driver.model import Language

_READ_ONLY_CALLS = frozenset(
    "printf fprintf puts fputs putchar sqrt sqrtf fabs fabsf exp expf log logf sin cos tan pow powf "
    "floor ceil fmin fmax abs labs memcmp strlen".split())


def _declared_object(param: tree_sitter.Node) -> bool:
    """``param`` belongs to a function declarator of a declaration inside a body: a local
    object's construction as tree-sitter reads it."""
    plist = param.parent
    fd = plist.parent if plist is not None else None
    decl = fd.parent if fd is not None and fd.type == "function_declarator" else None
    return decl is not None and decl.type == "declaration" and decl.parent is not None and \
        decl.parent.type != "translation_unit"


def host_accesses(facts: UnitFacts, node: tree_sitter.Node, st: State):
    """(kind, name, section, sure, byte) for every use of a tracked name in ``node``,
    in evaluation order: reads before the write of the same statement."""
    out: list = []
    names = st.names()
    writes: list = []
    for n in preorder(node):
        t = n.type
        if t == "call_expression":
            fn = n.child_by_field_name("function")
            callee = text_of(facts.data, fn) if fn is not None else ""
            if callee in facts.device_functions():
                cnode = function_named(facts.data, facts.lang, callee)
                used = hostaccess.identifiers_in(cnode, facts.data) if cnode is not None else set()
                for g in sorted(facts.file_scope & used & set(names)):
                    args = n.child_by_field_name("arguments")
                    out.append(("call", g, (callee, g, facts.argument_forms(args), argument_roots(args, facts.data)),
                                False, n.start_byte))
            elif callee in facts.foreign_functions:
                # a function of the user's other files: compiled by pcx too, its kernels would
                # find a global this region holds on the device (a held-out NPB SP build), or
                # an array stored where it finds it (``gp = a; touch(n);``, a held-out check)
                for g in sorted((facts.shared_globals | facts.reach.reachable) & set(names)):
                    out.append(("extern", g, callee, False, n.start_byte))
            if facts.reach.reachable and callee not in facts.device_functions() and \
                    _may_reach_globals(facts, fn, callee):
                # what the caller (or this function, through a call that kept it) may have
                # stored where the callee finds it: read and written whole (reach.py)
                for g in sorted(facts.reach.reachable & set(names)):
                    out.append(("read", g, WHOLE, False, n.start_byte))
                    writes.append(("write", g, WHOLE, False, n.start_byte))
            continue
        if t == "type_identifier" and facts.lang is Language.CXX and n.parent is not None and \
                n.parent.type == "parameter_declaration" and _declared_object(n.parent):
            # ``std::vector<double> tmp(u);``: tree-sitter reads a construction from ``u``
            # as a declaration of a function taking a ``u``; the object may keep a reference
            text = facts.canonical(text_of(facts.data, n))
            if text in names:
                out.append(("escape", text, WHOLE, False, n.start_byte))
            continue
        if t not in ("identifier", "field_expression"):
            continue
        text = facts.canonical(text_of(facts.data, n))
        if text not in names:
            continue
        if n.parent is not None and n.parent.type == "field_expression" and n.parent.child_by_field_name("field") == n:
            continue
        classify(facts, n, text, names, out, writes)
    return out + writes


def _may_reach_globals(facts: UnitFacts, fn: tree_sitter.Node | None, callee: str) -> bool:
    """May a call of ``callee`` touch memory a file-scope variable holds (and so what the
    caller stored there)?  Not a pure library call, a pure macro, a macro that is its
    argument (``POLYBENCH_ARRAY(A)``), a C++ cast or a size query."""
    if fn is None or escapes.pure_call(callee) or callee in facts.pure_macros or callee in facts.identity_macros \
            or callee.startswith(CASTS):
        return False
    if fn.type == "field_expression" and text_of(facts.data, fn.child_by_field_name("field")) in escapes.SIZE_QUERIES:
        return False
    return escapes.reaches_globals(facts.data, facts.lang, callee)


def classify(facts: UnitFacts, n: tree_sitter.Node, name: str, names: dict, out: list, writes: list) -> None:
    data = facts.data
    p = n.parent
    # climb subscripts: a[i][j]
    top = n
    idx: list[tree_sitter.Node] = []
    while top.parent is not None and top.parent.type == "subscript_expression" and \
            top.parent.child_by_field_name("argument") == top:
        top = top.parent
        i = top.child_by_field_name("index")
        if i is None:  # tree-sitter-cpp: subscript_argument_list
            args = [c for c in top.named_children if c.type == "subscript_argument_list"]
            i = args[0].named_children[0] if args and args[0].named_children else None
        idx.append(i)
    sect = WHOLE
    if idx:
        dims = []
        for i in idx:
            form = lin_node(i, data) if i is not None else None
            form = None if form is None else subst(freeze(form), facts.defs)
            dims.append((None, None) if form is None else (form, add(form, ((((), 1),)))))
        sect = tuple(dims) if any(d != (None, None) for d in dims) else WHOLE
    parent = top.parent
    at = n.start_byte
    if idx:
        # element access: written when it is the target of an assignment or ++/--
        while parent is not None and parent.type in ("field_expression", "parenthesized_expression") and \
                parent.child_by_field_name("field") != top:
            top, parent = parent, parent.parent
            sect = sect  # a member of the element: the element is touched
        if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("left") == top:
            op = parent.child_by_field_name("operator")
            if op is not None and op.type != "=":
                out.append(("read", name, sect, False, at))
            writes.append(("write", name, sect, top == n or top.type == "subscript_expression", at))
            return
        if parent is not None and parent.type == "update_expression":
            out.append(("read", name, sect, False, at))
            writes.append(("write", name, sect, True, at))
            return
        if parent is not None and parent.type == "pointer_expression" and text_of(data, parent).startswith("&"):
            pointer_use(facts, parent, name, names, out, writes)
            return
        if facts.lang is Language.CXX and parent is not None:
            if parent.type == "init_declarator" and parent.child_by_field_name("value") == top and \
                    getattr(parent.child_by_field_name("declarator"), "type", "") == "reference_declarator":
                out.append(("escape", name, WHOLE, False, at))  # ``double& r = u[0];``
                return
            if parent.type == "argument_list":
                call = parent.parent
                fn = call.child_by_field_name("function") if call is not None else None
                if fn is not None and text_of(data, fn) not in _READ_ONLY_CALLS | hostaccess.READ_ONLY_STD:
                    # ``inc(u[0])``: a reference parameter may write the element
                    out.append(("read", name, sect, False, at))
                    writes.append(("write", name, sect, False, at))
                    return
        out.append(("read", name, sect, False, at))
        return
    # the pointer or array itself
    containers = set(facts.aliases.values())
    if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("left") == n:
        right = strip(parent.child_by_field_name("right"))
        rname = facts.canonical(text_of(data, right)) if right is not None else ""
        if {name, rname} & containers:  # ``v = u`` copies the elements and may reallocate v
            if rname in names:
                out.append(("read", rname, WHOLE, False, at))
            out.append(("escape", name, WHOLE, False, at))
            return
        op = parent.child_by_field_name("operator")
        if op is not None and op.type != "=":
            return  # ``c += 5``: still a pointer into the buffer it named (a held-out check)
        if right is not None and right.type == "binary_expression" and \
                getattr(right.child_by_field_name("operator"), "type", "") in ("+", "-"):
            base = [facts.canonical(text_of(data, strip(x))) for x in (right.child_by_field_name("left"),
                                                                       right.child_by_field_name("right"))
                    if x is not None]
            rname = next((b for b in base if b in names), rname)  # ``c = c + 5``, ``c = b + 5``
        out.append(("bind", name, names.get(rname, frozenset([f"{name}@{n.start_byte}"])), False, at))
        return
    owner = declaration_of(n)
    if owner is not None:  # ``T *name = value;`` or ``T name[N];``
        value = strip(owner.child_by_field_name("value")) if owner.type == "init_declarator" else None
        rname = facts.canonical(text_of(data, value)) if value is not None else ""
        declarator = owner.child_by_field_name("declarator") if owner.type == "init_declarator" else None
        if rname in containers and rname in names and getattr(declarator, "type", "") != "reference_declarator":
            # ``std::vector<double> z = u;``: a copy of u's elements in a buffer of its own
            out.append(("read", rname, WHOLE, False, at))
            out.append(("bind", name, frozenset([f"{name}@{n.start_byte}"]), False, at))
            return
        out.append(("bind", name, names.get(rname, frozenset([f"{name}@{n.start_byte}"])), False, at))
        return
    if parent is not None and parent.type == "field_expression" and parent.child_by_field_name("argument") == n:
        field = parent.child_by_field_name("field")
        method = text_of(data, field) if field is not None else ""
        if method in escapes.SIZE_QUERIES:
            return
        if method == "data" and parent.parent is not None and parent.parent.type == "call_expression":
            pointer_use(facts, parent.parent, name, names, out, writes)  # ``v.data()`` is v's buffer
            return
        out.append(("read", name, WHOLE, False, at))  # a container's other members
        writes.append(("write", name, WHOLE, False, at))
        return
    if parent is not None and parent.type in ("sizeof_expression", "delete_expression"):
        return
    if parent is not None and parent.type == "pointer_expression" and text_of(data, parent).startswith("*") and \
            _climb_parens(parent).parent is not None and _climb_parens(parent).parent.type == "argument_list":
        # ``init(n, *A)`` of a pointer to a whole array: the call is given the array A
        # points to (the planner's ``pointee_passed``), not its first element's value
        pointer_use(facts, parent, name, names, out, writes)
        return
    if parent is not None and parent.type == "pointer_expression" and text_of(data, parent).startswith("*"):
        sect = ((freeze({(): 0}), freeze({(): 1})),)
        gp = parent.parent
        if gp is not None and gp.type == "assignment_expression" and gp.child_by_field_name("left") == parent:
            writes.append(("write", name, sect, True, at))
        else:
            out.append(("read", name, sect, False, at))
        return
    pointer_use(facts, n, name, names, out, writes)


def _climb_parens(n: tree_sitter.Node) -> tree_sitter.Node:
    while n.parent is not None and n.parent.type == "parenthesized_expression":
        n = n.parent
    return n


def pointer_use(facts: UnitFacts, n: tree_sitter.Node, name: str, names: dict, out: list, writes: list) -> None:
    """The array's address is used: passed to a call, stored, compared, offset."""
    data = facts.data
    at = n.start_byte
    cur = n
    while True:
        while cur.parent is not None and cur.parent.type in ("parenthesized_expression", "cast_expression",
                                                             "binary_expression"):
            if cur.parent.type == "binary_expression":
                op = cur.parent.child_by_field_name("operator")
                if op is not None and op.type in ("==", "!=", "<", ">", "<=", ">="):
                    return  # pointer comparison (a null test)
            cur = cur.parent
        call = cur.parent.parent if cur.parent is not None and cur.parent.type == "argument_list" else None
        fn = call.child_by_field_name("function") if call is not None else None
        if fn is None or text_of(data, fn) not in facts.identity_macros or len(arguments_of(cur.parent)) != 1:
            break
        cur = call  # ``POLYBENCH_ARRAY(A)``: the array itself (or what A points to), used on
    parent = cur.parent
    if parent is not None and parent.type == "init_declarator" and parent.child_by_field_name("value") == cur:
        if facts.canonical(declared_name(parent, data) or "") in names:
            return  # the declared pointer follows this buffer (a bind)
    if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("right") == cur:
        left = parent.child_by_field_name("left")
        if left is not None and facts.canonical(text_of(data, left)) in names:
            return
    if parent is not None and parent.type == "argument_list":
        call = parent.parent
        fn = call.child_by_field_name("function") if call is not None else None
        fname = text_of(data, fn) if fn is not None else ""
        if fname == "free":
            return

        argv = arguments_of(parent)
        if fname in ("std::swap", "swap") and len(argv) == 2:
            a, b = (facts.canonical(text_of(data, c)) for c in argv)
            if a in names and b in names:
                if cur.id == argv[0].id:  # once per call
                    out.append(("swap", a, b, False, at))
                return
        if fname in facts.device_functions():
            out.append(("call", name, (fname, [c.id for c in argv].index(cur.id),
                                       facts.argument_forms(parent), argument_roots(parent, facts.data)), False, at))
            return
        if fname in _READ_ONLY_CALLS or facts.read_only_param(fname, parent, cur):
            out.append(("read", name, WHOLE, False, at))
            return
        if hostaccess.unseen_call(facts.data, facts.lang, fname):
            out.append(("extern", name, fname, False, at))  # may offload with our data present
        out.append(("read", name, WHOLE, False, at))
        writes.append(("write", name, WHOLE, False, at))
        return
    if parent is not None and parent.type in ("if_statement", "while_statement", "condition_clause",
                                              "unary_expression", "return_statement"):
        if parent.type == "return_statement":
            out.append(("read", name, WHOLE, False, at))
        return
    out.append(("escape", name, WHOLE, False, at))


def argument_roots(args: tree_sitter.Node | None, data: bytes) -> list[str | None]:
    """Each argument of a call that is a plain name (``a``, ``(double *) a``), that name;
    None for any other (``a + 1`` points elsewhere in a's buffer)."""
    out = []
    for a in arguments_of(args):
        a = strip(a)
        out.append(text_of(data, a) if a is not None and a.type == "identifier" else None)
    return out
