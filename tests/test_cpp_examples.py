"""The C++ benchmark examples (examples/cpp/<name>/main.cpp) through pcx-c++.

Same markers, tolerance and checks as tests/test_examples.py (see its docstring), plus
the two ways such a benchmark is really built: ``CXX=pcx-c++ make`` and CMake with
``-DCMAKE_CXX_COMPILER=pcx-c++``, each in a temporary copy of the folder; both must give
the serial program's output under the validation environment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_examples import (
    ATOL,
    PCX_FLAGS,
    RTOL,
    VENV_BIN,
    check_expectations,
    compile_or_fail,
    expectations,
    load_report,
    pcx_env,
    run_timed,
)

from pcx_driver.diagnostics import REMARKS
from pcx_driver.gate import VALIDATION_ENV, compare_runs, kernel_launches, run_program
from pcx_driver.model import RunOutput

ROOT = Path(__file__).resolve().parent.parent
CPP_DIR = ROOT / "examples" / "cpp"
CPP_EXAMPLES = sorted(p.name for p in CPP_DIR.iterdir() if (p / "main.cpp").exists())
CLANGXX = shutil.which("clang++-19")
needs_clangxx = pytest.mark.skipif(CLANGXX is None, reason="clang++-19 not installed")
STD = "-std=c++17"
# Debug line tables make libomptarget name the mapped variables (the unmapped-pointer rule
# of the gate needs the names) and the kernel source locations.
DEBUG = "-gline-tables-only"


def test_there_are_enough_examples() -> None:
    assert len(CPP_EXAMPLES) >= 8, CPP_EXAMPLES


@pytest.mark.parametrize("name", CPP_EXAMPLES)
def test_markers_and_build_files(name: str) -> None:
    folder = CPP_DIR / name
    expected = expectations(folder / "main.cpp", "c++")
    assert any(e.offload for e in expected), f"{name} expects nothing to be offloaded"
    for e in expected:
        assert e.reason is None or e.reason in REMARKS, f"{name} {e.describe()}: unknown remark ID"
    text = (folder / "main.cpp").read_text()
    assert "#pragma omp" not in text and "omp.h" not in text, "examples are serial programs"
    assert "<chrono>" in text and "std::cerr" in text, "timed with <chrono>, time on stderr"
    assert "CXX ?= g++" in (folder / "Makefile").read_text()
    assert "add_executable" in (folder / "CMakeLists.txt").read_text()


_SERIAL: dict[str, RunOutput] = {}


def serial_run(name: str, tmp_path: Path) -> RunOutput:
    """Build main.cpp with plain clang++-19 -O2 (no OpenMP) and run it (once per process)."""
    if name in _SERIAL:
        return _SERIAL[name]
    work = tmp_path / "serial"
    work.mkdir()
    shutil.copy(CPP_DIR / name / "main.cpp", work / "main.cpp")
    compile_or_fail([CLANGXX, "-O2", STD, "-Wall", "-Wextra", "-Werror", "main.cpp", "-o", "main"], work)
    ref, cpu = run_timed(["./main"], work)
    assert ref.returncode == 0, ref.stderr
    assert cpu < 1.0, f"{name} used {cpu:.2f} s of CPU; examples must run in well under a second"
    assert "time" in ref.stderr and "time" not in ref.stdout
    _SERIAL[name] = ref
    return ref


@needs_clangxx
@pytest.mark.parametrize("name", CPP_EXAMPLES)
def test_serial_example_is_deterministic_and_fast(name: str, tmp_path: Path) -> None:
    """clang++-19 and g++ builds agree (no output that hangs on undefined behaviour)."""
    ref = serial_run(name, tmp_path)
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ not installed")
    shutil.copy(CPP_DIR / name / "main.cpp", tmp_path / "main.cpp")
    compile_or_fail([gxx, "-O2", STD, "-Wall", "-Wextra", "-Werror", "main.cpp", "-o", "main_gxx"], tmp_path)
    other = run_program(["./main_gxx"], cwd=tmp_path, timeout=60)
    verdict = compare_runs(ref, other, rtol=RTOL, atol=ATOL)
    assert verdict.passed, verdict.reasons


def check_offloaded_run(name: str, exe: Path, report: Path, serial: RunOutput) -> None:
    """The gate passes against the serial run, and report + launches agree with the markers."""
    offloaded = run_program([str(exe)], cwd=exe.parent, env=VALIDATION_ENV, timeout=120)
    verdict = compare_runs(serial, offloaded, rtol=RTOL, atol=ATOL)
    assert verdict.passed, f"{name} ({exe.name}): " + "\n".join(verdict.reasons)
    problems = check_expectations("main.cpp", expectations(CPP_DIR / name / "main.cpp", "c++"),
                                  load_report(report), kernel_launches(offloaded.stderr), label=f"{name}/main.cpp")
    assert not problems, "\n".join(problems)


@needs_clangxx
@pytest.mark.parametrize("name", CPP_EXAMPLES)
def test_offloaded_example_matches_serial_and_markers(name: str, tmp_path: Path) -> None:
    serial = serial_run(name, tmp_path)
    shutil.copy(CPP_DIR / name / "main.cpp", tmp_path / "main.cpp")
    compile_or_fail(
        [str(VENV_BIN / "pcx-c++"), *PCX_FLAGS, "--pcx-report=R.json", "-O2", STD, DEBUG,
         "main.cpp", "-o", "main_pcx"],
        tmp_path, env=pcx_env(),
    )
    check_offloaded_run(name, tmp_path / "main_pcx", tmp_path / "R.json", serial)


def build_env(report: Path) -> dict[str, str]:
    """pcx settings for a build system: through PCX_* variables, not flags."""
    env = pcx_env()
    env.update(PCX_MODE="static", PCX_OFFLOAD_TARGET="x86_64-pc-linux-gnu", PCX_REPORT=str(report))
    return env


@pytest.mark.slow
@needs_clangxx
@pytest.mark.skipif(shutil.which("make") is None or shutil.which("cmake") is None, reason="make/cmake missing")
@pytest.mark.parametrize("name", CPP_EXAMPLES)
def test_make_and_cmake_with_pcx(name: str, tmp_path: Path) -> None:
    """``CXX=pcx-c++ make`` and ``cmake -DCMAKE_CXX_COMPILER=pcx-c++`` in copies of the folder."""
    serial = serial_run(name, tmp_path)

    made = tmp_path / "make"
    shutil.copytree(CPP_DIR / name, made)
    env = build_env(tmp_path / "make.json")
    env["CXX"] = "pcx-c++"  # found on PATH (the venv's bin comes first), as a user would
    compile_or_fail(["make", f"CXXFLAGS=-O2 {STD} {DEBUG}"], made, env=env)
    check_offloaded_run(name, made / "main", tmp_path / "make.json", serial)

    src = tmp_path / "cmake"
    shutil.copytree(CPP_DIR / name, src)
    env = build_env(tmp_path / "cmake.json")
    build = tmp_path / "build"
    compile_or_fail(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_CXX_COMPILER={VENV_BIN / 'pcx-c++'}",
                     f"-DCMAKE_CXX_FLAGS={DEBUG}"], tmp_path, env=env)
    compile_or_fail(["cmake", "--build", str(build)], tmp_path, env=env)
    check_offloaded_run(name, build / "main", tmp_path / "cmake.json", serial)
