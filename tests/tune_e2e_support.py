"""Shared set-up for pcx tune's end-to-end tests on examples/tune_project (real engine)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "tune_project"
BIN = Path(sys.executable).parent
PLUGINS = str(Path(__file__).parent / "tune_plugins")


@functools.cache
def engine_offloads_example() -> str:
    """'' when pcx-cc --pcx-mode=static offloads the example's kernels, else why not."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(EXAMPLE / "kernels.c", tmp)
        shutil.copy(EXAMPLE / "kernels.h", tmp)
        r = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-remarks", "-O2", "-c", "kernels.c"],
                           cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0 or "[PCX100]" not in r.stderr:
            return "pcx-cc --pcx-mode=static does not offload examples/tune_project yet: " + r.stderr[-300:]
    return ""


def need_engine() -> None:
    why = engine_offloads_example()
    if why:
        pytest.skip(why)


def copy_example(tmp_path: Path) -> Path:
    project = tmp_path / "tune_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".pcx", "*.o", "app", "result.txt"))
    return project


def pcx(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": PLUGINS, **(env or {})}
    return subprocess.run([str(BIN / "pcx"), *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=240)


def make_with_cache(project: Path, analyses: Path | None = None) -> subprocess.CompletedProcess:
    """A plain ``CC=pcx-cc make`` (default mode: validated), with remarks on; with
    ``analyses``, every source the engine analyses is listed in that file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env.update(CC=str(BIN / "pcx-cc"), PCX_REMARKS="1")
    if analyses is not None:
        env.update(PCX_PLUGIN="pcx_test_tune_count_analyses", PCX_TEST_ANALYSES=str(analyses),
                   PYTHONPATH=PLUGINS)
    subprocess.run(["make", "clean"], cwd=project, env=env, capture_output=True)
    return subprocess.run(["make"], cwd=project, env=env, capture_output=True, text=True)


def run_offloaded(project: Path, *argv: str) -> subprocess.CompletedProcess:
    from pcx_driver.gate import VALIDATION_ENV

    env = {**os.environ, **VALIDATION_ENV}
    return subprocess.run(["./app", *argv], cwd=project, env=env, capture_output=True, text=True, timeout=120)
