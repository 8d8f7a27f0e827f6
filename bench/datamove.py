"""Issue 3 benchmark: bytes moved and kernels launched by the data plan, per example.

For every example under examples/c/*.c and examples/cpp/*/main.cpp this builds three
programs with clang-19 for the host device and runs each with LIBOMPTARGET_INFO=48:

- ``plan``:  the static plan (analysis -> data plan -> rewrite, as ``pcx-cc
  --pcx-mode=static`` does), with its target data regions and updates;
- ``naive``: the same kernels, each mapping every array ``tofrom``, no regions;
- and it computes the ``minimum`` a perfect plan needs, independently of the planner.
  In: the naive build carries host-side probes around every kernel (``with_probes``):
  before a kernel they count, per element of each mapped section, the bytes the host
  changed since a kernel last had them and the bytes no kernel has mapped yet; a perfect
  plan must bring in the changed bytes of what a kernel reads, and the unseen ones where
  the kernel only reads the array or is the first to touch it.  So an array the host
  rewrites between two kernels counts twice, as it must, and one it leaves alone once.
  Out: a buffer goes out once if a kernel writes it and the host reads it afterwards (a
  static check of the source: a later element access, print or call outside the kernels;
  through callers for parameters; one buffer per live pointer for swapped buffers).
  Host reads between kernels are not in the out side, so a program that needs them
  shows a ratio above 1; the liveness check is conservative, so a ratio below 1 means
  the estimate counted a buffer that no path reads.

Bytes are array sections only (INFO lines whose name has ``[``): reduction results and
other scalars are a few bytes per launch that no plan can save.  It prints a table
(bytes in, out, launches; plan/minimum ratio; output equal to the serial build within
the gate's tolerance) and writes a bar chart to bench/out/datamove.png.  Goal: plan
within 1.10x of the minimum on every example.

    .venv/bin/python bench/datamove.py [example-name ...]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcx_driver.engine.dataplan import plan_unit  # noqa: E402
from pcx_driver.engine.hostscan import passed_array  # noqa: E402
from pcx_driver.engine.hostaccess import identifiers_in, parse  # noqa: E402
from pcx_driver.engine.rewrite import rewrite_unit  # noqa: E402
from pcx_driver.model import Language, MapClause, MapKind, Plan, SourceUnit  # noqa: E402
from pcx_driver.gate import first_difference  # noqa: E402
from pcx_driver.profile import copies, parse_kernel_name  # noqa: E402

OFFLOAD = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
           "-Wl,-rpath,/usr/lib/llvm-19/lib"]
ENV = {"OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
       "MALLOC_PERTURB_": "165", "OMP_NUM_THREADS": "2", "LIBOMPTARGET_INFO": "48"}


@dataclass
class Moved:
    to_dev: int = 0
    from_dev: int = 0
    launches: int = 0
    stdout: str = ""
    stderr: str = ""
    ok: bool = False
    sizes: dict[str, int] = field(default_factory=dict)  # array base -> bytes of one copy


@dataclass
class Row:
    name: str
    plan: Moved | None = None
    naive: Moved | None = None
    min_to: int = 0
    min_from: int = 0
    matches_serial: bool = False
    note: str = ""


def examples(selected: list[str]) -> list[Path]:
    found = sorted((ROOT / "examples/c").glob("*.c")) + sorted((ROOT / "examples/cpp").glob("*/main.cpp"))
    if selected:
        found = [p for p in found if _name(p) in selected or _name(p).removeprefix("cpp/") in selected]
    return found


def _name(p: Path) -> str:
    return "cpp/" + p.parent.name if p.name == "main.cpp" else p.stem


def naive_plan(plan: Plan) -> Plan:
    """Every offloaded kernel maps every array it touches ``tofrom``; no regions."""
    for k in plan.offloaded():
        secs = [s for m in k.maps for s in m.sections]
        k.maps = [MapClause(MapKind.TOFROM, secs)] if secs else []
    plan.regions = []
    plan.remarks = [r for r in plan.remarks if r.id not in ("PCX200", "PCX201", "PCX203")]
    return plan


# Host-side probes around every kernel of the naive build (which maps every section tofrom,
# so after a kernel the host copy holds the device's result).  After a kernel a probe
# snapshots each mapped section; before the next kernel it counts, per element, the bytes
# the host changed since the newest snapshot covering it ("changed") and the bytes no
# kernel has mapped yet ("unseen").  A perfect plan must bring in at least the changed
# bytes of what a kernel reads, and the unseen ones where the kernel only reads the array
# or is the first to touch it (an array a kernel reads and writes may have unseen bytes it
# only writes: counting them would overstate the minimum).  That is the input side.
PROBE_RUNTIME = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static struct { const unsigned char *p; size_t n; unsigned char *copy; } pcx_snap_[4096];
static int pcx_nsnap_;  /* disjoint ranges: the host's copy of each as of the last kernel touching it */
static void pcx_probe_(int after, int line, const char *name, const void *addr, size_t n, size_t es)
{
    const unsigned char *p = (const unsigned char *)addr;
    size_t k, changed = 0, unseen = 0;
    int j;
    if (after) {  /* merge [p, p+n) with every snapshot it overlaps, then take its bytes anew */
        const unsigned char *lo = p, *hi = p + n;
        unsigned char *copy;
        int kept = 0;
        for (j = 0; j < pcx_nsnap_; j++)
            if (pcx_snap_[j].p < p + n && p < pcx_snap_[j].p + pcx_snap_[j].n) {
                if (pcx_snap_[j].p < lo) lo = pcx_snap_[j].p;
                if (pcx_snap_[j].p + pcx_snap_[j].n > hi) hi = pcx_snap_[j].p + pcx_snap_[j].n;
            }
        copy = (unsigned char *)malloc((size_t)(hi - lo) + 1);
        for (j = 0; j < pcx_nsnap_; j++) {
            if (pcx_snap_[j].p < p + n && p < pcx_snap_[j].p + pcx_snap_[j].n) {
                memcpy(copy + (pcx_snap_[j].p - lo), pcx_snap_[j].copy, pcx_snap_[j].n);
                free(pcx_snap_[j].copy);
            } else {
                pcx_snap_[kept++] = pcx_snap_[j];
            }
        }
        memcpy(copy + (p - lo), p, n);
        pcx_nsnap_ = kept;
        if (pcx_nsnap_ < 4096) {
            pcx_snap_[pcx_nsnap_].p = lo;
            pcx_snap_[pcx_nsnap_].n = (size_t)(hi - lo);
            pcx_snap_[pcx_nsnap_].copy = copy;
            pcx_nsnap_++;
        } else {
            free(copy);
        }
        return;
    }
    for (k = 0; k + es <= n; k += es) {
        for (j = pcx_nsnap_ - 1; j >= 0; j--)
            if (p + k >= pcx_snap_[j].p && p + k + es <= pcx_snap_[j].p + pcx_snap_[j].n)
                break;
        if (j < 0)
            unseen += es;
        else if (memcmp(p + k, pcx_snap_[j].copy + (p + k - pcx_snap_[j].p), es))
            changed += es;
    }
    fprintf(stderr, "pcx-probe: %d %s %zu %zu %zu\n", line, name, n, changed, unseen);  /* unseen == n: first touch */
}
"""

