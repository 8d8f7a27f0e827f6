"""The plugin end to end: the real ``openai`` client against a local scripted server,
and the real gate (clang-19 offload to the host device, compared with the serial build).

The server (http.server on 127.0.0.1, ephemeral port, one thread) answers
/v1/chat/completions from a script and records every request; the fixture stops it.
"""

from __future__ import annotations

import difflib
import json
import logging
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pcx_driver.config import Config
from pcx_driver.gate import VALIDATION_ENV, compare_runs, kernel_launches, run_program
from pcx_driver.model import (
    ArrayAccessSummary,
    Decision,
    Language,
    NestAnalysis,
    Remark,
    RunOutput,
    Section,
    SourceUnit,
)
from pcx_driver.plugins import make_plugin_manager
from pcx_driver.profile import profile_from_info
from pcx_driver.tune.proposals import GateOutcome, propose_until_accepted
from pcx_llm import plugin

API_KEY = "sk-test-DO-NOT-LEAK-4f1c9a"
CLANG = shutil.which("clang-19")
OFFLOAD_FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
                 "-Wl,-rpath,/usr/lib/llvm-19/lib"]

# `update` is what the rule engine refuses: x and y are plain pointers that may alias (PCX104).
PROGRAM = """\
#include <stdio.h>
#include <stdlib.h>

static void update(int n, double a, const double *x, double *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

int main(void)
{
    int n = 20000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (int i = 0; i < n; i++) { x[i] = i * 0.5; y[i] = 1.0 + i % 7; }
    update(n, 3.0, x, y);
    double s = 0;
    for (int i = 0; i < n; i++) s += y[i];
    printf("%.6f %.6f %.6f\\n", s, y[1], y[n - 1]);
    free(x);
    free(y);
    return 0;
}
"""
NEST_TEXT = "for (int i = 0; i < n; i++)\n        y[i] = a * x[i] + y[i];"

ANALYSIS = ("Each iteration i reads x[i] and y[i] and writes only y[i]; the loop is parallel if x and y "
            "do not overlap, which the caller guarantees. x (n doubles) moves in, y (n doubles) in and out.")
PLAN = """```json
{"arrays": [{"name": "x", "section": "x[0:n]", "map": "to", "read": true, "written": false},
            {"name": "y", "section": "y[0:n]", "map": "tofrom", "read": true, "written": true}],
 "regions": [{"construct": "target teams distribute parallel for", "lines": [6, 7], "collapse": 1,
              "reductions": [], "private": []}],
 "expected_bytes": {"to_device": "16*n", "from_device": "8*n"}}
```"""
GOOD = """Here is the rewrite:
```c
#pragma omp target teams distribute parallel for map(to: x[0:n]) map(tofrom: y[0:n])
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
```"""
# y is an output but only mapped to the device: the host never sees the result.
WRONG_MAP = GOOD.replace("map(to: x[0:n]) map(tofrom: y[0:n])", "map(to: x[0:n], y[0:n])")
PROBE_CHEAT = """```c
if (omp_get_num_devices() > 0) {
#pragma omp target teams distribute parallel for map(to: x[0:n]) map(tofrom: y[0:n])
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
} else {
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
```"""
IF0_CHEAT = GOOD.replace("parallel for map", "parallel for if(0) map")
DUMMY_CHEAT = """```c
#pragma omp target
{ }
for (int i = 0; i < n; i++)
    y[i] = a * x[i] + y[i];
```"""


# ----------------------------------------------------------------------------- the server


class ScriptedServer:
    """An OpenAI-compatible /v1/chat/completions that plays a script.

    Script items: a string (the assistant's content), ``{"status": 429}`` (an error
    response, optionally with ``"body"``), ``{"delay": s, "content": c}`` (answer after s
    seconds, cut short when the server stops), ``{"refusal": text}``.
    """

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    item = server.script.pop(0) if server.script else {"status": 400, "body": "script exhausted"}
                if self.path != "/v1/chat/completions":
                    item = {"status": 404}
                if isinstance(item, dict) and "delay" in item:
                    if server.stopping.wait(item["delay"]):
                        return
                    item = item.get("content", "")
                try:
                    if isinstance(item, dict) and "status" in item:
                        self._send(item["status"], {"error": {"message": item.get("body", "error"), "type": "test"}})
                    else:
                        content = None if isinstance(item, dict) else item
                        refusal = item.get("refusal") if isinstance(item, dict) else None
                        words = sum(len(m.get("content") or "") for m in body.get("messages", [])) // 4
                        out = len(content or refusal or "") // 4
                        self._send(200, {
                            "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion", "created": 0,
                            "model": body.get("model", "test"),
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
                            "usage": {"prompt_tokens": words, "completion_tokens": out, "total_tokens": words + out},
                        })
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def user_turns(self, k: int) -> list[str]:
        """The user messages of request ``k`` (0-based), in order."""
        return [m["content"] for m in self.requests[k]["body"]["messages"] if m["role"] == "user"]

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def llm_server():
    servers: list[ScriptedServer] = []

    def start(script: list[Any]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, tmp_path):
    plugin.reset_sessions()
    monkeypatch.chdir(tmp_path)  # the audit goes to ./.pcx/llm
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    yield
    plugin.reset_sessions()


