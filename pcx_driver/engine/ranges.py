"""Where an array access runs and what it reaches: its iteration domain and subscript ranges.

Contract: ``AccessRanges(model, affine)`` for one translation unit; its memos live as long
as it does.
- ``domain_of(a, nest, subs, write)``: the access's ``dependence.Instance``: its loops'
  bounds and the affine if-conditions that hold whenever it executes (``if (i > 0)``).
- ``tightened(a, nest)``: the access's loops with bounds narrowed by those conditions.
- ``subscript_range(nest, refs, k)``: the symbolic [min, max] of subscript ``k`` over all
  accesses, or None when isl cannot order their ends.
- ``subscript_bounds(nest, refs, k)``: the min, and the max as a list of candidates that
  no other bounds (a section's length is then their C maximum).
- ``extreme(p, loops, low, values)``: the least or greatest value of ``p`` over ``loops``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from tree_sitter import Node

from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine.affine import AffineForms, concrete
from pcx_driver.engine.dependence import (Instance, LoopBounds, attained, loop_bounds, loop_domain, nonneg_on,
                                          nonneg_poly, param_lower_bounds, point_reached)
from pcx_driver.engine.loops import Loop, Poly
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.source import SourceModel, condition_value, operands, strip_parens


class AccessRanges:
    """Iteration domains and subscript ranges of one unit's array accesses (see the module
    docstring)."""

    def __init__(self, model: SourceModel, affine: AffineForms):
        self.model = model
        self.affine = affine
        self._range_cache: dict = {}  # (ids of the refs, k, id of the nest) -> (range, refs)
        self._sign_cache: dict = {}  # (coefficient, loop node ids, known values) -> sign
        self._guard_cache: dict = {}  # (id of the access, id of the nest) -> (access, nest, guards)
        # names taken to be >= 0 where no bound proves a stride's sign (``assuming``)
        self._assumed: frozenset[tuple[str, int]] = frozenset()

    @contextlib.contextmanager
    def assuming(self, bounds: dict[str, int]):
        """Within the block, strides' signs are proved as if each name of ``bounds`` were
        at least its bound (``X[n*C*Hin*Win + (h+p)*Win + w]`` with ``Hin`` and ``Win`` in
        no loop bound: 0; ``(W - 1)`` as a stride: 1): the caller makes that a run-time
        test of the kernel whose sections rest on it."""
        before, self._assumed = self._assumed, frozenset(bounds.items())
        try:
            yield
        finally:
            self._assumed = before

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def _bounds_of(self, a: ArrayRef) -> list[LoopBounds]:
        return loop_bounds(a.loops)

    def domain_of(self, a: ArrayRef, nest: Nest, subs: list | None = None, write: bool = False) -> Instance:
        """The access's iteration domain: its loops, and the affine if-conditions around it."""
        return Instance(list(subs) if subs is not None else [], self._bounds_of(a), write,
                        guards=self._guards(a, nest))

    def tightened(self, a: ArrayRef, nest: Nest) -> list[Loop]:
        """The access's loops with bounds narrowed by guards such as ``if (i > 0)``: a guard
        ``i - e >= 0`` (or ``e - i >= 0``) raises the low (lowers the high) bound of i to e when
        e is provably tighter."""
        guards = self._guards(a, nest)
        if not guards:
            return a.loops
        import dataclasses

        loops = list(a.loops)
        values = nest.values if nest is not None else {}
        for g in guards:
            idx = [k for k, lp in enumerate(loops) if lp.index in g.symbols()]
            if not idx:
                continue
            k = idx[-1]  # bound the innermost index by an expression in the outer ones
            lp = loops[k]
            c = g.coeff_of(lp.index)
            if not c.is_const or abs(c.const_value) != 1 or g.degree_in([lp.index]) != 1:
                continue
            rest = g.without(lp.index)
            inner = {x.index for x in loops[k + 1:]}
            if rest.symbols() & inner or lp.low is None or lp.high is None:
                continue
            dom = loop_domain(loops)
            if c.const_value == 1:  # i >= -rest
                cand = -rest
                if nonneg_on(cand - lp.low, [dom], values):
                    loops[k] = dataclasses.replace(lp, low=cand)
            else:  # i <= rest
                cand = rest
                if nonneg_on(lp.high - cand, [dom], values):
                    loops[k] = dataclasses.replace(lp, high=cand)
        return loops

    def _guards(self, a: ArrayRef, nest: Nest) -> list[Poly]:
        """Affine conditions (each ``poly >= 0``) that hold whenever the access executes: its
        if-conditions, the bounds of the serial loops around the nest (``Nest.context``), and
        an ``i != e`` where ``e`` is a bound of ``i``'s loop as ``i >= e + 1`` (or ``<= e - 1``)."""
        key = (id(a), id(nest))
        hit = self._guard_cache.get(key)
        if hit is not None:  # asked per domain, per tightening and per fold: read once
            return list(hit[2])
        if nest is not None:
            with nest.facts.bound(a.bindings):  # a helper's conditions, over this call's arguments
                out, unequal = self._guard_facts(a, nest)
        else:
            out, unequal = self._guard_facts(a, nest)
        out = out + list(nest.context if nest is not None else [])  # the serial loops around the nest
        out += _minimum_facts(a.loops)  # ``i < MIN(ii + B, n)``
        values = nest.values if nest is not None else {}
        one = Poly.const(1)
        for d in unequal:
            for lp in a.loops:
                c = d.coeff_of(lp.index)
                if lp.index not in d.symbols() or not c.is_const or abs(c.const_value) != 1 \
                        or d.degree_in([lp.index]) != 1 or lp.low is None or lp.high is None:
                    continue
                e = -d.without(lp.index) if c.const_value == 1 else d.without(lp.index)
                i = Poly.sym(lp.index)
                if concrete(e - lp.low, values) == Poly.const(0):
                    out.append(i - e - one)
                elif concrete(e - lp.high, values) == Poly.const(0):
                    out.append(e - one - i)
        self._guard_cache[key] = (a, nest, out)  # a and nest kept alive: their ids stay unique
        return list(out)

    def _guard_facts(self, a: ArrayRef, nest: Nest) -> tuple[list[Poly], list[Poly]]:
        """(``p >= 0`` facts, ``p != 0`` facts) of the if-conditions around the access.  An
        untaken ``x == e`` gives ``x - e != 0``; an untaken ``A && B`` whose ``A`` is the
        text of a taken condition around the same access gives what ``!B`` gives (in an
        else-if chain of boundary cases, ``if (r == 0 && c == 0) ... else if (r == 0)``:
        there ``c != 0``)."""
        if nest is None or not a.guards:
            return [], []
        out: list[Poly] = []
        neq: list[Poly] = []
        taken_texts = set()  # relations that hold here, over values nothing in the nest changes
        for cond, taken in a.guards:
            if taken:
                cond = condition_value(cond)
                taken_texts |= {self._norm(r) for r in operands(cond, self._t)
                                if r is not None and self._affine_relation(r, nest)}
        for cond, taken in a.guards:
            cond = condition_value(cond)
            rels = operands(cond, self._t)
            either = operands(cond, self._t, "||") if not taken else []
            if len(either) > 1:
                # an untaken ``A || B`` (``if (x >= n || y >= n) continue;``): neither holds
                rels = either
            elif not taken:
                rest = [r for r in rels if r is None or self._norm(r) not in taken_texts]
                rels = rest if len(rest) == 1 else [strip_parens(cond)]
            for rel in rels:
                rel = strip_parens(rel)
                if rel is None or rel.type != "binary_expression":
                    continue
                op = self._t(rel.child_by_field_name("operator"))
                if not taken:
                    op = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}.get(op, "")
                left = self.affine.poly(rel.child_by_field_name("left"), nest)
                right = self.affine.poly(rel.child_by_field_name("right"), nest)
                if left is None or right is None:
                    continue
                # an index in the condition must be that of a loop around the if, not inside it
                # (a condition in a helper walked as if inlined is where the call is)
                at = cond.start_byte
                if a.via is not None and not nest.root.node.start_byte <= at < nest.root.node.end_byte:
                    at = a.via.start_byte
                own = {lp.index for lp in a.loops if lp.node.start_byte < at < lp.node.end_byte}
                if (left.symbols() | right.symbols()) & (set(nest.index_keys) - own):
                    continue
                one = Poly.const(1)
                if op == "!=":
                    neq.append(left - right)
                out += {"<": [right - left - one], "<=": [right - left], ">": [left - right - one],
                        ">=": [left - right], "==": [left - right, right - left]}.get(op, [])
        return out, neq

    def _affine_relation(self, rel: Node, nest: Nest) -> bool:
        rel = strip_parens(rel)
        return rel is not None and rel.type == "binary_expression" and \
            self.affine.poly(rel.child_by_field_name("left"), nest) is not None and \
            self.affine.poly(rel.child_by_field_name("right"), nest) is not None

    def _norm(self, n: Node) -> str:
        return "".join(self._t(strip_parens(n) or n).split())

    def subscript_range(self, nest: Nest, refs: list[ArrayRef], k: int) -> tuple[Poly, Poly] | None:
        """Symbolic [min, max] of subscript ``k`` over all accesses, or None."""
        cache = self._range_cache
        key = (tuple(id(a) for a in refs), k, id(nest), self._assumed)
        if key not in cache:
            cache[key] = (self._range_uncached(nest, refs, k), refs)  # refs kept alive: ids stay unique
        return cache[key][0]

    def subscript_bounds(self, nest: Nest, refs: list[ArrayRef], k: int) -> tuple[Poly, list[Poly]] | None:
        """The least value of subscript ``k`` over all accesses, and its greatest as the
        maximum of a few candidates, when no one access's maximum bounds all the others
        (Rodinia's hotspot reads ``temp[col]`` at a corner and ``temp[(r+1)*col+c]``
        elsewhere: which is greater depends on ``row``).  Each candidate left is one
        access's maximum that no other bounds where it runs; None when a low or a maximum
        cannot be had."""
        ends = self._ends(nest, refs, k)
        if ends is None:
            return None
        lo = _fold(ends.lows, True, nest, ends.doms, ends.exact_lows)
        if lo is None:
            return None
        highs, doms = ends.highs, ends.doms
        keep: list[int] = []
        for c, cand in enumerate(highs):
            dominated = any(o != c and ends.exact_highs[o] and _bounds(highs[o], cand, False, nest, doms[c])
                            and (highs[o] != cand or o < c) for o in range(len(highs)))
            if not dominated:
                if not ends.exact_highs[c]:
                    return None  # a bound the access may never reach is no end of the section
                keep.append(c)
        return lo, [highs[c] for c in keep]

    def _ends(self, nest: Nest, refs: list[ArrayRef], k: int) -> "_Ends | None":
        """Each access's least and greatest subscript ``k`` over its own domain, and the
        domains; None when one is not affine or not bounded.

        Under a minimum (``Loop.alt_highs``) an access's end that isl cannot prove it
        reaches (a read guarded by ``i != k`` under ``k <= min(i, j)`` never reaches
        ``k = i``) is still a true bound: it is kept, marked inexact, and may stand only
        where an exact end of another access bounds it (``_fold``)."""
        ends = _Ends([], [], [], [], [])
        for a in refs:
            p = a.polys[k]
            if p is None:
                return None
            loops = self.tightened(a, nest)
            guards = self._guards(a, nest)
            lo = self.extreme(p, loops, True, nest.values, a.loops, guards)
            hi = self.extreme(p, loops, False, nest.values, a.loops, guards)
            exact_lo, exact_hi = lo is not None, hi is not None
            if lo is None:
                lo = self.extreme(p, loops, True, nest.values, a.loops, guards, reached=False)
            if hi is None:
                hi = self.extreme(p, loops, False, nest.values, a.loops, guards, reached=False)
            # (a minimum's arms are no guard to take where the loops give no end: not attained)
            arms = _minimum_facts(a.loops)
            lo, hi = self._guarded_ends(a, nest, p, lo, hi, [g for g in guards if g not in arms])
            if lo is None or hi is None:
                return None
            ends.lows.append(lo)
            ends.highs.append(hi)
            ends.exact_lows.append(exact_lo)
            ends.exact_highs.append(exact_hi)
        ends.doms.extend(self.domain_of(a, nest) for a in refs)
        return ends

    def _guarded_ends(self, a: ArrayRef, nest: Nest, p: Poly, lo: Poly | None, hi: Poly | None,
                      guards: list[Poly]) -> tuple[Poly | None, Poly | None]:
        """``lo``/``hi`` (the subscript ``p``'s ends over its loops), narrowed by guards on
        the subscript itself: ``if (start + j >= 0 && start + j < n) ... in[start + j]``.

        A guard's bound replaces the loops' where it is provably as tight (or the loops
        give none).  Where the loops' low end is not provably at least 0 (a window that
        reaches below the array at its edge) a guard's low end that is replaces it, but
        then the high end must come from a guard that is provably as tight as the loops':
        a guard looser than its loop (``i < r`` around ``if (i < n / 2)``) never widens
        the section, and a clipped window is clipped at both ends or not at all."""
        indices = {lp.index for lp in a.loops}
        if not guards or not p.symbols() & indices:
            return lo, hi
        dom = self.domain_of(a, nest)
        proved = lambda q: nonneg_on(q, [dom], nest.values)  # noqa: E731
        new_lo, new_hi, clipped = lo, hi, False
        for g in guards:
            below = p - g  # g = p - L >= 0: p >= L
            if not below.symbols() & indices:
                if new_lo is None or proved(below - new_lo):
                    new_lo = below
                elif not proved(new_lo) and proved(below):
                    new_lo, clipped = below, True
            above = p + g  # g = H - p >= 0: p <= H
            if not above.symbols() & indices and (new_hi is None or proved(new_hi - above)):
                new_hi = above
        if clipped and (new_hi is hi or new_hi is None):
            new_lo, new_hi = lo, hi  # clipped below only: the loops' high end is no bound of a window
        if new_lo is None or not proved(new_lo):
            rows = self._guarded_rows(p, guards, indices, proved)
            # a guard looser than the loops (``yy < height + 5``) never widens the section
            if rows is not None and (new_hi is None or proved(new_hi - rows[1])):
                return rows
        return new_lo, new_hi

    @staticmethod
    def _guarded_rows(p: Poly, guards: list[Poly], indices: set[str], proved) -> tuple[Poly, Poly] | None:
        """A row-major subscript ``r * w + c`` whose guards keep the row and the column in
        the array: ``if (xx >= 0 && yy >= 0 && yy < height && xx < width) ... v[yy * width
        + xx]`` (a 5x5 window clipped at the image's edges, HeCBench entropy).  With ``r >=
        0``, ``0 <= c <= w - 1`` and a guard ``r <= H``, the subscript lies in ``[0, (H + 1)
        * w - 1]`` though the loops' bounds reach outside on every side."""
        for w in sorted(p.symbols() - indices):
            r, c = p.coeff_of(w), p.without(w)
            if not r.symbols() & indices or w in r.symbols() or w in c.symbols() or r * Poly.sym(w) + c != p:
                continue  # (a row that does not vary in the nest needs no guard)
            if not (proved(r) and proved(c) and proved(Poly.sym(w) - Poly.const(1) - c)):
                continue
            for g in guards:
                top = r + g  # g = H - r >= 0: its index terms cancel the row's
                if not top.symbols() & indices:
                    return Poly.const(0), (top + Poly.const(1)) * Poly.sym(w) - Poly.const(1)
        return None

    def _range_uncached(self, nest: Nest, refs: list[ArrayRef], k: int) -> tuple[Poly, Poly] | None:
        ends = self._ends(nest, refs, k)
        if ends is None:
            return None
        lo = _fold(ends.lows, True, nest, ends.doms, ends.exact_lows)
        hi = _fold(ends.highs, False, nest, ends.doms, ends.exact_highs)
        if lo is None or hi is None:
            return None
        return lo, hi

    def extreme(self, p: Poly, loops: list[Loop], low: bool, values: dict, within: list[Loop] | None = None,
                guards: list[Poly] | None = None, reached: bool = True) -> Poly | None:
        """The least (low) or greatest value of ``p`` over the loops, as a Poly over the names
        outside them, or None; ``values``: the nest's known values; ``within``: the loops these
        were tightened from (their bounds hold too, and help prove a stride's sign);
        ``guards``: conditions (each ``poly >= 0``) that hold there too, such as the bounds
        of the serial loops around the nest (LU's ``j * size + i`` with ``j > i >= 0``).

        A loop bounded by a minimum (``Loop.alt_highs``) gives one bound per arm; each is a
        true bound, and the one isl proves attained everywhere is the extreme (None if none
        is: a bound never reached could make a section reach past the array).  Where the
        expression is no affine form (``i*n + k``), the point the bounds were put in at is
        checked instead: inside the domain, it attains the value.  ``reached=False``: the
        first true bound, attained or not (``_ends``' inexact ends)."""
        split = [lp for lp in loops if lp.alt_highs]
        if not split:
            return self._extreme(p, loops, low, values, within, guards) if reached else None
        import dataclasses
        import itertools

        facts = list(guards or []) + [f for f in _minimum_facts(split) if f not in (guards or [])]
        dom = loop_domain(loops, facts)
        seen: list[Poly] = []
        for highs in itertools.islice(itertools.product(*[[lp.high, *lp.alt_highs] for lp in split]), 16):
            chosen = dict(zip((lp.node.id for lp in split), highs))
            variant = [dataclasses.replace(lp, high=chosen[lp.node.id], min_arms=[]) if lp.node.id in chosen else lp
                       for lp in loops]
            picks: list[tuple[str, Poly]] = []
            end = self._extreme(p, variant, low, values, within, facts, picks)
            if end is None or end in seen:
                continue
            seen.append(end)
            if not reached or attained(p, end, dom, values) or point_reached(picks, dom, values):
                return end
        return None

    def _extreme(self, p: Poly, loops: list[Loop], low: bool, values: dict, within: list[Loop] | None,
                 guards: list[Poly] | None, picks: list[tuple[str, Poly]] | None = None) -> Poly | None:
        """(``picks``, when given, receives each index and the bound put in for it)"""
        for lp in reversed(loops):
            if lp.index not in p.symbols():
                continue
            if p.degree_in([lp.index]) > 1 or lp.low is None or lp.high is None:
                return None
            coeff = p.coeff_of(lp.index)
            sign = _sign(coeff) if coeff.is_const else self._param_sign(coeff, loops, values, within, guards)
            if sign is None:
                return None
            pick_low = (sign > 0) == low
            p = p.substitute(lp.index, lp.low if pick_low else lp.high)
            if picks is not None:
                picks.append((lp.index, lp.low if pick_low else lp.high))
        if any(lp.index in p.symbols() for lp in loops):
            return None
        return p

    def _param_sign(self, coeff: Poly, loops: list[Loop], values: dict, within: list[Loop] | None = None,
                    guards: list[Poly] | None = None) -> int | None:
        """Sign of a parametric coefficient (the stride n of i*n), proved from the loops' bounds
        and the guards (the key holds the bounds: a loop tightened by a guard is another domain)."""
        cache = self._sign_cache
        values = values or {}
        key = (coeff, tuple((lp.node.id, lp.low, lp.high) for lp in loops + (within or [])),
               tuple(sorted(((k, v) for k, v in values.items() if v is not None), key=lambda kv: kv[0])),
               tuple(guards or ()), frozenset(x for x in self._assumed if x[0] in coeff.symbols()))
        if key not in cache:
            cache[key] = self._param_sign_uncached(coeff, loops, values, within, guards)
        return cache[key]

    def _param_sign_uncached(self, coeff: Poly, loops: list[Loop], nest_values: dict,
                             within: list[Loop] | None = None, guards: list[Poly] | None = None) -> int | None:
        doms = [loop_domain(ls, guards or ()) for ls in (loops, within) if ls]
        lbs = param_lower_bounds(coeff.symbols(), doms, nest_values)
        for name, bound in self._assumed:
            if name in coeff.symbols():
                lbs[name] = max(lbs.get(name, bound), bound)
        if nonneg_poly(coeff, lbs):
            return 1
        if nonneg_poly(-coeff, lbs):
            return -1
        return None