_PROBE = re.compile(r"^pcx-probe: (\d+) (\S+) (\d+) (\d+) (\d+)$", re.M)


def _probe_calls(k, after: int) -> str:
    calls = []
    for m in k.maps:
        for sec in m.sections:
            first = sec.base + "".join(f"[{lo}]" for lo, _ in sec.dims)
            count = " * ".join(f"(size_t)({ln})" for _, ln in sec.dims) or "1"
            calls.append(f'pcx_probe_({after}, {k.line}, "{sec.base}", (const void *)&{first}, '
                         f"{count} * sizeof {first}, sizeof {first});")
    return " ".join(calls)


def with_probes(text: str, plan: Plan, language: Language) -> str:
    """The naive build's text with a probe before and after every kernel (see PROBE_RUNTIME):
    ``{ before...`` on a line of its own ahead of the kernel's ``#pragma`` (whose ``#line``
    restores the numbering) and ``after... }`` on the loop's last line."""
    data = text.encode()
    by_line = {k.line: k for k in plan.offloaded()}
    edits: list[tuple[int, str]] = []
    stack = [parse(data, language).root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.named_children)
        if n.type != "for_statement":
            continue
        line_dir, pragma = n.prev_named_sibling, n.prev_named_sibling and n.prev_named_sibling.prev_named_sibling
        if not (line_dir and pragma and line_dir.type == pragma.type == "preproc_call"):
            continue
        head = data[pragma.start_byte:pragma.end_byte].decode()
        nums = data[line_dir.start_byte:line_dir.end_byte].decode().split()
        if not head.startswith("#pragma omp target") or len(nums) < 2 or not nums[1].isdigit():
            continue
        k = by_line.get(int(nums[1]))
        if k is None or not k.maps:
            continue
        edits.append((pragma.start_byte, "{ " + _probe_calls(k, 0) + "\n" + _presumed(data, pragma.start_byte)))
        edits.append((n.end_byte, " " + _probe_calls(k, 1) + " }"))
    for pos, ins in sorted(edits, reverse=True):
        data = data[:pos] + ins.encode() + data[pos:]
    return PROBE_RUNTIME + data.decode()


