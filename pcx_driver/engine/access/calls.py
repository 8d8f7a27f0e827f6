"""Calls in a nest: functions, container methods, casts and function-like macros."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.access import arrays, footprint, inline, names
from pcx_driver.engine.access.facts import CallRef
from pcx_driver.engine.calls import is_cast_call
from pcx_driver.engine.functors import method_callee
from pcx_driver.engine.hostaccess import function_name
from pcx_driver.engine.macros import access_macro, access_use_problem, use_problem
from pcx_driver.engine.source import strip_parens

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk

GROWING_METHODS = frozenset(
    {"push_back", "emplace_back", "pop_back", "resize", "reserve", "insert", "emplace", "erase",
     "clear", "assign", "shrink_to_fit", "swap", "append"}
)
READONLY_METHODS = frozenset({"size", "data", "empty", "capacity", "max_size"})


def call(w: Walk, n: Node, loops, cond, stmt, header_of) -> None:
    f = n.child_by_field_name("function")
    args = n.child_by_field_name("arguments")
    callee = w.sem.callee_of(n.start_byte, n.end_byte)
    if f is not None and f.type == "field_expression":
        obj = strip_parens(f.child_by_field_name("argument"))
        method = w.t(f.child_by_field_name("field"))
        obj_decl = w.decl(obj) if obj is not None and obj.type == "identifier" else None
        if obj is not None and obj.type == "this":
            w.hazard("PCX137", f"member function '{method}' of this object called inside the nest", n)
            return
        if obj_decl is not None and obj_decl.shape == "container":
            if method in GROWING_METHODS:
                w.hazard("PCX135", f"'{obj_decl.name}.{method}()' may grow or reallocate the container", n)
            elif method == "at":
                w.hazard("PCX132", f"'{obj_decl.name}.at()' may throw", n)
            elif method == "size":
                w.facts.container_sizes.append((obj_decl.name, n))
            elif method == "data":
                w.hazard("PCX118", f"'{obj_decl.name}.data()' used other than as a subscript base", n)
            elif method not in READONLY_METHODS:
                w.hazard("PCX118", f"container method '{obj_decl.name}.{method}()' inside the nest", n)
            if args is not None:
                for a in args.named_children:
                    w.expr(a, loops, cond, stmt, header_of)
            return
        if callee is not None and callee.is_virtual:
            w.hazard("PCX131", f"virtual call '{w.t(f)}()' inside the nest", n)
            return
        member = w.sem.accessor_at(n.start_byte, n.end_byte)
        if member is not None and arrays.accessor_access(w, n, member, loops, cond, stmt, True, False, ""):
            return
        functor = _functor_callee(w, n, obj_decl, method)
        if functor is None:
            w.hazard("PCX105", f"method call '{w.t(f)}()' inside the nest", n)
            return
        _functor_call(w, n, w.t(f), functor, loops, stmt)
        return
    name = w.t(f) if f is not None else "?"
    if _is_cast(w, n, f):
        # "(DATA_TYPE) (e)" with a macro or typedef type, "Real_t(e)": libclang says cast,
        # and a cast reads its operand and nothing else
        if args is not None:
            for a in args.named_children:
                w.expr(a, loops, cond, stmt, header_of)
        return
    if name.startswith(("static_cast<", "const_cast<", "std::move", "std::forward")):
        if args is not None:  # a conversion, not a call
            for a in args.named_children:
                w.expr(a, loops, cond, stmt, header_of)
        return
    if name.startswith(("reinterpret_cast<", "dynamic_cast<", "std::bit_cast")):
        w.hazard("PCX118", f"'{name.split('<')[0]}' inside the nest cannot be analysed", n)
        return
    if f is not None and f.type == "identifier":
        d = w.decl(f)
        functor = _functor_callee(w, n, d, "operator()") if d is not None and d.kind != "function" and w.m.is_cxx \
            else None
        if functor is not None:  # ``op(a, b)`` of an object of a class with no data
            _functor_call(w, n, name, functor, loops, stmt)
            return
        if d is not None and d.kind != "function":
            if w.m.is_cxx:
                w.hazard("PCX130", f"call through '{name}', a function pointer or function object", n)
            else:
                w.hazard("PCX105", f"call through function pointer '{name}'", n)
            return
        if w.sem.macro_at(f.start_byte) is not None:
            _macro_call(w, n, name, args, loops, cond, stmt, header_of)
            return
    elif f is not None and f.type not in ("qualified_identifier", "template_function"):
        w.hazard("PCX130", f"call through expression '{name}'", n)
        return
    if callee is not None and callee.kind == "other":
        w.hazard("PCX130", f"call to function object '{name}'", n)
        return
    if name in SINCOS and _sincos_into_privates(w, n, args, loops, cond, stmt, header_of):
        return
    ref = CallRef(n, name, callee, loops)
    w.facts.calls.append(ref)
    passed = [d for d in map(_passed_array(w), args.named_children if args is not None else []) if d is not None]
    why = None
    if (passed or _private_struct_passed(w, args)) and callee is not None:
        why = inline.inline(w, n, callee, loops, stmt)
        if why is None:
            ref.inlined = True
            return
    writes = False
    if callee is not None and args is not None:
        windows_why = footprint.windowed(w, callee, args.named_children, loops, cond, stmt, header_of)
        if windows_why is None:
            ref.windowed = True
            return
        writes = footprint.writes_through_parameters(w, callee)
        why = windows_why if writes or not why else why
    if callee is not None and args is not None and not writes and footprint.read_whole(w, callee, args.named_children, loops, cond,
                                                                        stmt, header_of):
        ref.footprint = True  # legality checks that the helper only reads them
        return
    if writes and not passed:  # a place in an array passed to a helper that writes through it
        w.hazard("PCX105", f"call to '{name}': {why}", n)
        return
    if args is not None:
        for a in args.named_children:
            d = _passed_array(w)(a)
            if d is not None:
                w.hazard("PCX105", f"array '{d.name}' is passed to '{name}', which may access it"
                         + (f" ({why})" if why else ""), n)
                continue
            w.expr(a, loops, cond, stmt, header_of)


#: libm's sine-and-cosine, which stores its two results through pointers
SINCOS = frozenset({"sincos", "sincosf", "sincosl", "__sincos", "__sincosf"})


def _sincos_into_privates(w: Walk, n: Node, args: Node | None, loops, cond, stmt, header_of) -> bool:
    """``sincosf(x, &s, &c)`` with ``s`` and ``c`` scalars declared in the nest (each
    iteration's own): a read of ``x`` and a write of each (HeCBench lombscargle, rodrigues).
    False (nothing recorded) for any other form."""
    named = [strip_parens(a) for a in (args.named_children if args is not None else []) if a.type != "comment"]
    if len(named) != 3:
        return False
    targets = []
    for p in named[1:]:
        if p is None or p.type != "pointer_expression" or w.t(p.child_by_field_name("operator")) != "&":
            return False
        t = strip_parens(p.child_by_field_name("argument"))
        d = w.decl(t) if t is not None and t.type == "identifier" else None
        if d is None or d.shape != "scalar" or not d.floating or d.reference or d.key not in w.facts.local_keys:
            return False
        targets.append(t)
    w.expr(named[0], loops, cond, stmt, header_of)
    for t in targets:
        names.ident(w, t, loops, cond, stmt, read=False, write=True, op="=", assign=n, header_of=header_of)
    return True


def _private_struct_passed(w: Walk, args: Node | None) -> bool:
    """Whether a call passes ``&v`` or ``v``, ``v`` a struct declared in the nest (a helper
    such as ``vnormalize(&v)``, or Rodinia cfd's ``compute_velocity(d, momentum, velocity)``
    taking ``float3 &``, then works on the iteration's own copy, walked as if inlined)."""
    for a in (args.named_children if args is not None else ()):
        if a.type == "comment":
            continue
        if inline.private_struct(w, a) is not None or inline.iteration_struct(w, strip_parens(a)) is not None:
            return True
    return False


def _functor_call(w: Walk, n: Node, name: str, functor, loops, stmt) -> None:
    """A method of a class with no data: a helper spelled through an object, walked in
    place of its call (engine/functors.py)."""
    ref = CallRef(n, name, functor, loops)
    w.facts.calls.append(ref)
    why = inline.inline(w, n, functor, loops, stmt)
    if why is not None:
        w.hazard("PCX105", f"call to '{name}': {why}", n)
        return
    ref.inlined = True


def _functor_callee(w: Walk, call: Node, obj_decl, method: str):
    """The method a call on an object of a stateless class calls (engine/functors.py);
    inside a function template, through the class its instantiations give the object."""
    fnode = w.root
    while fnode is not None and fnode.type != "function_definition":
        fnode = fnode.parent
    name = function_name(fnode, w.m.data).split("::")[-1] if fnode is not None else ""
    return method_callee(call, obj_decl, method, fnode, w.m, w.sem, w.sem.template_calls.get(name, []))


def _passed_array(w: Walk):
    """The declaration of an argument that passes an array by name (not one declared in the nest)."""
    def of(a: Node):
        bare = strip_parens(a)
        if bare is None or bare.type != "identifier":
            return None
        d = w.decl(bare)
        if d is not None and d.shape in ("array", "pointer", "container") and d.key not in w.facts.local_arrays:
            return d
        return None
    return of


def _is_cast(w: Walk, n: Node, f: Node | None) -> bool:
    return is_cast_call(w.sem, n, f, w.decl)


def _macro_call(w: Walk, n: Node, name: str, args: Node | None, loops, cond, stmt, header_of) -> None:
    """``M(e1, ...)`` of a function-like macro: when its expansion is an expression over its
    arguments alone (engine/macros.py), the arguments are what the expansion reads."""
    if macro_element(w, n, name, args, loops, cond, stmt, read=True, write=False, op=""):
        return
    # (in the nest's own text the analysis checked that the nest assigns none of the names
    # the macro's list reads; in a callee's body read in place of its call, nothing did)
    why = use_problem(name, args, w.sem, w.decl, unwritten=not w.inlining)
    if why is not None:
        w.hazard("PCX113", f"function-like macro '{name}' cannot be analysed through: {why}", n)
        return
    if args is not None:
        for a in args.named_children:
            w.expr(a, loops, cond, stmt, header_of)


def macro_element(w: Walk, n: Node, name: str, args: Node | None, loops, cond, stmt,
                  read: bool, write: bool, op: str) -> bool:
    """``I3D(u, ...)`` of an access macro, read or written (``arrays.macro_access``); False
    when ``name`` is no access macro.  A use the analysis cannot read (an argument with a
    call or side effect, no array variable) is refused with its reason."""
    found = access_macro(name, w.sem)
    if found is None or w.inlining:
        return False
    at, inner = found
    why = access_use_problem(name, args, at, w.sem, w.decl)
    if why is not None:
        w.hazard("PCX113", f"access macro '{name}' cannot be analysed through: {why}", n)
        return True
    arrays.macro_access(w, n, name, at, inner, loops, cond, stmt, read, write, op)
    return True
