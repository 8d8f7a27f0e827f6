"""Render a Plan as OpenMP target offload source with exact text edits.

Contract of ``rewrite_unit(unit, plan) -> Rewrite``:

- Every byte the plan does not touch is kept (comments, formatting, macros).  Edits are
  insertions of whole directive lines, closing braces, and the renames of C++ container
  expressions to the local pointers in ``plan.local_pointers``.
- The text starts with ``#line 1 "<path>"`` and every inserted line is followed by
  ``#line N "<path>"``, so every original line keeps its number: diagnostics,
  ``__FILE__``, debug info and the kernel names (``__omp_offloading_..._l<N>``) name the
  user's lines.  An inserted directive gets the number of the line it precedes.  (Clang
  uses the ``#line`` name in kernel names only when that path exists from the compile's
  working directory, which it does when the driver compiles ``unit.path`` in
  ``unit.directory``.)
- A directive that must precede a statement which is the braceless body of an
  ``if``/``else``/loop/label is wrapped with that statement in ``{ ... }``; a directive in
  the middle of a line starts a new line, and the rest of the original line is padded so
  that it keeps its column.
- A kernel whose position is not a statement of the source (a stale or foreign plan) is
  not emitted (PCX204), and a data region that contains it or may hold its data (around
  a call), or whose bounds are not statements of one block, is dropped with its updates.
  Its kernels then map what they touch, as planned alone (``KernelPlan.alone_maps``:
  inside a region a kernel names the region's sections), so dropping a region is always
  sound.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine import hostaccess, symsect
from pcx_driver.engine.source import loop_hint_before, walk
from pcx_driver.engine.regionreach import held_by_regions
from pcx_driver.engine.workguard import HELD_NOTE, work_test_text
from pcx_driver.model import (
    DataRegion,
    EmittedDirective,
    KernelPlan,
    Language,
    MapClause,
    MapKind,
    Plan,
    Reduction,
    Remark,
    Rewrite,
    Section,
    SourceUnit,
)

# Order of insertions that precede the same statement: declarations of local pointers,
# then the data region, then target updates, then the kernel; private arrays and atomics
# are inside nests.
_RANK_DECL, _RANK_REGION, _RANK_UPDATE, _RANK_KERNEL, _RANK_PRIVATE, _RANK_ATOMIC = 10, 20, 30, 40, 45, 50


def c_string(text: str) -> str:
    """``text`` as a C string literal (for ``#line``): quotes, backslashes and control
    characters escaped, every other character (and undecodable byte) kept as it is."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def work_guard(k: KernelPlan) -> str:
    """OpenMP's ``if(target: ...)`` clause that runs kernel ``k`` on the host when its
    work estimate is below ``--pcx-min-work``; "" when it has none."""
    test = work_test(k)
    return f"if(target: {test})" if test else ""


def work_test(k: KernelPlan) -> str:
    """The C condition ``WORK >= min-work`` under which kernel ``k`` runs on the device;
    "" when it always does."""
    if not k.work_expr or k.min_work <= 0 or k.user_directive:
        return ""
    return work_test_text(k.work_expr, k.min_work, k.copy_cost)


def device_test(k: KernelPlan) -> str:
    """The C condition under which kernel ``k``'s device version runs: its work test, its
    run-time alias test (``KernelPlan.alias_test``), the bounds test of each private
    array (``PrivateArray.bounds_test``) and its min/max's start test (``nan_test``),
    after the facts its sections rest on (``CallerExtent.test``, ``Assumption``s), first:
    the sections the others may read are right only then; "" when it always does."""
    facts = [k.region_test] if k.region_test else k.fact_tests()
    tests = [t for t in (*facts, work_test(k),
                         k.alias_test,
                         *(p.bounds_test for p in k.private_arrays), k.nan_test) if t]
    return tests[0] if len(tests) == 1 else " && ".join(f"({t})" for t in tests)


def emitted_length(length: str, constants: dict[str, int]) -> str:
    """A section length as emitted: as planned when it is a constant >= 0 (macros valued
    by ``constants``), else clamped at zero, ``(E) * ((E) > 0)``.  A hull computed from loop
    bounds has a negative length when the loops run no iteration (``for (i = 2; i < n;
    i++)`` with ``n < 2``); OpenMP forbids it and libomptarget takes it for a huge
    allocation.  The plan and its checker read such a section as empty, as the clamped one
    is.  No ``?:``: clang-19 crashes on one in the map of a ``target data``.  The test
    compares the expression's positive terms with its negative ones (``n - 1`` is clamped by
    ``n > 1``): with unsigned operands ``E > 0`` is true when E wrapped round (``size_t n =
    0``, a held-out check: libomptarget asked for 2^64 bytes)."""
    text = length.strip()
    value = symsect.constant_value(text, Language.C, constants)
    if value is not None and value >= 0:
        return text
    inner = text if text.isidentifier() else f"({text})"
    form = symsect.lin_text(text, Language.C)
    if form is None:
        return f"{inner} * ({inner} > 0)"

    def side(terms: list) -> str:
        parts = [" * ".join([str(c)] * (c != 1) + [f"({n})" if not n.isidentifier() else n for n in names])
                 if names else str(c) for names, c in terms]
        return " + ".join(parts) if parts else "0"

    plus = side([(names, c) for names, c in form if c > 0])
    minus = side([(names, -c) for names, c in form if c < 0])
    return f"{inner} * ({plus} > {minus})"


def section_text(sec: Section, constants: dict[str, int] | None = None) -> str:
    """``sec`` as written in an emitted directive (lengths through ``emitted_length``),
    products computed in ``long`` (``wide_products``)."""
    return sec.base + "".join(f"[{wide_products(lo)}:{wide_products(emitted_length(ln, constants or {}))}]"
                              for lo, ln in sec.dims)


def wide_products(expr: str) -> str:
    """``expr`` with each product computed in ``long``: the leftmost factor of every chain
    of ``*`` cast (``(long)h*w``; ``long``, not ``long long``, which C89 lacks, and 64 bits
    on the LP64 systems the offload compilers target).  A section's bounds are polynomials of the
    names its accesses read, without the casts the program wrote (``img[(size_t)y * w +
    x]`` over ``y < h`` is ``img[0:h*w]``), and an ``int`` product of a 65536 x 65537 image
    wraps: the kernel mapped 64 KiB of 4 GiB and wrote past it (a held-out check)."""
    if "*" not in expr:
        return expr
    data, value = hostaccess.parse_expression(expr)
    if value is None or value.has_error:
        return expr
    starts: set[int] = set()
    for n in walk(value):
        if not _is_product(n, data) or (n.parent is not None and _is_product(n.parent, data)):
            continue
        leaf = n
        while _is_product(leaf, data):
            leaf = leaf.child_by_field_name("left")
        starts.add(leaf.start_byte - value.start_byte - 1)  # (value is the parenthesised expr)
    out = expr.encode()
    for at in sorted(starts, reverse=True):
        out = out[:at] + b"(long)" + out[at:]
    return out.decode()


def _is_product(n, data: bytes) -> bool:
    op = n.child_by_field_name("operator") if n.type == "binary_expression" else None
    return op is not None and data[op.start_byte:op.end_byte] == b"*"


def map_text(m: MapClause, constants: dict[str, int] | None = None) -> str:
    return f"map({m.kind.value}: " + ", ".join(section_text(s, constants) for s in m.sections) + ")"


def kernel_directive(k: KernelPlan, guard: bool = True, constants: dict[str, int] | None = None) -> str:
    """The combined construct for kernel ``k``, without the leading ``#pragma ``; with
    ``guard``, its run-time work guard (``work_guard``) as well."""
    if k.user_directive:  # the user's own kernel keeps its text; pcx adds the maps it planned
        return " ".join([k.user_directive] + [map_text(m, constants) for m in k.maps if m.sections])
    parts = ["omp target teams distribute parallel for" + (" simd" if k.simd else "")]
    if guard and work_guard(k):
        parts.append(work_guard(k))
    if k.collapse > 1:
        parts.append(f"collapse({k.collapse})")
    if k.num_teams:
        parts.append(f"num_teams({k.num_teams})")
    if k.thread_limit:
        parts.append(f"thread_limit({k.thread_limit})")
    if k.private:
        parts.append(f"private({', '.join(k.private)})")
    if k.firstprivate:
        parts.append(f"firstprivate({', '.join(k.firstprivate)})")
    if k.lastprivate:  # (on a combined construct a list item may also be mapped: clang-19
        # copies a lastprivate scalar back only when it is)
        parts.append(f"lastprivate({', '.join(k.lastprivate)}) map(tofrom: {', '.join(k.lastprivate)})")
    by_op: dict[str, list[str]] = {}
    for r in k.reductions:
        by_op.setdefault(r.op, []).append(r.variable)
    for op, names in by_op.items():
        parts.append(f"reduction({op}: {', '.join(names)})")
    for a in k.array_reductions:  # (a CPU device's copy per thread: engine/schedule.py)
        parts.append(f"reduction({a.op}: {section_text(a.section, constants)})")
    if k.struct_maps:  # before its members' sections, which then attach to its device copy
        parts.append(f"map(to: {', '.join(k.struct_maps)})")
    parts.extend(map_text(m, constants) for m in k.maps if m.sections)
    return " ".join(parts)


def update_groups(sections: list[Section]) -> list[list[Section]]:
    """Sections split so that no directive names one array twice: clang rejects
    ``target update to(c[i:1][j:1], c[j:1][i:1])`` (two sections of one array), so each
    repeated array goes to a directive of its own, in order."""
    groups: list[list[Section]] = []
    for sec in sections:
        home = next((g for g in groups if all(x.base != sec.base for x in g)), None)
        if home is None:
            groups.append([sec])
        else:
            home.append(sec)
    return groups


def region_directive(r: DataRegion, constants: dict[str, int] | None = None) -> str:
    return " ".join(["omp target data"] + [map_text(m, constants) for m in r.maps if m.sections])


_ENTER_KIND = {MapKind.TO: MapKind.TO, MapKind.TOFROM: MapKind.TO, MapKind.FROM: MapKind.ALLOC,
               MapKind.ALLOC: MapKind.ALLOC}


def enter_exit_directives(r: DataRegion, constants: dict[str, int] | None = None) -> tuple[str, str]:
    """``target enter data`` / ``target exit data`` equivalent to the region's maps."""
    enter: dict[str, list[str]] = {}
    leave: dict[str, list[str]] = {}
    for m in r.maps:
        for sec in m.sections:
            enter.setdefault(_ENTER_KIND[m.kind].value, []).append(section_text(sec, constants))
            out = "from" if m.kind in (MapKind.FROM, MapKind.TOFROM) else "release"
            leave.setdefault(out, []).append(section_text(sec, constants))

    def render(head: str, table: dict[str, list[str]]) -> str:
        return " ".join([head] + [f"map({k}: {', '.join(v)})" for k, v in table.items()])

    return render("omp target enter data", enter), render("omp target exit data", leave)


@dataclass
class _Insertions:
    """Lines to insert before one statement (or before a closing brace)."""

    lines: list[tuple[int, str]] = field(default_factory=list)  # (rank, text)


class _Editor:
    """Collects edits against the original bytes and applies them in one pass."""

    def __init__(self, unit: SourceUnit) -> None:
        self.data = unit.data
        self.path_literal = c_string(unit.path)
        self.root = hostaccess.parse(self.data, unit.language).root_node
        self.before: dict[int, _Insertions] = defaultdict(_Insertions)
        self.after_lines: dict[int, list[str]] = defaultdict(list)
        self.closes: dict[int, list[str]] = defaultdict(list)  # texts closing constructs, innermost first
        self.replace: dict[int, tuple[int, str]] = {}
        self._user_lines = _line_directives(self.root, self.data)

    # -- positions
    def line_of(self, pos: int) -> int:
        return self.data.count(b"\n", 0, pos) + 1

    def line_start(self, pos: int) -> int:
        return self.data.rfind(b"\n", 0, pos) + 1

    def line_directive(self, line: int) -> str:
        """``#line`` naming physical ``line`` as the compiler would name it: after one of
        the source's own ``#line`` directives (bison's, flex's output), by the file and
        number that directive gives (a held-out check: after a kernel, ``__LINE__`` and
        ``__FILE__`` said ``t.c:7`` where the program printed ``grammar.y:502``)."""
        k = bisect.bisect_left(self._user_lines, (line,)) - 1
        if k < 0:
            return f"#line {line} {self.path_literal}\n"
        at, number, path = self._user_lines[k]
        return f"#line {number + line - at - 1} {path or self.path_literal}\n"

    def as_written(self, start: int, end: int) -> str:
        """The source's bytes ``start..end`` on lines of their own, at their own line number
        and column (a copy of a loop beside its kernel: diagnostics name the user's lines)."""
        return (self.line_directive(self.line_of(start)) + " " * (start - self.line_start(start))
                + self.data[start:end].decode("utf-8", "surrogateescape"))

    def resumed(self, pos: int) -> str:
        """What puts the source's text at ``pos`` back at its line number and column, after
        lines of inserted text."""
        return self.line_directive(self.line_of(pos)) + " " * (pos - self.line_start(pos))

    # -- collecting
    def insert_before(self, pos: int, rank: int, text: str) -> None:
        self.before[pos].lines.append((rank, text))

    def close_after(self, pos: int, text: str = " }") -> None:
        """Close a construct opened before the statement ending at ``pos``: ``text`` follows
        it, after the closings of constructs registered earlier (which it encloses)."""
        self.closes[pos].append(text)

    def rename(self, start: int, end: int, text: str) -> None:
        self.replace[start] = (end, text)

    # -- applying
    def _block(self, pos: int, lines: list[str]) -> tuple[int, str]:
        """Where and what to insert so that ``lines`` precede the text at ``pos`` on lines
        of their own, and the text at ``pos`` keeps its line number and column."""
        line = self.line_of(pos)
        start = self.line_start(pos)
        body = "".join(text + "\n" + self.line_directive(line) for text in lines)
        if not self.data[start:pos].strip():
            return start, body
        return pos, "\n" + self.line_directive(line) + body + " " * (pos - start)

    def _after_block(self, pos: int, lines: list[str]) -> tuple[int, str]:
        """Where and what to insert so that ``lines`` follow the text ending at ``pos``."""
        line = self.line_of(pos)
        body = "".join(text + "\n" for text in lines)
        end = self.data.find(b"\n", pos)
        if end >= 0 and not self.data[pos:end].strip():  # rest of the line is blank
            return end + 1, body + self.line_directive(line + 1)
        return pos, "\n" + body + self.resumed(pos)

    def apply(self) -> str:
        wraps: set[int] = set()
        inserts: dict[int, list[str]] = defaultdict(list)  # position in data -> texts in order
        for pos, ins in sorted(self.before.items()):
            lines = [text for _, text in sorted(ins.lines, key=lambda rl: rl[0])]
            stmt = hostaccess.statement_at(self.root, pos)
            if stmt is not None and hostaccess.needs_braces(stmt):
                lines.insert(0, "{")
                self.close_after(stmt.end_byte)
                wraps.add(pos)
            hint = loop_hint_before(stmt, self.data) if stmt is not None and stmt.start_byte == pos else None
            if hint is not None:  # `#pragma unroll` must stay right before its loop
                pos = hint.start_byte
            where, text = self._block(pos, lines)
            inserts[where].append(text)
        for pos, lines in self.after_lines.items():
            where, text = self._after_block(pos, lines)
            inserts[where].insert(0, text)
        for pos, texts in self.closes.items():
            inserts[pos].insert(0, "".join(texts))
        out: list[str] = [self.line_directive(1)]
        cursor = 0
        data = self.data
        points = sorted(set(inserts) | set(self.replace))
        for pos in points:
            if pos < cursor:  # inside a replaced range: cannot happen for sound plans
                continue
            out.append(data[cursor:pos].decode("utf-8", "surrogateescape"))
            cursor = pos
            out.extend(inserts.get(pos, ()))
            if pos in self.replace:
                end, text = self.replace[pos]
                out.append(text)
                cursor = end
        out.append(data[cursor:].decode("utf-8", "surrogateescape"))
        return "".join(out)


def _line_directives(root: Node, data: bytes) -> list[tuple[int, int, str]]:
    """The source's own ``#line N ["file"]`` directives and GNU line markers (``# N "file"
    flags``, what ``cpp`` writes): (physical line, N, the file as a C string literal, or
    the one before it, "" for the source's own), in order.  (A ``#line N`` without a file
    keeps the one before it: taken in any other order, it named the physical file.)"""
    out: list[tuple[int, int, str]] = []
    current = ""
    calls = sorted((n for n in hostaccess.all_nodes(root) if n.type == "preproc_call"), key=lambda n: n.start_byte)
    for n in calls:
        directive = n.child_by_field_name("directive")
        if directive is None:
            continue
        spelled = "".join(data[directive.start_byte:directive.end_byte].decode("utf-8", "surrogateescape").split())
        argument = n.child_by_field_name("argument")
        text = data[argument.start_byte:argument.end_byte].decode("utf-8", "surrogateescape").strip() \
            if argument is not None else ""
        if spelled == "#line":
            number, _, rest = text.partition(" ")
        elif spelled[1:].isdigit():  # ``# 40 "lexer.l" 2``
            number, rest = spelled[1:], text
        else:
            continue
        if not number.isdigit():
            continue
        literal = _string_literal_at(rest.strip())
        if literal:
            current = literal
        out.append((n.start_point[0] + 1, int(number), current))
    return out


def _string_literal_at(text: str) -> str:
    """The C string literal ``text`` starts with (escapes kept), "" when it starts with none."""
    if not text.startswith('"'):
        return ""
    k = 1
    while k < len(text):
        if text[k] == "\\":
            k += 2
            continue
        if text[k] == '"':
            return text[:k + 1]
        k += 1
    return ""


def _blank_lines(ed: _Editor, p) -> str:
    """What replaces a removed pragma: its newlines (a pragma continued with backslashes
    spans several lines), so that every later line keeps its number."""
    return "\n" * ed.data.count(b"\n", p.start, p.end)


def _placeable(root, k: KernelPlan) -> bool:
    """Whether the kernel loop below emits kernel ``k`` (else PCX204): a loop statement
    starts at it, and every update to make atomic is an expression statement inside it."""
    stmt = hostaccess.statement_at(root, k.start_byte)
    if stmt is None or stmt.type not in hostaccess.LOOP_TYPES:
        return False
    for s, e in k.atomic_updates:
        node = hostaccess.node_for_range(root, s, e)
        if node is None or node.type != "expression_statement" or not (k.start_byte <= node.start_byte < k.end_byte):
            return False
    return True


class _UserOpenMP:
    """The user's OpenMP pragmas (``unit.openmp``, engine/ompport.py) in the rewrite.

    - A kernel under or around a pragma that stays (a construct pcx does not port, or a
      ``parallel for`` the analysis kept on the CPU) is not emitted (``blocked``).
    - The pragma of a ported loop (the kernel's own loop, or a loop inside the kernel) is
      removed, its line left blank (``remove_ported``).
    - An insertion before a statement that a kept pragma applies to goes before the pragma
      (``place``); a data region with a bound or an update inside a kept construct's
      statement is dropped (``region_fits``: one thread would not run it alone).
    """

    def __init__(self, scan, plan: Plan, root=None) -> None:
        self.pragmas = list(scan.pragmas) if scan is not None else []
        self.blocked: dict[str, str] = {}
        # Only kernels the rewrite can place: one it drops (PCX204) must not count as
        # carrying a pragma away (a region's other loops would then leave without it).
        kernels = [k for k in plan.offloaded() if root is None or _placeable(root, k)]
        while True:  # a blocked kernel un-ports the pragmas it held: to a fixed point
            live = [k for k in kernels if k.nest_id not in self.blocked]
            self.ported = [p for p in self.pragmas if p.candidate and p.loop is not None and any(
                k.start_byte == p.loop or k.start_byte <= p.start < k.end_byte for k in live)]
            starts = {p.start for p in self.ported}  # a parallel region goes when all its loops do
            self.ported += [h for h in self.pragmas if h.candidate and h.members and set(h.members) <= starts]
            kept = [p for p in self.pragmas if p not in self.ported]
            more = False
            for k in live:
                for p in kept:
                    inside = any(r is not None and r[0] <= k.start_byte < r[1] for r in (p.scope, p.group_scope))
                    if inside or k.start_byte <= p.start < k.end_byte:
                        self.blocked[k.nest_id] = (f"the loop is {'under' if inside else 'around'} the OpenMP "
                                                   f"'{p.name}' at line {p.line}, which stays as written")
                        more = True
                        break
            if not more:
                break
        self.kept = [p for p in self.pragmas if p not in self.ported]

    def place(self, pos: int) -> int:
        """Where a line that must precede the statement at ``pos`` goes: before the kept
        pragmas that apply to that statement."""
        for p in sorted(self.kept, key=lambda p: p.start):
            if p.scope is not None and p.scope[0] == pos:
                return p.start
        return pos

    def region_fits(self, r: DataRegion) -> bool:
        points = [r.start_byte, r.end_byte] + [u.byte for u in r.updates]
        return not any(p.scope is not None and p.scope[0] < x < p.scope[1] for p in self.kept for x in points)

    def remove_ported(self, ed: _Editor, unit: SourceUnit, emitted: list[KernelPlan]) -> list[Remark]:
        out = []
        removed: set[int] = set()
        for p in self.ported:
            if p.members:
                continue
            k = next((k for k in emitted if k.start_byte == p.loop), None)
            inner = next((k for k in emitted if k.start_byte <= p.start < k.end_byte), None)
            if k is None and inner is None:
                continue
            ed.rename(p.start, p.end, _blank_lines(ed, p))
            removed.add(p.start)
            dropped = f"; dropped {', '.join(p.dropped)}" if p.dropped else ""
            if k is not None and p.kernel:
                maps = " ".join(m.render() for m in k.maps if m.sections) or "no maps: a data region holds its data"
                msg = (f"OpenMP '{p.name}' written by the user keeps its text; pcx adds its data plan: {maps}")
            elif k is not None:
                why = ("on the pragma's word (PCX129), with the data the analysis computes" if k.pragma_claim
                       else "the analysis proves the loop independent and computes its data")
                msg = (f"OpenMP '{p.name}' ported to the device: {why}; the pragma is replaced by "
                       f"'omp target teams distribute parallel for'{dropped}")
            else:
                msg = (f"OpenMP '{p.name}' removed: its loop runs inside the kernel of the nest at line "
                       f"{inner.line}{dropped}")
            out.append(Remark("PCX124", unit.path, p.line, p.column, msg))
        for h in self.ported:
            if h.members and set(h.members) <= removed:
                ed.rename(h.start, h.end, _blank_lines(ed, h))
                out.append(Remark("PCX124", unit.path, h.line, h.column, (
                    f"OpenMP 'parallel' region removed: each of its {len(h.members)} worksharing loop(s) runs "
                    "on the device")))
        return out


def _host_copy(ed: _Editor, condition: str, start: int, end: int, braced: bool = False) -> str:
    """``if (!(condition)) { <the statements start..end as written> } else``; ``braced``:
    ``else {``, whose brace the caller closes after ``end``."""
    return f"if (!({condition})) {{\n{ed.as_written(start, end)}\n}} else" + (" {" if braced else "")


def _host_version(ed: _Editor, k: KernelPlan, stmt) -> str:
    """``if (!(WORK >= min)) { <the loop as written> } else`` before a guarded kernel (with
    its alias test too, ``device_test``: overlapping pointers run the loop as written).

    Below the threshold the loop runs as the user wrote it.  The kernel's ``if(target:)``
    alone would run it on the host too, but through the construct's host fallback, which
    still forks teams and threads: about 14 us a call on clang-19, so a helper with a
    small loop called per element (k-means' distance function) ran 1,000x slower than
    serial; this branch costs one comparison.  The clause stays on the kernel, where it is
    always true, as the OpenMP-visible form of the same guard.

    The kernel is the ``else``'s block, closed after the loop: a statement after the loop
    on its line (``for (...) s += x[i]; return s;``) would otherwise follow an ``else``
    without braces, which -Wmisleading-indentation (in -Wall) flags, and a -Werror build
    fell back to the original source (a held-out check)."""
    ed.close_after(stmt.end_byte)
    return _host_copy(ed, device_test(k), stmt.start_byte, stmt.end_byte, braced=True)


def _pivot_version(ed: _Editor, k: KernelPlan, stmt, sections: list[str]) -> str:
    """Before a kernel relaxed through a pivot (engine/pivot.py): its test, computed where
    the data is, and the loop as written on one device thread where the test fails::

        { int pcx_pivot_L = 0;
        #pragma omp target map(tofrom: pcx_pivot_L) MAPS
        pcx_pivot_L = (TEST);
        if (!pcx_pivot_L) {
        #pragma omp target MAPS
          <the loop as written>
        } else <the kernel> }

    (the closing brace follows the loop).  The two small target regions carry the loop's
    last line, so their kernel names never take the kernel's own ``_l<line>``.  Outside a
    data region the test maps the kernel's sections ``to`` and the loop as written maps
    them ``tofrom``; inside one they are present."""
    name = f"pcx_pivot_{k.line}"
    last = ed.line_directive(ed.line_of(max(stmt.start_byte, stmt.end_byte - 1)))
    listed = ", ".join(sections)
    to, tofrom = (f" map(to: {listed})", f" map(tofrom: {listed})") if sections else ("", "")
    return (f"{{ int {name} = 0;\n{last}#pragma omp target map(tofrom: {name}){to}\n"
            f"{name} = ({k.pivot_test});\nif (!{name}) {{\n{last}#pragma omp target{tofrom}\n"
            f"{ed.as_written(stmt.start_byte, stmt.end_byte)}\n}} else")


def _restart_names(k: KernelPlan) -> tuple[list[str], list[tuple[str, str]], str]:
    """(the checked reductions' variables, each of the kernel's reductions with the name
    of its saved start, the NaN flag) of kernel ``k``."""
    checked = [r.variable for r in k.reductions if r.restarts or r.zero_sign]
    flag = f"pcx_nan_{k.line}"
    saved = [x.variable for x in k.reductions if x.variable != flag]
    return checked, [(v, f"pcx_start_{k.line}" + (f"_{j}" if j else "")) for j, v in enumerate(saved)], flag


def _flag_restarts(ed: _Editor, k: KernelPlan) -> KernelPlan:
    """Kernel ``k`` with its NaN flag (``Reduction.restarts``): ``, FLAG |= !(m <= m)``
    (true for a NaN alone; no ``==`` for -Wfloat-equal to flag) after each restarting
    update, and the flag reduced with ``|``."""
    flag = _restart_names(k)[2]
    for r in k.reductions:
        for end in r.restarts:
            ed.rename(end, end, f", {flag} |= !({r.variable} <= {r.variable})")
    return dataclasses.replace(k, reductions=[*k.reductions, Reduction("|", flag)])


def _rerun_version(ed: _Editor, k: KernelPlan, stmt) -> None:
    """Around kernel ``k``, whose minimum or maximum a NaN element restarts
    (``Reduction.restarts``) or may end at a zero of either sign (``zero_sign``)::

        { __typeof__(m) pcx_start_L = m; int pcx_nan_L = 0;
        <the kernel, its host version included>
        if (pcx_nan_L || !(m - m <= 0) || !(m < 0 || m > 0)) { m = pcx_start_L; <the loop as written> } }

    (each other reduction of the kernel saved and set back to its start as ``m`` is: the
    loop as written computes them all again).

    Where no partial value was NaN and the result is finite and not 0, the reduction's
    minimum is the serial loop's (for any other number, equal values are one value); a NaN
    element, a tie of +0 and -0, or an infinity the reduction's finite starts may have
    hidden runs the loop again from the same start, as the user wrote it.  The nest
    writes nothing else (analysis._restarts_rerun) and maps its own data, so the host
    copies it reads are current.  (``__typeof__``: no conversion for -Wconversion to flag.)"""
    checked, starts, flag = _restart_names(k)
    saves = " ".join(f"__typeof__({v}) {s} = {v};" for v, s in starts)
    resets = "\n".join(f"{v} = {s};" for v, s in starts)
    # each checked minimum or maximum (a held-out check: a second one's zero went unseen)
    tests = " || ".join(f"!({v} - {v} <= 0) || !({v} < 0 || {v} > 0)" for v in checked)
    ed.insert_before(k.start_byte, _RANK_KERNEL - 3, f"{{ {saves} int {flag} = 0;")
    ed.close_after(stmt.end_byte, (
        f"\nif ({flag} || {tests}) {{\n{resets}\n"
        f"{ed.as_written(stmt.start_byte, stmt.end_byte)}\n}} }}\n{ed.resumed(stmt.end_byte)}"))


def _exit_flag(k: KernelPlan) -> str:
    return f"pcx_exit_{k.line}"


def _flag_exits(ed: _Editor, k: KernelPlan) -> KernelPlan:
    """Kernel ``k`` with each ``exit(E);`` of its loop (``KernelPlan.exits``) made ``{ FLAG
    = 1; continue; }`` and the flag reduced with ``|``."""
    flag = _exit_flag(k)
    for start, end in k.exits:
        ed.rename(start, end, f"{{ {flag} = 1; continue; }}")
    return dataclasses.replace(k, reductions=[*k.reductions, Reduction("|", flag)])


def _exit_after(ed: _Editor, k: KernelPlan, stmt) -> None:
    """Around kernel ``k``: ``{ int FLAG = 0;`` before it (and before its host version),
    and after it ``if (FLAG) exit(E); }``, the statement as written: an iteration that
    reached it set the flag (``_flag_exits``)."""
    flag = _exit_flag(k)
    ed.insert_before(k.start_byte, _RANK_KERNEL - 4, f"{{ int {flag} = 0;")
    ed.close_after(stmt.end_byte, f"\nif ({flag}) {{\n{ed.as_written(*k.exits[0])}\n}} }}\n{ed.resumed(stmt.end_byte)}")


def _region_block(ed: _Editor, omp: "_UserOpenMP", r: DataRegion, dropped: set[str]) -> Node | None:
    """The block whose statements region ``r`` wraps, or None when it is not emitted: a
    kernel of it was dropped, it maps nothing, the user's OpenMP is in the way, or its
    bounds are not statements of one block."""
    if any(n in dropped for n in r.kernels) or not any(m.sections for m in r.maps) or not omp.region_fits(r):
        return None
    first = hostaccess.statement_at(ed.root, r.start_byte)
    if first is None or first.parent is None or first.parent.type != "compound_statement":
        return None
    block = first.parent
    if not any(c.end_byte == r.end_byte and c.start_byte >= r.start_byte for c in block.named_children):
        return None
    return block


def _remark(unit: SourceUnit, k: KernelPlan, rid: str, message: str) -> Remark:
    return Remark(rid, unit.path, k.line, k.column, message)


def rewrite_unit(unit: SourceUnit, plan: Plan) -> Rewrite:
    """Render ``plan`` on ``unit``; see the module docstring for the contract."""
    ed = _Editor(unit)
    remarks: list[Remark] = []
    directives: list[EmittedDirective] = []

    # Kernels first: a kernel that cannot be placed takes its data region down with it.
    placed: list[tuple[KernelPlan, Node, list[int]]] = []  # (kernel, its loop, its atomic updates)
    emitted: list[KernelPlan] = []
    dropped: set[str] = set()
    # No run-time host fallback where a data region (even one dropped below) may hold the data.
    # (A region guarded with its callees' guards leaves them theirs: engine/callerguard.py.)
    holding = [r for r in plan.regions if not r.callees_keep_guards]
    held = held_by_regions(ed.data, unit.language, plan, holding) if any(device_test(k) for k in plan.kernels) else set()
    omp = _UserOpenMP(unit.openmp, plan, ed.root)
    # Kernels of a region versioned for aliasing: the region's test covers them.
    covered = {n for r in plan.regions if r.alias_test for n in r.kernels}
    for k in plan.offloaded():
        stmt = hostaccess.statement_at(ed.root, k.start_byte)
        if stmt is None or stmt.type not in hostaccess.LOOP_TYPES:
            dropped.add(k.nest_id)
            remarks.append(_remark(unit, k, "PCX204", f"no loop statement starts at byte {k.start_byte}; nest kept serial"))
            continue
        if k.nest_id in omp.blocked:
            dropped.add(k.nest_id)
            remarks.append(_remark(unit, k, "PCX204", f"{omp.blocked[k.nest_id]}; nest kept serial"))
            continue
        atomics = []
        for s, e in k.atomic_updates:
            node = hostaccess.node_for_range(ed.root, s, e)
            if node is None or node.type != "expression_statement" or not (k.start_byte <= node.start_byte < k.end_byte):
                atomics = None
                break
            atomics.append(node.start_byte)
        if atomics is None:
            dropped.add(k.nest_id)
            remarks.append(_remark(unit, k, "PCX204", "an update to be made atomic is not an expression statement; nest kept serial"))
            continue
        if k.nest_id in covered or (k.alias_read_only and k.nest_id in held):
            k = dataclasses.replace(k, alias_test="")  # (a region's test, or data a region holds)
        # a kernel with a host version of its own maps its own data (the checker refuses these)
        versioned = "versioned for aliasing" if k.alias_test else \
            "whose sections rest on run-time facts" if k.tested_at_run_time() else \
            "that may run its loop again as written" if k.reruns() else ""
        if versioned and (k.nest_id in held or not hostaccess.can_copy(stmt)):
            dropped.add(k.nest_id)
            remarks.append(_remark(unit, k, "PCX204", f"a kernel {versioned} needs its own maps and a copy of the "
                                                      "loop; nest kept serial"))
            continue
        if k.pivot_test and (not hostaccess.can_copy(stmt) or k.private_arrays or k.alias_test):
            dropped.add(k.nest_id)
            remarks.append(_remark(unit, k, "PCX204", "a kernel tested on its pivot needs a copy of the loop; nest "
                                                      "kept serial"))
            continue
        if any(p.bounds_test for p in k.private_arrays) and (k.nest_id in held or not hostaccess.can_copy(stmt)):
            # (the analysis and the plan checker refuse these; a caller's region may hold its data)
            raise RuntimeError("a kernel with a private array's range test is held by a data region")
        placed.append((k, stmt, atomics))

    if any(n in dropped for n in covered):  # its other kernels were placed without their own test
        raise RuntimeError("a kernel of a region versioned for aliasing could not be placed")
    # A kernel kept serial whose data a region may hold (a caller's, around the call) would
    # read stale host copies: that region goes too.
    lost = {id(r) for r in plan.regions if dropped and held_by_regions(ed.data, unit.language, plan, [r]) & dropped}
    blocks = {id(r): None if id(r) in lost else _region_block(ed, omp, r, dropped) for r in plan.regions}
    kept_regions: list[DataRegion] = [r for r in plan.regions if blocks[id(r)] is not None]
    withdrawn = [(k.line, "PCX100") for k in plan.offloaded() if k.nest_id in dropped]
    if len(kept_regions) < len(plan.regions):
        # Kernels planned inside a region that is not emitted map their own data: each
        # takes back the work guard it has alone, and says so where it said it was held.
        still = held_by_regions(ed.data, unit.language, plan, [r for r in kept_regions if not r.callees_keep_guards])
        for index, (k, stmt, atomics) in enumerate(placed):
            if k.nest_id in still:
                continue
            said = [m for m in k.remarks if m.id == "PCX100" and HELD_NOTE in m.message]
            if k.alone_work_expr:
                k = dataclasses.replace(k, work_expr=k.alone_work_expr, copy_cost=k.alone_copy_cost)
                placed[index] = (k, stmt, atomics)
            if said:
                withdrawn.append((k.line, "PCX100"))
                note = (f"; on the host when below --pcx-min-work={k.min_work:g} (if(target:)): the data region it "
                        "was planned in is not emitted" if k.work_expr
                        else "; always on the device (planned inside a data region that is not emitted)")
                remarks.append(dataclasses.replace(said[0], message=said[0].message.replace(HELD_NOTE, note)))
        held = held & still
    for r in plan.regions:
        if r not in kept_regions:
            withdrawn += [(r.line, "PCX200"), (r.line, "PCX205"), *((u.line, "PCX201") for u in r.updates)]
            remarks.append(Remark("PCX204", unit.path, r.line, 1, (
                "data region not emitted: " + ("a kernel whose data it may hold is kept serial"
                                               if id(r) in lost or any(n in dropped for n in r.kernels)
                                               else "it maps nothing, or its statements are not one block it can wrap")
                + "; kernels map their own data")))
    # A region's lifted test is computed once, where it starts, into a variable its enter and
    # exit data and its kernels read: a name it reads that changes unseen inside the region
    # (a macro, a lambda, a reference the analysis missed) cannot make them disagree, where
    # a kernel testing false after a true enter ran its loop on the stale host copy (a
    # held-out check).  Declared, then assigned: a jump past it stays valid C++.
    tested_as: dict[int, str] = {}
    for r in kept_regions:
        if r.lifted_tests:
            tested_as[id(r)] = f"pcx_region_test_{len(tested_as) + 1}"
    by_test = {n: tested_as[id(r)] for r in kept_regions if id(r) in tested_as for n in r.kernels}
    placed = [(dataclasses.replace(k, region_test=by_test[k.nest_id]) if k.region_test and k.nest_id in by_test else k,
               stmt, atomics) for k, stmt, atomics in placed]
    # Inside a region a kernel maps the region's sections (dataplan._kernel_maps_within); a
    # kernel whose region is not emitted maps what it touches, as planned alone.
    unheld = {n for r in plan.regions if r not in kept_regions for n in r.kernels}
    for k, stmt, atomics in placed:
        if k.nest_id in unheld and k.alone_maps:
            k = dataclasses.replace(k, maps=k.alone_maps, alone_maps=[])
        if k.reruns():
            k = _flag_restarts(ed, k)
        if k.exits:
            k = _flag_exits(ed, k)
        emitted.append(k)
        for p in k.private_arrays:  # (engine/privatise.py)
            ed.insert_before(p.body_start, _RANK_PRIVATE, p.declaration())
            for start, end in p.uses:
                ed.rename(start, end, p.private_name)
            if p.copy:
                ed.after_lines[p.body_end].append(p.copy_back())
        text = kernel_directive(k, guard=k.nest_id not in held, constants=plan.constants)
        if k.lastprivate:  # what the loop leaves in its index when it runs no iteration
            ed.insert_before(k.start_byte, _RANK_KERNEL - 2, f"{k.lastprivate[0]} = {k.lastprivate_init};")
        if (k.nest_id not in held or k.region_test) and device_test(k) and hostaccess.can_copy(stmt):
            ed.insert_before(k.start_byte, _RANK_KERNEL - 1, _host_version(ed, k, stmt))
        if k.pivot_test:
            sections = [section_text(sec, plan.constants) for m in k.maps for sec in m.sections]
            ed.insert_before(k.start_byte, _RANK_KERNEL - 0.5, _pivot_version(ed, k, stmt, sections))
            ed.close_after(k.end_byte)
        if k.reruns():
            _rerun_version(ed, k, stmt)
        if k.exits:
            _exit_after(ed, k, stmt)
        ed.insert_before(k.start_byte, _RANK_KERNEL, "#pragma " + text)
        directives.append(EmittedDirective(k.line, text, k.nest_id))
        for pos in atomics:
            ed.insert_before(pos, _RANK_ATOMIC, "#pragma omp atomic update")
            directives.append(EmittedDirective(ed.line_of(pos), "omp atomic update", k.nest_id))

    unstructured_at: set[int] = set()  # regions written as enter/exit data pairs
    for r in kept_regions:
        block = blocks[id(r)]
        if (r.alias_test or r.bounds_test) and any(c.type == "declaration" and r.start_byte <= c.start_byte < r.end_byte
                                                   for c in block.named_children):
            raise RuntimeError("a region with a run-time test has declarations among its statements")
        # A declaration among the wrapped statements may be used after them: braces would
        # end its scope, so such a region is an enter/exit data pair instead.
        unstructured = any(c.type == "declaration" and r.start_byte <= c.start_byte < r.end_byte
                           for c in block.named_children) or bool(r.lifted_tests)
        if unstructured:
            unstructured_at.add(r.start_byte)
            enter, leave = enter_exit_directives(r, plan.constants)
            if r.lifted_tests:  # (its kernels test the same: where it fails, all runs as written)
                name = tested_as[id(r)]
                ed.insert_before(omp.place(r.start_byte), _RANK_REGION - 2, f"int {name}; {name} = ({r.lifted_test});")
                enter, leave = f"{enter} if({name})", f"{leave} if({name})"
            ed.insert_before(omp.place(r.start_byte), _RANK_REGION, "#pragma " + enter)
            directives.append(EmittedDirective(r.line, enter, None))
            directives.append(EmittedDirective(ed.line_of(r.end_byte), leave, None))
        else:
            text = region_directive(r, plan.constants)
            tests = [t for t in (r.bounds_test, r.work_guard, r.alias_test) if t]
            test = tests[0] if len(tests) == 1 else " && ".join(f"({t})" for t in tests)
            if test:  # (workguard.region_statements: the statements can be copied)
                ed.insert_before(r.start_byte, _RANK_REGION - 1, _host_copy(ed, test, r.start_byte, r.end_byte))
            ed.insert_before(omp.place(r.start_byte), _RANK_REGION, "#pragma " + text)
            ed.insert_before(omp.place(r.start_byte), _RANK_REGION + 1, "{")
            directives.append(EmittedDirective(r.line, text, None))
        trailing = []
        for u in r.updates:
            if not u.sections:
                continue
            for group in update_groups(u.sections):
                utext = f"omp target update {u.direction}(" + ", ".join(section_text(s, plan.constants) for s in group) + ")"
                directives.append(EmittedDirective(u.line, utext, None))
                if u.byte == r.end_byte:  # last thing inside the region
                    trailing.append("#pragma " + utext)
                else:
                    ed.insert_before(omp.place(u.byte), _RANK_UPDATE, "#pragma " + utext)
        if unstructured:
            ed.after_lines[r.end_byte].extend(trailing + ["#pragma " + leave])
        elif trailing:
            ed.after_lines[r.end_byte].extend(trailing + ["}"])
        else:
            ed.close_after(r.end_byte)

    if any(r.alias_test and r not in kept_regions for r in plan.regions):
        raise RuntimeError("a region versioned for aliasing could not be placed; its kernels have no test")
    live_positions = {k.start_byte for k in emitted} | {r.start_byte for r in kept_regions}
    scoped: set[int] = set()  # constructs given a block for their declarations
    for lp in plan.local_pointers:
        used = any(k.start_byte <= s < k.end_byte for s, _ in lp.renames for k in emitted)
        if lp.byte not in live_positions and not used:
            continue
        value = lp.init or f"({lp.container}).data()"
        declaration = f"{lp.type} {lp.name} = {value};" if lp.type else f"auto *{lp.name} = {value};"
        ed.insert_before(omp.place(lp.byte), _RANK_DECL, declaration)
        if lp.byte in live_positions and lp.byte not in scoped and lp.byte not in unstructured_at:
            # a block of its own around the declaration and the construct it serves: C89 and
            # -Werror=declaration-after-statement take no declaration after a statement, and
            # C++ no jump past an initialisation (a loop right under a ``case`` label); not
            # around a region written as enter/exit data: its statements declare what
            # follows them uses
            end = next((r.end_byte for r in kept_regions if r.start_byte == lp.byte),
                       next((k.end_byte for k in emitted if k.start_byte == lp.byte), None))
            # (only where every use is inside: kernels after it may share the pointer)
            shared = [q for q in plan.local_pointers if q.byte == lp.byte]
            if end is not None and all(lp.byte <= s < end for q in shared for s, _ in q.renames):
                scoped.add(lp.byte)
                ed.insert_before(omp.place(lp.byte), _RANK_DECL - 1, "{")
                ed.after_lines[end].append("}")
        if lp.byte not in live_positions and not lp.type:
            # its region is not emitted: host code between the region's start and a kernel
            # may have resized the container, so each kernel takes its data pointer afresh
            for k in emitted:
                if k.start_byte != lp.byte and any(k.start_byte <= s < k.end_byte for s, _ in lp.renames):
                    ed.insert_before(omp.place(k.start_byte), _RANK_DECL, f"{lp.name} = {value};")
        for s, e in lp.renames:
            ed.rename(s, e, lp.name)
        for opening, closing in lp.brackets:  # domain.x(i) -> pcx_domain_m_x[i]
            ed.rename(opening, opening + 1, "[")
            ed.rename(closing, closing + 1, "]")

    _hand_over_extents(ed, emitted)
    if emitted:
        ranges = plan.declare_target_ranges or hostaccess.function_ranges(ed.data, unit.language, plan.declare_target)
        for s, e in _merge(ranges):
            ed.insert_before(s, 0, "#pragma omp declare target")
            ed.after_lines[e].append("#pragma omp end declare target")
            directives.append(EmittedDirective(ed.line_of(s), "omp declare target", None))

    remarks.extend(omp.remove_ported(ed, unit, emitted))
    if any(p.kernel and p not in omp.ported for p in omp.pragmas) or \
            any(k.user_directive and k not in emitted for k in plan.offloaded()):
        # a kernel the user wrote that this plan does not emit would run with data the plan
        # believes is on the host: the source is compiled as written
        return Rewrite(unit.path, unit.text, [], remarks, withdrawn)
    if not emitted:
        return Rewrite(unit.path, unit.text, [], remarks, withdrawn)
    return Rewrite(unit.path, ed.apply(), sorted(directives, key=lambda d: d.line), remarks, withdrawn)


def _hand_over_extents(ed: _Editor, emitted: list[KernelPlan]) -> None:
    """The two thread-local variables of each ``CallerExtent`` an emitted kernel tests, at
    file scope before the first definition that uses them, with one function that takes a
    pointer over and clears it; each call that hands the extent over written as ``{ base
    = (const void *)(a); length = (long)(n); f(a, ...); base = 0; }`` on the call's own lines; and
    the function's first declarations ``const void *pcx_hbase_p = pcx_take(&base); long
    pcx_hlen_p = length;``, which the kernel tests and maps.  A call inside a kernel is
    left as it is (host variables have no place there): the callee's loop then runs as
    written, as it does at every call that hands nothing over."""
    handed: dict[str, object] = {}
    for k in emitted:
        for c in k.caller_extents:
            handed.setdefault(c.base_var, c)
    if not handed:
        return
    spans = [(k.start_byte, k.end_byte) for k in emitted]
    first = min(c.body_byte for c in handed.values())
    at_site: dict[tuple[int, int], list[tuple[object, object]]] = defaultdict(list)
    for c in handed.values():
        for site in c.sites:
            if not any(s <= site.start_byte < e or site.start_byte <= s < site.end_byte for s, e in spans):
                at_site[(site.start_byte, site.end_byte)].append((c, site))
    for (start, end), pairs in at_site.items():
        call = ed.data[start:end].decode("utf-8", "surrogateescape")
        sets = " ".join(f"{c.base_var} = (const void *)({site.argument}); {c.length_var} = (long)({wide_products(site.count)});"
                        for c, site in pairs)
        # (cleared after the call too: a hand-over no function took never reaches a later call)
        clears = " ".join(f"{c.base_var} = 0;" for c, _ in pairs)
        ed.rename(start, end, f"{{ {sets} {call} {clears} }}")
        first = min(first, start)
    by_body: dict[int, list] = defaultdict(list)
    for c in handed.values():
        by_body[c.body_byte].append(c)
    for body_byte, cs in by_body.items():
        # (declarations only, before the function's own: C89 takes no statement before them)
        ed.insert_before(body_byte, _RANK_DECL - 5, " ".join(
            f"const void *{c.local_base} = pcx_take_extent(&{c.base_var}); long {c.local_length} = {c.length_var};"
            for c in cs))
    top = ed.root.descendant_for_byte_range(first, first)
    while top is not None and top.parent is not None and top.parent.type != "translation_unit":
        top = top.parent
    at = top.start_byte if top is not None and top.parent is not None else ed.line_start(first)
    decls = " ".join(f"static __thread const void *{c.base_var}; static __thread long {c.length_var};"
                     for c in handed.values())
    ed.insert_before(at, -1, decls + " static const void *pcx_take_extent(const void **slot) { const void *p = *slot; "
                     "*slot = 0; return p; }")


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(set(ranges)):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
