"""Loop nests: canonical ``for`` loops, their index ranges, and affine expressions.

Contract:
- ``Poly`` is an integer polynomial over symbols (loop indices and loop-invariant names,
  each a C expression text); the analysis needs only its affine use, but products such as
  ``i*n`` are kept so flattened subscripts can be delinearised.
- ``Loop.parse(node, to_poly)`` reads one ``for`` statement in OpenMP canonical form:
  ``init: index = lb`` (declared int/long/size_t/auto or assigned), ``test: index OP ub``
  (``< <= > >= !=``, either side), ``incr: ++ -- += c -= c index = index +/- c``.
  It records ``low``/``high`` (the inclusive index range, as Polys; None when not
  affine) and a ``problem`` (remark id, message) when the loop is not canonical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from tree_sitter import Node

from pcx_driver.engine.source import operands, strip_parens, walk

Monomial = tuple[str, ...]


class Poly:
    """Sum of integer-coefficient monomials; immutable in use."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Monomial, int] | None = None) -> None:
        self.terms = {m: c for m, c in (terms or {}).items() if c != 0}

    @staticmethod
    def const(c: int) -> "Poly":
        return Poly({(): c})

    @staticmethod
    def sym(name: str) -> "Poly":
        return Poly({(name,): 1})

    def __add__(self, o: "Poly") -> "Poly":
        t = dict(self.terms)
        for m, c in o.terms.items():
            t[m] = t.get(m, 0) + c
        return Poly(t)

    def __neg__(self) -> "Poly":
        return Poly({m: -c for m, c in self.terms.items()})

    def __sub__(self, o: "Poly") -> "Poly":
        return self + (-o)

    def __mul__(self, o: "Poly") -> "Poly":
        t: dict[Monomial, int] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in o.terms.items():
                m = tuple(sorted(m1 + m2))
                t[m] = t.get(m, 0) + c1 * c2
        return Poly(t)

    def scale(self, k: int) -> "Poly":
        return Poly({m: c * k for m, c in self.terms.items()})

    def __eq__(self, o: object) -> bool:
        return isinstance(o, Poly) and self.terms == o.terms

    def __hash__(self) -> int:
        return hash(frozenset(self.terms.items()))

    def __repr__(self) -> str:
        return f"Poly({self.render()})"

    @property
    def is_const(self) -> bool:
        return all(m == () for m in self.terms)

    @property
    def const_value(self) -> int:
        return self.terms.get((), 0)

    def symbols(self) -> set[str]:
        return {s for m in self.terms for s in m}

    def degree_in(self, names: Iterable[str]) -> int:
        ns = set(names)
        return max((sum(1 for s in m if s in ns) for m in self.terms), default=0)

    def coeff_of(self, name: str) -> "Poly":
        """The cofactor of ``name`` in the terms linear in it."""
        t: dict[Monomial, int] = {}
        for m, c in self.terms.items():
            if m.count(name) == 1:
                rest = list(m)
                rest.remove(name)
                t[tuple(rest)] = t.get(tuple(rest), 0) + c
        return Poly(t)

    def without(self, name: str) -> "Poly":
        return Poly({m: c for m, c in self.terms.items() if name not in m})

    def substitute(self, name: str, value: "Poly") -> "Poly":
        out = Poly()
        for m, c in self.terms.items():
            k = m.count(name)
            term = Poly({tuple(s for s in m if s != name): c})
            for _ in range(k):
                term = term * value
            out = out + term
        return out

    def render(self, wrap: Callable[[str], str] | None = None) -> str:
        """C text; ``wrap`` may parenthesise symbols whose text is not a primary expression."""
        if not self.terms:
            return "0"
        w = wrap or (lambda s: s)

        def key(item: tuple[Monomial, int]) -> tuple[int, Monomial]:
            return (-len(item[0]), item[0])

        parts: list[str] = []
        for m, c in sorted(self.terms.items(), key=key):
            names = "*".join(w(s) for s in m)
            if not m:
                body = str(abs(c))
            elif abs(c) == 1:
                body = names
            else:
                body = f"{abs(c)}*{names}"
            if not parts:
                parts.append(("-" if c < 0 else "") + body)
            else:
                parts.append((" - " if c < 0 else " + ") + body)
        return "".join(parts)


