"""bench/projectgen.py writes the zlib-sized and LULESH-sized projects bench/overhead.py
builds: they must have the size they claim and compile cleanly (a generator bug would
make the overhead figures measure error messages)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import projectgen  # noqa: E402


def lines(path: Path) -> int:
    return path.read_text().count("\n")


def test_zlib_sized_has_zlibs_shape(tmp_path):
    files = projectgen.write_zlib_sized(tmp_path)
    assert len(files) == 15 and all(f.endswith(".c") for f in files)
    modules = [lines(tmp_path / f) for f in files if f.startswith("module")]
    assert 7000 <= sum(modules) <= 11000  # zlib's 15 .c files: ~9,500 lines
    assert min(modules) >= 150 and max(modules) <= 1400
    assert projectgen.PROJECTS["zlib-sized"][1] == len(files) + 2  # compiles + two links


def test_lulesh_sized_has_luleshs_shape(tmp_path):
    files = projectgen.write_lulesh_sized(tmp_path)
    sizes = {f: lines(tmp_path / f) for f in files}
    assert 2500 <= sizes["solver.cc"] <= 3200  # lulesh.cc: 2,792 lines
    assert all(150 <= n <= 800 for f, n in sizes.items() if f != "solver.cc")
    assert projectgen.PROJECTS["lulesh-sized"][1] == len(files) + 1


def test_the_same_seed_writes_the_same_project(tmp_path):
    projectgen.write_zlib_sized(tmp_path / "a")
    projectgen.write_zlib_sized(tmp_path / "b")
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


@pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")
@pytest.mark.parametrize("name", sorted(projectgen.PROJECTS))
def test_every_file_compiles_without_a_warning(tmp_path, name):
    files = projectgen.PROJECTS[name][0](tmp_path)
    for f in files:
        cc = ["clang-19"] if f.endswith(".c") else ["clang++-19", "-std=c++17"]
        r = subprocess.run([*cc, "-fsyntax-only", "-Wall", "-Wextra", f], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0 and r.stderr == "", r.stderr
