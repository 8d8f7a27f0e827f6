"""One meaning of ``_OPENMP`` per build (issue 17, items 1 and 2).

The rule: in a build in which pcx can rewrite (static mode; validated mode with a plan
cache in reach; pcx tune's instrumented build, which is static), every C/C++ compile and
every link gets the compiler family's OpenMP switch, and the analysis sees it too.  In
mode off, validated mode without a plan cache, and offload target none, the user's flags
alone decide.  Where the user's command line has no OpenMP switch, what the source itself
says stays as in their build: its ``#pragma omp`` lines are blanked (PCX019) and
``_OPENMP`` in its ``#if`` conditions reads as undefined (clang's offload headers need the
macro defined, so it is renamed there, not undefined): code under ``#if _OPENMP`` that
relies on the inert pragmas (LULESH's per-thread arrays) gave wrong answers.

tests/fixtures/openmp_project is the shape of LULESH: a struct whose layout depends on
``_OPENMP`` and storage allocated under ``#if _OPENMP`` in one file and used in the other;
only main.cpp holds offloadable loops.  Were ``_OPENMP`` defined in main.cpp alone, the
program would read past the struct and write through a null pointer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, VENV_BIN
from pcx_driver import families as fam
from pcx_driver.gate import VALIDATION_ENV, kernel_launches

FIXTURE = ROOT / "tests" / "fixtures" / "openmp_project"
TOOLCHAIN_FILE = ROOT / "hooks" / "pcx-toolchain.cmake"

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("clang++-19") is None,
                                 reason="cmake or clang++-19 missing")

GUARD = "#if defined(_OPENMP)\n#error _OPENMP here\n#endif\nint f(void) { return 1; }\n"


# ------------------------------------------------------------------ the rule, per command


def test_openmp_flags_table() -> None:
    assert fam.openmp_flags(fam.CLANG, ["-O2"]) == ["-fopenmp"]
    assert fam.openmp_flags(fam.CLANG, ["-O2", "-fopenmp-targets=x86_64-pc-linux-gnu"]) == ["-fopenmp"]
    assert fam.openmp_flags(fam.CLANG, ["-fopenmp=libomp"]) == []
    assert fam.openmp_flags(fam.GCC, ["-fopenmp"]) == []
    assert fam.openmp_flags(fam.NVC, ["-O2"]) == ["-mp"]
    assert fam.openmp_flags(fam.NVC, ["-mp=gpu"]) == []


def _compile(tmp_path: Path, pcx_env: dict[str, str], *settings: str, cache: bool = False) -> subprocess.CompletedProcess:
    """Compile GUARD (an error where its ``#if`` sees ``_OPENMP``) with ``settings``."""
    work = tmp_path / ("with-cache" if cache else "no-cache")
    work.mkdir(exist_ok=True)
    if cache:
        (work / ".pcx").mkdir(exist_ok=True)
    (work / "plain.c").write_text(GUARD)
    return subprocess.run([str(VENV_BIN / "pcx-cc"), *settings, "-c", "plain.c", "-o", "plain.o"],
                          cwd=work, env=pcx_env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("settings, cache", [
    (("--pcx-mode=static",), False),           # static: every file gets the switch
    (("--pcx-mode=validated",), True),          # validated with a plan cache in reach
    (("--pcx-mode=validated",), False),        # validated, nothing can apply: the user's flags
    (("--pcx-mode=off",), True),
    (("--pcx-mode=static", "--pcx-offload-target=none"), False),
    (("--pcx-mode=static", "--pcx-instrument"), False),  # pcx tune's hotspot build
])
@pytest.mark.parametrize("user_openmp", [False, True])
def test_a_file_sees_openmp_as_the_users_flags_say_in_every_mode(tmp_path, pcx_env, settings, cache, user_openmp):
    """A file with no loop at all, compiled on its own: whether its ``#if`` sees _OPENMP
    depends only on the user's command line, never on the mode nor on pcx's switch."""
    r = _compile(tmp_path, pcx_env, *settings, *(["-fopenmp"] if user_openmp else []), cache=cache)
    assert (r.returncode == 0) != user_openmp, r.stderr
    assert "pcx-cc: warning" not in r.stderr, r.stderr
    if user_openmp:
        assert "_OPENMP here" in r.stderr


def test_link_of_openmp_objects_gets_the_runtime(tmp_path, pcx_env) -> None:
    """Item 2: an object calling the OpenMP API (compiled in a build that can rewrite)
    links in the same build, even with no offload code anywhere."""
    (tmp_path / "a.c").write_text("#include <omp.h>\nint threads(void) { return omp_get_max_threads(); }\n")
    (tmp_path / "main.c").write_text('#include <stdio.h>\nint threads(void);\n'
                                     'int main(void) { printf("%d\\n", threads() > 0); return 0; }\n')
    cc = str(VENV_BIN / "pcx-cc")
    for src in ("a.c", "main.c"):
        r = subprocess.run([cc, "--pcx-mode=static", "-c", src], cwd=tmp_path, env=pcx_env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([cc, "--pcx-mode=static", "a.o", "main.o", "-o", "app"], cwd=tmp_path, env=pcx_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    run = subprocess.run(["./app"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "1\n", run.stderr


def pcx_remark(tmp_path, pcx_env, source: str, rid: str = "PCX003", flags: tuple[str, ...] = ("-fopenmp",)) -> str:
    """The ``rid`` remark of a static build of ``source`` as own.c (by default a build
    that compiles with OpenMP, where the file's own pragmas run)."""
    (tmp_path / "own.c").write_text(source)
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-remarks", *flags, "-c", "own.c"],
                       cwd=tmp_path, env=pcx_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return next(ln for ln in r.stderr.splitlines() if f"[{rid}]" in ln)


def pcx003_line(tmp_path, pcx_env, source: str) -> str:
    return pcx_remark(tmp_path, pcx_env, source)


def test_pcx003_names_the_pragma_and_line(tmp_path, pcx_env) -> None:
    """Item 6: a file skipped because it already holds OpenMP says which directive."""
    line = pcx003_line(tmp_path, pcx_env, "void f(double *a, int n)\n{\n    int i;\n"
                       "#pragma omp parallel for   schedule(static)\n    for (i = 0; i < n; i++) a[i] = 0;\n}\n")
    assert line.startswith("own.c:4:")
    assert "'#pragma omp parallel for schedule(static)' at line 4" in line


def test_pcx003_says_which_construct_keeps_pcx_out_of_a_file(tmp_path, pcx_env) -> None:
    """A file left as written because of its own target code says which construct, at which
    line, made it so (Rodinia's hotspot: a 'parallel for' at the top, a plain 'target' under
    #ifdef OMP_OFFLOAD further down), not only the first pragma."""
    line = pcx003_line(tmp_path, pcx_env, "void f(double *a, int n)\n{\n    int i;\n#pragma omp parallel for\n"
                       "    for (i = 0; i < n; i++) a[i] = 0;\n#pragma omp target\n    a[0] = 1;\n}\n")
    assert line.startswith("own.c:4:") and "left as it is: it has its own target code pcx does not plan" in line
    assert "at line 6" in line


RACY_PRAGMA = r"""
#include <stdio.h>
static void mm(int m, int n, int k, const float *a, const float *b, float *c) {
  int i, j, p;  /* shared under the pragma: j and p race once it runs */
#pragma omp parallel for
  for (i = 0; i < m; ++i)
    for (p = 0; p < k; ++p)
      for (j = 0; j < n; ++j)
        c[i * n + j] += a[i * k + p] * b[p * n + j];
}
static float a[64 * 200], b[200 * 300], c[64 * 300];
int main(void) {
  for (int t = 0; t < 64 * 200; t++) a[t] = 1.0f;
  for (int t = 0; t < 200 * 300; t++) b[t] = 1.0f;
  mm(64, 300, 200, a, b, c);
  double s = 0;
  for (int t = 0; t < 64 * 300; t++) s += c[t];
  printf("%.0f\n", s);
  return 0;
}
"""


def test_pragmas_of_a_build_without_openmp_stay_inert(tmp_path, pcx_env) -> None:
    """The user compiles without -fopenmp (darknet's OPENMP=0): the racy ``parallel for``
    does nothing in their build.  pcx's OpenMP switch (the rule above) must not run it:
    the pragma is blanked (PCX019), the loops are analysed as the serial code they are,
    and the output is the serial one (3840000) on every run."""
    line = pcx_remark(tmp_path, pcx_env, RACY_PRAGMA, "PCX019", flags=())
    assert line.startswith("own.c:5:"), line
    (tmp_path / "racy.c").write_text(RACY_PRAGMA)
    env = {**pcx_env, "PCX_MODE": "static"}
    subprocess.run([str(VENV_BIN / "pcx-cc"), "-O1", "racy.c", "-o", "racy"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=240)
    strict = {**os.environ, **VALIDATION_ENV, "OMP_NUM_THREADS": "4"}
    for _ in range(3):
        run = subprocess.run(["./racy"], cwd=tmp_path, env=strict, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stdout == "3840000\n", run.stdout + run.stderr


def test_a_pragma_the_flags_leave_out_is_not_said_to_be_blanked(tmp_path, pcx_env) -> None:
    """HPCCG's ``#ifdef USING_OMP`` around its pragma: these flags compile no such line, so
    PCX019 (a pragma pcx's switch would run) is not said; PCX013 names the branch."""
    source = ("void fill(double *x, int n) {\n#ifdef USING_OMP\n#pragma omp parallel for\n#endif\n"
              "  for (int i = 0; i < n; i++) x[i] = i * 0.5;\n}\n")
    (tmp_path / "own.c").write_text(source)
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-remarks", "-c", "own.c"],
                       cwd=tmp_path, env=pcx_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "[PCX013]" in r.stderr and "[PCX019]" not in r.stderr, r.stderr
    assert "[PCX019]" in pcx_remark(tmp_path, pcx_env, source.replace("#ifdef USING_OMP", "#ifndef USING_OMP"),
                                    "PCX019", flags=())


# ------------------------------------------------------------------ the two-file CMake project


def _serial_reference(tmp_path: Path, argv: list[str]) -> str:
    exe = tmp_path / "serial-app"
    subprocess.run(["clang++-19", "-O1", str(FIXTURE / "main.cpp"), str(FIXTURE / "domain.cpp"), "-o", str(exe)],
                   check=True, capture_output=True, timeout=240)
    return subprocess.run([str(exe), *argv], check=True, capture_output=True, text=True, timeout=60).stdout


def _cmake_build(tmp_path: Path, pcx_env: dict[str, str], name: str, how: list[str]) -> Path:
    build = tmp_path / name
    env = {**pcx_env, "PCX_MODE": "static"}
    cfg = subprocess.run(["cmake", "-S", str(FIXTURE), "-B", str(build), *how], env=env,
                         capture_output=True, text=True, timeout=240)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    b = subprocess.run(["cmake", "--build", str(build)], env={**env, "PCX_REPORT": str(tmp_path / f"{name}.json")},
                       capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stdout + b.stderr
    assert "pcx-cc: warning" not in b.stderr and "pcx-c++: warning" not in b.stderr, b.stderr
    return build / "app"


@needs_cmake
@pytest.mark.slow
@pytest.mark.parametrize("how", ["toolchain-file", "compiler"])
def test_cmake_project_builds_and_runs(tmp_path, pcx_env, how) -> None:
    argv = ["3000", "4"]
    expected = _serial_reference(tmp_path, argv)
    flags = ([f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}"] if how == "toolchain-file"
             else [f"-DCMAKE_CXX_COMPILER={VENV_BIN / 'pcx-c++'}"])
    app = _cmake_build(tmp_path, pcx_env, how, flags)
    report = json.loads((tmp_path / f"{how}.json").read_text())
    compiled = {Path(s["file"]).name: s["compiled"] for s in report["sources"]}
    assert compiled == {"main.cpp": "rewritten", "domain.cpp": "original"}, compiled
    run = subprocess.run([str(app), *argv], env={**os.environ, **VALIDATION_ENV}, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == expected
    assert any("axpy" in k for k in kernel_launches(run.stderr)), run.stderr[-2000:]


@needs_cmake
@pytest.mark.slow
def test_pcx_tune_on_the_cmake_project(tmp_path) -> None:
    """The instrumented build links (item 2), the gate passes the offloaded axpy, and a
    plain CMake build afterwards applies the validated plan."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    r = subprocess.run([str(VENV_BIN / "pcx"), "tune", "--shell",
                        "--build", "cmake -S . -B build >/dev/null && cmake --build build",
                        "--run", "./build/app 20000 6", "--min-share", "0", "--no-refine", "--repeats", "1", "--json",
                        "--keep-slower"],
                       cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    result = json.loads(r.stdout)
    # CMake names sources by absolute path in the scratch copy: shown relative to the project
    rows = {(k["path"], k["function"]): k for k in result["kernels"]}
    assert rows[("main.cpp", "axpy")]["status"] == "offloaded", rows
    assert result["saved"]
    assert all(not h["path"].startswith("/") for h in result["hotspots"])

    # a plain CMake build in the default (validated) mode applies it, and the program is right
    env["CXX"] = str(VENV_BIN / "pcx-c++")
    build = project / "plain-build"
    for cmd in (["cmake", "-S", ".", "-B", str(build)], ["cmake", "--build", str(build)]):
        b = subprocess.run(cmd, cwd=project, env={**env, "PCX_REMARKS": "1"}, capture_output=True, text=True,
                           timeout=600)
        assert b.returncode == 0, b.stdout + b.stderr
    assert "[PCX008]" in b.stderr, b.stderr
    run = subprocess.run([str(build / "app"), "20000", "6"], env={**os.environ, **VALIDATION_ENV},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == _serial_reference(tmp_path, ["20000", "6"])
    assert any("axpy" in k for k in kernel_launches(run.stderr))


PER_THREAD = r"""
#include <stdio.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#define N 100000
/* Old GPU version, kept for reference:
#pragma omp target teams distribute parallel for
*/
static double a[N];
int main(int argc, char **argv) {
  int nt = 1;
#if _OPENMP
  nt = omp_get_max_threads();
#endif
  double *part = malloc(nt * sizeof(double));
  for (int i = 0; i < N; i++) a[i] = 0.5 * i + argc;
#pragma omp parallel
  {
    int t = 0;
#if defined(_OPENMP)
    t = omp_get_thread_num();
#endif
    double s = 0;
    for (int i = t; i < N; i += nt) s += a[i];
    part[t] = s;
  }
  double sum = 0;
  for (int t = 0; t < nt; t++) sum += part[t];
  printf("threads=%d sum=%.1f\n", nt, sum);
  free(part);
  return 0;
}
"""


def test_code_under_if_openmp_keeps_the_users_meaning_beside_inert_pragmas(tmp_path, pcx_env) -> None:
    """LULESH's shape (a held-out check: a wrong final energy with two threads): per-thread
    partial sums sized by ``omp_get_max_threads()`` under ``#if _OPENMP`` and filled in an
    ``omp parallel`` region.  Built without -fopenmp, the pragma is inert; with pcx's switch,
    _OPENMP was defined while the pragma was blanked, and thread 1's slot was never written.
    A target pragma in a comment does not make the file an OpenMP program either."""
    (tmp_path / "p.c").write_text(PER_THREAD)
    subprocess.run(["clang-19", "-O1", "p.c", "-o", "serial"], cwd=tmp_path, check=True)
    env = {**pcx_env, "PCX_MODE": "static"}
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "-O1", "--pcx-remarks", "p.c", "-o", "offload"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and "pcx-cc: warning" not in r.stderr, r.stderr
    assert "'_OPENMP' is undefined in this file's #if conditions" in r.stderr, r.stderr
    want = subprocess.run(["./serial"], cwd=tmp_path, capture_output=True, text=True).stdout
    strict = {**os.environ, **VALIDATION_ENV, "OMP_NUM_THREADS": "2", "LIBOMPTARGET_INFO": "16"}
    run = subprocess.run(["./offload"], cwd=tmp_path, env=strict, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == want == "threads=1 sum=2500075000.0\n", run.stdout + want
    assert len(kernel_launches(run.stderr)) >= 1, run.stderr[-2000:]


HIDDEN_PRAGMAS = r"""
#include <cinttypes>
#include <cstdio>
int main() {
  int visits = 0;
#pragma omp parallel
  visits++;
  std::printf("visits=%d\n", visits);
  std::printf("%14" PRId64 "\n", (int64_t)42);
  return 0;
}
"""


def test_openmp_macro_is_renamed_in_conditions_and_macro_lists_only() -> None:
    from pcx_driver.engine.ompport import UNDEFINED_OPENMP_MACRO as U, without_openmp_macro
    from pcx_driver.model import Language

    text = ("#define HAVE_OMP _OPENMP\n#if defined(_OPENMP) && _OPENMP >= 201307\nint a;\n#endif\n"
            "#ifdef _OPENMP\nint b;\n#endif\nconst char *s = \"_OPENMP\";\n")
    got = without_openmp_macro(text, Language.C)
    assert got == text.replace("_OPENMP", U).replace(f'"{U}"', '"_OPENMP"'), got
    assert len(got) == len(text)  # every column stays where it was
    assert without_openmp_macro("int x;\n", Language.C) is None


PRAGMA_IN_A_MACRO = r"""
#include <stdio.h>
#define PAR _Pragma("omp parallel")
int main(void) {
  int visits = 0;
  PAR
  visits++;
  printf("visits=%d\n", visits);
  return 0;
}
"""


@pytest.mark.parametrize("source, suffix", [(HIDDEN_PRAGMAS, ".cpp"), (PRAGMA_IN_A_MACRO, ".c")],
                         ids=["parse-problem", "pragma-operator-in-a-macro"])
def test_pragmas_the_directive_scan_misses_stay_inert_too(tmp_path, pcx_env, source, suffix) -> None:
    """Held-out checks, in builds without -fopenmp: a ``"%14" PRId64`` string (gapbs) is a
    parse problem to the OpenMP scan, which then found no pragma to blank; a
    ``_Pragma("omp parallel")`` in a macro's list is no directive line.  Both ran under
    pcx's switch; the pragma lines tree-sitter finds and the operators in macro lists are
    blanked too."""
    (tmp_path / f"v{suffix}").write_text(source)
    env = {**pcx_env, "PCX_MODE": "static"}
    driver = "pcx-c++" if suffix == ".cpp" else "pcx-cc"
    subprocess.run([str(VENV_BIN / driver), "-O1", f"v{suffix}", "-o", "v"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=240)
    run = subprocess.run(["./v"], cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "3"}, capture_output=True,
                         text=True, timeout=60)
    assert run.stdout.startswith("visits=1\n"), run.stdout


def test_openmp_switched_off_last_compiles_as_written(tmp_path, pcx_env) -> None:
    """``-fopenmp -fno-openmp``: the later switch wins, the build has no OpenMP, and pcx's
    offload flags beside it failed ("'-fopenmp-targets' must be used in conjunction with a
    '-fopenmp' option"); the command is compiled as written."""
    (tmp_path / "off.c").write_text("double a[100000];\nint main(void) {\n  for (int i = 0; i < 100000; i++)\n"
                                    "    a[i] = i * 0.5;\n  return a[99999] > 1.0 ? 0 : 1;\n}\n")
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "--pcx-mode=static", "-O1", "-fopenmp", "-fno-openmp", "off.c",
                        "-o", "off"], cwd=tmp_path, env=pcx_env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    assert subprocess.run(["./off"], cwd=tmp_path).returncode == 0



TEAM_HEADER = """\
#ifdef _OPENMP
#define OMP_PARALLEL _Pragma("omp parallel")
#else
#define OMP_PARALLEL
#endif
static inline int count_team(void) {
  int c = 0;
#pragma omp parallel
  {
#pragma omp atomic
    c++;
  }
  return c;
}
"""

TEAM_BODIES = {
    "pragma-in-a-header": 'printf("%d\\n", count_team());',
    "pragma-operator-of-a-header": 'int v = 0;\n  OMP_PARALLEL\n  { v++; }\n  printf("%d\\n", v);',
}


@pytest.mark.parametrize("body", list(TEAM_BODIES.values()), ids=list(TEAM_BODIES))
def test_a_headers_openmp_stays_inert_in_a_build_without_it(tmp_path, pcx_env, body) -> None:
    """Held-out checks: a header's ``#pragma omp parallel`` (which a source's blanking
    cannot reach) and ParRes Kernels' ``prk_openmp.h`` (``_Pragma("omp parallel")`` under
    ``#ifdef _OPENMP``) ran under pcx's switch in a build without -fopenmp: a serial
    program counted a team of 3.  Such a file is compiled as written, with a warning."""
    (tmp_path / "team.h").write_text(TEAM_HEADER)
    (tmp_path / "t.c").write_text('#include <stdio.h>\n#include "team.h"\ndouble a[100000];\nint main(void) {\n'
                                  '  for (int i = 0; i < 100000; i++) a[i] = i * 0.5;\n  ' + body +
                                  '\n  return a[99999] > 1.0 ? 0 : 1;\n}\n')
    env = {**pcx_env, "PCX_MODE": "static"}
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "-O1", "t.c", "-o", "t"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and "team.h:" in r.stderr and "[PCX019]" in r.stderr, r.stderr
    run = subprocess.run(["./t"], cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "3"}, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "1\n", run.stdout


@pytest.mark.parametrize("how", ["angle-include", "forced-include", "stringized-pragma"])
def test_openmp_the_scan_reached_late_stays_inert_too(tmp_path, pcx_env, how) -> None:
    """Held-out checks, builds without -fopenmp: a header reached by ``#include <team.h>``
    through ``-I`` or by ``-include``, and ``DO_PRAGMA(omp parallel)`` through
    ``_Pragma(#x)``, ran under pcx's switch."""
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "team.h").write_text(TEAM_HEADER)
    head = {"angle-include": "#include <team.h>\n", "forced-include": "",
            "stringized-pragma": '#include "inc/team.h"\n'}[how]
    body = {"stringized-pragma": "int v = 0;\n  DO_PRAGMA(omp parallel)\n  { v++; }\n  printf(\"%d\\n\", v);"}.get(
        how, 'printf("%d\\n", count_team());')
    if how == "stringized-pragma":
        (tmp_path / "inc" / "team.h").write_text("#define DO_PRAGMA(x) _Pragma(#x)\n")
    (tmp_path / "t.c").write_text('#include <stdio.h>\n' + head + 'double a[100000];\nint main(void) {\n'
                                  '  for (int i = 0; i < 100000; i++) a[i] = i * 0.5;\n  ' + body +
                                  '\n  return a[99999] > 1.0 ? 0 : 1;\n}\n')
    flags = {"angle-include": ["-Iinc"], "forced-include": ["-include", "inc/team.h"]}.get(how, [])
    env = {**pcx_env, "PCX_MODE": "static"}
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "-O1", *flags, "t.c", "-o", "t"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and "[PCX019]" in r.stderr, r.stderr
    run = subprocess.run(["./t"], cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "3",
                                                     "OMP_TARGET_OFFLOAD": "MANDATORY"}, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "1\n", (run.stdout, run.stderr)



MODEL_SOURCE = r"""#include <stdio.h>
#if defined(USE_CUDA_MODEL)
#include "cuda_model.h"
#elif defined(SERIAL)
#include "plain_model.h"
#elif defined(USE_SIMD_MODEL)
#include "simd_model.h"
#else
#error "no model"
#endif
UNUSED
double a[100000];
int main(void) {
  for (int i = 0; i < 100000; i++) a[i] = i * 0.5;
  model_scale(a, 100000);
  printf("%.1f\n", a[99999]);
  return 0;
}
"""


@pytest.mark.parametrize("flag, unused, said", [
    ("-DSERIAL", "", False),                      # the #elif after a taken one is not compiled
    ("-DUSE_SIMD_MODEL", "", True),               # ... unless it is the one taken
    ("-DSERIAL", '#define PAR_FOR _Pragma("omp parallel for")', False),  # a macro never used
    ("-DSERIAL", '#define PAR_FOR _Pragma("omp parallel for")\nPAR_FOR\n'
                 'for (int k = 0; k < 1; k++) ;', True),  # ... and one that is
], ids=["untaken-elif", "taken-elif", "unused-pragma-macro", "used-pragma-macro"])
def test_openmp_in_code_the_build_never_compiles_does_not_stop_pcx(tmp_path, pcx_env, flag, unused, said) -> None:
    """miniBUDE picks its model header with ``#if``/``#elif``; a held-out check saw a
    ``#pragma omp simd`` in the header of a model the build does not select (a later
    ``#elif`` after the taken one) compile the whole file as written (PCX019), as did a
    ``_Pragma("omp ...")`` macro the file never expands.  Branches the command line's
    ``-D`` decides are now told apart, and a pragma macro counts where it is used."""
    (tmp_path / "plain_model.h").write_text("static void model_scale(double *a, int n) {\n"
                                            "  for (int i = 0; i < n; i++) a[i] *= 2.0;\n}\n")
    (tmp_path / "simd_model.h").write_text("static void model_scale(double *a, int n) {\n#pragma omp simd\n"
                                           "  for (int i = 0; i < n; i++) a[i] *= 2.0;\n}\n")
    body = MODEL_SOURCE.replace("UNUSED", unused if "PAR_FOR\n" not in unused else unused.split("\n")[0])
    if "PAR_FOR\n" in unused:
        body = body.replace("  model_scale(a, 100000);", "  PAR_FOR\n  for (int k = 0; k < 4; k++) a[k] += 1;\n"
                                                         "  model_scale(a, 100000);")
    (tmp_path / "t.c").write_text(body)
    env = {**pcx_env, "PCX_MODE": "static"}
    r = subprocess.run([str(VENV_BIN / "pcx-cc"), "-O1", flag, "--pcx-remarks", "t.c", "-o", "t"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=240)
    gave_up = "nothing offloaded [PCX019]" in r.stderr
    assert r.returncode == 0 and gave_up == said and ("[PCX100]" in r.stderr) != said, r.stderr
    run = subprocess.run(["./t"], cwd=tmp_path, env={**os.environ, "OMP_TARGET_OFFLOAD": "MANDATORY"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("99999"), (run.stdout, run.stderr)
