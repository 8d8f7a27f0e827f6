"""The stage contract: the one document a pcx plugin author reads.

pcx-cc runs four stages on every source it compiles, each a pluggy hook:

    planner    pcx_plan(unit, config) -> Plan               what to offload and how
    rewriter   pcx_rewrite(unit, plan, config) -> Rewrite    emit OpenMP text
    validator  pcx_validate(unit, rewrite, config)           static checks on the text
               pcx_compare(reference, candidate, config)     the run-time correctness gate
    profiler   pcx_profile(run, config) -> Profile           what a run moved and launched

The default stages are plugins on this same contract (``pcx_driver.stages.*``).  A plugin
is a module or object with functions marked ``@pcx_driver.hookimpl``; it is loaded from the
entry-point group ``pcx`` or with ``--pcx-plugin=module``.

``firstresult`` hooks stop at the first implementation that returns something other than
``None``: register ``tryfirst=True`` to be asked before the default.  To adjust what another
implementation produced, write a wrapper::

    @hookimpl(wrapper=True)
    def pcx_plan(unit, analysis, config):
        ...  # to keep a nest serial: set its decision in ``analysis`` BEFORE the yield
        plan = yield
        ...  # change plan.kernels (clauses, tuning knobs)
        return plan

Never demote a kernel in the finished plan: its data region and updates were planned
for it running on the device, and the host loop would read stale data (measured: wrong
output).  Marked serial first, the planner copies data around the host loop.
(examples/plugins/pcx-host-only is a complete example.)

All arguments are plain dataclasses from ``pcx_driver.model`` plus ``config``, a read-only
``pcx_driver.config.Config``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pcx_driver.config import Config, OptionSpec
    from pcx_driver.model import (
        GateVerdict,
        NestAnalysis,
        Plan,
        Profile,
        Remark,
        Rewrite,
        RunOutput,
        SourceUnit,
        UnitAnalysis,
    )

hookspec = pluggy.HookspecMarker("pcx")


# ---------------------------------------------------------------- set-up


@hookspec
def pcx_add_options() -> list[OptionSpec]:
    """Declare settings this plugin reads.

    Each ``OptionSpec(name, default, help)`` becomes ``--pcx-NAME=V``, ``PCX_NAME`` and the
    ``NAME`` key of pcx.toml; read it back with ``config.get(name)``.
    """


# ---------------------------------------------------------------- planner


@hookspec(firstresult=True)
def pcx_analyse(unit: SourceUnit, config: Config) -> UnitAnalysis | None:
    """Find the loop nests of ``unit`` and decide, with reasons, which are parallel.

    The default is the rule engine (``pcx_driver.engine``).
    """


@hookspec(firstresult=True)
def pcx_plan(unit: SourceUnit, analysis: UnitAnalysis, config: Config) -> Plan | None:
    """Turn an analysis into a Plan: which kernels, their clauses, data regions, updates.

    Wrap this hook to change decisions made by the default planner.
    """


# ---------------------------------------------------------------- rewriter


@hookspec(firstresult=True)
def pcx_rewrite(unit: SourceUnit, plan: Plan, config: Config) -> Rewrite | None:
    """Render ``plan`` into source text.

    The result must keep every byte the plan does not touch and carry ``#line``
    directives so diagnostics and debug info name the user's file and lines.
    """


# ---------------------------------------------------------------- validator


@hookspec
def pcx_validate(unit: SourceUnit, rewrite: Rewrite, config: Config) -> list[Remark] | None:
    """Static checks on rewritten text before it is compiled.

    Return remarks; any remark whose level is ``error`` makes the driver compile the
    original source instead.
    """


@hookspec(firstresult=True)
def pcx_compare(reference: RunOutput, candidate: RunOutput, config: Config) -> GateVerdict | None:
    """The correctness gate: does ``candidate`` (offloaded run) match ``reference`` (serial)?"""


# ---------------------------------------------------------------- profiler


@hookspec(firstresult=True)
def pcx_profile(run: RunOutput, config: Config) -> Profile | None:
    """Per-kernel launches, time and bytes moved, from a run's output (libomptarget INFO)."""


# ---------------------------------------------------------------- agents (pcx tune)


@hookspec(firstresult=True)
def pcx_propose_rewrite(
    unit: SourceUnit, nest: NestAnalysis, feedback: list[str], config: Config
) -> str | None:
    """Propose replacement text for the nest ``nest`` (bytes start_byte..end_byte of unit).

    Called by ``pcx tune`` for nests the planner kept serial, again with ``feedback``
    (compiler errors, the gate's output diff, profile numbers) after a failed attempt.
    The text is untrusted: it replaces only that range, and is kept only if it compiles,
    really launches kernels and passes the gate.  The LLM plugin implements this.
    """
