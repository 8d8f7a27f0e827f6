"""Sources that already use OpenMP: which of the user's CPU loops may move to the device.

Contract:

- ``scan(data, language) -> OpenMPScan`` finds every ``#pragma omp`` line with tree-sitter
  (``preproc_call`` nodes), splits it into directive words and clauses, and classifies it:

  * a **candidate**: ``parallel for`` / ``parallel for simd`` directly before a ``for``
    in a block, not inside another OpenMP construct, whose clauses pcx can carry
    (private, firstprivate, lastprivate, reduction over named scalars, collapse, schedule,
    if, num_threads, default, shared, proc_bind, nowait, order and the simd clauses), whose
    loop holds no other OpenMP directive and calls no ``omp_*`` routine.  The loop goes
    through the engine's normal analysis as if the pragma were absent.  So does each
    ``omp for`` of a ``parallel`` region whose block holds nothing but such loops (a
    group: it moves as a whole, or stays as a whole);
  * a **user kernel**: a combined target loop the user wrote without map clauses; it
    keeps its text and gets the engine's data plan (``keep_user_kernels``).  Any other
    target code, or a user kernel the analysis cannot describe, sets ``refuse``: the file
    is compiled as written;
  * anything else is **kept**: it stays as written, and so does every loop in its scope
    (the statement it applies to), every loop that contains it, and every loop of a
    function that a kept parallel construct calls (its threads would each launch the
    kernel) or that holds an orphaned worksharing/synchronisation directive (it runs
    inside a caller's parallel region).  Each such loop gets a remark that names the
    construct and its line (PCX127).

- ``blanked(unit, scan)`` is the text the analysis sees: every OpenMP pragma replaced by
  spaces (newlines kept), so every byte offset and line stays where it was.
- ``cpu_reason`` answers, for one outermost loop, whether it must stay on the CPU before
  any analysis; ``settle`` runs after the analysis of the whole unit and decides each
  candidate: offloaded by the engine with clauses that agree with the pragma (ported;
  the rewriter replaces the pragma line), a dependence or race the pragma ignores
  (warning PCX125, loop kept with its pragma), or not provable (PCX126, kept).  It then
  demotes every offloaded nest that a kept candidate's scope or callees contain, to a
  fixed point.

Soundness: the user's pragma is never trusted on its own.  A loop leaves the CPU only when
the engine proves its serial form parallel and computes its maps, and the pragma's clauses
agree with the engine's (so the CPU-OpenMP program and the serial one compute the same).
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine import callgraph, hostaccess, ompregion
from pcx_driver.engine.callgraph import last_name
from pcx_driver.engine.source import walk
from pcx_driver.model import Decision, Language, Remark, SourceUnit, UnitAnalysis

#: remark IDs (pcx_driver/diagnostics.py)
PORTED, IGNORED_DEPENDENCE, NOT_CONFIRMED, KEPT_CONSTRUCT = "PCX124", "PCX125", "PCX126", "PCX127"

# Directive words that may follow the first one in a combined or compound directive name.
_MORE_WORDS = frozenset({
    "for", "simd", "parallel", "teams", "distribute", "loop", "taskloop", "sections", "data", "enter", "exit",
    "update", "point", "read", "write", "capture", "compare", "workshare", "masked", "master", "target",
    "variant", "mapper", "reduction", "begin",
})
# Directives without an associated statement.
_STANDALONE = frozenset({
    "barrier", "taskwait", "taskyield", "flush", "threadprivate", "declare", "end", "requires", "cancel",
    "cancellation", "scan", "depobj", "error", "nothing", "interop", "allocate", "begin", "assumes",
})
# Directives that bind to an enclosing parallel region: orphaned in a function, that
# function runs inside a caller's team.
_BINDS_TO_TEAM = frozenset({"for", "sections", "single", "barrier", "master", "masked", "workshare", "ordered",
                            "critical", "task", "taskloop", "taskwait", "atomic", "flush", "cancel", "scan"})
# Clauses pcx can carry to (or drop from) the device construct.
_CARRIED = frozenset({"private", "firstprivate", "lastprivate", "reduction", "collapse"})
_DROPPED = frozenset({"schedule", "if", "num_threads", "default", "shared", "proc_bind", "nowait", "order",
                      "safelen", "simdlen", "aligned", "nontemporal"})
_REDUCTION_OPS = {"+": "+", "-": "+", "*": "*", "&": "&", "|": "|", "^": "^", "&&": "&&", "||": "||",
                  "min": "min", "max": "max"}
_IDENT = re.compile(r"[A-Za-z_]\w*$")
_ITEM = re.compile(r"\s*,?\s*([A-Za-z_]\w*)\s*")


@dataclass
class OmpPragma:
    """One ``#pragma omp`` line of the source."""

    start: int  # the '#'
    end: int  # end of the pragma text (its newline excluded)
    line: int
    column: int
    words: list[str]  # directive name, e.g. ["parallel", "for"]
    clauses: list[tuple[str, str | None]]  # (name, argument text or None)
    function: str = ""  # enclosing function ("" at file scope)
    scope: tuple[int, int] | None = None  # the associated statement (None: standalone)
    loop: int | None = None  # start byte of the for statement a candidate applies to
    candidate: bool = False
    why_kept: str = ""  # for a kept construct: what pcx cannot port (shown in remarks)
    # candidates: the user's clauses, parsed
    reductions: dict[str, str] = field(default_factory=dict)  # variable -> operator
    private: list[str] = field(default_factory=list)
    firstprivate: list[str] = field(default_factory=list)
    lastprivate: list[str] = field(default_factory=list)
    collapse: int = 1
    dropped: list[str] = field(default_factory=list)  # clauses the device construct drops, as written
    indices: list[str] = field(default_factory=list)  # indices of the loops the pragma applies to
    callees: list[str] = field(default_factory=list)  # functions called in the scope (last names)
    # A ``parallel`` region whose block holds only worksharing loops (``omp for``) is a
    # group: its head lists its loops' pragmas (start bytes), each loop names its head;
    # the group moves to the device only as a whole.
    members: list[int] = field(default_factory=list)
    group: int | None = None
    # the variables a group's block declares: each thread's own, like ``private`` ones, but
    # set by the block's statements before its loops (ompregion)
    region_locals: list[str] = field(default_factory=list)
    # A ``parallel`` region that only calls a function whose body is such a block (NPB's
    # ``#pragma omp parallel`` / ``compute_rhs();``): its members are the orphaned loops of
    # that function, whose body is ``group_scope`` (start, end).
    group_scope: tuple[int, int] | None = None
    # A target loop the user wrote without maps: it keeps its text (``text``, the pragma
    # after '#pragma ', on one line) and pcx plans its data.
    kernel: bool = False
    text: str = ""

    @property
    def name(self) -> str:
        return " ".join(self.words)


