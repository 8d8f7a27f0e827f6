"""Helpers called in a nest, walked as if inlined (issue 15, cause 4).

``GradientX(phi, dx, ix, iy, iz)``, defined in the unit as ``return (phi[x+1][y][z] -
phi[x-1][y][z]) / (2*dx);``, reads ``phi`` at subscripts over its parameters.  Walking
the helper's body in place of the call, with each parameter standing for its argument
(``NestFacts.bindings``: the parameter's key -> the argument's node), turns those reads
into reads of the caller's array at the caller's subscripts, ``phi[ix+1][iy][iz]``; the
dependence test, the extents and the data plan then treat them like any other access.

``inline(w, call, callee, loops, stmt)`` walks the body and returns None, or says why it
cannot (the call is then refused as before).  What makes the substitution exact:

- an array or pointer parameter is given a plain array name of the same element type and
  the same extents after the first (``double p[][Y][X]`` and ``double a[N][Y][X]`` index
  the same elements with the same subscripts); inside the helper it is only subscripted
  and read, or passed on in the same way to another helper (the walk refuses a write
  through it, a use as a pointer value, a dereference);
- a scalar parameter is never assigned in the helper (a copy that changes would not stay
  equal to its argument); a reference parameter is refused;
- each parameter stands for its argument in the references that call's walk makes (they
  keep the call's bindings, ``ArrayRef.bindings``, which ``NestFacts.bound`` puts back
  when their subscripts and guards are read); a helper called twice with other arguments
  leaves its parameters ambiguous anywhere else (no affine value);
- the body has no loop (the nest's loops are the only ones an access may vary with) and
  no static variable; ``return e`` reads ``e``; every access inside counts as conditional,
  and what follows ``if (c) return e;`` is guarded by ``!c`` (``if (k >= n) return v[n-1];
  return v[k];`` reads ``v`` below ``n`` only).

The helper is still a call for the other checks: ``UserFunctions.check`` (calls.py) decides
whether it may be compiled for the device (its pointer parameters are allowed because this
walk read them), and the rewriter declares it ``declare target``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.calls import definition_node
from pcx_driver.engine.functors import enclosing_class, stateless_class
from pcx_driver.engine.hostaccess import declared_identifier_node
from pcx_driver.engine.semantics import Callee, Decl
from pcx_driver.engine.source import strip_parens, walk

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk

MAX_DEPTH = 4  # helpers calling helpers
LOOP_TYPES = ("for_statement", "while_statement", "do_statement", "for_range_loop")


def definition(w: Walk, callee: Callee) -> Node | None:
    """A function's definition; a method's only where its class has no data (the walk then
    refuses any use of ``this`` or a member: engine/functors.py)."""
    if callee.definition is None or not callee.in_main_file or callee.kind not in ("function", "method"):
        return None
    fn = definition_node(w.m, callee.definition)
    if fn is not None and callee.kind == "method" and not stateless_class(enclosing_class(fn), w.m):
        return None
    return fn


def parameters(w: Walk, fn: Node) -> list[Decl] | None:
    return parameter_decls(w.sem, w.t, fn)


def parameter_decls(sem, text, fn: Node) -> list[Decl] | None:
    """The declarations of ``fn``'s parameters, in order; None for a variadic function,
    a default argument or a parameter libclang did not declare."""
    decl = fn.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    if plist is None:
        return None
    out = []
    for p in plist.named_children:
        if p.type == "comment":
            continue
        if p.type != "parameter_declaration":
            return None  # variadic, default argument
        ident = declared_identifier_node(p)
        d = sem.decl_declared_at(ident.start_byte) if ident is not None else None
        if d is None:
            if text(p).strip() == "void":
                continue
            return None
        out.append(d)
    return out


def resolve(w: Walk, n: Node) -> Node:
    """The caller's node a parameter of an inlined helper stands for (helpers calling helpers)."""
    n = strip_parens(n) or n
    while n.type == "identifier":
        d = w.decl(n)
        if d is None or d.key not in w.facts.bindings:
            break
        n = strip_parens(w.facts.bindings[d.key]) or w.facts.bindings[d.key]
    return n


