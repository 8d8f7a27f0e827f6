"""Real builds through pcx-cc: a Make project and a CMake project (library + program),
built plainly and through every hook, with the same program output each time.

Offloaded programs run on the host device under OMP_TARGET_OFFLOAD=MANDATORY with the
validation environment; the stand-in rewriter plugin (see test_driver_faults) makes the
offload deterministic, and one build also goes through the real engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_driver_faults import STAND_IN_REWRITER, VALIDATION_ENV

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLANG = shutil.which("clang-19")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CLANG is None or shutil.which("make") is None, reason="clang-19 and make needed"),
]


def sh(argv, cwd, env, timeout=300):
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{argv} failed:\n{r.stdout}\n{r.stderr}"
    return r


def run_program(path: Path, offloaded: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, **(VALIDATION_ENV if offloaded else {}), "LIBOMPTARGET_INFO": "16" if offloaded else "0"}
    r = subprocess.run([str(path)], cwd=path.parent, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture
def standin_env(pcx_env, tmp_path):
    """pcx_env with the stand-in rewriter loaded, static mode, and a shared report file."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "pcx_standin.py").write_text(STAND_IN_REWRITER)
    return {**pcx_env, "PYTHONPATH": str(plugins), "PCX_PLUGIN": "pcx_standin", "PCX_MODE": "static",
            "PCX_REPORT": str(tmp_path / "report.json")}


def copy_project(name: str, dest: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, dest / name))


# ------------------------------------------------------------------ Make


@pytest.fixture(scope="module")
def make_reference(tmp_path_factory) -> dict[str, str]:
    project = copy_project("make_project", tmp_path_factory.mktemp("plain"))
    sh(["make", f"CC={CLANG}"], project, dict(os.environ))
    return {p: run_program(project / p, offloaded=False).stdout for p in ("prog", "tool")}


def assert_depfiles_name_originals(project: Path) -> None:
    for name in ("main", "kernels", "stats"):
        text = (project / "src" / f"{name}.d").read_text()
        assert text.startswith(f"src/{name}.o: src/{name}.c"), text
        assert "/pcx-" not in text


def test_make_with_pcx_cc(tmp_path, pcx_env, make_reference):
    project = copy_project("make_project", tmp_path)
    sh(["make", "CC=pcx-cc"], project, pcx_env)
    assert_depfiles_name_originals(project)
    for prog, expected in make_reference.items():
        assert run_program(project / prog, offloaded=True).stdout == expected


def test_make_j4_offloads_and_merges_one_report(tmp_path, standin_env, make_reference):
    project = copy_project("make_project", tmp_path)
    sh(["make", "-j4", "CC=pcx-cc"], project, standin_env)
    assert_depfiles_name_originals(project)
    for prog, expected in make_reference.items():
        r = run_program(project / prog, offloaded=True)
        assert r.stdout == expected
        assert "Launching kernel" in r.stderr  # the kernels really ran on the device
    report = json.loads(Path(standin_env["PCX_REPORT"]).read_text())
    by_file = {e["file"]: e for e in report["sources"]}
    assert sorted(by_file) == ["src/kernels.c", "src/main.c", "src/stats.c", "src/tool.c"]
    # the stand-in maps dot's x[0:n] and y[0:n], which may be one array at two offsets
    # (``dot(n, a + 1, a)``: libomptarget would abort), with no run-time test: the plan
    # checker keeps that nest serial (PCX215); saxpy and smooth write one of the pair
    nests = by_file["src/kernels.c"]["nests"]
    assert [n["decision"] for n in nests] == ["offloaded", "kept serial", "offloaded"]
    assert [r["id"] for r in nests[1]["reasons"]] == ["PCX215"]
    # a rebuild after touching a header recompiles through the .d files
    (project / "src" / "kernels.h").touch()
    assert "kernels.c" in sh(["make", "CC=pcx-cc"], project, standin_env).stdout


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc needed")
def test_make_with_the_gcc_family(tmp_path, standin_env, make_reference):
    """PCX_CC=gcc: gcc's OpenMP flags (-fopenmp -foffload=disable: target regions run on
    the host, gcc has no separate-memory host device) at compile and link."""
    project = copy_project("make_project", tmp_path)
    sh(["make", "CC=pcx-cc"], project, {**standin_env, "PCX_CC": "gcc"})
    assert_depfiles_name_originals(project)
    for prog, expected in make_reference.items():
        assert run_program(project / prog, offloaded=False).stdout == expected
    needed = subprocess.run(["readelf", "-d", str(project / "prog")], capture_output=True, text=True).stdout
    assert "libgomp" in needed  # linked with gcc's OpenMP runtime