# ----------------------------------------------------------------------------- inputs


def make_unit(tmp_path: Path) -> SourceUnit:
    return SourceUnit("prog.c", PROGRAM, Language.C, directory=str(tmp_path))


def refused_nest(unit: SourceUnit) -> NestAnalysis:
    """The nest in ``update`` as the rule engine's analysis describes it (by hand while
    ``pcx_driver.engine.analysis`` is not in the tree)."""
    try:
        from pcx_driver.engine.analysis import analyse_unit
    except ImportError:
        return hand_built_nest(unit)
    nests = [n for n in analyse_unit(unit).nests() if n.function == "update"]
    assert len(nests) == 1, nests
    return nests[0]


def hand_built_nest(unit: SourceUnit) -> NestAnalysis:
    """The nest ``update:6`` kept serial with the may-alias remark."""
    start = unit.data.index(NEST_TEXT.encode())
    return NestAnalysis(
        nest_id="update:6", function="update", line=6, column=5,
        start_byte=start, end_byte=start + len(NEST_TEXT.encode()), depth=1, decision=Decision.SERIAL,
        remarks=[Remark("PCX104", unit.path, 6, 5, "pointers x and y may alias")],
        arrays=[
            ArrayAccessSummary("x", "double", read=True, written=False, section=Section("x", [("0", "n")])),
            ArrayAccessSummary("y", "double", read=True, written=True, section=Section("y", [("0", "n")])),
        ],
        work_estimate=20000.0,
    )


def make_config(tmp_path: Path, server: ScriptedServer, **extra: str) -> Config:
    environ = {"PCX_LLM": "1", "PCX_LLM_BASE_URL": server.base_url, "PCX_LLM_MODEL": "test-coder",
               "PCX_LLM_BACKOFF": "0.01", "PCX_LLM_TIMEOUT": "10", "PCX_LLM_RETRIES": "2"}
    environ.update({f"PCX_{k.upper()}": v for k, v in extra.items()})
    specs = tuple(s for specs in make_pm().hook.pcx_add_options() if specs for s in specs)
    return Config.resolve({}, environ=environ, cwd=tmp_path, extra_specs=specs)


def make_pm() -> Any:
    """The plugin manager pcx builds: the default stages plus the ``pcx`` entry points."""
    pm, errors = make_plugin_manager()
    assert not errors and pm.get_plugin("llm") is plugin
    return pm


def audit_files(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / ".pcx" / "llm").rglob("*") if p.is_file())


def assert_no_key_saved(tmp_path: Path) -> None:
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert API_KEY.encode() not in p.read_bytes(), f"API key saved in {p}"


# ----------------------------------------------------------------------------- the real gate

needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")


