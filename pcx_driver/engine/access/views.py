"""Pointers a nest's body declares into an array: ``double *row = A + i * m;``.

C code walks a matrix through row pointers declared in the loop body (``const T *out_t =
output_data + stride;``, ``float *r = &img[y * w];``, ``double *row = M[i];``).  Such a
pointer is a *view* when

- its initialiser is an address inside an array ``P`` of the same element type: ``P + e``
  or ``e + P`` or ``&P[e]`` with ``P`` one-dimensional, ``P[e]`` with ``P`` a
  two-dimensional array (a row), or ``P`` itself;
- nothing in the nest assigns, increments or takes the address of the view, nor assigns
  ``P``;
- (checked elsewhere, as for any pointer) it is used only through subscripts: any other
  use of it as a pointer value keeps the nest serial (PCX118, access/names.py).

Then ``view[k]`` is ``P[e + k]`` (``P[e][k]`` for a row): the access is recorded on ``P``
with the view's offset (``ArrayRef.offset``, added to the subscript's polynomial by the
analysis), and the dependence test, the extents and the plan see ``P``.  The view itself
is a private pointer of each iteration, computed on the device from the device's ``P``.
Contract: ``view_of(w, decl, init)`` returns the ``View`` or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.hostaccess import assigned_and_declared
from pcx_driver.engine.semantics import Decl
from pcx_driver.engine.source import strip_parens, subscript_index

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk


@dataclass
class View:
    base: Node  # the array's identifier, in the initialiser
    prefix: list[Node] = field(default_factory=list)  # a row's subscript (``P[e]``)
    offset: Node | None = None  # added to the view's own subscript (``P + e``, ``&P[e]``)


def _element(d: Decl) -> str:
    return " ".join(w for w in (d.element_type or "").split() if w not in ("const", "volatile", "restrict",
                                                                           "__restrict", "__restrict__"))


def view_of(w: Walk, decl: Decl, init: Node | None) -> View | None:
    init = strip_parens(init)
    if init is None or w.inlining or decl.reference or decl.dims != [None]:
        return None
    view: View | None = None
    if init.type == "identifier":
        view = View(init)
    elif init.type == "binary_expression" and w.t(init.child_by_field_name("operator")) == "+":
        left, right = strip_parens(init.child_by_field_name("left")), strip_parens(init.child_by_field_name("right"))
        for p, e in ((left, right), (right, left)):
            d = w.decl(p) if p is not None and p.type == "identifier" else None
            if d is not None and d.shape in ("array", "pointer"):
                view = View(p, offset=e)
                break
    elif init.type == "pointer_expression" and w.t(init)[:1] == "&":
        arg = strip_parens(init.child_by_field_name("argument"))
        if arg is not None and arg.type == "subscript_expression":
            p = strip_parens(arg.child_by_field_name("argument"))
            if p is not None and p.type == "identifier":
                view = View(p, offset=subscript_index(arg))
    elif init.type == "subscript_expression":
        p = strip_parens(init.child_by_field_name("argument"))
        if p is not None and p.type == "identifier":
            view = View(p, prefix=[subscript_index(init)])
    if view is None or (view.offset is None and init.type != "identifier" and not view.prefix) \
            or any(x is None for x in view.prefix):
        return None
    d = w.decl(view.base)
    rank = 2 if view.prefix else 1
    # (a pointer the nest declares, a view among them, is no array of its own: the
    # accesses through this view would be taken for a private array's)
    if d is None or d.shape not in ("array", "pointer") or d.volatile or len(d.dims) != rank \
            or (d.shape == "pointer" and d.key in w.facts.local_keys) \
            or _element(d) != _element(decl) and _element(decl) != "auto" \
            or w.sem.member_of(view.base.start_byte) is not None:  # (``auto *row = x + 3*i``: x's type)
        return None
    # nothing in the nest assigns, increments or takes the address of the view or the array
    changed = assigned_and_declared(w.root, w.m.data, w.root.start_byte, w.root.end_byte, declarations=False)
    return None if decl.name in changed or d.name in changed else view
