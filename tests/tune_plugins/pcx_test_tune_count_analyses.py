"""Records every analysis (pcx_analyse call) to the file named by PCX_TEST_ANALYSES."""

from __future__ import annotations

import os

from pcx_driver import hookimpl


@hookimpl(wrapper=True)
def pcx_analyse(unit, config):
    path = os.environ.get("PCX_TEST_ANALYSES")
    if path:
        with open(path, "a") as fh:
            fh.write(unit.path + "\n")
    return (yield)
