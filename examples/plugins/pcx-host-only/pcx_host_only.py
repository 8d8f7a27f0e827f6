"""pcx-host-only: keep on the host every loop nest of the functions (or nests) you name.

A complete pcx plugin in one module.  It declares one setting through ``pcx_add_options``
(``--pcx-host-only=NAME,...``, ``PCX_HOST_ONLY=NAME,...`` or ``host-only = ["NAME"]`` in
pcx.toml; a NAME is a function, ``scale_add``, or one nest, ``main:12``) and wraps the
default planner's ``pcx_plan`` hook.  Use it for code you know runs better on the host, or
to bisect a problem by hand.

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

#: The stable remark for a nest a plugin keeps serial.
REMARK_ID = "PCX123"
OFFLOADED_ID = "PCX100"


@hookimpl
def pcx_add_options():
    return [OptionSpec("host-only", (), "functions (name) or loop nests (function:line) to keep on the host "
                       "(pcx-host-only plugin; repeatable)", "list")]


def host_only(config) -> tuple[str, ...]:
    try:
        value = config.get("host-only")
    except KeyError:  # a host that did not collect pcx_add_options: nothing named
        return ()
    return tuple(value or ())


def reason(name: str) -> str:
    return f"kept on the host by the pcx-host-only plugin: --pcx-host-only names '{name}'"


@hookimpl(wrapper=True)
def pcx_plan(unit, analysis, config):
    names = host_only(config)
    demoted: dict[str, Remark] = {}
    for nest in analysis.nests():
        named = next((n for n in names if n in (nest.function, nest.nest_id)), None)
        if nest.decision is Decision.OFFLOADED and named is not None:
            nest.decision = Decision.SERIAL
            # drop the analysis's "offloaded" remark: the nest no longer is
            nest.remarks = [r for r in nest.remarks if r.id != OFFLOADED_ID]
            remark = Remark(REMARK_ID, unit.path, nest.line, nest.column, reason(named))
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