def inline(w: Walk, call: Node, callee: Callee, loops, stmt: Node | None) -> str | None:
    """Walk ``callee``'s body in place of ``call``; None, or why it cannot be."""
    name = callee.name
    if name in w.inlining or len(w.inlining) >= MAX_DEPTH:
        return f"'{name}' calls itself or nests helpers too deeply"
    fn = definition(w, callee)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None:
        return f"'{name}' has no definition in this file that can be walked"
    params = parameters(w, fn)
    args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
    if params is None or len(params) != len(args):
        return f"the parameters of '{name}' cannot be matched to the arguments"
    for x in walk(body):
        if x.type in LOOP_TYPES:
            return f"'{name}' has a loop (line {w.line(x)})"
    binds: dict[str, Node] = {}
    from pcx_driver.engine.calls import only_read

    for p, a in zip(params, args):
        if p.reference and p.shape == "record" and (target := _private_record(w, a, p)) is not None:
            # ``vec3 &m`` given ``v``, a struct of this iteration: ``m.x`` is ``v.x``
            if any(target in {w.t(x) for x in walk(b) if x.type == "identifier"} for b in args if b is not a):
                return f"'{target}' is passed to '{name}' by reference and otherwise"
            binds[p.key] = resolve(w, a)
            continue
        if p.reference and not (p.shape == "scalar" and (p.const or only_read(body, p.name, w.t))):
            return f"'{name}' takes '{p.name}' by reference"
        if p.shape == "pointer" and (target := _address_of_scalar(w, a, p)) is not None:
            # ``T *dx`` given ``&g``: ``*dx`` in the helper is ``g`` (the one way the walk lets
            # it be used), which no other argument may read
            if any(target in {w.t(x) for x in walk(b) if x.type == "identifier"} for b in args if b is not a):
                return f"'{target}' is passed to '{name}' both by address and otherwise"
            binds[p.key] = resolve(w, a)
            continue
        if p.shape == "pointer" and (target := private_struct_address(w, a, p)) is not None:
            # ``vec *c`` given ``&v``, v a struct of this iteration: ``c->x`` is ``v.x``
            if any(target in {w.t(x) for x in walk(b) if x.type == "identifier"} for b in args if b is not a):
                return f"'{target}' is passed to '{name}' both by address and otherwise"
            binds[p.key] = resolve(w, a)
            continue
        if p.shape in ("array", "pointer"):
            got = resolve(w, a)
            d = w.decl(got) if got.type == "identifier" else None
            if d is None or d.shape not in ("array", "pointer") or d.element_type != p.element_type \
                    or len(d.dims) != len(p.dims) or d.dims[1:] != p.dims[1:] or d.volatile:
                return (f"argument '{w.t(a)}' for the array parameter '{p.name}' of '{name}' is not an array "
                        "of the same element type and extents")
            binds[p.key] = got
        elif p.shape == "scalar":
            binds[p.key] = a
        else:
            return f"'{name}' takes '{p.name}' of type '{p.type_spelling}'"
    # Each call binds the parameters for the references its walk makes (they keep a copy,
    # ArrayRef.bindings); a parameter that another call of the helper bound to other
    # arguments is ambiguous for any reading that is not one reference's (loopfuzz seed
    # 9501133 read rdd(a3, i + 2, n) as a3[i] once rdd(a3, i, n) followed it, when the
    # nest kept one binding per parameter)
    for key, node in binds.items():
        old = w.facts.bindings.get(key)
        if old is not None and "".join(w.t(old).split()) != "".join(w.t(node).split()):
            w.facts.ambiguous.add(key)
    for p, a in zip(params, args):  # the arguments are evaluated in the caller
        if p.shape == "scalar":
            w.expr(a, loops, True, stmt)
    w.facts.bindings.update(binds)
    if not w.inlining:
        w.site = (call, stmt)
    w.inlining.append(name)
    depth = len(w.guards)
    try:
        for c in body.named_children:
            w.visit(c, loops, True, stmt, False)
            cond = _returns_when(c)
            if cond is not None:  # what follows runs only where the condition is false
                w.guards.append((cond, False))
    finally:
        w.inlining.pop()
        del w.guards[depth:]
        for key in binds.keys() & w.facts.ambiguous:  # no one value outside its references
            w.facts.bindings.pop(key, None)
    return None


def _address_target(w: Walk, n: Node) -> Node | None:
    """The identifier ``g`` where ``n`` (through the bindings) is ``&g``; None otherwise."""
    got = resolve(w, n)
    if got.type != "pointer_expression" or w.t(got.child_by_field_name("operator")) != "&":
        return None
    target = strip_parens(got.child_by_field_name("argument"))
    return target if target is not None and target.type == "identifier" else None


