"""Property test: the dependence verdicts agree with brute-force enumeration.

Small affine nests (1-2 loops, constant bounds and steps, a few accesses with small random
coefficients and offsets) are generated; every pair of iterations is enumerated.  Soundness:
the engine never reports "independent" when brute force finds a conflict between two
iterations of the loop being parallelised.  With constant bounds isl is exact, so the
converse is checked too.  A second property runs whole C functions through analyse_unit.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcx_driver.engine import analysis as analysis_mod
from pcx_driver.engine.dependence import Instance, LoopBounds, carried_conflict
from pcx_driver.engine.loops import Poly
from pcx_driver.model import Decision, SourceUnit

INDEX = ["i", "j"]


@st.composite
def loops_st(draw):
    depth = draw(st.integers(1, 2))
    loops = []
    for d in range(depth):
        lo = draw(st.integers(0, 3))
        hi = lo + draw(st.integers(0, 6))
        step = draw(st.sampled_from([1, 1, 2, 3, -1]))
        loops.append((INDEX[d], lo, hi, step))
    return loops


@st.composite
def access_st(draw, depth: int, dims: int):
    subs = []
    for _ in range(dims):
        coeffs = [draw(st.integers(-2, 2)) for _ in range(depth)]
        off = draw(st.integers(-3, 3))
        subs.append((coeffs, off))
    return subs, draw(st.booleans())


@st.composite
def nest_st(draw):
    loops = draw(loops_st())
    dims = draw(st.integers(1, 2))
    accs = draw(st.lists(access_st(len(loops), dims), min_size=1, max_size=4))
    if not any(w for _, w in accs):
        accs[0] = (accs[0][0], True)
    return loops, accs


def iterations(loops):
    ranges = []
    for _, lo, hi, step in loops:
        if step > 0:
            ranges.append(list(range(lo, hi + 1, step)))
        else:
            ranges.append(list(range(hi, lo - 1, step)))
    return list(itertools.product(*ranges))


def address(subs, it):
    return tuple(sum(c * x for c, x in zip(coeffs, it)) + off for coeffs, off in subs)


def brute_conflict(loops, w, x, level: int) -> bool:
    its = iterations(loops)
    for a in its:
        for b in its:
            if a[:level] == b[:level] and a[level] != b[level] and address(w, a) == address(x, b):
                return True
    return False


def to_instance(loops, subs, write: bool) -> Instance:
    bounds = []
    for k, (name, lo, hi, step) in enumerate(loops):
        bounds.append(LoopBounds(name, Poly.const(lo), Poly.const(hi), step, k))
    polys = []
    for coeffs, off in subs:
        p = Poly.const(off)
        for c, (name, *_rest) in zip(coeffs, loops):
            p = p + Poly.sym(name).scale(c)
        polys.append(p)
    return Instance(polys, bounds, write)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nest_st(), st.data())
def test_isl_verdict_matches_brute_force(nest, data) -> None:
    loops, accs = nest
    level = data.draw(st.integers(0, len(loops) - 1))
    for (ws, wflag), (xs, xflag) in itertools.product(accs, repeat=2):
        if not wflag:
            continue
        truth = brute_conflict(loops, ws, xs, level)
        got = carried_conflict(to_instance(loops, ws, True), to_instance(loops, xs, xflag),
                               list(range(level)), level, {})
        if truth:
            assert got is not None, ("unsound: missed a conflict", loops, ws, xs, level)
        else:
            assert got is None, ("inexact: reported a conflict brute force does not find", loops, ws, xs, level)


def _c_subscript(subs, loops) -> str:
    out = []
    for coeffs, off in subs:
        terms = [f"({c})*{name}" for c, (name, *_r) in zip(coeffs, loops) if c]
        out.append("[" + (" + ".join(terms + [f"({off})"]) if terms else f"{off}") + " + 32]")
    return "".join(out)


def _c_loop(name, lo, hi, step) -> str:
    if step > 0:
        return f"for (int {name} = {lo}; {name} <= {hi}; {name} += {step})"
    return f"for (int {name} = {hi}; {name} >= {lo}; {name} -= {-step})"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(nest_st())
def test_whole_pipeline_never_offloads_a_conflict(nest) -> None:
    loops, accs = nest
    dims = len(accs[0][0])
    decl = "double (*restrict a)[64]" if dims == 2 else "double *restrict a"
    writes = [s for s, w in accs if w]
    reads = [s for s, w in accs if not w] or writes
    stmts = " ".join(f"a{_c_subscript(w, loops)} = a{_c_subscript(reads[k % len(reads)], loops)} * 0.5;"
                     for k, w in enumerate(writes))
    header = " ".join(_c_loop(*lp) for lp in loops)
    src = f"void k({decl}) {{ {header} {{ {stmts} }} }}\n"
    # min_work=0: tiny generated nests would otherwise be kept serial as too little work (PCX115)
    ua = analysis_mod.analyse_unit(SourceUnit("p.c", src), min_work=0)
    nests = ua.nests()
    assert nests, src
    root = nests[0]
    used_reads = [reads[k % len(reads)] for k in range(len(writes))]
    pairs = [(w, x) for w in writes for x in writes + used_reads]
    if root.decision is Decision.OFFLOADED and root.atomic_updates:
        # updates ``a[e] = a[e] * 0.5`` of one operator, made atomic (PCX117): they commute,
        # so iterations may share elements; anything else may not be made atomic
        assert all(w == reads[k % len(reads)] for k, w in enumerate(writes)), ("atomic, not updates", src)
    elif root.decision is Decision.OFFLOADED:
        for w, x in pairs:
            assert not brute_conflict(loops, w, x, 0), ("offloaded a loop-carried conflict", src)
        if root.collapse == 2:
            for w, x in pairs:
                assert not brute_conflict(loops, w, x, 1), ("collapsed over a conflict", src)
    else:
        # (PCX116: a subscript below the start of ``a``, which no section can map)
        assert root.remarks[0].id in ("PCX101", "PCX110", "PCX116"), (src, root.remarks)
        if root.remarks[0].id == "PCX101":
            assert any(brute_conflict(loops, w, x, 0) for w, x in pairs), ("refused without a conflict", src)


def _flat_conflict(jlo: int, jhi_off: int, n: int, m: int) -> bool:
    """Brute force: do two iterations (j, k) != (j', k') of ``w[k * n + j]`` (j from jlo to
    n + jhi_off, k from 0 to m) with different j write one element?"""
    seen: dict[int, int] = {}
    for j in range(jlo, n + jhi_off + 1):
        for k in range(0, m + 1):
            a = k * n + j
            if a in seen and seen[a] != j:
                return True
            seen.setdefault(a, j)
    return False


@pytest.mark.parametrize("jlo,jhi_off", [(0, -1), (1, 0), (0, 0), (1, 1), (-1, -2), (2, 1), (2, 0)])
def test_a_flattened_subscript_with_a_shifted_inner_range_is_parallel_only_when_no_two_collide(jlo, jhi_off):
    """``w[k * n + j]`` with ``j`` over ``[jlo, n + jhi_off]`` (Rodinia backprop: 1..n): the
    delinearisation may take each remainder within ``[c, c + n - 1]`` for one ``c``; the
    verdict must agree with brute force for every small n."""
    hi = f"n + {jhi_off}" if jhi_off >= 0 else f"n - {-jhi_off}"
    src = (f"void f(float *restrict w, int n, int m) {{\n  for (int j = {jlo}; j <= {hi}; j++)\n"
           "    for (int k = 0; k <= m; k++)\n      w[k * n + j] = (float)(j + 2 * k);\n}\n")
    nest = analysis_mod.analyse_unit(SourceUnit("t.c", src)).nests()[0]
    conflict = any(_flat_conflict(jlo, jhi_off, n, m) for n in range(1, 7) for m in range(0, 4))
    if nest.decision is Decision.OFFLOADED:
        assert not conflict, [r.format() for r in nest.remarks]
    if (jlo, jhi_off) in ((0, -1), (1, 0)):
        assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
