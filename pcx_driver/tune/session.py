"""One tune's surroundings: its options, run directory, scratch copies, plugins and result.

Every step of ``flow.Tuner`` (and the LLM step) gets the same ``TuneSession`` and reads
what it needs from it: the options as given, the run directory ``.pcx/runs/<id>/``, the
workspace that builds and runs scratch copies, the plugin manager and configuration the
gate asks, the environment every build starts from, and the result being filled in.
"""

from __future__ import annotations

import datetime
import importlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcx_driver import hookimpl
from pcx_driver.config import Config
from pcx_driver.model import GateVerdict, RunOutput
from pcx_driver.tune.results import TuneResult
from pcx_driver.tune.runs import BuildResult, RunSpec, TuneError, UsageError, Workspace, pcx_compilers


@dataclass
class TuneOptions:
    project: Path
    build: tuple[str, ...]
    runs: list[RunSpec]
    outputs: tuple[str, ...] = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    timeout: float = 120.0
    budget: int = 6
    run_prefix: tuple[str, ...] = ()
    repeats: int = 3
    min_share: float = 0.01
    plugins: tuple[str, ...] = ()
    keep_trees: bool = False
    refine: bool = True
    gate_repeats: int = 2  # gate runs per command, with 2, 3, ... threads (races need overlap)
    ignore: tuple[str, ...] = ()  # --ignore regular expressions (pcx.toml ``ignore`` adds to them)
    ignore_timings: bool = True  # mask timings in the compared output (gate.timing_positions)
    keep_slower: bool = False  # keep kernels (and plans) measured slower than the serial code
    config_values: dict[str, Any] = field(default_factory=dict)  # e.g. the LLM settings


class Progress:
    """What the tuner tells the person watching (the CLI gives a rich implementation)."""

    def step(self, title: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def note(self, message: str) -> None: ...
    def done(self) -> None: ...


class TuneSession:
    """The fixed surroundings of one tune, shared by its steps."""

    def __init__(self, options: TuneOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress or Progress()
        self.project = options.project.resolve()
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.run_id = f"{stamp}-{secrets.token_hex(2)}"
        self.run_dir = self.project / ".pcx" / "runs" / self.run_id
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.ws = Workspace(self.project, self.run_dir, options.build, options.outputs, options.timeout,
                            keep_trees=options.keep_trees)
        self.pm = plugin_manager(options)
        specs = tuple(s for specs in self.pm.hook.pcx_add_options() if specs for s in specs)
        self.config = Config.resolve({}, environ=os.environ, cwd=self.project, extra_specs=specs)
        for line in self.config.warnings():  # e.g. llm-base-url from an untrusted pcx.toml
            self.progress.note(f"warning: {line}")
        self.config.values.update({"rtol": options.rtol, "atol": options.atol})
        self.config.values.update(options.config_values)
        self.cc, self.cxx = pcx_compilers()
        #: where the candidate builds find their plans (rewritten before each build)
        self.scratch_cache = self.run_dir / "candidate-cache"
        self.result = TuneResult(self.run_id, str(self.run_dir), "failed")
        self.ignore_patterns = tuple(dict.fromkeys([*(self.config.get("ignore") or ()), *options.ignore]))
        self._counter = 0

    def base_env(self) -> dict[str, str]:
        """The environment every build starts from."""
        # settings a user's shell may carry that would change what a step builds
        env = {"CC": self.cc, "CXX": self.cxx, "PCX_INSTRUMENT": "0", "PCX_RECORD": "", "PCX_STRICT": "0",
               "PCX_TRUST_PRAGMAS": "0"}
        names = plugin_names(self.options)
        if names:
            env["PCX_PLUGIN"] = ",".join(names)  # the builds load what the gate loads
        return env

    def next_label(self, what: str) -> str:
        """A fresh step directory name, numbered in the order the builds happen."""
        self._counter += 1
        return f"{self._counter:02d}-{what}"

    def build(self, step: str, env: dict[str, str], prepare=None) -> BuildResult:
        """Build a scratch copy of the project (``Workspace.build``), counted in the result."""
        build = self.ws.build(step, env, prepare=prepare)
        self.result.builds += 1
        return build


def plugin_manager(options: TuneOptions) -> Any:
    """Defaults and entry points, then this tune's tolerances, then --plugin modules.

    pluggy asks the last registered first: a user's pcx_compare still wins, and ours
    answers before the default validator (which does not know --rtol/--atol).
    """
    from pcx_driver.plugins import make_plugin_manager

    pm, errors = make_plugin_manager(())
    for e in errors:
        raise TuneError(f"plugin {e.name} failed to load: {e.message}")
    pm.register(_Tolerances(options.rtol, options.atol), name="pcx-tune-tolerances")
    for name in plugin_names(options):
        if pm.has_plugin(name):
            continue
        try:
            pm.register(importlib.import_module(name), name=name)
        except Exception as exc:  # a user's plugin: report it, never a traceback
            raise UsageError(f"plugin {name} failed to load: {type(exc).__name__}: {exc}") from None
    return pm


def plugin_names(options: TuneOptions) -> list[str]:
    """PCX_PLUGIN from the environment, then --plugin, each once."""
    names = [n for n in os.environ.get("PCX_PLUGIN", "").split(",") if n] + list(options.plugins)
    return list(dict.fromkeys(names))


class _Tolerances:
    """The run-time gate with this tune's --rtol/--atol."""

    def __init__(self, rtol: float, atol: float) -> None:
        self.rtol, self.atol = rtol, atol

    @hookimpl
    def pcx_compare(self, reference: RunOutput, candidate: RunOutput, config: Any) -> GateVerdict:
        from pcx_driver.gate import compare_runs

        return compare_runs(reference, candidate, self.rtol, self.atol, stderr=True)
