"""The correctness gate: run a program the strict way and compare it with the serial run.

- ``VALIDATION_ENV``: the environment every gate run uses on the host device
  (OMP_TARGET_OFFLOAD=MANDATORY, LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD=0,
  MALLOC_PERTURB_=165, LIBOMPTARGET_INFO=51, OMP_NUM_THREADS>=2).
- ``run_program(argv, cwd, env, timeout, prefix) -> RunOutput``: run in its own process
  group, kill the group on timeout.
- ``GATE_ENV``: VALIDATION_ENV with libomptarget silent: the runs whose output is compared.
  Launches, bytes and unmapped pointers are counted in a separate run under VALIDATION_ENV
  (``info_run_problems``), never in a compared one.
- ``compare_runs(reference, candidate, rtol, atol, stderr) -> GateVerdict``: numbers within
  tolerance, other text exact, same exit status, no unmapped pointer, no crash/timeout;
  libomptarget's and libomp's own messages are never part of the compared text.
- ``learn_filter(first, second, patterns, timings) -> (OutputFilter, [IgnoredLine])``: from
  two serial runs, what the gate leaves out: lines matching ``--ignore`` patterns, and
  timings (see ``timing_positions``); ``OutputFilter.apply(run)`` removes them.
- ``unmapped_pointers(stderr) -> list[str]``: names used as ``use_address(p)`` without a
  ``Mapping exists ... Name=p`` line (the INFO=51 rule of TOOLCHAIN.md).
- ``kernel_launches(stderr) -> list[str]``: kernel names launched (INFO 0x10 lines).
- ``check_portable_openmp(unit, rewrite) -> list[Remark]``: rejects non-portable syntax.

Every verdict reason ends with the stable remark ID it corresponds to (``[PCX301]`` output
differs, ``[PCX302]`` unmapped pointer, ``[PCX303]`` crash or exit status, ``[PCX304]``
timeout), so callers can grep or classify them.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pcx_driver.model import GateVerdict, Remark, Rewrite, RunOutput, SourceUnit

#: The environment of every gate run (merged over the caller's environment).  Each entry
#: closes a blind spot of the host device (see /work/shared/TOOLCHAIN.md):
#: MANDATORY makes a failed offload an error instead of a silent host fallback; the
#: memory-manager threshold and MALLOC_PERTURB_ stop the pooled allocator and fresh heap
#: pages from hiding a missing ``map(to:)``; INFO=51 (0x01|0x02|0x10|0x20) prints kernel
#: arguments, existing mappings, launches and copies, from which ``unmapped_pointers`` and
#: ``pcx_driver.profile`` work; two threads are needed for races to show at all.
VALIDATION_ENV: dict[str, str] = {
    "OMP_TARGET_OFFLOAD": "MANDATORY",
    "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
    "MALLOC_PERTURB_": "165",
    "LIBOMPTARGET_INFO": "51",
    "OMP_NUM_THREADS": "2",
}

#: The environment of a gate run whose output is compared: the same strictness, and
#: libomptarget silent, so that nothing the runtime prints lands in the program's stderr
#: or in a file that receives it.  (A user's LIBOMPTARGET_INFO would otherwise leak in.)
GATE_ENV: dict[str, str] = {**VALIDATION_ENV, "LIBOMPTARGET_INFO": "0"}


# --------------------------------------------------------------------------- running


def run_program(
    argv: Sequence[str],
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    prefix: Sequence[str] = (),
) -> RunOutput:
    """Run ``prefix + argv`` and capture its output.

    ``env`` entries are added to (and override) the current environment; pass
    ``VALIDATION_ENV`` for a gate run.  The program runs in its own session (process
    group) so that on timeout the whole group, including anything it spawned, is killed;
    the result then has ``returncode=None`` (unless the program itself had already exited
    and only a leftover child held its output open: that child is killed, the program's
    status kept).  A program that cannot be started at all
    (missing file, not executable) gives returncode 127 and the reason on stderr, like a
    shell would, rather than an exception.
    """
    full = [*prefix, *argv]
    merged = dict(os.environ)
    if env:
        merged.update(env)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            env=merged,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        return RunOutput(list(full), 127, "", f"pcx: cannot run {full[0]}: {exc.strerror}\n", 0.0)
    try:
        out, err = proc.communicate(timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        # The program itself may have finished while something it started still holds
        # the pipes open: then its status stands; only a program still running timed out.
        finished = proc.poll()
        _kill_group(proc.pid)
        out, err = proc.communicate()
        code = finished
    return RunOutput(
        argv=list(full),
        returncode=code,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        seconds=time.monotonic() - start,
    )


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- libomptarget INFO


@dataclass(frozen=True)
class UnmappedUse:
    """A pointer passed to a kernel by address with no device mapping behind it."""

    name: str
    location: str  # "file:line:col" of the kernel as libomptarget prints it, or ""


_ENTER_KERNEL = re.compile(r"info: Entering OpenMP kernel at (\S+?)(?::)? with \d+ arguments")
_USE_ADDRESS = re.compile(r"info: use_address\((.+?)\)\[\d+\]")
_MAPPING_EXISTS = re.compile(r"info: Mapping exists \(implicit\) with .*?, Name=(.+?)\s*$")
_LAUNCH = re.compile(r"info: Launching kernel (\S+) with")


def unmapped_use_sites(stderr: str) -> list[UnmappedUse]:
    """Every kernel argument printed as ``use_address(p)`` without a matching mapping.

    libomptarget (INFO bit 0x01) lists a pointer that the kernel uses but no map clause
    covers as ``use_address(p)[0] (implicit)``.  When ``p`` points into data an enclosing
    ``target data`` mapped, bit 0x02 adds ``Mapping exists (implicit) ... Name=p`` in the
    same kernel entry.  The rule is applied per kernel entry (from "Entering OpenMP kernel"
    to its "Launching kernel"), so a pointer mapped for one kernel does not excuse it in
    another.  On the host device such a pointer still works (shared address space); on a
    GPU it is a bad pointer.  Build with ``-gline-tables-only``: without debug info every
    name prints as ``unknown`` (the rule then still matches counts, but names nothing).
    """
    sites: list[UnmappedUse] = []
    location = ""
    pending: list[str] = []
    mapped: Counter[str] = Counter()

    def close() -> None:
        # Matched by count per name: without debug info every name prints as "unknown",
        # and two unknown pointers with one mapping still leave one unmapped.
        left = Counter(mapped)
        for name in pending:
            if left[name] > 0:
                left[name] -= 1
            else:
                sites.append(UnmappedUse(name, location))

    for line in stderr.splitlines():
        if m := _ENTER_KERNEL.search(line):
            close()
            location, pending, mapped = m.group(1), [], Counter()
        elif m := _USE_ADDRESS.search(line):
            pending.append(m.group(1))
        elif m := _MAPPING_EXISTS.search(line):
            mapped[m.group(1)] += 1
        elif _LAUNCH.search(line):
            close()
            location, pending, mapped = "", [], Counter()
    close()
    return sites


def unmapped_pointers(stderr: str) -> list[str]:
    """Names used on the device without a mapping, each once, in order of first use."""
    seen: dict[str, None] = {}
    for site in unmapped_use_sites(stderr):
        seen.setdefault(site.name, None)
    return list(seen)


def kernel_launches(stderr: str) -> list[str]:
    """Kernel names in launch order, one entry per launch (INFO bit 0x10 lines)."""
    return [m.group(1) for line in stderr.splitlines() if (m := _LAUNCH.search(line))]


# --------------------------------------------------------------------------- comparing output

# A number as printf writes one (%d, %f, %e, %g, also inf/nan); anything else is text.
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan(?:\([^)]*\))?)(?![\w.])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Token:
    text: str
    value: float | int | None  # None for text; int when written without '.', 'e', inf/nan


def tokenize_line(line: str) -> list[_Token]:
    """Split one output line into number tokens and text tokens; whitespace separates.

    Within a whitespace-free chunk a number is recognised where it does not continue a
    word: ``sum=1.5e+00`` is ``sum=`` then 1.5, ``(3,4)`` holds 3 and 4, but ``a1``,
    ``0x1f``, ``3rd`` and ``info`` are text.  A sign belongs to the number only at the
    start of a chunk or after ``=([,:;``.
    """
    tokens: list[_Token] = []
    for chunk in line.split():
        text_start = -1
        pos = 0
        while pos < len(chunk):
            prev = chunk[pos - 1] if pos else ""
            m = None
            if not prev or not (prev.isalnum() or prev in "_."):
                m = _NUMBER.match(chunk, pos)
                if m and chunk[pos] in "+-" and prev and prev not in "=([,:;":
                    m = None
            if m:
                if text_start >= 0:
                    tokens.append(_Token(chunk[text_start:pos], None))
                    text_start = -1
                tokens.append(_Token(m.group(0), _parse_number(m.group(0))))
                pos = m.end()
                continue
            if text_start < 0:
                text_start = pos
            pos += 1
        if text_start >= 0:
            tokens.append(_Token(chunk[text_start:], None))
    return tokens


def _parse_number(text: str) -> float | int:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    low = text.lower().lstrip("+-")
    if low.startswith("nan"):
        return math.nan
    return float(text)


def _numbers_match(a: float | int, b: float | int, rtol: float, atol: float) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b  # integers (counts, indices, integer checksums) must match exactly
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    if math.isinf(fa) or math.isinf(fb):
        return fa == fb
    return abs(fa - fb) <= atol + rtol * max(abs(fa), abs(fb))


def first_difference(expected: str, got: str, rtol: float = 1e-6, atol: float = 1e-9) -> str | None:
    """Where ``got`` first differs from ``expected``, or None when they match.

    Lines are compared in order, token by token: numbers within ``atol + rtol*max(|a|,|b|)``
    (two integers exactly), text tokens exactly; the amount of whitespace between tokens is
    not significant (a padded ``%8.3f`` may shift), line breaks are.  The message names the
    1-based line and shows the expected and the obtained token.
    """
    exp_lines = expected.splitlines()
    got_lines = got.splitlines()
    for i in range(max(len(exp_lines), len(got_lines))):
        if i >= len(got_lines):
            return f"line {i + 1}: expected {exp_lines[i]!r}, got end of output"
        if i >= len(exp_lines):
            return f"line {i + 1}: expected end of output, got {got_lines[i]!r}"
        et, gt = tokenize_line(exp_lines[i]), tokenize_line(got_lines[i])
        for j in range(max(len(et), len(gt))):
            if j >= len(gt):
                return f"line {i + 1}: expected {et[j].text!r}, got end of line ({got_lines[i]!r})"
            if j >= len(et):
                return f"line {i + 1}: expected end of line, got {gt[j].text!r} ({got_lines[i]!r})"
            e, g = et[j], gt[j]
            if e.value is not None and g.value is not None:
                ok = _numbers_match(e.value, g.value, rtol, atol)
            else:
                ok = e.text == g.text
            if not ok:
                return f"line {i + 1}, token {j + 1}: expected {e.text!r}, got {g.text!r}"
    return None


def _describe_status(code: int | None, seconds: float) -> str:
    if code is None:
        return f"timed out after {seconds:.1f} s"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def compare_runs(
    reference: RunOutput, candidate: RunOutput, rtol: float = 1e-6, atol: float = 1e-9, stderr: bool = False
) -> GateVerdict:
    """The correctness gate: does ``candidate`` (offloaded run) match ``reference`` (serial)?

    Fails, with the first difference first among the reasons, when: either run timed out
    or the candidate crashed [PCX304/PCX303]; the exit statuses differ [PCX303]; stdout, a
    named output file or (with ``stderr=True``, as pcx tune compares) stderr differs beyond
    tolerance (see ``first_difference``) [PCX301]; the candidate's stderr shows a pointer
    used on the device without a mapping [PCX302].  The runtime's own lines (libomptarget
    INFO and errors, libomp's ``OMP: Info #``; see ``strip_runtime_lines``) are removed from
    every compared text first: they are not the program's output.
    """
    reasons: list[str] = []
    if reference.returncode is None:
        reasons.append(f"reference run {_describe_status(None, reference.seconds)} [PCX304]")
    if candidate.returncode is None:
        reasons.append(f"offloaded run {_describe_status(None, candidate.seconds)} [PCX304]")
    elif candidate.returncode != reference.returncode and reference.returncode is not None:
        tail = _last_line(candidate.stderr)
        reasons.append(
            f"offloaded run: expected {_describe_status(reference.returncode, 0)}, "
            f"got {_describe_status(candidate.returncode, 0)}" + (f" ({tail})" if tail else "") + " [PCX303]"
        )
    clean = strip_runtime_lines
    if diff := first_difference(clean(reference.stdout), clean(candidate.stdout), rtol, atol):
        reasons.append(f"stdout {diff} [PCX301]")
    if stderr and (diff := first_difference(clean(reference.stderr), clean(candidate.stderr), rtol, atol)):
        reasons.append(f"stderr {diff} [PCX301]")
    for name in sorted(set(reference.files) | set(candidate.files)):
        if name not in candidate.files:
            reasons.append(f"output file {name}: missing from the offloaded run [PCX301]")
        elif name not in reference.files:
            reasons.append(f"output file {name}: not written by the reference run [PCX301]")
        elif diff := first_difference(clean(reference.files[name]), clean(candidate.files[name]), rtol, atol):
            reasons.append(f"output file {name} {diff} [PCX301]")
    seen: set[str] = set()
    for site in unmapped_use_sites(candidate.stderr):
        if site.name in seen:
            continue
        seen.add(site.name)
        where = f" (kernel at {site.location})" if site.location else ""
        reasons.append(f"pointer '{site.name}' used on the device without a mapping{where} [PCX302]")
    return GateVerdict(passed=not reasons, reasons=reasons)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and " info: " not in ln]
    return lines[-1].strip()[:200] if lines else ""


def info_run_problems(reference: RunOutput, info_run: RunOutput) -> list[str]:
    """Why the offloaded run made under VALIDATION_ENV (libomptarget INFO=51 on, output not
    compared) fails the gate: a timeout or another exit status than the reference's
    [PCX304/PCX303], or a pointer used on the device without a mapping [PCX302]."""
    blank = RunOutput(reference.argv, reference.returncode, "", "", reference.seconds)
    probe = RunOutput(info_run.argv, info_run.returncode, "", runtime_lines(info_run), info_run.seconds)
    reasons = compare_runs(blank, probe).reasons
    return [f"{r} (run with LIBOMPTARGET_INFO)" if "[PCX30" in r and "[PCX302]" not in r else r for r in reasons]


# --------------------------------------------------------------------------- what is compared

#: A line the OpenMP runtime printed, not the program: libomptarget's INFO lines
#: (``omptarget device 0 info: ...``, ``"PluginInterface" device 0 info: ...``), its errors
#: (``omptarget error: ...``, ``file.c:7:1: omptarget fatal error 1: ...``) and libomp's
#: messages (``OMP: Info #276: ...``).
_RUNTIME_LINE = re.compile(
    r'^\s*(?:"?PluginInterface"?|omptarget|[Ll]ibomptarget)(?: device -?\d+)? '
    r'(?:info|message|warning|error|fatal error)\b'
    r"|^\S+:\d+:\d+: omptarget (?:fatal )?error\b"
    r"|^OMP: (?:Info|Warning|Hint|Error) #\d+"
)


def is_runtime_line(line: str) -> bool:
    return bool(_RUNTIME_LINE.search(line))


def runtime_lines(run: RunOutput) -> str:
    """The OpenMP runtime's lines of a run wherever they landed: stderr, then stdout, then
    each output file (a run command may redirect stderr, ``./app 2> log.txt``).  What the
    INFO parsers (``kernel_launches``, ``unmapped_use_sites``, the profiler) read."""
    parts = [run.stderr, run.stdout, *(run.files[n] for n in sorted(run.files))]
    return "".join(ln + "\n" for part in parts for ln in part.splitlines() if _RUNTIME_LINE.search(ln))


def strip_runtime_lines(text: str) -> str:
    """``text`` without the lines the OpenMP runtime printed (see ``_RUNTIME_LINE``)."""
    if "omptarget" not in text and "PluginInterface" not in text and "OMP: " not in text:
        return text
    return "".join(ln for ln in text.splitlines(keepends=True) if not _RUNTIME_LINE.search(ln))


# Timings.  A number followed by a unit of time (``0.12 s``, ``12ms``, ``3.4 (us)``) or of
# rate (``GB/s``, ``(z/s)``, ``GFLOPS``) is a timing wherever it stands.  A line with a
# timing word (time, elapsed, took, runtime, duration, GFLOPS, GB/s, bandwidth ...) also
# has the numbers that follow that word (through ``=``, ``:``, units) and every number that
# differed between two serial runs treated as timings.  Nothing else is: a result printed
# beside a timing is still compared.
_TIME_UNITS = frozenset("s sec secs second seconds ms msec msecs millisecond milliseconds us usec usecs "
                        "µs microsecond microseconds ns nsec nanoseconds min mins minutes".split())
_RATE_UNIT = re.compile(r"(?i)^(?:[a-z]*/s(?:ec)?|[kmgtp]?flops?|[kmgtp]?flop/s)$")
_ATTACHED_TIME = re.compile(r"(?i)^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
                            r"(?:s|sec|secs|ms|msec|us|usec|µs|ns|min)$")
_TIMING_WORD = re.compile(
    r"(?i)(?<![a-z])(?:time|timing|timings|timer|elapsed|took|runtime|duration|walltime|wtime"
    r"|[kmgtp]?flops|[kmgtp]?flop/s|[kmgtp]i?b/s|bandwidth|throughput)(?![a-z])"
)
_PUNCT = "()[]{}<>,;:=|'\""


def _bare(text: str) -> str:
    return text.strip(_PUNCT + ".")


def _is_unit(token: _Token) -> bool:
    if token.value is not None:
        return False
    word = _bare(token.text)
    return word.lower() in _TIME_UNITS or word == "µs" or bool(_RATE_UNIT.match(word))


def timing_positions(tokens: list[_Token], other: list[_Token] | None = None,
                     rtol: float = 1e-6, atol: float = 1e-9) -> set[int]:
    """Positions of the timing tokens of one line (``tokenize_line``), and of their units.

    ``other`` is the same line from a second serial run: in a line with a timing word, a
    number that differs between the two runs is a timing too.
    """
    out: set[int] = set()
    for j, t in enumerate(tokens):
        if t.value is None and _ATTACHED_TIME.match(_bare(t.text)):
            out.add(j)
        elif t.value is not None and j + 1 < len(tokens) and _is_unit(tokens[j + 1]):
            out.update((j, j + 1))
    if not any(t.value is None and _TIMING_WORD.search(t.text) for t in tokens):
        return out
    armed = False
    for j, t in enumerate(tokens):
        if t.value is not None:
            if armed:
                out.add(j)
        elif _TIMING_WORD.search(t.text):
            armed = True
        elif not (_is_unit(t) or not _bare(t.text)):
            armed = False  # another word: what follows is not the timing's value
    if other is not None and len(other) == len(tokens):
        for j, (a, b) in enumerate(zip(tokens, other)):
            if a.value is not None and b.value is not None and not _numbers_match(a.value, b.value, rtol, atol):
                out.add(j)
    return out


TIMING_MASK = "<timing>"


@dataclass(frozen=True)
class IgnoredLine:
    """A line of the reference output that the gate does not compare, or only in part."""

    stream: str  # "stdout", "stderr" or "file NAME"
    line: int  # 1-based, in the reference output
    text: str
    why: str  # "timing: <tokens>", "--ignore <regex>", "stderr not compared: ..."

    def describe(self) -> str:
        if not self.line:
            return f"{self.stream}: {self.why}"
        return f"{self.stream} line {self.line}: {self.text.strip()[:120]!r} ({self.why})"


@dataclass
class OutputFilter:
    """What the gate leaves out of one run command's output before comparing.

    ``patterns`` remove whole lines (in every run, wherever they stand); ``masks`` replace
    timing tokens, by line (counted after the pattern lines are gone) and token position,
    with ``TIMING_MASK``; a stream in ``skipped`` is not compared at all.
    """

    patterns: tuple[re.Pattern[str], ...] = ()
    masks: dict[str, dict[int, frozenset[int]]] = field(default_factory=dict)
    skipped: frozenset[str] = frozenset()

    def text(self, stream: str, text: str) -> str:
        if stream in self.skipped:
            return ""
        lines = strip_runtime_lines(text).splitlines()
        if self.patterns:
            lines = [ln for ln in lines if not any(p.search(ln) for p in self.patterns)]
        masks = self.masks.get(stream, {})
        for i, positions in masks.items():
            if i < len(lines):
                tokens = tokenize_line(lines[i])
                if positions and max(positions) < len(tokens):
                    lines[i] = " ".join(TIMING_MASK if j in positions else t.text for j, t in enumerate(tokens))
        return "".join(ln + "\n" for ln in lines)

    def apply(self, run: RunOutput) -> RunOutput:
        """``run`` with only what the gate compares (exit status and timing kept)."""
        return RunOutput(
            argv=list(run.argv), returncode=run.returncode,
            stdout=self.text("stdout", run.stdout), stderr=self.text("stderr", run.stderr),
            seconds=run.seconds,
            files={name: self.text(f"file {name}", body) for name, body in run.files.items()},
        )


def compile_patterns(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """``--ignore`` regular expressions, compiled; ValueError names a bad one."""
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise ValueError(f"--ignore {p!r}: not a regular expression ({exc})") from None
    return tuple(out)


def learn_filter(
    first: RunOutput,
    second: RunOutput,
    patterns: Sequence[str] = (),
    timings: bool = True,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> tuple[OutputFilter, list[IgnoredLine]]:
    """What the gate compares of one run command, learnt from two serial runs of it.

    Lines matching ``patterns`` go (reported with the pattern).  With ``timings``, every
    line's timing tokens (``timing_positions``, the second run telling which numbers of a
    timing line vary) are masked.  stderr is compared only when the two serial runs agree
    on it once that is done: a program that writes varying diagnostics there keeps a
    passing gate, and the report says stderr was not compared.  Raises ValueError for a
    pattern that is not a regular expression.
    """
    compiled = compile_patterns(patterns)
    filt = OutputFilter(patterns=compiled)
    ignored: list[IgnoredLine] = []
    streams = [("stdout", first.stdout, second.stdout), ("stderr", first.stderr, second.stderr)]
    streams += [(f"file {n}", first.files[n], second.files.get(n, "")) for n in sorted(first.files)]
    for stream, a, b in streams:
        kept_a: list[tuple[int, str]] = []
        for no, ln in enumerate(strip_runtime_lines(a).splitlines(), 1):
            hit = next((p for p in compiled if p.search(ln)), None)
            if hit is not None:
                ignored.append(IgnoredLine(stream, no, ln, f"--ignore {hit.pattern}"))
            else:
                kept_a.append((no, ln))
        kept_b = [ln for ln in strip_runtime_lines(b).splitlines() if not any(p.search(ln) for p in compiled)]
        if timings:
            masks: dict[int, frozenset[int]] = {}
            for i, (no, ln) in enumerate(kept_a):
                tokens = tokenize_line(ln)
                other = tokenize_line(kept_b[i]) if i < len(kept_b) else None
                positions = timing_positions(tokens, other, rtol, atol)
                if positions:
                    masks[i] = frozenset(positions)
                    what = " ".join(tokens[j].text for j in sorted(positions))
                    ignored.append(IgnoredLine(stream, no, ln, f"timing: {what}"))
            if masks:
                filt.masks[stream] = masks
    if first.stderr or second.stderr:
        diff = first_difference(filt.text("stderr", first.stderr), filt.text("stderr", second.stderr), rtol, atol)
        if diff is not None:
            filt.skipped = frozenset({"stderr"})
            ignored = [x for x in ignored if x.stream != "stderr"]
            ignored.append(IgnoredLine("stderr", 0, "", f"stderr not compared: two serial runs differ ({diff})"))
    return filt, ignored


# --------------------------------------------------------------------------- portable syntax

PORTABILITY_REMARK = "PCX308"

# Map types of OpenMP 5.0/5.1; every modifier before the colon needs one of these last.
_MAP_TYPES = frozenset({"to", "from", "tofrom", "alloc", "release", "delete"})
_MAP_MODIFIERS = frozenset({"always", "close", "present"})
# Clauses and directive words that only OpenMP 5.2+ (or one vendor) knows.
_NEWER_CLAUSES = {
    "enter": "the 'enter' clause is OpenMP 5.2 (use 'to' in declare target)",
    "doacross": "the 'doacross' clause is OpenMP 5.2 (use 'depend(sink/source)')",
    "otherwise": "the 'otherwise' clause is OpenMP 5.2 (use 'default' in metadirective)",
    "ompx_attribute": "ompx_ extensions are LLVM-only",
    "ompx_bare": "ompx_ extensions are LLVM-only",
    "ompx_dyn_cgroup_mem": "ompx_ extensions are LLVM-only",
}


@dataclass(frozen=True)
class _Clause:
    name: str
    args: str | None  # text inside the parentheses, None when the clause has none


def _pragma_words(text: str) -> tuple[list[str], list[_Clause]] | None:
    """Split an ``omp ...`` pragma into its directive words and its clauses.

    Returns None when the parentheses do not balance.  Directive words are the leading
    bare identifiers (``target teams distribute parallel for``); everything from the first
    identifier followed by '(' (or the first identifier that is not a directive word) on is
    a clause.
    """
    body = text.strip()
    if body.startswith("#"):
        body = body[1:].strip()
    if body.startswith("pragma"):
        body = body[len("pragma"):].strip()
    if not body.startswith("omp"):
        return [], []
    body = body[3:]
    items: list[_Clause] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch.isspace() or ch == ",":
            i += 1
            continue
        if not (ch.isalpha() or ch == "_"):
            items.append(_Clause(ch, None))
            i += 1
            continue
        j = i
        while j < len(body) and (body[j].isalnum() or body[j] == "_"):
            j += 1
        name = body[i:j]
        k = j
        while k < len(body) and body[k] == " ":
            k += 1
        if k < len(body) and body[k] == "(":
            depth, m = 0, k
            while m < len(body):
                depth += body[m] == "("
                depth -= body[m] == ")"
                if depth == 0:
                    break
                m += 1
            if depth:
                return None
            items.append(_Clause(name, body[k + 1:m]))
            i = m + 1
        else:
            items.append(_Clause(name, None))
            i = j
    if body.count(")") != body.count("("):
        return None
    words: list[str] = []
    while items and items[0].args is None and items[0].name in _DIRECTIVE_WORDS:
        words.append(items.pop(0).name)
    return words, items


_DIRECTIVE_WORDS = frozenset(
    {"target", "teams", "distribute", "parallel", "for", "simd", "data", "enter", "exit", "update",
     "declare", "end", "atomic", "loop", "begin"}
)


def _split_top_colon(text: str) -> tuple[str, str] | None:
    """Split ``mods: list`` at the first colon outside brackets (not a ``::``)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == ":" and depth == 0:
            if text[i + 1:i + 2] == ":" or text[i - 1:i] == ":":
                continue
            return text[:i], text[i + 1:]
    return None


def portability_problems(pragma: str) -> list[str]:
    """Why one ``#pragma omp ...`` line is not portable OpenMP 5.0/5.1; empty when it is.

    The portable subset is what clang-19, gcc 12 and nvc all accept and run correctly:
    map modifiers only together with a map type (``map(present: x)`` is 5.2 syntax), no
    ``schedule(static, 1)`` on a combined target construct (clang-19 ran only iteration 0
    of such a loop with one thread per team), no 5.2-only or vendor-only clauses.
    """
    parsed = _pragma_words(pragma)
    if parsed is None:
        return ["unbalanced parentheses"]
    words, clauses = parsed
    problems: list[str] = []
    combined = "target" in words and "for" in words
    for c in clauses:
        name = c.name.lower()
        if name in _NEWER_CLAUSES and not (name == "enter" and c.args is None):
            problems.append(_NEWER_CLAUSES[name])
        elif name.startswith("ompx_"):
            problems.append(f"'{c.name}' is an LLVM-only extension")
        if name == "map" and c.args is not None:
            split = _split_top_colon(c.args)
            if split is not None:
                mods = [m for m in re.split(r"[\s,]+", split[0].strip()) if m]
                if not mods or mods[-1] not in _MAP_TYPES:
                    problems.append(
                        f"'map({c.args})' has modifiers without a map type (OpenMP 5.2 syntax); "
                        "write e.g. 'map(present, to: ...)'"
                    )
                else:
                    for m in mods[:-1]:
                        if m not in _MAP_MODIFIERS and not m.startswith(("mapper", "iterator")):
                            problems.append(f"unknown map modifier '{m}' in 'map({c.args})'")
        if name == "schedule" and c.args is not None and combined:
            parts = [p.strip() for p in c.args.split(",")]
            if len(parts) == 2 and parts[0].split(":")[-1].strip() == "static" and parts[1] == "1":
                problems.append(
                    "'schedule(static, 1)' on a combined target construct (clang-19 runs only "
                    "iteration 0 of each team with one thread)"
                )
    return problems


def _omp_pragmas(text: str) -> Iterable[tuple[int, str]]:
    """(line in ``text``, pragma text) for every ``#pragma omp`` line, continuations joined."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        start = i
        if stripped.startswith("#"):
            joined = stripped
            while joined.endswith("\\") and i + 1 < len(lines):
                i += 1
                joined = joined[:-1] + " " + lines[i].strip()
            rest = joined[1:].lstrip()
            if rest.startswith("pragma") and rest[len("pragma"):].lstrip().startswith("omp"):
                yield start + 1, joined
        i += 1


def check_portable_openmp(unit: SourceUnit, rewrite: Rewrite) -> list[Remark]:
    """Error remarks (PCX308) for every emitted directive that is not portable OpenMP 5.0/5.1.

    Checks each ``rewrite.directives`` entry (positioned at its original source line) and
    every ``#pragma omp`` line of ``rewrite.text`` that the source did not already contain
    (positioned at its line in the rewritten text), so a rewriter that forgets to record a
    directive is still checked.  Any error remark makes the driver compile the original.
    """
    remarks: list[Remark] = []
    checked: set[str] = set()
    for d in rewrite.directives:
        text = d.text if d.text.lstrip().startswith(("#", "pragma")) else "#pragma " + d.text
        checked.add(_normalise(text))
        for problem in portability_problems(text):
            remarks.append(Remark(PORTABILITY_REMARK, unit.path, d.line, 1,
                                  f"emitted directive is not portable OpenMP: {problem}"))
    original = {_normalise(t) for _, t in _omp_pragmas(unit.text)}
    for line, text in _omp_pragmas(rewrite.text):
        key = _normalise(text)
        if key in checked or key in original:
            continue
        checked.add(key)
        for problem in portability_problems(text):
            remarks.append(Remark(PORTABILITY_REMARK, rewrite.path or unit.path, line, 1,
                                  f"emitted directive is not portable OpenMP: {problem}"))
    return remarks


def _normalise(pragma: str) -> str:
    body = pragma.strip().lstrip("#").strip()
    if body.startswith("pragma"):
        body = body[len("pragma"):]
    return " ".join(body.split())
