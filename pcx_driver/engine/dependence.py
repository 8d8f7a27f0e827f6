"""Exact affine dependence tests with isl, and delinearisation of flattened subscripts.

Contract:
- ``carried_conflict(a, b, outer, carrier, values)`` asks isl whether two instances of
  accesses ``a`` and ``b`` (each: affine subscripts over the loops enclosing it) touch the
  same element in two iterations that agree on the loops in ``outer`` and differ on
  ``carrier``.  It returns a ``Conflict`` (with an example distance), or ``None`` when isl
  proves there is none.  It raises ``NotAffine`` when a subscript or the problem cannot be
  expressed exactly; callers must then refuse.  Loop bounds that are not affine are dropped,
  which only enlarges the iteration space, so ``None`` is always sound.
- Symbols that are not loop indices are parameters: unknown integers, constant during the
  nest.  ``values`` pins the ones with known constant values (#define, const).
- ``delinearise(polys, domains, indices, values)`` turns flattened subscripts such as
  ``i*n + j`` (0 <= j < n) into dimensions ``[i][j]`` when isl proves every remainder lies
  in ``[0, stride)``; otherwise it returns None.
"""

from __future__ import annotations

import math
import re

from dataclasses import dataclass, field
from functools import lru_cache

from pcx_driver.engine.loops import Poly

# islpy (and the importlib.metadata it loads for its version) costs about a tenth of a
# second to import, on every compile: it is imported where a set is first built
# (``_parse_set``), so a source whose nests never reach an exact test does not pay for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import islpy as isl


class NotAffine(Exception):
    """A subscript (or a needed bound) is not an affine function of indices and parameters."""


@dataclass
class LoopBounds:
    index: str
    low: Poly | None
    high: Poly | None
    step: int
    key: int  # identity of the loop (shared loops have equal keys)


@dataclass
class Instance:
    subs: list[Poly]
    loops: list[LoopBounds]  # enclosing loops inside the nest, outer first
    write: bool
    label: str = ""
    line: int = 0
    guards: list[Poly] = field(default_factory=list)  # affine conditions known to hold: each poly >= 0


def loop_bounds(loops) -> list[LoopBounds]:
    """The bounds of ``loops`` (``loops.Loop``, outer first) as the dependence tests take them."""
    return [LoopBounds(lp.index, lp.low, lp.high, lp.step, lp.node.id) for lp in loops]


def loop_domain(loops, guards=()) -> Instance:
    """The iteration domain of ``loops`` (outer first), with ``guards`` (each ``>= 0``)."""
    return Instance([], loop_bounds(loops), False, guards=list(guards))


@dataclass
class Conflict:
    a: Instance
    b: Instance
    distance: int | None = None


@dataclass
class _Names:
    """Maps symbols to isl identifiers."""

    index_vars: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    monomials: dict[str, tuple[str, ...]] = field(default_factory=dict)  # param key -> its symbols

    def param(self, mono: tuple[str, ...]) -> str:
        key = "*".join(mono)
        if key not in self.params:
            self.params[key] = f"p{len(self.params)}"
            self.monomials[key] = tuple(mono)
        return self.params[key]


def _lin(p: Poly, names: _Names, index_map: dict[str, str], strict: bool) -> str | None:
    """Render ``p`` as an isl affine expression; None (or NotAffine if strict) if it is not."""
    parts = []
    for mono, c in p.terms.items():
        idx = [s for s in mono if s in index_map]
        rest = tuple(s for s in mono if s not in index_map)
        if len(idx) > 1 or (idx and rest):
            if strict:
                raise NotAffine(p.render())
            return None
        if idx:
            parts.append(f"{c}*{index_map[idx[0]]}")
        elif rest:
            parts.append(f"{c}*{names.param(rest)}")
        else:
            parts.append(str(c))
    return " + ".join(parts) if parts else "0"


