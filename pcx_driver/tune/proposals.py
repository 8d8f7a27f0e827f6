"""Untrusted rewrite proposals: propose -> check -> splice -> build and gate -> feedback.

A proposal plugin (the LLM plugin, ``pcx_llm``) answers ``pcx_propose_rewrite`` with text
that replaces exactly one nest's byte range.  That text is untrusted.  This module is the
one place that decides whether it is kept:

1. ``check_proposal`` (static, tree-sitter): the text parses as a statement sequence (no
   ``#include``/``#define``/function definitions, nothing that closes the enclosing
   function), the spliced file parses no worse than the original, the nest's loops run
   inside a device-executing ``#pragma omp target`` construct, no ``if(...)``/``device(...)``
   clause on a target construct, no host-fallback probes (``omp_get_num_devices``,
   ``getenv``, ...), no process or file-system calls the original nest did not make.
2. ``splice``: the text replaces bytes ``nest.start_byte..nest.end_byte``; every other byte
   of the file is identical by construction.
3. ``build_and_gate(new_source) -> GateOutcome`` (supplied by the caller, ``pcx tune``):
   compiles, runs under the validation environment, compares with the serial program.
4. ``launched_from_nest``: the gate run must show a kernel launched from the replaced lines
   (libomptarget INFO 0x10); a program that stays on the host is not an offload.

``propose_until_accepted`` loops over these, feeding every failure back to the plugin,
until a proposal is accepted or ``max_attempts`` proposals are spent.  Only gate-passed
text is ever returned as accepted.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from pcx_driver.model import (
    Language,
    NestAnalysis,
    Profile,
    Remark,
    SourceUnit,
    from_json,
    to_json,
)

# ----------------------------------------------------------------------------- data


@dataclass
class GateOutcome:
    """What ``build_and_gate`` found for one spliced source (plain, JSON-able).

    ``compiled`` False: ``compile_errors`` holds the compiler's diagnostics and nothing
    else is meaningful.  ``passed`` is the gate's verdict; ``reasons`` its reasons (first
    difference first) and ``diff`` a unified diff of reference vs candidate output.
    ``launched_kernels`` are the kernel names of the INFO 0x10 launch lines of the gate
    run (``__omp_offloading_..._<function>_l<line>``), one per launch or per kernel.
    """

    compiled: bool
    compile_errors: str = ""
    passed: bool = False
    reasons: list[str] = field(default_factory=list)
    diff: str = ""
    launched_kernels: list[str] = field(default_factory=list)
    # Optional[...] rather than `| None`: model.from_jsonable recognises typing.Union only.
    profile: Optional[Profile] = None
    reference_seconds: float | None = None  # the serial program's run time
    candidate_seconds: float | None = None  # the offloaded program's run time


@dataclass
class ProposalAttempt:
    """One proposal and what became of it."""

    index: int  # 1-based
    text: str | None  # the replacement text (None: the plugin proposed nothing)
    accepted: bool = False
    problems: list[str] = field(default_factory=list)  # why it was rejected, if it was
    gate: Optional[GateOutcome] = None  # None: rejected before building


@dataclass
class ProposalOutcome:
    """The result of ``propose_until_accepted`` for one nest.

    ``text`` is the accepted replacement of the nest's byte range and ``source`` the whole
    spliced source that passed the gate; both are None unless ``accepted``.
    """

    path: str
    nest_id: str
    accepted: bool = False
    text: str | None = None
    source: str | None = None
    attempts: list[ProposalAttempt] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)  # every feedback turn sent
    remarks: list[Remark] = field(default_factory=list)  # PCX500 / PCX501 / PCX502

    def to_json(self, **kwargs: Any) -> str:
        return to_json(self, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> "ProposalOutcome":
        return from_json(cls, text)


BuildAndGate = Callable[[str], GateOutcome]

# ----------------------------------------------------------------------------- parsing

#: Calls that let a program decide at run time to stay on the host: never an offload.
HOST_FALLBACK_CALLS: frozenset[str] = frozenset(
    {
        "omp_get_num_devices",
        "omp_get_initial_device",
        "omp_is_initial_device",
        "omp_get_default_device",
        "omp_set_default_device",
        "omp_get_device_num",
        "omp_get_num_procs",
        "getenv",
        "secure_getenv",
    }
)

#: Calls with effects outside the program's own memory; allowed only where the original
#: nest already made them (the gate runs the program, but nothing else should).
ESCAPING_CALLS: frozenset[str] = frozenset(
    {
        "system", "popen", "fork", "vfork", "execl", "execle", "execlp", "execv", "execve",
        "execvp", "execvpe", "posix_spawn", "posix_spawnp", "dlopen", "syscall", "kill",
        "raise", "abort", "exit", "_exit", "quick_exit", "unlink", "remove", "rename",
        "fopen", "freopen", "open", "creat", "socket", "connect", "setenv", "putenv",
        "unsetenv", "chdir", "mkdir", "rmdir", "signal", "longjmp", "setjmp",
    }
)

# OpenMP directives after ``omp target`` that do NOT execute code on the device.
_HOST_TARGET_DIRECTIVES = frozenset({"data", "enter", "exit", "update"})
_LOOP_TYPES = frozenset({"for_statement", "while_statement", "do_statement", "for_range_loop"})
_PROBE_NAME = "__pcx_proposal_probe"


@functools.cache
def parser_for(language: Language) -> Any:
    """A cached tree-sitter parser for ``language`` (C, C++ or CUDA)."""
    from tree_sitter import Language as TSLanguage
    from tree_sitter import Parser

    if language is Language.CXX:
        import tree_sitter_cpp as grammar
    elif language is Language.CUDA:
        import tree_sitter_cuda as grammar
    else:
        import tree_sitter_c as grammar
    return Parser(TSLanguage(grammar.language()))


def _walk(node: Any):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _error_count(root: Any) -> int:
    return sum(1 for n in _walk(root) if n.type == "ERROR" or n.is_missing)


def pragma_clauses(text: str) -> list[tuple[str, str | None]]:
    """Split the text after ``#pragma`` into ``(word, parenthesised-argument-or-None)``.

    ``"omp target teams map(to: a[0:n]) if (0)"`` gives ``[("omp", None), ("target",
    None), ("teams", None), ("map", "to: a[0:n]"), ("if", "0")]``.  Line continuations
    are joined first.  Unbalanced parentheses give a final ``(word, rest)`` item.
    """
    text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    items: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace() or text[i] == ",":
            i += 1
            continue
        j = i
        while j < n and (text[j].isalnum() or text[j] == "_"):
            j += 1
        if j == i:  # punctuation outside a clause (e.g. a stray ')'): keep it as a word
            items.append((text[i], None))
            i += 1
            continue
        word = text[i:j]
        k = j
        while k < n and text[k] in " \t":
            k += 1
        if k < n and text[k] == "(":
            depth, m = 0, k
            while m < n:
                if text[m] == "(":
                    depth += 1
                elif text[m] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                m += 1
            items.append((word, text[k + 1 : m]))
            i = m + 1
        else:
            items.append((word, None))
            i = j
    return items


def _identifiers_in(text: str) -> set[str]:
    """C identifiers in a pragma argument (pragma text is not parsed by tree-sitter)."""
    out: set[str] = set()
    word: list[str] = []
    for ch in text + " ":
        if ch.isalnum() or ch == "_":
            word.append(ch)
        else:
            if word and not word[0].isdigit():
                out.add("".join(word))
            word = []
    return out


def _pragma_text(node: Any) -> str | None:
    """The text after ``#pragma`` of a preproc_call node, or None for other directives."""
    directive = node.child_by_field_name("directive")
    if directive is None or directive.text.decode("utf-8", "replace").strip() != "#pragma":
        return None
    arg = node.child_by_field_name("argument")
    return arg.text.decode("utf-8", "surrogateescape") if arg is not None else ""


