"""A pointer parameter's extent from the calls of its function, in a whole-program build.

HeCBench's bsearch searches ``acc_a[mid]`` inside ``bs(aSize, zSize, acc_a, ...)``: ``mid``
is no function of the loop indices, so its range cannot be bounded, and the parameter has
no size of its own (PCX116).  When the command builds the program from this one source
(``pcx-c++ main.cpp -o main``: ``SourceUnit.whole_program``), every call of ``bs`` is in
the text.  If each passes an allocation whose element count is written in variables that
are passed as other parameters the function never assigns (``a = malloc(aSize *
sizeof(float))`` with ``aSize`` the first argument), that count in the parameters' names
is the parameter's extent.  A function named other than in a call (its address taken),
counts that differ between calls, and builds of one object among others (``-c``) leave
the extent to the calls that know it (test_caller_extents.py); counts that change in the
caller keep the refusal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import RUN_ENV  # noqa: E402
from test_coverage_liveness import build_and_compare  # noqa: E402

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, SourceUnit

CLANG = shutil.which("clang-19")

SEARCH = r"""
#include <stdio.h>
#include <stdlib.h>
static unsigned lcg = 7;
static unsigned next(void) { lcg = lcg * 1103515245u + 12345u; return (lcg >> 16) & 0x7fff; }

void search(int aSize, int zSize, const float *acc_a, const float *acc_z, int *acc_r) {
  for (int i = 0; i < zSize; i++) {                         /* NEST1 */
    float z = acc_z[i];
    int low = 0, high = aSize;
    while (high - low > 1) {
      int mid = low + (high - low) / 2;
      if (z < acc_a[mid]) high = mid; else low = mid;
    }
    acc_r[i] = low;
  }
}

/* a rotation by rings: the subscripts are affine, their range is not (rows n/2 of them) */
void rotate(float *m, const int n) {
  for (int layer = 0; layer < n / 2; ++layer) {             /* NEST2 */
    int first = layer, last = n - 1 - layer;
    for (int i = first; i < last; ++i) {
      int offset = i - first;
      float top = m[first * n + i];
      m[first * n + i] = m[(last - offset) * n + first];
      m[(last - offset) * n + first] = m[last * n + (last - offset)];
      m[last * n + (last - offset)] = m[i * n + last];
      m[i * n + last] = top;
    }
  }
}

