"""Running the real compiler: the command whose status is ours, captured compiles, the
early compile of the original source (speculation), and the temp files' cleanup."""

from __future__ import annotations

import os
import sys

from pcx_driver import toolchain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pcx_driver.cc.sources import SourceJob
    from pcx_driver.cc.state import Command
    from pcx_driver.invocation import Invocation


def child_env(cmd: Command, compiler: toolchain.Compiler) -> dict[str, str]:
    env = dict(cmd.environ)
    seen = [p for p in env.get(toolchain.ACTIVE_ENV, "").split(os.pathsep) if p]
    real = os.path.realpath(compiler.path)
    if real not in seen:
        seen.append(real)
    env[toolchain.ACTIVE_ENV] = os.pathsep.join(seen)
    return env


def final(cmd: Command, compiler: toolchain.Compiler, args: list[str]) -> int:
    """Run the command whose status is ours; ``exec`` it when nothing is left to do."""
    argv = [compiler.path, *args]
    env = child_env(cmd, compiler)
    if cmd.allow_exec and not cmd.temp_dirs:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execve(compiler.path, argv, env)
        except OSError as exc:
            raise toolchain.ToolchainError(f"cannot run {compiler.path}: {exc}") from None
    import subprocess

    try:
        return subprocess.call(argv, env=env, cwd=cmd.cwd)
    except OSError as exc:
        raise toolchain.ToolchainError(f"cannot run {compiler.path}: {exc}") from None


def capture(cmd: Command, compiler: toolchain.Compiler, args: list[str]) -> tuple[int, bytes, bytes]:
    import subprocess

    proc = subprocess.run([compiler.path, *args], env=child_env(cmd, compiler), cwd=cmd.cwd,
                          capture_output=True)
    return proc.returncode, proc.stdout, proc.stderr


def should_speculate(cmd: Command, inv: Invocation, jobs: list[SourceJob], compiler: toolchain.Compiler) -> bool:
    """Whether to compile the original source(s) while the analysis runs (see
    pcx_driver/speculate.py): a ``-c`` compile by clang whose sources will be analysed
    (static mode; validated mode with a plan cache or asked for a report, remarks or
    a record), with a second core to do it on.  Outside strict mode every way this
    command ends compiles either that same command or the rewritten text, which
    writes the same outputs over it."""
    from pcx_driver.invocation import Mode

    cfg = cmd.config.get
    if inv.mode is not Mode.COMPILE or inv.too_hard or compiler.family.name != "clang" or cfg("instrument"):
        return False
    if cfg("strict"):
        return False  # a failed command must leave no object, and the early one may be done
    if not any(j.input.rewritable for j in jobs) or any(j.input.language == "cuda" for j in jobs):
        return False
    mode = cfg("mode")
    if not (mode == "static" or (mode == "validated" and (cfg("report") or cfg("remarks") or cfg("record")
                                                          or cmd.plan_cache_exists()))):
        return False
    from pcx_driver import speculate

    return speculate.worth_it()


def start_speculation(cmd: Command, real: toolchain.Compiler, original: list[str]) -> None:
    from pcx_driver import speculate

    argv = [real.path, *speculate.colour_args(original), *original]
    try:
        cmd.speculation = speculate.Speculation(argv, child_env(cmd, real), cmd.cwd)
    except OSError:
        cmd.speculation = None  # the compile runs afterwards, as without speculation


def drop_speculation(cmd: Command) -> None:
    if cmd.speculation is not None:
        spec, cmd.speculation = cmd.speculation, None
        spec.cancel()


def cleanup(cmd: Command, keep: set[str] | frozenset[str] = frozenset()) -> None:
    """Remove the command's temp dirs, but those in ``keep``."""
    if not cmd.temp_dirs:
        return
    import shutil  # start-up time: most commands made no temp dir

    for d in cmd.temp_dirs:
        if d not in keep:
            shutil.rmtree(d, ignore_errors=True)
    cmd.temp_dirs[:] = [d for d in cmd.temp_dirs if d in keep]
