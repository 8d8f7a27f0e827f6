"""The loop schedule of each kernel, fitted to the kind of device it is built for.

The analysis proves how many perfectly nested loops may be collapsed (``NestAnalysis.
collapse``); how many *should* be depends on the device.  A GPU wants them all: the
collapsed iteration space is what fills its thousands of threads.  A CPU device (the host
device, ``x86_64-pc-linux-gnu``) has a few cores, each with vector units, and collapsing
the innermost loop costs both: every iteration recomputes its indices with a division and
a remainder, and the loop the compiler would have vectorised is gone.  Measured on the
host device (clang-19, 2 threads), PolyBench jacobi-2d at MEDIUM ran 12.2 ms with
``collapse(2)`` and 2.9 ms without (4.6 ms serial); heat-3d 24 ms with ``collapse(3)``, 5.0
ms with none.  So on a CPU device the band stops above the nest's innermost loop
(``NestAnalysis.innermost_depth``), and the kernel says so (PCX143).  A plan from the plan
cache keeps the collapse pcx tune measured (``plancache.apply_decisions`` runs after this).
"""

from __future__ import annotations

from pcx_driver import families as fam
from pcx_driver.model import Decision, Plan, Remark, UnitAnalysis


def is_cpu_device(target: str) -> bool:
    """Whether kernels built for ``target`` run on CPU cores (the host device)."""
    return target not in (fam.NVPTX, fam.AMDGCN)


def fit_to_device(path: str, analysis: UnitAnalysis, plan: Plan, target: str) -> None:
    """Narrow each offloaded kernel's ``collapse`` for a CPU device (see the module text)."""
    if not is_cpu_device(target):
        return
    nests = {n.nest_id: n for n in analysis.nests()}
    for k in plan.kernels:
        n = nests.get(k.nest_id)
        if k.decision is not Decision.OFFLOADED or k.user_directive or n is None or not n.innermost_depth:
            continue
        if k.collapse < n.innermost_depth or k.collapse < 2:
            continue
        fitted = max(1, n.innermost_depth - 1)
        k.remarks.append(Remark("PCX143", path, k.line, k.column, (
            f"collapse({fitted}) of the {k.collapse} loops that may be collapsed: on a CPU device ({target}) the "
            f"innermost loop stays whole, to be vectorised, and the outer loops' iterations are enough for its "
            f"cores; a GPU build collapses all {k.collapse}")))
        k.collapse = fitted
