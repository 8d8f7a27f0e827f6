"""Programs bench/loopfuzz.py found wrong (reduced, each with a comment saying what was
wrong), kept as regression tests: each goes through ``PCX_MODE=static pcx-cc`` for the host
device and must print what the serial build prints, with and without an argument (the
programs take other branches and sizes with one), under the strict environment.  A first
comment line ``pcx-cc flags: ...`` adds options to the build (``--pcx-min-work=0`` for a
finding that needs every kernel on the device, as the fuzzer's odd seeds build)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import run_with_args  # noqa: E402

HERE = Path(__file__).resolve().parent
CASES = sorted((HERE / "fixtures" / "loopfuzz").glob("*.c"))
ROOT = HERE.parent
PCX_CC = ROOT / ".venv" / "bin" / "pcx-cc" if (ROOT / ".venv" / "bin" / "pcx-cc").exists() else \
    Path(sys.executable).parent / "pcx-cc"
CLANG = shutil.which("clang-19")
FLAGS = re.compile(r"pcx-cc flags:([^\n*]*)")


def extra_flags(case: Path) -> list[str]:
    m = FLAGS.search(case.read_text().split("\n", 1)[0])
    return m.group(1).split() if m else []


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_fuzz_finding_gives_the_serial_output(tmp_path, case):
    serial, offload = tmp_path / "serial", tmp_path / "offload"
    r = subprocess.run([CLANG, "-O1", "-w", str(case), "-o", str(serial), "-lm"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu")
    r = subprocess.run([str(PCX_CC), "-O1", "-w", *extra_flags(case), str(case), "-o", str(offload), "-lm"], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    for args in ([], ["x"]):
        assert run_with_args(offload, args) == run_with_args(serial, args), f"{case.name} {args}"
