"""The untrusted-output checks, the data-plan check and the proposal loop (no server, no compiler).

Tables of replies and C snippets with the decision and the reason, like the docs.
"""

from __future__ import annotations

import importlib.metadata
import json

import pluggy
import pytest

from pcx_driver import hookimpl, hookspecs
from pcx_driver.config import Config
from pcx_driver.model import (
    ArrayAccessSummary,
    Decision,
    Language,
    NestAnalysis,
    Profile,
    Section,
    SourceUnit,
)
from pcx_driver.tune.proposals import (
    GateOutcome,
    ProposalOutcome,
    check_proposal,
    format_feedback,
    launched_from_nest,
    pragma_clauses,
    propose_until_accepted,
    replaced_lines,
    splice,
)
from pcx_llm import plugin
from pcx_llm.dataplan import check_data_plan, parse_data_plan, parse_section
from pcx_llm.extract import extract_code, extract_json, looks_like_refusal

PROGRAM = """\
#include <stdio.h>
#include <stdlib.h>

static void update(int n, double a, const double *x, double *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

static void host_update(int n, double a, const double *x, double *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

int main(void)
{
    int n = 1000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (int i = 0; i < n; i++) { x[i] = i; y[i] = 1; }
    update(n, 3.0, x, y);
    host_update(n, 1.0, x, y);
    printf("%f\\n", y[n - 1]);
    return 0;
}
"""

NEST_TEXT = "for (int i = 0; i < n; i++)\n        y[i] = a * x[i] + y[i];"

GOOD = """\
#pragma omp target teams distribute parallel for map(to: x[0:n]) map(tofrom: y[0:n])
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];"""

HOST_LOOP = "for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];"


def make_nest(unit: SourceUnit) -> NestAnalysis:
    start = unit.data.index(NEST_TEXT.encode())
    return NestAnalysis(
        nest_id="update:6", function="update", line=6, column=5,
        start_byte=start, end_byte=start + len(NEST_TEXT.encode()), depth=1, decision=Decision.SERIAL,
        arrays=[
            ArrayAccessSummary("x", "double", read=True, written=False, section=Section("x", [("0", "n")])),
            ArrayAccessSummary("y", "double", read=True, written=True, section=Section("y", [("0", "n")])),
        ],
    )


@pytest.fixture
def unit() -> SourceUnit:
    return SourceUnit("prog.c", PROGRAM, Language.C)


# ----------------------------------------------------------------------------- static checks

