"""The plan checker: translation validation of a data plan, separate from the planner.

The planner (``engine.dataplan``) may be clever; this module must be simple and
obviously right.  Like Alive2 for LLVM's transforms, it does not trust how a plan was
made: it walks each function's control flow with the plan's directives in place
(``target data`` regions, ``target update``s, each kernel's own maps) and tracks, per
array buffer, where its current value lives.  A buffer's state (``_Buf``) is:

- whether it is present on the device, with the section that was mapped;
- three *may* sets of sections: ``undef`` (the device copy was never defined),
  ``host_new`` (the host wrote it since the device copy was made) and ``dev_new`` (a
  kernel wrote it since the host copy was made).  Everything else is equal on both sides.

The section algebra (linear forms, boxes, may-sets) is ``engine.symsect``.  Sets only
grow by may-facts and only shrink by must-facts (a copy of an exact section, a
kernel write the analysis proves total, checked again here against the syntax), so every
state over-approximates what can really happen; loops are iterated to a fixpoint, with a
section that mentions a variable the loop changes widened to the whole array.  The walk
fails, naming one check, when:

- PCX210 a kernel reads device data that is undefined or older than the host's;
- PCX211 host code reads data whose current value is only on the device;
- PCX212 a copy to the host (``from`` at a region's or kernel's end, ``update from``)
  would overwrite newer host data or bring back undefined device data;
- PCX213 a copy to the device (``update to``) would overwrite newer device data;
- PCX214 values a kernel wrote are dropped with the device copy while the host still
  needs them (the buffer is used later or escapes the function);
- PCX215 a map would extend a mapping that is present, presence differs between paths,
  or a kernel uses an array that is neither mapped nor present;
- PCX216 the plan cannot be checked (a jump out of a region, a pointer into a mapped
  buffer stored elsewhere, section bounds that change while mapped).

``enforce(unit, analysis, plan)`` applies the verdict: a function whose plan fails loses
its data regions (kernels' own maps are correct alone, by the planner's contract) and is
checked again; a kernel that still fails stays serial.  Every such step leaves a remark
with the check's ID.  Nothing that fails the check reaches the rewriter.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import LOOP_TYPES, text_of
from pcx_driver.engine.source import walk
from pcx_driver.engine.symsect import (
    CALLER,
    RANGES,
    UNWRAP,
    WHOLE,
    Sect,
    add,
    bounded,
    contains,
    excluding,
    freeze,
    including,
    le,
    lin_node,
    lin_text,
    overlaps,
    rename,
    rename_sect,
    rename_sets,
    sect_names,
    sect_of,
    subst,
    uncaller,
    widen_sets,
)
from pcx_driver.model import (
    DataRegion,
    Decision,
    KernelPlan,
    Language,
    MapKind,
    NestAnalysis,
    Plan,
    Remark,
    Section,
    SourceUnit,
    UnitAnalysis,
)

_MAX_PASSES = 6  # loop passes before everything a loop touches is widened whole


# ------------------------------------------------------------------ abstract state


class CheckFailed(Exception):
    def __init__(self, rid: str, message: str, byte: int, kernel: str | None = None) -> None:
        super().__init__(message)
        self.rid, self.message, self.byte, self.kernel = rid, message, byte, kernel


MAYBE = "maybe"  # presence differs between paths


@dataclass(frozen=True)
class _Buf:
    present: object = None  # None, a (Section text, Sect) pair, or MAYBE
    depth: int = 0  # nesting of regions that hold it
    undef: frozenset = frozenset()
    host_new: frozenset = frozenset()
    dev_new: frozenset = frozenset()


@dataclass(frozen=True)
class _State:
    env: tuple  # sorted ((name, frozenset(buffer ids)), ...)
    bufs: tuple  # sorted ((buffer id, _Buf), ...)

    def names(self) -> dict:
        return dict(self.env)

    def buf(self, b: str) -> _Buf:
        return dict(self.bufs).get(b, _Buf())

    def set_buf(self, b: str, v: _Buf) -> "_State":
        d = dict(self.bufs)
        d[b] = _clip(v)
        return _State(self.env, tuple(sorted(d.items())))

    def bind(self, name: str, ids: frozenset) -> "_State":
        d = dict(self.env)
        d[name] = ids
        return _State(tuple(sorted(d.items())), self.bufs)


def _clip(v: _Buf) -> _Buf:
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


def _join_buf(a: _Buf, b: _Buf) -> _Buf:
    present = a.present if a.present == b.present else MAYBE
    depth = a.depth if a.depth == b.depth else -1
    return _Buf(present, depth, _union(a.undef, b.undef), _union(a.host_new, b.host_new),
                _union(a.dev_new, b.dev_new))


def _union(a: frozenset, b: frozenset) -> frozenset:
    out = a
    for s in b:
        out = including(out, s)
    return out


_MAX_ENVS = 16


def _members(st) -> tuple:
    """The states of a disjunction (one per assignment of names to buffers)."""
    if st is None:
        return ()
    return st if isinstance(st, tuple) else (st,)


def _merge(a: _State, b: _State) -> _State:
    env = dict(a.env)
    for n, ids in b.env:
        env[n] = env.get(n, frozenset()) | ids
    bufs = dict(a.bufs)
    theirs = dict(b.bufs)
    for k in set(bufs) | set(theirs):
        bufs[k] = _join_buf(bufs.get(k, _Buf()), theirs.get(k, _Buf()))
    return _State(tuple(sorted(env.items())), tuple(sorted(bufs.items())))


def _join(states: list):
    """Join states: those with the same names-to-buffers assignment merge, others stay
    apart (so pointer swaps stay exact), up to _MAX_ENVS, then everything merges."""
    by_env: dict = {}
    for st in states:
        for m in _members(st):
            by_env[m.env] = _merge(by_env[m.env], m) if m.env in by_env else m
    if not by_env:
        return None
    out = [by_env[k] for k in sorted(by_env)]
    if len(out) > _MAX_ENVS:
        merged = out[0]
        for m in out[1:]:
            merged = _merge(merged, m)
        out = [merged]
    return out[0] if len(out) == 1 else tuple(out)


# ------------------------------------------------------------------ the function walk


@dataclass
class _Kernel:
    plan: KernelPlan
    nest: NestAnalysis | None


@dataclass
class _Region:
    region: DataRegion
    buffers: list = field(default_factory=list)  # (kind, Section, frozenset ids) at entry
    # a region versioned for aliasing: the names it maps, with the buffers each named before
    rebound: dict = field(default_factory=dict)


_READ_ONLY_CALLS = frozenset(
    "printf fprintf puts fputs putchar sqrt sqrtf fabs fabsf exp expf log logf sin cos tan pow powf "
    "floor ceil fmin fmax abs labs memcmp strlen".split())
# Library functions that never offload: a buffer passed to them is host data, read and written.
_LIBC = frozenset(
    "memcpy memmove memset memcmp strcpy strncpy strcat strcmp strncmp sprintf snprintf sscanf scanf fscanf "
    "fread fwrite fgets fputs fprintf printf qsort bsearch free realloc std::copy std::fill std::sort "
    "std::memcpy std::memset std::accumulate std::min_element std::max_element".split())
_SIZE_QUERIES = frozenset({"size", "empty", "capacity", "length"})
_CONDITIONAL = frozenset({"if_statement", "conditional_expression", "switch_statement", "while_statement",
                          "do_statement", "case_statement"})


class _Walker:
    """Walks one function body with one plan, raising CheckFailed at the first problem."""

    def __init__(self, checker: "_Checker", fname: str, fnode: tree_sitter.Node) -> None:
        self.c = checker
        checker.defs = checker.definitions(fnode)
        self.data = checker.data
        self.lang = checker.lang
        self.fname = fname
        self.fnode = fnode
        self.kernels: dict[int, _Kernel] = {}
        self.before: dict[int, list] = {}  # node id -> [("region", r) | ("update", u)]
        self.ends: dict[tuple[int, int], list[DataRegion]] = {}  # (block id, end byte)
        self.at_end: dict[int, list] = {}  # block id -> updates before its closing brace
        self.open: list[_Region] = []
        self.loops: list[tuple[list, list]] = []  # (breaks, continues)
        self.returns: list[_State] = []

    # -- set-up
    def place(self, plan: Plan) -> None:
        root = self.c.root
        for k in plan.offloaded():
            if k.function != self.fname:
                continue
            node = hostaccess.statement_at(root, k.start_byte)
            if node is None or node.type not in LOOP_TYPES:
                raise CheckFailed("PCX216", "no loop statement where the kernel goes", k.start_byte, k.nest_id)
            self.kernels[node.id] = _Kernel(k, self.c.nests.get(k.nest_id))
        for r in plan.regions:
            if r.function != self.fname:
                continue
            first = hostaccess.statement_at(root, r.start_byte)
            if first is None or first.parent is None:
                raise CheckFailed("PCX216", "no statement where the data region starts", r.start_byte)
            self.before.setdefault(first.id, []).append(("region", r))
            self.ends.setdefault((first.parent.id, r.end_byte), []).append(r)
            for u in r.updates:
                if u.byte == r.end_byte:
                    continue
                node = hostaccess.statement_at(root, u.byte)
                if node is None:  # before a closing brace: the last thing in its block
                    brace = root.descendant_for_byte_range(u.byte, u.byte)
                    if brace is None or brace.type != "}" or brace.parent is None:
                        raise CheckFailed("PCX216", "no statement where a target update goes", u.byte)
                    self.at_end.setdefault(brace.parent.id, []).append(u)
                    continue
                self.before.setdefault(node.id, []).append(("update", u))

    # -- helpers
    def fail(self, rid: str, msg: str, node_or_byte, kernel: str | None = None):
        byte = node_or_byte if isinstance(node_or_byte, int) else node_or_byte.start_byte
        raise CheckFailed(rid, msg, byte, kernel)

    def ids(self, st: _State, name: str) -> frozenset:
        return st.names().get(self.c.canonical(name), frozenset())

    def line(self, byte: int) -> int:
        return self.data.count(b"\n", 0, byte) + 1

    # -- statements
    def each(self, st, fn):
        """Apply ``fn`` to every state of a disjunction and join the results."""
        if st is None:
            return None
        if not isinstance(st, tuple):
            return fn(st)
        return _join([fn(m) for m in st])

    def run(self, node: tree_sitter.Node, st):
        if st is None:
            return None
        if isinstance(st, tuple):
            return self.each(st, lambda m: self.run(node, m))
        for kind, item in self.before.get(node.id, ()):
            if kind == "update":
                st = self.update(item.direction, item.sections, st, node)
        if node.id in self.kernels:
            return self.kernel(self.kernels[node.id], node, st)
        t = node.type
        if t == "compound_statement":
            for child in node.named_children:
                for kind, item in self.before.get(child.id, ()):
                    if kind == "region":
                        st = self.enter_region(item, st, child)
                st = self.run(child, st)
                for r in self.ends.get((node.id, child.end_byte), ()):
                    st = self.leave_region(r, st, child)
            for u in self.at_end.get(node.id, ()):
                st = self.each(st, lambda m, u=u: self.update(u.direction, u.sections, m, node))
            return st
        if t == "if_statement":
            st = self.host(node.child_by_field_name("condition"), st)
            then = self.run(node.child_by_field_name("consequence"), st)
            alt = node.child_by_field_name("alternative")
            if alt is not None:
                body = alt.named_children[-1] if alt.type == "else_clause" else alt
                return _join([then, self.run(body, st)])
            return _join([then, st])
        if t in ("for_statement", "while_statement", "do_statement", "for_range_loop"):
            return self.loop(node, st)
        if t == "switch_statement":
            return self.switch(node, st)
        if t in ("break_statement", "continue_statement"):
            if not self.loops:
                return None
            self.loops[-1][0 if t == "break_statement" else 1].append(st)
            return None
        if t == "return_statement":
            st = self.host(node, st)
            if st is not None and self.open:
                self.fail("PCX216", "a return leaves a data region", node)
            self.returns.append(st)
            return None
        if t in ("goto_statement", "labeled_statement") and (self.kernels or self.before):
            self.fail("PCX216", "goto or label in a function with device code", node)
        if t == "labeled_statement":
            return self.run(node.named_children[-1], st)
        return self.host(node, st)

    def switch(self, node: tree_sitter.Node, st: _State) -> _State | None:
        st = self.host(node.child_by_field_name("condition"), st)
        body = node.child_by_field_name("body")
        self.loops.append(([], []))
        cur: _State | None = None
        for case in body.named_children if body is not None else ():
            cur = _join([cur, st])
            stmts = case.named_children[1:] if case.type == "case_statement" and case.child_by_field_name("value") else case.named_children
            for s in stmts if case.type == "case_statement" else [case]:
                cur = self.run(s, cur)
        breaks, conts = self.loops.pop()
        if conts:
            self.loops[-1][1].extend(conts) if self.loops else None
        return _join([cur, st, *breaks])

    def loop(self, node: tree_sitter.Node, st: _State) -> _State | None:
        """A loop to a fixpoint: the head state joins the entry and every back edge, with
        sections that mention what the loop changes widened; checks run on each pass."""
        t = node.type
        changed = self.c.assigned(node)
        if t == "for_statement":
            init = node.child_by_field_name("initializer")
            st = self.host(init, st) if init is not None else st
        head = self.widen(st, changed)
        body = node.child_by_field_name("body")
        cond = node.child_by_field_name("condition")
        upd = node.child_by_field_name("update")
        ranges = self.c.index_range(node)
        # a counted loop whose bounds show it runs at least once never exits from its entry
        once = t == "do_statement" or any(le(lo, hi) for lo, hi in ranges.values())
        back = None
        exit_states: list = []
        for i in range(_MAX_PASSES + 1):
            if i == _MAX_PASSES:
                head = self.widen(head, None)
            self.loops.append(([], []))
            s = head
            if t != "do_statement":
                s = self.host(cond, s) if cond is not None else s
            RANGES.append(ranges)
            try:
                s = self.run(body, s)
            finally:
                RANGES.pop()
            breaks, conts = self.loops.pop()
            s = _join([s, *conts])
            if t == "do_statement" and s is not None and cond is not None:
                s = self.host(cond, s)
            if upd is not None and s is not None:
                s = self.host(upd, s)
            after = self.widen(s, changed) if s is not None else None
            back = _join([back, after])
            new_head = _join([head, after])
            exit_states = [back if once else head, *breaks] if t != "do_statement" else [s, *breaks]
            if new_head == head:
                break
            head = new_head
        return _join(exit_states)

    def widen(self, st, names: set[str] | None):
        if isinstance(st, tuple):
            return self.each(st, lambda m: self.widen(m, names))
        bufs = []
        for b, v in st.bufs:
            if names is None:
                bufs.append((b, dataclasses.replace(v, undef=_whole(v.undef), host_new=_whole(v.host_new),
                                                    dev_new=_whole(v.dev_new))))
            else:
                bufs.append((b, dataclasses.replace(v, undef=widen_sets(v.undef, names),
                                                    host_new=widen_sets(v.host_new, names),
                                                    dev_new=widen_sets(v.dev_new, names))))
        return _State(st.env, tuple((b, _clip(v)) for b, v in bufs))

    # -- directives
    def enter_region(self, r: DataRegion, st, node):
        if st is None:
            self.open.append(_Region(r))
            return None
        entry = _Region(r)
        if r.alias_test:
            if isinstance(st, tuple):  # one binding of names to buffers per path: not followed
                self.fail("PCX216", "region versioned for aliasing where pointers may name other memory", node)
            st = self.unalias(r, st, entry, node)

        def enter(m_st: _State) -> _State:
            for m in r.maps:
                for sec in m.sections:
                    ids = self.ids(m_st, sec.base)
                    if not ids:
                        self.fail("PCX216", f"region maps '{sec.base}', which the checker cannot follow", node)
                    entry.buffers.append((m.kind, sec, ids))
                    for b in ids:
                        m_st = m_st.set_buf(b, self.map_enter(m_st.buf(b), m.kind, sec, node))
            return m_st

        st = self.each(st, enter)
        self.open.append(entry)
        return st

    def map_enter(self, v: _Buf, kind: MapKind, sec: Section, node) -> _Buf:
        s = sect_of(sec, self.lang, self.c.defs)
        if v.present is MAYBE or v.depth < 0:
            self.fail("PCX215", f"'{sec.base}' may or may not be on the device here", node)
        if v.present is not None:
            self.contained(v, sec, s, node)
            return dataclasses.replace(v, depth=v.depth + 1)
        undef = frozenset([s]) if kind in (MapKind.FROM, MapKind.ALLOC) else frozenset()
        return _Buf((sec.render(), s), 1, undef, frozenset(), frozenset())

    def contained(self, v: _Buf, sec: Section, s: Sect, node) -> None:
        text, have = v.present
        if sec.render() == text or (have != WHOLE and s != WHOLE and contains(have, s)
                                    and all(d != (None, None) for d in have)):
            return
        if text == "\0caller":  # an extension here aborts the run (never a wrong answer)
            return
        self.fail("PCX215", f"map of {sec.render()} may extend the present mapping {text}", node)

    def leave_region(self, r: DataRegion, st: _State, last) -> _State:
        if not self.open or self.open[-1].region is not r:
            self.fail("PCX216", "data regions do not nest", last)
        for u in r.updates:
            if u.byte == r.end_byte:
                st = self.each(st, lambda m, u=u: self.update(u.direction, u.sections, m, last))
        entry = self.open.pop()
        held = set().union(*(b for _, _, b in entry.buffers)) if entry.buffers else set()

        variants: dict[str, set] = {}  # buffer -> the (kind, section) maps that took it
        for kind, sec, ids in entry.buffers:
            for b in ids:
                variants.setdefault(b, set()).add((kind, sec.render(), sec.base, tuple(map(tuple, sec.dims))))

        def leave(m_st: _State) -> _State:
            for _, sec, _ in entry.buffers:
                if not self.ids(m_st, sec.base) <= held:
                    self.fail("PCX216", f"'{sec.base}' names other memory at the end of its region", last)
            for b, ways in sorted(variants.items()):
                holders = [n for n, ids in m_st.env if b in ids]
                outs = [self.map_exit(m_st.buf(b), kind, Section(base, [tuple(d) for d in dims]), last, b, None, holders)
                        for kind, _, base, dims in sorted(ways, key=str)]
                v = outs[0]
                for o in outs[1:]:
                    v = _join_buf(v, o)
                m_st = m_st.set_buf(b, v)
            return m_st

        st = self.each(st, leave)
        if entry.rebound:  # past the region its names may be one array again
            st = self.each(st, lambda m_st: functools.reduce(lambda a, kv: a.bind(*kv), entry.rebound.items(), m_st))
        return st

    def unalias(self, r: DataRegion, st: _State, entry: _Region, node) -> _State:
        """Entering a region versioned for aliasing (``DataRegion.alias_test``): its
        statements run as written on the host unless the sections it maps are pairwise
        disjoint, so on the device path each name it maps is its own buffer.  Nothing it
        maps may be on the device already (the host path reads the host copies)."""
        for m in r.maps:
            for sec in m.sections:
                ids = self.ids(st, sec.base)
                if any(st.buf(b).present is not None for b in ids):
                    self.fail("PCX215", f"region versioned for aliasing starts while '{sec.base}' is on the device", node)
                entry.rebound.setdefault(sec.base, ids)
        for name in entry.rebound:
            st = st.bind(name, frozenset([name]))
        return st

    def map_exit(self, v: _Buf, kind: MapKind, sec: Section, node, b: str,
                 kernel: str | None = None, holders: list[str] | None = None) -> _Buf:
        """Leave the device (or drop one reference); ``holders``: the names that point
        to buffer ``b`` now, whose later uses make its device results needed."""
        if v.present is MAYBE or v.depth < 0:
            self.fail("PCX215", f"'{sec.base}' may or may not be on the device here", node, kernel)
        if v.present is None:
            self.fail("PCX216", f"'{sec.base}' leaves the device twice", node, kernel)
        if v.depth > 1:
            return dataclasses.replace(v, depth=v.depth - 1)
        s = sect_of(sec, self.lang, self.c.defs)
        dev_new = v.dev_new
        if kind in (MapKind.FROM, MapKind.TOFROM):
            if overlaps(v.host_new, s):
                self.fail("PCX212", f"copying {sec.render()} back overwrites newer host data", node, kernel)
            if overlaps(v.undef, s):
                self.fail("PCX212", f"copying {sec.render()} back brings undefined device data to the host", node, kernel)
            dev_new = _cut(dev_new, s, sec, v)
        if dev_new and any(self.c.live_after(n, node.end_byte, self.fnode) for n in holders or [b]):
            self.fail("PCX214", f"device results in '{sec.base}' are dropped while the host still uses it", node, kernel)
        return _Buf()

    def update(self, direction: str, sections: list[Section], st: _State, node) -> _State:
        for sec in sections:
            s = sect_of(sec, self.lang, self.c.defs)
            ids = self.ids(st, sec.base)
            if not ids:
                self.fail("PCX216", f"update of '{sec.base}', which the checker cannot follow", node)
            for b in ids:
                v = st.buf(b)
                if v.present is MAYBE:
                    self.fail("PCX215", f"'{sec.base}' may or may not be on the device at the update", node)
                if v.present is None:
                    continue  # not present: OpenMP ignores the update
                # An update section always comes from a host access, so it cannot reach
                # past the array; past the mapped section libomptarget stops the run
                # ("explicit extension not allowed"), it never computes a wrong answer.
                if direction == "to":
                    if overlaps(v.dev_new, s):
                        self.fail("PCX213", f"update to({sec.render()}) overwrites newer device data", node)
                    if len(ids) == 1:
                        v = dataclasses.replace(v, undef=_cut(v.undef, s, sec, v), host_new=_cut(v.host_new, s, sec, v))
                else:
                    if overlaps(v.host_new, s):
                        self.fail("PCX212", f"update from({sec.render()}) overwrites newer host data", node)
                    if overlaps(v.undef, s):
                        self.fail("PCX212", f"update from({sec.render()}) brings undefined device data to the host", node)
                    if len(ids) == 1:
                        v = dataclasses.replace(v, dev_new=_cut(v.dev_new, s, sec, v))
                st = st.set_buf(b, v)
        return st

    # -- kernels
    def kernel(self, k: _Kernel, node: tree_sitter.Node, st: _State) -> _State:
        if k.plan.alias_test and not any(e.region.alias_test for e in self.open):
            if not (k.plan.alias_read_only and self.holds_any(k, node, st)):
                return self.versioned_kernel(k, node, st)  # (inside a versioned region: its test covers it)
            # pairs only read, data held by a region: the rewrite drops the test (rewrite.held_by_regions),
            # and the kernel is checked as it then runs, on the device with its maps found present
            k = dataclasses.replace(k, plan=dataclasses.replace(k.plan, alias_test=""))
        kid = k.plan.nest_id
        reads, writes, sure = self.c.kernel_accesses(k, node)
        maps: dict[str, list] = {}
        for m in k.plan.maps:
            for sec in m.sections:
                maps.setdefault(self.c.canonical(sec.base), []).append((m.kind, sec))
        touched = {self.c.canonical(n) for n in reads} | {self.c.canonical(n) for n in writes}
        mapped = sorted(maps)
        for i, a in enumerate(mapped):  # one array under two names in one construct: a
            for b in mapped[i + 1:]:    # global's own device copy, or sections that overlap
                if not self.ids(st, a) & self.ids(st, b):
                    continue            # without one holding the other, are two arrays
                sa = [sect_of(sec, self.lang, self.c.defs) for _, sec in maps[a]]
                sb = [sect_of(sec, self.lang, self.c.defs) for _, sec in maps[b]]
                if a not in writes and b not in writes:  # only read: the same section is found
                    if not all(x == y and bounded(x) for x in sa for y in sb):  # present, any other
                        self.fail("PCX215", f"'{a}' and '{b}' may be one array, read through two "  # may extend it
                                            "sections by this kernel", node, kid)
                    continue
                nested = all(contains(x, y) or contains(y, x) for x in sa for y in sb
                             if bounded(x) and bounded(y)) and all(bounded(x) for x in sa + sb)
                if re.split(r"\.|->", a)[0] in self.c.file_scope or re.split(r"\.|->", b)[0] in self.c.file_scope \
                        or not nested:
                    self.fail("PCX215", f"'{a}' and '{b}' may be one array, mapped twice by this kernel", node, kid)
        if k.plan.work_expr and k.plan.min_work > 0:  # if(target: ...) may run it on the host
            for name in sorted(touched | set(maps)):
                if any(st.buf(b).present is not None for b in self.ids(st, name)):
                    self.fail("PCX215", f"kernel guarded by if(target: ...) may run on the host while '{name}' "
                                        "is on the device", node, kid)
        # entry: the kernel's own maps, in the order the rewriter emits the clauses, which is
        # the order libomptarget maps them in (a section mapped after a longer one of the same
        # array is a lookup; mapped before it, the longer one would extend it)
        for name in list(maps) + sorted(touched - set(maps)):
            ids = self.ids(st, name)
            if not ids:
                if name in maps:
                    self.fail("PCX216", f"kernel maps '{name}', which the checker cannot follow", node, kid)
                continue
            for b in ids:
                v = st.buf(b)
                if v.present is MAYBE:
                    self.fail("PCX215", f"'{name}' may or may not be on the device at this kernel", node, kid)
                if v.present is None and name not in maps and name in touched:
                    self.fail("PCX215", f"kernel uses '{name}', which is neither mapped nor present", node, kid)
                for kind, sec in maps.get(name, ()):
                    v = self.map_enter(v, kind, sec, node)
                st = st.set_buf(b, v)
        # body
        for name, secs in reads.items():
            for b in self.ids(st, self.c.canonical(name)):
                v = st.buf(b)
                for s in secs:
                    if overlaps(v.undef, s):
                        self.fail("PCX210", f"kernel reads '{name}' where the device copy is undefined", node, kid)
                    if overlaps(v.host_new, s):
                        self.fail("PCX210", f"kernel reads '{name}' where the host has newer values", node, kid)
        for name, secs in writes.items():
            ids = self.ids(st, self.c.canonical(name))
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
            ids = self.ids(st, name)
            for b in ids:
                v = st.buf(b)
                holders = [n for n, i in st.env if b in i]
                for kind, sec in reversed(entries):
                    v = self.map_exit(v, kind, sec, node, b, kid, holders)
                st = st.set_buf(b, v)
        return self.widen(st, self.c.assigned(node) & self.c.scalars_written_by(k))

    def kernel_names(self, k: _Kernel, node: tree_sitter.Node) -> set[str]:
        """The names kernel ``k`` touches or maps, canonical."""
        reads, writes, _ = self.c.kernel_accesses(k, node)
        names = {self.c.canonical(n) for n in [*reads, *writes]}
        return names | {self.c.canonical(sec.base) for m in k.plan.maps for sec in m.sections}

    def holds_any(self, k: _Kernel, node: tree_sitter.Node, st: _State) -> bool:
        """Whether something kernel ``k`` touches or maps is on the device in ``st``."""
        return any(st.buf(b).present is not None for name in self.kernel_names(k, node) for b in self.ids(st, name))

    def versioned_kernel(self, k: _Kernel, node: tree_sitter.Node, st: _State) -> _State:
        """A kernel versioned for aliasing runs on the device only when the address ranges of
        its possibly overlapping pointers are disjoint, and as written on the host otherwise.
        Checked as both versions: nothing it touches may be on the device (the host version
        reads the host copies, and a region would give one buffer two names); its own maps
        are checked with each name its own buffer, which is what the run-time test
        guarantees; and its effect is the host loop's (both leave every result on the host)."""
        kid = k.plan.nest_id
        names = self.kernel_names(k, node)
        for name in sorted(names):
            if any(st.buf(b).present is not None for b in self.ids(st, name)):
                self.fail("PCX215", f"kernel versioned for aliasing may run on the host while '{name}' is on the device",
                          node, kid)
        alone = _State(tuple(sorted((n, frozenset([n])) for n in names)), ())
        self.kernel(dataclasses.replace(k, plan=dataclasses.replace(k.plan, alias_test="")), node, alone)
        return self.loop(node, st)

    # -- host code
    def host(self, node: tree_sitter.Node | None, st):
        if node is None or st is None:
            return st
        if isinstance(st, tuple):
            return self.each(st, lambda m: self.host(node, m))
        for kind, name, sect, sure, at in self.c.host_accesses(node, st):
            if kind == "bind":
                st = st.bind(name, sect)
                continue
            if kind == "swap":
                one, other = self.ids(st, name), self.ids(st, sect)
                st = st.bind(name, other).bind(sect, one)
                continue
            for b in self.ids(st, name) if kind != "alias" else ():
                v = st.buf(b)
                if v.present is None:
                    continue
                if v.present is MAYBE:
                    self.fail("PCX215", f"'{name}' may or may not be on the device at line {self.line(at)}", at)
                if kind in ("read", "write") and any(e.region.alias_test for e in self.open) and not (
                        isinstance(v.present, tuple) and contains(v.present[1], sect)):
                    # the region's test proved only its mapped sections disjoint
                    self.fail("PCX216", f"host code at line {self.line(at)} uses '{name}' beyond its mapped section, "
                                        "inside a region versioned for aliasing", at)
                if kind == "read":
                    if overlaps(v.dev_new, sect):
                        self.fail("PCX211", f"host code at line {self.line(at)} reads '{name}', whose current value is on the device", at)
                elif kind == "write":
                    v = dataclasses.replace(v, host_new=including(v.host_new, sect))
                    if sure and len(self.ids(st, name)) == 1:
                        v = dataclasses.replace(v, dev_new=excluding(v.dev_new, sect))
                    st = st.set_buf(b, v)
                elif kind == "extern":
                    self.fail("PCX216", f"'{name}' is passed at line {self.line(at)} to '{sect}', defined in another "
                                        "file, while it is on the device (its kernels would find it there)", at)
                elif kind == "call":
                    st = st.set_buf(b, self.c.callee_effect(sect[0], sect[1], sect[2], v, at))
                elif kind == "escape":
                    self.fail("PCX216", f"a pointer into mapped '{name}' is stored at line {self.line(at)}", at)
        changed = self.c.assigned(node)
        for entry in self.open:
            for _, sec, _ in entry.buffers:
                if sect_names(sect_of(sec, self.lang, self.c.defs)) & changed or (sec.base in changed and False):
                    self.fail("PCX216", f"the bounds of mapped {sec.render()} change inside its region", node)
        for b, v in st.bufs:
            if v.present not in (None, MAYBE) and sect_names(v.present[1]) & changed:
                self.fail("PCX216", f"the bounds of mapped {v.present[0]} change while it is on the device", node)
        return self.widen(st, changed)


