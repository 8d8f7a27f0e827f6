"""Loop-nest fuzzing of pcx-cc: random C programs full of offloadable nests, serial vs static.

csmith programs offload almost nothing (their nests hide behind pointers, globals and
jumps).  This generator writes the shapes the engine does offload, and the ones its data
planner must get right around them: several nests per function with host code between
them, partial and conditional writes, kernels under run-time conditions (on argc, on
data, on the time step), time loops around nests, host code touching single elements
between kernels, cur/nxt pointer swaps, arrays declared through function-like macros
(``#define ARR(v) v[restrict N]``) and typedefs, restrict and non-restrict parameters
(aliased on purpose where that is legal), helper functions and calls, reductions (into a
scalar, a global and an array element), 2-D arrays (static, VLA, pointer-to-VLA, flat
malloc with ``i*ld+j``), triangular loops, stencils with neighbour reads, struct members
holding arrays, arrays of structs whose kernels write one member of each element (Rodinia's
streamcluster was planned wrong that way), temporaries, gathers, scatters, recurrences,
memcpy between kernels.

Every program is deterministic from its seed, free of undefined behaviour (unsigned
arithmetic, exact doubles or element-wise double arithmetic only, every index proved in
bounds by construction, every array initialised in full) and prints a checksum of every
array and scalar.  Each is built serially (``clang-19 -O1``) and with ``pcx-cc
--pcx-mode=static`` (offload target: the host device, which has its own memory), and both
run under the strict environment (OMP_TARGET_OFFLOAD=MANDATORY,
LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD=0, MALLOC_PERTURB_=165, OMP_NUM_THREADS=2) with no
argument and with one (the program's sizes and branches depend on argc).

Outcomes per program (the worst over the argument variants):
    same            every run printed the serial output and status
    wrong           a run printed something else (a miscompile)
    crash           a run exited with another status or a signal
    timeout         the serial program finished, the pcx one did not
    rejected        pcx-cc's rewrite failed to compile (remark PCX007) or pcx-cc printed a
                    ``pcx-cc: warning:`` (internal fallback): a bug even though the build
                    "worked"
    build-failure   pcx-cc failed where clang-19 built the program
    bad-program     the serial build or run failed: a generator bug, not pcx's

Failures are reduced automatically (a structural block/line reducer that keeps the failure
class and the run variant, then C-Vise when it is installed), guarded against undefined
behaviour introduced by the reduction (ASan+UBSan and MSan builds of the serial program
when the sanitizer runtimes exist, -Werror on uninitialised uses).  Reduced programs land
in ``--save DIR`` (default /tmp/loopfuzz-saved) as regression candidates.

Usage:
    python bench/loopfuzz.py --count N --seed S [--jobs J] [--save DIR] [--keep-going]
                             [--max-reduce K] [--no-cvise] [--cvise-seconds S]
                             [--without FEATURE,...] [--print-program SEED] [--json]

``--without struct`` (or swap, call, 2d, ...) generates programs without a feature, to look
past a known bug; a program is reproducible from its seed and that list (both are in its
first line).

Exit status: 1 when any program is wrong, crashed, timed out, was rejected, failed the pcx
build (or was a bad program), else 0.  tests/test_loopfuzz.py runs a fixed seed range.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import csmith_fuzz as _cf  # noqa: E402  (shared: run_bounded, find_pcx_cc, strict environment)

run_bounded = _cf.run_bounded
find_pcx_cc = _cf.find_pcx_cc
VALIDATION_ENV = _cf.VALIDATION_ENV
OFFLOAD_TARGET = _cf.OFFLOAD_TARGET

BUGS = ("wrong", "crash", "timeout", "rejected", "build-failure", "bad-program")
VARIANTS: tuple[tuple[str, ...], ...] = ((), ("x",))
PLAIN_FLAGS = ("-O1", "-w")
#: uses the reducer must not introduce (a reduced program must stay free of UB)
STRICT_WARNINGS = ("-Werror=uninitialized", "-Werror=sometimes-uninitialized",
                   "-Werror=implicit-function-declaration", "-Werror=int-conversion",
                   "-Werror=incompatible-pointer-types", "-Werror=return-type",
                   "-Werror=array-bounds", "-Werror=implicit-int")
DEFAULT_SAVE = Path(tempfile.gettempdir()) / "loopfuzz-saved"


# ============================================================================ generator


class Arr:
    """One array as a function sees it: how to index it and what it may alias."""

    def __init__(self, name: str, et: str, kind: str, group: str, *, fixed: bool = False,
                 ld: str = "ld", writable: bool = True, ptr: str | None = None,
                 full: str = "", restrict: bool = False, member: str = ""):
        self.name = name          # C expression of the array: g0, bx.v, b->v, cur, F
        self.et = et              # "u" (u32) or "d" (double)
        self.kind = kind          # "1" 1-D, "2" 2-D [i][j], "f" flat [i*ld+j]
        self.group = group        # storage it names (aliases share a group)
        self.fixed = fixed        # extent is the constant N (or R x C): loops may use N
        self.ld = ld              # leading dimension of a flat array
        self.writable = writable  # false for const parameters
        self.ptr = ptr or name    # expression of its first element's address
        self.full = full          # element count for checksums (main only)
        self.restrict = restrict
        self.member = member      # one member of an array of structs: name[i].member

    def at(self, i: str, j: str | None = None) -> str:
        if self.member:
            return f"{self.name}[{i}].{self.member}"
        if self.kind == "1":
            return f"{self.name}[{i}]"
        if self.kind == "2":
            return f"{self.name}[{i}][{j}]"
        return f"{self.name}[({i}) * {self.ld} + {j}]"


def off(v: str, d: int) -> str:
    return v if d == 0 else (f"{v} + {d}" if d > 0 else f"{v} - {-d}")


class Fn:
    """The scope a statement is generated in."""

    def __init__(self, name: str, arrays: list[Arr], us: list[str], ds: list[str], *,
                 main: bool, top_decl: bool, params: dict | None = None):
        self.name = name
        self.arrays = arrays
        self.us = us          # writable u32 scalars
        self.ds = ds          # writable double scalars (sums of integers only: exact)
        self.main = main
        self.top_decl = top_decl   # loop indices declared at the top (int i, j, k;)
        self.params = params or {}
        self.tvars: list[str] = []  # enclosing time-loop counters
        self.depth = 0
        self.swap = False     # cur/nxt are in scope


class Gen:
    """Writes one program, deterministically from its seed."""

    def __init__(self, seed: int, without: frozenset[str] = frozenset()):
        self.seed = seed
        self.without = frozenset(without)
        self.r = random.Random(seed)
        self.out: list[str] = []
        self.ind = 0
        self.helpers: list[dict] = []
        self.called: set[str] = set()
        self.tmp_id = 0

    # -------------------------------------------------------------- small helpers
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(list(seq))

    def kinds(self, seq: list[str]) -> list[str]:
        """The declaration kinds not switched off with --without."""
        gone = {"s": "struct", "hb": "struct", "ao": "struct", "1v": "vla", "2v": "vla", "2p": "vla", "f": "flat",
                "2": "2d", "macro": "macro", "typedef": "typedef", "vla": "vla"}
        kept = [k for k in seq if gone.get(k) not in self.without
                and not (k in ("2v", "2p", "f") and "2d" in self.without)]
        return kept or ["1"]

    def emit(self, line: str) -> None:
        self.out.append("  " * self.ind + line)

    def open(self, line: str) -> None:
        self.emit(line)
        self.ind += 1

    def close(self, line: str = "}") -> None:
        self.ind -= 1
        self.emit(line)

    def fresh(self, stem: str) -> str:
        self.tmp_id += 1
        return f"{stem}{self.tmp_id}"

    def for_(self, fn: Fn, v: str, lo: str, hi: str, op: str = "<") -> str:
        decl = "" if fn.top_decl else "int "
        return f"for ({decl}{v} = {lo}; {v} {op} {hi}; {v}++) {{"

    def ucon(self) -> str:
        return self.pick(["1u", "3u", "5u", "7u", "13u", "0x9e37u", "255u", "2654435761u", "40503u"])

    # -------------------------------------------------------------- expressions
    def uexpr(self, reads: list[str], ivars: list[str], depth: int = 0) -> str:
        """An unsigned expression over the given element reads and loop indices."""
        r = self.r.random()
        if depth >= 2 or r < 0.35:
            leaf = self.r.random()
            if reads and leaf < 0.7:
                return self.pick(reads)
            if leaf < 0.85:
                return f"(u32){self.pick(ivars)}" if ivars else self.ucon()
            return self.ucon()
        if r < 0.45:
            return f"({self.uexpr(reads, ivars, depth + 1)} >> {self.pick([1, 2, 3, 5, 7])})"
        if r < 0.5 and self.use_mix:
            return f"mix({self.uexpr(reads, ivars, depth + 1)}, {self.uexpr(reads, ivars, depth + 1)})"
        op = self.pick(["+", "+", "-", "*", "^", "^", "&", "|"])
        return f"({self.uexpr(reads, ivars, depth + 1)} {op} {self.uexpr(reads, ivars, depth + 1)})"

    def dexpr(self, dreads: list[str], ureads: list[str], ivars: list[str], depth: int = 0) -> str:
        """A double expression: +, -, and products with small dyadic constants only."""
        r = self.r.random()
        if depth >= 2 or r < 0.35:
            leaf = self.r.random()
            if dreads and leaf < 0.6:
                return self.pick(dreads)
            if ureads and leaf < 0.75:
                return f"(double)({self.pick(ureads)} & 1023u)"
            if ivars and leaf < 0.9:
                return f"(double){self.pick(ivars)}"
            return self.pick(["0.5", "1.0", "0.25", "3.0", "-1.5"])
        if r < 0.55:
            return f"{self.pick(['0.5', '0.25', '0.75', '-0.5'])} * {self.dexpr(dreads, ureads, ivars, depth + 1)}"
        op = self.pick(["+", "+", "-"])
        return f"({self.dexpr(dreads, ureads, ivars, depth + 1)} {op} {self.dexpr(dreads, ureads, ivars, depth + 1)})"

    def value(self, w: Arr, reads: list[tuple[Arr, str]], ivars: list[str]) -> str:
        """A value for an element of w from the given (array, element-expression) reads."""
        if w.et == "u":
            return self.uexpr([e for a, e in reads if a.et == "u"], ivars)
        return self.dexpr([e for a, e in reads if a.et == "d"], [e for a, e in reads if a.et == "u"], ivars)

    def cond_on(self, reads: list[tuple[Arr, str]], ivars: list[str]) -> str:
        us = [e for a, e in reads if a.et == "u"]
        ds = [e for a, e in reads if a.et == "d"]
        c = self.r.random()
        if us and c < 0.4:
            return f"({self.pick(us)} & {self.pick(['1u', '3u', '4u'])}) == 0u"
        if ds and c < 0.55:
            return f"{self.pick(ds)} > {self.pick(['0.0', '10.0', '100.0'])}"
        v = self.pick(ivars)
        return self.pick([f"{v} % 3 == 0", f"({v} & 1) != 0", f"{v} < n / 2", f"{v} > 4"])

    # -------------------------------------------------------------- choosing arrays
    def arrays(self, fn: Fn, kinds: str, et: str | None = None, writable: bool = False,
               avoid: set[str] | None = None) -> list[Arr]:
        return [a for a in fn.arrays if a.kind in kinds and (et is None or a.et == et)
                and (a.writable or not writable) and not (avoid and a.group in avoid)]

    def reads_for(self, fn: Fn, w: Arr, kinds: str, count: int, allow_self: bool) -> list[Arr]:
        pool = [a for a in self.arrays(fn, kinds) if allow_self or a.group != w.group]
        if not pool:
            return []
        return [self.pick(pool) for _ in range(count)]

    # -------------------------------------------------------------- nests
    def bounds(self, fn: Fn, lo_need: int, hi_need: int, size: str, fixed_size: str | None) -> tuple[str, str]:
        """lo and hi for an index whose accesses reach lo_need below and hi_need above it."""
        L = fixed_size if fixed_size and self.chance(0.35) else size
        lo = lo_need + self.pick([0, 0, 0, 0, 1, 2])
        extra = hi_need + self.pick([0, 0, 0, 0, 1])
        shape = self.r.random()
        if shape < 0.12:
            hi = f"{L} / 2"
        elif extra:
            hi = f"{L} - {extra}"
        else:
            hi = L
        return str(lo), hi

    def nest_map1(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "1", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        recur = self.chance(0.08)
        reads = self.reads_for(fn, w, "1", self.pick([1, 1, 2, 2, 3]), allow_self=False)
        if recur or (not reads) or self.chance(0.2):
            reads.append(w)
        offs = []
        for a in reads:
            if a.group == w.group and not recur:
                d = 0
            else:
                d = self.pick([0, 0, 0, -1, 1, -2, 2]) if (self.stencil_bias or self.chance(0.4)) else 0
            offs.append(d)
        if recur and w in reads:
            offs[reads.index(w)] = -1
        lo_need = max([0] + [-d for d in offs])
        hi_need = max([0] + offs)
        fixed = all(a.fixed for a in reads + [w])
        lo, hi = self.bounds(fn, lo_need, hi_need, "n", "N" if fixed else None)
        els = [(a, a.at(off("i", d))) for a, d in zip(reads, offs)]
        self.open(self.for_(fn, "i", lo, hi))
        self.body_assign(w, w.at("i"), els, ["i"])
        self.close()
        return True

    def body_assign(self, w: Arr, target: str, els: list[tuple[Arr, str]], ivars: list[str]) -> None:
        form = self.r.random()
        val = self.value(w, els, ivars)
        if form < 0.5:
            self.emit(f"{target} = {val};")
        elif form < 0.62:
            self.emit(f"{target} += {val};")
        elif form < 0.77:
            self.emit(f"if ({self.cond_on(els, ivars)}) {target} = {val};")
        elif form < 0.87:
            self.open(f"if ({self.cond_on(els, ivars)}) {{")
            self.emit(f"{target} = {val};")
            self.close("} else {")
            self.ind += 1
            self.emit(f"{target} = {self.value(w, els, ivars)};")
            self.close()
        else:
            t = "u32" if w.et == "u" else "double"
            v = self.fresh("v")
            self.emit(f"{t} {v} = {val};")
            if w.et == "u":
                self.emit(f"{target} = {v} * 3u + ({v} >> 2);")
            else:
                self.emit(f"{target} = {v} * 0.5 + {v};")

    def nest_map2(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "2f", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        reads = self.reads_for(fn, w, "2f", self.pick([1, 1, 2]), allow_self=False)
        if not reads or self.chance(0.2):
            reads.append(w)
        offs = []
        stencil = self.stencil_bias or self.chance(0.35)
        for a in reads:
            if a.group == w.group or not stencil:
                offs.append((0, 0))
            else:
                offs.append((self.pick([0, -1, 1]), self.pick([0, -1, 1])))
        ilo, ihi = self.bounds(fn, max([0] + [-d[0] for d in offs]), max([0] + [d[0] for d in offs]), "r", None)
        jlo, jhi = self.bounds(fn, max([0] + [-d[1] for d in offs]), max([0] + [d[1] for d in offs]), "c", None)
        els = [(a, a.at(off("i", di), off("j", dj))) for a, (di, dj) in zip(reads, offs)]
        v1 = self.arrays(fn, "1")
        if v1 and self.chance(0.3):
            x = self.pick(v1)
            if x.group != w.group:
                els.append((x, x.at(self.pick(["i", "j"]))))
        if self.chance(0.2):   # j outermost
            self.open(self.for_(fn, "j", jlo, jhi))
            self.open(self.for_(fn, "i", ilo, ihi))
        else:
            self.open(self.for_(fn, "i", ilo, ihi))
            self.open(self.for_(fn, "j", jlo, jhi))
        self.body_assign(w, w.at("i", "j"), els, ["i", "j"])
        self.close()
        self.close()
        return True

    def nest_tri(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "2f", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        reads = self.reads_for(fn, w, "2f", 1, allow_self=False) + [w]
        els = [(a, a.at("i", "j")) for a in reads]
        self.open(self.for_(fn, "i", "0", "r"))
        if self.chance(0.5):
            self.open(self.for_(fn, "j", "0", "i", "<="))
        else:
            self.open(self.for_(fn, "j", "i", "c"))
        self.body_assign(w, w.at("i", "j"), els, ["i", "j"])
        self.close()
        self.close()
        return True

    def nest_reduce(self, fn: Fn) -> bool:
        kinds = self.pick(["1", "1", "2f"])
        src = self.arrays(fn, kinds)
        if not src:
            return False
        a = self.pick(src)
        b = self.pick(self.arrays(fn, kinds))
        if a.kind == "1":
            loops = [("i", "0", "n")]
            ea, eb = a.at("i"), b.at("i")
        else:
            loops = [("i", "0", "r"), ("j", "0", "c")]
            ea, eb = a.at("i", "j"), b.at("i", "j")
        ivars = [v for v, _, _ in loops]
        target_kind = self.r.random()
        w1 = self.arrays(fn, "1", writable=True)
        if target_kind < 0.25 and w1:   # into an array element
            w = self.pick(w1)
            if w.group in (a.group, b.group):
                return False
            tgt = w.at(str(self.r.randrange(4)))
            et = w.et
        elif target_kind < 0.4 and fn.ds:
            tgt, et = self.pick(fn.ds), "d"
        else:
            tgt, et = self.pick(fn.us), "u"
        for v, lo, hi in loops:
            self.open(self.for_(fn, v, lo, hi))
        if et == "d":
            us = [e for e, x in ((ea, a), (eb, b)) if x.et == "u"]
            term = f"(double)({us[0]} & 1023u)" if us else f"(double)({' + '.join(ivars)})"
            self.emit(f"{tgt} += {term};")
        else:
            us = [e for e, x in ((ea, a), (eb, b)) if x.et == "u"] or [f"(u32){ivars[0]}"]
            val = self.uexpr(us, ivars, 1)
            kind = self.r.random()
            if kind < 0.6:
                self.emit(f"{tgt} += {val};")
            elif kind < 0.75:
                self.emit(f"{tgt} ^= {val};")
            elif kind < 0.85:
                self.emit(f"{tgt} = {tgt} + {val};")
            else:
                self.emit(f"if ({val} > {tgt}) {tgt} = {val};")
        for _ in loops:
            self.close()
        return True

    def nest_rowsum(self, fn: Fn) -> bool:
        ms = self.arrays(fn, "2f", et="u")
        ys = self.arrays(fn, "1", et="u", writable=True)
        if not ms or not ys:
            return False
        m, y = self.pick(ms), self.pick(ys)
        xs = [x for x in self.arrays(fn, "1", et="u") if x.group != y.group]
        s = self.fresh("s")
        self.open(self.for_(fn, "i", "0", "r"))
        self.emit(f"u32 {s} = {self.pick(['0u', y.at('i')])};")
        self.open(self.for_(fn, "j", "0", "c"))
        term = m.at("i", "j") + (f" * {self.pick(xs).at('j')}" if xs and self.chance(0.6) else "")
        self.emit(f"{s} += {term};")
        self.close()
        self.emit(f"{y.at('i')} = {s};")
        self.close()
        return True

    def nest_boundary(self, fn: Fn) -> bool:
        """One boundary row written alone, ``w[0][j] = ...`` (PolyBench fdtd-2d's
        ``ey[0][j] = _fict_[t]``): beside nests over w's rows ``1 .. r`` or ``0 .. r``, a
        region's sections of w differ by the row count (a run-time assumption on it)."""
        ws = self.arrays(fn, "2f", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        reads = self.reads_for(fn, w, "2f", 1, allow_self=False)
        v1 = [x for x in self.arrays(fn, "1") if x.group != w.group]
        els = [(a, a.at(self.pick(["0", "1", "r - 1"]), "j")) for a in reads]
        if v1 and self.chance(0.5):
            x = self.pick(v1)
            els.append((x, x.at("j")))
        self.open(self.for_(fn, "j", "0", "c"))
        self.emit(f"{w.at(self.pick(['0', '0', '1', 'r - 1']), 'j')} = {self.value(w, els, ['j'])};")
        self.close()
        return True

    def nest_colsum(self, fn: Fn) -> bool:
        ms = self.arrays(fn, "2f", et="u")
        ys = [y for y in self.arrays(fn, "1", et="u", writable=True)]
        if not ms or not ys:
            return False
        m, y = self.pick(ms), self.pick(ys)
        term = f"{m.at('i', 'j')} ^ (u32)i"
        # the update compound or spelled out (bicg's s[j] = s[j] + ...), and with the row
        # loop outside (atax's shape: the outer loop carries only the updates) or inside
        update = self.pick([f"{y.at('j')} += {term};", f"{y.at('j')} = {y.at('j')} + ({term});",
                            f"{y.at('j')} = ({term}) + {y.at('j')};", f"{y.at('j')} = {y.at('j')} * 3u + ({term});"])
        if self.chance(0.5):
            self.open(self.for_(fn, "j", "0", "c"))
            if self.chance(0.5):
                self.emit(f"{y.at('j')} = 0u;")
            self.open(self.for_(fn, "i", "0", "r"))
            self.emit(update)
            self.close()
            self.close()
            return True
        self.open(self.for_(fn, "i", "0", "r"))
        self.open(self.for_(fn, "j", "0", "c"))
        self.emit(update)
        self.close()
        self.close()
        return True

    def nest_matmul(self, fn: Fn) -> bool:
        ms = self.arrays(fn, "2f", et="u")
        ws = self.arrays(fn, "2f", et="u", writable=True)
        if not ws or not ms:
            return False
        w = self.pick(ws)
        srcs = [m for m in ms if m.group != w.group]
        if not srcs:
            return False
        a, b = self.pick(srcs), self.pick(srcs)
        s = self.fresh("s")
        self.open(self.for_(fn, "i", "0", "r"))
        self.open(self.for_(fn, "j", "0", "r"))
        self.emit(f"u32 {s} = 0u;")
        self.open(self.for_(fn, "q", "0", "r"))
        self.emit(f"{s} += {a.at('i', 'q')} * {b.at('q', 'j')};")
        self.close()
        self.emit(f"{w.at('i', 'j')} = {s};")
        self.close()
        self.close()
        return True

    def nest_gather(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "1", writable=True)
        idx = self.arrays(fn, "1", et="u")
        if not ws or not idx:
            return False
        w = self.pick(ws)
        ix = self.pick(idx)
        srcs = [a for a in self.arrays(fn, "1", et=w.et) if a.group != w.group]
        if not srcs or ix.group == w.group:
            return False
        x = self.pick(srcs)
        self.open(self.for_(fn, "i", "0", "n"))
        self.emit(f"{w.at('i')} = {x.at(ix.at('i') + ' % (u32)n')};")
        self.close()
        return True

    def nest_scatter(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "1", et="u", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        srcs = [a for a in self.arrays(fn, "1", et="u") if a.group != w.group]
        val = self.uexpr([a.at("i") for a in srcs[:2]], ["i"])
        self.open(self.for_(fn, "i", "0", "n"))
        self.emit(f"{w.at(f'(i * {self.pick([3, 5, 7])}) % n')} = {val};")
        self.close()
        return True

    def nest_recurrence(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "1", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        if w.et == "u":
            self.open(self.for_(fn, "i", "1", "n"))
            self.emit(f"{w.at('i')} = {w.at('i - 1')} * 3u + {w.at('i')};")
        else:
            self.open(self.for_(fn, "i", "1", "n"))
            self.emit(f"{w.at('i')} = {w.at('i - 1')} * 0.5 + 1.0;")
        self.close()
        return True

    def host_search(self, fn: Fn) -> bool:
        src = self.arrays(fn, "1", et="u")
        if not src or not fn.us:
            return False
        a = self.pick(src)
        s = self.pick(fn.us)
        self.open(self.for_(fn, "i", "0", "n"))
        self.emit(f"if (({a.at('i')} & 15u) == 3u) break;")
        self.emit(f"{s} += {a.at('i')};")
        self.close()
        return True

    def host_rand(self, fn: Fn) -> bool:
        ws = self.arrays(fn, "1", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        lo, hi = self.bounds(fn, 0, 0, "n", "N" if w.fixed else None)
        self.open(self.for_(fn, "i", lo, hi))
        if w.et == "u":
            self.emit(f"{w.at('i')} ^= next_rand();")
        else:
            self.emit(f"{w.at('i')} += (double)(next_rand() & 63u);")
        self.close()
        return True

    def host_touch(self, fn: Fn) -> bool:
        """Host code touching single elements between kernels."""
        arrs = self.arrays(fn, "12f", writable=True)
        if not arrs:
            return False
        w = self.pick(arrs)
        t = fn.tvars[-1] if fn.tvars else None
        if w.kind == "1":
            ks = [str(self.r.randrange(6)), f"n - {1 + self.r.randrange(3)}"]
            if t:
                ks += [t, f"{t} + 1", f"n - 1 - {t}"]
            e = w.at(self.pick(ks))
        else:   # rows: < r (r >= 5), columns: < c
            rows = [str(self.r.randrange(3)), "r - 1"] + ([t] if t else [])
            cols = [str(self.r.randrange(3)), "c - 1"] + ([t, f"c - 1 - {t}"] if t else [])
            e = w.at(self.pick(rows), self.pick(cols))
        if w.et == "u":
            form = self.r.random()
            if form < 0.45 or not fn.us:
                self.emit(f"{e} = {e} * 5u + 1u;")
            elif form < 0.7:
                self.emit(f"{e} += {self.pick(fn.us)};")
            else:
                self.emit(f"{self.pick(fn.us)} += {e};")
        else:
            self.emit(f"{e} = {e} * 0.5 + 2.0;")
        return True

    def stmt_memcpy(self, fn: Fn) -> bool:
        ws = [a for a in self.arrays(fn, "1", writable=True) if not a.member]  # contiguous arrays only
        if not ws:
            return False
        w = self.pick(ws)
        srcs = [a for a in self.arrays(fn, "1", et=w.et) if a.group != w.group and not a.member]
        if not srcs:
            return False
        x = self.pick(srcs)
        t = "u32" if w.et == "u" else "double"
        self.emit(f"memcpy({w.ptr}, {x.ptr}, sizeof({t}) * (size_t)n);")
        return True

    def stmt_temp(self, fn: Fn) -> bool:
        """A local temporary written in full by one nest and read by the next."""
        ws = self.arrays(fn, "1", et="u", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        tmp = self.fresh("tmp")
        srcs = [a for a in self.arrays(fn, "1") if a.group != w.group] or [w]
        x = self.pick(srcs)
        self.open("{")
        self.emit(f"u32 {tmp}[N];")
        self.open(self.for_(fn, "i", "0", "n"))
        self.emit(f"{tmp}[i] = {self.uexpr([x.at('i')] if x.et == 'u' else [], ['i'])};")
        self.close()
        lo, hi = self.bounds(fn, 1, 1, "n", None)
        self.open(self.for_(fn, "i", lo, hi))
        self.emit(f"{w.at('i')} += {tmp}[i - 1] ^ {tmp}[i + 1];")
        self.close()
        self.close()
        return True

    def nest_scratch(self, fn: Fn) -> bool:
        """A scratch row that each iteration of a row loop writes before it reads it
        (doitgen's ``sum``): private to each iteration (engine/privatise.py), also when a
        later loop reads the neighbours of its element, or, in one of the mutations (a
        compound first write, a conditional one, a read of the next element past the
        written range, a longer second loop), a dependence the engine must keep."""
        ws = self.arrays(fn, "2f", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        x = self.pick(self.arrays(fn, "2f"))
        t = "u32" if w.et == "u" else "double"
        fixed = [a for a in self.arrays(fn, "1", et=w.et, writable=True) if a.fixed and not a.member]
        local = not fixed or self.chance(0.6)
        if local:
            sc = self.fresh("sc")
            self.open("{")
            self.emit(f"{t} {sc}[N] = {{0}};")
        else:
            sc = self.pick(fixed).name
        lo = self.pick(["0", "0", "0", "1"])
        mutation = self.pick(["none"] * 5 + ["neighbours", "compound", "conditional", "next", "longer"])
        hi = "c - 1" if mutation == "longer" else self.pick(["c", "c", "c - 1"])
        self.open(self.for_(fn, "i", "0", "r"))
        self.open(self.for_(fn, "j", lo, hi))
        val = self.value(w, [(x, x.at("i", "j"))], ["i", "j"])
        if mutation == "compound":
            self.emit(f"{sc}[j] += {val};")
        elif mutation == "conditional":
            self.emit(f"if ({self.cond_on([(x, x.at('i', 'j'))], ['i', 'j'])}) {sc}[j] = {val};")
        else:
            self.emit(f"{sc}[j] = {val};")
        if self.chance(0.5):
            self.open(self.for_(fn, "q", "0", "c"))
            self.emit(f"{sc}[j] += {x.at('i', 'q')}" + (" * 3u;" if w.et == "u" and x.et == "u" else ";")
                      if x.et == w.et else f"{sc}[j] += ({t}){x.at('i', 'q')};")
            self.close()
        self.close()
        if mutation == "neighbours":  # NPB's cv[i - 1], cv[i + 1] over the inner points
            self.open(self.for_(fn, "j", f"{lo} + 1", f"{hi} - 1"))
            nxt = f"({sc}[j - 1] + {sc}[j + 1])"
        else:
            self.open(self.for_(fn, "j", lo, "c" if mutation == "longer" else hi))
            nxt = f"{sc}[j + 1]" if mutation == "next" else f"{sc}[j]"
        self.emit(f"{w.at('i', 'j')} = {nxt} " + ("^ 5u;" if w.et == "u" else "* 0.5;"))
        self.close()
        self.close()
        if local:
            scal = fn.us if w.et == "u" else fn.ds
            if scal and self.chance(0.6):  # what the last iteration left
                self.emit(f"{self.pick(scal)} += {sc}[{lo}] + {sc}[c - 2];")
            self.close()
        return True

    def whole_1d(self, fn: Fn) -> list[Arr]:
        """main's 1-D arrays of at least n elements, named by a plain variable."""
        if not fn.main:
            return []
        return [a for a in self.arrays(fn, "1") if a.full in ("N", "n") and not a.member and "." not in a.name]

    def written_and_others(self, fn: Fn) -> tuple[Arr, list[Arr]] | None:
        """One of main's whole 1-D arrays to write, and those in other storage (or None)."""
        whole = self.whole_1d(fn)
        ws = [x for x in whole if x.writable]
        if not ws:
            return None
        w = self.pick(ws)
        others = [x for x in whole if x.group != w.group]
        return (w, others) if others else None

    def helper_arrays(self, fn: Fn) -> tuple[Arr, list[Arr], list[Arr]] | None:
        """For the helper nests: the array written, the arrays of its type in other storage
        (or itself), and one or two of those to read, sometimes the written one too."""
        whole = self.whole_1d(fn)
        ws = [a for a in whole if a.writable]
        if not ws:
            return None
        w = self.pick(ws)
        same = [a for a in whole if a.et == w.et and a.group != w.group] or [w]
        reads = [self.pick(same) for _ in range(self.pick([1, 1, 2]))]
        if self.chance(0.15):
            reads.append(w)
        return w, same, reads

    def nest_helper(self, fn: Fn) -> bool:
        """A 1-D nest whose reads go through the element helpers (rdu, rdd, nbu, pairu),
        sometimes of the array it writes (a dependence through a helper), sometimes a write
        through one (setu): the nests a walk of the helpers as if inlined must get right."""
        picked = self.helper_arrays(fn)
        if picked is None:
            return False
        w, same, reads = picked
        lo, hi = ("1", "n - 1") if self.chance(0.5) else (str(self.pick([0, 0, 1, 2])), self.pick(["n", "n - 1", "n / 2"]))
        terms = []
        for a in reads:
            d = self.pick([0, 0, 1, -1, 2, 3])
            if w.et == "d":
                terms.append(f"rdd({a.name}, {off('i', d)}, {a.full})")
            elif lo == "1" and hi == "n - 1" and self.chance(0.3):
                terms.append(f"nbu({a.name}, i)")
            elif self.chance(0.3):
                q = self.pick(same + [w])
                terms.append(f"pairu({a.name}, {q.name}, {off('i', d) if d >= 0 else 'i'}, {a.full})")
                if q.full == "n" or d > 0:   # q[k] is read unclamped: keep k below n
                    hi = "n / 2"
            else:
                terms.append(f"rdu({a.name}, {off('i', d)}, {a.full})")
        val = (" + " if w.et == "d" else " ^ ").join(terms)
        self.open(self.for_(fn, "i", lo, hi))
        if w.et == "u" and self.chance(0.15):
            self.emit(f"setu({w.name}, i, {val});")
        elif self.chance(0.25):
            self.emit(f"if ({self.cond_on([(w, w.at('i'))], ['i'])}) {w.at('i')} = {val};")
        else:
            self.emit(f"{w.at('i')} = {val};")
        self.close()
        return True

    def nest_window(self, fn: Fn) -> bool:
        """A 1-D nest whose reads go through helpers with loops of their own, passed a place
        in an array (``a + i``, ``&a[i + 1]``, ``a + (i + 2)``), which the engine reads as
        reads of the whole array (access/footprint.py); sometimes of the array the nest
        writes (a dependence), sometimes the write itself through a helper (fillw)."""
        picked = self.helper_arrays(fn)
        if picked is None:
            return False
        w, same, reads = picked
        k = self.pick([2, 3, 4])

        def place(a: Arr) -> str:
            d = self.pick([0, 0, 1, 2])
            form = self.pick(["plus", "plus", "amp"])
            if form == "amp":
                return f"&{a.name}[{off('i', d)}]"
            return f"{a.name} + i" if d == 0 else f"{a.name} + (i + {d})"

        terms = []
        for a in reads:
            if w.et == "d":
                terms.append(f"wind({place(a)}, {place(self.pick(same + [a]))}, {k})")
            else:
                terms.append(f"{self.pick(['winu', 'winu', 'win2u'])}({place(a)}, {k})")
        val = (" + " if w.et == "d" else " ^ ").join(terms)
        self.open(self.for_(fn, "i", "0", f"n - {k + 3}"))
        if w.et == "u" and self.chance(0.15):
            self.emit(f"fillw({w.name} + i, 1, {val});")
        else:
            self.emit(f"{w.at('i')} = {val};")
        self.close()
        return True

    def nest_put(self, fn: Fn) -> bool:
        """A 1-D nest that writes through a helper with a constant window (put3u writes
        ``p[0..2]``, add2u updates ``p[0..1]``; engine/paramwindows.py): each iteration's
        window starts ``s * i + d`` into the array, ``s`` from 1 to 4, so windows overlap
        when ``s`` is smaller than the window (a dependence the engine must see), and are
        disjoint otherwise; sometimes into an array of the iteration, read back after."""
        whole = [a for a in self.whole_1d(fn) if a.writable and a.et == "u"]
        if not whole:
            return False
        w = self.pick(whole)
        src = self.pick([a for a in self.whole_1d(fn) if a.et == "u" and a.group != w.group] or [w])
        s, d = self.pick([1, 2, 3, 3, 4]), self.pick([0, 0, 1])
        helper = self.pick(["put3u", "put3u", "add2u"])
        self.open(self.for_(fn, "i", "0", f"(n - 4) / {s}"))
        val = f"{src.at('i')} ^ (u32)i"
        if self.chance(0.25):
            self.emit("u32 t[3] = {0u, 0u, 0u};")
            self.emit(f"{helper}(t, {val});")
            self.emit(f"{w.at('i')} = t[0] ^ (t[1] << 1) ^ t[2];")
        else:
            place = f"{w.name} + {s} * i" + (f" + {d}" if d else "")
            self.emit(f"{helper}({place}, {val});")
        self.close()
        return True

    def nest_pivot(self, fn: Fn) -> bool:
        """Floyd-Warshall's relaxation over a 2-D array (engine/pivot.py): for each k, every
        (i, j) takes min(p[i][j], p[i][k] + p[k][j]); the kernel runs only where the pivot's
        own element keeps row and column k fixed (u32 sums wrap: only a zero pivot does)."""
        ws = self.arrays(fn, "2", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        x, s = w.at("i", "j"), f"{w.at('i', 'k')} + {w.at('k', 'j')}"
        form = self.pick(["lt", "le", "swap"])
        rhs = (f"{x} < {s} ? {x} : {s}" if form == "lt" else f"{x} <= {s} ? {x} : {s}" if form == "le"
               else f"{s} < {x} ? {s} : {x}")
        self.open("for (int k = 0; k < (r < c ? r : c); k++) {")  # (k is no index a C89 function declares)
        self.open(self.for_(fn, "i", "0", "r"))
        self.open(self.for_(fn, "j", "0", "c"))
        self.emit(f"{x} = {rhs};")
        self.close()
        self.close()
        self.close()
        return True

    def nest_skip(self, fn: Fn) -> bool:
        """Tiles written after ``if (x >= r || y >= c) continue;`` (HeCBench winograd): the
        rest of the body runs only where the row and column are in range."""
        ws = self.arrays(fn, "f", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        src = self.pick(self.arrays(fn, "f") + [w])
        t = self.pick([2, 2, 3])
        self.open(self.for_(fn, "i", "0", f"(r + {t - 1}) / {t}"))
        self.open(self.for_(fn, "j", "0", f"(c + {t - 1}) / {t}"))
        self.open(f"for (int ia = 0; ia < {t}; ia++) {{")
        self.open(f"for (int ib = 0; ib < {t}; ib++) {{")
        self.emit(f"int x = {t} * i + ia, y = {t} * j + ib;")
        self.emit("if (x >= r || y >= c) continue;")
        val = f"{src.at('x', 'y')} * 3u + (u32)(ia ^ ib)" if w.et == "u" and src.et == "u" else \
            (f"{src.at('x', 'y')} * 0.5 + ia" if w.et == "d" and src.et == "d" else "(u32)(x + y)" if w.et == "u" else "0.25 * (x + y)")
        self.emit(f"{w.at('x', 'y')} = {val};")
        self.close()
        self.close()
        self.close()
        self.close()
        return True

    def nest_tilemin(self, fn: Fn) -> bool:
        """Tiles bounded by a minimum (engine/minimum.py): ``for ii += B: for i = ii; i <
        MINM(ii + B, n)`` writing ``w[i]`` with a value of its tile (tiles that overlap by
        one, or a larger-of called ``minb``, are dependences the engine must see); or
        meanshift's shape, a scratch tile filled and read in each step of a ``base`` loop
        inside a loop over the points, its count ``imin2(16, n - base)`` (a read one past
        the tile's fill, or over all 16, reads what another step left)."""
        whole = [a for a in self.whole_1d(fn) if a.writable and a.et == "u"]
        if not whole:
            return False
        w = self.pick(whole)
        src = self.pick([a for a in self.whole_1d(fn) if a.et == "u" and a.group != w.group] or [w])
        if self.chance(0.5):
            b = self.pick([8, 16, 32])
            bound = self.pick([f"MINM(ii + {b}, n)", f"MINM(n, ii + {b})", f"imin2(ii + {b}, n)",
                               f"imin2(ii + {b}, n - 1)", f"MINM(ii + {b} + 1, n)", f"minb(ii + {b}, n / 2)"])
            # (ii < n - 32: the larger-of stays inside the array, max(ii + b, n) would not)
            self.open(f"for (int ii = 0; ii < n - 32; ii += {b}) {{")
            self.open(f"for (int i = ii; i < {bound}; i++) {{")
            self.emit(f"{w.at('i')} = {src.at('i')} * 3u + (u32)ii;")
            self.close()
            self.close()
            return True
        tl = self.fresh("tl")
        cnt = self.pick(["imin2(16, n - base)", "MINM(16, n - base)", "MINM(n - base, 16)"])
        read_bound, read_off = self.pick([("cnt", ""), ("cnt", ""), ("cnt", ""), ("cnt", " + 1"), ("16", "")])
        self.open("{")
        self.emit(f"u32 {tl}[17];")
        self.emit(f"for (int q = 0; q < 17; q++) {tl}[q] = (u32)q;")
        self.open("for (int t = 0; t < n; t++) {")
        self.emit("u32 acc = 0u;")
        self.open("for (int base = 0; base < n; base += 16) {")
        self.emit(f"int cnt = {cnt};")
        self.emit(f"for (int q = 0; q < cnt; q++) {tl}[q] = {src.at('base + q')} ^ (u32)t;")
        self.emit(f"for (int q = 0; q < {read_bound}; q++) acc = acc * 7u + {tl}[q{read_off}];")
        self.close()
        self.emit(f"{w.at('t')} = acc;")
        self.close()
        self.close()
        return True

    def nest_view(self, fn: Fn) -> bool:
        """Row pointers the loop body declares into flat arrays (engine/access/views.py):
        ``u32 *row = F + i * ld;`` (or ``&F[i * ld]``, ``i * ld + F``) written through
        ``row[j]``, read through another view that may be the row before in the same array
        (a dependence the engine must see), or a view that then moves (it must stay serial)."""
        flat = [a for a in self.arrays(fn, "f") if a.name.isidentifier() and not a.member]
        ws = [a for a in flat if a.writable]
        if not ws:
            return False
        w = self.pick(ws)
        src = self.pick(flat)
        ct = {"u": "u32", "d": "double"}
        back = self.pick([0, 0, 0, 1]) if src.group == w.group else 0
        row = self.pick([f"{w.name} + i * {w.ld}", f"&{w.name}[i * {w.ld}]", f"i * {w.ld} + {w.name}"])
        self.open(self.for_(fn, "i", "1", "r"))
        self.emit(f"{ct[w.et]} *row = {row};")
        self.emit(f"const {ct[src.et]} *in = {src.name} + (i - {back}) * {src.ld};")
        moves = self.chance(0.1)
        target = "row"
        if self.chance(0.15):  # a view of the view
            self.emit(f"{ct[w.et]} *r2 = row + 0;")
            target = "r2"
        self.open(self.for_(fn, "j", "0", "c"))
        val = "in[j]" if src.et == w.et else (f"(u32)in[j]" if w.et == "u" else "(double)(in[j] & 1023u)")
        if w.et == "u":
            self.emit(f"{target}[j] = {val} * 3u + (u32)j;")
        else:
            self.emit(f"{target}[j] = 0.5 * {val} + j;")
        if moves:
            self.emit("if (j == c - 1) row = row + 0;")
        self.close()
        self.close()
        return True

    def nest_mixops(self, fn: Fn) -> bool:
        """Updates of a few fixed elements with several operators in one loop (HeCBench
        atomicIntrinsics): ``w[0] += v; w[2] &= v | 0xf0u; w[3] ^= (u32)i``; sometimes two
        operators meet on one element, or an element is ``i & 3`` (both must stay serial)."""
        whole = [a for a in self.whole_1d(fn) if a.writable and a.et == "u"]
        if not whole:
            return False
        w = self.pick(whole)
        src = self.pick([a for a in self.whole_1d(fn) if a.et == "u" and a.group != w.group] or [w])
        ops = self.r.sample(["+=", "-=", "&=", "|=", "^="], self.pick([2, 3, 4]))
        slots = self.r.sample([0, 1, 2, 3, 4, 5], len(ops))
        if self.chance(0.15):
            slots[-1] = slots[0]  # two operators on one element
        self.open(self.for_(fn, "i", "0", "n"))
        for op, k in zip(ops, slots):
            at = "i & 3" if self.chance(0.05) else str(k)
            v = {"&=": f"{src.at('i')} | 0xf0u", "|=": "(1u << (i & 15))", "^=": "(u32)i"}.get(op, f"{src.at('i')} >> 3")
            self.emit(f"{w.at(at)} {op} {v};")
        self.close()
        return True

    def nest_index(self, fn: Fn) -> bool:
        """A 1-D nest whose subscripts go through ``k``, declared at the top of main (C89
        style, as Rodinia's srad and nw): ``k = i + d;`` first in the body, then ``w[k] =
        ...r[k]...``; sometimes ``k`` is read before its store (last iteration's value) or
        stored under a condition, where it carries a value between iterations."""
        if not (fn.main and fn.top_decl):
            return False
        ws = [a for a in self.arrays(fn, "1", writable=True) if a.full in ("N", "n")]
        if not ws:
            return False
        w = self.pick(ws)
        reads = self.reads_for(fn, w, "1", self.pick([1, 2]), allow_self=False) or [w]
        reads = [a for a in reads if a.full in ("N", "n")] or [w]
        d = self.pick([0, 0, 1])
        lo, hi = self.bounds(fn, 0, d + 1, "n", None)
        kind = self.r.random()
        self.open(self.for_(fn, "i", lo, hi))
        if kind < 0.7:
            self.emit(f"k = {off('i', d)};")
            els = [(a, a.at(self.pick(["k", "k", "k + 1"]))) for a in reads]
            self.emit(f"{w.at('k')} = {self.value(w, els, ['i'])};")
        elif kind < 0.85:
            els = [(a, a.at("k")) for a in reads]
            self.emit(f"{w.at(off('i', d))} = {self.value(w, els, ['i'])};")
            self.emit(f"k = {off('i', d)};")
        else:
            self.emit(f"if (i & 1) k = {off('i', d)};")
            els = [(a, a.at("k")) for a in reads]
            self.emit(f"{w.at(off('i', d))} = {self.value(w, els, ['i'])};")
        self.close()
        return True

    def nest_edges(self, fn: Fn) -> bool:
        """Boundary cases as an else-if chain, ``if (i == lo) ... else if (i == hi - 1) ...
        else``, whose last branch reads the neighbours the first two exclude; sometimes a
        case on a value that is no bound of the loop (then the neighbour stays unread)."""
        picked = self.written_and_others(fn)
        if picked is None:
            return False
        w, others = picked
        usable = [x for x in others if x.et == w.et or w.et == "d"]  # a read value() can use
        a = self.pick(usable or others)
        lo = self.pick(["0", "0", "1"])
        hi = self.pick(["n", "n - 1"])
        first = self.pick([lo, lo, "2"])            # "2" is no bound: i - 1 is not read
        last = self.pick([f"{hi} - 1", f"{hi} - 1", f"{hi} - 2"])
        below = a.at(off("i", -1)) if first == lo else a.at("i")
        above = a.at(off("i", 1)) if last == f"{hi} - 1" else a.at("i")
        # a corner that reads ahead (a[i + 2] at i == 0): whether it or the last branch's
        # read is the greater depends on n, so the section is their maximum (N >= 24 keeps
        # it in the array)
        corner = self.pick([a.at("i"), a.at("i"), a.at(off("i", 1)), a.at(off("i", 2))])
        self.open(self.for_(fn, "i", lo, hi))
        self.open(f"if (i == {first}) {{")
        self.emit(f"{w.at('i')} = {self.value(w, [(a, corner)], ['i'])};")
        self.close("} else if (i == " + last + ") {")
        self.ind += 1
        self.emit(f"{w.at('i')} = {self.value(w, [(a, below)], ['i'])};")
        self.close("} else {")
        self.ind += 1
        self.emit(f"{w.at('i')} = {self.value(w, [(a, below), (a, above)], ['i'])};")
        self.close()
        self.close()
        return True

    def nest_guarded(self, fn: Fn) -> bool:
        """Reads kept inside their array only by a guard on the subscript: a window
        ``if (i + j - R >= 0 && i + j - R < n) s += a[i + j - R]`` (a convolution's edges,
        sometimes a tighter bound than the array's), neighbours under ``?:``
        (``i > 0 ? a[i - 1] : c``), or behind ``&&`` (``i + 1 < n && ...a[i + 1]...``)."""
        picked = self.written_and_others(fn)
        if picked is None:
            return False
        w, others = picked
        a = self.pick(others)
        zero = "0u" if a.et == "u" else "0.0"
        form = self.pick(["window", "window", "ternary", "andand"])
        self.open(self.for_(fn, "i", "0", "n"))
        if form == "window":
            r = self.pick([1, 2, 3])
            sub = f"i + j - {r}"
            low = self.pick([f"{sub} >= 0", f"i + j >= {r}", f"0 <= {sub}"])
            high = self.pick([f"{sub} < n", f"{sub} <= n - 1", f"i + j < n + {r}", f"{sub} < n - 1"])
            typ = "u32" if a.et == "u" else "double"
            self.emit(f"{typ} s = {zero};")
            self.open(f"for (int j = 0; j < {2 * r + 1}; j++) {{")
            self.emit(f"if ({low} && {high}) s += {a.at(sub)}" + (" * (u32)(j + 1);" if a.et == "u" else " * 0.5;"))
            self.close()
            self.emit(f"{w.at('i')} = {self.value(w, [(a if a.et == w.et else w, 's' if a.et == w.et else w.at('i'))], ['i'])};")
        elif form == "ternary":
            left = f"(i > 0 ? {a.at('i - 1')} : {zero})"
            right = f"(i + 1 < n ? {a.at('i + 1')} : {zero})"
            self.emit(f"{w.at('i')} = {self.value(w, [(a, left), (a, a.at('i')), (a, right)], ['i'])};")
        else:
            test = f"({a.at('i + 1')} & 1u) == 0u" if a.et == "u" else f"{a.at('i + 1')} > 0.5"
            self.open(f"if (i + 1 < n && {test}) {{")
            self.emit(f"{w.at('i')} = {self.value(w, [(a, a.at('i + 1')), (a, a.at('i'))], ['i'])};")
            self.close()
        self.close()
        return True

    def nest_rowsweep(self, fn: Fn) -> bool:
        """A serial row loop whose host part writes the first elements of row i (a
        recurrence along the row, reading the row above where the kernel wrote it) and
        whose kernel writes the rest of the row from them and from the row above: host and
        device each need the other's part of each row (LU's shape)."""
        ws = self.arrays(fn, "2", writable=True)
        if not ws:
            return False
        w = self.pick(ws)
        others = [a for a in self.arrays(fn, "2") if a.group != w.group]
        width = self.pick([1, 2, 3])
        self.open(self.for_(fn, "i", "1", "r"))
        self.emit(f"{w.at('i', '0')} = {w.at('i - 1', str(width))};")
        if width > 1:
            self.open(self.for_(fn, "j", "1", str(width)))
            self.emit(f"{w.at('i', 'j')} = {w.at('i', 'j - 1')} + {w.at('i - 1', f'j + {width}')};")
            self.close()
        reads = [(w, w.at("i", "0")), (w, w.at("i - 1", "j"))] + [(w, w.at("i", str(width - 1)))] * (width > 1)
        if others:
            o = self.pick(others)
            reads.append((o, o.at("i", "j")))
        self.open(self.for_(fn, "j", str(width), "c"))
        self.emit(f"{w.at('i', 'j')} = {self.value(w, reads, ['i', 'j'])};")
        self.close()
        self.close()
        return True

    def stmt_swap(self, fn: Fn) -> bool:
        if not fn.swap:
            return False
        cur = next(a for a in fn.arrays if a.name == "cur")
        nxt = next(a for a in fn.arrays if a.name == "nxt")
        lo, hi = self.bounds(fn, 1, 1, "n", None)
        if self.chance(0.7):
            self.open(self.for_(fn, "i", lo, hi))
            self.emit(f"nxt[i] = (cur[i - 1] + cur[i] + cur[i + 1]) * 3u ^ {self.ucon()};")
            self.close()
        else:
            self.open(self.for_(fn, "i", lo, hi))
            self.emit(f"nxt[i] = {self.uexpr([cur.at('i - 1'), cur.at('i + 1'), nxt.at('i')], ['i'])};")
            self.close()
        if self.chance(0.4):
            self.host_touch(Fn(fn.name, [cur, nxt], fn.us, fn.ds, main=fn.main, top_decl=fn.top_decl))
        self.emit("{ u32 *sw = cur; cur = nxt; nxt = sw; }")
        return True

    def stmt_call(self, fn: Fn, h: dict | None = None) -> bool:
        if not fn.main or not self.helpers:
            return False
        h = h or self.pick(self.helpers)
        args = []
        used: set[str] = set()    # storage passed so far
        ruse: set[str] = set()    # storage passed to restrict parameters: no other access
        for p in h["params"]:
            if p[0] == "size":
                args.append(p[1])
                continue
            if p[0] == "k":
                args.append(f"(u32){fn.tvars[-1]}" if fn.tvars else self.ucon())
                continue
            if p[0] == "flag":
                args.append(self.pick(["argc > 1", "(argc & 1) == 0", "1", "0"]))
                continue
            _, kind, et, restrict, pname, ld = p
            if kind == "s":   # struct box pointer
                cands = [a for a in fn.arrays if a.name.endswith(".v")]
            else:
                cands = [a for a in fn.arrays if a.kind == kind and a.et == et and not a.member]
            if restrict:   # a restrict parameter's storage is reached through it alone
                cands = [a for a in cands if a.group not in used | set(h["globals"])]
            else:          # aliasing non-restrict parameters is legal, and sometimes chosen
                cands = [a for a in cands if a.group not in ruse]
                if used and self.chance(0.7):
                    cands = [a for a in cands if a.group not in used] or cands
            if not cands:
                return False
            a = self.pick(cands)
            used.add(a.group)
            if restrict:
                ruse.add(a.group)
            args.append("&" + a.name[:-2] if kind == "s" else a.name)
            if kind == "f":
                args.append(a.ld)
        call = f"{h['name']}({', '.join(args)});"
        self.called.add(h["name"])
        if h["returns"] and fn.us:
            call = f"{self.pick(fn.us)} += {call}"
        self.emit(call)
        return True

    def stmt_if(self, fn: Fn) -> bool:
        if fn.depth >= 2:
            return False
        conds = []
        if fn.main:
            conds += ["argc > 1", "argc == 1", "(argc & 1) == 0"]
        else:
            conds += ["flag", "!flag"] if "flag" in fn.params else ["n > 40"]
        if fn.tvars:
            t = fn.tvars[-1]
            conds += [f"{t} % 2 == 0", f"{t} + 1 < T", f"{t} == 1"]
        u1 = self.arrays(fn, "1", et="u")
        if u1:
            conds.append(f"({self.pick(u1).at(str(self.r.randrange(4)))} & 1u) != 0u")
        if fn.us:
            conds.append(f"{self.pick(fn.us)} % 3u == 1u")
        self.open(f"if ({self.pick(conds)}) {{")
        fn.depth += 1
        self.block(fn, self.r.randint(1, 2))
        if self.chance(0.3):
            self.close("} else {")
            self.ind += 1
            self.block(fn, 1)
        fn.depth -= 1
        self.close()
        return True

    def stmt_time(self, fn: Fn) -> bool:
        if fn.depth >= 2 or len(fn.tvars) >= 2:
            return False
        t = "t" if not fn.tvars else "t2"
        decl = "" if fn.main and fn.top_decl and t == "t" else "int "
        self.open(f"for ({decl}{t} = 0; {t} < T; {t}++) {{")
        fn.tvars.append(t)
        fn.depth += 1
        self.block(fn, self.r.randint(2, 4))
        if fn.swap and self.chance(0.5):
            self.stmt_swap(fn)
        fn.depth -= 1
        fn.tvars.pop()
        self.close()
        return True

    STMTS = (  # (weight, method)
        (30, "nest_map1"), (16, "nest_map2"), (5, "nest_tri"), (9, "nest_reduce"),
        (4, "nest_rowsum"), (3, "nest_colsum"), (2, "nest_matmul"), (3, "nest_gather"),
        (1, "nest_scatter"), (3, "nest_recurrence"), (1, "host_search"), (4, "host_rand"),
        (9, "host_touch"), (3, "stmt_memcpy"), (3, "stmt_temp"), (4, "stmt_swap"),
        (10, "stmt_call"), (6, "stmt_if"), (7, "stmt_time"), (3, "nest_scratch"), (3, "nest_helper"), (3, "nest_edges"),
        (3, "nest_window"), (3, "nest_index"), (3, "nest_boundary"), (3, "nest_guarded"), (3, "nest_rowsweep"),
        (3, "nest_put"), (2, "nest_pivot"), (2, "nest_skip"), (2, "nest_tilemin"), (2, "nest_view"), (2, "nest_mixops"),
    )

    def block(self, fn: Fn, count: int) -> None:
        weights = [w for w, _ in self.STMTS]
        made = 0
        tries = 0
        while made < count and tries < 40:
            tries += 1
            _, m = self.r.choices(self.STMTS, weights)[0]
            if FEATURE_OF.get(m) in self.without:
                continue
            if getattr(self, m)(fn):
                made += 1

    # -------------------------------------------------------------- whole program
    def helper(self, idx: int, globals_: list[Arr], avail: dict[tuple[str, str], int]) -> None:
        name = f"kern{idx}"
        restrict_all = self.chance(0.5)
        params: list = [("size", "n"), ("size", "r"), ("size", "c")]
        decls = ["int n", "int r", "int c"]
        arrays: list[Arr] = []
        left = dict(avail)   # arrays main has of each (kind, element type): what calls can pass
        for p in range(self.r.randint(1, 4)):
            kinds = [k for k in self.kinds(["1", "1", "1", "2", "f", "s"] if p else ["1", "1", "2"])
                     if left.get((k, "u"), 0) + left.get((k, "d"), 0) > 0]
            if not kinds:
                break
            kind = self.pick(kinds)
            ets = [e for e in ("u", "d") if left.get((kind, e), 0) > 0]
            et = "u" if "u" in ets and (len(ets) == 1 or self.chance(0.7)) else "d"
            restrict = restrict_all or self.chance(0.25)
            if restrict:   # each restrict parameter needs storage of its own
                left[(kind, et)] -= 1
                if kind == "s":
                    left[("1", "u")] = left.get(("1", "u"), 0) - 1
            t = "u32" if et == "u" else "double"
            rq = " restrict" if restrict else ""
            pname = f"p{p}"
            const = kind != "s" and p > 0 and self.chance(0.25)
            cq = "const " if const else ""
            if kind == "1":
                style = self.pick(self.kinds(["ptr", "macro", "arr", "typedef"]))
                if style == "ptr":
                    decls.append(f"{cq}{t} *{rq.strip() + ' ' if rq else ''}{pname}")
                elif style == "macro" and restrict:
                    decls.append(f"{cq}{t} {'ARR' if et == 'u' else 'ARR'}({pname})")
                elif style == "typedef" and not restrict and not const:
                    decls.append(f"{'vec_t' if et == 'u' else 'dvec_t'} {pname}")
                else:
                    decls.append(f"{cq}{t} {pname}[{'restrict ' if restrict else ''}N]")
            elif kind == "2":
                style = self.pick(self.kinds(["macro", "ptr", "arr", "vla", "typedef"]))
                if style == "macro" and restrict:
                    decls.append(f"{cq}{t} MAT({pname})")
                elif style == "ptr":
                    decls.append(f"{cq}{t} (*{'restrict ' if restrict else ''}{pname})[C]")
                elif style == "vla":
                    decls.append(f"{cq}{t} {pname}[{'restrict ' if restrict else ''}r][C]")
                elif style == "typedef" and et == "u":
                    decls.append(f"{cq}row_t *{'restrict ' if restrict else ''}{pname}")
                else:
                    decls.append(f"{cq}{t} {pname}[{'restrict ' if restrict else ''}R][C]")
            elif kind == "f":
                decls.append(f"{cq}{t} *{'restrict ' if restrict else ''}{pname}")
                decls.append(f"int ld{p}")
            else:
                decls.append(f"struct box *{pname}")
            params.append(("arr", kind, et, restrict, pname, f"ld{p}"))
            if kind == "s":
                arrays.append(Arr(f"{pname}->v", "u", "1", f"param:{pname}", fixed=True))
            else:
                arrays.append(Arr(pname, et, kind, f"param:{pname}", ld=f"ld{p}", writable=not const,
                                  restrict=restrict))
        extra = self.r.random()
        if extra < 0.3:
            params.append(("k",))
            decls.append("u32 k")
        elif extra < 0.5:
            params.append(("flag",))
            decls.append("int flag")
        gl = []
        if self.chance(0.4) and globals_:
            g = self.pick(globals_)
            gl.append(g.group)
            arrays.append(g)
        returns = self.chance(0.25)
        top = self.chance(0.4)
        fn = Fn(name, arrays, ["acc"] + (["gs"] if self.chance(0.5) else []), ["gd"] if self.chance(0.3) else [],
                main=False, top_decl=top, params={p[0]: p for p in params})
        # every other kernel function has external linkage: in a program built from this one
        # source its calls are still all here (SourceUnit.whole_program), which the alias
        # test and parameter extents rely on (chosen by name, not drawn: seeds keep their programs)
        linkage = "" if name[-1:].isdigit() and int(name[-1]) % 2 == 1 else "static "
        self.open(f"{linkage}{'u32' if returns else 'void'} {name}({', '.join(decls)}) {{")
        if top:
            self.emit("int i, j, q;")
        self.emit("u32 acc = 0u;")
        if any(p[0] == "k" for p in params):
            fn.us.append("k")
        self.block(fn, self.r.randint(1, 4))
        if any(a.writable for a in arrays if a.kind == "1") and not returns:
            w = next(a for a in arrays if a.kind == "1" and a.writable)
            self.emit(f"{w.at('0')} += {'acc' if w.et == 'u' else '(double)(acc & 1023u)'};")
        self.emit("return acc;" if returns else "(void)acc;")
        self.close()
        self.emit("")
        self.helpers.append({"name": name, "params": params, "globals": gl, "returns": returns,
                             "restrict": restrict_all})

    def program(self) -> str:
        r = self.r
        self.stencil_bias = self.chance(0.3)
        self.use_mix = self.chance(0.3)
        n = r.randint(24, 160)
        rr = r.randint(6, min(24, n - 4))
        cc = r.randint(rr + 1, min(n - 2, 40))
        T = r.randint(2, 4)
        e = self.emit
        e(f"/* loopfuzz program, seed {self.seed}"
          + (f", --without {','.join(sorted(self.without))}" if self.without else "") + " */")
        for h in ("stdio.h", "stdlib.h", "string.h"):
            e(f"#include <{h}>")
        e(f"#define N {n}")
        e(f"#define R {rr}")
        e(f"#define C {cc}")
        e(f"#define T {T}")
        e("#define ARR(v) v[restrict N]")
        e("#define MAT(v) v[restrict R][C]")
        e("typedef unsigned int u32;")
        e("typedef u32 vec_t[N];")
        e("typedef double dvec_t[N];")
        e("typedef u32 row_t[C];")
        e("struct box { u32 v[N]; u32 tag; };")
        e("struct hbox { u32 *p; int len; };")
        e("struct pt { u32 a; u32 b; };")
        e("")
        e("static u32 lcg = 12345u;")
        e("static u32 gs = 0u;")
        e("static double gd = 0.0;")
        e("static u32 next_rand(void) { lcg = lcg * 1103515245u + 12345u; return (lcg >> 16) & 0x7fffu; }")
        e("static u32 mix(u32 a, u32 b) { return (a ^ (b << 3)) + 0x9e37u; }")
        # element helpers a nest calls (nest_helper): they read arrays through their
        # parameters, clamp an index with early returns, call one another, or write
        e("static u32 rdu(const u32 *p, int k, int m) { if (k >= m) return p[m - 1]; if (k < 0) return p[0];"
          " return p[k] + (p[k] >> 3); }")
        e("static double rdd(const double *p, int k, int m) { if (k >= m) return p[m - 1]; if (k < 0) return p[0];"
          " return 0.5 * p[k]; }")
        e("static u32 nbu(const u32 *p, int k) { return p[k - 1] ^ (p[k + 1] << 1); }")
        e("static u32 pairu(const u32 *p, const u32 *q, int k, int m) { return rdu(p, k, m) + mix(q[k], 3u); }")
        e("static void setu(u32 *p, int k, u32 v) { p[k] = v; }")
        # window helpers (nest_window): loops of their own over a place in an array
        e("static u32 winu(const u32 *p, int k) { u32 s = 0u; for (int q = 0; q < k; q++) s = (s ^ p[q]) * 31u + (u32)q;"
          " return s; }")
        e("static u32 win2u(const u32 *p, int k) { return winu(p, k) + winu(p + 1, k - 1); }")
        e("static double wind(const double *p, const double *w, int k) { double s = 0.0;"
          " for (int q = 0; q < k; q++) s += 0.25 * p[q] + 0.5 * w[q]; return s; }")
        e("static void fillw(u32 *p, int k, u32 v) { for (int q = 0; q < k; q++) p[q] = v + (u32)q; }")
        # constant windows (nest_put): the helper writes a few elements from its pointer
        e("static void put3u(u32 *p, u32 v) { for (int q = 0; q < 3; q++) p[2 - q] = v ^ (u32)(q * 7); }")
        e("static void add2u(u32 *p, u32 v) { for (int q = 0; q < 2; q++) p[q] += v + (u32)q; }")
        # tile bounds (nest_tilemin): two minimums, and a larger-of named like one
        e("#define MINM(a, b) ((a) < (b) ? (a) : (b))")
        e("static int imin2(int a, int b) { return a < b ? a : b; }")
        e("static int minb(int a, int b) { return a > b ? a : b; }")
        e("static u32 chk_u(const u32 *p, long n) {")
        e("  u32 h = 2166136261u;")
        e("  for (long q = 0; q < n; q++) h = (h ^ p[q]) * 16777619u;")
        e("  return h;")
        e("}")
        e("static u32 chk_pt(const struct pt *p, long n) {")
        e("  u32 h = 2166136261u;")
        e("  for (long q = 0; q < n; q++) h = ((h ^ p[q].a) * 16777619u ^ p[q].b) * 16777619u;")
        e("  return h;")
        e("}")
        e("static u32 chk_d(const double *p, long n) {")
        e("  u32 h = 2166136261u;")
        e("  for (long q = 0; q < n; q++) {")
        e("    unsigned long long b;")
        e("    memcpy(&b, &p[q], sizeof b);")
        e("    h = (h ^ (u32)(b ^ (b >> 32))) * 16777619u;")
        e("  }")
        e("  return h;")
        e("}")
        # globals
        globals_: list[Arr] = []
        for g in range(r.randint(1, 3)):
            kind = self.pick(self.kinds(["1", "1", "2", "s"]))
            et = "u" if kind == "s" or "double" in self.without or self.chance(0.75) else "d"
            t = "u32" if et == "u" else "double"
            nm = f"g{g}"
            if kind == "1":
                e(f"static {t} {nm}[N];")
                globals_.append(Arr(nm, et, "1", nm, fixed=True, full="N"))
            elif kind == "2":
                e(f"static {t} {nm}[R][C];")
                globals_.append(Arr(nm, et, "2", nm, fixed=True, ptr=f"&{nm}[0][0]", full="R * C"))
            else:
                e(f"static struct box {nm};")
                globals_.append(Arr(f"{nm}.v", "u", "1", nm, fixed=True, full="N"))
        e("")
        local_kinds = []
        for _ in range(r.randint(2, 5)):
            kind = self.pick(self.kinds(["1", "1", "1v", "1h", "2v", "2p", "f", "s", "hb", "ao"]))
            et = "u" if kind in ("s", "hb", "ao") or "double" in self.without or self.chance(0.75) else "d"
            local_kinds.append((kind, et))
        swap = "swap" not in self.without and self.chance(0.45)
        avail: Counter = Counter()
        for a in globals_:
            avail[("1" if a.kind == "1" else a.kind, a.et)] += 1
            if a.name.endswith(".v"):
                avail[("s", "u")] += 1
        for kind, et in local_kinds:
            if kind == "ao":
                continue  # its members are no pointer a helper could take
            avail[({"1v": "1", "1h": "1", "hb": "1", "2v": "2", "2p": "2", "s": "1"}.get(kind, kind), et)] += 1
            if kind == "s":
                avail[("s", "u")] += 1
        if swap:
            avail[("1", "u")] += 1   # bufA/cur and bufB/nxt: one storage group
        for h in range(0 if "call" in self.without else r.randint(0, 3)):
            self.helper(h, globals_, avail)
        # main
        self.open("int main(int argc, char **argv) {")
        e("(void)argv;")
        e("int n = N - (argc > 1);")
        e("int r = R - (argc > 1);")
        e("int c = C;")
        e(f"int ld = C + {r.randint(0, 3)};")
        top = self.chance(0.3)
        if top:
            e("int i, j, q, t, k = 0;")
        e("u32 s0 = 1u, s1 = 7u;")
        e("double d0 = 0.0;")
        arrays = list(globals_)
        structs: list[str] = []  # arrays of struct pt
        for a, (kind, et) in enumerate(local_kinds):
            t = "u32" if et == "u" else "double"
            nm = f"a{a}"
            if kind == "1":
                e(f"{t} {nm}[N];")
                arrays.append(Arr(nm, et, "1", nm, fixed=True, full="N"))
            elif kind == "1v":
                e(f"{t} {nm}[n];")
                arrays.append(Arr(nm, et, "1", nm, full="n"))
            elif kind == "1h":
                e(f"{t} *{nm} = malloc(sizeof({t}) * (size_t)n);")
                arrays.append(Arr(nm, et, "1", nm, full="n"))
            elif kind == "2v":
                e(f"{t} {nm}[r][c];")
                arrays.append(Arr(nm, et, "2", nm, ptr=f"&{nm}[0][0]", full="r * c"))
            elif kind == "2p":
                e(f"{t} (*{nm})[c] = malloc(sizeof({t}) * (size_t)r * (size_t)c);")
                arrays.append(Arr(nm, et, "2", nm, ptr=f"&{nm}[0][0]", full="r * c"))
            elif kind == "f":
                e(f"{t} *{nm} = malloc(sizeof({t}) * (size_t)r * (size_t)ld);")
                arrays.append(Arr(nm, et, "f", nm, ld="ld", full="r * ld"))
            elif kind == "s":
                e(f"struct box {nm};")
                arrays.append(Arr(f"{nm}.v", "u", "1", nm, fixed=True, full="N"))
            elif kind == "ao":   # an array of structs, each member an array of its own to the nests
                e(f"struct pt *{nm} = malloc(sizeof(struct pt) * (size_t)n);")
                arrays.append(Arr(nm, "u", "1", nm, member="a"))
                arrays.append(Arr(nm, "u", "1", nm, member="b"))
                structs.append(nm)
            else:
                e(f"struct hbox {nm} = {{ malloc(sizeof(u32) * (size_t)n), n }};")
                arrays.append(Arr(f"{nm}.p", "u", "1", nm, full="n"))
        fn = Fn("main", arrays, ["s0", "s1"], ["d0"], main=True, top_decl=top)
        if swap:
            e("u32 *bufA = malloc(sizeof(u32) * (size_t)n);")
            e("u32 bufB[N];")
            e("u32 *cur = bufA, *nxt = bufB;")
            arrays.append(Arr("bufA", "u", "1", "swap", full="n"))
            arrays.append(Arr("bufB", "u", "1", "swap", full="n"))
            arrays.append(Arr("cur", "u", "1", "swap"))
            arrays.append(Arr("nxt", "u", "1", "swap"))
            fn.swap = True
        # initialise every array in full (the checksums read all of it)
        for nm in structs:
            self.open(self.for_(fn, "i", "0", "n"))
            e(f"{nm}[i].a = ((u32)i * 2654435761u) ^ {self.ucon()};")
            e(f"{nm}[i].b = next_rand() ^ {self.ucon()};" if self.chance(0.3) else f"{nm}[i].b = (u32)i * 7u;")
            self.close()
        for a in arrays:
            if not a.full:
                continue
            salt = self.ucon()
            host = self.chance(0.3)
            self.open(self.for_(fn, "i", "0", a.full.replace("*", "*")) if a.kind != "2" else
                      self.for_(fn, "i", "0", a.full.split(" * ")[0]))
            if a.kind == "2":
                self.open(self.for_(fn, "j", "0", a.full.split(" * ")[1]))
                tgt, ix = a.at("i", "j"), "(i * 31 + j)"
            else:
                tgt, ix = f"{a.ptr}[i]" if a.kind == "f" else a.at("i"), "i"
            if a.et == "u":
                val = f"next_rand() ^ {salt}" if host else f"((u32){ix} * 2654435761u) ^ {salt}"
            else:
                val = "(double)(next_rand() & 255u) * 0.5" if host else f"(double)(({ix} * 37 + 11) % 101) * 0.5"
            e(f"{tgt} = {val};")
            if a.kind == "2":
                self.close()
            self.close()
        self.block(fn, r.randint(3, 8))
        for h in self.helpers:   # every helper runs at least once
            if h["name"] not in self.called and not self.stmt_call(fn, h):
                self.emit(f"/* {h['name']}: no arrays fit its parameters */")
        # checksums of everything
        for a in arrays:
            if a.full:
                f = "chk_u" if a.et == "u" else "chk_d"
                e(f'printf("{a.name} %08x\\n", {f}({a.ptr}, (long)({a.full})));')
        for nm in structs:
            e(f'printf("{nm} %08x\\n", chk_pt({nm}, (long)n));')
        if fn.swap:
            e('printf("cur %08x nxt %08x\\n", chk_u(cur, n), chk_u(nxt, n));')
        e('printf("s0 %u s1 %u gs %u lcg %u\\n", s0, s1, gs, lcg);')
        e('printf("d0 %.17g gd %.17g\\n", d0, gd);')
        e("return 0;")
        self.close()
        return "\n".join(self.out) + "\n"


#: --without NAME switches these off (to look past a known bug)
FEATURE_OF = {"stmt_call": "call", "stmt_if": "if", "stmt_time": "time", "stmt_memcpy": "memcpy",
              "stmt_temp": "temp", "stmt_swap": "swap", "host_touch": "touch", "host_rand": "touch",
              "nest_scatter": "scatter", "nest_gather": "gather", "nest_reduce": "reduce",
              "nest_recurrence": "recurrence", "nest_matmul": "2d", "nest_map2": "2d", "nest_tri": "2d",
              "nest_rowsum": "2d", "nest_colsum": "2d", "nest_boundary": "2d", "host_search": "touch", "nest_scratch": "2d",
              "nest_helper": "call", "nest_edges": "if", "nest_window": "call", "nest_index": "flat",
              "nest_guarded": "if", "nest_rowsweep": "2d", "nest_put": "call",
              "nest_pivot": "2d", "nest_skip": "flat", "nest_tilemin": "call", "nest_view": "flat", "nest_mixops": "scatter"}
FEATURES = sorted(set(FEATURE_OF.values()) | {"struct", "vla", "flat", "macro", "typedef", "double"})


def generate(seed: int, without: frozenset[str] | set[str] = frozenset(), openmp: bool = False) -> str:
    text = Gen(seed, frozenset(without)).program()
    return with_parallel_for(text, seed) if openmp else text


#: what --openmp puts before a chosen loop (the user's claims, right or wrong)
PARALLEL_FOR = ("#pragma omp parallel for", "#pragma omp parallel for schedule(static)",
                "#pragma omp parallel for simd")


def _leaves(loop) -> bool:
    """Whether a loop may leave early (``break``, ``return``, ``goto``): OpenMP forbids a
    worksharing loop that does, so no user could have written the pragma there."""
    stack = [loop]
    while stack:
        n = stack.pop()
        if n.type in ("break_statement", "return_statement", "goto_statement"):
            return True
        stack.extend(n.children)
    return False


def with_parallel_for(text: str, seed: int) -> str:
    """``text`` as a CPU-OpenMP program (issue 18's port): about half of the outermost loops
    of each block get a ``parallel for`` line.  Nothing checks that the claim is true: a
    loop that carries a dependence or writes a shared scalar is a planted wrong pragma,
    which pcx must warn about and leave on the CPU (PCX125), never offload.  tree-sitter
    finds the loops; each pragma goes on its own line before its ``for``."""
    import tree_sitter_c
    from tree_sitter import Language, Parser

    rng = random.Random(seed * 7919 + 18)
    data = text.encode()
    root = Parser(Language(tree_sitter_c.language())).parse(data).root_node
    inserts: list[int] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "for_statement":
            line_start = data.rfind(b"\n", 0, n.start_byte) + 1
            own_line = not data[line_start:n.start_byte].strip()  # (not a one-line helper's loop)
            if n.parent is not None and n.parent.type == "compound_statement" and not _leaves(n) and own_line \
                    and rng.random() < 0.5:
                inserts.append(n.start_byte)
            continue  # loops inside a loop stay as they are
        stack.extend(reversed(n.children))
    out = data
    for pos in sorted(inserts, reverse=True):
        line_start = out.rfind(b"\n", 0, pos) + 1
        indent = out[line_start:pos]
        pragma = rng.choice(PARALLEL_FOR).encode()
        out = out[:pos] + pragma + b"\n" + indent + out[pos:]
    return out.decode()


# ============================================================================ checking

PCX_WARNING_LINE = re.compile(r"^pcx[\w+-]*: warning: .*$", re.M)
PCX007 = re.compile(r"\[PCX007\]")
PCX_REJECT_ERROR = re.compile(r"^pcx[\w+-]*: error: .*$", re.M)


@dataclass
class Result:
    seed: int
    outcome: str = "same"
    detail: str = ""
    variant: tuple[str, ...] = ()          # the argument list of the failing run
    nests: int = 0                         # loop nests in the pcx report
    offloaded: int = 0                     # of which offloaded and applied
    warnings: list[str] = field(default_factory=list)
    ported: int = 0                        # --openmp: parallel for loops moved to the device (PCX124)
    warned: int = 0                        # --openmp: pragmas warned about and left on the CPU (PCX125)
    seconds: float = 0.0
    saved: str = ""                        # the folder holding the (reduced) reproducer


def _report_counts(path: Path) -> tuple[int, int]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0, 0
    nests = [n for s in doc.get("sources", []) for n in s.get("nests", [])]
    offloaded = [n for n in nests if n.get("decision") == "offloaded" and n.get("applied", True)]
    return len(nests), len(offloaded)


class Checker:
    """Builds and runs one program both ways; the same object serves the reducer."""

    def __init__(self, *, cc: str = "clang-19", pcx_cc: str | None = None, run_timeout: float = 10.0,
                 build_timeout: float = 180.0, openmp: bool = False):
        self.cc = cc
        self.pcx_cc = pcx_cc or find_pcx_cc()
        self.run_timeout = run_timeout
        self.build_timeout = build_timeout
        self.pcx_env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
        self.run_env = dict(self.pcx_env, **VALIDATION_ENV)
        # --openmp: pcx builds the program as the CPU-OpenMP program it is; the loops it
        # keeps on the CPU run on one thread, so a planted wrong pragma that pcx rightly
        # leaves alone cannot race (the serial build ignores the pragmas).
        self.pcx_flags = ["-fopenmp"] if openmp else []
        # the CPU-OpenMP build (it must compile: a pragma no user could write is the generator's bug)
        self.plain_flags = ["-fopenmp", "-Wl,-rpath,/usr/lib/llvm-19/lib"] if openmp else []
        self.plain_env = dict(os.environ, OMP_NUM_THREADS="1") if openmp else None
        if openmp:
            self.run_env["OMP_NUM_THREADS"] = "1"

    def check(self, text: str, d: Path, seed: int = 0, variants=VARIANTS) -> Result:
        start = time.monotonic()
        res = Result(seed)
        d.mkdir(parents=True, exist_ok=True)
        (d / "prog.c").write_text(text)

        def done(outcome: str, detail: str = "", variant: tuple[str, ...] = ()) -> Result:
            res.outcome, res.detail, res.variant = outcome, detail, variant
            res.seconds = round(time.monotonic() - start, 2)
            return res

        rc, _, err = run_bounded([self.cc, *PLAIN_FLAGS, *self.plain_flags, "prog.c", "-o", "plain"], d,
                                 self.build_timeout)
        if rc != 0:
            return done("bad-program", "serial build failed: " + err.strip()[-300:])
        plain = {}
        for v in variants:
            prc, pout, perr = run_bounded(["./plain", *v], d, self.run_timeout, self.plain_env)
            if prc != 0:
                return done("bad-program", f"serial run {list(v)}: exit {prc} {perr.strip()[-200:]}", v)
            plain[v] = (prc, pout)
        report = d / "report.json"
        report.unlink(missing_ok=True)
        shutil.rmtree(d / "emit", ignore_errors=True)
        # Odd seeds: --pcx-min-work=0, every kernel runs on the device (the data plans are
        # what is tested); even seeds: the default, so the run-time work guards and the
        # host copies of small loops and regions are tested too.
        min_work = ["--pcx-min-work=0"] if seed % 2 else []
        rc, _, err = run_bounded(
            [self.pcx_cc, f"--pcx-cc={self.cc}", "--pcx-mode=static", f"--pcx-offload-target={OFFLOAD_TARGET}",
             *min_work, f"--pcx-report={report}", "--pcx-remarks", f"--pcx-emit={d / 'emit'}", *PLAIN_FLAGS,
             *self.pcx_flags, "prog.c", "-o", "pcx"], d, self.build_timeout, self.pcx_env)
        (d / "pcx-build.log").write_text(err)
        res.ported, res.warned = err.count("[PCX124]"), err.count("[PCX125]")
        res.warnings = PCX_WARNING_LINE.findall(err)
        res.nests, res.offloaded = _report_counts(report)
        if rc != 0:
            return done("build-failure", f"pcx-cc exit {rc}: " + err.strip()[-400:])
        for v in variants:
            xrc, xout, xerr = run_bounded(["./pcx", *v], d, self.run_timeout, self.run_env)
            prc, pout = plain[v]
            if xrc is None:
                return done("timeout", f"args {list(v)}: the serial program finished, the pcx one ran "
                                       f"past {self.run_timeout:g} s", v)
            if xrc != prc:
                e = xerr.strip()
                e = e if len(e) <= 400 else e[:250] + " ... " + e[-150:]   # the first message says why
                return done("crash", f"args {list(v)}: exit {xrc} (serial {prc}) {e}", v)
            if xout != pout:
                diff = [f"{a.strip()} != {b.strip()}" for a, b in zip(pout.splitlines(), xout.splitlines()) if a != b]
                return done("wrong", f"args {list(v)}: serial vs pcx: " + "; ".join(diff)[:300], v)
        if PCX007.search(err):
            return done("rejected", "the rewritten source failed to compile (PCX007)")
        if res.warnings:
            return done("rejected", res.warnings[0][:300])
        return done("same")


# ============================================================================ reduction


class _Sanity:
    """Guards a reduction against introducing undefined behaviour of its own."""

    _ok: dict[str, bool] = {}
    _lock = threading.Lock()

    def __init__(self, cc: str):
        self.cc = cc
        self.sanitizers = [s for s in ("address,undefined", "memory,undefined") if self._works(s)]

    def _works(self, san: str) -> bool:
        with self._lock:
            if san not in self._ok:
                with tempfile.TemporaryDirectory() as tmp:
                    Path(tmp, "t.c").write_text("int main(void) { return 0; }\n")
                    rc, _, _ = run_bounded([self.cc, f"-fsanitize={san}", "t.c", "-o", "t"], Path(tmp), 60)
                    self._ok[san] = rc == 0 and run_bounded(["./t"], Path(tmp), 30)[0] == 0
            return self._ok[san]

    def clean(self, d: Path, variant: tuple[str, ...]) -> bool:
        rc, _, _ = run_bounded([self.cc, "-O1", "-fsyntax-only", *STRICT_WARNINGS, "prog.c"], d, 60)
        if rc != 0:
            return False
        if not self.initialised(d, variant):
            return False
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="halt_on_error=1")
        for i, san in enumerate(self.sanitizers):
            exe = f"san{i}"
            rc, _, _ = run_bounded([self.cc, "-O1", "-g", "-w", f"-fsanitize={san}", "-fno-sanitize-recover=all",
                                    "prog.c", "-o", exe], d, 120)
            if rc != 0 or run_bounded([f"./{exe}", *variant], d, 30, env)[0] != 0:
                return False
        return True


    def initialised(self, d: Path, variant: tuple[str, ...]) -> bool:
        """The program reads no uninitialised memory, as far as two serial builds can tell:
        locals filled with a pattern in one and zeros in the other, heap blocks filled by
        glibc with two different bytes (MALLOC_PERTURB_).  A deletion that leaves an
        array unwritten but printed gives a "wrong" that is no bug (no sanitizer runtime
        is needed for this check)."""
        outputs = []
        for fill, perturb in (("pattern", "165"), ("zero", "0")):
            exe = f"init-{fill}"
            rc, _, _ = run_bounded([self.cc, "-O0", "-w", f"-ftrivial-auto-var-init={fill}", "prog.c", "-o", exe,
                                    "-lm"], d, 120)
            if rc != 0:
                return False
            rc, out, _ = run_bounded([f"./{exe}", *variant], d, 30, dict(os.environ, MALLOC_PERTURB_=perturb))
            if rc != 0:
                return False
            outputs.append(out)
        return outputs[0] == outputs[1]


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line spans of statements: one line, or a line ending in '{' through its
    closing '}' (an if with its else branches counts as one)."""
    spans = []
    stack: list[int] = []
    for k, line in enumerate(lines):
        s = line.strip()
        if s.startswith("}") and s.endswith("{"):      # } else {
            continue
        if s.startswith("}"):
            if stack:
                spans.append((stack.pop(), k))
            continue
        if s.endswith("{"):
            stack.append(k)
        elif s and not s.startswith("/*"):
            spans.append((k, k))
    return sorted(spans, key=lambda p: (p[0] - p[1], p[0]))   # largest first


def _unwraps(lines: list[str]) -> list[tuple[int, int]]:
    """(header, close) pairs of blocks whose body can stand alone (if, for, plain braces)."""
    out = []
    stack: list[int] = []
    for k, line in enumerate(lines):
        s = line.strip()
        if s.startswith("}") and s.endswith("{"):
            continue
        if s.startswith("}"):
            if stack:
                h = stack.pop()
                if re.match(r"(if|for) \(|\{$", lines[h].strip()) and "} else {" not in "".join(lines[h:k]):
                    out.append((h, k))
            continue
        if s.endswith("{"):
            stack.append(k)
    return out


class Reducer:
    """Deletes statements and blocks (then runs C-Vise if asked and installed) while the
    program keeps its failure class for the failing argument list and stays UB-free."""

    def __init__(self, checker: Checker, *, cvise: bool = True, cvise_seconds: float = 600.0,
                 log=lambda s: None, seed: int = 0):
        self.checker = checker
        self.seed = seed  # the failing program's: it decides the build's --pcx-min-work
        self.sanity = _Sanity(checker.cc)
        self.cvise = cvise and shutil.which("cvise") is not None
        self.cvise_seconds = cvise_seconds
        self.log = log
        self.tests = 0
        self.seen: set[str] = set()

    def interesting(self, text: str, d: Path, outcome: str, variant: tuple[str, ...]) -> bool:
        self.tests += 1
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        (d / "prog.c").write_text(text)
        rc, _, _ = run_bounded([self.checker.cc, "-fsyntax-only", *STRICT_WARNINGS, "prog.c"], d, 60)
        if rc != 0:
            return False
        if self.checker.check(text, d, self.seed, variants=(variant,)).outcome != outcome:
            return False
        return self.sanity.clean(d, variant)   # the costly UB guard only for a keeper

    def reduce(self, text: str, d: Path, outcome: str, variant: tuple[str, ...]) -> str:
        work = d / "try"
        changed = True
        while changed:
            changed = False
            for kind in ("delete", "unwrap"):
                lines = text.splitlines()
                spans = _blocks(lines) if kind == "delete" else _unwraps(lines)
                k = 0
                while k < len(spans):
                    first, last = spans[k]
                    lines = text.splitlines()
                    if kind == "delete":
                        cand = lines[:first] + lines[last + 1:]
                    else:
                        cand = lines[:first] + lines[first + 1:last] + lines[last + 1:]
                    cand_text = "\n".join(cand) + "\n"
                    if last < len(lines) and cand_text not in self.seen:
                        self.seen.add(cand_text)
                        if self.interesting(cand_text, work, outcome, variant):
                            text = cand_text
                            changed = True
                            self.log(f"    reduce: {len(cand)} lines ({self.tests} tests)")
                            lines = text.splitlines()
                            spans = _blocks(lines) if kind == "delete" else _unwraps(lines)
                            continue    # the same position now names the next candidate
                    k += 1
        if self.cvise:
            text = self._cvise(text, d, outcome, variant)
        return text

    def _cvise(self, text: str, d: Path, outcome: str, variant: tuple[str, ...]) -> str:
        cd = d / "cvise"
        shutil.rmtree(cd, ignore_errors=True)
        cd.mkdir(parents=True)
        (cd / "prog.c").write_text(text)
        script = cd / "test.sh"
        args = json.dumps({"outcome": outcome, "variant": list(variant), "cc": self.checker.cc,
                           "pcx_cc": self.checker.pcx_cc, "timeout": self.checker.run_timeout})
        script.write_text("#!/bin/sh\nexec " + " ".join(map(_sh, [sys.executable, str(Path(__file__).resolve()),
                                                                 "--interesting", args, "prog.c"])) + "\n")
        script.chmod(0o755)
        try:
            run_bounded(["cvise", "--n", "1", "--timeout", "120", "--tidy", str(script), "prog.c"], cd,
                        self.cvise_seconds)
        except OSError:
            return text
        out = (cd / "prog.c").read_text()
        # cvise stops on a timeout with its best so far in place; keep it only if it still fails
        return out if self.interesting(out, d / "try", outcome, variant) else text


def _sh(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def interesting_main(spec: str, path: str) -> int:
    """C-Vise's interestingness test: 0 when prog.c keeps the failure (run inside its folder)."""
    cfg = json.loads(spec)
    checker = Checker(cc=cfg["cc"], pcx_cc=cfg["pcx_cc"], run_timeout=cfg["timeout"])
    red = Reducer(checker, cvise=False)
    text = Path(path).read_text()
    with tempfile.TemporaryDirectory(prefix="loopfuzz-i-") as tmp:
        return 0 if red.interesting(text, Path(tmp) / "w", cfg["outcome"], tuple(cfg["variant"])) else 1


# ============================================================================ campaign


def summarize(results: list[Result]) -> dict:
    c = Counter(r.outcome for r in results)
    return {
        "programs": len(results),
        "offloaded_programs": sum(1 for r in results if r.offloaded),
        "offloaded_nests": sum(r.offloaded for r in results),
        "nests": sum(r.nests for r in results),
        "same": c["same"],
        "wrong": c["wrong"],
        "crashes": c["crash"],
        "timeouts": c["timeout"],
        "rejected": c["rejected"],
        "build_failures": c["build-failure"],
        "bad_programs": c["bad-program"],
        "ported_loops": sum(r.ported for r in results),
        "warned_loops": sum(r.warned for r in results),
        "failures": [(r.seed, r.outcome) for r in results if r.outcome in BUGS],
    }


def summary_line(s: dict) -> str:
    return (f"{s['programs']} programs, {s['offloaded_programs']} offloaded programs, "
            f"{s['offloaded_nests']} offloaded nests (of {s['nests']}), {s['same']} same, {s['wrong']} wrong, "
            f"{s['crashes']} crashes, {s['timeouts']} timeouts, {s['rejected']} rejected rewrites, "
            f"{s['build_failures']} build failures" + (f", {s['bad_programs']} bad programs" if s["bad_programs"] else "")
            + (f"; parallel for loops: {s['ported_loops']} ported, {s['warned_loops']} warned about (PCX125)"
               if s["ported_loops"] or s["warned_loops"] else ""))


def fuzz(seeds, *, jobs: int = 1, save: Path | None = DEFAULT_SAVE, keep_going: bool = True,
         max_reduce: int = 3, cvise: bool = True, cvise_seconds: float = 300.0, run_timeout: float = 10.0, cc: str = "clang-19",
         pcx_cc: str | None = None, without: frozenset[str] = frozenset(), openmp: bool = False,
         log=print) -> list[Result]:
    """Check every seed's program; reduce up to max_reduce failures into save/."""
    checker = Checker(cc=cc, pcx_cc=pcx_cc, run_timeout=run_timeout, openmp=openmp)
    results: list[Result] = []
    lock = threading.Lock()
    stop = threading.Event()
    reduced = [0]
    with tempfile.TemporaryDirectory(prefix="loopfuzz-") as tmp:
        work = Path(tmp)

        def one(seed: int) -> Result | None:
            if stop.is_set():
                return None
            d = work / f"p{seed}"
            try:
                text = generate(seed, without, openmp)
            except Exception as exc:  # noqa: BLE001  (a generator bug: count it, go on)
                text = f"/* generator failed: {type(exc).__name__}: {exc} */\n"
                r = Result(seed, "bad-program", f"generator failed: {type(exc).__name__}: {exc}")
            else:
                r = checker.check(text, d, seed)
            with lock:
                results.append(r)
                k = len(results)
            log(f"[{k:>4}] seed {seed:>7} {r.outcome:<13} offloaded {r.offloaded:>2}/{r.nests:<2} nests "
                f"{r.seconds:5.1f}s" + (f"  {r.detail[:200]}" if r.outcome in BUGS else ""))
            if r.outcome in BUGS:
                if not keep_going:
                    stop.set()
                if save is not None:
                    dest = save / f"seed{seed}-{r.outcome}"
                    dest.mkdir(parents=True, exist_ok=True)
                    (dest / "prog.c").write_text(text)
                    (dest / "result.json").write_text(json.dumps(r.__dict__, indent=1, default=list) + "\n")
                    if (d / "pcx-build.log").exists():
                        shutil.copy(d / "pcx-build.log", dest / "pcx-build.log")
                    for em in (d / "emit").glob("*") if (d / "emit").is_dir() else ():
                        shutil.copy(em, dest / f"emitted-{em.name}")
                    r.saved = str(dest)
                    with lock:
                        go = r.outcome != "bad-program" and reduced[0] < max_reduce
                        reduced[0] += go
                    if go:
                        t0 = time.monotonic()
                        red = Reducer(checker, cvise=cvise, cvise_seconds=cvise_seconds, seed=seed)
                        small = red.reduce(text, work / f"r{seed}", r.outcome, r.variant)
                        (dest / "reduced.c").write_text(
                            f"/* loopfuzz seed {seed}: {r.outcome} with args {list(r.variant)}; "
                            f"reduced from {len(text.splitlines())} to {len(small.splitlines())} lines "
                            f"in {red.tests} tests */\n" + small)
                        log(f"       reduced seed {seed} to {len(small.splitlines())} lines in {red.tests} tests, "
                            f"{time.monotonic() - t0:.0f}s: {dest / 'reduced.c'}")
            shutil.rmtree(d, ignore_errors=True)
            return r

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, seeds))
    results.sort(key=lambda r: r.seed)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20, help="number of programs (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="first seed (default 1); seeds are consecutive")
    ap.add_argument("--jobs", type=int, default=1, help="programs in parallel (default 1)")
    ap.add_argument("--save", type=Path, default=DEFAULT_SAVE,
                    help=f"where failing programs and their reductions go (default {DEFAULT_SAVE})")
    ap.add_argument("--keep-going", action="store_true", help="do not stop at the first failure")
    ap.add_argument("--max-reduce", type=int, default=3, help="reduce at most this many failures (default 3)")
    ap.add_argument("--no-cvise", action="store_true", help="only the built-in reducer, even if cvise is installed")
    ap.add_argument("--cvise-seconds", type=float, default=300.0,
                    help="time C-Vise may spend on one reduction (default 300)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per run (default 10)")
    ap.add_argument("--cc", default="clang-19", help="the serial compiler and pcx-cc's real compiler")
    ap.add_argument("--without", default="", metavar="F,G",
                    help=f"generate programs without these features (to look past a known bug): {','.join(FEATURES)}")
    ap.add_argument("--openmp", action="store_true",
                    help="CPU-OpenMP programs: 'parallel for' before about half the outer loops, right or "
                         "wrong, built with -fopenmp (issue 18's port of such loops)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON too")
    ap.add_argument("--print-program", type=int, metavar="SEED", help="print one seed's program and exit")
    ap.add_argument("--interesting", nargs=2, metavar=("SPEC", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    without = frozenset(w for w in args.without.split(",") if w)
    if without - set(FEATURES):
        ap.error(f"unknown features {sorted(without - set(FEATURES))}; known: {','.join(FEATURES)}")
    if args.interesting:
        return interesting_main(*args.interesting)
    if args.print_program is not None:
        sys.stdout.write(generate(args.print_program, without, args.openmp))
        return 0
    if find_pcx_cc() is None or shutil.which(args.cc) is None:
        print(f"pcx-cc or {args.cc} not found", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    results = fuzz(range(args.seed, args.seed + args.count), jobs=args.jobs, save=args.save,
                   keep_going=args.keep_going, max_reduce=args.max_reduce, cvise=not args.no_cvise,
                   cvise_seconds=args.cvise_seconds,
                   run_timeout=args.timeout, cc=args.cc, without=without, openmp=args.openmp)
    s = summarize(results)
    took = time.monotonic() - t0
    print(f"\n{summary_line(s)}  [{took:.0f} s, {took / max(1, len(results)):.1f} s per program "
          f"with {args.jobs} job(s)]")
    if s["failures"]:
        print(f"failures (seed, class): {s['failures']}; saved under {args.save}")
    if args.json:
        print(json.dumps(s))
    return 1 if s["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