CASES = [
    # (name, replacement, expected fragment of the first problem, or None: accepted)
    ("combined construct", GOOD, None),
    ("target + teams split", "#pragma omp target map(to: x[0:n]) map(tofrom: y[0:n])\n"
     "#pragma omp teams distribute parallel for\n" + HOST_LOOP, None),
    ("target with a block", "#pragma omp target teams map(to: x[0:n]) map(tofrom: y[0:n])\n{\n"
     "#pragma omp distribute parallel for\n" + HOST_LOOP + "\n}", None),
    ("if(0) clause", GOOD.replace("for map", "for if(0) map"), "`if(0)` on a target construct"),
    ("if(target:) clause", GOOD.replace("for map", "for if (target: n > 100) map"), "on a target construct"),
    ("device probe branch", "if (omp_get_num_devices() > 0) {\n" + GOOD + "\n} else {\n" + HOST_LOOP + "\n}",
     "runs on the host"),
    ("device probe only", "if (omp_get_num_devices() > 0) {\n" + GOOD + "\n}", "omp_get_num_devices"),
    ("env switch", "if (getenv(\"USE_GPU\")) {\n" + GOOD + "\n}", "getenv"),
    ("nowait", GOOD.replace("for map", "for nowait map"), "`nowait`"),
    ("device() clause", GOOD.replace("for map", "for device(omp_get_initial_device()) map"), "omp_get_initial_device"),
    ("dummy target beside host loop", "#pragma omp target\n{ }\n" + HOST_LOOP, "runs on the host"),
    ("target data is not a kernel", "#pragma omp target data map(tofrom: y[0:n])\n{\n" + HOST_LOOP + "\n}",
     "no `#pragma omp target` construct"),
    ("no pragma at all", HOST_LOOP, "no `#pragma omp target` construct"),
    ("goto loop beside empty target", "#pragma omp target\n{ }\n{ int i = 0;\nagain: if (i < n) "
     "{ y[i] = a * x[i] + y[i]; i++; goto again; } }", "goto"),
    ("work moved to another function", "#pragma omp target\n{ }\nhost_update(n, a, x, y);", "host_update"),
    ("adds #include", "#include <math.h>\n" + GOOD, "#include"),
    ("adds #define", "#define N 10\n" + GOOD, "preprocessor directive"),
    ("declares a function", "double twice(double);\n" + GOOD, "declares a function"),
    ("code outside the nest", GOOD + "\n}\nint evil(void) { return 0; }\nvoid g(void) {", "outside the nest"),
    ("closes the function", GOOD + "\n}", "outside the nest"),
    ("whole function returned", "static void update(int n, double a, const double *x, double *y)\n{\n"
     + GOOD + "\n}", "function"),
    ("whole file returned", PROGRAM.replace(NEST_TEXT, GOOD), "#include"),
    ("does not parse", "for (int i = 0; i < n; i++ { y[i] = 0; }", "does not parse"),
    ("calls system", GOOD + "\nsystem(\"rm -rf /\");", "system"),
    ("empty", "  \n", "empty"),
]


@pytest.mark.parametrize("name,text,expected", CASES, ids=[c[0] for c in CASES])
def test_check_proposal_table(unit, name, text, expected):
    problems = check_proposal(unit, make_nest(unit), text)
    if expected is None:
        assert problems == []
    else:
        assert problems, f"{name}: accepted"
        assert any(expected in p for p in problems), problems


def test_splice_changes_only_the_nest(unit):
    nest = make_nest(unit)
    new = splice(unit, nest, GOOD).encode()
    assert new[: nest.start_byte] == unit.data[: nest.start_byte]
    assert new[nest.start_byte + len(GOOD.encode()) :] == unit.data[nest.end_byte :]
    assert replaced_lines(unit, nest, GOOD) == (6, 8)


def test_pragma_clauses():
    assert pragma_clauses("omp target teams map(to: a[0:n]) if (0) \\\n nowait") == [
        ("omp", None), ("target", None), ("teams", None), ("map", "to: a[0:n]"), ("if", "0"), ("nowait", None)]
    assert pragma_clauses("omp target map(tofrom: a[f(i)]) device(d)")[-1] == ("device", "d")


def test_launched_from_nest_needs_a_kernel_on_the_replaced_lines(unit):
    nest = make_nest(unit)
    assert launched_from_nest(unit, nest, GOOD, ["__omp_offloading_fd00_4a_update_l6"]) == [
        "__omp_offloading_fd00_4a_update_l6"]
    # A kernel of another function, or of this function's other lines, is not this nest's.
    assert launched_from_nest(unit, nest, GOOD, ["__omp_offloading_fd00_4a_main_l6",
                                                 "__omp_offloading_fd00_4a_update_l40"]) == []
    assert launched_from_nest(unit, nest, GOOD, []) == []


# ----------------------------------------------------------------------------- reply parsing

def test_extract_one_code_block():
    assert extract_code("Here:\n```c\nx = 1;\n```\nDone.") == ("x = 1;", None)
    assert extract_code("```\nx = 1;\n```")[0] == "x = 1;"
    assert "no fenced code block" in extract_code("Just add a pragma.")[1]
    assert "2 code blocks" in extract_code("```c\na;\n```\n```c\nb;\n```")[1]
    assert "empty" in extract_code("```c\n\n```")[1]
    # A JSON block next to the code is not a second code block.
    assert extract_code("```json\n{}\n```\n```cpp\nx = 1;\n```") == ("x = 1;", None)


