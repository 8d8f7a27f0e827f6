"""Synthetic projects the size of zlib and of LULESH, for bench/overhead.py.

    .venv/bin/python bench/projectgen.py zlib-sized DIR      (or lulesh-sized)

Neither project is copied: each is written here from a fixed seed, with the shapes that
make a compile and an analysis cost what they cost in the real ones.

zlib-sized     15 C files (13 library modules of 150-1,100 lines, two programs), one
               shared header over the C library headers, a Makefile that compiles each
               file, archives the modules and links two programs (-O2).  The modules
               hold what zlib's hold: checksum and table loops with carried state,
               byte-stream state machines (switch in a loop), linked lists, string
               searches, API wrappers full of branches, and a few plain array loops the
               analysis can offload.
lulesh-sized   C-style C++ (LULESH's shape): one solver file of ~2,800 lines (a Domain
               class of std::vector members reached through accessors, element loops
               over the 8 nodes of a hexahedron, <cmath>), three small files (init,
               util, viz) and a header; compiled with -O2 -std=c++17, one link.

The code is valid, warning-free C/C++ that links and runs (``make run``), but computes
nothing of interest: only its size and shape matter.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

# ------------------------------------------------------------------ C kernels (zlib-sized)
#
# Each template takes the function's name and a random generator and returns C text.  The
# mix is weighted towards zlib's serial shapes; "axpy", "stencil" and "matmul" are the
# kinds of loop the analysis offloads.


def _c_axpy(name: str, r: random.Random) -> str:
    a = r.choice(["2.0 * a", "0.5 * a", "a"])
    return f"""void {name}(size_t n, double a, const double *restrict x, double *restrict y)
{{
    size_t i;
    if (n == 0)
        return;
    for (i = 0; i < n; i++)
        y[i] = {a} * x[i] + y[i];
}}
"""


def _c_stencil(name: str, r: random.Random) -> str:
    w = r.choice(["0.25f", "0.2f", "0.125f"])
    return f"""void {name}(const grid_t *in, grid_t *out)
{{
    int i, j;
    const int rows = in->rows, cols = in->cols;
    const float *restrict src = in->cell;
    float *restrict dst = out->cell;
    for (i = 1; i < rows - 1; i++) {{
        for (j = 1; j < cols - 1; j++) {{
            dst[i * cols + j] = {w} * (src[(i - 1) * cols + j] + src[(i + 1) * cols + j]
                                   + src[i * cols + j - 1] + src[i * cols + j + 1]);
        }}
    }}
}}
"""


def _c_matmul(name: str, r: random.Random) -> str:
    return f"""void {name}(int n, const double *restrict a, const double *restrict b, double *restrict c)
{{
    int i, j, k;
    for (i = 0; i < n; i++) {{
        for (j = 0; j < n; j++) {{
            double s = 0.0;
            for (k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }}
    }}
}}
"""


def _c_checksum(name: str, r: random.Random) -> str:
    base, nmax = r.choice([(65521, 5552), (65519, 5550), (65497, 4096)])
    return f"""#define BASE_{name} {base}U
#define NMAX_{name} {nmax}
#define DO1_{name}(buf, i)  {{ adler += (buf)[i]; sum2 += adler; }}
#define DO4_{name}(buf, i)  DO1_{name}(buf, i); DO1_{name}(buf, i + 1); DO1_{name}(buf, i + 2); DO1_{name}(buf, i + 3);

uint32_t {name}(uint32_t adler, const unsigned char *buf, size_t len)
{{
    uint32_t sum2;
    unsigned n;

    sum2 = (adler >> 16) & 0xffff;
    adler &= 0xffff;
    if (buf == NULL)
        return 1U;
    while (len >= NMAX_{name}) {{
        len -= NMAX_{name};
        n = NMAX_{name} / 4;
        do {{
            DO4_{name}(buf, 0);
            buf += 4;
        }} while (--n);
        adler %= BASE_{name};
        sum2 %= BASE_{name};
    }}
    if (len) {{
        while (len >= 4) {{
            len -= 4;
            DO4_{name}(buf, 0);
            buf += 4;
        }}
        while (len--) {{
            adler += *buf++;
            sum2 += adler;
        }}
        adler %= BASE_{name};
        sum2 %= BASE_{name};
    }}
    return adler | (sum2 << 16);
}}
"""


def _c_table(name: str, r: random.Random) -> str:
    poly = r.choice(["0xedb88320U", "0x82f63b78U", "0xeb31d82eU"])
    return f"""static uint32_t table_{name}[256];
static int table_{name}_ready;

static void make_{name}(void)
{{
    unsigned n, k;
    uint32_t c;
    table_{name}[0] = 0;
    for (n = 1; n < 256; n++) {{
        c = table_{name}[n - 1] ^ (uint32_t)n;  /* each entry starts from the one before */
        for (k = 0; k < 8; k++)
            c = c & 1 ? {poly} ^ (c >> 1) : c >> 1;
        table_{name}[n] = c;
    }}
    table_{name}_ready = 1;
}}

uint32_t {name}(uint32_t crc, const unsigned char *buf, size_t len)
{{
    if (!table_{name}_ready)
        make_{name}();
    crc = crc ^ 0xffffffffU;
    while (len >= 8) {{
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
        len -= 8;
    }}
    while (len--)
        crc = table_{name}[(crc ^ *buf++) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffU;
}}
"""


def _c_state_machine(name: str, r: random.Random) -> str:
    states = r.randint(5, 9)
    cases = []
    for s in range(states):
        nxt = (s + 1) % states
        op = r.choice(["hold += (uint32_t)in[have] << bits; bits += 8;", "hold >>= 3; bits -= bits > 3 ? 3 : bits;",
                       "out[put++ % cap] = (unsigned char)(hold & 0xff);", "hold ^= (uint32_t)s->state[mode & 7];"])
        cases.append(f"""        case {s}:
            {op}
            if ((hold & {1 << (s % 5)}U) != 0 || bits > 24)
                mode = {nxt};
            else
                mode = {(s + 2) % states};
            break;""")
    body = "\n".join(cases)
    return f"""int {name}(stream_t *s, const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{{
    uint32_t hold = 0;
    unsigned bits = 0;
    size_t have = 0, put = 0;
    int mode = (int)(s->used % {states});

    if (s == NULL || in == NULL || out == NULL || cap == 0)
        return -1;
    for (;;) {{
        if (have >= len)
            break;
        switch (mode) {{
{body}
        default:
            return -2;
        }}
        have++;
    }}
    s->used += put;
    s->state[0] = hold;
    return (int)(put % 251);
}}
"""


def _c_list(name: str, r: random.Random) -> str:
    return f"""node_t *{name}_insert(node_t *head, int key)
{{
    node_t *n = (node_t *)malloc(sizeof *n);
    node_t *prev = NULL, *cur = head;
    if (n == NULL)
        return head;
    n->key = key;
    while (cur != NULL && cur->key < key) {{
        prev = cur;
        cur = cur->next;
    }}
    n->next = cur;
    if (prev == NULL)
        return n;
    prev->next = n;
    return head;
}}

int {name}_count(const node_t *head, int lo, int hi)
{{
    int count = 0;
    for (; head != NULL; head = head->next)
        if (head->key >= lo && head->key <= hi)
            count++;
    return count;
}}

void {name}_free(node_t *head)
{{
    while (head != NULL) {{
        node_t *next = head->next;
        free(head);
        head = next;
    }}
}}
"""


def _c_search(name: str, r: random.Random) -> str:
    window = r.choice([32, 64, 258])
    return f"""size_t {name}(const unsigned char *buf, size_t len, size_t pos, size_t *match)
{{
    size_t best = 0, start, cand;
    const size_t limit = pos > {window * 128} ? pos - {window * 128} : 0;
    *match = 0;
    if (pos >= len)
        return 0;
    for (cand = pos; cand-- > limit;) {{
        size_t n = 0;
        if (buf[cand] != buf[pos] || buf[cand + best] != buf[pos + best])
            continue;
        while (pos + n < len && n < {window} && buf[cand + n] == buf[pos + n])
            n++;
        if (n > best) {{
            best = n;
            *match = cand;
            if (n >= {window})
                break;
        }}
    }}
    start = best ? pos - *match : 0;
    return best > 2 ? best : (start & 0);
}}
"""


def _c_histogram(name: str, r: random.Random) -> str:
    return f"""void {name}(const unsigned char *data, size_t n, unsigned *freq, unsigned *bl, int bits)
{{
    size_t i;
    int len;
    memset(freq, 0, 256 * sizeof *freq);
    for (i = 0; i < n; i++)
        freq[data[i]]++;
    memset(bl, 0, (size_t)(bits + 1) * sizeof *bl);
    for (i = 0; i < 256; i++) {{
        unsigned f = freq[i];
        len = 0;
        while (f > 1 && len < bits) {{
            f >>= 1;
            len++;
        }}
        bl[len]++;
    }}
}}
"""


def _c_prefix(name: str, r: random.Random) -> str:
    return f"""void {name}(const unsigned short *count, unsigned short *offs, int max)
{{
    int len;
    offs[1] = 0;
    for (len = 1; len < max; len++)
        offs[len + 1] = (unsigned short)(offs[len] + count[len]);
}}
"""


def _c_wrapper(name: str, r: random.Random) -> str:
    checks = "\n".join(
        f"""    if (s->state[{k}] {r.choice(['>', '<', '=='])} {r.randint(0, 999)}U && level {r.choice(['>', '<'])} {k})
        flags |= {1 << k};""" for k in range(r.randint(4, 8)))
    return f"""int {name}(stream_t *s, int level, const char *mode)
{{
    int flags = 0;
    const char *p;
    if (s == NULL || mode == NULL)
        return -1;
    if (level < -1 || level > 9)
        return -2;
    for (p = mode; *p; p++) {{
        if (*p >= '0' && *p <= '9')
            level = *p - '0';
        else if (*p == 'f')
            flags |= 64;
        else if (*p == 'h')
            flags |= 128;
    }}
{checks}
    if (strlen(mode) > 8)
        fprintf(stderr, "{name}: mode too long\\n");
    s->used = (size_t)flags;
    return flags;
}}
"""


#: zlib's own shapes, none of which the analysis offloads
C_KERNELS = [(_c_checksum, 2), (_c_table, 2), (_c_state_machine, 3), (_c_list, 2), (_c_search, 2),
             (_c_histogram, 2), (_c_prefix, 2), (_c_wrapper, 4)]
#: plain array loops the analysis offloads: in two modules only (zlib: one file of 15
#: has a loop that static mode offloads), so that static mode's offload compiles and the
#: offload link are part of the figure, at zlib's proportion
OFFLOADED = {3: (_c_axpy, _c_stencil), 9: (_c_matmul,)}

# the first line of each kernel names the function(s) it defines
C_HEADER = """#ifndef GEN_H
#define GEN_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>

typedef struct { int rows, cols; float *cell; } grid_t;
typedef struct node { int key; struct node *next; } node_t;
typedef struct { uint32_t state[8]; unsigned char buf[64]; size_t used; } stream_t;

uint32_t gen_mix(uint32_t a, uint32_t b);
%s
#endif
"""


def _prototype(text: str) -> list[str]:
    """The prototypes of a kernel's non-static functions (a line that opens a definition)."""
    out = []
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if k + 1 < len(lines) and lines[k + 1] == "{" and not line.startswith(("static", "#")):
            out.append(line + ";")
    return out


ZLIB_MODULES = 13


def write_zlib_sized(dest: Path, seed: int = 17) -> list[str]:
    r = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    prototypes: list[str] = []
    modules = []
    weights = [w for _, w in C_KERNELS]
    for m in range(ZLIB_MODULES):
        # zlib's files run from 75 to 2,100 lines; keep the same spread, smaller at the top
        target = r.choice([150, 250, 300, 400, 500, 600, 800, 1100])
        parts = [f"/* module{m:02d}.c: generated by bench/projectgen.py (zlib-sized) */\n#include \"gen.h\"\n"]
        lines = 2
        k = 0
        extra = list(OFFLOADED.get(m, ()))
        while lines < target or extra:
            make = extra.pop() if extra and k % 3 == 1 else r.choices([f for f, _ in C_KERNELS], weights)[0]
            text = make(f"m{m:02d}_{make.__name__[3:]}{k}", r)
            prototypes.extend(_prototype(text))
            parts.append(f"/* {make.__name__[3:]} kernel {k} */\n{text}")
            lines += text.count("\n") + 1
            k += 1
        (dest / f"module{m:02d}.c").write_text("\n".join(parts))
        modules.append(f"module{m:02d}.c")
    (dest / "gen.h").write_text(C_HEADER % "\n".join(prototypes))
    (dest / "mix.c").write_text('#include "gen.h"\n\nuint32_t gen_mix(uint32_t a, uint32_t b)\n{\n'
                                "    return (a * 2654435761U) ^ (b + 0x9e3779b9U + (a << 6) + (a >> 2));\n}\n")
    (dest / "main.c").write_text(_C_MAIN)
    files = [*modules, "mix.c", "main.c"]
    (dest / "Makefile").write_text(_C_MAKEFILE)
    return files


_C_MAIN = """/* main.c: runs a few generated kernels (generated by bench/projectgen.py) */
#include "gen.h"

int main(void)
{
    size_t n = 1 << 16, i;
    unsigned char *buf = (unsigned char *)malloc(n);
    uint32_t h = 1;
    if (buf == NULL)
        return 1;
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)(gen_mix((uint32_t)i, h) & 0xff);
    for (i = 0; i < n; i++)
        h = gen_mix(h, buf[i]);
    printf("%u\\n", (unsigned)h);
    free(buf);
    return 0;
}
"""

_C_MAKEFILE = """CFLAGS ?= -O2
MODULES := $(sort $(wildcard module*.c)) mix.c
OBJS := $(MODULES:.c=.o)

all: app app2

libgen.a: $(OBJS)
\tar rcs $@ $(OBJS)

app: main.o libgen.a
\t$(CC) $(CFLAGS) -o $@ main.o libgen.a -lm

# the second program links the objects themselves, as zlib's shared-library build does
app2: main.o $(OBJS)
\t$(CC) $(CFLAGS) -o $@ main.o $(OBJS) -lm

%.o: %.c gen.h
\t$(CC) $(CFLAGS) -c -o $@ $<

run: app app2
\t./app && ./app2

clean:
\trm -f *.o libgen.a app app2

.PHONY: all run clean
"""

# ------------------------------------------------------------------ C++ (LULESH-sized)

CXX_HEADER = """// domain.h: generated by bench/projectgen.py (lulesh-sized)
#ifndef DOMAIN_H
#define DOMAIN_H
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

typedef double Real_t;
typedef int Index_t;

class Domain {
public:
    Domain(Index_t edge);
    Real_t& x(Index_t i) { return m_x[i]; }
    Real_t& y(Index_t i) { return m_y[i]; }
    Real_t& z(Index_t i) { return m_z[i]; }
    Real_t& xd(Index_t i) { return m_xd[i]; }
    Real_t& yd(Index_t i) { return m_yd[i]; }
    Real_t& zd(Index_t i) { return m_zd[i]; }
    Real_t& fx(Index_t i) { return m_fx[i]; }
    Real_t& fy(Index_t i) { return m_fy[i]; }
    Real_t& fz(Index_t i) { return m_fz[i]; }
    Real_t& e(Index_t i) { return m_e[i]; }
    Real_t& p(Index_t i) { return m_p[i]; }
    Real_t& q(Index_t i) { return m_q[i]; }
    Real_t& v(Index_t i) { return m_v[i]; }
    Real_t& vdov(Index_t i) { return m_vdov[i]; }
    Real_t& nodalMass(Index_t i) { return m_nodalMass[i]; }
    Index_t* nodelist(Index_t i) { return &m_nodelist[8 * i]; }
    Index_t numElem() const { return m_numElem; }
    Index_t numNode() const { return m_numNode; }
    Real_t& dtcourant() { return m_dtcourant; }
    Real_t& deltatime() { return m_deltatime; }
    std::vector<Real_t> m_x, m_y, m_z, m_xd, m_yd, m_zd, m_fx, m_fy, m_fz;
    std::vector<Real_t> m_e, m_p, m_q, m_v, m_vdov, m_nodalMass;
    std::vector<Index_t> m_nodelist;
    Index_t m_numElem, m_numNode;
    Real_t m_dtcourant, m_deltatime;
};

void InitMesh(Domain& d);
Real_t Checksum(Domain& d);
void WriteSummary(Domain& d, const char* name);
%s
#endif
"""

_ELEMENT_FIELDS = ["e", "p", "q", "v", "vdov"]
_NODE_FIELDS = ["x", "y", "z", "xd", "yd", "zd", "fx", "fy", "fz"]


def _cxx_element_loop(name: str, r: random.Random) -> str:
    """LULESH's CalcXxxForElems: gather the 8 nodes of each element, compute, scatter."""
    a, b = r.sample(_NODE_FIELDS, 2)
    out = r.choice(_ELEMENT_FIELDS)
    terms = " + ".join(f"{r.choice(['0.125', '0.25', '0.5'])} * {v}[{k}]" for k, v in
                       ((k, r.choice(["xn", "yn", "zn"])) for k in range(8)))
    return f"""static inline Real_t {name}_volume(const Real_t xn[8], const Real_t yn[8], const Real_t zn[8])
{{
    Real_t dx = xn[6] - xn[0], dy = yn[6] - yn[0], dz = zn[6] - zn[0];
    return std::sqrt(dx * dx + dy * dy + dz * dz) + {terms};
}}

void {name}(Domain& domain, Real_t* {out}_new, Index_t numElem)
{{
    for (Index_t k = 0; k < numElem; ++k) {{
        Real_t xn[8], yn[8], zn[8];
        const Index_t* elemToNode = domain.nodelist(k);
        for (Index_t lnode = 0; lnode < 8; ++lnode) {{
            Index_t gnode = elemToNode[lnode];
            xn[lnode] = domain.{a}(gnode);
            yn[lnode] = domain.{b}(gnode);
            zn[lnode] = domain.z(gnode);
        }}
        Real_t vol = {name}_volume(xn, yn, zn);
        if (vol <= Real_t(0.0)) {{
            std::fprintf(stderr, "{name}: negative volume in element %d\\n", k);
            std::exit(1);
        }}
        {out}_new[k] = domain.{out}(k) * vol;
    }}
}}
"""


def _cxx_array_loop(name: str, r: random.Random) -> str:
    """Plain loops over raw arrays (LULESH's EvalEOSForElems helpers)."""
    c1, c2 = r.choice(["Real_t(0.5)", "Real_t(1.0) / Real_t(3.0)", "Real_t(4.0) / Real_t(3.0)"]), \
        r.choice(["Real_t(1.0e-7)", "Real_t(1.0e-9)"])
    return f"""void {name}(Real_t* p_new, Real_t* bvc, Real_t* pbvc, const Real_t* e_old, const Real_t* compression, const Real_t* vnewc, Real_t pmin, Real_t p_cut, Index_t length)
{{
    for (Index_t i = 0; i < length; ++i) {{
        bvc[i] = {c1} * (compression[i] + Real_t(1.0));
        pbvc[i] = {c1};
    }}
    for (Index_t i = 0; i < length; ++i) {{
        p_new[i] = bvc[i] * e_old[i];
        if (std::fabs(p_new[i]) < p_cut || vnewc[i] >= Real_t(1.0))
            p_new[i] = Real_t(0.0);
        if (p_new[i] < pmin)
            p_new[i] = pmin;
        p_new[i] += {c2};
    }}
}}
"""


def _cxx_node_loop(name: str, r: random.Random) -> str:
    f = r.choice(["x", "y", "z"])
    return f"""void {name}(Domain& domain, Real_t dt, Real_t u_cut, Index_t numNode)
{{
    for (Index_t i = 0; i < numNode; ++i) {{
        Real_t vel = domain.{f}d(i) + domain.f{f}(i) / domain.nodalMass(i) * dt;
        if (std::fabs(vel) < u_cut)
            vel = Real_t(0.0);
        domain.{f}d(i) = vel;
        domain.{f}(i) += vel * dt;
    }}
}}
"""


def _cxx_reduction(name: str, r: random.Random) -> str:
    f = r.choice(_ELEMENT_FIELDS)
    return f"""Real_t {name}(Domain& domain, Real_t qqc, Index_t length)
{{
    Real_t dtcourant = Real_t(1.0e+20);
    Index_t courant_elem = -1;
    for (Index_t i = 0; i < length; ++i) {{
        Real_t dtf = domain.{f}(i) * domain.{f}(i);
        if (domain.vdov(i) < Real_t(0.0))
            dtf += qqc * domain.vdov(i) * domain.vdov(i);
        dtf = std::sqrt(std::fabs(dtf) + Real_t(1.0e-12));
        if (dtf < dtcourant) {{
            dtcourant = dtf;
            courant_elem = i;
        }}
    }}
    if (courant_elem != -1)
        domain.dtcourant() = dtcourant;
    return dtcourant;
}}
"""


def _cxx_branchy(name: str, r: random.Random) -> str:
    conds = "\n".join(
        f"""    if (domain.{r.choice(_ELEMENT_FIELDS)}(elem) {r.choice(['>', '<'])} Real_t({r.randint(1, 99)}.0))
        status |= {1 << k};""" for k in range(r.randint(3, 7)))
    return f"""int {name}(Domain& domain, Index_t elem, int cycle)
{{
    int status = 0;
    if (elem < 0 || elem >= domain.numElem())
        return -1;
{conds}
    if (cycle % 10 == 0 && status != 0)
        std::printf("{name}: cycle %d element %d status %d\\n", cycle, elem, status);
    return status;
}}
"""


CXX_KERNELS = [(_cxx_element_loop, 3), (_cxx_array_loop, 2), (_cxx_node_loop, 2), (_cxx_reduction, 1),
               (_cxx_branchy, 2)]


def write_lulesh_sized(dest: Path, seed: int = 29) -> list[str]:
    r = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    weights = [w for _, w in CXX_KERNELS]
    prototypes: list[str] = []
    parts = ["// solver.cc: generated by bench/projectgen.py (lulesh-sized)\n#include \"domain.h\"\n#include <iostream>\n"]
    lines = 3
    k = 0
    while lines < 2750:
        make = r.choices([f for f, _ in CXX_KERNELS], weights)[0]
        text = make(f"Calc{make.__name__[5:].title().replace('_', '')}{k}", r)
        prototypes.extend(_prototype(text))
        parts.append(f"// {make.__name__[5:]} kernel {k}\n{text}")
        lines += text.count("\n") + 1
        k += 1
    parts.append(_CXX_MAIN)
    (dest / "solver.cc").write_text("\n".join(parts))
    # LULESH's small files: init ~740 lines, util ~230, viz ~430
    for name, fixed, target in (("init", _CXX_INIT, 600), ("util", _CXX_UTIL, 230), ("viz", _CXX_VIZ, 430)):
        small = [fixed]
        lines = fixed.count("\n")
        while lines < target:
            make = r.choices([f for f, _ in CXX_KERNELS], weights)[0]
            text = make(f"{name.title()}{make.__name__[5:].title().replace('_', '')}{k}", r)
            prototypes.extend(_prototype(text))
            small.append(f"// {make.__name__[5:]} kernel {k}\n{text}")
            lines += text.count("\n") + 1
            k += 1
        (dest / f"{name}.cc").write_text("\n".join(small))
    (dest / "domain.h").write_text(CXX_HEADER % "\n".join(prototypes))
    (dest / "Makefile").write_text(_CXX_MAKEFILE)
    return ["solver.cc", "init.cc", "util.cc", "viz.cc"]


_CXX_MAIN = """int main(int argc, char* argv[])
{
    Index_t edge = argc > 1 ? std::atoi(argv[1]) : 8;
    Domain domain(edge);
    InitMesh(domain);
    std::cout << "elements " << domain.numElem() << std::endl;
    WriteSummary(domain, "final");
    return 0;
}
"""

_CXX_INIT = """// init.cc: generated by bench/projectgen.py (lulesh-sized)
#include "domain.h"

Domain::Domain(Index_t edge)
    : m_numElem(edge * edge * edge), m_numNode((edge + 1) * (edge + 1) * (edge + 1)),
      m_dtcourant(1.0e+20), m_deltatime(1.0e-7)
{
    std::vector<Real_t>* nodal[] = {&m_x, &m_y, &m_z, &m_xd, &m_yd, &m_zd, &m_fx, &m_fy, &m_fz, &m_nodalMass};
    for (std::vector<Real_t>* f : nodal)
        f->assign(m_numNode, Real_t(0.0));
    std::vector<Real_t>* elemental[] = {&m_e, &m_p, &m_q, &m_v, &m_vdov};
    for (std::vector<Real_t>* f : elemental)
        f->assign(m_numElem, Real_t(0.0));
    m_nodelist.resize(8 * m_numElem);
}

void InitMesh(Domain& d)
{
    Index_t edgeElems = static_cast<Index_t>(std::cbrt(static_cast<double>(d.numElem())) + 0.5);
    Index_t edgeNodes = edgeElems + 1;
    Index_t nidx = 0;
    for (Index_t plane = 0; plane < edgeNodes; ++plane) {
        for (Index_t row = 0; row < edgeNodes; ++row) {
            for (Index_t col = 0; col < edgeNodes; ++col) {
                d.x(nidx) = Real_t(1.125) * col / edgeElems;
                d.y(nidx) = Real_t(1.125) * row / edgeElems;
                d.z(nidx) = Real_t(1.125) * plane / edgeElems;
                d.nodalMass(nidx) = Real_t(1.0);
                ++nidx;
            }
        }
    }
    Index_t zidx = 0;
    nidx = 0;
    for (Index_t plane = 0; plane < edgeElems; ++plane) {
        for (Index_t row = 0; row < edgeElems; ++row) {
            for (Index_t col = 0; col < edgeElems; ++col) {
                Index_t* local = d.nodelist(zidx);
                local[0] = nidx;
                local[1] = nidx + 1;
                local[2] = nidx + edgeNodes + 1;
                local[3] = nidx + edgeNodes;
                local[4] = nidx + edgeNodes * edgeNodes;
                local[5] = nidx + edgeNodes * edgeNodes + 1;
                local[6] = nidx + edgeNodes * edgeNodes + edgeNodes + 1;
                local[7] = nidx + edgeNodes * edgeNodes + edgeNodes;
                d.e(zidx) = zidx == 0 ? Real_t(3.948746e+7) : Real_t(0.0);
                d.v(zidx) = Real_t(1.0);
                ++zidx;
                ++nidx;
            }
            ++nidx;
        }
        nidx += edgeNodes;
    }
}
"""

_CXX_UTIL = """// util.cc: generated by bench/projectgen.py (lulesh-sized)
#include "domain.h"
#include <cstring>

Real_t Checksum(Domain& d)
{
    Real_t sum = Real_t(0.0);
    for (Index_t i = 0; i < d.numElem(); ++i)
        sum += d.e(i) + d.p(i) * Real_t(1.0e-3);
    return sum;
}

int ParseCommandLine(int argc, char* argv[], Index_t* edge, int* quiet)
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            *edge = std::atoi(argv[++i]);
        else if (std::strcmp(argv[i], "-q") == 0)
            *quiet = 1;
        else
            return -1;
    }
    return 0;
}
"""

_CXX_VIZ = """// viz.cc: generated by bench/projectgen.py (lulesh-sized)
#include "domain.h"

void WriteSummary(Domain& d, const char* name)
{
    Real_t maxE = Real_t(0.0), minV = Real_t(1.0e+20);
    Index_t where = 0;
    for (Index_t i = 0; i < d.numElem(); ++i) {
        if (d.e(i) > maxE) {
            maxE = d.e(i);
            where = i;
        }
        if (d.v(i) < minV)
            minV = d.v(i);
    }
    std::printf("%s: checksum %.6e, max energy %.6e at %d, min volume %.6e\\n", name, Checksum(d), maxE, where, minV);
}
"""

_CXX_MAKEFILE = """CXXFLAGS ?= -O2 -std=c++17
OBJS := solver.o init.o util.o viz.o

all: solver

solver: $(OBJS)
\t$(CXX) $(CXXFLAGS) -o $@ $(OBJS) -lm

%.o: %.cc domain.h
\t$(CXX) $(CXXFLAGS) -c -o $@ $<

run: solver
\t./solver

clean:
\trm -f *.o solver

.PHONY: all run clean
"""

#: project name -> (writer, compiler invocations of one clean build: compiles + links)
PROJECTS = {
    "zlib-sized": (write_zlib_sized, ZLIB_MODULES + 2 + 2),
    "lulesh-sized": (write_lulesh_sized, 4 + 1),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("project", choices=sorted(PROJECTS))
    ap.add_argument("dest", type=Path)
    opts = ap.parse_args()
    files = PROJECTS[opts.project][0](opts.dest)
    lines = sum((opts.dest / f).read_text().count("\n") for f in files)
    print(f"{opts.dest}: {len(files)} sources, {lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
