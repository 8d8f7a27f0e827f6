"""Element accessors over pointer members: ``Real_t& dxx(Index_t i) { return m_dxx[i]; }``.

LULESH keeps its strains in raw pointers (``Real_t *m_dxx``, allocated per time step)
beside ``std::vector`` fields, all private and reached through such accessors; only the
vector ones were read as elements, so ``domain.dxx(k) -= vdovthird`` was "method call
'domain.dxx()' inside the nest" (PCX105) and CalcLagrangeElements stayed serial.  Now a
pointer member of arithmetic elements is reached like a vector's buffer: the kernel maps
``pcx_domain_m_dxx[0:n]``, a local pointer ``&domain.dxx(0)`` taken before it, and the
calls become subscripts of it.  A raw pointer may point into a vector's buffer or another
member's storage, so each pair is compared at run time from those local pointers (the
members themselves are private), and the loop runs as written where they overlap: here
``share()`` makes ``m_vdov`` the vector's buffer for the second call.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import launch_lines  # noqa: E402
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")

PROGRAM = r"""
#include <cstdio>
#include <cstdlib>
#include <vector>
typedef double Real_t;
typedef int Index_t;
class Domain {
public:
  void alloc(Index_t n) {
    m_dxx = (Real_t *)malloc(sizeof(Real_t) * n);
    m_vdov = (Real_t *)malloc(sizeof(Real_t) * n);
    m_v.resize(n);
  }
  void share() { m_vdov = m_v.data(); }
  Real_t& dxx(Index_t i) { return m_dxx[i]; }
  Real_t& vdov(Index_t i) { return m_vdov[i]; }
  Real_t& v(Index_t i) { return m_v[i]; }
private:
  Real_t *m_dxx, *m_vdov;
  std::vector<Real_t> m_v;
};
static void lagrange(Domain &domain, Index_t numElem) {
  for (Index_t k = 0; k < numElem; ++k) {  /* LAGRANGE */
    Real_t vdov = domain.dxx(k) + domain.v(k);
    domain.vdov(k) = vdov;
    domain.dxx(k) -= vdov / 3.0;
  }
}
int main(int argc, char **argv) {
  Domain d;
  Index_t n = 100000;
  d.alloc(n);
  for (Index_t k = 0; k < n; k++) { d.dxx(k) = k * 0.25; d.v(k) = 1 + k % 7; }  /* INIT */
  lagrange(d, n);
  if (argc > 1) d.share();
  lagrange(d, n);
  double s = 0;
  for (Index_t k = 0; k < n; k++) s += d.dxx(k) + d.vdov(k) + d.v(k);  /* SUM */
  std::printf("%.6f\n", s);
  return 0;
}
"""


def test_pointer_members_through_accessors_offload_with_run_time_alias_checks(tmp_path) -> None:
    data = build_and_compare(tmp_path, PROGRAM, ["LAGRANGE", "INIT", "SUM"], suffix=".cpp")
    reasons = " ".join(r["message"] for r in nest_at(data, PROGRAM, "LAGRANGE")["reasons"])
    assert "'domain.m_dxx' and 'domain.m_v'" in reasons and "versioned at run time" in reasons, reasons
    line = next(k + 1 for k, text in enumerate(PROGRAM.splitlines()) if "LAGRANGE" in text)
    assert launch_lines(tmp_path / "offload").count(line) == 2  # both calls, no member shared
    assert launch_lines(tmp_path / "offload", ["x"]).count(line) == 1  # the shared one runs as written