@dataclass
class OpenMPScan:
    """The OpenMP directives of one source and what they mean for its loops."""

    pragmas: list[OmpPragma] = field(default_factory=list)
    # function (last name) -> why its loops stay on the CPU (called from a kept parallel
    # construct, or holds an orphaned directive that binds to a caller's team)
    cpu_functions: dict[str, str] = field(default_factory=dict)
    calls: dict[str, list[str]] = field(default_factory=dict)  # function (last name) -> callees (last names)
    pragma_functions: list[str] = field(default_factory=list)  # functions holding any OpenMP pragma
    opaque_functions: list[str] = field(default_factory=list)  # functions with a parse error (call anything)
    # (byte, name) of each use of a 'threadprivate' variable: each CPU thread's own copy,
    # which no device copy may stand for (clang rejects it in a map clause)
    threadprivate_uses: list[tuple[int, str]] = field(default_factory=list)
    refuse: str = ""  # non-empty: the file cannot be ported at all (the reason)

    def candidates(self) -> list[OmpPragma]:
        return [p for p in self.pragmas if p.candidate]

    def kept(self) -> list[OmpPragma]:
        return [p for p in self.pragmas if not p.candidate]


# ------------------------------------------------------------------------- scanning


def split_pragma(text: str) -> tuple[list[str], list[tuple[str, str | None]]] | None:
    """``omp parallel for reduction(+: s) nowait`` -> (["parallel", "for"], [("reduction",
    "+: s"), ("nowait", None)]); None when the text is not a sequence of ``name`` /
    ``name(balanced text)`` items."""
    text = text.replace("\\\n", " ").replace("\\\r\n", " ").strip()
    if not text.startswith("omp"):
        return None
    text = text[3:]
    items: list[tuple[str, str | None]] = []
    i = 0
    while True:
        m = _ITEM.match(text, i)
        if m is None:
            if text[i:].strip(" \t,"):
                return None
            break
        name, i = m.group(1), m.end()
        arg = None
        if i < len(text) and text[i] == "(":
            depth, j = 0, i
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            if depth:
                return None
            arg, i = text[i + 1:j].strip(), j + 1
        items.append((name, arg))
    if not items:
        return None
    words = [items[0][0]]  # an argument of the first word (critical(name)) is not a clause
    k = 1
    while k < len(items) and items[k][1] is None and items[k][0] in _MORE_WORDS:
        words.append(items[k][0])
        k += 1
    return words, items[k:]


def _names(arg: str | None) -> list[str] | None:
    if not arg:
        return None
    out = [a.strip() for a in arg.split(",")]
    return out if all(_IDENT.match(a) for a in out) else None


def _parse_clauses(p: OmpPragma) -> str:
    """Fill the candidate's clause fields; "" or the reason its clauses cannot be carried."""
    for name, arg in p.clauses:
        shown = name if arg is None else f"{name}({arg})"
        if name in ("private", "firstprivate", "lastprivate"):
            names = _names(arg)
            if names is None:
                return f"clause '{shown}' is not a list of variables pcx can carry"
            getattr(p, name).extend(names)
        elif name == "reduction":
            op, sep, rest = (arg or "").partition(":")
            names = _names(rest)
            if not sep or op.strip() not in _REDUCTION_OPS or names is None:
                return f"clause '{shown}' (a reduction modifier, a user-defined operator or an array section)"
            for v in names:
                p.reductions[v] = _REDUCTION_OPS[op.strip()]
        elif name == "collapse":
            if arg is None or not arg.strip().isdigit():
                return f"clause '{shown}'"
            p.collapse = int(arg)
        elif name in _DROPPED:
            p.dropped.append(shown)
        else:
            return f"clause '{shown}'"
    return ""


def _function_of(node: Node) -> Node | None:
    p = node.parent
    while p is not None and p.type != "function_definition":
        p = p.parent
    return p


def _scope_of(pragma: Node) -> tuple[int, int] | None:
    nxt = pragma.next_named_sibling
    while nxt is not None and nxt.type == "comment":
        nxt = nxt.next_named_sibling
    if nxt is None:
        return None
    if nxt.type == "preproc_call":  # a second directive line before the statement
        inner = _scope_of(nxt)
        return (nxt.start_byte, inner[1]) if inner else None
    return (nxt.start_byte, nxt.end_byte)


def _loop_indices(loop: Node, data: bytes, depth: int) -> list[str]:
    """Index names of ``loop`` and the loops perfectly nested in it, ``depth`` of them."""
    out: list[str] = []
    while loop is not None and loop.type == "for_statement" and len(out) < depth:
        init = loop.child_by_field_name("initializer")
        name = None
        for n in walk(init) if init is not None else ():
            if n.type == "identifier":
                name = hostaccess.text_of(data, n)
                break
        if name is None:
            break
        out.append(name)
        body = loop.child_by_field_name("body")
        while body is not None and body.type == "compound_statement" and body.named_child_count == 1:
            body = body.named_children[0]
        loop = body
    return out


def _omp_calls(node: Node, data: bytes) -> list[tuple[str, int]]:
    out = []
    for n in walk(node):
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            name = hostaccess.text_of(data, fn) if fn is not None else ""
            if name.startswith("omp_") and name not in ("omp_get_wtime", "omp_get_wtick"):
                out.append((name, n.start_byte))
    return out


