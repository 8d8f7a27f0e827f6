"""Run-time work guards: a kernel whose work estimate is symbolic runs on the host below
``--pcx-min-work`` (issue 16).

The guard is attached after the plan checker has settled the data regions, because
whether a kernel may fall back to the host depends on them: a kernel whose data a
``target data`` region may hold must always run on the device (``if(target: false)``
would run it on the HOST copy, stale while the region holds the data; see
``rewrite.held_by_regions``).  A kernel outside every region maps its own data, so the
host copy is current at its start and the fallback is sound.
"""

from __future__ import annotations

from pcx_driver.model import Decision, Plan, Remark, SourceUnit, UnitAnalysis
from pcx_driver.config import BUILTIN_OPTIONS

#: the default of ``--pcx-min-work`` (trip counts x statements per iteration)
MIN_WORK: float = next(o.default for o in BUILTIN_OPTIONS if o.name == "min-work")

HELD_NOTE = "; always on the device: a target data region holds its data"


def min_work(config) -> float:
    """The ``min-work`` setting (``MIN_WORK`` for a config without it)."""
    try:
        value = config.get("min-work")
    except (KeyError, AttributeError):
        return MIN_WORK
    return MIN_WORK if value is None else float(value)


def attach_work_guards(unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan, threshold: float) -> None:
    """Give each offloaded kernel with a symbolic work estimate its run-time guard
    (``if(target: WORK >= threshold)``, rendered by the rewriter), unless a data region
    of the final plan may hold its data, and say which in its PCX100 remark."""
    from pcx_driver.engine.rewrite import held_by_regions

    if analysis is None or threshold <= 0:
        return
    exprs = {n.nest_id: n.work_expr for n in analysis.nests() if n.work_expr}
    kernels = [k for k in plan.kernels if k.decision is Decision.OFFLOADED and exprs.get(k.nest_id)]
    if not kernels:
        return
    held = held_by_regions(unit.data, unit.language, plan)
    for k in kernels:
        if k.nest_id in held:
            note = HELD_NOTE
        else:
            k.work_expr, k.min_work = exprs[k.nest_id], threshold
            note = f"; on the host when below --pcx-min-work={threshold:g} (if(target:))"
        k.remarks = [Remark(r.id, r.file, r.line, r.column, r.message + note) if r.id == "PCX100" else r
                     for r in k.remarks]
