"""Entry-point plugins are found without importlib.metadata, with the same answer.

``pcx_driver.plugins.declared_entry_points`` reads the ``entry_points.txt`` files beside
``sys.path`` itself (importlib.metadata costs a compile ~0.1 s of imports); each test
here holds it to what ``importlib.metadata.distributions()`` says on the same path, on
real installed distributions and on metadata folders laid out as installers leave them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pcx_driver import plugins

BIN = Path(sys.executable).parent


def metadata_answer(group: str, path: list[str]) -> list[tuple[str, str]]:
    return [(ep.name, ep.value) for d in importlib.metadata.distributions(path=path)
            for ep in d.entry_points if ep.group == group]


def write_dist(site: Path, folder: str, entry_points: str | None) -> None:
    d = site / folder
    d.mkdir(parents=True)
    name, _, version = folder.rpartition(".")[0].partition("-")
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version or '0'}\n")
    if entry_points is not None:
        (d / "entry_points.txt").write_text(entry_points)


# (folder, entry_points.txt): what pip, setuptools' develop mode and old eggs leave behind
LAYOUT = [
    ("zeta_plugin-1.0.dist-info", "[pcx]\nzeta = zeta_plugin\n"),
    ("Alpha.Plugin-2.0.dist-info", "# comment\n\n[console_scripts]\nalpha = alpha:main\n\n[pcx]\n"
                                    "  alpha = alpha.hooks : impl [extra]\nalpha_two=alpha.two\n"),
    ("no_entry_points-1.0.dist-info", None),
    ("develop_mode.egg-info", "[pcx]\ndevelop = develop_mode.plugin:hooks.impl\n"),
    ("alpha_plugin-1.5.dist-info", "[pcx]\nalpha = alpha_again\n"),  # same project name: grouped
    ("other-1.0.dist-info", "[pytest11]\nother = other.plugin\n"),
]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    for folder, text in LAYOUT:
        write_dist(site, folder, text)
    (site / "single_file.egg-info").write_text("Metadata-Version: 1.0\nName: single-file\n")
    egg = tmp_path / "old-0.1.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    (egg / "EGG-INFO" / "entry_points.txt").write_text("[pcx]\nold = old_egg\n")
    return site


@pytest.mark.parametrize("group", ["pcx", "console_scripts", "pytest11", "absent"])
def test_the_same_entry_points_in_the_same_order_as_importlib_metadata(site, group):
    path = [str(site), str(site.parent / "old-0.1.egg"), str(site.parent / "missing"), str(site)]
    ours = plugins.declared_entry_points(group, path)
    assert ours == metadata_answer(group, path)
    if group == "pcx":  # the fixture is not vacuous: duplicates, grouping, the egg
        assert [n for n, _ in ours].count("alpha") == 4 and ("old", "old_egg") in ours


def test_the_running_interpreters_path_gives_the_same_answer():
    for group in ("pcx", "console_scripts", "pytest11"):
        assert plugins.declared_entry_points(group) == metadata_answer(group, sys.path)


def test_a_line_importlib_metadata_rejects_is_left_to_it(site):
    write_dist(site, "broken-1.0.dist-info", "[other_group]\nno equals sign here\n")
    with pytest.raises(TypeError):
        metadata_answer("pcx", [str(site)])
    assert plugins.declared_entry_points("pcx", [str(site)]) is None


def test_a_value_importlib_metadata_cannot_load_is_left_to_it(site):
    write_dist(site, "odd-1.0.dist-info", "[pcx]\nodd = not a module path\n")
    assert plugins.declared_entry_points("pcx", [str(site)]) is None


def test_a_zip_archive_on_the_path_is_left_to_importlib_metadata(tmp_path):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        z.writestr("zipped-1.0.dist-info/entry_points.txt", "[pcx]\nzipped = zipped\n")
    assert metadata_answer("pcx", [str(archive)]) == [("zipped", "zipped")]
    assert plugins.declared_entry_points("pcx", [str(archive)]) is None


def test_both_loaders_register_the_same_plugins_in_the_same_order(site, monkeypatch):
    # real modules for three of the entry points, one of them an attribute path
    modules = site / "modules"
    (modules / "develop_mode").mkdir(parents=True)
    (modules / "zeta_plugin.py").write_text("from pcx_driver import hookimpl\n\n@hookimpl\n"
                                            "def pcx_add_options():\n    return []\n")
    (modules / "old_egg.py").write_text("")
    (modules / "develop_mode" / "__init__.py").write_text("")
    (modules / "develop_mode" / "plugin.py").write_text("class hooks:\n    class impl:\n        pass\n")
    for folder, text in LAYOUT:
        if "alpha" in folder.lower() or folder.startswith("other"):
            shutil.rmtree(site / folder)
    monkeypatch.syspath_prepend(str(modules))
    monkeypatch.syspath_prepend(str(site.parent / "old-0.1.egg"))
    monkeypatch.syspath_prepend(str(site))
    fast, errors = plugins.make_plugin_manager()
    assert errors == []
    full, errors = plugins.make_plugin_manager(distributions=True)
    assert errors == []
    names = [n for n, _ in fast.list_name_plugin()]
    assert names == [n for n, _ in full.list_name_plugin()]
    assert {"zeta", "develop", "old"} <= set(names)
    assert fast.get_plugin("develop").__qualname__ == "hooks.impl"


def test_a_plugin_that_fails_to_import_is_one_error_either_way(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))  # zeta_plugin, alpha ... are not importable here
    for distributions in (False, True):
        _, errors = plugins.make_plugin_manager(distributions=distributions)
        assert [e.name for e in errors] == ["entry points"]
        assert "ModuleNotFoundError" in errors[0].message


def test_a_static_compile_imports_neither_importlib_metadata_nor_the_llm_client(tmp_path):
    """The lazy imports hold through a real compile: a loop-free source needs no isl (and
    so no importlib.metadata), and the LLM plugin, off by default, loads only its
    settings.  The names each compile imported come back from the driver's child."""
    (tmp_path / "f.c").write_text("int add(int a, int b) { return a + b; }\n")
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import atexit, json, os, sys\n"
        "from pcx_driver.driver import main_cc\n"
        "atexit.register(lambda: open(os.environ['PROBE_OUT'], 'w').write(json.dumps(sorted(sys.modules))))\n"
        "os.execve = lambda *a: (_ for _ in ()).throw(SystemExit(__import__('subprocess').call(a[1], env=a[2])))\n"
        "sys.argv = ['pcx-cc', '-c', 'f.c', '-o', 'f.o']\n"
        "sys.exit(main_cc())\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    # no budget: the analysis runs in this process, not in a forked child
    env.update(PCX_MODE="static", PCX_ANALYSIS_BUDGET="0", PCX_ANALYSIS_MEMORY="0", PROBE_OUT=str(tmp_path / "modules.json"))
    proc = subprocess.run([sys.executable, str(probe)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "f.o").is_file()
    modules = set(json.loads((tmp_path / "modules.json").read_text()))
    assert "pcx_driver.stages.planner" in modules  # the pipeline ran
    assert not modules & {"importlib.metadata", "islpy", "pcx_llm.agent", "pcx_llm.client", "openai",
                          "rich", "click"}
    try:
        importlib.metadata.distribution("pcx-llm")
    except importlib.metadata.PackageNotFoundError:
        return
    assert "pcx_llm.plugin" in modules  # installed: registered (its settings), not used
