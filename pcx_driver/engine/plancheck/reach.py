"""Other names for tracked buffers: where host code may reach a buffer without naming it.

The walk follows a buffer through its own name and the pointer copies it tracks.  A data
region is checkable only if nothing else reaches what it maps, so every occurrence of a
tracked name in host code must be one of the forms the walk follows:

- an element (``v[i]``, ``*v``, ``v.at(i)``, ``v.data()[i]``) read or written, its address
  not taken and no reference bound to it;
- a size query, ``free``/``delete``, ``sizeof``, a comparison, a condition, a return;
- a declaration, or a copy into another tracked name;
- an argument of a library call that keeps nothing (``escapes.PURE_CALLS``,
  ``escapes.NON_KEEPING``), of a call whose result is dropped or is a number.

Anything else (``g = v``, ``s.p = v``, ``q = id(v)``, ``&v.at(0)``, ``std::begin(v)``,
``std::ref(v)``, a lambda capturing it, ``T& r = v[0]``) is a *hard* escape: a region that
maps the buffer fails PCX216.  So does a region that maps a pointer taken from a member of
a struct (``double *v = s.v;``, ``hostaccess.member_borrow``) while the function names that
struct inside it (``directives.enter_region``); such a pointer is ``reachable`` too.  An argument of a call of the file, its result dropped or a
number, may still be kept by the callee where only code reaching globals finds it: such
buffers, the function's parameters (the caller may have stored them) and file-scope
buffers are ``reachable``, and a host call that may reach globals
(``escapes.reaches_globals``) reads and writes them whole while they are present.

This deliberately repeats the planner's question (``escapes.alias_site``) in the
checker's own, simpler terms: the two must agree for a plan to pass, so a hole in one is
caught by the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter

from pcx_driver.engine import escapes, hostaccess
from pcx_driver.engine.hostaccess import text_of
from pcx_driver.engine.plancheck.syntax import by_value, declaration_of, declared_name, function_named, preorder
from pcx_driver.engine.source import arguments_of
from pcx_driver.model import Language

KEPT = "kept"  # _Occurrences.how: a callee may have kept it where only globals lead
CASTS = ("static_cast<", "const_cast<", "reinterpret_cast<", "dynamic_cast<")
_THROUGH = frozenset({"parenthesized_expression", "cast_expression"})
_CONTAINER_ELEMENT = frozenset({"at", "front", "back", "operator[]"})
_CONTAINER_ADDRESS = frozenset({"data", "begin", "end", "cbegin", "cend", "rbegin", "rend"})


@dataclass
class Reach:
    """What other names may reach of a function's tracked buffers."""

    hard: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (line, how)
    reachable: set[str] = field(default_factory=set)  # names a call reaching globals may touch


def reach_of(facts, fnode: tree_sitter.Node, names: set[str], fname: str) -> Reach:
    """``Reach`` of ``names`` (canonical tracked names) in function ``fnode`` (``fname``);
    the plan's kernels there are skipped, whose accesses the walk checks itself."""
    kernels = [(k.start_byte, k.end_byte) for k in facts.plan.offloaded() if k.function == fname]
    out = Reach()
    occ = _Occurrences(facts, fnode, names)
    for n in preorder(fnode.child_by_field_name("body")):
        if n.type not in ("identifier", "field_expression") or any(lo <= n.start_byte < hi for lo, hi in kernels):
            continue
        name = facts.canonical(text_of(facts.data, n))
        if name not in names or (n.parent is not None and n.parent.type == "field_expression"
                                 and n.parent.child_by_field_name("field") == n):
            continue
        how = occ.how(n)
        if how == KEPT:
            out.reachable.add(name)
        elif how is not None and name not in out.hard:
            out.hard[name] = (n.start_point[0] + 1, how)
    for name in sorted(names):  # ``double *v = s.v;``: the struct still holds it (directives.py
        if hostaccess.member_borrow(fnode, name, facts.data) is not None:  # checks its uses)
            out.reachable.add(name)
    params = set(hostaccess.param_names(fnode, facts.data))
    out.reachable |= {n for n in names if n in params or n in facts.file_scope or "." in n or "->" in n}
    return out


def _climb(n: tree_sitter.Node, through: frozenset[str]) -> tree_sitter.Node:
    while n.parent is not None and n.parent.type in through:
        n = n.parent
    return n