class RealGate:
    """build_and_gate for the tests: clang-19 offload build of the spliced source, a run
    under the validation environment, compared with the serial build's run."""

    def __init__(self, workdir: Path, program: str = PROGRAM) -> None:
        self.workdir = workdir
        self.builds = 0
        src = workdir / "serial.c"
        src.write_text(program)
        subprocess.run([CLANG, "-O2", str(src), "-o", str(workdir / "serial"), "-lm"], check=True,
                       capture_output=True, timeout=120)
        self.reference = run_program([str(workdir / "serial")], cwd=workdir, env={"OMP_NUM_THREADS": "2"}, timeout=60)
        assert self.reference.returncode == 0

    def __call__(self, source: str) -> GateOutcome:
        self.builds += 1
        src = self.workdir / f"candidate{self.builds}.c"
        exe = self.workdir / f"candidate{self.builds}"
        src.write_text(source)
        build = subprocess.run([CLANG, *OFFLOAD_FLAGS, str(src), "-o", str(exe), "-lm"],
                               capture_output=True, text=True, timeout=180)
        if build.returncode != 0:
            return GateOutcome(compiled=False, compile_errors=build.stderr)
        run: RunOutput = run_program([str(exe)], cwd=self.workdir, env=VALIDATION_ENV, timeout=60)
        verdict = compare_runs(self.reference, run)
        diff = "\n".join(difflib.unified_diff(self.reference.stdout.splitlines(), run.stdout.splitlines(),
                                              "serial", "offloaded", lineterm=""))
        return GateOutcome(compiled=True, passed=verdict.passed, reasons=verdict.reasons, diff=diff,
                           launched_kernels=kernel_launches(run.stderr), profile=profile_from_info(run.stderr),
                           reference_seconds=self.reference.seconds, candidate_seconds=run.seconds)


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("llm-gate")


# ----------------------------------------------------------------------------- tests


@needs_clang
def test_correct_rewrite_is_accepted_after_the_gate(tmp_path, llm_server, caplog):
    caplog.set_level(logging.DEBUG)
    server = llm_server([ANALYSIS, PLAN, GOOD])
    unit = make_unit(tmp_path)
    nest = refused_nest(unit)
    gate = RealGate(tmp_path)
    outcome = propose_until_accepted(unit, nest, make_pm(), make_config(tmp_path, server), gate, max_attempts=2)

    assert outcome.accepted, outcome.feedback
    assert [r.id for r in outcome.remarks] == ["PCX500"]
    assert gate.builds == 1
    launched = outcome.attempts[0].gate.launched_kernels
    assert launched and all("update_l6" in k for k in launched)  # the kernel is the nest's
    assert outcome.source.startswith(PROGRAM[: nest.start_byte])
    assert outcome.source.endswith(PROGRAM[nest.end_byte :])

    # Stages in order: analysis, then the data plan, then the code.
    assert len(server.requests) == 3
    assert server.user_turns(0)[-1].startswith("Stage 1")
    assert all(r.id in server.user_turns(0)[-1] for r in nest.remarks)
    assert "lines 6-7" in server.user_turns(0)[-1] and NEST_TEXT.splitlines()[1] in server.user_turns(0)[-1]
    assert server.user_turns(1)[-1].startswith("Stage 2")
    assert server.user_turns(2)[-1].startswith("Stage 3")
    assert server.requests[2]["body"]["max_tokens"] == 4096
    # The key went to the server in the header, and nowhere else.
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert_no_key_saved(tmp_path)
    assert API_KEY not in caplog.text

    # Audit: every exchange saved with its token counts.
    records = [json.loads(p.read_text()) for p in audit_files(tmp_path) if p.suffix == ".json"]
    assert [r["stage"] for r in records] == ["analysis", "data-plan", "code"]
    assert all(r["usage"]["total_tokens"] > 0 for r in records)
    assert records[2]["response"]["text"] == GOOD
    index = (tmp_path / ".pcx" / "llm" / "index.jsonl").read_text().splitlines()
    assert len(index) == 3 and json.loads(index[0])["prompt_tokens"] > 0


@needs_clang
def test_wrong_map_fails_the_gate_and_the_diff_is_fed_back(tmp_path, llm_server):
    server = llm_server([ANALYSIS, PLAN, WRONG_MAP, GOOD])
    unit = make_unit(tmp_path)
    gate = RealGate(tmp_path)
    outcome = propose_until_accepted(unit, refused_nest(unit), make_pm(), make_config(tmp_path, server), gate, 3)

    assert outcome.accepted and len(outcome.attempts) == 2
    first = outcome.attempts[0]
    assert first.gate.compiled and not first.gate.passed and "[PCX301]" in first.gate.reasons[0]
    assert [r.id for r in outcome.remarks] == ["PCX501", "PCX500"]
    # The 4th request is the feedback turn: it carries the gate's reason and output diff.
    feedback_turn = server.user_turns(3)[-1]
    assert feedback_turn.startswith("Stage 4")
    assert "[PCX301]" in feedback_turn and first.gate.diff in feedback_turn
    assert "--- serial" in feedback_turn and "+++ offloaded" in feedback_turn
    assert "bytes host->device:" in feedback_turn and "expected 16*n bytes host->device" in feedback_turn
    # The conversation continued: the model saw its own wrong answer.
    assert any(m["content"] == WRONG_MAP for m in server.requests[3]["body"]["messages"] if m["role"] == "assistant")
    assert_no_key_saved(tmp_path)


