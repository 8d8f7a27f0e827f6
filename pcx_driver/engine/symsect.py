"""Symbolic array sections for the plan checker: linear forms, boxes and may-sets.

A linear form is a frozen {monomial: coefficient} over variable names; a sub-expression
that is not linear but has no side effects (``n / 2``) is an opaque name of its own.  A
dimension is a half-open ``(lo, hi)`` pair of forms (None: unbounded), a section a tuple of
dimensions, ``WHOLE`` the whole array with bounds unknown.  Comparisons are decided only
when two forms differ by a constant, after bounding each loop index of the enclosing loops
by its range (``RANGES``); anything else is "unknown", which every caller takes on the safe
side.  Sets of sections are *may*-sets: they only grow by adding and shrink by removing a
section that surely covers (``excluding`` never removes with an unbounded section).
"""

from __future__ import annotations

import re

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import text_of
from pcx_driver.engine.source import arguments_of
from pcx_driver.model import Language, Section

# A linear form is a frozen {monomial: coefficient}; a dimension is (lo, hi) with hi
# exclusive, None for "unbounded"; a section is a tuple of dimensions.  Comparisons are
# decided only when two forms differ by a constant: anything else is "unknown", which
# every caller treats on the safe side.

Lin = tuple  # sorted tuple of (monomial, coefficient); monomial: sorted tuple of names
Dim = tuple  # (Lin | None, Lin | None)
Sect = tuple  # tuple[Dim, ...]; () means "the whole array, bounds unknown"
WHOLE: Sect = ()
MAX_SET = 16


def freeze(form: dict) -> Lin:
    return tuple(sorted((m, c) for m, c in form.items() if c))


def add(a: Lin, b: Lin, sign: int = 1) -> Lin:
    out = dict(a)
    for m, c in b:
        out[m] = out.get(m, 0) + sign * c
    return freeze(out)


def const_diff(a: Lin | None, b: Lin | None) -> int | None:
    """b - a when it is a constant, else None."""
    if a is None or b is None:
        return None
    d = add(b, a, -1)
    if not d:
        return 0
    if len(d) == 1 and d[0][0] == ():
        return d[0][1]
    return None


# Ranges of the loop indices around the statement being checked: name -> (lo, hi)
# inclusive linear bounds, pushed and popped by the plan checker's walk (``plancheck.walk.Walker.loop``).
RANGES: list[dict] = []


def le(a: Lin | None, b: Lin | None) -> bool:
    """Provably a <= b: b - a is a constant >= 0, possibly after bounding each loop index
    of the enclosing loops by its range (innermost first)."""
    if a is None or b is None:
        return False
    d = add(b, a, -1)
    for ranges in reversed(RANGES):
        if all(m == () for m, _ in d):
            break
        for name, (lo, hi) in ranges.items():
            coef = dict(d).get((name,), 0)
            if not coef or any(name in m and m != (name,) for m, _ in d):
                continue
            bound = lo if coef > 0 else hi  # the smallest value of coef * name
            if bound is None:
                continue
            rest = freeze({m: c for m, c in d if m != (name,)})
            d = add(rest, tuple((m, c * coef) for m, c in bound))
    if not d:
        return True
    return len(d) == 1 and d[0][0] == () and d[0][1] >= 0


UNWRAP = frozenset({"parenthesized_expression", "cast_expression"})


def lin_node(node: tree_sitter.Node | None, data: bytes) -> dict | None:
    """``node`` as a linear form; a sub-expression that is not linear (``n / 2``) but has
    no side effects becomes an opaque symbol of its own, spelled in parentheses."""
    form = lin_exact(node, data)
    if form is None and node is not None and pure(node):
        return {("(" + squeeze(text_of(data, node)) + ")",): 1}
    return form


def narrow_type(type_text: str) -> bool:
    """Whether a cast's type, as written, names an integer type narrower than int: its value
    wraps (``b[(unsigned char) i]`` for i < 300 is no section b[0:300], a held-out check's
    update past b's end, nor the affine subscript ``i``)."""
    return any(w in type_text for w in ("char", "short", "bool", "int8", "int16"))


