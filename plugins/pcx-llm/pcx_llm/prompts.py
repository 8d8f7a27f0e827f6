"""The text of every turn, stage by stage (ParaCodex: analysis, data plan, code, feedback).

All functions are pure: they turn a SourceUnit, a NestAnalysis and earlier results into
message strings.  Changing a prompt changes nothing else.
"""

from __future__ import annotations

from pcx_driver.model import Decision, Language, NestAnalysis, SourceUnit
from pcx_driver.tune.proposals import parser_for, replaced_lines

#: Sources up to this size go to the model whole; larger ones only the enclosing function.
WHOLE_FILE_LIMIT = 16_000

SYSTEM = """\
You are the offload rewriter of pcx-cc. You turn ONE serial loop nest of a C/C++ program \
into OpenMP target offload code for a GPU: a device with its OWN memory, so every array the \
device reads must be mapped to it and every array it writes must be mapped back.

How your code is judged: it replaces exactly the nest's lines, is compiled with clang \
(-fopenmp -fopenmp-targets=...), run with OMP_TARGET_OFFLOAD=MANDATORY, and its output must \
equal the serial program's. The nest's loops must really run on the device (kernel launches \
are checked).

Rules for code:
- Change only the nest. No #include, #define, new functions or changed signatures.
- Every loop of the nest runs inside a `#pragma omp target ...` construct (e.g. \
`#pragma omp target teams distribute parallel for map(to: x[0:n]) map(tofrom: y[0:n])`).
- Never decide at run time to stay on the host: no `if(...)` or `device(...)` clause on \
target constructs, no omp_get_num_devices, omp_is_initial_device, getenv, no host copy of the loop.
- No `nowait` on target constructs; no CUDA launches or CUDA runtime calls.
- OpenMP 5.0/5.1 syntax accepted by clang 19, gcc 12 and nvc: never `map(present: x)` \
without a map type; never schedule(static,1) on a combined construct.
- Reductions need a reduction clause; racing updates need `#pragma omp atomic`.
"""


def language_tag(unit: SourceUnit) -> str:
    return {Language.C: "c", Language.CXX: "cpp", Language.CUDA: "cuda"}[unit.language]


def numbered(text: str, first_line: int) -> str:
    lines = text.splitlines() or [""]
    width = len(str(first_line + len(lines)))
    return "\n".join(f"{first_line + k:>{width}} | {line}" for k, line in enumerate(lines))


def nest_text(unit: SourceUnit, nest: NestAnalysis) -> str:
    return unit.data[nest.start_byte : nest.end_byte].decode("utf-8", "surrogateescape")


def nest_lines(unit: SourceUnit, nest: NestAnalysis) -> tuple[int, int]:
    return replaced_lines(unit, nest, nest_text(unit, nest))


def _indent(unit: SourceUnit, nest: NestAnalysis) -> str:
    """The whitespace before the nest on its first line (shown, never replaced)."""
    data = unit.data
    lead = data[data.rfind(b"\n", 0, nest.start_byte) + 1 : nest.start_byte].decode("utf-8", "surrogateescape")
    return lead if not lead.strip() else ""


def context(unit: SourceUnit, nest: NestAnalysis) -> tuple[str, int]:
    """The code shown around the nest and its first line: the whole file when small,
    else the function that contains the nest (tree-sitter), else the nest itself."""
    data = unit.data
    if len(data) <= WHOLE_FILE_LIMIT:
        return unit.text, 1
    root = parser_for(unit.language).parse(data).root_node
    node = root.descendant_for_byte_range(nest.start_byte, max(nest.start_byte, nest.end_byte - 1))
    while node is not None and node.type != "function_definition":
        node = node.parent
    lo, hi = (node.start_byte, node.end_byte) if node is not None else (nest.start_byte, nest.end_byte)
    return data[lo:hi].decode("utf-8", "surrogateescape"), data[:lo].count(b"\n") + 1


def _summary(unit: SourceUnit, nest: NestAnalysis) -> str:
    lo, hi = nest_lines(unit, nest)
    out = [
        f"File: {unit.path} ({unit.language.value})",
        f"Hotspot: the loop nest in function {nest.function}, lines {lo}-{hi}, depth {nest.depth}, "
        f"estimated work {nest.work_estimate:g}.",
    ]
    if nest.remarks:
        out.append("The rule engine kept it serial because:" if nest.decision is Decision.SERIAL
                   else f"The rule engine's remarks ({nest.decision.value}):")
        out.extend(f"- {r.id} line {r.line}: {r.message}" for r in nest.remarks)
    if nest.arrays:
        out.append("Arrays the nest touches (from the static analysis):")
        for a in nest.arrays:
            use = "read+written" if a.read and a.written else "written" if a.written else "read" if a.read else "unused"
            extra = "" if a.exact else " (over-approximated)"
            full = ", every element written" if a.written_fully else ""
            out.append(f"- {a.name}: {a.element_type}, {use}{full}, section {a.section.render()}{extra}")
    if nest.reductions:
        out.append("Reductions: " + ", ".join(f"{r.op}:{r.variable}" for r in nest.reductions))
    if nest.private:
        out.append("Private scalars: " + ", ".join(nest.private))
    if nest.calls:
        out.append("Functions called: " + ", ".join(nest.calls))
    return "\n".join(out)


