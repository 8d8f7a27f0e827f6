"""Affine forms of a nest's expressions: polynomials over its indices and loop-invariant names.

Contract:
- ``AffineForms(model, sem)`` reads expressions of one translation unit; set ``function``
  to the function being analysed before asking about a nest of it (facts about its locals
  are read from its body); its memos live as long as it does.
- ``poly(node, nest)``: the expression as a ``Poly`` over the nest's indices and names that
  do not change inside it, or None.  Constants (``#define``, ``const``) and facts about
  single-assignment locals (``int w = cols + 2``) are recorded in ``nest.values``; a
  loop-invariant expression it cannot expand (``n / 2``, ``v.size()``, ``sizeof(T)``) becomes
  one opaque symbol; object-like macros whose body is more than one operand go in
  ``nest.wrap``, rendered as their replacement list in parentheses.
- ``min_arms(node, nest)``: the arms of a minimum that bounds a loop, or None.
- ``macro_value(name)``: the value of an object-like macro that folds to an integer, or None.
- ``macro_use_problem(mu)``: why a function-like macro use cannot be read through its
  arguments, or None; ``pure_macro(node)``: the node names a macro that can.
- ``concrete(poly, values)``: ``poly`` with every known value substituted.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine.hostaccess import assigned_and_declared
from pcx_driver.engine.loops import Poly, c_int_literal, eval_tokens, poly_of_tokens
from pcx_driver.engine.macros import (ATOM, access_macro, access_use_problem, binding_strength, constant_scalar,
                                     expand_object_macros, stands_as_written, use_problem)
from pcx_driver.engine.minimum import minimum_arguments
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.semantics import Decl, Semantics
from pcx_driver.engine.source import FunctionInfo, SourceModel, arguments_of, strip_parens, subscript_index, walk
from pcx_driver.engine.symsect import narrow_type


def _additive_in_a_sum(body: list[str], k: int, arg: Node, text) -> bool:
    """Parameter ``body[k]`` of a macro's list, given the sum or difference ``arg``, means
    the same substituted as text as in parentheses: it stands first in a sum and is
    followed by ``+``, ``-`` or the end of the sum (convolution3D's ``...+(h)*Win+w`` with
    ``w + q``: ``...+w+q``).  Left-associative ``+`` and ``-`` make ``X + A - B`` what ``X
    + (A - B)`` is; after a ``-``, or before a ``*``, they would not."""
    if arg.type != "binary_expression" or text(arg.child_by_field_name("operator")) not in ("+", "-"):
        return False
    before = body[k - 1] if k > 0 else "("
    after = body[k + 1] if k + 1 < len(body) else ")"
    return before in ("(", ",", "+") and after in (")", ",", "+", "-")


class AffineForms:
    """Polynomials and invariance of one unit's expressions (see the module docstring)."""

    def __init__(self, model: SourceModel, sem: Semantics):
        self.model = model
        self.sem = sem
        self.function: FunctionInfo | None = None  # the function whose nests are asked about
        self._sa_cache: dict[str, Node | None] = {}  # decl key -> single-assignment init
        self._stored_cache: dict[str, bool] = {}  # decl key -> assigned or address taken

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def poly(self, n: Node | None, nest: Nest) -> Poly | None:
        if n is not None and (n.start_byte, n.end_byte) in self.sem.changing_conversions:
            # ``int i = n - 8`` with a long n: the int that ``n - 8`` converts to
            return self._converted(n, n, self.sem.changing_conversions[(n.start_byte, n.end_byte)], nest)
        return self._unconverted(n, nest)

    def _unconverted(self, n: Node | None, nest: Nest) -> Poly | None:
        """``poly`` of ``n`` before any implicit conversion of its value."""
        n = strip_parens(n)
        if n is None:
            return None
        ty = n.type
        if ty == "number_literal":
            v = c_int_literal(self._t(n))
            return Poly.const(v) if v is not None else None
        if ty == "char_literal":
            return None
        if ty == "identifier":
            return self._ident_poly(n, nest)
        if ty == "unary_expression":
            op = self._t(n.child_by_field_name("operator"))
            a = self.poly(n.child_by_field_name("argument"), nest)
            if a is None:
                return None
            if op == "-":
                return -a
            if op == "+":
                return a
            return self._opaque(n, nest)
        if ty == "binary_expression":
            op = self._t(n.child_by_field_name("operator"))
            a = self.poly(n.child_by_field_name("left"), nest)
            b = self.poly(n.child_by_field_name("right"), nest)
            if a is None or b is None:
                return None
            if op in ("+", "-", "*", "<<") and (n.start_byte, n.end_byte) in self.sem.unsigned_ops:
                # 32-bit unsigned arithmetic wraps around 2**32 (a held-out check: ``b[i + h +
                # h]`` with h = 2**31 is ``b[i]``, mapped from 2**32 on, a crash): with no loop
                # index, one value, written as C computes it; with one, no offset that holds
                # no index (``i + off`` for an ``off`` of ``-1u`` is ``i - 1``).  Strides
                # (``y * width + x``) are taken not to wrap: that needs 2**32 elements.
                indices = (a.symbols() | b.symbols()) & set(nest.index_keys)
                if not indices:
                    return self._opaque(n, nest)
                whole = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                         "<<": lambda: a.scale(1 << b.const_value) if b.is_const and 0 <= b.const_value < 31
                         else None}[op]()
                if whole is None or any(mono and not set(mono) & indices for mono in whole.terms):
                    return None
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if a.is_const and b.is_const:
                x, y = a.const_value, b.const_value
                try:
                    return Poly.const({"/": lambda: int(x / y), "%": lambda: x - int(x / y) * y,
                                       "<<": lambda: x << y, ">>": lambda: x >> y}[op]())
                except (KeyError, ZeroDivisionError, ValueError):
                    return None
            if op == "<<" and b.is_const and 0 <= b.const_value < 31:
                return a.scale(1 << b.const_value)
            return self._opaque(n, nest)
        if ty == "cast_expression":
            tn = n.child_by_field_name("type")
            if tn is not None and any(w in self._t(tn) for w in ("float", "double")):
                return None
            if n.start_byte in self.sem.narrow_casts or tn is not None and narrow_type(self._t(tn)):
                return self._opaque(n, nest)  # wraps around: the same value for many indices
            target = self.sem.changing_casts.get(n.start_byte)
            if target is None:
                return self.poly(n.child_by_field_name("value"), nest)
            return self._converted(n, n.child_by_field_name("value"), target, nest)
        if ty == "call_expression":
            fname = self._t(n.child_by_field_name("function"))
            args = n.child_by_field_name("arguments")
            if fname.startswith("static_cast<") and narrow_type(fname):
                return self._opaque(n, nest)
            if fname.startswith("static_cast<") and len(arguments_of(args)) == 1 \
                    and not any(w in fname for w in ("float", "double")):
                return self.poly(arguments_of(args)[0], nest)
            # (names its list reads that the nest assigns read as no polynomial: _decl_poly)
            if self.pure_macro(n.child_by_field_name("function"), unwritten=True):
                body = self.sem.macro_defs.get(fname, (False, []))[1]
                if not stands_as_written(n, expand_object_macros(body, self.sem)):
                    return None  # ``2 * IDX(i, j)`` of ``(i)*N+(j)`` is ``2*i*N + j``
                expanded = self._macro_poly(fname, arguments_of(args), nest, use_start=n.start_byte)
                if expanded is not None:
                    return expanded
        if ty in ("call_expression", "sizeof_expression", "field_expression", "conditional_expression",
                  "qualified_identifier"):
            return self._opaque(n, nest)
        if ty == "subscript_expression":
            return self._element(n, nest)
        return None

    def _converted(self, n: Node, value: Node | None, target: str, nest: Nest) -> Poly | None:
        """Expression ``n``: ``value`` converted to integer type ``target`` by a conversion
        that may change it (``(int) len`` of an unsigned ``(unsigned)-1`` is -1; ``int i =
        n - 8`` of a long ``n``): one value, written as that conversion, where the
        polynomial of ``value`` would not keep it."""
        inner = self._unconverted(value, nest)
        if inner is None:
            return None
        if inner.is_const:
            return inner if 0 <= inner.const_value < 1 << 31 else None
        if inner.terms == {tuple(inner.symbols()): 1} and len(inner.symbols()) == 1:
            (name,) = inner.symbols()
            return Poly.sym(f"(({target}){nest.rendered(name)})")
        whole = self._opaque(value, nest)
        if whole is None:
            return None
        (text,) = whole.symbols()
        return Poly.sym(f"(({target}){text if text.startswith('(') else '(' + text + ')'})")

    def access_macro_poly(self, a, nest: Nest) -> Poly | None:
        """The subscript of an access through an access macro (``ArrayRef.index_macro``):
        its tokens read as ``_macro_poly`` reads a subscript macro's expansion."""
        name, inner = a.index_macro
        call = a.subs[0]
        return self._macro_poly(name, arguments_of(call.child_by_field_name("arguments")), nest, inner,
                                use_start=call.start_byte)

    def _macro_poly(self, name: str, args: list[Node], nest: Nest, body: list[str] | None = None,
                    use_start: int | None = None) -> Poly | None:
        """``IDX(i, j)`` of ``#define IDX(i, j) ((i) + (j) * N)``, expanded: the replacement
        list read as a polynomial with each parameter standing for its argument's.  That is
        the preprocessor's textual substitution only where the argument cannot bind to a
        neighbouring operator: the parameter is parenthesised in the list, or the argument
        is a primary expression (a name, a literal, a parenthesised expression)."""
        params = self.sem.macro_params.get(name, [])
        body = self.sem.macro_defs.get(name, (False, []))[1] if body is None else body
        if len(params) != len(args):
            return None
        arg_of = dict(zip(params, args))
        for k, tok in enumerate(body):
            if tok in arg_of and not (0 < k < len(body) - 1 and body[k - 1] == "(" and body[k + 1] == ")") \
                    and strip_parens(arg_of[tok]) is arg_of[tok] \
                    and arg_of[tok].type not in ("identifier", "number_literal", "parenthesized_expression") \
                    and not _additive_in_a_sum(body, k, arg_of[tok], self._t):
                return None
        body = expand_object_macros(body, self.sem, frozenset(params))

        named = self.sem.expansion_refs.get(use_start, {}) if use_start is not None else {}

        def value(tok: str) -> Poly | None:
            if tok in arg_of:
                return self.poly(arg_of[tok], nest)
            d = named.get(tok)
            if constant_scalar(d) or d is not None and d.shape == "scalar" and d.integral and not d.reference \
                    and not d.volatile and d.kind in ("param", "local", "global", "static-local"):
                # ``cols`` of ``(i)*cols+(j)``, ``n`` of ParRes Kernels' ``in[i+(j)*n]``: a
                # name read where the macro is used, unless the nest writes it
                return self._decl_poly(tok, d, nest)
            v = self.macro_value(tok)
            if v is None or self.sem.macro_defs.get(tok, (True, []))[0]:
                return None
            nest.values[tok] = v
            return Poly.sym(tok)

        return poly_of_tokens(body, value)

    def _element(self, n: Node, nest: Nest) -> Poly | None:
        """``g[0]``, an element of an integer array at constant subscripts, as one symbol,
        when nothing in the nest can change it: NPB's ``i < grid_points[0]-1``.  The array
        is a declared one (no pointer may be it), not volatile, and the nest writes neither it
        nor any integer memory through a pointer (which might point into it); or ``p[0]`` of
        a pointer to integers, when the nest writes no integer memory at all."""
        subs = []
        base = n
        while base is not None and base.type == "subscript_expression":
            k = self.poly(subscript_index(base), nest)
            if k is None or not k.is_const:
                return None
            subs.append(k.const_value)
            base = strip_parens(base.child_by_field_name("argument"))
        d = self.sem.decl_of(base.start_byte) if base is not None and base.type == "identifier" else None
        pointer = d is not None and d.shape == "pointer" and d.dims == [None] and d.type_spelling.count("*") == 1
        if d is None or (d.shape != "array" and not pointer) or not d.integral or d.volatile \
                or len(subs) != len(d.dims) or d.reference:
            return None
        for k, dim in zip(reversed(subs), d.dims):
            extent = c_int_literal(dim) if dim is not None else None
            if k < 0 or (extent is not None and k >= extent):
                return None
        for a in nest.facts.arrays:
            # (a pointer, HeCBench winograd's ``size_t *cpu_global_size``, may point into any
            # integer memory: no integer write at all)
            integral = a.decl is not None and (a.decl.integral or a.decl.element_type in ("char", "unsigned char",
                                                                                          "signed char"))
            if a.write and (a.decl is None or a.decl.key == d.key or integral and (pointer or a.decl.shape != "array")):
                return None
        return Poly.sym(" ".join(self._t(n).split()))

    def _ident_poly(self, n: Node, nest: Nest) -> Poly | None:
        name = self._t(n)
        d = self.sem.decl_of(n.start_byte)
        if d is None:
            mu = self.sem.macro_at(n.start_byte)
            member = self.sem.member_of(n.start_byte) if mu is None else None
            if member is not None and member[0].kind == "field" and member[0].shape == "scalar" \
                    and member[0].integral and not member[0].volatile and not nest.facts.bindings:
                # ``i < len`` in a member function: ``this->len``, which the nest only reads
                # (a write is a hazard, PCX137), spelled as at the loop
                return Poly.sym(name)
            if mu is None or mu.function_like or name in self.sem.unstable_macros:
                return None  # (a macro defined twice: which list this use expands is not known)
            tokens = expand_object_macros(mu.body, self.sem, frozenset([name]))
            if not stands_as_written(n, tokens):
                return None  # ``i*W`` of ``#define W N+8`` is ``i*N + 8``
            # the variables its expansion reads must be what a bound may read when spelled
            # out: ``#define LEN_ len`` of a ``double len`` is no integer bound (a held-out
            # check: ``i < LEN_`` was mapped as ``a[0:(long)LEN_]``, one element short)
            for tok, d in self.sem.expansion_refs.get(n.start_byte, {}).items():
                if tok in tokens and (d is None or d.kind != "enum" and self._decl_poly(tok, d, nest) is None):
                    return None
            v = self.macro_value(name)
            if v is not None:
                nest.values[name] = v
            if binding_strength(tokens) < ATOM:
                nest.wrap[name] = "(" + " ".join(tokens) + ")"
            return Poly.sym(name)
        return self._decl_poly(name, d, nest)

    def _decl_poly(self, name: str, d: Decl, nest: Nest) -> Poly | None:
        """The polynomial of variable ``d``, read by its name ``name`` in the nest."""
        if d.key in nest.facts.bindings:  # a parameter of a helper walked as if inlined
            return self.poly(nest.facts.bindings[d.key], nest)
        if d.key in nest.facts.ambiguous:  # bound by several calls, read outside any of them
            return None
        if d.key in nest.index_key_set:
            return Poly.sym(name)
        if d.key in nest.local_polys:
            return nest.local_polys[d.key]
        if d.kind == "enum":
            v = self._const_value(d)
            if v is not None:
                nest.values[name] = v
            return Poly.sym(name)
        if d.shape != "scalar" or not (d.integral or d.dependent) or d.key in nest.written:
            return None
        if d.key in nest.facts.local_keys:
            return None
        v = self._const_value(d)
        if v is not None:
            nest.values[name] = v
        elif name not in nest.values:
            init = self._single_assignment_init(d)
            if init is not None:
                nest.values[name] = None  # guards against a cycle while the init is read
                fact = self.poly(init, nest)
                if fact is None or name in fact.symbols():
                    del nest.values[name]
                else:
                    nest.values[name] = fact.const_value if fact.is_const else fact
        return Poly.sym(name)

    def _single_assignment_init(self, d: Decl) -> Node | None:
        """The initializer of a local integer that is never changed after its declaration,
        when every name in it keeps its value too (a fact drawn from it stays true)."""
        init = self._declared_once(d)
        return init if init is not None and self._unchanging_names(init) else None

    def _declared_once(self, d: Decl) -> Node | None:
        """The initializer of a local that nothing assigns after its declaration."""
        cache = self._sa_cache
        if d.key in cache:
            return cache[d.key]
        result = None
        fi = self.function
        if d.kind == "local" and d.decl_offset is not None and fi is not None \
                and fi.node.start_byte <= d.decl_offset < fi.node.end_byte:
            init = None
            ok = True
            for x in walk(fi.node):
                if x.type != "identifier":
                    continue
                if x.start_byte == d.decl_offset:
                    p = x.parent
                    if p is not None and p.type == "init_declarator":
                        init = p.child_by_field_name("value")
                    continue
                xd = self.sem.decl_of(x.start_byte)
                if xd is None or xd.key != d.key:
                    continue
                p = x.parent
                while p is not None and p.type == "parenthesized_expression":
                    p = p.parent
                if p is None:
                    continue
                if p.type == "update_expression" or (p.type == "pointer_expression" and self._t(p)[:1] == "&") or (
                        p.type == "assignment_expression" and p.child_by_field_name("left") is not None
                        and p.child_by_field_name("left").start_byte <= x.start_byte
                        < p.child_by_field_name("left").end_byte):
                    ok = False
                    break
            if ok and init is not None and init.type != "initializer_list":
                result = init
        cache[d.key] = result
        return result

    def min_arms(self, n: Node | None, nest: Nest) -> list[Poly] | None:
        """The arms of a minimum that bounds a loop, each a polynomial: ``MIN(ii + B, n)``
        itself, or a local set once to one and never changed, in the nest's body
        (``Nest.local_mins``) or before it (``cnt = std::min(B, n - base)``); None
        otherwise (engine/minimum.py says what computes a minimum)."""
        n = strip_parens(n)
        if n is not None and n.type == "identifier":
            d = self.sem.decl_of(n.start_byte)
            if d is None:
                return None
            if d.key in nest.local_mins:
                return nest.local_mins[d.key]
            if d.key in nest.written or d.key in nest.facts.local_keys or d.shape != "scalar" or not d.integral:
                return None
            init = strip_parens(self._declared_once(d))
            args = minimum_arguments(init, self.model, self.sem)
            if args is None or not all(self._unchanging_names(a) or self._unchanged_until(a, init, nest)
                                       for a in args):
                return None
        elif n is not None and n.type == "binary_expression" and n.child_by_field_name("operator").type in "+-":
            # ``k < MIN(i, j) + 1``: a minimum shifted by an amount is the minimum of the
            # shifted arms (``amount - MIN(...)`` is a maximum: not one)
            op = n.child_by_field_name("operator").type
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            inner = self.min_arms(left, nest) if strip_parens(left) is not None and \
                strip_parens(left).type == "call_expression" else None
            if inner is None and op == "+" and strip_parens(right) is not None and strip_parens(right).type == "call_expression":
                inner, left, right = self.min_arms(right, nest), right, left
            amount = self.poly(right, nest) if inner is not None else None
            if amount is None:
                return None
            return [a + amount if op == "+" else a - amount for a in inner]
        else:
            args = minimum_arguments(n, self.model, self.sem)
        if args is None:
            return None
        arms = [self.poly(a, nest) for a in args]
        return None if any(a is None for a in arms) else arms

    def _unchanged_until(self, expr: Node, init: Node, nest: Nest) -> bool:
        """The names ``expr`` reads keep, through ``nest``, the values they had at the
        declaration holding ``init``: that declaration is a statement of the block holding
        the nest, and neither the statements between them nor the nest change those names
        (``cnt = imin(B, n - ii)`` just before the loop over ``i < cnt``, in ``ii``'s body)."""
        stmt = init.parent
        while stmt is not None and stmt.type != "declaration":
            stmt = stmt.parent
        root = nest.root.node
        if stmt is None or stmt.parent is None or root.parent is None or stmt.parent.id != root.parent.id:
            return False
        names = {self._t(x) for x in walk(expr) if x.type == "identifier"}
        if any(x.type == "call_expression" for x in walk(expr)):
            return False
        for x in walk(expr):
            d = self.sem.decl_of(x.start_byte) if x.type == "identifier" else None
            if d is not None and d.key in nest.written:
                return False
        between = (stmt.end_byte, root.start_byte)
        if any(x.type == "call_expression" and between[0] <= x.start_byte < between[1] for x in walk(stmt.parent)):
            return False  # a call may change a global the bound reads
        return not names & assigned_and_declared(stmt.parent, self.model.data, *between, declarations=False)

    def upper_bound(self, d: Decl) -> int | None:
        """A compile-time bound on a local integer that is never changed after its
        declaration as ``min(C, e)`` (``std::min<size_t>(TILE_WIDTH, N - base)``, ``MIN``):
        the value is at most ``C`` whatever ``e`` is.  None otherwise."""
        return self._value_bound(strip_parens(self._declared_once(d)))

    def _value_bound(self, init: Node | None) -> int | None:
        """A compile-time bound on the value of ``init``: a constant, ``min(C, e)``,
        ``e % C`` (at most C - 1, whatever the sign of e), ``e & C`` (at most C, C >= 0),
        and sums of those (``i % 16 + 1`` is at most 16).  None otherwise."""
        if init is None:
            return None
        if init.type == "binary_expression":
            op = self._t(init.child_by_field_name("operator"))
            left, right = strip_parens(init.child_by_field_name("left")), strip_parens(init.child_by_field_name("right"))
            c = self.int_constant(right) if right is not None else None
            if op == "%" and c is not None and c > 0:
                return c - 1
            if op == "&":
                cs = [v for v in (c, self.int_constant(left) if left is not None else None) if v is not None and v >= 0]
                return min(cs) if cs else None
            if op == "+":
                a, b = self._value_bound(left), self._value_bound(right)
                return a + b if a is not None and b is not None else None
            return None
        if init.type != "call_expression":
            return self.int_constant(init)
        fn = init.child_by_field_name("function")
        name = "".join(self._t(fn).split()).split("<")[0] if fn is not None else ""
        if name not in ("min", "std::min", "MIN", "imin", "umin"):
            return None
        args = init.child_by_field_name("arguments")
        consts = [self.int_constant(a) for a in (args.named_children if args is not None else [])
                  if a.type != "comment"]
        consts = [c for c in consts if c is not None and c >= 0]
        return min(consts) if consts else None

    def _unchanging_names(self, init: Node) -> bool:
        """Every name in ``init`` keeps its value for the whole function (params never assigned,
        single-assignment locals, constants, macros), so a fact drawn from it stays true."""
        for x in walk(init):
            if x.type == "call_expression":
                return False
            if x.type != "identifier":
                continue
            d = self.sem.decl_of(x.start_byte)
            if d is None:
                if self.sem.macro_at(x.start_byte) is None:
                    return False
                continue
            if d.kind == "enum" or (d.const and d.init_tokens is not None):
                continue
            if d.kind == "param":
                if self._is_stored(d):
                    return False
                continue
            if self._single_assignment_init(d) is None:
                return False
        return True

    def _is_stored(self, d: Decl) -> bool:
        cache = self._stored_cache
        if d.key not in cache:
            cache[d.key] = self._is_stored_uncached(d)
        return cache[d.key]

    def _is_stored_uncached(self, d: Decl) -> bool:
        fi = self.function
        if fi is None:
            return True
        for x in walk(fi.node):
            if x.type != "identifier" or x.start_byte == d.decl_offset:
                continue
            xd = self.sem.decl_of(x.start_byte)
            if xd is None or xd.key != d.key:
                continue
            p = x.parent
            while p is not None and p.type == "parenthesized_expression":
                p = p.parent
            if p is None:
                continue
            left = p.child_by_field_name("left") if p.type == "assignment_expression" else None
            if p.type == "update_expression" or (p.type == "pointer_expression" and self._t(p)[:1] == "&") or (
                    left is not None and left.start_byte <= x.start_byte < left.end_byte):
                return True
        return False

    def _opaque(self, n: Node, nest: Nest) -> Poly | None:
        """A loop-invariant expression we cannot expand (n/2, v.size(), sizeof(T)) as one symbol.
        Not one in an inlined helper that names its parameters: the symbol's text would
        name them where the caller's clauses cannot."""
        if not self._invariant(n, nest):
            return None
        if (nest.facts.bindings or nest.facts.ambiguous) and any(
                x.type == "identifier" and (d := self.sem.decl_of(x.start_byte)) is not None
                and (d.key in nest.facts.bindings or d.key in nest.facts.ambiguous) for x in walk(n)):
            return None
        text = " ".join(self._t(n).split())
        if n.type not in ("identifier", "call_expression", "field_expression", "sizeof_expression",
                          "qualified_identifier"):
            text = f"({text})"
        return Poly.sym(text)

    def _invariant(self, n: Node, nest: Nest) -> bool:
        sized = {y.id for z in walk(n) if z.type == "sizeof_expression" for y in walk(z) if y.id != z.id}
        for x in walk(n):
            if x.id in sized:
                continue  # ``sizeof(dims) / sizeof(int)``: sizeof reads no value of its operand
            if x.type in ("assignment_expression", "update_expression"):
                return False
            if x.type == "call_expression":
                f = x.child_by_field_name("function")
                if self.pure_macro(f):
                    continue
                if not (f is not None and f.type == "field_expression"
                        and self._t(f.child_by_field_name("field")) == "size"):
                    return False
                obj = strip_parens(f.child_by_field_name("argument"))
                od = self.sem.decl_of(obj.start_byte) if obj is not None and obj.type == "identifier" else None
                if od is None or od.shape != "container":
                    return False
            if x.type == "identifier":
                d = self.sem.decl_of(x.start_byte)
                if d is None:
                    mu = self.sem.macro_at(x.start_byte)
                    if self.pure_macro(x):
                        continue
                    if mu is None or mu.function_like:
                        p = x.parent
                        if p is not None and p.type in ("sizeof_expression", "type_descriptor"):
                            continue
                        return False
                    continue
                if d.key in nest.written or d.key in nest.index_key_set or d.key in nest.facts.local_keys:
                    return False
                if d.shape in ("pointer", "array") and x.parent is not None and x.parent.type != "field_expression":
                    return False
            if x.type == "this":
                # ``this->len``: a scalar member, which a nest only reads (a write is PCX137)
                p = x.parent
                field = p.child_by_field_name("field") if p is not None and p.type == "field_expression" else None
                member = self.sem.member_of(field.start_byte) if field is not None else None
                if member is None or member[0].shape != "scalar" or member[0].kind != "field" or member[0].volatile:
                    return False
        return True

    def macro_use_problem(self, mu, access: bool = False, unwritten: bool = False) -> str | None:
        """Why the function-like macro use ``mu`` cannot be read through its arguments, or
        None.  ``access``: a use of an access macro (``macros.access_macro``, an element of
        the array it is given) counts too, as the walk records it as that element.
        ``unwritten``: the nest around it assigns none of the names its list reads
        (``macros.use_problem``)."""
        ident = self.model.root.descendant_for_byte_range(mu.start, mu.start + len(mu.name.encode()))
        call = ident.parent if ident is not None and ident.type == "identifier" else None
        if call is None or call.type != "call_expression" or call.child_by_field_name("function") != ident:
            return f"macro '{mu.name}' is not used as an expression"
        decl_of = lambda x: self.sem.decl_of(x.start_byte)  # noqa: E731
        found = access_macro(mu.name, self.sem) if access else None
        if found is not None:
            return access_use_problem(mu.name, call.child_by_field_name("arguments"), found[0], self.sem, decl_of)
        return use_problem(mu.name, call.child_by_field_name("arguments"), self.sem, decl_of, unwritten)

    def pure_macro(self, f: Node | None, unwritten: bool = False) -> bool:
        """``f`` names a function-like macro that expands to an expression over its arguments
        (and, with ``unwritten``, scalars the nest does not assign: ``macro_use_problem``)."""
        if f is None or f.type != "identifier":
            return False
        mu = self.sem.macro_at(f.start_byte)
        return mu is not None and mu.function_like and self.macro_use_problem(mu, unwritten=unwritten) is None

    def int_constant(self, n: Node | None) -> int | None:
        """The value of a compile-time integer: a literal, an object-like macro, or a
        ``const`` variable with a constant initialiser (a loop's ``i = i + BLOCK_SIZE``)."""
        n = strip_parens(n)
        if n is None:
            return None
        if n.type == "number_literal":
            return c_int_literal(self._t(n))
        if n.type != "identifier":
            return None
        d = self.sem.decl_of(n.start_byte)
        if d is None:
            mu = self.sem.macro_at(n.start_byte)
            return None if mu is None or mu.function_like else self.macro_value(self._t(n))
        return self._const_value(d)

    def macro_value(self, name: str, depth: int = 0) -> int | None:
        entry = self.sem.macro_defs.get(name)
        if entry is None or entry[0] or name in self.sem.unstable_macros:
            return None
        # (expanded as the preprocessor does: a list ``N+8`` inside another is no unit)
        return eval_tokens(expand_object_macros(entry[1], self.sem, frozenset([name])), lambda s: None)

    def _const_value(self, d: Decl, depth: int = 0) -> int | None:
        """A constant's value from its initialiser's tokens: macros, and other constants by
        name where exactly one global constant has it (``TILE_WIDTH = THREADS``, each a
        ``constexpr`` in a header namespace; ``ns::gpu::N`` is read as ``N``)."""
        if not d.const or d.init_tokens is None or depth > 8:
            return None
        tokens = expand_object_macros(list(d.init_tokens), self.sem)
        while "::" in tokens:  # a qualified name: its last part
            i = tokens.index("::")
            del tokens[max(i - 1, 0):i + 1]

        def name_value(s: str) -> int | None:
            v = self.macro_value(s)
            if v is not None:
                return v
            found = {x for x in (self._const_value(g, depth + 1) for g in self.sem.const_globals_named(s))}
            return found.pop() if len(found) == 1 and None not in found else None

        return eval_tokens(tokens, name_value)


def concrete(p: Poly, values: dict) -> Poly:
    """``p`` with every symbol of known value replaced, facts (Polys) included."""
    for _ in range(4):
        syms = p.symbols() & values.keys()
        if not syms:
            break
        for s in syms:
            v = values[s]
            p = p.substitute(s, Poly.const(v) if isinstance(v, int) else v)
    return p
