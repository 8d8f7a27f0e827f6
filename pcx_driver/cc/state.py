"""What one pcx-cc command shares between its stages: the settings it resolved, the
temp files it made, its internal errors, and how it speaks to the user.

The stages (``settings``, ``sources``, ``rewritten``, ``outputs``, and ``compilers`` for
running the real compiler) each take the ``Command``; ``driver.Driver`` runs them.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pcx_driver.cc.archives import Member
    from pcx_driver.cc.sources import SourceJob


class UsageError(Exception):
    """A user mistake pcx-cc reports with ``pcx-cc: error:`` and exit status 2."""


class TranslationRefused(Exception):
    """A CUDA source uses constructs pcx cannot translate; its remarks say which (exit 1).

    A .cu file cannot go to a non-CUDA compiler unchanged, so this is an error, not a
    fallback."""


class StrictFailure(Exception):
    """An internal failure in strict mode (exit status 1)."""


def say(prog: str, level: str, message: str) -> None:
    sys.stderr.write(f"{prog}: {level}: {message}\n")
    sys.stderr.flush()


class Command:
    """One pcx-cc command's shared state (see the module docstring)."""

    def __init__(self, prog: str, cxx: bool, environ: dict[str, str], cwd: str, allow_exec: bool) -> None:
        self.prog = prog
        self.cxx = cxx
        self.environ = environ
        self.cwd = cwd
        self.allow_exec = allow_exec
        self.config: Any = None  # config.Config, once resolved
        self.internal_errors: list[str] = []
        self.temp_dirs: list[str] = []
        self.archive_words: dict[int, list[str]] = {}  # argv position -> words (see Driver._links_offload_code)
        # argv position -> (real path of the archive, its members with kernels)
        self.archive_members: dict[int, tuple[str, list[Member]]] = {}
        self.speculation: Any = None  # speculate.Speculation: the original compile, started early
        # a PCX007 warning to give only if the original command succeeds (a rewritten
        # build that failed to link: the user's link error, or the rewrite's)
        self.warn_if_original_builds: str | None = None
        self._warned = False

    def say(self, level: str, message: str) -> None:
        say(self.prog, level, message)

    def internal_error(self, job: SourceJob | None, exc: BaseException) -> None:
        where = f" on {job.input.path}" if job else ""
        message = f"internal error{where} ({type(exc).__name__}: {exc})"
        if self.config is not None and self.config.get("strict"):
            raise StrictFailure(message + " [PCX001]")
        self.internal_errors.append(message)
        if job is not None:
            job.text = None
            job.offload = job.openmp = False

    def warn_internal(self) -> None:
        """At most ONE PCX001 line per command, however many things went wrong."""
        if self.internal_errors and not self._warned:
            self._warned = True
            self.say("warning", f"{self.internal_errors[0]}; compiled the original source unchanged [PCX001]")

    def plan_cache_exists(self) -> bool:
        """Whether a plan cache can exist (plancache's contract: --pcx-plan-cache, else
        the nearest usable ``.pcx/`` upward, up to the project root).  Checked before the
        plan cache module is imported, to keep plain compiles cheap."""
        if self.config.get("plan-cache"):
            return True
        from pcx_driver.config import find_plan_cache

        return find_plan_cache(self.cwd, self.config.file) is not None

    #: pcx adds the OpenMP switch the user's command line does not have (``openmp_build``)
    forced_openmp = False

    def openmp_build(self) -> bool:
        """Whether this command belongs to a build in which pcx can rewrite: static mode,
        or validated mode with a plan cache in reach (``--pcx-instrument`` builds are
        static).  In such a build every C/C++ compile and every link gets the family's
        OpenMP switch, so that ``_OPENMP`` means the same in every file: a rewritten unit
        needs OpenMP, and a program whose files disagree on ``_OPENMP`` (a struct member
        or an allocation under ``#if _OPENMP``) breaks.  Elsewhere (mode off, validated
        without a plan cache, offload target none) the user's flags alone decide."""
        mode = self.config.get("mode")
        return mode == "static" or (mode == "validated" and self.plan_cache_exists())