def test_data_plan_is_checked_before_code_is_asked(tmp_path, llm_server):
    bad_plan = PLAN.replace('"map": "tofrom"', '"map": "to"')
    server = llm_server([ANALYSIS, bad_plan, PLAN, GOOD])
    unit = make_unit(tmp_path)
    # The hand-built analysis: this test is about the check, not about the engine.
    text = plugin.pcx_propose_rewrite(unit=unit, nest=hand_built_nest(unit), feedback=[],
                                      config=make_config(tmp_path, server))
    assert text is not None and "map(tofrom: y[0:n])" in text
    assert len(server.requests) == 4
    reask = server.user_turns(2)[-1]
    assert "data plan was rejected" in reask and "array y: map(to:) is wrong" in reask
    assert server.user_turns(3)[-1].startswith("Stage 3")


def test_malformed_output_is_rejected_and_reasked(tmp_path, llm_server):
    no_block = "Just put `#pragma omp target teams distribute parallel for` before the loop."
    outside = GOOD.replace("y[i];\n```", "y[i];\n}\nint leak(void) { return 1; }\nvoid more(void) {\n```")
    include = GOOD.replace("```c\n", "```c\n#include <omp.h>\n")
    server = llm_server([ANALYSIS, PLAN, no_block, outside, include])
    unit = make_unit(tmp_path)
    text = plugin.pcx_propose_rewrite(unit=unit, nest=refused_nest(unit), feedback=[],
                                      config=make_config(tmp_path, server, llm_max_attempts="3"))
    assert text is None  # three malformed replies spend the budget
    assert len(server.requests) == 5
    assert "no fenced code block" in server.user_turns(3)[-1]
    assert "code outside the nest" in server.user_turns(4)[-1]


def test_host_fallback_cheats_are_rejected_before_building(tmp_path, llm_server):
    server = llm_server([ANALYSIS, PLAN, PROBE_CHEAT, IF0_CHEAT, DUMMY_CHEAT])
    unit = make_unit(tmp_path)

    def must_not_build(source: str) -> GateOutcome:
        raise AssertionError("a host-fallback proposal reached the build")

    outcome = propose_until_accepted(unit, refused_nest(unit), make_pm(), make_config(tmp_path, server),
                                     must_not_build, 3)
    assert not outcome.accepted and outcome.attempts[0].text is None
    assert "omp_get_num_devices" in server.user_turns(3)[-1]
    assert "`if(0)` on a target construct" in server.user_turns(4)[-1]
    records = [json.loads(p.read_text()) for p in audit_files(tmp_path) if p.suffix == ".json"]
    assert records[-1]["response"]["text"] == DUMMY_CHEAT  # saved for audit even though rejected


def test_429_and_503_are_retried_with_backoff(tmp_path, llm_server):
    # The error body echoes the key, as a careless proxy might: it must not reach the audit.
    server = llm_server([{"status": 429, "body": f"slow down {API_KEY}"}, {"status": 503}, ANALYSIS, PLAN, GOOD])
    unit = make_unit(tmp_path)
    started = time.monotonic()
    text = plugin.pcx_propose_rewrite(unit=unit, nest=refused_nest(unit), feedback=[],
                                      config=make_config(tmp_path, server))
    assert text is not None and time.monotonic() - started < 10
    assert len(server.requests) == 5
    records = [json.loads(p.read_text()) for p in audit_files(tmp_path) if p.suffix == ".json"]
    assert [(r["status"], r.get("error")) for r in records[:3]] == [
        ("error", "RateLimitError (HTTP 429)"), ("error", "InternalServerError (HTTP 503)"), ("ok", None)]
    assert records[0]["will_retry"] and "[redacted]" in records[0]["detail"]
    assert_no_key_saved(tmp_path)


def test_timeout_gives_up_after_the_retries(tmp_path, llm_server, caplog):
    server = llm_server([{"delay": 30, "content": ANALYSIS}] * 3)
    unit = make_unit(tmp_path)
    started = time.monotonic()
    text = plugin.pcx_propose_rewrite(unit=unit, nest=refused_nest(unit), feedback=[],
                                      config=make_config(tmp_path, server, llm_timeout="0.3", llm_retries="1"))
    assert text is None and time.monotonic() - started < 10
    assert len(server.requests) == 2  # one try and one retry
    assert "PCX502" in caplog.text and "APITimeoutError" in caplog.text
    records = [json.loads(p.read_text()) for p in audit_files(tmp_path) if p.suffix == ".json"]
    assert [r["error"] for r in records] == ["APITimeoutError", "APITimeoutError"]