def _cut(sets: frozenset, s: Sect, sec: Section, v: _Buf) -> frozenset:
    """``sets`` after a copy of ``s``.  Every section in a buffer's sets comes from an
    access of the (well-defined) program, so it lies within the present section: a copy
    of the whole present section clears them all."""
    if isinstance(v.present, tuple):
        text, have = v.present
        if sec.render() == text or (bounded(have) and bounded(s) and contains(s, have)):
            return frozenset()
    return excluding(sets, s)


def _whole(sets: frozenset) -> frozenset:
    return frozenset([WHOLE]) if sets else sets


# ------------------------------------------------------------------ syntax facts


class _Checker:
    """Per-unit facts the walk needs: names, kernels' accesses, host accesses, liveness."""

    def __init__(self, unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan) -> None:
        self.unit = unit
        self.data = unit.data
        self.lang = Language.C if unit.language is Language.C else Language.CXX
        self.root = hostaccess.parse(self.data, self.lang).root_node
        self.nests = {n.nest_id: n for n in analysis.nests()} if analysis is not None else {}
        self.plan = plan
        self.aliases = {lp.name: lp.container for lp in plan.local_pointers}
        self._device_functions: set[str] | None = None
        self.defs: dict = {}  # the current function's fixed linear definitions
        self.depth = 0
        self.file_scope: set[str] = set()
        for child in self.root.named_children:
            if child.type == "declaration":
                quals = {text_of(self.data, c) for c in child.children if c.type == "type_qualifier"}
                if quals & {"const", "constexpr"}:
                    continue  # a constant: no call can change it
                for d in child.named_children:
                    n = _declared_name(d, self.data)
                    if n:
                        self.file_scope.add(n)

    def canonical(self, name: str) -> str:
        name = name.replace(" ", "")
        return self.aliases.get(name, name)

    # names ------------------------------------------------------------
    def track(self, fnode: tree_sitter.Node, plan: Plan, fname: str) -> set[str]:
        names: set[str] = set()
        for k in plan.offloaded():
            if k.function != fname:
                continue
            for m in k.maps:
                names.update(self.canonical(s.base) for s in m.sections)
            nest = self.nests.get(k.nest_id)
            for a in nest.arrays if nest is not None else ():
                names.add(self.canonical(a.name))
        for r in plan.regions:
            if r.function == fname:
                for m in r.maps:
                    names.update(self.canonical(s.base) for s in m.sections)
                for u in r.updates:
                    names.update(self.canonical(s.base) for s in u.sections)
        # pointers that take the value of a tracked pointer follow it (swaps), and what a
        # tracked pointer takes its value from (``nxt = bufB``: bufB is that buffer's name too)
        changed = True
        while changed:
            changed = False
            for lhs, rhs in _pointer_copies(fnode, self.data):
                for a, b in ((lhs, rhs), (rhs, lhs)):
                    if b in names and a not in names:
                        names.add(a)
                        changed = True
        return names

    def index_range(self, loop: tree_sitter.Node) -> dict:
        """{index: (lo, hi)} (inclusive, linear) inside the body of a counted ``for``
        whose index and bounds the body does not change; {} otherwise."""
        if loop.type != "for_statement":
            return {}
        init, cond, upd = (loop.child_by_field_name(f) for f in ("initializer", "condition", "update"))
        if init is None or cond is None or upd is None or cond.type != "binary_expression":
            return {}
        if init.type == "declaration":
            decls = [c for c in init.named_children if c.type == "init_declarator"]
            if len(decls) != 1:
                return {}
            name, start = _declared_name(decls[0], self.data), decls[0].child_by_field_name("value")
        elif init.type == "assignment_expression" and init.child_by_field_name("left").type == "identifier":
            name, start = text_of(self.data, init.child_by_field_name("left")), init.child_by_field_name("right")
        else:
            return {}
        left, right, op = (cond.child_by_field_name(f) for f in ("left", "right", "operator"))
        if not name or left is None or right is None or op is None or text_of(self.data, left) != name:
            return {}
        step = text_of(self.data, upd).replace(" ", "")
        up = step in (f"{name}++", f"++{name}") or step.startswith(f"{name}+=")
        down = step in (f"{name}--", f"--{name}") or step.startswith(f"{name}-=")
        first, bound = lin_node(start, self.data), lin_node(right, self.data)
        if first is None or bound is None or not (up or down):
            return {}
        first, bound = subst(freeze(first), self.defs), subst(freeze(bound), self.defs)
        changed = self.assigned(loop.child_by_field_name("body"), calls=True)
        if name in changed or (sect_names(((first, bound),)) & changed):
            return {}
        one = ((((), 1),))
        edge = {"<": add(bound, one, -1), "<=": bound, ">": add(bound, one), ">=": bound}.get(op.type)
        if edge is None:
            return {}
        if up and op.type in ("<", "<="):
            return {name: (first, edge)}
        if down and op.type in (">", ">="):
            return {name: (edge, first)}
        return {}

    def definitions(self, fnode: tree_sitter.Node) -> dict:
        """Locals declared once with a linear initialiser and never changed
        (``size_t nn = (size_t)n * n;``): sections may name them or their value."""
        body = fnode.child_by_field_name("body")
        changed: dict[str, int] = {}
        inits: dict = {}
        for n in _walk(body):
            if n.type == "init_declarator":
                name = _declared_name(n, self.data)
                form = lin_node(n.child_by_field_name("value"), self.data)
                if name:
                    changed[name] = changed.get(name, 0) + 1
                    if form is not None and n.child_by_field_name("declarator").type == "identifier":
                        inits[name] = freeze(form)
        for name in self.assigned(body, calls=False):
            changed[name] = changed.get(name, 0) + 10
        for n in _walk(body):  # ``std::vector<T> v(count);``: v.size() is count
            if n.parent is None or n.parent.type != "declaration" or \
                    "vector" not in text_of(self.data, n.parent.child_by_field_name("type")):
                continue
            form, name = None, None
            if n.type == "init_declarator" and n.named_children and n.named_children[-1].type == "argument_list":
                args = n.named_children[-1].named_children
                name = _declared_name(n, self.data)
                form = freeze(lin_node(args[0], self.data) or {}) if len(args) >= 1 and lin_node(args[0], self.data) else None
            elif n.type == "function_declarator":  # the most vexing parse: v(a * b)
                inner, params = n.child_by_field_name("declarator"), n.child_by_field_name("parameters")
                name = text_of(self.data, inner) if inner is not None and inner.type == "identifier" else None
                text = text_of(self.data, params)[1:-1] if params is not None else ""
                form = lin_text(text, Language.CXX) if text and "," not in text else None
            if name and form is not None:
                key = f"{name}.size()"
                changed[key] = changed.get(key, 0) + 1
                inits[key] = form
        defs = {k: v for k, v in inits.items() if changed.get(k) == 1}
        for _ in range(3):  # definitions in terms of earlier definitions
            defs = {k: subst(v, {d: f for d, f in defs.items() if d != k}) for k, v in defs.items()}
        return defs

    def assigned(self, node: tree_sitter.Node, calls: bool = True) -> set[str]:
        """Variables (and member chains) that ``node`` may change."""
        out: set[str] = set()
        for n in _walk(node):
            t = n.type
            if t == "assignment_expression":
                left = n.child_by_field_name("left")
                if left is not None and left.type in ("identifier", "field_expression"):
                    out.add(text_of(self.data, left).replace(" ", ""))
            elif t == "update_expression":
                arg = n.child_by_field_name("argument")
                if arg is not None and arg.type in ("identifier", "field_expression"):
                    out.add(text_of(self.data, arg).replace(" ", ""))
            elif t == "init_declarator" and calls:
                d = _declared_name(n, self.data)
                if d:
                    out.add(d)
            elif t == "pointer_expression" and text_of(self.data, n).startswith("&"):
                arg = n.child_by_field_name("argument")
                if arg is not None and arg.type in ("identifier", "field_expression"):
                    out.add(text_of(self.data, arg).replace(" ", ""))
            elif t == "call_expression" and calls:
                out.update(self.file_scope)
        return out

    def scalars_written_by(self, k: _Kernel) -> set[str]:
        return {r.variable for r in k.plan.reductions} | set(k.plan.private)

    # kernels ------------------------------------------------------------
    def kernel_accesses(self, k: _Kernel, node: tree_sitter.Node):
        """(reads, writes, surely_written) per array name, as sections.  The analysis
        gives sections; the syntax of the nest is the check: an array the syntax sees
        written that the analysis does not, is read and written whole; a write counts
        as total only if the analysis says so and no write of it sits under a
        condition or a jump."""
        syn_reads, syn_writes, guarded, members = _syntactic_accesses(node, self.data)
        jumps = any(n.type in ("break_statement", "return_statement", "goto_statement", "continue_statement")
                    for n in _walk(node))
        reads: dict[str, list] = {}
        writes: dict[str, list] = {}
        sure: set[str] = set()
        known: dict[str, object] = {}
        for a in k.nest.arrays if k.nest is not None else ():
            name = self.canonical(a.name)
            known[name] = a
            s = sect_of(a.section, self.lang, self.defs)
            if a.read or (a.written and not a.written_fully):
                reads.setdefault(name, []).append(s)
            if a.written:
                writes.setdefault(name, []).append(s)
                # written member by member: whole only if the syntax assigns every member
                whole = name not in members or (a.element_fields and members[name] >= set(a.element_fields))
                if a.written_fully and a.exact and not jumps and name not in guarded and whole:
                    sure.add(name)
        for name in syn_reads | syn_writes:
            name = self.canonical(name)
            a = known.get(name)
            if a is None or (name in syn_writes and not a.written):
                reads.setdefault(name, []).append(WHOLE)
                if name in syn_writes:
                    writes.setdefault(name, []).append(WHOLE)
                sure.discard(name)
        return reads, writes, sure

    # host code ------------------------------------------------------------
    def host_accesses(self, node: tree_sitter.Node, st: _State):
        """(kind, name, section, sure, byte) for every use of a tracked name in ``node``,
        in evaluation order: reads before the write of the same statement."""
        out: list = []
        names = st.names()
        writes: list = []
        for n in _walk(node):
            t = n.type
            if t == "call_expression":
                fn = n.child_by_field_name("function")
                callee = text_of(self.data, fn) if fn is not None else ""
                if callee in self.device_functions():
                    cnode = _function_named(self.data, self.lang, callee)
                    used = hostaccess.identifiers_in(cnode, self.data) if cnode is not None else set()
                    for g in sorted(self.file_scope & used & set(names)):
                        args = n.child_by_field_name("arguments")
                        out.append(("call", g, (callee, g, self.argument_forms(args)), False, n.start_byte))
                continue
            if t not in ("identifier", "field_expression"):
                continue
            text = self.canonical(text_of(self.data, n))
            if text not in names:
                continue
            if n.parent is not None and n.parent.type == "field_expression" and n.parent.child_by_field_name("field") == n:
                continue
            self.classify(n, text, names, out, writes)
        return out + writes

    def classify(self, n: tree_sitter.Node, name: str, names: dict, out: list, writes: list) -> None:
        data = self.data
        p = n.parent
        # climb subscripts: a[i][j]
        top = n
        idx: list[tree_sitter.Node] = []
        while top.parent is not None and top.parent.type == "subscript_expression" and \
                top.parent.child_by_field_name("argument") == top:
            top = top.parent
            i = top.child_by_field_name("index")
            if i is None:  # tree-sitter-cpp: subscript_argument_list
                args = [c for c in top.named_children if c.type == "subscript_argument_list"]
                i = args[0].named_children[0] if args and args[0].named_children else None
            idx.append(i)
        sect = WHOLE
        if idx:
            dims = []
            for i in idx:
                form = lin_node(i, data) if i is not None else None
                form = None if form is None else subst(freeze(form), self.defs)
                dims.append((None, None) if form is None else (form, add(form, ((((), 1),)))))
            sect = tuple(dims) if any(d != (None, None) for d in dims) else WHOLE
        parent = top.parent
        at = n.start_byte
        if idx:
            # element access: written when it is the target of an assignment or ++/--
            while parent is not None and parent.type in ("field_expression", "parenthesized_expression") and \
                    parent.child_by_field_name("field") != top:
                top, parent = parent, parent.parent
                sect = sect  # a member of the element: the element is touched
            if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("left") == top:
                op = parent.child_by_field_name("operator")
                if op is not None and op.type != "=":
                    out.append(("read", name, sect, False, at))
                writes.append(("write", name, sect, top == n or top.type == "subscript_expression", at))
                return
            if parent is not None and parent.type == "update_expression":
                out.append(("read", name, sect, False, at))
                writes.append(("write", name, sect, True, at))
                return
            if parent is not None and parent.type == "pointer_expression" and text_of(data, parent).startswith("&"):
                self.pointer_use(parent, name, names, out, writes)
                return
            out.append(("read", name, sect, False, at))
            return
        # the pointer or array itself
        if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("left") == n:
            right = _strip(parent.child_by_field_name("right"))
            rname = self.canonical(text_of(data, right)) if right is not None else ""
            out.append(("bind", name, names.get(rname, frozenset([f"{name}@{n.start_byte}"])), False, at))
            return
        owner = _declaration_of(n)
        if owner is not None:  # ``T *name = value;`` or ``T name[N];``
            value = _strip(owner.child_by_field_name("value")) if owner.type == "init_declarator" else None
            rname = self.canonical(text_of(data, value)) if value is not None else ""
            out.append(("bind", name, names.get(rname, frozenset([f"{name}@{n.start_byte}"])), False, at))
            return
        if parent is not None and parent.type == "field_expression" and parent.child_by_field_name("argument") == n:
            field = parent.child_by_field_name("field")
            method = text_of(data, field) if field is not None else ""
            if method in _SIZE_QUERIES:
                return
            if method == "data" and parent.parent is not None and parent.parent.type == "call_expression":
                self.pointer_use(parent.parent, name, names, out, writes)  # ``v.data()`` is v's buffer
                return
            out.append(("read", name, WHOLE, False, at))  # a container's other members
            writes.append(("write", name, WHOLE, False, at))
            return
        if parent is not None and parent.type in ("sizeof_expression", "delete_expression"):
            return
        if parent is not None and parent.type == "pointer_expression" and text_of(data, parent).startswith("*"):
            sect = ((freeze({(): 0}), freeze({(): 1})),)
            gp = parent.parent
            if gp is not None and gp.type == "assignment_expression" and gp.child_by_field_name("left") == parent:
                writes.append(("write", name, sect, True, at))
            else:
                out.append(("read", name, sect, False, at))
            return
        self.pointer_use(n, name, names, out, writes)

    def pointer_use(self, n: tree_sitter.Node, name: str, names: dict, out: list, writes: list) -> None:
        """The array's address is used: passed to a call, stored, compared, offset."""
        data = self.data
        at = n.start_byte
        cur = n
        while cur.parent is not None and cur.parent.type in ("parenthesized_expression", "cast_expression", "binary_expression"):
            if cur.parent.type == "binary_expression":
                op = cur.parent.child_by_field_name("operator")
                if op is not None and op.type in ("==", "!=", "<", ">", "<=", ">="):
                    return  # pointer comparison (a null test)
            cur = cur.parent
        parent = cur.parent
        if parent is not None and parent.type == "init_declarator" and parent.child_by_field_name("value") == cur:
            if self.canonical(_declared_name(parent, data) or "") in names:
                return  # the declared pointer follows this buffer (a bind)
        if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("right") == cur:
            left = parent.child_by_field_name("left")
            if left is not None and self.canonical(text_of(data, left)) in names:
                return
        if parent is not None and parent.type == "argument_list":
            call = parent.parent
            fn = call.child_by_field_name("function") if call is not None else None
            fname = text_of(data, fn) if fn is not None else ""
            if fname == "free":
                return

            if fname in ("std::swap", "swap") and len(parent.named_children) == 2:
                a, b = (self.canonical(text_of(data, c)) for c in parent.named_children)
                if a in names and b in names:
                    if cur.id == parent.named_children[0].id:  # once per call
                        out.append(("swap", a, b, False, at))
                    return
            if fname in self.device_functions():
                out.append(("call", name, (fname, [c.id for c in parent.named_children].index(cur.id),
                                           self.argument_forms(parent)), False, at))
                return
            if fname in _READ_ONLY_CALLS or self.read_only_param(fname, parent, cur):
                out.append(("read", name, WHOLE, False, at))
                return
            if fname not in _LIBC and _function_named(self.data, self.lang, fname) is None:
                out.append(("extern", name, fname, False, at))  # may offload with our data present
            out.append(("read", name, WHOLE, False, at))
            writes.append(("write", name, WHOLE, False, at))
            return
        if parent is not None and parent.type in ("if_statement", "while_statement", "condition_clause",
                                                  "unary_expression", "return_statement"):
            if parent.type == "return_statement":
                out.append(("read", name, WHOLE, False, at))
            return
        out.append(("escape", name, WHOLE, False, at))

    def device_functions(self) -> set[str]:
        """Functions with offloaded kernels, and every function of the unit that calls one."""
        if self._device_functions is None:
            found = {k.function for k in self.plan.offloaded()} | {r.function for r in self.plan.regions}
            bodies = {}
            for n in _walk(self.root):
                if n.type == "function_definition":
                    name = _function_name(n, self.data)
                    if name:
                        bodies[name] = n
            grew = True
            while grew:
                grew = False
                for name, fnode in bodies.items():
                    if name in found:
                        continue
                    for c in _walk(fnode):
                        fn = c.child_by_field_name("function") if c.type == "call_expression" else None
                        if fn is not None and text_of(self.data, fn) in found:
                            found.add(name)
                            grew = True
                            break
            self._device_functions = found
        return self._device_functions

    def argument_forms(self, args: tree_sitter.Node | None) -> list:
        """Each argument of a call as a linear form in the caller's names (or None)."""
        out = []
        for a in args.named_children if args is not None else ():
            form = lin_node(a, self.data)
            out.append(None if form is None else subst(freeze(form), self.defs))
        return out

    def callee_effect(self, fname: str, arg, forms: list, v: _Buf, at: int) -> _Buf:
        """The state of a present buffer after a call to ``fname`` (a function with device
        code) that receives it as argument ``arg`` (a position, or a global's name).  The
        callee is walked with the buffer present and the caller's sets; the caller's names
        are marked (so a callee local of the same name is another variable) and each
        parameter the callee never changes stands for its argument's value."""
        fnode = _function_named(self.data, self.lang, fname)
        if fnode is None or self.depth >= 4:
            raise CheckFailed("PCX216", f"'{fname}' is called with data on the device and cannot be checked", at)
        params = _param_names(fnode, self.data)
        param = arg if isinstance(arg, str) else (params + [""] * (arg + 1))[arg]
        if not param:
            raise CheckFailed("PCX216", f"'{fname}' is called with data on the device and cannot be checked", at)
        saved = self.defs
        inner = _Walker(self, fname, fnode)
        changed = self.assigned(fnode.child_by_field_name("body"), calls=False)
        bound = {p: rename(form, CALLER) for p, form in zip(params, forms)
                 if p and form is not None and p not in changed}
        for p, form in list(bound.items()):  # a container argument brings its size along
            if len(form) == 1 and form[0][1] == 1 and len(form[0][0]) == 1:
                arg = form[0][0][0][len(CALLER):]
                size = saved.get(f"{arg}.size()", ((((f"{arg}.size()",), 1),)))
                bound[f"{p}.size()"] = rename(size, CALLER)
        self.defs = {k: subst(f, bound) for k, f in self.defs.items()} | bound
        inner.place(self.plan)
        names = self.track(fnode, self.plan, fname) | {param}
        env = {n: frozenset([n]) for n in names}
        env[param] = frozenset(["\0caller"])
        have = v.present[1] if isinstance(v.present, tuple) else WHOLE
        entry = _Buf(("\0caller", rename_sect(have, CALLER)), v.depth, rename_sets(v.undef, CALLER),
                     rename_sets(v.host_new, CALLER), rename_sets(v.dev_new, CALLER))
        st = _State(tuple(sorted(env.items())), (("\0caller", entry),))
        self.depth += 1
        try:
            end = inner.run(fnode.child_by_field_name("body"), st)
        except CheckFailed as e:
            line = self.data.count(b"\n", 0, at) + 1
            raise CheckFailed(e.rid, f"in '{fname}' called at line {line}: {e.message}", at)
        finally:
            self.depth -= 1
            self.defs = saved
        final = _members(_join([end, *inner.returns]))
        out = entry
        for m in final:  # the caller's buffer, whatever the callee's own names point to
            v2 = m.buf("\0caller")
            out = v2 if out is entry else _join_buf(out, v2)
        if out.present != entry.present or out.depth != entry.depth:
            raise CheckFailed("PCX215", f"'{fname}' changes whether its argument is on the device", at)
        back = uncaller
        return dataclasses.replace(out, present=v.present, depth=v.depth, undef=back(out.undef),
                                   host_new=back(out.host_new), dev_new=back(out.dev_new))

    def read_only_param(self, fname: str, args: tree_sitter.Node, arg: tree_sitter.Node) -> bool:
        """A call to a function of this unit that has no device code and never writes
        through (or passes on) that parameter."""
        fnode = _function_named(self.data, self.lang, fname)
        if fnode is None or any(k.function == fname for k in self.plan.offloaded()):
            return False
        try:
            pos = [c.id for c in args.named_children].index(arg.id)
        except ValueError:
            return False
        params = _param_names(fnode, self.data)
        if pos >= len(params) or not params[pos]:
            return False
        reads, writes, _, _ = _syntactic_accesses(fnode.child_by_field_name("body"), self.data, params[pos])
        return params[pos] not in writes

    def live_after(self, buf: str, byte: int, fnode: tree_sitter.Node) -> bool:
        """May the host use buffer ``buf`` (a name) after ``byte``?  Parameters, file-scope
        and static names, member chains and names mentioned later (or anywhere in a loop
        around ``byte``) are live; a later ``free(name)`` is not a use."""
        name = self.canonical(buf.split("@")[0])
        if "->" in name or "." in name or name in self.file_scope:
            return True
        # a name not declared in the body is the caller's (a parameter, also one declared
        # through a macro, or a global): it escapes
        if not _declared_in(fnode.child_by_field_name("body"), name, self.data):
            return True
        if _is_static_local(fnode, name, self.data) and _function_name(fnode, self.data) != "main":
            return True  # the next call sees it (main is not called again)
        lo = byte
        node = self.root.descendant_for_byte_range(byte, byte)
        while node is not None and node.id != fnode.id:
            if node.type in LOOP_TYPES:
                lo = node.start_byte
            node = node.parent
        body = fnode.child_by_field_name("body")
        for n in _walk(body):
            if n.type == "identifier" and text_of(self.data, n) == name and (n.start_byte >= byte or n.start_byte >= lo):
                if n.start_byte < byte and n.start_byte >= lo:
                    pass
                call = n.parent.parent if n.parent is not None and n.parent.type == "argument_list" else None
                fn = call.child_by_field_name("function") if call is not None else None
                if fn is not None and text_of(self.data, fn) == "free" or (
                        n.parent is not None and n.parent.type == "delete_expression"):
                    continue
                return True
        return False


