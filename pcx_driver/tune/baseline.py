"""Step 1 of pcx tune: the serial build, its reference runs and their timing.

The project is built with pcx-cc in off mode (the real compiler); every command runs
twice: the first run is the reference, the second proves the output is deterministic
once the lines the gate leaves out are gone (``--ignore`` patterns and timings,
``gate.learn_filter``); then the program is timed (``repeats`` runs, medians).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pcx_driver.tune.gating import Gate, Reference
from pcx_driver.tune.runs import TuneError, UsageError, describe_run, last_lines
from pcx_driver.tune.timing import QUIET_ENV, time_runs

if TYPE_CHECKING:
    from pcx_driver.tune.session import TuneSession


def run_baseline(session: TuneSession) -> Reference:
    """The reference runs and filters the gate compares against; sets the result's
    baseline timing and what is not compared."""
    s, o, progress, result = session, session.options, session.progress, session.result
    progress.step("baseline: serial build and reference runs", total=len(o.runs) * (2 + o.repeats))
    build = s.build("baseline", {**s.base_env(), "PCX_MODE": "off"})
    if not build.ok:
        raise TuneError(
            f"the baseline (serial) build failed: `{' '.join(o.build)}` "
            f"{'timed out' if build.returncode is None else f'exited with status {build.returncode}'}; "
            f"log: {build.log}\n{last_lines(build.tail(), 8)}"
        )
    from pcx_driver.gate import learn_filter

    reference = Reference()
    gate = Gate(s, reference)
    for i, spec in enumerate(o.runs):
        first = s.ws.run(build.tree, spec, f"baseline/run{i}-reference", env=QUIET_ENV, prefix=o.run_prefix)
        progress.advance()
        if first.returncode != 0:
            raise TuneError(
                f"the baseline run `{spec.text}` {describe_run(first)} (--timeout {o.timeout:g}); "
                f"pcx tune needs run commands that succeed with the serial program; "
                f"output in {s.run_dir / 'baseline' / f'run{i}-reference'}\n{last_lines(first.stderr)}"
            )
        second = s.ws.run(build.tree, spec, f"baseline/run{i}-again", env=QUIET_ENV, prefix=o.run_prefix)
        progress.advance()
        try:
            filt, ignored = learn_filter(first, second, s.ignore_patterns, o.ignore_timings, o.rtol, o.atol)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        reference.filters.append(filt)
        verdict = gate.compare(first, second, i)
        if not verdict.passed:
            raise TuneError(
                f"the serial program's output is not deterministic: two runs of `{spec.text}` differ "
                f"({verdict.reasons[0] if verdict.reasons else 'differs'}). pcx tune checks offloaded "
                f"output against it: leave such lines out with --ignore REGEX (timings are left out "
                f"already), or widen --rtol/--atol for numbers"
            )
        reference.runs.append(first)
        for line in ignored:
            text = f"`{spec.text}` {line.describe()}"
            result.ignored.append(text)
            progress.note(f"not compared: {text}")
    result.baseline = time_runs(s, build.tree, "baseline/timing", advance=True)
    s.ws.discard(build.tree)
    progress.note(f"baseline: {len(o.runs)} run(s), median {result.baseline.median:.3f} s "
                  f"(noise {100 * result.baseline.noise:.1f}%)")
    return reference
