"""What a loop nest touches: array accesses, scalar references, calls and hazards.

Contract: ``collect(root, loops_by_node, model, sem)`` walks the nest rooted at the ``for``
statement ``root`` once and returns ``NestFacts``:
- ``arrays``: each subscripted access ``base[s1][s2]...(.field)*`` with its subscript
  nodes (outer first), read/write flags, the loops of the nest enclosing it (outer first)
  and whether it sits under a condition;
- ``scalars``: each reference to a non-array variable, with read/write flags;
- ``calls``: each call expression with what libclang says it calls;
- ``hazards``: constructs that stop the nest from being offloaded, each with a stable
  remark id and a message naming the construct and its line.
The walk never decides legality beyond these syntactic hazards; the other modules do.

One module per question, over one shared walk (``walk.Walk``: the nest, libclang's
facts, the ``NestFacts`` being filled and the ``if`` conditions around the statement):

    facts.py        the records the walk returns (ArrayRef, ScalarRef, CallRef, Hazard, NestFacts)
    walk.py         the shared walk state and its entry points (a statement, an expression)
    statements.py   statements: loops, branches, declarations, jumps and other statement hazards
    expressions.py  expressions: operators, literals, and which question each sub-expression asks
    names.py        scalar reads and writes: identifiers, assignment targets, member reads
    arrays.py       array references: subscripts and the member and pointer chains around them
    calls.py        calls: functions, container methods, casts and function-like macros
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine.access.calls import GROWING_METHODS, READONLY_METHODS
from pcx_driver.engine.access.facts import ArrayRef, CallRef, Hazard, NestFacts, ScalarRef
from pcx_driver.engine.access.walk import Walk
from pcx_driver.engine.loops import Loop
from pcx_driver.engine.semantics import Semantics
from pcx_driver.engine.source import SourceModel

__all__ = ["ArrayRef", "CallRef", "GROWING_METHODS", "Hazard", "NestFacts", "READONLY_METHODS", "ScalarRef",
           "collect"]


def collect(root: Node, loops_by_node: dict[int, Loop], model: SourceModel, sem: Semantics) -> NestFacts:
    w = Walk(model, sem, loops_by_node, root)
    w.visit(root, [], False, None, False)
    # (a member container is mapped through a local pointer to its data, not as a member)
    mapped = {a.root for a in w.facts.arrays if a.member and not (a.decl is not None and a.decl.shape == "container")}
    for name, n in w.facts.reference_members:
        if name in mapped:
            # a map of a member's elements maps the struct in part: its other members are
            # no device data (miniMD's ``atom.nlocal`` beside ``atom.x[i]`` read garbage)
            w.hazard("PCX118", f"member '{w.t(n)}' of the struct that '{name}' refers to is read on the device "
                               "while only its member arrays are mapped", n)
    return w.facts
