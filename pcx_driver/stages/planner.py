"""Default planner: the rule engine's analysis, then its data-movement plan."""

from __future__ import annotations

from pcx_driver import hookimpl
from pcx_driver.engine.workguard import min_work


@hookimpl
def pcx_analyse(unit, config):
    from pcx_driver.engine.analysis import analyse_unit

    return analyse_unit(unit, min_work=min_work(config))


@hookimpl
def pcx_plan(unit, analysis, config):
    from pcx_driver.engine.dataplan import plan_unit

    # (work guards come after the plan checker: pipeline.run_pipeline, engine/workguard.py)
    return plan_unit(unit, analysis)
