"""Settings: every ``--pcx-NAME=V`` flag also reads ``PCX_NAME`` and pcx.toml.

Precedence is flag > environment > pcx.toml (found upward from the working directory) >
default.  The built-in settings are one table, ``BUILTIN_OPTIONS``; plugins add theirs
through the ``pcx_add_options`` hook.

Trust (see "Security model" in the README): a pcx.toml comes with whatever directory the
build runs in, a cloned repository or a shared parent such as /tmp.  Settings marked
``needs_trust`` (they run programs, send data or write outside the build tree) are taken
from a pcx.toml only when the user trusted its directory with ``pcx trust DIR``
(recorded in ``$XDG_CONFIG_HOME/pcx/trusted``, default ``~/.config/pcx/trusted``), or
when the file was named by ``--pcx-config``/``PCX_CONFIG``; the command line and the
environment are always the user's own.  An untrusted file's other settings still apply.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

# Loaded on every compile: tomllib (only with a pcx.toml), pathlib and typing (annotations
# only) stay out of the start-up, ~15 ms of it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping

#: A pcx.toml larger than this is not read (it is a configuration file, not data).
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class OptionSpec:
    name: str  # "offload-target" -> --pcx-offload-target, PCX_OFFLOAD_TARGET, offload-target
    default: Any
    help: str
    kind: str = "str"  # "str", "bool", "int", "float", "list" (repeatable, comma-separated)
    choices: tuple[str, ...] = ()
    # Runs a program, loads code, sends data or writes outside the build tree: honoured
    # from a pcx.toml only when the user trusted it (flags and environment always).
    needs_trust: bool = False

    @property
    def flag(self) -> str:
        return f"--pcx-{self.name}"

    @property
    def env(self) -> str:
        return "PCX_" + self.name.upper().replace("-", "_")


BUILTIN_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("analysis-budget", 60.0, "CPU seconds of analysis per source (so a busy machine builds the "
               "same); past it the original source is compiled, with a warning (0: no limit)", "float"),
    OptionSpec("analysis-memory", 4096, "megabytes of memory the analysis of one source may use; past it "
               "the original source is compiled, with a warning (0: no limit)", "int"),
    OptionSpec("cc", None, "the real C compiler (default: clang-19, clang, gcc on PATH)", needs_trust=True),
    OptionSpec("config", None, "path of a pcx.toml to use instead of searching upward"),
    OptionSpec("cxx", None, "the real C++ compiler (default: clang++-19, clang++, g++ on PATH)", needs_trust=True),
    OptionSpec("emit", None, "directory where each rewritten source is kept", needs_trust=True),
    OptionSpec("ignore", (), "pcx tune: regular expressions of output lines the gate does not compare "
               "(repeatable; pcx.toml: a list)", "list"),
    OptionSpec("instrument", False, "compile with per-nest timing instead of offloading (pcx tune's "
               "hotspot build)", "bool"),
    OptionSpec("max-source-bytes", 8_000_000, "sources larger than this are compiled unchanged", "int"),
    OptionSpec("min-work", 1000.0, "work estimate (trip counts x statements) below which a kernel runs on the "
               "host: a constant estimate keeps the nest serial (PCX115), a symbolic one becomes the kernel's "
               "if(target: WORK >= min-work) (0: offload regardless)", "float"),
    OptionSpec("mode", "validated", "which plans a build applies: validated (gate-passed, from "
               "the plan cache), static (every plan the analysis proves), off", "str",
               ("validated", "static", "off")),
    OptionSpec("offload-arch", None, "GPU architecture (default sm_90 for nvptx, gfx90a for amdgcn)"),
    OptionSpec("offload-target", None, "nvptx64-nvidia-cuda, amdgcn-amd-amdhsa, x86_64-pc-linux-gnu "
               "(the host device) or none (pass-through); default: the GPU present, else the host device",
               "str", ("nvptx64-nvidia-cuda", "amdgcn-amd-amdhsa", "x86_64-pc-linux-gnu", "none")),
    OptionSpec("plan-cache", None, "directory of the validated plan cache (default: .pcx/ upward, up to "
               "the project root)", needs_trust=True),
    OptionSpec("plugin", (), "extra plugin module to load (repeatable)", "list", needs_trust=True),
    OptionSpec("record", None, "directory where each compile writes its SourceUnit, analysis and plan "
               "as JSON (pcx tune reads them)", needs_trust=True),
    OptionSpec("remarks", False, "print clang-style remarks for every loop nest", "bool"),
    OptionSpec("report", None, "write a JSON report of every loop nest to this file", needs_trust=True),
    OptionSpec("strict", False, "fail the compile on an internal pcx error instead of falling back", "bool"),
    OptionSpec("trust-pragmas", False, "offload a loop under the user's 'parallel for' whose subscripts pcx "
               "cannot analyse on the pragma's word (PCX129); pcx tune sets it for the builds its gate checks, "
               "and a validated plan applies such a loop only where that gate passed it", "bool"),
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
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if spec.kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(value)
            return number
        if spec.kind == "list":
            if isinstance(value, (list, tuple)):
                if not all(isinstance(v, str) for v in value):
                    raise ValueError(value)
                return tuple(value)
            if not isinstance(value, str):
                raise ValueError(value)
            return tuple(v for v in value.split(",") if v)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{source}: invalid value {value!r} for {spec.name} ({spec.kind} expected)") from None
    if not isinstance(value, str):  # a TOML table, array or date for a text setting
        raise ConfigError(f"{source}: invalid value {value!r} for {spec.name} (text expected)")
    if spec.choices and value not in spec.choices:
        raise ConfigError(f"{source}: invalid value {value!r} for {spec.name}; choose from {', '.join(spec.choices)}")
    return value


# ------------------------------------------------------------------ reading files safely


def read_regular_file(path: str, limit: int, follow: bool = True) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Never blocks on a FIFO or a device (``O_NONBLOCK``, then ``fstat``) and never reads
    more than ``limit + 1`` bytes, so a link to /dev/zero or a named pipe is an error, not
    a hang.  ``follow=False``: a symbolic link is refused too.  Raises OSError (with a
    message that says why) for anything else.
    """
    import stat

    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise OSError("a symbolic link, not a regular file") from None
        raise exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file")
        if st.st_size > limit:
            raise OSError(f"larger than {limit} bytes")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise OSError(f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def safe_owner(st: os.stat_result) -> bool:
    """Owned by this user (or root) and not writable by others: a file or directory that
    nobody else can have planted or changed."""
    return st.st_uid in (os.getuid(), 0) and not st.st_mode & 0o002


# ------------------------------------------------------------------ trust


def trust_store(environ: Mapping[str, str] | None = None) -> str:
    """The file that lists the directories whose pcx.toml the user trusts."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or os.environ.get("XDG_CONFIG_HOME") \
        or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "pcx", "trusted")


def trusted_directories(environ: Mapping[str, str] | None = None) -> list[str]:
    """The trusted directories (realpaths), in the order they were trusted."""
    path = trust_store(environ)
    try:
        if not safe_owner(os.stat(path)):
            return []  # a store someone else can write is no record of the user's choice
        text = read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8", "surrogateescape")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def is_trusted(config_file: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user trusted the directory of ``config_file`` (``pcx trust DIR``) and the
    file is safely owned (this user or root, not writable by others)."""
    try:
        if not safe_owner(os.stat(config_file)):
            return False
    except OSError:
        return False
    directory = os.path.dirname(os.path.realpath(config_file))
    return directory in trusted_directories(environ)


def set_trust(directory: str, trusted: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Record (or, with ``trusted=False``, remove) ``directory``; True when the list changed.
    The store is written atomically, mode 0600, in a 0700 directory."""
    import tempfile

    directory = os.path.realpath(directory)
    current = trusted_directories(environ)
    wanted = ([*current, directory] if directory not in current else current) if trusted \
        else [d for d in current if d != directory]
    if wanted == current:
        return False
    path = trust_store(environ)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    text = "# directories whose pcx.toml may run programs and write files (pcx trust)\n"
    text += "".join(d + "\n" for d in wanted)
    fd, tmp = tempfile.mkstemp(prefix=".trusted.", dir=os.path.dirname(path))  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


# ------------------------------------------------------------------ pcx.toml


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


def config_file_path(flags: Mapping[str, list[str]], environ: Mapping[str, str],
                     cwd: str | os.PathLike[str]) -> tuple[str | None, bool]:
    """The pcx.toml in force and whether the user named it (``--pcx-config``, ``PCX_CONFIG``)."""
    explicit = (flags.get("config") or [None])[-1] or environ.get("PCX_CONFIG")
    if explicit:
        return os.path.join(os.fspath(cwd), explicit), True
    return find_config_file(cwd), False


def config_file_table(flags: Mapping[str, list[str]], environ: Mapping[str, str],
                      cwd: str | os.PathLike[str]) -> tuple[str | None, dict[str, Any]]:
    """The pcx.toml in force (``--pcx-config``, ``PCX_CONFIG``, else the nearest one) and
    its settings table (``[pcx]``, or the top level); (None, {}) when there is none.
    Raises ConfigError when the file cannot be read or is not valid TOML."""
    file_path, _ = config_file_path(flags, environ, cwd)
    if file_path is None:
        return None, {}
    import tomllib

    try:
        raw = tomllib.loads(read_regular_file(file_path, MAX_CONFIG_BYTES).decode("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(f"{file_path}: cannot read pcx configuration: {exc}") from None
    table = raw.get("pcx", raw)
    if not isinstance(table, dict):
        raise ConfigError(f"{file_path}: [pcx] is not a table")
    return file_path, table


@dataclass
class Config:
    """Resolved settings, each with the place its value came from.

    ``problems`` (pcx.toml entries that were ignored: unreadable file, bad value, unknown
    key) and ``untrusted`` (needs-trust settings ignored because the file is not trusted)
    are filled by a lenient ``resolve``; the driver prints them as one warning each.
    """

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # "flag", "env", "pcx.toml path", "default"
    specs: dict[str, OptionSpec] = field(default_factory=dict)
    file: str | None = None  # the pcx.toml read, if any
    problems: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # pcx.toml keys no known setting has
    untrusted: list[str] = field(default_factory=list)

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"unknown pcx setting {name!r}")
        return self.values[name]

    def warnings(self) -> list[str]:
        """At most two lines: what was wrong in pcx.toml, and what trust held back."""
        out = []
        problems = [*self.problems, *(f"unknown setting {k!r} (no installed plugin declares it)"
                                      for k in self.unknown)]
        if problems:
            out.append(f"{self.file}: {'; '.join(problems)}; ignored [PCX010]")
        if self.untrusted:
            where = os.path.dirname(os.path.realpath(self.file or "."))
            out.append(f"{self.file} is not trusted: ignored {', '.join(self.untrusted)} (settings that run "
                       f"programs or write files); to use them run `pcx trust {where}` [PCX011]")
        return out

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, list[str]],
        environ: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] = ".",
        extra_specs: tuple[OptionSpec, ...] = (),
        strict: bool = True,
    ) -> "Config":
        """Resolve every known setting. ``flags`` maps setting name to the values given.

        An unknown flag, and a bad flag or environment value, is a ConfigError.  A broken
        pcx.toml (unreadable, not TOML, not UTF-8, a bad value, an unknown key) is a
        ConfigError when ``strict``; otherwise each bad entry (or the whole file) is
        ignored and noted in ``problems``/``unknown``, so that a build goes on.
        """
        environ = os.environ if environ is None else environ
        specs = {s.name: s for s in (*BUILTIN_OPTIONS, *extra_specs)}
        for name in flags:
            if name not in specs:
                close = difflib.get_close_matches(name, sorted(specs), n=1)
                hint = f"did you mean --pcx-{close[0]}? " if close else ""
                raise ConfigError(f"unknown option --pcx-{name}; {hint}the settings are "
                                  + ", ".join(f"--pcx-{n}" for n in sorted(specs)) + " (README: Configuration reference)")
        config = cls(specs=specs)
        file_values: dict[str, Any] = {}
        file_path, named = config_file_path(flags, environ, cwd)
        config.file = file_path
        table: dict[str, Any] = {}
        if file_path is not None:
            try:
                table = config_file_table(flags, environ, cwd)[1]
            except ConfigError as exc:
                if strict:
                    raise
                config.problems.append(str(exc).removeprefix(f"{file_path}: "))
        trusted: bool | None = None
        for key, value in table.items():
            name = str(key).replace("_", "-")
            if name not in specs:
                if strict:
                    raise ConfigError(f"{file_path}: unknown setting {key!r}")
                config.unknown.append(str(key))
                continue
            spec = specs[name]
            try:
                value = _convert(spec, value, str(file_path))
            except ConfigError as exc:
                if strict:
                    raise
                config.problems.append(str(exc).removeprefix(f"{file_path}: "))
                continue
            if spec.needs_trust and not named:
                if trusted is None:
                    trusted = is_trusted(file_path, environ)  # type: ignore[arg-type]
                if not trusted:
                    if name not in flags and spec.env not in environ:  # not used anyway
                        config.untrusted.append(str(key))
                    continue
            file_values[name] = value
        for name, spec in specs.items():
            if name in flags:
                given = flags[name]
                value = tuple(v for g in given for v in g.split(",") if v) if spec.kind == "list" else given[-1]
                source = f"flag {spec.flag}"
            elif spec.env in environ:
                value, source = environ[spec.env], f"environment {spec.env}"
            elif name in file_values:
                config.values[name] = file_values[name]
                config.sources[name] = str(file_path)
                continue
            else:
                value, source = spec.default, "default"
            config.values[name] = _convert(spec, value, source) if source != "default" else value
            config.sources[name] = source
        return config


# ------------------------------------------------------------------ the plan cache's place


def find_plan_cache(start: str | os.PathLike[str], config_file: str | None = None) -> str | None:
    """The nearest usable ``.pcx/`` directory from ``start`` upward, or None.

    The search stops at the project root: the directory that holds ``.git``, or the one
    that holds the pcx.toml in force, or the user's home directory (never above it).  A
    ``.pcx`` that is a symbolic link or not a directory, that belongs to another user
    (root excepted) or that others may write is skipped: a plan cache decides what a build
    compiles, so nobody else may have planted it.
    """
    import stat

    here = os.path.realpath(start)
    home = os.path.realpath(os.path.expanduser("~"))
    stop = os.path.dirname(os.path.realpath(config_file)) if config_file else None
    while True:
        try:
            st = os.lstat(os.path.join(here, ".pcx"))
            if stat.S_ISDIR(st.st_mode) and safe_owner(st):
                return os.path.join(here, ".pcx")
        except OSError:
            pass
        if here in (stop, home) or os.path.lexists(os.path.join(here, ".git")):
            return None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