def squeeze(text: str) -> str:
    """``text`` with the white space that separates no two words removed: one spelling for
    ``n / 2`` and ``n/2``, but ``sizeof a`` and ``struct S`` stay C (a symbol is emitted as
    it is spelled here: ``sizeofa`` did not compile)."""
    return re.sub(r"\s+", lambda m: " " if 0 < m.start() and m.end() < len(text) and _WORD.match(text[m.start() - 1])
                  and _WORD.match(text[m.end()]) else "", text)


_WORD = re.compile(r"[A-Za-z0-9_]")


def pure(node: tree_sitter.Node) -> bool:
    return node.type not in ("call_expression", "assignment_expression", "update_expression", "comma_expression") \
        and all(pure(c) for c in node.named_children)


def lin_exact(node: tree_sitter.Node | None, data: bytes) -> dict | None:
    if node is None:
        return None
    t = node.type
    if t == "parenthesized_expression":
        inner = node.named_children
        return lin_node(inner[0], data) if len(inner) == 1 else None
    if t == "cast_expression":
        ty = node.child_by_field_name("type")
        if ty is not None and narrow_type(text_of(data, ty)):
            return None  # (unsigned char) i wraps: an opaque value
        return lin_node(node.child_by_field_name("value"), data)
    if t == "number_literal":
        s = text_of(data, node).rstrip("uUlL")
        try:
            return {(): int(s, 0)}
        except ValueError:
            return None
    if t in ("identifier", "field_expression"):
        return {(text_of(data, node).replace(" ", ""),): 1}
    if t == "call_expression":  # static_cast<long>(x): the value of x
        fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        if fn is not None and fn.type == "template_function" and text_of(data, fn).startswith("static_cast") \
                and len(arguments_of(args)) == 1:
            return lin_node(arguments_of(args)[0], data)
    if t == "call_expression" and not node.child_by_field_name("arguments").named_children:
        fn = node.child_by_field_name("function")  # ``v.size()``: a symbol of its own
        if fn is not None and fn.type == "field_expression" and text_of(data, fn).endswith("size"):
            return {(text_of(data, node).replace(" ", ""),): 1}
    if t == "unary_expression":
        op = node.child_by_field_name("operator")
        arg = lin_node(node.child_by_field_name("argument"), data)
        if arg is None or op is None:
            return None
        if op.type == "-":
            return {m: -c for m, c in arg.items()}
        return arg if op.type == "+" else None
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        a = lin_node(node.child_by_field_name("left"), data)
        b = lin_node(node.child_by_field_name("right"), data)
        if a is not None and op is not None and op.type == "*" and is_positive_test(node, data):
            return a  # ``(E) * ((E) > 0)``: E clamped at 0; an empty mapping when E <= 0
        if a is None or b is None or op is None:
            return None
        if op.type in ("+", "-"):
            out = dict(a)
            for m, c in b.items():
                out[m] = out.get(m, 0) + (c if op.type == "+" else -c)
            return out
        if op.type == "*":
            out: dict = {}
            for ma, ca in a.items():
                for mb, cb in b.items():
                    m = tuple(sorted(ma + mb))
                    out[m] = out.get(m, 0) + ca * cb
            return out
    return None


def is_positive_test(node: tree_sitter.Node, data: bytes) -> bool:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    while right is not None and right.type == "parenthesized_expression" and len(right.named_children) == 1:
        right = right.named_children[0]
    if right is None or right.type != "binary_expression":
        return False
    op, rl, rr = (right.child_by_field_name(f) for f in ("operator", "left", "right"))
    return (op is not None and op.type == ">" and rr is not None and text_of(data, rr) == "0"
            and rl is not None and text_of(data, rl).strip("() ") == text_of(data, left).strip("() "))


def lin_text(expr: str, language: Language) -> Lin | None:
    data = f"long pcx__e = ({expr});".encode()
    root = hostaccess.parse(data, language).root_node
    if root.has_error or not root.named_children:
        return None
    for c in root.named_children[0].named_children:
        if c.type == "init_declarator":
            form = lin_node(c.child_by_field_name("value"), data)
            return None if form is None else freeze(form)
    return None


def constant_value(expr: str, language: Language, constants: dict[str, int]) -> int | None:
    """The value of ``expr`` where it is a constant once the macros in ``constants`` are
    read (``(_PB_N) - 1`` with ``_PB_N`` 410: 409); None otherwise."""
    form = subst(lin_text(expr, language), {m: (((), v),) for m, v in constants.items()})
    if form is None or any(mono != () for mono, _ in form):
        return None
    return sum(c for _, c in form)


