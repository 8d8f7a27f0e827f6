"""``pcx tune`` and ``pcx report``: validate, profile, refine and cache offload plans.

Exit status: 0 success, 1 the tuning failed (the message says why), 2 usage errors.
"""

from __future__ import annotations

import json
import shlex
import sys
import traceback
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pcx_driver.config import ConfigError
from pcx_driver.tune.flow import Progress, TuneOptions, Tuner
from pcx_driver.tune.runs import RunSpec, TuneError, UsageError, parse_prefix


class RichProgress(Progress):
    """Progress bars on stderr for the long steps; plain notes when not on a terminal."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self._progress = None
        self._task = None
        if console.is_terminal and not quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bars

            self._progress = Bars(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=console, transient=True)
            self._progress.start()

    def step(self, title: str, total: int | None = None) -> None:
        if self._progress is not None:
            if self._task is not None:
                self._progress.update(self._task, visible=False)
            self._task = self._progress.add_task(title, total=total)
        elif not self.quiet:
            self.console.print(f"pcx tune: {title}", highlight=False, markup=False)

    def advance(self, n: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"  {message}", highlight=False, markup=False)

    def done(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _split_command(text: str, what: str, shell: bool) -> tuple[str, ...]:
    if shell:
        return ("/bin/sh", "-c", text)
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise click.UsageError(f"cannot split {what} {text!r}: {exc}") from None
    if not argv:
        raise click.UsageError(f"{what} needs a command")
    return argv


def _plugin_options(plugins: tuple[str, ...]) -> set[str]:
    from pcx_driver.plugins import make_plugin_manager

    pm, _errors = make_plugin_manager(plugins)
    return {s.name for specs in pm.hook.pcx_add_options() if specs for s in specs}


@click.command("tune")
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The project directory (default: the current one).")
@click.option("--build", "build", required=True, metavar="CMD", help='Build command, e.g. "make".')
@click.option("--run", "runs", multiple=True, required=True, metavar="CMD",
              help='A run command, e.g. "./app 512" (repeatable; all must pass the gate).')
@click.option("--output", "outputs", multiple=True, metavar="FILE",
              help="A file the program writes, compared like stdout (repeatable).")
@click.option("--ignore", "ignore", multiple=True, metavar="REGEX",
              help="Output lines the gate does not compare (repeatable; adds to pcx.toml's `ignore`).")
@click.option("--ignore-timings/--no-ignore-timings", default=True, show_default=True,
              help="Leave timings (0.12 s, 12 ms, GB/s, the numbers after 'time'/'elapsed'/'took') out of "
                   "the comparison.")
@click.option("--rtol", type=click.FloatRange(min=0), default=1e-6, show_default=True,
              help="Relative tolerance for numbers.")
@click.option("--atol", type=click.FloatRange(min=0), default=1e-9, show_default=True,
              help="Absolute tolerance for numbers.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=120, show_default=True,
              help="Seconds per run; the run's process group is killed after it.")
@click.option("--budget", type=click.IntRange(min=0), default=6, show_default=True,
              help="Refinement variants to build and measure at most.")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Timed repetitions per measurement (medians are compared).")
@click.option("--gate-repeats", type=click.IntRange(min=1), default=2, show_default=True,
              help="Gate runs per command (with 2, 3, ... threads: races show only when threads overlap).")
@click.option("--min-share", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Offload only nests taking at least this share of the measured time.")
@click.option("--run-prefix", metavar="CMD", help='Launcher for gate and profile runs, e.g. "srun -p gpu -n 1".')
@click.option("--shell", is_flag=True, help="Run --build and --run commands through /bin/sh.")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE", help="Extra pcx plugin (repeatable).")
@click.option("--refine/--no-refine", default=True, show_default=True, help="Try tuning variants.")
@click.option("--keep-slower", is_flag=True,
              help="Keep kernels, and plans, measured slower than the serial code (your GPU differs from this machine).")
@click.option("--keep-builds", is_flag=True, help="Keep every build tree under .pcx/runs/<id>/.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--llm/--no-llm", default=None, help="Offer refused hot nests to the LLM plugin.")
@click.option("--llm-max-attempts", type=click.IntRange(min=1), default=None, help="LLM attempts per nest.")
@click.option("--llm-max-tokens", type=click.IntRange(min=1), default=None, help="LLM tokens per attempt.")
def tune(directory: Path, build: str, runs: tuple[str, ...], outputs: tuple[str, ...], ignore: tuple[str, ...],
         ignore_timings: bool, rtol: float, atol: float,
         timeout: float, budget: int, repeats: int, gate_repeats: int, min_share: float, run_prefix: str | None, shell: bool,
         plugins: tuple[str, ...], refine: bool, keep_slower: bool, keep_builds: bool, as_json: bool,
         llm: bool | None,
         llm_max_attempts: int | None, llm_max_tokens: int | None) -> None:
    """Gate, profile and refine offload plans for a project; cache the validated ones.

    \b
    Example:
        pcx tune --build make --run "./app 512" --run "./app 64 3" --output result.txt
    Afterwards a plain `CC=pcx-cc make` applies the validated plans from .pcx/.

    \b
    The gate compares stdout, stderr and every --output file with the serial
    run's, leaving out libomptarget's own lines, timings and --ignore lines;
    the report lists what it left out.
    """
    console = Console(stderr=True)
    if not directory.is_dir():
        raise click.UsageError(f"-C {directory}: not a directory")
    for name in outputs:
        p = Path(name)
        if p.is_absolute() or ".." in p.parts:
            raise click.UsageError(f"--output {name}: give a path inside the project")
    from pcx_driver.gate import compile_patterns

    try:
        compile_patterns(ignore)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    llm_values: dict[str, Any] = {}
    if llm or llm_max_attempts is not None or llm_max_tokens is not None:
        known = _plugin_options(plugins)
        if "llm" not in known:
            raise click.UsageError("--llm needs the LLM plugin (it declares the 'llm' setting); it is not "
                                   "installed or not loaded (--plugin MODULE)")
        llm_values["llm"] = bool(llm)
        if llm_max_attempts is not None:
            llm_values["llm-max-attempts"] = llm_max_attempts
        if llm_max_tokens is not None:
            llm_values["llm-max-tokens"] = llm_max_tokens
    try:
        options = TuneOptions(
            project=directory,
            build=_split_command(build, "--build", shell),
            runs=[RunSpec.parse(r, shell) for r in runs],
            outputs=tuple(outputs),
            ignore=tuple(ignore),
            ignore_timings=ignore_timings,
            rtol=rtol,
            atol=atol,
            timeout=timeout,
            budget=budget,
            run_prefix=parse_prefix(run_prefix),
            repeats=repeats,
            gate_repeats=gate_repeats,
            min_share=min_share,
            plugins=tuple(plugins),
            keep_trees=keep_builds,
            refine=refine,
            keep_slower=keep_slower,
            config_values=llm_values,
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None

    progress = RichProgress(console, quiet=False)
    tuner = None
    try:
        tuner = Tuner(options, progress)
        result = tuner.run()
    except (UsageError, ConfigError) as exc:
        progress.done()
        raise click.UsageError(str(exc)) from None
    except TuneError as exc:
        progress.done()
        _fail(console, str(exc), as_json, tuner)
    except KeyboardInterrupt:
        progress.done()
        console.print("pcx tune: interrupted", highlight=False, markup=False)
        sys.exit(130)
    except Exception as exc:  # a pcx bug: one line for the user, the traceback in the run directory
        progress.done()
        where = ""
        if tuner is not None:
            log = Path(tuner.run_dir) / "traceback.txt"
            try:
                log.write_text(traceback.format_exc())
                where = f"; details in {log}"
            except OSError:
                pass
        _fail(console, f"internal error ({type(exc).__name__}: {exc}){where}", as_json, tuner)
    data = result.to_json()
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        from pcx_driver.tune.report import print_result

        print_result(data, _stdout_console())


def _stdout_console() -> Console:
    # a table piped to a file or a CI log would otherwise be squeezed into 80 columns
    return Console() if sys.stdout.isatty() else Console(width=200)


def _fail(console: Console, message: str, as_json: bool, tuner: Any) -> None:
    if as_json:
        run_dir = str(tuner.run_dir) if tuner is not None else None
        click.echo(json.dumps({"status": "failed", "message": message, "run_dir": run_dir}, indent=1))
    console.print(f"pcx tune: error: {message}", highlight=False, markup=False)
    sys.exit(1)


@click.command("report")
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The project directory (default: the current one).")
@click.option("--json", "as_json", is_flag=True, help="Print the kernel rows as JSON.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Draw per-kernel time and bytes to this PNG file.")
def report(directory: Path, as_json: bool, plot_file: Path | None) -> None:
    """Show the validated plans in the plan cache with their measurements."""
    from pcx_driver import plancache
    from pcx_driver.config import Config
    from pcx_driver.tune.report import kernel_table, plot, rows_from_cache, summary_lines

    console = Console(stderr=True)
    try:
        config = Config.resolve({}, cwd=directory)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    cache = plancache.cache_dir(config, directory)
    if cache is None or not plancache.plans_dir(cache).is_dir():
        console.print(f"pcx report: no plan cache under {directory.resolve()} (run pcx tune first)",
                      highlight=False, markup=False)
        sys.exit(1)
    rows, warnings, latest = rows_from_cache(cache)
    for w in warnings:
        console.print(f"pcx report: warning: {w}", highlight=False, markup=False)
    if as_json:
        click.echo(json.dumps({"cache": str(cache), "kernels": rows, "latest": latest}, indent=1))
    else:
        out = _stdout_console()
        out.print(kernel_table(rows, f"validated plans in {cache}"))
        for line in summary_lines(latest):
            out.print(line, highlight=False, markup=False)
    if plot_file is not None:
        try:
            plot(rows, plot_file)
        except OSError as exc:
            console.print(f"pcx report: cannot write {plot_file}: {exc.strerror}", highlight=False, markup=False)
            sys.exit(1)
        console.print(f"pcx report: wrote {plot_file}", highlight=False, markup=False)
