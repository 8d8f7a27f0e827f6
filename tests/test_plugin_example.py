"""The example plugin examples/plugins/pcx-host-only changes a decision, through every door.

1. its hook logic, on hand-made analyses (no engine needed);
2. its packaging: installed with ``pip install --target``, the ``pcx`` entry point is in
   the metadata and ``pcx plugins`` finds it as an installed distribution;
3. a real ``pcx-cc --pcx-mode=static`` build, with ``--pcx-plugin=pcx_host_only`` and with
   the installed entry point: the report says the nest was kept serial for the plugin's
   reason, and the program prints what the serial program prints.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

from pcx_driver import hookimpl, hookspecs
from pcx_driver.config import Config
from pcx_driver.model import Decision, FunctionAnalysis, KernelPlan, NestAnalysis, Plan, SourceUnit, UnitAnalysis

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugins" / "pcx-host-only"
BIN = Path(sys.executable).parent
LLVM_LIB = "/usr/lib/llvm-19/lib"
VALIDATION_ENV = {
    "OMP_TARGET_OFFLOAD": "MANDATORY",
    "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
    "MALLOC_PERTURB_": "165",
    "OMP_NUM_THREADS": "2",
}

# A nest the engine offloads (restrict pointers, affine subscripts, no calls), run on a
# fixed size; a second, serial loop prints a checksum.
PROGRAM = r"""#include <stdio.h>
#include <stdlib.h>

static void scale_add(int n, const double *restrict x, double *restrict y) {
  for (int i = 0; i < n; i++)
    y[i] = 2.5 * x[i] + y[i];
}

int main(void) {
  int n = 100000;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  for (int i = 0; i < n; i++) {
    x[i] = (i % 97) * 0.25;
    y[i] = (i % 13) * 1.5;
  }
  scale_add(n, x, y);
  double sum = 0;
  for (int i = 0; i < n; i++)
    sum += y[i] * (i % 7);
  printf("checksum %.6f\n", sum);
  free(x);
  free(y);
  return 0;
}
"""


@pytest.fixture
def example_on_path(monkeypatch):
    """Import the example module from its source folder, and forget it afterwards."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    sys.modules.pop("pcx_host_only", None)
    yield
    sys.modules.pop("pcx_host_only", None)


# ------------------------------------------------------------------ 1. the hook logic


def _nest(nest_id: str, decision: Decision = Decision.OFFLOADED) -> NestAnalysis:
    function, line = nest_id.split(":")
    return NestAnalysis(nest_id, function, int(line), 3, 0, 1, 1, decision)


class FakePlanner:
    """Stands in for the default planner: one KernelPlan per nest, with its decision."""

    @hookimpl
    def pcx_plan(self, unit, analysis, config):
        return Plan(unit.path, [KernelPlan(n.nest_id, n.function, n.line, n.column, n.start_byte, n.end_byte,
                                           n.decision, remarks=list(n.remarks)) for n in analysis.nests()])


def _plan_with_plugin(nests: list[NestAnalysis], flags: dict[str, list[str]]) -> Plan:
    import pcx_host_only

    pm = pluggy.PluginManager("pcx")
    pm.add_hookspecs(hookspecs)
    pm.register(FakePlanner())
    pm.register(pcx_host_only)
    specs = tuple(s for specs in pm.hook.pcx_add_options() for s in specs)
    config = Config.resolve(flags, environ={}, cwd="/", extra_specs=specs)
    unit = SourceUnit("k.c", "")
    analysis = UnitAnalysis("k.c", unit.language, [FunctionAnalysis("f", 0, 1, nests)])
    return pm.hook.pcx_plan(unit=unit, analysis=analysis, config=config)


@pytest.mark.parametrize(
    "flags, expected",
    [
        ({}, Decision.OFFLOADED),  # names nothing by default
        ({"host-only": ["f"]}, Decision.SERIAL),  # a function
        ({"host-only": ["f:4"]}, Decision.SERIAL),  # one nest
        ({"host-only": ["g,f:5"]}, Decision.OFFLOADED),  # other names
    ],
)
def test_wrapper_demotes_the_named_nests_only(example_on_path, flags, expected):
    plan = _plan_with_plugin([_nest("f:4")], flags)
    (kernel,) = plan.kernels
    assert kernel.decision is expected
    ours = [r for r in kernel.remarks if "pcx-host-only plugin" in r.message]
    assert bool(ours) == (expected is Decision.SERIAL)
    if ours:
        assert ours[0].id == "PCX123" and (ours[0].line, ours[0].column) == (4, 3)


