"""The checks at host code: what the host reads and writes of data that is on the device.

Each use ``uses.host_accesses`` lists is applied in order: a read of a section whose
current value is only on the device fails PCX211; a write makes the host's copy newer;
passing a present buffer to a function in another file, or storing a pointer into it,
fails PCX216, as does code that changes the bounds of a mapped section; a call to a
function with device code applies that function's effect (``walk.callee_effect``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import tree_sitter

from pcx_driver.engine.plancheck.facts import UnitFacts
from pcx_driver.engine.plancheck.frame import Frame
from pcx_driver.engine.plancheck.state import MAYBE, Buf, each, fail, widen
from pcx_driver.engine.plancheck.uses import host_accesses
from pcx_driver.engine.symsect import WHOLE, Sect, contains, excluding, freeze, including, overlaps, sect_names

# a present buffer's state after a call: (facts, callee, argument position or global name,
# the arguments' linear forms, the buffer's state before, the call's byte) -> state after
CalleeEffect = Callable[[UnitFacts, str, object, list, Buf, int, set], Buf]


def within_rows(f: Frame, name: str, present: Sect, sect: Sect) -> Sect:
    """``sect``, an element of array of arrays ``name``, with every dimension after the
    first that ``present`` maps whole (``[0:E]``, E its declared extent) taken as that
    range: an index there stays inside its row (C's rule for subscripts; the kernels'
    sections assume it too), so the address lies inside the mapped range."""
    fa = f.facts.functions.get((f.fname, f.fnode.start_byte))
    rows = fa.row_extents.get(name) if fa is not None else None
    if not rows or sect == WHOLE or present == WHOLE or len(sect) != len(present) or len(rows) != len(sect) - 1:
        return sect
    out = [sect[0]]
    for extent, mapped, used in zip(rows, present[1:], sect[1:]):
        whole = extent is not None and mapped == (freeze({(): 0}), freeze({(): extent}))
        out.append(mapped if whole else used)
    return tuple(out)


def host_code(f: Frame, node: tree_sitter.Node | None, st, callee_effect: CalleeEffect):
    """Host code ``node`` (a statement or expression, or None): its uses in order, then
    every section that mentions what it changes widened.  ``callee_effect`` gives a present
    buffer's state after a call to a function with device code."""
    if node is None or st is None:
        return st
    if isinstance(st, tuple):
        return each(st, lambda m: host_code(f, node, m, callee_effect))
    for kind, name, sect, sure, at in host_accesses(f.facts, node, st):
        if kind == "bind":
            st = st.bind(name, sect)
            continue
        if kind == "swap":
            one, other = f.ids(st, name), f.ids(st, sect)
            st = st.bind(name, other).bind(sect, one)
            continue
        for b in f.ids(st, name) if kind != "alias" else ():
            v = st.buf(b)
            if v.present is None:
                continue
            if v.present is MAYBE:
                fail("PCX215", f"'{name}' may or may not be on the device at line {f.line(at)}", at)
            if kind in ("read", "write") and any(e.region.alias_test for e in f.open) and not (
                    isinstance(v.present, tuple) and contains(v.present[1], within_rows(f, name, v.present[1], sect))):
                # the region's test proved only its mapped sections disjoint
                fail("PCX216", f"host code at line {f.line(at)} uses '{name}' beyond its mapped section, "
                               "inside a region versioned for aliasing", at)
            if kind == "read":
                if overlaps(v.dev_new, sect):
                    fail("PCX211", f"host code at line {f.line(at)} reads '{name}', whose current value is on the device", at)
            elif kind == "write":
                v = dataclasses.replace(v, host_new=including(v.host_new, sect))
                if sure and len(f.ids(st, name)) == 1:
                    v = dataclasses.replace(v, dev_new=excluding(v.dev_new, sect))
                st = st.set_buf(b, v)
            elif kind == "extern":
                fail("PCX216", f"'{sect}', defined in another file, is called at line {f.line(at)} while "
                               f"'{name}' is on the device (its kernels would find it there)", at)
            elif kind == "call":
                # the arguments passed as plain names whose buffers are all on the device here
                held = {k for k, root in enumerate(sect[3]) if root and f.ids(st, root) and
                        all(st.buf(x).present not in (None, MAYBE) for x in f.ids(st, root))}
                st = st.set_buf(b, callee_effect(f.facts, sect[0], sect[1], sect[2], v, at, held))
            elif kind == "escape":
                fail("PCX216", f"a pointer into mapped '{name}' is stored at line {f.line(at)}", at)
    changed = f.facts.assigned(node)
    for entry in f.open:
        for _, sec, _ in entry.buffers:
            if sect_names(f.sect(sec)) & changed or (sec.base in changed and False):
                fail("PCX216", f"the bounds of mapped {sec.render()} change inside its region", node)
    for b, v in st.bufs:
        if v.present not in (None, MAYBE) and sect_names(v.present[1]) & changed:
            fail("PCX216", f"the bounds of mapped {v.present[0]} change while it is on the device", node)
    return widen(st, changed)
