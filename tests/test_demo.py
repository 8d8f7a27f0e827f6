"""`make demo` is the README's first command: it must offload heat.c and pass the gate."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_offloads_heat_and_passes_the_gate():
    run = subprocess.run([sys.executable, "-m", "pcx_driver.demo"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)
                                                      + ":/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gate passed" in run.stdout
    # the sweep inside the time loop ran on the device once per time step
    assert "main (line 28) │      200" in run.stdout
    # and the grids stayed there: only the two reduction scalars crossed
    assert "bytes host->device 16 " in run.stdout
