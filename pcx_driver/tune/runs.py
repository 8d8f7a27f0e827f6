"""Builds and program runs for pcx tune, each in a scratch copy of the project.

Why a copy: a build system decides what to rebuild from file times, not from ``CC``, so
every build (serial, instrumented, each candidate) gets a fresh copy of the project with
its sources touched; and runs that write ``--output`` files never overwrite the user's.
Every build log and every run's stdout, stderr and output files stay in the run's
directory ``.pcx/runs/<id>/<step>/`` for inspection.

Run commands are argument lists (``shlex``); a shell is used only when the user asks for
``--shell``.  Every run has a timeout, after which its whole process group is killed
(``pcx_driver.gate.run_program``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from pcx_driver.model import RunOutput

#: Files a build reads whose times are refreshed in each copy (so make rebuilds them).
SOURCE_SUFFIXES = frozenset(
    ".c .h .cc .cpp .cxx .c++ .hh .hpp .hxx .h++ .inc .inl .cu .cuh .ipp .tpp".split()
)
#: Never copied: pcx's own state and version-control metadata.
SKIP_NAMES = frozenset({".pcx", ".git", ".hg", ".svn"})


class TuneError(Exception):
    """A failure the user must see as one clear message (exit status 1)."""


class UsageError(Exception):
    """A wrong command line or option value (exit status 2)."""


@dataclass(frozen=True)
class RunSpec:
    """One ``--run`` command as the user wrote it and as it is executed."""

    text: str
    argv: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, shell: bool = False) -> "RunSpec":
        if shell:
            return cls(text, ("/bin/sh", "-c", text))
        try:
            argv = tuple(shlex.split(text))
        except ValueError as exc:
            raise UsageError(f"cannot split --run {text!r}: {exc}") from None
        if not argv:
            raise UsageError("--run needs a command")
        return cls(text, argv)


def parse_prefix(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"cannot split --run-prefix {text!r}: {exc}") from None


@dataclass
class BuildResult:
    ok: bool
    tree: Path
    log: Path
    seconds: float
    returncode: int | None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Workspace:
    """The project being tuned and this tune's run directory ``.pcx/runs/<id>``."""

    project: Path
    run_dir: Path
    build_argv: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    timeout: float = 120.0
    build_timeout: float = 1800.0
    keep_trees: bool = False
    _trees: list[Path] = field(default_factory=list)

    # ------------------------------------------------------------ copies and builds

    def copy_project(self, step: str) -> Path:
        """A fresh copy of the project in ``<run_dir>/<step>/tree`` with sources touched."""
        tree = self.run_dir / step / "tree"
        if tree.exists():
            shutil.rmtree(tree)
        tree.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.project, tree, symlinks=True,
                        ignore=lambda d, names: [n for n in names if n in SKIP_NAMES])
        now = time.time()
        for dirpath, _dirs, files in os.walk(tree):
            for name in files:
                if Path(name).suffix.lower() in SOURCE_SUFFIXES:
                    path = Path(dirpath) / name
                    if not path.is_symlink():
                        os.utime(path, (now, now))
        self._trees.append(tree)
        return tree

    def build(self, step: str, env: Mapping[str, str], prepare=None) -> BuildResult:
        """Copy the project and run the build command in the copy with ``env`` added.

        ``prepare(tree)``, when given, edits the copy before the build (e.g. to put an
        LLM-proposed source in place).
        """
        tree = self.copy_project(step)
        if prepare is not None:
            prepare(tree)
        log = self.run_dir / step / "build.log"
        merged = dict(os.environ)
        merged.update(env)
        start = time.monotonic()
        with open(log, "wb") as fh:
            fh.write(f"$ {shlex.join(self.build_argv)}\n".encode())
            fh.write("".join(f"# {k}={v}\n" for k, v in sorted(env.items())).encode())
            fh.flush()
            try:
                proc = subprocess.Popen(self.build_argv, cwd=tree, env=merged, stdin=subprocess.DEVNULL,
                                        stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                fh.write(f"pcx: cannot run {self.build_argv[0]}: {exc.strerror}\n".encode())
                return BuildResult(False, tree, log, 0.0, 127)
            try:
                code: int | None = proc.wait(timeout=self.build_timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
                code = None
                fh.write(f"\npcx: build timed out after {self.build_timeout:g} s\n".encode())
        return BuildResult(code == 0, tree, log, time.monotonic() - start, code)

    def discard(self, tree: Path) -> None:
        """Remove a build tree once its runs are done (logs and outputs stay)."""
        if not self.keep_trees and tree.exists():
            shutil.rmtree(tree, ignore_errors=True)

    def discard_all(self) -> None:
        for tree in self._trees:
            self.discard(tree)

    # ------------------------------------------------------------ runs

    def run(
        self,
        tree: Path,
        spec: RunSpec,
        label: str,
        env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
        save: bool = True,
    ) -> RunOutput:
        """Run ``spec`` in ``tree``; output files are removed before and read after."""
        from pcx_driver.gate import run_program

        for name in self.outputs:
            try:
                (tree / name).unlink()
            except (FileNotFoundError, IsADirectoryError):
                pass
        run = run_program(list(spec.argv), cwd=tree, env=dict(env or {}), timeout=self.timeout, prefix=tuple(prefix))
        for name in self.outputs:
            path = tree / name
            try:
                run.files[name] = path.read_text(encoding="utf-8", errors="replace")
            except (FileNotFoundError, IsADirectoryError):
                pass  # a missing output file is a difference the gate reports
        if save:
            self.save_run(run, label)
        return run

    def save_run(self, run: RunOutput, label: str) -> Path:
        out = self.run_dir / label
        out.mkdir(parents=True, exist_ok=True)
        (out / "stdout").write_text(run.stdout, errors="replace")
        (out / "stderr").write_text(run.stderr, errors="replace")
        status = "timeout" if run.returncode is None else str(run.returncode)
        (out / "status").write_text(f"argv: {shlex.join(run.argv)}\nexit: {status}\nseconds: {run.seconds:.6f}\n")
        for name, text in run.files.items():
            dest = out / "files" / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, errors="replace")
        return out


def _kill_group(pgid: int) -> None:
    import signal

    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def pcx_compilers() -> tuple[str, str]:
    """Paths of pcx-cc and pcx-c++ (next to this Python first: the same installation)."""
    here = Path(sys.executable).parent
    found = []
    for name in ("pcx-cc", "pcx-c++"):
        candidate = here / name
        path = str(candidate) if candidate.exists() else shutil.which(name)
        if path is None:
            raise TuneError(f"{name} is not installed (expected next to {sys.executable} or on PATH)")
        found.append(path)
    return found[0], found[1]


def describe_run(run: RunOutput) -> str:
    if run.returncode is None:
        return f"timed out after {run.seconds:.0f} s"
    if run.returncode < 0:
        import signal

        try:
            return f"was killed by {signal.Signals(-run.returncode).name}"
        except ValueError:
            return f"was killed by signal {-run.returncode}"
    return f"exited with status {run.returncode}"


def last_lines(text: str, n: int = 5) -> str:
    lines = [l for l in text.splitlines() if l.strip()]
    return "\n".join("    " + l for l in lines[-n:])
