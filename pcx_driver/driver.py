"""``pcx-cc`` and ``pcx-c++``: drop-in compiler drivers.

    CC=pcx-cc make            cmake -DCMAKE_C_COMPILER=pcx-cc ..
    cmake -DCMAKE_C_COMPILER_LAUNCHER=pcx-cc ..    (pcx-cc clang-19 -c x.c)

What one command does:
 1. strip ``--pcx-NAME=V`` settings; resolve settings (flag > env > pcx.toml > default);
    a broken pcx.toml is one PCX010 warning, and an untrusted one's needs-trust settings
    (cc, plugin, report, ...) one PCX011 warning (``config.Config.resolve``, lenient);
 2. offload target ``none`` (``fast_pass_through``: nothing heavy imported; the sh front
    ``pcx_driver/launch/pcx-cc`` takes the same path before Python starts), a command
    that is not a compile (-E, -M, --version, -v alone ...) or a re-entry
    (``PCX_CC_ACTIVE``): ``exec`` the real compiler with the arguments untouched;
 3. for each C/C++/CUDA source (``Driver._analyse``):
      validated mode  ``plancache.lookup(unit, config)``: cached *decisions*; with them,
                      ``pipeline.run_pipeline(unit, pm, config, decisions=...)`` analyses
                      and plans afresh and keeps only the decisions the analysis proves
                      (the rest: one PCX307 warning); without them the source compiles
                      unchanged (PCX009), analysed only when
                      --pcx-report/--pcx-remarks/--pcx-record ask;
      static mode     ``pipeline.run_pipeline(unit, pm, config)``, rewrite applied;
      .cu sources     ``cuda.translate_source(unit)``, compiled as C++ (``-x c++``);
      --pcx-instrument ``tune.instrument.instrument_source(unit, analysis)``, serial;
    the pipeline runs in a forked child under the analysis budget
    (``pipeline.run_bounded``: --pcx-analysis-budget seconds, --pcx-analysis-memory MB;
    past it, the original source and one PCX012 warning); the stages are reached only
    through the plugin manager (``plugins.make_plugin_manager``);
 4. compile each rewritten source from a private temp dir, under its own base name, with
    ``-iquote <original dir>`` and the offload flags of the compiler family, then fix the
    ``.d`` file to name the original source; if the rewritten text does not compile,
    compile the original with one PCX007 warning naming the compiler's first error;
 5. link with the family's offload link flags when an input holds offload/OpenMP code;
 6. anything wrong inside pcx: compile the original unchanged, ONE PCX001 warning
    (``--pcx-strict``/``PCX_STRICT=1``: an error, exit status 1).  After any fallback the
    remarks no longer claim an offload.

No Python traceback ever reaches a user: ``main_cc``/``main_cxx`` guard everything.
"""

from __future__ import annotations

import os
import sys

from pcx_driver import toolchain

# Start-up time matters (pcx-cc runs once per compile): this module imports only modules
# Python has already loaded at start-up; the rest (settings, argv parsing, the plugin
# manager, the pipeline) loads inside the functions that need it, never on the
# pass-through path (see ``fast_pass_through``).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pcx_driver.invocation import Input, Invocation


class UsageError(Exception):
    """A user mistake pcx-cc reports with ``pcx-cc: error:`` and exit status 2."""


class TranslationRefused(Exception):
    """A CUDA source uses constructs pcx cannot translate; its remarks say which (exit 1).

    A .cu file cannot go to a non-CUDA compiler unchanged, so this is an error, not a
    fallback."""


class StrictFailure(Exception):
    """An internal failure in strict mode (exit status 1)."""


# ------------------------------------------------------------------ entry points


def main_cc() -> int:
    return _guarded(cxx=False)


def main_cxx() -> int:
    return _guarded(cxx=True)


def _guarded(cxx: bool) -> int:
    prog = "pcx-c++" if cxx else "pcx-cc"
    argv = sys.argv[1:]
    try:
        fast = fast_pass_through(argv, cxx, os.environ, os.getcwd())
        if fast is not None:
            sys.stdout.flush()
            os.execve(fast[0], fast, {**os.environ, toolchain.ACTIVE_ENV: os.path.realpath(fast[0])})
        return Driver(prog, cxx, allow_exec=True).run(argv)
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except BaseException as exc:  # the last guard: a traceback must never reach a user
        return _last_resort(prog, cxx, argv, exc)


def _last_resort(prog: str, cxx: bool, argv: list[str], exc: BaseException) -> int:
    import subprocess

    args = [a for a in argv if not (a.startswith("--pcx-") and len(a) > 6)]
    if os.environ.get("PCX_STRICT", "").lower() in ("1", "true", "yes", "on"):
        _say(prog, "error", f"internal error ({type(exc).__name__}: {exc}) [PCX001]")
        return 1
    _say(prog, "warning", f"internal error ({type(exc).__name__}: {exc}); compiling the original "
                          f"command unchanged [PCX001]")
    try:
        path = toolchain.find_path(os.environ.get("PCX_CXX" if cxx else "PCX_CC"), None, cxx)
        return subprocess.call([path, *args])
    except BaseException as exc2:  # noqa: BLE001
        _say(prog, "error", f"cannot run a real compiler: {exc2}")
        return 1


#: Byte strings that betray offload or OpenMP code in an object file (section and runtime
#: entry-point names of clang's and gcc's OpenMP implementations).
_OPENMP_MARKERS = (b".llvm.offloading", b"__tgt_", b"__kmpc_", b"GOMP_", b"gnu.offload")

