"""The validated plan cache: keys, trust checks, atomic and concurrent writes."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from pcx_driver import plancache
from pcx_driver.config import Config
from pcx_driver.model import (
    DataRegion,
    Decision,
    KernelPlan,
    Language,
    MapClause,
    MapKind,
    Plan,
    Section,
    SourceUnit,
    to_jsonable,
)

SOURCE = """\
void scale(int n, double *a, const double *b) {
    for (int i = 0; i < n; i++)
        a[i] = 2.0 * b[i];
}
"""


def make_unit(directory: Path, text: str = SOURCE, args: list[str] | None = None) -> SourceUnit:
    return SourceUnit(path="scale.c", text=text, language=Language.C, directory=str(directory),
                      semantic_args=args or [])


def make_plan(unit: SourceUnit, origin: str = "static") -> Plan:
    start = unit.data.index(b"for")
    end = unit.data.index(b";\n}") + 1
    kernel = KernelPlan(
        nest_id="scale:2", function="scale", line=2, column=5, start_byte=start, end_byte=end,
        decision=Decision.OFFLOADED,
        maps=[MapClause(MapKind.TO, [Section("b", [("0", "n")])]),
              MapClause(MapKind.FROM, [Section("a", [("0", "n")])])],
        num_teams=64, simd=True,
    )
    return Plan(path=unit.path, kernels=[kernel], origin=origin)


def config_for(cache: Path | None, cwd: Path) -> Config:
    flags = {"plan-cache": [str(cache)]} if cache is not None else {}
    return Config.resolve(flags, environ={}, cwd=cwd)


def test_store_keeps_decisions_only_and_lookup_round_trips_them(tmp_path):
    unit = make_unit(tmp_path)
    config = config_for(tmp_path / "cache", tmp_path)
    path = plancache.store(unit, make_plan(unit), {"speedup": 3.5}, config)
    assert path == tmp_path / "cache" / "plans" / f"{plancache.plan_key(unit)}.json"
    entry = json.loads(path.read_text())
    assert entry["format"] == plancache.FORMAT
    assert entry["measurements"] == {"speedup": 3.5}
    assert "plan" not in entry and "map" not in path.read_text()  # no clause text is stored
    got = plancache.lookup(unit, config)
    assert got is not None and got.origin == "validated"
    assert got.kernels == [plancache.KernelDecision("scale:2", True, collapse=1, num_teams=64, simd=True)]
    assert got.offloaded() == ["scale:2"]


def test_cache_dir_is_found_upward_and_defaults_to_none(tmp_path):
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    assert plancache.cache_dir(config_for(None, sub), sub) is None
    (tmp_path / ".pcx").mkdir()
    assert plancache.cache_dir(config_for(None, sub), sub) == (tmp_path / ".pcx").resolve()
    assert plancache.cache_dir(config_for(Path("elsewhere"), sub), sub) == (sub / "elsewhere").resolve()


def test_the_upward_search_stops_at_the_project_root(tmp_path):
    """A .pcx above the directory holding .git, or above the pcx.toml in force, is another
    project's (or a shared directory's): never used."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (tmp_path / ".pcx").mkdir()
    assert plancache.cache_dir(config_for(None, project / "src"), project / "src") == (tmp_path / ".pcx").resolve()
    (project / ".git").mkdir()
    assert plancache.cache_dir(config_for(None, project / "src"), project / "src") is None
    (project / ".git").rmdir()
    (project / "pcx.toml").write_text("mode = 'static'\n")
    assert plancache.cache_dir(config_for(None, project / "src"), project / "src") is None
    (project / ".pcx").mkdir()
    assert plancache.cache_dir(config_for(None, project / "src"), project / "src") == (project / ".pcx").resolve()


