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
 3. for each C/C++/CUDA source (``cc.sources.SourceStage``):
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
    compile the original with one PCX007 warning naming the compiler's first error
    (``cc.rewritten``);
 5. link with the family's offload link flags when an input holds offload/OpenMP code;
 6. anything wrong inside pcx: compile the original unchanged, ONE PCX001 warning
    (``--pcx-strict``/``PCX_STRICT=1``: an error, exit status 1).  After any fallback the
    remarks no longer claim an offload.

No Python traceback ever reaches a user: ``main_cc``/``main_cxx`` guard everything.
``Driver`` is the sequence of these steps; each step's code is a module of
``pcx_driver/cc/`` (settings, sources, rewritten, outputs; compilers, state).
"""

from __future__ import annotations

import os
import sys

from pcx_driver import toolchain

# Start-up time matters (pcx-cc runs once per compile): this module imports only modules
# Python has already loaded at start-up; the rest (settings, argv parsing, the plugin
# manager, the pipeline, the stages in pcx_driver/cc/) loads inside the functions that
# need it, never on the pass-through path (see ``fast_pass_through``).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pcx_driver.cc.archives import Member
    from pcx_driver.invocation import Invocation


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


def _openmp_switched_off(args: list[str]) -> bool:
    """Whether the last OpenMP switch of ``args`` is ``-fno-openmp``."""
    last = next((a for a in reversed(args) if a == "-fno-openmp" or a.startswith("-fopenmp") and
                 not a.startswith(("-fopenmp-targets", "-fopenmp-version", "-fopenmp-offload", "-fopenmp-cuda",
                                   "-fopenmp-assume", "-fopenmp-simd", "-fopenmp-target")))
                , None)
    return last == "-fno-openmp"


def _last_resort(prog: str, cxx: bool, argv: list[str], exc: BaseException) -> int:
    import subprocess

    from pcx_driver.cc.state import say as _say

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

# ------------------------------------------------------------------ the command


class Driver:
    """One pcx-cc command: the stages of pcx_driver/cc/ in order over its ``Invocation``.
    ``run(argv)`` returns the exit status."""

    def __init__(
        self,
        prog: str = "pcx-cc",
        cxx: bool = False,
        environ: dict[str, str] | None = None,
        cwd: str | None = None,
        allow_exec: bool = False,
    ) -> None:
        from pcx_driver.cc.settings import Settings
        from pcx_driver.cc.state import Command

        environ = dict(os.environ if environ is None else environ)
        self.cmd = Command(prog, cxx, environ, cwd or os.getcwd(), allow_exec)
        self.settings = Settings(self.cmd)

    def run(self, argv: list[str]) -> int:
        from pcx_driver.cc.compilers import cleanup, drop_speculation
        from pcx_driver.cc.state import StrictFailure, TranslationRefused, UsageError

        try:
            return self._run(argv)
        except UsageError as exc:
            self.cmd.say("error", str(exc))
            return 2
        except StrictFailure as exc:
            self.cmd.say("error", str(exc))
            return 1
        except TranslationRefused as exc:
            sys.stderr.write(str(exc))
            self.cmd.say("error", "CUDA translation refused; nothing was compiled")
            return 1
        except toolchain.ToolchainError as exc:
            self.cmd.say("error", str(exc))
            return 1
        finally:
            drop_speculation(self.cmd)
            cleanup(self.cmd)

    def _run(self, argv: list[str]) -> int:
        from pcx_driver import families as fam
        from pcx_driver.cc.compilers import (
            cleanup,
            drop_speculation,
            final,
            should_speculate,
            start_speculation,
        )
        from pcx_driver.cc.outputs import emit_sources, write_outputs
        from pcx_driver.cc.rewritten import compiler_for, substitute, try_rewritten
        from pcx_driver.cc.sources import SourceJob, SourceStage
        from pcx_driver.invocation import Mode, language_by_extension, parse, split_pcx_flags

        flags, args = split_pcx_flags(argv)

        # Launcher form: ``pcx-cc clang-19 -c x.c`` (CMAKE_<LANG>_COMPILER_LAUNCHER).
        launcher: str | None = None
        if args and not args[0].startswith("-") and language_by_extension(args[0]) == "unknown":
            first = args[0]
            if toolchain.resolve_executable(first) and (
                "/" in first or not os.path.exists(os.path.join(self.cmd.cwd, first))
            ):
                launcher, args = first, args[1:]
        cxx = self.cmd.cxx or bool(launcher and "++" in os.path.basename(launcher))

        # Realpaths: the sh front (pcx_driver/launch/pcx-cc) records the path it ran as found.
        visited = {os.path.realpath(p) for p in self.cmd.environ.get(toolchain.ACTIVE_ENV, "").split(os.pathsep) if p}
        if visited:
            # Reached again through another wrapper: forward to a real compiler, once.
            configured = self.cmd.environ.get("PCX_CXX" if cxx else "PCX_CC")
            compiler = self._choose(configured, launcher, cxx, visited)
            return final(self.cmd, compiler, args)

        self.cmd.config = self.settings.resolve(flags)
        cfg = self.cmd.config.get
        target = toolchain.detect_offload_target(cfg("offload-target"))
        compiler = self._choose(cfg("cxx") if cxx else cfg("cc"), launcher, cxx, visited)

        if target == fam.NONE:
            return final(self.cmd, compiler, args)  # pure pass-through: argv forwarded exactly

        inv = parse(args, read=self._read_response_file)
        if inv.mode is Mode.PASS_THROUGH and cfg("remarks") and inv.sources and inv.pass_reason == "input from stdin":
            # (the other sources of a command that also reads one from stdin: compiled as written)
            from pcx_driver.model import Remark

            for src in inv.sources:
                if src.path != "-":
                    print(Remark("PCX020", src.path, 1, 1, "compiled unchanged: the command also reads a source from "
                                 "standard input ('-'), which pcx cannot rewrite; compile it apart").format(),
                          file=sys.stderr)
        if inv.mode in (Mode.LINK, Mode.COMPILE_LINK) and any(a in ("-static", "-static-pie") for a in inv.expanded):
            return self._static_link(inv, compiler, args)
        if inv.mode is Mode.PASS_THROUGH or _openmp_switched_off(inv.expanded):
            # (``-fno-openmp`` last: the user turned OpenMP off for this command, and offload
            # flags beside it fail: "'-fopenmp-targets' must be used in conjunction with a
            # '-fopenmp' option"; the command is compiled as written)
            return final(self.cmd, compiler, args)
        arch = cfg("offload-arch")
        # One meaning of _OPENMP per build: where pcx can rewrite, every compile and link
        # gets the OpenMP switch, and the analysis sees it too (see Command.openmp_build).
        openmp = fam.openmp_flags(compiler.family, inv.expanded) if self.cmd.openmp_build() else []
        # The user's own ``#pragma omp`` lines are inert in their build without the switch:
        # pcx's switch must not bring them to life (a held-out build of darknet, OPENMP=0,
        # raced in its CPU loops): each source compiles with them blanked (cc/sources.py)
        self.cmd.forced_openmp = bool(openmp)
        if openmp and inv.mode is not Mode.LINK:
            from pcx_driver.cc.sources import live_openmp_in_headers

            live = next((w for w in (live_openmp_in_headers(s.path, self.cmd.cwd, inv.expanded) for s in inv.sources)
                         if w), None)
            if live is not None:
                # (where no switch is added, _OPENMP and the directives mean what the user's
                # build says: every file of the build sees _OPENMP as its own line says)
                self.cmd.say("warning", f"{live}: an OpenMP directive that this build (without -fopenmp) leaves "
                                        "inert, and pcx's OpenMP switch would run; compiled as written, nothing "
                                        "offloaded [PCX019]")
                return final(self.cmd, compiler, args)
        if openmp and not any(a.startswith("-fopenmp") for a in inv.semantic_args):
            inv.semantic_args.append("-fopenmp")  # the analysis is libclang's: clang's spelling
        # Offload link flags only when something linked holds offload/OpenMP code: an
        # offload link costs seconds even for plain objects (and changes nothing for them).
        offload_link = fam.offload_flags(compiler.family, target, "link", inv.expanded, arch,
                                         toolchain.llvm_libdir(compiler))
        link_flags: list[str] = []
        if inv.mode in (Mode.LINK, Mode.COMPILE_LINK) and offload_link and self._links_offload_code(inv, compiler):
            link_flags = offload_link
            raw_args = list(args)
            if self.cmd.archive_members:
                self._keep_pulled_members(compiler, raw_args)
            args = substitute(args, self.cmd.archive_words)
        elif inv.mode in (Mode.LINK, Mode.COMPILE_LINK):
            link_flags = list(openmp)
        if not any(i.language in ("c", "c++", "cuda") for i in inv.inputs):
            openmp = []  # nothing compiled here (assembly, a link): the link flags say it
        if inv.mode is Mode.LINK:
            if self.cmd.archive_words and not self.cmd.config.get("strict"):
                return self._link_offload_archives(compiler, args, raw_args, link_flags)
            return final(self.cmd, compiler, [*args, *link_flags])

        jobs = [SourceJob(i) for i in inv.sources]
        sources = SourceStage(self.cmd, self.settings)

        def original_command() -> tuple[toolchain.Compiler, list[str]]:
            # The original source(s), exactly as the user asked (plus the offload link flags).
            original = [*args, *link_flags] if inv.mode is Mode.COMPILE_LINK else list(args)
            original = [f for f in openmp if f not in original] + original
            return compiler_for(self.cmd, inv, jobs, compiler, rewritten=False), original

        if should_speculate(self.cmd, inv, jobs, compiler):
            start_speculation(self.cmd, *original_command())
        for job in jobs:
            sources.process(job, inv)
        emit_sources(self.cmd, jobs)
        if self.cmd.internal_errors:
            self.cmd.warn_internal()
        changed = [j for j in jobs if j.text is not None]
        if changed:
            drop_speculation(self.cmd)  # stopped before anything else writes the outputs
            status = try_rewritten(self.cmd, inv, jobs, changed, compiler, target, arch,
                                   offload_link if inv.mode is Mode.COMPILE_LINK else [])
            if status is not None:
                write_outputs(self.cmd, jobs, target)
                return status
        # (the original links the archives' members too)
        cleanup(self.cmd, keep={os.path.dirname(m.path) for _, ms in self.cmd.archive_members.values() for m in ms})
        write_outputs(self.cmd, jobs, target)
        real, original = original_command()
        if self.cmd.speculation is not None:
            from pcx_driver import speculate

            if self.cmd.speculation.argv == [real.path, *speculate.colour_args(original), *original]:
                spec, self.cmd.speculation = self.cmd.speculation, None
                return spec.take()
            drop_speculation(self.cmd)
        if self.cmd.warn_if_original_builds is not None:
            self.cmd.allow_exec = False  # its status decides the warning
            status = final(self.cmd, real, original)
            if status == 0:
                self.cmd.say("warning", self.cmd.warn_if_original_builds)
            return status
        return final(self.cmd, real, original)

    def _offload_members(self, archive: bytes) -> list[Member]:
        import tempfile

        from pcx_driver.cc.archives import offload_members

        tmp = tempfile.mkdtemp(prefix="pcx-ar-")
        self.cmd.temp_dirs.append(tmp)
        return offload_members(archive, tmp)

    def _keep_pulled_members(self, compiler: toolchain.Compiler, raw_args: list[str]) -> None:
        """Only the kernel members that the link as written pulls in go on the line as
        objects (``cc/archives.py``): the host link of ``raw_args``, its unresolved
        symbols (the offload runtime's) ignored, writes a map that names them.  Where that
        link fails or writes no map, every kernel member goes, as before."""
        import tempfile

        from pcx_driver.cc.archives import pulled_members
        from pcx_driver.cc.compilers import capture

        tmp = tempfile.mkdtemp(prefix="pcx-map-")
        self.cmd.temp_dirs.append(tmp)
        link_map = os.path.join(tmp, "link.map")
        status, _, _ = capture(self.cmd, compiler, [*raw_args, f"-Wl,-Map,{link_map}",
                                                    "-Wl,--unresolved-symbols=ignore-all",
                                                    "-o", os.path.join(tmp, "a.out")])
        if status != 0:
            return
        try:
            with open(link_map, encoding="utf-8", errors="surrogateescape") as f:
                pulled = pulled_members(f.read(), self.cmd.cwd)
        except OSError:
            return
        for position, (archive, members) in self.cmd.archive_members.items():
            unused = {m.path for m in members if (archive, m.name) not in pulled}
            self.cmd.archive_words[position] = [w for w in self.cmd.archive_words[position] if w not in unused]

    def _link_offload_archives(self, compiler: toolchain.Compiler, args: list[str], raw_args: list[str],
                             link_flags: list[str]) -> int:
        """The link with the offload archives' kernel members as objects; where that fails
        (such a member needs a symbol nobody defines, which a plain link would never have
        pulled in), the link as the user wrote it, with a warning: those kernels may then
        lack device code."""
        from pcx_driver.cc.compilers import capture, final

        status, out, err = capture(self.cmd, compiler, [*args, *link_flags])
        if status == 0:
            sys.stdout.buffer.write(out)
            sys.stderr.buffer.write(err)
            return 0
        status = final(self.cmd, compiler, [*raw_args, *link_flags])
        if status == 0:
            first = next((ln for ln in err.decode("utf-8", "replace").splitlines() if "error" in ln or
                          "undefined reference" in ln), "")
            self.cmd.say("warning", "linking the archive members that hold offloaded code failed (" +
                         " ".join(first.split())[:200] + "); linked as written: kernels in archive members the "
                         "program does not otherwise use may lack their device code [PCX007]")
        return status

    def _static_link(self, inv: Invocation, compiler: toolchain.Compiler, args: list[str]) -> int:
        """A command that links a static executable runs as written: the OpenMP offload
        runtime (libomptarget) has no static library, and the offload link of a rewritten
        source failed ("cannot find -lomp", a held-out check) where clang linked.  Its
        sources compile unchanged (PCX020 under --pcx-remarks); objects that another command
        compiled with kernels cannot link so, and a warning says why before the link fails."""
        from pcx_driver.cc.compilers import final
        from pcx_driver.invocation import Mode
        from pcx_driver.model import Remark

        if self.cmd.config.get("remarks"):
            for src in inv.sources:
                print(Remark("PCX020", src.path, 1, 1, "compiled unchanged: the command links statically (-static), "
                             "and the OpenMP offload runtime has no static library").format(), file=sys.stderr)
        if inv.mode is Mode.LINK and self._links_offload_code(inv, compiler):
            self.cmd.say("warning", "objects on this -static link hold OpenMP offload code, which needs the shared "
                                    "offload runtime: build them with PCX_MODE=off (or link without -static)")
        return final(self.cmd, compiler, args)

    def _links_offload_code(self, inv: Invocation, compiler: toolchain.Compiler) -> bool:
        """Whether an object or archive on the line holds offload or OpenMP code.

        Also records, in ``archive_words``, the static archives that hold offload code, to
        be linked whole: clang-19's linker wrapper takes device code out of an archive
        member only when the member resolves an undefined *device* symbol, so a kernel
        whose host side is linked would still miss its device image (a crash under
        OMP_TARGET_OFFLOAD=MANDATORY).
        """
        found = False
        whole: set[str] = set()
        from pcx_driver.invocation import library_archives

        for i in [*inv.inputs, *library_archives(inv.args, self.cmd.cwd)]:
            if i.language not in ("object", "archive"):
                continue
            try:
                with open(os.path.join(self.cmd.cwd, i.path), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            device = b".llvm.offloading" in data
            if device or any(m in data for m in _OPENMP_MARKERS):
                found = True
            if device and i.language == "archive" and i.position is not None and compiler.family.name == "clang":
                real = os.path.realpath(os.path.join(self.cmd.cwd, i.path))
                if real in whole:
                    continue  # named twice (darknet's ``$^ ... $(ALIB)``): its members once, or symbols twice
                whole.add(real)
                members = self._offload_members(data)  # (the bytes read above)
                # its members with kernels as objects, then the archive as written (a whole
                # archive pulled members nothing uses, whose undefined symbols broke links)
                self.cmd.archive_words[i.position] = [*(m.path for m in members), i.path] if members else \
                    ["-Wl,--whole-archive", i.path, "-Wl,--no-whole-archive"]
                if members:
                    self.cmd.archive_members[i.position] = (real, members)
                if i.position + 1 < len(inv.args) and inv.args[i.position] == "-l":
                    self.cmd.archive_words[i.position + 1] = []  # (``-l NAME``: both words are the archive)
        return found

    def _choose(self, configured: str | None, launcher: str | None, cxx: bool, visited: set[str]) -> toolchain.Compiler:
        return toolchain.choose(configured, launcher, cxx, visited)

    def _read_response_file(self, path: str) -> str | None:
        try:
            with open(os.path.join(self.cmd.cwd, path), encoding="utf-8", errors="surrogateescape") as f:
                return f.read()
        except OSError:
            return None