def _domain(inst: Instance, prefix: str, names: _Names, values: dict[str, int],
            shared: dict[int, str] | None = None) -> tuple[dict[str, str], list[str], list[str]]:
    """Variables and constraints of one access's iteration domain."""
    index_map: dict[str, str] = {}
    variables: list[str] = []
    cons: list[str] = []
    for k, lp in enumerate(inst.loops):
        var = shared.get(lp.key) if shared else None
        if var is None:
            var = f"{prefix}{k}"
            variables.append(var)
        index_map[lp.index] = var
        lo = _lin(_subst(lp.low, values), names, index_map, False) if lp.low is not None else None
        hi = _lin(_subst(lp.high, values), names, index_map, False) if lp.high is not None else None
        if lo is not None:
            cons.append(f"{var} >= {lo}")
        if hi is not None:
            cons.append(f"{var} <= {hi}")
        if abs(lp.step) > 1:
            anchor = lo if lp.step > 0 else hi
            if anchor is not None:
                cons.append(f"exists (e{prefix}{k}: {var} = {anchor} + {lp.step}*e{prefix}{k})")
    for g in inst.guards:
        # a guard that is not affine is dropped: the domain only grows
        lin = _lin(_subst(g, values), names, index_map, False)
        if lin is not None:
            cons.append(f"{lin} >= 0")
    return index_map, variables, cons


def _subst(p: Poly, values: dict) -> Poly:
    """Replace symbols with known integer values (Poly-valued facts become constraints instead)."""
    for s in p.symbols() & values.keys():
        if isinstance(values[s], int):
            p = p.substitute(s, Poly.const(values[s]))
    return p


#: an opaque symbol that is a name divided by a positive constant: ``(mask_width / 2)``
_DIVISION = re.compile(r"\((\w+) / (\d+)\)")


def _division_facts(names: _Names) -> list[str]:
    """What C's integer division says of each ``(x / c)`` parameter q: c*q <= x <= c*q + c - 1
    where x >= 0, c*q - c + 1 <= x <= c*q where x < 0 (it truncates toward zero), so that
    ``i - mask_width / 2`` and ``mask_width`` can be compared."""
    out: list[str] = []
    for key, q in list(names.params.items()):
        m = _DIVISION.fullmatch(key)
        if m is None or int(m.group(2)) < 1 or m.group(1).isdigit():
            continue
        x, c = names.param((m.group(1),)), int(m.group(2))
        out.append(f"(({x} >= 0 and {c}*{q} <= {x} and {x} <= {c}*{q} + {c - 1}) or "
                   f"({x} < 0 and {c}*{q} - {c - 1} <= {x} and {x} <= {c}*{q}))")
    return out


def _fixed(names: _Names, values: dict) -> list[str]:
    """Constraints pinning parameters: ``n = 100`` or, for a fact such as width = cols + 2, that
    equality; and what integer division says of a ``(x / c)`` parameter (``_division_facts``)."""
    out: list[str] = _division_facts(names)
    done: set[str] = set()
    while True:
        todo = [k for k in list(names.params) if k in values and k not in done]
        if not todo:
            return out
        for k in todo:
            done.add(k)
            v = values[k]
            if isinstance(v, int):
                out.append(f"{names.params[k]} = {v}")
            else:
                lin = _lin(_subst(v, values), names, {}, False)
                if lin is not None:
                    out.append(f"{names.params[k]} = {lin}")