def scan(data: bytes, language: Language = Language.C) -> OpenMPScan:
    """Every OpenMP pragma of ``data`` and what it means for the loops (module docstring)."""
    out = OpenMPScan()
    root = hostaccess.parse(data, language).root_node
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]

    def line_col(byte: int) -> tuple[int, int]:
        import bisect

        i = bisect.bisect_right(line_starts, byte) - 1
        return i + 1, byte - line_starts[i] + 1

    nodes: list[Node] = []
    for n in walk(root):
        if n.type == "preproc_call":
            d = n.child_by_field_name("directive")
            arg = n.child_by_field_name("argument")
            if d is not None and "".join(hostaccess.text_of(data, d).split()) == "#pragma" and arg is not None \
                    and hostaccess.text_of(data, arg).split()[:1] == ["omp"]:
                nodes.append(n)
    # A line scan must find the same pragmas: one that tree-sitter did not see as a
    # preproc_call (a macro, _Pragma, a pragma inside a parse error) would escape the port.
    # A pragma line inside a /* */ comment is no directive (NPB's commented-out ones).
    lines = [m.start() for m in re.finditer(rb"(?m)^[^\S\n]*#[^\S\n]*pragma[^\S\n]+omp\b", data)
             if not _in_comment(root, m.end() - 1)]
    operator = re.search(rb'_Pragma\s*\(\s*"\s*omp', data)
    if not (lines or nodes or operator):
        return out
    placed = {n.start_point[0] + 1 for n in nodes}
    unplaced = [line_col(b)[0] for b in lines if line_col(b)[0] not in placed]
    if unplaced or len(lines) != len(nodes) or operator:
        where = unplaced[0] if unplaced else line_col(operator.start())[0] if operator else 0
        out.refuse = (f"an OpenMP directive that pcx cannot place (line {where}: a _Pragma operator, a macro, "
                      "or a parse problem)" if where else
                      "an OpenMP directive that pcx cannot place (a _Pragma operator, a macro, or a parse problem)")
        return out
    # A parse error elsewhere (tree-sitter-cpp misreads Rodinia's `new int*[rows]`) hides
    # only what lies inside it: refused are errors outside any function, and errors in a
    # function that holds a pragma; a function with an error is taken to call every
    # function (its calls cannot all be seen), so a kept construct that reaches it keeps
    # everything on the CPU.
    out.opaque_functions = _functions_with_errors(root, data)
    if out.opaque_functions is None or set(out.opaque_functions) & {
            last_name(hostaccess.function_name(f, data)) for n in nodes if (f := _function_of(n)) is not None}:
        out.refuse = ("a parse problem in a function that holds OpenMP directives, or outside any function "
                      f"(line {_first_error_line(root)})")
        return out
    for n in nodes:
        arg_text = hostaccess.text_of(data, n.child_by_field_name("argument"))
        split = split_pragma(arg_text)
        end = n.end_byte
        while end > n.start_byte and data[end - 1:end] in (b"\n", b"\r"):
            end -= 1
        line, col = line_col(n.start_byte)
        if split is None:
            p = OmpPragma(n.start_byte, end, line, col, ["?"], [], why_kept="a directive pcx cannot parse")
        else:
            p = OmpPragma(n.start_byte, end, line, col, split[0], split[1])
        fn = _function_of(n)
        p.function = last_name(hostaccess.function_name(fn, data)) if fn is not None else ""
        if p.words[0] not in _STANDALONE and not (p.words[0] == "target" and p.words[1:2] in (["update"], ["enter"],
                                                                                            ["exit"])):
            p.scope = _scope_of(n)
        if p.words[0] == "ordered" and any(c[0] in ("depend", "doacross") for c in p.clauses):
            p.scope = None
        out.pragmas.append(p)
        p.text = " ".join(arg_text.replace("\\\n", " ").split())
        p._node = n  # type: ignore[attr-defined]  # scan-local, dropped below
        if p.words[0] == "target" or "target" in p.words[:2]:
            why = _user_kernel(p, out.pragmas, data) if p.words in _USER_KERNELS else (
                f"'{p.name}' (only combined target loops without maps are planned)")
            if why:
                out.refuse = f"it has its own target code pcx does not plan: {why}, at line {p.line}"
    tp = next((p for p in out.pragmas if p.words[:1] == ["threadprivate"]), None)
    shared = _external_threadprivate(out.pragmas, root, data)
    if shared and not out.refuse:
        # clang-19's offload image of such a file references the TLS wrapper of a
        # threadprivate variable with external linkage, which nothing defines: the link
        # fails, and in a Make build (compile, then link apart) no fallback is left (a
        # held-out check: NPB's OpenMP IS and LU; a 'static' one, as in EP, links)
        out.refuse = (f"threadprivate variable '{shared}' (line {tp.line}) has external linkage: an offload build "
                      "of its file does not link with clang-19")
    if out.refuse:
        for p in out.pragmas:
            p.__dict__.pop("_node", None)
        return out
    _call_groups(out.pragmas, data, language)
    _threadprivate_uses(out, root, data)
    try:
        # a call group's head before its members, which its callee may define above it
        for p in sorted(out.pragmas, key=lambda p: p.group_scope is None):
            _classify(p, out.pragmas, data)
    except _NotPlanned as exc:
        out.refuse = f"it has its own target code pcx does not plan: {exc}"
    for p in out.pragmas:
        if p.kernel and (p.function in _team_functions(out) or any(_inside(p, q) for q in out.pragmas if q is not p)):
            out.refuse = f"it has its own target code pcx does not plan: the target loop at line {p.line} runs " \
                         "inside a parallel region"
    _cpu_functions(out, callgraph.of(data, language))
    for p in out.pragmas:
        p.__dict__.pop("_node", None)
    return out


_USER_KERNELS = (["target", "teams", "distribute", "parallel", "for"], ["target", "teams", "distribute", "parallel",
                 "for", "simd"], ["target", "parallel", "for"], ["target", "parallel", "for", "simd"])
# Clauses of a user's kernel that pcx keeps as written (its data are what pcx plans).
_KERNEL_KEPT = frozenset({"private", "firstprivate", "reduction", "collapse", "num_teams", "thread_limit", "schedule",
                          "dist_schedule", "order", "safelen", "simdlen", "aligned", "nontemporal"})


def _user_kernel(p: OmpPragma, all_pragmas: list[OmpPragma], data: bytes) -> str:
    """Make ``p`` (a combined target loop) a user kernel whose data pcx plans; "" or why
    it cannot be one.  It must map nothing itself (pcx adds the maps, and a map of its
    own would have to agree with the plan), stand before a for in a block, and hold no
    other directive."""
    node: Node = p._node  # type: ignore[attr-defined]
    loop = node.next_named_sibling
    for name, arg in p.clauses:
        if name not in _KERNEL_KEPT:
            return f"clause '{name}' on '{p.name}'"
        if name in ("private", "firstprivate") and _names(arg) is None:
            return f"clause '{name}({arg})' on '{p.name}'"
    if loop is None or loop.type != "for_statement" or node.parent is None or node.parent.type != "compound_statement":
        return f"'{p.name}' does not stand directly before a for statement in a block"
    if _omp_calls(loop, data):
        return f"'{p.name}' calls the OpenMP runtime"
    saved = list(p.clauses)
    p.clauses = [c for c in p.clauses if c[0] in _CARRIED]
    why = _parse_clauses(p)
    p.clauses = saved
    if why:
        return f"'{p.name}' has {why}"
    p.kernel = True
    p.candidate = True
    p.loop = loop.start_byte
    p.indices = _loop_indices(loop, data, max(p.collapse, 1))
    return ""


