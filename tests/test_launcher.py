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