_FAST_SETTINGS = frozenset({"offload-target", "cc", "cxx"})


def fast_pass_through(argv: list[str], cxx: bool, environ: Any, cwd: str) -> list[str] | None:
    """The real compiler's argv when this command is a pure pass-through that needs no
    settings machinery, else None (take the full path; it gives the same answer).

    Covers ``--pcx-offload-target=none`` / ``PCX_OFFLOAD_TARGET=none`` with at most the
    cc/cxx settings given as flags or environment, no pcx.toml in reach, and no re-entry.
    Costs only a few stat calls: the point is to add nothing measurable to a build.
    """
    settings: dict[str, str] = {}
    args: list[str] = []
    for a in argv:
        if a.startswith("--pcx-") and len(a) > 6:
            name, _, value = a[6:].partition("=")
            settings[name] = value
        else:
            args.append(a)
    if not settings.keys() <= _FAST_SETTINGS or environ.get(toolchain.ACTIVE_ENV) or environ.get("PCX_CONFIG"):
        return None
    if settings.get("offload-target", environ.get("PCX_OFFLOAD_TARGET")) != "none":
        return None
    here = os.path.realpath(cwd)
    while True:  # a pcx.toml may set cc/cxx: let the full path read it
        if os.path.isfile(os.path.join(here, "pcx.toml")):
            return None
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    launcher = None
    if args and not args[0].startswith("-"):
        first = args[0]
        # Only extension-less names (clang-19, /usr/bin/gcc-12): anything else may be an
        # input file, and the full path knows every extension.
        if "." in os.path.basename(first):
            return None
        if toolchain.resolve_executable(first) and ("/" in first or not os.path.exists(os.path.join(cwd, first))):
            launcher, args = first, args[1:]
    configured = settings.get("cxx" if cxx else "cc") or environ.get("PCX_CXX" if cxx else "PCX_CC")
    if launcher and "++" in os.path.basename(launcher):
        cxx = True
    try:
        return [toolchain.find_path(configured, launcher, cxx), *args]
    except toolchain.ToolchainError:
        return None


