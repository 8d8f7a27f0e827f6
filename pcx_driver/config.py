"""Settings: every ``--pcx-NAME=V`` flag also reads ``PCX_NAME`` and pcx.toml.

Precedence is flag > environment > pcx.toml (found upward from the working directory) >
default.  The built-in settings are one table, ``BUILTIN_OPTIONS``; plugins add theirs
through the ``pcx_add_options`` hook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# Loaded on every compile: tomllib (only with a pcx.toml), pathlib and typing (annotations
# only) stay out of the start-up, ~15 ms of it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping


@dataclass(frozen=True)
class OptionSpec:
    name: str  # "offload-target" -> --pcx-offload-target, PCX_OFFLOAD_TARGET, offload-target
    default: Any
    help: str
    kind: str = "str"  # "str", "bool", "int", "float", "list" (repeatable, comma-separated)
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return f"--pcx-{self.name}"

    @property
    def env(self) -> str:
        return "PCX_" + self.name.upper().replace("-", "_")


BUILTIN_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("cc", None, "the real C compiler (default: clang-19, clang, gcc on PATH)"),
    OptionSpec("config", None, "path of a pcx.toml to use instead of searching upward"),
    OptionSpec("cxx", None, "the real C++ compiler (default: clang++-19, clang++, g++ on PATH)"),
    OptionSpec("emit", None, "directory where each rewritten source is kept"),
    OptionSpec("instrument", False, "compile with per-nest timing instead of offloading (pcx tune's "
               "hotspot build)", "bool"),
    OptionSpec("max-source-bytes", 8_000_000, "sources larger than this are compiled unchanged", "int"),
    OptionSpec("mode", "validated", "which plans a build applies: validated (gate-passed, from "
               "the plan cache), static (every plan the analysis proves), off", "str",
               ("validated", "static", "off")),
    OptionSpec("offload-arch", None, "GPU architecture (default sm_90 for nvptx, gfx90a for amdgcn)"),
    OptionSpec("offload-target", None, "nvptx64-nvidia-cuda, amdgcn-amd-amdhsa, x86_64-pc-linux-gnu "
               "(the host device) or none (pass-through); default: the GPU present, else the host device",
               "str", ("nvptx64-nvidia-cuda", "amdgcn-amd-amdhsa", "x86_64-pc-linux-gnu", "none")),
    OptionSpec("plan-cache", None, "directory of the validated plan cache (default: .pcx/ upward)"),
    OptionSpec("plugin", (), "extra plugin module to load (repeatable)", "list"),
    OptionSpec("record", None, "directory where each compile writes its SourceUnit, analysis and plan "
               "as JSON (pcx tune reads them)"),
    OptionSpec("remarks", False, "print clang-style remarks for every loop nest", "bool"),
    OptionSpec("report", None, "write a JSON report of every loop nest to this file"),
    OptionSpec("strict", False, "fail the compile on an internal pcx error instead of falling back", "bool"),
)


class ConfigError(ValueError):
    """A setting has a value it cannot take (the message names the setting and source)."""


def _convert(spec: OptionSpec, value: Any, source: str) -> Any:
    if value is None:
        return None
    try:
        if spec.kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on", ""):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if spec.kind == "int":
            return int(value)
        if spec.kind == "float":
            return float(value)
        if spec.kind == "list":
            if isinstance(value, (list, tuple)):
                return tuple(str(v) for v in value)
            return tuple(v for v in str(value).split(",") if v)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: invalid value {value!r} for {spec.name} ({spec.kind} expected)") from None
    value = str(value)
    if spec.choices and value not in spec.choices:
        raise ConfigError(f"{source}: invalid value {value!r} for {spec.name}; choose from {', '.join(spec.choices)}")
    return value


def find_config_file(start: str | os.PathLike[str]) -> str | None:
    """The nearest pcx.toml in ``start`` or a parent directory."""
    here = os.path.realpath(start)
    while True:
        candidate = os.path.join(here, "pcx.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def config_file_table(flags: Mapping[str, list[str]], environ: Mapping[str, str],
                      cwd: str | os.PathLike[str]) -> tuple[str | None, dict[str, Any]]:
    """The pcx.toml in force (``--pcx-config``, ``PCX_CONFIG``, else the nearest one) and
    its settings table (``[pcx]``, or the top level); (None, {}) when there is none."""
    explicit = (flags.get("config") or [None])[-1] or environ.get("PCX_CONFIG")
    file_path = explicit or find_config_file(cwd)
    if file_path is None:
        return None, {}
    import tomllib

    try:
        with open(file_path, encoding="utf-8") as f:
            raw = tomllib.loads(f.read())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file_path}: cannot read pcx configuration: {exc}") from None
    return file_path, raw.get("pcx", raw)


@dataclass
class Config:
    """Resolved settings, each with the place its value came from."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # "flag", "env", "pcx.toml path", "default"
    specs: dict[str, OptionSpec] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"unknown pcx setting {name!r}")
        return self.values[name]

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, list[str]],
        environ: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] = ".",
        extra_specs: tuple[OptionSpec, ...] = (),
    ) -> "Config":
        """Resolve every known setting. ``flags`` maps setting name to the values given."""
        environ = os.environ if environ is None else environ
        specs = {s.name: s for s in (*BUILTIN_OPTIONS, *extra_specs)}
        for name in flags:
            if name not in specs:
                raise ConfigError(f"unknown option --pcx-{name} (see `pcx options`)")
        file_values: dict[str, Any] = {}
        file_path, table = config_file_table(flags, environ, cwd)
        if file_path is not None:
            for key, value in table.items():
                name = key.replace("_", "-")
                if name not in specs:
                    raise ConfigError(f"{file_path}: unknown setting {key!r}")
                file_values[name] = value
        config = cls(specs=specs)
        for name, spec in specs.items():
            if name in flags:
                given = flags[name]
                value = tuple(v for g in given for v in g.split(",") if v) if spec.kind == "list" else given[-1]
                source = f"flag {spec.flag}"
            elif spec.env in environ:
                value, source = environ[spec.env], f"environment {spec.env}"
            elif name in file_values:
                value, source = file_values[name], str(file_path)
            else:
                value, source = spec.default, "default"
            config.values[name] = _convert(spec, value, source) if source != "default" else value
            config.sources[name] = source
        return config
