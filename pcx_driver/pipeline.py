"""The offload pipeline for one source: analyse -> plan -> rewrite -> validate.

The driver, ``pcx tune`` and ``pcx translate`` all go through ``run_pipeline``; it calls the
stages only through the plugin manager's hooks.  Errors propagate: deciding whether an
internal error falls back to the original source (the default) or fails (strict mode) is
the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pluggy

from pcx_driver.config import Config
from pcx_driver.diagnostics import level_of
from pcx_driver.model import Plan, Remark, Rewrite, SourceUnit, UnitAnalysis


@dataclass
class PipelineResult:
    unit: SourceUnit
    analysis: UnitAnalysis | None = None
    plan: Plan | None = None
    rewrite: Rewrite | None = None  # None: compile the original source
    remarks: list[Remark] = field(default_factory=list)


def run_pipeline(
    unit: SourceUnit, pm: pluggy.PluginManager, config: Config, plan: Plan | None = None
) -> PipelineResult:
    """Run the stages on ``unit``; with ``plan`` given (a cached validated plan), skip analysis."""
    result = PipelineResult(unit)
    if plan is None:
        result.analysis = pm.hook.pcx_analyse(unit=unit, config=config)
        if result.analysis is None:
            return result
        result.remarks.extend(result.analysis.remarks)
        plan = pm.hook.pcx_plan(unit=unit, analysis=result.analysis, config=config)
        if plan is None:
            return result
    result.plan = plan
    result.remarks.extend(plan.remarks)
    for k in plan.kernels:
        result.remarks.extend(k.remarks)
    if not plan.offloaded():
        return result
    rewrite = pm.hook.pcx_rewrite(unit=unit, plan=plan, config=config)
    if rewrite is None:
        return result
    result.remarks.extend(rewrite.remarks)
    problems = [r for rs in pm.hook.pcx_validate(unit=unit, rewrite=rewrite, config=config) if rs for r in rs]
    result.remarks.extend(problems)
    if any(level_of(r.id) == "error" for r in problems):
        return result
    result.rewrite = rewrite
    return result
