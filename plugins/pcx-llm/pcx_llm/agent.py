"""One staged conversation about one nest (ParaCodex's loop, minus the build).

    start():        analysis -> data plan (checked, re-asked) -> code (checked, re-asked)
    continue_with(): feedback turn (compiler errors, gate diff, profile) -> code

Every code reply passes the same static check ``pcx tune`` applies
(``pcx_driver.tune.proposals.check_proposal``) before it is returned; a rejected reply is
sent back with the reasons, at most ``max_attempts`` times per stage.  A refusal or an
endpoint failure ends the session: it then proposes nothing (None).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pcx_driver.model import NestAnalysis, SourceUnit
from pcx_driver.tune.proposals import check_proposal

from pcx_llm import prompts
from pcx_llm.client import ChatClient, EndpointError
from pcx_llm.dataplan import DataPlan, check_data_plan, parse_data_plan
from pcx_llm.extract import extract_code, extract_json, looks_like_refusal

log = logging.getLogger("pcx_llm")


@dataclass
class SessionState:
    analysis: str | None = None
    plan: DataPlan | None = None
    feedback_seen: int = 0
    ended: str | None = None  # why the session stopped ("refused", "endpoint failed: ...", ...)
    proposals: list[str] = field(default_factory=list)


class NestSession:
    def __init__(self, unit: SourceUnit, nest: NestAnalysis, client: ChatClient, max_attempts: int) -> None:
        self.unit = unit
        self.nest = nest
        self.client = client
        self.max_attempts = max(1, max_attempts)
        self.messages: list[dict[str, str]] = [{"role": "system", "content": prompts.SYSTEM}]
        self.state = SessionState()

    # -- one turn -----------------------------------------------------------------------

    def _ask(self, stage: str, content: str) -> str | None:
        """Send ``content`` as the next user turn; the reply text, or None if the session ended."""
        if self.state.ended:
            return None
        self.messages.append({"role": "user", "content": content})
        try:
            reply = self.client.complete(self.messages, stage)
        except EndpointError as exc:
            self.state.ended = f"endpoint failed: {exc}"
            log.warning("%s:%d:%d: warning: %s [PCX502]", self.unit.path, self.nest.line, self.nest.column, exc)
            return None
        self.messages.append({"role": "assistant", "content": reply.text})
        if looks_like_refusal(reply.text, reply.refusal):
            self.state.ended = "refused"
            log.info("%s:%d:%d: remark: the model declined to rewrite %s [PCX501]",
                     self.unit.path, self.nest.line, self.nest.column, self.nest.nest_id)
            return None
        return reply.text

    # -- stages -------------------------------------------------------------------------

    def start(self, earlier_feedback: list[str]) -> str | None:
        self.state.feedback_seen = len(earlier_feedback)
        analysis = self._ask("analysis", prompts.analysis_request(self.unit, self.nest, earlier_feedback))
        if analysis is None:
            return None
        self.state.analysis = analysis
        if not self._data_plan():
            return None
        return self._code("code", prompts.code_request(self.unit, self.nest))

    def continue_with(self, feedback: list[str]) -> str | None:
        new = feedback[self.state.feedback_seen :]
        self.state.feedback_seen = len(feedback)
        expected = self.state.plan.expected_bytes if self.state.plan is not None else None
        return self._code("feedback", prompts.feedback_request(new, self.unit, self.nest, expected))

    def _data_plan(self) -> bool:
        request = prompts.data_plan_request(self.unit, self.nest)
        for attempt in range(self.max_attempts):
            reply = self._ask("data-plan" if attempt == 0 else "data-plan-retry", request)
            if reply is None:
                return False
            obj, problem = extract_json(reply)
            problems = [problem] if problem else []
            plan = None
            if obj is not None:
                plan, problems = parse_data_plan(obj)
                if plan is not None:
                    problems = check_data_plan(plan, self.nest)
            if not problems:
                self.state.plan = plan
                return True
            request = prompts.data_plan_retry(problems)
        self.state.ended = "no acceptable data plan"
        return False

    def _code(self, stage: str, request: str) -> str | None:
        for attempt in range(self.max_attempts):
            reply = self._ask(stage if attempt == 0 else f"{stage}-retry", request)
            if reply is None:
                return None
            code, problem = extract_code(reply)
            problems = [problem] if problem else check_proposal(self.unit, self.nest, code)
            if not problems:
                self.state.proposals.append(code)
                return code
            request = prompts.code_retry(problems, self.unit, self.nest)
        self.state.ended = "no acceptable code"
        return None
