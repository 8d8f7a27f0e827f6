"""The plan checker's verdicts: ``check_function`` checks one function's plan, ``enforce`` applies the verdicts to a unit's plan.

A function whose plan fails loses its data regions (kernels' own maps are correct alone,
by the planner's contract) and is checked again; a kernel that still fails stays serial.
Every such step leaves a remark with the check's ID.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pcx_driver.engine.plancheck.facts import UnitFacts
from pcx_driver.engine.plancheck.reach import reach_of
from pcx_driver.engine.plancheck.state import CheckFailed, State, members
from pcx_driver.engine.plancheck.syntax import function_named, may_alias, pointee_kinds, unrestricted_pointer_params
from pcx_driver.engine.plancheck.walk import Walker
from pcx_driver.engine.symsect import RANGES
from pcx_driver.model import Decision, KernelPlan, Plan, Remark, SourceUnit, UnitAnalysis


@dataclass
class Verdict:
    """A function's plan passed (``ok``), or the first check it failed, where, and in which kernel."""

    ok: bool
    rid: str = ""
    message: str = ""
    byte: int = 0
    kernel: str | None = None


def check_function(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan, fname: str) -> Verdict:
    """Check the plan of one function; see the package docstring (``engine/plancheck/__init__.py``)."""
    facts = UnitFacts(unit, analysis, plan)
    fnode = function_named(facts.data, facts.lang, fname)
    if fnode is None:
        kernels = [k for k in plan.offloaded() if k.function == fname]
        if not kernels and not any(r.function == fname for r in plan.regions):
            return Verdict(True)
        return Verdict(False, "PCX216", f"function '{fname}' not found", kernels[0].start_byte if kernels else 0)
    try:
        walker = Walker(facts, fname, fnode)
        walker.place(plan)
        names = facts.track(fnode, plan, fname)
        facts.reach = reach_of(facts, fnode, names, fname)
        # Pointer parameters without restrict may point into one array (the caller may pass
        # the same buffer twice, or a global the function also uses): each names every one
        # of them, so nothing about one is taken as sure while another may be the same memory.
        # A parameter the plan never maps counts too: it may be a mapped global.
        params = set(unrestricted_pointer_params(fnode, facts.data))
        shared = {n for n in names if re.split(r"\.|->", n)[0] in facts.file_scope}  # g, g.v, g->p
        if params:
            # a global array the function writes or reads by its own name, while a parameter
            # may point to it (loopfuzz seed 13003235: host code wrote g0[t] inside a region
            # holding p2, which the only call passed g0 for; the update went missing)
            shared |= facts.globals_used(fnode)
        if params & names or (params and shared):
            names = names | params
        env = {n: frozenset([n]) for n in names}
        if params & names and len(params | shared) > 1:
            kinds = pointee_kinds(fnode, facts.data)
            # (but not one that every call of the function passes a distinct object for)
            fa = facts.functions.get((fname, fnode.start_byte))
            apart = {frozenset(pair) for pair in fa.distinct_params} if fa is not None else set()
            for p in params:  # a parameter may be another one, or any global used here
                env[p] = frozenset({q for q in params | shared if frozenset((p, q)) not in apart
                                    and (q in shared or may_alias(kinds.get(p), kinds.get(q)))})
            arrays = facts.global_arrays_in(fnode)
            for g in shared:  # a global may be any parameter (but not another global)
                if g in arrays:
                    # a declared array is itself: a parameter may be it (its own set says
                    # so), but two such arrays never share a buffer through the parameter
                    continue
                env[g] = frozenset({g} | {p for p in params if frozenset((p, re.split(r"\.|->", g)[0])) not in apart})
        if params & names and len(params | shared) > 1:
            walker.frame.apart = {pair for pair in apart if pair <= params}
            walker.frame.entry = {p: env[p] for p in params}
        st = State(tuple(sorted(env.items())), ())
        end = walker.run(fnode.child_by_field_name("body"), st)
        for s in [m for x in [end, *walker.returns] for m in members(x)]:
            for b, v in s.bufs:
                if v.present is not None:
                    raise CheckFailed("PCX216", f"'{b}' is still on the device when '{fname}' returns",
                                      fnode.end_byte)
    except CheckFailed as e:
        return Verdict(False, e.rid, e.message, e.byte, e.kernel)
    except RecursionError:
        return Verdict(False, "PCX216", "function too deeply nested to check", fnode.start_byte)
    finally:
        RANGES.clear()  # a failure inside a region leaves its assumptions on the stack
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
                # (the region's own remarks go with it: they described code that is not built)
                said = {(r.line, rid) for r in regions for rid in ("PCX200", "PCX205")} | \
                    {(u.line, "PCX201") for r in regions for u in r.updates}
                plan = dataclasses.replace(plan, remarks=[m for m in plan.remarks if (m.line, m.id) not in said])
                for r in regions:
                    plan.remarks.append(Remark(v.rid, unit.path, r.line, 1,
                                               f"data region not emitted: plan check failed at line {line}: {v.message}; "
                                               "kernels map their own data"))
                continue
            culprits = [k for k in plan.offloaded() if k.function == fname and (v.kernel is None or k.nest_id == v.kernel)]
            if not culprits:
                break
            victim = culprits[0] if v.kernel is not None else _nearest(culprits, v.byte)
            victim.decision = Decision.SERIAL
            # (its "offloaded" remark no longer holds: a user reading both was misled)
            victim.remarks = [r for r in victim.remarks if r.id != "PCX100"]
            victim.remarks.append(Remark(v.rid, unit.path, victim.line, victim.column,
                                         f"nest kept serial: plan check failed at line {line}: {v.message}"))
    return plan


def _nearest(kernels: list[KernelPlan], byte: int) -> KernelPlan:
    before = [k for k in kernels if k.start_byte <= byte]
    return max(before, key=lambda k: k.start_byte) if before else kernels[0]
