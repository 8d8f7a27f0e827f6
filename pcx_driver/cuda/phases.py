"""Barrier phases of a block-cooperative kernel (MCUDA / COX style), decided on the syntax tree.

A kernel with ``__syncthreads()`` is split at its barriers into *phases*: runs of
statements that every thread of the block executes between two barriers.  Each phase
becomes a loop over the block's threads (a ``parallel for`` whose end is the barrier),
and what is left between the phases runs once per block:

* a ``for`` or ``if`` holding a barrier, whose header is *uniform* (the same for every
  thread of the block: CUDA requires it, since every thread must reach the same
  barriers) and so is evaluated once;
* declarations whose values are uniform (``int tiles = (n + T - 1) / T;``), never
  written afterwards;
* an early ``return`` whose condition is uniform (``if (blockIdx.x >= nb) return;``):
  the whole block leaves together, so it is no barrier hazard.

A local declared in one phase and used in another lives across a barrier, so each thread
needs its own copy: it is *expanded* to an array indexed by the thread.  A ``return``
inside the last phase ends only its thread.

Warp functions live in the same scheme, a warp being 32 consecutive threads of the block:
``x = __shfl_down_sync(m, v, d);`` (also ``__shfl_sync``/``_up``/``_xor``, ``__ballot_sync``,
``__any_sync``, ``__all_sync``, as ``=``, ``op=`` or a declaration) ends a phase in which every
thread publishes ``v`` and opens the next one, in which each thread reads its source lane's
value; ``__syncwarp()`` ends a phase.  An exchange under a condition that may differ between
threads (``if (warp == 0) ...``: CUDA requires the warp's lanes to agree) stores the
condition per thread and guards the phases inside with it.

``plan_phases`` answers with a ``PhasePlan`` or, when the kernel is outside what this
scheme proves (a barrier under a thread-dependent condition, a ``while``, a ``goto``, a
``return`` that a later barrier would miss, a shadowed name...), the reason as a string;
the translator then keeps the one-team-per-block form, which is correct but slow.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.cuda.coop import Groups, WarpOp
from pcx_driver.cuda.parse import call_args, call_name, declarator_name, has_keyword, text, walk
from pcx_driver.cuda.tables import MINMAX

#: Calls a uniform expression may contain: pure functions of their arguments.
_PURE_CALLS = frozenset(MINMAX) | {"fminf", "fmaxf", "fmin", "fmax", "abs", "umin", "umax", "llmin", "llmax"}


@dataclass
class Recomputed:
    """A local that lives across a barrier but is a pure function of threadIdx and uniform
    values (``int tx = threadIdx.x;``, ``int row = blockIdx.y * T + ty;``), never written:
    each later phase that reads it declares it again instead of keeping a per-thread array
    (COX's rematerialisation: it stays in a register)."""

    name: str
    statement: Node  # its declaration
    declarator: Node  # its init_declarator


#: Warp shuffles by how the source lane is found (``pcx_warp_src`` in the prologue).
SHUFFLES = {"__shfl_sync": 0, "__shfl_up_sync": 1, "__shfl_down_sync": 2, "__shfl_xor_sync": 3}
VOTES = frozenset({"__ballot_sync", "__any_sync", "__all_sync"})
WARP_CALLS = frozenset(SHUFFLES) | VOTES | {"__syncwarp"}


@dataclass
class Exchange:
    """``x op= W(mask, value, ...);`` or ``T x = W(...);``: ``value`` is published by every
    thread at the end of one phase (into ``pcx_xchg<index>``), and the next phase opens by
    reading the source lane's (or, for ``cg::reduce``, combining its tile's)."""

    statement: Node
    call: Node
    name: str  # the warp function: a __*_sync name, or "reduce" (cg::reduce)
    target: Node  # the identifier x
    op: str  # "=", "+=", ... or "decl"
    index: int
    type: Node | None  # the element type of the buffer (None: a vote, int)
    warp: WarpOp | None = None  # what the call does, however spelled (coop.WarpOp)


@dataclass
class Predicate:
    """A condition that may differ between threads around an exchange: stored per thread
    (``pcx_pred<index>``) at the end of a phase, it guards the phases inside the ``if``."""

    condition: Node
    index: int


@dataclass
class Phase:
    """Statements every thread runs, one after another, between two barriers."""

    statements: list[Node] = field(default_factory=list)
    final: bool = False  # no barrier follows: a return in it ends only its own thread
    preamble: list[Recomputed] = field(default_factory=list)  # declared again at its top, in source order
    opening: Exchange | None = None  # the exchange whose values it reads first
    closing: Exchange | Predicate | None = None  # what it publishes last
    number: int = 0  # its place among the kernel's phases (names its exit label)
    recomputed_later: list[str] = field(default_factory=list)  # its locals later phases declare again


@dataclass
class BlockStep:
    """A statement run once per block: ``kind`` is "uniform" (a declaration or an early
    return, printed as written), "for", "if" or "block" (a barrier-holding compound
    statement; ``body``/``orelse`` are its own steps), "guarded" (an ``if`` whose
    condition ``predicate`` stored per thread guards the phases of its branches), or
    "lockstep" (a per-thread strided loop whose iterations the block's threads take in
    turn; ``body`` is one phase, its body: see ``_Planner.lockstep_loop``)."""

    node: Node
    kind: str
    body: list[Step] = field(default_factory=list)
    orelse: list[Step] | None = None
    predicate: int = -1
    # a uniform return's test reads these locals as the values they were declared with
    values: dict[str, Node] = field(default_factory=dict)


Step = Phase | BlockStep


@dataclass
class PerThreadVar:
    """A local that lives across a barrier: one element per thread of the block."""

    name: str
    type: Node  # its type specifier
    const_pointee: bool  # ``const T *p``: the array holds pointers to const
    declarator: Node  # identifier or pointer_declarator naming it


def _breaks_out(body: Node) -> bool:
    """Whether a ``break``/``continue`` in ``body`` (a loop's body) leaves that loop."""
    for n in walk(body):
        if n.type in ("break_statement", "continue_statement"):
            p = n.parent
            while p is not None and p.id != body.id:
                if p.type in ("for_statement", "while_statement", "do_statement") or (
                    p.type == "switch_statement" and n.type == "break_statement"
                ):
                    break
                p = p.parent
            else:
                return True
    return False


@dataclass
class PhasePlan:
    steps: list[Step]
    per_thread: dict[str, PerThreadVar]
    phases: int
    exchanges: list[Exchange] = field(default_factory=list)
    predicates: int = 0
    #: a thread may return before the last phase (no block barrier follows the return):
    #: each thread's flag says it left, and the later phases skip it
    leaves: bool = False


class _NoPhases(Exception):
    pass


def warp_op(node: Node, groups: Groups) -> WarpOp | None:
    """The warp-level call ``node`` is (a ``__*_sync`` function or a tile's), or None."""
    return groups.warp_op(node, SHUFFLES, VOTES)


def _is_barrier(stmt: Node, groups: Groups) -> bool:
    """``__syncthreads();`` or ``block.sync();``"""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    return groups.is_barrier(stmt.named_children[0])


def _has_barrier(node: Node, groups: Groups) -> bool:
    return any(groups.is_barrier(n) for n in walk(node))


def _has_warp_call(node: Node, groups: Groups) -> bool:
    return any(warp_op(n, groups) is not None for n in walk(node))


def _has_split(node: Node, groups: Groups) -> bool:
    """Whether a phase must end inside ``node``: a barrier, or a warp exchange."""
    return _has_barrier(node, groups) or _has_warp_call(node, groups)


def _is_syncwarp(stmt: Node, groups: Groups) -> bool:
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    op = warp_op(stmt.named_children[0], groups)
    return op is not None and op.kind == "syncwarp" and op.arity_ok


def _address_kept(write: Node) -> bool:
    """``&x`` anywhere but as an atomic's target (``atomicAdd(&x, v)``): a pointer that may
    write ``x`` where the syntax no longer shows it."""
    if write.type != "pointer_expression":
        return False
    args = write.parent
    call = args.parent if args is not None and args.type == "argument_list" else None
    return not (call is not None and call.type == "call_expression" and call_name(call).startswith("atomic")
                and call_args(call) and call_args(call)[0].id == write.id)


def is_unroll_hint(node: Node) -> bool:
    """``#pragma unroll [N]``: a hint, dropped where it would stand between phases."""
    return node.type == "preproc_call" and text(node).split()[:2] in (["#pragma", "unroll"], ["#pragma", "nounroll"])


#: The pieces of conditional compilation (``#ifdef TABLE ... #else ... #endif``).
_CONDITIONAL_PIECES = frozenset({"preproc_if", "preproc_ifdef", "preproc_elif", "preproc_elifdef", "preproc_else"})


def _conditional_refusal(node: Node, groups: Groups) -> str:
    """Why a conditional-compilation block keeps the kernel from its phases, or ''.  One
    of statements, with no barrier, warp function, declaration or jump inside, is a
    statement of its phase like any other: whichever branch the preprocessor keeps stays
    in that phase, and the analysis has read the names of both."""
    if node.parent is None or node.parent.type not in ("compound_statement", *_CONDITIONAL_PIECES):
        return f"the kernel has a {node.type.replace('_', ' ')} inside a statement"
    for n in walk(node):
        if n.type in ("declaration", "return_statement", "break_statement", "continue_statement", "goto_statement",
                      "labeled_statement"):
            return f"the kernel has a {n.type.replace('_', ' ')} inside conditional compilation ({text(node).split()[0]})"
    if _has_split(node, groups):
        return f"the kernel has a barrier or warp function inside conditional compilation ({text(node).split()[0]})"
    return ""


def _statements(node: Node) -> list[Node]:
    """The statement list of a loop/if body (a single statement is a list of one)."""
    if node.type == "compound_statement":
        return [c for c in node.named_children]
    return [node]


def _in_own_update(write: Node, name: str) -> bool:
    """Whether ``write`` lies in the update of a ``for`` that declares ``name`` itself."""
    p = write.parent
    while p is not None:
        if p.type == "for_statement":
            update, init = p.child_by_field_name("update"), p.child_by_field_name("initializer")
            if (update is not None and update.start_byte <= write.start_byte < update.end_byte and init is not None
                    and any(declarator_name(d) == name for d in init.children_by_field_name("declarator"))):
                return True
        p = p.parent
    return False


#: The most elements a thread's array living across a barrier may have where its size is
#: written out: each becomes an array of one per thread of the largest block.
MAX_PER_THREAD_ELEMENTS = 64


def _per_thread_array(declarator: Node, name: str) -> Node:
    """The identifier of ``name[N][M]`` (no initializer), for an array of one such array per
    thread; ``_NoPhases`` where a size is missing or, written out, too large."""
    node, elements = declarator, 1
    while node.type == "array_declarator":
        size = node.child_by_field_name("size")
        if size is None:
            raise _NoPhases(f"{name} lives across __syncthreads() and is an array of no size")
        if size.type == "number_literal" and text(size).isdigit():
            elements *= int(text(size))
        node = node.child_by_field_name("declarator")
    if elements > MAX_PER_THREAD_ELEMENTS:
        raise _NoPhases(f"{name} lives across __syncthreads() and is an array of {elements} elements "
                        f"(a copy per thread: at most {MAX_PER_THREAD_ELEMENTS})")
    return node


def _zero_list(value: Node | None) -> bool:
    """``{}`` or ``{0}``: every element zero."""
    return value is not None and value.type == "initializer_list" and (
        not value.named_children or (len(value.named_children) == 1 and text(value.named_children[0]) in ("0", "0.0", "0.0f", "0.f")))


def _write_target(write: Node) -> Node:
    """What an assignment, an update or an ``&`` writes (its left side or its argument)."""
    return write.child_by_field_name("left" if write.type == "assignment_expression" else "argument")


def _loop_counter(declarator: Node) -> bool:
    """A declarator in a ``for`` loop's initializer."""
    decl = declarator.parent
    return decl is not None and decl.type == "declaration" and decl.parent is not None and \
        decl.parent.type == "for_statement" and decl.parent.child_by_field_name("initializer") is not None and \
        decl.parent.child_by_field_name("initializer").id == decl.id


def _scope_range(declarator: Node) -> tuple[int, int]:
    """Bytes where a local's declaration is in force: the rest of its block, or its ``for``."""
    stmt = declarator.parent if declarator.parent is not None and declarator.parent.type == "declaration" else declarator
    block = stmt.parent
    if block is not None and block.type == "for_statement":
        return block.start_byte, block.end_byte
    return stmt.start_byte, block.end_byte if block is not None else stmt.end_byte


def _disjoint_scopes(declarators: list[Node]) -> bool:
    ranges = sorted(_scope_range(d) for d in declarators)
    return all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))


