"""``pcx plugins``: which plugins a build would load, the hooks each implements, and why.

The plugin manager is built exactly as the driver builds it
(``pcx_driver.plugins.make_plugin_manager``): the default stages, the ``pcx`` entry-point
group, then extra modules from ``--plugin`` / ``PCX_PLUGIN`` / pcx.toml ``plugin``.  Each
row says where the plugin came from (built in, an installed distribution and its version,
or the setting that named it) so a user can tell why a decision changed.  Load errors are
listed too; the command exits 1 when there is any, so CI can catch a broken plugin.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import click
import pluggy
from rich.console import Console
from rich.table import Table

from pcx_driver.config import Config, ConfigError, OptionSpec
from pcx_driver.plugins import DEFAULT_PLUGINS, PluginLoadError, make_plugin_manager


@dataclass
class HookInfo:
    name: str
    flags: list[str] = field(default_factory=list)  # wrapper, tryfirst, trylast, ...

    def render(self) -> str:
        return self.name + (f" ({', '.join(self.flags)})" if self.flags else "")


@dataclass
class PluginInfo:
    name: str
    origin: str  # "builtin", "entry point <dist> <version>", "flag --pcx-plugin", ...
    location: str  # the module's file, or its type for an object plugin
    hooks: list[HookInfo] = field(default_factory=list)
    options: list[str] = field(default_factory=list)  # settings declared via pcx_add_options


@dataclass
class PluginReport:
    plugins: list[PluginInfo] = field(default_factory=list)
    errors: list[PluginLoadError] = field(default_factory=list)


def _hook_flags(impl: Any) -> list[str]:
    return [flag for flag in ("wrapper", "hookwrapper", "tryfirst", "trylast") if getattr(impl, flag, False)]


def _options_of(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """The settings ``plugin`` declares (its own pcx_add_options, called directly)."""
    hook = getattr(plugin, "pcx_add_options", None)
    if hook is None or pm.parse_hookimpl_opts(plugin, "pcx_add_options") is None:
        return []
    try:
        specs = hook() or []
        return [f"{s.flag} ({s.env}, default {s.default!r})" for s in specs if isinstance(s, OptionSpec)]
    except Exception as exc:  # a plugin's bug is reported, never a traceback
        return [f"<pcx_add_options failed: {type(exc).__name__}: {exc}>"]


def collect(extra: tuple[str, ...], extra_origin: str, entry_points: bool = True) -> PluginReport:
    """Load plugins as a build would and describe each one, in registration order."""
    pm, errors = make_plugin_manager(extra, entry_points=entry_points, distributions=True)
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    report = PluginReport(errors=list(errors))
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        if name in DEFAULT_PLUGINS:
            origin = "builtin"
        elif id(plugin) in dists:
            dist = dists[id(plugin)]
            origin = f"entry point {dist.project_name} {dist.version}"
        elif name in extra:
            origin = extra_origin
        else:
            origin = "registered by another plugin"
        location = getattr(plugin, "__file__", None) or type(plugin).__qualname__
        hooks = []
        for caller in pm.get_hookcallers(plugin) or []:
            impl = next((i for i in caller.get_hookimpls() if i.plugin is plugin), None)
            hooks.append(HookInfo(caller.name, _hook_flags(impl) if impl else []))
        hooks.sort(key=lambda h: h.name)
        report.plugins.append(PluginInfo(name, origin, str(location), hooks, _options_of(pm, plugin)))
    return report


def _render(report: PluginReport, console: Console) -> None:
    table = Table(title="pcx plugins (in the order the driver registers them)")
    table.add_column("plugin", style="bold")
    table.add_column("from")
    table.add_column("hooks")
    table.add_column("settings")
    for p in report.plugins:
        table.add_row(
            f"{p.name}\n[dim]{p.location}[/]",
            p.origin,
            "\n".join(h.render() for h in p.hooks) or "[dim](none)[/]",
            "\n".join(p.options),
        )
    console.print(table)
    for err in report.errors:
        console.print(f"[red]error:[/] plugin {err.name!r} failed to load: {err.message}")


@click.command("plugins")
@click.option("--plugin", "extra", multiple=True, metavar="MODULE",
              help="Also load this plugin module, as --pcx-plugin=MODULE does for a build (repeatable).")
@click.option("--no-entry-points", is_flag=True, help="Skip plugins installed under the `pcx` entry-point group.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def plugins(extra: tuple[str, ...], no_entry_points: bool, as_json: bool) -> None:
    """List plugins, their hooks and their origin.

    Shows the plugins a build loads, the hooks each implements and where each came from.

    Extra modules come from --plugin, else from PCX_PLUGIN or pcx.toml's `plugin`,
    the same settings pcx-cc reads.  Exits 1 when a plugin fails to load.
    """
    try:
        config = Config.resolve({"plugin": list(extra)} if extra else {})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    modules = tuple(config.get("plugin") or ())
    origin = "command line --plugin" if extra else config.sources.get("plugin", "default")
    report = collect(modules, origin, entry_points=not no_entry_points)
    if as_json:
        click.echo(json.dumps({"plugins": [asdict(p) for p in report.plugins],
                               "errors": [asdict(e) for e in report.errors]}, indent=2))
    else:
        _render(report, Console(soft_wrap=False))
    if report.errors:
        sys.exit(1)
