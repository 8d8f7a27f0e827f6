"""The checks at data directives: a region's entry and exit, each map, each ``target update``.

Each step takes the state before the directive and returns the state after it, or fails
naming its check: PCX212 (a copy to the host overwrites newer host data or brings back
undefined device data), PCX213 (an ``update to`` overwrites newer device data), PCX214
(device results are dropped while the host still needs them), PCX215 (a map extends a
present mapping, or presence differs between paths), PCX216 (what the checker cannot
follow).  Kernels' own maps (``kernels.py``) use ``map_enter`` and ``map_exit`` too.
"""

from __future__ import annotations

import dataclasses
import functools

from pcx_driver.engine import hostaccess
from pcx_driver.engine.plancheck.frame import Frame, OpenRegion
from pcx_driver.engine.plancheck.state import MAYBE, Buf, State, cut, each, fail, join_buf
from pcx_driver.engine.symsect import WHOLE, Sect, contains, extends, overlaps
from pcx_driver.model import DataRegion, MapKind, Section


def enter_region(f: Frame, r: DataRegion, st, node):
    """Enter data region ``r`` before ``node``: its maps take their buffers."""
    if st is None:
        f.open.append(OpenRegion(r))
        return None
    entry = OpenRegion(r)
    if r.lifted_tests and not isinstance(st, tuple):
        # where its tests fail it maps nothing and its statements run as written: they
        # read the host copies, which must then be current (nothing of it on the device)
        for m in r.maps:
            for sec in m.sections:
                if any(st.buf(b).present is not None for b in f.ids(st, sec.base)):
                    fail("PCX215", f"region tested at run time starts while '{sec.base}' is on the device", node)
    if r.alias_test:
        if isinstance(st, tuple):  # one binding of names to buffers per path: not followed
            fail("PCX216", "region versioned for aliasing where pointers may name other memory", node)
        st = unalias(f, r, st, entry, node)

    for m in r.maps:
        for sec in m.sections:
            name = f.facts.canonical(sec.base)
            hard = f.facts.reach.hard.get(name)
            borrow = hostaccess.member_borrow(f.fnode, name, f.facts.data, (r.start_byte, r.end_byte))
            if hard is None and borrow is not None and borrow[2]:
                hard = (borrow[1], f"it takes its value from '{borrow[0]}', which the region's host code names")
            if hard is not None:
                line, how = hard
                fail("PCX216", f"region maps '{sec.base}', which host code may reach through another name "
                               f"(line {line}: {how})", node)

    def enter(m_st: State) -> State:
        for m in r.maps:
            for sec in m.sections:
                ids = f.ids(m_st, sec.base)
                if not ids:
                    fail("PCX216", f"region maps '{sec.base}', which the checker cannot follow", node)
                entry.buffers.append((m.kind, sec, ids))
                for b in ids:
                    m_st = m_st.set_buf(b, map_enter(f, m_st.buf(b), m.kind, sec, node))
        return m_st

    st = each(st, enter)
    f.open.append(entry)
    return st


def map_enter(f: Frame, v: Buf, kind: MapKind, sec: Section, node) -> Buf:
    """Map ``sec`` (one more reference if present, else a new device copy)."""
    s = f.sect(sec)
    if v.present is MAYBE or v.depth < 0:
        fail("PCX215", f"'{sec.base}' may or may not be on the device here", node)
    if v.present is not None:
        contained(v, sec, s, node)
        return dataclasses.replace(v, depth=v.depth + 1)
    undef = frozenset([s]) if kind in (MapKind.FROM, MapKind.ALLOC) else frozenset()
    return Buf((sec.render(), s), 1, undef, frozenset(), frozenset())


def contained(v: Buf, sec: Section, s: Sect, node) -> None:
    """A map of a present buffer must lie within its present section."""
    text, have = v.present
    if sec.render() == text or (have != WHOLE and s != WHOLE and contains(have, s)
                                and all(d != (None, None) for d in have)):
        return
    if text != "\0caller":
        fail("PCX215", f"map of {sec.render()} may extend the present mapping {text}", node)
    # In a callee, ``have`` is the caller's section in the caller's terms, which the callee's
    # bound parameters share, and the callee's own symbols (its loop bounds, macros) often
    # leave containment undecided: an extension there can only abort the run, never change
    # its answer, so only a map that surely extends the argument's section fails.
    if extends(have, s):
        fail("PCX215", f"map of {sec.render()} extends the present mapping of the argument", node)