# ---------------------------------------------------------------------------- constants


def c_int_literal(text: str) -> int | None:
    t = text.replace("'", "").rstrip("uUlLzZ")
    try:
        if t.lower().startswith("0x"):
            return int(t, 16)
        if t.lower().startswith("0b"):
            return int(t, 2)
        if len(t) > 1 and t.startswith("0") and t.isdigit():
            return int(t, 8)
        return int(t)
    except ValueError:
        return None


def eval_tokens(tokens: list[str], lookup: Callable[[str], int | None], depth: int = 0) -> int | None:
    """Value of an integer constant expression given as C tokens (a #define or const init)."""
    if depth > 8:
        return None

    def as_poly(name: str) -> Poly | None:
        v = lookup(name)
        return Poly.const(v) if v is not None else None

    p = poly_of_tokens(tokens, as_poly)
    return p.const_value if p is not None and p.is_const else None


#: integer operators that polynomials have; the others need constant operands
_CONST_OPS: dict[str, Callable[[int, int], int]] = {
    "|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "&": lambda a, b: a & b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "/": lambda a, b: int(a / b), "%": lambda a, b: a - int(a / b) * b,
}


def poly_of_tokens(tokens: list[str], lookup: Callable[[str], "Poly | None"]) -> Poly | None:
    """An integer expression given as C tokens (a macro's replacement list) as a polynomial;
    ``lookup`` gives each identifier's value.  Sums, differences and products of any
    values; the other integer operators of constants only; None for anything else."""
    if not tokens:
        return None
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary() -> Poly | None:
        t = peek()
        if t is None:
            return None
        if t == "(":
            take()
            # a cast such as (int) or (size_t): skip it
            if peek() in ("int", "long", "unsigned", "size_t", "short", "char") and pos + 1 < len(tokens):
                while peek() not in (")", None):
                    take()
                take()
                return primary()
            v = binary(0)
            if peek() != ")":
                return None
            take()
            return v
        if t in ("-", "+", "~"):
            take()
            v = primary()
            if v is None:
                return None
            if t == "~":
                return Poly.const(~v.const_value) if v.is_const else None
            return -v if t == "-" else v
        take()
        if t[:1].isdigit():
            c = c_int_literal(t)
            return Poly.const(c) if c is not None else None
        if t.isidentifier():
            return lookup(t)
        return None

    def binary(level: int) -> Poly | None:
        ops = [("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%")]
        if level == len(ops):
            return primary()
        v = binary(level + 1)
        while v is not None and peek() in ops[level]:
            op = take()
            r = binary(level + 1)
            if r is None:
                return None
            if op == "+":
                v = v + r
            elif op == "-":
                v = v - r
            elif op == "*":
                v = v * r
            elif not (v.is_const and r.is_const) or op in ("/", "%") and r.const_value == 0:
                return None
            else:
                v = Poly.const(_CONST_OPS[op](v.const_value, r.const_value))
        return v

    v = binary(0)
    return v if pos == len(tokens) else None


# ---------------------------------------------------------------------------- loops

ToPoly = Callable[[Node], "Poly | None"]