def _is_device_construct(clauses: list[tuple[str, str | None]]) -> bool:
    words = [w for w, _ in clauses]
    return (
        len(words) >= 2
        and words[0] == "omp"
        and words[1] == "target"
        and (len(words) == 2 or words[2] not in _HOST_TARGET_DIRECTIVES)
    )


def _associated_statement(pragma: Any) -> Any | None:
    """The statement a ``#pragma`` applies to: the next sibling that is not a pragma/comment."""
    sib = pragma.next_named_sibling
    while sib is not None and sib.type in ("comment", "preproc_call"):
        sib = sib.next_named_sibling
    return sib


def _called_names(root: Any) -> set[str]:
    names: set[str] = set()
    for n in _walk(root):
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                names.add(fn.text.decode("utf-8", "replace"))
        elif n.type == "identifier":
            # A bare mention (function pointer, &getenv) counts as a use too.
            names.add(n.text.decode("utf-8", "replace"))
    return names


def _defined_functions(root: Any) -> set[str]:
    """Names of the functions defined in a translation unit (any nesting of declarators)."""
    names: set[str] = set()
    for n in _walk(root):
        if n.type != "function_definition":
            continue
        d = n.child_by_field_name("declarator")
        while d is not None and d.type != "function_declarator":
            d = d.child_by_field_name("declarator")
        ident = d.child_by_field_name("declarator") if d is not None else None
        if ident is not None:
            names.add(ident.text.decode("utf-8", "replace").rsplit("::", 1)[-1])
    return names


