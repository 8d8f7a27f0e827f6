"""The loop schedule of each kernel, fitted to the kind of device it is built for.

Two choices differ between a GPU and a CPU device: how many loops to collapse, and how a
histogram's updates (PCX117) are made safe.

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

Updates of an array by iterations that may meet (``y[j] += A[i][j] * tmp[i]`` in PolyBench
atax's ``i`` loop) are atomic on a GPU, where a private copy per thread would not fit and
clang-19 rejects an array-section reduction of run-time length for nvptx.  On a CPU an
atomic update of a double is a compare-and-swap loop, several times a plain add, and a
copy of the section per thread costs little where the section is small: a section of
constant length of at most ``MAX_REDUCTION_BYTES`` becomes ``reduction(op: y[0:N])``
(PCX144).  The bound keeps each thread's copy, which clang and gcc put on the thread's
stack, far below a worker's stack (a 32 MB section crashed both here).
"""

from __future__ import annotations

from pcx_driver import families as fam
from pcx_driver.engine import symsect
from pcx_driver.engine.traffic import ELEMENT_BYTES
from pcx_driver.model import ArrayReduction, Decision, KernelPlan, Language, NestAnalysis, Plan, Remark, UnitAnalysis

#: the largest section a CPU kernel reduces into a copy per thread (bytes)
MAX_REDUCTION_BYTES = 128 * 1024


def is_cpu_device(target: str) -> bool:
    """Whether kernels built for ``target`` run on CPU cores (the host device)."""
    return target not in (fam.NVPTX, fam.AMDGCN)


def fit_to_device(path: str, analysis: UnitAnalysis, plan: Plan, target: str) -> None:
    """Fit each offloaded kernel to a CPU device (see the module text); a GPU's plan is
    left as the analysis made it."""
    if not is_cpu_device(target):
        return
    nests = {n.nest_id: n for n in analysis.nests()}
    for k in plan.kernels:
        n = nests.get(k.nest_id)
        if k.decision is not Decision.OFFLOADED or k.user_directive or n is None:
            continue
        _narrow_collapse(path, k, n, target)
        _reduce_small_histograms(path, k, n, analysis.language, plan.constants)


def _narrow_collapse(path: str, k: KernelPlan, n: NestAnalysis, target: str) -> None:
    if n.innermost_depth and k.collapse >= n.innermost_depth and k.collapse >= 2:
        fitted = max(1, n.innermost_depth - 1)
        k.remarks.append(Remark("PCX143", path, k.line, k.column, (
            f"collapse({fitted}) of the {k.collapse} loops that may be collapsed: on a CPU device ({target}) the "
            f"innermost loop stays whole, to be vectorised, and the outer loops' iterations are enough for its "
            f"cores; a GPU build collapses all {k.collapse}")))
        k.remarks = [_with_collapse(r, k.collapse, fitted) if r.id == "PCX100" else r for r in k.remarks]
        k.collapse = fitted


def _with_collapse(r: Remark, old: int, new: int) -> Remark:
    """The analysis's PCX100 remark naming the clause as emitted: ``collapse(new)``, or
    none for one loop (``offloaded to the device: collapse(2); ...`` -> ``... device; ...``)."""
    text = r.message.replace(f"collapse({old})", f"collapse({new})" if new > 1 else "", 1)
    text = text.replace(": ;", ";").replace(":  ", ": ")
    if text.endswith(":"):
        text = text[:-1]
    return Remark(r.id, r.file, r.line, r.column, text)


def _reduce_small_histograms(path: str, k: KernelPlan, n: NestAnalysis, language: Language,
                             constants: dict[str, int]) -> None:
    sections = {a.name: a for a in n.arrays}
    for h in k.atomic_arrays:
        summary = sections.get(h.name)
        if not h.local or summary is None or len(summary.section.dims) != 1 or \
                summary.element_type not in ELEMENT_BYTES:
            continue
        # the copy's length: the section's where constant, else at most the declared array
        length = symsect.constant_value(summary.section.dims[0][1], language, constants)
        elements = length if length is not None else h.declared_elements
        if elements is None or elements <= 0:
            continue
        size = elements * ELEMENT_BYTES[summary.element_type]
        if size > MAX_REDUCTION_BYTES or any(u not in k.atomic_updates for u in h.updates):
            continue
        k.atomic_updates = [u for u in k.atomic_updates if u not in h.updates]
        k.array_reductions.append(ArrayReduction(h.op, summary.section))
        k.remarks.append(Remark("PCX144", path, k.line, k.column, (
            f"updates of '{h.name}' reduced into a copy per thread (at most {size:,} bytes each) instead of "
            f"atomic updates, on a CPU device, where atomics on {summary.element_type} are compare-and-swap "
            f"loops; a GPU build keeps the atomics")))

