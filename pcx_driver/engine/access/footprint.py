"""Helpers that only read the arrays they are passed: each such argument is read whole.

``minValue = min(minValue, michalewicz(values + j * dim, dim))`` and k-means'
``dist(&pts[i * d], &cent[c * d], d)`` call a helper with a loop of its own, which the
inline walk (access/inline.py) cannot read in place of the call.  What such a call may
touch is still known when the helper only reads through its pointer parameters: any
element of the arrays it is passed, and nothing else.  So each array argument becomes one
read of that array with no affine subscript (``ArrayRef.whole``):

- the dependence test then refuses the nest if the nest writes that array anywhere (a
  read that is not affine, beside a write, is PCX102), and passes it if the nest only reads;
- the array is mapped with its declared or allocated extent (PCX116 when there is none);
- ``UserFunctions.reads_only_through_pointers`` (engine/calls.py), asked by the legality
  check for a call marked ``CallRef.footprint``, proves the helper reads only, and the
  helper and its callees go to the device with ``declare target``.

``read_whole(w, callee, args, ...)`` takes the call when each pointer or array parameter
is passed one of ``a``, ``a + e``, ``e + a``, ``a - e`` or ``&a[e]``, with ``a`` an array or
a pointer to elements of the parameter's type (the offsets only into a one-dimensional
one), and every other parameter is a scalar; it returns False, having recorded nothing,
otherwise.  The helper itself may then read only its parameters' elements and its own
arrays, and write only its own scalars, arrays and structs (``reads_only_through_pointers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from pcx_driver.engine.access import inline
from pcx_driver.engine.access.facts import ArrayRef
from pcx_driver.engine.loops import Loop, Poly
from pcx_driver.engine.semantics import Callee, Decl
from pcx_driver.engine.source import strip_parens, subscript_index

if TYPE_CHECKING:
    from pcx_driver.engine.access.walk import Walk


def _rank(d: Decl | None) -> int:
    """Subscripts an access of the whole array takes: 0 when it is not one we can read whole."""
    if d is None or d.reference or d.volatile or d.shape not in ("array", "pointer"):
        return 0
    if d.shape == "array":
        return len(d.dims)
    return (len(d.dims) or 1) if d.type_spelling.count("*") == 1 else 0  # dims: [None] for ``T *p``


def _array_argument(w: Walk, a: Node) -> tuple[Node, Decl, list[Node]] | None:
    """(base identifier, its declaration, offset expressions) of an argument that passes
    an array or a place in one; None for any other argument."""
    a = strip_parens(a) or a
    if a.type == "identifier":
        d = w.decl(a)
        return (a, d, []) if _rank(d) else None
    if a.type == "binary_expression" and w.t(a.child_by_field_name("operator")) in ("+", "-"):
        left, right = strip_parens(a.child_by_field_name("left")), strip_parens(a.child_by_field_name("right"))
        sides = [(left, right), (right, left)] if w.t(a.child_by_field_name("operator")) == "+" else [(left, right)]
        for base, off in sides:
            if base is not None and off is not None and base.type == "identifier" and _rank(w.decl(base)) == 1:
                return (base, w.decl(base), [off])
        return None
    if a.type == "pointer_expression" and w.t(a.child_by_field_name("operator")) == "&":
        sub = strip_parens(a.child_by_field_name("argument"))
        if sub is not None and sub.type == "subscript_expression":
            base = strip_parens(sub.child_by_field_name("argument"))
            idx = subscript_index(sub)
            if base is not None and base.type == "identifier" and idx is not None and _rank(w.decl(base)) == 1:
                return (base, w.decl(base), [idx])
    return None


def read_whole(w: Walk, callee: Callee, args: list[Node], loops, cond, stmt, header_of) -> bool:
    if w.inlining or callee.kind != "function":
        return False
    fn = inline.definition(w, callee)
    params = inline.parameters(w, fn) if fn is not None else None
    args = [a for a in args if a.type != "comment"]
    if params is None or len(params) != len(args):
        return False
    # the parameters' types say which arguments carry memory: every pointer or array
    # parameter must be passed an array (or a place in one) this module reads whole
    plan: list[tuple[Node, tuple[Node, Decl, list[Node]] | None]] = []
    for p, a in zip(params, args):
        if p.reference or p.shape not in ("scalar", "pointer", "array"):
            return False
        got = _array_argument(w, a) if p.shape != "scalar" else None
        if p.shape != "scalar" and (got is None or got[1].element_type != p.element_type
                                    or (len(got[1].dims) > 1 and got[1].dims[1:] != p.dims[1:])):
            return False  # no array, or one the helper would read as another type or shape
        plan.append((a, got))
    if not any(got for _, got in plan):
        return False
    for a, got in plan:
        if got is None:
            w.expr(a, loops, cond, stmt, header_of)
            continue
        base, d, offsets = got
        for off in offsets:
            w.expr(off, loops, cond, stmt, header_of)
        w.facts.arrays.append(ArrayRef(
            base=w.t(base), decl=d, root=w.t(base), root_decl=d, subs=[a] * _rank(d), fields=(), node=a,
            base_node=base, read=True, write=False, op="", stmt=stmt, loops=loops, conditional=True,
            guards=list(w.guards), whole=True,
        ))
    return True


def windowed(w: Walk, callee: Callee, args: list[Node], loops, cond, stmt, header_of) -> str | None:
    """A helper that reads and writes through its pointer parameters in windows
    (engine/paramwindows.py): each such argument is an array of this iteration (declared
    in the nest: the helper's writes stay in its private copy) or a place ``a + off`` /
    ``&a[off]`` / ``a`` in a one-dimensional array of the parameter's element type, which
    becomes one access ``a[off + x]``, ``x`` over the window's constant range, written
    where the helper writes (conditionally: it may skip some).  None when the call was
    recorded so; else why not, having recorded nothing."""
    from pcx_driver.engine.paramwindows import param_windows

    if w.inlining or callee.kind != "function":
        return f"'{callee.name}' is not a plain function"
    wins, why = param_windows(w.m, w.sem, callee)
    fn = inline.definition(w, callee)
    params = inline.parameters(w, fn) if fn is not None else None
    args = [a for a in args if a.type != "comment"]
    if wins is None or params is None:
        return why or f"the parameters of '{callee.name}' cannot be read"
    if all(win is None for win in wins):
        return f"'{callee.name}' takes no pointer"
    if len(wins) != len(args) or len(params) != len(args):
        return f"the parameters of '{callee.name}' cannot be matched to the arguments"
    plan: list[tuple[Node, object]] = []
    for p, win, a in zip(params, wins, args):
        if win is None:
            plan.append((a, None))
            continue
        bare = strip_parens(a) or a
        d = w.decl(bare) if bare.type == "identifier" else None
        if d is not None and d.key in w.facts.local_arrays:
            plan.append((a, "private"))  # an array of this iteration: the helper writes its own copy
            continue
        if not (win.reads or win.writes):
            return f"'{callee.name}' passes '{p.name}' on unused"  # (no access to record)
        got = _array_argument(w, a)
        if got is None or _rank(got[1]) != 1 or got[1].element_type != p.element_type or got[1].volatile:
            return (f"argument '{w.t(a)}' for '{p.name}' of '{callee.name}' is not a place in a one-dimensional "
                    "array of its element type")
        if not win.bounded:
            return (f"'{callee.name}' {'writes' if win.writes else 'reads'} through '{p.name}' at offsets that "
                    "cannot be bounded (subscripts over its constant loops)")
        plan.append((a, (got, win)))
    for a, item in plan:
        if item is None:
            w.expr(a, loops, cond, stmt, header_of)
            continue
        if item == "private":
            continue
        (base, d, offsets), win = item
        for off in offsets:
            w.expr(off, loops, cond, stmt, header_of)
        index = f"pcx_window_{a.start_byte}"
        window = Loop(a, index=index, low=Poly.const(win.lo), high=Poly.const(win.hi), step=1,
                      parent=loops[-1] if loops else None, depth=len(loops))
        w.facts.arrays.append(ArrayRef(
            base=w.t(base), decl=d, root=w.t(base), root_decl=d, subs=[a], fields=(), node=a, base_node=base,
            read=win.reads, write=win.writes, op="=" if win.writes else "", stmt=stmt, loops=[*loops, window],
            conditional=True, guards=list(w.guards), window=index,
            window_offset=offsets[0] if offsets else None,
        ))
    return None


def writes_through_parameters(w: Walk, callee: Callee) -> bool:
    """Whether the helper writes through a pointer parameter (as its windows read): a call
    that passes it an array is then no read of that array alone.  A helper whose uses of a
    pointer the windows cannot read is left to ``read_whole``, whose legality check
    (``reads_only_through_pointers``) refuses any write."""
    from pcx_driver.engine.paramwindows import param_windows

    wins, _ = param_windows(w.m, w.sem, callee)  # (None for anything it cannot walk)
    return wins is not None and any(win is not None and win.writes for win in wins)