def _nest_text(unit: SourceUnit, nest: NestAnalysis) -> str:
    return unit.data[nest.start_byte : nest.end_byte].decode("utf-8", "surrogateescape")


def splice(unit: SourceUnit, nest: NestAnalysis, text: str) -> str:
    """``unit.text`` with bytes ``nest.start_byte..nest.end_byte`` replaced by ``text``."""
    data = unit.data
    if not (0 <= nest.start_byte <= nest.end_byte <= len(data)):
        raise ValueError(f"nest {nest.nest_id} byte range {nest.start_byte}..{nest.end_byte} is outside the source")
    new = data[: nest.start_byte] + text.encode("utf-8", "surrogateescape") + data[nest.end_byte :]
    return new.decode("utf-8", "surrogateescape")


def replaced_lines(unit: SourceUnit, nest: NestAnalysis, text: str) -> tuple[int, int]:
    """1-based first and last line that ``text`` occupies once spliced into ``unit``."""
    first = unit.data[: nest.start_byte].count(b"\n") + 1
    return first, first + text.count("\n")


def check_proposal(unit: SourceUnit, nest: NestAnalysis, text: str) -> list[str]:
    """Static reasons to reject ``text`` as the replacement of ``nest``; empty if none.

    Each reason is one sentence a human (or the model, as feedback) can act on.
    """
    problems: list[str] = []
    if not text.strip():
        return ["the replacement is empty"]
    parser = parser_for(unit.language)
    # Parse the text as the whole body of a probe function: it must be a balanced
    # statement sequence that stays inside that body.
    head = f"void {_PROBE_NAME}(void) {{\n"
    probe = (head + text + "\n}\n").encode("utf-8", "surrogateescape")
    root = parser.parse(probe).root_node
    top = [c for c in root.named_children if c.type != "comment"]
    body = None
    if len(top) == 1 and top[0].type == "function_definition":
        body = top[0].child_by_field_name("body")
    if body is None or body.end_byte != len(probe) - 1:
        return ["the replacement contains code outside the nest (it closes the enclosing block or "
                "adds declarations outside the function); send only the statements that replace the nest"]
    if root.has_error:
        problems.append("the replacement does not parse as a sequence of C statements")
    for n in _walk(body):
        if n.type == "preproc_include":
            problems.append("the replacement adds an #include; only the nest may change")
        elif n.type.startswith("preproc_") and n.type not in ("preproc_call", "preproc_arg", "preproc_directive"):
            problems.append(f"the replacement adds a preprocessor directive ({n.type.removeprefix('preproc_')}); only #pragma is allowed")
        elif n.type == "preproc_call" and _pragma_text(n) is None:
            problems.append("the replacement adds a preprocessor directive other than #pragma")
        elif n.type in ("function_definition", "template_declaration") or (
            n.type == "declaration"
            and any(c.type == "function_declarator" for c in n.named_children)
        ):
            problems.append("the replacement defines or declares a function; only the nest may change")
    if problems:
        return sorted(set(problems), key=problems.index)

    # The rest of the file must parse as before once the text is spliced in.
    original = parser.parse(unit.data).root_node
    spliced = parser.parse(splice(unit, nest, text).encode("utf-8", "surrogateescape")).root_node
    if _error_count(spliced) > _error_count(original):
        problems.append("the source no longer parses once the replacement is spliced into the nest's place")

    # Device execution: every outermost loop runs inside a device-executing target construct.
    device_ranges: list[tuple[int, int]] = []
    for n in _walk(body):
        if n.type != "preproc_call":
            continue
        ptext = _pragma_text(n)
        if ptext is None:
            continue
        clauses = pragma_clauses(ptext)
        if not clauses or clauses[0][0] != "omp":
            continue
        idents = set().union(*(_identifiers_in(a) for _, a in clauses if a))
        for name in sorted(idents & HOST_FALLBACK_CALLS):
            problems.append(f"a pragma uses {name}: a run-time device probe is a host fallback, not an offload")
        if len(clauses) >= 2 and clauses[1][0] == "target":
            for word, arg in clauses[2:]:
                if word == "if" and arg is not None:
                    problems.append(f"`if({arg.strip()})` on a target construct can keep the loop on the host; remove it")
                elif word == "device" and arg is not None:
                    problems.append(f"`device({arg.strip()})` on a target construct may select the host; remove it")
                elif word == "nowait" and arg is None:
                    problems.append("`nowait` on a target construct lets the host read results before the "
                                    "kernel ends; remove it")
        if _is_device_construct(clauses):
            stmt = _associated_statement(n)
            if stmt is not None:
                device_ranges.append((stmt.start_byte, stmt.end_byte))
    if not device_ranges:
        problems.append("the replacement has no `#pragma omp target` construct that runs the nest on the device")
    original_root = parser.parse(_nest_text(unit, nest).encode("utf-8", "surrogateescape")).root_node
    original_types = {n.type for n in _walk(original_root)}
    loops_on_device = 0
    for n in _walk(body):
        if n.type not in _LOOP_TYPES:
            if n.type in ("goto_statement", "labeled_statement") and n.type not in original_types:
                problems.append("the replacement adds goto/labels (a loop in disguise); write loops as loops")
            elif n.type == "kernel_call_syntax":
                problems.append("the replacement launches a CUDA kernel (<<<...>>>); translate its work into "
                                "an OpenMP target loop instead")
            continue
        if any(lo <= n.start_byte and n.end_byte <= hi for lo, hi in device_ranges):
            loops_on_device += 1
        outer = n.parent
        while outer is not None and outer.type not in _LOOP_TYPES and outer != body:
            outer = outer.parent
        if outer is not None and outer != body:
            continue  # an inner loop: its outermost loop is what must be on the device
        if not any(lo <= n.start_byte and n.end_byte <= hi for lo, hi in device_ranges):
            line = n.start_point[0]  # line 0 is the probe's head
            problems.append(f"the loop on line {line} of the replacement runs on the host, outside any "
                            "`#pragma omp target` construct; the nest's loops must run on the device")

    if device_ranges and not loops_on_device and original_types & _LOOP_TYPES:
        problems.append("the nest's loop is not inside the `#pragma omp target` construct; "
                        "the target region must do the loop's work")

    used = _called_names(body)
    original_names = _called_names(original_root)
    for name in sorted(used & HOST_FALLBACK_CALLS):
        problems.append(f"the replacement calls {name}: code that decides at run time to stay on the host is not an offload")
    for name in sorted(n for n in used - original_names if n.startswith("cuda")):
        problems.append(f"the replacement uses the CUDA runtime ({name}); data moves with map clauses instead")
    for name in sorted((used & ESCAPING_CALLS) - original_names):
        problems.append(f"the replacement calls {name}, which the original nest does not; not allowed")
    # A function of this file the nest did not call could do the nest's work on the host.
    own_functions = _defined_functions(original)
    for name in sorted((used & own_functions) - original_names):
        problems.append(f"the replacement calls {name}, a function of this file the nest does not call; "
                        "the nest's work must stay in the nest")
    return sorted(set(problems), key=problems.index)


