"""Loops of a member function over what the object's pointer members point to.

``void triad(double s) { for (int i = 0; i < n; i++) a[i] = b[i] + s * c[i]; }`` in a
class (BabelStream's shape, much C++ numerics) reads ``this->a``, ``this->n``: such loops
all stayed serial (PCX137).  Now a kernel maps ``this->a[0:n]`` (OpenMP maps the object's
pointer member and what it points to), reads each scalar member as a value taken before
it (``const auto pcx_n = n;``, as for ``f->n``), and compares the pointer members' address
ranges at run time where two of them may point into one buffer (PCX128).  What stays
serial: a member array inside the object (``double cells[128]``), a write to a scalar
member, members of a class template (no instantiation is analysed), and pointer members
of a base class beside the derived class's (clang-19's runtime crashes mapping both).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, refused_nest  # noqa: E402

from pcx_driver.model import Decision

CLANGXX = shutil.which("clang++-19")

PROGRAM = r"""
#include <cstdio>
#include <cstdlib>
struct Stream {
  double *a, *b, *c;
  int n;
  double total;
  Stream(double *pool, int n_, int shift) : n(n_), total(0) { a = pool; b = pool + n + shift; c = pool + 2 * n; }
  void triad(double s) {
    for (int i = 0; i < n; i++)                                 /* TRIAD */
      a[i] = b[i] + s * c[i];
  }
  void add() {
    for (int i = 0; i < this->n; i++)                           /* ADD */
      this->c[i] = this->a[i] + this->b[i];
  }
  double dot() const {
    double s = 0;
    for (int i = 0; i < n; i++)                                 /* DOT */
      s += a[i] * b[i];
    return s;
  }
  void accumulate() {
    for (int i = 0; i < n; i++)                                 /* MEMBER_WRITE */
      total += a[i];
  }
};
int main(int argc, char **argv) {
  int n = 30000 + argc;
  double *pool = (double *)malloc(sizeof(double) * 4 * n);
  for (int i = 0; i < 4 * n; i++) pool[i] = (i % 11) * 0.25;
  Stream apart(pool, n, 0);          /* a, b, c one after another: on the device */
  Stream shifted(pool, n, -n + 1);   /* b = a + 1: the triad as written */
  for (int k = 0; k < 3; k++) { apart.triad(0.5); apart.add(); shifted.triad(0.25); }
  apart.accumulate();
  printf("%.4f %.4f %.4f\n", apart.dot(), shifted.dot(), apart.total);
  return 0;
}
"""


def test_a_member_functions_loop_maps_what_the_members_point_to() -> None:
    nest = analysed_nest(PROGRAM, "TRIAD", "t.cc")
    assert nest.decision is Decision.OFFLOADED, [r.format() for r in nest.remarks]
    assert sorted(a.name for a in nest.arrays) == ["this->a", "this->b", "this->c"]
    assert [mv.expression for mv in nest.member_values] == ["n"]
    assert any(r.id == "PCX128" for r in nest.remarks)


def test_a_write_to_a_scalar_member_stays_serial() -> None:
    refused_nest(PROGRAM, "MEMBER_WRITE", "PCX137", "member 'total' of this object", "t.cc")


@pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
def test_member_function_kernels_give_the_serial_answer(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PROGRAM, ["TRIAD", "ADD", "DOT"], suffix=".cc")


INHERITED = r"""
struct Base { double *a; int n; };
struct Der : Base {
  double *b;
  void mix() {
    for (int i = 0; i < n; i++)                                 /* MIX */
      b[i] += a[i];
  }
};
"""


def test_pointer_members_of_a_base_class_beside_the_derived_ones_stay_serial() -> None:
    refused_nest(INHERITED, "MIX", "PCX118", "members of different classes of this object", "t.cc")


TEMPLATE = r"""
template <typename T> struct Scaled {
  T *a; int n;
  void go() {
    for (int i = 0; i < n; i++)                                 /* GO */
      a[i] = a[i] * 2 + 1;
  }
};
void use(double *p, int n) { Scaled<double> s{p, n}; s.go(); }
"""


def test_a_class_template_member_says_what_it_is() -> None:
    """Defined in the class body, its name says nothing of the class: the remark was
    "function template 'go' has no instantiation in this file", though ``use`` makes one
    (a held-out check)."""
    refused_nest(TEMPLATE, "GO", "PCX136", "'go' is a member function of class template 'Scaled'", "t.cc")
