"""Array references in a nest: ``base[s1][s2]...(.field)*`` with the member and pointer
chains their bases go through (``s.a``, ``s->a``, ``v.data()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.access import inline
from pcx_driver.engine.access.facts import ArrayRef
from pcx_driver.engine.macros import free_array
from pcx_driver.engine.semantics import ARITH_TYPES, unqualified
from pcx_driver.engine.source import arguments_of, strip_parens, subscript_index
from pcx_driver.model import Language

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk


def access(w: Walk, n: Node, loops, cond, stmt, read: bool, write: bool, op: str, assign) -> None:
    fields: list[str] = []
    cur = strip_parens(n)
    while cur.type == "field_expression":
        if w.t(cur.child_by_field_name("operator")) != ".":
            w.hazard("PCX118", f"pointer chain '{w.t(n)}' cannot be analysed", n)
            return
        fields.insert(0, w.t(cur.child_by_field_name("field")))
        cur = strip_parens(cur.child_by_field_name("argument"))
    peeled = _subscripts(w, cur)
    if peeled is None:
        return
    subs, cur = peeled
    for s in subs:
        w.expr(s, loops, cond, stmt)
    base = cur
    if base is None:
        return
    via_data = False
    member = False
    via = None
    if base.type == "identifier" and w.inlining:
        d = w.decl(base)
        if d is not None and d.key in w.facts.bindings:  # a helper's parameter: the caller's array
            if write:
                w.hazard("PCX105", f"'{w.inlining[-1]}' writes through its parameter '{d.name}'", n)
                return
            base = inline.resolve(w, base)
    if w.inlining and w.site is not None:
        via, stmt = w.site
    view = None
    if base.type == "identifier" and not w.inlining:
        d = w.decl(base)
        view = w.facts.views.get(d.key) if d is not None else None
        if view is not None:  # a pointer the nest declared into an array (access/views.py)
            if len(subs) != 1:
                w.hazard("PCX118", f"'{w.t(base)}' points into an array and is subscripted twice", n)
                return
            subs = [*view.prefix, *subs]
            base = view.base
    this_member = None  # a pointer member of the object a member function runs on
    if base.type == "identifier" and w.sem.member_of(base.start_byte) is not None:
        this_member = _this_member(w, n, base, base)
        if this_member is None:
            return
    elif base.type == "field_expression" and (arg := strip_parens(base.child_by_field_name("argument"))) is not None \
            and arg.type == "this":
        this_member = _this_member(w, n, base, base.child_by_field_name("field"))
        if this_member is None:
            return
    if this_member is not None:
        decl, root_decl, root, member = this_member, None, "this", True
    elif base.type == "identifier":
        decl = w.decl(base)
        root_decl = decl
        root = w.t(base)
    elif base.type == "call_expression" and _data_call(w, base) is not None:
        obj = _data_call(w, base)
        decl = w.decl(obj)
        root_decl = decl
        root = w.t(obj)
        via_data = True
    elif base.type == "field_expression":
        arg = strip_parens(base.child_by_field_name("argument"))
        fname = base.child_by_field_name("field")
        if arg is not None and arg.type == "this":
            w.hazard("PCX137", f"array '{w.t(base)}' of this object used inside the nest", n)
            return
        if arg is not None and fname is not None and arg.type == "subscript_expression" \
                and w.t(base.child_by_field_name("operator")) == "." \
                and (info := w.sem.member_of(fname.start_byte)) is not None and info[0].shape == "array":
            # a member array lies inside the element; a pointer member points elsewhere
            _element_member(w, n, arg, loops, cond, stmt, write)
            return
        if arg is not None and arg.type == "subscript_expression" and fname is not None:
            info = w.sem.member_of(fname.start_byte)
            what = {"container": "a container", "pointer": "a pointer"}.get(info[0].shape, "no array") \
                if info is not None else "not known"
            w.hazard("PCX118", f"member '{w.t(base)}' of an array element is {what}: only an array that lies "
                               "inside each element is mapped with the elements", n)
            return
        if arg is None or arg.type != "identifier" or fname is None:
            w.hazard("PCX118", f"pointer chain '{w.t(base)}' cannot be analysed", n)
            return
        info = w.sem.member_of(fname.start_byte)
        decl = info[0] if info else None
        root_decl = w.decl(arg)
        root = w.t(arg)
        member = True
        if root_decl is not None and root_decl.shape == "pointer" and decl is not None and decl.shape == "array":
            w.hazard("PCX118", f"array member '{w.t(base)}' reached through a pointer", n)
            return
        if decl is not None and root_decl is not None and decl.record and root_decl.element_type \
                and w.m.unit.language is Language.CXX \
                and unqualified(decl.record) != unqualified(root_decl.element_type):
            # clang-19's offload runtime crashes on a map of a base class's pointer member
            # beside the derived class's (``map(e.a[0:n], e.b[0:n])``, written by hand too)
            w.hazard("PCX118", f"'{w.t(base)}' is a member of base class '{decl.record}' of "
                               f"'{unqualified(root_decl.element_type)}': clang-19's offload runtime crashes "
                               "mapping a base class's pointer member beside the derived class's, so pcx maps none", n)
            return
        if decl is not None and decl.kind == "union-member":
            # (clang-19: "mapping of union members is not allowed"; the rewrite failed)
            w.hazard("PCX118", f"'{w.t(base)}' is a member of a union, which OpenMP cannot map", n)
            return
    elif base.type == "qualified_identifier":
        w.hazard("PCX118", f"array '{w.t(base)}' named through its class or namespace cannot be analysed", n)
        return
    else:
        w.hazard("PCX118", f"access '{w.t(n)}' through a computed pointer cannot be analysed", n)
        return
    if base.type == "identifier" and decl is None:
        w.hazard("PCX122", f"cannot resolve '{w.t(base)}'", n)
        return
    if decl is not None and decl.shape == "record" and not via_data:
        w.hazard("PCX118", f"subscript on class object '{root}' (user operator[])", n)
        return
    if decl is not None and decl.shape not in ("array", "pointer", "container"):
        w.hazard("PCX118", f"'{w.t(base)}' is not an array", n)
        return
    if decl is not None and decl.volatile:
        w.hazard("PCX119", f"volatile array '{root}' used inside the nest", n)
        return
    w.facts.arrays.append(ArrayRef(
        base=f"this->{decl.name}" if this_member is not None else w.t(base) if not via_data else root, decl=decl, root=root, root_decl=root_decl, subs=subs,
        fields=tuple(fields), node=n, base_node=base, read=read, write=write, op=op, stmt=stmt, loops=loops,
        conditional=cond, via_data=via_data, member=member, guards=list(w.guards), via=via,
        bindings=dict(w.facts.bindings) if w.inlining else {},
        view=view is not None, offset=view.offset if view is not None else None,
    ))


def _this_member(w: Walk, n: Node, base: Node, field: Node | None):
    """The declaration of member ``field`` of ``*this`` (``a[i]`` or ``this->a[i]`` in a
    member function) where a kernel can map what it points to as ``this->a[lo:len]``: a
    pointer member of arithmetic elements, outside any helper walked in place of its call
    (whose ``this`` is another object).  None, with PCX137, otherwise."""
    info = w.sem.member_of(field.start_byte) if field is not None else None
    d = info[0] if info else None
    if d is None or w.inlining or d.shape != "pointer" or d.kind != "field" or d.volatile \
            or not (d.element_type and unqualified(d.element_type) in ARITH_TYPES):
        w.hazard("PCX137", f"member array '{w.t(base)}' of this object used inside the nest", n)
        return None
    other = next((a.decl for a in w.facts.arrays if a.root == "this" and a.decl is not None
                  and a.decl.record != d.record), None)
    if other is not None:
        # (as for ``e.a`` beside ``e.b``: clang-19's runtime crashes mapping both)
        w.hazard("PCX118", f"'{d.name}' and '{other.name}' are members of different classes of this object "
                           f"('{d.record}', '{other.record}'): clang-19's offload runtime crashes mapping a base "
                           "class's pointer member beside the derived class's", n)
        return None
    return d


def _subscripts(w: Walk, cur: Node | None) -> tuple[list[Node], Node | None] | None:
    """(the subscripts of ``a[s0][s1]...``, outer first, and ``a``); None, with PCX102, when
    one cannot be read."""
    subs: list[Node] = []
    while cur is not None and cur.type == "subscript_expression":
        idx = subscript_index(cur)
        if idx is None:
            w.hazard("PCX102", f"subscript of '{w.t(cur)}' cannot be analysed", cur)
            return None
        subs.insert(0, idx)
        cur = strip_parens(cur.child_by_field_name("argument"))
    return subs, cur


def _element_member(w: Walk, n: Node, element: Node, loops, cond, stmt, write: bool = False) -> None:
    """``trees[gid].apples[i]``: an access inside element ``trees[gid]`` of an array of
    structs whose member is an array of its own (HeCBench layout's AoS, a lattice-Boltzmann
    code's ``cells[k].speeds[j]``).  It is recorded as an access of the whole element (no
    fields), which is what the dependence test needs (a write anywhere in an element meets
    any other access of it), with the subscripts inside the element read as expressions.
    A write of one member element is no write of the whole element: it is recorded as a
    read and a write, so that the element's other bytes come to the device and back."""
    peeled = _subscripts(w, element)
    if peeled is None:
        return
    subs, cur = peeled
    decl = w.decl(cur) if cur is not None and cur.type == "identifier" else None
    if decl is None or decl.shape not in ("array", "pointer") or decl.volatile or w.inlining \
            or w.sem.member_of(cur.start_byte) is not None or len(subs) != max(1, len(decl.dims)):
        w.hazard("PCX118", f"pointer chain '{w.t(n)}' cannot be analysed", n)
        return
    for s in subs:
        w.expr(s, loops, cond, stmt)
    w.facts.arrays.append(ArrayRef(
        base=w.t(cur), decl=decl, root=w.t(cur), root_decl=decl, subs=subs, fields=(), node=element,
        base_node=cur, read=True, write=write, op="" if not write else "=", stmt=stmt, loops=loops,
        conditional=cond or write, guards=list(w.guards),
    ))


