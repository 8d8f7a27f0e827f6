"""Differential fuzzing of pcx-cc with csmith: random C programs must print the same checksum.

Each seed's program is built twice: by the plain compiler (``clang-19 -O1``) and by
``pcx-cc --pcx-mode=static --pcx-offload-target=x86_64-pc-linux-gnu`` (offloading whatever
the analysis proves, onto the host "device" with its own memory), then both run and their
outputs (csmith prints ``checksum = ...``) and exit statuses compare.  csmith code is full
of what the engine must refuse (pointers, globals, side effects, jumps); the point is
that pcx-cc never miscompiles and never breaks a build that the plain compiler accepts.

Outcomes per seed:
    same              both ran, same output and status
    different         outputs or statuses differ: a miscompile (a bug)
    pcx-build-failed  the plain build worked, pcx-cc failed: a broken build (a bug)
    pcx-timeout       the plain program finished, the pcx one did not (a bug)
    timeout           the plain program (or csmith) ran too long: seed skipped
    plain-build-failed / generate-failed: seed skipped (not pcx's fault)

Usage:
    python bench/csmith_fuzz.py --count 50 --seed 1000 [--jobs 2] [--keep DIR] [--json]

Exit status: 1 when any seed is a bug (different, pcx-build-failed, pcx-timeout), else 0.
tests/test_csmith.py imports this module and runs a few fixed seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: csmith settings: "small" keeps csmith's full language (pointers, structs, globals,
#: jumps) but small programs; "loopy" turns off what the engine always refuses, so more
#: nests reach the analysis and the rewriter (and more offloads are exercised).
PROFILES: dict[str, tuple[str, ...]] = {
    "small": ("--max-funcs", "3", "--max-block-depth", "3", "--max-expr-complexity", "6",
              "--no-volatiles", "--no-volatile-pointers"),
    "loopy": ("--max-funcs", "3", "--max-block-depth", "4", "--max-expr-complexity", "6",
              "--no-volatiles", "--no-volatile-pointers", "--no-pointers", "--no-structs",
              "--no-unions", "--no-jumps", "--no-bitfields", "--no-packed-struct",
              "--max-array-len-per-dim", "40"),
}

BUGS = ("different", "pcx-build-failed", "pcx-timeout")
OFFLOAD_TARGET = "x86_64-pc-linux-gnu"
LLVM_LIB = "/usr/lib/llvm-19/lib"
VALIDATION_ENV = {
    "OMP_TARGET_OFFLOAD": "MANDATORY",
    "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
    "MALLOC_PERTURB_": "165",
    "OMP_NUM_THREADS": "2",
}
PCX_WARNING = re.compile(r"\bwarning: .*\[(PCX\d{3})\]")


@dataclass
class SeedResult:
    seed: int
    profile: str
    outcome: str
    detail: str = ""
    pcx_warnings: list[str] = field(default_factory=list)  # PCX IDs of warnings pcx-cc printed
    nests: int = 0  # loop nests the pcx report lists
    offloaded: int = 0  # of which offloaded
    launches: int = 0  # kernel launches the pcx-built program made (libomptarget INFO)
    seconds: float = 0.0


# ------------------------------------------------------------------------------ tools


def find_csmith() -> str | None:
    return shutil.which("csmith")


def find_csmith_include() -> Path | None:
    """The folder holding csmith.h (Debian: libcsmith-dev puts it in /usr/include/csmith)."""
    candidates = [os.environ.get("CSMITH_INCLUDE", "")]
    exe = find_csmith()
    if exe:  # a source install: <prefix>/bin/csmith and <prefix>/include/csmith[-x.y]
        prefix = Path(exe).resolve().parent.parent
        candidates += [str(prefix / "include" / "csmith"), *map(str, sorted((prefix / "include").glob("csmith-*")))]
    candidates += ["/usr/include/csmith", "/usr/local/include/csmith",
                   *map(str, sorted(Path("/usr/local/include").glob("csmith-*")))]
    for c in candidates:
        if c and (Path(c) / "csmith.h").is_file():
            return Path(c)
    return None


def find_pcx_cc() -> str | None:
    """pcx-cc next to this Python (the venv), else on PATH."""
    here = Path(sys.executable).parent / "pcx-cc"
    return str(here) if here.exists() else shutil.which("pcx-cc")


def profile_for(seed: int) -> str:
    """Alternate the two csmith profiles so both are always covered."""
    return "loopy" if seed % 2 else "small"


def run_bounded(argv: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None
                ) -> tuple[int | None, str, str]:
    """Run in a new process group; kill the group on timeout (returns status None).  A
    process group, not a new session: Linux schedules each session as its own autogroup,
    so a session per compile would take every compile out of the campaign's priority."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, process_group=0)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _decisions(report: object) -> list[str]:
    """Every loop nest ``decision`` in a pcx JSON report, whatever its nesting."""
    found: list[str] = []
    if isinstance(report, dict):
        if isinstance(report.get("decision"), str):
            found.append(report["decision"])
        for value in report.values():
            found.extend(_decisions(value))
    elif isinstance(report, list):
        for value in report:
            found.extend(_decisions(value))
    return found


