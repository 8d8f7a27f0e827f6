"""pcx-min-work: keep serial every loop nest whose estimated work is below a threshold.

A complete pcx plugin in one module.  It declares one setting through ``pcx_add_options``
(``--pcx-min-work=N``, ``PCX_MIN_WORK=N`` or ``min-work = N`` in pcx.toml) and wraps the
default planner's ``pcx_plan`` hook.

Why it acts BEFORE the planner (on the analysis) rather than on the finished plan: the
planner also builds ``target data`` regions that keep arrays on the device across
kernels.  Turning one kernel of such a region back into host code after the fact would
leave the region mapping stale copies.  Marking the nest serial first lets the planner
build its data plan around the host loop, which stays sound.
"""

from __future__ import annotations

from pcx_driver import hookimpl
from pcx_driver.config import OptionSpec
from pcx_driver.model import Decision, Remark

#: Below this many estimated operations (trip counts x body cost) a nest stays serial.
DEFAULT_MIN_WORK = 1_000_000.0
#: The stable remark pcx already has for "too little work to pay for an offload".
REMARK_ID = "PCX115"
OFFLOADED_ID = "PCX100"


@hookimpl
def pcx_add_options():
    return [OptionSpec("min-work", DEFAULT_MIN_WORK,
                       "keep serial every loop nest whose estimated work is below this (pcx-min-work plugin)",
                       "float")]


def min_work(config) -> float:
    try:
        value = config.get("min-work")
    except KeyError:  # a host that did not collect pcx_add_options: use the default
        return DEFAULT_MIN_WORK
    return DEFAULT_MIN_WORK if value is None else float(value)


def reason(work: float, threshold: float) -> str:
    return (f"kept serial by the pcx-min-work plugin: estimated work {work:.3g} "
            f"is below --pcx-min-work={threshold:.3g}")


@hookimpl(wrapper=True)
def pcx_plan(unit, analysis, config):
    threshold = min_work(config)
    demoted: dict[str, Remark] = {}
    for nest in analysis.nests():
        if nest.decision is Decision.OFFLOADED and nest.work_estimate < threshold:
            nest.decision = Decision.SERIAL
            # drop the analysis's "offloaded" remark: the nest no longer is
            nest.remarks = [r for r in nest.remarks if r.id != OFFLOADED_ID]
            remark = Remark(REMARK_ID, unit.path, nest.line, nest.column, reason(nest.work_estimate, threshold))
            nest.remarks.append(remark)
            demoted[nest.nest_id] = remark
    plan = yield
    # The planner copies a nest's remarks into its KernelPlan; make sure ours is there
    # even if a planner does not, so the report names the plugin as the reason.
    if plan is not None:
        for kernel in plan.kernels:
            remark = demoted.get(kernel.nest_id)
            if remark is not None and all(r.message != remark.message for r in kernel.remarks):
                kernel.remarks.append(remark)
    return plan
