"""The checks at a kernel: its own maps, what it reads and writes on the device, and kernels versioned for aliasing.

A kernel fails PCX210 when it reads device data that is undefined or older than the
host's, PCX215 when one array is mapped under two names, when it may run on the host
(``if(target: ...)``, a version for aliasing or for a private array's range) while its
data is on the device, or when it uses an array that is neither mapped nor present, and
PCX216 when it maps a name the checker cannot follow.  Its own maps go through
``directives.map_enter`` and ``directives.map_exit``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.plancheck.directives import map_enter, map_exit
from pcx_driver.engine.plancheck.frame import Frame, PlacedKernel
from pcx_driver.engine.plancheck.state import MAYBE, State, fail, widen
from pcx_driver.engine.plancheck.syntax import declared_name, preorder
from pcx_driver.engine.symsect import bounded, contains, excluding, including, overlaps

# walks a loop statement as host code: (loop node, state before) -> state after
HostLoop = Callable[[tree_sitter.Node, State], "State | None"]


def kernel(f: Frame, k: PlacedKernel, node: tree_sitter.Node, st: State, host_loop: HostLoop) -> State:
    """Kernel ``k`` at loop ``node``: its maps in, its reads and writes, its maps out.
    ``host_loop`` walks a loop as host code (a kernel versioned for aliasing may run so)."""
    if k.plan.nan_test or k.plan.reruns() or k.plan.tested_at_run_time():
        # a NaN start, or a fact its sections rest on failing, runs the loop as written, on
        # the host (rewrite.device_test); a minimum a NaN element restarts, or one that may
        # end at a zero of either sign, may run it after the kernel (Reduction.restarts,
        # zero_sign)
        plain = dataclasses.replace(k.plan, nan_test="", caller_extents=[], assumptions=[], stride_facts=[],
                                    row_tests=[], reductions=[dataclasses.replace(r, restarts=[], zero_sign=False)
                                                              for r in k.plan.reductions])
        return versioned_kernel(f, dataclasses.replace(k, plan=plain), node, st, host_loop)
    if any(p.bounds_test for p in k.plan.private_arrays):  # the range test of a private array
        # (engine/privatise.py) is a version of its own, which no region's test covers
        return versioned_kernel(f, dataclasses.replace(k, plan=dataclasses.replace(k.plan, private_arrays=[])),
                                node, st, host_loop)
    if k.plan.alias_test and not any(e.region.alias_test for e in f.open):
        if not (k.plan.alias_read_only and holds_tested(f, k, node, st)):
            return versioned_kernel(f, k, node, st, host_loop)  # (inside a versioned region: its test covers it)
        # pairs only read, data held by a region: the rewrite drops the test (regionreach.held_by_regions),
        # and the kernel is checked as it then runs, on the device with its maps found present
        k = dataclasses.replace(k, plan=dataclasses.replace(k.plan, alias_test=""))
    kid = k.plan.nest_id
    reads, writes, sure = f.facts.kernel_accesses(k, node)
    maps: dict[str, list] = {}
    for m in k.plan.maps:
        for sec in m.sections:
            maps.setdefault(f.facts.canonical(sec.base), []).append((m.kind, sec))
    touched = {f.facts.canonical(n) for n in reads} | {f.facts.canonical(n) for n in writes}
    mapped = sorted(maps)
    arrays = f.global_arrays
    for i, a in enumerate(mapped):  # one array under two names in one construct: a
        for b in mapped[i + 1:]:    # global's own device copy, or sections that overlap
            if not f.ids(st, a) & f.ids(st, b) or f.apart_still(st, a, b):
                continue            # without one holding the other, are two arrays
            if a in arrays and b in arrays:
                continue  # two declared arrays (each may be what a pointer points to, not both)
            sa = [f.sect(sec) for _, sec in maps[a]]
            sb = [f.sect(sec) for _, sec in maps[b]]
            if a not in writes and b not in writes:  # only read: found present, each map is a lookup
                # (which map_enter checks for extension); one not present is mapped here, where
                # the same section of two pointers ``x = a + 1``, ``y = a`` is two ranges of one
                # buffer (libomptarget aborts, "explicit extension not allowed")
                if all(st.buf(x).present is not None for x in f.ids(st, a) & f.ids(st, b)):
                    continue
                fail("PCX215", f"'{a}' and '{b}' may be one array, read through two "
                               "sections by this kernel", node, kid)
            nested = all(contains(x, y) or contains(y, x) for x in sa for y in sb
                         if bounded(x) and bounded(y)) and all(bounded(x) for x in sa + sb)
            if re.split(r"\.|->", a)[0] in f.facts.file_scope or re.split(r"\.|->", b)[0] in f.facts.file_scope \
                    or not nested:
                fail("PCX215", f"'{a}' and '{b}' may be one array, mapped twice by this kernel", node, kid)
    if k.plan.work_expr and k.plan.min_work > 0:  # if(target: ...) may run it on the host
        for name in sorted(touched | set(maps)):
            if any(st.buf(b).present is not None for b in f.ids(st, name)):
                fail("PCX215", f"kernel guarded by if(target: ...) may run on the host while '{name}' "
                               "is on the device", node, kid)
    # entry: the kernel's own maps, in the order the rewriter emits the clauses, which is
    # the order libomptarget maps them in (a section mapped after a longer one of the same
    # array is a lookup; mapped before it, the longer one would extend it)
    for name in list(maps) + sorted(touched - set(maps)):
        ids = f.ids(st, name)
        if not ids:
            if name in maps:
                fail("PCX216", f"kernel maps '{name}', which the checker cannot follow", node, kid)
            continue
        for b in ids:
            v = st.buf(b)
            if v.present is MAYBE:
                fail("PCX215", f"'{name}' may or may not be on the device at this kernel", node, kid)
            if v.present is None and name not in maps and name in touched:
                fail("PCX215", f"kernel uses '{name}', which is neither mapped nor present", node, kid)
            for kind, sec in maps.get(name, ()):
                v = map_enter(f, v, kind, sec, node)
            st = st.set_buf(b, v)
    # body
    for name, secs in reads.items():
        for b in f.ids(st, f.facts.canonical(name)):
            v = st.buf(b)
            for s in secs:
                if overlaps(v.undef, s):
                    fail("PCX210", f"kernel reads '{name}' where the device copy is undefined", node, kid)
                if overlaps(v.host_new, s):
                    fail("PCX210", f"kernel reads '{name}' where the host has newer values", node, kid)
    for name, secs in writes.items():
        ids = f.ids(st, f.facts.canonical(name))
        for b in ids:
            v = st.buf(b)
            for s in secs:
                dev_new = including(v.dev_new, s)
                if len(ids) == 1 and name in sure:
                    v = dataclasses.replace(v, undef=excluding(v.undef, s), host_new=excluding(v.host_new, s),
                                            dev_new=dev_new)
                else:
                    v = dataclasses.replace(v, dev_new=dev_new)
            st = st.set_buf(b, v)
    # exit: the kernel's own maps, in reverse
    for name, entries in maps.items():
        ids = f.ids(st, name)
        for b in ids:
            v = st.buf(b)
            holders = [n for n, i in st.env if b in i]
            for kind, sec in reversed(entries):
                v = map_exit(f, v, kind, sec, node, b, kid, holders)
            st = st.set_buf(b, v)
    return widen(st, f.facts.assigned(node) & f.facts.scalars_written_by(k))


def kernel_names(f: Frame, k: PlacedKernel, node: tree_sitter.Node) -> set[str]:
    """The names kernel ``k`` touches or maps, canonical."""
    reads, writes, _ = f.facts.kernel_accesses(k, node)
    names = {f.facts.canonical(n) for n in [*reads, *writes]}
    return names | {f.facts.canonical(sec.base) for m in k.plan.maps for sec in m.sections}


def holds_tested(f: Frame, k: PlacedKernel, node: tree_sitter.Node, st: State) -> bool:
    """Whether every array kernel ``k``'s alias test compares is on the device in ``st``:
    then each of its maps is a lookup, and the kernel may run without the test.  (Something
    else of the kernel's held is not enough: ``add(o, a + 1, a, n)`` in a region holding
    only ``o`` mapped ``a`` twice, and libomptarget aborted.)"""
    tested = {f.facts.canonical(x) for x in hostaccess.expression_identifiers(k.plan.alias_test, f.facts.lang)} \
        & kernel_names(f, k, node)  # (``pcx_a``, the rewrite's pointer into container ``a``, is ``a``)
    return bool(tested) and all(name in f.facts.held_params or (
        f.ids(st, name) and all(st.buf(b).present is not None for b in f.ids(st, name))) for name in tested)


def versioned_kernel(f: Frame, k: PlacedKernel, node: tree_sitter.Node, st: State, host_loop: HostLoop) -> State:
    """A kernel versioned for aliasing runs on the device only when the address ranges of
    its possibly overlapping pointers are disjoint, and as written on the host otherwise.
    Checked as both versions: nothing it touches may be on the device (the host version
    reads the host copies, and a region would give one buffer two names); its own maps
    are checked with each name its own buffer, which is what the run-time test
    guarantees; and its effect is the host loop's (both leave every result on the host)."""
    kid = k.plan.nest_id
    names = kernel_names(f, k, node)
    for name in sorted(names):
        if any(st.buf(b).present is not None for b in f.ids(st, name)):
            fail("PCX215", f"kernel versioned at run time (aliasing, or a private array's range) may run on "
                           f"the host while '{name}' is on the device", node, kid)
    # each name its own buffer, but for the arrays the loop body declares: every iteration's
    # own (``float acc[3] = {0};``), on the device's stack or the host's, never mapped
    inner = {declared_name(d, f.facts.data) for d in preorder(node.child_by_field_name("body"))
             if d.type in ("init_declarator", "array_declarator") and d.parent is not None
             and d.parent.type in ("declaration", "init_declarator")}
    inner -= {f.facts.canonical(a.name) for a in (k.nest.arrays if k.nest is not None else ())}
    inner -= {f.facts.canonical(sec.base) for m in k.plan.maps for sec in m.sections}
    # The test separates only the pairs it compares (NestAnalysis.alias_checks): two names
    # that may be one buffer and that it does not compare (a ``restrict`` pointer the
    # planner took at its word, TSVC's ``xx = flat_2d_array + 64``) keep a buffer in common.
    tested = {frozenset((f.facts.canonical(a), f.facts.canonical(b)))
              for a, b in (k.nest.alias_checks if k.nest is not None else ())}
    own = {n: {n} for n in names - inner}
    plain = sorted(own)
    for i, a in enumerate(plain):
        for b in plain[i + 1:]:
            if frozenset((a, b)) not in tested and f.ids(st, a) & f.ids(st, b) and not f.apart_still(st, a, b):
                own[a].add(f"{a}\0{b}")
                own[b].add(f"{a}\0{b}")
    alone = State(tuple(sorted((n, frozenset(ids)) for n, ids in own.items())), ())
    kernel(f, dataclasses.replace(k, plan=dataclasses.replace(k.plan, alias_test="")), node, alone, host_loop)
    return host_loop(node, st)