def subst(form: Lin | None, defs: dict) -> Lin | None:
    """``form`` with every name that has a fixed linear definition replaced by it."""
    if form is None or not defs or not any(v in defs for m, _ in form for v in m):
        return form
    out: dict = {}
    for mono, coef in form:
        terms: dict = {(): coef}
        for v in mono:
            terms = dict(times(freeze(terms), defs.get(v, (((v,), 1),))))
        for m, c in terms.items():
            out[m] = out.get(m, 0) + c
    return freeze(out)


def times(a: Lin, b: Lin) -> Lin:
    """The product of two forms, like terms added up ((100 - k)(200 + k) has -100k)."""
    out: dict = {}
    for ma, ca in a:
        for mb, cb in b:
            m = tuple(sorted(ma + mb))
            out[m] = out.get(m, 0) + ca * cb
    return freeze(out)


def sect_of(sec: Section, language: Language, defs: dict | None = None) -> Sect:
    dims = []
    for lo, ln in sec.dims:
        a, n = subst(lin_text(lo, language), defs or {}), subst(lin_text(ln, language), defs or {})
        dims.append((a, add(a, n)) if a is not None and n is not None else (None, None))
    return tuple(dims)


IDENT = re.compile(r"[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*")


def sect_names(s: Sect) -> set[str]:
    """The variables a section's bounds depend on (those inside opaque symbols too)."""
    out: set[str] = set()
    for lo, hi in s:
        for form in (lo, hi):
            for m, _ in form or ():
                for v in m:
                    out.update(IDENT.findall(v) if v.startswith("(") else (v,))
    return out


def contains(outer: Sect, inner: Sect) -> bool:
    """Provably inner ⊆ outer (WHOLE as outer: only for may-sets)."""
    if outer == WHOLE:
        return True
    if inner == WHOLE or len(inner) != len(outer):
        return False
    for (olo, ohi), (ilo, ihi) in zip(outer, inner):
        if olo is None and ohi is None:
            continue
        if not ((olo is None or le(olo, ilo)) and (ohi is None or le(ihi, ohi))):
            return False
    return True


def extends(outer: Sect, inner: Sect) -> bool:
    """Provably not inner ⊆ outer for a non-empty inner: in some dimension inner starts
    before outer or ends after it, by a constant (``[0:n]`` against ``[1:n - 3]``)."""
    if outer == WHOLE or inner == WHOLE or len(inner) != len(outer):
        return False
    one = freeze({(): 1})
    for (olo, ohi), (ilo, ihi) in zip(outer, inner):
        if (olo is not None and ilo is not None and le(add(ilo, one), olo)) or \
                (ohi is not None and ihi is not None and le(add(ohi, one), ihi)):
            return True
    return False


def disjoint(a: Sect, b: Sect) -> bool:
    if a == WHOLE or b == WHOLE or len(a) != len(b):
        return empty(a) or empty(b)
    if empty(a) or empty(b):
        return True
    return any(le(ahi, blo) or le(bhi, alo) for (alo, ahi), (blo, bhi) in zip(a, b))


def empty(s: Sect) -> bool:
    return s != WHOLE and any(le(hi, lo) for lo, hi in s)


def minus(s: Sect, w: Sect) -> list[Sect]:
    """Boxes whose union covers s \\ w.  A point of s outside w is outside w in some
    dimension k, so it lies in one of the slabs [s.lo, w.lo) or [w.hi, s.hi) of
    dimension k (other dimensions as in s).  An interval whose end is not past its start
    is empty, so the slabs are right whatever the order of the bounds; slabs that are
    provably empty are left out."""
    if not bounded(w) or s == WHOLE or len(s) != len(w):
        return [s]  # a must-fact with an unknown bound removes nothing
    if contains(w, s):
        return []
    pieces = []
    for k in range(len(s)):
        (slo, shi), (wlo, whi) = s[k], w[k]
        if contains((w[k],), (s[k],)):
            continue
        if None in (slo, shi, wlo, whi):
            return [s]
        for lo, hi in ((slo, wlo), (whi, shi)):
            if not le(hi, lo):
                pieces.append(s[:k] + ((lo, hi),) + s[k + 1:])
    return pieces