def test_a_dot_pcx_others_may_write_or_a_symlink_is_ignored(tmp_path):
    sub = tmp_path / "src"
    sub.mkdir()
    (tmp_path / ".pcx").mkdir()
    (tmp_path / ".pcx").chmod(0o777)  # world-writable: anybody could have planted entries
    assert plancache.cache_dir(config_for(None, sub), sub) is None
    (tmp_path / ".pcx").chmod(0o755)
    assert plancache.cache_dir(config_for(None, sub), sub) == (tmp_path / ".pcx").resolve()
    (tmp_path / "elsewhere").mkdir()
    (sub / ".pcx").symlink_to(tmp_path / "elsewhere")
    assert plancache.cache_dir(config_for(None, sub), sub) == (tmp_path / ".pcx").resolve()


def test_store_creates_dot_pcx_in_the_unit_directory_when_none_exists(tmp_path):
    unit = make_unit(tmp_path)
    path = plancache.store(unit, make_plan(unit), {}, config_for(None, tmp_path))
    assert path.parent == (tmp_path / ".pcx" / "plans").resolve()
    assert plancache.lookup(unit, config_for(None, tmp_path)) is not None


@pytest.mark.parametrize(
    "change",
    [
        lambda u: SourceUnit(u.path, u.text.replace("2.0", "3.0"), u.language, u.directory),
        lambda u: SourceUnit(u.path, u.text, Language.CXX, u.directory),
        lambda u: SourceUnit(u.path, u.text, u.language, u.directory, ["-DN=4"]),
    ],
    ids=["text", "language", "flags"],
)
def test_key_depends_on_text_language_and_flags_but_not_the_path(tmp_path, change):
    unit = make_unit(tmp_path)
    assert plancache.plan_key(change(unit)) != plancache.plan_key(unit)
    moved = SourceUnit("other/dir/scale.c", unit.text, unit.language, "/elsewhere")
    assert plancache.plan_key(moved) == plancache.plan_key(unit)


def test_missing_entry_is_silent(tmp_path, capsys):
    unit = make_unit(tmp_path)
    assert plancache.lookup(unit, config_for(tmp_path / "cache", tmp_path)) is None
    assert capsys.readouterr().err == ""


def _corrupt(kind: str, path: Path, unit: SourceUnit) -> None:
    entry = json.loads(path.read_text())
    kernel = entry["decisions"]["kernels"][0]
    if kind == "truncated":
        path.write_text(path.read_text()[:50])
        return
    if kind == "not-json":
        path.write_bytes(b"\xff\xfe garbage")
        return
    if kind == "format":
        entry["format"] = "someone-else/9"
    elif kind == "key":
        entry["key"] = "0" * 64
    elif kind == "text":
        entry["source"]["sha256"] = "1" * 64
    elif kind == "knob-text":  # a clause smuggled in where a number belongs
        kernel["num_teams"] = "64) map(tofrom: secret[0:1])\n#include </etc/passwd>"
    elif kind == "knob-range":
        kernel["thread_limit"] = -1
    elif kind == "knob-bool":
        kernel["collapse"] = True
    elif kind == "offload":
        kernel["offload"] = "yes"
    elif kind == "nest-id":
        kernel["nest_id"] = {"x": 1}
    elif kind == "shape":
        entry["decisions"]["kernels"] = [{"nest_id": 3}]
    elif kind == "deep":
        path.write_text(json.dumps(entry)[:-1] + ', "x": ' + "[" * 100000 + "]" * 100000 + "}")
        return
    elif kind == "list":
        entry = [1, 2, 3]
    path.write_text(json.dumps(entry))


@pytest.mark.parametrize(
    "kind", ["truncated", "not-json", "format", "key", "text", "knob-text", "knob-range", "knob-bool", "offload",
             "nest-id", "shape", "deep", "list"]
)
def test_corrupt_or_foreign_entries_are_ignored_with_pcx307(tmp_path, capsys, kind):
    unit = make_unit(tmp_path)
    config = config_for(tmp_path / "cache", tmp_path)
    path = plancache.store(unit, make_plan(unit), {}, config)
    _corrupt(kind, path, unit)
    assert plancache.lookup(unit, config) is None
    err = capsys.readouterr().err
    assert "[PCX307]" in err and "warning:" in err and "scale.c" in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "symlink", "huge"])
