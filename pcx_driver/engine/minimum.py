"""Calls that compute the smaller of their two arguments: the bound of a tiled loop.

Tiled code bounds its inner loop by a minimum, ``for (i = ii; i < MIN(ii + B, n); i++)``
or ``cnt = std::min<size_t>(TILE, N - base); for (i = 0; i < cnt; i++)``; the loop then
runs where ``i < ii + B`` and ``i < n`` both hold, which is what the dependence test and
the sections need to know (``loops.Loop.alt_highs``).

Contract: ``minimum_arguments(call, model, sem)`` returns the two argument nodes of a
call that computes their minimum, or None; ``computes_minimum(callee, model)`` says whether
a called function (libclang's ``Callee``) is such a one.  A call counts only when what it calls is
known to be one, never by its name alone (a user's ``min`` may be anything):
- ``std::min`` (libclang's callee, the C++ library's function);
- a function-like macro of two parameters whose replacement list is a minimum ternary
  (``#define MIN(a, b) ((a) < (b) ? (a) : (b))``, or ``a > b ? b : a``);
- a function of this unit of two parameters whose body is ``return`` of such a ternary
  (``static int imin(int a, int b) { return a < b ? a : b; }``).
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine import hostaccess
from pcx_driver.engine.semantics import Callee, Semantics
from pcx_driver.engine.source import SourceModel, arguments_of, strip_parens


def minimum_arguments(call: Node | None, model: SourceModel, sem: Semantics) -> list[Node] | None:
    call = strip_parens(call)
    if call is None or call.type != "call_expression":
        return None
    args = arguments_of(call.child_by_field_name("arguments"))
    if len(args) != 2:
        return None
    fn = call.child_by_field_name("function")
    name = "".join(model.text(fn).split()).split("<")[0] if fn is not None else ""
    macro = sem.macro_defs.get(name)
    if macro is not None and macro[0]:  # a function-like macro (the source names it, not a call)
        params = sem.macro_params.get(name, [])
        if len(params) == 2 and _is_minimum_text(" ".join(macro[1]), params, model):
            return args
        return None
    return args if computes_minimum(sem.callee_of(call.start_byte, call.end_byte), model) else None


def computes_minimum(callee: Callee | None, model: SourceModel) -> bool:
    """The function ``callee`` computes the minimum of its two arguments (and nothing else)."""
    if callee is None:
        return False
    if callee.qualified == "std::min":
        return True
    return callee.definition is not None and callee.in_main_file and _is_minimum_function(callee.definition, model)


def _is_minimum_function(rng: tuple[int, int], model: SourceModel) -> bool:
    from pcx_driver.engine.calls import definition_node

    fnode = definition_node(model, rng)
    if fnode is None:
        return False
    params = [model.text(p.child_by_field_name("declarator")) for p in hostaccess.parameters(fnode)]
    body = fnode.child_by_field_name("body")
    stmts = [c for c in body.named_children if c.type != "comment"] if body is not None else []
    if len(params) != 2 or len(stmts) != 1 or stmts[0].type != "return_statement" or not stmts[0].named_children:
        return False
    return _is_minimum(stmts[0].named_children[0], params, model.text)


def _is_minimum_text(expr: str, params: list[str], model: SourceModel) -> bool:
    data, node = hostaccess.parse_expression(expr, model.unit.language)
    return node is not None and _is_minimum(node, params, lambda n: hostaccess.text_of(data, n))


def _is_minimum(expr: Node, params: list[str], text) -> bool:
    """``expr`` is ``a < b ? a : b`` over the two parameters (``<=``, or ``>``/``>=`` with
    the arms swapped), parentheses aside."""
    e = strip_parens(expr)
    if e is None or e.type != "conditional_expression":
        return False
    cond = strip_parens(e.child_by_field_name("condition"))
    yes, no = strip_parens(e.child_by_field_name("consequence")), strip_parens(e.child_by_field_name("alternative"))
    if cond is None or cond.type != "binary_expression" or yes is None or no is None:
        return False
    left, right = strip_parens(cond.child_by_field_name("left")), strip_parens(cond.child_by_field_name("right"))
    names = [text(x) if x is not None and x.type == "identifier" else None for x in (left, right, yes, no)]
    if None in names or sorted(names[:2]) != sorted(params):
        return False
    op = text(cond.child_by_field_name("operator"))
    if op in ("<", "<="):
        return names[2:] == names[:2]
    if op in (">", ">="):
        return names[2:] == names[1::-1]
    return False
