"""bench/gpu.py's build, run and table, end to end on the host device: the same three
steps that run on a lent GPU, with ``--target x86_64-pc-linux-gnu`` instead of nvptx (and
the runtime found through the binaries' own rpath, as ``run`` adds only ``lib/`` to the
library path)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GPU = ROOT / "bench" / "gpu.py"

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")


def test_an_example_is_built_run_compared_and_tabled(tmp_path):
    build = tmp_path / "build"
    subprocess.run([sys.executable, str(GPU), "build", "--out", str(build), "--no-polybench", "--only", "triad",
                    "--target", "x86_64-pc-linux-gnu", "--jobs", "1"], check=True, timeout=300)
    manifest = json.loads((build / "manifest.json").read_text())
    (row,) = manifest["programs"]
    assert row["program"] == "triad" and row["build"] == "ok" and row["nests_applied"] >= 1
    result = tmp_path / "gpu.json"
    subprocess.run([sys.executable, str(GPU), "run", "--dir", str(build), "--json", str(result), "--runs", "1",
                    "--serial-jobs", "1"], check=True, timeout=300)
    data = json.loads(result.read_text())
    (rec,) = data["rows"]
    assert rec["verdict"] == "same" and rec["launches"] >= 1 and rec["t_offload"] > 0
    table = subprocess.run([sys.executable, str(GPU), "table", str(result)], check=True, capture_output=True,
                           text=True, timeout=60).stdout
    assert "| triad | same |" in table


def test_a_wrong_offload_is_reported_wrong(tmp_path):
    """A planted difference: the offloaded build replaced by a program printing another
    answer must read WRONG, never same."""
    build = tmp_path / "build"
    subprocess.run([sys.executable, str(GPU), "build", "--out", str(build), "--no-polybench", "--only", "triad",
                    "--target", "x86_64-pc-linux-gnu", "--jobs", "1"], check=True, timeout=300)
    (build / "liar.c").write_text('#include <stdio.h>\nint main(void) { puts("triad 0"); return 0; }\n')
    subprocess.run(["clang-19", str(build / "liar.c"), "-o", str(build / "progs" / "triad" / "offload")], check=True)
    result = tmp_path / "gpu.json"
    subprocess.run([sys.executable, str(GPU), "run", "--dir", str(build), "--json", str(result), "--runs", "1",
                    "--serial-jobs", "1"], check=True, timeout=300)
    (rec,) = json.loads(result.read_text())["rows"]
    assert rec["verdict"] == "WRONG"
