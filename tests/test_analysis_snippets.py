"""The analysis, documented by example: a table of loop snippets, the decision, the reason.

Each C row is a loop placed in ``kernel`` below (a bare body is wrapped in
``for (int i = 0; i < n; i++) { ... }``); the row names the decision for the first nest
of ``kernel`` and the stable remark id that explains it (PCX100 for an offloaded nest).
C++ rows are compiled together in a few units, one function per row, to keep the test fast.
A second table checks clauses and sections for a representative subset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.model import Decision, Language, NestAnalysis, SourceUnit, UnitAnalysis

OFF, SER, NA = Decision.OFFLOADED, Decision.SERIAL, Decision.NOT_ANALYSED

C_PRELUDE = r"""
typedef unsigned long size_t;
double sqrt(double); double exp(double); double sin(double); double cos(double); double fabs(double);
double pow(double, double); double fmin(double, double); double fmax(double, double); double log(double);
double floor(double); float sqrtf(float); float fabsf(float); int abs(int);
int printf(const char *, ...); int puts(const char *); void *malloc(size_t); void *calloc(size_t, size_t);
void free(void *); void exit(int); int rand(void); void *memcpy(void *, const void *, size_t);
double ext_fn(double);                       /* declared, defined elsewhere: unknown effects */
static double sq(double v) { return v * v; }
static double poly3(double v) { return sq(v) * v + 1.0; }
double gcount;
static double side(double v) { gcount += v; return v; }
static double pr(double v) { printf("%f", v); return v; }
static void wr(double *o, int i) { o[i] = 0; }
struct pt { double x, y; };
struct soa { double *restrict xs; double *restrict ys; int len; };
#define N 1024
#define SMALL 8
#define SQ(v) ((v) * (v))
#define BUMP(v) ((v)++)
double g[N]; int gh[256]; const int CN = 2048;
"""

C_SIGNATURE = (
    "void kernel(int n, int m, int k, double s, double *restrict a, double *restrict b, double *restrict c, "
    "double *restrict d, float *restrict x, float *restrict y, const int *restrict idx, int *restrict h, "
    "double *p, double *q, double (*restrict A)[64], double (*restrict B)[64], double (*restrict C)[64], "
    "struct pt *restrict pts, struct soa *restrict sa, struct soa sv)"
)
C_LOCALS = ("double t = 0, u = 0, sum = 0, prod = 1, mn = 1e30, mx = -1e30; "
            "int j = 0, l = 0, cnt = 0, flag = 1, im = 0, bits = 0; double loc[256]; int lh[256];")


@dataclass
class Row:
    code: str
    decision: Decision
    rid: str
    pre: str = ""  # statements before the loop
    post: str = ""  # statements after the loop
    glob: str = ""  # file-scope declarations
    nest: int = 0  # which nest of kernel (in report order) the row is about
    note: str = ""

    def source(self) -> str:
        body = self.code.strip()
        if not body.endswith((";", "}")):
            body += ";"
        if not body.startswith(("for", "{", "while", "#")):
            body = "for (int i = 0; i < n; i++) { " + body + " }"
        return (f"{C_PRELUDE}\n{self.glob}\n{C_SIGNATURE} {{\n  {C_LOCALS}\n  {self.pre}\n  {body}\n  {self.post}\n}}\n")

    def id(self) -> str:
        return (self.note or self.code)[:70]


def R(code: str, decision: Decision, rid: str | None = None, **kw) -> Row:
    if rid is None:
        rid = "PCX100" if decision is OFF else "?"
    return Row(code, decision, rid, **kw)


# ---------------------------------------------------------------------------- the table

ROWS: list[Row] = [
    # -- independent element-wise work ----------------------------------------------------
    R("a[i] = b[i] + c[i]", OFF),
    R("a[i] = 2.0 * a[i]", OFF, note="read and write of the same element"),
    R("a[i] += b[i]", OFF),
    R("a[i] = s * b[i] + c[i]", OFF),
    R("x[i] = y[i] * 2.0f", OFF),
    R("a[i] = b[i]; c[i] = a[i] * 2", OFF),
    R("a[i] = b[n - 1 - i]", OFF, note="reversed read"),
    R("a[n - 1 - i] = b[i]", OFF, note="reversed write"),
    R("a[2*i] = b[i]", OFF),
    R("a[2*i + 1] = a[2*i]", OFF, note="odd elements written, even elements read"),
    R("a[i] = a[i + n]", OFF, note="reads [n,2n), writes [0,n): disjoint"),
    R("g[i] = a[i]", OFF, note="file-scope array with a static extent"),
    R("a[i] = g[i % 7]", OFF, note="non-affine read of a read-only global: whole extent mapped"),
    R("a[i] = loc[idx[i] & 255]", OFF, note="indirect read of a local array of known size"),
    R("b[i] = g[(i * i) % N]", OFF, note="non-affine read of read-only data"),
    R("a[i] = N * b[i]", OFF, note="object-like macro"),
    R("a[i] = CN * b[i]", OFF, note="const global"),
    R("a[i] = sv.len * b[i]", OFF, note="member of a struct passed by value"),
    R("for (int i = 0; i < N; i++) g[i] = 0.5 * i", OFF),
    # -- loop-carried dependences ----------------------------------------------------------
    R("for (int i = 1; i < n; i++) a[i] = a[i-1] + 1", SER, "PCX101"),
    R("for (int i = 0; i < n - 1; i++) a[i] = a[i+1] + 1", SER, "PCX101", note="anti dependence"),
    R("a[2*i] = a[2*i + 2]", SER, "PCX101"),
    R("a[i] = a[i + m]", SER, "PCX101", note="unknown offset m could be 1"),
    R("a[i] = a[0]", SER, "PCX101", note="iteration 0 writes what the others read"),
    R("a[0] = b[i]", SER, "PCX101", note="every iteration writes a[0]"),
    R("a[i] = a[n - 1 - i]", SER, "PCX101", note="reversal in place"),
    R("for (int i = 0; i < n; i++) for (int j2 = 0; j2 < n; j2++) a[j2] = a[j2] * 0.5 + b[i]", SER, "PCX101",
      note="inner index only: every i writes the same a[j2]"),
    # -- subscripts that are not affine ------------------------------------------------------
    R("a[i % 4] = b[i]", SER, "PCX103"),
    R("a[idx[i]] = b[i]", SER, "PCX103", note="scatter through an index array"),
    R("a[i * i] = b[i]", SER, "PCX103"),
    R("a[i] = a[idx[i]]", SER, "PCX102", note="gather from an array that is also written"),
    R("b[i] = a[idx[i]]", SER, "PCX116", note="gather from a pointer of unknown extent"),
    # -- histograms become atomic updates ---------------------------------------------------
    R("lh[idx[i] & 255] += 1", OFF, "PCX100", note="histogram on a local array"),
    R("gh[idx[i] & 255]++", OFF, "PCX100", note="histogram on a global array"),
    R("lh[idx[i] & 255] += 1; lh[0] = 0", SER, "PCX103", note="plain write mixed with updates"),
    R("for (int i = 0; i < n; i++) for (int j2 = 0; j2 < n; j2++) a[j2] = a[j2] + b[i]", OFF, "PCX100",
      note="a column sum spelled out (PolyBench bicg's s[j] = s[j] + r[i] * A[i][j]): atomic"),
    R("for (int i = 0; i < n; i++) for (int j2 = 0; j2 < n; j2++) a[j2] = (b[i] * a[j2])", OFF, "PCX100",
      note="x = expr * x is an atomic update too"),
    R("lh[idx[i] & 255] = lh[idx[i] & 255] - 1; lh[idx[i] & 255] += 2", OFF, "PCX100",
      note="spelled-out and compound updates with one operator (x - v is x + -v)"),
    R("for (int i = 0; i < n; i++) for (int j2 = 0; j2 < n; j2++) a[j2] = b[i] - a[j2]", SER, "PCX101",
      note="v - x is not an update of x"),
    R("for (int i = 0; i < n; i++) for (int j2 = 0; j2 < n - 1; j2++) a[j2] = a[j2] + a[j2 + 1]", SER, "PCX101",
      note="the value reads the array it updates"),
    R("for (int i = 0; i < n; i++) for (int j2 = 0; j2 < n; j2++) a[j2] = a[j2] + b[i] * 2 + 1", SER, "PCX101",
      note="(x + v) + 1: the update's operand is not x alone"),
    R("lh[idx[i] & 255] = lh[idx[i] & 255] * 2; lh[idx[i] & 255] += 1", SER, "PCX102",
      note="two operators: the updates do not commute"),
    R("lh[0] += idx[i]; lh[1] -= 10; lh[4] &= idx[i] | 240; lh[5] |= 1 << (i & 7); lh[6] ^= i", OFF, "PCX100",
      note="several operators, each on elements of its own (HeCBench atomicIntrinsics): atomic"),
    R("lh[0] += idx[i]; lh[4] &= idx[i]; lh[0] ^= i", SER, "PCX101",
      note="two operators on one element: the updates do not commute"),
    R("lh[idx[i] & 3] += 1; lh[4] &= idx[i]", SER, "PCX103",
      note="an operator's element not a constant: it may be another's"),
    R("h[idx[i]] += 1", SER, "PCX116", note="histogram target of unknown extent"),
    R("if (i > 0) a[i] = b[i - 1]", OFF, note="the guard i > 0 narrows the section to b[0:n - 1]"),
    R("if (idx[i] > 0) a[i] = b[i - 1]", SER, "PCX116",
      note="a guard that says nothing about i: b[-1] may be mapped, b's extent is unknown"),
    R("for (int i = 0; i < 2*n; i++) if (i < n) a[i] = a[i + n]", OFF, note="the guard separates the halves"),
    R("for (int i = 0; i < 2*n; i++) if (i <= n) a[i] = a[i + n]", SER, "PCX101", note="i = n reads a[2n]... and writes a[n]"),
    R("if (i > 0) a[i] = g[i - 1]", OFF, note="guarded access to a global: its whole extent is mapped"),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j <= i; j++) b[i] += a[i - j]", OFF,
      note="triangular read: bounds substituted inner loop first give exactly a[0:64]"),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) if (j <= i) b[i] += a[i - j]", OFF,
      note="guarded triangular read: the guard narrows j"),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j <= i; j++) b[i] += A[i][i - j]", OFF,
      note="triangular read of a 2-D array: inner dimension mapped whole"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < len2[i]; j++) { a[j & 7] = 1; len2[i] = 0; }", SER, "PCX111",
      pre="int len2[64];", note="bound read from an array the nest writes"),
    # -- 2-D arrays, collapse, triangular nests --------------------------------------------
    R("for (int i = 0; i < n; i++) for (int j = 0; j < 64; j++) A[i][j] = B[i][j] + 1.0", OFF),
    R("for (int i = 1; i < n; i++) for (int j = 0; j < 64; j++) A[i][j] = A[i-1][j]", SER, "PCX101"),
    R("for (int i = 1; i < n; i++) for (int j = 0; j < m; j++) c[j] = c[j] * 0.5 + b[i]", OFF, nest=1,
      note="the inner loop of a serial outer loop is its own kernel"),
    R("for (int i = 1; i < n; i++) for (int j = 0; j < 64; j++) A[i][j] = A[i-1][j]", SER, "PCX115", nest=1,
      note="an inner loop of 64 iterations per launch is too little work"),
    R("for (int i = 0; i < n; i++) for (int j = 1; j < 64; j++) A[i][j] = A[i][j-1]", OFF,
      note="dependence carried by the inner loop only"),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) A[i][j] = B[j][i]", OFF),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) A[i][j] = A[j][i]", SER, "PCX101",
      note="in-place transpose"),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j < i; j++) A[i][j] = 0", OFF, note="triangular"),
    R("for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) for (int l2 = 0; l2 < 64; l2++) "
      "C[i][j] += A[i][l2] * B[l2][j]", OFF, note="matrix multiply"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i*m + j] = a[i*m + j] + b[i*m + j]", OFF,
      note="flattened 2-D, delinearised"),
    R("for (int i = 1; i < n - 1; i++) for (int j = 1; j < m - 1; j++) "
      "c[i*m + j] = a[(i-1)*m + j] + a[(i+1)*m + j] + a[i*m + j - 1] + a[i*m + j + 1]", OFF,
      note="flattened 5-point stencil"),
    R("for (int i = 1; i < n; i++) for (int j = 0; j < m; j++) a[i*m + j] = a[(i-1)*m + j]", SER, "PCX101",
      note="flattened, dependence on the previous row"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) a[i*m + j] = 0", OFF,
      note="j < n stays below the stride m where m >= n: tested at run time (PCX147)"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j <= m; j++) a[i*m + j] = 0", SER, "PCX103",
      note="a row one longer than its stride: no run-time test can split it"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < N; j++) a[i*N + j] = 1", OFF, note="constant stride"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < N; j++) a[i*N + j] = a[i*N + j + 1]", SER, "PCX101",
      note="constant stride, the last column reads the next row"),
    # -- loop forms ---------------------------------------------------------------------------
    R("for (int i = 0; i < n; i += 2) a[i] = b[i]", OFF),
    R("for (int i = n - 1; i >= 0; i--) a[i] = b[i]", OFF),
    R("for (int i = n; i > 0; --i) a[i-1] = b[i-1]", OFF),
    R("for (int i = 0; i != n; ++i) a[i] = 1", OFF),
    R("for (long i = 0; i < n; i++) a[i] = 1", OFF),
    R("for (size_t i = 0; i < (size_t)n; i++) a[i] = 1", OFF),
    R("for (int i = 0; i <= n - 1; i++) a[i] = 1", OFF),
    R("for (int i = 0; n > i; i++) a[i] = 1", OFF),
    R("for (int i = 0; i < n; i = i + 1) a[i] = 1", OFF),
    R("for (l = 0; l < n; l++) a[l] = 1", OFF, note="index declared before the loop"),
    R("for (l = 0; l < n; l++) a[l] = 1", OFF, post="a[0] = l;",
      note="index read after the loop: lastprivate, set to the start first"),
    R("for (int i = 0; i < n; i++) for (l = 0; l < 64; l++) A[i][l] = 1", SER, "PCX112", post="a[0] = l;",
      note="inner index read after the loop: lastprivate covers the root's only"),
    R("for (gi = 0; gi < n; gi++) a[gi] = 1", SER, "PCX112", glob="int gi;",
      note="global index: its final value is visible to every function (csmith seed 9032)"),
    R("for (int i = 0; i < n; i++) for (gj = 0; gj < 64; gj++) A[i][gj] = 1", SER, "PCX112", glob="int gj;",
      note="global inner index: a private copy would never write it back"),
    R("for (sj = 0; sj < n; sj++) a[sj] = 1", SER, "PCX112", pre="static int sj;",
      note="static local index: it keeps its value for the next call"),
    R("for (l = 0; l < n; l++) a[l] = 1", SER, "PCX112", pre="int *pl = &l;", post="c[0] = *pl;",
      note="index read after the loop through a pointer to it"),
    R("t = a[i] * 2; b[i] = t", SER, "PCX112", pre="double *pt = &t;", post="c[0] = *pt;",
      note="private candidate read after the loop through a pointer to it"),
    R("t = a[i] * 2; b[i] = t", OFF, pre="double t2 = 0, *pt = &t2;", post="c[0] = *pt;",
      note="a pointer to another scalar does not matter"),
    R("for (int i = 0; i < n; i += 3) a[i] = a[i + 1]", OFF, note="stride 3: multiples written, others read"),
    R("for (int i = 0; i < n; i += 2) a[i] = a[i + 2]", SER, "PCX101"),
    R("for (int i = 0; i < n; i = i + SMALL) a[i] = a[i + 1]", OFF,
      note="a step written with a macro constant: canonical (i = i + 8)"),
    R("for (int i = 0; i < n; i += st) a[i] = 1", OFF, pre="const int st = 4;", note="a const variable step"),
    R("for (int i = 0; i < n; i += st) a[i] = 1", SER, "PCX110", pre="int st = n / 8 + 1;",
      note="a step only known at run time"),
    R("for (int r = 0; r < 4; r++) for (int i = 0; i < n; i++) a[i] += b[i]", OFF,
      note="the repeat loop's += on a[i] made atomic (collapse(2))"),
    R("for (int i = 0; i < 4; i++) for (int i = 0; i < n; i++) a[i] += b[i]", SER, "PCX110",
      note="an inner index shadowing the outer one: the outer nest is refused, not read as varying a[i]"),
    R("for (int i = 1; i < n; i *= 2) a[i] = 1", SER, "PCX110"),
    R("for (int i = 0; i < n && a[i] > 0; i++) b[i] = 1", SER, "PCX110"),
    R("for (int i = 0; ; i++) { if (i >= n) break; a[i] = 1; }", SER, "PCX110"),
    R("for (int i = 0, i2 = 0; i < n; i++, i2++) a[i] = i2", SER, "PCX110"),
    R("for (double v = 0; v < 1.0; v += 0.5) a[0] = v", SER, "PCX110"),
    R("for (int i = 0; i < n; i--) a[i] = 1", SER, "PCX110", note="steps away from its bound"),
    R("for (int i = 0; i != n; i += 2) a[i] = 1", SER, "PCX110"),
    R("for (int i = 0; i < n; i++) { a[i] = 0; n--; }", SER, "PCX111"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { A[i][j & 63] = 0; m = 3; }", SER, "PCX111"),
    R("for (int i = 0; i < (int)sqrt((double)n); i++) a[i] = 1", SER, "PCX110",
      note="bound that is not an integer expression"),
    # -- loop index written inside ------------------------------------------------------------
    R("a[i] = 0; i += 1", SER, "PCX109"),
    R("for (int i = 0; i < n; i++) { a[i] = 0; i++; }", SER, "PCX109"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < 64; j++) { A[i][j] = 0; j = 64; }", SER, "PCX109"),
    # -- scalars: private, carried ---------------------------------------------------------
    R("t = a[i] * 2; b[i] = t + t", OFF, note="t written before read: private"),
    R("double v = a[i]; b[i] = v * v", OFF, note="declared in the body: nothing needed"),
    R("b[i] = t; t = a[i]", SER, "PCX112", note="t carries a value to the next iteration"),
    R("t = a[i]; b[i] = t", SER, "PCX112", post="c[0] = t;", note="t is used after the loop"),
    R("if (a[i] > 0) t = a[i]; b[i] = t", SER, "PCX112", note="t written on one path only"),
    R("if (a[i] > 0) t = a[i]; else t = -a[i]; b[i] = t", OFF, note="written on both paths"),
    R("im = i", OFF, note="written, never read, dead after"),
    R("im = i", SER, "PCX112", post="c[0] = im;", note="last value used after the loop"),
    R("t = t * 0.5 + a[i]", SER, "PCX112", note="recurrence"),
    R("for (int i = 0; i < n; i++) { for (j = 0; j < m; j++) a[j] = 0; }", SER, "PCX101",
      note="inner index declared outside is private; a[j] is a real dependence"),
    R("for (int i = 0; i < n; i++) { for (j = 0; j < 64; j++) A[i][j] = 0; }", OFF,
      note="C89 inner index declared outside: private"),
    # -- reductions ---------------------------------------------------------------------------
    R("sum += a[i] * b[i]", OFF),
    R("sum -= a[i]", OFF),
    R("prod *= a[i]", OFF),
    R("sum = sum + a[i] + b[i]", OFF),
    R("sum = a[i] + sum", OFF),
    R("sum = sum - a[i]", OFF),
    R("cnt++", OFF),
    R("cnt = cnt + 1", OFF),
    R("sum += a[i]; prod *= b[i]", OFF, note="two reductions"),
    R("sum = sum * 2 + a[i]", SER, "PCX112", note="not an associative update"),
    R("sum += a[i]; b[i] = sum", SER, "PCX112", note="partial sums are read"),
    R("sum += a[i]; sum *= 2", SER, "PCX112", note="two different operators"),
    R("for (int i = 0; i < n; i++) for (int j = 0; j < 64; j++) sum += A[i][j]", OFF),
    R("mn = fmin(mn, a[i])", OFF),
    R("mx = fmax(mx, a[i])", OFF),
    R("mn = fmin(a[i], mn)", OFF),
    R("mn = a[i] < mn ? a[i] : mn", OFF),
    R("mx = a[i] > mx ? a[i] : mx", OFF),
    R("mx = mx < a[i] ? a[i] : mx", OFF),
    R("mn = mn > a[i] ? a[i] : mn", OFF),
    R("if (a[i] < mn) mn = a[i]", OFF),
    R("if (a[i] > mx) mx = a[i]", OFF),
    R("if (mx < a[i]) { mx = a[i]; }", OFF),
    R("if (a[i] > mx) mx = b[i]", SER, "PCX112", note="compares one value, stores another"),
    R("mx = a[i] > mx ? mx : a[i]", OFF,
      note="a min written backwards: a NaN a[i] is picked, checked after the kernel (Reduction.restarts)"),
    R("imx = h[i] > imx ? imx : h[i]", OFF, pre="int imx = 0;", note="integers have no NaN"),
    R("flag = flag && (a[i] > 0)", OFF),
    R("flag = flag || (a[i] > 0)", OFF),
    R("bits |= h[i]", OFF),
    R("bits &= h[i]", OFF),
    R("bits ^= h[i]", OFF),
    R("bits = bits | h[i]", OFF),
    R("if (a[i] < mn) { mn = a[i]; im = i; }", SER, "PCX112", note="argmin is not a reduction"),
    R("if (a[i] > mx) { mx = a[i]; im = i; }", SER, "PCX112", note="argmax is not a reduction"),
    # -- early exits -------------------------------------------------------------------------
    R("if (a[i] < 0) break; b[i] = a[i]", SER, "PCX108"),
    R("if (a[i] < 0) return; b[i] = 1", SER, "PCX108"),
    R("if (a[i] < 0) goto done; b[i] = 1", SER, "PCX108", post="done: ;"),
    R("if (a[i] < 0) exit(1); b[i] = a[i]", OFF, note="exit(1) after the kernel, the iteration ended there"),
    R("if (a[i] < 0) exit(i); b[i] = a[i]", SER, "PCX108", note="the status is the index"),
    R("if (a[i] < 0) continue; b[i] = a[i]", OFF, note="continue is allowed"),
    R("for (int i = 0; i < n; i++) { for (int j = 0; j < m; j++) { if (c[j] > a[i]) break; } b[i] = 1; }", OFF,
      note="break of an inner loop stays inside the iteration"),
    R("switch (h[i]) { case 0: a[i] = 1; break; default: a[i] = 2; }", OFF, note="break of a switch"),
    # -- calls -------------------------------------------------------------------------------
    R("a[i] = sq(b[i])", OFF, note="pure user function"),
    R("a[i] = poly3(b[i])", OFF, note="pure user function calling another"),
    R("a[i] = side(b[i])", SER, "PCX105", note="user function writes a global"),
    R("a[i] = pr(b[i])", SER, "PCX105", note="user function prints"),
    R("wr(a, i)", SER, "PCX105", note="array passed to a function"),
    R("a[i] = ext_fn(b[i])", SER, "PCX105", note="no definition in this file"),
    R("a[i] = rand()", SER, "PCX105", note="hidden state"),
    R("double (*fp)(double) = sq; a[i] = fp(b[i])", SER, "PCX105", note="call through a function pointer"),
    R('printf("%f\\n", a[i])', SER, "PCX106"),
    R('puts("x"); a[i] = 0', SER, "PCX106"),
    R("a[i] = 0; free(malloc(16))", SER, "PCX107"),
    R("memcpy(&a[i], &b[i], 8)", SER, "PCX105"),
    R("a[i] = SQ(b[i])", OFF, note="function-like macro in the body: analysed through its arguments"),
    R("BUMP(a[i])", NA, "PCX113", note="function-like macro that increments its argument: not analysed through"),
    # -- pointers, aliasing, structs ------------------------------------------------------------
    R("p[i] = q[i]", OFF, note="neither pointer is restrict: versioned at run time (PCX128)"),
    R("p[i] = a[i]", OFF, note="a is restrict"),
    R("p[i] = p[i] + 1", OFF, note="one pointer"),
    R("u1[i] = u2[i]", OFF, pre="double *u1 = malloc(n * sizeof(double)); double *u2 = malloc(n * sizeof(double));",
      note="distinct allocations"),
    R("u1[i] = u2[i]", OFF, pre="double *u1 = malloc(n * sizeof(double)); double *u2 = u1;",
      note="u2 is a copy of u1: versioned, the run-time check finds them equal"),
    R("buf[i] = p[i]", OFF, pre="double buf[1024];", note="local array cannot alias a parameter"),
    R("g[i] = p[i]", OFF, note="p may point into the global g: versioned at run time"),
    R("rv.v[i] = p[i]", SER, "PCX104", glob="struct rawv { double *v; } rv;",
      note="a pointer member that is not restrict: not versioned (only plain variables are)"),
    R("pts[i].x = pts[i].y * 2", OFF),
    R("for (int i = 0; i < n - 1; i++) pts[i].x = pts[i + 1].y", OFF, note="different members"),
    R("for (int i = 0; i < n - 1; i++) pts[i].x = pts[i + 1].x", SER, "PCX101"),
    R("sa->xs[i] = sa->ys[i]", OFF, note="restrict members"),
    R("sv.xs[i] = 2 * sv.ys[i]", OFF),
    R("for (int i = 1; i < gp[0] - 1; i++) a[i] = b[i] * gp[2]", OFF, glob="int gp[3];",
      note="bound read from an integer array element the nest never writes (NPB's grid_points[0])"),
    R("for (int i = 1; i < gp[0] - 1; i++) { a[i] = b[i]; gp[1] = i; }", SER, "PCX111", glob="int gp[3];",
      note="bound read from an element of an array the nest writes"),
    R("for (int i = 1; i < gp[0] - 1; i++) h[i] = i", SER, "PCX110", glob="int gp[3];",
      note="bound read from an integer array while the nest writes integers through a pointer"),
    R("for (int i = 1; i < gp[k] - 1; i++) a[i] = b[i]", SER, "PCX110", glob="int gp[3];",
      note="bound read from an array element at a variable subscript"),
    R("a[i] = pts->x", OFF, note="a scalar member read through a pointer: taken into a local before the kernel"),
    R("a[i] = pts->x; pts->y = 1", SER, "PCX118", note="a member written through a pointer"),
    R("*p = a[i]", SER, "PCX118"),
    R("a[i] = *(b + i)", SER, "PCX118"),
    R("double *r = &a[i]; r[0] = 1", OFF, note="a pointer into a declared in the body: a[i] (access/views.py)"),
    R("double *r = &a[i]; r[0] = 1; r = b", SER, "PCX119", note="a pointer into a that moves"),
    R("a[i] = vv", SER, "PCX119", pre="volatile double vv = 0;"),
    R("static int calls = 0; a[i] = calls", SER, "PCX119"),
    # -- work ------------------------------------------------------------------------------
    R("for (int i = 0; i < SMALL; i++) a[i] = 0", SER, "PCX115"),
    R("for (int i = 0; i < 10; i++) for (int j = 0; j < 5; j++) A[i][j] = 0", SER, "PCX115"),
    R("for (int i = 0; i < 100; i++) for (int j = 0; j < 4; j++) A[i][j] = 0", SER, "PCX115",
      note="estimated work 100 * (1 + 4 * 2) = 900, below the default --pcx-min-work=1000"),
    R("for (int i = 0; i < 100; i++) for (int j = 0; j < 5; j++) A[i][j] = 0", OFF,
      note="estimated work 100 * (1 + 5 * 2) = 1100, at least the default --pcx-min-work=1000"),
    R("for (int i = 0; i < N; i++) a[i] = 0", OFF),
    R("for (int i = 0; i < CN; i++) a[i] = 0", OFF),
    R("for (int i = 0; i < 8; i++) for (int j = 0; j < n; j++) A[j][i] = 0", OFF, note="unknown inner trip count"),
    # -- preprocessor ------------------------------------------------------------------------------
    R("for (int i = 0; i < n; i++) {\n#ifdef FAST\n a[i] = 0;\n#else\n a[i] = 1;\n#endif\n}", NA, "PCX114"),
]

# Families: offsets of a write and a read of the same array (parallel iff equal), and of
# two restrict arrays (always parallel).
for w, r in itertools.product(range(-2, 3), repeat=2):
    code = f"for (int i = 2; i < n - 2; i++) a[i + {w}] = a[i + {r}] + 1.0"
    ROWS.append(R(code, OFF if w == r else SER, None if w == r else "PCX101", note=f"offsets w={w} r={r}"))
for w, r in itertools.product(range(-1, 2), repeat=2):
    ROWS.append(R(f"for (int i = 1; i < n - 1; i++) a[i + {w}] = b[i + {r}]", OFF, note=f"two arrays w={w} r={r}"))
# strides: a[s*i + o1] written, a[s*i + o2] read
for s, o1, o2 in [(2, 0, 1), (2, 1, 0), (3, 0, 1), (3, 0, 2), (4, 1, 3), (2, 0, 2), (3, 0, 3), (2, 1, 3)]:
    indep = (o1 - o2) % s != 0
    ROWS.append(R(f"a[{s}*i + {o1}] = a[{s}*i + {o2}]", OFF if indep else SER, None if indep else "PCX101",
                  note=f"stride {s}: {o1} vs {o2}"))
# math library calls are fine on the device
for fn in ["sqrt", "exp", "sin", "cos", "fabs", "log", "floor"]:
    ROWS.append(R(f"a[i] = {fn}(b[i])", OFF, note=f"math: {fn}"))
ROWS += [R("a[i] = pow(b[i], 2.0)", OFF), R("a[i] = fmin(b[i], c[i])", OFF), R("x[i] = sqrtf(y[i])", OFF),
         R("h[i] = abs(h[i])", OFF)]
# loop headers: every canonical form over several index types
for ty in ["int", "long", "unsigned", "size_t"]:
    ROWS.append(R(f"for ({ty} i = 0; i < (({ty})n); i++) a[i] = 1", OFF, note=f"index type {ty}"))
# (a narrower index wraps where OpenMP's iteration count does not: ``unsigned short i =
# 65000; i != 300`` ran no iteration offloaded)
ROWS.append(R("for (short i = 0; i < ((short)n); i++) a[i] = 1", SER, "PCX110", note="index type short"))
for op, bound in [("<", "n"), ("<=", "n - 1"), ("!=", "n")]:
    for step in ["i++", "++i", "i += 1"]:
        ROWS.append(R(f"for (int i = 0; i {op} {bound}; {step}) a[i] = b[i]", OFF, note=f"test {op}, {step}"))
for op, bound in [(">", "0"), (">=", "1")]:
    for step in ["i--", "--i", "i -= 1"]:
        ROWS.append(R(f"for (int i = n; i {op} {bound}; {step}) a[i - 1] = b[i - 1]", OFF, note=f"test {op}, {step}"))
# every reduction operator
for op, init, stmt, ty in [("+", "sum", "sum += a[i]", "double"), ("*", "prod", "prod *= a[i]", "double"),
                            ("&", "bits", "bits &= h[i]", "int"), ("|", "bits", "bits |= h[i]", "int"),
                            ("^", "bits", "bits ^= h[i]", "int"), ("&&", "flag", "flag = flag && h[i]", "int"),
                            ("||", "flag", "flag = h[i] || flag", "int")]:
    ROWS.append(R(stmt, OFF, note=f"reduction {op}"))
    ROWS.append(R(stmt + f"; c[i] = {init}", SER, "PCX112", note=f"reduction {op} read inside"))
# each kind of call, inside a nested position too
for call, rid in [("printf(\"x\")", "PCX106"), ("puts(\"x\")", "PCX106"), ("free(malloc(1))", "PCX107"),
                  ("exit(0)", "PCX108"), ("ext_fn(1.0)", "PCX105"), ("side(1.0)", "PCX105")]:
    ROWS.append(R(f"for (int i = 0; i < n; i++) for (int j = 0; j < 64; j++) {{ A[i][j] = 0; {call}; }}", SER, rid,
                  note=f"nested call {call}"))
    ROWS.append(R(f"for (int i = 0; i < n; i++) {{ if (a[i] > 0) {call}; }}", OFF if call == "exit(0)" else SER,
                  "PCX100" if call == "exit(0)" else rid, note=f"guarded call {call}"))


def _analyse(src: str, lang: Language = Language.C, path: str = "t.c") -> UnitAnalysis:
    return analyse_unit(SourceUnit(path, src, lang))


def _kernel_nest(ua: UnitAnalysis, which: int, fn: str = "kernel") -> NestAnalysis:
    nests = [n for f in ua.functions if f.name == fn for n in f.nests]
    assert len(nests) > which, f"no nest #{which} in {fn}: {[n.remarks for n in nests]} unit={ua.remarks}"
    return nests[which]


@pytest.mark.parametrize("row", ROWS, ids=[r.id() for r in ROWS])
def test_c_snippet(row: Row) -> None:
    ua = _analyse(row.source())
    assert not ua.remarks, [r.format() for r in ua.remarks]
    nest = _kernel_nest(ua, row.nest)
    ids = [r.id for r in nest.remarks]
    assert nest.decision is row.decision, [r.format() for r in nest.remarks]
    assert ids and ids[0] == row.rid, [r.format() for r in nest.remarks]
    # every message names something: a variable, a function or a line
    assert all(len(r.message) > 20 for r in nest.remarks)


def test_a_pointer_to_pointers_is_refused_for_what_it_is() -> None:
    """NPB's MG passes ``double ***u`` everywhere: each row its own allocation."""
    row = R("for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) pp[i][j] = 0", SER, "PCX118",
            glob="double **pp;")
    (remark,) = [r for r in _kernel_nest(_analyse(row.source()), 0).remarks if r.id == "PCX118"]
    assert "'pp' is a pointer to pointers ('double **')" in remark.message


