"""Loading plugins: the defaults, the ``pcx`` entry-point group, and ``--pcx-plugin``."""

from __future__ import annotations

import importlib
import os
import re
import sys
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


#: The entry-point group third-party plugins are installed under.
GROUP = "pcx"


def make_plugin_manager(
    extra: tuple[str, ...] = (), entry_points: bool = True, distributions: bool = False
) -> tuple[pluggy.PluginManager, list[PluginLoadError]]:
    """A plugin manager with the defaults, entry-point plugins and ``extra`` modules.

    Entry points are read by ``declared_entry_points``, which costs a directory listing
    per ``sys.path`` entry; ``distributions=True`` loads them through
    ``importlib.metadata`` instead (pluggy's ``load_setuptools_entrypoints``), which also
    records each plugin's distribution (``pm.list_plugin_distinfo()``, shown by ``pcx
    plugins``) but costs a compile ~0.1 s of imports.  Both load the same plugins in the
    same order.  A plugin that fails to import is skipped and reported, never fatal.
    """
    pm = pluggy.PluginManager("pcx")
    pm.add_hookspecs(hookspecs)
    errors: list[PluginLoadError] = []
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        try:
            declared = None if distributions else declared_entry_points(GROUP)
            if declared is None:
                pm.load_setuptools_entrypoints(GROUP)
            else:
                _load_entry_points(pm, declared)
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


# ------------------------------------------------------------------ entry points, cheaply
#
# ``importlib.metadata`` costs a compile about 0.1 s (it imports email, zipfile, csv and
# more, then reads every distribution's metadata).  A build only needs the ``pcx`` lines
# of the ``entry_points.txt`` files beside ``sys.path``, so they are read here, the way
# ``importlib.metadata.distributions()`` finds them (Python 3.11's MetadataPathFinder):
# each ``sys.path`` entry in order (``''`` is the working directory), its ``*.dist-info``
# and ``*.egg-info`` children grouped by normalised project name in listing order, then an
# ``.egg`` directory's ``EGG-INFO``.  Anything this reader does not handle exactly
# (another finder that supplies distributions, a zip file on the path, a line the
# standard parser would reject) answers None, and importlib.metadata decides.

#: ``importlib.metadata.EntryPoint.pattern``: ``module[:attr][ [extras]]``.
_ENTRY_POINT = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def declared_entry_points(group: str, path: list[str] | None = None) -> list[tuple[str, str]] | None:
    """``(name, value)`` of every entry point in ``group`` of the distributions on
    ``path`` (default ``sys.path``), in the order ``importlib.metadata.distributions()``
    yields them, duplicates included; None when only importlib.metadata can say."""
    import importlib.machinery

    if any(getattr(f, "find_distributions", None) is not None and f is not importlib.machinery.PathFinder
           for f in sys.meta_path):
        return None
    found: list[tuple[str, str]] = []
    for entry in sys.path if path is None else path:
        if not isinstance(entry, str):
            return None
        try:
            children = os.listdir(entry or ".")
        except OSError:
            if os.path.isfile(entry or "."):
                return None  # a zip archive: importlib.metadata reads inside it
            continue
        for meta in _metadata_dirs(entry, children):
            try:
                with open(os.path.join(meta, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
                continue
            pairs = _group_pairs(text, group)
            if pairs is None:
                return None
            found += pairs
    return found


def _metadata_dirs(entry: str, children: list[str]) -> list[str]:
    """The metadata directories of one path entry, in importlib.metadata's order."""
    infos: dict[str, list[str]] = {}
    eggs: list[str] = []
    base_is_egg = os.path.basename(entry).lower().endswith(".egg")
    for child in children:
        low = child.lower()
        if low.endswith((".dist-info", ".egg-info")):
            name = low.rpartition(".")[0].partition("-")[0]
            normalized = re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")
            infos.setdefault(normalized, []).append(os.path.join(entry, child))
        elif base_is_egg and low == "egg-info":
            eggs.append(os.path.join(entry, child))
    return [m for ms in infos.values() for m in ms] + eggs


def _group_pairs(text: str, group: str) -> list[tuple[str, str]] | None:
    """The ``name = value`` lines of section ``[group]`` (importlib.metadata's Sectioned
    reader: stripped lines, ``#`` comments); None for a line it would fail on."""
    section = None
    pairs: list[tuple[str, str]] = []
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section is None:
            continue
        if "=" not in line:
            return None  # importlib.metadata raises on it, for every group
        name, value = (part.strip() for part in line.split("=", 1))
        if section == group:
            if not _ENTRY_POINT.match(value):
                return None
            pairs.append((name, value))
    return pairs


def _load_entry_points(pm: pluggy.PluginManager, declared: list[tuple[str, str]]) -> None:
    """Import and register each declared plugin, as ``load_setuptools_entrypoints`` does:
    a name already registered or blocked is skipped; an import error stops the loading."""
    for name, value in declared:
        if pm.has_plugin(name) or pm.is_blocked(name):
            continue
        match = _ENTRY_POINT.match(value)
        assert match is not None  # checked by _group_pairs
        plugin = importlib.import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            plugin = getattr(plugin, attr)
        pm.register(plugin, name=name)