# ------------------------------------------------------------------------------ one seed


def fuzz_one(seed: int, workdir: Path, *, profile: str | None = None, cc: str = "clang-19",
             run_timeout: float = 5.0, build_timeout: float = 120.0, pcx_cc: str | None = None,
             include: Path | None = None, pcx_flags: tuple[str, ...] = ()) -> SeedResult:
    """Generate, build both ways, run both ways, compare.  Never raises for a seed's failure."""
    start = time.monotonic()
    profile = profile or profile_for(seed)
    result = SeedResult(seed, profile, "same")
    include = include or find_csmith_include()
    pcx_cc = pcx_cc or find_pcx_cc()
    if include is None or pcx_cc is None or find_csmith() is None:
        result.outcome, result.detail = "generate-failed", "csmith, its headers or pcx-cc not found"
        return result
    d = workdir / f"seed{seed}"
    d.mkdir(parents=True, exist_ok=True)
    flags = ["-O1", "-w", f"-I{include}"]

    def done(outcome: str, detail: str = "") -> SeedResult:
        result.outcome, result.detail = outcome, detail
        result.seconds = round(time.monotonic() - start, 2)
        return result

    rc, _, err = run_bounded(["csmith", "--seed", str(seed), *PROFILES[profile], "-o", "prog.c"], d, 30)
    if rc != 0:
        return done("generate-failed" if rc is not None else "timeout", err.strip()[-300:])

    rc, _, err = run_bounded([cc, *flags, "prog.c", "-o", "plain"], d, build_timeout)
    if rc != 0:
        return done("plain-build-failed", err.strip()[-300:])
    plain_rc, plain_out, _ = run_bounded([str(d / "plain")], d, run_timeout)
    if plain_rc is None:
        return done("timeout", f"plain program ran past {run_timeout:g} s")

    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    report = d / "report.json"
    rc, _, err = run_bounded(
        [pcx_cc, f"--pcx-cc={cc}", "--pcx-mode=static", f"--pcx-offload-target={OFFLOAD_TARGET}",
         f"--pcx-report={report}", *pcx_flags, *flags, "prog.c", "-o", "pcx"], d, build_timeout, env)
    result.pcx_warnings = PCX_WARNING.findall(err)
    if rc != 0:
        return done("pcx-build-failed", err.strip()[-600:])
    try:
        decisions = _decisions(json.loads(report.read_text()))
    except (OSError, ValueError):
        decisions = []
    result.nests = len(decisions)
    result.offloaded = decisions.count("offloaded")

    # the pcx binary may be slower (kernel launches): give it a generous multiple
    run_env = dict(os.environ, LIBOMPTARGET_INFO="16", **VALIDATION_ENV)  # 16: one line per launch
    pcx_rc, pcx_out, pcx_err = run_bounded([str(d / "pcx")], d, max(4 * run_timeout, 20.0), run_env)
    result.launches = pcx_err.count("Launching kernel")
    if pcx_rc is None:
        return done("pcx-timeout", "the plain program finished; the pcx-built one did not")
    if (pcx_rc, pcx_out) != (plain_rc, plain_out):
        return done("different", f"plain: exit {plain_rc} {plain_out.strip()[-120:]!r}; "
                                 f"pcx: exit {pcx_rc} {pcx_out.strip()[-120:]!r} {pcx_err.strip()[-200:]!r}")
    return done("same", plain_out.strip().splitlines()[-1] if plain_out.strip() else "")