@pytest.mark.parametrize("code", ["p[i] = q[i]", "g[i] = p[i]", "q[i] = p[i] + p[i + 1]"])
def test_pointers_that_may_alias_are_versioned_at_run_time(code: str) -> None:
    # issue 15, cause 5(c): the nest is offloaded with the pair to compare at run time,
    # and the remark names both pointers
    nest = _kernel_nest(_analyse(Row(code, OFF, "PCX100").source()), 0)
    assert nest.decision is OFF and nest.alias_checks, [r.format() for r in nest.remarks]
    (note,) = [r for r in nest.remarks if r.id == "PCX128"]
    assert all(f"'{name}'" in note.message for pair in nest.alias_checks for name in pair)


def test_table_is_large_and_balanced() -> None:
    pos = sum(1 for r in ROWS if r.decision is OFF)
    neg = len(ROWS) - pos
    assert len(ROWS) >= 250 and pos >= 100 and neg >= 100, (pos, neg)
    ids = {r.rid for r in ROWS}
    for rid in ["PCX100", "PCX101", "PCX102", "PCX103", "PCX104", "PCX105", "PCX106", "PCX107", "PCX108",
                "PCX109", "PCX110", "PCX111", "PCX112", "PCX113", "PCX114", "PCX115", "PCX116", "PCX118", "PCX119"]:
        assert rid in ids, rid