def _inside(p: OmpPragma, q: OmpPragma) -> bool:
    """Whether pragma ``p`` lies in ``q``'s scope."""
    return q.scope is not None and q.scope[0] <= p.start < q.scope[1]


def _classify(p: OmpPragma, all_pragmas: list[OmpPragma], data: bytes) -> None:
    node: Node = p._node  # type: ignore[attr-defined]
    outer = [q for q in all_pragmas if q is not p and _inside(p, q)]
    if p.kernel:
        inner = next((q for q in all_pragmas if q is not p and p.scope and p.scope[0] <= q.start < p.scope[1]), None)
        if inner is not None or outer:
            raise _NotPlanned(f"the target loop at line {p.line} is nested in or holds another OpenMP directive")
        return
    if p.why_kept:
        return
    if p.words == ["parallel"] and not outer and (p.group_scope is not None
                                                  or _group_shape(p, all_pragmas, node, data)):
        why = _parse_region_clauses(p)
        if not why:
            p.candidate = True  # a group head: ported when every loop of its region is
            return
        p.members = []
        p.why_kept = f"pcx cannot carry its {why} to the device"
        return
    heads = [h for h in all_pragmas if h.candidate and p.start in h.members]
    member = p.words in (["for"], ["for", "simd"]) and len(heads) == 1 and outer in ([], heads)
    if p.words not in (["parallel", "for"], ["parallel", "for", "simd"]) and not member:
        p.why_kept = _describe_construct(p, all_pragmas, data)
        return
    loop = node.next_named_sibling
    if member:
        head = heads[0]
        p.group = head.start
        # variables private to the region are private in each of its loops
        p.private.extend(head.private)
        p.firstprivate.extend(head.firstprivate)
        p.region_locals = list(head.region_locals)
    if outer and not member:
        p.why_kept = f"it is nested in the OpenMP '{outer[0].name}' at line {outer[0].line}"
    elif loop is None or loop.type != "for_statement" or node.parent is None \
            or node.parent.type != "compound_statement":
        p.why_kept = "it does not stand directly before a for statement in a block"
    elif any(p.scope and p.scope[0] <= q.start < p.scope[1] for q in all_pragmas if q is not p):
        q = next(q for q in all_pragmas if q is not p and p.scope and p.scope[0] <= q.start < p.scope[1])
        p.why_kept = f"its loop holds the OpenMP directive '{q.name}' (line {q.line})"
    elif _omp_calls(loop, data):
        name, byte = _omp_calls(loop, data)[0]
        p.why_kept = (f"its loop calls the OpenMP runtime ('{name}', line {_line(data, byte)}): thread numbers "
                      "and locks belong to the CPU team")
    else:
        why = _parse_clauses(p)
        if why:
            p.why_kept = f"pcx cannot carry its {why} to the device"
        else:
            p.candidate = True
            p.loop = loop.start_byte
            p.indices = _loop_indices(loop, data, max(p.collapse, 1))


def _group_shape(p: OmpPragma, all_pragmas: list[OmpPragma], node: Node, data: bytes) -> bool:
    """Whether ``parallel`` pragma ``p`` applies to a block that is a group (``_group_members``),
    and records its loops' pragmas' start bytes in ``p.members``.

    Also a ``for`` loop whose index it declares and whose body is such a block: every
    thread runs the loop, and each iteration shares out the worksharing loops inside, with
    a barrier after each (HeCBench winograd: ``#pragma omp parallel`` over ``for (tile_i
    ...)`` around ``#pragma omp for`` over ``for (tile_j ...)``).  Each thread's copy of
    the index takes the same values, so the region computes what the loop computes with
    its worksharing loops run serially; the analysis then sees that loop as written."""
    block = node.next_named_sibling
    if block is not None and block.type == "for_statement":
        init = block.child_by_field_name("initializer")
        if init is None or init.type != "declaration":
            return False  # an index declared outside would be shared by the team
        block = block.child_by_field_name("body")
    if block is None or block.type != "compound_statement":
        return False
    found = _group_members(block, all_pragmas, data)
    if found is None:
        return False
    p.members, p.region_locals = found
    return True


def _group_members(block: Node, all_pragmas: list[OmpPragma], data: bytes) -> tuple[list[int], list[str]] | None:
    """The worksharing loops' pragmas (start bytes) and the declared variables of a block
    that holds nothing but worksharing loops (``#pragma omp for`` / ``for simd``, each
    before its ``for``) and statements that every thread runs to the same effect as one
    run (``ompregion``: the block's own declarations, ``x = e`` into them); None when the
    block holds anything else or no loop."""
    by_start = {q.start: q for q in all_pragmas}
    members: list[int] = []
    kids = [c for c in block.named_children if c.type != "comment"]
    facts = ompregion.region_facts(block, data)
    i = 0
    while i < len(kids):
        q = by_start.get(kids[i].start_byte) if kids[i].type == "preproc_call" else None
        if q is None and kids[i].type != "preproc_call" and ompregion.replicable(kids[i], facts, data):
            i += 1
            continue
        if q is None or q.words not in (["for"], ["for", "simd"]) or i + 1 >= len(kids) \
                or kids[i + 1].type != "for_statement":
            return None
        members.append(q.start)
        i += 2
    return (members, sorted(facts.declared)) if members else None


def _serial_site(site: callgraph.CallSite, pragmas: list[OmpPragma], graph: callgraph.CallGraph, data: bytes,
                 seen: set[str]) -> bool:
    """Whether a call runs on one thread only: under no OpenMP construct, in ``main`` or in a
    static function whose every call is such a call (another file cannot call it)."""
    if any(q.scope is not None and q.scope[0] <= site.start_byte < q.scope[1] for q in pragmas):
        return False
    caller = site.caller
    if caller == "main":
        return True
    defs = graph.defined_as.get(caller or "", [])
    if caller is None or caller in seen or len(defs) != 1 or not any(
            c.type == "storage_class_specifier" and hostaccess.text_of(data, c) == "static" for c in defs[0].children):
        return False
    seen.add(caller)
    return all(s.plain and _serial_site(s, pragmas, graph, data, seen)
               for s in graph.sites if s.name == callgraph.last_name(caller))


