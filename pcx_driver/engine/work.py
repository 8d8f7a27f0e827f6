"""Work estimate of a nest: trip counts times statements, a constant or a C expression.

Contract: ``estimate(nest) -> WorkEstimate``.  A trip count that is not a known constant
counts as ``UNKNOWN_TRIP``.  Whether the estimate pays for an offload
is decided by the caller (``analysis``: a constant below ``min-work`` is PCX115), by
``traffic.py`` and by ``workguard.py``.
"""

from __future__ import annotations

from typing import NamedTuple

from tree_sitter import Node

from pcx_driver.engine.affine import concrete
from pcx_driver.engine.loops import Loop
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.source import walk

#: trip count assumed for a loop whose bound is not a known constant (for work estimates)
UNKNOWN_TRIP = 1000


class WorkEstimate(NamedTuple):
    work: float  # trip counts times statements, summed over the loops
    iterations: int  # iterations of the whole nest
    constant: bool  # both are constants
    shown: str  # the estimate as remarks show it, e.g. "10 * (1 + 5 * 2)" or "n * 2"
    c_expr: str  # the estimate as a C expression of names in scope at the nest; "" for a constant
    guessed: bool  # a trip count was not known and counted as UNKNOWN_TRIP


def estimate(nest: Nest) -> WorkEstimate:
    """(estimate, iterations, whether both are constants, the estimate as shown, the
    estimate as a C expression of names in scope at the nest: "" when it is a constant,
    whether a trip count was guessed).

    The estimate is trip counts times body size (statements), summed over the loops.
    A trip count that is not affine in names outside the nest (a bound read from an
    array, a triangular inner loop) counts as ``UNKNOWN_TRIP``."""
    all_const, guessed = True, False
    indices = set(nest.index_keys)
    ints = {k: v for k, v in nest.values.items() if isinstance(v, int)}
    wrap = nest.rendered

    def trip(lp: Loop) -> tuple[float, str | None]:
        """(value for the float estimate, symbolic text or None for a constant)"""
        nonlocal all_const, guessed
        tc = lp.trip_count()
        if tc is None and lp.low is not None and lp.high is not None and lp.step:
            span = lp.high - lp.low
            sym = None if span.symbols() & indices else concrete(span, ints).render(wrap)
            all_const, guessed = False, guessed or sym is None
            return float(UNKNOWN_TRIP), (f"({sym}) / {abs(lp.step)} + 1" if sym else None)
        conc = concrete(tc, nest.values) if tc is not None else None
        if conc is None or not conc.is_const:
            all_const = False
            if tc is None or tc.symbols() & indices:
                guessed = True
                return float(UNKNOWN_TRIP), None
            return float(UNKNOWN_TRIP), concrete(tc, ints).render(wrap)
        return float(max(conc.const_value, 0)), None

    def cost(lp: Loop) -> tuple[float, str | None, str | None]:
        """(estimate, shown, C text) of ``lp`` and the loops inside it; texts None: a constant"""
        own = _body_size(lp)
        value, sym = trip(lp)
        inner = [cost(c) for c in lp.children]
        body = own + sum(c[0] for c in inner)
        fixed = own + sum(c[0] for c in inner if c[1] is None)
        terms = [c for c in inner if c[1] is not None]
        if sym is None and not terms:
            return value * body, None, None
        shown_body = " + ".join([f"{fixed:g}"] + [c[1] for c in terms])
        c_body = " + ".join([f"{fixed:g}"] + [c[2] for c in terms])
        if terms:
            shown_body, c_body = f"({shown_body})", f"({c_body})"
        if sym is None:
            return value * body, f"{value:g} * {shown_body}", f"{value:g} * {c_body}"
        factor = sym if sym.replace("_", "a").isalnum() else f"({sym})"
        return value * body, f"{factor} * {shown_body}", f"(double)({sym}) * {c_body}"

    total_iters = 1.0
    work, shown, c_text = cost(nest.root)
    if shown is None:
        shown = _shown(nest)
    for lp in nest.loops:
        total_iters *= trip(lp)[0]
    return WorkEstimate(work, int(total_iters), all_const, shown, c_text or "", guessed)

def _shown(nest: Nest) -> str:
    """A constant estimate as its factors: trip counts times statements, e.g. 10 * (1 + 5 * 2)."""
    def shown(lp: Loop) -> str:
        tc = lp.trip_count()
        conc = concrete(tc, nest.values) if tc is not None else None
        t = str(max(conc.const_value, 0)) if conc is not None and conc.is_const else str(UNKNOWN_TRIP)
        own = _body_size(lp)
        return f"{t} * " + (f"({own} + " + " + ".join(shown(c) for c in lp.children) + ")" if lp.children
                            else str(own))
    return shown(nest.root)


def _body_size(lp: Loop) -> int:
    """Statements of ``lp``'s body outside its inner loops, plus one (the work estimate's unit)."""
    if lp.body is None:
        return 1
    return 1 + sum(1 for x in walk(lp.body) if x.type in ("expression_statement", "declaration")
                   and (_nearest_loop(x) or lp.node).id == lp.node.id)


def _nearest_loop(n: Node) -> Node | None:
    p = n.parent
    while p is not None and p.type != "for_statement":
        p = p.parent
    return p