def _scoped_uses(decl: Node, name: str) -> list[Node]:
    """The identifiers ``name`` that mean the local ``decl`` declares: after it in its
    block, outside a ``for`` whose initializer declares the name again and a block that
    declares it again."""
    out: list[Node] = []

    def visit(n: Node) -> None:
        if n.type == "for_statement":
            init = n.child_by_field_name("initializer")
            if init is not None and init.type == "declaration" and any(
                    declarator_name(d) == name for d in init.children_by_field_name("declarator")):
                return
        if n.type == "compound_statement" and any(
                c.type == "declaration" and any(declarator_name(d) == name for d in c.children_by_field_name("declarator"))
                for c in n.named_children):
            return
        if n.type == "identifier" and text(n) == name:
            out.append(n)
        for c in n.children:
            visit(c)

    sibling = decl.next_sibling
    while sibling is not None:
        visit(sibling)
        sibling = sibling.next_sibling
    return out


def _own_statement_update(write: Node, name: str) -> bool:
    """``name op= ...;`` or ``name++;``: the write is the whole expression statement."""
    return (write.type in ("assignment_expression", "update_expression") and write.parent is not None
            and write.parent.type == "expression_statement" and write.parent.named_children[0].id == write.id)


def _written_name(target: Node) -> str:
    return text(target) if target.type == "identifier" else ""


