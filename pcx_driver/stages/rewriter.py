"""Default rewriter: renders a Plan as OpenMP target directives with exact text edits."""

from __future__ import annotations

from pcx_driver import hookimpl


@hookimpl
def pcx_rewrite(unit, plan, config):
    from pcx_driver.engine.rewrite import rewrite_unit

    return rewrite_unit(unit, plan)
