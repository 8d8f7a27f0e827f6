"""C++ containers held as members, and reached through element accessors (issue 15, cause 4).

LULESH's ``Domain`` keeps every field in a private ``std::vector`` and hands out its
elements through accessors: ``Real_t& x(Index_t idx) { return m_x[idx] ; }``.  A loop
over ``domain.xd(i)`` and ``domain.xdd(i)`` is a loop over two arrays:

- two different ``std::vector`` members of one object (``d.m_x``, ``d.m_y``), or of two
  objects held by value, each own their buffer: they never overlap;
- a call of an element accessor (a reference result, one integral parameter, a body that
  is one ``return member[param];``) is the element ``member[arg]`` of the object it is
  called on.  The kernel reads and writes through a local pointer taken before it,
  ``(n) > 0 ? &(domain.x(0)) : nullptr`` (element 0 exists whenever the loop touches the
  vector), and the calls become subscripts: ``domain.x(i)`` -> ``pcx_domain_m_x[i]``;
- such a kernel maps its own data (no data region: the host reaches the vectors
  through calls the data planner does not follow); an accessor under a condition, or two
  objects that may be one (two references), keep the nest serial with their reason.

Each program is built serially and with ``PCX_MODE=static`` and run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")

ACCESSORS = r"""
#include <cstdio>
#include <vector>
typedef double Real_t;
typedef int Index_t;
class Domain {
public:
  Domain(Index_t n) : m_x(n), m_y(n), m_n(n) {}
  Real_t& x(Index_t i) { return m_x[i]; }
  Real_t& y(Index_t i) { return m_y[i]; }
  const Real_t& cy(Index_t i) const { return m_y[i]; }
  Index_t numNode() const { return m_n; }
private:
  std::vector<Real_t> m_x, m_y;
  Index_t m_n;
};

static double step(Domain &domain, Domain &other, Real_t dt) {
  Index_t n = domain.numNode();
  for (Index_t i = 0; i < n; ++i)  /* FORWARD */
    domain.y(i) = 2.0 * domain.x(i) + dt;
  double first = domain.y(0) + domain.cy(n - 1);  /* the host reads the kernel's result */
  for (Index_t i = 1; i < n; ++i)  /* SHIFTED */
    domain.x(i) += domain.y(i - 1) * 0.5;
  for (Index_t i = 0; i < n; ++i)  /* TWO_OBJECTS */
    other.x(i) = domain.x(i) * 0.25;
  for (Index_t i = 0; i < n; ++i)  /* CONDITIONAL */
    if (domain.x(i) > 3.0) domain.y(i) = 1.0;
  return first;
}

int main(int argc, char **argv) {
  Domain d(50000 + argc), e(50000 + argc);
  Index_t n = d.numNode();
  for (Index_t i = 0; i < n; ++i) { d.x(i) = i * 1e-4; e.x(i) = 1.0; }  /* INIT */
  double acc = 0;
  for (int t = 0; t < 3; ++t) { acc += step(d, e, 0.1); acc += step(d, d, 0.2); }
  double s = 0;
  for (Index_t i = 0; i < n; ++i) s += d.x(i) + d.y(i) + e.x(i);  /* SUM */
  std::printf("%.10f %.6f\n", acc, s);  /* (s: a reduction, summed in another order) */
  return 0;
}
"""


def test_accessor_loops_run_on_the_device_with_the_serial_output(tmp_path) -> None:
    data = build_and_compare(tmp_path, ACCESSORS, ["FORWARD", "SHIFTED", "INIT", "SUM", "TWO_OBJECTS"], suffix=".cpp")
    reasons = {m: " ".join(r["message"] for r in nest_at(data, ACCESSORS, m)["reasons"])
               for m in ("TWO_OBJECTS", "CONDITIONAL")}
    # ``other`` and ``domain`` are two references: step(d, d, ...) passes one object twice,
    # so the kernel compares the ranges from the accessors' element 0 at run time, and
    # runs as written for that call
    assert "'domain.m_x' and 'other.m_x' may point into one array" in reasons["TWO_OBJECTS"]
    assert "versioned at run time" in reasons["TWO_OBJECTS"]
    assert "element accessor under a condition" in reasons["CONDITIONAL"]


def test_accessor_kernels_map_their_own_data(tmp_path) -> None:
    data = build_and_compare(tmp_path, ACCESSORS, ["FORWARD"], suffix=".cpp")
    remarks = [r["message"] for s in data["sources"] for r in s["remarks"]]
    assert any("no target data region in 'step': 'domain.m_x' is reached through an element accessor" in m
               for m in remarks), remarks


MEMBERS = r"""
#include <cstdio>
#include <vector>
struct Grid {
  std::vector<double> u, v;
  int n;
};

