#!/usr/bin/env python3
"""ParEval-style report for the CUDA -> OpenMP offload translator.

For every example under examples/cuda (see ``pcx_driver.cuda.evaluate`` for the layout):
translate it, build it with clang-19 for the host device, run it under the gate's strict
environment and compare with the output of its independent serial C twin; for the
examples that must be refused, check the refusal IDs and lines.  Prints one row per
example and the rates:

    compile rate     = built / programs to translate
    validation rate  = output matched and every kernel launched on the device / programs
    refusal accuracy = refused with the expected IDs and lines / programs to refuse

and, per program, the translated program's run time on the host device next to its
serial twin's (clang-19 -O2), and their ratio ("x serial"; process start and the
offload runtime's start-up included).  A program whose serial twin runs under
TIMED_SERIAL_SECONDS, and whose translation runs within that of the offload runtime's
fixed cost (printed once: a program with one empty target region), gets no ratio
("start-up"): both runs measure start-up, not kernels.

Usage:  .venv/bin/python bench/pareval.py [--examples DIR] [--json OUT] [--cxx] [--nvcc] [--nvptx]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcx_driver.cuda.evaluate import (  # noqa: E402
    TIMED_SERIAL_SECONDS, ExampleResult, discover, evaluate, nvcc_compile, nvptx_compile, serial_seconds,
    startup_seconds)


def ratio(r: ExampleResult, serial: float | None, startup: float | None) -> str:
    """The "x serial" cell: run time over the serial twin's, unless both are start-up
    (the twin under TIMED_SERIAL_SECONDS, the translation within that of the offload
    start-up)."""
    if not r.compiled or serial is None:
        return "-"
    if serial < TIMED_SERIAL_SECONDS and r.run_seconds - (startup or 0.0) < TIMED_SERIAL_SECONDS:
        return "start-up"
    return f"{r.run_seconds / max(serial, 1e-3):.1f}"


def rates(results: list[ExampleResult]) -> dict[str, float | int]:
    run = [r for r in results if not r.must_refuse]
    ref = [r for r in results if r.must_refuse]
    n = max(len(run), 1)
    return {
        "programs": len(run),
        "translated": sum(r.translated for r in run),
        "compiled": sum(r.compiled for r in run),
        "validated": sum(r.validated for r in run),
        "to_refuse": len(ref),
        "refused_as_expected": sum(r.refused_as_expected for r in ref),
        "translate_rate": sum(r.translated for r in run) / n,
        "compile_rate": sum(r.compiled for r in run) / n,
        "validation_rate": sum(r.validated for r in run) / n,
        "refusal_accuracy": sum(r.refused_as_expected for r in ref) / max(len(ref), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=Path, default=ROOT / "examples" / "cuda")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--cxx", action="store_true", help="build the translations as C++ (clang++-19) instead of C")
    ap.add_argument("--nvcc", action="store_true", help="also check each example is valid CUDA with nvcc -c")
    ap.add_argument("--nvptx", action="store_true",
                    help="also compile each translation for an NVIDIA GPU (sm_90, -c only: no GPU needed)")
    args = ap.parse_args(argv)

    examples = discover(args.examples)
    if not examples:
        print(f"no examples under {args.examples}", file=sys.stderr)
        return 2
    results: list[ExampleResult] = []
    nvcc_ok: dict[str, bool] = {}
    nvptx_ok: dict[str, bool] = {}
    serial: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="pcx-pareval-") as tmp:
        startup = startup_seconds(Path(tmp))
        for ex in examples:
            work = Path(tmp) / ex.name
            work.mkdir()
            if args.nvcc:
                nvcc_ok[ex.name] = nvcc_compile(ex.source, work)[0]
            results.append(evaluate(ex, work, language="c++" if args.cxx else "c"))
            serial[ex.name] = serial_seconds(ex, work)
            if args.nvptx and not ex.must_refuse:
                nvptx_ok[ex.name] = nvptx_compile(ex, work, language="c++" if args.cxx else "c")[0]

    table = Table(title=f"CUDA -> OpenMP offload ({'C++' if args.cxx else 'C'} build, host device)")
    for col in ["example", "expect", *(["nvcc"] if args.nvcc else []), *(["sm_90"] if args.nvptx else []),
                "translated", "compiled",
                "validated / refused", "kernels", "launches", "run s", "serial s", "x serial", "seconds"]:
        table.add_column(col, overflow="fold", no_wrap=col == "example")  # names stay whole in logs
    mark = {True: "[green]yes[/]", False: "[red]no[/]"}
    for r in results:
        table.add_row(
            r.name, "refuse" if r.must_refuse else "run",
            *([mark[nvcc_ok[r.name]]] if args.nvcc else []),
            *([mark[nvptx_ok[r.name]] if r.name in nvptx_ok else "-"] if args.nvptx else []),
            "-" if r.must_refuse else mark[r.translated], "-" if r.must_refuse else mark[r.compiled],
            mark[r.passed], str(len(r.kernels)), str(len(r.launched)),
            f"{r.run_seconds:.2f}" if r.compiled else "-",
            f"{serial[r.name]:.2f}" if serial.get(r.name) is not None else "-",
            ratio(r, serial.get(r.name), startup),
            f"{r.seconds:.1f}",
        )
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    for r in results:
        if not r.passed:
            console.print(f"[red]{r.name}[/]: {r.detail[:600]}")
    rt = rates(results)
    if args.nvptx:
        rt["nvptx_compile_rate"] = sum(nvptx_ok.values()) / max(len(nvptx_ok), 1)
    console.print(
        f"compile rate {rt['compiled']}/{rt['programs']} = {rt['compile_rate']:.0%}   "
        f"validation rate {rt['validated']}/{rt['programs']} = {rt['validation_rate']:.0%}   "
        f"refused as expected {rt['refused_as_expected']}/{rt['to_refuse']} = {rt['refusal_accuracy']:.0%}"
    )
    if args.nvptx:
        console.print(f"compiles for sm_90 (nvptx64) {sum(nvptx_ok.values())}/{len(nvptx_ok)}")
    if startup is not None:
        console.print(f"offload start-up (a program with one empty target region): {startup:.2f} s; "
                      f"no ratio where both runs are start-up (within {TIMED_SERIAL_SECONDS} s of it)")
    if args.json:
        args.json.write_text(json.dumps({"rates": rt, "results": [asdict(r) for r in results], "serial_seconds": serial,
                                         "startup_seconds": startup,
                                         "nvcc": nvcc_ok, "nvptx": nvptx_ok}, indent=2))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
