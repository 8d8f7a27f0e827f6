"""A scalar a nest reads, written through a pointer the nest writes (a held-out check).

A kernel reads its bound once and each scalar as a copy taken when it starts; serially a
write through a pointer to that scalar changes it while the loop runs.  ``int *cnt = &n;
for (i < n) { ...; cnt[0] -= 1; }`` stops half way serially and ran every iteration
offloaded; so did the same through a global, a struct member (``&q.n``) and a union whose
array member overlaps the bound (``w = u.raw``).  A struct whose members a kernel maps is
copied whole: a pointer into it (``sb = st.b``, ``&st.hits``, ``&st.a[0]``) wrote device
data that the struct's own copy then hid (the writes were lost, or libomptarget refused
the overlapping section).  Such nests stay serial (PCX104, naming
the scalar, the pointer and where the address is kept).  An address that nobody keeps
(``scanf("%d", &m)``) or a pointer of another type (a ``double *`` never writes an
``int``) leaves the loop offloaded, as does one given to a function of the file that only
reads through it (``peek(&looked)``, ``touch(s2.a)``); ``keep(&kept)``, which stores it,
does not.  Each program runs serially and through
``PCX_MODE=static`` on the host device with the same output.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import analysed_nest, build_and_compare, nest_at  # noqa: E402

from pcx_driver.model import Decision

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed")

REACHED = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define N 20000
int gn;
struct Q { int n; double d[N]; } q;
union U { struct { int n; int pad; } h; int raw[N]; } u;
struct S { int n; long hits; double a[N], b[N]; } st;
struct S2 { int n; double a[N]; } s2;
static void touch(double *p) { for (int i = 0; i < N; i++) p[i] = i * 0.25; }
int glen;
static int *saved;
static void keep(int *p) { saved = p; }
static int peek(const int *p) { int c; memcpy(&c, p, sizeof c); return c + p[0] + 1; }
void scale(double *x) {
  for (int i = 0; i < glen; i++) x[i] *= 0.5;                        /* OTHER_TYPE */
}
int main(int argc, char **argv) {
  double *d = malloc(sizeof(double) * N);
  int n = N, *cnt = &n;
  for (int i = 0; i < n; i++) { d[i] = 1.0; cnt[0] -= 1; }          /* LOCAL */
  gn = N;
  int *g = &gn;
  for (int i = 0; i < gn; i++) { d[i] += 2.0; g[0] -= 1; }           /* GLOBAL */
  q.n = N;
  int *qn = &q.n;
  for (int i = 0; i < q.n; i++) { q.d[i] = 1.0; qn[0] -= 1; }        /* MEMBER */
  u.h.n = N;
  int *w = u.raw;
  for (int i = 1; i < u.h.n; i++) w[i - 1] = 5;                      /* UNION */
  st.n = N;
  double *sb = st.b;
  for (int i = 0; i < st.n; i++) { st.a[i] = i; sb[i] = 2.0 * i; }   /* DECAYED */
  long *hits = &st.hits;
  for (int i = 0; i < st.n; i++) { st.a[i] += 1; hits[0] += i % 3 == 0; }  /* COUNTER */
  double *e = &st.a[0];
  for (int i = 1; i < N; i++) e[i] += st.a[i - 1];                   /* ELEMENT */
  int m = N;
  if (argc > 5 && scanf("%d", &m) != 1) return 1;
  for (int i = 0; i < m; i++) d[i] += i;                             /* NOT_KEPT */
  glen = N;
  int *pk = &glen;
  scale(d);
  touch(s2.a);
  s2.n = N;
  double *dd = argc > 100 ? d : st.a;
  for (int i = 0; i < s2.n; i++) dd[i] += s2.a[i];                   /* HANDED */
  int kept = N, looked = N;
  keep(&kept);
  for (int i = 0; i < kept; i++) { d[i] += 1; saved[0] -= 1; }      /* STORED */
  int *mine = malloc(sizeof(int) * N);
  for (int i = 0; i < N; i++) mine[i] = i;
  if (peek(&looked) > 0)
    for (int i = 0; i < looked; i++) mine[i] += 2;                  /* LOOKED */
  double s = 0;
  long t = 0;
  for (int i = 0; i < N; i++) { s += d[i] + q.d[i] + st.a[i] * 1e-3 + st.b[i]; t += u.raw[i]; }
  for (int i = 0; i < N; i++) t += mine[i];
  printf("%d %d %d %d %.1f %ld %d %ld %d\n", n, gn, q.n, u.h.n, s, t, *pk, st.hits, kept);
  return 0;
}
"""


