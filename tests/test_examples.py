"""The C example programs (examples/c/*.c) through pcx-cc, checked against their markers.

Each example marks the loop nests that matter with a comment on the line directly above
the ``for``::

    /* pcx: expect offload */          the nest must be offloaded AND its kernel launched
    /* pcx: expect serial PCX101 */    the nest must be kept serial with that reason

For each example: build it serially with clang-19 -O2 (no OpenMP) and with pcx-cc
(static plans, host device, JSON report); run the offloaded binary in the gate's
validation environment; the correctness gate (``pcx_driver.gate.compare_runs``) must pass
against the serial output, and the report and libomptarget's launch lines must agree
with every marker.

Tolerance: integers must match exactly.  Floating-point checksums are printed with
``%.10e`` (11 significant digits) and compared with rtol = 1e-9, atol = 0.  Element-wise
kernels give bit-identical results on the host device (same compiler, same ISA, no FMA
contraction on baseline x86-64), so only reductions change, by their summation order:
all reduced quantities here are sums of non-negative terms of at most ~2e6 elements,
whose reordering error is bounded by n * eps ~ 2e-10 relative, plus 5e-11 of print
rounding.  1e-9 covers that and still catches one stale element in a million
(a relative change of ~1e-6).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pcx_driver.diagnostics import REMARKS
from pcx_driver.gate import VALIDATION_ENV, compare_runs, kernel_launches, run_program
from pcx_driver.model import RunOutput

ROOT = Path(__file__).resolve().parent.parent
C_DIR = ROOT / "examples" / "c"
C_EXAMPLES = sorted(p.name for p in C_DIR.glob("*.c"))
VENV_BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin" / "pcx-cc").exists() else Path(sys.executable).parent
PCX_FLAGS = ["--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu"]
RTOL, ATOL = 1e-9, 0.0
CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")

_MARKER = re.compile(r"^/\*\s*pcx:\s*expect\s+(offload|serial(?:\s+(PCX\d{3}))?)\s*\*/$|^//\s*pcx:\s*expect\s+"
                     r"(offload|serial(?:\s+(PCX\d{3}))?)\s*$")


@dataclass(frozen=True)
class Expectation:
    """One marker: the ``for`` it sits on (1-based line), and what must happen to it."""

    line: int
    offload: bool
    reason: str | None  # the PCX ID a serial nest must carry; None for offload

    def describe(self) -> str:
        return f"line {self.line}: expect " + ("offload" if self.offload else f"serial {self.reason}")


def _parser(language: str) -> Any:
    from tree_sitter import Language, Parser

    if language == "c":
        import tree_sitter_c as grammar
    else:
        import tree_sitter_cpp as grammar
    return Parser(Language(grammar.language()))


def expectations(path: Path, language: str = "c") -> list[Expectation]:
    """The markers of one source, found with tree-sitter.

    A marker is a comment whose whole text is ``pcx: expect ...``; it must be directly
    followed, on the next line, by a ``for`` statement (AssertionError otherwise, naming
    the line, so a misplaced marker is a test failure rather than a silent no-op).
    """
    data = path.read_bytes()
    tree = _parser(language).parse(data)
    found: list[Expectation] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "comment":
            continue
        text = data[node.start_byte:node.end_byte].decode()
        if "pcx:" not in text:
            continue
        m = _MARKER.match(text.strip())
        line = node.start_point[0] + 1
        assert m, f"{path.name}:{line}: malformed pcx marker {text!r}"
        kind = m.group(1) or m.group(3)
        reason = m.group(2) or m.group(4)
        nxt = node.next_sibling
        assert nxt is not None and nxt.type in ("for_statement", "for_range_loop") \
            and nxt.start_point[0] == node.end_point[0] + 1, \
            f"{path.name}:{line}: marker is not directly above a for statement"
        assert kind == "offload" or reason, f"{path.name}:{line}: 'expect serial' needs a PCX reason ID"
        found.append(Expectation(nxt.start_point[0] + 1, kind == "offload", reason))
    return sorted(found, key=lambda e: e.line)


def pcx_env() -> dict[str, str]:
    """The environment of a build through pcx: venv bin first, no PCX_* leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def compile_or_fail(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stderr[-4000:]}"
    return proc