def _product_facts(names: _Names, variables: list[str], cons: list[str]) -> list[str]:
    """Lower bounds of the products of two parameters, each opaque to isl: an inner loop
    of ``f[v*(nz+1)*(nx+1) + k*(nx+1) + i]`` (``k`` fixed by the loop around it) compares
    ``nx*nz + nx + nz + 1 + i`` with ``i``, and with ``nx*nz`` free isl finds a conflict.
    Where ``cons`` (which hold at every point the test looks at) give ``x >= a`` and ``y >=
    b``, ``(x - a)(y - b) >= 0`` gives ``x*y >= a*y + b*x - a*b``; a square ``x*x >= 2*a*x
    - a*a`` (``(x - a)^2 >= 0``), whatever a is.  ``a`` and ``b`` are tried as 1 and 0."""
    products = [(key, mono) for key, mono in list(names.monomials.items()) if len(mono) == 2]
    if not products:
        return []
    low: dict[str, int | None] = {}

    def lower(sym: str) -> int | None:
        if sym not in low:
            x = names.param((sym,))
            low[sym] = next((c for c in (1, 0) if _set(names.params, variables, cons, [f"{x} < {c}"]).is_empty()),
                            None)
        return low[sym]

    out: list[str] = []
    for key, (x, y) in products:
        xy = names.params[key]
        a, b = lower(x), lower(y)
        if x == y:
            if a is not None:
                out.append(f"{xy} >= {2 * a}*{names.param((x,))} - {a * a}")
            else:
                out.append(f"{xy} >= 0")
        elif a is not None and b is not None:
            out.append(f"{xy} >= {a}*{names.param((y,))} + {b}*{names.param((x,))} - {a * b}")
    return out


def _set(params: dict[str, str], variables: list[str], cons: list[str], extra: list[str]) -> isl.Set:
    text = "[" + ", ".join(params.values()) + "] -> { [" + ", ".join(variables) + "] : " + " and ".join(cons + extra or ["true"]) + " }"
    return _parse_set(text)


@lru_cache(maxsize=4096)
def _parse_set(text: str) -> isl.Set:
    import islpy as isl

    return isl.Set(text)


def carried_conflict(a: Instance, b: Instance, outer: list[int], carrier: int,
                     values: dict[str, int]) -> Conflict | None:
    if len(a.subs) != len(b.subs):
        raise NotAffine("accesses with different numbers of subscripts")
    for sa, sb in zip(a.subs, b.subs):
        ca, cb = _subst(sa, values), _subst(sb, values)
        if ca.is_const and cb.is_const and ca.const_value != cb.const_value:
            # two different constants in one dimension never name one element: the set
            # below would be empty (NPB BT's rhs[k][j][i][0] beside rhs[k][j][i][1], five
            # components of 5-D block matrices, made most of its pairs; isl parsed each)
            return None
    names = _Names()
    amap, avars, acons = _domain(a, "x", names, values)
    bmap, bvars, bcons = _domain(b, "y", names, values)
    akeys = {lp.key: amap[lp.index] for lp in a.loops}
    bkeys = {lp.key: bmap[lp.index] for lp in b.loops}
    if carrier not in akeys or carrier not in bkeys:
        return None  # one of them is not inside the carrier loop
    eqs = []
    for k in outer:
        if k in akeys and k in bkeys:
            eqs.append(f"{akeys[k]} = {bkeys[k]}")
    for sa, sb in zip(a.subs, b.subs):
        la = _lin(_subst(sa, values), names, amap, True)
        lb = _lin(_subst(sb, values), names, bmap, True)
        eqs.append(f"{la} = {lb}")
    fixed = _fixed(names, values)
    fixed = fixed + _product_facts(names, avars + bvars, acons + bcons + fixed)
    for direction in ("<", ">"):
        s = _set(names.params, avars + bvars, acons + bcons, eqs + fixed + [f"{akeys[carrier]} {direction} {bkeys[carrier]}"])
        if not s.is_empty():
            dist = None
            try:
                pt = s.sample_point()
                xa = _coord(pt, avars.index(akeys[carrier]))
                xb = _coord(pt, len(avars) + bvars.index(bkeys[carrier]))
                if xa is not None and xb is not None:
                    dist = abs(xb - xa)
            except Exception:
                dist = None
            return Conflict(a, b, dist)
    return None