def writes_of(body: Node) -> dict[str, list[Node]]:
    """name -> the nodes of ``body`` that assign it, increment it or take its address."""
    out: dict[str, list[Node]] = {}
    for n in walk(body):
        if n.type in ("assignment_expression", "update_expression") or (
                n.type == "pointer_expression" and text(n.child_by_field_name("operator")) == "&"):
            if name := _written_name(_write_target(n)):
                out.setdefault(name, []).append(n)
    return out


class _Planner:
    def __init__(self, body: Node, params: set[str], shared: set[str], groups: Groups, lockstep: bool = False,
                 facts_only: bool = False) -> None:
        """``facts_only``: read the body's locals and writes, refusing nothing (for
        ``leaves_together``, asked of kernels the phase split does not take)."""
        self.body = body
        self.lockstep = lockstep
        self.lockstep_vars: dict[str, PerThreadVar] = {}  # the counters of lockstep loops
        self.return_values: dict[int, dict[str, Node]] = {}  # uniform returns: what their locals hold there
        self.groups = groups
        self.params = params
        self.shared = shared
        self.block_names: set[str] = set()  # uniform locals and block-level loop variables
        self.loop_headers: dict[str, Node] = {}  # loop variable -> its for statement
        self.locals: dict[str, list[Node]] = {}  # name -> its declarators (all of the kernel)
        self.writes = writes_of(body)  # name -> nodes writing it (or taking its address)
        self.stmt_phase: dict[int, Phase] = {}  # a phase's statement (Node.id) -> its phase
        self.phases: list[Phase] = []
        self.exchanges: list[Exchange] = []
        self.predicates = 0
        self.guarded = 0  # depth of "guarded" ifs being planned
        self.leaves = False  # a return before the last phase, no block barrier after it
        for n in walk(body):
            if n.type == "declaration" and not has_keyword(n, "__shared__"):
                for d in n.children_by_field_name("declarator"):
                    self.locals.setdefault(declarator_name(d), []).append(d)
            elif n.type in ("assignment_expression", "update_expression", "pointer_expression"):
                continue  # writes_of
            elif is_unroll_hint(n) or (n.parent is not None and is_unroll_hint(n.parent)):
                continue  # the hint and its pieces (#pragma, unroll)
            elif facts_only:
                continue
            elif n.type in _CONDITIONAL_PIECES and (why := _conditional_refusal(n, groups)):
                raise _NoPhases(why)
            elif n.type in ("goto_statement", "labeled_statement") or (
                n.type.startswith("preproc_") and n.type not in _CONDITIONAL_PIECES and n.type != "preproc_defined"
            ):
                raise _NoPhases(f"the kernel has a {n.type.replace('_', ' ')}")
            elif n.type in ("lambda_expression", "for_range_loop", "try_statement") and _has_barrier(n, groups):
                raise _NoPhases(f"__syncthreads() inside a {n.type.replace('_', ' ')}")
        # A kernel's parameters are each thread's own variables; the block function has one
        # copy for the block.  A parameter stays one copy where every write of it is a
        # statement of its own, ``p += <uniform>;``, that runs once per block as a step
        # (llm.c's ``att += idx * T * T;``): every thread would compute the same value.
        self.param_updates = {name for name in self.params if name in self.writes and all(
            _own_statement_update(w, name) for w in self.writes[name])}
        if not facts_only:
            for name in sorted(set(self.params) & set(self.writes) - self.param_updates):
                raise _NoPhases(f"the parameter {name} is written inside a statement (each thread has its own)")

    def settle_uniform_locals(self) -> None:
        """Count as uniform the locals every thread holds alike (a divergence analysis):
        start from all of them and drop, until none is dropped, each one declared or
        assigned a value that may differ between threads, or assigned, or declared with a
        value, under a condition that may (``int s = 32; while (s > 0) { ...; s /= 2; }``:
        uniform; ``if (t < 4) s = 0;``: not)."""
        cand = {name for name, decls in self.locals.items()
                if name not in self.params and name not in self.shared and all(
                    (d.child_by_field_name("declarator") if d.type == "init_declarator" else d).type == "identifier"
                    for d in decls)}
        while True:
            extra = frozenset(cand | self.block_names)
            dropped = {name for name in cand if not self._uniformly_defined(name, extra)}
            if not dropped:
                break
            cand -= dropped
        self.block_names |= cand

    def _uniformly_defined(self, name: str, extra: frozenset[str]) -> bool:
        for d in self.locals.get(name, []):
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if (value is not None and not self.uniform(value, extra)) or not self._uniform_context(d, extra):
                return False
        for w in self.writes.get(name, []):
            if w.type == "pointer_expression":
                return False  # its address taken: written where the syntax no longer shows it
            if w.type == "assignment_expression" and not self.uniform(w.child_by_field_name("right"), extra):
                return False
            if not self._uniform_context(w, extra):
                return False
        return True

    def _uniform_context(self, node: Node, extra: frozenset[str]) -> bool:
        """Whether every thread reaches ``node`` alike: each condition around it uniform."""
        p, child = node.parent, node
        while p is not None and p.id != self.body.id:
            if p.type in ("if_statement", "while_statement", "do_statement"):
                cond = p.child_by_field_name("condition")
                if not (cond is not None and cond.start_byte <= child.start_byte < cond.end_byte) and not self.uniform(cond, extra):
                    return False
            elif p.type == "for_statement":
                init = p.child_by_field_name("initializer")
                once = init is not None and init.start_byte <= child.start_byte < init.end_byte
                if not once and not self.uniform(p.child_by_field_name("condition"), extra):
                    return False  # its body, update and condition run as often as the condition says
            elif p.type in ("conditional_expression", "switch_statement", "case_statement") or (
                    p.type == "binary_expression" and text(p.child_by_field_name("operator")) in ("&&", "||")):
                return False
            child, p = p, p.parent
        return True

    def param_update(self, stmt: Node) -> bool:
        """``p op= <uniform>;`` or ``p++;`` for a parameter every write of which has that
        form (``param_updates``): a step of the block, run once."""
        if stmt.type != "expression_statement" or not stmt.named_children:
            return False
        e = stmt.named_children[0]
        target = _write_target(e)
        if target is None or _written_name(target) not in self.param_updates:
            return False
        if self.guarded or (e.type == "assignment_expression" and not self.uniform(e.child_by_field_name("right"))):
            raise _NoPhases(f"the parameter {text(target)} is written with a value that may differ between threads")
        return True

    # -------------------------------------------------------------- uniformity

    def uniform(self, expr: Node | None, extra: frozenset[str] = frozenset(), thread: bool = False,
                settled: frozenset[str] = frozenset()) -> bool:
        """Whether ``expr`` has the same value in every thread of the block: it reads only
        blockIdx/blockDim/gridDim, constants and macros, parameters and globals the
        kernel never writes, and uniform locals; no memory (subscripts, ``*p``, ``->``).
        With ``thread``: the same value whenever one thread computes it (threadIdx too).
        ``settled``: ``__shared__`` scalars no thread writes between the last barrier and
        ``expr`` (``settled_shared``), so every thread reads the same value."""
        if expr is None:
            return True
        for n in walk(expr):
            t = n.type
            if t in ("subscript_expression", "assignment_expression", "update_expression", "comma_expression"):
                return False
            if t == "pointer_expression" and text(n.child_by_field_name("operator")) == "*":
                return False
            if t == "field_expression" and text(n.child_by_field_name("operator")) == "->":
                return False
            if t == "call_expression":
                fn = n.child_by_field_name("function")
                if self.groups.uniform_call(n, thread):
                    continue  # block.size(), and with ``thread`` block.thread_rank()
                if fn is None or fn.type != "identifier" or text(fn) not in _PURE_CALLS:
                    return False
            if t == "identifier":
                name = text(n)
                if name in self.groups.groups:
                    continue  # the group itself; calls on it are judged above
                if name in self.shared and name in settled:
                    continue
                if (name == "threadIdx" and not thread) or name in self.shared:
                    return False
                if name in self.block_names or name in extra:
                    continue
                if name in self.locals or (name in self.writes and name not in self.param_updates):
                    return False
        return True

    def settled_shared(self, open_phase: Phase | None) -> frozenset[str]:
        """The ``__shared__`` names no statement of ``open_phase`` (the statements since
        the last barrier) writes: read right after it, every thread sees the same value
        (``if (isLastBlockDone) { ... __syncthreads(); ... }`` after a barrier).  A write
        in that phase would race with the other threads' reads in CUDA."""
        since = open_phase.statements if open_phase is not None else []
        return frozenset(
            name for name in self.shared
            if not any(s.start_byte <= w.start_byte < s.end_byte for s in since for w in self.writes.get(name, []))
            and not any(_address_kept(w) for w in self.writes.get(name, []))
        )

    def uniform_declaration(self, stmt: Node) -> bool:
        """``T a = <uniform>, b = <uniform>;``, none of them ever written again."""
        if stmt.type != "declaration" or has_keyword(stmt, "__shared__") or has_keyword(stmt, "static"):
            return False
        decls = stmt.children_by_field_name("declarator")
        if not decls:
            return False
        for d in decls:
            if d.type != "init_declarator" or d.child_by_field_name("declarator").type != "identifier":
                return False
            name = declarator_name(d)
            if name in self.writes or len(self.locals.get(name, [])) != 1 or name in self.params:
                return False
            if not self.uniform(d.child_by_field_name("value")):
                return False
        for d in decls:
            self.block_names.add(declarator_name(d))
        return True

    def uniform_return(self, stmt: Node) -> bool:
        """``return;`` or ``if (<uniform>) return;``: the whole block leaves together.  The
        condition may read a local declared before it, at the top of the body, from a
        uniform value and written only after it (SimpleMOC's ``int blockId = blockIdx.y *
        gridDim.x + blockIdx.x; if (blockId >= n) return; ... blockId *= k;``): there it
        still has that value, which the return's test reads instead (``values``)."""
        if stmt.type == "return_statement":
            return True
        if stmt.type != "if_statement" or stmt.child_by_field_name("alternative") is not None:
            return False
        then = _statements(stmt.child_by_field_name("consequence"))
        if len(then) != 1 or then[0].type != "return_statement":
            return False
        cond = stmt.child_by_field_name("condition")
        values = {}
        for n in walk(cond):
            name = text(n) if n.type == "identifier" else ""
            decls = self.locals.get(name, [])
            if len(decls) != 1 or decls[0].type != "init_declarator" or name in values:
                continue
            d = decls[0]
            decl = d.parent
            if (decl is None or decl.parent is None or decl.parent.id != self.body.id or d.end_byte > stmt.start_byte
                    or d.child_by_field_name("declarator").type != "identifier"
                    or any(w.start_byte < stmt.end_byte for w in self.writes.get(name, []))
                    or not self.uniform(d.child_by_field_name("value"))):
                continue
            values[name] = d.child_by_field_name("value")
        if not self.uniform(cond, frozenset(values)):
            return False
        if values:
            self.return_values[stmt.id] = values
        return True

    def block_for(self, stmt: Node) -> BlockStep:
        init = stmt.child_by_field_name("initializer")
        # what the loop holds that every thread must reach (the reasons name it)
        what = "__syncthreads()" if _has_barrier(stmt, self.groups) else "a warp function"
        loop_vars: set[str] = set()
        if init is not None:
            if init.type != "declaration":
                raise _NoPhases(f"a loop holding {what} must declare its own counter")
            for d in init.children_by_field_name("declarator"):
                if d.type != "init_declarator" or not self.uniform(d.child_by_field_name("value")):
                    raise _NoPhases(f"a loop holding {what} starts from a value that may differ between threads")
                name = declarator_name(d)
                # Loops may reuse a counter's name (each its own scope) when every
                # declaration of it is a loop's counter.  The name is then uniform wherever
                # a uniformity question is asked: a loop holding no barrier lies inside one
                # phase, and nothing in its body is asked (no split there).
                if name in self.params or not all(
                    o.parent is not None and o.parent.parent is not None and o.parent.parent.type == "for_statement"
                    and o.parent.id == o.parent.parent.child_by_field_name("initializer").id
                    for o in self.locals.get(name, [])
                ):
                    raise _NoPhases(f"the loop counter {name} is declared twice")
                loop_vars.add(name)
        update = stmt.child_by_field_name("update")
        for name in loop_vars:
            if not all(_in_own_update(w, name) for w in self.writes.get(name, [])):
                raise _NoPhases(f"the loop counter {name} is written inside the loop")
        lv = frozenset(loop_vars)
        if not self.uniform(stmt.child_by_field_name("condition"), lv):
            raise _NoPhases(f"a loop holding {what} has a condition that may differ between threads")
        if update is not None:
            for n in walk(update):
                if n.type in ("assignment_expression", "update_expression"):
                    target = n.child_by_field_name("left" if n.type == "assignment_expression" else "argument")
                    if _written_name(target) not in loop_vars:
                        raise _NoPhases(f"the update of a loop holding {what} writes more than its counter")
                    value = n.child_by_field_name("right")
                    if value is not None and not self.uniform(value, lv):
                        raise _NoPhases(f"the update of a loop holding {what} may differ between threads")
                elif n.type in ("call_expression", "subscript_expression"):
                    raise _NoPhases(f"the update of a loop holding {what} is not plain arithmetic")
        self.block_names |= loop_vars
        return BlockStep(stmt, "for", self.steps(_statements(stmt.child_by_field_name("body"))))

    def block_if(self, stmt: Node, predicate: int = -1) -> BlockStep:
        guarded = predicate >= 0
        if guarded and _has_barrier(stmt, self.groups):
            raise _NoPhases("__syncthreads() under a condition that may differ between threads")
        reading_all = next((op for n in walk(stmt) if (op := warp_op(n, self.groups)) is not None
                            and op.kind in ("vote", "reduce")), None) if guarded else None
        if reading_all is not None:  # every lane's value is read: every lane must have published one
            what = "a warp vote" if reading_all.kind == "vote" else "cg::reduce"
            raise _NoPhases(f"{what} under a condition that may differ between threads")
        self.guarded += guarded
        alt = stmt.child_by_field_name("alternative")
        orelse = None
        if alt is not None:
            inner = next(c for c in alt.named_children if c.type != "comment") if alt.type == "else_clause" else alt
            orelse = self.steps(_statements(inner))
        body = self.steps(_statements(stmt.child_by_field_name("consequence")))
        self.guarded -= guarded
        if not guarded:
            return BlockStep(stmt, "if", body, orelse)
        return BlockStep(stmt, "guarded", body, orelse, predicate=predicate)

    def lockstep_loop(self, stmt: Node) -> PerThreadVar | None:
        """A loop every thread runs on its own, from a start that differs between threads
        by a uniform stride (a block- or grid-stride loop, ``for (int i = blockIdx.x * B + t;
        i < n; i += gridDim.x * B)``), as the counter it needs per thread; else None.

        Between two barriers CUDA orders no thread's statements against another's, so the
        threads may take such a loop's iterations in turn (iteration k of every thread,
        then k + 1): a legal schedule, and where one thread runs a whole block (the serial
        block function) it walks memory as the block does on a GPU, where thread after
        thread would walk one stride apart (a cache set conflict when the stride is a
        power of two: shared_stencil's reduction ran 5x slower)."""
        init, update = stmt.child_by_field_name("initializer"), stmt.child_by_field_name("update")
        if stmt.type != "for_statement" or init is None or init.type != "declaration" or update is None:
            return None
        decls = init.children_by_field_name("declarator")
        typ = init.child_by_field_name("type")
        if (len(decls) != 1 or decls[0].type != "init_declarator" or typ is None or text(typ) in ("auto", "dim3")
                or has_keyword(init, "static") or decls[0].child_by_field_name("declarator").type != "identifier"):
            return None
        name = declarator_name(decls[0])
        if (name in self.params or name in self.shared or len(self.locals.get(name, [])) != 1
                or self.uniform(decls[0].child_by_field_name("value"))):
            return None  # declared again elsewhere (its uses would all be renamed), or the same start in every thread
        step = None
        if update.type == "assignment_expression" and _written_name(update.child_by_field_name("left")) == name:
            right = update.child_by_field_name("right")
            if text(update.child_by_field_name("operator")) == "+=":
                step = right
            elif (text(update.child_by_field_name("operator")) == "=" and right.type == "binary_expression"
                  and text(right.child_by_field_name("operator")) == "+"
                  and _written_name(right.child_by_field_name("left")) == name):
                step = right.child_by_field_name("right")
        if step is None or step.type == "number_literal" or not self.uniform(step):
            return None
        if not all(_in_own_update(w, name) for w in self.writes.get(name, [])):
            return None
        body = stmt.child_by_field_name("body")
        if _breaks_out(body) or any(n.type in ("return_statement", "goto_statement") for n in walk(body)):
            return None
        return PerThreadVar(name, typ, False, decls[0].child_by_field_name("declarator"))

    def exchange(self, stmt: Node) -> Exchange | None:
        """``x op= W(...);`` / ``T x = W(...);`` with W a shuffle or vote, nowhere else in it."""
        if stmt.type == "expression_statement" and stmt.named_children:
            e = stmt.named_children[0]
            if e.type != "assignment_expression":
                return None
            target, call, op = e.child_by_field_name("left"), e.child_by_field_name("right"), text(e.child_by_field_name("operator"))
        elif stmt.type == "declaration" and len(stmt.children_by_field_name("declarator")) == 1:
            d = stmt.child_by_field_name("declarator")
            if d.type != "init_declarator":
                return None
            target, call, op = d.child_by_field_name("declarator"), d.child_by_field_name("value"), "decl"
        else:
            return None
        wop = warp_op(call, self.groups) if call is not None else None
        if wop is None or wop.kind == "syncwarp":
            return None
        # An element (``acc[warp.meta_group_rank()] = cg::reduce(...)``) is assigned in the
        # receiving phase, its subscript evaluated there by the same thread; a reduction or
        # a vote has its type, a shuffle takes its target's declaration.
        if target.type != "identifier" and not (target.type == "subscript_expression" and op == "="
                                                and wop.kind in ("reduce", "vote")):
            return None
        if sum(warp_op(n, self.groups) is not None for n in walk(stmt)) != 1:
            return None
        name = {"vote": wop.vote, "reduce": "reduce"}.get(wop.kind, wop.spelling)
        if not wop.arity_ok:
            raise _NoPhases(f"{wop.spelling} with {len(call_args(call))} arguments" if wop.kind != "reduce" else
                            f"{wop.spelling}: only cg::reduce(tile, v, cg::OP<T>()) over a thread_block_tile, "
                            "OP one of plus, less, greater, bit_and, bit_or, bit_xor")
        typ = None
        if wop.kind == "reduce":
            typ = wop.type
        elif wop.kind == "shuffle":
            if op == "decl":
                typ = self.declared_type(stmt, call)
            else:
                decls = self.locals.get(text(target), [])
                if len(decls) != 1 or decls[0].parent is None or decls[0].parent.type != "declaration":
                    raise _NoPhases(f"{name} into {text(target)}, which is not a local variable")
                typ = decls[0].parent.child_by_field_name("type")
                inner = decls[0].child_by_field_name("declarator") if decls[0].type == "init_declarator" else decls[0]
                if inner.type != "identifier":
                    raise _NoPhases(f"{name} into {text(target)}, which is not a scalar")
        ex = Exchange(stmt, call, name, target, op, len(self.exchanges), typ, wop)
        self.exchanges.append(ex)
        return ex

    def declared_type(self, stmt: Node, value: Node | None) -> Node | None:
        """The type specifier of declaration ``stmt``; for ``auto x = __shfl_*_sync(m, v, ...)``
        with ``v`` a scalar local (what an inlined helper's ``auto`` exchange looks like,
        ``inline.py``), ``v``'s, which the shuffle returns."""
        typ = stmt.child_by_field_name("type")
        if typ is None or text(typ) != "auto" or value is None or call_name(value) not in SHUFFLES:
            return typ
        args = call_args(value)
        if len(args) < 2 or args[1].type != "identifier":
            return typ
        decls = self.locals.get(text(args[1]), [])
        if len(decls) != 1 or decls[0].parent is None or decls[0].parent.type != "declaration":
            return typ
        inner = decls[0].child_by_field_name("declarator") if decls[0].type == "init_declarator" else decls[0]
        return decls[0].parent.child_by_field_name("type") if inner.type == "identifier" else typ

    # -------------------------------------------------------------- steps

    def steps(self, stmts: list[Node]) -> list[Step]:
        out: list[Step] = []
        current: Phase | None = None

        def close() -> None:
            nonlocal current
            if current is not None and (current.opening or current.closing or any(
                s.type != "comment" for s in current.statements
            )):
                out.append(current)
                self.register(current)
            current = None

        def phase() -> Phase:
            nonlocal current
            if current is None:
                current = Phase()
            return current

        for s in stmts:
            if is_unroll_hint(s) and s.next_named_sibling is not None and _has_split(s.next_named_sibling, self.groups):
                continue  # it would stand alone at the end of a phase
            if any(g.statement.id == s.id for g in self.groups.groups.values()):
                continue  # a cooperative group's declaration: it prints as nothing
            if _is_barrier(s, self.groups) or _is_syncwarp(s, self.groups):
                close()
            elif (ex := self.exchange(s)) is not None:
                phase().closing = ex
                close()
                phase().opening = ex
            elif _has_split(s, self.groups):
                predicate = -1
                if s.type == "if_statement" and not self.uniform(s.child_by_field_name("condition"),
                                                                 settled=self.settled_shared(current)):
                    predicate = self.predicates
                    self.predicates += 1
                    phase().closing = Predicate(s.child_by_field_name("condition"), predicate)
                close()
                if s.type == "for_statement":
                    out.append(self.block_for(s))
                elif s.type == "if_statement":
                    out.append(self.block_if(s, predicate))
                elif s.type == "compound_statement":
                    out.append(BlockStep(s, "block", self.steps(_statements(s))))
                elif _has_barrier(s, self.groups):
                    raise _NoPhases(f"__syncthreads() inside a {s.type.replace('_', ' ')}")
                else:
                    wop = next(op for n in walk(s) if (op := warp_op(n, self.groups)) is not None)
                    if s.type not in ("expression_statement", "declaration"):
                        raise _NoPhases(f"{wop.spelling} inside a {s.type.replace('_', ' ')}")
                    raise _NoPhases(f"{wop.spelling} must be the whole right-hand side of an assignment or "
                                    "declaration, or __syncwarp() a statement of its own")
            elif self.param_update(s):
                close()
                out.append(BlockStep(s, "uniform"))
            elif self.uniform_declaration(s) or (self.uniform_return(s) and not self.guarded):
                close()
                out.append(BlockStep(s, "uniform", values=self.return_values.get(s.id, {})))
            elif self.lockstep and not self.guarded and (counter := self.lockstep_loop(s)) is not None:
                close()
                body = Phase(_statements(s.child_by_field_name("body")))
                self.register(body, [s.child_by_field_name(f) for f in ("initializer", "condition", "update")])
                self.lockstep_vars[counter.name] = counter
                out.append(BlockStep(s, "lockstep", [body]))
            else:
                phase().statements.append(s)
        close()
        return out

    def read_as_value(self, use: Node, name: str) -> bool:
        """Whether ``use`` is in the test of a uniform return that reads ``name`` as the
        value it was declared with (``uniform_return``): no use of the variable."""
        p = use.parent
        while p is not None and p.id != self.body.id:
            if name in self.return_values.get(p.id, {}):
                return True
            p = p.parent
        return False

    def register(self, ph: Phase, extra: list[Node | None] = ()) -> None:
        """Number ``ph`` and record which phase each of its statements (and ``extra``
        nodes: a lockstep loop's header) belongs to."""
        ph.number = len(self.phases)
        self.phases.append(ph)
        for s in ph.statements + [n for n in extra if n is not None]:
            self.stmt_phase[s.id] = ph
        if ph.opening is not None:
            self.stmt_phase[ph.opening.statement.id] = ph
        if isinstance(ph.closing, Exchange):
            self.stmt_phase[ph.closing.warp.value.id] = ph
        elif isinstance(ph.closing, Predicate):
            self.stmt_phase[ph.closing.condition.id] = ph

    # -------------------------------------------------------------- checks over the phases

    def phase_of(self, node: Node) -> Phase | None:
        p: Node | None = node
        while p is not None and p.id != self.body.id:
            ph = self.stmt_phase.get(p.id)
            if ph is not None:
                return ph
            p = p.parent
        return None

    def check_param_writes(self) -> None:
        """A parameter update inside a phase (``if (t == 0) p += 4;``) would run once per
        thread on the block's one copy."""
        for name in sorted(self.param_updates):
            if any(self.phase_of(w) is not None for w in self.writes[name]):
                raise _NoPhases(f"the parameter {name} is written by the block's threads one by one")

    def check_jumps(self) -> None:
        """``break``/``continue`` must stay inside their phase.  A ``return`` before the
        final phase ends its thread, and the phases after skip the threads that left
        (``leaves``): that is what the hardware does, where a thread that exited no
        longer holds up a barrier (PTX ``exit``: the remaining threads meet at it alone;
        llm.c's layernorm backward returns warps past the last row before its
        ``__syncthreads()``), and what CUDA defines for warp exchanges when the whole warp
        or tile left together."""
        for ph in self.phases:
            for s in ph.statements:
                for n in walk(s):
                    if n.type == "return_statement" and not ph.final:
                        # a lane that left votes false in CUDA; its slot here holds nothing
                        if any(ex.warp.kind == "vote" for ex in self.exchanges):
                            raise _NoPhases("a warp vote in a kernel whose threads may return before it (the lanes that left would vote)")
                        self.leaves = True
                    if n.type in ("break_statement", "continue_statement"):
                        p = n.parent
                        ok = False
                        while p is not None:
                            if p.type in ("for_statement", "while_statement", "do_statement") or (
                                p.type == "switch_statement" and n.type == "break_statement"
                            ):
                                ok = True
                                break
                            if p.id == s.id:
                                break
                            p = p.parent
                        if not ok:
                            raise _NoPhases(f"a {text(n).rstrip(';')} leaving a barrier phase")

    def recomputable(self, stmt: Node, d: Node, known: dict[str, Recomputed], written: bool | None = None) -> bool:
        """``written``: whether the local is ever assigned (its own uses: ``_scoped_uses``);
        None: any write of the name counts."""
        if d.type != "init_declarator" or has_keyword(stmt, "static") or has_keyword(stmt, "volatile"):
            return False
        inner = d.child_by_field_name("declarator")
        typ = stmt.child_by_field_name("type")
        written = declarator_name(d) in self.writes if written is None else written
        return (inner.type == "identifier" and typ is not None and text(typ) != "dim3"
                and not written
                and self.uniform(d.child_by_field_name("value"), frozenset(known), thread=True))

    def preambles(self, recomputed: dict[str, Recomputed]) -> None:
        """Each phase declares again the recomputed locals it reads (and what they read)."""
        for ph in self.phases:
            opening = [ph.opening.statement] if ph.opening is not None else []
            own = {declarator_name(d) for s in ph.statements + opening if s.type == "declaration"
                   for d in s.children_by_field_name("declarator")}
            need: set[str] = set()
            todo = [text(n) for n in walk(self.body)
                    if n.type == "identifier" and text(n) in recomputed and self.phase_of(n) is ph]
            while todo:
                name = todo.pop()
                if name in need or name in own:
                    continue
                need.add(name)
                value = recomputed[name].declarator.child_by_field_name("value")
                todo += [text(n) for n in walk(value) if n.type == "identifier" and text(n) in recomputed]
            ph.preamble = sorted((recomputed[n] for n in need), key=lambda r: r.declarator.start_byte)

    def per_thread(self) -> dict[str, PerThreadVar]:
        """Locals declared in one phase and used in another: one copy per thread, unless
        it can be recomputed (``Recomputed``)."""
        out: dict[str, PerThreadVar] = {}
        recomputed: dict[str, Recomputed] = {}
        for ph in self.phases:
            opening = [ph.opening.statement] if ph.opening is not None and ph.opening.op == "decl" else []
            for s in ph.statements + opening:
                if s.type != "declaration" or has_keyword(s, "__shared__"):
                    continue
                for d in s.children_by_field_name("declarator"):
                    name = declarator_name(d)
                    uses = [n for n in walk(self.body) if n.type == "identifier" and text(n) == name
                             and not self.read_as_value(n, name)]
                    if all(self.phase_of(u) is ph for u in uses):
                        continue
                    # Its own uses (another declaration of the name may shadow it in a loop):
                    # recomputed in each phase that reads it, it needs no renaming.
                    scoped = _scoped_uses(s, name)
                    mine = {u.id for u in scoped}
                    written = any(_write_target(w).id in mine for w in self.writes.get(name, []))
                    others = [o for o in self.locals.get(name, []) if o.id != d.id]
                    value = d.child_by_field_name("value") if d.type == "init_declarator" else None
                    if others and all(_loop_counter(o) for o in others) and not written and name not in self.params \
                            and name not in self.shared and all(self.phase_of(u) is not None for u in scoped) \
                            and value is not None and not any(n.type == "identifier" and text(n) in self.locals
                                                              for n in walk(value)) \
                            and self.recomputable(s, d, recomputed, written=False):
                        # pos = threadIdx.x beside loops counting with their own pos: its
                        # value reads nothing local, so declaring it again at the top of a
                        # phase is right wherever the name appears
                        recomputed[name] = Recomputed(name, s, d)
                        ph.recomputed_later.append(name)
                        continue
                    # Declarations of the name whose scopes never overlap (two loops' own
                    # locals) may share one copy per thread: each sets it before it reads it.
                    if (len(self.locals.get(name, [])) != 1 and not _disjoint_scopes(self.locals[name])) \
                            or name in self.params or name in self.shared:
                        raise _NoPhases(f"{name} lives across __syncthreads() and is declared twice")
                    if any(self.phase_of(u) is None for u in uses):
                        raise _NoPhases(f"{name} differs between threads and steers a __syncthreads()")
                    # a name declared in several scopes is kept per thread in each (one way)
                    if len(self.locals.get(name, [])) == 1 and self.recomputable(s, d, recomputed):
                        recomputed[name] = Recomputed(name, s, d)
                        ph.recomputed_later.append(name)
                        continue
                    inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
                    chain = inner
                    while chain.type == "pointer_declarator":
                        if any(c.type == "type_qualifier" for c in chain.children):
                            raise _NoPhases(f"{name} lives across __syncthreads() and is a const pointer")
                        chain = chain.child_by_field_name("declarator")
                    typ = self.declared_type(s, d.child_by_field_name("value") if d.type == "init_declarator" else None)
                    if chain.type == "array_declarator" and chain is inner:
                        if d.type == "init_declarator" and not _zero_list(d.child_by_field_name("value")):
                            raise _NoPhases(f"{name} lives across __syncthreads() and is initialised by a list other than {{}}")
                        chain = _per_thread_array(chain, name)  # its rows: name__pcx[pcx_t][i]...
                    if chain.type != "identifier" or typ is None or text(typ) in ("auto", "dim3") or has_keyword(s, "static"):
                        raise _NoPhases(f"{name} lives across __syncthreads() and is not a plain scalar, pointer or array")
                    if value is not None and ((value.type == "initializer_list" and inner.type != "array_declarator") or any(
                        n.type == "call_expression" and call_name(n).startswith("atomic") for n in walk(value)
                    )):
                        raise _NoPhases(f"{name} lives across __syncthreads() and is initialised by a list or an atomic")
                    # const on the pointee stays (the array holds const T *); on a scalar it goes (we assign).
                    const = inner.type == "pointer_declarator" and any(
                        c.type == "type_qualifier" and text(c) == "const" for c in s.children)
                    out[name] = PerThreadVar(name, typ, const, inner)
        if set(out) & set(recomputed):
            raise _NoPhases(f"{sorted(set(out) & set(recomputed))[0]} lives across __syncthreads() and is declared twice")
        self.preambles(recomputed)
        return out | self.lockstep_vars