def test_extract_json():
    assert extract_json('```json\n{"a": 1}\n```') == ({"a": 1}, None)
    assert extract_json('{"a": 1}') == ({"a": 1}, None)
    assert "not valid JSON" in extract_json("```json\n{a: 1}\n```")[1]


def test_refusal():
    assert looks_like_refusal("I can't help with that.")
    assert looks_like_refusal("I\u2019m sorry, but I cannot do this.")
    assert looks_like_refusal("anything", refusal_field="policy")
    assert not looks_like_refusal("The loop is parallel because ...")
    assert not looks_like_refusal("I can't see a dependence.\n```c\nx;\n```")


# ----------------------------------------------------------------------------- data plan

def _plan(**arrays):
    return {
        "arrays": [{"name": k, "section": s, "map": m} for k, (s, m) in arrays.items()],
        "regions": [{"construct": "target teams distribute parallel for", "lines": [6, 7]}],
        "expected_bytes": {"to_device": "16*n", "from_device": "8*n"},
    }


PLAN_CASES = [
    ("consistent", _plan(x=("x[0:n]", "to"), y=("y[0:n]", "tofrom")), None),
    ("input as tofrom is allowed", _plan(x=("x[0:n]", "tofrom"), y=("y[0:n]", "tofrom")), None),
    ("read-write array as to", _plan(x=("x[0:n]", "to"), y=("y[0:n]", "to")), "map(to:) is wrong"),
    ("read-write array as from", _plan(x=("x[0:n]", "to"), y=("y[0:n]", "from")), "read and written"),
    ("input as alloc", _plan(x=("x[0:n]", "alloc"), y=("y[0:n]", "tofrom")), "map(alloc:) is wrong"),
    ("missing array", _plan(x=("x[0:n]", "to")), "does not map it"),
    ("wrong shape", _plan(x=("x[0:n][0:2]", "to"), y=("y[0:n]", "tofrom")), "dimension"),
    ("no section", _plan(x=("x", "to"), y=("y[0:n]", "tofrom")), "dimension"),
    ("bad map kind", _plan(x=("x[0:n]", "present"), y=("y[0:n]", "tofrom")), "must be one of"),
    ("not an object", [1, 2], "JSON object"),
    ("no regions", {**_plan(x=("x[0:n]", "to"), y=("y[0:n]", "tofrom")), "regions": []}, "'regions' is empty"),
    ("host region", {**_plan(x=("x[0:n]", "to"), y=("y[0:n]", "tofrom")),
                     "regions": [{"construct": "parallel for"}]}, "target construct"),
    ("no bytes", {k: v for k, v in _plan(x=("x[0:n]", "to"), y=("y[0:n]", "tofrom")).items()
                  if k != "expected_bytes"}, "expected_bytes"),
]


