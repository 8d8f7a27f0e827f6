"""Step 7 of pcx tune (save): each source's final plan into the project's plan cache.

The plans are saved with origin "validated" and their measurements, then checked to be
exactly the plans the gate passed; on any difference nothing is saved.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pcx_driver import plancache
from pcx_driver.config import Config
from pcx_driver.model import to_jsonable
from pcx_driver.tune.candidate import Candidate
from pcx_driver.tune.evaluate import Evaluation
from pcx_driver.tune.hotspots import Record
from pcx_driver.tune.runs import TuneError

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


def save_plans(session: TuneSession, records: dict[str, Record], cand: Candidate, best: Evaluation | None) -> None:
    """Store ``cand``'s plans (``best`` is its evaluation) and set the result's ``saved``."""
    o, result = session.options, session.result
    keys = sorted({r[0] for r in cand.kernels} | {r[0] for r in cand.demoted if isinstance(r, tuple)})
    if not keys:
        return
    session.progress.step("save: validated plans to the plan cache", total=None)
    cache = session.project / ".pcx"
    config = Config(values={"plan-cache": str(cache)})
    rows_by_key: dict[str, list[dict[str, Any]]] = {}
    for row in result.kernels:
        rows_by_key.setdefault(row.key, []).append({**to_jsonable(row), "speedup": row.speedup})
    written = []
    for key in keys:
        plan = cand.materialise(key)
        if plan is None:
            continue
        rec = records[key]
        measurements = {
            "run_id": session.run_id,
            "build": list(o.build),
            "runs": [s.text for s in o.runs],
            "rtol": o.rtol,
            "atol": o.atol,
            "baseline": {"median": result.baseline.median, "noise": result.baseline.noise},
            "offloaded": {"median": result.offloaded.median, "noise": result.offloaded.noise},
            "kernels": rows_by_key.get(key, []),
        }
        written.append(plancache.store(rec.unit, plan, measurements, config))
    result.saved = [str(p) for p in written]
    # What the user's builds will apply must be exactly what passed the gate.
    saved = {}
    for path in written:
        entry = json.loads(path.read_text())
        if any(k["offload"] for k in entry["decisions"]["kernels"]):
            saved[entry["key"]] = json.dumps(entry["decisions"], sort_keys=True)
    gated = best.plans if best is not None else {}
    if saved != gated:
        for key in keys:
            plancache.remove(records[key].unit, config)
        result.saved = []
        raise TuneError("internal error: the plans to save differ from the plans that passed the gate; "
                        "nothing was saved")
