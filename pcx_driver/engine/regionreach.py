"""Which kernels a data region holds the data of: inside its statements, listed by it, or in
a function its statements call, directly or through other functions of the unit.

Contract:
- ``held_by_regions(data, language, plan, regions=None) -> set[nest_id]``: the planner's
  answer that the run-time guards (``workguard.py``) and the rewrite's device tests
  (``rewrite.py``) both read: such a kernel must never fall back to the host copy.
- The calls of one text are found once per text (``call_index``, memoised): call sites
  with the names their arguments read, the call graph by last names, definitions.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from pcx_driver.engine import hostaccess
from pcx_driver.model import DataRegion, Plan


def _last_name(name: str) -> str:
    """``ns::f`` / ``obj.f`` / ``p->f`` -> ``f``: names compared loosely, so that a call
    that may reach a function is never missed."""
    for sep in ("::", ".", "->"):
        name = name.rsplit(sep, 1)[-1]
    return name.strip()


@dataclass
class _CallIndex:
    """The calls of one text, found once (``held_by_regions`` runs once per region guard)."""

    sites: list[tuple[int, str, frozenset | None]]  # (byte, callee's last name, names its arguments read)
    calls: dict[str, set[str]]  # function -> the functions it calls (last names)
    definitions: dict[str, list]  # last name -> its definitions
    data: bytes
    _names: dict[int, set[str]] = field(default_factory=dict)

    def names_in(self, fn) -> set[str]:
        """The identifiers a function definition names (cached by its start byte)."""
        if fn.start_byte not in self._names:
            self._names[fn.start_byte] = hostaccess.identifiers_in(fn, self.data)
        return self._names[fn.start_byte]


@functools.lru_cache(maxsize=8)
def call_index(data: bytes, language) -> _CallIndex:
    from pcx_driver.engine.source import walk

    root = hostaccess.parse(data, language).root_node
    index = _CallIndex([], defaultdict(set), defaultdict(list), data)
    for n in walk(root):
        if n.type == "function_definition":
            index.definitions[_last_name(hostaccess.function_name(n, data))].append(n)
            continue
        if n.type != "call_expression" or n.child_by_field_name("function") is None:
            continue
        callee = _last_name(hostaccess.text_of(data, n.child_by_field_name("function")))
        args = n.child_by_field_name("arguments")
        index.sites.append((n.start_byte, callee, None if args is None else
                            frozenset(hostaccess.identifiers_in(args, data))))
        fn = n.parent
        while fn is not None and fn.type != "function_definition":
            fn = fn.parent
        if fn is not None and hostaccess.function_name(fn, data):
            index.calls[_last_name(hostaccess.function_name(fn, data))].add(callee)
    index.sites.sort(key=lambda site: site[0])
    return index


def held_by_regions(data: bytes, language, plan: Plan, regions: list[DataRegion] | None = None) -> set[str]:
    """nest_ids of the plan's kernels whose data a ``target data`` region may hold on the
    device: inside a region's statements, listed by a region, or in a function that a
    region's statements call, directly or through other functions of the unit.  Such a
    kernel must never fall back to the host (``if(target: false)`` runs it on the HOST
    copy, stale while the region holds the data); a kernel outside them maps its own data,
    and the host copy is current at its start.

    A function a region's statements call directly does not count when none of those
    calls passes anything the region maps and the function never names it (a global):
    the region then holds none of its data (alias.c's ``smooth_into(n, b, a)`` in a main
    whose region maps only ``c``)."""
    regions = plan.regions if regions is None else regions
    if not regions:
        return set()
    index = call_index(data, language)
    direct: dict[str, bool] = {}  # callee of a region's statements -> whether a call may pass mapped data
    # the variable each mapped section starts from: "s" for s->p, "v" for v[0:n]
    mapped = [{re.split(r"\.|->|\[", sec.base)[0].strip("(*& ") for m in r.maps for sec in m.sections}
              for r in regions]
    starts = [site[0] for site in index.sites]
    for r, names in zip(regions, mapped):
        # the sites inside the region (sorted by byte: a file's thousands of calls are not
        # each compared with every region)
        for _, callee, args in index.sites[bisect.bisect_left(starts, r.start_byte):
                                           bisect.bisect_left(starts, r.end_byte)]:
            passes = args is None or bool(args & names) or not names
            direct[callee] = direct.get(callee, False) or passes
    reached: set[str] = {f for f, passes in direct.items() if passes}
    todo = list(direct)
    while todo:  # anything reached through another function counts
        for callee in index.calls.get(todo.pop(), ()):
            if callee not in reached:
                reached.add(callee)
                todo.append(callee)
    all_mapped = set().union(*mapped)
    reached |= {f for f in direct if f not in reached and any(
        index.names_in(d) & all_mapped for d in index.definitions.get(f, ()))}
    listed = {n for r in regions for n in r.kernels}
    return {k.nest_id for k in plan.kernels
            if k.nest_id in listed or _last_name(k.function) in reached
            or any(r.start_byte <= k.start_byte < r.end_byte for r in regions)}
