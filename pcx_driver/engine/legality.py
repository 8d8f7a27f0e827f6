"""Legality checks of a nest: hazards, loop indices and bounds, calls and templates.

Each check appends ``(PCX id, message)`` reasons that keep a nest serial, or raises
``Refusal`` (one reason) or ``MultiRefusal`` (several, the most specific first, see
``PRIORITY``) when the nest cannot be analysed further.  Whether a call may run on the
device is decided by ``engine/calls.py``; these checks ask it.

Contract: ``Legality(model, sem, userfns, affine)`` for one translation unit:
- ``template(fi)``: a function template is analysed only when every instantiation in the
  file is with arithmetic types (PCX136).
- ``hazards(nest, reasons)``: the syntactic hazards ``access.collect`` found.
- ``indices_and_bounds(nest, reasons)``: no loop index written in the body (PCX109), no
  bound that changes while its loop runs (PCX111), a root loop with invariant integer
  bounds (PCX110).
- ``calls(nest, reasons) -> list[str]``: every call is a math function or a user function
  that may run on the device (PCX105-PCX108); returns the user functions called.
"""

from __future__ import annotations

import os

from tree_sitter import Node

from pcx_driver.engine.affine import AffineForms
from pcx_driver.engine.calls import CallKind, UserFunctions, classify_call
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.semantics import ARITH_TYPES, Semantics
from pcx_driver.engine.source import FunctionInfo, SourceModel, walk
from pcx_driver.model import Decision


class Refusal(Exception):
    """The nest is not offloaded, for one reason (its PCX id and message)."""

    def __init__(self, rid: str, message: str, decision: Decision = Decision.SERIAL, recurse: bool = True):
        super().__init__(message)
        self.rid = rid
        self.message = message
        self.decision = decision
        self.recurse = recurse


#: when a nest has several problems, the most specific comes first
PRIORITY = ["PCX113", "PCX114", "PCX122", "PCX110", "PCX108", "PCX106", "PCX107", "PCX133", "PCX134", "PCX130",
            "PCX131", "PCX132", "PCX135", "PCX137", "PCX136", "PCX105", "PCX109", "PCX111", "PCX119", "PCX118",
            "PCX104", "PCX112", "PCX101", "PCX103", "PCX102", "PCX116", "PCX115"]


class MultiRefusal(Exception):
    """The nest is not offloaded, for several reasons, the most specific first."""

    def __init__(self, reasons: list[tuple[str, str]], decision: Decision = Decision.SERIAL, recurse: bool = True):
        super().__init__(reasons[0][1] if reasons else "")
        order = {rid: k for k, rid in enumerate(PRIORITY)}
        reasons = sorted(reasons, key=lambda r: order.get(r[0], len(order)))
        self.reasons = reasons
        self.decision = decision
        self.recurse = recurse


