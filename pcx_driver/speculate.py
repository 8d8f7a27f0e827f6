"""Compile the original source while the analysis runs (static mode's build time).

A command that analyses its sources (static mode; validated mode with a plan cache or
with --pcx-report/--pcx-remarks/--pcx-record) most often ends by compiling the original
source anyway: no loop of the file was offloaded.  That compile does not depend on the
analysis, so it starts before it, on another core, with the exact command the driver
would run afterwards; the driver then either takes its result (no rewrite: the same
command, the same outputs, earlier) or stops it before compiling the rewritten text
(a rewrite: a core's worth of work lost, nothing else).  A build made with ``make -j1``
on a machine with two cores pays max(analysis, compile) instead of their sum; a build
that already keeps every core busy pays nothing extra when no file is rewritten (the
same compiles run, in another order).

Never in strict mode (a command that fails must leave no object behind, and the early
compile may have written one); only for clang (it compiles in the driver's own process,
so stopping that one process stops the compile, and LLVM removes its temporary outputs);
only with a second core.
The compiler's stdout and stderr go to temporary files and are written out when the
result is taken, after pcx's own remarks, as for a rewritten compile; on a terminal,
clang's colours are kept with ``-fcolor-diagnostics`` unless the command chose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

_COLOUR_FLAGS = ("-fcolor-diagnostics", "-fno-color-diagnostics", "-fdiagnostics-color", "-fno-diagnostics-color")


def worth_it() -> bool:
    """Whether a second core is there to run the compile beside the analysis."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) > 1


def colour_args(args: list[str]) -> list[str]:
    """``-fcolor-diagnostics`` when clang would colour its messages (stderr a terminal)
    but will write them to a file instead; nothing when the command chose itself."""
    if any(a.startswith(_COLOUR_FLAGS) for a in args):
        return []
    try:
        return ["-fcolor-diagnostics"] if sys.stderr.isatty() else []
    except (AttributeError, ValueError):
        return []


class Speculation:
    """One compile started ahead of the decision that needs it."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        self.argv = argv
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)

    def take(self) -> int:
        """Wait for the compile, write its stdout and stderr out, return its status."""
        assert self._proc is not None
        status = self._proc.wait()
        self._proc = None
        for f, stream in ((self._out, sys.stdout), (self._err, sys.stderr)):
            f.seek(0)
            stream.flush()
            data = f.read()
            if data:
                stream.buffer.write(data)
                stream.buffer.flush()
            f.close()
        return status

    def cancel(self) -> None:
        """Stop the compile (if still running) and wait for it: nothing it started writes
        after this returns.  Its output is dropped."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except OSError:
                    pass
            proc.wait()
        for f in (self._out, self._err):
            if not f.closed:
                f.close()
