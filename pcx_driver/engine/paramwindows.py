"""What a helper does through its pointer parameters: the window of elements around the
pointer it reads and writes (issue 15, cause 4).

HeCBench's colorwheel calls ``computeColor(fx, fy, pix + idx)`` for every pixel, and the
helper writes ``pix[2 - b]`` for ``b`` in ``0..2``, after filling a table of its own with
``setcols(cw, r, g, b, k++)``, which writes ``cw[k][0..2]``.  Each call touches the three
bytes from ``pix + idx``, so the pixel loop is parallel; the helper's own table is private
to each call.  ``param_windows(model, sem, callee)`` reads that from the helper's body:

- for each pointer parameter (a pointer to arithmetic elements, or an array parameter with
  constant inner extents), the offsets from the pointer of every element the helper reads
  or writes, as one window ``[lo, hi]`` of constants when every subscript is affine in the
  helper's own counted loops (constant bounds) and constants, or unbounded (None) when
  not; and whether it reads and whether it writes through it;
- a parameter passed on (as it is, ``p + c`` or ``&p[c]``, ``c`` constant) to another
  helper counts with that helper's window for it, shifted by ``c``;
- any other use of a pointer parameter (stored, compared, dereferenced with ``*``,
  incremented, passed to anything else) makes the helper unreadable: None and the reason.

A caller may then pass an array of its own iteration (declared in the loop body: any
window, the copy is private) or a place ``base + off`` in a shared array (a bounded window
only: the call touches ``base[off + lo .. off + hi]``, access/footprint.py).  Whether the
helper may run on the device at all (no globals, I/O or allocation) is still
``UserFunctions.check``'s question.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from pcx_driver.engine.access import inline
from pcx_driver.engine.calls import CallKind, classify_call, definition_node
from pcx_driver.engine.affine import AffineForms
from pcx_driver.engine.loops import Poly, c_int_literal, parse_loop, poly_of_tokens
from pcx_driver.engine.macros import expand_object_macros
from pcx_driver.engine.semantics import ARITH_TYPES, Callee, Decl, Semantics, unqualified
from pcx_driver.engine.source import SourceModel, strip_parens, subscript_index, walk

MAX_DEPTH = 4


@dataclass(frozen=True)
class Window:
    lo: int | None  # None: unbounded
    hi: int | None
    reads: bool
    writes: bool

    @property
    def bounded(self) -> bool:
        return self.lo is not None and self.hi is not None

    def shifted(self, by: int | None) -> Window:
        if by is None or not self.bounded:
            return Window(None, None, self.reads, self.writes)
        return Window(self.lo + by, self.hi + by, self.reads, self.writes)

    def join(self, o: Window) -> Window:
        bounded = self.bounded and o.bounded
        return Window(min(self.lo, o.lo) if bounded else None, max(self.hi, o.hi) if bounded else None,
                      self.reads or o.reads, self.writes or o.writes)


def _extent(x: str | None) -> int | None:
    return c_int_literal(x) if x is not None else None


def pointer_parameter(d: Decl) -> int:
    """Elements per step of the first subscript of a pointer or array parameter whose
    elements are arithmetic (``T *p``: 1; ``T p[][3]``: 3); 0 when it is not one."""
    if d.reference or d.volatile or d.shape not in ("pointer", "array"):
        return 0
    if unqualified(d.element_type) not in ARITH_TYPES:
        return 0
    stars = d.type_spelling.count("*")
    if d.shape == "pointer" and (stars > 1 or (stars == 0 and "[" not in d.type_spelling)):
        return 0  # a pointer to pointers; ``T p[N][M]`` is a pointer to rows
    size = 1
    for x in d.dims[1:]:
        v = _extent(x)
        if v is None or v <= 0:
            return 0
        size *= v
    return size


class _Summaries:
    def __init__(self, model: SourceModel, sem: Semantics):
        self.m, self.sem = model, sem
        self.affine = AffineForms(model, sem)  # macro values
        self.memo: dict[str, tuple[list[Window | None] | None, str]] = {}
        self.active: set[str] = set()

    def t(self, n: Node | None) -> str:
        return self.m.text(n)

    def of(self, callee: Callee, depth: int = 0) -> tuple[list[Window | None] | None, str]:
        key = callee.qualified
        if key in self.memo:
            return self.memo[key]
        if key in self.active or depth > MAX_DEPTH:
            return (None, f"'{callee.name}' is recursive or nests helpers too deeply")
        self.active.add(key)
        try:
            got = self._of(callee, depth)
        finally:
            self.active.discard(key)
        self.memo[key] = got
        return got

    def _of(self, callee: Callee, depth: int) -> tuple[list[Window | None] | None, str]:
        if callee.kind != "function" or callee.definition is None or not callee.in_main_file:
            return (None, f"'{callee.name}' has no definition in this file that can be walked")
        fn = definition_node(self.m, callee.definition)
        params = inline.parameter_decls(self.sem, self.t, fn) if fn is not None else None
        body = fn.child_by_field_name("body") if fn is not None else None
        if params is None or body is None:
            return (None, f"the parameters of '{callee.name}' cannot be read")
        out: list[Window | None] = []
        for p in params:
            if p.shape == "scalar" and not p.reference:
                out.append(None)
                continue
            stride = pointer_parameter(p)
            if not stride:
                return (None, f"'{callee.name}' takes '{p.name}' of type '{p.type_spelling}'")
            win: Window | None = None
            for use in walk(body):
                if use.type != "identifier" or (d := self.sem.decl_of(use.start_byte)) is None or d.key != p.key:
                    continue
                got, why = self._use(callee.name, p, stride, use, fn, depth)
                if got is None:
                    return (None, why)
                win = got if win is None else win.join(got)
            out.append(win if win is not None else Window(0, -1, False, False))
        why = self._other_memory(callee.name, body, params, depth)
        return (None, why) if why else (out, "")

    def _other_memory(self, name: str, body: Node, params: list[Decl], depth: int) -> str:
        """Why the helper may touch memory other than its pointer parameters' elements and
        its own arrays ("" when it may not): a subscript of anything else (a computed
        pointer, a local pointer, a global), or a call that passes a pointer to a helper
        whose own windows cannot be read."""
        keys = {p.key for p in params}
        for n in walk(body):
            if n.type == "subscript_expression" and not (
                    n.parent is not None and n.parent.type == "subscript_expression"
                    and n.parent.child_by_field_name("argument").id == n.id):
                base = strip_parens(n.child_by_field_name("argument"))
                while base is not None and base.type in ("subscript_expression", "field_expression"):
                    base = strip_parens(base.child_by_field_name("argument"))
                d = self.sem.decl_of(base.start_byte) if base is not None and base.type == "identifier" else None
                if d is None or not (d.key in keys or (d.kind == "local" and d.shape in ("array", "record"))):
                    return (f"'{name}' reads or writes through '{self.t(base)}', which is neither its parameter nor "
                            f"an array of its own (line {self.m.line_col(n.start_byte)[0]})")
            elif n.type == "call_expression":
                c = self.sem.callee_of(n.start_byte, n.end_byte)
                f = n.child_by_field_name("function")
                if c is None or f is None or classify_call(self.t(f), c) is not CallKind.USER:
                    continue  # math; anything else is UserFunctions.check's to refuse
                wins, why = self.of(c, depth + 1)
                if wins is None:
                    return why
        return ""

    # -- one use of a pointer parameter
    def _use(self, name: str, p: Decl, stride: int, use: Node, fn: Node, depth: int) -> tuple[Window | None, str]:
        line = self.m.line_col(use.start_byte)[0]
        cur = use
        while cur.parent is not None and cur.parent.type == "parenthesized_expression":
            cur = cur.parent
        parent = cur.parent
        if parent is not None and parent.type == "subscript_expression" and parent.child_by_field_name("argument").id == cur.id:
            subs, top = [], parent
            while True:
                subs.append(subscript_index(top))
                up = top.parent
                if up is not None and up.type == "subscript_expression" and up.child_by_field_name("argument").id == top.id:
                    top = up
                    continue
                break
            if len(subs) != max(1, len(p.dims)) or any(s is None for s in subs):
                return (None, f"'{name}' takes a row or part of '{p.name}' (line {line})")
            reads, writes = _effect(top, self.t)
            lo, hi = self._offset_range(subs, p, use, fn)
            return (Window(lo, hi, reads, writes), "")
        # passed on to another helper: as it is, + c, or &p[c]
        arg, shift = cur, 0
        if parent is not None and parent.type == "binary_expression" and self.t(parent.child_by_field_name("operator")) in ("+", "-"):
            other = strip_parens(parent.child_by_field_name("right"))
            if strip_parens(parent.child_by_field_name("left")) is None or \
                    strip_parens(parent.child_by_field_name("left")).id != use.id or other is None:
                return (None, f"'{name}' computes with '{p.name}' (line {line})")
            c = c_int_literal(self.t(other))
            shift = None if c is None else (c if self.t(parent.child_by_field_name("operator")) == "+" else -c) * stride
            arg = parent
        while arg.parent is not None and arg.parent.type == "parenthesized_expression":
            arg = arg.parent
        if arg.parent is None or arg.parent.type != "argument_list":
            return (None, f"'{name}' uses '{p.name}' other than through subscripts (line {line})")
        call = arg.parent.parent
        f = call.child_by_field_name("function") if call is not None else None
        c = self.sem.callee_of(call.start_byte, call.end_byte) if call is not None else None
        if f is None or c is None or classify_call(self.t(f), c) is not CallKind.USER:
            return (None, f"'{name}' passes '{p.name}' to '{self.t(f) if f is not None else '?'}' (line {line})")
        wins, why = self.of(c, depth + 1)
        if wins is None:
            return (None, why)
        k = next((i for i, a in enumerate(x for x in arg.parent.named_children if x.type != "comment")
                  if a.id == arg.id), None)
        if k is None or k >= len(wins) or wins[k] is None:
            return (None, f"'{name}' passes '{p.name}' to '{c.name}' as a value (line {line})")
        return (wins[k].shifted(shift), "")

    def _offset_range(self, subs: list[Node], p: Decl, use: Node, fn: Node) -> tuple[int | None, int | None]:
        """[lo, hi] of the flattened offset of ``p[s0][s1]...`` over the helper's loops."""
        ranges = self._loop_ranges(use, fn)
        lo = hi = 0
        for k, s in enumerate(subs):
            scale = 1
            for x in p.dims[k + 1:]:
                scale *= _extent(x) or 0
            r = self._range(s, ranges)
            if r is None:
                return (None, None)
            lo, hi = lo + r[0] * scale, hi + r[1] * scale
        return (lo, hi)

    def _loop_ranges(self, use: Node, fn: Node) -> dict[str, tuple[int, int]]:
        """Constant index ranges of the counted loops around ``use`` in the helper."""
        out: dict[str, tuple[int, int]] = {}
        n = use.parent
        while n is not None and n.id != fn.id:
            if n.type == "for_statement":
                lp = parse_loop(n, self.t, lambda x: self._poly(x, {}))
                if lp.problem is None and lp.low is not None and lp.high is not None and lp.low.is_const \
                        and lp.high.is_const and lp.index not in out and not _assigned_in(n, lp.index, self.t):
                    out[lp.index] = (lp.low.const_value, lp.high.const_value)
            n = n.parent
        return out

    def _range(self, s: Node, ranges: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
        p = self._poly(s, ranges)
        if p is None:
            return None
        lo = hi = 0
        for mono, c in p.terms.items():
            if not mono:
                lo, hi = lo + c, hi + c
                continue
            if len(mono) != 1 or mono[0] not in ranges:
                return None
            a, b = ranges[mono[0]]
            if a > b:
                return None
            lo, hi = (lo + c * a, hi + c * b) if c > 0 else (lo + c * b, hi + c * a)
        return (lo, hi)

    def _poly(self, n: Node | None, ranges: dict[str, tuple[int, int]]) -> Poly | None:
        n = strip_parens(n)
        if n is None:
            return None
        # (object-like macros expanded as the preprocessor does: ``i*W`` of ``W`` = ``N+8``)
        tokens = expand_object_macros([self.t(x) for x in walk(n) if x.child_count == 0], self.affine.sem)

        def lookup(name: str) -> Poly | None:
            if name in ranges:
                return Poly.sym(name)
            v = self.affine.macro_value(name)
            return Poly.const(v) if v is not None else None

        return poly_of_tokens(tokens, lookup)


def _effect(top: Node, text) -> tuple[bool, bool]:
    """(reads, writes) of the element access ``top``."""
    q = top
    while q.parent is not None and q.parent.type == "parenthesized_expression":
        q = q.parent
    p = q.parent
    if p is not None and p.type == "assignment_expression" and p.child_by_field_name("left") is not None \
            and p.child_by_field_name("left").id == q.id:
        return (text(p.child_by_field_name("operator")) != "=", True)
    if p is not None and p.type == "update_expression":
        return (True, True)
    return (True, False)


def _assigned_in(loop: Node, name: str, text) -> bool:
    body = loop.child_by_field_name("body")
    for x in walk(body) if body is not None else ():
        if x.type == "assignment_expression":
            left = strip_parens(x.child_by_field_name("left"))
            if left is not None and left.type == "identifier" and text(left) == name:
                return True
        if x.type == "update_expression":
            arg = strip_parens(x.child_by_field_name("argument"))
            if arg is not None and arg.type == "identifier" and text(arg) == name:
                return True
    return False


_CACHE: dict[int, _Summaries] = {}


def param_windows(model: SourceModel, sem: Semantics, callee: Callee) -> tuple[list[Window | None] | None, str]:
    """Per parameter of ``callee``: its Window (pointer parameters) or None (values); or
    (None, why) when a pointer parameter has another use.  Memoised per unit."""
    s = _CACHE.get(id(sem))
    if s is None or s.sem is not sem:
        _CACHE.clear()
        s = _CACHE[id(sem)] = _Summaries(model, sem)
    return s.of(callee)