def test_wrapper_leaves_refused_nests_and_their_reasons_alone(example_on_path):
    plan = _plan_with_plugin([_nest("f:9", Decision.SERIAL)], {"host-only": ["f"]})
    (kernel,) = plan.kernels
    assert kernel.decision is Decision.SERIAL and kernel.remarks == []


def test_setting_comes_from_environment_and_pcx_toml(example_on_path, tmp_path):
    import pcx_host_only

    (spec,) = pcx_host_only.pcx_add_options()
    assert (spec.flag, spec.env) == ("--pcx-host-only", "PCX_HOST_ONLY")
    (tmp_path / "pcx.toml").write_text('[pcx]\nhost-only = ["smooth", "main:12"]\n')
    assert Config.resolve({}, environ={}, cwd=tmp_path, extra_specs=(spec,)).get("host-only") == ("smooth", "main:12")
    env = Config.resolve({}, environ={"PCX_HOST_ONLY": "a,b"}, cwd=tmp_path, extra_specs=(spec,))
    assert pcx_host_only.host_only(env) == ("a", "b")


# ------------------------------------------------------------------ 2. packaging


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The example installed with pip into a throwaway --target folder (no venv, no network)."""
    work = tmp_path_factory.mktemp("plugin-install")
    source = work / "src"
    # pip builds in the source folder (build/, *.egg-info): build from a copy, never the tree
    shutil.copytree(EXAMPLE, source)
    target = work / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    return target


def test_installed_distribution_declares_the_pcx_entry_point(installed):
    dists = [d for d in importlib.metadata.distributions(path=[str(installed)]) if d.metadata["Name"] == "pcx-host-only"]
    assert len(dists) == 1
    (ep,) = [ep for ep in dists[0].entry_points if ep.group == "pcx"]
    assert (ep.name, ep.value) == ("pcx_host_only", "pcx_host_only")
    assert (installed / "pcx_host_only.py").is_file()


def _pcx_plugins(env_path: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(env_path))
    env.pop("PCX_PLUGIN", None)
    proc = subprocess.run([str(BIN / "pcx"), "plugins", "--json", *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd=env_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_pcx_plugins_finds_the_installed_entry_point(installed):
    data = _pcx_plugins(installed)
    (ours,) = [p for p in data["plugins"] if p["name"] == "pcx_host_only"]
    assert ours["origin"] == "entry point pcx-host-only 0.1.0"
    assert {h["name"]: h["flags"] for h in ours["hooks"]} == {"pcx_add_options": [], "pcx_plan": ["wrapper"]}
    assert any(o.startswith("--pcx-host-only (PCX_HOST_ONLY") for o in ours["options"])
    assert data["errors"] == []


def test_pcx_plugins_names_the_command_line_as_origin():
    data = _pcx_plugins(EXAMPLE, "--plugin", "pcx_host_only")
    (ours,) = [p for p in data["plugins"] if p["name"] == "pcx_host_only"]
    assert ours["origin"] == "command line --plugin"


# ------------------------------------------------------------------ 3. a real build

# Five nests the engine offloads, kept on the device by one data region.  Named by
# --pcx-host-only=main:12, the third stays serial, and the planner must then copy data
# around the host loop.
REGION_PROGRAM = r"""#include <stdio.h>
#include <stdlib.h>
#define N 200000
#define M 1000