def test_make_with_the_real_engine(tmp_path, pcx_env, make_reference):
    """Whatever the engine decides, the build works and the output does not change."""
    project = copy_project("make_project", tmp_path)
    sh(["make", "CC=pcx-cc"], project, {**pcx_env, "PCX_MODE": "static"})
    for prog, expected in make_reference.items():
        assert run_program(project / prog, offloaded=True).stdout == expected


# ------------------------------------------------------------------ CMake


@pytest.fixture(scope="module")
def cmake_reference(tmp_path_factory) -> str:
    if shutil.which("cmake") is None:
        pytest.skip("cmake needed")
    build = tmp_path_factory.mktemp("cmake-plain")
    sh(["cmake", "-S", str(FIXTURES / "cmake_project"), "-B", str(build), f"-DCMAKE_C_COMPILER={CLANG}"],
       build, dict(os.environ))
    sh(["cmake", "--build", str(build)], build, dict(os.environ))
    return run_program(build / "app", offloaded=False).stdout


@pytest.mark.parametrize(
    "hook",
    [
        pytest.param(["-DCMAKE_C_COMPILER=pcx-cc"], id="compiler"),
        pytest.param([f"-DCMAKE_C_COMPILER={CLANG}", "-DCMAKE_C_COMPILER_LAUNCHER=pcx-cc",
                      "-DCMAKE_C_LINKER_LAUNCHER=pcx-cc"], id="launcher"),
        pytest.param([f"-DCMAKE_TOOLCHAIN_FILE={FIXTURES.parent.parent / 'hooks' / 'pcx-toolchain.cmake'}"],
                     id="toolchain-file"),
    ],
)
def test_cmake(tmp_path, standin_env, cmake_reference, hook):
    build = tmp_path / "build"
    build.mkdir()
    # configure with the plain environment (CMake's probes), build with rewriting on
    configure = sh(["cmake", "-S", str(FIXTURES / "cmake_project"), "-B", str(build), *hook], build, standin_env)
    assert "The C compiler identification is Clang" in configure.stdout
    sh(["cmake", "--build", str(build), "--", "-j2"], build, standin_env)
    r = run_program(build / "app", offloaded=True)
    assert r.stdout == cmake_reference
    assert "Launching kernel" in r.stderr
    depfile = (build / "CMakeFiles" / "vecops.dir" / "lib" / "vecops.c.o.d").read_text()
    assert str(FIXTURES / "cmake_project" / "lib" / "vecops.c") in depfile and "/pcx-" not in depfile
    report = json.loads(Path(standin_env["PCX_REPORT"]).read_text())
    assert {Path(e["file"]).name for e in report["sources"]} >= {"vecops.c", "main.c"}


# ------------------------------------------------------------------ warnings

WARNS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int unused;
  int n = 100000 + argc;
  double *a = malloc(n * sizeof(double)), s = 0;
  for (int i = 0; i < n; i++) a[i] = i * 2.0;
  for (int i = 0; i < n; i++) s += a[i];
  printf("%.1f\n", s);
  return 0;
}
"""


def test_each_warning_of_an_offloaded_source_is_printed_once(pcx_env, tmp_path):
    """clang compiles an offloaded source twice (host, then device); the user sees the
    host pass's warnings, not a second copy from the device pass."""
    (tmp_path / "w.c").write_text(WARNS)
    r = sh(["pcx-cc", "-Wall", "-O2", "--pcx-remarks", "w.c", "-o", "w"], tmp_path, {**pcx_env, "PCX_MODE": "static"})
    assert "PCX100" in r.stderr  # offloaded: the device pass ran
    assert r.stderr.count("warning: unused variable 'unused'") == 1, r.stderr
    assert run_program(tmp_path / "w", offloaded=True).stdout == "10000100000.0\n"
