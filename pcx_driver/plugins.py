"""Loading plugins: the defaults, the ``pcx`` entry-point group, and ``--pcx-plugin``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pluggy

from pcx_driver import hookspecs

#: The built-in stages, registered like any third-party plugin.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "pcx_driver.stages.planner",
    "pcx_driver.stages.rewriter",
    "pcx_driver.stages.validator",
    "pcx_driver.stages.profiler",
)


@dataclass
class PluginLoadError:
    name: str
    message: str


def make_plugin_manager(
    extra: tuple[str, ...] = (), entry_points: bool = True
) -> tuple[pluggy.PluginManager, list[PluginLoadError]]:
    """A plugin manager with the defaults, entry-point plugins and ``extra`` modules.

    A plugin that fails to import is skipped and reported, never fatal.
    """
    pm = pluggy.PluginManager("pcx")
    pm.add_hookspecs(hookspecs)
    errors: list[PluginLoadError] = []
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        try:
            pm.load_setuptools_entrypoints("pcx")
        except Exception as exc:  # a broken third-party distribution must not break builds
            errors.append(PluginLoadError("entry points", f"{type(exc).__name__}: {exc}"))
    for name in extra:
        if pm.has_plugin(name):
            continue
        try:
            pm.register(importlib.import_module(name), name=name)
        except Exception as exc:
            errors.append(PluginLoadError(name, f"{type(exc).__name__}: {exc}"))
    return pm, errors