def _shadowed(ident: Node, name: str, data: bytes) -> bool:
    """Whether ``ident`` names a variable of a block or function around it, not the function
    ``name`` (BT's ``add()`` and ``double add;`` elsewhere)."""
    n = ident.parent
    while n is not None:
        if n.type == "compound_statement":
            decls = [c for c in n.named_children if c.type == "declaration"]
        elif n.type == "function_definition":
            decls = hostaccess.parameters(n)
        else:
            decls = []
        for d in decls:
            targets = d.children_by_field_name("declarator") if d.type == "declaration" else [d]
            if any(hostaccess.declared_identifier(t, data) == name or hostaccess.text_of(data, t) == name
                   for t in targets):
                return True
        n = n.parent
    return False


def _call_groups(pragmas: list[OmpPragma], data: bytes, language: Language) -> None:
    """Parallel regions whose statement is only ``f();``, where ``f`` takes no parameters,
    is called nowhere else, and its body is a group of orphaned worksharing loops: every
    thread running ``f`` then does what one run of ``f`` with each loop on the device does
    (NPB's BT and SP call their solvers so).  Such a region is a group head whose members
    are ``f``'s loops; it moves with all of them, or stays with all of them."""
    graph = callgraph.of(data, language)
    root = hostaccess.parse(data, language).root_node
    lone: dict[str, list[tuple[OmpPragma, Node]]] = defaultdict(list)
    for p in pragmas:
        stmt = p._node.next_named_sibling if p.words == ["parallel"] else None  # type: ignore[attr-defined]
        if stmt is not None and stmt.type == "compound_statement" and stmt.named_child_count == 1:
            stmt = stmt.named_children[0]
        call = stmt.named_children[0] if stmt is not None and stmt.type == "expression_statement" \
            and stmt.named_child_count == 1 else None
        fn = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
        args = call.child_by_field_name("arguments") if fn is not None else None
        if fn is not None and fn.type == "identifier" and args is not None and not args.named_children:
            lone[hostaccess.text_of(data, fn)].append((p, call))
    for name, heads in lone.items():
        defs = graph.defined_as.get(name, [])
        sites = [s for s in graph.sites if s.name == name]
        # named nowhere but in its declarations and this call (no pointer to it escapes)
        uses = [n for n in walk(root) if n.type == "identifier" and n.parent is not None
                and n.parent.type != "function_declarator" and hostaccess.text_of(data, n) == name
                and not _shadowed(n, name, data)]
        head_call = heads[0][1] if len(heads) == 1 else None
        others = [site for site in sites if site.node != head_call]
        if head_call is None or len(defs) != 1 or len(uses) != len(sites) or any(hostaccess.param_names(defs[0], data)) \
                or not all(site.plain and _serial_site(site, pragmas, graph, data, set()) for site in others):
            continue
        body = defs[0].child_by_field_name("body")
        inside = [q for q in pragmas if body is not None and body.start_byte <= q.start < body.end_byte]
        found = _group_members(body, inside, data) if body is not None else None
        if found is None or any(q.start not in found[0] for q in inside):
            continue
        p = heads[0][0]
        p.members, p.region_locals = found
        p.group_scope = (body.start_byte, body.end_byte)


def _parse_region_clauses(p: OmpPragma) -> str:
    """A group head's clauses: data-sharing that its loops inherit, and what the device
    construct drops; "" or what cannot be carried."""
    for name, arg in p.clauses:
        shown = name if arg is None else f"{name}({arg})"
        if name in ("private", "firstprivate"):
            names = _names(arg)
            if names is None:
                return f"clause '{shown}' is not a list of variables pcx can carry"
            getattr(p, name).extend(names)
        elif name in ("shared", "default", "num_threads", "proc_bind", "if"):
            p.dropped.append(shown)
        else:
            return f"clause '{shown}' on a parallel region"
    return ""


class _NotPlanned(Exception):
    """The file's own target code is of a shape pcx does not plan (the message says why)."""


def _team_functions(out: OpenMPScan) -> set[str]:
    """Functions that hold an orphaned directive binding to a caller's team (cheap check
    before the call graph exists)."""
    regions = [q for q in out.pragmas if "parallel" in q.words and "target" not in q.words]
    return {q.function for q in out.pragmas
            if q.function and q.words[0] in _BINDS_TO_TEAM and not any(_inside(q, r) for r in regions)}


def _line(data: bytes, byte: int) -> int:
    return data.count(b"\n", 0, byte) + 1


def _describe_construct(p: OmpPragma, all_pragmas: list[OmpPragma], data: bytes) -> str:
    """Why a construct that is not a candidate stays as written, naming what is inside."""
    if p.words[0] != "parallel":
        return f"pcx ports only 'parallel for' loops, not '{p.name}'"
    inner = [q for q in all_pragmas if q is not p and _inside(q, p)]
    node: Node = p._node  # type: ignore[attr-defined]
    what = [f"'{q.name}' (line {q.line})" for q in inner if q.words[0] != "for"][:3]
    stmt = node.next_named_sibling
    calls = _omp_calls(stmt, data) if stmt is not None else []
    what += [f"'{c}()' (line {_line(data, b)})" for c, b in calls[:2]]
    fors = [q for q in inner if q.words[0] == "for"]
    if what:
        return "its threads synchronise or share work by thread: " + ", ".join(what)
    if fors:
        return (f"its region runs other statements on every thread besides its worksharing loops ('{fors[0].name}' "
                f"at line {fors[0].line})")
    return "a 'parallel' region runs its statements on every thread"


