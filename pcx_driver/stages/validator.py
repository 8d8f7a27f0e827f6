"""Default validator: static checks on emitted text, and the run-time correctness gate."""

from __future__ import annotations

from pcx_driver import hookimpl


@hookimpl
def pcx_validate(unit, rewrite, config):
    from pcx_driver.gate import check_portable_openmp

    return check_portable_openmp(unit, rewrite)


@hookimpl
def pcx_compare(reference, candidate, config):
    from pcx_driver.gate import compare_runs

    return compare_runs(reference, candidate)