def _say(prog: str, level: str, message: str) -> None:
    sys.stderr.write(f"{prog}: {level}: {message}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ per-source state


class SourceJob:
    """What happens to one source of the command."""

    def __init__(self, input: Input) -> None:
        self.input = input
        self.unit: Any = None  # model.SourceUnit
        self.result: Any = None  # pipeline.PipelineResult
        self.text: str | None = None  # text to compile instead of the original (None: original)
        self.language: str | None = None  # language of ``text`` when it differs (CUDA -> "c++")
        self.offload = False  # ``text`` needs the offload compile flags
        self.openmp = False  # ``text`` needs the OpenMP switch only (instrumented builds)
        self.remarks: list[Any] = []  # driver-level remarks (PCX00x)
        self.temp_path: str | None = None
        self.applied = False  # the rewritten text was compiled


class Driver:
    """One pcx-cc command.  ``run(argv)`` returns the exit status."""

    def __init__(
        self,
        prog: str = "pcx-cc",
        cxx: bool = False,
        environ: dict[str, str] | None = None,
        cwd: str | None = None,
        allow_exec: bool = False,
    ) -> None:
        self.prog = prog
        self.cxx = cxx
        self.environ = dict(os.environ if environ is None else environ)
        self.cwd = cwd or os.getcwd()
        self.allow_exec = allow_exec
        self.config: Any = None
        self.pm: Any = None
        self._flags: dict[str, list[str]] = {}
        self.internal_errors: list[str] = []
        self.temp_dirs: list[str] = []
        self.archive_words: dict[int, list[str]] = {}  # argv position -> words (see _links_offload_code)
        self._reported_plugins: set[str] = set()  # PCX006 once per plugin
        self.speculation: Any = None  # speculate.Speculation: the original compile, started early

    # ---------------------------------------------------------------- settings

    def _say(self, level: str, message: str) -> None:
        _say(self.prog, level, message)

    def _resolve_config(self, flags: dict[str, list[str]]) -> Any:
        """Settings from flags, environment and pcx.toml, leniently: a broken pcx.toml, and
        the settings an untrusted pcx.toml may not give, are ignored with one warning each
        (``Config.warnings``); only a bad flag or environment value is an error.

        Plugins' settings (``pcx_add_options``) are known only once plugins are loaded,
        which costs time: they are loaded here only when the built-in table does not
        account for a flag or a pcx.toml key, and otherwise when the pipeline first needs
        the plugin manager (``_plugin_manager`` then resolves the settings again, so that
        PCX_<NAME> and pcx.toml values of plugin settings are read too).
        """
        from pcx_driver.config import BUILTIN_OPTIONS, Config, ConfigError

        self._flags = flags
        builtin = {o.name for o in BUILTIN_OPTIONS}
        known = {k: v for k, v in flags.items() if k in builtin}
        try:
            config = Config.resolve(known, self.environ, self.cwd, strict=False)
            if known != flags or config.unknown:
                # maybe a plugin's setting: ask the plugins (named by the user or a trusted
                # pcx.toml) which settings they add
                pm = self._plugin_manager(tuple(config.get("plugin") or ()))
                config = Config.resolve(flags, self.environ, self.cwd, extra_specs=self._plugin_specs(pm),
                                        strict=False)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        for line in config.warnings():
            self._say("warning", line)
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
                self._say("warning", f"plugin {name} failed to load: no module named {name!r} [PCX006]")

    @staticmethod
    def _plugin_specs(pm: Any) -> tuple[Any, ...]:
        return tuple(s for specs in pm.hook.pcx_add_options() if specs for s in specs)

    def _plugin_manager(self, names: tuple[str, ...]) -> Any:
        if self.pm is None:
            from pcx_driver.plugins import make_plugin_manager

            self.pm, errors = make_plugin_manager(tuple(names))
            for e in errors:
                if e.name not in self._reported_plugins:
                    self._reported_plugins.add(e.name)
                    self._say("warning", f"plugin {e.name} failed to load: {e.message} [PCX006]")
            if self.config is not None:
                extra = self._plugin_specs(self.pm)
                if extra:
                    from pcx_driver.config import Config, ConfigError

                    try:
                        self.config = Config.resolve(self._flags, self.environ, self.cwd, extra_specs=extra,
                                                     strict=False)
                    except ConfigError as exc:
                        raise UsageError(str(exc)) from None
        return self.pm

    # ---------------------------------------------------------------- running compilers

    def _child_env(self, compiler: toolchain.Compiler) -> dict[str, str]:
        env = dict(self.environ)
        seen = [p for p in env.get(toolchain.ACTIVE_ENV, "").split(os.pathsep) if p]
        real = os.path.realpath(compiler.path)
        if real not in seen:
            seen.append(real)
        env[toolchain.ACTIVE_ENV] = os.pathsep.join(seen)
        return env

    def _final(self, compiler: toolchain.Compiler, args: list[str]) -> int:
        """Run the command whose status is ours; ``exec`` it when nothing is left to do."""
        argv = [compiler.path, *args]
        env = self._child_env(compiler)
        if self.allow_exec and not self.temp_dirs:
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                os.execve(compiler.path, argv, env)
            except OSError as exc:
                raise toolchain.ToolchainError(f"cannot run {compiler.path}: {exc}") from None
        import subprocess

        try:
            return subprocess.call(argv, env=env, cwd=self.cwd)
        except OSError as exc:
            raise toolchain.ToolchainError(f"cannot run {compiler.path}: {exc}") from None

    def _capture(self, compiler: toolchain.Compiler, args: list[str]) -> tuple[int, bytes, bytes]:
        import subprocess

        proc = subprocess.run([compiler.path, *args], env=self._child_env(compiler), cwd=self.cwd,
                              capture_output=True)
        return proc.returncode, proc.stdout, proc.stderr

    # ---------------------------------------------------------------- the command

    def run(self, argv: list[str]) -> int:
        try:
            return self._run(argv)
        except UsageError as exc:
            self._say("error", str(exc))
            return 2
        except StrictFailure as exc:
            self._say("error", str(exc))
            return 1
        except TranslationRefused as exc:
            sys.stderr.write(str(exc))
            self._say("error", "CUDA translation refused; nothing was compiled")
            return 1
        except toolchain.ToolchainError as exc:
            self._say("error", str(exc))
            return 1
        finally:
            self._drop_speculation()
            self._cleanup()

    def _run(self, argv: list[str]) -> int:
        from pcx_driver import families as fam
        from pcx_driver.invocation import Mode, language_by_extension, parse, split_pcx_flags

        flags, args = split_pcx_flags(argv)

        # Launcher form: ``pcx-cc clang-19 -c x.c`` (CMAKE_<LANG>_COMPILER_LAUNCHER).
        launcher: str | None = None
        if args and not args[0].startswith("-") and language_by_extension(args[0]) == "unknown":
            first = args[0]
            if toolchain.resolve_executable(first) and (
                "/" in first or not os.path.exists(os.path.join(self.cwd, first))
            ):
                launcher, args = first, args[1:]
        cxx = self.cxx or bool(launcher and "++" in os.path.basename(launcher))

        # Realpaths: the sh front (pcx_driver/launch/pcx-cc) records the path it ran as found.
        visited = {os.path.realpath(p) for p in self.environ.get(toolchain.ACTIVE_ENV, "").split(os.pathsep) if p}
        if visited:
            # Reached again through another wrapper: forward to a real compiler, once.
            configured = self.environ.get("PCX_CXX" if cxx else "PCX_CC")
            compiler = self._choose(configured, launcher, cxx, visited)
            return self._final(compiler, args)

        self.config = self._resolve_config(flags)
        cfg = self.config.get
        target = toolchain.detect_offload_target(cfg("offload-target"))
        compiler = self._choose(cfg("cxx") if cxx else cfg("cc"), launcher, cxx, visited)

        if target == fam.NONE:
            return self._final(compiler, args)  # pure pass-through: argv forwarded exactly

        inv = parse(args, read=self._read_response_file)
        if inv.mode is Mode.PASS_THROUGH:
            return self._final(compiler, args)
        arch = cfg("offload-arch")
        # One meaning of _OPENMP per build: where pcx can rewrite, every compile and link
        # gets the OpenMP switch, and the analysis sees it too (see _openmp_build).
        openmp = fam.openmp_flags(compiler.family, inv.expanded) if self._openmp_build() else []
        if openmp and not any(a.startswith("-fopenmp") for a in inv.semantic_args):
            inv.semantic_args.append("-fopenmp")  # the analysis is libclang's: clang's spelling
        # Offload link flags only when something linked holds offload/OpenMP code: an
        # offload link costs seconds even for plain objects (and changes nothing for them).
        offload_link = fam.offload_flags(compiler.family, target, "link", inv.expanded, arch,
                                         toolchain.llvm_libdir(compiler))
        link_flags: list[str] = []
        if inv.mode in (Mode.LINK, Mode.COMPILE_LINK) and offload_link and self._links_offload_code(inv, compiler):
            link_flags = offload_link
            args = _substitute(args, self.archive_words)
        elif inv.mode in (Mode.LINK, Mode.COMPILE_LINK):
            link_flags = list(openmp)
        if not any(i.language in ("c", "c++", "cuda") for i in inv.inputs):
            openmp = []  # nothing compiled here (assembly, a link): the link flags say it
        if inv.mode is Mode.LINK:
            return self._final(compiler, [*args, *link_flags])

        jobs = [SourceJob(i) for i in inv.sources]

        def original_command() -> tuple[toolchain.Compiler, list[str]]:
            # The original source(s), exactly as the user asked (plus the offload link flags).
            original = [*args, *link_flags] if inv.mode is Mode.COMPILE_LINK else list(args)
            original = [f for f in openmp if f not in original] + original
            return self._compiler_for(inv, jobs, compiler, rewritten=False), original

        if self._should_speculate(inv, jobs, compiler):
            self._speculate(*original_command())
        for job in jobs:
            self._process(job, inv)
        self._emit_sources(jobs)
        if self.internal_errors:
            self._warn_internal()
        changed = [j for j in jobs if j.text is not None]
        if changed:
            self._drop_speculation()  # stopped before anything else writes the outputs
            status = self._try_rewritten(inv, jobs, changed, compiler, target, arch,
                                         offload_link if inv.mode is Mode.COMPILE_LINK else [])
            if status is not None:
                self._write_outputs(jobs, target)
                return status
        self._cleanup()
        self._write_outputs(jobs, target)
        real, original = original_command()
        if self.speculation is not None:
            from pcx_driver import speculate

            if self.speculation.argv == [real.path, *speculate.colour_args(original), *original]:
                spec, self.speculation = self.speculation, None
                return spec.take()
            self._drop_speculation()
        return self._final(real, original)

    def _should_speculate(self, inv: Invocation, jobs: list[SourceJob], compiler: toolchain.Compiler) -> bool:
        """Whether to compile the original source(s) while the analysis runs (see
        pcx_driver/speculate.py): a ``-c`` compile by clang whose sources will be analysed
        (static mode; validated mode with a plan cache or asked for a report, remarks or
        a record), with a second core to do it on.  Outside strict mode every way this
        command ends compiles either that same command or the rewritten text, which
        writes the same outputs over it."""
        from pcx_driver.invocation import Mode

        cfg = self.config.get
        if inv.mode is not Mode.COMPILE or inv.too_hard or compiler.family.name != "clang" or cfg("instrument"):
            return False
        if cfg("strict"):
            return False  # a failed command must leave no object, and the early one may be done
        if not any(j.input.rewritable for j in jobs) or any(j.input.language == "cuda" for j in jobs):
            return False
        mode = cfg("mode")
        if not (mode == "static" or (mode == "validated" and (cfg("report") or cfg("remarks") or cfg("record")
                                                              or self._plan_cache_exists()))):
            return False
        from pcx_driver import speculate

        return speculate.worth_it()

    def _speculate(self, real: toolchain.Compiler, original: list[str]) -> None:
        from pcx_driver import speculate

        argv = [real.path, *speculate.colour_args(original), *original]
        try:
            self.speculation = speculate.Speculation(argv, self._child_env(real), self.cwd)
        except OSError:
            self.speculation = None  # the compile runs afterwards, as without speculation

    def _drop_speculation(self) -> None:
        if self.speculation is not None:
            spec, self.speculation = self.speculation, None
            spec.cancel()

    def _openmp_build(self) -> bool:
        """Whether this command belongs to a build in which pcx can rewrite: static mode,
        or validated mode with a plan cache in reach (``--pcx-instrument`` builds are
        static).  In such a build every C/C++ compile and every link gets the family's
        OpenMP switch, so that ``_OPENMP`` means the same in every file: a rewritten unit
        needs OpenMP, and a program whose files disagree on ``_OPENMP`` (a struct member
        or an allocation under ``#if _OPENMP``) breaks.  Elsewhere (mode off, validated
        without a plan cache, offload target none) the user's flags alone decide."""
        mode = self.config.get("mode")
        return mode == "static" or (mode == "validated" and self._plan_cache_exists())

    def _links_offload_code(self, inv: Invocation, compiler: toolchain.Compiler) -> bool:
        """Whether an object or archive on the line holds offload or OpenMP code.

        Also records, in ``archive_words``, the static archives that hold offload code, to
        be linked whole: clang-19's linker wrapper takes device code out of an archive
        member only when the member resolves an undefined *device* symbol, so a kernel
        whose host side is linked would still miss its device image (a crash under
        OMP_TARGET_OFFLOAD=MANDATORY).
        """
        found = False
        for i in inv.inputs:
            if i.language not in ("object", "archive"):
                continue
            try:
                with open(os.path.join(self.cwd, i.path), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            device = b".llvm.offloading" in data
            if device or any(m in data for m in _OPENMP_MARKERS):
                found = True
            if device and i.language == "archive" and i.position is not None and compiler.family.name == "clang":
                self.archive_words[i.position] = ["-Wl,--whole-archive", i.path, "-Wl,--no-whole-archive"]
        return found

    def _choose(self, configured: str | None, launcher: str | None, cxx: bool, visited: set[str]) -> toolchain.Compiler:
        return toolchain.choose(configured, launcher, cxx, visited)

    def _read_response_file(self, path: str) -> str | None:
        try:
            with open(os.path.join(self.cwd, path), encoding="utf-8", errors="surrogateescape") as f:
                return f.read()
        except OSError:
            return None

    # ---------------------------------------------------------------- one source

    def _internal_error(self, job: SourceJob | None, exc: BaseException) -> None:
        where = f" on {job.input.path}" if job else ""
        message = f"internal error{where} ({type(exc).__name__}: {exc})"
        if self.config is not None and self.config.get("strict"):
            raise StrictFailure(message + " [PCX001]")
        self.internal_errors.append(message)
        if job is not None:
            job.text = None
            job.offload = job.openmp = False

    def _remark(self, job: SourceJob, rid: str, message: str, line: int = 1) -> None:
        from pcx_driver.model import Remark

        job.remarks.append(Remark(rid, job.input.path, line, 1, message))

    def _process(self, job: SourceJob, inv: Invocation) -> None:
        """Decide what to compile for one source; never raises (except in strict mode)."""
        cfg = self.config.get
        mode = cfg("mode")
        if mode == "off" or not job.input.rewritable:
            return
        if inv.too_hard:
            return
        try:
            self._analyse(job, inv, mode)
        except (StrictFailure, UsageError, TranslationRefused, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a bug in pcx or a plugin (even sys.exit) must not break the build
            self._internal_error(job, exc)

    def _analyse(self, job: SourceJob, inv: Invocation, mode: str) -> None:
        cfg = self.config.get
        src = job.input
        wants_analysis = bool(cfg("report") or cfg("remarks") or cfg("record") or cfg("instrument"))
        # No plan can apply and nobody asked for analysis: the cheapest path, which reads the
        # source only to see whether it holds its own target regions (they need the offload
        # compile, or they would silently run on the host).
        cheap = mode == "validated" and not wants_analysis and src.language != "cuda" and not self._plan_cache_exists()
        path = os.path.join(self.cwd, src.path)
        if not os.path.isfile(path):
            return  # missing or not a regular file: the compiler says so in its own words
        if os.path.getsize(path) > int(cfg("max-source-bytes")):
            self._remark(job, "PCX005", "source is larger than the analysis limit; compiled unchanged")
            return
        with open(path, "rb") as f:
            data = f.read()
        if cheap and b"omp" not in data:
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A Latin-1 comment or string must not cost the whole file its analysis: the
            # engine works on bytes, and undecodable ones travel through unchanged.
            self._remark(job, "PCX002", f"source is not valid UTF-8 (byte {exc.start}); analysed with its "
                                        f"bytes kept as they are")
            text = data.decode("utf-8", "surrogateescape")
        from pcx_driver.model import Language, SourceUnit

        language = {"c": Language.C, "c++": Language.CXX, "cuda": Language.CUDA}[src.language]
        job.unit = SourceUnit(path=src.path, text=text, language=language, directory=self.cwd,
                              semantic_args=list(inv.semantic_args))
        if language is Language.CUDA:
            self._translate_cuda(job)
            return
        line, has_target, pragma = _openmp_directives(text)
        planned = False  # target loops the user wrote without maps: pcx plans their data
        if line and has_target and not cheap:
            from pcx_driver.engine.ompport import scan as scan_openmp

            planned = not scan_openmp(job.unit.data, language).refuse
        if line and (planned or not (has_target or cheap)):
            # CPU OpenMP goes through the pipeline: the 'parallel for' loops the analysis proves
            # become kernels, the rest stays as written, each loop with its remark
            # (pcx_driver/engine/ompport.py).
            self._remark(job, "PCX003", f"source already uses OpenMP directives ('{pragma}' at line {line}); " + (
                "pcx plans the data of its own target loops and ports its 'parallel for' loops where it proves "
                "them" if has_target else "its 'parallel for' loops are ported where pcx proves them, the rest is "
                "left as it is"), line)
            if has_target:  # whatever the pipeline decides, the text needs the offload compile
                job.text = _with_line_directive(text, src.path)
                job.offload = True
        elif line:
            self._remark(job, "PCX003", f"source already uses OpenMP directives ('{pragma}' at line {line}); "
                                        "left as it is", line)
            if has_target:
                # Its own target regions (hand-written, or a gate-checked proposal) still
                # need the offload compile: the text is compiled exactly as written.
                job.text = _with_line_directive(text, src.path)
                job.offload = True
            return
        if cheap:
            return
        pm = None
        from pcx_driver.pipeline import BudgetExceeded

        try:
            if mode == "validated":
                decisions = self._cached_decisions(job.unit)
                if decisions is not None:
                    pm = self._plugin_manager(tuple(cfg("plugin")))
                    job.result = self._pipeline(job, pm, decisions)
                    if job.result.dropped:
                        self._say("warning", f"{src.path}: cached plan decisions dropped, the analysis does not "
                                             f"prove them: {'; '.join(job.result.dropped)} [PCX307]")
                    if job.result.rewrite is not None:
                        self._remark(job, "PCX008", "a cached validated plan was applied")
                else:
                    self._remark(job, "PCX009", "no validated plan for this source (--pcx-mode=validated); "
                                                "compiled unchanged")
                    if not wants_analysis:
                        return
                    pm = self._plugin_manager(tuple(cfg("plugin")))
                    job.result = self._pipeline(job, pm)
                    job.result.rewrite = None  # analysed for the report only, not applied
            else:  # static
                pm = self._plugin_manager(tuple(cfg("plugin")))
                job.result = self._pipeline(job, pm)
        except BudgetExceeded as exc:
            job.result = None
            self._say("warning", f"{src.path}: {exc}; compiled the original source unchanged [PCX012]")
            return

        if cfg("record"):
            self._record(job)
        if cfg("instrument"):
            analysis = job.result.analysis if job.result is not None else None
            if analysis is None:
                analysis = pm.hook.pcx_analyse(unit=job.unit, config=self.config)
            from pcx_driver.tune.instrument import instrument_source  # owned by the tune work

            job.text = _with_line_directive(instrument_source(job.unit, analysis), src.path)
            job.openmp = True
            return
        rewrite = job.result.rewrite if job.result is not None else None
        if rewrite is not None and rewrite.changed:
            job.text = _with_line_directive(rewrite.text, src.path)
            job.offload = True

    def _plan_cache_exists(self) -> bool:
        """Whether a plan cache can exist (plancache's contract: --pcx-plan-cache, else
        the nearest usable ``.pcx/`` upward, up to the project root).  Checked before the
        plan cache module is imported, to keep plain compiles cheap."""
        if self.config.get("plan-cache"):
            return True
        from pcx_driver.config import find_plan_cache

        return find_plan_cache(self.cwd, self.config.file) is not None

    def _cached_decisions(self, unit: Any) -> Any:
        """The validated decisions for this source from the plan cache, or None (the cache
        is an optimisation, never a build-breaker: a broken entry is a warning)."""
        try:
            from pcx_driver import plancache

            return plancache.lookup(unit, self.config, warn=lambda m: self._say("warning", m))
        except Exception as exc:  # noqa: BLE001
            self._say("warning", f"{unit.path}: plan cache not read ({type(exc).__name__}: {exc}) [PCX307]")
            return None

    def _pipeline(self, job: SourceJob, pm: Any, decisions: Any = None) -> Any:
        """``run_pipeline`` under the analysis budget (time and memory)."""
        from pcx_driver.pipeline import run_bounded, run_pipeline

        unit, config = job.unit, self.config
        return run_bounded(lambda: run_pipeline(unit, pm, config, decisions=decisions),
                           float(config.get("analysis-budget") or 0), int(config.get("analysis-memory") or 0))

    def _translate_cuda(self, job: SourceJob) -> None:
        from pcx_driver.cuda import translate_source  # owned by the CUDA work

        tr = translate_source(job.unit)
        job.remarks.extend(getattr(tr, "remarks", []) or [])
        if not tr.ok:
            raise TranslationRefused("".join(r.format() + "\n" for r in tr.remarks))
        job.text = _with_line_directive(tr.text, job.input.path)
        job.language = "c++"
        job.offload = True

    def _record(self, job: SourceJob) -> None:
        import hashlib

        from pcx_driver.model import to_jsonable
        from pcx_driver.report import atomic_write
        import json

        unit = job.unit
        try:
            from pcx_driver.plancache import plan_key

            key = plan_key(unit)
        except Exception:  # noqa: BLE001 - the plan cache is another engineer's module
            h = hashlib.sha256()
            for part in (unit.text, unit.language.value, *unit.semantic_args):
                h.update(part.encode("utf-8", "surrogateescape") + b"\0")
            key = h.hexdigest()
        directory = os.path.join(self.cwd, self.config.get("record"))
        os.makedirs(directory, exist_ok=True)
        result = job.result
        doc = {
            "key": key,
            "directory": self.cwd,
            "unit": to_jsonable(unit),
            "analysis": to_jsonable(getattr(result, "analysis", None)),
            "plan": to_jsonable(getattr(result, "plan", None)),
        }
        atomic_write(os.path.join(directory, f"{key}.json"), json.dumps(doc) + "\n")

    # ---------------------------------------------------------------- compiling

    def _try_rewritten(
        self,
        inv: Invocation,
        jobs: list[SourceJob],
        changed: list[SourceJob],
        compiler: toolchain.Compiler,
        target: str,
        arch: str | None,
        link_flags: list[str],
    ) -> int | None:
        """Compile with the rewritten sources.  Returns the status to exit with, or None
        to compile the original instead (the rewritten text failed, or building the
        command failed)."""
        try:
            real = self._compiler_for(inv, jobs, compiler, rewritten=True)
            args = self._rewritten_args(inv, changed, real, target, arch, link_flags)
        except StrictFailure:
            raise
        except Exception as exc:  # noqa: BLE001
            self._internal_error(None, exc)
            self._warn_internal()
            for j in changed:
                j.text = None
            return None
        status, out, err = self._capture(real, args)
        if status == 0:
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
            sys.stderr.buffer.write(err)
            sys.stderr.flush()
            for j in changed:
                j.applied = True
                try:
                    self._fix_depfiles(inv, j)
                except Exception as exc:  # noqa: BLE001
                    self._internal_error(j, exc)
                    self._warn_internal()
            return 0
        if self.config.get("strict"):
            sys.stderr.buffer.write(err)
            sys.stderr.flush()
            self._say("error", "the rewritten source failed to compile (strict mode) [PCX007]")
            return status
        first = _first_error(err, {j.temp_path: j.input.path for j in changed if j.temp_path})
        for j in changed:
            self._remark(j, "PCX007", "rewritten source failed to compile; the original source was compiled instead")
            j.text = None
        names = ", ".join(j.input.path for j in changed)
        self._say("warning", f"{names}: the rewritten source failed to compile ({first}); compiled the original "
                             f"source unchanged [PCX007]")
        return None

    def _warn_internal(self) -> None:
        """At most ONE PCX001 line per command, however many things went wrong."""
        if self.internal_errors and not getattr(self, "_warned", False):
            self._warned = True
            self._say("warning", f"{self.internal_errors[0]}; compiled the original source unchanged [PCX001]")

    def _compiler_for(
        self, inv: Invocation, jobs: list[SourceJob], base: toolchain.Compiler, rewritten: bool
    ) -> toolchain.Compiler:
        """The C driver links like the real driver would; C++ compiles use the C++ driver
        of the family; translated CUDA needs the C++ driver throughout (it links C++)."""
        from pcx_driver.invocation import Mode

        if self.cxx or "++" in os.path.basename(base.path):
            return base
        if rewritten and any(j.language == "c++" and j.input.language == "cuda" and j.text is not None for j in jobs):
            return toolchain.cxx_companion(base)
        if inv.mode is Mode.COMPILE and inv.sources and all(s.language == "c++" for s in inv.sources):
            return toolchain.cxx_companion(base)
        return base

    def _rewritten_args(
        self,
        inv: Invocation,
        changed: list[SourceJob],
        compiler: toolchain.Compiler,
        target: str,
        arch: str | None,
        link_flags: list[str],
    ) -> list[str]:
        """The original arguments with each rewritten source replaced by its temp copy."""
        import tempfile

        from pcx_driver import families as fam

        from pcx_driver.report import atomic_write

        front: list[str] = []
        replace: dict[int, list[str]] = {}
        # The C++ driver (chosen for translated CUDA) would compile .c files as C++.
        keep_c = "++" in os.path.basename(compiler.path) and not self.cxx
        for j in changed:
            tmp = tempfile.mkdtemp(prefix="pcx-")
            self.temp_dirs.append(tmp)
            j.temp_path = os.path.join(tmp, os.path.basename(j.input.path))
            atomic_write(j.temp_path, j.text or "")
            orig_dir = os.path.dirname(j.input.path) or "."
            # The original directory stands where the source's own directory stood in the
            # include search: first of the quoted-include directories.
            front.extend(("-iquote", orig_dir))
            if compiler.family in (fam.CLANG, fam.GCC):  # debug info names the user's dir
                front.append(f"-fdebug-prefix-map={tmp}={os.path.abspath(os.path.join(self.cwd, orig_dir))}")
            language = j.language or j.input.language
            words = [j.temp_path]
            if language != j.input.language or (keep_c and language == "c" and j.input.x_language is None):
                words = _with_language(language, j.temp_path, j.input, inv)
            replace[j.input.position] = words  # type: ignore[index]
        if keep_c:
            for src in inv.sources:
                if src.language == "c" and src.position is not None and src.position not in replace \
                        and src.x_language is None:
                    replace[src.position] = _with_language("c", src.path, src, inv)
        args = _substitute(inv.args, {**self.archive_words, **replace})
        offload = any(j.offload for j in changed)
        extra: list[str] = []
        if offload:
            extra = fam.offload_flags(compiler.family, target, "compile", inv.expanded, arch,
                                      toolchain.llvm_libdir(compiler))
        elif any(j.openmp for j in changed):
            extra = [f for f in compiler.family.openmp if f not in inv.expanded]
        link = [f for f in link_flags if f not in extra]
        return [*_dedupe_pairs(front), *extra, *args, *link]

    def _fix_depfiles(self, inv: Invocation, job: SourceJob) -> None:
        """Make the .d file name the original source, never the temp copy (atomic)."""
        from pcx_driver.invocation import depfile_candidates
        from pcx_driver.report import atomic_write

        if not job.temp_path:
            return
        escaped = _make_escape(job.input.path)
        # The compiler escapes the temp path as make reads it (``my\ loop.c``): look for
        # it in that form first, then as written.
        temp_forms = dict.fromkeys((_make_escape(job.temp_path), job.temp_path))
        for cand in depfile_candidates(inv, job.input):
            full = os.path.join(self.cwd, cand)
            try:
                with open(full, encoding="utf-8", errors="surrogateescape") as f:
                    text = f.read()
            except OSError:
                continue
            fixed = text
            for form in temp_forms:
                fixed = fixed.replace(form, escaped)
            if fixed != text:
                atomic_write(full, fixed)

    # ---------------------------------------------------------------- outputs

    def _emit_sources(self, jobs: list[SourceJob]) -> None:
        """--pcx-emit: keep each rewritten source (before compiling, so a text that fails
        to compile can be inspected too)."""
        emit = self.config.get("emit")
        if not emit:
            return
        try:
            from pcx_driver.report import atomic_write

            for j in jobs:
                if j.text is not None:
                    dest = os.path.join(self.cwd, emit, _emit_name(j.input.path, self.cwd))
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    atomic_write(dest, j.text)
        except Exception as exc:  # noqa: BLE001
            self._output_failed(exc)

    def _write_outputs(self, jobs: list[SourceJob], target: str) -> None:
        """Remarks on stderr and the --pcx-report file; never fatal outside strict mode."""
        cfg = self.config.get
        try:
            if cfg("remarks"):
                for j in jobs:
                    for r in self._all_remarks(j):
                        sys.stderr.write(r.format() + "\n")
                sys.stderr.flush()
            if cfg("report"):
                from pcx_driver import __version__, report

                entries = [
                    report.source_entry(
                        file=j.input.path, directory=self.cwd, language=j.input.language,
                        mode=cfg("mode"), offload_target=target,
                        compiled="rewritten" if j.applied else "original",
                        result=j.result, remarks=j.remarks,
                    )
                    for j in jobs
                ]
                if entries:
                    report.merge(os.path.join(self.cwd, cfg("report")), entries, f"pcx-cc {__version__}")
        except Exception as exc:  # noqa: BLE001
            self._output_failed(exc)

    def _output_failed(self, exc: BaseException) -> None:
        message = f"cannot write pcx outputs ({type(exc).__name__}: {exc}) [PCX001]"
        if self.config.get("strict"):
            raise StrictFailure(message)
        self._say("warning", message)

    #: Remarks that say a rewrite is in the object; untrue once the original was compiled.
    _APPLIED_ONLY = frozenset({"PCX100", "PCX117", "PCX200", "PCX201", "PCX008"})

    def _all_remarks(self, job: SourceJob) -> list[Any]:
        out = list(job.remarks)
        if job.result is not None:
            out.extend(job.result.remarks)
        if job.result is not None and job.result.rewrite is not None and not job.applied:
            # a fallback: the object holds the original source, whatever the plan said
            out = [r for r in out if r.id not in self._APPLIED_ONLY]
        return out

    def _cleanup(self) -> None:
        if not self.temp_dirs:
            return
        import shutil  # start-up time: most commands made no temp dir

        while self.temp_dirs:
            shutil.rmtree(self.temp_dirs.pop(), ignore_errors=True)


# ------------------------------------------------------------------ small pure helpers


def _openmp_directives(text: str) -> tuple[int, bool, str]:
    """1-based line of the first ``#pragma omp`` / ``_Pragma("omp`` (0: none), whether
    any of them is a ``target`` construct (``declare target`` included), and the first
    one's text (whitespace squeezed, at most 80 characters).

    A line-oriented scan is exact enough here: it looks only at preprocessor lines, and a
    false positive merely leaves a source unchanged.
    """
    first, target, first_text = 0, False, ""
    for no, line in enumerate(text.splitlines(), 1):
        s = line.lstrip()
        words: list[str] = []
        if s.startswith("#"):
            words = s[1:].replace("(", " ").split()
            if not (len(words) >= 2 and words[0] == "pragma" and words[1] == "omp"):
                continue
            words = words[2:]
        elif '_Pragma("omp' in s or "_Pragma( \"omp" in s:
            words = s.split("omp", 1)[1].replace("(", " ").replace('"', " ").split()
        else:
            continue
        if not first:
            first, first_text = no, " ".join(s.split())
            if len(first_text) > 80:
                first_text = first_text[:77] + "..."
        target = target or "target" in words[:2]
    return first, target, first_text


def _with_line_directive(text: str, path: str) -> str:
    """Make sure the text starts by naming the user's file (``#line 1 "path"``)."""
    if text.lstrip().startswith("#line"):
        return text
    quoted = path.replace("\\", "\\\\").replace('"', '\\"')
    return f'#line 1 "{quoted}"\n{text}'


def _with_language(language: str, path: str, original: Input, inv: Invocation) -> list[str]:
    """``-x LANGUAGE path``, then the ``-x`` that was in force again if inputs follow
    (a trailing ``-x`` draws an "unused argument" warning)."""
    later = any(i.position is not None and i.position > (original.position or 0) for i in inv.inputs)
    return ["-x", language, path, *(["-x", original.x_language or "none"] if later else [])]


def _substitute(args: list[str], words: dict[int, list[str]]) -> list[str]:
    """``args`` with the argument at each position in ``words`` replaced by those words."""
    out: list[str] = []
    for k, a in enumerate(args):
        out.extend(words.get(k, [a]))
    return out


def _first_error(stderr: bytes, names: dict[str, str]) -> str:
    """The compiler's first error line, naming the user's files rather than temp copies."""
    text = stderr.decode("utf-8", "replace")
    lines = text.splitlines()
    line = next((ln for ln in lines if "error:" in ln), next((ln for ln in lines if ln.strip()), ""))
    for temp, user in names.items():
        line = line.replace(temp, user)
    line = " ".join(line.split())
    return (line[:300] + "...") if len(line) > 300 else (line or "no message")


def _make_escape(path: str) -> str:
    """A path as make reads it in a dependency file."""
    return path.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")


def _dedupe_pairs(words: list[str]) -> list[str]:
    """Drop repeated ``-iquote DIR`` pairs and repeated single flags, keeping order."""
    out: list[str] = []
    seen: set[tuple[str, ...]] = set()
    i = 0
    while i < len(words):
        item = tuple(words[i : i + 2]) if words[i] == "-iquote" else (words[i],)
        if item not in seen:
            seen.add(item)
            out.extend(item)
        i += len(item)
    return out


def _emit_name(path: str, cwd: str) -> str:
    full = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(full, cwd)
    return os.path.basename(full) if rel.startswith("..") else rel