def _coord(pt: isl.Point, pos: int) -> int | None:
    import islpy as isl  # loaded already: pt came from a set

    try:
        return int(pt.get_coordinate_val(isl.dim_type.set, pos).to_python())
    except Exception:
        return None


# ---------------------------------------------------------------------------- delinearisation


def delinearise(polys: list[Poly], domains: list[list[LoopBounds]], indices: set[str],
                values: dict[str, int], assume: list[Poly] | None = None) -> list[list[Poly]] | None:
    """Split flattened 1-D subscripts into dimensions; None when it cannot be proved.

    With ``assume`` (a list), a split that holds only for some values of the parameters
    (rows of ``nx`` elements laid out ``ny`` apart: ``u[i*ny + j]``, ``j < nx``, splits when
    ``nx <= ny``) is made too, and what it rests on is appended to ``assume``, each
    condition a polynomial of parameters that must be ``>= 0`` (``ny - nx``): the caller
    tests them at run time."""
    polys = [_subst(p, values) for p in polys]
    dims: list[list[Poly]] = [[] for _ in polys]
    current = list(polys)
    padded: dict[str, tuple[str, int]] = {}  # a stride symbol standing for parameter + constant
    for _ in range(4):
        options = _stride_options(current, indices)
        if not options:
            break
        chosen = None
        for stride, rewritten, pad in options:
            g, qs, rs = _split_rows(rewritten, stride)
            picked = _pick_remainders(rs, domains, stride, values, g, pad)
            if picked is not None:
                chosen = (stride, pad, g, qs, rs, picked)
                break
        if chosen is None:
            # no split whose remainders provably lie within a row: with ``assume``,
            # conditions on the parameters that make the first one's do
            stride, rewritten, pad = options[0]
            g, qs, rs = _split_rows(rewritten, stride)
            facts = _row_facts(rs, domains, stride, values, g, indices) \
                if assume is not None and pad is None else None
            if facts is None:
                return None
            assume.extend(f for f in facts if f not in assume)
            chosen = (stride, pad, g, qs, rs, [(r, 0) for r in rs])
        stride, pad, g, qs, rs, picked = chosen
        if pad is not None:
            padded[stride] = pad
        for k, (cand, shift) in enumerate(picked):
            rs[k] = cand
            qs[k] = qs[k] - Poly.const(shift)
        for d, r in zip(dims, rs):
            d.insert(0, r)
        current = qs
    else:
        return None
    if any(p.degree_in(indices) > 1 or _has_index_param_product(p, indices) for p in current):
        return None
    for d, q in zip(dims, current):
        d.insert(0, q)
    if padded and any(set(padded) & p.symbols() for d in dims for p in d):
        return None  # (a stand-in symbol left in a dimension would name nothing in C)
    return dims


def _stride_options(polys: list[Poly], indices: set[str]) -> list[tuple[str, list[Poly], tuple[str, int] | None]]:
    """The row widths to try, in order: a parameter dividing every index term that has one
    (``u[i*ny + j]``), then a parameter plus a constant (``f[k*(nx+1) + i]``, read as
    ``k*nx + k + i``: ``nx`` divides its index terms too, but ``k + i`` is no remainder
    within a row of ``nx``).  Each: (stride, the subscripts over it, (parameter, constant)
    for a stand-in)."""
    options: list[tuple[str, list[Poly], tuple[str, int] | None]] = []
    stride = _common_stride(polys, indices)
    if stride is not None:
        options.append((stride, polys, None))
    found = _padded_stride(polys, indices)
    if found is not None:
        options.append((found[0], found[1], found[2]))
    return options


