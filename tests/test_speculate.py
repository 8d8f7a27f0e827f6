"""The original compile started beside the analysis (pcx_driver/speculate.py): when no
loop is offloaded its result is the result, byte for byte what the compile after the
analysis would give; when one is, it is stopped and the rewritten text compiled."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from pcx_driver import speculate

pytestmark = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")

SERIAL_C = """#include <stdio.h>
int sum(const int *a, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i] * s; return s; }
int main(void) { int a[4] = {1, 2, 3, 4}; int unused; printf("%d\\n", sum(a, 4)); return 0; }
"""
OFFLOAD_C = """#include <stdlib.h>
void scale(int n, double *restrict a, const double *restrict b) {
    for (int i = 0; i < n; i++) a[i] = 2.0 * b[i];
}
"""


def compile_both(tmp_path, pcx_env, source: str, extra: list[str]) -> tuple[subprocess.CompletedProcess, bytes]:
    (tmp_path / "x.c").write_text(source)
    flags = ["-O2", "-Wall", "-c", "x.c"]
    r = subprocess.run(["pcx-cc", "--pcx-mode=static", *extra, *flags, "-o", "pcx.o"], cwd=tmp_path, env=pcx_env,
                       capture_output=True, text=True, timeout=300)
    # static mode makes every compile an OpenMP compile (one meaning of _OPENMP per build)
    plain = subprocess.run(["clang-19", "-fopenmp", *flags, "-o", "plain.o"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    return r, (tmp_path / "plain.o").read_bytes()


def test_no_offload_gives_the_plain_compile_and_its_warnings_once(tmp_path, pcx_env):
    r, plain = compile_both(tmp_path, pcx_env, SERIAL_C, [])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "pcx.o").read_bytes() == plain
    assert r.stderr.count("warning: unused variable 'unused'") == 1


def test_remarks_come_before_the_compilers_messages(tmp_path, pcx_env):
    r, _ = compile_both(tmp_path, pcx_env, SERIAL_C, ["--pcx-remarks"])
    assert r.returncode == 0, r.stderr
    assert "[PCX" in r.stderr
    assert r.stderr.index("[PCX") < r.stderr.index("warning: unused variable")


def test_an_offload_stops_the_early_compile_and_compiles_the_rewrite(tmp_path, pcx_env):
    r, plain = compile_both(tmp_path, pcx_env, OFFLOAD_C, ["--pcx-remarks"])
    assert r.returncode == 0, r.stderr
    assert "[PCX100]" in r.stderr
    obj = (tmp_path / "pcx.o").read_bytes()
    assert obj != plain and b".llvm.offloading" in obj


def test_a_source_that_does_not_compile_fails_once(tmp_path, pcx_env):
    (tmp_path / "bad.c").write_text("int f(void) { return missing; }\n")
    r = subprocess.run(["pcx-cc", "--pcx-mode=static", "-c", "bad.c"], cwd=tmp_path, env=pcx_env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert r.stderr.count("use of undeclared identifier 'missing'") == 1
    assert not (tmp_path / "bad.o").exists()


def test_cancel_stops_the_compile_and_waits(tmp_path):
    spec = speculate.Speculation(["sleep", "30"], {"PATH": "/usr/bin:/bin"}, str(tmp_path))
    start = time.monotonic()
    spec.cancel()
    assert time.monotonic() - start < 5
    spec.cancel()  # twice is harmless


def test_take_returns_the_status_and_replays_the_output(tmp_path, capfd):
    spec = speculate.Speculation(["sh", "-c", "echo out; echo err >&2; exit 3"], {"PATH": "/usr/bin:/bin"},
                                 str(tmp_path))
    assert spec.take() == 3
    out, err = capfd.readouterr()
    assert (out, err) == ("out\n", "err\n")


def test_colours_are_kept_only_when_the_command_did_not_choose():
    assert speculate.colour_args(["-fno-color-diagnostics", "-c", "x.c"]) == []
    assert speculate.colour_args(["-fdiagnostics-color=always", "-c", "x.c"]) == []