@needs_clang
def test_scalars_a_written_pointer_may_reach_keep_their_loops_serial(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, REACHED, ["NOT_KEPT", "OTHER_TYPE", "LOOKED", "HANDED"])
    value, members = "which the nest reads as a value fixed for the kernel", \
        "whose members the nest maps or reads as values fixed for the kernel"
    for marker, read, pointer in (("LOCAL", "n", "cnt"), ("GLOBAL", "gn", "g"), ("MEMBER", "q", "qn"),
                                  ("UNION", "u", "w"), ("DECAYED", "st", "sb"), ("COUNTER", "st", "hits"),
                                  ("ELEMENT", "st", "e"), ("STORED", "kept", "saved")):
        nest = nest_at(data, REACHED, marker)
        assert not nest.get("applied"), marker
        how = value if marker in ("LOCAL", "GLOBAL", "STORED") else members
        assert any(r["id"] == "PCX104" and f"'{read}', {how}, may be written through '{pointer}'" in r["message"]
                   for r in nest["reasons"]), (marker, nest["reasons"])


def test_without_strict_aliasing_a_pointer_of_another_type_may_reach_it() -> None:
    """``-fno-strict-aliasing``: the ``double *`` may write the ``int`` too.  (A pointer
    that holds only fresh allocations, ``d = malloc(...)``, reaches no variable at all.)"""
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.model import Language, SourceUnit

    unit = SourceUnit("t.c", REACHED, Language.C, ".", semantic_args=["-fno-strict-aliasing"])
    lines = REACHED.splitlines()
    line = next(k + 1 for k, t in enumerate(lines) if "OTHER_TYPE" in t)
    nest = next(n for f in analyse_unit(unit).functions for n in f.nests if n.line == line)
    assert nest.decision is not Decision.OFFLOADED, nest.remarks
    assert analysed_nest(REACHED, "OTHER_TYPE").decision is Decision.OFFLOADED


#: A temporary whose address went once to a function of the file that keeps no pointer
#: (NPB EP's ``randlc(&t1, a)`` before its hot loop, where t1 is a per-iteration
#: temporary): no other name reads it after the loop, so the loop's copy may be private.
#: One handed to a function that stores the pointer stays shared, and the loop serial.
PASSED_ONCE = r"""#include <stdio.h>
#include <stdlib.h>
static double *kept;
static double step(double *x, double a) { *x = *x * a - (long)(*x * a); return *x; }
static void keep(double *x) { kept = x; }
int main(int argc, char **argv) {
  int n = 200000 + argc;
  double *out = malloc(sizeof(double) * n);
  double t1 = 0.25, t2 = 0.5;
  for (int i = 0; i < 10; i++) step(&t1, 1.7);
  keep(&t2);
  double seed = t1;
  for (int k = 0; k < n; k++) {          /* PRIVATE_T1 */
    t1 = seed + k * 1e-6;
    t1 = t1 * t1 + 0.5;
    out[k] = t1;
  }
  for (int k = 0; k < n; k++) {          /* SHARED_T2 */
    t2 = out[k] * 0.5;
    out[k] = t2 + 1.0;
  }
  printf("%.6f %.6f %.6f\n", out[0], out[n - 1], *kept);
  return 0;
}
"""


@needs_clang
def test_an_address_no_callee_keeps_leaves_the_scalar_private(tmp_path: Path) -> None:
    build_and_compare(tmp_path, PASSED_ONCE, ["PRIVATE_T1"])
    nest = analysed_nest(PASSED_ONCE, "SHARED_T2")
    assert nest.decision is not Decision.OFFLOADED
    assert any(r.id == "PCX112" and "'t2'" in r.message and "another name" in r.message for r in nest.remarks), \
        [r.format() for r in nest.remarks]
