"""Default planner: the rule engine's analysis, then its data-movement plan."""

from __future__ import annotations

import copy

from pcx_driver import hookimpl, toolchain
from pcx_driver.engine.schedule import fit_to_device
from pcx_driver.engine.traffic import outweighed
from pcx_driver.model import Decision, Remark
from pcx_driver.engine.workguard import min_work


@hookimpl
def pcx_analyse(unit, config):
    from pcx_driver.engine.analysis import analyse_unit

    return analyse_unit(unit, min_work=min_work(config), trust_pragmas=trusts_pragmas(config))


def trusts_pragmas(config) -> bool:
    """The ``trust-pragmas`` setting (False for a config without it)."""
    return bool(_setting(config, "trust-pragmas"))


@hookimpl
def pcx_plan(unit, analysis, config):
    from pcx_driver.engine.dataplan import plan_unit

    # (work guards come after the plan checker: pipeline.run_pipeline, engine/workguard.py)
    plan = plan_unit(unit, analysis)
    # Kernels whose copies cost more than they save stay serial, and their functions are
    # planned again without them.  The data of the others may then move less, or more: a
    # new plan can hold whole-array updates in a loop that the first did not (ludcmp with
    # restrict: once its column kernel stays serial, the row update's region copies all of
    # A both ways per row), so the new plan is judged again.
    for _ in range(_REPLANS):
        heavy = outweighed(unit, analysis, plan)
        if not heavy:
            break
        analysis = copy.deepcopy(analysis)
        reasons = {h.nest_id: h.message for h in heavy}
        for n in analysis.nests():
            if n.nest_id in reasons:
                n.decision = Decision.SERIAL
                n.remarks = [r for r in n.remarks if r.id != "PCX100"]
                n.remarks.append(Remark("PCX115", unit.path, n.line, n.column, reasons[n.nest_id]))
        plan = plan_unit(unit, analysis)
    fit_to_device(unit.path, analysis, plan, toolchain.detect_offload_target(_setting(config, "offload-target")))
    return plan


def _setting(config, name: str):
    try:
        return config.get(name)
    except (KeyError, AttributeError):
        return None


#: rounds of planning without outweighed kernels (each demotes at least one kernel)
_REPLANS = 4
