"""The abstract state the plan checker tracks: per array buffer, where its current value lives.

A buffer's state (``Buf``) is whether it is present on the device, with the section that
was mapped, and three *may* sets of sections: ``undef`` (the device copy was never
defined), ``host_new`` (the host wrote it since the device copy was made) and ``dev_new``
(a kernel wrote it since the host copy was made).  A ``State`` binds names to buffers and
buffers to their ``Buf``; a disjunction of states (a tuple) keeps apart paths that bind
names differently, so pointer swaps stay exact.  The section algebra is ``engine.symsect``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pcx_driver.engine.symsect import WHOLE, Sect, bounded, contains, excluding, hull_sets, including, widen_sets
from pcx_driver.model import Section


class CheckFailed(Exception):
    def __init__(self, rid: str, message: str, byte: int, kernel: str | None = None) -> None:
        super().__init__(message)
        self.rid, self.message, self.byte, self.kernel = rid, message, byte, kernel


def fail(rid: str, msg: str, node_or_byte, kernel: str | None = None):
    """Raise the check ``rid`` failing at a node (its start) or a byte."""
    byte = node_or_byte if isinstance(node_or_byte, int) else node_or_byte.start_byte
    raise CheckFailed(rid, msg, byte, kernel)


MAYBE = "maybe"  # presence differs between paths


@dataclass(frozen=True)
class Buf:
    present: object = None  # None, a (Section text, Sect) pair, or MAYBE
    depth: int = 0  # nesting of regions that hold it
    undef: frozenset = frozenset()
    host_new: frozenset = frozenset()
    dev_new: frozenset = frozenset()


@dataclass(frozen=True)
class State:
    env: tuple  # sorted ((name, frozenset(buffer ids)), ...)
    bufs: tuple  # sorted ((buffer id, Buf), ...)

    def names(self) -> dict:
        return dict(self.env)

    def buf(self, b: str) -> Buf:
        return dict(self.bufs).get(b, Buf())

    def set_buf(self, b: str, v: Buf) -> "State":
        d = dict(self.bufs)
        d[b] = clip(v)
        return State(self.env, tuple(sorted(d.items())))

    def bind(self, name: str, ids: frozenset) -> "State":
        d = dict(self.env)
        d[name] = ids
        return State(tuple(sorted(d.items())), self.bufs)


def clip(v: Buf) -> Buf:
    """Only the present section matters: an unbounded section (the whole array, or a
    dimension widened away) becomes the present section, so a copy of it can clear it."""
    if not isinstance(v.present, tuple):
        return v
    have = v.present[1]
    if have == WHOLE or any(lo is None or hi is None for lo, hi in have):
        return v

    def fix(sets: frozenset) -> frozenset:
        out = set()
        for x in sets:
            if x == WHOLE:
                x = have
            elif len(x) == len(have):
                x = tuple(h if d == (None, None) else d for d, h in zip(x, have))
            out.add(x)
        return frozenset(out)

    return dataclasses.replace(v, undef=fix(v.undef), host_new=fix(v.host_new), dev_new=fix(v.dev_new))


def join_buf(a: Buf, b: Buf) -> Buf:
    present = a.present if a.present == b.present else MAYBE
    depth = a.depth if a.depth == b.depth else -1
    return Buf(present, depth, union(a.undef, b.undef), union(a.host_new, b.host_new),
               union(a.dev_new, b.dev_new))


def union(a: frozenset, b: frozenset) -> frozenset:
    out = a
    for s in b:
        out = including(out, s)
    return out


def cut(sets: frozenset, s: Sect, sec: Section, v: Buf) -> frozenset:
    """``sets`` after a copy of ``s``.  Every section in a buffer's sets comes from an
    access of the (well-defined) program, so it lies within the present section: a copy
    of the whole present section clears them all."""
    if isinstance(v.present, tuple):
        text, have = v.present
        if sec.render() == text or (bounded(have) and bounded(s) and contains(s, have)):
            return frozenset()
        if have != WHOLE and s != WHOLE and len(have) == len(s):
            # so, too, a dimension the copy takes whole (``A[i:1][0:N]`` of ``A[0:N][0:N]``)
            # holds every section's range there: LU's host loop wrote ``A[i][0:i]``
            full = [k for k, (d, h) in enumerate(zip(s, have)) if d == h]
            if full:
                sets = frozenset(x if x == WHOLE or len(x) != len(s)
                                 else tuple(have[k] if k in full else d for k, d in enumerate(x)) for x in sets)
    return excluding(sets, s)


def whole(sets: frozenset) -> frozenset:
    return frozenset([WHOLE]) if sets else sets


# ------------------------------------------------------------------ disjunctions of states


MAX_ENVS = 16


def members(st) -> tuple:
    """The states of a disjunction (one per assignment of names to buffers)."""
    if st is None:
        return ()
    return st if isinstance(st, tuple) else (st,)


def merge(a: State, b: State) -> State:
    env = dict(a.env)
    for n, ids in b.env:
        env[n] = env.get(n, frozenset()) | ids
    bufs = dict(a.bufs)
    theirs = dict(b.bufs)
    for k in set(bufs) | set(theirs):
        bufs[k] = join_buf(bufs.get(k, Buf()), theirs.get(k, Buf()))
    return State(tuple(sorted(env.items())), tuple(sorted(bufs.items())))


def join(states: list):
    """Join states: those with the same names-to-buffers assignment merge, others stay
    apart (so pointer swaps stay exact), up to MAX_ENVS, then everything merges."""
    by_env: dict = {}
    for st in states:
        for m in members(st):
            by_env[m.env] = merge(by_env[m.env], m) if m.env in by_env else m
    if not by_env:
        return None
    out = [by_env[k] for k in sorted(by_env)]
    if len(out) > MAX_ENVS:
        merged = out[0]
        for m in out[1:]:
            merged = merge(merged, m)
        out = [merged]
    return out[0] if len(out) == 1 else tuple(out)


def each(st, fn):
    """Apply ``fn`` to every state of a disjunction and join the results."""
    if st is None:
        return None
    if not isinstance(st, tuple):
        return fn(st)
    return join([fn(m) for m in st])


def hull(st, ranges: dict):
    """``st`` with every section that mentions a loop index of ``ranges`` taken over the
    index's whole range (``symsect.hull_sets``): what one iteration did, as every
    iteration did it."""
    if not ranges or st is None:
        return st
    if isinstance(st, tuple):
        return each(st, lambda m: hull(m, ranges))
    bufs = [(b, dataclasses.replace(v, undef=hull_sets(v.undef, ranges), host_new=hull_sets(v.host_new, ranges),
                                    dev_new=hull_sets(v.dev_new, ranges))) for b, v in st.bufs]
    return State(st.env, tuple((b, clip(v)) for b, v in bufs))


def widen(st, names: set[str] | None):
    """``st`` with every section that mentions one of ``names`` widened to the whole
    dimension (``None``: every set widened to the whole array)."""
    if isinstance(st, tuple):
        return each(st, lambda m: widen(m, names))
    bufs = []
    for b, v in st.bufs:
        if names is None:
            bufs.append((b, dataclasses.replace(v, undef=whole(v.undef), host_new=whole(v.host_new),
                                                dev_new=whole(v.dev_new))))
        else:
            bufs.append((b, dataclasses.replace(v, undef=widen_sets(v.undef, names),
                                                host_new=widen_sets(v.host_new, names),
                                                dev_new=widen_sets(v.dev_new, names))))
    return State(st.env, tuple((b, clip(v)) for b, v in bufs))