def report_nests(report: dict[str, Any], source_name: str) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The report entry of the source whose file name is ``source_name``, and its nests by line.

    (Format: ``pcx_driver/report.py``.)  Fails when the report has no such source.
    """
    entries = [s for s in report.get("sources", []) if Path(s.get("path") or s.get("file", "")).name == source_name]
    assert entries, f"no report entry for {source_name} (sources: {[s.get('file') for s in report.get('sources', [])]})"
    entry = entries[-1]
    return entry, {int(n["line"]): n for n in entry.get("nests", [])}


def check_expectations(
    source_name: str, expected: list[Expectation], report: dict[str, Any], launched: list[str],
    label: str | None = None,
) -> list[str]:
    """Every way the report and the launches disagree with the markers (empty: all agree).

    ``source_name`` finds the report entry; ``label`` (default: the same) names the
    example in the messages.
    """
    problems: list[str] = []
    entry, nests = report_nests(report, source_name)
    source_name = label or source_name
    lines = sorted(nests)
    for e in expected:
        nest = nests.get(e.line)
        if nest is None:
            problems.append(f"{source_name} {e.describe()}: no nest at this line in the report (nests at {lines})")
            continue
        ids = [r.get("id") for r in nest.get("reasons", [])]
        if e.offload:
            if nest.get("decision") != "offloaded" or not nest.get("applied", False):
                problems.append(f"{source_name} {e.describe()}: decision {nest.get('decision')!r} "
                                f"(applied={nest.get('applied')}, compiled={entry.get('compiled')!r}), reasons {ids}")
                continue
            suffix = f"_l{e.line}"
            # C names appear as they are, C++ names mangled: match the unqualified name.
            function = str(nest.get("function", "")).split("::")[-1]
            kernels = [k for k in launched if k.endswith(suffix) and function in k]
            if not kernels:
                problems.append(f"{source_name} {e.describe()}: offloaded but no kernel ending in {suffix} "
                                f"was launched (launched: {sorted(set(launched))})")
        else:
            if nest.get("decision") == "offloaded":
                problems.append(f"{source_name} {e.describe()}: UNSOUND, the nest was offloaded")
            elif nest.get("decision") != "kept serial" or e.reason not in ids:
                problems.append(f"{source_name} {e.describe()}: decision {nest.get('decision')!r} with reasons {ids}")
    return problems


def run_timed(argv: list[str], cwd: Path) -> tuple[RunOutput, float]:
    """Run a serial program; also return the CPU seconds it used (user + system).

    CPU time rather than wall time: the test machines are shared, and wall time under
    load says little about the program.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = run_program(argv, cwd=cwd, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load_report(path: Path) -> dict[str, Any]:
    import json

    assert path.exists(), f"pcx did not write the report {path}"
    return json.loads(path.read_text())


# --------------------------------------------------------------------------- tests


def test_there_are_enough_examples() -> None:
    assert len(C_EXAMPLES) >= 15, C_EXAMPLES


@pytest.mark.parametrize("name", C_EXAMPLES)
def test_markers_are_well_formed(name: str) -> None:
    expected = expectations(C_DIR / name, "c")
    assert expected, f"{name} has no pcx markers"
    assert any(e.offload for e in expected), f"{name} expects nothing to be offloaded"
    for e in expected:
        assert e.reason is None or e.reason in REMARKS, f"{name} {e.describe()}: unknown remark ID"
    text = (C_DIR / name).read_text()
    assert "#pragma omp" not in text and "omp.h" not in text, "examples are serial programs"


@needs_clang
@pytest.mark.parametrize("name", C_EXAMPLES)
def test_serial_example_is_deterministic_and_fast(name: str, tmp_path: Path) -> None:
    """clang-19 and gcc builds agree and run in well under a second (no UB-driven output)."""
    shutil.copy(C_DIR / name, tmp_path / name)
    stem = name[:-2]
    compile_or_fail([CLANG, "-O2", "-std=c11", "-Wall", "-Werror", name, "-o", stem, "-lm"], tmp_path)
    ref, cpu = run_timed([f"./{stem}"], tmp_path)
    assert ref.returncode == 0, ref.stderr
    assert cpu < 1.0, f"{name} used {cpu:.2f} s of CPU; examples must run in well under a second"
    gcc = shutil.which("gcc")
    if gcc:
        compile_or_fail([gcc, "-O2", "-std=c11", name, "-o", f"{stem}_gcc", "-lm"], tmp_path)
        other = run_program([f"./{stem}_gcc"], cwd=tmp_path, timeout=30)
        verdict = compare_runs(ref, other, rtol=RTOL, atol=ATOL)
        assert verdict.passed, verdict.reasons


@needs_clang
@pytest.mark.parametrize("name", C_EXAMPLES)
def test_offloaded_example_matches_serial_and_markers(name: str, tmp_path: Path) -> None:
    shutil.copy(C_DIR / name, tmp_path / name)
    stem = name[:-2]
    compile_or_fail([CLANG, "-O2", name, "-o", f"{stem}_serial", "-lm"], tmp_path)
    compile_or_fail(
        [str(VENV_BIN / "pcx-cc"), *PCX_FLAGS, "--pcx-report=R.json", "-O2", "-gline-tables-only",
         name, "-o", f"{stem}_pcx", "-lm"],
        tmp_path, env=pcx_env(),
    )
    serial = run_program([f"./{stem}_serial"], cwd=tmp_path, timeout=60)
    assert serial.returncode == 0, serial.stderr
    offloaded = run_program([f"./{stem}_pcx"], cwd=tmp_path, env=VALIDATION_ENV, timeout=120)
    verdict = compare_runs(serial, offloaded, rtol=RTOL, atol=ATOL)
    assert verdict.passed, "\n".join(verdict.reasons)
    problems = check_expectations(name, expectations(C_DIR / name, "c"), load_report(tmp_path / "R.json"),
                                  kernel_launches(offloaded.stderr))
    assert not problems, "\n".join(problems)


def test_expectation_checker_catches_each_disagreement(tmp_path: Path) -> None:
    """The checker itself: every kind of disagreement is reported, agreement is not."""
    src = tmp_path / "k.c"
    src.write_text(
        "void f(int n, double *restrict a) {\n"
        "    /* pcx: expect offload */\n"
        "    for (int i = 0; i < n; i++) a[i] = i;\n"
        "    /* pcx: expect serial PCX101 */\n"
        "    for (int i = 1; i < n; i++) a[i] += a[i - 1];\n"
        "}\n"
    )
    expected = expectations(src)
    assert expected == [Expectation(3, True, None), Expectation(5, False, "PCX101")]

    def report(first: str, second: str, applied: bool = True, second_ids: tuple[str, ...] = ("PCX101",)) -> dict:
        return {"sources": [{"file": "k.c", "path": str(src), "compiled": "rewritten", "nests": [
            {"line": 3, "function": "f", "decision": first, "applied": applied, "reasons": [{"id": "PCX100"}]},
            {"line": 5, "function": "f", "decision": second, "applied": False,
             "reasons": [{"id": i} for i in second_ids]},
        ]}]}

    good = ["__omp_offloading_fe00_1_f_l3"]
    assert check_expectations("k.c", expected, report("offloaded", "kept serial"), good) == []
    assert "no kernel ending in _l3" in check_expectations("k.c", expected, report("offloaded", "kept serial"),
                                                           ["__omp_offloading_fe00_1_f_l4"])[0]
    assert "decision 'kept serial'" in check_expectations("k.c", expected, report("kept serial", "kept serial"), good)[0]
    assert "applied=False" in check_expectations("k.c", expected, report("offloaded", "kept serial", False), good)[0]
    assert "UNSOUND" in check_expectations("k.c", expected, report("offloaded", "offloaded"), good)[0]
    assert "reasons ['PCX102']" in check_expectations("k.c", expected,
                                                      report("offloaded", "kept serial", second_ids=("PCX102",)), good)[0]
    empty = {"sources": [{"file": "k.c", "path": str(src), "nests": []}]}
    assert len(check_expectations("k.c", expected, empty, good)) == 2
    with pytest.raises(AssertionError, match="no report entry"):
        check_expectations("other.c", expected, empty, good)


@pytest.mark.parametrize(
    "source, message",
    [
        ("/* pcx: expect offload */\nint x;\n", "not directly above a for"),
        ("void f(void) {\n  /* pcx: expect serial */\n  for (;;) {}\n}\n", "needs a PCX reason"),
        ("void f(void) {\n  /* pcx: expect parallel */\n  for (;;) {}\n}\n", "malformed"),
        ("void f(void) {\n  /* pcx: expect offload */\n\n  for (;;) {}\n}\n", "not directly above a for"),
    ],
)
def test_misplaced_or_malformed_markers_fail(tmp_path: Path, source: str, message: str) -> None:
    src = tmp_path / "m.c"
    src.write_text(source)
    with pytest.raises(AssertionError, match=message):
        expectations(src)
