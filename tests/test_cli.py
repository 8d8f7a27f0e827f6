"""The ``pcx`` user commands: plugins, doctor, explain.

In process through click's CliRunner, and through the installed ``.venv/bin/pcx``
executable (what a user runs), with real compilers for ``pcx doctor``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pcx_driver.cli import SUBCOMMANDS, main
from pcx_driver.commands import doctor as doctor_mod
from pcx_driver.diagnostics import ADVICE, REMARKS
from pcx_driver.plugins import DEFAULT_PLUGINS

PCX = Path(sys.executable).parent / "pcx"


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def pcx(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(PCX), *args], capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, **(env or {})), cwd=cwd)


# ------------------------------------------------------------------------- pcx --help


def test_installed_pcx_help_teaches_the_commands():
    proc = pcx("--help")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {attr for _, attr in SUBCOMMANDS}
    assert "CC=pcx-cc make" in proc.stdout


# ------------------------------------------------------------------------- explain


@pytest.mark.parametrize("given", ["PCX101", "pcx101"])
def test_explain_prints_level_docs_and_what_to_do_from_the_table(given):
    result = invoke("explain", given)
    assert result.exit_code == 0
    spec = REMARKS["PCX101"]
    assert result.output.strip() == f"PCX101 ({spec.level}): {spec.summary}\n  What you can do: {ADVICE['PCX101']}"


def test_explain_several_ids_one_entry_each():
    result = invoke("explain", "PCX001", "PCX115")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines() if not line.startswith(" ")] == \
        ["PCX001", "PCX115"]


def test_every_reason_polybench_leaves_says_what_to_do():
    """The refusals bench/polybench.py reports for the nests it leaves serial (and the
    versioning and over-approximation notes beside offloaded ones) each carry advice."""
    assert set(ADVICE) <= set(REMARKS)
    for rid in ("PCX101", "PCX104", "PCX105", "PCX110", "PCX112", "PCX113", "PCX115", "PCX116", "PCX128",
                "PCX202", "PCX203"):
        assert rid in ADVICE, rid


def test_explain_unknown_id_exits_2_with_a_message():
    proc = pcx("explain", "PCX999")
    assert proc.returncode == 2
    assert "unknown remark ID PCX999" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_explain_without_an_id_lists_them_all():
    result = invoke("explain", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = {word for line in result.output.splitlines() for word in line.replace("│", " ").split()
              if word.startswith("PCX") and word[3:].isdigit()}
    assert listed == set(REMARKS)
    assert "pcx explain PCXnnn" in result.output


def test_explain_list_prints_the_whole_table():
    result = invoke("explain", "--list", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = {word for line in result.output.splitlines() for word in line.replace("│", " ").split()
              if word.startswith("PCX") and word[3:].isdigit()}
    assert listed == set(REMARKS)
    assert REMARKS["PCX401"].summary in result.output


# ------------------------------------------------------------------------- plugins


def test_plugins_lists_the_default_stages_with_their_hooks():
    result = invoke("plugins", "--json", "--no-entry-points", env={"PCX_PLUGIN": ""})
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    hooks = {p["name"]: sorted(h["name"] for h in p["hooks"]) for p in data["plugins"]}
    assert hooks == {
        "pcx_driver.stages.planner": ["pcx_analyse", "pcx_plan"],
        "pcx_driver.stages.rewriter": ["pcx_rewrite"],
        "pcx_driver.stages.validator": ["pcx_compare", "pcx_validate"],
        "pcx_driver.stages.profiler": ["pcx_profile"],
    }
    assert [p["name"] for p in data["plugins"]] == list(DEFAULT_PLUGINS)
    assert {p["origin"] for p in data["plugins"]} == {"builtin"}
    assert data["errors"] == []


PLUGIN_MODULE = '''
from pcx_driver import hookimpl
from pcx_driver.config import OptionSpec

@hookimpl(tryfirst=True)
def pcx_analyse(unit, config):
    return None

@hookimpl
def pcx_add_options():
    return [OptionSpec("cli-test-knob", 3, "a test setting", "int")]
'''


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    (tmp_path / "pcx_cli_test_plugin.py").write_text(PLUGIN_MODULE)
    return tmp_path


def _ours(data: dict) -> dict:
    (ours,) = [p for p in data["plugins"] if p["name"] == "pcx_cli_test_plugin"]
    return ours


def test_plugins_shows_a_command_line_plugin_its_hook_flags_and_settings(plugin_dir):
    proc = pcx("plugins", "--json", "--plugin", "pcx_cli_test_plugin", env={"PYTHONPATH": str(plugin_dir)},
               cwd=plugin_dir)
    assert proc.returncode == 0, proc.stderr
    ours = _ours(json.loads(proc.stdout))
    assert ours["origin"] == "command line --plugin"
    assert ours["location"] == str(plugin_dir / "pcx_cli_test_plugin.py")
    assert {h["name"]: h["flags"] for h in ours["hooks"]} == {"pcx_analyse": ["tryfirst"], "pcx_add_options": []}
    assert ours["options"] == ["--pcx-cli-test-knob (PCX_CLI_TEST_KNOB, default 3)"]


def test_plugins_reads_the_plugin_setting_from_the_environment(plugin_dir):
    proc = pcx("plugins", "--json", env={"PYTHONPATH": str(plugin_dir), "PCX_PLUGIN": "pcx_cli_test_plugin"},
               cwd=plugin_dir)
    assert proc.returncode == 0, proc.stderr
    assert _ours(json.loads(proc.stdout))["origin"] == "environment PCX_PLUGIN"


def test_plugins_table_output(plugin_dir):
    proc = pcx("plugins", "--plugin", "pcx_cli_test_plugin", env={"PYTHONPATH": str(plugin_dir), "COLUMNS": "200"},
               cwd=plugin_dir)
    assert proc.returncode == 0, proc.stderr
    for text in ("pcx_driver.stages.planner", "builtin", "pcx_cli_test_plugin", "command line --plugin",
                 "pcx_analyse (tryfirst)", "--pcx-cli-test-knob"):
        assert text in proc.stdout


def test_plugins_reports_load_errors_and_exits_1(tmp_path):
    (tmp_path / "pcx_cli_broken_plugin.py").write_text("raise RuntimeError('broken on purpose')\n")
    proc = pcx("plugins", "--plugin", "pcx_cli_broken_plugin", "--plugin", "no_such_pcx_plugin",
               env={"PYTHONPATH": str(tmp_path), "COLUMNS": "200"}, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "'pcx_cli_broken_plugin' failed to load: RuntimeError: broken on purpose" in proc.stdout
    assert "'no_such_pcx_plugin' failed to load: ModuleNotFoundError" in proc.stdout
    assert "pcx_driver.stages.planner" in proc.stdout  # the defaults still load


def test_plugins_bad_pcx_toml_is_a_clean_error(tmp_path):
    (tmp_path / "pcx.toml").write_text("[pcx]\nno-such-setting = 1\n")
    proc = pcx("plugins", cwd=tmp_path)
    assert proc.returncode == 1
    assert "unknown setting" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------- doctor


@pytest.fixture(scope="module")
def doctor_json() -> tuple[int, dict]:
    proc = pcx("doctor", "--json")
    return proc.returncode, json.loads(proc.stdout)


def test_doctor_finds_clang_19_and_the_host_device_target(doctor_json):
    rc, data = doctor_json
    assert rc == 0
    assert data["ok"] is True
    (clang,) = [c for c in data["compilers"] if c["name"] == "clang-19"]
    assert clang["path"] and "version 19" in clang["version"]
    (host,) = [t for t in data["targets"] if t["key"] == "x86_64-pc-linux-gnu"]
    assert (host["built"], host["ran"], host["works"], host["offload"]) == (True, True, True, True)
    assert "-fopenmp-targets=x86_64-pc-linux-gnu" in host["command"]
    assert data["libomptarget"] and "libomptarget.so" in data["libomptarget"]


def test_doctor_reports_every_target_and_the_gpus(doctor_json):
    _, data = doctor_json
    keys = [t["key"] for t in data["targets"]]
    assert keys == ["x86_64-pc-linux-gnu", "nvptx64-nvidia-cuda", "amdgcn-amd-amdhsa", "gcc-host", "gcc-nvptx",
                    "nvc-nvptx"]
    nvptx = data["targets"][1]
    if not data["gpus"]["nvidia"]:
        # no GPU: a built nvptx binary must not be counted as working
        assert nvptx["ran"] is None and nvptx["works"] is False
    assert set(data["gpus"]) >= {"nvidia_smi", "nvidia_devices", "kfd", "nvidia"}
    for t in data["targets"]:
        assert t["works"] is False or t["built"] is True


def test_doctor_without_compilers_exits_1_and_says_why(tmp_path):
    proc = pcx("doctor", "--json", env={"PATH": str(tmp_path)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    assert all(c["path"] is None for c in data["compilers"])
    assert "clang-19 not found" in data["targets"][0]["detail"]


def test_doctor_table_output(doctor_json, monkeypatch):
    rc, data = doctor_json
    # render the findings already probed (probing again costs seconds on a busy machine)
    report = doctor_mod.DoctorReport(
        compilers=[doctor_mod.CompilerInfo(**c) for c in data["compilers"]],
        targets=[doctor_mod.TargetResult(**t) for t in data["targets"]],
        libomptarget=data["libomptarget"],
        libomptarget_how=data["libomptarget_how"],
        gpus=doctor_mod.GpuInfo(data["gpus"]["nvidia_smi"], data["gpus"]["nvidia_devices"], data["gpus"]["kfd"]),
        ok=data["ok"],
    )
    monkeypatch.setattr(doctor_mod, "diagnose", lambda: report)
    result = invoke("doctor", env={"COLUMNS": "200"})
    assert result.exit_code == rc == 0
    for text in ("compilers", "clang-19", "host device (x86_64-pc-linux-gnu)", "works", "libomptarget:", "GPUs:",
                 "ok: offload works here for x86_64-pc-linux-gnu"):
        assert text in result.output
    report.ok = False
    result = invoke("doctor", env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "no offload target works here" in result.output


def test_run_bounded_kills_the_whole_process_group_on_timeout(tmp_path):
    start = time.monotonic()
    rc, _ = doctor_mod.run_bounded(["sh", "-c", "sleep 30 & sleep 30"], str(tmp_path), timeout=0.5)
    assert rc is None
    assert time.monotonic() - start < 10
    rc, out = doctor_mod.run_bounded(["no-such-compiler-xyz"], str(tmp_path), timeout=5)
    assert rc == 127


def _elf_header(machine: int, abi_version: int) -> bytes:
    head = bytearray(64)
    head[0:4] = b"\x7fELF"
    head[4], head[5], head[6], head[7], head[8] = 2, 1, 1, 0x41, abi_version
    head[18:20] = machine.to_bytes(2, "little")
    return bytes(head)


def test_cubin_abi_versions_reads_the_cuda_images_inside_a_binary(tmp_path):
    """A host ELF (machine 62, x86-64) holding a CUDA 13 image (machine 190, ABI 8) and a
    CUDA 12 one (ABI 7): only the CUDA images count."""
    binary = tmp_path / "prog"
    binary.write_bytes(_elf_header(62, 0) + b"\0" * 100 + _elf_header(190, 8) + b"pad" + _elf_header(190, 7))
    assert doctor_mod.cubin_abi_versions(binary) == [8, 7]
    assert doctor_mod.cubin_abi_versions(tmp_path / "missing") == []


def test_doctor_says_when_clang_19_builds_cubins_its_runtime_cannot_load(doctor_json, tmp_path):
    """Where CUDA 13 is the toolkit clang-19 finds, the nvptx probe builds, but LLVM 19's
    runtime cannot read the cubin's header: the row must say so, and how to build instead."""
    _, data = doctor_json
    nvptx = data["targets"][1]
    if not nvptx["built"]:
        pytest.skip("clang-19 does not build for nvptx here (no CUDA toolkit)")
    (tmp_path / "p.c").write_text(doctor_mod.PROBE_SOURCE)
    subprocess.run(nvptx["command"].replace("probe.c", "p.c").split(), cwd=tmp_path, check=True, timeout=300)
    v8 = doctor_mod.CUDA_ABI_V8 in doctor_mod.cubin_abi_versions(tmp_path / "probe")
    assert ("CUDA 13 cubin (ELF ABI version 8)" in nvptx["detail"]) == v8
    if v8:
        assert "--cuda-path=" in nvptx["detail"]


def test_a_mistyped_pcx_flag_names_the_closest_setting(tmp_path):
    """The error points at something that exists: the nearest setting and the full list."""
    src = tmp_path / "a.c"
    src.write_text("int main(void) { return 0; }\n")
    cc = Path(sys.executable).parent / "pcx-cc"
    proc = subprocess.run([str(cc), "--pcx-remark", "-c", str(src), "-o", str(tmp_path / "a.o")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "unknown option --pcx-remark; did you mean --pcx-remarks?" in proc.stderr
    assert "--pcx-min-work" in proc.stderr and "Traceback" not in proc.stderr