def _cpu_functions(out: OpenMPScan, graph: callgraph.CallGraph) -> None:
    """Functions whose loops stay on the CPU: those a kept parallel construct calls
    (transitively), and those holding an orphaned directive that binds to a caller's team."""
    calls: dict[str, set[str]] = defaultdict(set)
    for site in graph.sites:
        if site.caller is not None:
            calls[last_name(site.caller)].add(site.name)
    defined = set(graph.definitions)
    for f in out.opaque_functions:
        calls[f] |= defined
    out.calls = {k: sorted(v) for k, v in calls.items()}
    out.pragma_functions = sorted({p.function for p in out.pragmas if p.function})
    parallel = [p for p in out.pragmas if not p.candidate and "parallel" in p.words]
    regions = [p for p in out.pragmas if "parallel" in p.words]
    for p in out.pragmas:
        if p.function and p.words[0] in _BINDS_TO_TEAM and not any(_inside(p, q) for q in regions) \
                and p.group is None:  # a call group's loop binds to its head's team
            out.cpu_functions.setdefault(p.function, f"it holds the orphaned OpenMP '{p.name}' (line {p.line}), "
                                                     "which runs in a caller's parallel region")
    for p in out.pragmas:
        if p.scope is not None:
            p.callees = sorted({site.name for site in graph.sites_between(*p.scope)})
    for p in parallel:
        reach_from(out, set(p.callees), f"it is called from the OpenMP '{p.name}' at line {p.line}, on every "
                                        "thread of its team")


def _in_comment(root: Node, byte: int) -> bool:
    n = root.descendant_for_byte_range(byte, byte)
    while n is not None:
        if n.type == "comment":
            return True
        n = n.parent
    return False


def _threadprivate_names(pragmas: list[OmpPragma]) -> list[str]:
    """The variables the file's ``threadprivate`` directives name, in order."""
    names = []
    for p in pragmas:
        if p.words[:1] == ["threadprivate"]:
            inside = p.text[p.text.find("(") + 1:p.text.rfind(")")] if "(" in p.text else ""
            names += [w.strip() for w in inside.split(",") if w.strip()]
    return names


def _external_threadprivate(pragmas: list[OmpPragma], root: Node, data: bytes) -> str:
    """The first threadprivate variable declared at file scope without ``static`` (or not
    declared in this file at all: an ``extern`` one), "" when there is none."""
    names = _threadprivate_names(pragmas)
    if not names:
        return ""
    static = set()
    for d in hostaccess.file_scope_declarations(root):
        if hostaccess.declared_static(d, data):
            static |= {hostaccess.text_of(data, n) for n in walk(d) if n.type == "identifier"}
    return next((n for n in names if n not in static), "")


def _threadprivate_uses(out: OpenMPScan, root: Node, data: bytes) -> None:
    names = set(_threadprivate_names(out.pragmas))
    if names:
        out.threadprivate_uses = [(n.start_byte, hostaccess.text_of(data, n)) for n in walk(root)
                                  if n.type == "identifier" and hostaccess.text_of(data, n) in names]


def _functions_with_errors(root: Node, data: bytes) -> list[str] | None:
    """The (last) names of the functions that hold a parse error; None when an error lies
    outside every function definition."""
    names = set()
    for n in walk(root):
        if n.type == "ERROR" or n.is_missing:
            fn = _function_of(n)
            if fn is None:
                return None
            names.add(last_name(hostaccess.function_name(fn, data)))
    return sorted(names)


def _first_error_line(root: Node) -> int:
    for n in walk(root):
        if n.type == "ERROR" or n.is_missing:
            return n.start_point[0] + 1
    return 0


def reach_from(out: OpenMPScan, start: set[str], why: str) -> set[str]:
    """Mark ``start`` and every function they call as CPU functions; the new ones."""
    todo, new = list(start), set()
    while todo:
        f = todo.pop()
        if f in out.cpu_functions:
            continue
        out.cpu_functions[f] = why
        new.add(f)
        todo.extend(out.calls.get(f, ()))
    return new


# ------------------------------------------------------------------------- the analysis' view


#: what ``_OPENMP`` reads as in the preprocessor conditions of a source the user compiles
#: without OpenMP where pcx adds the switch (``without_openmp_macro``): a name no one
#: defines, as long as ``_OPENMP`` so that every column stays where it was
UNDEFINED_OPENMP_MACRO = "_PCXOMP"


def without_openmp_macro(text: str, language: Language) -> str | None:
    """``text`` with ``_OPENMP`` in its ``#if``/``#ifdef``/``#ifndef``/``#elif`` conditions
    renamed ``UNDEFINED_OPENMP_MACRO``; None when no condition names it.  The user's build
    has no OpenMP switch, so those branches read ``_OPENMP`` as undefined; pcx's switch
    (which clang's offload headers need defined) must not change what they compile:
    LULESH fills per-thread arrays under ``#if _OPENMP`` in ``omp parallel`` regions whose
    pragmas stay inert, and gave a wrong energy with two threads."""
    data = text.encode("utf-8", "surrogateescape")
    if b"_OPENMP" not in data:
        return None
    out = bytearray(data)
    found = False
    for n in walk(hostaccess.parse(data, language).root_node):
        if n.type not in ("preproc_if", "preproc_elif", "preproc_ifdef", "preproc_elifdef", "preproc_def",
                          "preproc_function_def"):
            continue
        # (and the lists of macros that name it: ``#define HAVE_OMP _OPENMP``, ``#if HAVE_OMP``)
        cond = n.child_by_field_name("condition") or n.child_by_field_name("name") \
            if n.type.startswith(("preproc_if", "preproc_elif")) else n.child_by_field_name("value")
        for x in walk(cond) if cond is not None else ():
            if x.type == "identifier" and data[x.start_byte:x.end_byte] == b"_OPENMP":
                out[x.start_byte:x.end_byte] = UNDEFINED_OPENMP_MACRO.encode()
                found = True
            elif x.type == "preproc_arg":  # a replacement list is tokens tree-sitter leaves whole
                for m in re.finditer(rb"\b_OPENMP\b", data[x.start_byte:x.end_byte]):
                    out[x.start_byte + m.start():x.start_byte + m.end()] = UNDEFINED_OPENMP_MACRO.encode()
                    found = True
    return bytes(out).decode("utf-8", "surrogateescape") if found else None


def inert_pragmas(data: bytes, language: Language) -> OpenMPScan:
    """The scan of ``data`` for a build that compiles without OpenMP, whose pragmas must all
    be blanked: where a parse problem kept ``scan`` from reading them (``refuse``), every
    ``#pragma omp`` line tree-sitter finds (a held-out build of gapbs: a ``"%14" PRId64``
    string hid its 40 pragmas, which pcx's switch then ran)."""
    found = scan(data, language)
    in_macros = _pragma_operators_in_macros(data, language)
    if found.pragmas or not found.refuse:
        if in_macros:
            found = dataclasses.replace(found, pragmas=sorted([*found.pragmas, *in_macros], key=lambda p: p.start))
        return found
    lines = OpenMPScan(refuse=found.refuse, pragmas=list(in_macros))
    for n, words in omp_pragma_lines(data, language):
        end = n.end_byte
        while end > n.start_byte and data[end - 1:end] in (b"\n", b"\r"):
            end -= 1
        lines.pragmas.append(OmpPragma(n.start_byte, end, n.start_point[0] + 1, n.start_point[1] + 1, words[:2], []))
    lines.pragmas.sort(key=lambda p: p.start)
    return lines