def _presumed(data: bytes, pos: int) -> str:
    """A ``#line`` directive that gives the line at ``pos`` the number it has now, so that
    the text inserted before it shifts nothing (kernel names carry line numbers)."""
    before = data[:pos].decode().split("\n")
    for back, text in enumerate(reversed(before[:-1])):
        words = text.split()
        if len(words) >= 3 and words[0] == "#line" and words[1].isdigit():
            return f"#line {int(words[1]) + back} {words[2]}\n"
    return f"#line {len(before)}\n"


def host_changes(stderr: str) -> list[tuple[int, str, int, int, int]]:
    """(kernel line, mapped name, bytes, changed bytes, unseen bytes) per probe, in order."""
    return [(int(a), b, int(c), int(d), int(e)) for a, b, c, d, e in _PROBE.findall(stderr)]


def _base(name: str) -> str:
    return name.split("[", 1)[0].strip()


def build_run(text: str, unit: SourceUnit, work: Path, tag: str) -> Moved:
    cxx = unit.language is Language.CXX
    src = work / f"{tag}{'.cpp' if cxx else '.c'}"
    src.write_text(text)
    exe = work / f"{tag}.exe"
    cc = "clang++-19" if cxx else "clang-19"
    r = subprocess.run([cc, *OFFLOAD, str(src), "-o", str(exe), "-lm"], capture_output=True, text=True, cwd=work)
    if r.returncode != 0:
        raise RuntimeError(f"{tag} build failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}")
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=dict(os.environ, **ENV), cwd=work, timeout=300)
    cs = copies(p.stderr)
    # Array sections only: reduction results and other scalars are not data movement a
    # plan can save (a few bytes per launch).
    cs = [c for c in cs if "[" in c.name]
    m = Moved(sum(c.size for c in cs if c.to_device), sum(c.size for c in cs if not c.to_device),
              p.stderr.count("info: Launching kernel"), p.stdout, p.stderr, p.returncode == 0)
    for c in cs:
        m.sizes[_base(c.name)] = max(m.sizes.get(_base(c.name), 0), c.size)
    return m


_COPY = re.compile(r"info: Copying data from (host to device|device to host), (?:HstPtr=(0x[0-9a-f]+), TgtPtr=0x[0-9a-f]+|"
                   r"TgtPtr=0x[0-9a-f]+, HstPtr=(0x[0-9a-f]+)), Size=(\d+)(?:, Name=(.*))?$")
_LAUNCH = re.compile(r"info: Launching kernel (\S+) with")


