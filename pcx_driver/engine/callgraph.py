"""The unit's call graph: every function definition and every call site, found once per text.

Contract:
- ``of(data, language) -> CallGraph`` is memoised per text and built from the one tree-sitter
  tree every stage shares (``hostaccess.parse``): the analysis (which user functions go to
  the device with a kernel), the planner (which kernels a data region holds, which functions
  offload through their callees, how often a kernel runs) and the OpenMP port (which
  functions a CPU-parallel construct calls) read it; none walks the tree for calls again.
- A ``CallSite`` knows its callee as spelled (``obj.f``, ``ns::f``, ``f<T>``), the callee's
  last name (``f``), its caller as the definition spells it, the names its arguments read
  and the lines of the loops around it in its function.
- Two relations over it: ``calls`` by last names, for the questions where a missed call
  would be unsound (``obj.f()`` may reach any ``f``), and ``calls_spelled`` by spelling,
  for those where a call must name the very function (``name in kernel_functions``).
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine import hostaccess
from pcx_driver.engine.source import walk
from pcx_driver.model import Language


def last_name(name: str) -> str:
    """``ns::f`` / ``obj.f`` / ``p->f`` -> ``f``: names compared loosely, so that a call
    that may reach a function is never missed."""
    for sep in ("::", ".", "->"):
        name = name.rsplit(sep, 1)[-1]
    return name.strip()


@dataclass(frozen=True)
class CallSite:
    node: Node  # the call_expression
    spelled: str  # the callee as written
    name: str  # the callee's last name, without template arguments
    caller: str | None  # the enclosing definition's name as written (None outside any function)
    arguments: frozenset[str] | None  # identifiers its arguments name (None: no argument list)
    loop_lines: tuple[int, ...]  # lines of the loops around it, inside its function

    @property
    def start_byte(self) -> int:
        return self.node.start_byte

    @property
    def plain(self) -> bool:
        """Is the callee a plain identifier (``f(x)``, not ``obj.f(x)`` or ``(*fp)(x)``)?"""
        return self.node.child_by_field_name("function").type == "identifier"

    @property
    def unqualified(self) -> bool:
        """Is the callee a plain identifier, with template arguments or not (``f(x)``,
        ``f<T>(x)``; not ``obj.f(x)``, ``ns::f(x)`` or ``(*fp)(x)``)?"""
        fn = self.node.child_by_field_name("function")
        if fn.type == "template_function":
            fn = fn.child_by_field_name("name")
        return fn is not None and fn.type == "identifier"


@dataclass
class CallGraph:
    data: bytes
    sites: list[CallSite]  # in byte order
    definitions: dict[str, list[Node]]  # last name -> the function definitions of that name
    defined_as: dict[str, list[Node]]  # name as the definition spells it -> definitions
    calls: dict[str, set[str]]  # caller's last name -> callees' last names
    calls_spelled: dict[str, set[str]]  # caller as spelled -> callees as spelled
    _starts: list[int] = field(default_factory=list)
    _names: dict[int, set[str]] = field(default_factory=dict)

    def sites_between(self, lo: int, hi: int) -> list[CallSite]:
        """The calls that start within bytes ``lo`` .. ``hi`` (sorted: a file's thousands of
        calls are not each compared with every region)."""
        return self.sites[bisect.bisect_left(self._starts, lo):bisect.bisect_left(self._starts, hi)]

    def reachable(self, names, spelled: bool = False) -> set[str]:
        """``names`` and every function they call, directly or through others."""
        calls = self.calls_spelled if spelled else self.calls
        out, todo = set(names), list(names)
        while todo:
            for callee in calls.get(todo.pop(), ()):
                if callee not in out:
                    out.add(callee)
                    todo.append(callee)
        return out

    def reaching(self, names, spelled: bool = False) -> set[str]:
        """``names`` and every defined function that calls one of them, directly or through
        others."""
        return reaching_closure(names, self.calls_spelled if spelled else self.calls)

    def names_in(self, fn: Node) -> set[str]:
        """The identifiers a function definition names (cached by its start byte)."""
        if fn.start_byte not in self._names:
            self._names[fn.start_byte] = hostaccess.identifiers_in(fn, self.data)
        return self._names[fn.start_byte]


def reaching_closure(seed, edges: dict[str, set[str]]) -> set[str]:
    """``seed`` and every key of ``edges`` whose set names one already in the result, to a
    fixpoint: the functions that reach ``seed`` through their calls (``edges``: caller ->
    callees), the macros that name a writing macro (name -> replacement tokens)."""
    out = set(seed)
    grew = True
    while grew:
        grew = False
        for key, named in edges.items():
            if key not in out and named & out:
                out.add(key)
                grew = True
    return out


def _callee_name(fn: Node, data: bytes) -> str:
    """The last name of the called function: ``f`` for ``f<T>``, ``obj.f``, ``ns::f<a::b>``."""
    while True:
        if fn.type in ("template_function", "template_method", "qualified_identifier"):
            inner = fn.child_by_field_name("name")
        elif fn.type == "field_expression":
            inner = fn.child_by_field_name("field")
        else:
            inner = None
        if inner is None:
            return last_name(hostaccess.text_of(data, fn))
        fn = inner


def _build(data: bytes, language: Language) -> CallGraph:
    root = hostaccess.parse(data, language).root_node
    graph = CallGraph(data, [], defaultdict(list), defaultdict(list), defaultdict(set), defaultdict(set))
    # pre-order, with the enclosing definitions and loops on a stack of (end byte, node)
    around: list[Node] = []
    for n in walk(root):
        while around and around[-1].end_byte <= n.start_byte:
            around.pop()
        if n.type == "function_definition":
            written = hostaccess.function_name(n, data)
            graph.definitions[last_name(written)].append(n)
            graph.defined_as[written].append(n)
            graph.calls_spelled.setdefault(written or "?", set())
            around.append(n)
            continue
        if n.type in hostaccess.LOOP_TYPES:
            around.append(n)
            continue
        fn_node = n.child_by_field_name("function") if n.type == "call_expression" else None
        if fn_node is None:
            continue
        spelled = hostaccess.text_of(data, fn_node)
        name = _callee_name(fn_node, data)
        defs = [a for a in around if a.type == "function_definition"]
        caller = hostaccess.function_name(defs[-1], data) if defs else None
        loops = [a for a in around if a.type in hostaccess.LOOP_TYPES and (not defs or a.start_byte > defs[-1].start_byte)]
        args = n.child_by_field_name("arguments")
        graph.sites.append(CallSite(n, spelled, name, caller,
                                    None if args is None else frozenset(hostaccess.identifiers_in(args, data)),
                                    tuple(sorted(a.start_point[0] + 1 for a in loops))))
        for d in defs:  # a call inside a local class's method is a call of the outer function too
            graph.calls_spelled[hostaccess.function_name(d, data) or "?"].add(spelled)
        if caller:
            graph.calls[last_name(caller)].add(name)
    graph._starts = [s.start_byte for s in graph.sites]
    return graph


@functools.lru_cache(maxsize=8)
def of(data: bytes, language: Language = Language.C) -> CallGraph:
    """The call graph of ``data`` (memoised per text)."""
    return _build(data, language)