def bounded(s: Sect) -> bool:
    """Every bound known: only such a section may be a must-fact (what a copy or a write
    surely covers)."""
    return s != WHOLE and all(lo is not None and hi is not None for lo, hi in s)


def overlaps(sets: frozenset, s: Sect) -> bool:
    return any(not disjoint(x, s) for x in sets)


def including(sets: frozenset, s: Sect) -> frozenset:
    if empty(s) or any(contains(x, s) for x in sets):
        return sets
    kept = {x for x in sets if not (contains(s, x))}
    kept.add(s)
    return frozenset([WHOLE]) if len(kept) > MAX_SET else frozenset(kept)


def excluding(sets: frozenset, w: Sect) -> frozenset:
    out: set = set()
    for x in sets:
        out.update(minus(x, w))
    return frozenset(out)


def widen_sets(sets: frozenset, names: set[str]) -> frozenset:
    out: set = set()
    for x in sets:
        if x != WHOLE and sect_names(x) & names:
            x = tuple((None, None) if sect_names((d,)) & names else d for d in x)
            if all(d == (None, None) for d in x):
                x = WHOLE
        out.add(x)
    return frozenset([WHOLE]) if WHOLE in out else frozenset(out)


def hull_sets(sets: frozenset, ranges: dict) -> frozenset:
    """Each section over every value of the loop indices in ``ranges`` ({index: (lo, hi)}
    inclusive, ``facts.index_range``): a dimension linear in an index, with a constant
    coefficient, takes its least start and greatest end over the range (``A[i][j]`` over
    ``0 <= j <= i - 1`` is ``A[i][0:i]``); any other mention of an index leaves that
    dimension unbounded, as ``widen_sets`` would."""
    out: set = set()
    for x in sets:
        if x != WHOLE and sect_names(x) & set(ranges):
            x = tuple(_hull_dim(d, ranges) for d in x)
            if all(d == (None, None) for d in x):
                x = WHOLE
        out.add(x)
    return frozenset([WHOLE]) if WHOLE in out else frozenset(out)


def _hull_dim(d: Dim, ranges: dict) -> Dim:
    lo, hi = d
    for name, (rlo, rhi) in ranges.items():
        lo, hi = _extreme(lo, name, rlo, rhi, True), _extreme(hi, name, rlo, rhi, False)
    return (lo, hi) if lo is not None and hi is not None else (None, None)


def _extreme(form: Lin | None, name: str, rlo: Lin | None, rhi: Lin | None, least: bool) -> Lin | None:
    if form is None or any(name in m and m != (name,) for m, _ in form):
        return None
    coef = dict(form).get((name,), 0)
    if not coef:
        return form
    bound = rlo if (coef > 0) == least else rhi
    if bound is None or any(name in m for m, _ in bound):
        return None
    rest = freeze({m: c for m, c in form if m != (name,)})
    return add(rest, freeze({m: c * coef for m, c in bound}))


CALLER = "\0"  # marks a caller's name inside a callee's walk


def rename(form: Lin | None, prefix: str) -> Lin | None:
    if form is None:
        return None
    return freeze({tuple(sorted(prefix + v for v in m)): c for m, c in form})


def rename_sect(s: Sect, prefix: str) -> Sect:
    return tuple((rename(lo, prefix), rename(hi, prefix)) for lo, hi in s)


def rename_sets(sets: frozenset, prefix: str) -> frozenset:
    return frozenset(rename_sect(x, prefix) for x in sets)


def uncaller(sets: frozenset) -> frozenset:
    """Callee-side sections in the caller's names: dimensions that mention a callee's own
    name are widened (unbounded), the caller's marks are removed."""
    out = set()
    for x in sets:
        dims = []
        for d in x:
            names = sect_names((d,))
            if any(not n.startswith(CALLER) for n in names):
                dims.append((None, None))
            else:
                lo, hi = d
                strip = (lambda f: None if f is None else freeze({tuple(sorted(v[1:] for v in m)): c for m, c in f}))
                dims.append((strip(lo), strip(hi)))
        x = tuple(dims)
        out.add(WHOLE if x and all(d == (None, None) for d in x) else x)
    return frozenset(out)
