"""Shared fixtures (keep this file small)."""

from __future__ import annotations

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