# ---------------------------------------------------------------------------- clauses and sections


@dataclass
class ClauseRow:
    code: str
    collapse: int = 1
    private: list[str] = field(default_factory=list)
    reductions: list[tuple[str, str]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # name -> rendered section
    fully: dict[str, bool] = field(default_factory=dict)  # name -> written_fully
    exact: dict[str, bool] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    atomics: int = 0
    pre: str = ""
    note: str = ""


CLAUSES = [
    ClauseRow("a[i] = b[i] + c[i]", sections={"a": "a[0:n]", "b": "b[0:n]", "c": "c[0:n]"},
              fully={"a": True, "b": False}, exact={"a": True, "b": True}),
    ClauseRow("for (int i = 1; i < n - 1; i++) a[i] = (b[i-1] + b[i] + b[i+1]) / 3",
              sections={"a": "a[1:n - 2]", "b": "b[0:n]"}, fully={"a": True}),
    ClauseRow("a[i] += b[i]", sections={"a": "a[0:n]"}, fully={"a": False}),
    ClauseRow("a[i] = 0; a[i] += b[i]", fully={"a": True}),
    ClauseRow("a[i] = a[i] + b[i]", fully={"a": False}, note="read before the store"),
    ClauseRow("for (int i = 0; i < n; i++) { for (int j = 0; j < 64; j++) A[i][j] = 0;"
              " for (int j = 0; j < 64; j++) A[i][j] += 1; }", fully={"A": False},
              note="conservative: a write in a sibling loop does not cover a later read"),
    ClauseRow("if (b[i] > 0) a[i] = 1", fully={"a": False}, exact={"a": False}),
    ClauseRow("for (int i = 0; i < n; i++) for (int j = 0; j < 64; j++) A[i][j] = B[i][j]", collapse=2,
              sections={"A": "A[0:n][0:64]", "B": "B[0:n][0:64]"}, fully={"A": True}),
    ClauseRow("for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i*m + j] = a[i*m + j]", collapse=2,
              sections={"c": "c[0:m*n]", "a": "a[0:m*n]"}, fully={"c": True}),
    ClauseRow("for (int i = 0; i < 64; i++) for (int j = 0; j < i; j++) A[i][j] = 1", collapse=1,
              fully={"A": False}),
    ClauseRow("for (int i = 0; i < n; i++) { double acc = 0; for (int j = 0; j < 64; j++) acc += A[i][j]; a[i] = acc; }",
              collapse=1, sections={"A": "A[0:n][0:64]", "a": "a[0:n]"}),
    ClauseRow("for (int i = 0; i < 64; i++) for (int j = 0; j < 64; j++) { t = 0; for (int l2 = 0; l2 < 64; l2++) "
              "t += A[i][l2] * B[l2][j]; C[i][j] = t; }", collapse=2, private=["t"]),
    ClauseRow("for (int i = 0; i < n; i++) { for (j = 0; j < 64; j++) A[i][j] = 0; }", collapse=2, private=["j"]),
    ClauseRow("sum += a[i] * b[i]", reductions=[("+", "sum")]),
    ClauseRow("if (a[i] < mn) mn = a[i]", reductions=[("min", "mn")]),
    ClauseRow("mx = fmax(mx, a[i]); sum += a[i]", reductions=[("max", "mx"), ("+", "sum")]),
    ClauseRow("t = a[i] * a[i]; b[i] = t", private=["t"]),
    ClauseRow("a[i] = poly3(b[i])", calls=["poly3"]),
    ClauseRow("lh[idx[i] & 255] += 1", atomics=1, sections={"lh": "lh[0:256]"}),
    ClauseRow("a[i] = g[i % 7]", sections={"g": "g[0:1024]"}, exact={"g": False}),
    ClauseRow("for (int i = 0; i < n; i += 2) a[i] = b[i + 1]", sections={"a": "a[0:n]", "b": "b[1:n]"},
              exact={"a": False}),
    ClauseRow("for (int i = 0; i < 3000; i += 3) a[i] = b[i]", sections={"a": "a[0:2998]"}, exact={"a": False}),
    ClauseRow("u1[i] = 2 * u2[i]", pre="double *u1 = malloc(n * sizeof(double)); double *u2 = malloc(n * sizeof(double));",
              sections={"u1": "u1[0:n]", "u2": "u2[0:n]"}),
    ClauseRow("pts[i].x = 2 * pts[i].y", sections={"pts": "pts[0:n]"}),
    ClauseRow("if (i > 0) a[i] = g[i - 1]", sections={"g": "g[0:1024]", "a": "a[1:n - 1]"},
              exact={"g": False, "a": False}),
    ClauseRow("if (i > 0 && i < n - 1) a[i] = b[i - 1] + b[i + 1]", sections={"b": "b[0:n]", "a": "a[1:n - 2]"}),
    ClauseRow("if (idx[i] > 3) a[i] = g[i - 1]", sections={"g": "g[0:1024]"}, exact={"g": False}),
    ClauseRow("for (int i = 0; i < 64; i++) for (int j = 0; j <= i; j++) b[i] += g[i - j]",
              sections={"g": "g[0:64]", "b": "b[0:64]"}, collapse=1),
]


@pytest.mark.parametrize("row", CLAUSES, ids=[c.code[:60] for c in CLAUSES])
def test_clauses(row: ClauseRow) -> None:
    ua = _analyse(Row(row.code, OFF, "PCX100", pre=row.pre).source())
    nest = _kernel_nest(ua, 0)
    assert nest.decision is OFF, [r.format() for r in nest.remarks]
    assert nest.collapse == row.collapse
    assert sorted(nest.private) == sorted(row.private)
    assert sorted((r.op, r.variable) for r in nest.reductions) == sorted(row.reductions)
    arrays = {a.name: a for a in nest.arrays}
    for name, sec in row.sections.items():
        assert arrays[name].section.render() == sec
    for name, flag in row.fully.items():
        assert arrays[name].written_fully is flag, name
    for name, flag in row.exact.items():
        assert arrays[name].exact is flag, name
    assert nest.calls == row.calls
    assert len(nest.atomic_updates) == row.atomics
    if row.calls:
        for c in row.calls:
            assert c in ua.device_functions
    src = Row(row.code, OFF, "PCX100", pre=row.pre).source().encode()
    assert src[nest.start_byte:nest.start_byte + 3] == b"for"
    for s, e in nest.atomic_updates:
        assert src[s:e].decode().endswith(";")


def test_device_functions_cover_callees() -> None:
    ua = _analyse(Row("a[i] = poly3(b[i])", OFF, "PCX100").source())
    src = Row("a[i] = poly3(b[i])", OFF, "PCX100").source().encode()
    assert set(ua.device_functions) == {"poly3", "sq"}
    s, e = ua.device_functions["sq"]
    assert src[s:e].decode().startswith("static double sq")


# ---------------------------------------------------------------------------- C++ rows

CXX_PRELUDE = r"""
#include <vector>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstddef>
#include <algorithm>
#include <iostream>
constexpr int CN2 = 4096;
const int CM = 256;
#define NX 512
struct Shape { virtual double area() const { return 1.0; } virtual ~Shape() {} };
struct Grid {
  double cells[128];
  double *buf;
  void scale(double f) { for (int i = 0; i < 128; i++) this->cells[i] *= f; }
  void implicit_scale(double f) { for (int i = 0; i < 128; i++) cells[i] *= f; }
  void ptr_scale(double f, int n) { for (int i = 0; i < n; i++) buf[i] *= f; }
  double get(int i) const { return cells[i]; }
};
static inline float twice(float v) { return 2.0f * v; }
template <typename T> T cube(T v) { return v * v * v; }
struct Big { double v[4]; Big operator*(const Big& o) const { return o; } Big& operator*=(const Big& o) { return *this; } };
"""


@dataclass
class CxxRow:
    function: str  # a whole function definition named row (renamed per row)
    decision: Decision
    rid: str
    note: str = ""
    extra: str = ""  # more file-scope code after the function (callers, instantiations)


CXX_ROWS: list[CxxRow] = [
    # -- containers, references, raw pointers -----------------------------------------------------
    CxxRow("static void row(float a, const std::vector<float>& x, std::vector<float>& y) {"
           " for (size_t i = 0; i < x.size(); ++i) y[i] = a * x[i] + y[i]; }", OFF, "PCX100",
           "saxpy on vectors, distinct at the call site of a static function",
           "void call_row(){ std::vector<float> p(8), q(8); row(2.0f, p, q); }"),
    CxxRow("void row(float a, const std::vector<float>& x, std::vector<float>& y) {"
           " for (size_t i = 0; i < x.size(); ++i) y[i] = a * x[i] + y[i]; }", OFF, "PCX100",
           "two vector references, no call site proves them distinct: versioned at run time (PCX128)"),
    CxxRow("void row(float a, std::vector<float>& y) { for (size_t i = 0; i < y.size(); ++i) y[i] *= a; }",
           OFF, "PCX100", "one vector"),
    CxxRow("float row(const std::vector<float>& v) { float s = 0; for (auto i = 0u; i < v.size(); i++) s += v[i];"
           " return s; }", OFF, "PCX100", "auto index, vector reduction"),
    CxxRow("float row(const std::vector<float>& v) { float m = -1e30f;"
           " for (size_t i = 0; i < v.size(); i++) m = std::max(m, v[i]); return m; }", OFF, "PCX100",
           "std::max reduction"),
    CxxRow("float row(const std::vector<float>& v) { float m = 1e30f;"
           " for (size_t i = 0; i < v.size(); i++) m = std::min(m, v[i]); return m; }", OFF, "PCX100",
           "std::min reduction"),
    CxxRow("void row(std::array<double, CN2>& a, const double* __restrict__ b) {"
           " for (int i = 0; i < CN2; i++) a[i] = std::sqrt(b[i]) + std::max(b[i], 0.0); }", OFF, "PCX100",
           "std::array and std::sqrt/std::max"),
    CxxRow("void row(std::vector<double>& v) { for (int i = 0; i < NX; i++) v.data()[i] = 2.0 * i; }", OFF,
           "PCX100", "v.data()[i]"),
    CxxRow("void row(int n) { float* p = new float[n]; for (int i = 0; i < n; i++) p[i] = i; delete[] p; }", OFF,
           "PCX100", "new T[n] outside the nest"),
    CxxRow("void row(int n) { double* p = (double*)std::malloc(n * sizeof(double));"
           " for (int i = 0; i < n; i++) p[i] = std::exp(-i); std::free(p); }", OFF, "PCX100", "malloc in C++"),
    CxxRow("void row() { double raw[CM][CM]; for (int i = 0; i < CM; i++) for (int j = 0; j < CM; j++)"
           " raw[i][j] = i + j; }", OFF, "PCX100", "C array with const sizes"),
    CxxRow("void row() { std::vector<double> v(CN2); for (int i = 0; i < CN2; i++) v[i] = std::abs(i - 7); }", OFF,
           "PCX100", "local vector, constexpr size"),
    CxxRow("void row(double* __restrict__ a, const double& s, int n) { for (int i = 0; i < n; i++) a[i] *= s; }",
           OFF, "PCX100", "const reference scalar read"),
    CxxRow("void row(const double* __restrict__ a, double& acc, int n) { for (int i = 0; i < n; i++) acc += a[i]; }",
           SER, "PCX104", "reduction into a reference parameter"),
    CxxRow("void row(float* __restrict__ a, int n) { for (int i = 0; i < n; i++) a[i] = twice(a[i]); }", OFF,
           "PCX100", "inline user function"),
    CxxRow("void row(double* __restrict__ a, int n) { for (int i = 0; i < n; i++) a[i] = cube(a[i]); }", OFF,
           "PCX100", "function template called from a kernel"),
    CxxRow("void row(double* __restrict__ a, const Grid& g2, int n) { for (int i = 0; i < n; i++) a[i] = g2.get(i); }",
           SER, "PCX105", "member function call"),
    CxxRow("void row(std::vector<float>& v, std::size_t n) { for (std::size_t i = 0; i < n; i++) v[i] = 1.0f; }",
           OFF, "PCX100", "std::size_t index"),
    CxxRow("void row(std::vector<float>& v) { for (size_t i = 1; i < v.size(); i++) v[i] = v[i - 1] + 1; }", SER,
           "PCX101", "prefix sum on a vector"),
    CxxRow("void row(std::vector<int>& h, const std::vector<int>& key) {"
           " for (size_t i = 0; i < key.size(); i++) h[key[i]] += 1; }", OFF, "PCX100",
           "histogram into a vector reference that may alias: versioned at run time (PCX128)"),
    # -- C++ constructs that are refused --------------------------------------------------------
    CxxRow("void row(float* __restrict__ a, int n) { auto f = [](float v) { return v * 2; };"
           " for (int i = 0; i < n; i++) a[i] = f(a[i]); }", SER, "PCX130", "lambda called in the nest"),
    CxxRow("void row(float* __restrict__ a, int n) { for (int i = 0; i < n; i++) a[i] = [](float v) { return v; }(a[i]); }",
           SER, "PCX130", "lambda defined in the nest"),
    CxxRow("void row(Shape** s, double* __restrict__ out, int n) { for (int i = 0; i < n; i++) out[i] = s[i]->area(); }",
           SER, "PCX131", "virtual call"),
    CxxRow("void row(double* __restrict__ a, int n) { for (int i = 0; i < n; i++) { if (a[i] < 0) throw 1; a[i] = 1; } }",
           SER, "PCX132", "throw"),
    CxxRow("void row(double* __restrict__ a, int n) { for (int i = 0; i < n; i++) { try { a[i] = 1; } catch (...) {} } }",
           SER, "PCX132", "try/catch"),
    CxxRow("void row(std::vector<double>& v, int n) { for (int i = 0; i < n; i++) v.at(i) = 1; }", SER, "PCX132",
           "at() may throw"),
    CxxRow("void row(double** __restrict__ a, int n) { for (int i = 0; i < n; i++) a[i] = new double[4]; }", SER,
           "PCX133", "new in the nest"),
    CxxRow("void row(double** __restrict__ a, int n) { for (int i = 0; i < n; i++) delete[] a[i]; }", SER, "PCX133",
           "delete in the nest"),
    CxxRow("void row(double* __restrict__ a, int n) { for (int i = 0; i < n; i++) std::cout << a[i] << '\\n'; }", SER,
           "PCX134", "iostream"),
    CxxRow("void row(std::vector<int>& v, int n) { for (int i = 0; i < n; i++) v.push_back(i); }", SER, "PCX135",
           "push_back"),
    CxxRow("void row(std::vector<int>& v, int n) { for (int i = 0; i < n; i++) { v.resize(i + 1); v[i] = i; } }", SER,
           "PCX135", "resize"),
    CxxRow("template <typename T> void row(T* __restrict__ x, T s, int n) { for (int i = 0; i < n; i++) x[i] *= s; }",
           OFF, "PCX100", "template with arithmetic instantiations",
           "void inst_row(){ float f[4]; double d[4]; row(f, 2.0f, 4); row(d, 2.0, 4); }"),
    CxxRow("template <typename T> void row(T* __restrict__ x, T s, int n) { for (int i = 0; i < n; i++) x[i] *= s; }",
           SER, "PCX136", "template instantiated with a class type",
           "void inst_row(){ Big b[4]; Big one; row(b, one, 4); }"),
    CxxRow("template <typename T> void row(T* __restrict__ x, T s, int n) { for (int i = 0; i < n; i++) x[i] *= s; }",
           SER, "PCX136", "template never instantiated"),
    CxxRow("void row(std::vector<float>& v) { for (float& e : v) e *= 2; }", SER, "PCX110", "range-based for"),
    CxxRow("int& slot(int i); void row(int n) { for (int i = 0; i < n; i++) { slot(i) = 0; } }", NA, "PCX122",
           "a call's reference result assigned, which tree-sitter reads as a declaration (LULESH)"),
    CxxRow("float row(const std::vector<float>& v) { float m = 1e30f;"
           " for (size_t i = 0; i < v.size(); i++) m = std::min(v[i], m); return m; }", OFF, "PCX100",
           "std::min(element, m) takes a NaN element: a reduction checked after the kernel"),
]


def _cxx_unit(rows: list[CxxRow]) -> tuple[str, list[str]]:
    parts, names = [CXX_PRELUDE], []
    for k, r in enumerate(rows):
        name = f"row{k}"
        names.append(name)
        fn = r.function.replace("row(", f"{name}(", 1)
        parts.append(fn)
        parts.append(r.extra.replace("row(", f"{name}(").replace("call_row", f"call_{name}")
                     .replace("inst_row", f"inst_{name}"))
    return "\n".join(parts) + "\n", names


@pytest.fixture(scope="module")
def cxx_analysis() -> tuple[UnitAnalysis, list[str]]:
    src, names = _cxx_unit(CXX_ROWS)
    return _analyse(src, Language.CXX, "t.cpp"), names


@pytest.mark.parametrize("k", range(len(CXX_ROWS)), ids=[r.note or r.function[:50] for r in CXX_ROWS])
def test_cxx_snippet(k: int, cxx_analysis) -> None:
    ua, names = cxx_analysis
    assert not ua.remarks, [r.format() for r in ua.remarks]
    row = CXX_ROWS[k]
    nest = _kernel_nest(ua, 0, names[k])
    ids = [r.id for r in nest.remarks]
    assert nest.decision is row.decision, [r.format() for r in nest.remarks]
    assert ids[0] == row.rid, [r.format() for r in nest.remarks]


def test_cxx_members(cxx_analysis) -> None:
    """A member array inside the object (``cells[128]``) is no section a kernel can map
    apart from the object; what a pointer member points to is (``this->buf[0:n]``)."""
    ua, _ = cxx_analysis
    for fn in ("Grid::scale", "scale", "implicit_scale"):
        nests = [n for f in ua.functions if f.name == fn for n in f.nests]
        if nests:
            assert nests[0].decision is SER and nests[0].remarks[0].id in ("PCX137", "PCX118"), nests[0].remarks
    (ptr,) = [n for f in ua.functions if f.name == "ptr_scale" for n in f.nests]
    assert ptr.decision is not SER and [a.name for a in ptr.arrays] == ["this->buf"], ptr.remarks


def test_cxx_vector_containers(cxx_analysis) -> None:
    ua, names = cxx_analysis
    src, _ = _cxx_unit(CXX_ROWS)
    data = src.encode()
    nest = _kernel_nest(ua, 0, names[0])
    arrays = {a.name: a for a in nest.arrays}
    assert arrays["y"].container == "std::vector" and arrays["y"].element_type == "float"
    assert arrays["y"].section.render() == "y[0:x.size()]"
    assert all(data[s:e] == b"y" for s, e in arrays["y"].base_ranges) and len(arrays["y"].base_ranges) == 2
    nest = _kernel_nest(ua, 0, names[7])  # v.data()[i]
    (v,) = nest.arrays
    assert v.container == "std::vector" and [data[s:e] for s, e in v.base_ranges] == [b"v.data()"]
    nest = _kernel_nest(ua, 0, names[6])  # std::array
    arr = {a.name: a for a in nest.arrays}["a"]
    assert arr.container == "std::array" and arr.section.render() == "a[0:CN2]"


def test_same_engine_for_c_and_cxx() -> None:
    """A C row and the same code compiled as C++ get the same decision from one engine."""
    for row in ROWS[:40]:
        src = row.source().replace("restrict", "__restrict__").replace("double *__restrict__ p", "double *p")
        c = _kernel_nest(_analyse(row.source()), row.nest)
        cxx_ua = _analyse(src.replace("void *malloc(size_t); void *calloc(size_t, size_t);", ""), Language.CXX, "t.cpp")
        if cxx_ua.remarks:
            continue  # not valid C++ (implicit void* conversions)
        cxx = _kernel_nest(cxx_ua, row.nest)
        assert c.decision is cxx.decision, (row.code, cxx.remarks)
