"""The records a walk over a nest returns: its array and scalar references, calls and hazards."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine.loops import Loop
from pcx_driver.engine.semantics import Callee, Decl


@dataclass
class ArrayRef:
    base: str  # text of the array expression: "a", "s->a", "s.a", "v"
    decl: Decl | None  # the array's declaration (variable, parameter or field)
    root: str  # the variable the base starts from ("s" for s->a)
    root_decl: Decl | None
    subs: list[Node]  # subscript expressions, outer first
    fields: tuple[str, ...]  # members selected after the subscripts (p[i].x -> ("x",))
    node: Node  # the whole access
    base_node: Node
    read: bool
    write: bool
    op: str  # "=", "+=", "++", ... for writes; "" for reads
    stmt: Node | None  # the enclosing expression statement
    loops: list[Loop]
    conditional: bool
    via_data: bool = False  # v.data()[i]
    member: bool = False  # base is a struct member (s.a, s->a)
    guards: list = field(default_factory=list)  # (condition node, taken branch) of enclosing ifs in the nest
    polys: list = field(default_factory=list)  # subscripts as Polys (None: not affine); set by the analysis
    delin: list = field(default_factory=list)  # delinearised subscripts of a flattened access
    via: Node | None = None  # in a helper walked as if inlined: the call in the nest (access/inline.py)


@dataclass
class ScalarRef:
    name: str
    decl: Decl | None
    node: Node
    read: bool
    write: bool
    op: str
    assign: Node | None  # the assignment/update expression when written
    stmt: Node | None
    loops: list[Loop]
    conditional: bool
    header_of: Loop | None = None  # reference in this loop's own init/test/update


@dataclass
class CallRef:
    node: Node
    name: str
    callee: Callee | None
    loops: list[Loop]
    inlined: bool = False  # its body was walked in place of the call (access/inline.py)


@dataclass
class Hazard:
    id: str
    message: str
    node: Node


@dataclass
class NestFacts:
    arrays: list[ArrayRef] = field(default_factory=list)
    scalars: list[ScalarRef] = field(default_factory=list)
    calls: list[CallRef] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    local_keys: set[str] = field(default_factory=set)  # declared inside the nest
    local_arrays: set[str] = field(default_factory=set)  # array keys declared inside
    container_sizes: list[tuple[str, Node]] = field(default_factory=list)  # v.size() uses
    statements: int = 0  # rough body cost
    # parameters of helpers walked as if inlined -> the argument node each one stands for
    bindings: dict[str, Node] = field(default_factory=dict)