class _Occurrences:
    """Classifies occurrences of tracked names in one function."""

    def __init__(self, facts, fnode: tree_sitter.Node, names: set[str], depth: int = 0,
                 kept: dict | None = None) -> None:
        self.facts = facts
        self.depth = depth  # callees asked about inside one another (``keeps``)
        self.kept: dict[tuple[str, int], bool] = {} if kept is None else kept
        self.data = facts.data
        self.fnode = fnode
        self.names = names
        self.scalars = frozenset(escapes.arithmetic_names(fnode, facts.data))
        # (a callable variable called with a buffer may keep it in what it captures)
        self.locals_ = frozenset(hostaccess.locally_declared(fnode, facts.data))

    def how(self, n: tree_sitter.Node) -> str | None:
        """None where the walk follows occurrence ``n``; KEPT where a callee may keep it;
        else why another name may reach the buffer."""
        up = n.parent
        while up is not None and up.id != self.fnode.id:
            if up.type == "lambda_expression":
                return "a lambda captures it"
            up = up.parent
        if declaration_of(n) is not None or (n.parent is not None and n.parent.type == "function_declarator"
                                             and n.parent.child_by_field_name("declarator") == n):
            return None  # (``std::vector<double> u(N);`` reads as a function's declaration)
        if n.parent is not None and n.parent.type == "argument_list" and n.parent.parent is not None and \
                n.parent.parent.start_byte in self.facts.declaring_uses:
            return None  # ``POLYBENCH_2D_ARRAY_DECL(A, ...)``: declared and assigned an allocation there
        top = _climb(n, frozenset({"parenthesized_expression"}))
        parent = top.parent
        if parent is None:
            return None
        if parent.type == "subscript_expression" and parent.child_by_field_name("argument") == top:
            return self.element(parent)
        if parent.type == "pointer_expression" and text_of(self.data, parent)[:1] == "*":
            return self.element(parent)
        if parent.type == "pointer_expression" and hostaccess.posix_memalign_of(parent, self.data) is not None:
            return None  # ``posix_memalign((void **)&t, ...)``: an allocation into it
        if parent.type == "field_expression" and parent.child_by_field_name("argument") == top:
            method = text_of(self.data, parent.child_by_field_name("field"))
            call = parent.parent if parent.parent is not None and parent.parent.type == "call_expression" else None
            if method in escapes.SIZE_QUERIES:
                return None
            if call is not None and method in _CONTAINER_ELEMENT:
                return self.element(call)
            if call is not None and method in _CONTAINER_ADDRESS:
                return self.pointer(call)
            return None  # push_back, resize, ...: the walk reads and writes the container whole
        return self.pointer(top)

    def element(self, access: tree_sitter.Node) -> str | None:
        """An element: followed, unless its address is taken or a reference binds it."""
        top = _climb(access, frozenset({"parenthesized_expression", "subscript_expression", "field_expression"}))
        parent = top.parent
        if parent is None:
            return None
        if parent.type == "pointer_expression" and text_of(self.data, parent)[:1] == "&":
            return self.pointer(parent)
        if parent.type == "init_declarator" and parent.child_by_field_name("value") == top:
            d = parent.child_by_field_name("declarator")
            if d is not None and d.type == "reference_declarator":
                return "a reference binds an element"
        if parent.type == "argument_list" and self.facts.lang is not Language.C:
            fn = parent.parent.child_by_field_name("function") if parent.parent is not None else None
            fname = text_of(self.data, fn) if fn is not None else ""
            if fname.startswith(CASTS) and "&" not in fname:
                return None  # ``static_cast<long>(b[0])``: a value
            argv = [a.id for a in arguments_of(parent)]
            refs = self.facts.reference_args.get(parent.parent.start_byte)  # (libclang's, a header's callee too)
            if top.id in argv and (argv.index(top.id) not in refs if refs is not None
                                   else self.by_value(fname, argv.index(top.id))):
                return None  # ``dFphi(u[i], lambda)`` of ``double dFphi(double u, ...)``: a copy
            return self.pointer(top)  # a reference parameter (``std::addressof(v[0])``) takes its address
        return None

    def pointer(self, p: tree_sitter.Node) -> str | None:
        """An address (the buffer, an element's address, an iterator): where does it go?"""
        data, what = self.data, f"'{text_of(self.data, p)}'"
        cur = p
        while cur.parent is not None and cur.parent.type in _THROUGH | {"binary_expression", "conditional_expression"}:
            if cur.parent.type == "binary_expression":
                op = cur.parent.child_by_field_name("operator")
                if op is not None and op.type in ("==", "!=", "<", ">", "<=", ">=", "-"):
                    return None  # compared, or a distance between two addresses
            cur = cur.parent
        parent = cur.parent
        if parent is None:
            return None
        t = parent.type
        if t == "subscript_expression" and parent.child_by_field_name("argument") == cur:
            return self.element(parent)
        if t == "pointer_expression" and text_of(data, parent)[:1] == "*":
            return self.element(parent)
        if t == "comma_expression":  # its value is its last operand's
            return self.pointer(parent) if parent.child_by_field_name("right") == cur else None
        if t == "for_statement" and parent.child_by_field_name("condition") != cur:
            return None  # an initialiser or update of its own: the value is dropped
        if t == "return_statement" and self.depth > 0:
            return "returned"  # a callee's result: the caller may keep it
        if t in ("return_statement", "if_statement", "while_statement", "condition_clause", "unary_expression",
                 "sizeof_expression", "delete_expression", "expression_statement"):
            return None
        if t == "init_declarator" and parent.child_by_field_name("value") == cur:
            d = declared_name(parent, data) or ""
            return None if self.facts.canonical(d) in self.names else f"'{d}' takes {what}"
        if t == "assignment_expression" and parent.child_by_field_name("left") == cur:
            return None  # the pointer itself is set: the walk follows the new binding
        if t == "assignment_expression" and parent.child_by_field_name("right") == cur:
            left = text_of(data, parent.child_by_field_name("left"))
            if self.facts.canonical(left) not in self.names:
                return f"'{left}' takes {what}"
            return self.pointer(parent)  # ``q = r = v``: the assignment's value goes on
        if t == "argument_list":
            call = parent.parent
            fn = call.child_by_field_name("function") if call is not None else None
            fname = text_of(data, fn) if fn is not None else ""
            if fname in self.facts.identity_macros:  # ``POLYBENCH_ARRAY(A)`` is A
                return self.pointer(call)
            if escapes.pure_call(fname) or fname in escapes.NON_KEEPING:
                return None
            argv = [a.id for a in arguments_of(parent)]
            if cur.id in argv and not self.keeps(fname, argv.index(cur.id)):
                return None
            if not self.number_or_dropped(call, fname):
                return f"'{text_of(data, call)}' may return {what}"
            holder = escapes.implicit_holder(fn, data, self.locals_)
            if holder is not None:
                return f"'{text_of(data, call)}' may store {what} in {holder}"
            if any(a.id != cur.id and not escapes.plain_value(a, data, self.scalars) for a in arguments_of(parent)):
                return f"'{text_of(data, call)}' may store {what} where another argument reaches"
            return KEPT
        return f"{what} is stored or passed where the checker cannot follow it"

    def by_value(self, fname: str, position: int) -> bool:
        """``syntax.by_value``: an element passed there is copied, and the callee cannot
        reach the buffer through it."""
        return by_value(self.data, self.facts.lang, fname, position)

    def keeps(self, fname: str, position: int) -> bool:
        """May function ``fname`` of this file keep its ``position``-th argument: does any
        occurrence of that parameter in its body go anywhere but to its elements (or to
        functions that do not keep it, a few calls deep)?  True for a function this file
        does not define."""
        fnode = function_named(self.data, self.facts.lang, fname)
        if fnode is None or self.depth >= 4:
            return True
        params = hostaccess.param_names(fnode, self.data)
        if position >= len(params) or not params[position]:
            return True
        key = (fname, position)
        if key not in self.kept:
            self.kept[key] = True  # (recursion: assumed kept while asked)
            inner = _Occurrences(self.facts, fnode, {params[position]}, self.depth + 1, self.kept)
            self.kept[key] = any(inner.how(n) is not None for n in preorder(fnode.child_by_field_name("body"))
                                 if n.type == "identifier" and text_of(self.data, n) == params[position])
        return self.kept[key]

    def number_or_dropped(self, call: tree_sitter.Node, fname: str) -> bool:
        """The call's result is dropped, or is a number: its definition returns an arithmetic
        type, it initialises an arithmetic variable, or a pure call takes it."""
        up = _climb(call, _THROUGH)
        parent = up.parent
        if parent is not None and parent.type in ("expression_statement", "comma_expression"):
            return True
        if parent is not None and parent.type == "argument_list" and parent.parent is not None:
            fn = parent.parent.child_by_field_name("function")
            if fn is not None and escapes.pure_call(text_of(self.data, fn)):
                return True  # ``printf("%f", checksum(a, n))``
        if parent is not None and parent.type == "init_declarator" and parent.parent is not None:
            d = parent.child_by_field_name("declarator")
            ty = parent.parent.child_by_field_name("type")
            if d is not None and d.type == "identifier" and ty is not None and \
                    ty.type in ("primitive_type", "sized_type_specifier"):
                return True  # ``double s = checksum(a, n);``
        fnode = function_named(self.data, self.facts.lang, fname)
        ty = fnode.child_by_field_name("type") if fnode is not None else None
        d = fnode.child_by_field_name("declarator") if fnode is not None else None
        return ty is not None and ty.type in ("primitive_type", "sized_type_specifier") and \
            d is not None and d.type == "function_declarator"
