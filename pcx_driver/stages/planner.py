"""Default planner: the rule engine's analysis, then its data-movement plan."""

from __future__ import annotations

from pcx_driver import hookimpl


@hookimpl
def pcx_analyse(unit, config):
    from pcx_driver.engine.analysis import analyse_unit

    return analyse_unit(unit)


@hookimpl
def pcx_plan(unit, analysis, config):
    from pcx_driver.engine.dataplan import plan_unit

    return plan_unit(unit, analysis)