int main(int argc, char **argv) {
  int aSize = 60000 + (argc > 1), zSize = 30000, n = 300 + (argc > 1);
  float *a = (float *)malloc(aSize * sizeof(float));
  float *z = (float *)malloc(sizeof(float) * zSize);
  int *r = (int *)malloc(zSize * sizeof(int));
  float *m = (float *)aligned_alloc(64, n * n * sizeof(float));
  for (int i = 0; i < aSize; i++) a[i] = i;
  for (int i = 0; i < zSize; i++) z[i] = next() % aSize;
  for (int i = 0; i < n * n; i++) m[i] = i % 17;
  search(aSize, zSize, a, z, r);
  search(aSize, zSize / 2, a, z + zSize / 2, r);
  rotate(m, n);
  long s = 0;
  for (int i = 0; i < zSize; i++) s += r[i] * (i % 7);
  for (int i = 0; i < n * n; i++) s += (long)m[i] * (i % 5);
  printf("%ld\n", s);
  return 0;
}
"""


def _decision(src: str, line_marker: str, whole: bool = True) -> tuple[Decision, list[str]]:
    ua = analyse_unit(SourceUnit("t.c", src, Language.C, whole_program=whole))
    line = next(k + 1 for k, text in enumerate(src.splitlines()) if line_marker in text)
    (nest,) = [n for n in ua.nests() if n.line == line]
    return nest.decision, [r.message for r in nest.remarks]


def test_the_extent_every_call_passes_is_the_parameters_in_a_whole_program() -> None:
    decision, remarks = _decision(SEARCH, "NEST1")
    assert decision is Decision.OFFLOADED, remarks
    decision, remarks = _decision(SEARCH, "NEST2")
    assert decision is Decision.OFFLOADED, remarks


@pytest.mark.parametrize("change", [
    pytest.param(("", ""), id="one object of several (-c): other code may call it"),
    pytest.param(("search(aSize, zSize, a, z, r);", "void (*fp)(int, int, const float *, const float *, int *) "
                  "= search; fp(aSize, zSize, a, z, r);"), id="its address taken"),
    pytest.param(("search(aSize, zSize / 2, a,", "search(zSize, zSize / 2, a,"),
                 id="a call passes another count"),
    pytest.param(("search(aSize, zSize, a, z, r);", "search(aSize, zSize, a + 1, z, r);"),
                 id="a pointer into the allocation"),
])
def test_calls_that_do_not_fix_the_extent_in_the_parameters_hand_it_over(change) -> None:
    """No count in the parameters' names: the calls that know one hand it over
    (test_caller_extents.py), and the loop runs as written at the others."""
    old, new = change
    assert not old or SEARCH.count(old) == 1
    src = SEARCH.replace(old, new) if old else SEARCH
    decision, remarks = _decision(src, "NEST1", whole=bool(old))
    assert decision is Decision.OFFLOADED and any("extent of 'acc_a' is handed over" in m for m in remarks), remarks


@pytest.mark.parametrize("change", [
    pytest.param(("  search(aSize, zSize, a, z, r);", "  aSize = aSize - 1;\n  search(aSize, zSize, a, z, r);"),
                 id="the count changes after the allocation"),
    pytest.param(("  search(aSize, zSize, a, z, r);", "  a = a + 1;\n  search(aSize, zSize, a, z, r);"),
                 id="the caller moves the pointer after its allocation"),
    pytest.param(("  for (int i = 0; i < zSize; i++) {", "  acc_a += 0;\n  for (int i = 0; i < zSize; i++) {"),
                 id="the function moves its parameter"),
])
def test_calls_that_do_not_fix_the_extent_keep_it_unknown(change) -> None:
    old, new = change
    assert SEARCH.count(old) == 1
    decision, remarks = _decision(SEARCH.replace(old, new), "NEST1")
    assert decision is not Decision.OFFLOADED and any("extent of 'acc_a'" in m for m in remarks), remarks


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_whole_program_build_offloads_the_search_and_the_rotation(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, SEARCH, ["NEST1", "NEST2"])
    sections = [r["message"] for s in data["sources"] for n in s["nests"] for r in n["reasons"] if r["id"] == "PCX202"]
    assert any("acc_a[0:aSize]" in m for m in sections) and any("m[0:n * n]" in m for m in sections), sections
    env = dict(os.environ, **dict(RUN_ENV, LIBOMPTARGET_INFO="48"))
    p = subprocess.run([str(tmp_path / "offload")], capture_output=True, text=True, env=env, timeout=120)
    launched = {ln.split("_l")[-1].split()[0] for ln in p.stderr.splitlines() if "Launching kernel" in ln}
    lines = {str(k + 1) for k, text in enumerate(SEARCH.splitlines()) if "NEST1" in text or "NEST2" in text}
    assert p.returncode == 0 and lines <= launched, (launched, p.stderr[-1500:])


@pytest.mark.parametrize("args,whole", [
    (["-O2", "main.cpp", "-o", "main", "-lm"], True),
    (["-O2", "-c", "main.c", "-o", "main.o"], False),
    (["main.c", "util.o", "-o", "main"], False),
    (["main.c", "util.c", "-o", "main"], False),
    (["-shared", "-fPIC", "lib.c", "-o", "lib.so"], False),
    (["main.c", "-Wl,extra.o", "-o", "main"], False),
    (["-rdynamic", "main.c", "-o", "main"], False),
])
def test_a_whole_program_is_one_source_linked_alone(args, whole) -> None:
    from pcx_driver.cc.sources import whole_program
    from pcx_driver.invocation import parse

    assert whole_program(parse(args)) is whole


def test_an_allocation_by_posix_memalign_gives_the_count_too() -> None:
    """bsearch allocates with ``posix_memalign((void **)&a, 1024, aSize * sizeof(Real_t))``
    after ``Real_t *a = NULL;``: that one store is the allocation."""
    old = "  float *a = (float *)malloc(aSize * sizeof(float));"
    assert SEARCH.count(old) == 1
    src = SEARCH.replace(old, "  float *a = NULL;\n  posix_memalign((void **)&a, 64, aSize * sizeof(float));")
    decision, remarks = _decision(src, "NEST1")
    assert decision is Decision.OFFLOADED, remarks