def test_an_entry_that_is_not_a_small_regular_file_is_refused_without_blocking(tmp_path, capsys, kind):
    unit = make_unit(tmp_path)
    config = config_for(tmp_path / "cache", tmp_path)
    path = plancache.store(unit, make_plan(unit), {}, config)
    real = path.read_text()
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")  # reading it would never end
    elif kind == "symlink":
        (tmp_path / "real.json").write_text(real)
        path.symlink_to(tmp_path / "real.json")
    else:
        path.write_text(real[:-2] + ', "pad": "' + "x" * (plancache.MAX_ENTRY_BYTES + 1) + '"}')
    assert plancache.lookup(unit, config) is None
    err = capsys.readouterr().err
    assert "[PCX307]" in err and "unreadable" in err, err


def test_an_entry_copied_under_another_sources_key_is_foreign(tmp_path, capsys):
    unit = make_unit(tmp_path)
    other = make_unit(tmp_path, SOURCE.replace("2.0", "4.0"))
    config = config_for(tmp_path / "cache", tmp_path)
    path = plancache.store(unit, make_plan(unit), {}, config)
    path.rename(path.with_name(plancache.plan_key(other) + ".json"))
    assert plancache.lookup(other, config) is None
    assert "PCX307" in capsys.readouterr().err


def test_store_replaces_atomically_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    unit = make_unit(tmp_path)
    config = config_for(tmp_path / "cache", tmp_path)
    path = plancache.store(unit, make_plan(unit), {"run": 1}, config)
    before = path.read_text()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    # a failure half way through must leave the old entry intact and no temporary behind
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        plancache.store(unit, make_plan(unit), {"run": 2}, config)
    monkeypatch.undo()
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([".lock", path.name])
    plancache.store(unit, make_plan(unit), {"run": 3}, config)
    assert json.loads(path.read_text())["measurements"] == {"run": 3}


def _writer(args: tuple[str, int, int]) -> int:
    directory, worker, rounds = args
    config = config_for(Path(directory) / "cache", Path(directory))
    for r in range(rounds):
        # half the writers share one key, half write their own source
        text = SOURCE if worker % 2 == 0 else SOURCE.replace("2.0", f"{worker}.0")
        u = make_unit(Path(directory), text)
        plancache.store(u, make_plan(u), {"worker": worker, "round": r, "pad": "x" * 20000}, config)
    return worker


def _reader(args: tuple[str, int]) -> int:
    directory, rounds = args
    unit = make_unit(Path(directory))
    config = config_for(Path(directory) / "cache", Path(directory))
    seen = 0
    for _ in range(rounds):
        plan = plancache.lookup(unit, config)
        if plan is not None:
            assert plan.kernels[0].nest_id == "scale:2"
            seen += 1
    return seen


def test_concurrent_writers_and_readers_never_see_a_partial_entry(tmp_path, capfd):
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(6) as pool:
        writers = pool.map_async(_writer, [(str(tmp_path), w, 15) for w in range(4)])
        readers = pool.map_async(_reader, [(str(tmp_path), 60) for _ in range(2)])
        assert sorted(writers.get(timeout=60)) == [0, 1, 2, 3]
        readers.get(timeout=60)
    assert "PCX307" not in capfd.readouterr().err  # no reader ever saw half an entry
    plans = tmp_path / "cache" / "plans"
    assert sorted(p.name for p in plans.iterdir() if p.name.endswith(".tmp")) == []
    assert len(list(plans.glob("*.json"))) == 3  # the shared key plus workers 1 and 3
    for path in plans.glob("*.json"):
        assert json.loads(path.read_text())["measurements"]["round"] == 14


def test_data_regions_round_trip_by_nest_identity(tmp_path):
    unit = make_unit(tmp_path)
    plan = make_plan(unit)
    k = plan.kernels[0]
    plan.regions = [DataRegion("scale", k.start_byte, k.end_byte, 2,
                               [MapClause(MapKind.TOFROM, [Section("a", [("0", "n")])])], kernels=[k.nest_id])]
    config = config_for(tmp_path / "cache", tmp_path)
    plancache.store(unit, plan, {}, config)
    got = plancache.lookup(unit, config)
    assert got is not None and got.regions == [plancache.RegionDecision("scale", ["scale:2"])]
