"""The plan checker's section algebra (engine/symsect.py): what it proves about sections
whose bounds are linear forms in the program's symbols."""

from __future__ import annotations

from pcx_driver.engine.symsect import WHOLE, contains, extends, freeze, subst


def lin(const: int = 0, **symbols: int):
    """``lin(-2, n=1)`` is n - 2."""
    return freeze({(): const, **{(name,): c for name, c in symbols.items()}})


def span(lo, hi):
    """A one-dimensional section [lo, hi) (hi exclusive)."""
    return ((lo, hi),)


def test_a_section_inside_another_is_contained_and_does_not_extend_it() -> None:
    held = span(lin(1), lin(-2, n=1))          # bufB[1:n-3]
    assert contains(held, span(lin(1), lin(-2, n=1)))
    assert contains(held, span(lin(2), lin(-3, n=1)))
    assert not extends(held, span(lin(2), lin(-3, n=1)))


def test_a_section_that_starts_before_or_ends_after_surely_extends() -> None:
    """loopfuzz seed 3601877: a callee mapped p0[0:n] while its caller held bufB[1:n-3]."""
    held = span(lin(1), lin(-2, n=1))
    assert extends(held, span(lin(0), lin(n=1)))        # starts 1 before, ends 2 after
    assert extends(held, span(lin(1), lin(-1, n=1)))    # ends 1 after
    assert not contains(held, span(lin(0), lin(n=1)))


def test_bounds_in_other_symbols_are_undecided_not_extending() -> None:
    """nw's callee maps S[lo-1 : ...] of the caller's S[0 : n+1]: neither provably inside
    nor provably outside (the checker accepts that in a callee: an extension there could
    only abort the run)."""
    held = span(lin(0), lin(1, n=1))
    inner = span(lin(-1, lo=1), lin(1, hi=1))
    assert not contains(held, inner)
    assert not extends(held, inner)
    assert not extends(WHOLE, inner) and not extends(held, WHOLE)


def test_a_product_of_two_definitions_adds_its_like_terms() -> None:
    """``n = 200 + k`` and ``m = 100 - k`` make ``m*n`` 20000 - 100k - k*k.  The first
    version kept one of the two k terms (-200k): the section a[0:m*n] then differed from the
    image of the writes a[i*m + j] that fill it."""
    product = freeze({("m", "n"): 1})
    defs = {"n": lin(200, k=1), "m": lin(100, k=-1)}
    assert subst(product, defs) == freeze({(): 20000, ("k",): -100, ("k", "k"): -1})