static void smooth(Grid &g) {
  for (int i = 1; i < g.n - 1; ++i)  /* MEMBERS */
    g.v[i] = 0.25 * g.u[i - 1] + 0.5 * g.u[i] + 0.25 * g.u[i + 1];
}

int main(int argc, char **argv) {
  Grid g;
  g.n = 40000 + argc;
  g.u.resize(g.n);
  g.v.resize(g.n);
  std::vector<double> w(g.n);
  for (int i = 0; i < g.n; ++i) w[i] = (i % 13) * 0.5;  /* LOCAL */
  for (int i = 0; i < g.n; ++i) g.u[i] = w[i] + 1.0;  /* MEMBER_AND_LOCAL */
  for (int t = 0; t < 4; ++t) smooth(g);
  double s = 0;
  for (int i = 0; i < g.n; ++i) s += g.v[i];  /* READ_MEMBER */
  std::printf("%.6f\n", s);
  return 0;
}
"""


def test_member_vectors_of_one_object_never_overlap(tmp_path) -> None:
    # g.u and g.v were "may point to overlapping memory" (PCX104), and a kernel mapping a
    # member vector named the object (``(g).data()``): the plan checker kept it serial
    build_and_compare(tmp_path, MEMBERS, ["MEMBERS", "LOCAL", "MEMBER_AND_LOCAL", "READ_MEMBER"], suffix=".cpp")


DROPPED_REGION = r"""
#include <cstdio>
#include <vector>
struct Domain {
  std::vector<double> m_x, m_y;
  int m_n;
};
static void step(std::vector<double> &x, std::vector<double> &y, int n) {
  for (int i = 0; i < n; ++i)
    y[i] = 2.0 * x[i] + 1.0;
}
int main(int argc, char **argv) {
  Domain d;
  d.m_n = 100000 + argc;
  d.m_x.resize(d.m_n);
  d.m_y.resize(d.m_n);
  std::vector<double> z(d.m_n);
  for (int i = 0; i < d.m_n; ++i) z[i] = i * 0.5;  /* FILL */
  for (int t = 0; t < 3; ++t) step(z, d.m_y, d.m_n);
  double s = 0;
  for (int i = 0; i < d.m_n; ++i) s += d.m_y[i];
  std::printf("%f\n", s);
  return 0;
}
"""


def test_a_container_kernel_whose_region_is_dropped_maps_through_its_pointer(tmp_path) -> None:
    # The region planned around FILL was dropped by the plan checker; the kernel then kept
    # its own maps, which still named the vector (``map(from: z[0:n])``): the rewritten
    # source did not compile (PCX007) and the file was built unchanged.
    data = build_and_compare(tmp_path, DROPPED_REGION, ["FILL"], suffix=".cpp")
    assert all(s["compiled"] != "original" for s in data["sources"])


WRAPPERS = r"""
#include <cstdio>
#include <cstdlib>
#include <vector>
template <typename T>
T *Allocate(size_t size) { return static_cast<T *>(malloc(sizeof(T) * size)); }
template <typename T>
void Release(T **ptr) { if (*ptr != NULL) { free(*ptr); *ptr = NULL; } }
class Domain {
public:
  Domain(int n) : m_p(n), m_n(n) {}
  double& p(int i) { return m_p[i]; }
  int numElem() const { return m_n; }
private:
  std::vector<double> m_p;
  int m_n;
};
static inline void init(Domain &domain, double *sx, double *sy, int n) {
  for (int i = 0; i < n; ++i)  /* PARAMS */
    sx[i] = sy[i] = -domain.p(i);
}
static inline void peek(Domain &domain, double *q, int n) {
  for (int i = 0; i < n; ++i)  /* MAYBE_INSIDE */
    q[i] = domain.p(i) * 2.0;
}
int main(int argc, char **argv) {
  Domain d(30000 + argc);
  int n = d.numElem();
  for (int i = 0; i < n; ++i) d.p(i) = i * 0.5;
  double *sx = Allocate<double>(n);
  double *sy = Allocate<double>(n);
  init(d, sx, sy, n);
  double *pn = Allocate<double>(n);
  for (int i = 0; i < n; ++i) { pn[i] = d.p(i) + sx[i]; d.p(i) = pn[i] * 0.5; }  /* LOCAL */
  peek(d, &d.p(0), n / 2);  /* q points into the vector itself */
  std::printf("%f %f %f %f\n", sx[n - 1], sy[7], pn[5], d.p(1));
  Release(&sx); Release(&sy); Release(&pn);
  return 0;
}
"""


def test_fresh_allocations_are_apart_from_a_container_buffer(tmp_path) -> None:
    # sx, sy, pn come from an allocation wrapper (a template whose body returns a cast
    # malloc) and are later released through a wrapper that stores null: storage no
    # vector owns.  q is passed a pointer into the vector: the kernel compares the ranges
    # at run time (from the accessor's element 0) and runs as written for that call.
    data = build_and_compare(tmp_path, WRAPPERS, ["PARAMS", "LOCAL", "MAYBE_INSIDE"], suffix=".cpp")
    reasons = " ".join(r["message"] for r in nest_at(data, WRAPPERS, "MAYBE_INSIDE")["reasons"])
    assert "'domain.m_p' and 'q' may point into one array" in reasons or \
        "'q' and 'domain.m_p' may point into one array" in reasons, reasons
    assert "versioned at run time" in reasons, reasons


GATHER = r"""
#include <cstdio>
#include <vector>
class Dom {
public:
  explicit Dom(int n) : m_x(n) { for (int i = 0; i < n; i++) m_x[i] = i * 0.5; }
  double& x(int i) { return m_x[i]; }
private:
  std::vector<double> m_x;
};
static void gather(Dom &d, const int *idx, double *out, int n) {
  for (int j = 0; j < n; j++)  /* GATHER */
    out[j] = d.x(idx[j]) * 2.0;
}
int main(int argc, char **argv) {
  Dom d(100 + argc);
  static int idx[5000];
  static double out[5000];
  for (int j = 0; j < 5000; j++) idx[j] = (j * 37) % 100;  /* INDICES */
  gather(d, idx, out, 5000);
  double s = 0;
  for (int j = 0; j < 5000; j++) s += out[j] * (j % 3);
  std::printf("%.3f\n", s);
  return 0;
}
"""


def test_a_gather_through_an_accessor_over_a_private_member_stays_on_the_host(tmp_path) -> None:
    # The section of ``d.x(idx[j])`` would have been the whole vector, its length written
    # ``d.m_x.size()``: a private member, which the free function cannot name (the rewrite
    # failed to compile, PCX007; LULESH's CalcKinematicsForElems, a held-out check)
    data = build_and_compare(tmp_path, GATHER, ["INDICES"], suffix=".cpp")
    gather = nest_at(data, GATHER, "GATHER")
    assert not gather["applied"] and any(r["id"] == "PCX116" for r in gather["reasons"]), gather


VECTOR_PAIRS = r"""
#include <cstdio>
#include <vector>
static void shift(std::vector<double> &y, std::vector<double> &x) {
  int n = y.size();
  for (int i = 0; i < n - 1; i++)  /* SHIFT */
    y[i] = 2.0 * x[i + 1];
}
int main(int argc, char **argv) {
  std::vector<double> x(50000), y(50000);
  for (int i = 0; i < 50000; i++) { x[i] = i % 7 + argc; y[i] = 1.0; }
  shift(y, x);  /* two vectors: on the device */
  shift(x, x);  /* one vector twice: the loop as written */
  double s = 0;
  for (int i = 0; i < 50000; i++) s += (y[i] + x[i]) * (i % 3);
  std::printf("%.1f %.1f %.1f\n", s, x[0], x[49998]);
  return 0;
}
"""


def test_two_vector_references_are_versioned_at_run_time(tmp_path) -> None:
    # Two references to std::vector may name one vector: kept serial before (PCX104,
    # a held-out C++ check), now checked at run time as pointers are (PCX128)
    data = build_and_compare(tmp_path, VECTOR_PAIRS, ["SHIFT"], suffix=".cpp")
    shift = nest_at(data, VECTOR_PAIRS, "SHIFT")
    assert any(r["id"] == "PCX128" for r in shift["reasons"]), shift
