"""The validated plan cache: keys, trust checks, atomic and concurrent writes."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import subprocess
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
    from_jsonable,
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


# ------------------------------------------------------------------------- real builds
#
# A cache entry is untrusted input (it can come with a cloned repository): whatever it
# says, the clauses a build compiles are those of a fresh analysis of the source, and a
# decision the analysis does not prove is dropped with one warning.

CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 is not installed")

PROG = """\
#include <stdio.h>

#define N 200000
static double a[N], b[N];

int main(void)
{
    double s = 0.0;
    for (int i = 0; i < N; i++)
        b[i] = i * 0.5;
    for (int i = 0; i < N; i++)
        a[i] = 2.0 * b[i] + 1.0;
    for (int i = 0; i < N; i++)
        s += a[i];
    for (int i = 1; i < N; i++)
        b[i] = b[i - 1] + a[i];
    printf("%.1f %.1f\\n", s, b[N - 1]);
    return 0;
}
"""
EXPECTED = "20000100000.0 20000099999.0\n"
INJECTED = '0:N]) map(tofrom: s)\n#include <stdlib.h>\nstatic int pcx_pwn = system("touch pwned");\n#pragma omp'
OFFLOAD_ENV = {"OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
               "MALLOC_PERTURB_": "165", "OMP_NUM_THREADS": "2", "LIBOMPTARGET_INFO": "16"}


def _run(argv, cwd, env, timeout=120):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def tuned(tmp_path, pcx_env):
    """A project with prog.c and the unit, plan and cache entry pcx tune would save (every
    nest the analysis proves offloaded), plus the rewrite a static build makes."""
    (tmp_path / "prog.c").write_text(PROG)
    (tmp_path / ".git").mkdir()  # the project root
    (tmp_path / ".pcx").mkdir()
    r = _run(["pcx-cc", "--pcx-record=rec", "--pcx-mode=static", "--pcx-emit=static", "-O1", "-c", "prog.c"],
             tmp_path, pcx_env)
    assert r.returncode == 0, r.stderr
    (record,) = (tmp_path / "rec").glob("*.json")
    doc = json.loads(record.read_text())
    unit = from_jsonable(SourceUnit, doc["unit"])
    plan = from_jsonable(Plan, doc["plan"])
    assert sorted(k.nest_id for k in plan.offloaded()) == ["main:11", "main:13", "main:9"]
    path = plancache.store(unit, plan, {}, Config(values={"plan-cache": str(tmp_path / ".pcx")}))
    assert path.parent == tmp_path / ".pcx" / "plans"
    return tmp_path, unit, plan, path, (tmp_path / "static" / "prog.c").read_text()


def _build(project, env, *extra):
    r = _run(["pcx-cc", "--pcx-emit=em", "--pcx-remarks", *extra, "-O1", "prog.c", "-o", "prog"], project, env)
    assert r.returncode == 0, r.stderr
    emitted = project / "em" / "prog.c"
    return r, emitted.read_text() if emitted.exists() else None


def _check_program(project):
    out = _run(["./prog"], project, {**os.environ, **OFFLOAD_ENV}, timeout=60)
    assert out.returncode == 0 and out.stdout == EXPECTED, out.stderr
    assert not (project / "pwned").exists()
    return out


def _old_format_entry(unit, plan, path, poison):
    """An entry of the first format (a whole plan, clause text included), poisoned."""
    doc = to_jsonable(plan)
    doc["origin"] = "validated"
    poison(doc)
    entry = {"format": "pcx-plan-cache/1", "key": plancache.plan_key(unit),
             "source": {"path": unit.path, "sha256": plancache.text_hash(unit)}, "plan": doc}
    path.write_text(json.dumps(entry))


def _kernel(doc, nest_id):
    return next(k for k in doc["kernels"] if k["nest_id"] == nest_id)


def _code_in_clause(doc):
    for k in doc["kernels"]:
        for m in k["maps"]:
            m["sections"][0]["dims"][0][1] = INJECTED
    for r in doc["regions"]:
        r["maps"][0]["sections"][0]["base"] = 'a[0:N]) \n#include <stdlib.h>\nint x = system("touch pwned");\n//'


def _dropped_reduction(doc):
    _kernel(doc, "main:13")["reductions"] = []


def _wrong_section(doc):
    for k in doc["kernels"]:
        for m in k["maps"]:
            for sec in m["sections"]:
                sec["dims"] = [["0", "1"]]
    for r in doc["regions"]:
        for m in r["maps"]:
            for sec in m["sections"]:
                sec["dims"] = [["0", "1"]]


@needs_clang
def test_a_tuned_entry_applies_the_fresh_analysis_clauses(tuned, pcx_env):
    project, unit, plan, path, static_text = tuned
    r, emitted = _build(project, pcx_env)
    assert "prog.c:1:1: remark: a cached validated plan was applied [PCX008]" in r.stderr
    assert "pcx-cc: warning" not in r.stderr
    assert emitted == static_text  # every nest of the static plan was decided "offload"
    out = _check_program(project)
    assert "Launching kernel" in out.stderr


@needs_clang
@pytest.mark.parametrize("poison", [_code_in_clause, _dropped_reduction, _wrong_section],
                         ids=["code-in-clause", "dropped-reduction", "wrong-section"])
def test_a_poisoned_old_format_entry_changes_nothing_in_the_build(tuned, pcx_env, poison):
    project, unit, plan, path, static_text = tuned
    _old_format_entry(unit, plan, path, poison)
    r, emitted = _build(project, pcx_env)
    assert "[PCX008]" in r.stderr and "pcx-cc: warning" not in r.stderr, r.stderr
    assert emitted == static_text  # the clauses come from the analysis, not the entry
    assert "system" not in emitted and "pwned" not in emitted
    _check_program(project)


@needs_clang
def test_a_cached_decision_the_analysis_does_not_prove_is_dropped_with_a_warning(tuned, pcx_env):
    project, unit, plan, path, static_text = tuned
    entry = json.loads(path.read_text())
    entry["decisions"]["kernels"].append({"nest_id": "main:15", "offload": True})  # a recurrence
    entry["decisions"]["kernels"].append({"nest_id": "main:99", "offload": True})  # no such nest
    entry["decisions"]["kernels"][0]["collapse"] = 3  # deeper than the nest
    path.write_text(json.dumps(entry))
    r, emitted = _build(project, pcx_env)
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("pcx-cc: warning:")]
    assert len(warnings) == 1, r.stderr
    assert "prog.c: cached plan decisions dropped" in warnings[0] and "[PCX307]" in warnings[0]
    assert "main:15 is not proved parallel" in warnings[0] and "'main:99' is not in this source" in warnings[0]
    assert "collapse(3)" in warnings[0]
    assert emitted == static_text  # the recurrence stays serial, the rest as analysed
    _check_program(project)


@needs_clang
def test_decisions_restrict_the_fresh_plan(tuned, pcx_env):
    """A nest pcx tune demoted stays serial with its reason; a region it dropped is not
    formed and its kernels map their own data; knobs are applied as numbers."""
    project, unit, plan, path, static_text = tuned
    entry = json.loads(path.read_text())
    kernels = {k["nest_id"]: k for k in entry["decisions"]["kernels"]}
    kernels["main:13"].update(offload=False, reason="failed the gate: output differs [PCX301]")
    kernels["main:9"].update(num_teams=128, thread_limit=64, simd=True)
    entry["decisions"]["regions"] = []
    path.write_text(json.dumps(entry))
    r, emitted = _build(project, pcx_env)
    assert "pcx-cc: warning" not in r.stderr, r.stderr
    assert "prog.c:13:5: remark: failed the gate: output differs [PCX301] [PCX305]" in r.stderr
    assert "target data" not in emitted and "reduction" not in emitted
    assert "num_teams(128)" in emitted and "thread_limit(64)" in emitted and " simd" in emitted
    assert "map(from: b[0:N])" in emitted
    _check_program(project)


@needs_clang
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_dev_zero_entry_does_not_hang_the_build(tuned, pcx_env, kind):
    project, unit, plan, path, static_text = tuned
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    r = _run(["pcx-cc", "-O1", "prog.c", "-o", "prog"], project, pcx_env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"pcx-cc: warning: prog\.c: cached plan \S+ is unreadable \(.*\); ignored \[PCX307\]\n",
                        r.stderr), r.stderr
    _check_program(project)
