"""Step 2 of pcx tune (hotspots): the instrumented build, its timed runs, the nests ranked.

The build has per-nest timers and leaves compile records (PCX_INSTRUMENT=1, PCX_RECORD,
static mode); each run appends the nests' times to a timing file; the nests are ranked
by measured time (``hotspots.rank_hotspots``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pcx_driver.tune.hotspots import Hotspot, NestTiming, Record, load_records, rank_hotspots, read_timings
from pcx_driver.tune.runs import TuneError, describe_run, last_lines

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


@dataclass
class Measured:
    """What the instrumented build and its runs found."""

    records: dict[str, Record] = field(default_factory=dict)  # by plan key
    timings: dict[tuple[str, str], NestTiming] = field(default_factory=dict)  # by (plan key, nest id)
    hot: list[Hotspot] = field(default_factory=list)  # hottest first
    seconds: float = 0.0  # all the instrumented runs together


def find_hotspots(session: TuneSession) -> Measured:
    s, o, progress = session, session.options, session.progress
    progress.step("hotspots: instrumented build and timed runs", total=len(o.runs))
    records_dir = s.run_dir / "records"
    # PCX_TRUST_PRAGMAS: a loop under the user's 'parallel for' that the analysis cannot
    # test is a candidate on the pragma's word (PCX129); the gate checks it like any other
    env = {**s.base_env(), "PCX_MODE": "static", "PCX_INSTRUMENT": "1", "PCX_RECORD": str(records_dir),
           "PCX_TRUST_PRAGMAS": "1",
           "PCX_PLAN_CACHE": str(s.run_dir / "empty-cache")}
    build = s.build("hotspots", env)
    if not build.ok:
        raise TuneError(f"the instrumented build failed; log: {build.log}\n{last_lines(build.tail(), 8)}")
    files = []
    total = 0.0
    for i, spec in enumerate(o.runs):
        timing = s.run_dir / "hotspots" / f"timing-run{i}.jsonl"
        run = s.ws.run(build.tree, spec, f"hotspots/run{i}", env={"PCX_TIMING_FILE": str(timing)})
        progress.advance()
        if run.returncode != 0:
            raise TuneError(f"the instrumented program failed: `{spec.text}` {describe_run(run)}; "
                            f"output in {s.run_dir / 'hotspots' / f'run{i}'}")
        files.append(timing)
        total += run.seconds
    s.ws.discard(build.tree)
    records, problems = load_records(records_dir)
    for rec in records.values():
        _relative_to_tree(rec.unit, build.tree)
    for p in problems:
        progress.note(f"warning: {p}")
    if not records:
        raise TuneError(
            "no source was compiled through pcx-cc: the build must use $(CC)/$(CXX) from the "
            f"environment (CC={s.cc}); log: {build.log}"
        )
    timings = read_timings(files)
    hot = rank_hotspots(records, timings, total)
    s.result.hotspots = hot
    for h in hot[:5]:
        progress.note(f"hotspot {h.path}:{h.line} {h.function}: {h.seconds:.3f} s "
                      f"({100 * h.share:.0f}%), {h.decision}")
    return Measured(records, timings, hot, total)


def _relative_to_tree(unit: Any, tree: Path) -> None:
    """A source a build named by its absolute path inside the scratch copy (CMake does)
    is named relative to the copy instead, as the project's own path: the table, the plan
    cache and the LLM step then see ``main.cpp``, not ``.pcx/runs/<id>/hotspots/tree/main.cpp``."""
    if not os.path.isabs(unit.path):
        return
    for root in dict.fromkeys((str(tree), os.path.realpath(tree))):
        rel = os.path.relpath(unit.path, root)
        if not rel.startswith(".."):
            unit.path, unit.directory = rel, root
            return
