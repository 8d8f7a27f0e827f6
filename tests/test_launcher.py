"""The sh front of pcx-cc/pcx-c++ (pcx_driver/launch/pcx-cc) makes the pass-through
decision before Python starts.  It must take exactly the commands the Python driver's
``fast_pass_through`` takes, run the same compiler with the same arguments, and hand
every other command to the Python driver untouched.

Each case runs a copy of the front beside a stand-in ``pcx-driver-cc`` (which reports
that Python was reached) with stand-in compilers first on PATH (which report what they
were run with), and compares with ``fast_pass_through`` on the same command."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver.driver import fast_pass_through

ROOT = Path(__file__).resolve().parent.parent
FRONT = ROOT / "pcx_driver" / "launch" / "pcx-cc"

REPORTER = '#!/bin/sh\nprintf "%s\\n" "{tag}" "$0" "$@" "ACTIVE=$PCX_CC_ACTIVE"\n'


@pytest.fixture
def bed(tmp_path):
    """(bin dir holding the front and the stand-in driver, tools dir, work dir)."""
    bin_dir, tools, work = tmp_path / "bin", tmp_path / "tools", tmp_path / "proj" / "src"
    for d in (bin_dir, tools, work):
        d.mkdir(parents=True)
    for name in ("pcx-cc", "pcx-c++"):
        shutil.copy(FRONT, bin_dir / name)
    for name in ("pcx-driver-cc", "pcx-driver-c++"):
        (bin_dir / name).write_text(REPORTER.format(tag=f"PYTHON {name}"))
    for name in ("clang-19", "clang++-19", "gcc", "my cc"):
        (tools / name).write_text(REPORTER.format(tag="COMPILER"))
    for p in [*bin_dir.iterdir(), *tools.iterdir()]:
        p.chmod(0o755)
    return bin_dir, tools, work


def run_front(bed, prog: str, argv: list[str], env_extra: dict[str, str]) -> tuple[str, list[str], str]:
    bin_dir, tools, work = bed
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env["PATH"] = f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin"
    env.update(env_extra)
    out = subprocess.run([str(bin_dir / prog), *argv], cwd=work, env=env, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    tag, argv0, *args, active = out.stdout.split("\n")[:-1]
    if tag.startswith("PYTHON"):
        assert tag == f"PYTHON pcx-driver-{prog.removeprefix('pcx-')}"
        return "PYTHON", args, active
    return tag, [argv0, *args], active


def python_decision(bed, prog: str, argv: list[str], env_extra: dict[str, str], monkeypatch) -> list[str] | None:
    _, tools, work = bed
    env = {"PATH": f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin", **env_extra}
    monkeypatch.setenv("PATH", env["PATH"])  # toolchain.which reads PATH from the process
    return fast_pass_through(argv, prog == "pcx-c++", env, str(work))


NONE = {"PCX_OFFLOAD_TARGET": "none"}

# (id, program, argv, environment, the front takes the fast path)
CASES = [
    ("env-none", "pcx-cc", ["-O2", "-c", "x.c", "-o", "x.o"], NONE, True),
    ("flag-none", "pcx-cc", ["--pcx-offload-target=none", "-c", "x.c"], {}, True),
    ("flag-beats-env", "pcx-cc", ["--pcx-offload-target=none", "-c", "x.c"], {"PCX_OFFLOAD_TARGET": "nvptx64-nvidia-cuda"}, True),
    ("env-cc", "pcx-cc", ["-c", "x.c"], {**NONE, "PCX_CC": "gcc"}, True),
    ("flag-cc", "pcx-cc", ["-c", "--pcx-cc=gcc", "x.c"], NONE, True),
    ("cc-with-space", "pcx-cc", ["-c", "x.c"], {**NONE, "PCX_CC": "my cc"}, True),
    ("quoting", "pcx-cc", ["-DMSG=\"a b\"", "-c", "*.c", "", "x.c"], NONE, True),
    ("c++", "pcx-c++", ["-O2", "-c", "x.cpp"], NONE, True),
    ("c++-env-cxx", "pcx-c++", ["-c", "x.cpp"], {**NONE, "PCX_CXX": "gcc"}, True),
    ("c++-ignores-cc", "pcx-c++", ["-c", "--pcx-cc=gcc", "x.cpp"], NONE, True),
    ("host-target", "pcx-cc", ["-c", "x.c"], {"PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"}, False),
    ("no-target", "pcx-cc", ["-c", "x.c"], {}, False),
    ("flag-not-none", "pcx-cc", ["--pcx-offload-target=amdgcn-amd-amdhsa", "-c", "x.c"], NONE, False),
    ("other-setting", "pcx-cc", ["--pcx-report=r.json", "-c", "x.c"], NONE, False),
    ("launcher-form", "pcx-cc", ["clang-19", "-c", "x.c"], NONE, False),
    ("input-first", "pcx-cc", ["x.o", "-o", "app"], NONE, False),
    ("re-entry", "pcx-cc", ["-c", "x.c"], {**NONE, "PCX_CC_ACTIVE": "/usr/bin/true"}, False),
    ("config-file", "pcx-cc", ["-c", "x.c"], {**NONE, "PCX_CONFIG": "/dev/null"}, False),
    ("cc-is-pcx", "pcx-cc", ["-c", "x.c"], {**NONE, "PCX_CC": "pcx-cc"}, False),
    ("cc-missing", "pcx-cc", ["-c", "x.c"], {**NONE, "PCX_CC": "no-such-cc"}, False),
    ("no-arguments", "pcx-cc", [], NONE, False),
    ("c++-host-target", "pcx-c++", ["-c", "x.cpp"], {"PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"}, False),
]


@pytest.mark.parametrize("prog,argv,env,fast", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_front_agrees_with_the_python_driver(bed, prog, argv, env, fast, monkeypatch):
    tag, ran, active = run_front(bed, prog, argv, env)
    expected = python_decision(bed, prog, argv, env, monkeypatch)
    if fast:
        assert tag == "COMPILER"
        assert expected is not None and ran == expected
        assert active == f"ACTIVE={ran[0]}"  # the re-entry mark, as the Python driver sets it
    else:
        assert tag == "PYTHON"
        assert ran == argv  # handed over untouched, --pcx-* flags included


def test_a_pcx_toml_above_the_working_directory_defers_to_python(bed, monkeypatch):
    _, _, work = bed
    (work.parent / "pcx.toml").write_text('cc = "gcc"\n')
    tag, ran, _ = run_front(bed, "pcx-cc", ["-c", "x.c"], NONE)
    assert (tag, ran) == ("PYTHON", ["-c", "x.c"])
    assert python_decision(bed, "pcx-cc", ["-c", "x.c"], NONE, monkeypatch) is None


def test_installed_front_runs_a_real_compile(tmp_path, pcx_env):
    """The installed pcx-cc (the front) compiles through clang-19 and, off the fast path,
    reaches the Python driver: both builds give a working program."""
    if shutil.which("clang-19") is None:
        pytest.skip("clang-19 is not installed")
    (tmp_path / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    for extra in ({"PCX_OFFLOAD_TARGET": "none"}, {}):
        r = subprocess.run(["pcx-cc", "hello.c", "-O2", "-o", "hello"], cwd=tmp_path, env={**pcx_env, **extra},
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert subprocess.run(["./hello"], cwd=tmp_path, capture_output=True, text=True).stdout == "hi\n"


# ------------------------------------------------------------------ the default mode, no plan
#
# In the default (validated) mode with no plan cache in reach nothing can be rewritten, so
# the Python driver runs the compiler with the user's arguments unchanged (no OpenMP
# switch: not an OpenMP build) unless a source holds its own OpenMP directives or a linked
# object holds OpenMP code.  The front takes that path itself; these cases run both the
# front and the real Python driver (stand-in compilers report what they were run with)
# and require the same command line, or a hand-over to Python.

import sys  # noqa: E402

from pcx_driver.config import BUILTIN_OPTIONS  # noqa: E402
from pcx_driver.driver import _OPENMP_MARKERS  # noqa: E402

PY_DRIVER = ("import sys\nfrom pcx_driver.driver import main_cc, main_cxx\n"
             "sys.exit(main_cxx() if sys.argv.pop(1) == 'c++' else main_cc())")

LOOP_C = "void scale(int n, double *a) { for (int i = 0; i < n; i++) a[i] *= 2.0; }\n"
# "omp" inside ordinary words (compress, component) and pragmas that are not OpenMP
WORDY_C = ('#pragma GCC diagnostic ignored "-Wunused"\n#pragma once\n'
           "/* compress the component */\nint compress_component(int x) { return x + 1; }\n")
TARGET_C = "void f(int n, double *a) {\n#pragma omp target teams distribute parallel for map(tofrom: a[0:n])\n" \
           "  for (int i = 0; i < n; i++) a[i] += 1.0;\n}\n"
PARALLEL_C = "void f(int n, double *a) {\n  #  pragma   omp parallel for\n  for (int i = 0; i < n; i++) a[i] += 1.0;\n}\n"
DECLARE_TARGET_C = "#pragma omp declare target\nstatic double twice(double x) { return 2 * x; }\n" \
                   "#pragma omp end declare target\n"
PRAGMA_OP_C = 'void f(int n, double *a) {\n  _Pragma("omp parallel for")\n  for (int i = 0; i < n; i++) a[i] += 1.0;\n}\n'
PLAIN_OBJ = b"\x7fELF\0\0plain object: main scale printf\0"


def openmp_object(marker: bytes) -> bytes:
    return PLAIN_OBJ + marker + b"_fork_call\0"


# (id, program, files, argv, environment, the front runs the compiler itself)
DEFAULT_CASES = [
    ("compile", "pcx-cc", {"x.c": LOOP_C}, ["-O2", "-c", "x.c", "-o", "x.o"], {}, True),
    ("compile-deps", "pcx-cc", {"x.c": LOOP_C}, ["-O2", "-MD", "-MF", "x.d", "-c", "x.c", "-o", "x.o"], {}, True),
    ("host-target", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"}, True),
    ("target-flag", "pcx-cc", {"x.c": LOOP_C}, ["--pcx-offload-target=nvptx64-nvidia-cuda", "-c", "x.c"], {}, True),
    ("validated-flag", "pcx-cc", {"x.c": LOOP_C}, ["--pcx-mode=validated", "-c", "x.c"], {}, True),
    ("validated-env", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_MODE": "validated"}, True),
    ("omp-in-words", "pcx-cc", {"x.c": WORDY_C}, ["-c", "x.c"], {}, True),
    ("env-cc", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_CC": "gcc"}, True),
    ("compile-and-link", "pcx-cc", {"x.c": LOOP_C, "y.o": PLAIN_OBJ}, ["-O2", "x.c", "y.o", "-o", "app"], {}, True),
    ("link", "pcx-cc", {"y.o": PLAIN_OBJ, "libz.a": PLAIN_OBJ}, ["-o", "app", "y.o", "libz.a", "-lm"], {}, True),
    ("link-missing-object", "pcx-cc", {"y.o": PLAIN_OBJ}, ["-o", "app", "y.o", "gone.o"], {}, True),
    ("c++", "pcx-c++", {"x.cpp": LOOP_C}, ["-O2", "-std=c++17", "-c", "x.cpp"], {}, True),
    ("mode-off", "pcx-cc", {"x.c": TARGET_C}, ["-c", "x.c"], {"PCX_MODE": "off"}, True),
    ("not-a-compile", "pcx-cc", {}, ["--version"], {}, True),
    ("source-first", "pcx-cc", {"x.c": LOOP_C}, ["x.c", "-O2", "-o", "app"], {}, True),
    ("object-first", "pcx-cc", {"y.o": PLAIN_OBJ}, ["y.o", "-o", "app"], {}, True),
    ("launcher-form", "pcx-cc", {"x.c": LOOP_C}, ["clang-19", "-c", "x.c"], {}, False),
    ("other-first-word", "pcx-cc", {"x.s": "nop\n"}, ["x.s", "-c"], {}, False),
    # Python's to decide (it may well give the same command line: the front cannot tell)
    # CPU OpenMP (LULESH): no plan can port it, so it is compiled as written
    ("own-parallel", "pcx-cc", {"x.c": PARALLEL_C}, ["-c", "x.c"], {}, True),
    ("pragma-operator", "pcx-c++", {"x.cpp": PRAGMA_OP_C}, ["-c", "x.cpp"], {}, True),
    ("own-target-region", "pcx-cc", {"x.c": TARGET_C}, ["-c", "x.c"], {}, False),
    ("declare-target", "pcx-cc", {"x.c": DECLARE_TARGET_C}, ["-c", "x.c"], {}, False),
    ("target-pragma-operator", "pcx-cc", {"x.c": PRAGMA_OP_C.replace("parallel for", "target teams loop")},
     ["-c", "x.c"], {}, False),
    ("directive-in-second-source", "pcx-cc", {"x.c": LOOP_C, "y.c": TARGET_C}, ["x.c", "y.c", "-o", "app"], {}, False),
    ("missing-source", "pcx-cc", {}, ["-c", "gone.c"], {}, False),
    ("cuda", "pcx-c++", {"k.cu": LOOP_C}, ["-c", "k.cu"], {}, False),
    ("c++-given-to-pcx-cc", "pcx-cc", {"x.cpp": LOOP_C}, ["-c", "x.cpp"], {}, False),
    ("response-file", "pcx-cc", {"x.c": LOOP_C, "args": "-c x.c\n"}, ["-O2", "@args"], {}, False),
    ("language-by-hand", "pcx-cc", {"x.txt": LOOP_C}, ["-x", "c", "-c", "x.txt"], {}, False),
    ("stdin", "pcx-cc", {}, ["-x", "c", "-c", "-"], {}, False),
    ("static", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_MODE": "static"}, False),
    ("static-flag", "pcx-cc", {"x.c": LOOP_C}, ["--pcx-mode=static", "-c", "x.c"], {}, False),
    ("mode-flag-with-none", "pcx-cc", {"x.c": LOOP_C}, ["--pcx-mode=static", "-c", "x.c"], NONE, False),
    ("bad-mode", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_MODE": ""}, False),
    ("bad-target", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_OFFLOAD_TARGET": ""}, False),
    ("report", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_REPORT": "r.json"}, False),
    ("report-flag", "pcx-cc", {"x.c": LOOP_C}, ["--pcx-report=r.json", "-c", "x.c"], {}, False),
    ("plan-cache-setting", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_PLAN_CACHE": "/nowhere"}, False),
    ("strict", "pcx-cc", {"x.c": LOOP_C}, ["-c", "x.c"], {"PCX_STRICT": "1"}, False),
    *[(f"openmp-object-{m.decode()}", "pcx-cc", {"x.c": LOOP_C, "y.o": openmp_object(m)},
       ["x.c", "y.o", "-o", "app"], {}, False) for m in _OPENMP_MARKERS],
    ("openmp-archive", "pcx-cc", {"libk.a": openmp_object(b"__tgt_")}, ["-o", "app", "libk.a"], {}, False),
]


def put_files(work: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        if isinstance(content, bytes):
            (work / name).write_bytes(content)
        else:
            (work / name).write_text(content)


def run_python_driver(bed, prog: str, argv: list[str], env_extra: dict[str, str]) -> tuple[list[str], str, str]:
    """(argv the real compiler got, its PCX_CC_ACTIVE, the driver's stderr): the Python
    driver in full, as pcx-driver-cc runs it."""
    _, tools, work = bed
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env["PATH"] = f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin"
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", PY_DRIVER, "c++" if prog == "pcx-c++" else "cc", *argv],
                         cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    tag, argv0, *args, active = out.stdout.split("\n")[:-1]
    assert tag == "COMPILER", out.stdout
    return [argv0, *args], active.removeprefix("ACTIVE="), out.stderr


def assert_same_command(bed, prog: str, argv: list[str], env: dict[str, str]) -> None:
    tag, ran, active = run_front(bed, prog, argv, env)
    assert tag == "COMPILER", "the front handed the command to Python"
    expected, py_active, stderr = run_python_driver(bed, prog, argv, env)
    assert ran == expected
    assert stderr == ""
    assert os.path.realpath(active.removeprefix("ACTIVE=")) == os.path.realpath(py_active)


@pytest.mark.parametrize("prog,files,argv,env,fast", [c[1:] for c in DEFAULT_CASES], ids=[c[0] for c in DEFAULT_CASES])
def test_default_mode_front_agrees_with_the_python_driver(bed, prog, files, argv, env, fast):
    put_files(bed[2], files)
    if fast:
        assert_same_command(bed, prog, argv, env)
    else:
        assert run_front(bed, prog, argv, env)[:2] == ("PYTHON", argv)  # untouched


def test_a_plan_cache_in_reach_goes_to_python(bed):
    """A .pcx/ upward may hold a plan for the source: Python looks it up."""
    _, _, work = bed
    put_files(work, {"x.c": LOOP_C})
    (work.parent / ".pcx").mkdir()
    assert run_front(bed, "pcx-cc", ["-c", "x.c"], {})[:2] == ("PYTHON", ["-c", "x.c"])
    (work.parent / ".pcx").rmdir()
    (work.parent / ".pcx").write_text("not a directory, but Python is the one to say so\n")
    assert run_front(bed, "pcx-cc", ["-c", "x.c"], {})[:2] == ("PYTHON", ["-c", "x.c"])


def test_a_plan_cache_beyond_the_project_root_is_out_of_reach(bed):
    """config.find_plan_cache stops at the directory that holds .git: so does the front."""
    _, _, work = bed
    put_files(work, {"x.c": LOOP_C})
    (work.parent / ".git").mkdir()
    (work.parent.parent / ".pcx").mkdir()
    assert_same_command(bed, "pcx-cc", ["-O2", "-c", "x.c"], {})


def test_a_pcx_toml_in_reach_goes_to_python_in_the_default_mode(bed):
    _, _, work = bed
    put_files(work, {"x.c": LOOP_C})
    (work.parent / "pcx.toml").write_text('mode = "static"\n')
    assert run_front(bed, "pcx-cc", ["-c", "x.c"], {})[:2] == ("PYTHON", ["-c", "x.c"])


def test_the_front_knows_every_builtin_setting():
    """Each PCX_* variable of config.BUILTIN_OPTIONS is either handled by the front or in
    its list of settings that send a command to Python: a new setting cannot slip by."""
    text = FRONT.read_text()
    listed = set(text[text.index("other_settings_set() {"):text.index("# grep_sources")].split("${")[1:])
    listed = {w.split("+", 1)[0] for w in listed}
    handled = {"PCX_CC", "PCX_CXX", "PCX_CONFIG", "PCX_MODE", "PCX_OFFLOAD_TARGET"}
    assert {o.env for o in BUILTIN_OPTIONS} == listed | handled
    assert not listed & handled


def test_the_front_greps_for_the_drivers_openmp_markers():
    line = next(ln for ln in FRONT.read_text().splitlines() if "grep -a -q -F" in ln)
    words = line.split()
    front = {words[k + 1] for k, w in enumerate(words) if w == "-e"}
    assert front == {m.decode() for m in _OPENMP_MARKERS}