def leaves_together(body: Node, params: set[str], shared: set[str], groups: Groups | None, stmt: Node) -> bool:
    """Whether ``stmt``, an ``if (...) return;`` among the kernel body's own statements, is
    a return every thread of the block takes or none does (``_Planner.uniform_return``):
    no thread can then miss a barrier the others reach."""
    if stmt.parent is None or stmt.parent.id != body.id:
        return False
    return _Planner(body, params, shared, groups or Groups(), facts_only=True).uniform_return(stmt)


def warp_synchronous(body: Node, shared: set[str], groups: Groups | None) -> tuple[Node, str] | None:
    """Where a kernel relies on the lanes of a warp running in step: a ``volatile`` pointer
    to its ``__shared__`` memory (the classic warp-synchronous reduction and scan), or, with
    no barrier between, a statement reading a fixed element of a ``__shared__`` array that
    an earlier statement wrote at another index (``if (t < 8) s[t] = v; if (t == 0) x = s[3];``).
    CUDA gives such code no order since Volta, and here the threads of a block run one
    after another: refused, never translated into other results.  (node, what) or None."""
    groups = groups or Groups()
    for n in walk(body):
        if n.type == "declaration" and any(c.type == "type_qualifier" and text(c) == "volatile" for c in n.children) \
                and any(m.type == "identifier" and text(m) in shared for m in walk(n)):
            return n, "a volatile pointer to __shared__ memory (warp-synchronous code)"
    return _unsynchronised(_statements(body), shared, groups)


