"""The gate of one build: its runs compared with the serial reference, then one info run.

Every run command runs ``gate_repeats`` times under gate.GATE_ENV (libomptarget silent,
one more thread each time) and is compared with its reference (stdout, stderr,
``--output`` files) by the pcx_compare hook, after leaving out what the gate does not
compare (``gate.learn_filter``, from the baseline); then once under gate.VALIDATION_ENV
(INFO=51), never compared: it only has to exit like the reference and use no unmapped
pointer, and it is where launches and bytes are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pcx_driver.model import GateVerdict, RunOutput
from pcx_driver.tune.profiling import RunProfile, run_profile

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


@dataclass
class Reference:
    """The serial program's reference run of each command, and what the gate leaves out
    of each (a gate.OutputFilter per command)."""

    runs: list[RunOutput] = field(default_factory=list)
    filters: list[Any] = field(default_factory=list)


@dataclass
class GateRuns:
    """The gate runs of one build: why it fails ([] when it passes), the kernels its info
    runs launched, their launches and bytes, and the first compared runs' seconds."""

    reasons: list[str] = field(default_factory=list)
    launched: list[str] = field(default_factory=list)
    profile: RunProfile = field(default_factory=RunProfile)
    seconds: float = 0.0


class Gate:
    """Gates builds against ``reference``."""

    def __init__(self, session: TuneSession, reference: Reference) -> None:
        self.session = session
        self.reference = reference

    def compare(self, reference: RunOutput, candidate: RunOutput, index: int) -> GateVerdict:
        """Compare two runs of run command ``index`` through the pcx_compare hook, after
        leaving out what the gate does not compare (``reference.filters[index]``)."""
        filters = self.reference.filters
        if index < len(filters):
            reference, candidate = filters[index].apply(reference), filters[index].apply(candidate)
        s = self.session
        verdict = s.pm.hook.pcx_compare(reference=reference, candidate=candidate, config=s.config)
        if verdict is None:
            from pcx_driver.gate import compare_runs

            verdict = compare_runs(reference, candidate, s.options.rtol, s.options.atol, stderr=True)
        return verdict

    def run(self, tree: Path, label: str) -> GateRuns:
        """Gate the program built in ``tree`` (see the module docstring)."""
        from pcx_driver.gate import info_run_problems, kernel_launches

        s, o = self.session, self.session.options
        out = GateRuns()
        for rep, env in enumerate(gate_environments(o.gate_repeats)):
            for i, spec in enumerate(o.runs):
                where = f"{label}/gate-run{i}" + (f"-rep{rep}" if rep else "")
                run = s.ws.run(tree, spec, where, env=env, prefix=o.run_prefix)
                if rep == 0:
                    out.seconds += run.seconds
                verdict = self.compare(self.reference.runs[i], run, i)
                if not verdict.passed:
                    threads = f" (OMP_NUM_THREADS={env['OMP_NUM_THREADS']})" if rep else ""
                    out.reasons = ([f"`{spec.text}`{threads}: {r}" for r in verdict.reasons]
                                   or [f"`{spec.text}` failed the gate"])
                    return out
        for i, spec in enumerate(o.runs):
            run = s.ws.run(tree, spec, f"{label}/info-run{i}", env=info_environment(), prefix=o.run_prefix)
            problems = info_run_problems(self.reference.runs[i], run)
            if problems:
                out.reasons = [f"`{spec.text}`: {r}" for r in problems]
                return out
            info = info_only(run)
            out.launched += kernel_launches(info.stderr)
            out.profile.merge(run_profile(s.pm.hook.pcx_profile(run=info, config=s.config), info.stderr, None))
        return out


def gate_environments(repeats: int) -> list[dict[str, str]]:
    """The compared gate runs' environment for each repetition: GATE_ENV, then the same
    with one more thread each time.  A race shows only when iterations of different
    threads overlap; different team sizes on a busy machine give it more chances."""
    from pcx_driver.gate import GATE_ENV

    base = int(GATE_ENV.get("OMP_NUM_THREADS", "2"))
    return [{**GATE_ENV, "OMP_NUM_THREADS": str(base + r)} for r in range(max(1, repeats))]


def info_environment() -> dict[str, str]:
    """The environment of the run that counts launches and bytes (never compared)."""
    from pcx_driver.gate import VALIDATION_ENV

    return dict(VALIDATION_ENV)


def info_only(run: RunOutput) -> RunOutput:
    """``run`` with the runtime's INFO lines as its stderr, wherever the run command sent
    them (``./app 2> log.txt``), and nothing else: what the launch and byte counters read."""
    from pcx_driver.gate import runtime_lines

    return RunOutput(list(run.argv), run.returncode, "", runtime_lines(run), run.seconds)
