"""Shared fixtures (keep this file small)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin" / "pcx-cc").exists() else Path(sys.executable).parent


@pytest.fixture
def pcx_env() -> dict[str, str]:
    """An environment for running pcx-cc/pcx-c++ as a build would: the venv's bin first
    on PATH, and no PCX_* settings leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def bench_module(name: str):
    """``bench/<name>.py`` imported as the module ``bench_<name>`` (once per session): the
    benchmarks are scripts, not a package, and their tests call their functions."""
    key = f"bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "bench" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]