def _minimum_facts(loops: list[Loop]) -> list[Poly]:
    """What loops bounded by a minimum say (each ``p >= 0``): the index below every arm,
    and the bound's own symbol at most each arm (``Loop.alt_highs``, ``Loop.bound_facts``)."""
    return [h - Poly.sym(lp.index) for lp in loops for h in lp.alt_highs] + [f for lp in loops for f in lp.bound_facts]


def _sign(p: Poly) -> int | None:
    """+1/-1 for a coefficient of known sign (parameters in strides count as positive)."""
    if p.is_const:
        c = p.const_value
        return 1 if c > 0 else (-1 if c < 0 else 1)
    signs = {1 if c > 0 else -1 for m, c in p.terms.items()}
    if len(signs) == 1:
        return signs.pop()
    return None


@dataclass
class _Ends:
    """Each access's ends of one subscript (``AccessRanges._ends``): an end is exact when
    the access reaches it, and only a true bound otherwise."""

    lows: list[Poly]
    highs: list[Poly]
    exact_lows: list[bool]
    exact_highs: list[bool]
    doms: list


def _fold(ps: list[Poly], low: bool, nest: Nest, doms: list | None = None,
          exact: list[bool] | None = None) -> Poly | None:
    """Symbolic min (low) or max of polynomials, each the extreme of one access over its own
    domain, when isl can order them: the candidate that bounds every other one wherever that
    other access runs (its domain is non-empty).  An access whose guards make its domain empty
    bounds nothing; one that runs only for some parameters is compared only there.  (Proving
    an order on the parameters where both of two domains are non-empty is not enough: an
    access that never runs once made its value the bound, fuzz seed 9200047.)"""
    doms = doms if doms else [[] for _ in ps]
    for c, cand in enumerate(ps):
        if exact is not None and not exact[c]:
            continue  # (``exact``: which candidates their access reaches; only those can be the end)
        if all(k == c or _bounds(cand, p, low, nest, dom) for k, (p, dom) in enumerate(zip(ps, doms))):
            return cand
    return None


def _bounds(cand: Poly, p: Poly, low: bool, nest: Nest, dom) -> bool:
    """``cand <= p`` (low) or ``cand >= p`` wherever ``dom`` is non-empty."""
    diff = concrete(p - cand if low else cand - p, nest.values)
    if diff.is_const:
        return diff.const_value >= 0
    if nonneg_on(diff, [dom], nest.values):
        return True
    # products of parameters (ny*nz): prove the sign from each parameter's lower bound
    return nonneg_poly(diff, param_lower_bounds(diff.symbols(), [dom], nest.values))
