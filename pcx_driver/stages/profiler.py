"""Default profiler: launches and bytes moved, from libomptarget's INFO output."""

from __future__ import annotations

from pcx_driver import hookimpl


@hookimpl
def pcx_profile(run, config):
    from pcx_driver.profile import profile_from_info

    return profile_from_info(run.stderr)