@dataclass
class Loop:
    node: Node  # for_statement
    index: str = ""
    index_node: Node | None = None  # the identifier in the init
    index_declared: bool = False  # declared in the init (for (int i = ...))
    init: Poly | None = None
    bound: Poly | None = None  # the test's other side
    op: str = ""  # relational operator with the index on the left
    step: int = 0
    low: Poly | None = None  # inclusive index range (None: not affine)
    high: Poly | None = None
    problem: tuple[str, str] | None = None  # (remark id, message) when not canonical
    # a strided loop whose last index is not known (its range is no compile-time constant):
    # ``high`` (``low``) is only a bound of it, up to the step less one past the last index
    inexact: bool = False
    # For such a loop: its last index where the range is a whole number of steps and runs
    # at least once (``n - 256`` of ``i = 0; i < n; i += 256``), and that condition as C
    # (``(n) > (0) && ((n) - (0)) % 256 == 0``); the analysis uses it only where the kernel
    # tests it (model.StrideFact)
    whole_last: Poly | None = None
    whole_test: str = ""
    bound_nodes: list[Node] = field(default_factory=list)  # init value and test bound
    children: list["Loop"] = field(default_factory=list)
    parent: "Loop | None" = None
    depth: int = 0  # 0 for the nest root
    # the other operands of an ``&&`` test (``t < TILE && base + t < n``), read as an if
    # around the body (parse_loop's ``conditions``); such a loop is no OpenMP loop itself
    conditions: list[Node] = field(default_factory=list)
    # the arms of a minimum the test bounds the index by (``i < MIN(ii + B, n)``;
    # engine/minimum.py), and whether ``high`` is one of them (nest.py) rather than the
    # bound's own symbol; the analysis keeps them only where every arm is provably >= 0
    # (an unsigned minimum of a wrapped difference is the other arm, not the difference)
    min_arms: list[Poly] = field(default_factory=list)
    high_from_arm: bool = False

    @property
    def body(self) -> Node | None:
        return self.node.child_by_field_name("body")

    @property
    def alt_highs(self) -> list[Poly]:
        """Further upper bounds of the index, one per arm of its minimum but the one
        ``high`` is: ``high`` alone is a true bound, not the least one (an extreme over
        it is checked to be attained, ranges.extreme)."""
        less = Poly.const(1 if self.op == "<" else 0)
        return [a - less for a in self.min_arms if not (self.high_from_arm and a - less == self.high)]

    @property
    def bound_facts(self) -> list[Poly]:
        """Facts (each ``p >= 0``) about the bound's own symbol: ``count <= 16`` and
        ``count <= n - base`` for ``i < count`` where ``count = std::min(16, n - base)``."""
        if self.high_from_arm or self.bound is None:
            return []
        return [a - self.bound for a in self.min_arms]

    def trip_count(self) -> Poly | None:
        if self.low is None or self.high is None or self.step == 0:
            return None
        span = self.high - self.low
        if abs(self.step) == 1:
            return span + Poly.const(1)
        if span.is_const:
            return Poly.const(max(0, span.const_value // abs(self.step) + 1))
        return None

    def loops(self) -> list["Loop"]:
        out = [self]
        for c in self.children:
            out.extend(c.loops())
        return out


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "!=": "!="}


def parse_header(node: Node, data: bytes) -> Loop:
    """``parse_loop`` for code outside a nest's analysis (a region's serial loops): each
    bound is a literal or one opaque symbol, its source text (parenthesised unless a name)."""

    def text(n: Node) -> str:
        return data[n.start_byte:n.end_byte].decode("utf-8", "surrogateescape")

    def opaque(n: Node) -> Poly:
        t = text(n)
        v = c_int_literal(t)
        return Poly.const(v) if v is not None else Poly.sym(t if n.type == "identifier" else f"({t})")

    return parse_loop(node, text, opaque)


def loops_around(root: Node, data: bytes, pos: int, floor: int) -> list[tuple[Node, Loop | None]]:
    """The loops around byte ``pos`` (strictly: a loop starting at ``pos`` is not one) that
    start at or after ``floor``, innermost first, each with its header as ``parse_header``
    reads it (None for a ``while``, ``do`` or range loop)."""
    from pcx_driver.engine.hostaccess import LOOP_TYPES

    out = []
    n = root.descendant_for_byte_range(pos, pos)
    while n is not None and n.start_byte >= floor:
        if n.type in LOOP_TYPES and n.start_byte < pos < n.end_byte:
            out.append((n, parse_header(n, data) if n.type == "for_statement" else None))
        n = n.parent
    return out


def parse_loop(node: Node, text: Callable[[Node], str], to_poly: ToPoly,
               constant: Callable[[Node], int | None] | None = None, conditions: bool = False) -> Loop:
    """Read the header of one for statement (see the module contract); ``constant`` reads a
    step that is no literal (``i = i + BLOCK_SIZE``, a macro or a ``const`` variable).
    With ``conditions``, a test ``i < n && c1 && ...`` is the loop ``i < n`` with the rest
    in ``Loop.conditions``: the iterations it runs are among those where they all hold
    (an early exit runs fewer), which is what an if around the body says."""
    loop = Loop(node)
    init = node.child_by_field_name("initializer")
    cond = strip_parens(node.child_by_field_name("condition"))
    if conditions and cond is not None and cond.type == "binary_expression" and \
            text(cond.child_by_field_name("operator")) == "&&":
        parts = [x for x in operands(cond, text) if x is not None]
        if any(x.type in ("assignment_expression", "update_expression", "call_expression", "comma_expression")
               for p in parts for x in walk(p)):
            loop.problem = ("PCX110", "loop test has side effects")
            return loop
        cond, loop.conditions = parts[0], parts[1:]
    update = node.child_by_field_name("update")
    # -- init
    value: Node | None = None
    if init is not None and init.type == "declaration":
        decls = [c for c in init.named_children if c.type == "init_declarator"]
        others = [c for c in init.children_by_field_name("declarator") if c.type != "init_declarator"]
        if len(decls) == 1 and not others:
            d = decls[0].child_by_field_name("declarator")
            if d is not None and d.type == "identifier":
                loop.index_node = d
                loop.index_declared = True
                value = decls[0].child_by_field_name("value")
    elif init is not None and init.type == "assignment_expression":
        left = init.child_by_field_name("left")
        if text(init.child_by_field_name("operator")) == "=" and left is not None and left.type == "identifier":
            loop.index_node = left
            value = init.child_by_field_name("right")
    if loop.index_node is None or value is None:
        loop.problem = ("PCX110", "loop initialisation is not 'index = start'")
        return loop
    loop.index = text(loop.index_node)
    if value.type == "initializer_list" and value.named_child_count == 1:
        value = value.named_children[0]
    loop.bound_nodes.append(value)
    # -- test
    if cond is None or cond.type != "binary_expression":
        loop.problem = ("PCX110", f"loop test on '{loop.index}' is not 'index < bound' (or <=, >, >=, !=)")
        return loop
    op = text(cond.child_by_field_name("operator"))
    left = strip_parens(cond.child_by_field_name("left"))
    right = strip_parens(cond.child_by_field_name("right"))
    if op not in _FLIP:
        loop.problem = ("PCX110", f"loop test on '{loop.index}' uses '{op}'; not a canonical bound")
        return loop
    if left is not None and left.type == "identifier" and text(left) == loop.index:
        bound_node = right
    elif right is not None and right.type == "identifier" and text(right) == loop.index:
        bound_node, op = left, _FLIP[op]
    else:
        loop.problem = ("PCX110", f"loop test does not compare the index '{loop.index}' with a bound")
        return loop
    loop.op = op
    if bound_node is not None:
        loop.bound_nodes.append(bound_node)
    # -- increment
    step = _step_of(update, loop.index, text, constant)
    if step is None or step == 0:
        loop.problem = ("PCX110", f"loop increment of '{loop.index}' is not ++, --, += c, -= c or "
                                  "index = index + c, with c a compile-time integer")
        return loop
    loop.step = step
    if (step > 0 and op in (">", ">=")) or (step < 0 and op in ("<", "<=")):
        loop.problem = ("PCX110", f"loop on '{loop.index}' steps away from its bound")
        return loop
    if op == "!=" and abs(step) != 1:
        loop.problem = ("PCX110", f"loop test '{loop.index} != bound' with a step other than 1")
        return loop
    loop.init = to_poly(value)
    loop.bound = to_poly(bound_node) if bound_node is not None else None
    if loop.init is not None and loop.bound is not None:
        one = Poly.const(1)
        if step > 0:
            loop.low = loop.init
            loop.high = loop.bound if op == "<=" else loop.bound - one
        else:
            loop.high = loop.init
            loop.low = loop.bound if op == ">=" else loop.bound + one
        # with a constant range, the last index a strided loop reaches is known exactly
        if abs(step) > 1 and loop.low.is_const and loop.high.is_const:
            span = loop.high.const_value - loop.low.const_value
            if span >= 0:
                last = span // abs(step) * abs(step)
                if step > 0:
                    loop.high = Poly.const(loop.low.const_value + last)
                else:
                    loop.low = Poly.const(loop.high.const_value - last)
        elif abs(step) > 1:
            # a range of compile-time constants written as names (``kk < N; kk += B`` with
            # macros): the bound that names them, less what the stride leaves short of it
            # (``a[kk + k]`` with k < B mapped B - 1 elements past the array: a helper's
            # MachSuite check clobbered and crashed)
            first, limit = (constant(value), constant(bound_node)) if constant is not None and \
                bound_node is not None else (None, None)
            if first is not None and limit is not None:
                inclusive = limit if op in ("<=", ">=") else (limit - 1 if step > 0 else limit + 1)
                short = abs(inclusive - first) % abs(step)
                if step > 0:
                    loop.high = loop.high - Poly.const(short)
                else:
                    loop.low = loop.low + Poly.const(short)
            else:
                loop.inexact = True
                _whole_steps(loop, text(value), text(bound_node) if bound_node is not None else "")
    return loop


def _whole_steps(loop: Loop, first: str, limit: str) -> None:
    """``Loop.whole_last`` and ``whole_test`` of an inexact strided loop from the texts of
    its start and its bound: with ``s`` its step's size, ``i < n`` ends at ``n - s`` where
    ``n - start`` is a positive multiple of ``s``, ``i <= n`` at ``n`` where it is a
    non-negative one (and ``>``, ``>=`` the same way down)."""
    size = abs(loop.step)
    if loop.bound is None or not first or not limit:
        return
    up = loop.step > 0
    hi, lo = (f"({limit})", f"({first})") if up else (f"({first})", f"({limit})")
    strict = loop.op in ("<", ">")
    loop.whole_last = loop.bound - Poly.const(size) if strict and up else \
        loop.bound + Poly.const(size) if strict else loop.bound
    loop.whole_test = f"{hi} {'>' if strict else '>='} {lo} && ({hi} - {lo}) % {size} == 0"


def _step_of(update: Node | None, index: str, text: Callable[[Node], str],
             constant: Callable[[Node], int | None] | None = None) -> int | None:
    """The step of ``i++``, ``i -= 2``, ``i = i + C``, ``i = C + i``: C a literal, or what
    ``constant`` says it is (an object-like macro, a ``const`` variable)."""

    def value(n: Node | None) -> int | None:
        if n is None:
            return None
        if n.type == "number_literal":
            return c_int_literal(text(n))
        return constant(n) if constant is not None else None

    update = strip_parens(update)
    if update is None:
        return None
    if update.type == "update_expression":
        arg = update.child_by_field_name("argument")
        if arg is None or text(arg) != index:
            return None
        return 1 if "++" in text(update) else -1
    if update.type == "assignment_expression":
        left = update.child_by_field_name("left")
        if left is None or text(left) != index:
            return None
        op = text(update.child_by_field_name("operator"))
        right = strip_parens(update.child_by_field_name("right"))
        if op in ("+=", "-="):
            v = value(right)
            if v is None:
                return None
            return v if op == "+=" else -v
        if op == "=" and right is not None and right.type == "binary_expression":
            bop = text(right.child_by_field_name("operator"))
            a = strip_parens(right.child_by_field_name("left"))
            b = strip_parens(right.child_by_field_name("right"))
            if bop in ("+", "-") and a is not None and text(a) == index and b is not None:
                v = value(b)
                return None if v is None else (v if bop == "+" else -v)
            if bop == "+" and b is not None and text(b) == index and a is not None:
                return value(a)
    return None


def inner_for_statements(node: Node) -> list[Node]:
    """The outermost for statements strictly inside ``node`` (not inside lambdas)."""
    out: list[Node] = []
    stack = list(reversed(node.children))
    while stack:
        n = stack.pop()
        if n.type == "for_statement":
            out.append(n)
            continue
        if n.type in ("lambda_expression", "function_definition"):
            continue
        stack.extend(reversed(n.children))
    return out


def single_statement(body: Node | None) -> Node | None:
    """The only statement of a loop body (``{ stmt }`` or ``stmt``), else None."""
    while body is not None and body.type == "compound_statement":
        stmts = [c for c in body.named_children if c.type != "comment"]
        if len(stmts) != 1:
            return None
        body = stmts[0]
    return body


def mentions(node: Node, names: set[str], text: Callable[[Node], str]) -> bool:
    return any(n.type == "identifier" and text(n) in names for n in walk(node))
