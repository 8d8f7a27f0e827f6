"""A stand-in analysis for pcx tune's tests, so they do not depend on the real engine.

A ``for`` statement directly preceded by a comment ``/* fake-kernel KIND=NAME:LEN ... */``
(KIND one of to, from, tofrom) is declared offloadable with those arrays mapped as
``NAME[0:LEN]``; every other loop is kept serial.  Both hooks run before the defaults.
"""

from __future__ import annotations

import tree_sitter_c
from tree_sitter import Language as TSLanguage, Parser

from pcx_driver import hookimpl
from pcx_driver.model import (
    ArrayAccessSummary,
    Decision,
    FunctionAnalysis,
    KernelPlan,
    MapClause,
    MapKind,
    NestAnalysis,
    Plan,
    Remark,
    Section,
    UnitAnalysis,
)

_PARSER = Parser(TSLanguage(tree_sitter_c.language()))


def _spec(comment: str) -> list[tuple[str, str, str]] | None:
    body = comment.strip("/* ").strip()
    if not body.startswith("fake-kernel"):
        return None
    out = []
    for word in body.split()[1:]:
        kind, _, rest = word.partition("=")
        name, _, length = rest.partition(":")
        out.append((kind, name, length))
    return out


@hookimpl(tryfirst=True)
def pcx_analyse(unit, config):
    tree = _PARSER.parse(unit.data)
    functions = []
    for fn in tree.root_node.children:
        if fn.type != "function_definition":
            continue
        name = fn.child_by_field_name("declarator").child_by_field_name("declarator").text.decode()
        nests = []
        body = fn.child_by_field_name("body")
        for stmt in body.named_children:
            if stmt.type != "for_statement":
                continue
            prev = stmt.prev_named_sibling
            spec = _spec(prev.text.decode()) if prev is not None and prev.type == "comment" else None
            line = stmt.start_point[0] + 1
            nest = NestAnalysis(f"{name}:{line}", name, line, stmt.start_point[1] + 1, stmt.start_byte,
                                stmt.end_byte, 1, Decision.OFFLOADED if spec else Decision.SERIAL)
            if spec:
                for kind, array, length in spec:
                    nest.arrays.append(ArrayAccessSummary(
                        array, "double", read=kind in ("to", "tofrom"), written=kind in ("from", "tofrom"),
                        section=Section(array, [("0", length)]), written_fully=kind == "from"))
                nest.remarks.append(Remark("PCX100", unit.path, line, 1, "loop nest offloaded to the device"))
            else:
                nest.remarks.append(Remark("PCX101", unit.path, line, 1, "fake engine: not marked parallel"))
            nests.append(nest)
        functions.append(FunctionAnalysis(name, fn.start_byte, fn.end_byte, nests))
    return UnitAnalysis(unit.path, unit.language, functions)


@hookimpl(tryfirst=True)
def pcx_plan(unit, analysis, config):
    plan = Plan(unit.path)
    for n in analysis.nests():
        maps = [MapClause({"to": MapKind.TO, "from": MapKind.FROM, "tofrom": MapKind.TOFROM}[
                    "to" if a.read and not a.written else "from" if a.written_fully else "tofrom"],
                          [Section(a.section.base, list(a.section.dims))]) for a in n.arrays]
        plan.kernels.append(KernelPlan(n.nest_id, n.function, n.line, n.column, n.start_byte, n.end_byte,
                                       n.decision, list(n.remarks), maps=maps))
    return plan