def _trace(stderr: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(kernel name, [(host address, size, mapped name)]) per launch of a per-kernel-map run."""
    launches: list[tuple[str, list[tuple[int, int, str]]]] = []
    pending: list[tuple[int, int, str]] = []
    for line in stderr.splitlines():
        if m := _LAUNCH.search(line):
            launches.append((m.group(1), pending))
            pending = []
        elif (m := _COPY.search(line)) and "[" in (m.group(5) or ""):
            item = (int(m.group(2) or m.group(3), 16), int(m.group(4)), m.group(5).strip())
            if m.group(1) == "host to device":
                pending.append(item)
            elif launches and item[0] not in {x[0] for x in launches[-1][1]}:
                launches[-1][1].append(item)
    return launches


def _buffers(launches) -> dict[int, tuple[int, int]]:
    """Host address -> (buffer start, buffer end), merging overlapping sections."""
    spans = sorted({(h, h + n) for _, items in launches for h, n, _ in items})
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    out = {}
    for h, _ in spans:
        for lo, hi in merged:
            if lo <= h < hi:
                out[h] = (lo, hi)
    return out


class _Liveness:
    """Does the host read an array after a kernel?  Static and independent of the planner:
    a later mention in the function (free/delete excepted), a mention in an enclosing loop,
    or, for a parameter, the caller's argument being live after the call."""

    def __init__(self, unit: SourceUnit, kernels: list[tuple[int, int]], offloading: set[str]) -> None:
        self.kernels = kernels  # byte spans of offloaded nests: their reads are not the host's
        self.offloading = offloading  # functions with offloaded nests: passing an array is not a read
        self.data = unit.data
        self.root = parse(self.data, unit.language).root_node
        self.functions = {}
        stack = [self.root]
        while stack:
            n = stack.pop()
            if n.type == "function_definition":
                self.functions[self._fname(n)] = n
            stack.extend(n.named_children)

    def _text(self, n) -> str:
        return self.data[n.start_byte:n.end_byte].decode("utf-8", "surrogateescape")

    def _fname(self, fn) -> str:
        d = fn.child_by_field_name("declarator")
        while d is not None and d.type != "function_declarator":
            d = d.child_by_field_name("declarator")
        inner = d.child_by_field_name("declarator") if d is not None else None
        return self._text(inner) if inner is not None else "?"

    def _params(self, fn) -> list[str]:
        d = fn.child_by_field_name("declarator")
        while d is not None and d.type != "function_declarator":
            d = d.child_by_field_name("declarator")
        out = []
        for p in (d.child_by_field_name("parameters").named_children if d is not None else []):
            names = [x for x in identifiers_in(p, self.data)]
            ident = p.child_by_field_name("declarator")
            while ident is not None and ident.type != "identifier":
                ident = ident.child_by_field_name("declarator") or (ident.named_children[0] if ident.named_children else None)
            out.append(self._text(ident) if ident is not None else (names[-1] if names else ""))
        return out

    def _host_read(self, n) -> bool:
        """Is this mention of an array a read of its elements by host code?"""
        if any(lo <= n.start_byte < hi for lo, hi in self.kernels):
            return False
        parent = n.parent
        if parent.type == "argument_list":
            callee = parent.parent.child_by_field_name("function")
            return self._text(callee) not in ("free", "std::swap", "swap", *self.offloading) if callee is not None else True
        if parent.type == "field_expression" and parent.parent is not None and \
                parent.parent.type == "call_expression" and parent.parent.parent is not None and \
                parent.parent.parent.type == "argument_list":  # v.data() passed on
            callee = parent.parent.parent.parent.child_by_field_name("function")
            return callee is None or self._text(callee) not in self.offloading
        if parent.type.endswith("declarator"):
            return False  # the name being declared
        if parent.type in ("delete_expression", "init_declarator", "return_statement"):
            return parent.type == "return_statement"
        if parent.type == "assignment_expression":
            return False  # a pointer moved, not read
        return True

    def _partners(self, fn, name: str) -> set[str]:
        """``name`` and the pointers it exchanges buffers with (swaps, ``p = q``)."""
        pairs = []
        stack = [fn]
        while stack:
            n = stack.pop()
            stack.extend(n.children)
            if n.type == "call_expression" and self._text(n.child_by_field_name("function")) in ("std::swap", "swap"):
                args = [a for a in n.child_by_field_name("arguments").named_children if a.type == "identifier"]
                if len(args) == 2:
                    pairs.append({self._text(args[0]), self._text(args[1])})
            elif n.type in ("assignment_expression", "init_declarator"):
                left = n.child_by_field_name("left") or n.child_by_field_name("declarator")
                right = n.child_by_field_name("right") or n.child_by_field_name("value")
                while left is not None and left.type == "pointer_declarator":
                    left = left.child_by_field_name("declarator")
                if left is not None and right is not None and left.type == right.type == "identifier":
                    pairs.append({self._text(left), self._text(right)})
        group = {name}
        grew = True
        while grew:
            grew = False
            for p in pairs:
                if p & group and not p <= group:
                    group |= p
                    grew = True
        return group

    def live_after(self, fn, name: str, pos: int, depth: int = 0) -> bool:
        return any(self._live_after(fn, n, pos, depth) for n in self._partners(fn, name))

    def _live_after(self, fn, name: str, pos: int, depth: int = 0) -> bool:
        stack = [fn]
        while stack:
            n = stack.pop()
            if n.type == "identifier" and self._text(n) == name and n.start_byte >= pos and self._host_read(n):
                return True
            stack.extend(n.children)
        at = self.root.descendant_for_byte_range(pos - 1, pos - 1)
        while at is not None and at != fn:
            if at.type in ("for_statement", "while_statement", "do_statement"):
                stack = [at]
                while stack:
                    n = stack.pop()
                    if n.type == "identifier" and self._text(n) == name and self._host_read(n):
                        return True
                    stack.extend(n.children)
            at = at.parent
        params = self._params(fn)
        if name in params and depth < 4:
            i = params.index(name)
            fname = self._fname(fn)
            for caller in self.functions.values():
                stack = [caller]
                while stack:
                    n = stack.pop()
                    stack.extend(n.children)
                    f = n.child_by_field_name("function") if n.type == "call_expression" else None
                    if f is None or self._text(f) != fname:
                        continue
                    argv = [a for a in n.child_by_field_name("arguments").named_children if a.type != "comment"]
                    got = passed_array(argv[i], self.data) if i < len(argv) else None
                    if got is not None and self.live_after(caller, got[0], n.end_byte, depth + 1):
                        return True
            return False
        return name not in params and name not in identifiers_in(fn, self.data)  # a global


def minimum(unit: SourceUnit, analysis, naive_stderr: str, aliases: dict[str, str]) -> tuple[int, int]:
    """Bytes a perfect plan moves (see the module doc), from the naive run's probes and
    launch trace: what a kernel reads comes in if no kernel mapped it before or the host
    changed it since (per element, from the probes); a buffer goes out once if a kernel
    writes it and the host reads it after."""
    by_line = {n.line: n for n in analysis.nests()}
    from pcx_driver.model import Decision

    offloaded = [n for n in analysis.nests() if n.decision is Decision.OFFLOADED]
    live = _Liveness(unit, [(n.start_byte, n.end_byte) for n in offloaded], {n.function for n in offloaded})

    def array(line: int, mapped: str):
        nest = by_line.get(line)
        base = mapped.split("[", 1)[0].strip()
        return nest, (nest and {a.name: a for a in nest.arrays}.get(aliases.get(base, base)))

    in_bytes = 0
    for line, name, size, changed, unseen in host_changes(naive_stderr):
        _, a = array(line, name)
        if a is not None and (a.read or (a.written and not a.written_fully)):
            first_touch = unseen == size
            in_bytes += changed + (unseen if first_touch or not a.written else 0)
    launches = _trace(naive_stderr)
    buffers = _buffers(launches)
    last_writer: dict[tuple[int, int], tuple] = {}
    for kname, items in launches:
        parsed = parse_kernel_name(kname)
        for h, _, mapped in items:
            nest, a = array(parsed.line, mapped) if parsed else (None, None)
            if a is not None and a.written:
                last_writer[buffers[h]] = (nest, a.name)
    size = lambda b: b[1] - b[0]  # noqa: E731
    # Buffers whose pointers are swapped: what comes back is one buffer per pointer the
    # host reads after the kernels, not every buffer of the group.
    out_bytes = 0
    groups: dict[frozenset, tuple[int, int]] = {}
    for buf, (nest, name) in last_writer.items():
        fn = live.functions.get(nest.function)
        if fn is None:
            out_bytes += size(buf)
            continue
        group = frozenset(live._partners(fn, name))
        live_names = sum(1 for n in group if live._live_after(fn, n, nest.end_byte))
        if len(group) == 1:
            out_bytes += size(buf) if live_names else 0
        else:
            seen_size, _ = groups.get(group, (0, 0))
            groups[group] = (max(seen_size, size(buf)), live_names)
    out_bytes += sum(sz * min(k, len(g)) for g, (sz, k) in groups.items())
    return in_bytes, out_bytes


def measure(path: Path) -> Row:
    from pcx_driver.engine.analysis import analyse_unit

    row = Row(_name(path))
    lang = Language.CXX if path.suffix == ".cpp" else Language.C
    text = path.read_text()
    with tempfile.TemporaryDirectory(prefix="pcx-datamove-") as tmp:
        work = Path(tmp)
        (work / path.name).write_text(text)
        unit = SourceUnit(path.name, text, lang, str(work))
        analysis = analyse_unit(unit)
        plan = plan_unit(unit, analysis)
        if not plan.offloaded():
            row.note = "nothing offloaded"
            return row
        cc = "clang++-19" if lang is Language.CXX else "clang-19"
        subprocess.run([cc, "-O2", str(work / path.name), "-o", str(work / "serial"), "-lm"], check=True,
                       capture_output=True, cwd=work)
        serial = subprocess.run([str(work / "serial")], capture_output=True, text=True, cwd=work, timeout=300)
        row.plan = build_run(rewrite_unit(unit, plan).text, unit, work, "plan")
        naive = naive_plan(plan_unit(unit, analysis, regions=False))
        row.naive = build_run(with_probes(rewrite_unit(unit, naive).text, naive, lang), unit, work, "naive")
        aliases = {lp.name: lp.container for lp in naive.local_pointers}
        row.min_to, row.min_from = minimum(unit, analysis, row.naive.stderr, aliases)
        row.matches_serial = row.plan.ok and first_difference(serial.stdout, row.plan.stdout) is None
    return row


def ratio(moved: int, least: int) -> float:
    return moved / least if least else (1.0 if moved == 0 else float("inf"))


def main(argv: list[str]) -> int:
    rows = []
    for path in examples(argv):
        try:
            rows.append(measure(path))
        except Exception as exc:  # one broken example must not hide the others
            rows.append(Row(_name(path), note=f"error: {exc}"[:90]))
        r = rows[-1]
        print(f"  measured {r.name}: {r.note or 'ok'}", file=sys.stderr)
    head = f"{'example':<16} {'plan in':>11} {'plan out':>11} {'min in':>11} {'min out':>11} {'naive in':>12} " \
           f"{'naive out':>12} {'launch':>6} {'plan/min':>8} {'same':>5}"
    print(head)
    print("-" * len(head))
    worst = 0.0
    for r in rows:
        if r.plan is None or r.naive is None:
            print(f"{r.name:<16} {r.note}")
            continue
        q = ratio(r.plan.to_dev + r.plan.from_dev, r.min_to + r.min_from)
        worst = max(worst, q)
        print(f"{r.name:<16} {r.plan.to_dev:>11} {r.plan.from_dev:>11} {r.min_to:>11} {r.min_from:>11} "
              f"{r.naive.to_dev:>12} {r.naive.from_dev:>12} {r.plan.launches:>6} {q:>8.2f} "
              f"{'yes' if r.matches_serial else 'NO':>5}")
    print(f"worst plan/minimum: {worst:.2f} (goal <= 1.10)")
    chart(rows, ROOT / "bench/out/datamove.png")
    return 0


def chart(rows: list[Row], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r.plan is not None and r.naive is not None]
    if not done:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    xs = range(len(done))
    w = 0.28
    fig, ax = plt.subplots(figsize=(max(6, len(done) * 0.8), 4))
    mb = 1e6
    ax.bar([x - w for x in xs], [(r.min_to + r.min_from) / mb for r in done], w, label="minimum")
    ax.bar(list(xs), [(r.plan.to_dev + r.plan.from_dev) / mb for r in done], w, label="pcx plan")
    ax.bar([x + w for x in xs], [(r.naive.to_dev + r.naive.from_dev) / mb for r in done], w, label="naive tofrom")
    ax.set_xticks(list(xs), [r.name for r in done], rotation=45, ha="right")
    ax.set_ylabel("MB moved (host<->device)")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Data moved per example (LIBOMPTARGET_INFO=48)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"chart: {out}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
