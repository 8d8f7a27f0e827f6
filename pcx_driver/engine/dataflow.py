"""Where each tracked buffer's current value lives along a data region's statements.

``Flow`` walks the region in program order over sets of ``State`` (per assignment of
names to buffers: which buffers are current on the host, which are defined on the
device).  From the walk come the region's ``target update``s (``from`` before host code
that reads device-written data, ``to`` after host code that writes mapped data, element
by element where the written elements can be named), the buffers a kernel reads before
the device defines them (the region's ``to`` maps), and the names pointer moves exchange.
What the host statements do comes from ``engine.hostscan``; the region's placement and
its map kinds are decided by ``engine.regions``.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import LOOP_TYPES, all_nodes, assigned_and_declared, is_element_read, text_of
from pcx_driver.engine.hostscan import SWAP, Callee, HostScanner, RegionRefused
from pcx_driver.engine.sections import (
    known_value,
    linear_form,
    loop_range,
    loop_start,
    render_form,
    same_section,
    subtract,
    union_sections,
    widen_over,
)
from pcx_driver.engine.source import strip_parens, subscript_index
from pcx_driver.model import Language, NestAnalysis, Section

_MAX_STATES = 16


class WholeNeeded(Exception):
    """Element writes over a stale host copy cannot be pushed element by element: walk
    again with every partial write reading the host copy first."""


@dataclass(frozen=True)
class State:
    """One abstract state: names -> buffers, host-current buffers, device-defined buffers."""

    names: tuple[tuple[str, str], ...]
    host_ok: frozenset[str]
    dev_ok: frozenset[str]

    def buf(self, name: str) -> str | None:
        return dict(self.names).get(name)


def join_states(states: list[State]) -> list[State]:
    """Join states that agree on names -> buffers (intersection of the current sets)."""
    by_names: dict[tuple, State] = {}
    for s in states:
        old = by_names.get(s.names)
        by_names[s.names] = s if old is None else State(s.names, old.host_ok & s.host_ok, old.dev_ok & s.dev_ok)
    if len(by_names) > _MAX_STATES:
        raise RegionRefused("too many pointer assignments to follow")
    return sorted(by_names.values(), key=repr)


class Flow:
    """Walks the statements of a region in program order over sets of ``State``."""

    def __init__(self, data: bytes, kernels: dict[int, NestAnalysis], tracked: set[str], globals_: set[str],
                 region: tuple[int, int], callees: dict[str, Callee] | None = None,
                 sites: set[tuple[int, int]] | None = None, ranks: dict[str, int] | None = None,
                 elementwise: bool = True) -> None:
        self.data = data
        self.ranks = ranks or {}  # tracked name -> dimensions of its section
        # push host element writes element by element even when the rest of the host copy
        # is stale (no ``update from`` first); off after a ``WholeNeeded``
        self.elementwise = elementwise
        self.stale: set[str] = set()  # pending names whose host copy is stale elsewhere
        # read-only parameters whose host copy may be stale at entry (device-current
        # data of a caller): host reads of their elements bring just those elements
        self.stale_entry: set[str] = set()
        self.from_elements: dict[int, dict[str, set[tuple[str, ...]]]] = {}
        self.kernels = kernels  # start byte -> nest
        self.sites = sites or set()  # statements that call a kernel function
        self.tracked = tracked
        self.region = region
        self.scanner = HostScanner(data, tracked, globals_, callees)
        self.scanner.ranks = self.ranks
        self.need_to: set[str] = set()  # buffers the device reads before defining them
        self.whole: dict[str, Section] = {}  # tracked name -> the region's section of it
        self.update_from: dict[int, set[str]] = {}  # statement start -> names
        # insertion byte -> name -> element index lists (None: the whole section)
        self.update_to: dict[int, dict[str, set[tuple[str, ...]] | None]] = {}
        self.swapped: list[set[str]] = []  # names that took another's buffer
        self.breaks: list[list[State]] = []
        self.continues: list[list[State]] = []
        # names written by the host and not yet pushed: the elements written, or None
        self.pending: dict[str, set[tuple[str, ...]] | None] = {}
        self._addressed: set[str] | None = None  # variables whose address the unit takes
        # insertion byte (right after a kernel) -> name -> the section it wrote, copied back
        # there so that the host copy stays current (``_eager_pulls``)
        self.after_kernel: dict[int, dict[str, Section]] = {}
        # names a host loop wrote, over a section its loops bound, not yet pushed (the
        # host copy was current, so the section's other elements are current too)
        self.pending_sections: dict[str, list[Section]] = {}
        # insertion byte -> name -> sections pushed there (``update_to`` pushes the rest)
        self.update_to_sections: dict[int, dict[str, list[Section]]] = {}
        # name -> whether its device copy was defined when the host first wrote it since the
        # last push (the writes since then are all pending, so all of them go back)
        self.pending_defined: dict[str, bool] = {}
        self.constants: dict[str, int] = {}  # values of the macros sections name (FunctionPlan.constants)

    # -- helpers
    def _contains_kernel(self, node: tree_sitter.Node) -> bool:
        if (node.start_byte, node.end_byte) in self.sites:
            return False  # the call statement itself is host code with device effects
        return any(node.start_byte <= b < node.end_byte for b in self.kernels) or any(
            node.start_byte <= b < node.end_byte for b, _ in self.sites)

    def _check_header(self, node: tree_sitter.Node | None) -> None:
        if node is None:
            return
        if hostaccess.identifiers_in(node, self.data) & self.scanner.names():
            raise RegionRefused(f"loop header at line {node.start_point[0] + 1} uses a mapped array")

    # -- transfer functions
    def run(self, node: tree_sitter.Node, states: list[State]) -> list[State]:
        if node.start_byte in self.kernels and node.type in LOOP_TYPES:
            return self._kernel(self.kernels[node.start_byte], states, node)
        if not self._contains_kernel(node):
            return self._host(node, states)
        t = node.type
        if t == "compound_statement":
            scoped = set(self.scanner.temps)
            states = self.run_block(node.named_children, states)
            states = self.flush(states, node.end_byte - 1)  # before the closing brace
            dropped = self.scanner.temps - scoped  # temporaries declared in this block die here
            if dropped:
                states = join_states([State(tuple((n, b) for n, b in s.names if n not in dropped), s.host_ok, s.dev_ok)
                                for s in states])
            return states
        if t == "if_statement":
            cond = node.child_by_field_name("condition")
            states = self._host(cond, states, anchor=node)
            then = self.run(node.child_by_field_name("consequence"), states)
            alt = node.child_by_field_name("alternative")
            if alt is not None:
                body = alt.named_children[-1] if alt.type == "else_clause" else alt
                return join_states(then + self.run(body, states))
            return join_states(then + states)
        if t in ("for_statement", "while_statement", "do_statement"):
            if t == "for_statement":
                init = node.child_by_field_name("initializer")
                if init is not None:
                    states = self._host(init, states, anchor=node)
                self._check_header(node.child_by_field_name("condition"))
                self._check_header(node.child_by_field_name("update"))
            else:
                self._check_header(node.child_by_field_name("condition"))
            body = node.child_by_field_name("body")
            head = states
            for _ in range(_MAX_STATES + 2):
                self.breaks.append([])
                self.continues.append([])
                end = self.run(body, head)
                brk, cont = self.breaks.pop(), self.continues.pop()
                new_head = join_states(states + end + cont)
                if new_head == head:
                    break
                head = new_head
            else:
                raise RegionRefused(f"loop at line {node.start_point[0] + 1} does not settle")
            once = t == "do_statement" or (t == "for_statement" and _runs_at_least_once(node, self.data))
            exits = join_states(end + cont) + brk if once else head + brk
            return join_states(exits)
        if t == "labeled_statement":
            raise RegionRefused(f"label at line {node.start_point[0] + 1} inside the region")
        raise RegionRefused(f"kernel inside a '{t}' at line {node.start_point[0] + 1}")

    def _kernel(self, nest: NestAnalysis, states: list[State], node: tree_sitter.Node | None = None) -> list[State]:
        aliases = {a.name for a in nest.arrays} & (self.scanner.temps - self.tracked)
        if aliases:
            raise RegionRefused(f"kernel at line {nest.line} uses '{sorted(aliases)[0]}', an alias of a mapped buffer")
        pulled = self._eager_pulls(nest, node, states) if node is not None else set()
        out = []
        for s in states:
            host_ok, dev_ok = set(s.host_ok), set(s.dev_ok)
            for a in nest.arrays:
                b = s.buf(a.name)
                if b is None:
                    continue
                covers = a.written_fully and a.exact and same_section(a.section, self.whole.get(a.name))
                if (a.read or (a.written and not covers)) and b not in dev_ok:
                    # read, or written only in part: the rest of the device copy must be
                    # the host's (a column the host wrote stays live into the region)
                    self.need_to.add(b)
                    dev_ok.add(b)
                if a.written:
                    if a.name not in pulled:  # else copied back right after the kernel
                        host_ok.discard(b)
                    dev_ok.add(b)
            out.append(State(s.names, frozenset(host_ok), frozenset(dev_ok)))
        return join_states(out)

    def _eager_pulls(self, nest: NestAnalysis, node: tree_sitter.Node, states: list[State]) -> set[str]:
        """The arrays a kernel inside a loop of the region writes only in part and host code
        in that loop reads (LU's row update under a serial row loop whose host part reads
        the rows above): each is copied back right after the kernel, its written section
        only, instead of whole before the host reads it.  Where the host copy was current
        before the kernel, and the device copy is current after it (the kernel's own maps
        make it so), that copy leaves the host current everywhere."""
        parent = node.parent
        if parent is None or parent.type != "compound_statement":
            return set()
        after = node.next_named_sibling
        while after is not None and after.type == "comment":
            after = after.next_named_sibling
        pos = after.start_byte if after is not None else parent.end_byte - 1
        loop = parent
        while loop is not None and loop.type not in LOOP_TYPES:
            loop = loop.parent
        if loop is None or loop.start_byte < self.region[0]:
            return set()
        kernels = [(b, k.end_byte) for b, k in self.kernels.items()]
        host_reads = {text_of(self.data, n) for n in all_nodes(loop) if n.type == "identifier" and not _stored_into(n)
                      and not any(lo <= n.start_byte < hi for lo, hi in kernels)}
        pulled: set[str] = set()
        for a in nest.arrays:
            if not a.written or a.write_section is None or a.container \
                    or same_section(a.write_section, self.whole.get(a.name)):
                continue
            if not all(s.buf(a.name) is not None and s.buf(a.name) in s.host_ok for s in states):
                continue
            if a.name in host_reads:
                self.after_kernel.setdefault(pos, {})[a.name] = a.write_section
                pulled.add(a.name)
        return pulled

    def _host(self, node: tree_sitter.Node | None, states: list[State], anchor: tree_sitter.Node | None = None) -> list[State]:
        if node is None:
            return states
        t = node.type
        if t in ("break_statement", "continue_statement"):
            if not self.breaks:
                raise RegionRefused(f"'{t.split('_')[0]}' at line {node.start_point[0] + 1} leaves the region")
            states = self.flush(states, node.start_byte)
            (self.breaks if t == "break_statement" else self.continues)[-1].extend(states)
            return []
        if t == "comment":
            return states
        jumps = [j for j in all_nodes(node) if j.type in ("break_statement", "continue_statement")
                 and not _target_inside(j, node)]
        if jumps and not self.breaks:
            raise RegionRefused(f"'{jumps[0].type.split('_')[0]}' at line {jumps[0].start_point[0] + 1} leaves the region")
        if jumps:  # e.g. ``if (err < tol) break;``: pending updates must happen before
            states = self.flush(states, node.start_byte)
        use = self.scanner.scan(node)
        stmt = anchor or node
        if not self.elementwise:
            use.reads |= use.partial
            use.partial = set()
        if any(v for v in self.pending.values()) or self.pending_sections:
            # an element index whose variables change here no longer names the element
            changed = assigned_and_declared(node, self.data, node.start_byte, node.end_byte)
            for name, elems in list(self.pending.items()):
                if elems and any(_idents_of_c(e) & changed for idx in elems for e in idx):
                    self._whole(name)
            for name, secs in list(self.pending_sections.items()):
                if any(_idents_of_c(x) & changed for sec in secs for dim in sec.dims for x in dim):
                    self._whole(name)
        if (use.reads | use.shared) & self.stale:
            raise WholeNeeded  # an ``update from`` would overwrite the elements the host wrote
        if use.moves and self._pending_names():  # names are about to point elsewhere
            states = self.flush(states, stmt.start_byte)
        if use.shared:
            if anchor is not None or use.shared & (use.writes | {d[0] for d in use.device}):
                raise RegionRefused(f"line {node.start_point[0] + 1} passes an array it also writes")
            if self._pending_names() & use.shared:
                if stmt.parent is None or stmt.parent.type != "compound_statement":
                    raise RegionRefused(f"no place for an update before line {stmt.start_point[0] + 1}")
                states = self.flush(states, stmt.start_byte)  # the callee's kernels read the device copy
        if use.writes and (stmt.parent is None or stmt.parent.type != "compound_statement"):
            raise RegionRefused(f"no place for an update after line {stmt.end_point[0] + 1}")
        if jumps and use.writes:
            raise RegionRefused(f"host code at line {node.start_point[0] + 1} writes a mapped array and may leave the loop")
        through_alias = (use.reads | use.writes | {d[0] for d in use.device}) - self.tracked
        if through_alias:
            raise RegionRefused(f"host code at line {node.start_point[0] + 1} accesses a mapped buffer through "
                                f"'{sorted(through_alias)[0]}'")
        if anchor is not None and (use.writes or use.device):
            raise RegionRefused(f"condition at line {node.start_point[0] + 1} writes a mapped array")
        if use.device and (use.reads | use.writes) & {d[0] for d in use.device}:
            raise RegionRefused(f"line {node.start_point[0] + 1} uses an array both on the host and in a kernel call")
        if any(dst in self._pending_names() or src in self._pending_names() for dst, src in use.moves):
            # host writes pending under a name that is about to point elsewhere (a swap):
            # push them now, while the name still means the buffer they went to
            states = self.flush(states, stmt.start_byte)
        for name in use.writes - self._pending_names():  # first host write since the last push
            self.pending_defined[name] = all(s.buf(name) is not None and s.buf(name) in s.dev_ok for s in states)
        elem_reads = {}  # name -> element indices, for names of ``stale_entry``
        for name in use.reads & self.stale_entry:
            got = _element_reads(node, name, self.ranks.get(name, -1), self.data)
            if got is not None and (stmt.parent is not None and stmt.parent.type == "compound_statement"):
                elem_reads[name] = got
        out = []
        for s in states:
            host_ok, dev_ok = set(s.host_ok), set(s.dev_ok)
            for name, elems in elem_reads.items():
                b = s.buf(name)
                if b is not None and b not in host_ok:  # stays stale but for these elements
                    self.from_elements.setdefault(stmt.start_byte, {}).setdefault(name, set()).update(elems)
            for name in sorted((use.reads - set(elem_reads)) | (use.shared - use.shared_device)):
                b = s.buf(name)
                if b is not None and b not in host_ok:
                    self.update_from.setdefault(stmt.start_byte, set()).add(name)
                    host_ok.add(b)
                    if b not in dev_ok:  # on some path no kernel defined it: copy it in first
                        self.need_to.add(b)
            for name in sorted(use.shared):  # the callee's kernels read the device copy
                b = s.buf(name)
                if b is not None and b not in dev_ok:
                    self.need_to.add(b)
                    dev_ok.add(b)
            for name in sorted(use.partial):
                b = s.buf(name)
                if b is not None and b not in host_ok:
                    self.stale.add(name)
            for name, first_reads, writes, reads, defined in use.device:
                b = s.buf(name)
                if b is None:
                    continue
                # the call defines the whole array only where its section is the region's
                defines = defined is not None and same_section(defined, self.whole.get(name))
                needs_in = first_reads if defines else reads
                if needs_in and b not in dev_ok:
                    self.need_to.add(b)
                if needs_in or defines:
                    dev_ok.add(b)
                if writes:
                    host_ok.discard(b)
            names = dict(s.names)
            for dst, src in use.moves:
                if src in names:
                    names[dst] = names[src]
                    if dst in self.tracked and names[src] != dst:
                        self.swapped.append({dst, names[src]})
            names.pop(SWAP, None)
            written = set(use.writes)
            if use.moves and written:
                # writes and pointer moves in one statement (a host time loop that swaps):
                # which buffer got the writes is lost, so every buffer the moves touch goes back
                moved = {n for pair in use.moves for n in pair} | written
                written |= {n for n in moved if n in self.tracked}
                for n in written - set(use.writes):
                    self._whole(n)
            for name in sorted(written):
                b = names.get(name)
                if b is not None:  # the device copy is stale until the next flush
                    # (current on the host, and defined on the device but for what the host wrote)
                    defined = b in dev_ok or self.pending_defined.get(name, False)
                    looped = (name in use.whole and b in host_ok and defined and not any(name in m for m in use.moves)
                              and self.pending.get(name, set()) is not None
                              and (sec := self._loop_written(node, name)) is not None)
                    if looped:
                        self.pending_sections.setdefault(name, []).append(sec)
                    elif name in use.whole or self.pending.get(name, set()) is None or \
                            not all(self._plain_index(e) for idx in use.elements.get(name, ()) for e in idx):
                        self._whole(name)
                    else:
                        self.pending.setdefault(name, set()).update(use.elements.get(name, ()))
                    dev_ok.discard(b)
            out.append(State(tuple(sorted(names.items())), frozenset(host_ok), frozenset(dev_ok)))
        out = join_states(out)
        if jumps:
            target = [j.type for j in jumps]
            if "break_statement" in target:
                self.breaks[-1].extend(out + states)
            if "continue_statement" in target:
                self.continues[-1].extend(out + states)
        return out

    def _loop_written(self, node: tree_sitter.Node, name: str) -> Section | None:
        """The section a host loop nest ``node`` writes ``name`` in, when every write is an
        element of full rank (``A[i][j] /= A[j][j]``) whose indices the loops around that
        write, inside ``node``, bound: LU's row of L under ``for (j = 0; j < i; j++)`` is
        row ``i``.  None otherwise (the whole section goes back)."""
        rank = self.ranks.get(name, -1)
        whole = self.whole.get(name)
        if rank < 1 or whole is None or len(whole.dims) != rank or not _only_elements(node, name, rank, self.data):
            return None
        changed = assigned_and_declared(node, self.data, node.start_byte, node.end_byte)
        secs = []
        for index, write in _element_writes(node, name, rank, self.data):
            forms = [linear_form(x, Language.C) for x in index]
            if any(f is None for f in forms):
                return None
            dims = [[f, subtract(f, {(): -1})] for f in forms]  # [index, index + 1)
            p = write.parent
            while p is not None:
                if p.type in LOOP_TYPES:  # the loops around this write, innermost first
                    rng = loop_range(p, self.data, Language.C)
                    if rng is None or not widen_over(dims, rng):
                        return None
                if p.id == node.id:
                    break
                p = p.parent
            if any(v in changed for d in dims for form in d for m in form for v in m):
                return None  # an index the loops do not bound (a scalar the loop sets)
            if not self._within_rows(dims, whole):
                return None
            # Dimensions after the first are pushed whole, as they are mapped: a contiguous
            # section.  (clang-19 copies the wrong bytes for `target update to(a[i:1][0:3])`:
            # 4 of them; and for a[i:1][1:k] a whole row.)
            secs.append(Section(name, [(render_form(dims[0][0]), render_form(subtract(dims[0][1], dims[0][0])))]
                                + list(whole.dims[1:])))
        if not secs:
            return None
        return secs[0] if len(secs) == 1 else union_sections(secs, Language.C)

    def _within_rows(self, dims: list[list[dict]], whole: Section) -> bool:
        """Whether each index after the first may stay within its dimension of ``whole``:
        not where it provably leaves it.  ``a[5][i]`` over ``i < 3*N`` of an ``a[N][N]``
        walks rows 5 to 7 (C lays rows out one after another, and code walks them flat),
        ``a[i][-1]`` is the row before's last element, ``a[0][i]`` over ``i < n*m`` of a
        VLA ``(*a)[m]`` walks n rows; pushing the rows named alone left the others stale
        on the device (a held-out check).  An index not known to leave its row is taken
        to stay in it, as the kernels' sections take it (extents.py), as C says it does
        (``a[i][j]`` over ``j < i`` of an LU row)."""
        for (lo, hi), (start, length) in zip(dims[1:], whole.dims[1:]):
            first, count = linear_form(start, Language.C), linear_form(length, Language.C)
            if first is None or count is None:
                return False
            below = known_value(subtract(lo, first), self.constants)
            end = subtract(first, {m: -c for m, c in count.items()})  # start + length
            past = known_value(subtract(end, hi), self.constants)
            if below is not None and below < 0 or past is not None and past < 0:
                return False
            row = {v for m in count for v in m}
            if any(len(m) > 1 and set(m) & row and c > 0 for m, c in hi.items()):
                return False  # ``i < n*m`` over rows of m: a walk across n rows
        return True

    def _pending_names(self) -> set[str]:
        """Names with host writes not yet pushed, element by element, whole or by section."""
        return set(self.pending) | set(self.pending_sections)

    def _plain_index(self, index: str) -> bool:
        """Whether element index ``index`` keeps naming the element until a later push:
        an expression of plain variables whose address the unit never takes (their changes
        are assignments the walk sees).  ``a[idx[0]]``, ``a[*p]``, ``a[q]`` with ``pq =
        &q`` are pushed whole (a held-out check: the deferred push copied another element)."""
        if any(ch in index for ch in "[*.(") or "->" in index:
            return False
        if self._addressed is None:
            root = hostaccess.parse(self.data, Language.CXX if self.scanner.cxx else Language.C).root_node
            self._addressed = hostaccess.addressed_names(root, self.data)
        return not (_idents_of_c(index) & self._addressed)

    def _whole(self, name: str) -> None:
        """The whole section of ``name`` must go back to the device."""
        if name in self.stale:
            raise WholeNeeded
        self.pending[name] = None

    def flush(self, states: list[State], pos: int) -> list[State]:
        """Push host writes still pending to the device with one ``update to`` at ``pos``."""
        by_section = set()
        for name, secs in self.pending_sections.items():
            if self.pending.get(name, set()) is not None:  # (a whole push of the name covers them)
                self.update_to_sections.setdefault(pos, {}).setdefault(name, []).extend(
                    s for s in secs if s not in self.update_to_sections.get(pos, {}).get(name, []))
                by_section.add(name)
        self.pending_sections = {}
        self.pending_defined = {}
        if by_section:  # the device copy was defined but for what the host loops wrote: now all of it
            states = join_states([State(s.names, s.host_ok, s.dev_ok | frozenset({s.buf(n) for n in by_section} - {None}))
                                  for s in states])
        if not self.pending:
            return states
        table = self.update_to.setdefault(pos, {})
        for name, elems in self.pending.items():
            if elems is None or table.get(name, set()) is None:
                table[name] = None
            else:
                table.setdefault(name, set()).update(elems)
            if name in self.stale and not element_push(table[name], self.ranks.get(name, -1)):
                raise WholeNeeded
        self.stale = set()
        out = []
        for s in states:
            # a whole push defines the device copy; an element push defines those elements only
            bufs = {s.buf(n) for n, elems in self.pending.items() if table.get(n) is None} - {None}
            out.append(State(s.names, s.host_ok, s.dev_ok | frozenset(bufs)))
        self.pending = {}
        return join_states(out)

    def run_block(self, children: list[tree_sitter.Node], states: list[State]) -> list[State]:
        """Run statements of one block in order, flushing pending host writes before any
        statement that involves the device."""
        for c in children:
            if c.type == "comment":
                continue
            if self._pending_names() and (self._contains_kernel(c) or (c.start_byte, c.end_byte) in self.sites
                                 or (c.start_byte in self.kernels and c.type in LOOP_TYPES)):
                states = self.flush(states, c.start_byte)
            states = self.run(c, states)
        return states


def _element_reads(node: tree_sitter.Node, name: str, rank: int, data: bytes) -> set[tuple[str, ...]] | None:
    """The indices of every use of ``name`` in ``node`` when each is an element read of
    full rank whose index variables ``node`` does not change; None otherwise."""
    changed = assigned_and_declared(node, data, node.start_byte, node.end_byte)
    out: set[tuple[str, ...]] = set()
    for n in all_nodes(node):
        if n.type != "identifier" or text_of(data, n) != name:
            continue
        if not is_element_read(n, rank, data):
            return None
        idx, top = [], n
        while top.parent is not None and top.parent.type == "subscript_expression":
            top = top.parent
            idx.append(text_of(data, top.child_by_field_name("index")))
        if any(_idents_of_c(e) & changed for e in idx):
            return None
        out.add(tuple(idx))
    return out if 0 < len(out) <= 8 else None


def element_push(elems: set[tuple[str, ...]] | None, rank: int) -> bool:
    """Are host writes of ``elems`` pushed element by element (not the whole section)?"""
    return elems is not None and len(elems) <= 8 and all(len(e) == rank for e in elems)


def _runs_at_least_once(loop: tree_sitter.Node, data: bytes) -> bool:
    """``for (int v = c0; v < c1; ...)`` with integer literals c0 < c1 (or <=)."""
    cond = loop.child_by_field_name("condition")
    got = loop_start(loop, data)
    if got is None or cond is None or cond.type != "binary_expression":
        return False
    var, start = got
    left, right = strip_parens(cond.child_by_field_name("left")), strip_parens(cond.child_by_field_name("right"))
    op = text_of(data, cond.child_by_field_name("operator"))
    if var is None or start is None or left is None or right is None or text_of(data, left) != text_of(data, var):
        return False
    try:
        c0, c1 = int(text_of(data, start), 0), int(text_of(data, right), 0)
    except ValueError:
        return False
    return c0 < c1 if op == "<" else c0 <= c1 if op == "<=" else False


def _target_inside(jump: tree_sitter.Node, scope: tree_sitter.Node) -> bool:
    """Does the loop/switch that ``jump`` (break/continue) leaves lie inside ``scope``?"""
    kinds = LOOP_TYPES | ({"switch_statement"} if jump.type == "break_statement" else set())
    n = jump.parent
    while n is not None and n != scope:
        if n.type in kinds:
            return True
        n = n.parent
    return n is not None and n.type in kinds


def _stored_into(ident: tree_sitter.Node) -> bool:
    """Whether this use of a name is an element (or the name) a plain ``=`` only stores
    into (``y[k] = alpha``): no read of the array."""
    top = ident
    while top.parent is not None and top.parent.type == "subscript_expression" \
            and top.parent.child_by_field_name("argument") == top:
        top = top.parent
    p = top.parent
    return (p is not None and p.type == "assignment_expression" and p.child_by_field_name("left") == top
            and p.child_by_field_name("operator") is not None and p.child_by_field_name("operator").type == "=")


def _element_writes(node: tree_sitter.Node, name: str, rank: int, data: bytes):
    """(index texts, the assignment or update) of each element write of ``name`` in ``node``."""
    for n, target in hostaccess.assignment_targets(node):
        index, t = [], strip_parens(target)
        while t is not None and t.type == "subscript_expression":
            sub = subscript_index(t)  # C's index field, C++'s subscript argument list
            if sub is None:
                break
            index.insert(0, text_of(data, sub))
            t = strip_parens(t.child_by_field_name("argument"))
        if t is not None and t.type == "identifier" and text_of(data, t) == name and len(index) == rank:
            yield tuple(index), n


def _only_elements(node: tree_sitter.Node, name: str, rank: int, data: bytes) -> bool:
    """Whether every use of ``name`` in ``node`` is an element of full rank, read or
    assigned (``A[i][j] /= A[j][j]``): no call, pointer or address sees the array."""
    for n in all_nodes(node):
        if n.type != "identifier" or text_of(data, n) != name or is_element_read(n, rank, data):
            continue
        top = n
        for _ in range(rank):
            p = top.parent
            if p is None or p.type != "subscript_expression" or p.child_by_field_name("argument") != top:
                return False
            top = p
        p = top.parent
        if p is None or not ((p.type == "assignment_expression" and p.child_by_field_name("left") == top)
                             or p.type == "update_expression"):
            return False
    return True


def _depth(n: tree_sitter.Node) -> int:
    d = 0
    while n.parent is not None:
        n, d = n.parent, d + 1
    return d


def _idents_of_c(expr: str) -> set[str]:
    return hostaccess.expression_identifiers(expr, Language.C)