def launched_from_nest(unit: SourceUnit, nest: NestAnalysis, text: str, kernels: list[str]) -> list[str]:
    """The launched kernel names whose source line lies in the replaced text's lines.

    clang names a target region ``__omp_offloading_<dev>_<file>_<function>_l<line>``.  The
    line is where the construct is in the compiled (spliced) file; a build that maps lines
    back to the user's file (#line) names the original nest's lines, so both ranges count.
    """
    lo, hi = replaced_lines(unit, nest, text)
    orig_hi = nest.line + _nest_text(unit, nest).count("\n")
    found = []
    for name in kernels:
        stem, sep, line = name.rpartition("_l")
        if not sep or not line.isdigit():
            continue
        ln = int(line)
        if nest.function and nest.function not in stem:
            continue
        if lo <= ln <= hi or nest.line <= ln <= orig_hi:
            found.append(name)
    return found


# ----------------------------------------------------------------------------- feedback

_FEEDBACK_LIMIT = 4000  # characters of compiler output / diff carried into one feedback turn


def _clip(text: str, limit: int = _FEEDBACK_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters]"


def _profile_lines(gate: GateOutcome) -> list[str]:
    lines = []
    if gate.reference_seconds is not None or gate.candidate_seconds is not None:
        def fmt(v: float | None) -> str:
            return "?" if v is None else f"{v:.4f} s"

        lines.append(f"time: serial {fmt(gate.reference_seconds)}, offloaded {fmt(gate.candidate_seconds)}")
    if gate.profile is not None:
        p = gate.profile
        lines.append(f"kernel launches: {p.launches}; bytes host->device: {p.bytes_to_device}; "
                     f"bytes device->host: {p.bytes_from_device}")
        for k in p.kernels:
            lines.append(f"  {k.name}: {k.launches} launches, {k.seconds:.6f} s")
    return lines