@pytest.mark.parametrize("answer", ["I can't help with that.", {"refusal": "I can't help with that."}],
                         ids=["text", "refusal-field"])
def test_refusal_ends_the_session(tmp_path, llm_server, answer):
    server = llm_server([answer, ANALYSIS, PLAN, GOOD])
    unit = make_unit(tmp_path)
    outcome = propose_until_accepted(unit, refused_nest(unit), make_pm(), make_config(tmp_path, server),
                                     lambda s: pytest.fail("nothing to build"), 3)
    assert not outcome.accepted and len(server.requests) == 1


def test_feedback_for_an_unknown_session_starts_over_with_it(tmp_path, llm_server):
    """A tune run resumed in a new process: the earlier feedback goes into the analysis turn."""
    server = llm_server([ANALYSIS, PLAN, GOOD])
    unit = make_unit(tmp_path)
    text = plugin.pcx_propose_rewrite(unit=unit, nest=hand_built_nest(unit),
                                      feedback=["stdout line 1 differs [PCX301]"],
                                      config=make_config(tmp_path, server))
    assert text is not None and len(server.requests) == 3
    first = server.user_turns(0)[-1]
    assert "Earlier proposals for this nest failed" in first and "[PCX301]" in first


# A nest the rule engine really refuses: ``j`` carries a value between iterations (PCX112),
# yet it is an induction variable, so the loop is parallel once j is rewritten as 2*i.
SPREAD = """\
#include <stdio.h>
#include <stdlib.h>

static void spread(int n, const double *x, double *y)
{
    int j = 0;
    for (int i = 0; i < n; i++) {
        y[j] = 2.0 * x[i];
        y[j + 1] = x[i] + 1.0;
        j += 2;
    }
}

int main(void)
{
    int n = 20000;
    double *x = malloc(n * sizeof *x);
    double *y = malloc(2 * n * sizeof *y);
    for (int i = 0; i < n; i++) x[i] = i * 0.25;
    spread(n, x, y);
    double s = 0;
    for (int i = 0; i < 2 * n; i++) s += y[i] * (i % 3);
    printf("%.3f %.3f %.3f\\n", s, y[1], y[2 * n - 1]);
    free(x);
    free(y);
    return 0;
}
"""
SPREAD_PLAN = """```json
{"arrays": [{"name": "x", "section": "x[0:n]", "map": "to", "read": true, "written": false},
            {"name": "y", "section": "y[0:2*n]", "map": "from", "read": false, "written": true}],
 "regions": [{"construct": "target teams distribute parallel for", "lines": [7, 11]}],
 "expected_bytes": {"to_device": "8*n", "from_device": "16*n"}}
```"""
SPREAD_CODE = """j is an induction variable: j == 2*i at the start of iteration i.
```c
#pragma omp target teams distribute parallel for map(to: x[0:n]) map(from: y[0:2*n])
    for (int i = 0; i < n; i++) {
        y[2 * i] = 2.0 * x[i];
        y[2 * i + 1] = x[i] + 1.0;
    }
    j = 2 * n;
```"""


@needs_clang
def test_a_nest_the_engine_refused_is_rewritten_and_gated(tmp_path, llm_server):
    analysis = pytest.importorskip("pcx_driver.engine.analysis")
    unit = SourceUnit("spread.c", SPREAD, Language.C, directory=str(tmp_path))
    nests = [n for n in analysis.analyse_unit(unit).nests() if n.function == "spread"]
    if len(nests) != 1 or nests[0].decision is not Decision.SERIAL:
        pytest.skip(f"the engine no longer refuses spread's loop: {nests}")
    nest = nests[0]
    server = llm_server([ANALYSIS, SPREAD_PLAN, SPREAD_CODE])
    gate = RealGate(tmp_path, SPREAD)
    outcome = propose_until_accepted(unit, nest, make_pm(), make_config(tmp_path, server), gate, 2)
    assert outcome.accepted, outcome.feedback
    assert all("spread_l7" in k for k in outcome.attempts[0].gate.launched_kernels)
    assert all(r.id in server.user_turns(0)[-1] for r in nest.remarks)  # the engine's reasons went in
