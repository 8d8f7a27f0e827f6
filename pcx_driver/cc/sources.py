"""What to compile for each source of a pcx-cc command (``SourceStage.process``).

Per source, by mode: the plan cache's validated decisions through the pipeline
(validated), the pipeline's rewrite (static), the CUDA translation (.cu), or the
instrumented text (--pcx-instrument); sources that already use OpenMP keep their own
directives.  The result is a ``SourceJob``: the text to compile instead of the original
(or None), the flags it needs, and the driver-level remarks.  Nothing here raises but a
usage error, a refused CUDA translation or a strict-mode failure; anything else is an
internal error and the source compiles unchanged.
"""

from __future__ import annotations

import dataclasses
import os

from pcx_driver.cc.state import StrictFailure, TranslationRefused, UsageError
from pcx_driver.invocation import REWRITABLE
from pcx_driver.options import include_dirs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pcx_driver.cc.settings import Settings
    from pcx_driver.cc.state import Command
    from pcx_driver.invocation import Input, Invocation


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
        self.kernel_file: str | None = None  # the file its kernel directives' #line names
        self.applied = False  # the rewritten text was compiled
        # the text with the user's OpenMP pragmas blanked and ``_OPENMP`` undefined in its
        # conditions, where pcx's OpenMP switch would bring them to life
        # (``Command.forced_openmp``): compiled when nothing else is, as the original
        self.inert_openmp_text: str | None = None
        self.inert_only = False  # ``text`` is ``inert_openmp_text``: no rewrite of pcx's

    def remark(self, rid: str, message: str, line: int = 1) -> None:
        from pcx_driver.model import Remark

        self.remarks.append(Remark(rid, self.input.path, line, 1, message))