def _unsynchronised(stmts: list[Node], shared: set[str], groups: Groups) -> tuple[Node, str] | None:
    segment: list[Node] = []
    for s in stmts + [None]:
        if s is None or _has_barrier(s, groups):
            written: dict[str, set[str]] = {}
            for stmt in segment:
                reads = _shared_elements(stmt, shared, writes=False)
                for name, index, node in reads:
                    if name in written and written[name] - {index} and _fixed_index(index):
                        return node, (f"__shared__ {name} read at [{index}] after a write at [{sorted(written[name])[0]}] "
                                      "with no __syncthreads() between (threads of a warp are not in step here)")
                for name, index, _ in _shared_elements(stmt, shared, writes=True):
                    written.setdefault(name, set()).add(index)
            segment = []
            if s is not None and not groups.is_barrier(_expr(s)):
                for child in (c for c in s.named_children if c.type in ("compound_statement",)):
                    if (found := _unsynchronised(_statements(child), shared, groups)) is not None:
                        return found
                for field in ("body", "consequence", "alternative"):
                    child = s.child_by_field_name(field)
                    if child is not None and (found := _unsynchronised(_statements(child), shared, groups)) is not None:
                        return found
        else:
            segment.append(s)
    return None


def _fixed_index(index: str) -> bool:
    """An index no thread computes differently: numbers and macro-like names (``0``,
    ``ROW_SIZE - 1``), where other threads' writes are read."""
    return bool(index) and all(tok.isdigit() or tok.isupper() or not tok.isidentifier()
                               for tok in re.findall(r"[A-Za-z_]\w*|\d+|\S", index))