def leave_region(f: Frame, r: DataRegion, st: State, last) -> State:
    """Leave data region ``r`` after ``last``: its updates at the end, then its maps' exits."""
    if not f.open or f.open[-1].region is not r:
        fail("PCX216", "data regions do not nest", last)
    for u in r.updates:
        if u.byte == r.end_byte:
            st = each(st, lambda m, u=u: update(f, u.direction, u.sections, m, last))
    entry = f.open.pop()
    held = set().union(*(b for _, _, b in entry.buffers)) if entry.buffers else set()

    variants: dict[str, set] = {}  # buffer -> the (kind, section) maps that took it
    for kind, sec, ids in entry.buffers:
        for b in ids:
            variants.setdefault(b, set()).add((kind, sec.render(), sec.base, tuple(map(tuple, sec.dims))))

    def leave(m_st: State) -> State:
        for _, sec, _ in entry.buffers:
            if not f.ids(m_st, sec.base) <= held:
                fail("PCX216", f"'{sec.base}' names other memory at the end of its region", last)
        for b, ways in sorted(variants.items()):
            holders = [n for n, ids in m_st.env if b in ids]
            outs = [map_exit(f, m_st.buf(b), kind, Section(base, [tuple(d) for d in dims]), last, b, None, holders)
                    for kind, _, base, dims in sorted(ways, key=str)]
            v = outs[0]
            for o in outs[1:]:
                v = join_buf(v, o)
            m_st = m_st.set_buf(b, v)
        return m_st

    st = each(st, leave)
    if entry.rebound:  # past the region its names may be one array again
        st = each(st, lambda m_st: functools.reduce(lambda a, kv: a.bind(*kv), entry.rebound.items(), m_st))
    return st


def unalias(f: Frame, r: DataRegion, st: State, entry: OpenRegion, node) -> State:
    """Entering a region versioned for aliasing (``DataRegion.alias_test``): its
    statements run as written on the host unless the sections it maps are pairwise
    disjoint, so on the device path each name it maps is its own buffer.  Nothing it
    maps may be on the device already (the host path reads the host copies)."""
    for m in r.maps:
        for sec in m.sections:
            ids = f.ids(st, sec.base)
            if any(st.buf(b).present is not None for b in ids):
                fail("PCX215", f"region versioned for aliasing starts while '{sec.base}' is on the device", node)
            entry.rebound.setdefault(sec.base, ids)
    for name in entry.rebound:
        st = st.bind(name, frozenset([name]))
    return st


def map_exit(f: Frame, v: Buf, kind: MapKind, sec: Section, node, b: str,
             kernel: str | None = None, holders: list[str] | None = None) -> Buf:
    """Leave the device (or drop one reference); ``holders``: the names that point
    to buffer ``b`` now, whose later uses make its device results needed."""
    if v.present is MAYBE or v.depth < 0:
        fail("PCX215", f"'{sec.base}' may or may not be on the device here", node, kernel)
    if v.present is None:
        fail("PCX216", f"'{sec.base}' leaves the device twice", node, kernel)
    if v.depth > 1:
        return dataclasses.replace(v, depth=v.depth - 1)
    s = f.sect(sec)
    dev_new = v.dev_new
    if kind in (MapKind.FROM, MapKind.TOFROM):
        if overlaps(v.host_new, s):
            fail("PCX212", f"copying {sec.render()} back overwrites newer host data", node, kernel)
        if overlaps(v.undef, s):
            fail("PCX212", f"copying {sec.render()} back brings undefined device data to the host", node, kernel)
        dev_new = cut(dev_new, s, sec, v)
    if dev_new and any(f.facts.live_after(n, node.end_byte, f.fnode) for n in holders or [b]):
        fail("PCX214", f"device results in '{sec.base}' are dropped while the host still uses it", node, kernel)
    return Buf()


def update(f: Frame, direction: str, sections: list[Section], st: State, node) -> State:
    """A ``target update`` (``direction``: ``"to"`` or ``"from"``) of ``sections`` before ``node``."""
    for sec in sections:
        s = f.sect(sec)
        ids = f.ids(st, sec.base)
        if not ids:
            fail("PCX216", f"update of '{sec.base}', which the checker cannot follow", node)
        for b in ids:
            v = st.buf(b)
            if v.present is MAYBE:
                fail("PCX215", f"'{sec.base}' may or may not be on the device at the update", node)
            if v.present is None:
                continue  # not present: OpenMP ignores the update
            # An update section always comes from a host access, so it cannot reach
            # past the array; past the mapped section libomptarget stops the run
            # ("explicit extension not allowed"), it never computes a wrong answer.
            if direction == "to":
                if overlaps(v.dev_new, s):
                    fail("PCX213", f"update to({sec.render()}) overwrites newer device data", node)
                if len(ids) == 1:
                    v = dataclasses.replace(v, undef=cut(v.undef, s, sec, v), host_new=cut(v.host_new, s, sec, v))
            else:
                if overlaps(v.host_new, s):
                    fail("PCX212", f"update from({sec.render()}) overwrites newer host data", node)
                if overlaps(v.undef, s):
                    fail("PCX212", f"update from({sec.render()}) brings undefined device data to the host", node)
                if len(ids) == 1:
                    v = dataclasses.replace(v, dev_new=cut(v.dev_new, s, sec, v))
            st = st.set_buf(b, v)
    return st

