"""Which kernels a data region holds the data of: inside its statements, listed by it, or in
a function its statements call, directly or through other functions of the unit.

Contract:
- ``held_by_regions(data, language, plan, regions=None) -> set[nest_id]``: the planner's
  answer that the run-time guards (``workguard.py``) and the rewrite's device tests
  (``rewrite.py``) both read: such a kernel must never fall back to the host copy.
- The calls are the unit's call graph (``callgraph.of``): call sites with the names their
  arguments read, the calls by last names, definitions.
"""

from __future__ import annotations

import functools
import re

from pcx_driver.engine import callgraph
from pcx_driver.model import DataRegion, Plan


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
    graph = callgraph.of(data, language)
    direct: dict[str, bool] = {}  # callee of a region's statements -> whether a call may pass mapped data
    # the variable each mapped section starts from: "s" for s->p, "v" for v[0:n]
    mapped = [{_root(sec.base) for m in r.maps for sec in m.sections} for r in regions]
    # a container's data is mapped through the local pointer the rewrite takes from it
    # (``pcx_r`` for ``r``): a call passing ``r`` passes that data (a held-out CG solver's
    # ``dot(r, r)`` kernel kept its work guard and ran on the stale host copy)
    owners = {lp.name: _root(lp.container) for lp in plan.local_pointers}
    mapped = [names | {owners[n] for n in names if n in owners} for names in mapped]
    # a pointer the function sets from a mapped name passes the same data (fuzz seed 3500108:
    # 'u32 *nxt = bufB;' ... 'kern0(..., nxt, ...)' inside a region holding bufB)
    mapped = [names | _aliases(data, language, r.function, r.start_byte, frozenset(names))
              for r, names in zip(regions, mapped)]
    for r, names in zip(regions, mapped):
        for site in graph.sites_between(r.start_byte, r.end_byte):
            passes = site.arguments is None or bool(site.arguments & names) or not names
            direct[site.name] = direct.get(site.name, False) or passes
    # anything reached through another function counts
    reached = {f for f, passes in direct.items() if passes} | graph.reachable(
        {callee for f in direct for callee in graph.calls.get(f, ())})
    all_mapped = set().union(*mapped)
    reached |= {f for f in direct if f not in reached and any(
        graph.names_in(d) & all_mapped for d in graph.definitions.get(f, ()))}
    held = set()
    for k in plan.kernels:
        if callgraph.last_name(k.function) in reached:
            held.add(k.nest_id)
            continue
        # a kernel among a region's statements that maps nothing the region maps (a row
        # loop beside a region holding only a flag array) maps its own data: a held-out
        # check's 30-iteration kernel lost its guard and launched 4,000 times
        uses = {_root(sec.base) for m in [*k.maps, *k.alone_maps] for sec in m.sections}
        uses |= {owners[n] for n in uses if n in owners}
        if any((k.nest_id in r.kernels or r.start_byte <= k.start_byte < r.end_byte) and (uses & names or not uses)
               for r, names in zip(regions, mapped)):
            held.add(k.nest_id)
    return held


def _root(base: str) -> str:
    """The variable a mapped section starts from: "s" for s->p, "v" for v[0:n]."""
    return re.split(r"\.|->|\[|\(", base)[0].strip("(*& ")


@functools.lru_cache(maxsize=256)
def _aliases(data: bytes, language, function: str, byte: int, names: frozenset[str]) -> frozenset[str]:
    """Variables of the function around ``byte`` that may hold a pointer into ``names``: set
    from an expression naming one of them (``u32 *nxt = bufB;``, ``p = a + k;``),
    transitively (memoised: the work guards ask once per region and kernel)."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.source import walk

    graph = callgraph.of(data, language)
    fn = next((d for d in graph.defined_as.get(function, []) if d.start_byte <= byte < d.end_byte), None)
    if fn is None or not names:
        return frozenset()
    sets = []  # (the variable set, the names its value reads)
    for n in walk(fn):
        if n.type == "init_declarator" and n.child_by_field_name("value") is not None:
            target = hostaccess.declared_identifier(n, graph.data)
            value = n.child_by_field_name("value")
        elif n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            target = hostaccess.text_of(graph.data, left) if left is not None and left.type == "identifier" else None
            value = n.child_by_field_name("right")
        else:
            continue
        if target and value is not None:
            sets.append((target, hostaccess.identifiers_in(value, graph.data)))
    out: set[str] = set()
    grew = True
    while grew:
        grew = False
        for target, read in sets:
            if target not in out and target not in names and read & (names | out):
                out.add(target)
                grew = True
    return frozenset(out)

