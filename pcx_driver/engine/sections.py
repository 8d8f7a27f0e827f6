"""Section algebra over the planner's ``Section`` texts: linear forms, equality, unions.

A linear form is a {monomial: coefficient} dict over identifier names (a monomial is a
sorted tuple of names; ``()`` the constant term), read from an expression the engine
wrote (``linear_form``) and written back as C (``render_form``).  Sections are compared
and merged only where their bounds are such forms differing by constants (or by names
whose values the caller knows, object-like macros); anything else
answers None (or False), which every caller takes as "not known".  Pure functions: no
tree of the unit, no plan state.  The plan checker has its own symbolic sections over
the unit's tree (engine/symsect.py); see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import itertools

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import assigned_and_declared, text_of
from pcx_driver.engine.source import strip_parens
from pcx_driver.model import Assumption, Language, Section


def linear_form(expr: str, language: Language) -> dict[tuple[str, ...], int] | None:
    """``expr`` as {monomial: coefficient} when it is a polynomial in identifiers with
    integer coefficients (``n-2``, ``(i+1)*m``); None otherwise."""
    data = f"long pcx__e = ({expr});".encode()
    root = hostaccess.parse(data, language).root_node
    if root.has_error:
        return None
    decl = root.named_children[0] if root.named_children else None
    init = None
    if decl is not None:
        for c in decl.named_children:
            if c.type == "init_declarator":
                init = c.child_by_field_name("value")
    if init is None:
        return None

    def lin(node: tree_sitter.Node) -> dict[tuple[str, ...], int] | None:
        t = node.type
        if t == "parenthesized_expression" and node.named_child_count == 1:
            return lin(node.named_children[0])
        if t == "cast_expression":  # (size_t)(n + 1): an extent's value
            value = node.child_by_field_name("value")
            return lin(value) if value is not None else None
        if t == "number_literal":
            try:
                return {(): int(text_of(data, node).rstrip("uUlL"), 0)}
            except ValueError:
                return None
        if t == "identifier":
            return {(text_of(data, node),): 1}
        if t == "unary_expression":
            op = text_of(data, node.child_by_field_name("operator"))
            inner = lin(node.child_by_field_name("argument"))
            if inner is None or op not in "+-":
                return None
            return {m: (-c if op == "-" else c) for m, c in inner.items()}
        if t == "binary_expression":
            op = text_of(data, node.child_by_field_name("operator"))
            a, b = lin(node.child_by_field_name("left")), lin(node.child_by_field_name("right"))
            if a is None or b is None:
                return None
            if op in "+-":
                out = dict(a)
                for m, c in b.items():
                    out[m] = out.get(m, 0) + (c if op == "+" else -c)
                return {m: c for m, c in out.items() if c}
            if op == "*":
                out = {}
                for (ma, ca), (mb, cb) in itertools.product(a.items(), b.items()):
                    m = tuple(sorted(ma + mb))
                    out[m] = out.get(m, 0) + ca * cb
                return {m: c for m, c in out.items() if c}
        return None

    return lin(init)


def same_section(a: Section, b: Section | None, language: Language = Language.C) -> bool:
    """The same elements: every bound equal as a polynomial (``n*n`` and ``(n) * (n)``)."""
    if b is None or len(a.dims) != len(b.dims):
        return False
    for (alo, aln), (blo, bln) in zip(a.dims, b.dims):
        for x, y in ((alo, blo), (aln, bln)):
            if x.replace(" ", "") == y.replace(" ", ""):
                continue
            fx, fy = linear_form(x, language), linear_form(y, language)
            if fx is None or fy is None or subtract(fx, fy):
                return False
    return True


def render_form(form: dict[tuple[str, ...], int]) -> str:
    terms = []
    for m, c in sorted(form.items(), key=lambda mc: (-len(mc[0]), mc[0])):
        mono = "*".join(m)
        if not mono:
            terms.append(str(c))
        elif c == 1:
            terms.append(mono)
        elif c == -1:
            terms.append("-" + mono)
        else:
            terms.append(f"{c}*{mono}")
    if not terms:
        return "0"
    text = terms[0]
    for t in terms[1:]:
        text += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return text


def subtract(a: dict, b: dict) -> dict:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0) - c
    return {m: c for m, c in out.items() if c}


def known_value(form: dict[tuple[str, ...], int], constants: dict[str, int]) -> int | None:
    """The value of a linear form whose every name is a known constant (a macro's value)."""
    total = 0
    for m, c in form.items():
        if any(name not in constants for name in m):
            return None
        term = c
        for name in m:
            term *= constants[name]
        total += term
    return total


def _assumed_sign(diff: dict, assume: list[Assumption]) -> int | None:
    """For ``diff`` = x - y of the form ``k * name + c``: the sign of x - y once ``name`` is
    at least a bound (sizes are large, so that is the assumption to make), that bound
    appended to ``assume``; None for any other form."""
    names = [m for m in diff if m != ()]
    if len(names) != 1 or len(names[0]) != 1 or not diff[names[0]]:
        return None
    k, c = diff[names[0]], diff.get((), 0)
    # k > 0: k * name + c >= 0 when name >= ceil(-c / k);  k < 0: <= 0 when name >= ceil(c / -k)
    bound = -(c // k) if k > 0 else -(-c // -k)
    assume.append(Assumption(names[0][0], bound))
    return 1 if k > 0 else -1


def union_sections(secs: list[Section], language: Language, constants: dict[str, int] | None = None,
                   assume: list[Assumption] | None = None) -> Section | None:
    """The smallest section covering ``secs`` dimension by dimension, when the bounds
    differ by constants (``a[0:n]`` and ``a[1:n-2]`` -> ``a[0:n]``), also by names of known
    value (``constants``: ``a[0:N*N]`` and ``a[N+1:N*N-2*N-2]`` with ``N`` 2048); None
    otherwise.  With ``assume`` (a list to extend), bounds that differ by one name and a
    constant are ordered by an assumption on that name, appended there: the caller
    makes the section's users check it at run time."""
    first = secs[0]
    if all(s.dims == first.dims for s in secs):
        return Section(first.base, list(first.dims))
    if any(len(s.dims) != len(first.dims) for s in secs):
        return None
    dims = []
    for d in range(len(first.dims)):
        lo_best = hi_best = None
        for s in secs:
            lo = linear_form(s.dims[d][0], language)
            ln = linear_form(s.dims[d][1], language)
            if lo is None or ln is None:
                return None
            hi = {m: lo.get(m, 0) + ln.get(m, 0) for m in set(lo) | set(ln)}
            hi = {m: c for m, c in hi.items() if c}
            if lo_best is None:
                lo_best, hi_best = lo, hi
                continue
            dl = known_value(subtract(lo, lo_best), constants or {})
            dh = known_value(subtract(hi, hi_best), constants or {})
            if assume is not None:  # bounds that differ by one name: ordered by an assumption
                dl = dl if dl is not None else _assumed_sign(subtract(lo, lo_best), assume)
                dh = dh if dh is not None else _assumed_sign(subtract(hi, hi_best), assume)
            if dl is None or dh is None:
                return None  # bounds differ by more than a constant
            if dl < 0:
                lo_best = lo
            if dh > 0:
                hi_best = hi
        dims.append((render_form(lo_best), render_form(subtract(hi_best, lo_best))))
    return Section(first.base, dims)


def fixed_section(secs: list[Section], lang: Language, changed: set[str], constants: dict[str, int] | None = None,
                  assume: list[Assumption] | None = None) -> Section | None:
    """The union of ``secs`` if its bounds use no identifier that changes in the region
    (nor do the assumptions it needs, appended to ``assume``: see ``union_sections``)."""
    needed: list[Assumption] = []
    sec = union_sections(secs, lang, constants, needed if assume is not None else None)
    if sec is None:
        return None
    used = (set().union(*(hostaccess.expression_identifiers(e, lang) for dim in sec.dims for e in dim))
            if sec.dims else set())
    if (used | {a.name for a in needed}) & changed:
        return None
    if assume is not None:
        assume.extend(needed)
    return sec


def loop_start(loop: tree_sitter.Node, data: bytes) -> tuple[tree_sitter.Node, tree_sitter.Node] | None:
    """(variable, start value) of a ``for`` loop's ``int v = A`` or ``v = A`` initialiser;
    None for any other."""
    init = loop.child_by_field_name("initializer") if loop.type == "for_statement" else None
    if init is None:
        return None
    if init.type == "declaration":
        decls = [d for d in init.named_children if d.type == "init_declarator"]
        if len(decls) != 1:
            return None
        var, start = decls[0].child_by_field_name("declarator"), decls[0].child_by_field_name("value")
    elif init.type == "assignment_expression" and text_of(data, init.child_by_field_name("operator")) == "=":
        var, start = init.child_by_field_name("left"), init.child_by_field_name("right")
    else:
        return None
    if var is None or start is None or var.type != "identifier":
        return None
    return var, start


def loop_range(loop: tree_sitter.Node, data: bytes, lang: Language) -> tuple[str, dict, dict] | None:
    """(variable, least value, greatest value) of ``for (int v = A; v < B; v++)`` (also
    ``<=``, and ``v >= B; v--`` / ``v > B``) whose body does not assign ``v``; the values
    as linear forms.  None for any other loop."""
    if loop.type != "for_statement":
        return None
    cond, upd = loop.child_by_field_name("condition"), loop.child_by_field_name("update")
    if cond is None or upd is None or cond.type != "binary_expression":
        return None
    got = loop_start(loop, data)
    if got is None:
        return None
    var, start = got
    v = text_of(data, var)
    left, right = strip_parens(cond.child_by_field_name("left")), cond.child_by_field_name("right")
    if left is None or right is None or text_of(data, left) != v:
        return None
    if upd.type != "update_expression" or text_of(data, strip_parens(upd.child_by_field_name("argument"))) != v:
        return None
    up = "++" in text_of(data, upd)
    op = text_of(data, cond.child_by_field_name("operator"))
    first, bound = linear_form(text_of(data, start), lang), linear_form(text_of(data, right), lang)
    if first is None or bound is None or v in hostaccess.expression_identifiers(text_of(data, right), lang):
        return None
    body = loop.child_by_field_name("body")
    if body is None or v in assigned_and_declared(body, data, body.start_byte, body.end_byte):
        return None
    shift = {"<": -1, "<=": 0} if up else {">": 1, ">=": 0}
    if op not in shift:
        return None
    last = subtract(bound, {(): -shift[op]})
    return (v, first, last) if up else (v, last, first)


def widen_over(dims: list[list[dict]], rng: tuple[str, dict, dict], runs: list[dict] | None = None) -> bool:
    """Widen each ``[lo, hi)`` pair of linear forms in ``dims`` over a loop's range
    (``loop_range``: its variable, least and greatest value), in place: the least ``lo``
    and the greatest ``hi`` over the loop's iterations.  With ``runs`` (a list), the loop
    variable's coefficient may be a form in other names whose sign the loop proves where
    it runs (Needleman-Wunsch's diagonal ``(i + 1) * max_cols`` under ``i < max_cols - 2``:
    ``max_cols >= 3``); the span ``most - least`` whose being >= 0 that rests on is added to
    ``runs``, for the caller to test (where the loop runs no iteration the hull could be
    anything).  False when no extreme is known."""
    v, least, most = rng
    for d in dims:
        for k, want_least in ((0, True), (1, False)):
            form = d[k]
            if not any(v in m for m in form):
                continue
            coef: dict = {}  # the variable's coefficient, a form in the other names
            rest: dict = {}
            for m, c in form.items():
                if m.count(v) > 1:
                    return False
                if v in m:
                    other = list(m)
                    other.remove(v)
                    coef[tuple(other)] = coef.get(tuple(other), 0) + c
                else:
                    rest[m] = c
            if any(m for m in coef) and runs is None:
                return False
            sign = _sign_where_run(coef, least, most)
            if sign is None:
                return False
            if any(m for m in coef):
                runs.append(subtract(most, least))
            pick = least if (sign > 0) == want_least else most
            d[k] = subtract(rest, {m: -x for m, x in _times(coef, pick).items()})
    return True


def _times(a: dict, b: dict) -> dict:
    """The product of two forms (monomials as sorted tuples of names)."""
    out: dict = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = tuple(sorted(ma + mb))
            out[m] = out.get(m, 0) + ca * cb
    return {m: c for m, c in out.items() if c}


def _sign_where_run(coef: dict, least: dict, most: dict) -> int | None:
    """+1 or -1: the sign of the form ``coef`` wherever the loop runs (``most - least >=
    0``): a constant's own, or ``coef = a * (most - least) + b`` with ``a >= 0`` and a
    constant ``b`` of the sign (or the same for ``-coef``); a zero counts either way."""
    names = [m for m in coef if m]
    if not names:
        c = coef.get((), 0)
        return 1 if c >= 0 else -1
    span = subtract(most, least)
    for sign in (1, -1):
        f = {m: sign * c for m, c in coef.items()}
        m0 = names[0]
        if not span.get(m0):
            return None
        if f[m0] % span[m0]:
            continue
        a = f[m0] // span[m0]
        left = subtract(f, {m: a * c for m, c in span.items()})
        if a >= 0 and set(left) <= {()} and left.get((), 0) >= 0:
            return sign
    return None