int main(void) {
  double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
  for (int i = 0; i < N; i++)
    x[i] = (i % 17) * 0.5;
  for (int i = 0; i < N; i++)
    y[i] = 2.0 * x[i];
  for (int i = 0; i < M; i++)
    y[i] += x[i + 1];
  for (int i = 0; i < N; i++)
    x[i] = y[i] + 1.0;
  double sum = 0;
  for (int i = 0; i < N; i++)
    sum += x[i] * (i % 5);
  printf("checksum %.6f\n", sum);
  free(x);
  free(y);
  return 0;
}
"""


def _decisions(report: object) -> list[dict]:
    """Every object in a pcx report that carries a loop nest ``decision``."""
    found: list[dict] = []
    if isinstance(report, dict):
        if "decision" in report:
            found.append(report)
        for value in report.values():
            found.extend(_decisions(value))
    elif isinstance(report, list):
        for value in report:
            found.extend(_decisions(value))
    return found


def _needs_driver() -> None:
    try:
        import pcx_driver.driver  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name == "pcx_driver.driver":
            pytest.skip("pcx_driver.driver is not written yet")
        raise


def _serial_output(tmp: Path) -> str:
    subprocess.run(["clang-19", "-O1", "prog.c", "-o", "serial", "-lm"], cwd=tmp, check=True, timeout=60)
    return subprocess.run([str(tmp / "serial")], capture_output=True, text=True, check=True, timeout=60).stdout


def _build_and_run(tmp: Path, name: str, extra: list[str], env_extra: dict[str, str]
                   ) -> tuple[dict[str, dict], str, int]:
    """pcx-cc build in static mode on the host device; run it the validation way.

    Returns the report's nests by line, the program's stdout and how many kernels it launched.
    """
    report = tmp / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env.update(env_extra)
    build = subprocess.run(
        [str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu",
         f"--pcx-report={report}", f"--pcx-emit={tmp / (name + '-emit')}", *extra, "-O2", "prog.c", "-o", name,
         "-lm"],
        cwd=tmp, capture_output=True, text=True, env=env, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert "warning" not in build.stderr, build.stderr  # no PCX001 fallback, no plugin load error
    run = subprocess.run([str(tmp / name)], cwd=tmp, capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, LIBOMPTARGET_INFO="16", **VALIDATION_ENV))
    assert run.returncode == 0, run.stderr
    nests = {int(d["line"]): d for d in _decisions(json.loads(report.read_text())) if "line" in d}
    return nests, run.stdout, run.stderr.count("Launching kernel")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, str, dict[str, dict]]:
    """PROGRAM built without the plugin: its scale_add nest (line 5) is offloaded."""
    _needs_driver()
    tmp = tmp_path_factory.mktemp("baseline")
    (tmp / "prog.c").write_text(PROGRAM)
    serial = _serial_output(tmp)
    nests, out, launches = _build_and_run(tmp, "plain", [], {})
    assert nests[5]["decision"] == "offloaded", nests
    assert out == serial and launches >= 1
    return tmp, serial, nests


def _plugin_reason(nest: dict) -> bool:
    return "pcx-host-only plugin" in json.dumps(nest)


@pytest.mark.parametrize("how", ["flag", "entry-point"])
def test_real_build_keeps_the_nest_serial_with_the_plugins_reason(baseline, how, request):
    tmp, serial, _ = baseline
    if how == "flag":
        extra, env = ["--pcx-plugin=pcx_host_only", "--pcx-host-only=scale_add,main"], {"PYTHONPATH": str(EXAMPLE)}
    else:  # no --pcx-plugin: pcx-cc finds the plugin through the installed entry point
        extra = ["--pcx-host-only=scale_add", "--pcx-host-only=main"]
        env = {"PYTHONPATH": str(request.getfixturevalue("installed"))}
    nests, out, launches = _build_and_run(tmp, f"demoted-{how}", extra, env)
    assert nests[5]["decision"] == "kept serial" and _plugin_reason(nests[5]), nests[5]
    assert all(n["decision"] == "kept serial" for n in nests.values())
    assert out == serial
    assert launches == 0


def test_demoting_one_kernel_of_a_data_region_stays_correct(tmp_path):
    """The plugin acts before the planner, so the data plan accounts for the host loop."""
    _needs_driver()
    (tmp_path / "prog.c").write_text(REGION_PROGRAM)
    serial = _serial_output(tmp_path)
    nests, out, launches = _build_and_run(tmp_path, "region", ["--pcx-plugin=pcx_host_only", "--pcx-host-only=main:12"],
                                          {"PYTHONPATH": str(EXAMPLE)})
    assert nests[12]["decision"] == "kept serial" and _plugin_reason(nests[12]), nests[12]
    offloaded = sorted(line for line, n in nests.items() if n["decision"] == "offloaded")
    assert offloaded == [8, 10, 14, 17], nests
    assert launches == 4
    assert out == serial


@pytest.mark.parametrize("where", ["environment", "pcx.toml"])
def test_installed_plugin_reads_its_setting_from_environment_and_pcx_toml(tmp_path, installed, where):
    """The names set without any flag; the remark quotes the name read."""
    _needs_driver()
    (tmp_path / "prog.c").write_text(PROGRAM)
    env = {"PYTHONPATH": str(installed)}
    if where == "environment":
        env["PCX_HOST_ONLY"] = "scale_add,main"
    else:
        (tmp_path / "pcx.toml").write_text('[pcx]\nhost-only = ["scale_add", "main"]\n')
    nests, _, launches = _build_and_run(tmp_path, "setting", [], env)
    assert nests[5]["decision"] == "kept serial" and _plugin_reason(nests[5]), nests[5]
    assert "--pcx-host-only names 'scale_add'" in json.dumps(nests[5]), nests[5]
    assert launches == 0