def _split_rows(polys: list[Poly], stride: str) -> tuple[int, list[Poly], list[Poly]]:
    """(g, quotients, remainders) of each subscript by rows of ``g * stride``: the row
    width is the stride times the coefficients' common factor (colorwheel's RGB image
    ``pix[(y * size + x) * 3 + c]`` has rows of 3 * size elements)."""
    g = 0
    for p in polys:
        for m, c in p.terms.items():
            if stride in m:
                g = math.gcd(g, abs(c))
    g = max(g, 1)
    qs = [Poly({tuple(_drop_one(m, stride)): c // g for m, c in p.terms.items() if stride in m}) for p in polys]
    rs = [Poly({m: c for m, c in p.terms.items() if stride not in m}) for p in polys]
    return g, qs, rs


def _pick_remainders(rs: list[Poly], domains: list, stride: str, values: dict[str, int], g: int,
                     pad: tuple[str, int] | None) -> list[tuple[Poly, int]] | None:
    """Each remainder within [c, c + stride - 1], one c for all (0, or 1 for Rodinia
    backprop's 1-based ``w[k * n + j]``, j = 1..n): then q * stride + r is q and r alone, as
    with c = 0 (subtract c from every address).  A pure multiple of the stride may belong
    to either part: ``out[j*rows + rows - 1 - i]``.  Each remainder with the rows it was
    shifted by; None where no c fits them all."""
    for c in (0, 1, -1):
        picked: list[tuple[Poly, int]] = []
        for r, dom in zip(rs, domains):
            for shift in (0, 1, -1, 2, -2):
                cand = r + Poly.sym(stride).scale(shift * g)
                if _in_range(cand - Poly.const(c), stride, dom, values, g, pad):
                    picked.append((cand, shift))
                    break
            else:
                break
        if len(picked) == len(rs):
            return picked
    return None


#: the name of the stand-in for ``p + c`` as a stride (never a C identifier)
PADDED = "{}+{}"


def _padded_stride(polys: list[Poly], indices: set[str]) -> tuple[str, list[Poly], tuple[str, int]] | None:
    """A row width that is a parameter plus a constant: NPB FT's padded grids,
    ``u[k*d2*(d1+1) + j*(d1+1) + i]``, whose index terms share no one parameter.  For a
    parameter ``p`` and ``c`` in 1, -1, 2, -2, the subscripts rewritten with ``p = S - c``
    (``S`` a stand-in symbol for ``p + c``): when ``S`` then divides every index term with
    a parameter, (S, the rewritten subscripts, (p, c)).  ``_in_range`` is told ``S = p + c``."""
    params = sorted({s for p in polys for m in p.terms for s in m
                     if s not in indices and any(x in indices for x in m)})
    for p in params:
        spelled = _padding_constants(polys, indices, p)
        for c in [*spelled, *(c for c in (1, -1, 2, -2) if c not in spelled)]:
            stand_in = PADDED.format(p, c)
            rewritten = [q.substitute(p, Poly.sym(stand_in) - Poly.const(c)) for q in polys]
            if _common_stride(rewritten, indices) == stand_in:
                return stand_in, rewritten, (p, c)
    return None


def _padding_constants(polys: list[Poly], indices: set[str], p: str) -> list[int]:
    """The constants ``c`` that index coefficients of the form ``Q * (p + c)`` spell
    (``(k + hs) * (nx + 2*hs)`` with ``hs = 2``: 4, a halo on each side), beyond the small
    ones ``_padded_stride`` tries anyway."""
    out: list[int] = []
    for q in polys:
        for x in indices:
            coef = q.coeff_of(x)
            cof = coef.coeff_of(p)
            if not cof.terms or coef.degree_in([p]) != 1:
                continue
            rest = coef.without(p)
            m, k = next(iter(cof.terms.items()))
            if k == 0 or rest.terms.get(m, 0) % k:
                continue
            c = rest.terms.get(m, 0) // k
            if c and rest == cof.scale(c) and c not in out:
                out.append(c)
    return sorted(out, key=abs)


def _drop_one(m: tuple[str, ...], s: str) -> list[str]:
    lst = list(m)
    lst.remove(s)
    return lst


def _has_index_param_product(p: Poly, indices: set[str]) -> bool:
    return any(any(s in indices for s in m) and any(s not in indices for s in m) for m in p.terms)


def _common_stride(polys: list[Poly], indices: set[str]) -> str | None:
    """A parameter dividing every index term that has a parameter factor."""
    candidates: set[str] | None = None
    for p in polys:
        for m in p.terms:
            if any(s in indices for s in m) and any(s not in indices for s in m):
                ps = {s for s in m if s not in indices}
                candidates = ps if candidates is None else candidates & ps
    if not candidates:
        return None
    return sorted(candidates)[0]


def _row_facts(rs: list[Poly], domains: list, stride: str, values: dict[str, int], scale: int,
               indices: set[str]) -> list[Poly] | None:
    """What makes each remainder lie in ``[0, scale * stride - 1]``, as conditions on the
    parameters (each ``>= 0``): its least value ``>= 0`` and its greatest ``<= scale *
    stride - 1``, the extremes taken at the bounds of its loops.  None where a remainder's
    extremes are not so found (an index without bounds of parameters alone, a product of
    indices) or isl does not prove the remainders in range under the conditions."""
    facts: list[Poly] = []
    for r, dom in zip(rs, domains):
        loops = dom.loops if isinstance(dom, Instance) else dom
        low, high = Poly(), Poly()
        for m, c in r.terms.items():
            here = [x for x in m if x in indices]
            if not here:
                low, high = low + Poly({m: c}), high + Poly({m: c})
                continue
            lp = next((x for x in loops if x.index == here[0]), None)
            if len(m) != 1 or lp is None or lp.low is None or lp.high is None or \
                    (lp.low.symbols() | lp.high.symbols()) & indices:
                return None
            small, big = (lp.low, lp.high) if c > 0 else (lp.high, lp.low)
            low, high = low + small.scale(c), high + big.scale(c)
        for f in (low, Poly.sym(stride).scale(scale) - Poly.const(1) - high):
            f = _subst(f, values)
            if f.is_const:
                if f.const_value < 0:
                    return None
                continue
            if f not in facts:
                facts.append(f)
    if not facts or not all(_in_range(r, stride, dom, values, scale, assumed=facts) for r, dom in zip(rs, domains)):
        return None
    if not all(_runs_under(dom, facts, values) for dom in domains):
        return None  # (rows longer than their stride by construction: the facts hold only for no iteration)
    return facts


def _runs_under(dom, facts: list[Poly], values: dict[str, int]) -> bool:
    """isl finds parameters for which ``facts`` (each ``>= 0``) hold and the domain has an
    iteration."""
    names = _Names()
    inst = dom if isinstance(dom, Instance) else Instance([], dom, False)
    try:
        imap, variables, cons = _domain(inst, "x", names, values)
        extra = _nonnegative(facts, names, values)
    except NotAffine:
        return False
    return not _set(names.params, variables, cons, _fixed(names, values) + extra).is_empty()


def _nonnegative(facts: list[Poly], names: _Names, values: dict[str, int]) -> list[str]:
    """Conditions on the parameters (each ``>= 0``) as isl constraints; NotAffine where
    one is not affine."""
    return [f"{_lin(_subst(f, values), names, {}, True)} >= 0" for f in facts]


def _in_range(r: Poly, stride: str, dom: list[LoopBounds], values: dict[str, int], scale: int = 1,
              padded: tuple[str, int] | None = None, assumed: list[Poly] | None = None) -> bool:
    """isl proves 0 <= r <= scale * stride - 1 on the whole domain; ``padded``: the stride
    is a stand-in for parameter + constant (``_padded_stride``); ``assumed``: conditions on
    the parameters (each ``>= 0``) that hold."""
    names = _Names()
    sp = names.param((stride,))
    inst = Instance([r], dom.loops, False, guards=dom.guards) if isinstance(dom, Instance) else Instance([r], dom, False)
    try:
        imap, variables, cons = _domain(inst, "x", names, values)
        lr = _lin(r, names, imap, True)
    except NotAffine:
        return False
    fixed = _fixed(names, values)
    if padded is not None:
        fixed = fixed + [f"{sp} = {names.param((padded[0],))} + {padded[1]}"]
    try:
        fixed = fixed + _nonnegative(assumed or [], names, values)
    except NotAffine:
        return False
    for bad in (f"{lr} < 0", f"{lr} > {scale}*{sp} - 1"):
        if not _set(names.params, variables, cons, fixed + [bad]).is_empty():
            return False
    return True


def covers(writes: list[Instance], reads: list[Instance], values: dict[str, int]) -> bool:
    """isl proves every element a read instance reaches (one subscript each) is one some
    write instance reaches: the union of the reads' images lies in the union of the
    writes'.  Symbols that are no loop of an instance are parameters, shared by all (the
    indices of the loops around them: one iteration of those)."""
    names = _Names()

    def image(inst: Instance, prefix: str) -> str | None:
        try:
            imap, variables, cons = _domain(inst, prefix, names, values)
            sub = _lin(_subst(inst.subs[0], values), names, imap, True)
        except NotAffine:
            return None
        inner = ", ".join(variables)
        body = " and ".join([f"e = {sub}"] + cons)
        return f"exists ({inner}: {body})" if inner else body

    parts_w = [image(w, f"w{k}_") for k, w in enumerate(writes)]
    parts_r = [image(r, f"r{k}_") for k, r in enumerate(reads)]
    if any(p is None for p in parts_w + parts_r) or not parts_w:
        return False
    fixed = _fixed(names, values)
    # (a fact ``r = (m / 2)`` names its division only now: what C's division says of it too)
    fixed += [f for f in _division_facts(names) if f not in fixed]
    params = ", ".join(sorted(set(names.params.values())))
    extra = (" and " + " and ".join(fixed)) if fixed else ""
    try:
        w_set = _parse_set(f"[{params}] -> {{ [e] : (({') or ('.join(parts_w)})){extra} }}")
        r_set = _parse_set(f"[{params}] -> {{ [e] : (({') or ('.join(parts_r)})){extra} }}")
        return r_set.is_subset(w_set)
    except Exception:  # islpy raising on a set it cannot read: not proved
        return False


def _as_instance(d) -> Instance:
    return d if isinstance(d, Instance) else Instance([], d, False)


def nonneg_on(diff: Poly, domains: list, values: dict) -> bool:
    """isl proves ``diff`` (parameters only) >= 0 whenever every domain in ``domains`` is non-empty."""
    names = _Names()
    variables: list[str] = []
    cons: list[str] = []
    first_map: dict[str, str] = {}
    for k, dom in enumerate(domains):
        imap, v, c = _domain(_as_instance(dom), f"d{k}_", names, values)
        if k == 0:
            first_map = imap  # indices in diff are those of the first domain
        variables += v
        cons += c
    try:
        lin = _lin(_subst(diff, values), names, first_map, True)
    except NotAffine:
        return False
    fixed = _fixed(names, values)
    try:
        return _set(names.params, variables, cons, fixed + [f"{lin} < 0"]).is_empty()
    except Exception:
        return False


def attained(p: Poly, value: Poly, dom, values: dict) -> bool:
    """isl proves ``p`` (over ``dom``'s indices) equals ``value`` (parameters only) at some
    point of ``dom`` for every parameter value where ``dom`` is non-empty: a bound of
    ``p`` that is also attained is its exact extreme, so a section to it stays inside
    what the loops touch (``ranges.extreme`` over a minimum's arms)."""
    names = _Names()
    imap, variables, cons = _domain(_as_instance(dom), "a", names, values)
    try:
        lin_p = _lin(_subst(p, values), names, imap, True)
        lin_v = _lin(_subst(value, values), names, {}, True)
    except NotAffine:
        return False
    fixed = _fixed(names, values)
    try:
        some = _set(names.params, variables, cons, fixed).params()
        hit = _set(names.params, variables, cons, fixed + [f"{lin_p} = {lin_v}"]).params()
        return some.is_subset(hit)
    except Exception:  # islpy raising on a set it cannot read: not proved
        return False


def point_reached(picks: list[tuple[str, Poly]], dom, values: dict) -> bool:
    """isl proves that the point where each index takes the bound ``picks`` names for it
    (``(index, bound)``, bounds over outer indices and parameters) lies in ``dom`` for
    every parameter value where ``dom`` is non-empty.  A value that ``ranges.extreme``
    reached by putting those bounds in, one index at a time, is then attained there even
    where it is no affine form for isl (``i*n + k`` with a parametric ``n``): the
    expression takes it at that point.  Indices ``picks`` leaves out may take any value
    the domain gives them (LU's ``j`` under ``k <= min(i, j)``)."""
    names = _Names()
    imap, variables, cons = _domain(_as_instance(dom), "a", names, values)
    try:
        pinned = [f"{imap[index]} = {_lin(_subst(bound, values), names, imap, True)}"
                  for index, bound in picks if index in imap]
    except NotAffine:
        return False
    if len(pinned) != len(picks):
        return False
    fixed = _fixed(names, values)
    try:
        some = _set(names.params, variables, cons, fixed).params()
        hit = _set(names.params, variables, cons, fixed + pinned).params()
        return some.is_subset(hit)
    except Exception:  # islpy raising on a set it cannot read: not proved
        return False


def param_lower_bounds(symbols: set[str], domains: list, values: dict,
                       candidates: tuple[int, ...] = (3, 2, 1, 0)) -> dict[str, int]:
    """For each parameter, the largest candidate c with ``param >= c`` whenever the domains are non-empty."""
    out: dict[str, int] = {}
    for sym in symbols:
        for c in candidates:
            names = _Names()
            variables: list[str] = []
            cons: list[str] = []
            for k, dom in enumerate(domains):
                _, v, cc = _domain(_as_instance(dom), f"d{k}_", names, values)
                variables += v
                cons += cc
            p = names.param((sym,))
            fixed = _fixed(names, values)
            try:
                if _set(names.params, variables, cons, fixed + [f"{p} < {c}"]).is_empty():
                    out[sym] = c
                    break
            except Exception:
                break
    return out


def nonneg_below_bounds(p: Poly, guards: list[Poly], lower: dict[str, int]) -> bool:
    """``p >= 0`` given the facts ``guards`` (each ``g >= 0``) and the lower bounds, where
    ``p`` multiplies a name by another: a fact ``U - x >= 0`` (x once, coefficient -1) makes
    ``x = U - s`` with a slack ``s >= 0``, and ``nonneg_poly`` then proves the result
    (Needleman-Wunsch's ``(m - i - 2) * m - 3`` under ``i <= m - 4``: ``2m + s*m - 3``)."""
    for g in guards:
        for x in sorted(g.symbols() & p.symbols()):
            c = g.coeff_of(x)
            if not c.is_const or c.const_value != -1 or g.degree_in([x]) != 1:
                continue
            upper = g + Poly.sym(x)  # g = U - x
            if x in upper.symbols():
                continue
            slack = "pcx_slack_" + x
            q = p.substitute(x, upper - Poly.sym(slack))
            if nonneg_poly(q, {**lower, slack: 0}):
                return True
    return False


def nonneg_poly(p: Poly, lower: dict[str, int]) -> bool:
    """``p >= 0`` for all parameters at or above their lower bounds: after s = lb + s' (s' >= 0)
    every coefficient is non-negative.  Handles products (n*m) that isl cannot."""
    q = p
    for s in p.symbols():
        if s not in lower:
            return False
        q = q.substitute(s, Poly.const(lower[s]) + Poly.sym(s))
    return all(c >= 0 for c in q.terms.values())