def _expr(stmt: Node) -> Node:
    return stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_children else stmt


def _shared_elements(stmt: Node, shared: set[str], writes: bool) -> list[tuple[str, str, Node]]:
    """(array, index text, node) of the ``__shared__`` elements ``stmt`` writes, or reads."""
    out = []
    for n in walk(stmt):
        if n.type != "subscript_expression" or text(n.child_by_field_name("argument")) not in shared:
            continue
        p = n.parent
        target = (p.type == "assignment_expression" and p.child_by_field_name("left").id == n.id) or \
                 p.type == "update_expression"
        compound = p.type == "assignment_expression" and target and text(p.child_by_field_name("operator")) != "="
        if target if writes else (not target or compound):
            idx = n.child_by_field_name("indices") or n.child_by_field_name("index")
            index = "".join(text(idx).split()) if idx is not None else ""
            if idx is not None and idx.type == "subscript_argument_list":
                index = index[1:-1]  # [i] -> i
            out.append((text(n.child_by_field_name("argument")), index, n))
    return out


def divergent_barrier(body: Node, params: set[str], shared: set[str], groups: Groups | None) -> Node | None:
    """The first barrier of a kernel body under a condition that may differ between threads
    (an ``if``, ``while`` or ``do``, or a ``for`` whose counter is not the block's), or None.
    Run as one parallel region per block, the threads that take another way would never
    reach it and the others would wait at it forever; CUDA lets such code run only because a
    thread that exits releases the barrier."""
    groups = groups or Groups()
    planner = _Planner(body, params, shared, groups, facts_only=True)
    planner.settle_uniform_locals()
    for barrier in (n for n in walk(body) if groups.is_barrier(n)):
        p = barrier.parent
        while p is not None and p.id != body.id:
            if p.type in ("if_statement", "while_statement", "do_statement") and not planner.uniform(
                    p.child_by_field_name("condition")):
                return barrier
            if p.type == "for_statement" and not _uniform_counted_loop(planner, p):
                return barrier
            if p.type in ("conditional_expression", "switch_statement", "for_range_loop"):
                return barrier
            p = p.parent
    return None


