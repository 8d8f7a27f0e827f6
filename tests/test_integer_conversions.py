"""Integer conversions that change values, in loop bounds and subscripts.

A cast is read through as the value it converts only where it keeps every value an array
size or subscript may take.  ``(int) len`` of an unsigned ``len`` holding ``(unsigned) -1``
(a sentinel for "none") is -1, and the serial loop ``i < (int) len`` runs no iteration;
read as ``len`` it mapped four billion elements, and the kernel crashed.  ``(int) n`` of a
``long n`` past 2^32 likewise.  Such a cast is one opaque value, written as the user wrote
it in the sections (``b[0:(int)len]``).

The same holds where C converts without a cast: ``for (int i = n - 8; ...)`` with a ``long
n`` starts from the int that ``n - 8`` becomes, ``int m = n * 2`` bounds a loop by what the
product becomes, and ``i = len`` of an unsigned ``len`` starts where the wrapped value
does.  Such a value is written with the conversion C makes (``((int)(n - 8))``) in the
sections and tests; read as ``n - 8``, the kernel mapped sixteen gigabytes and crashed.

clang-19 miscompiles one OpenMP loop form: an ``unsigned`` index stepping by more than one
up to a bound of a wider type (``for (unsigned i = 0; i < n; i += 8)``, ``size_t n``;
``i < v.size()``); a plain ``parallel for`` of it crashes.  pcx keeps it serial.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import CLANG, analysed_nest, build_and_compare  # noqa: E402

from pcx_driver.model import Decision

CASTS = r"""
#include <stdio.h>
#include <stddef.h>
static int X[4096];
void none_is_minus_one(int *b, unsigned len) {
  for (int i = 0; i < (int)len; i++)                            /* SENTINEL */
    b[i] += 2;
}
void low_half(int *x, long n) {
  for (int i = 0; i < (int)n; i++)                              /* LOW_HALF */
    x[i] += 3;
}
void strided(int *b, unsigned n) {
  for (unsigned i = 0; i < n; i += 8)                           /* NARROW_BOUND */
    b[i] += 5;
}
int main(int argc, char **argv) {
  none_is_minus_one(X, 4000);
  none_is_minus_one(X, (unsigned)-1);
  low_half(X, (1L << 32) + 2048 + argc);
  strided(X, 4000);
  long s = 0;
  for (int i = 0; i < 4096; i++) s += (long)X[i] * (i % 7 + 1);
  printf("%ld\n", s);
  return 0;
}
"""

IMPLICIT = r"""
#include <stdio.h>
static int X[4096];
void start_from_long(int *x, long n) {
  for (int i = n - 8; i >= 0; i -= 8)                            /* START */
    for (int j = 0; j < 8; j++) x[i + j] += j + 1;
}
void count_from_long(int *x, long n) {
  int m = n * 2;
  for (int i = 0; i < m; i++)                                    /* COUNT */
    x[i] += 7;
}
void assigned_start(int *x, unsigned len) {
  int i;
  for (i = len; i < 100; i++)                                    /* ASSIGNED */
    x[i + 200] += 3;
}
int main(int argc, char **argv) {
  start_from_long(X, (1L << 32) + 2048 + 8 * (argc - 1));        /* starts at 2040 (2048) */
  count_from_long(X, (1L << 31) + 1000 + argc);                  /* m is 2002 (2004) */
  assigned_start(X, (unsigned)-5 + argc - 1);                    /* i from -5 (-4) */
  long s = 0;
  for (int i = 0; i < 4096; i++) s += (long)X[i] * (i % 7 + 1);
  printf("%ld\n", s);
  return 0;
}
"""

WIDE_BOUND = r"""
#include <stddef.h>
void strided(int *b, size_t n) {
  for (unsigned i = 0; i < n; i += 8)                           /* WIDE_BOUND */
    b[i] += 5;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_value_changing_casts_keep_their_values(tmp_path: Path) -> None:
    build_and_compare(tmp_path, CASTS, ["SENTINEL", "LOW_HALF", "NARROW_BOUND"])


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_implicit_conversions_keep_their_values(tmp_path: Path) -> None:
    build_and_compare(tmp_path, IMPLICIT, ["START", "COUNT", "ASSIGNED"])


def test_an_implicit_conversion_is_written_in_the_section() -> None:
    nest = analysed_nest(IMPLICIT, "START")
    (x,) = [a for a in nest.arrays if a.name == "x"]
    assert "((int)(n-8))+8" in x.section.render().replace(" ", ""), x.section.render()


def test_a_cast_that_changes_values_is_written_in_the_section() -> None:
    nest = analysed_nest(CASTS, "SENTINEL")
    (b,) = [a for a in nest.arrays if a.name == "b"]
    assert "(int)len" in b.section.render().replace(" ", ""), b.section.render()


def test_an_unsigned_index_stepping_to_a_wider_bound_stays_serial() -> None:
    nest = analysed_nest(WIDE_BOUND, "WIDE_BOUND")
    assert nest.decision is not Decision.OFFLOADED
    assert any("clang-19 miscompiles" in r.message for r in nest.remarks), [r.format() for r in nest.remarks]


@pytest.mark.parametrize("expr, wide", [
    ("h*w", "(long)h*w"),
    ("2*h*w + 3", "(long)2*h*w + 3"),
    ("(a*b)*c", "(long)((long)a*b)*c"),
    ("n - 1", "n - 1"),
    ("(h*w) * (h * w > 0)", "(long)((long)h*w) * ((long)h * w > 0)"),
])
def test_section_products_are_computed_in_long_long(expr: str, wide: str) -> None:
    """A section's bounds are polynomials of names, without the casts the program wrote
    (``(size_t)w * h``): as emitted, every product is ``long``, where an ``int``
    product of a 65536 x 65537 image wrapped and the kernel mapped 64 KiB of 4 GiB."""
    from pcx_driver.engine.rewrite import wide_products

    assert wide_products(expr) == wide