def format_feedback(problems: list[str], gate: GateOutcome | None) -> str:
    """One feedback turn: the static problems, or the compiler's errors, or the gate's
    reasons and output diff, and the profile numbers when there are any."""
    parts: list[str] = []
    if gate is None:
        parts.append("The replacement was rejected before building:")
        parts.extend(f"- {p}" for p in problems)
        return "\n".join(parts)
    if not gate.compiled:
        parts.append("The spliced program failed to compile. Compiler errors:")
        parts.append(_clip(gate.compile_errors))
        return "\n".join(parts)
    if not gate.passed:
        parts.append("The program compiled, but the offloaded run failed the correctness gate "
                     "(run on a device with its own memory under OMP_TARGET_OFFLOAD=MANDATORY, "
                     "compared with the serial program).")
        parts.extend(f"- {r}" for r in gate.reasons)
        if gate.diff:
            parts.append("Output diff (--- serial reference, +++ offloaded candidate):")
            parts.append(_clip(gate.diff))
    extra = [p for p in problems if p not in gate.reasons]
    if extra:
        parts.append("Also:" if parts else "The replacement was rejected:")
        parts.extend(f"- {p}" for p in extra)
    prof = _profile_lines(gate)
    if prof:
        parts.append("Profile of the candidate run:")
        parts.extend(prof)
    return "\n".join(parts)