def _uniform_counted_loop(planner: _Planner, loop: Node) -> bool:
    """``for (k = <uniform>; <uniform in k>; k op= <uniform>)``: every thread runs it alike,
    its counter declared there or before it and written in the loop by its update alone."""
    init, cond, update = (loop.child_by_field_name(f) for f in ("initializer", "condition", "update"))
    counters: set[str] = set()
    values: list[Node | None] = []
    for n in ([init] if init is not None else []):
        if n.type == "declaration":
            for d in n.children_by_field_name("declarator"):
                if d.type != "init_declarator":
                    return False
                counters.add(declarator_name(d))
                values.append(d.child_by_field_name("value"))
        elif n.type == "assignment_expression" and _written_name(n.child_by_field_name("left")):
            counters.add(_written_name(n.child_by_field_name("left")))
            values.append(n.child_by_field_name("right"))
        else:
            return False
    extra = frozenset(counters)
    if not counters or not all(planner.uniform(v) for v in values) or not planner.uniform(cond, extra):
        return False
    body = loop.child_by_field_name("body")
    for name in counters:  # the initializer resets it: only what the loop itself writes counts
        for w in planner.writes.get(name, []):
            if body is not None and body.start_byte <= w.start_byte < body.end_byte:
                return False
            if update is not None and update.start_byte <= w.start_byte < update.end_byte and \
                    w.type == "assignment_expression" and not planner.uniform(w.child_by_field_name("right"), extra):
                return False
    return update is None or all(_written_name(_write_target(n)) in counters
                                 for n in walk(update) if n.type in ("assignment_expression", "update_expression"))


def plan_phases(body: Node, params: set[str], shared: set[str], groups: Groups | None = None,
                lockstep: bool = False) -> PhasePlan | str:
    """The phases of a kernel body holding ``__syncthreads()``, or why it has none;
    ``groups``: its cooperative groups (``coop.py``), spellings of the same barriers and
    warp functions.  ``lockstep``: run strided per-thread loops in lockstep
    (``_Planner.lockstep_loop``), for a block function in which one thread runs the
    whole block."""
    try:
        planner = _Planner(body, params, shared, groups or Groups(), lockstep)
        steps = planner.steps(_statements(body))
        # The final phase: no phase runs after it (only uniform statements may follow).
        for step in reversed(steps):
            if isinstance(step, Phase):
                step.final = True
            if not (isinstance(step, BlockStep) and step.kind == "uniform"):
                break
        planner.check_jumps()
        planner.check_param_writes()
        return PhasePlan(steps, planner.per_thread(), len(planner.phases), planner.exchanges, planner.predicates,
                         planner.leaves)
    except _NoPhases as e:
        return str(e)
