"""A pcx-cc command's settings (flag > environment > pcx.toml > default) and its plugin
manager, which may add settings of its own."""

from __future__ import annotations

from pcx_driver.cc.state import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pcx_driver.cc.state import Command


class Settings:
    """Resolves ``Command.config`` and builds the plugin manager once, when needed."""

    def __init__(self, cmd: Command) -> None:
        self.cmd = cmd
        self.pm: Any = None
        self._flags: dict[str, list[str]] = {}
        self._reported_plugins: set[str] = set()  # PCX006 once per plugin

    def resolve(self, flags: dict[str, list[str]]) -> Any:
        """Settings from flags, environment and pcx.toml, leniently: a broken pcx.toml, and
        the settings an untrusted pcx.toml may not give, are ignored with one warning each
        (``Config.warnings``); only a bad flag or environment value is an error.

        Plugins' settings (``pcx_add_options``) are known only once plugins are loaded,
        which costs time: they are loaded here only when the built-in table does not
        account for a flag or a pcx.toml key, and otherwise when the pipeline first needs
        the plugin manager (``plugin_manager`` then resolves the settings again, so that
        PCX_<NAME> and pcx.toml values of plugin settings are read too).
        """
        from pcx_driver.config import BUILTIN_OPTIONS, Config, ConfigError

        self._flags = flags
        builtin = {o.name for o in BUILTIN_OPTIONS}
        known = {k: v for k, v in flags.items() if k in builtin}
        try:
            config = Config.resolve(known, self.cmd.environ, self.cmd.cwd, strict=False)
            if known != flags or config.unknown:
                # maybe a plugin's setting: ask the plugins (named by the user or a trusted
                # pcx.toml) which settings they add
                pm = self.plugin_manager(tuple(config.get("plugin") or ()))
                config = Config.resolve(flags, self.cmd.environ, self.cmd.cwd,
                                        extra_specs=self._plugin_specs(pm), strict=False)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        for line in config.warnings():
            self.cmd.say("warning", line)
        if self.pm is None:
            self._check_plugins(tuple(config.get("plugin") or ()))
        return config

    def _check_plugins(self, names: tuple[str, ...]) -> None:
        """Warn now about a configured plugin that is not installed: the plugin manager may
        never be built in this command (validated mode without a plan)."""
        if not names:
            return
        import importlib.util

        for name in names:
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                self._reported_plugins.add(name)
                self.cmd.say("warning", f"plugin {name} failed to load: no module named {name!r} [PCX006]")

    @staticmethod
    def _plugin_specs(pm: Any) -> tuple[Any, ...]:
        return tuple(s for specs in pm.hook.pcx_add_options() if specs for s in specs)

    def plugin_manager(self, names: tuple[str, ...]) -> Any:
        if self.pm is None:
            from pcx_driver.plugins import make_plugin_manager

            self.pm, errors = make_plugin_manager(tuple(names))
            for e in errors:
                if e.name not in self._reported_plugins:
                    self._reported_plugins.add(e.name)
                    self.cmd.say("warning", f"plugin {e.name} failed to load: {e.message} [PCX006]")
            if self.cmd.config is not None:
                extra = self._plugin_specs(self.pm)
                if extra:
                    from pcx_driver.config import Config, ConfigError

                    try:
                        self.cmd.config = Config.resolve(self._flags, self.cmd.environ, self.cmd.cwd,
                                                         extra_specs=extra, strict=False)
                    except ConfigError as exc:
                        raise UsageError(str(exc)) from None
        return self.pm