def _address_of_scalar(w: Walk, a: Node, p: Decl) -> str | None:
    """The name of the scalar ``&g`` whose address ``a`` is, of the element type of pointer
    parameter ``p``; None for anything else."""
    arg = _address_target(w, a)
    d = w.decl(arg) if arg is not None else None
    if d is None or d.shape != "scalar" or d.volatile or d.reference or p.dims != [None] \
            or " ".join(d.type_spelling.replace("const", "").split()) != " ".join(
                p.element_type.replace("const", "").split()):
        return None
    return d.name


def iteration_struct(w: Walk, n: Node | None) -> Decl | None:
    """The declaration of identifier ``n`` where it names a struct declared inside the
    nest (not a reference): each iteration's own.  None for anything else."""
    d = w.decl(n) if n is not None and n.type == "identifier" else None
    return d if d is not None and d.shape == "record" and d.key in w.facts.local_keys and not d.reference else None


def private_struct(w: Walk, a: Node) -> Node | None:
    """The identifier of the struct ``v`` whose address ``a`` is (``&v``, through the
    bindings of helpers walked as if inlined), ``v`` declared inside the nest: each
    iteration's own.  None for anything else."""
    arg = _address_target(w, a)
    d = iteration_struct(w, arg)
    return arg if d is not None and not d.volatile else None


def private_struct_address(w: Walk, a: Node, p: Decl) -> str | None:
    """The name of the struct ``v`` whose address ``a`` is (``&v``), ``v`` declared inside
    the nest with the pointee type of pointer parameter ``p``; None for anything else."""
    arg = private_struct(w, a)
    d = w.decl(arg) if arg is not None else None
    if d is None or p.dims != [None] or " ".join(d.element_type.replace("const", "").split()) != " ".join(
            p.element_type.replace("const", "").split()):
        return None
    return d.name


def _private_record(w: Walk, a: Node, p: Decl) -> str | None:
    """The name of the struct ``v`` that argument ``a`` names (through the bindings),
    declared inside the nest with the type reference parameter ``p`` binds; None for
    anything else (an element, a global, a struct of the caller's)."""
    d = iteration_struct(w, resolve(w, a))
    if d is None or d.volatile:
        return None
    if " ".join(d.type_spelling.replace("const", "").split()) != " ".join(p.type_spelling.replace("const", "").replace("&", "").split()):
        return None
    return d.name


def bound_private_record(w: Walk, n: Node) -> Node | None:
    """``m`` in a helper walked as if inlined, a reference parameter bound to a struct
    ``v`` declared in the nest (``_private_record``): ``v``'s identifier."""
    n = strip_parens(n)
    if n is None or n.type != "identifier" or not w.inlining:
        return None
    d = w.decl(n)
    if d is None or not d.reference or d.shape != "record" or d.key not in w.facts.bindings:
        return None
    got = resolve(w, n)
    return got if iteration_struct(w, got) is not None else None


def bound_private_struct(w: Walk, n: Node) -> Node | None:
    """``c`` in a helper walked as if inlined, where ``c`` stands for ``&v`` with ``v`` a
    struct declared in the nest (``private_struct_address``): ``v``'s identifier."""
    n = strip_parens(n)
    if n is None or n.type != "identifier" or not w.inlining:
        return None
    d = w.decl(n)
    return private_struct(w, n) if d is not None and d.key in w.facts.bindings else None


def dereferenced_scalar(w: Walk, n: Node) -> Node | None:
    """``*dx`` in a helper walked as if inlined, where ``dx`` stands for ``&g``: the
    caller's ``g`` (its identifier in the call's argument)."""
    if n.type != "pointer_expression" or w.t(n.child_by_field_name("operator")) != "*" or not w.inlining:
        return None
    arg = strip_parens(n.child_by_field_name("argument"))
    d = w.decl(arg) if arg is not None and arg.type == "identifier" else None
    if d is None or d.key not in w.facts.bindings:
        return None
    return _address_target(w, arg)


def _returns_when(st: Node) -> Node | None:
    """The condition of ``if (c) return e;`` (or a block ending in a return), with no else."""
    return leaves_when(st, ("return_statement",))


def leaves_when(st: Node, jumps: tuple[str, ...]) -> Node | None:
    """The condition of ``if (c) <jump>;`` (or a block ending in one of ``jumps``), with no
    else: what follows ``st`` in its block runs only where the condition is false."""
    if st.type != "if_statement" or st.child_by_field_name("alternative") is not None:
        return None
    then = st.child_by_field_name("consequence")
    if then is not None and then.type == "compound_statement":
        inner = [c for c in then.named_children if c.type != "comment"]
        then = inner[-1] if inner else None
    return st.child_by_field_name("condition") if then is not None and then.type in jumps else None