@pytest.mark.parametrize("name,obj,expected", PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_data_plan_table(unit, name, obj, expected):
    plan, problems = parse_data_plan(obj)
    if plan is not None:
        problems = check_data_plan(plan, make_nest(unit))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_partly_written_output_needs_tofrom(unit):
    nest = make_nest(unit)
    nest.arrays = [ArrayAccessSummary("z", "double", read=False, written=True, section=Section("z", [("0", "n")]))]
    plan, _ = parse_data_plan(_plan(z=("z[0:n]", "from")))
    assert any("written only in part" in p for p in check_data_plan(plan, nest))
    nest.arrays[0].written_fully = True
    assert check_data_plan(plan, nest) == []


def test_parse_section():
    assert parse_section("a[0:n][j:m - 1]") == Section("a", [("0", "n"), ("j", "m - 1")])
    assert parse_section("a[:n]") == Section("a", [("0", "n")])
    assert parse_section("a[i]") == Section("a", [("i", "1")])
    assert parse_section("a[b[0]:n]") == Section("a", [("b[0]", "n")])
    assert parse_section("a[0:]") is None
    assert parse_section("a[0:n") is None


# ----------------------------------------------------------------------------- settings

def test_settings_and_entry_point(tmp_path):
    names = {o.name for o in plugin.pcx_add_options()}
    assert {"llm", "llm-base-url", "llm-model", "llm-max-attempts", "llm-max-tokens", "llm-timeout",
            "llm-retries"} <= names
    config = Config.resolve({}, environ={"PCX_LLM": "1", "PCX_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                                         "PCX_LLM_MODEL": "m", "PCX_LLM_MAX_ATTEMPTS": "5"},
                            cwd=tmp_path, extra_specs=tuple(plugin.pcx_add_options()))
    assert config.get("llm") is True and config.get("llm-max-attempts") == 5
    assert config.get("llm-base-url") == "http://127.0.0.1:9/v1"
    eps = importlib.metadata.entry_points(group="pcx")
    assert any(ep.name == "llm" and ep.value == "pcx_llm.plugin" for ep in eps)


def test_off_by_default_sends_nothing(unit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Config.resolve({}, environ={"PCX_LLM_MODEL": "m", "PCX_LLM_BASE_URL": "http://127.0.0.1:9/v1"},
                            cwd=tmp_path, extra_specs=tuple(plugin.pcx_add_options()))
    unit.directory = str(tmp_path)
    assert plugin.pcx_propose_rewrite(unit=unit, nest=make_nest(unit), feedback=[], config=config) is None
    assert not (tmp_path / ".pcx").exists()


# ----------------------------------------------------------------------------- the proposal loop

class ScriptedProposer:
    """A proposal plugin that answers from a list and records the feedback it got."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.feedback_seen: list[list[str]] = []

    @hookimpl
    def pcx_propose_rewrite(self, unit, nest, feedback, config):
        self.feedback_seen.append(list(feedback))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _pm(proposer) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("pcx")
    pm.add_hookspecs(hookspecs)
    pm.register(proposer)
    return pm


def _passing(kernels):
    return GateOutcome(compiled=True, passed=True, launched_kernels=kernels,
                       profile=Profile(launches=1, bytes_to_device=16000, bytes_from_device=8000))


def test_loop_feeds_back_static_compile_gate_and_launch_failures(unit):
    nest = make_nest(unit)
    proposer = ScriptedProposer([HOST_LOOP, GOOD, GOOD, GOOD, GOOD])
    gates = iter([
        GateOutcome(compiled=False, compile_errors="prog.c:7:9: error: use of undeclared identifier 'z'"),
        GateOutcome(compiled=True, passed=False, reasons=["stdout line 1: expected 3.0, got 1.0 [PCX301]"],
                    diff="--- serial\n+++ offloaded\n-3.0\n+1.0"),
        _passing([]),  # passed, but nothing launched from the nest: stayed on the host
        _passing(["__omp_offloading_fd00_4a_update_l6"]),
    ])
    built: list[str] = []

    def build_and_gate(source: str) -> GateOutcome:
        built.append(source)
        return next(gates)

    outcome = propose_until_accepted(unit, nest, _pm(proposer), None, build_and_gate, max_attempts=5)
    assert outcome.accepted and outcome.text == GOOD and outcome.source == built[-1]
    assert [a.accepted for a in outcome.attempts] == [False, False, False, False, True]
    assert len(built) == 4  # the host loop was never built
    fb = proposer.feedback_seen[-1]
    assert len(fb) == 4
    assert "no `#pragma omp target`" in fb[0] and "rejected before building" in fb[0]
    assert "undeclared identifier 'z'" in fb[1]
    assert "[PCX301]" in fb[2] and "+1.0" in fb[2]
    assert "no kernel was launched" in fb[3] and "bytes host->device: 16000" in fb[3]
    assert [r.id for r in outcome.remarks] == ["PCX501"] * 4 + ["PCX500"]
    again = ProposalOutcome.from_json(outcome.to_json())
    assert again == outcome


def test_loop_stops_on_no_proposal_and_on_budget(unit):
    nest = make_nest(unit)
    outcome = propose_until_accepted(unit, nest, _pm(ScriptedProposer([None])), None, lambda s: _passing([]), 3)
    assert not outcome.accepted and len(outcome.attempts) == 1 and outcome.source is None
    failing = GateOutcome(compiled=True, passed=False, reasons=["differs [PCX301]"])
    proposer = ScriptedProposer([GOOD] * 5)
    outcome = propose_until_accepted(unit, nest, _pm(proposer), None, lambda s: failing, 2)
    assert not outcome.accepted and len(outcome.attempts) == 2 and len(proposer.answers) == 3


def test_loop_survives_a_broken_plugin_and_build(unit):
    nest = make_nest(unit)
    outcome = propose_until_accepted(unit, nest, _pm(ScriptedProposer([RuntimeError("boom")])), None,
                                     lambda s: _passing([]), 3)
    assert not outcome.accepted and outcome.remarks[0].id == "PCX502"

    def broken(source):
        raise OSError("disk full")

    outcome = propose_until_accepted(unit, nest, _pm(ScriptedProposer([GOOD, None])), None, broken, 3)
    assert not outcome.accepted and "disk full" in outcome.feedback[0]


def test_format_feedback_clips_long_output():
    gate = GateOutcome(compiled=False, compile_errors="e" * 10_000)
    text = format_feedback([], gate)
    assert len(text) < 5000 and "more characters" in text
    json.dumps(json.loads(ProposalOutcome("p", "n").to_json()))


CUDA_PROGRAM = """\
__global__ void saxpy(int n, float a, const float *x, float *y)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

void run(int n, float a, const float *x, float *y)
{
    saxpy<<<(n + 255) / 256, 256>>>(n, a, x, y);
}
"""
CUDA_LAUNCH = "saxpy<<<(n + 255) / 256, 256>>>(n, a, x, y);"
CUDA_GOOD = ("#pragma omp target teams distribute parallel for map(to: x[0:n]) map(tofrom: y[0:n])\n"
             "for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];")


@pytest.mark.parametrize("text,expected", [
    (CUDA_GOOD, None),
    ("#pragma omp target\n{ }\n" + CUDA_LAUNCH, "CUDA kernel"),
    ("cudaMemcpy(y, x, n, cudaMemcpyDeviceToHost);\n" + CUDA_GOOD, "CUDA runtime"),
], ids=["target loop", "relaunch", "cuda runtime"])
def test_cuda_kernel_launch_replacement(text, expected):
    unit = SourceUnit("k.cu", CUDA_PROGRAM, Language.CUDA)
    start = unit.data.index(CUDA_LAUNCH.encode())
    nest = NestAnalysis("run:9", "run", 9, 5, start, start + len(CUDA_LAUNCH), 0, Decision.SERIAL)
    problems = check_proposal(unit, nest, text)
    assert (problems == []) if expected is None else any(expected in p for p in problems), problems


def test_large_sources_send_only_the_enclosing_function(unit):
    from pcx_llm import prompts

    padding = "".join(f"static int pad{k}(int v) {{ return v + {k}; }}\n" for k in range(600))
    big = SourceUnit("big.c", padding + PROGRAM, Language.C)
    nest = make_nest(big)
    assert len(big.data) > prompts.WHOLE_FILE_LIMIT
    text, first = prompts.context(big, nest)
    assert text.startswith("static void update(") and text.endswith("}") and "pad1" not in text
    assert first == padding.count("\n") + 4
    small_text, small_first = prompts.context(unit, make_nest(unit))
    assert small_text == PROGRAM and small_first == 1
