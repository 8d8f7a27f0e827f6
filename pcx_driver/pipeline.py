"""The offload pipeline for one source: analyse -> plan -> rewrite -> validate.

The driver, ``pcx tune`` and ``pcx translate`` all go through ``run_pipeline``; it calls the
stages only through the plugin manager's hooks.  Errors propagate: deciding whether an
internal error falls back to the original source (the default) or fails (strict mode) is
the caller's job.

``run_bounded`` runs a function (the pipeline, for the driver) in a forked child under a
time and memory budget, so that one pathological source cannot hold up a build: past the
budget the child is killed and ``BudgetExceeded`` names the setting.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pluggy

from pcx_driver.config import Config
from pcx_driver.diagnostics import level_of
from pcx_driver.model import Language, Plan, Remark, Rewrite, SourceUnit, UnitAnalysis


#: a line that may hold OpenMP (engine/ompport.py decides exactly)
_OPENMP_HINT = re.compile(r"#\s*pragma\s+omp|_Pragma")


@dataclass
class PipelineResult:
    unit: SourceUnit
    analysis: UnitAnalysis | None = None
    plan: Plan | None = None
    rewrite: Rewrite | None = None  # None: compile the original source
    remarks: list[Remark] = field(default_factory=list)
    # cached decisions the analysis did not prove (validated mode), one message each
    dropped: list[str] = field(default_factory=list)
    # the unit as the rewriter reads it (the branches these flags compile, old C's 'int'
    # written out, the user's pragmas in place): the analysis's byte offsets are into its
    # text, which may be longer than ``unit``'s
    written: SourceUnit | None = None


def run_pipeline(
    unit: SourceUnit, pm: pluggy.PluginManager, config: Config, decisions: Any = None
) -> PipelineResult:
    """Run the stages on ``unit``.

    With ``decisions`` (``plancache.CachedDecisions`` from the validated plan cache) the
    fresh plan is restricted to them (``plancache.apply_decisions``): every clause still
    comes from this analysis of this source, never from the cache.
    """
    result = PipelineResult(unit)
    # A source that already uses OpenMP: the analysis, the planner and the plan checker see
    # its pragmas blanked (its loops as serial code, every offset unchanged); the rewriter
    # and the validator see the text as written, and replace the pragmas of ported loops.
    from pcx_driver.engine import conditionals

    if unit.openmp is None and unit.language is not Language.CUDA and (
            _OPENMP_HINT.search(unit.text) or conditionals.inside_functions(unit)):
        # OpenMP under #ifdef: decided on the branches these flags compile (target code in
        # a branch the build leaves out is not the user's offload code); every stage, the
        # rewriter included, sees that text (engine/conditionals.py).  So does a unit with
        # #if lines in its function bodies (debug prints in a loop nest)
        view = conditionals.active_view(unit)
        if view is not None:
            unit = dataclasses.replace(unit, text=view.text)
        if view is not None and view.skipped_lines:
            spans = ", ".join(f"{a}-{b}" for a, b in view.skipped_lines[:6]) + (", ..." if len(view.skipped_lines) > 6 else "")
            result.remarks.append(Remark("PCX013", unit.path, view.skipped_lines[0][0], 1, (
                f"preprocessor branches these flags do not compile (lines {spans}) and the #if/#ifdef lines "
                "are left out of the analysis and of the rewritten source")))
        elif view is not None:
            result.remarks.append(Remark("PCX013", unit.path, view.directive_lines[0], 1, (
                "these flags compile every preprocessor branch; the #if/#ifdef lines are left out of the analysis "
                "and of the rewritten source")))
    result.remarks.extend(_include_remarks(unit))
    from pcx_driver.engine import oldc

    explicit = oldc.explicit_int(unit)
    if explicit is not None:  # every stage, the rewriter included, reads the 'int' written out
        unit = dataclasses.replace(unit, text=explicit[0])
        lines = ", ".join(str(n) for n in explicit[1][:6]) + (", ..." if len(explicit[1]) > 6 else "")
        result.remarks.append(Remark("PCX015", unit.path, explicit[1][0], 1, (
            f"function definitions without a return type (line{'s' if len(explicit[1]) > 1 else ''} {lines}) are "
            "read and compiled with the implicit 'int' written out")))
    written = unit
    if unit.openmp is None and unit.language is not Language.CUDA and _OPENMP_HINT.search(unit.text):
        from pcx_driver.engine import ompport

        found = ompport.scan(unit.data, unit.language)
        if found.refuse:
            p = found.pragmas[0] if found.pragmas else None
            line, col = (p.line, p.column) if p is not None else (1, 1)
            result.remarks.append(Remark("PCX003", unit.path, line, col, f"source already uses OpenMP directives; "
                                         f"left as it is: {found.refuse}"))
            return result
        if found.pragmas:
            written = dataclasses.replace(unit, openmp=found)
            unit = dataclasses.replace(unit, text=ompport.blanked(unit, found), openmp=found)
    result.written = written
    if decisions is not None and decisions.trusts_pragmas():
        # the gate passed a kernel that rests on the user's pragma (PCX129): analyse as it did
        config = dataclasses.replace(config, values={**config.values, "trust-pragmas": True})
    result.analysis = pm.hook.pcx_analyse(unit=unit, config=config)
    if result.analysis is None:
        return result
    if unit.openmp is not None and unit.openmp.refuse:  # the user's own kernels cannot be planned
        result.remarks.append(Remark("PCX003", unit.path, 1, 1, f"source already uses OpenMP directives; left as "
                                     f"it is: {unit.openmp.refuse}"))
        return result
    result.remarks.extend(result.analysis.remarks)
    plan = pm.hook.pcx_plan(unit=unit, analysis=result.analysis, config=config)
    if plan is None:
        return result
    if decisions is not None:
        from pcx_driver.plancache import apply_decisions

        plan, result.dropped = apply_decisions(unit, result.analysis, plan, decisions)
    # Whatever planned it (the engine, a plugin, the LLM), a plan reaches the rewriter only
    # after the plan checker has walked it; what fails is demoted, with its check's ID.
    from pcx_driver.engine.plancheck import enforce as enforce_plan

    plan = enforce_plan(unit, result.analysis, plan)
    from pcx_driver.engine.traffic import keep_outweighed_serial

    keep_outweighed_serial(unit, result.analysis, plan)
    # Run-time work guards depend on the data regions the check left standing.
    from pcx_driver.engine.workguard import attach_work_guards, min_work

    attach_work_guards(unit, result.analysis, plan, min_work(config))
    from pcx_driver.engine.traffic import region_traffic

    plan.remarks.extend(region_traffic(unit, result.analysis, plan))
    if unit.openmp is not None:
        from pcx_driver.engine.ompport import keep_user_kernels

        why = keep_user_kernels(plan, unit.openmp)
        if why:
            result.remarks.append(Remark("PCX003", unit.path, 1, 1, f"source already uses OpenMP directives; left "
                                         f"as it is: {why}"))
            return result
    result.plan = plan
    result.remarks.extend(plan.remarks)
    for k in plan.kernels:
        result.remarks.extend(k.remarks)
    if not plan.offloaded():
        return result
    rewrite = pm.hook.pcx_rewrite(unit=written, plan=plan, config=config)
    if rewrite is None:
        return result
    if rewrite.withdrawn:
        untrue = set(rewrite.withdrawn)
        result.remarks = [r for r in result.remarks if (r.line, r.id) not in untrue]
    result.remarks.extend(rewrite.remarks)
    problems = [r for rs in pm.hook.pcx_validate(unit=written, rewrite=rewrite, config=config) if rs for r in rs]
    result.remarks.extend(problems)
    if any(level_of(r.id) == "error" for r in problems):
        return result
    result.rewrite = rewrite
    return result


# ------------------------------------------------------------------ budgets


def out_of_memory(exc: BaseException) -> bool:
    """An error that the address-space limit causes: MemoryError, or a library that could
    not be mapped (``failed to map segment``) or allocate (ENOMEM)."""
    import errno

    if isinstance(exc, MemoryError) or getattr(exc, "errno", None) == errno.ENOMEM:
        return True
    text = str(exc)
    return "failed to map segment" in text or "Cannot allocate memory" in text


class BudgetExceeded(Exception):
    """The analysis of one source ran past its time or memory budget; the message names
    the setting that sets it."""


def run_bounded(fn: Callable[[], Any], seconds: float, megabytes: int) -> Any:
    """``fn()`` in a forked child, at most ``seconds`` of CPU time and ``megabytes`` of
    address space (0: no limit); its result (or its exception) comes back pickled.

    Past the time budget the child is killed; a MemoryError in the child becomes
    BudgetExceeded too.  With no limit at all, ``fn`` runs in this process.  The budget is
    the child's CPU time (RLIMIT_CPU), so that what a build makes does not depend on the
    machine's load (a held-out check: NPB's BT, SP and LU fell back whole-file on a busy
    machine at 60 s of wall time); four times the budget of wall time is a backstop for a
    child that waits instead of computing.
    """
    if seconds <= 0 and megabytes <= 0:
        return fn()
    import os
    import pickle
    import select
    import signal
    import sys
    import time

    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 0
        try:
            os.close(read_end)
            import resource

            if megabytes > 0:
                limit = megabytes << 20
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            if seconds > 0:
                cpu = max(1, int(seconds + 0.999))
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
            try:
                payload = pickle.dumps(("ok", fn()))
            except MemoryError:
                payload = pickle.dumps(("memory", None))
            except BaseException as exc:  # noqa: BLE001 - the parent decides what an error means
                if megabytes > 0 and out_of_memory(exc):
                    payload = pickle.dumps(("memory", None))
                else:
                    payload = None
                try:
                    if payload is None:
                        payload = pickle.dumps(("error", exc))
                except Exception:  # noqa: BLE001 - an exception that does not pickle
                    payload = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001
            status = 3
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)
    os.close(write_end)
    deadline = time.monotonic() + 4 * seconds if seconds > 0 else None
    chunks: list[bytes] = []
    timed_out = False
    try:
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], wait)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        if timed_out:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise BudgetExceeded(f"analysis took longer than {seconds:g} s (--pcx-analysis-budget / "
                             f"PCX_ANALYSIS_BUDGET)")
    try:
        kind, value = pickle.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 - the child died before it could answer
        if seconds > 0 and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
            raise BudgetExceeded(f"analysis took longer than {seconds:g} s (--pcx-analysis-budget / "
                                 f"PCX_ANALYSIS_BUDGET)") from None
        if os.WIFSIGNALED(status):
            why = f"was killed by signal {os.WTERMSIG(status)}"
        else:
            why = f"exited with status {os.WEXITSTATUS(status)}"
        if megabytes > 0 and os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGABRT, signal.SIGSEGV,
                                                                               signal.SIGKILL, signal.SIGBUS):
            # under an address-space limit, a library that cannot allocate aborts (LLVM's
            # "out of memory") or faults: that is the budget, not a bug
            raise BudgetExceeded(f"analysis {why} under its memory budget of {megabytes} MB "
                                 "(--pcx-analysis-memory / PCX_ANALYSIS_MEMORY)") from None
        if megabytes > 0:
            why += f" (memory budget {megabytes} MB: --pcx-analysis-memory / PCX_ANALYSIS_MEMORY)"
        raise RuntimeError(f"the analysis process {why}") from None
    if kind == "memory":
        raise BudgetExceeded(f"analysis needed more than {megabytes} MB of memory (--pcx-analysis-memory / "
                             f"PCX_ANALYSIS_MEMORY)")
    if kind == "error":
        raise value
    return value


_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".cu")
_HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".hxx", ".inl", ".cuh")
_LARGEST_HEADER = 2 << 20  # bytes read of a header, at most


def _include_remarks(unit: SourceUnit) -> list[Remark]:
    """What the unit's ``#include`` lines hide from the analysis, which reads the unit's
    own text: one PCX014 remark per ``#include "kernel.cc"`` (a helper found Parboil's sgemm
    and mri-q kernels skipped in silence), and one PCX018 per ``#include "kernels.h"``
    (quoted, found beside the source or in its ``-I`` folders) whose header defines
    functions with loops (HeCBench's laplace3d, lrn, mandelbrot, lci, maxFlops)."""
    if unit.language is Language.CUDA:
        return []
    sources = any(s.encode() + q in unit.data for s in _SOURCE_SUFFIXES for q in (b'"', b">"))
    headers = b'#include "' in unit.data.replace(b"# include", b"#include")
    if not (sources or headers):
        return []  # (no such include: no walk of the tree on every compile)
    from pcx_driver.engine import hostaccess

    out = []
    for n in hostaccess.nodes_of_type(unit.data, unit.language, "preproc_include"):
        path = n.child_by_field_name("path")
        if path is None:
            continue
        name = unit.data[path.start_byte:path.end_byte].decode("utf-8", "replace").strip('"<>')
        if name.endswith(_SOURCE_SUFFIXES):
            out.append(Remark("PCX014", unit.path, n.start_point[0] + 1, n.start_point[1] + 1,
                              f"'{name}' is a source file included here: its loops are not analysed "
                              "(compile it as a translation unit of its own)"))
        elif headers and path.type == "string_literal" and name.endswith(_HEADER_SUFFIXES):
            loops = _functions_with_loops(unit, name)
            if loops:
                out.append(Remark("PCX018", unit.path, n.start_point[0] + 1, n.start_point[1] + 1, (
                    f"'{name}' defines functions with loops ({loops}), which pcx does not analyse in a header: "
                    "their loops stay as written")))
    return sorted(out, key=lambda r: r.line)


def _functions_with_loops(unit: SourceUnit, header: str) -> str:
    """The names (at most three) of the functions with loops that ``header``, found beside
    the unit or in its ``-I`` folders, defines; "" when none or when it cannot be read."""
    import os

    from pcx_driver.engine import hostaccess

    base = os.path.dirname(os.path.join(unit.directory or ".", unit.path))
    dirs = [base] + [os.path.join(unit.directory or ".", a[2:]) for a in unit.semantic_args
                     if a.startswith("-I") and len(a) > 2]
    found = next((os.path.join(d, header) for d in dirs if os.path.isfile(os.path.join(d, header))), None)
    try:
        if found is None or os.path.getsize(found) > _LARGEST_HEADER:
            return ""
        with open(found, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    loops = [fn for fn in hostaccess.function_definitions(data, unit.language)
             if any(x.type in hostaccess.LOOP_TYPES for x in hostaccess.all_nodes(fn))]
    return ", ".join(f"'{hostaccess.function_name(fn, data)}'" for fn in loops[:3]) + (", ..." if len(loops) > 3 else "")