def _declaration_of(n: tree_sitter.Node) -> tree_sitter.Node | None:
    """The init_declarator (or declaration) that declares identifier ``n``, if it does."""
    cur = n
    while cur.parent is not None and cur.parent.type in ("pointer_declarator", "array_declarator",
                                                         "init_declarator", "reference_declarator",
                                                         "parenthesized_declarator"):
        if cur.parent.type not in ("parenthesized_declarator", "reference_declarator") and \
                cur.parent.child_by_field_name("declarator") != cur:
            return None
        cur = cur.parent
        if cur.type == "init_declarator":
            return cur
    if cur.parent is not None and cur.parent.type == "declaration" and cur.parent.child_by_field_name("declarator") is not None \
            and cur.type != "init_declarator" and any(c.id == cur.id for c in cur.parent.named_children[1:]):
        return cur.parent
    return None


def _walk(node: tree_sitter.Node | None):
    """``source.walk`` (pre-order), nothing for a missing node."""
    return walk(node) if node is not None else ()


def _strip(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    while node is not None and node.type in UNWRAP:
        node = node.child_by_field_name("value") if node.type == "cast_expression" else (
            node.named_children[0] if node.named_children else None)
    return node


def _declared_name(node: tree_sitter.Node, data: bytes) -> str | None:
    d = node.child_by_field_name("declarator") if node.type != "identifier" else node
    while d is not None and d.type not in ("identifier", "field_identifier"):
        if d.type in ("function_declarator",):
            return None
        nxt = d.child_by_field_name("declarator")
        if nxt is None and d.type == "reference_declarator" and d.named_children:
            nxt = d.named_children[-1]
        if nxt is None:
            return None
        d = nxt
    return text_of(data, d) if d is not None else None


def _param_names(fnode: tree_sitter.Node, data: bytes) -> list[str]:
    d = hostaccess.function_declarator(fnode)
    params = d.child_by_field_name("parameters") if d is not None else None
    out = []
    for p in params.named_children if params is not None else ():
        out.append(_declared_name(p, data) or "")
    return out


def _declared_in(body: tree_sitter.Node | None, name: str, data: bytes) -> bool:
    for n in _walk(body):
        if n.type == "identifier" and text_of(data, n) == name and _declaration_of(n) is not None:
            return True
        if n.type in ("for_range_loop", "condition_clause") and _declared_name(n, data) == name:
            return True
        if n.type == "function_declarator" and n.parent is not None and n.parent.type == "declaration":
            inner = n.child_by_field_name("declarator")  # ``std::vector<int> v(n);`` as C++ parses it
            if inner is not None and text_of(data, inner) == name:
                return True
    return False


def _unrestricted_pointer_params(fnode: tree_sitter.Node, data: bytes) -> list[str]:
    """Parameters that are pointers (or arrays, which are pointers) with no ``restrict``."""
    d = hostaccess.function_declarator(fnode)
    params = d.child_by_field_name("parameters") if d is not None else None
    root = fnode
    while root.parent is not None:
        root = root.parent
    pointer_types = _pointer_typedefs(root, data)
    out = []
    for p in params.named_children if params is not None else ():
        text = text_of(data, p)
        ty = p.child_by_field_name("type")
        typed = ty is not None and text_of(data, ty) in pointer_types  # ``vec_t p`` with vec_t an array
        if "restrict" in text or not ("*" in text or "[" in text or "(" in text or typed):
            continue
        if "**" in text or "*[" in text.replace(" ", ""):
            continue  # pointers to pointers (argv) point into arrays of pointers, not our data
        name = _declared_name(p, data)
        if name:
            out.append(name)
    return out


def _pointee_kinds(fnode: tree_sitter.Node, data: bytes) -> dict[str, str]:
    """Parameter -> the arithmetic type it points to (``int``, ``double``; signedness and
    qualifiers dropped), for parameters declared as one level of pointer or array of a
    built-in type other than ``char``; the others (typedefs, structs, void, char) are left
    out: they may point anywhere."""
    d = hostaccess.function_declarator(fnode)
    params = d.child_by_field_name("parameters") if d is not None else None
    out = {}
    for p in params.named_children if params is not None else ():
        ty = p.child_by_field_name("type")
        if ty is None or ty.type not in ("primitive_type", "sized_type_specifier"):
            continue
        words = [w for w in text_of(data, ty).split() if w not in ("signed", "unsigned")]
        kind = " ".join(words) or "int"
        decl = p.child_by_field_name("declarator")
        depth = 0
        while decl is not None and decl.type in ("pointer_declarator", "array_declarator"):
            depth += 1
            decl = decl.child_by_field_name("declarator")
        if depth == 1 and decl is not None and decl.type == "identifier" and "char" not in kind:
            out[text_of(data, decl)] = kind
    return out


def _may_alias(a: str | None, b: str | None) -> bool:
    """Whether pointers to these kinds may address one object: C's effective-type rule
    (C11 6.5p7, what -fstrict-aliasing assumes) lets an ``int *`` and a ``double *`` never
    do so; an unknown kind (None) may alias anything."""
    return a is None or b is None or a == b


def _pointer_typedefs(root: tree_sitter.Node, data: bytes) -> set[str]:
    """Names ``typedef``'d to an array or pointer type (a parameter of such a type is a pointer)."""
    out = set()
    for n in root.named_children:
        if n.type != "type_definition":
            continue
        for d in n.children_by_field_name("declarator"):
            if d.type in ("array_declarator", "pointer_declarator"):
                inner = d
                while inner is not None and inner.type != "type_identifier":
                    inner = inner.child_by_field_name("declarator")
                if inner is not None:
                    out.add(text_of(data, inner))
    return out


def _is_static_local(fnode: tree_sitter.Node, name: str, data: bytes) -> bool:
    for n in _walk(fnode.child_by_field_name("body")):
        if n.type == "declaration" and any(c.type == "storage_class_specifier" and text_of(data, c) == "static"
                                           for c in n.children):
            if any(_declared_name(d, data) == name for d in n.named_children):
                return True
    return False


def _function_named(data: bytes, language: Language, name: str) -> tree_sitter.Node | None:
    """The first definition of function ``name`` in ``hostaccess.parse(data, language)``."""
    return _functions_by_name(data, language).get(name)


@functools.lru_cache(maxsize=16)
def _functions_by_name(data: bytes, language: Language) -> dict[str, tree_sitter.Node]:
    out: dict[str, tree_sitter.Node] = {}
    for n in hostaccess.function_definitions(data, language):
        out.setdefault(hostaccess.function_name(n, data), n)
    return out


_function_name = hostaccess.function_name


def _pointer_copies(fnode: tree_sitter.Node, data: bytes):
    """(lhs, rhs) for every ``lhs = rhs`` and ``T *lhs = rhs`` between plain names."""
    for n in _walk(fnode):
        if n.type == "assignment_expression":
            left, right = n.child_by_field_name("left"), _strip(n.child_by_field_name("right"))
        elif n.type == "init_declarator":
            left, right = n, _strip(n.child_by_field_name("value"))
        else:
            continue
        if right is None or right.type not in ("identifier", "field_expression"):
            continue
        lname = _declared_name(left, data) if left.type == "init_declarator" else (
            text_of(data, left) if left is not None and left.type in ("identifier", "field_expression") else None)
        if lname:
            yield lname.replace(" ", ""), text_of(data, right).replace(" ", "")


def _syntactic_accesses(node: tree_sitter.Node | None, data: bytes, only: str | None = None):
    """(read names, written names, names written under a condition, members written) in
    ``node``: the base of every subscript, dereference, or pointer passed on; a name passed
    to a call or offset counts as written (the callee may write through it).  A write to a
    member of an element (``p[i].w = 1``) is partial: the rest of the element keeps its
    value.  ``members`` maps each name written that way to the first-level members that
    plain, unconditional assignments write ("" for a deeper or compound write, which
    writes no member whole); a write not through a member is never in it."""
    reads: set[str] = set()
    writes: set[str] = set()
    guarded: set[str] = set()
    members: dict[str, set[str]] = {}
    for n in _walk(node):
        if n.type not in ("subscript_expression", "pointer_expression", "identifier", "field_expression"):
            continue
        if n.type == "subscript_expression":
            base = n.child_by_field_name("argument")
            while base is not None and base.type == "subscript_expression":
                base = base.child_by_field_name("argument")
            if base is None or base.type not in ("identifier", "field_expression"):
                continue
            if n.parent is not None and n.parent.type == "subscript_expression" and n.parent.child_by_field_name("argument") == n:
                continue
            name = text_of(data, base).replace(" ", "")
            top = n
        elif n.type == "pointer_expression" and text_of(data, n).startswith("*"):
            arg = _strip(n.child_by_field_name("argument"))
            if arg is None or arg.type != "identifier":
                continue
            name = text_of(data, arg)
            top = n
        elif n.type == "identifier" and only is not None and text_of(data, n) == only:
            # the parameter passed on, or assigned from, makes it written
            p = n.parent
            while p is not None and p.type in ("parenthesized_expression", "cast_expression", "binary_expression"):
                p = p.parent
            if p is not None and p.type in ("argument_list", "init_declarator") or (
                    p is not None and p.type == "assignment_expression" and p.child_by_field_name("right") is not None
                    and n.start_byte >= p.child_by_field_name("right").start_byte):
                writes.add(only)
            continue
        else:
            continue
        if only is not None and name != only:
            continue
        p = top.parent
        member: list[str] = []  # the members selected above the element, outermost last
        while p is not None and p.type in ("field_expression", "parenthesized_expression"):
            if p.type == "field_expression":
                member.append(text_of(data, p.child_by_field_name("field")) if p.child_by_field_name("field") else "")
            top, p = p, p.parent
        written = (p is not None and p.type == "assignment_expression" and p.child_by_field_name("left") == top) or (
            p is not None and p.type == "update_expression") or (
            p is not None and p.type == "pointer_expression" and text_of(data, p).startswith("&"))
        if written:
            writes.add(name)
            conditional = False
            q = top.parent
            while q is not None and q.id != node.id:
                if q.type in _CONDITIONAL or (q.type == "binary_expression" and q.child_by_field_name("operator") is not None
                                              and q.child_by_field_name("operator").type in ("&&", "||")):
                    guarded.add(name)
                    conditional = True
                    break
                q = q.parent
            op = p.child_by_field_name("operator") if p.type == "assignment_expression" else None
            if member:
                plain = (len(member) == 1 and not conditional and p.type == "assignment_expression"
                         and op is not None and op.type == "=")
                members.setdefault(name, set()).add(member[0] if plain else "")
            if p.type != "assignment_expression" or (op is not None and op.type != "="):
                reads.add(name)
        else:
            reads.add(name)
    return reads, writes, guarded, members


# ------------------------------------------------------------------ entry points


@dataclass
class Verdict:
    ok: bool
    rid: str = ""
    message: str = ""
    byte: int = 0
    kernel: str | None = None


def check_function(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan, fname: str) -> Verdict:
    """Check the plan of one function; see the module docstring."""
    checker = _Checker(unit, analysis, plan)
    fnode = _function_named(checker.data, checker.lang, fname)
    if fnode is None:
        kernels = [k for k in plan.offloaded() if k.function == fname]
        if not kernels and not any(r.function == fname for r in plan.regions):
            return Verdict(True)
        return Verdict(False, "PCX216", f"function '{fname}' not found", kernels[0].start_byte if kernels else 0)
    try:
        walker = _Walker(checker, fname, fnode)
        walker.place(plan)
        names = checker.track(fnode, plan, fname)
        # Pointer parameters without restrict may point into one array (the caller may pass
        # the same buffer twice, or a global the function also uses): each names every one
        # of them, so nothing about one is taken as sure while another may be the same memory.
        # A parameter the plan never maps counts too: it may be a mapped global.
        params = set(_unrestricted_pointer_params(fnode, checker.data))
        shared = {n for n in names if re.split(r"\.|->", n)[0] in checker.file_scope}  # g, g.v, g->p
        if params & names or (params and shared):
            names = names | params
        env = {n: frozenset([n]) for n in names}
        if params & names and len(params | shared) > 1:
            kinds = _pointee_kinds(fnode, checker.data)
            for p in params:  # a parameter may be another one, or any global used here
                env[p] = frozenset({q for q in params if _may_alias(kinds.get(p), kinds.get(q))} | shared)
            for g in shared:  # a global may be any parameter (but not another global)
                env[g] = frozenset({g} | params)
        st = _State(tuple(sorted(env.items())), ())
        end = walker.run(fnode.child_by_field_name("body"), st)
        for s in [m for x in [end, *walker.returns] for m in _members(x)]:
            for b, v in s.bufs:
                if v.present is not None:
                    raise CheckFailed("PCX216", f"'{b}' is still on the device when '{fname}' returns",
                                      fnode.end_byte)
    except CheckFailed as e:
        return Verdict(False, e.rid, e.message, e.byte, e.kernel)
    except RecursionError:
        return Verdict(False, "PCX216", "function too deeply nested to check", fnode.start_byte)
    return Verdict(True)


def enforce(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan) -> Plan:
    """``plan`` with every function's plan checked: a failing function loses its data
    regions, then its failing kernels, each step with a remark naming the check."""
    # Functions are checked again until none changes: a caller's region is checked with its
    # callees' kernels as the plan has them, so a kernel demoted in a callee checked later
    # (main < mv) must send the caller back through the check, or the caller keeps a region
    # planned for a kernel that now runs on the host.
    for _ in range(16):
        before = _shape(plan)
        plan = _enforce_once(unit, analysis, plan)
        if _shape(plan) == before:
            return plan
    return _without_offload(unit, plan)


def _shape(plan: Plan) -> tuple:
    return (tuple(k.decision for k in plan.kernels), len(plan.regions))


def _without_offload(unit: SourceUnit, plan: Plan) -> Plan:
    """No fixpoint in sight: nothing of the plan is emitted (never reached in practice)."""
    for k in plan.offloaded():
        k.decision = Decision.SERIAL
        k.remarks.append(Remark("PCX216", unit.path, k.line, k.column,
                                "nest kept serial: the plan check did not settle"))
    return dataclasses.replace(plan, regions=[])


def _enforce_once(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan) -> Plan:
    functions = sorted({k.function for k in plan.offloaded()} | {r.function for r in plan.regions})
    for fname in functions:
        for _ in range(64):
            v = check_function(unit, analysis, plan, fname)
            if v.ok:
                break
            line = unit.data.count(b"\n", 0, v.byte) + 1
            regions = [r for r in plan.regions if r.function == fname]
            if regions:
                plan = dataclasses.replace(plan, regions=[r for r in plan.regions if r.function != fname])
                for k in plan.kernels:
                    if k.function == fname and k.alone_maps:
                        k.maps, k.alone_maps = k.alone_maps, []
                for r in regions:
                    plan.remarks.append(Remark(v.rid, unit.path, r.line, 1,
                                               f"data region not emitted: plan check failed at line {line}: {v.message}"))
                continue
            culprits = [k for k in plan.offloaded() if k.function == fname and (v.kernel is None or k.nest_id == v.kernel)]
            if not culprits:
                break
            victim = culprits[0] if v.kernel is not None else _nearest(culprits, v.byte)
            victim.decision = Decision.SERIAL
            victim.remarks.append(Remark(v.rid, unit.path, victim.line, victim.column,
                                         f"nest kept serial: plan check failed at line {line}: {v.message}"))
    return plan


def _nearest(kernels: list[KernelPlan], byte: int) -> KernelPlan:
    before = [k for k in kernels if k.start_byte <= byte]
    return max(before, key=lambda k: k.start_byte) if before else kernels[0]
