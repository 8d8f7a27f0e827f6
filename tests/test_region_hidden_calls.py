"""Host code of a data region that writes its arrays where the scan did not look, or runs
kernels the scan could not name (a held-out check, every one a wrong answer before):

- a row of a 2-D array (``m[3]``), a member array (``s[i].v``) or a cast of a row passed to
  ``memcpy``, ``memset`` or a helper of the file, which write through it;
- a pointer into a row kept in a variable (``double *r = m[10]; r[2] = 0;``);
- a call through a function pointer, a callback parameter or a virtual method whose target
  offloads: its kernels find the region's arrays present and use the device copies, where
  the scan saw host code and pushed the stale host copies over them afterwards.

The row writes now count as writes of the whole array (``update to`` after them); a stored
row pointer and a call that may reach kernels stop the region (PCX203).  The kernels still
run on the device, each mapping its own data.  Built serially and with
``PCX_MODE=static``, run on the host device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

ROWS = r"""
#include <stdio.h>
#include <string.h>
#define R 3000
struct cell { double v[4]; };
int main(int argc, char **argv) {
  static double m[R][4], w[R][4];
  static struct cell c[R];
  for (int i = 0; i < R; i++)  /* K1 */
    for (int j = 0; j < 4; j++) { m[i][j] = i + j + argc; w[i][j] = 2.0 * i; c[i].v[j] = j; }
  HOST
  double s = 0;
  for (int i = 0; i < R; i++)  /* K2 */
    s += m[i][1] + w[i][0] + c[i].v[2];
  printf("%.3f\n", s);
  return 0;
}
"""

POINTERS = r"""
#include <stdio.h>
#define N 5000
static double g[N], out[N];
static void negate(void) {
  for (int i = 0; i < N; i++)  /* NEG */
    g[i] = -g[i];
}
static void twice(void (*f)(void)) { f(); f(); f(); }
static void (*hook)(void) = negate;
int main(int argc, char **argv) {
  for (int i = 0; i < N; i++)  /* FILL */
    g[i] = i + argc;
  g[0] = 1000.0;
  hook();
  g[1] = 2000.0;
  twice(negate);
  for (int i = 0; i < N; i++)  /* USE */
    out[i] = g[i] * 0.5;
  double s = 0;
  for (int i = 0; i < N; i++) s += out[i] * (i % 3);
  printf("%.3f\n", s);
  return 0;
}
"""

VIRTUAL = r"""
#include <cstdio>
#define N 5000
static double g[N];
struct Step { virtual void run() = 0; virtual ~Step() {} };
struct Halve : Step {
  void run() override {
    for (int i = 0; i < N; i++)  /* RUN */
      g[i] = g[i] * 0.5;
  }
};
int main(int argc, char **argv) {
  Halve h;
  Step *st = &h;
  for (int i = 0; i < N; i++)  /* FILL */
    g[i] = i + argc;
  g[3] = 77.0;
  st->run();
  double s = 0;
  for (int i = 0; i < N; i++)  /* SUM */
    s += g[i];
  std::printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.parametrize("host", [
    "memcpy(m[3], w[50], sizeof m[3]);",
    "memset(w[7], 0, sizeof w[7]);",
    "memcpy(c[5].v, m[3], sizeof c[5].v);",
    "double *r = m[20]; r[1] = -5.0;",
    "unsigned char *b = (unsigned char *)w[9]; b[0] = 0xff;",
], ids=["memcpy-row", "memset-row", "memcpy-member", "row-pointer", "cast-row"])
def test_rows_and_members_written_on_the_host_reach_the_device(tmp_path, host) -> None:
    build_and_compare(tmp_path, ROWS.replace("HOST", host), ["K1", "K2"])


def test_calls_through_pointers_to_offloading_functions_keep_no_region(tmp_path) -> None:
    build_and_compare(tmp_path, POINTERS, ["NEG", "FILL", "USE"])


def test_a_virtual_call_of_an_offloading_method_keeps_no_region(tmp_path) -> None:
    build_and_compare(tmp_path, VIRTUAL, ["RUN", "FILL", "SUM"], suffix=".cpp")


MACROS = r"""
#include <stdio.h>
#define N 4000
static double storage[N], g[N], total;
static void summ(void) {
  double s = 0;
  for (int i = 0; i < N; i++)  /* SUMM */
    s += g[i];
  total = s;
}
#define DATA storage
#define SUMMARIZE summ()
#define RESET() summ()
int main(int argc, char **argv) {
  static double o[N];
  for (int i = 0; i < N; i++)  /* FILL */
    { storage[i] = i + argc; g[i] = 2 * i; }
  DATA[7] = -700;
  g[0] = 5000;
  SUMMARIZE;
  double first = total;
  g[1] = 7000;
  RESET();
  for (int i = 0; i < N; i++)  /* USE */
    o[i] = storage[i] + g[i] + total + first;
  double s = 0;
  for (int i = 0; i < N; i++) s += o[i];
  printf("%.1f %.1f\n", s, DATA[3]);
  return 0;
}
"""

OBJECTS = r"""
#include <cstdio>
#define N 4000
static double g[N];
struct Scaler { void operator()(double k) const { for (int i = 0; i < N; i++) g[i] *= k; } };  /* FUNCTOR */
template <class D> struct Base { void run() { static_cast<D *>(this)->impl(); } };
struct Neg : Base<Neg> {
  void impl() {
    for (int i = 0; i < N; i++)  /* CRTP */
      g[i] = -g[i];
  }
};
struct Cell { double v[4]; int tag; };
int main(int argc, char **argv) {
  static double o[N];
  static Cell c[N];
  Scaler sc;
  Neg n;
  for (int i = 0; i < N; i++)  /* FILL */
    { g[i] = i + argc; c[i].v[1] = i; c[i].tag = i; }
  sc(2.0);
  n.run();
  double *p = c[7].v;
  p[1] = -700;
  for (int i = 0; i < N; i++)  /* USE */
    o[i] = g[i] + 5 + c[i].v[1];
  double s = 0;
  for (int i = 0; i < N; i++) s += o[i];
  std::printf("%.1f\n", s);
  return 0;
}
"""


def test_macros_that_name_arrays_or_offloading_calls_keep_no_region(tmp_path) -> None:
    build_and_compare(tmp_path, MACROS, ["SUMM", "FILL", "USE"])


def test_functors_crtp_and_member_pointers_keep_no_region(tmp_path) -> None:
    build_and_compare(tmp_path, OBJECTS, ["FILL", "USE"], suffix=".cpp")


CXX_FORMS = r"""
#include <cstdio>
#include <functional>
#define N 4000
namespace ops {
double g[N];
void twice() {
  for (int i = 0; i < N; i++)  /* NS_KERNEL */
    g[i] = g[i] * 2 + 1;
}
}  // namespace ops
template <int K> void scale() {
  for (int i = 0; i < N; i++)  /* TEMPLATE_KERNEL */
    ops::g[i] = ops::g[i] * K;
}
struct Acc {
  double &operator[](int i) { static double sink; if (i < 0) return sink; return ops::g[i]; }
};
double (&whole)[N] = ops::g;
static void poke() { ops::g[3] = -5; }
int main(int argc, char **argv) {
  using namespace ops;
  Acc acc;
  void (&by_ref)() = twice;
  for (int i = 0; i < N; i++)  /* FILL */
    g[i] = i * 0.5 + argc;
  g[1] = 9;
  ops::twice();
  g[2] = g[1] + g[3];
  scale<2>();
  acc[5] = 7;
  whole[6] = -6;
  by_ref();
  std::invoke(twice);
  (twice)();
  poke();
  double s = 0;
  for (int i = 0; i < N; i++)  /* SUM */
    s += g[i] * (i % 7 + 1);
  std::printf("%.3f\n", s);
  return 0;
}
"""


def test_calls_and_writes_the_text_hides_keep_no_region(tmp_path) -> None:
    # A held-out check: qualified (``ops::twice()``), templated (``scale<2>()``),
    # parenthesised, by-reference and ``std::invoke`` calls of offloading functions, a user
    # ``operator[]`` writing the array, and a helper writing a namespace's array were taken
    # for host code that ran no kernel (or wrote nothing): wrong sums
    build_and_compare(tmp_path, CXX_FORMS, ["NS_KERNEL", "FILL", "SUM"], suffix=".cpp")


def test_a_nest_that_takes_a_function_address_stays_serial() -> None:
    # JM lencod's ``writeRefFrame[i] = writeSE_UVLC;``: the device image named the host
    # function, and the program failed to link (the whole build fell back, PCX007)
    from test_coverage_liveness import refused_nest

    src = ("static int wa(int x) { return x + 1; }\nint (*tab[4000])(int);\nvoid fill(void) {\n"
           "  for (int i = 0; i < 4000; i++)  /* TABLE */\n    tab[i] = wa;\n}\n")
    refused_nest(src, "TABLE", "PCX105", "address of function 'wa'")


KEPT_REFERENCE = r"""
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>
#include <numeric>
#include <functional>
#include <utility>
#define N 40000
struct Obs { std::vector<double> &r; explicit Obs(std::vector<double> &x) : r(x) {} void tick() { r[7] += 10.0; } };
int main() {
  std::vector<double> u(N), v(N), w(N);
  for (int i = 0; i < N; i++) { u[i] = (i % 17) * 0.5; v[i] = 0; w[i] = i % 5; }
  Obs o(v);
  for (int t = 0; t < 4; t++) {
    for (int i = 1; i < N - 1; i++)  /* SMOOTH */
      v[i] = 0.25 * u[i-1] + 0.5 * u[i] + 0.25 * u[i+1];
    o.tick();
    for (int i = 0; i < N; i++)  /* MIX */
      u[i] = v[i] * 0.9 + u[i] * 0.1 + w[i] * 0.01;
  }
  for (int i = 0; i < N; i += 997) printf("%d %.12f %.12f %.12f\n", i, u[i], v[i], w[i]);
  for (int i = 0; i < 40; i++) printf("%d %.12f %.12f %.12f\n", i, u[i], v[i], w[i]);
  printf("%.12f %.12f %zu\n", u[120], v[N-3], v.size());
  return 0;
}
"""


def test_a_constructor_that_keeps_a_reference_keeps_no_region_after_it(tmp_path) -> None:
    # ``Obs o(v);`` keeps a reference to v, and ``o.tick()`` writes v[7] through it inside
    # the time loop: refusing the constructor only moved the region after it, where the
    # write went unseen (a regression of this session, caught by session 22's adversarial
    # program c77, which this is)
    build_and_compare(tmp_path, KEPT_REFERENCE, ["SMOOTH", "MIX"], suffix=".cpp")


THROUGH_MEMBERS = r"""
#include <cstdio>
const int N = 4096;
double a[N];
struct View { double *begin() { return a + 10; } double *end() { return a + 20; } };
struct Ref { double &r; };
struct K { void go() { for (int i = 0; i < N; i++) a[i] = a[i] * 2 + i; } };
int main(int argc, char **argv) {
  View v;
  Ref rr{a[3]};
  K obj, *po = &obj;
  void (K::*pm)() = &K::go;
  (void)v; (void)rr; (void)po; (void)pm;
  for (int i = 0; i < N; i++)  /* FILL */
    a[i] = i * 0.5 + argc;
  HOST;
  for (int i = 0; i < N; i++)  /* BUMP */
    a[i] += 1;
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i] * (i % 7 + 1);
  std::printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.parametrize("host", [
    "for (double &x : v) x = -x",  # a user type's begin() points into a
    "rr.r = -3",  # a reference member bound to a[3]
    "(obj.*pm)()",  # a pointer to an offloading member function
    "(po->*pm)()",  # the same through a pointer (tree-sitter reads no call there)
])
def test_members_and_ranges_that_reach_region_arrays_keep_no_region(tmp_path, host) -> None:
    # A held-out check: each of these wrote a's host copy (or ran a kernel on the device
    # copy) where the scan saw nothing, and the sums were wrong
    build_and_compare(tmp_path, THROUGH_MEMBERS.replace("HOST", host), ["FILL", "BUMP"], suffix=".cpp")
