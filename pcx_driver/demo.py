"""`make demo`: offload examples/demo/heat.c and show what happened, step by step.

1. build the serial program with the real compiler and run it;
2. build it with pcx-cc (static plans, remarks on) and show the remarks;
3. run the offloaded program on the device under OMP_TARGET_OFFLOAD=MANDATORY and the
   strict validation environment, compare with the serial output (the correctness gate),
   and count kernel launches and bytes moved from libomptarget's own report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape  # array sections a[0:n] look like markup tags to rich
from rich.table import Table

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "demo" / "heat.c"


def _bin(name: str) -> str:
    """An executable of this installation (the venv's bin), else from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def main() -> int:
    from pcx_driver.gate import VALIDATION_ENV, compare_runs, kernel_launches, run_program
    from pcx_driver.profile import profile_from_info
    from pcx_driver.toolchain import autodetect

    console = Console()
    source = EXAMPLE
    args = ["512", "200"]
    with tempfile.TemporaryDirectory(prefix="pcx-demo-") as tmp:
        work = Path(tmp)
        real = autodetect(cxx=False).path
        console.rule(f"[bold]pcx-cc demo: {source.name}")
        console.print(f"real compiler: {real}")

        serial = work / "heat-serial"
        subprocess.run([real, "-O2", str(source), "-o", str(serial), "-lm"], check=True)
        reference = run_program([str(serial), *args])
        console.print("[bold]1. serial program[/]")
        console.print(escape(reference.stdout.rstrip()))

        offload = work / "heat-offload"
        report = work / "report.json"
        cmd = [_bin("pcx-cc"), "--pcx-mode=static", "--pcx-remarks", f"--pcx-report={report}",
               "-O2", "-gline-tables-only", str(source), "-o", str(offload), "-lm"]
        shown = ["pcx-cc", *(Path(c).name if c == str(source) else c for c in cmd[1:] if not c.startswith(str(work)))]
        console.print("[bold]2. offload with[/] " + " ".join(shown), soft_wrap=True)
        built = subprocess.run(cmd, capture_output=True, text=True)
        sys.stderr.write(built.stderr)
        if built.returncode != 0:
            console.print("[red]build failed[/]")
            return 1


        emitted = Table(title="emitted OpenMP (from --pcx-report)", show_lines=False)
        emitted.add_column("line", justify="right")
        emitted.add_column("decision")
        emitted.add_column("directive / reason")
        for entry in json.loads(report.read_text())["sources"]:
            for nest in entry["nests"]:
                detail = "; ".join(nest["directives"]) or "; ".join(
                    f"[{r['id']}] {r['message']}" for r in nest["reasons"][:1])
                emitted.add_row(str(nest["line"]), nest["decision"], escape(detail))
        console.print(emitted)

        env = dict(os.environ, **VALIDATION_ENV)
        candidate = run_program([str(offload), *args], env=env)
        console.print("[bold]3. offloaded program (OMP_TARGET_OFFLOAD=MANDATORY, strict validation env)[/]")
        console.print(escape(candidate.stdout.rstrip()))
        verdict = compare_runs(reference, candidate)
        launched = kernel_launches(candidate.stderr)
        profile = profile_from_info(candidate.stderr)

        table = Table(title="what ran on the device")
        table.add_column("kernel")
        table.add_column("launches", justify="right")
        for k in profile.kernels:
            table.add_row(f"{k.function} (line {k.line})", str(k.launches))
        console.print(table)
        console.print(f"bytes host->device {profile.bytes_to_device:,}   "
                      f"device->host {profile.bytes_from_device:,}   "
                      f"(each grid is {8 * 512 * 512:,} bytes)")
        if verdict.passed and launched:
            console.print(f"[bold green]gate passed[/]: output equals the serial program's; "
                          f"{len(launched)} kernel launches on the device")
            return 0
        console.print("[bold red]gate failed[/]: " + "; ".join(verdict.reasons or ["no kernel launched"]))
        return 1


if __name__ == "__main__":
    sys.exit(main())
