"""Scalars of a nest: which are private, firstprivate, reductions, or carry a value.

Contract: ``classify(facts, root, model, sem, function_body, index_keys)`` looks at every
scalar declared outside the nest and referenced inside it:
- read only -> ``firstprivate``;
- every reference is part of a reduction update of one operator (``s += e``, ``s = s*e``,
  ``m = fmax(m, e)``, ``m = e < m ? e : m``, ``if (e > m) m = e;``, ``&&``, ``||``, ``&``,
  ``|``, ``^``, ``std::min/max``, a ``MIN(a,b)`` macro of that shape) -> ``Reduction``;
  a floating minimum that takes the element where the comparison fails (``m = m < e ? m
  : e``) is one whose updates the rewrite checks (``Reduction.restarts``), and one that
  may end at a zero of either sign is checked after the kernel (``Reduction.zero_sign``);
- written before it is read on every path of one iteration of the root loop, and dead
  after the nest -> ``private``;
- otherwise a problem (PCX112) naming the variable and line.  Argmin/argmax (an index
  updated under the same condition as a min/max) falls here: it is not a reduction.
Scalars declared inside the nest need nothing and are not listed.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine.access import NestFacts, ScalarRef
from pcx_driver.engine.liveness import FunctionCfg, Unsupported, first_read
from pcx_driver.engine.semantics import Semantics, unqualified
from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import function_name
from pcx_driver.engine.legality import template_parameters
from pcx_driver.engine.macros import expand_object_macros, select_form, stands_as_written
from pcx_driver.engine.source import SourceModel, arguments_of, condition_value, nodes_of_type, strip_parens, walk
from pcx_driver.model import Reduction

COMPOUND_OPS = {"+=": "+", "-=": "+", "*=": "*", "&=": "&", "|=": "|", "^=": "^"}
CHAIN_OPS = {"+", "*", "&", "|", "^", "&&", "||"}
#: the C library's min/max, which ignore a NaN argument, in either place
NAN_IGNORING_MINMAX = frozenset({"fmin", "fminf", "fminl", "fmax", "fmaxf", "fmaxl"})
MINMAX_CALLS = {
    "fmin": "min", "fminf": "min", "fminl": "min", "fmax": "max", "fmaxf": "max", "fmaxl": "max",
    "std::min": "min", "std::max": "max", "min": "min", "max": "max", "std::fmin": "min", "std::fmax": "max",
}


def _floating_in_every_instantiation(d, fn_body: Node, ctx: "_Ctx") -> bool:
    """``T sum`` in a function template (BabelStream's ``dot<T>``): a plain floating
    variable in each instantiation the unit makes (calls whose arguments give T, calls in
    other templates, explicit instantiations: ``Legality.template``), so an OpenMP
    reduction is valid in every one.  Integer instantiations stay refused: a
    floating term would round at each step, which the template's text cannot rule out."""
    fnode = fn_body.parent
    if fnode is None or fnode.type != "function_definition":
        return False
    params = [name for name, _ in template_parameters(fnode, ctx.m)]
    plain = " ".join(d.type_spelling.replace("const", " ").split())
    name = function_name(fnode, ctx.m.data).split("::")[-1].split("<")[0]
    if plain not in params or not name:
        return False
    k = params.index(plain)
    insts = ctx.instantiations if ctx.instantiations is not None else ctx.sem.template_calls.get(name, [])
    return bool(insts) and all(k < len(args) and args[k] in ("float", "double") for args in insts)


@dataclass
class ScalarVerdict:
    private: list[str] = field(default_factory=list)
    firstprivate: list[str] = field(default_factory=list)
    reductions: list[Reduction] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (remark id, message)
    # the root loop's index, a local read after the loop (C89 code that reuses ``i``): its
    # final value comes back through ``lastprivate`` (KernelPlan.lastprivate)
    lastprivate: list[str] = field(default_factory=list)


class _Ctx:
    def __init__(self, model: SourceModel, sem: Semantics, instantiations: list[list[str]] | None = None,
                 pure_calls: frozenset[int] = frozenset()):
        self.m = model
        self.sem = sem
        self.instantiations = instantiations  # the template's, where the nest is in one
        self.pure_calls = pure_calls  # start bytes of calls that only compute a value of their arguments

    def t(self, n: Node | None) -> str:
        return self.m.text(n)

    def line(self, n: Node) -> int:
        return self.m.line_col(n.start_byte)[0]

    def key_of(self, ident: Node) -> str | None:
        d = self.sem.decl_of(ident.start_byte)
        return d.key if d is not None else None

    def mentions(self, n: Node | None, key: str) -> bool:
        if n is None:
            return False
        return any(x.type == "identifier" and self.key_of(x) == key for x in walk(n))

    def is_var(self, n: Node | None, key: str) -> bool:
        n = strip_parens(n)
        return n is not None and n.type == "identifier" and self.key_of(n) == key

    def has_side_effects(self, n: Node) -> bool:
        """Whether evaluating ``n`` may do more than give its value: an assignment, an
        update, or a call but to a function that reads its arguments and nothing else
        (``pure_calls``, where the caller knows them)."""
        return any(x.type in ("assignment_expression", "update_expression")
                   or x.type == "call_expression" and x.start_byte not in self.pure_calls for x in walk(n))

    def stores_changed(self, value: Node | None) -> bool:
        """Whether the value assigned, ``value``, is converted to an integer type that may
        not hold it (``Semantics.changing_conversions``): ``unsigned char m = e`` of an int
        -1 stores 255, and ``int s = s < u ? s : u`` compares in unsigned; such a running
        value is no minimum or maximum (held-out checks)."""
        return value is not None and (value.start_byte, value.end_byte) in self.sem.changing_conversions

    def macros_stand(self, n: Node) -> bool:
        """Every macro used in expression ``n`` parses as one operand where it stands
        (``macros.stands_as_written``): ``s = s + MIN(x, y)`` with ``#define MIN(a,b) (a) <
        (b) ? (a) : (b)`` is ``s = (s + x < y) ? x : y``, no sum; nor is ``p = p * GROWTH``
        with ``#define GROWTH 1.0 + 1e-3`` a product (held-out checks).  A macro naming a
        type (``(DATA_TYPE) e``) is no operand."""
        for mu in self.sem.macros_in(n.start_byte, n.end_byte):
            name = n.descendant_for_byte_range(mu.start, mu.start + len(mu.name))
            if name is None or name.type in ("type_identifier", "primitive_type"):
                continue
            if name.type != "identifier":
                return False
            use = name.parent if mu.function_like and name.parent is not None and \
                name.parent.type == "call_expression" else name
            if not stands_as_written(use, expand_object_macros(mu.body, self.sem)):
                return False
        return True

    def safe_to_evaluate_always(self, n: Node) -> bool:
        """``n`` may be evaluated where the serial program would skip it: no side effect,
        no call, no division (a zero divisor traps), no memory access but elements at
        subscripts that read no memory themselves (``a[i]`` lies in the section the kernel
        maps; ``b[k[i]]`` or ``*p`` may be valid only where the program reads them)."""
        for x in walk(n):
            if x.type in ("assignment_expression", "update_expression", "call_expression", "pointer_expression"):
                return False
            if x.type == "field_expression" and self.t(x.child_by_field_name("operator")) != ".":
                return False
            if x.type == "subscript_expression" and any(
                    y.type in ("subscript_expression", "pointer_expression", "field_expression", "call_expression")
                    for y in walk(x.child_by_field_name("index") or x) if y is not x):
                return False
            if x.type == "binary_expression" and self.t(x.child_by_field_name("operator")) in ("/", "%"):
                return False
        return True


# ---------------------------------------------------------------------------- reductions


@dataclass(frozen=True)
class UpdatePattern:
    """A reduction update found in the nest: its operator, the node the update spans (the
    assignment, or the ``if`` around it), and whether a NaN element restarts it
    (``restarts``: ``m = m < e ? m : e`` takes ``e`` where the comparison fails, so after a
    NaN element ``m`` is NaN and the next element replaces it, which no reduction does)."""

    op: str
    node: Node
    restarts: bool = False
    # the element a minimum or maximum takes (``e`` of ``if (e > m) m = e;``); None for
    # other operators, or where the form does not name one
    element: Node | None = None


def reduction_pattern(ref: ScalarRef, ctx: _Ctx) -> UpdatePattern | None:
    """The pattern when the write ``ref`` is a reduction update of its variable."""
    a = ref.assign
    key = ref.decl.key if ref.decl else None
    if a is None or key is None or not ctx.macros_stand(a):
        return None
    if not _value_discarded(a):
        # ``arr[i] = input[pos++]``: the update's value is read in the iteration, and each
        # thread's copy of the variable would start at the identity (TACLe's audiobeam)
        return None
    if a.type == "update_expression":
        return UpdatePattern("+", a)
    if a.type != "assignment_expression":
        return None
    op = ctx.t(a.child_by_field_name("operator"))
    right = strip_parens(a.child_by_field_name("right"))
    if right is None:
        return None
    if op in COMPOUND_OPS:
        if ctx.mentions(right, key):
            return None
        return UpdatePattern(COMPOUND_OPS[op], a)
    if op != "=":
        return None
    if right.type == "binary_expression":
        bop = ctx.t(right.child_by_field_name("operator"))
        if bop == "-":
            left = strip_parens(right.child_by_field_name("left"))
            if ctx.is_var(left, key) and not ctx.mentions(right.child_by_field_name("right"), key):
                return UpdatePattern("+", a)
            return None
        if bop in CHAIN_OPS:
            operands = _flatten(right, bop, ctx)
            hits = [o for o in operands if ctx.is_var(o, key)]
            others = [o for o in operands if not ctx.is_var(o, key)]
            if bop in ("&&", "||") and not all(ctx.safe_to_evaluate_always(o) for o in others):
                # ``f = f || (b[i] = 1)``, ``ok = ok && 100 / k[i]``: serially the operand
                # runs only while the variable allows it; in a reduction each thread's copy
                # starts at the identity and runs it in every iteration
                return None
            if len(hits) == 1 and not any(ctx.mentions(o, key) for o in others):
                return UpdatePattern(bop, a)
        return None
    if right.type in ("call_expression", "conditional_expression") and ctx.stores_changed(
            a.child_by_field_name("right")):
        return None
    if right.type == "call_expression":
        found = _minmax_call(right, key, ref.decl, ctx)
        if found is None or found[1] and not _restartable(a):
            return None
        return UpdatePattern(found[0], a, found[1], _other_operand(arguments_of(right.child_by_field_name("arguments")),
                                                                   key, ctx))
    if right.type == "conditional_expression":
        kind = _minmax_select(right.child_by_field_name("condition"), right.child_by_field_name("consequence"),
                              right.child_by_field_name("alternative"), key, ctx)
        if kind and _restarts(ref.decl) and not ctx.is_var(right.child_by_field_name("alternative"), key):
            # ``m = (a[i] < m) ? m : a[i]``: a NaN (in a[i] or in m) makes the comparison
            # false and picks a[i], so the serial result depends on where the NaN stands;
            # the form that keeps m where the comparison fails reduces like the if, this
            # one only with a check of every partial value (Reduction.restarts)
            return UpdatePattern(kind, a, True) if _restartable(a) else None
        element = _other_operand([right.child_by_field_name("consequence"), right.child_by_field_name("alternative")],
                                 key, ctx)
        return UpdatePattern(kind, a, element=element) if kind else None
    return None


def _other_operand(operands: list, key: str, ctx: _Ctx) -> Node | None:
    """Of a minimum's or maximum's two operands, the one that is not the variable."""
    others = [strip_parens(o) for o in operands if o is not None and not ctx.is_var(o, key)]
    return others[0] if len(others) == 1 and len(operands) == 2 else None


def _restartable(a: Node) -> bool:
    """Whether the rewrite can check the value update ``a`` leaves (``Reduction.restarts``):
    ``a`` is a statement of its own, to which ``, FLAG |= !(m <= m)`` can be appended."""
    return a.parent is not None and a.parent.type == "expression_statement"


def _minmax_call(call: Node, key: str, d, ctx: _Ctx) -> tuple[str, bool] | None:
    """``m = fmax(m, e)``, ``m = std::min(m, e)``, ``m = MIN(m, e)``: ("min" or "max",
    whether a NaN element restarts it) where the call updates ``m`` as a reduction does,
    else None.

    What the call is decides, never its name alone: the C library's ``fmin``/``fmax``
    (which ignore a NaN, in either argument), the C++ library's ``std::min``/``std::max``
    (``using std::min`` too) and a macro whose list is a comparison and a choice between
    its two arguments (``#define MIN(a,b) ((a) < (b) ? (a) : (b))``: read as that
    choice).  A function of the program named ``max`` may compute anything (a held-out
    check: the largest magnitude, from every thread's copy starting at -DBL_MAX).
    ``std::min(a, b)`` is ``b < a ? b : a``: with a floating ``e`` first, a NaN element is
    taken and the running value starts again after it, which no reduction does alone
    (another held-out check): that form restarts (``Reduction.restarts``)."""
    fname = ctx.t(call.child_by_field_name("function"))
    args = arguments_of(call.child_by_field_name("arguments"))
    if len(args) != 2:
        return None
    use = ctx.sem.macros.get(call.start_byte)
    if use is not None and use.function_like and use.name == fname:
        form = select_form(use.body, use.params) if len(use.params) == 2 else None
        if form is None:
            return None
        op, a, b, x, y = form
        kind = _select_kind(op, args[a], args[b], args[x], args[y], key, ctx)
        return (kind, _restarts(d) and not ctx.is_var(args[y], key)) if kind else None
    kind = MINMAX_CALLS.get(fname)
    if not kind:
        return None
    x, y = args
    first = ctx.is_var(x, key) and not ctx.mentions(y, key)
    second = ctx.is_var(y, key) and not ctx.mentions(x, key)
    if not (first or second):
        return None
    callee = ctx.sem.callee_of(call.start_byte, call.end_byte)
    if callee is None:
        return None
    if callee.name in NAN_IGNORING_MINMAX and (
            callee.library or callee.definition is None and not callee.defined_in):
        # (declared by the program itself, as old C does: the C library's names are reserved)
        narrow = {"f": ("float",), "": ("float", "double")}.get(callee.name[len("fmin"):])
        if narrow is not None and unqualified(d.element_type or d.type_spelling) not in narrow and not d.dependent:
            # ``double m = fminf(m, e)`` rounds m to float at every step, from the start
            # on, where the reduction combines the start as it is (a held-out check)
            return None
        return kind, False
    if not callee.library:
        return None
    if not first and not d.integral and not _restarts(d):
        return None
    return kind, not first and _restarts(d)


def _restarts(d) -> bool:
    """Whether a NaN may stand in variable ``d`` (floating, or a template's type)."""
    return d.floating or d.dependent


def _value_discarded(a: Node) -> bool:
    """Whether nothing reads the value of the update ``a``: it is a statement of its own,
    a part of a comma list that is one, or a ``for`` loop's increment."""
    n = a
    while n.parent is not None and n.parent.type in ("parenthesized_expression", "comma_expression"):
        if n.parent.type == "comma_expression" and n.parent.child_by_field_name("right") == n and \
                n.parent.parent is not None and n.parent.parent.type not in ("expression_statement", "for_statement",
                                                                              "comma_expression"):
            return False  # ``x = (a, s += 1)``: the list's value is the update's
        n = n.parent
    p = n.parent
    if p is None:
        return False
    if p.type == "expression_statement":
        return True
    return p.type == "for_statement" and p.child_by_field_name("update") == n


def if_reduction_pattern(ref: ScalarRef, ctx: _Ctx) -> UpdatePattern | None:
    """``if (e < m) m = e;`` (min) and ``if (e > m) m = e;`` (max), without else."""
    a = ref.assign
    key = ref.decl.key if ref.decl else None
    if a is None or key is None or a.type != "assignment_expression" or ctx.t(a.child_by_field_name("operator")) != "=":
        return None
    stmt = a.parent
    if stmt is None or stmt.type != "expression_statement":
        return None
    p = stmt.parent
    while p is not None and p.type == "compound_statement" and len([c for c in p.named_children if c.type != "comment"]) == 1:
        p = p.parent
    if p is None or p.type != "if_statement" or p.child_by_field_name("alternative") is not None:
        return None
    cons = p.child_by_field_name("consequence")
    if cons is None or not (cons.start_byte <= a.start_byte < cons.end_byte):
        return None
    cond = p.child_by_field_name("condition")
    if cond is not None and cond.type == "condition_clause" and cond.child_by_field_name("initializer") is not None:
        return None  # ``if (init; e < m)``
    if cond is None or not ctx.macros_stand(cond) or not ctx.macros_stand(a) or \
            ctx.stores_changed(a.child_by_field_name("right")):
        return None
    kind = _minmax_select(condition_value(cond), a.child_by_field_name("right"), a.child_by_field_name("left"), key, ctx)
    return UpdatePattern(kind, p, element=strip_parens(a.child_by_field_name("right"))) if kind else None


def _minmax_select(cond: Node | None, chosen: Node | None, other: Node | None, key: str, ctx: _Ctx) -> str | None:
    """``cond ? chosen : other`` where cond compares the variable with e: min, max or None."""
    cond = strip_parens(cond)
    if cond is None or cond.type != "binary_expression":
        return None
    return _select_kind(ctx.t(cond.child_by_field_name("operator")), cond.child_by_field_name("left"),
                        cond.child_by_field_name("right"), chosen, other, key, ctx)


def _select_kind(op: str, A: Node | None, B: Node | None, chosen: Node | None, other: Node | None, key: str,
                 ctx: _Ctx) -> str | None:
    """``A op B ? chosen : other`` where one of A and B is the variable and the other an
    expression e without effects, chosen and other being those two: min, max or None."""
    A, B, chosen, other = (strip_parens(n) for n in (A, B, chosen, other))
    if op in (">", ">="):
        A, B = B, A
    elif op not in ("<", "<="):
        return None
    if A is None or B is None or chosen is None or other is None:
        return None
    # now the condition reads "A < B"
    if ctx.is_var(A, key):
        e = B
    elif ctx.is_var(B, key):
        e = A
    else:
        return None
    if ctx.mentions(e, key) or ctx.has_side_effects(e):
        return None
    ct, ot = ctx.t(chosen), ctx.t(other)
    if not ({ct, ot} == {ctx.t(A), ctx.t(B)} and ct != ot):
        return None
    return "min" if ct == ctx.t(A) else "max"


def _flatten(n: Node, op: str, ctx: _Ctx) -> list[Node]:
    n = strip_parens(n)
    if n is not None and n.type == "binary_expression" and ctx.t(n.child_by_field_name("operator")) == op:
        return _flatten(n.child_by_field_name("left"), op, ctx) + _flatten(n.child_by_field_name("right"), op, ctx)
    return [n] if n is not None else []


# ---------------------------------------------------------------------------- exposure


class _Exposure:
    """Reads of tracked variables not preceded, on every path of the iteration, by a write."""

    def __init__(self, ctx: _Ctx, keys: set[str]):
        self.ctx = ctx
        self.keys = keys
        self.exposed: dict[str, Node] = {}

    def stmt(self, n: Node, defined: set[str]) -> set[str]:
        ty = n.type
        if ty == "compound_statement":
            for c in n.named_children:
                defined = self.stmt(c, defined)
            return defined
        if ty == "expression_statement":
            for c in n.named_children:
                defined = self.expr(c, defined)
            return defined
        if ty == "declaration":
            for d in n.children_by_field_name("declarator"):
                v = d.child_by_field_name("value") if d.type == "init_declarator" else None
                if v is not None:
                    defined = self.expr(v, defined)
            return defined
        if ty == "if_statement":
            c = n.child_by_field_name("condition")
            if c is not None:
                defined = self.expr(c, defined)
            then = n.child_by_field_name("consequence")
            alt = n.child_by_field_name("alternative")
            d1 = self.stmt(then, set(defined)) if then is not None else set(defined)
            d2 = self.stmt(alt, set(defined)) if alt is not None else set(defined)
            return d1 & d2
        if ty == "else_clause":
            for c in n.named_children:
                defined = self.stmt(c, defined)
            return defined
        if ty == "for_statement":
            for f in ("initializer", "condition"):
                c = n.child_by_field_name(f)
                if c is not None:
                    defined = self.expr(c, defined)
            body = n.child_by_field_name("body")
            inner = set(defined)
            if body is not None:
                inner = self.stmt(body, inner)
            upd = n.child_by_field_name("update")
            if upd is not None:
                self.expr(upd, inner)
            return defined
        if ty == "do_statement":
            body = n.child_by_field_name("body")
            if body is not None:
                defined = self.stmt(body, defined)
            c = n.child_by_field_name("condition")
            return self.expr(c, defined) if c is not None else defined
        # while, switch, labels, anything else: reads count, writes do not escape
        for c in n.named_children:
            if c.type.endswith("_statement") or c.type in ("compound_statement", "case_statement"):
                self.stmt(c, set(defined))
            else:
                self.expr(c, set(defined))
        return defined

    def expr(self, n: Node, defined: set[str]) -> set[str]:
        ty = n.type
        if ty == "assignment_expression":
            op = self.ctx.t(n.child_by_field_name("operator"))
            r = n.child_by_field_name("right")
            if r is not None:
                defined = self.expr(r, defined)
            left = strip_parens(n.child_by_field_name("left"))
            if left is not None and left.type == "identifier":
                k = self.ctx.key_of(left)
                if op != "=":
                    self.read(left, defined)
                if k in self.keys:
                    defined = defined | {k}
                return defined
            if left is not None:
                defined = self.expr(left, defined)
            return defined
        if ty == "update_expression":
            arg = strip_parens(n.child_by_field_name("argument"))
            if arg is not None and arg.type == "identifier":
                self.read(arg, defined)
                return defined
            return self.expr(arg, defined) if arg is not None else defined
        if ty == "identifier":
            self.read(n, defined)
            return defined
        if ty == "conditional_expression":
            c = n.child_by_field_name("condition")
            if c is not None:
                defined = self.expr(c, defined)
            for f in ("consequence", "alternative"):
                b = n.child_by_field_name(f)
                if b is not None:
                    self.expr(b, set(defined))
            return defined
        if ty == "binary_expression" and self.ctx.t(n.child_by_field_name("operator")) in ("&&", "||"):
            left = n.child_by_field_name("left")
            if left is not None:
                defined = self.expr(left, defined)
            right = n.child_by_field_name("right")
            if right is not None:
                self.expr(right, set(defined))
            return defined
        if ty == "declaration":
            return self.stmt(n, defined)
        if ty == "field_expression":
            arg = n.child_by_field_name("argument")
            return self.expr(arg, defined) if arg is not None else defined
        for c in n.named_children:
            defined = self.expr(c, defined)
        return defined

    def read(self, ident: Node, defined: set[str]) -> None:
        k = self.ctx.key_of(ident)
        if k in self.keys and k not in defined and k not in self.exposed:
            self.exposed[k] = ident


# ---------------------------------------------------------------------------- liveness


def _refs_in(node: Node, key: str, ctx: _Ctx) -> list[Node]:
    """Identifiers in ``node`` that name ``key``, in source order (indexed once per subtree)."""
    cache = ctx.sem.__dict__.setdefault("_ident_index", {})
    index = cache.get(node.id)
    if index is None:
        index = {}
        for x in walk(node):
            if x.type == "identifier":
                k = ctx.key_of(x)
                if k is not None:
                    index.setdefault(k, []).append(x)
        cache[node.id] = index
    return index.get(key, [])


def live_after(key: str, nest: Node, fn_body: Node, ctx: _Ctx) -> Node | None:
    """A reference that may read the value the nest leaves in ``key``, or None if dead.

    Decided by liveness over the function's control-flow graph (engine/liveness.py): the
    value is dead when every path from the end of the nest defines ``key`` (``for (j = 0;
    ...)``, ``j = e``) before reading it, or leaves the function.  Where the graph cannot be
    built, any reference outside the nest counts as a read."""
    cache = ctx.sem.__dict__.setdefault("_cfg_cache", {})
    cfg = cache.get(fn_body.id)
    if cfg is None:
        try:
            cfg = FunctionCfg.build(fn_body)
        except Unsupported:
            cfg = False
        cache[fn_body.id] = cfg
    start = cfg.after(nest) if cfg else None
    if cfg and start is not None:
        try:
            return first_read(cfg, start, key, lambda ident: ctx.key_of(ident))
        except Unsupported:
            pass
    outside = [r for r in _refs_in(fn_body, key, ctx) if not (nest.start_byte <= r.start_byte < nest.end_byte)]
    return next((r for r in outside if r.start_byte >= nest.end_byte), outside[0] if outside else None)


def alias_made(key: str, fn_body: Node, ctx: _Ctx) -> Node | None:
    """Where the function gives ``key`` another name through which code after the loop may
    read it: ``&x``, a C++ reference bound to it, or a lambda capturing by reference.
    A private copy never writes its value back, so such a scalar cannot be private.  The
    address passed to a function of this file that keeps no pointer past the call
    (``randlc(&t1, a)``, NPB EP) is no other name after it."""
    from pcx_driver.engine import escapes

    for r in _refs_in(fn_body, key, ctx):
        p = r.parent
        while p is not None and p.type == "parenthesized_expression":
            p = p.parent
        if p is None:
            continue
        if p.type == "pointer_expression" and ctx.t(p.child_by_field_name("operator")) == "&":
            up = p
            while up.parent is not None and up.parent.type == "parenthesized_expression":
                up = up.parent
            call = up.parent.parent if up.parent is not None and up.parent.type == "argument_list" else None
            fn = call.child_by_field_name("function") if call is not None else None
            if fn is not None and fn.type == "identifier" and ctx.sem.macros.get(fn.start_byte) is None:
                argv = [a.id for a in arguments_of(up.parent)]
                if up.id in argv and not escapes.keeps_pointer(ctx.m.data, ctx.m.unit.language, ctx.t(fn),
                                                               argv.index(up.id)):
                    continue
            return r
        if p.type == "init_declarator" and (p.child_by_field_name("declarator") or p).type == "reference_declarator":
            return r
    for x in nodes_of_type(ctx.m.data, ctx.m.unit.language, "lambda_expression"):
        if fn_body.start_byte <= x.start_byte < fn_body.end_byte:
            captures = x.child_by_field_name("captures")
            if captures is not None and "&" in ctx.t(captures):
                return x
    return None


def _finite_start(nest: Node, d, fn_body: Node, ctx: _Ctx) -> bool:
    """Whether local ``d`` surely holds a finite number where ``nest`` starts (``err =
    0.0;`` at the top of a convergence loop, ``double dt = 1.0e20;``): ``start_literal``."""
    value = start_literal(nest, d, fn_body, ctx)
    return value is not None and math.isfinite(value)


def _zero_signs_agree(nest: Node, d, patterns: list[UpdatePattern], fn_body: Node, ctx: _Ctx) -> bool:
    """Whether a floating minimum or maximum ``d`` can end at one zero only: its start is a
    literal that is not -0.0 and no element it takes can be -0.0 (``fabs(e)``, ``e * e``,
    an integer converted).  Otherwise a +0 and a -0 compare equal, the loop keeps the one
    its order and its comparison pick, and a reduction another (``Reduction.zero_sign``)."""
    start = start_literal(nest, d, fn_body, ctx)
    if start is None or start == 0 and math.copysign(1.0, start) < 0:
        return False
    return all(p.element is not None and _never_negative_zero(p.element, ctx) for p in patterns)


#: the C and C++ libraries' absolute values: never -0.0
_ABSOLUTE_VALUES = frozenset({"fabs", "fabsf", "fabsl", "std::fabs", "std::abs", "abs", "labs", "llabs"})


def _never_negative_zero(e: Node, ctx: _Ctx) -> bool:
    """Whether expression ``e`` surely never evaluates to -0.0: an absolute value of the C or
    C++ library, a square (``x * x``, whose sign is always +), or a variable or element of an
    integer type (converted, a zero is +0.0)."""
    e = strip_parens(e)
    if e is None:
        return False
    if e.type == "call_expression":
        callee = ctx.sem.callee_of(e.start_byte, e.end_byte)
        return callee is not None and callee.library and callee.name in _ABSOLUTE_VALUES
    if e.type == "binary_expression" and ctx.t(e.child_by_field_name("operator")) == "*":
        left, right = strip_parens(e.child_by_field_name("left")), strip_parens(e.child_by_field_name("right"))
        return left is not None and right is not None and "".join(ctx.t(left).split()) == "".join(
            ctx.t(right).split()) and not ctx.has_side_effects(left)
    base = e
    while base is not None and base.type == "subscript_expression":
        base = strip_parens(base.child_by_field_name("argument"))
    if base is None or base.type != "identifier":
        return False
    decl = ctx.sem.decl_of(base.start_byte)
    return decl is not None and decl.integral and not decl.floating and (
        base is e and decl.shape == "scalar" or base is not e and decl.shape in ("array", "pointer"))


def start_literal(nest: Node, d, fn_body: Node, ctx: _Ctx) -> float | None:
    """The number local ``d`` surely holds where ``nest`` starts, or None: the last
    statement before it, in straight-line code, that sets ``d`` gives it a literal.
    Statements in between may not set it, nor take its address; a loop's body ends the
    search (its previous iteration's value comes round), as does the function's start; and
    no other name may reach it (``&d``, a reference, a lambda capturing by reference)."""
    if d.kind != "local" or alias_made(d.key, fn_body, ctx) is not None:
        return None  # (another name could set it: ``&x``, a reference, a lambda's capture)
    at = nest
    while at is not None and at.id != fn_body.id:
        sib = at.prev_named_sibling
        while sib is not None:
            if sib.type == "comment" or sib.type == "preproc_call" and ctx.t(sib).lstrip("# \t").startswith("pragma"):
                sib = sib.prev_named_sibling
                continue
            value = _literal_set(sib, d, ctx)
            if value is not None:
                return value
            if sib.type.startswith("preproc") or d.name in hostaccess.assigned_and_declared(
                    sib, ctx.m.data, sib.start_byte, sib.end_byte) or any(
                    x.type == "labeled_statement" or x.type == "call_expression" and ctx.mentions(
                        x.child_by_field_name("arguments"), d.key) for x in walk(sib)):
                # (a label a jump may enter by; a call given it, which a macro or a
                # reference parameter may set)
                return None
            sib = sib.prev_named_sibling
        parent = at.parent
        if parent is None or parent.type not in ("compound_statement", "if_statement", "else_clause"):
            return None  # (a loop's body: the value may come round from its last iteration)
        at = parent
    return None


def _literal_set(stmt: Node, d, ctx: _Ctx) -> float | None:
    """The number ``stmt`` sets ``d`` to when it is ``d = LITERAL;`` or a declaration of
    ``d`` initialised with one (``-1e30``, ``(double)0``), else None."""
    if stmt.type == "expression_statement" and stmt.named_child_count == 1:
        e = stmt.named_children[0]
        if e.type == "assignment_expression" and ctx.t(e.child_by_field_name("operator")) == "=" \
                and ctx.is_var(e.child_by_field_name("left"), d.key):
            return _number(e.child_by_field_name("right"), ctx)
        return None
    if stmt.type == "declaration":
        for c in stmt.named_children:
            if c.type == "init_declarator" and c.start_byte <= (d.decl_offset or -1) < c.end_byte:
                return _number(c.child_by_field_name("value"), ctx)
    return None


def _number(n: Node | None, ctx: _Ctx) -> float | None:
    """The value of a numeric literal, negated or cast (``-1.0e20f``), else None."""
    n = strip_parens(n)
    if n is None:
        return None
    if n.type == "unary_expression" and ctx.t(n.child_by_field_name("operator")) in ("-", "+"):
        v = _number(n.child_by_field_name("argument"), ctx)
        return None if v is None else (-v if ctx.t(n.child_by_field_name("operator")) == "-" else v)
    if n.type == "cast_expression":
        return _number(n.child_by_field_name("value"), ctx)
    if n.type in ("true", "false"):
        return 1.0 if n.type == "true" else 0.0
    if n.type != "number_literal":
        return None
    text = ctx.t(n).replace("'", "").lower()
    try:
        if text.startswith("0x"):
            return float.fromhex(text.rstrip("fl")) if "p" in text else float(int(text.rstrip("ul"), 16))
        return float(text.rstrip("flu"))
    except ValueError:
        return None


def _is_bool(d) -> bool:
    """``d`` is a ``bool`` (``_Bool``) variable, qualified or not: each store makes it 0 or 1."""
    return d.type_spelling.replace("const", "").replace("volatile", "").strip() in ("_Bool", "bool")


def flag_reduction(refs: list[ScalarRef], d, nest: Node, fn_body: Node, ctx: _Ctx) -> str | None:
    """The reduction operator that gives a flag its serial value, or None.  A flag is a
    scalar the nest never reads and only sets, each time to one same constant, in a
    statement of its own (BFS's ``stop = true;`` when a node changed, a convergence test's
    ``done = 0;``): serially it ends as that constant if any iteration set it, as it was
    otherwise.  For a bool, ``||`` (set to true) or ``&&`` (set to false) says exactly
    that.  For another integer, ``max`` does where it starts at most at the constant and
    ``min`` where it starts at least at it, which needs its start known before the nest
    (``start_literal``): a start above the constant would win a maximum."""
    if d.shape != "scalar" or not d.integral or d.reference:
        return None
    values = set()
    for r in refs:
        a = r.assign
        if not r.write or a is None or a.type != "assignment_expression" or \
                ctx.t(a.child_by_field_name("operator")) != "=" or not _value_discarded(a) or \
                not ctx.is_var(a.child_by_field_name("left"), d.key) or not (a.start_byte <= r.node.start_byte < a.end_byte):
            return None
        value = _number(a.child_by_field_name("right"), ctx)
        if value is None or value != int(value):
            return None
        values.add(int(value))
    if len(values) != 1:
        return None
    value = values.pop()
    if _is_bool(d):
        return "||" if value else "&&"
    start = start_literal(nest, d, fn_body, ctx)
    if start is None or not (0 <= start <= 127 and 0 <= value <= 127):
        # (only where both are the same number in every integer type: ``unsigned f = -1``
        # is the greatest value, not one below the constant)
        return None
    return "max" if start <= value else "min"


# ---------------------------------------------------------------------------- classification


def classify(facts: NestFacts, root: Node, model: SourceModel, sem: Semantics, fn_body: Node,
             index_keys: set[str], root_key: str | None,
             escaping_kinds: tuple[str, ...] = ("global", "static-local"),
             instantiations: list[list[str]] | None = None, pure_calls: frozenset[int] = frozenset()) -> ScalarVerdict:
    ctx = _Ctx(model, sem, instantiations, pure_calls)
    out = ScalarVerdict()
    by_key: dict[str, list[ScalarRef]] = {}
    for r in facts.scalars:
        if r.decl is None or r.decl.key in facts.local_keys:
            continue
        by_key.setdefault(r.decl.key, []).append(r)
    written_keys = {k for k, refs in by_key.items() if any(r.write for r in refs)}
    body = root.child_by_field_name("body")
    exposure = _Exposure(ctx, written_keys)
    if body is not None:
        exposure.stmt(body, set())
    for key, refs in by_key.items():
        d = refs[0].decl
        name = d.name
        if d.kind == "other":
            # a structured binding (``auto &[x, y] = pr;``): no variable a clause can name
            # (``firstprivate(x, y)``, ``reduction(+:sum)`` did not compile)
            out.problems.append(("PCX118", f"'{name}' is a structured binding (or another name that is no "
                                           "variable), which an OpenMP clause cannot take"))
            continue
        if not any(r.write for r in refs):
            if key not in index_keys and d.kind not in ("enum", "function", "template-param") \
                    and name not in out.firstprivate:
                # compile-time constants (const int N = 64) are folded: nothing to pass
                # (a ``static constexpr`` class member too: ``firstprivate(N)`` would not
                # even name it, ``Cfg::N``)
                qualified = any(r.node.parent is not None and r.node.parent.type == "qualified_identifier"
                                for r in refs)
                if not d.reference and not qualified and not (d.const and d.init_tokens is not None and
                                                              d.kind in ("global", "static-member")):
                    # (``cfg::n`` is no name a clause takes: a global so named is passed
                    # in as OpenMP passes any scalar it is not told of, firstprivate)
                    out.firstprivate.append(name)
            continue
        if key in index_keys:
            # the nest's own loop indices declared outside the loop: private, unless read later;
            # a global's final value may be read anywhere after the loop (a private copy never
            # writes it back), so a global or static index refuses the nest
            if d.kind in escaping_kinds:
                out.problems.append(("PCX112", f"loop index '{name}' is a global or static variable; its final "
                                               "value may be read after the loop"))
                continue
            if d.reference:
                # a reference index writes through to a variable the caller may read later
                out.problems.append(("PCX112", f"loop index '{name}' is a reference; its final value may be read "
                                               "after the loop"))
                continue
            use = live_after(key, root, fn_body, ctx)
            alias = alias_made(key, fn_body, ctx) if use is None else None
            if use is not None and key == root_key and d.kind == "local" and alias_made(key, fn_body, ctx) is None:
                out.lastprivate.append(name)
            elif use is not None:
                out.problems.append(("PCX112", f"loop index '{name}' is used after the loop (line {ctx.line(use)})"))
            elif alias is not None:
                out.problems.append(("PCX112", f"loop index '{name}' is reachable through another name (line "
                                               f"{ctx.line(alias)}) that may read its final value"))
            elif key != root_key:
                # an inner loop's index declared outside the nest is shared unless listed private
                out.private.append(name)
            continue
        if d.reference:
            out.problems.append(("PCX104", f"'{name}' is a reference written inside the nest; it may alias an array"))
            continue
        # reduction?
        patterns = []
        for r in refs:
            if r.write:
                pat = reduction_pattern(r, ctx) or if_reduction_pattern(r, ctx)
                if pat is None:
                    patterns = None
                    break
                patterns.append(pat)
        if patterns:
            ops = {p.op for p in patterns}
            nodes = [p.node for p in patterns]
            covered = all(any(n.start_byte <= r.node.start_byte < n.end_byte for n in nodes) for r in refs)
            if len(ops) == 1 and covered:
                op = ops.pop()
                floating_instances = d.dependent and _floating_in_every_instantiation(d, fn_body, ctx)
                if (not (d.integral or d.floating) or d.shape != "scalar") and not floating_instances:
                    # ``s += c`` on a std::string or a class: an operator of the class, no
                    # OpenMP reduction (a crash, and rewrites that did not compile)
                    out.problems.append(("PCX112", f"'{name}' is updated with '{op}=' but its type is a template "
                                                   "parameter that not every instantiation makes floating (an "
                                                   "integer rounds each floating term), or one pcx cannot see"
                                         if d.dependent else
                                         f"'{name}' is updated with '{op}=' but is not an arithmetic "
                                         "variable, which an OpenMP reduction needs"))
                    continue
                wide = next((t for t in ("long double", "__int128", "_BitInt") if t in d.type_spelling), None)
                if wide:
                    # clang builds it with __atomic_* calls from libatomic, which the link lacks
                    out.problems.append(("PCX112", f"reduction on {wide} '{name}' (the offload build would "
                                                   "need libatomic)"))
                    continue
                rounded = next((r for r in refs if r.write and r.node.start_byte in ctx.sem.float_into_integer), None)
                if rounded is not None:
                    out.problems.append(("PCX112", f"integer '{name}' takes a floating value at each update (line "
                                                   f"{ctx.line(rounded.node)}): each step rounds it, so the "
                                                   "iterations cannot be summed in another order"))
                    continue
                if op in ("&", "|", "^") and not d.integral:
                    out.problems.append(("PCX112", f"bitwise reduction on non-integer '{name}'"))
                    continue
                if op in ("+", "*", "^") and _is_bool(d):
                    # each step makes the bool 0 or 1 again: (1 + 1) + -1 is 0, 1 + (1 + -1) is 1
                    out.problems.append(("PCX112", f"'{name}' is a bool updated with '{op}=': each step makes it 0 "
                                                   "or 1, so the iterations cannot be combined in another order"))
                    continue
                # (a floating min/max needs a finite start: an if-pattern's comparison with a
                # NaN start is never true, and the serial loop keeps NaN, where OpenMP's
                # combination of the partial results drops it; and OpenMP starts each partial
                # maximum at the least finite value, not -inf, so a start of -inf over
                # elements all -inf, a fully masked softmax row, came out -FLT_MAX)
                # (and one a NaN element restarts, ``m = m < e ? m : e``, a check of every
                # partial value: Reduction.restarts)
                floating_minmax = op in ("min", "max") and (d.floating or floating_instances)
                restarts = [p.node.end_byte for p in patterns if p.restarts]
                out.reductions.append(Reduction(op, name, nan_start=floating_minmax
                                                and not _finite_start(root, d, fn_body, ctx),
                                                restarts=restarts,
                                                zero_sign=floating_minmax and not restarts
                                                and not _zero_signs_agree(root, d, patterns, fn_body, ctx)))
                continue
        exposed = exposure.exposed.get(key)
        if exposed is not None:
            cond_write = next((r for r in refs if r.write and r.conditional), None)
            why = f"scalar '{name}' is read (line {ctx.line(exposed)}) before it is written in an iteration"
            if cond_write is not None and not patterns:
                why += f"; it is updated conditionally (line {ctx.line(cond_write.node)}), e.g. an argmin/argmax, which is not a reduction"
            out.problems.append(("PCX112", why + "; it carries a value between iterations"))
            continue
        use = None if d.kind in escaping_kinds else live_after(key, root, fn_body, ctx)
        if use is not None and alias_made(key, fn_body, ctx) is None:
            # (a flag read after the nest: its value comes back through a reduction; one
            # that is not is simply private.  A global or static flag stays refused: a
            # function the nest calls might read it)
            flag = flag_reduction(refs, d, root, fn_body, ctx)
            if flag is not None:
                out.reductions.append(Reduction(flag, name))
                continue
        if d.kind in escaping_kinds:
            out.problems.append(("PCX112", f"global or static '{name}' is written in the nest and may be read after it"))
            continue
        if use is not None:
            out.problems.append(("PCX112", f"scalar '{name}' written in the loop is used after it (line {ctx.line(use)})"))
            continue
        alias = alias_made(key, fn_body, ctx)
        if alias is not None:
            out.problems.append(("PCX112", f"scalar '{name}' written in the loop is reachable through another name "
                                           f"(line {ctx.line(alias)}) that may read it after the loop"))
            continue
        out.private.append(name)
    return out