def omp_pragma_lines(data: bytes, language: Language) -> list[tuple[Node, list[str]]]:
    """Every ``#pragma omp`` line tree-sitter reads as a directive (none in a comment), with
    the words after ``omp`` (``(`` read as a space: ``declare target(f)``)."""
    out = []
    for n in walk(hostaccess.parse(data, language).root_node):
        directive = n.child_by_field_name("directive") if n.type == "preproc_call" else None
        arg = n.child_by_field_name("argument") if directive is not None else None
        words = arg.text.decode(errors="replace").replace("(", " ").split() if arg is not None else []
        if directive is not None and directive.text.strip() == b"#pragma" and words[:1] == ["omp"]:
            out.append((n, words[1:]))
    return out


def _pragma_operators_in_macros(data: bytes, language: Language) -> list[OmpPragma]:
    """``_Pragma("omp ...")`` operators in the replacement lists of the file's macros (a
    ``#define PFOR _Pragma("omp parallel for")``), which the scan of directives does not
    see: in a build without OpenMP each use of the macro is inert too."""
    out = []
    for n in walk(hostaccess.parse(data, language).root_node):
        value = n.child_by_field_name("value") if n.type in ("preproc_def", "preproc_function_def") else None
        if value is None or b"_Pragma" not in data[value.start_byte:value.end_byte]:
            continue
        for m in re.finditer(rb'_Pragma\s*\(\s*"\s*omp\b[^"]*"\s*\)', data[value.start_byte:value.end_byte]):
            start = value.start_byte + m.start()
            line = data.count(b"\n", 0, start) + 1
            out.append(OmpPragma(start, value.start_byte + m.end(), line, start - data.rfind(b"\n", 0, start), [], []))
    return out


def blanked(unit: SourceUnit, scan_: OpenMPScan) -> str:
    """``unit.text`` with every OpenMP pragma replaced by spaces (newlines kept)."""
    data = bytearray(unit.data)
    for p in scan_.pragmas:
        for i in range(p.start, p.end):
            if data[i] not in (0x0A, 0x0D):
                data[i] = 0x20
    return bytes(data).decode("utf-8", "surrogateescape")


def cpu_reason(scan_: OpenMPScan, function: str, start: int, end: int) -> tuple[str, bool] | None:
    """Why the outermost loop ``start..end`` of ``function`` stays on the CPU before any
    analysis, and whether the loops inside it may still be analysed; None: analyse it."""
    fn = last_name(function)
    used = next((name for byte, name in scan_.threadprivate_uses if start <= byte < end), None)
    if used is not None:
        return (f"loop kept on the CPU: it uses '{used}', a threadprivate variable (each CPU thread's own copy, "
                "which no device copy may stand for)"), False
    if fn in scan_.cpu_functions:
        return f"loop kept on the CPU: its function '{fn}' is not ported: {scan_.cpu_functions[fn]}", False
    for p in scan_.kept():
        if p.scope is not None and p.scope[0] <= start < p.scope[1]:
            return (f"loop is inside the OpenMP '{p.name}' at line {p.line}, kept on the CPU as written: "
                    f"{p.why_kept}"), False
    for p in scan_.kept():
        if start <= p.start < end:
            return (f"loop nest holds the OpenMP '{p.name}' at line {p.line}, which stays as written "
                    f"({p.why_kept}); the loops inside it are analysed on their own"), True
    return None


# ------------------------------------------------------------------------- after the analysis


def _agreement(p: OmpPragma, nest) -> tuple[str, str] | None:
    """(remark id, message) when the pragma's clauses disagree with what the engine proved
    about the serial loop; None when they agree."""
    shared_ok = set(p.indices)
    listed = set(p.private) | set(p.firstprivate) | set(p.lastprivate)
    for r in nest.reductions:
        op = p.reductions.get(r.variable)
        if op == r.op:
            continue
        if op is not None or r.variable in listed:
            return NOT_CONFIRMED, (f"the pragma at line {p.line} gives '{r.variable}' another data-sharing than the "
                                   f"'{r.op}' reduction the loop performs")
        return IGNORED_DEPENDENCE, (f"'{r.variable}' accumulates across iterations ('{r.op}' reduction) but the "
                                    f"pragma at line {p.line} leaves it shared: a data race")
    if nest.atomic_updates:
        return IGNORED_DEPENDENCE, (f"updates through an index in this loop may collide between iterations (the "
                                    f"analysis makes them atomic), but the pragma at line {p.line} runs them "
                                    "unprotected: a data race")
    engine_red = {r.variable for r in nest.reductions}
    for v in p.reductions:
        if v not in engine_red:
            return NOT_CONFIRMED, (f"the pragma at line {p.line} reduces '{v}', which the analysis does not find "
                                   "to be a reduction of the loop")
    for v in nest.private:
        if v not in listed and v not in shared_ok and v not in p.reductions and v not in p.region_locals:
            return IGNORED_DEPENDENCE, (f"'{v}' is written by every iteration but the pragma at line {p.line} "
                                        "leaves it shared: a data race")
    for v in nest.firstprivate:
        if v in p.private or v in p.lastprivate:
            return IGNORED_DEPENDENCE, (f"the loop reads the value '{v}' has before it, but the pragma at line "
                                        f"{p.line} makes '{v}' private (uninitialised in each thread)")
    return None


def _demote(nest, rid: str, message: str, path: str) -> None:
    nest.decision = Decision.SERIAL
    nest.remarks = [Remark(rid, path, nest.line, nest.column, message)]


