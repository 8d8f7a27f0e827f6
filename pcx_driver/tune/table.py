"""The rows of pcx tune's final table: one per planned kernel, with its status and figures."""

from __future__ import annotations

from pcx_driver.model import Decision
from pcx_driver.tune.candidate import Candidate, KernelRef
from pcx_driver.tune.evaluate import Evaluation, kernel_bytes, kernel_numbers
from pcx_driver.tune.hotspots import NestTiming, Record
from pcx_driver.tune.results import KernelRow


def kernel_rows(records: dict[str, Record], timings: dict[KernelRef, NestTiming], cand: Candidate,
                first: Evaluation | None, best: Evaluation | None) -> list[KernelRow]:
    """A row per kernel of the recorded plans (refused ones only when measured), slowest
    serial nest first; ``first`` is the first passing evaluation, ``best`` the final one."""
    rows: list[KernelRow] = []
    for key, rec in sorted(records.items(), key=lambda kv: kv[1].unit.path):
        for k in rec.plan.kernels if rec.plan else []:
            ref = (key, k.nest_id)
            t = timings.get(ref)
            row = KernelRow(rec.unit.path, k.nest_id, k.function, k.line, "", key=key,
                            baseline_seconds=t.seconds if t else None)
            if k.decision is not Decision.OFFLOADED:
                row.status = "kept serial"
                rs = [r for r in k.remarks if r.id != "PCX100"]
                row.reason = f"{rs[0].message} [{rs[0].id}]" if rs else ""
                if t is None:
                    continue  # refused and never measured: not interesting here
            elif ref in cand.kernels:
                row.status = "offloaded"
                row.knobs = {n: v for n, v in cand.knobs.get(ref, {}).items()}
                if row.knobs:
                    row.reason = "variant kept [PCX306]: " + ", ".join(f"{n}={v}" for n, v in row.knobs.items())
                else:
                    row.reason = "passed the gate [PCX300]"
                for i, region in enumerate(rec.plan.regions):
                    why = cand.demoted.get((key, i))
                    if k.nest_id in region.kernels and why:
                        row.reason += f"; its {why}"
                row.bytes_before = kernel_bytes(first, k)
                row.bytes_after = kernel_bytes(best, k)
                nums = kernel_numbers(best, k)
                if nums is not None:
                    row.launches = nums.launches
                    row.offloaded_seconds = nums.seconds or None
            else:
                reason = cand.demoted.get(ref, "not selected")
                row.status = ("cold" if reason.startswith("cold") else
                              "not run" if reason.startswith("not run") else "demoted")
                tagged = reason.rstrip().endswith("]") and "[PCX" in reason
                row.reason = reason + (" [PCX305]" if row.status == "demoted" and not tagged else "")
            rows.append(row)
    rows.sort(key=lambda r: -(r.baseline_seconds or 0.0))
    return rows
