"""Cooperative groups in a kernel: which locals are groups, and what each call on one means.

The subset translated is the one that is a spelling of the block and warp schemes
(``phases.py``): ``cg::thread_block b = cg::this_thread_block();`` is the block (``b.sync()``
is ``__syncthreads()``, ``b.thread_rank()`` the linear thread index, ``b.size()`` /
``num_threads()`` the block's threads, ``group_index()`` / ``thread_index()`` /
``dim_threads()`` blockIdx / threadIdx / blockDim), and ``cg::thread_block_tile<N> t =
cg::tiled_partition<N>(b);`` (N a power of two up to 32) is a fixed group of N
consecutive threads of a warp: ``t.shfl*`` are the warp shuffles of width N, ``t.any`` /
``all`` / ``ballot`` the votes over its lanes, ``t.sync()`` a ``__syncwarp()``, and
``cg::reduce(t, v, cg::plus<T>())`` (also ``less``, ``greater``, ``bit_and``, ``bit_or``,
``bit_xor``) an exchange whose receiving phase combines the tile's published values.

A group declaration has no run-time effect once the calls on it are translated, so it is
printed as nothing.  Everything else of ``cooperative_groups`` (grid and multi-grid
groups, ``coalesced_threads``, dynamic or labeled partitions, ``memcpy_async``, a group
passed to a function...) keeps its PCX402 refusal, naming the construct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.cuda.parse import call_args, call_name, declarator_name, text, walk

_TOKEN = re.compile(r"[A-Za-z_]\w*")

NAMESPACE = "cooperative_groups"
#: Headers whose translated subset needs nothing from them (the prologue is enough).
HEADERS = frozenset({"cooperative_groups.h", "cooperative_groups/reduce.h"})

#: tile shuffle -> ``pcx_warp_src`` kind (phases.SHUFFLES' numbering)
TILE_SHUFFLES = {"shfl": 0, "shfl_up": 1, "shfl_down": 2, "shfl_xor": 3}
TILE_VOTES = {"ballot": "__ballot_sync", "any": "__any_sync", "all": "__all_sync"}
#: cg::reduce operator -> how two values combine (C text over a and b)
REDUCE_OPS = {"plus": "({a}) + ({b})", "less": "(({b}) < ({a}) ? ({b}) : ({a}))",
              "greater": "(({b}) > ({a}) ? ({b}) : ({a}))", "bit_and": "({a}) & ({b})",
              "bit_or": "({a}) | ({b})", "bit_xor": "({a}) ^ ({b})"}


@dataclass(frozen=True)
class Group:
    """A local naming the thread block (``size`` 0) or a ``thread_block_tile<size>``."""

    name: str
    size: int
    statement: Node  # its declaration (printed as nothing)


@dataclass(frozen=True)
class WarpOp:
    """A warp-level call, however spelled: ``__shfl_down_sync(m, v, d[, w])`` or
    ``tile.shfl_down(v, d)`` (``kind`` "shuffle"), a vote (``kind`` "vote", ``vote`` the
    ``__*_sync`` name), ``cg::reduce(tile, v, op)`` ("reduce"), ``__syncwarp()`` /
    ``tile.sync()`` ("syncwarp")."""

    call: Node
    spelling: str  # as the user wrote it, for remarks
    kind: str
    arity_ok: bool = True
    shuffle: int = 0
    vote: str = ""
    value: Node | None = None
    lane: Node | None = None  # a shuffle's source lane, delta or lane mask
    mask: Node | None = None  # a __*_sync member mask (None for a tile: its own lanes)
    width: Node | None = None  # a __shfl*_sync width argument
    tile: int = 32  # a tile's size (32 for the __*_sync forms)
    combine: str = ""  # a reduce's REDUCE_OPS template
    type: Node | None = None  # a reduce's operand type (the T of cg::plus<T>)


@dataclass
class Groups:
    """The cooperative-groups names of one kernel: the ``cooperative_groups`` namespace
    and its aliases, and the group locals its body declares."""

    namespaces: frozenset[str] = frozenset({NAMESPACE})
    groups: dict[str, Group] = field(default_factory=dict)
    #: other locals of a cooperative_groups type (``cg::grid_group grid``): name -> type
    others: dict[str, str] = field(default_factory=dict)

    def in_namespace(self, node: Node | None) -> str:
        """``cg::name`` / ``cg::name<...>`` -> "name" when cg is the cooperative_groups
        namespace, else ''."""
        if node is None or node.type != "qualified_identifier":
            return ""
        scope, name = node.child_by_field_name("scope"), node.child_by_field_name("name")
        if scope is None or text(scope) not in self.namespaces or name is None:
            return ""
        if name.type in ("template_function", "template_type"):
            name = name.child_by_field_name("name")
        return text(name)

    def method(self, call: Node) -> tuple[Group, str] | None:
        """``g.m(...)`` on a group local: (its group, m)."""
        if call.type != "call_expression":
            return None
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "field_expression" or text(fn.child_by_field_name("operator")) != ".":
            return None
        obj = fn.child_by_field_name("argument")
        if obj is None or obj.type != "identifier" or text(obj) not in self.groups:
            return None
        return self.groups[text(obj)], text(fn.child_by_field_name("field"))

    def is_barrier(self, call: Node) -> bool:
        """``__syncthreads()`` or ``block.sync()``."""
        if call.type != "call_expression":
            return False
        if call_name(call) == "__syncthreads":
            return True
        m = self.method(call)
        return m is not None and m[0].size == 0 and m[1] == "sync" and not call_args(call)

    def warp_op(self, call: Node, shuffles: dict[str, int], votes: frozenset[str]) -> WarpOp | None:
        """What a warp-level call does (``shuffles``/``votes``: the __*_sync names)."""
        if call.type != "call_expression":
            return None
        name, args = call_name(call), call_args(call)
        if name in shuffles:
            return WarpOp(call, name, "shuffle", len(args) in (3, 4), shuffles[name], value=_at(args, 1),
                          lane=_at(args, 2), mask=_at(args, 0), width=_at(args, 3))
        if name in votes:
            return WarpOp(call, name, "vote", len(args) == 2, vote=name, value=_at(args, 1), mask=_at(args, 0))
        if name == "__syncwarp":
            return WarpOp(call, name, "syncwarp")
        m = self.method(call)
        if m is not None and m[0].size > 0:
            group, meth = m
            spelling = f"{group.name}.{meth}"
            if meth in TILE_SHUFFLES:
                return WarpOp(call, spelling, "shuffle", len(args) == 2, TILE_SHUFFLES[meth], value=_at(args, 0),
                              lane=_at(args, 1), tile=group.size)
            if meth in TILE_VOTES:
                return WarpOp(call, spelling, "vote", len(args) == 1, vote=TILE_VOTES[meth], value=_at(args, 0),
                              tile=group.size)
            if meth == "sync":
                return WarpOp(call, spelling, "syncwarp", not args, tile=group.size)
            return None
        fn = call.child_by_field_name("function")
        if self.in_namespace(fn) == "reduce":
            tile = self.groups.get(text(args[0])) if args and args[0].type == "identifier" else None
            op = args[2] if len(args) == 3 else None
            # cg::plus<T>() is a call; cg::plus<T>{} a compound literal: both build the functor
            # with no arguments
            functor = {"call_expression": "function", "compound_literal_expression": "type"}.get(op.type) if op else None
            opname = self.in_namespace(op.child_by_field_name(functor)) if functor else ""
            targs = op.child_by_field_name(functor).child_by_field_name("name") if opname else None
            typ = None
            if targs is not None and targs.type in ("template_function", "template_type"):
                tlist = [a for a in targs.child_by_field_name("arguments").named_children if a.type != "comment"]
                typ = tlist[0] if len(tlist) == 1 and tlist[0].type == "type_descriptor" else None
            ctor_args = []  # cg::plus<T>(x) or cg::plus<T>{x} is no functor the reduce knows
            if opname and op.type == "call_expression":
                ctor_args = call_args(op)
            elif opname and op.child_by_field_name("value") is not None:
                ctor_args = [a for a in op.child_by_field_name("value").named_children if a.type != "comment"]
            ok = (tile is not None and tile.size > 0 and opname in REDUCE_OPS and typ is not None
                  and not ctor_args)
            return WarpOp(call, f"{text(fn)}({', '.join(text(a) for a in args)})" if not ok else text(fn), "reduce", ok,
                          value=_at(args, 1), tile=tile.size if tile is not None and tile.size > 0 else 32,
                          combine=REDUCE_OPS.get(opname, ""), type=typ)
        return None

    def uniform_call(self, call: Node, thread: bool) -> bool:
        """A call with the same value in every thread of the block (``block.size()``), or
        with ``thread`` whenever one thread computes it (``block.thread_rank()``)."""
        m = self.method(call)
        if m is None or call_args(call):
            return False
        group, meth = m
        if meth in ("size", "num_threads", "group_index", "dim_threads", "group_dim", "meta_group_size"):
            return meth != "meta_group_size" or group.size > 0
        return thread and meth in ("thread_rank", "thread_index", "meta_group_rank")

    def expression(self, call: Node) -> str | None:
        """The C text of a group query (``tile.thread_rank()``), or None."""
        m = self.method(call)
        if m is None or call_args(call):
            return None
        group, meth = m
        rank = "((threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x)"
        size = "(blockDim.x * blockDim.y * blockDim.z)"
        if group.size == 0:
            return {"thread_rank": f"((unsigned int){rank})", "size": f"((unsigned int){size})",
                    "num_threads": f"((unsigned int){size})", "group_index": "blockIdx", "thread_index": "threadIdx",
                    "dim_threads": "blockDim", "group_dim": "blockDim"}.get(meth)
        n = group.size
        return {"thread_rank": f"((unsigned int){rank} % {n}u)", "size": f"{n}u", "num_threads": f"{n}u",
                "meta_group_rank": f"((unsigned int){rank} / {n}u)",
                "meta_group_size": f"(((unsigned int){size} + {n - 1}u) / {n}u)"}.get(meth)


def _at(args: list[Node], i: int) -> Node | None:
    return args[i] if i < len(args) else None


def namespaces(root: Node) -> frozenset[str]:
    """``cooperative_groups`` and the unit's aliases of it, at file scope or in a function
    (``namespace cg = cooperative_groups;`` as a kernel's first statement).  A name the
    unit also aliases to another namespace somewhere is left out: its uses stay unknown."""
    aliases, other = {NAMESPACE}, set()
    for n in walk(root):
        if n.type == "namespace_alias_definition":
            (aliases if is_alias(n) else other).add(text(n.child_by_field_name("name")))
    return frozenset(aliases - other)


def is_alias(node: Node) -> bool:
    """``namespace cg = cooperative_groups;``"""
    ids = [c for c in node.named_children if c.type == "namespace_identifier"]
    return len(ids) == 2 and text(ids[1]) == NAMESPACE


def _tile_size(node: Node | None) -> int:
    """N of ``<N>`` if a power of two up to 32, else 0."""
    if node is None or node.type != "template_argument_list":
        return 0
    args = [a for a in node.named_children if a.type != "comment"]
    if len(args) != 1 or args[0].type != "number_literal":
        return 0
    try:
        n = int(text(args[0]).rstrip("uUlL"), 0)
    except ValueError:
        return 0
    return n if n in (1, 2, 4, 8, 16, 32) else 0


def declared_group(stmt: Node, ns: frozenset[str], blocks: set[str]) -> Group | None:
    """The group a statement declares: ``cg::thread_block b = cg::this_thread_block();``
    or ``cg::thread_block_tile<N> t = cg::tiled_partition<N>(b);`` (tree-sitter reads this
    one as the expression ``(cg::thread_block_tile < N) > (t = ...)``), either also with
    ``auto``; ``blocks``: the block groups declared before it."""
    probe = Groups(ns)
    if stmt.type == "declaration":
        decls = stmt.children_by_field_name("declarator")
        if len(decls) != 1 or decls[0].type != "init_declarator" or decls[0].child_by_field_name("declarator").type != "identifier":
            return None
        typ, name, value = stmt.child_by_field_name("type"), declarator_name(decls[0]), decls[0].child_by_field_name("value")
        declared = "auto" if typ is not None and text(typ) == "auto" else probe.in_namespace(typ)
        tsize = 0
    elif stmt.type == "expression_statement" and stmt.named_children and stmt.named_children[0].type == "binary_expression":
        e = stmt.named_children[0]
        left, right = e.child_by_field_name("left"), e.child_by_field_name("right")
        if (text(e.child_by_field_name("operator")) != ">" or left.type != "binary_expression"
                or text(left.child_by_field_name("operator")) != "<" or right.type != "assignment_expression"
                or text(right.child_by_field_name("operator")) != "=" or right.child_by_field_name("left").type != "identifier"
                or probe.in_namespace(left.child_by_field_name("left")) != "thread_block_tile"):
            return None
        declared, name, value = "thread_block_tile", text(right.child_by_field_name("left")), right.child_by_field_name("right")
        try:
            tsize = int(text(left.child_by_field_name("right")).rstrip("uUlL"), 0)
        except ValueError:
            return None
    else:
        return None
    if value is None or value.type != "call_expression":
        return None
    fn = value.child_by_field_name("function")
    made = probe.in_namespace(fn)
    args = call_args(value)
    if made == "this_thread_block" and not args and declared in ("thread_block", "auto"):
        return Group(name, 0, stmt)
    if made == "tiled_partition" and declared in ("thread_block_tile", "auto") and len(args) == 1:
        parent = args[0]
        from_block = (parent.type == "identifier" and text(parent) in blocks) or (
            parent.type == "call_expression" and probe.in_namespace(parent.child_by_field_name("function")) == "this_thread_block"
            and not call_args(parent))
        name_node = fn.child_by_field_name("name")
        size = _tile_size(name_node.child_by_field_name("arguments")) if name_node.type == "template_function" else 0
        if from_block and size and (declared == "auto" or tsize == size):
            return Group(name, size, stmt)
    return None


def macros_naming(root: Node, names: set[str]) -> set[str]:
    """The unit's macros whose expansion names one of ``names`` (directly or through another
    such macro): a group used there would reach the compiler with its declaration gone."""
    bodies = {}
    for n in walk(root):
        if n.type in ("preproc_def", "preproc_function_def"):
            value = n.child_by_field_name("value")
            bodies[text(n.child_by_field_name("name"))] = set(_TOKEN.findall(text(value))) if value is not None else set()
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for macro, tokens in bodies.items():
            if macro not in found and tokens & (names | found):
                found.add(macro)
                changed = True
    return found


def kernel_groups(body: Node, ns: frozenset[str]) -> Groups:
    """The groups a kernel body declares (each name once, never assigned or declared
    again: a group local is a name for the block or a tile, nothing more)."""
    found: dict[str, Group] = {}
    counts: dict[str, int] = {}
    for n in walk(body):
        if n.type == "declaration":
            for d in n.children_by_field_name("declarator"):
                counts[declarator_name(d)] = counts.get(declarator_name(d), 0) + 1
        if n.type in ("declaration", "expression_statement"):
            g = declared_group(n, ns, {k for k, v in found.items() if v.size == 0})
            if g is not None:
                if g.name in found:
                    counts[g.name] = counts.get(g.name, 0) + 1
                found[g.name] = g
                if n.type == "expression_statement":
                    counts[g.name] = counts.get(g.name, 0) + 1
    groups = Groups(ns, {k: g for k, g in found.items() if counts.get(k, 0) == 1})
    for n in walk(body):
        if n.type == "declaration" and groups.in_namespace(n.child_by_field_name("type")):
            for d in n.children_by_field_name("declarator"):
                if declarator_name(d) not in groups.groups:
                    groups.others[declarator_name(d)] = text(n.child_by_field_name("type"))
    return groups
