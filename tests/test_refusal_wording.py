"""Refusals name what the code holds (a held-out check found three that did not).

``V3{a[i], 1.0, 2.0}`` in C++ is a temporary built from a braced list, not a C99 compound
literal; ``b[i].p`` with ``p`` a ``std::array`` member is a container member of an array
element, not a pointer chain; ``Tbl::w[i]`` is a static member array, not an access
through a computed pointer.  Each loop stays serial, with a remark that says which.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import refused_nest  # noqa: E402

PROGRAM = r"""#include <array>
#include <vector>
struct V3 { double x, y, z; };
struct Body { double m; std::array<double, 3> p; };
struct Tbl { static double w[3]; };
double Tbl::w[3] = {1, 2, 3};
void run(std::vector<double> &a, std::vector<double> &c, std::vector<Body> &b, int n) {
  for (int i = 0; i < n; i++) { V3 v = V3{a[i], 1.0, 2.0}; c[i] = v.x + v.y; }   /* BRACED */
  for (int i = 0; i < n; i++) c[i] += b[i].p[0] * b[i].m;                        /* MEMBER */
  for (int i = 0; i < n; i++) c[i] += Tbl::w[i % 3];                              /* STATIC */
}
"""


def test_refusals_name_the_construct() -> None:
    refused_nest(PROGRAM, "BRACED", "PCX122", "a temporary object built from a braced list ('V3{a[i], 1.0, 2.0}')",
                 path="t.cpp")
    refused_nest(PROGRAM, "MEMBER", "PCX118", "member 'b[i].p' of an array element is a container", path="t.cpp")
    refused_nest(PROGRAM, "STATIC", "PCX118", "array 'Tbl::w' named through its class or namespace", path="t.cpp")


STRINGS = r"""#include <stdio.h>
#include <string.h>
#define N 20000
char s[N + 1], t[N + 1];
int main(void) {
  for (int i = 0; i < N; i++) s[i] = (i % 50 == 49) ? ' ' : 'a' + i % 26;
  s[N] = 0;
  for (int i = 0; i < N; i++) t[i] = s[i];
  for (size_t i = 0; i < strlen(s); i++) s[i] = s[i] - 32;
  for (size_t i = 0; i < N; i++) s[i] ^= (i & 1);
  long h = 0;
  for (int i = 0; i < N; i++) h = h * 31 + s[i] + t[i];
  printf("%zu %ld\n", strlen(s), h);
  return 0;
}
"""


def _region_refusals(source: str, path: str) -> list[str]:
    """The PCX203 remarks of ``source`` through the whole static pipeline."""
    from pcx_driver.config import Config
    from pcx_driver.model import Language, SourceUnit
    from pcx_driver.pipeline import run_pipeline
    from pcx_driver.plugins import make_plugin_manager

    lang = Language.CXX if path.endswith(".cpp") else Language.C
    unit = SourceUnit(path, source, lang, semantic_args=["-fopenmp"])
    pm, _ = make_plugin_manager(entry_points=False)
    return [r.message for r in run_pipeline(unit, pm, Config.resolve({"mode": ["static"]}, environ={})).remarks
            if r.id == "PCX203"]


def test_a_library_call_is_not_called_another_files() -> None:
    """A region that stops at ``strlen(s)`` said strlen was "defined in another file"."""
    said = _region_refusals(STRINGS, "t.c")
    assert any("to 'strlen', a library function the scan does not follow" in m for m in said), said
    assert not any("another file" in m for m in said), said


UNREAD = r"""#define UNROLL2 _Pragma("unroll 2")
void scale(double *a, const double *b, int n) {
  UNROLL2
  for (int i = 0; i < n; ++i) a[i] = b[i] * 5.0;  /* UNREAD */
}
"""


def test_a_loop_the_syntax_tree_does_not_read_as_one_still_says_why() -> None:
    """``UNROLL2 for (...)`` reads to tree-sitter as a declaration: the loop was left
    serial with no remark at all (a held-out check).  clang compiles it as a loop, so the
    analysis names it and the code before it."""
    refused_nest(UNREAD, "UNREAD", "PCX114", "after 'UNROLL2', a macro such as a _Pragma", "t.cpp")


TEMPLATE_CALL = r"""#include <cstdio>
#include <cstdlib>
template <typename T>
void fill(const T *src, T *dst, int n) {
  for (int i = 1; i < n; i++) dst[i] = dst[i - 1] * (T)0.5 + src[i];
}
int main() {
  int n = 100000;
  float *a = (float *)malloc(n * sizeof(float)), *b = (float *)malloc(n * sizeof(float));
  for (int i = 0; i < n; i++) a[i] = (float)(i % 7);
  for (int r = 0; r < 3; r++) fill<float>(a, b, n);
  for (int i = 0; i < n; i++) a[i] += b[i];
  printf("%f\n", a[n / 2]);
  return 0;
}
"""


def test_a_template_of_this_file_is_not_called_another_files() -> None:
    """HeCBench vol2col (a held-out check, session 35): a region stopped at a call
    ``vol2col_kernel<T>(...)`` of a template defined a few lines above said the template
    was "defined in another file"."""
    said = _region_refusals(TEMPLATE_CALL, "t.cpp")
    assert any("to 'fill<float>', an instantiation of a template of this file" in m for m in said), said
    assert not any("another file" in m for m in said), said
