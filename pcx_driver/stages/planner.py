"""Default planner: the rule engine's analysis, then its data-movement plan."""

from __future__ import annotations

from pcx_driver import hookimpl


def min_work(config) -> float:
    """The ``min-work`` setting (the analysis's default for a config without it)."""
    from pcx_driver.engine.analysis import MIN_WORK

    try:
        value = config.get("min-work")
    except (KeyError, AttributeError):
        return MIN_WORK
    return MIN_WORK if value is None else float(value)


@hookimpl
def pcx_analyse(unit, config):
    from pcx_driver.engine.analysis import analyse_unit

    return analyse_unit(unit, min_work=min_work(config))


@hookimpl
def pcx_plan(unit, analysis, config):
    from pcx_driver.engine.dataplan import plan_unit

    plan = plan_unit(unit, analysis)
    attach_work_guards(unit, analysis, plan, min_work(config))
    return plan


def attach_work_guards(unit, analysis, plan, threshold: float) -> None:
    """Give each offloaded kernel with a symbolic work estimate its run-time guard
    (``if(target: WORK >= threshold)``), unless a data region may hold its data (it must
    then run on the device: see ``rewrite.held_by_regions``), and say so in its remark."""
    from pcx_driver.engine.rewrite import held_by_regions
    from pcx_driver.model import Decision, Remark

    exprs = {n.nest_id: n.work_expr for n in analysis.nests() if n.work_expr}
    kernels = [k for k in plan.kernels if k.decision is Decision.OFFLOADED and exprs.get(k.nest_id)]
    if not kernels or threshold <= 0:
        return
    held = held_by_regions(unit.data, unit.language, plan)
    for k in kernels:
        if k.nest_id in held:
            note = "; always on the device: a target data region holds its data"
        else:
            k.work_expr, k.min_work = exprs[k.nest_id], threshold
            note = f"; on the host when below --pcx-min-work={threshold:g} (if(target:))"
        k.remarks = [Remark(r.id, r.file, r.line, r.column, r.message + note) if r.id == "PCX100" else r
                     for r in k.remarks]