def settle(analysis: UnitAnalysis, scan_: OpenMPScan) -> None:
    """Decide every candidate after the analysis (module docstring); edits ``analysis``."""
    path = analysis.path
    nests = analysis.nests()
    by_start = {n.start_byte: n for n in nests}
    settled: set[int] = set()  # candidate pragmas (start bytes) already given their remark
    while True:
        changed = False
        offloaded = [n for n in nests if n.decision is Decision.OFFLOADED]
        kept: list[OmpPragma] = []
        for p in scan_.candidates():
            if p.loop is None:
                continue  # a group head: decided below, from its loops
            nest = by_start.get(p.loop)
            if p.kernel and not (nest is not None and nest.decision is Decision.OFFLOADED and _agreement(p, nest) is None):
                # The user's own kernel: pcx plans its data only when the analysis describes
                # it exactly; otherwise the whole file is compiled as written.
                why = (_agreement(p, nest) or ("", ""))[1] if nest is not None and nest.decision is Decision.OFFLOADED \
                    else "; ".join(r.message for r in (nest.remarks[:2] if nest is not None else [])) or \
                    "it is not analysed on its own"
                scan_.refuse = (f"it has its own target code pcx does not plan: the analysis cannot describe the "
                                f"data of the target loop at line {p.line} ({why})")
                return
            if nest is not None and nest.decision is Decision.OFFLOADED:
                bad = _agreement(p, nest)
                if bad is None:
                    continue
                _demote(nest, bad[0], f"{bad[1]}; loop kept on the CPU with its pragma", path)
                changed = True
                settled.add(p.start)
                kept.append(p)
                continue
            if any(n.start_byte < p.start and p.loop < n.end_byte for n in offloaded):
                continue  # an offloaded outer nest holds it: its pragma goes with the kernel
            kept.append(p)
            if p.start in settled:
                continue
            settled.add(p.start)
            if nest is None:
                continue  # inside a nest kept whole: that nest's remark says why
            carried = next((r for r in nest.remarks if r.id == "PCX101"), None)
            on = re.search(r"dependence on '([^']+)'", carried.message) if carried is not None else None
            if on is not None and on.group(1) in {*p.private, *p.firstprivate, *p.lastprivate, *p.region_locals}:
                carried = None  # the pragma privatises that array: no race, but pcx does not privatise arrays
            if carried is not None:
                nest.remarks.insert(0, Remark(IGNORED_DEPENDENCE, path, nest.line, nest.column, (
                    f"the OpenMP pragma at line {p.line} runs this loop in parallel, but it carries a dependence: "
                    f"{carried.message}; loop kept on the CPU with its pragma")))
            else:
                why = "; ".join(r.message for r in nest.remarks[:2]) or "the analysis cannot prove it"
                from pcx_driver.engine.analysis import PRAGMA_ANSWERS

                answerable = nest.remarks and all(r.id in PRAGMA_ANSWERS for r in nest.remarks) and p.group is None
                nest.remarks.insert(0, Remark(NOT_CONFIRMED, path, nest.line, nest.column, (
                    f"OpenMP loop (pragma at line {p.line}) kept on the CPU as written: pcx cannot confirm that it "
                    f"is independent and its data can be mapped ({why}); it does not offload on the pragma's "
                    "word alone" + ("; pcx tune does, and its gate checks the result (--pcx-trust-pragmas)"
                                    if answerable else ""))))
        # what a kept parallel loop contains or calls must stay on the CPU too
        scopes: list[tuple[int, int, str]] = []  # (start, end, why) of what stays
        for p in kept:
            pn = by_start.get(p.loop)
            scopes.append((p.loop + 1, pn.end_byte if pn is not None else _scope_end(p),
                           f"loop is inside the OpenMP '{p.name}' at line {p.line}, which stays on the CPU; "
                           "kept on the CPU"))
        # a parallel region of worksharing loops moves as a whole or not at all
        for h in scan_.candidates():
            if not h.members or h.scope is None:
                continue
            members = [q for q in scan_.pragmas if q.start in h.members]
            stays = next((q for q in members if not q.candidate or q in kept), None)
            if stays is None:
                continue
            kept.append(h)
            settled.update(h.members)
            for lo, hi in [r for r in (h.scope, h.group_scope) if r is not None]:
                scopes.append((lo, hi, (f"the OpenMP 'parallel' region at line {h.line} stays on the CPU with its "
                                        f"loops: its '{stays.name}' at line {stays.line} does")))
        for p in kept:
            reach_from(scan_, set(p.callees),
                       f"it is called from the OpenMP '{p.name}' at line {p.line}, on every thread of its team")
        for n in nests:
            if n.decision is not Decision.OFFLOADED:
                continue
            for start, end, why in scopes:
                if start <= n.start_byte < end:
                    _demote(n, KEPT_CONSTRUCT, why, path)
                    changed = True
                    break
            else:
                fn = last_name(n.function)
                if fn in scan_.cpu_functions:
                    _demote(n, KEPT_CONSTRUCT, f"loop kept on the CPU: its function '{fn}' is not ported: "
                                               f"{scan_.cpu_functions[fn]}", path)
                    changed = True
                elif _reaches(scan_, n.calls):
                    _demote(n, KEPT_CONSTRUCT, f"loop calls '{_reaches(scan_, n.calls)}', which holds OpenMP "
                                               "directives; kept on the CPU", path)
                    changed = True
        if not changed:
            return


def _scope_end(p: OmpPragma) -> int:
    return p.scope[1] if p.scope is not None else p.end




def _reaches(scan_: OpenMPScan, calls: list[str]) -> str:
    """The first function with OpenMP pragmas that ``calls`` reach (transitively), or ""."""
    seen: set[str] = set()
    todo = [last_name(c) for c in calls]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        if f in scan_.pragma_functions:
            return f
        todo.extend(scan_.calls.get(f, ()))
    return ""


def keep_user_kernels(plan, scan_: OpenMPScan) -> str:
    """After planning: give each kernel the user wrote its text back (``user_directive``,
    no run-time guard, nor one on a data region around it: the host branch of a guard runs
    the statements as written, whose kernels have no maps).  "" or why the file must be
    compiled as written: a user's kernel the plan does not offload (the plan checker
    demoted it) would run on the device with data the plan believes is on the host."""
    kernels = [p for p in scan_.pragmas if p.kernel]
    if not kernels:
        return ""
    by_start = {k.start_byte: k for k in plan.kernels}
    for p in kernels:
        k = by_start.get(p.loop)
        if k is None or k.decision is not Decision.OFFLOADED:
            why = f" ({k.remarks[-1].message})" if k is not None and k.remarks else ""
            return f"the plan keeps the target loop at line {p.line} off the device{why}"
        k.user_directive = p.text
        k.work_expr, k.min_work = "", 0.0
        for r in plan.regions:
            if r.start_byte <= k.start_byte < r.end_byte or k.nest_id in r.kernels:
                if getattr(r, "work_guard", ""):
                    r.work_guard = ""
    return ""