def _data_call(w: Walk, n: Node) -> Node | None:
    f = n.child_by_field_name("function")
    if f is not None and f.type == "field_expression" and w.t(f.child_by_field_name("field")) == "data":
        obj = strip_parens(f.child_by_field_name("argument"))
        if obj is not None and obj.type == "identifier":
            return obj
    return None


def is_access_chain(n: Node) -> bool:
    """field_expression over a subscript (p[i].x) or a member array (s.a / s->a used as a base)."""
    while n.type == "field_expression":
        n = strip_parens(n.child_by_field_name("argument"))
        if n is None:
            return False
    return n.type == "subscript_expression"


def accessor_access(w: Walk, n: Node, member, loops, cond, stmt, read: bool, write: bool, op: str) -> bool:
    """``domain.x(i)``, a call of an element accessor of ``member`` (a ``std::vector``
    data member, ``Semantics.accessors``): the element ``domain.m_x[i]`` of the object it
    is called on, read or written.  False (nothing recorded) when the call is not on a
    named object, or one argument is not all it passes."""
    f = n.child_by_field_name("function")
    args = n.child_by_field_name("arguments")
    obj = strip_parens(f.child_by_field_name("argument")) if f is not None else None
    if obj is None or obj.type != "identifier" or args is None or args.named_child_count != 1 or w.inlining:
        return False
    root_decl = w.decl(obj)
    if root_decl is None or root_decl.shape not in ("record", "pointer") or w.sem.member_of(obj.start_byte):
        return False
    if root_decl.decl_offset is not None and w.root.start_byte <= root_decl.decl_offset < w.root.end_byte:
        # ``Domain *p = doms + i % 2; ... p->x(i)``: the object changes with the iteration,
        # and the kernel's data pointer, taken once before the loop, cannot follow it
        w.hazard("PCX118", f"accessor '{w.t(f)}' is called on '{w.t(obj)}', which the nest declares: its "
                           "data pointer cannot be taken before the loop", n)
        return True
    sep = w.t(f.child_by_field_name("operator"))
    if (sep == "->") != (root_decl.shape == "pointer"):
        return False
    sub = args.named_children[0]
    w.expr(sub, loops, cond, stmt)
    w.facts.arrays.append(ArrayRef(
        base=f"{w.t(obj)}{sep}{member.name}", decl=member, root=w.t(obj), root_decl=root_decl, subs=[sub],
        fields=(), node=n, base_node=f, read=read, write=write, op=op, stmt=stmt, loops=loops,
        conditional=cond, member=True, guards=list(w.guards), accessor_args=args,
    ))
    return True