class SourceStage:
    """Decides, per source, what the command compiles (see the module docstring)."""

    def __init__(self, cmd: Command, settings: Settings) -> None:
        self.cmd = cmd
        self.settings = settings

    def process(self, job: SourceJob, inv: Invocation) -> None:
        """Decide what to compile for one source; never raises (except in strict mode)."""
        cfg = self.cmd.config.get
        mode = cfg("mode")
        if mode == "off":
            return
        if not job.input.rewritable:
            if job.input.position is None and job.input.language in REWRITABLE:
                job.remark("PCX020", "compiled unchanged: the source is named only inside a response file "
                                     "(@file), where pcx cannot put its rewritten copy; name it on the command line")
            return
        if inv.too_hard:
            job.remark("PCX020", f"compiled unchanged: {inv.too_hard}")
            return
        try:
            self._analyse(job, inv, mode)
        except (StrictFailure, UsageError, TranslationRefused, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a bug in pcx or a plugin (even sys.exit) must not break the build
            self.cmd.internal_error(job, exc)
        if job.text is None and job.inert_openmp_text is not None:
            job.text = job.inert_openmp_text
            job.openmp = True  # the same switch the original command gets
            job.inert_only = True

    def _analyse(self, job: SourceJob, inv: Invocation, mode: str) -> None:
        cfg = self.cmd.config.get
        src = job.input
        wants_analysis = bool(cfg("report") or cfg("remarks") or cfg("record") or cfg("instrument"))
        # No plan can apply and nobody asked for analysis: the cheapest path, which reads the
        # source only to see whether it holds its own target regions (they need the offload
        # compile, or they would silently run on the host).
        cheap = (mode == "validated" and not wants_analysis and src.language != "cuda"
                 and not self.cmd.plan_cache_exists())
        path = os.path.join(self.cmd.cwd, src.path)
        if not os.path.isfile(path):
            return  # missing or not a regular file: the compiler says so in its own words
        if os.path.getsize(path) > int(cfg("max-source-bytes")):
            job.remark("PCX005", "source is larger than the analysis limit; compiled unchanged")
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
            job.remark("PCX002", f"source is not valid UTF-8 (byte {exc.start}); analysed with its "
                                 f"bytes kept as they are")
            text = data.decode("utf-8", "surrogateescape")
        from pcx_driver.model import Language, SourceUnit

        language = {"c": Language.C, "c++": Language.CXX, "cuda": Language.CUDA}[src.language]
        job.unit = SourceUnit(path=src.path, text=text, language=language, directory=self.cmd.cwd,
                              semantic_args=list(inv.semantic_args), whole_program=whole_program(inv))
        directives = _openmp_directives(text)  # (first line, any target construct, first pragma)
        if directives[1] and language is not Language.CUDA and (
                not _target_pragma_in_code(job.unit.data, language)
                or self.cmd.forced_openmp and not _target_pragma_compiled(job.unit)):
            # (a target pragma inside a comment, or in a branch these flags do not compile:
            # Rodinia's ``#ifdef OMP_OFFLOAD``, whose CPU pragmas beside it pcx's switch
            # must not bring to life in a build without -fopenmp)
            directives = (directives[0], False, directives[2])
        if self.cmd.forced_openmp and language is not Language.CUDA and not directives[1]:
            # The user's build compiles without OpenMP (source with target code is an OpenMP
            # program: it compiles as written, the offload compile is what it is there for,
            # the user's or a gate-checked proposal's): every stage, and the compile, sees
            # the source as that build does, its ``_OPENMP`` undefined and its pragmas inert.
            from pcx_driver.engine.ompport import blanked, inert_pragmas, without_openmp_macro

            masked = without_openmp_macro(text, language)
            if masked is not None:
                text = masked
                job.unit = dataclasses.replace(job.unit, text=text)
                job.inert_openmp_text = _with_line_directive(text, src.path)
                job.remark("PCX019", "'_OPENMP' is undefined in this file's #if conditions, as the command line "
                                     "(without OpenMP) has it, though pcx compiles with its OpenMP switch")
            found = inert_pragmas(job.unit.data, language) if directives[0] or b"_Pragma" in job.unit.data else None
            if found is not None and found.pragmas:  # (``#define PAR _Pragma("omp parallel")`` too)
                text = blanked(job.unit, found)
                job.unit = dataclasses.replace(job.unit, text=text)
                job.inert_openmp_text = _with_line_directive(text, src.path)
                directives = _openmp_directives(text)
                live = _compiled_lines(job.unit, [p.line for p in found.pragmas])
                if live:
                    job.remark("PCX019", f"the '#pragma omp' lines (the first at line {live[0]}) are compiled as "
                                         "the command line asks, without OpenMP: blanked, where pcx's OpenMP switch "
                                         "would run them", live[0])
        if language is Language.CUDA:
            self._translate_cuda(job)
            return
        line, has_target, pragma = directives
        planned = False  # target loops the user wrote without maps: pcx plans their data
        refusal = ""  # why the file's own OpenMP keeps pcx out of it (names the construct and line)
        if line and has_target and not cheap:
            from pcx_driver.engine.ompport import scan as scan_openmp

            scanned = scan_openmp(job.unit.data, language)
            refusal = scanned.refuse
            if not refusal and not scanned.pragmas:
                line = 0  # the line scan's hits were all in comments (an example in a header comment)
            # the target code that refuses may sit in a branch these flags do not compile:
            # the pipeline decides on the text they compile (engine/conditionals.py)
            from pcx_driver.engine.conditionals import has_conditionals

            planned = not refusal or has_conditionals(job.unit.data)
        if line and (planned or not (has_target or cheap)):
            # CPU OpenMP goes through the pipeline: the 'parallel for' loops the analysis proves
            # become kernels, the rest stays as written, each loop with its remark
            # (pcx_driver/engine/ompport.py).
            job.remark("PCX003", f"source already uses OpenMP directives ('{pragma}' at line {line}); " + (
                "pcx plans the data of its own target loops and ports its 'parallel for' loops where it proves "
                "them" if has_target else "its 'parallel for' loops are ported where pcx proves them, the rest is "
                "left as it is"), line)
            if has_target:  # whatever the pipeline decides, the text needs the offload compile
                job.text = _with_line_directive(text, src.path)
                job.offload = True
        elif line:
            job.remark("PCX003", f"source already uses OpenMP directives ('{pragma}' at line {line}); "
                                 f"left as it is" + (f": {refusal}" if refusal else ""), line)
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
                    pm = self.settings.plugin_manager(tuple(cfg("plugin")))
                    job.result = self._pipeline(job, pm, decisions)
                    if job.result.dropped:
                        self.cmd.say("warning", f"{src.path}: cached plan decisions dropped, the analysis "
                                                f"does not prove them: {'; '.join(job.result.dropped)} [PCX307]")
                    if job.result.rewrite is not None:
                        job.remark("PCX008", "a cached validated plan was applied")
                else:
                    job.remark("PCX009", "no validated plan for this source (--pcx-mode=validated); "
                                         "compiled unchanged")
                    if not wants_analysis:
                        return
                    pm = self.settings.plugin_manager(tuple(cfg("plugin")))
                    job.result = self._pipeline(job, pm)
                    job.result.rewrite = None  # analysed for the report only, not applied
            else:  # static
                pm = self.settings.plugin_manager(tuple(cfg("plugin")))
                job.result = self._pipeline(job, pm)
        except BudgetExceeded as exc:
            job.result = None
            self.cmd.say("warning", f"{src.path}: {exc}; compiled the original source unchanged [PCX012]")
            return

        if cfg("record"):
            self._record(job)
        if cfg("instrument"):
            analysis = job.result.analysis if job.result is not None else None
            if analysis is None:
                analysis = pm.hook.pcx_analyse(unit=job.unit, config=self.cmd.config)
            from pcx_driver.tune.instrument import instrument_source  # owned by the tune work

            # timers go where the analysis found the nests: in the text it read (old C's
            # 'int' written out moves every offset after it); the key stays the source's
            timed = job.result.written if job.result is not None and job.result.written is not None else job.unit
            job.text = _with_line_directive(instrument_source(timed, analysis, key_unit=job.unit), src.path)
            job.openmp = True
            return
        rewrite = job.result.rewrite if job.result is not None else None
        if rewrite is not None and rewrite.changed:
            job.text = _with_line_directive(rewrite.text, src.path)
            job.offload = True

    def _cached_decisions(self, unit: Any) -> Any:
        """The validated decisions for this source from the plan cache, or None (the cache
        is an optimisation, never a build-breaker: a broken entry is a warning)."""
        try:
            from pcx_driver import plancache

            return plancache.lookup(unit, self.cmd.config, warn=lambda m: self.cmd.say("warning", m))
        except Exception as exc:  # noqa: BLE001
            self.cmd.say("warning", f"{unit.path}: plan cache not read ({type(exc).__name__}: {exc}) [PCX307]")
            return None

    def _pipeline(self, job: SourceJob, pm: Any, decisions: Any = None) -> Any:
        """``run_pipeline`` under the analysis budget (time and memory)."""
        from pcx_driver.pipeline import run_bounded, run_pipeline

        unit, config = job.unit, self.cmd.config
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
        directory = os.path.join(self.cmd.cwd, self.cmd.config.get("record"))
        os.makedirs(directory, exist_ok=True)
        result = job.result
        doc = {
            "key": key,
            "directory": self.cmd.cwd,
            "unit": to_jsonable(unit),
            "analysis": to_jsonable(getattr(result, "analysis", None)),
            "plan": to_jsonable(getattr(result, "plan", None)),
        }
        atomic_write(os.path.join(directory, f"{key}.json"), json.dumps(doc) + "\n")


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


def _target_pragma_in_code(data: bytes, language: Any) -> bool:
    """Whether a ``#pragma omp target ...`` / ``declare target`` line of ``data`` is a
    directive, not text in a comment (which ``_openmp_directives``' line scan also takes):
    tree-sitter's reading; ``_Pragma`` forms count as found."""
    from pcx_driver.engine.ompport import omp_pragma_lines

    return b"_Pragma" in data or any("target" in words[:2] for _, words in omp_pragma_lines(data, language))


def _target_pragma_compiled(unit: Any) -> bool:
    """Whether a target pragma of ``unit`` stands in a preprocessor branch its flags
    compile (libclang's skipped ranges, ``engine/conditionals.active_view``); True where
    that cannot be told."""
    from pcx_driver.engine.conditionals import active_view, has_conditionals

    if not has_conditionals(unit.data):
        return True
    view = active_view(unit)
    if view is None:
        return True
    return _openmp_directives(view.text)[1] and _target_pragma_in_code(view.text.encode("utf-8", "surrogateescape"),
                                                                       unit.language)


def _compiled_lines(unit: Any, lines: list[int]) -> list[int]:
    """Those of ``lines`` in preprocessor branches ``unit``'s flags compile (all of them
    where that cannot be told): a pragma under ``#ifdef USING_OMP`` that the flags leave
    out is no pragma pcx's OpenMP switch would run."""
    from pcx_driver.engine.conditionals import active_view, has_conditionals

    view = active_view(unit) if has_conditionals(unit.data) else None
    if view is None:
        return lines
    return [n for n in lines if not any(a <= n <= b for a, b in view.skipped_lines)]


def _with_line_directive(text: str, path: str) -> str:
    """Make sure the text starts by naming the user's file (``#line 1 "path"``)."""
    if text.lstrip().startswith("#line"):
        return text
    quoted = path.replace("\\", "\\\\").replace('"', '\\"')
    return f'#line 1 "{quoted}"\n{text}'


#: options that let code outside the command's one source call its functions: a shared
#: library or relocatable output, objects handed to the linker, exported symbols
_OPEN_PROGRAM = ("-shared", "-r", "-rdynamic", "-Wl,", "-Xlinker", "-export-dynamic")


def whole_program(inv: Invocation) -> bool:
    """The command builds an executable from exactly one source and nothing else of the
    user's: no other source, object or archive, no shared or relocatable output, no
    symbols exported to libraries loaded later."""
    from pcx_driver.invocation import Mode

    return inv.mode is Mode.COMPILE_LINK and len(inv.inputs) == 1 and inv.inputs[0].rewritable and \
        not any(a == o or a.startswith(o) and o.endswith(",") for a in inv.expanded for o in _OPEN_PROGRAM)


#: how deep ``live_openmp_in_headers`` follows quoted includes (a header's own headers)
_HEADER_DEPTH = 4


def live_openmp_in_headers(source: str, cwd: str, args: list[str]) -> str | None:
    """Where the user's headers that ``source`` includes (``#include "..."`` found beside
    the including file or in the command's ``-I``/``-iquote``/``-isystem`` folders,
    ``#include <...>`` found in those folders, ``-include`` files; a few deep) hold an
    OpenMP directive (``#pragma omp``, ``_Pragma("omp ...")``), or where the source itself
    has a ``_Pragma`` operator that may be OpenMP's: "file:line", or None.

    A build without ``-fopenmp`` leaves those directives inert; pcx's OpenMP switch would
    run them, and only the source's own ``#pragma omp`` lines can be blanked (a held-out
    check: ParRes Kernels' ``prk_openmp.h`` turned the serial stencil into a parallel one
    with a race, and a header's ``#pragma omp parallel`` counted its team)."""
    forced = [args[k + 1] for k, a in enumerate(args) if a in ("-include", "-imacros") and k + 1 < len(args)]
    dirs = [os.path.join(cwd, d) for d in include_dirs(args)]
    # (``_OPENMP`` too: pcx's switch defines it, and the headers' own conditions see it)
    defined = {a[2:].split("=", 1)[0] for a in args if a.startswith("-D") and len(a) > 2} | {"_OPENMP"}
    # names the command line defines: a branch testing one is certainly taken (its
    # #elif and #else siblings then are not), where a file's own #define may sit in a
    # branch that is not compiled
    certain = set(defined)
    # macros whose replacement holds an OpenMP _Pragma: a finding only where a file uses them
    pragma_macros: list[tuple[str, str]] = []
    texts: list[str] = []
    todo = [(os.path.join(cwd, f), 1, False) for f in forced] + [(os.path.join(cwd, source), 0, True)]
    # (read first: a macro of a header may spell the directive the source names,
    # DO_PRAGMA(omp parallel))
    main_text = _head_text(os.path.join(cwd, source))
    seen: set[str] = set()
    while todo:
        path, depth, own = todo.pop()
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        text = main_text if own else _head_text(path)
        if text is None:
            continue
        texts.append(text)
        in_comment = False
        branches: list[bool] = []  # per open #if: whether its current branch may be compiled
        taken: list[bool] = []  # per open #if: whether an earlier branch is certainly compiled
        for no, raw in enumerate(text.splitlines(), 1):
            line, in_comment = _code_of_line(raw, in_comment)
            s = line.lstrip()
            if s.startswith("#"):
                words = s[1:].split()
                kw, arg = (words[0] if words else ""), (words[1] if len(words) > 1 else "")
                if kw in ("if", "ifdef", "ifndef", "elif"):
                    if kw == "elif" and not branches:
                        continue
                    cond = " ".join(words[1:]) if kw in ("if", "elif") else arg
                    may, sure = _branch_holds("if" if kw == "elif" else kw, cond, defined, certain)
                    if kw == "elif":
                        branches[-1] = may and not taken[-1]
                        taken[-1] = taken[-1] or sure
                    else:
                        branches.append(may)
                        taken.append(sure)
                    continue
                if kw == "else" and branches:
                    branches[-1] = not taken[-1]
                    continue
                if kw == "endif" and branches:
                    branches.pop()
                    taken.pop()
                    continue
                if kw == "define" and arg and all(branches):
                    defined.add(arg.split("(", 1)[0])
                if kw == "undef" and arg and all(branches):
                    certain.discard(arg)
            if not all(branches):
                continue
            words = s[1:].replace("(", " ").split() if s.startswith("#") else []
            pragma = words[:2] == ["pragma", "omp"]
            after = s.split("_Pragma", 1)[1].lstrip(" (")[:12] if "_Pragma" in s else ""
            # a _Pragma of a string with omp, or of anything but a string (``_Pragma(#x)``
            # of a DO_PRAGMA(omp parallel) macro) in a text that names omp at all
            operator = "_Pragma" in s and ("omp" in after or not after.startswith('"') and (
                _names_omp(text) or _names_omp(main_text or "")))
            # (the file's own #pragma omp lines are blanked, but for target code, which is
            # compiled as written: the user's, or a pcx tune proposal's, for the device)
            where = f"{os.path.relpath(path, cwd)}:{no}"
            if operator and words[:1] == ["define"] and len(words) > 1 and "omp" in after:
                # ``#define PARALLEL_FOR _Pragma("omp parallel for")``: live where it is used
                pragma_macros.append((words[1], where))
                continue
            if (pragma and not own) or operator:
                return where
            if depth < _HEADER_DEPTH and words[:1] == ["include"] and ('"' in s or "<" in s):
                quoted = '"' in s
                name = s.split('"')[1] if quoted else s.split("<", 1)[1].split(">", 1)[0]
                # (quoted: beside the including file first; <...>: only the command's own
                # folders, not the compiler's system ones)
                for d in ([os.path.dirname(path)] if quoted else []) + dirs:
                    if os.path.isfile(os.path.join(d, name)):
                        todo.append((os.path.join(d, name), depth + 1, False))
                        break
    for name, where in pragma_macros:
        if any(_uses_macro(t, name) for t in texts):
            return where
    return None


def _uses_macro(text: str, name: str) -> bool:
    """Whether ``text`` names macro ``name`` anywhere but in its own ``#define`` line."""
    import re

    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
    for line in text.splitlines():
        if pattern.search(line) and not line.lstrip().lstrip("#").lstrip().startswith(f"define {name}"):
            return True
    return False


def _code_of_line(line: str, in_comment: bool) -> tuple[str, bool]:
    """``line`` without its comments (``//`` to the end, ``/* ... */``), and whether a block
    comment is still open at its end (string literals are not told apart: a ``/*`` in one
    only makes the scan above see less)."""
    out, k = [], 0
    while k < len(line):
        if in_comment:
            end = line.find("*/", k)
            if end < 0:
                return "".join(out), True
            k, in_comment = end + 2, False
            continue
        start, slash = line.find("/*", k), line.find("//", k)
        if slash >= 0 and (start < 0 or slash < start):
            out.append(line[k:slash])
            return "".join(out), False
        if start < 0:
            out.append(line[k:])
            break
        out.append(line[k:start])
        k, in_comment = start + 2, True
    return "".join(out), in_comment


def _branch_holds(keyword: str, condition: str, defined: set[str], certain: set[str]) -> tuple[bool, bool]:
    """(may it be compiled, is it certainly compiled) for an ``#ifdef NAME`` /
    ``#ifndef NAME`` / ``#if`` branch of ``condition``: ``defined`` holds the names the
    command line's ``-D`` and the file's own ``#define`` lines define, ``certain`` those of
    the command line.  ``#if`` is read only as ``0``, ``1``, ``defined(NAME)`` or
    ``defined NAME`` whole (``defined(A) || defined(B)`` may hold whatever A is); any other
    condition may hold and is not certain."""
    if keyword == "ifdef":
        return condition in defined or not condition.isidentifier(), condition in certain
    if keyword == "ifndef":
        return True, False  # (a header guard, or a default: compiled where the name is not defined)
    text = "".join(condition.split())
    if text in ("0", "1"):
        return text == "1", text == "1"
    if text.startswith("defined"):
        name = text[len("defined"):]
        name = name[1:-1] if name.startswith("(") and name.endswith(")") else name
        if name.isidentifier():
            return name in defined, name in certain
    return True, False


def _names_omp(text: str) -> bool:
    """Whether ``omp`` is a word of ``text`` (``DO_PRAGMA(omp parallel)``)."""
    return "omp" in text and "omp" in text.replace("(", " ").replace(")", " ").replace(",", " ").split()


def _head_text(path: str) -> str | None:
    """The first 4 MiB of file ``path`` as text, None where it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(4 << 20).decode("utf-8", "replace")
    except OSError:
        return None
