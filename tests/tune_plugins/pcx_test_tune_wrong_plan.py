"""Plants wrong plans for pcx tune's gate to catch (a wrapper around pcx_plan).

PCX_TEST_WRONG selects the mistakes (comma-separated):
  to-on-output     the kernels of function PCX_TEST_WRONG_FUNCTION (default "axpy", or
                   "shift" for the fake engine) copy their outputs in only: map(to:)
  missing-update   every data region keeps the arrays its kernels write on the device
                   but has no ``target update``: the host reads stale data between kernels
  racy             the kernels of PCX_TEST_RACY_FUNCTION (default "checksum") lose their
                   reduction clauses: every iteration updates the sum unsynchronised
                   (on the device the sum is then a private copy: always wrong)
  racy-dependence  every loop of function PCX_TEST_DEPENDENCE_FUNCTION (default
                   "running_sum") is offloaded although it carries a dependence, mapping
                   PCX_TEST_RACY_SECTION (default "a:0:n", i.e. a[0:n]) tofrom.  On the
                   host device a team's threads rarely overlap, so this race seldom shows:
                   measured 1 wrong result in 10 runs of a 4M-element prefix sum.
"""

from __future__ import annotations

import os

from pcx_driver import hookimpl
from pcx_driver.model import ArrayAccessSummary, Decision, MapClause, MapKind, Section


@hookimpl(wrapper=True)
def pcx_plan(unit, analysis, config):
    plan = yield
    if plan is None:
        return plan
    wrong = set(os.environ.get("PCX_TEST_WRONG", "").split(","))
    if "to-on-output" in wrong:
        target = os.environ.get("PCX_TEST_WRONG_FUNCTION", "axpy")
        for k in plan.kernels:
            if k.function == target and k.decision is Decision.OFFLOADED:
                sections = [s for m in k.maps for s in m.sections]
                k.maps = [MapClause(MapKind.TO, sections)]
    if "missing-update" in wrong:
        kernels = {k.nest_id: k for k in plan.kernels}
        for r in plan.regions:
            r.updates = []
            mapped = {s.base for m in r.maps for s in m.sections}
            for nid in r.kernels:
                for m in kernels[nid].maps if nid in kernels else []:
                    for sec in m.sections:
                        if m.kind in (MapKind.FROM, MapKind.TOFROM) and sec.base not in mapped:
                            r.maps.append(MapClause(MapKind.TOFROM, [Section(sec.base, list(sec.dims))]))
                            mapped.add(sec.base)
    if "racy" in wrong:
        target = os.environ.get("PCX_TEST_RACY_FUNCTION", "checksum")
        for k in plan.kernels:
            if k.function == target and k.decision is Decision.OFFLOADED:
                k.reductions = []
    if "racy-dependence" in wrong:
        target = os.environ.get("PCX_TEST_DEPENDENCE_FUNCTION", "running_sum")
        nests = {n.nest_id: n for n in analysis.nests()} if analysis else {}
        for k in plan.kernels:
            if k.function == target and k.decision is not Decision.OFFLOADED:
                nest = nests.get(k.nest_id)
                arrays: list[ArrayAccessSummary] = nest.arrays if nest else []
                sections = [Section(a.section.base, list(a.section.dims)) for a in arrays]
                if not sections:  # a refused nest may come without its array summary
                    base, lo, length = os.environ.get("PCX_TEST_RACY_SECTION", "a:0:n").split(":")
                    sections = [Section(base, [(lo, length)])]
                k.decision = Decision.OFFLOADED
                k.remarks = []
                k.maps = [MapClause(MapKind.TOFROM, sections)]
    return plan