def macro_access(w: Walk, n: Node, name: str, at: int | str, inner: list[str], loops, cond, stmt,
                 read: bool, write: bool, op: str) -> None:
    """``I3D(u, n1, n2, i3, i2, i1)``, a use of an access macro (``macros.access_macro``):
    the element of the array argument ``at`` (or of the array the list names, ``IN(i, j)``)
    that the macro's subscript names, read or written; the other arguments are read."""
    args = arguments_of(n.child_by_field_name("arguments"))
    for k, a in enumerate(args):
        if k != at:
            w.expr(a, loops, cond, stmt)
    if isinstance(at, str):
        # the array's name is in the list: the use's own name stands for it in the source
        # (``hidden_base``: no token there to rename)
        decl = free_array(name, at, n.child_by_field_name("arguments"), w.sem)
        w.facts.arrays.append(ArrayRef(
            base=at, decl=decl, root=at, root_decl=decl, subs=[n], fields=(), node=n,
            base_node=n.child_by_field_name("function"), read=read, write=write, op=op, stmt=stmt, loops=loops,
            conditional=cond, guards=list(w.guards), index_macro=(name, inner), hidden_base=True,
        ))
        return
    array = strip_parens(args[at])
    decl = w.decl(array)
    w.facts.arrays.append(ArrayRef(
        base=w.t(array), decl=decl, root=w.t(array), root_decl=decl, subs=[n], fields=(), node=n,
        base_node=array, read=read, write=write, op=op, stmt=stmt, loops=loops, conditional=cond,
        guards=list(w.guards), index_macro=(name, inner),
    ))
