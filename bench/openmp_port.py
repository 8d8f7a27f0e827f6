"""Issue 18 benchmark: bytes moved and kernels launched by CPU-OpenMP programs once ported.

For every program under examples/openmp/ this does what bench/datamove.py does for the
serial examples, through the OpenMP port (pcx_driver/engine/ompport.py): the analysis and
the data planner see the user's pragmas blanked, the rewriter the text as written.  It
builds, with clang-19 for the host device:

- ``plan``:  the ported program (data regions and updates, plan-checked as the driver does);
- ``naive``: the same kernels, each mapping every array ``tofrom``, no regions (for
  handwritten.c, whose target loops have no maps, what a map-every-kernel plan moves);

computes datamove's ``minimum`` from the naive run's probes, and checks the plan build's
output against the user's CPU-OpenMP build (clang-19 -fopenmp) within the gate's
tolerance.  Both runs use two threads, except planted.c (its planted loop races on the
CPU as the user wrote it): one.

    .venv/bin/python bench/openmp_port.py [example-name ...]
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from datamove import ENV, Row, build_run, minimum, naive_plan, ratio, with_probes  # noqa: E402

from pcx_driver.engine import ompport  # noqa: E402
from pcx_driver.engine.analysis import analyse_unit  # noqa: E402
from pcx_driver.engine.dataplan import plan_unit  # noqa: E402
from pcx_driver.engine.plancheck import enforce  # noqa: E402
from pcx_driver.engine.rewrite import rewrite_unit  # noqa: E402
from pcx_driver.gate import first_difference  # noqa: E402
from pcx_driver.model import Language, SourceUnit  # noqa: E402

THREADS = {"planted": "1"}


def examples(selected: list[str]) -> list[Path]:
    found = sorted((ROOT / "examples/openmp").glob("*.c")) + sorted((ROOT / "examples/openmp").glob("*/main.cpp"))
    return [p for p in found if not selected or _name(p) in selected]


def _name(p: Path) -> str:
    return p.parent.name if p.name == "main.cpp" else p.stem


def measure(path: Path) -> Row:
    row = Row(_name(path))
    lang = Language.CXX if path.suffix == ".cpp" else Language.C
    text = path.read_text()
    threads = THREADS.get(row.name, "2")
    with tempfile.TemporaryDirectory(prefix="pcx-ompport-") as tmp:
        work = Path(tmp)
        (work / path.name).write_text(text)
        written = SourceUnit(path.name, text, lang, str(work), ["-fopenmp"])
        found = ompport.scan(written.data, lang)
        written = dataclasses.replace(written, openmp=found)
        unit = dataclasses.replace(written, text=ompport.blanked(written, found))
        analysis = analyse_unit(unit)
        if found.refuse:
            row.note = f"left as written: {found.refuse}"[:90]
            return row
        plan = enforce(unit, analysis, plan_unit(unit, analysis))
        ompport.keep_user_kernels(plan, found)  # the user's own kernels keep their text
        if not plan.offloaded():
            row.note = "nothing offloaded"
            return row
        cc = "clang++-19" if lang is Language.CXX else "clang-19"
        subprocess.run([cc, "-O2", "-fopenmp", str(work / path.name), "-o", str(work / "cpu"), "-lm"], check=True,
                       capture_output=True, cwd=work)
        cpu = subprocess.run([str(work / "cpu")], capture_output=True, text=True, cwd=work, timeout=300,
                             env=dict(os.environ, OMP_NUM_THREADS=threads))
        ENV["OMP_NUM_THREADS"] = threads
        row.plan = build_run(rewrite_unit(written, plan).text, unit, work, "plan")
        naive = naive_plan(enforce(unit, analysis, plan_unit(unit, analysis, regions=False)))
        ompport.keep_user_kernels(naive, found)
        row.naive = build_run(with_probes(rewrite_unit(written, naive).text, naive, lang), unit, work, "naive")
        aliases = {lp.name: lp.container for lp in naive.local_pointers}
        row.min_to, row.min_from = minimum(unit, analysis, row.naive.stderr, aliases)
        row.matches_serial = row.plan.ok and first_difference(cpu.stdout, row.plan.stdout) is None
    return row


def main(argv: list[str]) -> int:
    rows = []
    for path in examples(argv):
        try:
            rows.append(measure(path))
        except Exception as exc:  # one broken example must not hide the others
            rows.append(Row(_name(path), note=f"error: {exc}"[:90]))
    head = (f"{'example':<10} {'plan in':>11} {'plan out':>11} {'min in':>11} {'min out':>11} {'naive in':>12} "
            f"{'naive out':>12} {'launch':>6} {'plan/min':>8} {'naive/min':>9} {'same as CPU-OpenMP':>18}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if r.plan is None or r.naive is None:
            print(f"{r.name:<10} {r.note}")
            continue
        least = r.min_to + r.min_from
        print(f"{r.name:<10} {r.plan.to_dev:>11} {r.plan.from_dev:>11} {r.min_to:>11} {r.min_from:>11} "
              f"{r.naive.to_dev:>12} {r.naive.from_dev:>12} {r.plan.launches:>6} "
              f"{ratio(r.plan.to_dev + r.plan.from_dev, least):>8.2f} "
              f"{ratio(r.naive.to_dev + r.naive.from_dev, least):>9.2f} {'yes' if r.matches_serial else 'NO':>18}")
    return 0 if all(r.plan is None or r.matches_serial for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
