"""Which statements of a CPU ``parallel`` region may run once instead of once per thread.

Contract: ``replicated_statements(block, data) -> Replicated``: a region ported as a whole
(ompport's group: its worksharing loops become kernels, the rest of its block runs once on
the host, in order) must not lose what its other statements did on every thread.  A
statement qualifies when every thread running it leaves the same effect as one run:

- a declaration without ``static`` (each thread's own variable), whose initialisers
  qualify as right-hand sides;
- ``x = e;`` into a variable declared in the region before it (so no thread's copy
  outlives the region, and ``private(x)`` of an outer variable is not mistaken for one);
- where ``e`` calls nothing and reads nothing that the region writes (no value that
  depends on which thread ran which iterations, or on when).

NPB's LU starts its regions so: ``int i, j, k; double dsspm; dsspm = dssp;`` then
``#pragma omp for`` loops.  Anything else (a call, I/O, an update of a shared variable, a
read of what a loop writes) keeps the region on the CPU, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from pcx_driver.engine import hostaccess
from pcx_driver.engine.source import strip_parens, walk


@dataclass
class Replicated:
    declared: set[str]  # the region's own variables, declared so far
    written: set[str]  # every variable the region may write (assignments, updates, calls, '&')


def region_facts(block: Node, data: bytes) -> Replicated:
    """What the region ``block`` writes anywhere (its loops included)."""
    written: set[str] = set()
    for n in walk(block):
        target = None
        if n.type == "assignment_expression":
            target = n.child_by_field_name("left")
        elif n.type == "update_expression":
            target = n.child_by_field_name("argument")
        elif n.type == "pointer_expression" and hostaccess.text_of(data, n)[:1] == "&":
            target = n.child_by_field_name("argument")
        elif n.type == "call_expression":  # a function may write what it is given
            args = n.child_by_field_name("arguments")
            written |= hostaccess.identifiers_in(args, data) if args is not None else set()
        base = _base(target)
        if base is not None:
            written.add(hostaccess.text_of(data, base))
    return Replicated(set(), written)


def _base(target: Node | None) -> Node | None:
    """The variable an lvalue writes into: ``a`` of ``a[i][j]``, ``s.x``, ``*p``, ``(a)``."""
    n = strip_parens(target)
    while n is not None and n.type in ("subscript_expression", "field_expression", "pointer_expression"):
        n = strip_parens(n.child_by_field_name("argument"))
    return n if n is not None and n.type == "identifier" else None


def replicable(stmt: Node, facts: Replicated, data: bytes) -> bool:
    """Whether every thread of the region running ``stmt`` has the effect of one run (module
    docstring); a declaration it makes joins ``facts.declared``."""
    if stmt.type == "declaration":
        if any(c.type == "storage_class_specifier" for c in stmt.children):
            return False  # a static local is one variable for every thread
        values = [d.child_by_field_name("value") for d in stmt.children_by_field_name("declarator")
                  if d.type == "init_declarator"]
        if not all(v is not None and _reads_only_stable(v, facts, data) for v in values):
            return False
        for d in stmt.children_by_field_name("declarator"):
            name = d if d.type == "identifier" else hostaccess.declared_identifier_node(d)
            if name is not None:
                facts.declared.add(hostaccess.text_of(data, name))
        return True
    if stmt.type != "expression_statement" or stmt.named_child_count != 1:
        return False
    e = stmt.named_children[0]
    if e.type != "assignment_expression" or hostaccess.text_of(data, e.child_by_field_name("operator")) != "=":
        return False
    left = strip_parens(e.child_by_field_name("left"))
    return left is not None and left.type == "identifier" and hostaccess.text_of(data, left) in facts.declared \
        and _reads_only_stable(e.child_by_field_name("right"), facts, data)


def _reads_only_stable(expr: Node, facts: Replicated, data: bytes) -> bool:
    """No call, no side effect, and no variable the region writes."""
    if any(n.type in ("call_expression", "assignment_expression", "update_expression", "comma_expression")
           for n in walk(expr)):
        return False
    return not (hostaccess.identifiers_in(expr, data) & facts.written)
