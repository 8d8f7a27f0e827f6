"""Plants a wrong kernel body for pcx tune's gate to catch (a wrapper around pcx_rewrite).

The plan stays right, so no static check of the plan can see it: only running the
program tells.  ``PCX_TEST_WRONG_KERNEL="OLD=>NEW"`` replaces the text OLD by NEW within
the four lines after each ``#pragma omp target ...`` kernel directive of the rewritten
source, i.e. only in a loop that is offloaded (a demoted kernel is its serial self again).
"""

from __future__ import annotations

import os

from pcx_driver import hookimpl


@hookimpl(wrapper=True)
def pcx_rewrite(unit, plan, config):
    rewrite = yield
    spec = os.environ.get("PCX_TEST_WRONG_KERNEL", "")
    if rewrite is None or "=>" not in spec:
        return rewrite
    old, new = spec.split("=>", 1)
    lines = rewrite.text.split("\n")
    for i, line in enumerate(lines):
        words = line.split()
        if words[:3] == ["#pragma", "omp", "target"] and words[3:4] not in (["data"], ["update"], ["enter"],
                                                                               ["exit"]):
            for j in range(i + 1, min(i + 5, len(lines))):
                lines[j] = lines[j].replace(old, new)
    rewrite.text = "\n".join(lines)
    return rewrite