# ------------------------------------------------------------------------------ campaign


def summarize(results: list[SeedResult]) -> dict:
    counts = Counter(r.outcome for r in results)
    warnings = Counter(w for r in results for w in r.pcx_warnings)
    return {
        "seeds": len(results),
        "same": counts["same"],
        "different": counts["different"],
        "pcx_build_failed": counts["pcx-build-failed"],
        "pcx_timeouts": counts["pcx-timeout"],
        "timeouts": counts["timeout"],
        "skipped": counts["plain-build-failed"] + counts["generate-failed"],
        "pcx_fallback_warnings": dict(sorted(warnings.items())),
        "programs_with_offload": sum(1 for r in results if r.offloaded),
        "nests": sum(r.nests for r in results),
        "offloaded_nests": sum(r.offloaded for r in results),
        "kernel_launches": sum(r.launches for r in results),
        "bugs": [r.seed for r in results if r.outcome in BUGS],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20, help="number of seeds (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="first seed (default 1); seeds are consecutive")
    ap.add_argument("--jobs", type=int, default=1, help="seeds in parallel (default 1)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per plain run (default 5)")
    ap.add_argument("--profile", choices=sorted(PROFILES), help="csmith profile (default: alternate)")
    ap.add_argument("--cc", default="clang-19", help="the plain compiler and pcx-cc's real compiler")
    ap.add_argument("--keep", type=Path, help="copy the folders of buggy seeds here")
    ap.add_argument("--json", action="store_true", help="print per-seed results and the summary as JSON")
    args = ap.parse_args(argv)

    include = find_csmith_include()
    if find_csmith() is None or include is None:
        print("csmith or its headers (csmith.h) not found: apt-get install csmith libcsmith-dev, "
              "or set CSMITH_INCLUDE", file=sys.stderr)
        return 2
    if find_pcx_cc() is None:
        print("pcx-cc not found", file=sys.stderr)
        return 2
    seeds = range(args.seed, args.seed + args.count)
    with tempfile.TemporaryDirectory(prefix="pcx-csmith-") as tmp:
        work = Path(tmp)

        def one(seed: int) -> SeedResult:
            r = fuzz_one(seed, work, profile=args.profile, cc=args.cc, run_timeout=args.timeout, include=include)
            if not args.json:
                extra = f" offloaded {r.offloaded}/{r.nests} launches {r.launches}" if r.nests else ""
                warn = f" warnings {','.join(r.pcx_warnings)}" if r.pcx_warnings else ""
                print(f"seed {seed:>6} {r.profile:<5} {r.outcome:<18}{extra}{warn} {r.seconds:6.1f}s"
                      + (f"  {r.detail[:160]}" if r.outcome in BUGS else ""), flush=True)
            if args.keep and r.outcome in BUGS:
                shutil.copytree(work / f"seed{seed}", args.keep / f"seed{seed}", dirs_exist_ok=True)
            shutil.rmtree(work / f"seed{seed}", ignore_errors=True)
            return r

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(one, seeds))
    summary = summarize(results)
    if args.json:
        print(json.dumps({"results": [asdict(r) for r in results], "summary": summary}, indent=2))
    else:
        print(
            f"\n{summary['seeds']} seeds: {summary['same']} same, {summary['different']} different, "
            f"{summary['pcx_build_failed']} pcx build failures, {summary['pcx_timeouts']} pcx timeouts, "
            f"{summary['timeouts']} timeouts (skipped), {summary['skipped']} other skips\n"
            f"pcx fallback warnings: {summary['pcx_fallback_warnings'] or 'none'}\n"
            f"offloaded nests: {summary['offloaded_nests']} of {summary['nests']} "
            f"in {summary['programs_with_offload']} programs, {summary['kernel_launches']} kernel launches"
            + (f"\nBUGS at seeds {summary['bugs']}" if summary["bugs"] else "")
        )
    return 1 if summary["bugs"] else 0


if __name__ == "__main__":
    sys.exit(main())