# ----------------------------------------------------------------------------- the loop


def _remark(unit: SourceUnit, nest: NestAnalysis, rid: str, message: str) -> Remark:
    return Remark(rid, unit.path, nest.line, nest.column, message)


def propose_until_accepted(
    unit: SourceUnit,
    nest: NestAnalysis,
    pm: Any,
    config: Any,
    build_and_gate: BuildAndGate,
    max_attempts: int | None = None,
) -> ProposalOutcome:
    """Ask ``pm.hook.pcx_propose_rewrite`` for replacements of ``nest`` until one passes.

    Each attempt: propose (with all feedback so far) -> ``check_proposal`` -> splice ->
    ``build_and_gate`` -> require a kernel launched from the replaced lines.  A failure at
    any step becomes one feedback string for the next proposal.  Stops when a proposal is
    accepted, when the plugin proposes nothing (None), or after ``max_attempts`` proposals
    (default: the ``llm-max-attempts`` setting if present, else 3).  Never raises for a
    plugin's or a build's failure: those become remarks and rejected attempts.
    """
    if max_attempts is None:
        try:
            max_attempts = int(config.get("llm-max-attempts"))
        except (KeyError, TypeError, ValueError, AttributeError):
            max_attempts = 3
    outcome = ProposalOutcome(unit.path, nest.nest_id)
    feedback: list[str] = []
    for index in range(1, max(0, max_attempts) + 1):
        try:
            text = pm.hook.pcx_propose_rewrite(unit=unit, nest=nest, feedback=list(feedback), config=config)
        except Exception as exc:  # a broken plugin must not break pcx tune
            outcome.remarks.append(_remark(unit, nest, "PCX502", f"proposal plugin failed: {type(exc).__name__}: {exc}"))
            outcome.attempts.append(ProposalAttempt(index, None, problems=[traceback.format_exception_only(exc)[-1].strip()]))
            break
        if text is None:
            outcome.attempts.append(ProposalAttempt(index, None, problems=["no proposal"]))
            break
        attempt = ProposalAttempt(index, text)
        outcome.attempts.append(attempt)
        attempt.problems = check_proposal(unit, nest, text)
        if not attempt.problems:
            new_source = splice(unit, nest, text)
            try:
                attempt.gate = build_and_gate(new_source)
            except Exception as exc:
                attempt.gate = GateOutcome(compiled=False, compile_errors=f"build failed: {type(exc).__name__}: {exc}")
            gate = attempt.gate
            if not gate.compiled:
                attempt.problems.append("the program does not compile")
            elif not gate.passed:
                attempt.problems.extend(gate.reasons or ["the offloaded output differs from the serial output"])
            elif not launched_from_nest(unit, nest, text, gate.launched_kernels):
                lo, hi = replaced_lines(unit, nest, text)
                attempt.problems.append(
                    f"no kernel was launched from the rewritten lines {lo}-{hi} (launched: "
                    f"{', '.join(sorted(set(gate.launched_kernels))) or 'none'}); the hot loop's work must run on the device"
                )
            else:
                attempt.accepted = True
                outcome.accepted, outcome.text, outcome.source = True, text, new_source
                outcome.remarks.append(_remark(unit, nest, "PCX500",
                                               f"proposal {index} for {nest.nest_id} accepted after passing the gate"))
                return outcome
        outcome.remarks.append(_remark(unit, nest, "PCX501",
                                       f"proposal {index} for {nest.nest_id} rejected: {attempt.problems[0]}"))
        feedback.append(format_feedback(attempt.problems, attempt.gate))
        outcome.feedback = list(feedback)
    return outcome