def analysis_request(unit: SourceUnit, nest: NestAnalysis, earlier_feedback: list[str] = ()) -> str:
    ctx, first = context(unit, nest)
    lo, hi = nest_lines(unit, nest)
    parts = [
        "Stage 1 of 3: analysis.",
        _summary(unit, nest),
        f"The source around the nest:\n```{language_tag(unit)}\n{numbered(ctx, first)}\n```",
        f"The nest (lines {lo}-{hi}):\n```{language_tag(unit)}\n{numbered(_indent(unit, nest) + nest_text(unit, nest), lo)}\n```",
    ]
    if earlier_feedback:
        parts.append("Earlier proposals for this nest failed:\n" + "\n\n".join(earlier_feedback))
    parts.append(
        "Analyse the nest in at most 200 words: which loops are parallel and why, what must be "
        "private, reduced or atomic, which arrays move and how large they are. Do not write code yet."
    )
    return "\n\n".join(parts)


def data_plan_request(unit: SourceUnit, nest: NestAnalysis) -> str:
    names = ", ".join(a.name for a in nest.arrays) or "(the analysis found none; list what you see)"
    return "\n".join([
        "Stage 2 of 3: the data plan. Reply with exactly one ```json block holding one object:",
        '{"arrays": [{"name": "y", "section": "y[0:n]", "map": "tofrom", "read": true, "written": true}],',
        ' "regions": [{"construct": "target teams distribute parallel for", "lines": [first, last],',
        '              "collapse": 1, "reductions": [], "private": []}],',
        ' "expected_bytes": {"to_device": "C expression or number", "from_device": "C expression or number"}}',
        f"Every array the nest reads or writes must appear: {names}.",
        "`map` is to, from, tofrom or alloc and must agree with the nest: read only -> to; every "
        "element written and none read first -> from; read and written, or written only in part -> tofrom.",
        "The section must cover every element the nest touches.",
    ])


def data_plan_retry(problems: list[str]) -> str:
    return "Your data plan was rejected:\n" + "\n".join(f"- {p}" for p in problems) + \
        "\nSend a corrected data plan as exactly one ```json block."


CUDA_NOTE = ("This is CUDA source: the lines below launch or contain a CUDA kernel. Replace them with "
             "OpenMP target offload code that does the kernel's work (one loop iteration per CUDA thread); "
             "no <<<...>>> launch and no CUDA runtime calls in the replacement.")


def code_request(unit: SourceUnit, nest: NestAnalysis) -> str:
    lo, hi = nest_lines(unit, nest)
    tag = language_tag(unit)
    return "\n\n".join([
        "Stage 3 of 3: the code.",
        *([CUDA_NOTE] if unit.language is Language.CUDA else []),
        f"Reply with exactly one ```{tag} block holding only the statements that replace lines "
        f"{lo}-{hi} (below, without line numbers) and follow your data plan. Nothing outside "
        "those lines may change.",
        f"```{tag}\n{nest_text(unit, nest)}\n```",
    ])


def code_retry(problems: list[str], unit: SourceUnit, nest: NestAnalysis) -> str:
    lo, hi = nest_lines(unit, nest)
    return ("Your replacement was rejected before building:\n" + "\n".join(f"- {p}" for p in problems)
            + f"\nSend a corrected replacement for lines {lo}-{hi} as exactly one ```{language_tag(unit)} block.")


def feedback_request(feedback: list[str], unit: SourceUnit, nest: NestAnalysis,
                     expected_bytes: dict | None = None) -> str:
    lo, hi = nest_lines(unit, nest)
    body = "\n\n".join(feedback) if feedback else "The replacement was not accepted."
    if expected_bytes:
        # ParaCodex compares the plan's expected traffic with the measured one.
        body += (f"\n\nYour data plan expected {expected_bytes.get('to_device')} bytes host->device and "
                 f"{expected_bytes.get('from_device')} bytes device->host.")
    return (f"Stage 4: your replacement was built and tested.\n\n{body}\n\n"
            f"Fix it. Send the corrected replacement for lines {lo}-{hi} as exactly one "
            f"```{language_tag(unit)} block.")