class Legality:
    """The legality checks of one unit's nests (see the module docstring)."""

    def __init__(self, model: SourceModel, sem: Semantics, userfns: UserFunctions, affine: AffineForms):
        self.model = model
        self.sem = sem
        self.userfns = userfns
        self.affine = affine

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def _line(self, n: Node | int) -> int:
        return self.model.line_col(n if isinstance(n, int) else n.start_byte)[0]

    def template(self, fi: FunctionInfo) -> None:
        name = fi.name.split("::")[-1].split("<")[0]
        insts = self.sem.template_calls.get(name, [])
        if not insts:
            raise Refusal("PCX136", f"function template '{name}' has no instantiation in this file", recurse=False)
        for args in insts:
            for a in args:
                base = a.replace("const ", "").replace("*", "").strip()
                if base and not base.lstrip("-").isdigit() and base not in ARITH_TYPES:
                    raise Refusal("PCX136", f"function template '{name}' is instantiated with '{a}', which "
                                  "cannot be offloaded", recurse=False)

    def hazards(self, nest: Nest, reasons: list[tuple[str, str]]) -> None:
        seen = set()
        for h in nest.facts.hazards:
            key = (h.id, h.message)
            if key not in seen:
                seen.add(key)
                reasons.append(key)
        # (a non-canonical inner loop simply stays a serial loop inside the kernel)
        if any(r[0] in ("PCX113", "PCX114", "PCX122") for r in reasons):
            raise MultiRefusal(reasons, Decision.NOT_ANALYSED)

    def indices_and_bounds(self, nest: Nest, reasons: list[tuple[str, str]]) -> None:
        owners = {lp.index: lp for lp in nest.loops}
        for r in nest.facts.scalars:
            if not r.write or r.decl is None:
                continue
            lp = owners.get(r.name)
            if lp is not None and r.decl.key in nest.index_key_set and r.header_of is None:
                reasons.append(("PCX109", f"loop index '{r.name}' is written inside the body (line {self._line(r.node)})"))
        for lp in nest.loops:
            # keys written inside this loop (its bounds must not change while it runs)
            inside = {r.decl.key for r in nest.facts.scalars if r.write and r.decl is not None
                      and lp.node.start_byte <= r.node.start_byte < lp.node.end_byte}
            written_arrays = {a.root for a in nest.facts.arrays if a.write
                              and lp.node.start_byte <= a.node.start_byte < lp.node.end_byte}
            for bn in lp.bound_nodes:
                for x in walk(bn):
                    if x.type == "subscript_expression":
                        base = x.child_by_field_name("argument")
                        while base is not None and base.type == "subscript_expression":
                            base = base.child_by_field_name("argument")
                        if base is not None and self._t(base) in written_arrays:
                            reasons.append(("PCX111", f"bound of loop '{lp.index}' (line {self._line(lp.node)}) reads "
                                            f"'{self._t(base)}', which is written inside the loop"))
                    if x.type == "identifier":
                        d = self.sem.decl_of(x.start_byte)
                        if d is not None and d.key in inside and d.key not in nest.index_key_set:
                            reasons.append(("PCX111", f"bound of loop '{lp.index}' (line {self._line(lp.node)}) uses "
                                            f"'{d.name}', which changes inside the nest"))
                    elif x.type == "call_expression":
                        f = x.child_by_field_name("function")
                        if not (f is not None and f.type == "field_expression"
                                and self._t(f.child_by_field_name("field")) == "size") and not self.affine.pure_macro(f):
                            kind = classify_call(self._t(f), self.sem.callee_of(x.start_byte, x.end_byte))
                            if kind is not CallKind.MATH:
                                reasons.append(("PCX111", f"bound of loop '{lp.index}' calls '{self._t(f)}', which "
                                                "may change between iterations"))
            if lp.low is None or lp.high is None:
                if lp is nest.root and not any(r[0] == "PCX111" for r in reasons):
                    reasons.append(("PCX110", f"bounds of loop '{lp.index}' are not loop-invariant integer "
                                    "expressions"))

    def calls(self, nest: Nest, reasons: list[tuple[str, str]]) -> list[str]:
        users: list[str] = []
        for c in nest.facts.calls:
            kind = classify_call(c.name, c.callee)
            where = f"(line {self._line(c.node)})"
            if kind is CallKind.MATH:
                continue
            if kind is CallKind.IO:
                reasons.append(("PCX106", f"input/output call '{c.name}' inside the nest {where}"))
            elif kind is CallKind.ALLOC:
                reasons.append(("PCX107", f"memory allocation call '{c.name}' inside the nest {where}"))
            elif kind is CallKind.EXIT:
                reasons.append(("PCX108", f"'{c.name}' may leave the nest {where}"))
            elif kind is CallKind.MEMORY:
                reasons.append(("PCX105", f"'{c.name}' writes memory the analysis cannot see {where}"))
            elif kind is CallKind.USER and c.callee is not None:
                ok, why = self.userfns.check(c.callee, c.inlined or c.footprint)
                if ok and c.footprint:
                    ok, why = self.userfns.reads_only_through_pointers(c.callee)
                if ok:
                    if c.callee.name not in users:
                        users.append(c.callee.name)
                else:
                    reasons.append(("PCX105", f"call to '{c.name}' {where}: {why}"))
            elif c.callee is not None and c.callee.defined_in:
                reasons.append(("PCX105", f"call to '{c.name}', defined in {os.path.basename(c.callee.defined_in)}, "
                                          f"where pcx does not analyse it {where}"))
            else:
                reasons.append(("PCX105", f"call to '{c.name}', which has no visible definition {where}"))
        return users
