"""May two array references point into one array, and where does a pointer come from.

Contract:
- ``AliasOracle(model, sem)`` answers for one translation unit (its tree-sitter model and
  libclang semantics); its memos live as long as it does.
- ``origin(decl, fn)``: where a base points: ("object", key) for distinct storage (a local
  or global array or container, or a local pointer only ever assigned fresh allocations,
  swaps included), ("param", i), or ("unknown", name).
- ``may_alias(a, b, fn, fi)``: False only when the two references provably never share
  memory: one is restrict, both are distinct objects, a local object against a
  parameter, or two parameters (or a parameter and an object) distinct at every call
  site in the unit of a function that only this unit can call (``static``, its address
  never taken).  Everything else may alias.
- ``check_nest(groups, fi, reasons, versioned)``: a nest's pairs that may alias are
  refused (PCX104) or, where the host can compute both address ranges, put in
  ``versioned`` for a run-time check.
- ``cross_nest_pairs(fi, nest_groups)``: the pairs of different offloaded nests of one
  function that may be one array (``FunctionAnalysis.alias_pairs``).
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import NULL_POINTERS, posix_memalign_of
from pcx_driver.engine.semantics import ALLOCATION_FUNCTIONS, ARITH_TYPES, ARITH_WORDS, Decl, Semantics, unqualified
from pcx_driver.engine.source import (FunctionInfo, SourceModel, arguments_of, declarator_identifier, strip_parens,
                                      uncast, walk)
from pcx_driver.model import Language

#: calls whose result is fresh storage no other pointer holds
ALLOCATORS = ALLOCATION_FUNCTIONS | {"std::malloc", "std::calloc"}


def callers_all_seen(model: SourceModel, fi: FunctionInfo) -> bool:
    """Every call of ``fi`` is a direct call in this unit: no other file can call it (it
    has internal linkage, ``static`` or in an unnamed namespace, or the build links this
    one source alone, ``SourceUnit.whole_program``), and its name is used only as a
    callee, so no pointer to it escapes to a caller we cannot see.  Never a method (a
    ``static`` one has external linkage, and a virtual one is called through its base)."""
    if fi.is_member:
        return False  # a method: virtual calls and calls through objects are not spelled as its name
    node = fi.node
    static = model.unit.whole_program or any(
        c.type == "storage_class_specifier" and model.text(c) == "static" for c in node.children)
    p = node.parent
    while p is not None and not static:
        if p.type == "namespace_definition" and p.child_by_field_name("name") is None:
            static = True
        p = p.parent
    if not static:
        return False
    name = fi.name.split("::")[-1]
    decl = fi.node.child_by_field_name("declarator")
    own = declarator_identifier(decl) if decl is not None else None
    for x in walk(model.root):
        if x.type != "identifier" or model.text(x) != name or (own is not None and x.start_byte == own.start_byte):
            continue
        parent = x.parent
        if parent is not None and parent.type == "function_declarator":
            continue  # a prototype
        if parent is not None and parent.type == "template_function":  # f<T>(...)
            x, parent = parent, parent.parent
        if parent is None or parent.type != "call_expression" or parent.child_by_field_name("function") != x:
            return False  # its address is taken, or the name means something else here
    return True


#: containers that own their elements: two objects of these never share a buffer
OWNING_CONTAINERS = ("std::vector", "std::array")


def _owning(x: ArrayRef) -> bool:
    return x.decl is not None and x.decl.shape == "container" and x.decl.container in OWNING_CONTAINERS \
        and not x.decl.reference


def _dense(refs: list[ArrayRef], indices: set[str]) -> bool:
    """Every access of ``refs`` steps by one element in each loop index it uses, so the hull
    of what it touches is what it touches."""
    for r in refs:
        for p in r.polys or [None]:
            if p is None:
                return False
            for name in p.symbols() & indices:
                c = p.coeff_of(name)
                if not (c.is_const and abs(c.const_value) == 1) or p.degree_in([name]) != 1:
                    return False
    return True


def _owning_containers_apart(a: ArrayRef, b: ArrayRef) -> bool:
    """Two owning containers (``std::vector``, ``std::array``, held by value, not through a
    reference) that are provably different objects own different buffers: a variable of
    its own (``w``) against any member (``g.u``), two different members of one object
    (``d.m_x``, ``d.m_y``: the same root name and declaration; LULESH's Domain), members of
    two variables held by value, two variables.  ``p->v`` and ``q->v``, or ``r.v`` and
    ``s.v`` through references, may be one object; so may a union's members, a static
    data member named through two objects (``a.v``, ``b.v``), and a structured binding
    (``auto &[x, y] = g;``: x is g.u) against anything: a held-out check found each
    read as two buffers (wrong outputs and crashes)."""
    if a.base == b.base or not (_owning(a) and _owning(b)):
        return False
    if not all(x.decl.kind in (("field",) if x.member else ("local", "global", "static-local", "param"))
               for x in (a, b)):
        return False
    if not a.member and not b.member:
        return a.decl.key != b.decl.key
    if a.member != b.member:
        return True  # a complete object is never a member subobject
    if a.root_decl is None or b.root_decl is None:
        return False
    if a.root == b.root and a.root_decl.key == b.root_decl.key:
        return True
    return a.root_decl.key != b.root_decl.key and all(
        x.root_decl.shape == "record" and not x.root_decl.reference and
        x.root_decl.kind in ("local", "global", "static-local") for x in (a, b))


def addressable(refs: list[ArrayRef]) -> bool:
    """Whether the memory these references touch is one contiguous range whose ends the
    host can compute from the base pointer alone: a variable (not a member) that is an
    array or a pointer to arithmetic elements, subscripted as often as it has dimensions
    (``double **`` rows would need loads; a run-time alias check cannot see them)."""
    for a in refs:
        d = a.decl
        if a.accessor_args is not None and d is not None and len(a.subs) == 1 and (
                d.shape == "container" and d.container == "std::vector" or d.shape == "pointer") \
                and (unqualified(d.element_type) in ARITH_TYPES or d.dependent):
            # ``domain.dxx(k)``, an element accessor: its elements lie from ``&domain.dxx(0)``,
            # the local pointer the rewrite takes before the loop (dataplan._containers)
            continue
        if d is not None and d.shape == "container" and d.container == "std::vector" and not a.member \
                and not a.via_data and not a.fields and a.base == a.root and len(a.subs) == 1 \
                and d.element_type.strip() != "bool":
            # ``std::vector<double> &x``: ``&x[k]`` is an address the host computes as well
            # (two references to vectors may name one vector: a run-time check, as for pointers)
            if unqualified(d.element_type) in ARITH_TYPES or d.dependent:
                continue
            return False
        if a.member and not _one_member_of_a_variable(a):
            return False
        if d is None or a.via_data or a.fields or (a.base != a.root and not a.member) or d.reference \
                or d.shape not in ("pointer", "array") or len(a.subs) != len(d.dims) or not d.dims:
            return False
        element = " ".join(w for w in d.element_type.split() if w not in ("const", "volatile", "restrict"))
        if element not in ARITH_TYPES and not d.dependent:
            # (a template's ``Type *data``: whatever Type is, ``data[k]`` is the k-th element
            # of one contiguous array, which is all the range test needs)
            return False
    return True


def _one_member_of_a_variable(a: ArrayRef) -> bool:
    """``s->a`` or ``s.a``: one member of a variable of the function (or ``this->a`` of a
    member function's object; no chain, no subscript before it), whose address the host
    computes with the load the serial loop makes too (the nest stores to no member:
    ``MemberValue``)."""
    if a.decl is None:
        return False
    if a.root == "this":  # (a member function's own object)
        return a.base == f"this->{a.decl.name}"
    r = a.root_decl
    return r is not None and r.kind in ("local", "param") and a.base in (f"{a.root}->{a.decl.name}",
                                                                         f"{a.root}.{a.decl.name}")


#: where an element of an arithmetic array stands as a value or a store's target only, in
#: C and C++ (built-in operators: the element is arithmetic); ``_unreachable_local_array``
_VALUE_ONLY = frozenset({"assignment_expression", "binary_expression", "unary_expression", "update_expression",
                         "expression_statement", "condition_clause"})
#: C library functions that take their arguments by value and keep nothing
LIBM_BY_VALUE = frozenset("sqrt sqrtf fabs fabsf exp expf log logf log10 sin sinf cos cosf tan tanf pow powf "
                          "floor floorf ceil ceilf fmin fminf fmax fmaxf abs labs atan atan2 tanh".split())


class AliasOracle:
    """The unit's answers to "may these two references share memory?" (see the module
    docstring)."""

    def __init__(self, model: SourceModel, sem: Semantics):
        self.model = model
        self.sem = sem
        self._alloc_memo: dict[str, bool] = {}  # decl key -> allocated_only
        self._closed_memo: dict[int, bool] = {}  # function start byte -> every caller is in the unit
        self._based: dict[tuple[str, str], bool] = {}  # (pointer, restrict pointer) -> based on it
        self._unreachable: dict[str, bool] = {}  # decl key -> _unreachable_local_array (asked per pair)
        # function start byte -> pointer parameters its call sites prove distinct, from each
        # other or from a global the function uses (for the plan checker:
        # FunctionAnalysis.distinct_params)
        self.distinct_params: dict[int, set[tuple[str, str]]] = {}

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def origin(self, d: Decl | None, fn_node: Node) -> tuple[str, str]:
        """Where a base points: ("object", key) for distinct storage, ("param", i), ("unknown", name)."""
        if d is None:
            return ("unknown", "?")
        if d.shape == "array" and d.kind in ("local", "global", "static-local"):
            return ("object", d.key)
        if d.shape in ("container", "record") and not d.reference and d.kind in ("local", "global", "static-local"):
            return ("object", d.key)
        if d.kind == "param":
            idx = self._param_index(fn_node, d)
            return ("param", str(idx)) if idx is not None else ("unknown", d.name)
        if d.kind == "local" and d.shape == "pointer" and self._allocated_only(d, fn_node):
            return ("object", d.key)
        if d.kind == "local" and d.shape == "pointer":
            src = self._derived_from(d, fn_node)
            if src is not None:
                return self.origin(src, fn_node)
        return ("unknown", d.name)

    def _derived_from(self, d: Decl, fn_node: Node) -> Decl | None:
        """The one pointer or array that every store to local pointer ``d`` takes, cast or
        offset (``AppleTree *trees = (AppleTree *) data;``, ``q = data + n``, ``&data[k]``),
        when that one is itself distinct storage: ``d`` points into the same object, so the
        two share an origin and are distinct from every other."""
        src: Decl | None = None
        stores = 0
        for x, p in self._uses(d, fn_node):
            if p.type == "init_declarator" and x.start_byte == d.decl_offset:
                value = p.child_by_field_name("value")
            elif p.type == "assignment_expression" and strip_parens(p.child_by_field_name("left")) is not None \
                    and strip_parens(p.child_by_field_name("left")).id == x.id:
                if self._t(p.child_by_field_name("operator")) != "=":
                    return None
                value = p.child_by_field_name("right")
            elif p.type == "update_expression" or (p.type == "pointer_expression" and self._t(p)[:1] == "&") or (
                    p.type == "argument_list" and self._macro_call(p.parent) is not None
                    and self.sem.pointer_stores.get(d.key, (0, 0)) != (0, 0)):
                return None  # moved, its address taken, or stored by a macro
            else:
                continue
            base = self._pointer_base(value)
            got = self.sem.decl_of(base.start_byte) if base is not None else None
            if got is None or got.key == d.key or (src is not None and got.key != src.key):
                return None
            src, stores = got, stores + 1
        if src is None or stores == 0:
            return None
        if src.shape == "array" and src.kind in ("local", "global", "static-local"):
            return src
        if src.kind == "local" and src.shape == "pointer" and self._allocated_only(src, fn_node):
            return src
        return None

    def _pointer_base(self, n: Node | None) -> Node | None:
        """The identifier ``n`` points into: ``(T *) p``, ``p + e``, ``&p[e]``; None otherwise."""
        n = uncast(n)
        if n is None:
            return None
        if n.type == "binary_expression" and self._t(n.child_by_field_name("operator")) in ("+", "-"):
            left = strip_parens(n.child_by_field_name("left"))
            if left is not None and left.type == "identifier":
                d = self.sem.decl_of(left.start_byte)
                return left if d is not None and d.shape in ("pointer", "array") else None
            return None
        if n.type == "pointer_expression" and self._t(n)[:1] == "&":
            sub = strip_parens(n.child_by_field_name("argument"))
            if sub is not None and sub.type == "subscript_expression":
                base = strip_parens(sub.child_by_field_name("argument"))
                return base if base is not None and base.type == "identifier" else None
            return None
        return n if n.type == "identifier" else None

    def _param_index(self, fn_node: Node, d: Decl) -> int | None:
        decl = fn_node.child_by_field_name("declarator")
        while decl is not None and decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        if decl is None:
            return None
        params = decl.child_by_field_name("parameters")
        if params is None:
            return None
        i = 0
        for p in params.named_children:
            if p.type not in ("parameter_declaration", "optional_parameter_declaration"):
                continue
            for x in walk(p):
                if x.type == "identifier" and d.decl_offset == x.start_byte:
                    return i
            i += 1
        return None

    def _allocated_only(self, d: Decl, fn_node: Node) -> bool:
        """Every assignment to local pointer ``d`` stores a fresh allocation, or is part of a
        pointer swap (tmp = u; u = v; v = tmp;) with another such pointer.  Pointers of that
        group then hold distinct allocations whenever a statement ends."""
        memo = self._alloc_memo
        if d.key in memo:
            return memo[d.key]
        memo[d.key] = True  # co-inductive: a swap partner may ask about us
        result = self._allocated_only_uncached(d, fn_node)
        memo[d.key] = result
        return result

    def _swap_partner(self, assign: Node, fn_node: Node) -> Decl | None:
        """For ``u = v;`` or ``v = tmp;`` inside ``tmp = u; u = v; v = tmp;``, the other pointer."""
        stmt = assign.parent
        if stmt is None or stmt.type != "expression_statement":
            return None
        sibs = [c for c in stmt.parent.named_children if c.type != "comment"] if stmt.parent is not None else []
        pos = next((k for k, c in enumerate(sibs) if c.id == stmt.id), None)
        if pos is None:
            return None

        def parts(node: Node | None) -> tuple[str, str] | None:
            if node is None:
                return None
            if node.type == "expression_statement" and node.named_child_count == 1:
                a = node.named_children[0]
                if a.type == "assignment_expression" and self._t(a.child_by_field_name("operator")) == "=":
                    left, right = strip_parens(a.child_by_field_name("left")), strip_parens(a.child_by_field_name("right"))
                    if left is not None and right is not None and left.type == right.type == "identifier":
                        return self._t(left), self._t(right)
            if node.type == "declaration":
                ds = [x for x in node.children_by_field_name("declarator")]
                if len(ds) == 1 and ds[0].type == "init_declarator":
                    name = declarator_identifier(ds[0])
                    v = strip_parens(ds[0].child_by_field_name("value"))
                    if name is not None and v is not None and v.type == "identifier":
                        return self._t(name), self._t(v)
            return None

        for start in (pos - 1, pos - 2):
            if start < 0 or start + 2 >= len(sibs):
                continue
            s1, s2, s3 = parts(sibs[start]), parts(sibs[start + 1]), parts(sibs[start + 2])
            if s1 and s2 and s3:
                tmp, u = s1
                if s2[0] == u and s3 == (s2[1], tmp) and len({tmp, u, s2[1]}) == 3:
                    other = s2[1] if start == pos - 1 else u
                    right = strip_parens(sibs[start + 1].named_children[0].child_by_field_name("right")) \
                        if start == pos - 1 else strip_parens(sibs[start].named_children[0].child_by_field_name("right")
                                                              if sibs[start].type == "expression_statement" else None)
                    if right is None:
                        # tmp declared: find u's declaration through the first statement's initializer
                        ds = sibs[start].children_by_field_name("declarator")
                        right = strip_parens(ds[0].child_by_field_name("value")) if ds else None
                    od = self.sem.decl_of(right.start_byte) if right is not None else None
                    if od is not None and od.name == other:
                        return od
        return None

    def _uses(self, d: Decl, fn_node: Node):
        """Each occurrence of ``d``'s name in the function (its declaration included), with
        the node above its declarators and parentheses."""
        for x in walk(fn_node):
            if x.type != "identifier":
                continue
            if x.start_byte != d.decl_offset and not ((r := self.sem.decl_of(x.start_byte)) is not None
                                                      and r.key == d.key):
                continue
            p = x.parent
            # (``double (*A)[N][M] = ...``: a pointer to a whole array, inside array declarators)
            while p is not None and p.type in ("pointer_declarator", "parenthesized_expression",
                                               "parenthesized_declarator", "array_declarator"):
                p = p.parent
            if p is not None:
                yield x, p

    def _allocated_only_uncached(self, d: Decl, fn_node: Node) -> bool:
        stores = 0
        for x, p in self._uses(d, fn_node):
            if p.type == "init_declarator" and x.start_byte == d.decl_offset:
                value = p.child_by_field_name("value")
                if "".join(self._t(value).split()) in NULL_POINTERS:
                    continue  # a null pointer is no other object's storage
                if not self._is_allocation(value):
                    return False
                stores += 1
            elif p.type == "assignment_expression" and strip_parens(p.child_by_field_name("left")) is not None and \
                    strip_parens(p.child_by_field_name("left")).id == x.id:
                if not self._is_allocation(p.child_by_field_name("right")):
                    partner = self._swap_partner(p, fn_node)
                    if partner is None or partner.key == d.key or not self._allocated_only(partner, fn_node):
                        return False
                    continue
                stores += 1
            elif p.type == "pointer_expression" and self._t(p)[:1] == "&" \
                    and posix_memalign_of(p, self.model.data) is not None:
                stores += 1  # posix_memalign(&p, alignment, bytes): a fresh allocation
            elif p.type == "pointer_expression" and self._t(p)[:1] == "&" and p.parent is not None and \
                    p.parent.type == "argument_list" and p.parent.parent is not None and \
                    self.sem.releases_at(p.parent.parent.start_byte, p.parent.parent.end_byte):
                continue  # Release(&p): frees it and stores null, no other object's storage
            elif p.type in ("update_expression",) or (p.type == "pointer_expression" and self._t(p)[:1] == "&"):
                return False
            elif p.type == "argument_list" and self._macro_call(p.parent) is not None:
                # passed to a macro, which may store into it: what libclang saw stored counts
                alloc, other = self.sem.pointer_stores.get(d.key, (0, 0))
                if other:
                    return False
                stores += alloc
        return stores >= 1

    def _macro_call(self, call: Node | None):
        """The function-like macro that ``call`` uses, or None."""
        f = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
        mu = self.sem.macro_at(f.start_byte) if f is not None and f.type == "identifier" else None
        return mu if mu is not None and mu.function_like else None

    def _is_allocation(self, n: Node | None) -> bool:
        n = uncast(n)
        if n is None:
            return False
        if n.type == "new_expression":
            return True
        if n.type == "call_expression":
            return self._t(n.child_by_field_name("function")) in ALLOCATORS or \
                self.sem.allocates_at(n.start_byte, n.end_byte)
        return False

    def check_nest(self, groups: dict[str, list[ArrayRef]], fi: FunctionInfo,
                        reasons: list[tuple[str, str]], versioned: list[tuple[str, str, bool]]) -> None:
        """A written array that may overlap another one the nest uses: PCX104, or, where both
        are plain arrays or pointers whose sections have an address range the host can
        compute before the loop (no loads), a pair in ``versioned`` for a run-time check."""
        items = list(groups.values())
        fn = fi.node
        indices = {lp.index for refs in items for r in refs for lp in (r.loops or [])}
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                a, b = items[i][0], items[j][0]
                written = any(x.write for x in items[i]) or any(x.write for x in items[j])
                # (restrict promises that the elements accessed do not overlap; the sections
                # mapped are the hulls of strided accesses, which may: ``dst[2*i]`` beside
                # ``src[2*i]`` with src = dst + 1)
                dense = _dense(items[i], indices) and _dense(items[j], indices)
                # (restrict speaks of objects modified anywhere in the pointer's block: a pair
                # only read in this nest is apart when the function writes through either)
                modified = written or any(self._writes_through(fn, x.base) for x in (a, b))
                if not self.may_alias(a, b, fn, fi, restrict_holds=modified and dense):
                    continue
                # Two read-only names of one buffer are no dependence, but their maps are
                # one buffer mapped twice: libomptarget aborts when the second section
                # extends the first.  A run-time check where one can be made; a member or
                # container pair that is only read is left as it is.
                if a.base != b.base and addressable(items[i]) and addressable(items[j]):
                    versioned.append((a.base, b.base, written))
                    continue
                if written:
                    reasons.append(("PCX104", f"'{a.base}' and '{b.base}' may point to overlapping memory (neither is "
                                        "restrict, and they are not provably distinct allocations)"))

    def cross_nest_pairs(self, fi: FunctionInfo, nest_groups: list[dict[str, list[ArrayRef]]]
                             ) -> list[tuple[str, str]]:
        """Pairs of arrays of different offloaded nests that may be one array.  One nest's
        own pairs are its ``alias_checks`` (or refused it); these matter to a data region
        over several kernels, which would map the one buffer under two names: libomptarget
        then finds the second section present, or aborts when it extends the first."""
        refs: dict[str, ArrayRef] = {}
        together: set[frozenset] = set()
        for groups in nest_groups:
            keys = list(groups)
            for k in keys:
                refs.setdefault(k, groups[k][0])
            together.update(frozenset((a, b)) for i, a in enumerate(keys) for b in keys[i + 1:])
        keys = list(refs)
        pairs = []
        for i, ka in enumerate(keys):
            for kb in keys[i + 1:]:
                a, b = refs[ka], refs[kb]
                if frozenset((ka, kb)) in together or a.base == b.base:
                    continue
                if self.may_alias(a, b, fi.node, fi) and (a.base, b.base) not in pairs:
                    pairs.append((a.base, b.base))
        return pairs

    def _based_on(self, name: str, restricted: str) -> bool:
        """Whether pointer ``name`` takes, anywhere in the unit, a value that names
        ``restricted`` (``yy = xx``, ``double *q = xx + 1``)."""
        key = (name, restricted)
        hit = self._based.get(key)
        if hit is None:
            hit = False
            for n in walk(self.model.root):
                if n.type == "assignment_expression":
                    left, value = n.child_by_field_name("left"), n.child_by_field_name("right")
                    target = self._t(left) if left is not None else ""
                elif n.type == "init_declarator":
                    value = n.child_by_field_name("value")
                    target = hostaccess.declared_identifier(n, self.model.data) or ""
                else:
                    continue
                if target == name and value is not None and any(
                        x.type == "identifier" and self._t(x) == restricted for x in walk(value)):
                    hit = True
                    break
            self._based[key] = hit
        return hit

    def _unreachable_local_array(self, fn: Node, d: Decl) -> bool:
        """Whether ``d`` is a one-dimensional local array (not static) of an arithmetic
        element type, all of whose uses in ``fn`` are elements ``a[e]`` read or stored as
        values: no pointer, a global's or a parameter's, can then point into it
        (miniWeather's ``double stencil[4], d3_vals[NUM_VARS]`` beside the global
        ``hy_dens_cell``).  The places an element may stand are an allowlist
        (``_VALUE_ONLY``): anything else (``&a[0]``, a call's argument that may bind a
        reference or be a macro's, ``double &r = a[0]``, a macro's replacement list that
        names ``a``) may make a pointer to it."""
        if d.key not in self._unreachable:
            self._unreachable[d.key] = self._unreachable_uncached(fn, d)
        return self._unreachable[d.key]

    def _unreachable_uncached(self, fn: Node, d: Decl) -> bool:
        if d.kind != "local" or d.shape != "array" or d.reference or len(d.dims) != 1 or d.decl_offset is None:
            return False
        if not d.element_type or any(w not in ARITH_WORDS for w in d.element_type.replace("const", "").split()):
            return False
        body = fn.child_by_field_name("body")
        if body is None or not body.start_byte <= d.decl_offset < body.end_byte:
            return False
        if d.key in self.sem.named_in_macro_lists():
            return False  # a macro's replacement list names it (``#define BUF buf``): uses the text hides
        cxx = self.model.unit.language is Language.CXX
        for n in walk(body):
            if n.type != "identifier" or self._t(n) != d.name or n.start_byte == d.decl_offset:
                continue
            ref = self.sem.decl_of(n.start_byte)
            if ref is not None and ref.key != d.key:
                continue  # another variable of the name (a shadowing one elsewhere)
            element = n.parent
            if ref is None or element is None or element.type != "subscript_expression" or \
                    element.child_by_field_name("argument") != n or not self._value_only(element, cxx):
                return False
        return True

    def _value_only(self, element: Node, cxx: bool) -> bool:
        """Whether the element ``element`` (``a[e]``) stands where only its value is used or
        a value is stored into it (``_VALUE_ONLY``, and in C also a libm call's argument,
        an initialiser, a return value, a cast, a branch of ``?:``: C has no references)."""
        child, up = element, element.parent
        while up is not None and up.type == "parenthesized_expression":
            child, up = up, up.parent
        if up is None:
            return False
        if up.type == "subscript_expression":  # an index: b[a[i]]
            return up.child_by_field_name("argument") != child
        if up.type in _VALUE_ONLY:
            return True
        if cxx:
            return False
        if up.type == "argument_list":
            call = up.parent
            fn = call.child_by_field_name("function") if call is not None else None
            return fn is not None and fn.type == "identifier" and self._t(fn) in LIBM_BY_VALUE \
                and self.sem.macro_at(fn.start_byte) is None
        return up.type in ("init_declarator", "return_statement", "cast_expression", "conditional_expression",
                           "initializer_list", "comma_expression")

    def _only_subscripted(self, fn: Node, name: str) -> bool:
        """Whether every use of ``name`` in ``fn``'s body indexes it (``p[i]``): nothing
        based on it can be stored, passed on or kept."""
        body = fn.child_by_field_name("body")
        for n in walk(body) if body is not None else ():
            if n.type == "identifier" and self._t(n) == name:
                parent = n.parent
                if parent is None or parent.type != "subscript_expression" or \
                        parent.child_by_field_name("argument") != n:
                    return False
        return True

    def _writes_through(self, fn: Node, name: str) -> bool:
        """The function assigns or increments an element reached through ``name``
        (``name[i] = ...``, ``name[i][j] += ...``, ``*name = ...``)."""
        for _, target in hostaccess.assignment_targets(fn):
            target = strip_parens(target)
            depth = 0
            while target is not None and target.type in ("subscript_expression", "pointer_expression",
                                                         "field_expression", "parenthesized_expression"):
                depth += target.type != "parenthesized_expression"
                target = target.child_by_field_name("argument") if target.type != "parenthesized_expression" \
                    else strip_parens(target)
            if depth and target is not None and target.type == "identifier" and self._t(target) == name:
                return True
        return False

    def may_alias(self, a: ArrayRef, b: ArrayRef, fn: Node, fi: FunctionInfo, restrict_holds: bool = True) -> bool:
        """``restrict_holds``: one of the two is written, where restrict promises that they
        do not overlap; two restrict pointers that are only read may (C11 6.7.3.1:
        ``add(o, a + 1, a, n)``), and mapping both aborts libomptarget."""
        if _owning_containers_apart(a, b):
            return False
        for x, y in ((a, b), (b, a)):
            if _owning(x) and y.decl is not None and y.decl.shape != "container" and self._outside_containers(y, fn, fi):
                return False
        if a.member or b.member:
            for x, y in ((a, b), (b, a)):
                if not x.member or x.decl is None:
                    continue
                if x.decl.shape == "pointer" and x.decl.restrict and restrict_holds:
                    return False
                if x.decl.shape == "array" and y.member and y.decl is not None and y.decl.shape == "array":
                    # arrays inside objects: two members never overlap; one member of two
                    # objects does where the objects are one (``f(*s, *s)`` of ``f(S& x, S& y)``)
                    return x.decl.key == y.decl.key and not self._roots_apart(x, y, fn, fi)
                # an array embedded in a struct object: distinct from arrays and allocations
                # of their own, but a pointer may point into it (``g.p = g.buf``, ``q = s.buf``),
                # a pointer parameter too where the struct is not this call's own local
                if x.decl.shape == "array" and x.root_decl is not None and x.root_decl.shape == "record" \
                        and not x.root_decl.reference and x.root_decl.kind in ("local", "global", "static-local"):
                    if y.decl is None:
                        return True
                    if not y.member and not y.decl.reference and y.decl.shape in ("array", "container"):
                        return False
                    if y.decl.shape == "pointer" and y.decl.restrict and restrict_holds:
                        return False
                    if not y.member and y.decl.kind == "param" and y.decl.shape == "pointer":
                        return x.root_decl.kind != "local"
                    if not y.member and y.decl.shape == "pointer" and (
                            self.origin(y.decl, fn)[0] == "object" or self._apart_from_struct(y.decl, x.root_decl, fn)):
                        return False
                    return True
                # a restrict parameter beside a member: memory the function reaches through
                # the parameter is reached through nothing else (C11 6.7.3.1) but pointers
                # based on it, and a member can only be one if the function stores it
                if not y.member and y.decl is not None and y.decl.shape == "pointer" and y.decl.restrict \
                        and restrict_holds and y.decl.kind == "param" and self._only_subscripted(fn, y.decl.name):
                    return False
            return True
        da, db = a.decl, b.decl
        if da is None or db is None:
            return True
        for x, y in ((da, db), (db, da)):
            if x.shape == "pointer" and x.restrict and restrict_holds:
                # restrict says nothing of a pointer based on it (``yy = xx;``: TSVC s421's
                # overlapping maps, and a loop-carried dependence taken for none)
                return self._based_on(y.name, x.name)
        oa, ob = self.origin(da, fn), self.origin(db, fn)
        if oa[0] == "object" and ob[0] == "object":
            return oa[1] == ob[1]
        if da.key != db.key and any(o[0] == "object" and self._unreachable_local_array(fn, x)
                                    for x, o in ((da, oa), (db, ob))):
            return False
        local = ("local",)
        if oa[0] == "object" and da.kind in local and ob[0] == "param":
            return False
        if ob[0] == "object" and db.kind in local and oa[0] == "param":
            return False
        if oa[0] == "param" and ob[0] == "param":
            if self._distinct_at_call_sites(fi, int(oa[1]), int(ob[1])):
                self.distinct_params.setdefault(fi.node.start_byte, set()).add(tuple(sorted((da.name, db.name))))
                return False
            return True
        if {oa[0], ob[0]} == {"param", "object"}:
            p_idx = int(oa[1]) if oa[0] == "param" else int(ob[1])
            obj, param = (da, db) if oa[0] == "object" else (db, da)
            if self._param_never_is(fi, p_idx, obj):
                if obj.kind in ("global", "static-local"):  # (the plan checker's globals)
                    self.distinct_params.setdefault(fi.node.start_byte, set()).add(
                        tuple(sorted((param.name, obj.name))))
                return False
            return True
        return True

    def _apart_from_struct(self, p: Decl, obj: Decl, fn: Node, depth: int = 0) -> bool:
        """Whether local pointer ``p`` never points into struct object ``obj``: every value
        stored to it is built from allocations, arrays, members of other struct objects and
        local pointers that are apart in turn (``dd = c ? d : st.a`` beside ``s2.a``).  A
        parameter, a global pointer, a call or ``obj`` itself may bring a pointer into it."""
        if p.kind != "local" or depth > 3:
            return False
        for x, parent in self._uses(p, fn):
            if parent.type == "init_declarator" and x.start_byte == p.decl_offset:
                value = parent.child_by_field_name("value")
            elif parent.type == "assignment_expression" and strip_parens(parent.child_by_field_name("left")) is not None \
                    and strip_parens(parent.child_by_field_name("left")).id == x.id:
                value = parent.child_by_field_name("right")
            elif parent.type == "pointer_expression" and self._t(parent)[:1] == "&":
                return False  # its address: anything may store to it
            else:
                continue
            if value is None or self._is_allocation(value) or "".join(self._t(value).split()) in NULL_POINTERS:
                continue
            for n in walk(value):
                if n.type in ("call_expression", "new_expression") and not self._is_allocation(n):
                    return False
                if n.type != "identifier" or (n.parent is not None and n.parent.type == "field_expression"
                                              and n.parent.child_by_field_name("field") == n):
                    continue
                d = self.sem.decl_of(n.start_byte)
                if d is None:
                    continue  # (a function's name, a macro constant: no storage of its own)
                if d.key == obj.key or d.reference:
                    return False
                if d.shape in ("array", "container") or (d.shape == "record" and d.kind in ("local", "global", "static-local")):
                    continue  # its own storage, or a member of another object
                if d.shape == "pointer" and d.kind == "local" and (
                        self.origin(d, fn)[0] == "object" or self._apart_from_struct(d, obj, fn, depth + 1)):
                    continue
                if d.shape in ("scalar", "other", "function"):
                    continue
                return False
        return True

    def _roots_apart(self, x: ArrayRef, y: ArrayRef, fn: Node, fi: FunctionInfo) -> bool:
        """Whether the objects two accesses of one member array go through are two objects:
        distinct variables or allocations, parameters distinct at every call, or a
        parameter beside an object of this call's own."""
        rx, ry = x.root_decl, y.root_decl
        if rx is None or ry is None or rx.key == ry.key:
            return False
        ox, oy = self.origin(rx, fn), self.origin(ry, fn)
        if ox[0] == "object" and oy[0] == "object":
            return ox[1] != oy[1]
        if ox[0] == oy[0] == "param":
            return self._distinct_at_call_sites(fi, int(ox[1]), int(oy[1]))
        if {ox[0], oy[0]} == {"object", "param"}:
            return (rx if ox[0] == "object" else ry).kind == "local"
        return False

    def _call_sites(self, fi: FunctionInfo) -> list[tuple[Node, Node]]:
        """(call node, enclosing function node) of every call to ``fi`` in the unit."""
        name = fi.name.split("::")[-1]
        out = []
        for (s, e), c in self.sem.calls.items():
            if c.name != name or c.definition is None or c.definition[0] > fi.node.start_byte or \
                    c.definition[1] < fi.node.end_byte:
                continue
            n = self.model.root.descendant_for_byte_range(s, max(s, e - 1))
            while n is not None and n.type != "call_expression":
                n = n.parent
            f = n
            while f is not None and f.type != "function_definition":
                f = f.parent
            if n is not None and f is not None:
                out.append((n, f))
        return out

    def _arg_origin(self, call: Node, i: int, caller: Node) -> tuple[str, str]:
        args = call.child_by_field_name("arguments")
        named = arguments_of(args)
        if i >= len(named):
            return ("unknown", "?")
        arg = strip_parens(named[i])
        mu = self._macro_call(arg)
        deref = False
        if mu is not None and len(mu.params) == 1 and "".join(mu.body).strip("()") in (mu.params[0], "*" + mu.params[0]):
            # ``POLYBENCH_ARRAY(A)``, defined as ``*A``: the storage ``A`` points to
            deref = "".join(mu.body).strip("()") != mu.params[0]
            inner = arguments_of(arg.child_by_field_name("arguments"))
            arg = strip_parens(inner[0]) if len(inner) == 1 else None
        elif arg is not None and arg.type == "pointer_expression" and self._t(arg)[:1] == "*":
            deref = True  # ``*A``
            arg = strip_parens(arg.child_by_field_name("argument"))
        if deref and arg is not None and arg.type == "identifier":
            # the storage A points to only where A points to a whole array (or is one):
            # ``*pp`` of a ``double **pp`` is a pointer loaded from pp's storage, which
            # may point anywhere
            d = self.sem.decl_of(arg.start_byte)
            if d is None or not (d.shape == "array" or (d.shape == "pointer" and "(*)[" in d.type_spelling.replace(" ", ""))):
                return ("unknown", self._t(arg))
        if arg is not None and arg.type == "call_expression":
            f = arg.child_by_field_name("function")
            if f is not None and f.type == "field_expression" and self._t(f.child_by_field_name("field")) == "data":
                arg = strip_parens(f.child_by_field_name("argument"))
        arg = uncast(arg)
        if arg is not None and arg.type == "pointer_expression" and self._t(arg)[:1] == "&":
            # ``&f``: the variable's own storage (NPB CG's ``conj_grad(..., &rnorm)`` beside
            # its arrays), an array's the array's; a reference's is what it names
            inner = strip_parens(arg.child_by_field_name("argument"))
            d = self.sem.decl_of(inner.start_byte) if inner is not None and inner.type == "identifier" else None
            if d is None or d.reference:
                return ("unknown", self._t(arg))
            return self.origin(d, caller) if d.shape == "array" else ("object", "&" + d.key)
        if arg is None or arg.type != "identifier":
            return ("unknown", self._t(arg))
        d = self.sem.decl_of(arg.start_byte)
        o = self.origin(d, caller)
        if o[0] == "param" and d is not None and d.restrict:
            return ("object", "restrict:" + d.key)
        return o

    def reference_apart(self, fi: FunctionInfo, d: Decl) -> bool:
        """Whether scalar reference ``d`` (a parameter or a local of ``fi``) names a variable
        of its own, never an element of an array: a local bound to a plain variable, or a
        parameter every call of ``fi`` in the unit (all its callers seen) passes a plain
        variable or a value (a literal, an arithmetic expression: a temporary).  A
        reference to ``v[0]`` read in a loop that writes ``v`` sees the loop's writes."""
        if d.kind == "local":
            for n in walk(fi.node):
                if n.type == "init_declarator":
                    ident = hostaccess.declared_identifier_node(n)
                    got = self.sem.decl_declared_at(ident.start_byte) if ident is not None else None
                    if got is not None and got.key == d.key:
                        return self._own_value(n.child_by_field_name("value"))
            return False
        passed = self._passed_to(fi, d)
        return passed is not None and all(a is not None and self._own_value(a) for a in passed)

    def _passed_to(self, fi: FunctionInfo, d: Decl) -> list[Node | None] | None:
        """What every call of ``fi`` passes parameter ``d`` (None where a call passes too
        few arguments); None when ``d`` is no parameter or not every caller is seen."""
        if d.kind != "param":
            return None
        names = hostaccess.param_names(fi.node, self.model.data)
        if d.name not in names:
            return None
        i = names.index(d.name)
        sites = self._call_sites(fi)
        if not sites or not self._callers_all_seen(fi):
            return None
        out = []
        for call, _ in sites:
            args = arguments_of(call.child_by_field_name("arguments"))
            out.append(strip_parens(args[i]) if i < len(args) else None)
        return out

    def member_root_apart(self, fi: FunctionInfo, root: Decl, written: list[Decl]) -> bool:
        """Whether ``root->m`` (or ``root.m``, a reference), read in a nest of ``fi`` that
        writes the arrays ``written``, reads none of their elements: every call of ``fi``
        passes ``root`` the address of a variable that is no array (``&params``, or
        ``params`` to a reference), and each written array is storage of its own (a local or
        global array, a fresh allocation, a struct's pointer member, which is taken to point
        outside any struct variable) or a parameter every call passes such storage.
        A struct pointer into the written array (``(const struct C *)&a[500]``) reads what
        the serial loop wrote.  A restrict pointer is apart by its own promise."""
        if root.restrict:
            return True
        passed = self._passed_to(fi, root)
        if passed is None:
            return False
        sites = self._call_sites(fi)
        for arg in passed:
            if arg is not None and not root.reference and arg.type == "pointer_expression" and \
                    self._t(arg.child_by_field_name("operator")) == "&":
                arg = strip_parens(arg.child_by_field_name("argument"))
            elif not root.reference:
                return False
            d = self.sem.decl_of(arg.start_byte) if arg is not None and arg.type == "identifier" else None
            if d is None or d.shape != "record" or d.reference or d.kind not in ("local", "global", "static-local"):
                return False

        for w in written:
            o = self.origin(w, fi.node)
            if not (o[0] == "object" or w.kind == "field" or o[0] == "param" and all(
                    self._storage_of_its_own(call, int(o[1]), caller) for call, caller in sites)):
                return False
        return True

    def _storage_of_its_own(self, call: Node, i: int, caller: Node) -> bool:
        """The ``i``-th argument of ``call`` is an array of its own (``origin``: a local or
        global array, a fresh allocation) or a struct's pointer member (``g.v``: taken to
        point outside any struct variable, its own included)."""
        if self._arg_origin(call, i, caller)[0] == "object":
            return True
        args = arguments_of(call.child_by_field_name("arguments"))
        arg = strip_parens(args[i]) if i < len(args) else None
        if arg is None or arg.type != "field_expression":
            return False
        field = arg.child_by_field_name("field")
        info = self.sem.member_of(field.start_byte) if field is not None else None
        return bool(info) and info[0].shape == "pointer"

    def _own_value(self, n: Node | None) -> bool:
        """A reference bound to ``n`` names no array element: a plain scalar variable, or a
        temporary (a literal, an arithmetic or cast expression)."""
        n = strip_parens(n)
        if n is None:
            return False
        if n.type in ("number_literal", "true", "false", "char_literal"):
            return True
        if n.type == "identifier":
            d = self.sem.decl_of(n.start_byte)
            return d is not None and d.shape == "scalar" and not d.reference
        if n.type == "binary_expression":
            return self._t(n.child_by_field_name("operator")) not in (",",)
        if n.type == "unary_expression":
            return self._t(n.child_by_field_name("operator")) in ("-", "+", "!", "~")
        if n.type == "cast_expression":
            ty = n.child_by_field_name("type")
            return ty is not None and "&" not in self._t(ty)
        return False

    def _callers_all_seen(self, fi: FunctionInfo) -> bool:
        """``callers_all_seen``, memoised: only then do its call sites here tell where its
        parameters point."""
        key = fi.node.start_byte
        if key not in self._closed_memo:
            self._closed_memo[key] = callers_all_seen(self.model, fi)
        return self._closed_memo[key]

    def _distinct_at_call_sites(self, fi: FunctionInfo, i: int, j: int, depth: int = 0) -> bool:
        """Parameters ``i`` and ``j`` of ``fi`` point to distinct objects at every call: two
        distinct allocations, arrays or globals, or two parameters of the caller that it
        never reassigns and that are distinct at every call of the caller in turn
        (Rodinia hotspot's ``compute_tran_temp(result, ..., temp, power)`` passing them on
        to ``single_iteration(result, temp, power, ...)``), a few calls deep."""
        sites = self._call_sites(fi)
        if not sites or not self._callers_all_seen(fi):
            return False
        for call, caller in sites:
            oa, ob = self._arg_origin(call, i, caller), self._arg_origin(call, j, caller)
            if oa[0] == "object" and ob[0] == "object" and oa[1] != ob[1]:
                continue
            if {oa[0], ob[0]} == {"object", "param"} and \
                    self._arg_is_local_object(call, i if oa[0] == "object" else j, caller):
                continue  # the caller's own array or fresh allocation is not its parameter's storage
            if oa[0] == ob[0] == "param" and oa[1] != ob[1] and depth < 3 and \
                    self._passed_on(call, (i, j), caller, (int(oa[1]), int(ob[1])), depth):
                continue
            return False
        return True

    def _arg_is_local_object(self, call: Node, i: int, caller: Node) -> bool:
        """Argument ``i`` of ``call`` is a local (automatic) array of the caller, or a local
        pointer holding only fresh allocations (not one derived from other storage)."""
        named = arguments_of(call.child_by_field_name("arguments"))
        arg = uncast(named[i]) if i < len(named) else None
        d = self.sem.decl_of(arg.start_byte) if arg is not None and arg.type == "identifier" else None
        if d is None or d.kind != "local" or d.restrict:
            return False
        return d.shape == "array" or (d.shape == "pointer" and self._allocated_only(d, caller))

    def _passed_on(self, call: Node, args: tuple[int, int], caller: Node, params: tuple[int, int], depth: int) -> bool:
        """The caller passes its own parameters ``params`` on as ``args``, never assigns
        them, and they are distinct at every call of the caller."""
        from pcx_driver.engine.hostaccess import assigned_and_declared

        fi = next((f for f in self.model.functions() if f.node.id == caller.id), None)
        body = caller.child_by_field_name("body")
        if fi is None or body is None:
            return False
        named = arguments_of(call.child_by_field_name("arguments"))
        names = {self._t(strip_parens(named[a])) for a in args}
        if names & assigned_and_declared(body, self.model.data, body.start_byte, body.end_byte, declarations=False):
            return False
        return self._distinct_at_call_sites(fi, params[0], params[1], depth + 1)

    def distinct_pairs(self, fi: FunctionInfo) -> list[tuple[str, str]]:
        """``FunctionAnalysis.distinct_params``: the parameter pairs of ``fi`` that its call
        sites prove distinct.  Where a nest used that proof, every pair of its pointer
        parameters is asked too: the plan checker takes any pair not listed for one
        possible array, so a kernel writing ``bvc`` (apart from the nest's other arrays)
        would otherwise be checked as if it might write ``p_new``, a parameter only host
        code uses, and its ``map(from:)`` refused (LULESH's CalcPressureForElems)."""
        from pcx_driver.engine.hostaccess import param_names

        found = self.distinct_params.get(fi.node.start_byte)
        if not found:
            return []
        names = param_names(fi.node, self.model.data)
        pointers = [(i, n) for i, n in enumerate(names)
                    if n and (d := self._param_decl(fi, n)) is not None and d.shape in ("pointer", "array")]
        for x in range(len(pointers)):
            for y in range(x + 1, len(pointers)):
                (i, a), (j, b) = pointers[x], pointers[y]
                pair = tuple(sorted((a, b)))
                if pair not in found and a != b and self._distinct_at_call_sites(fi, i, j):
                    found.add(pair)
        return sorted(found)

    def _param_decl(self, fi: FunctionInfo, name: str) -> Decl | None:
        """The declaration of parameter ``name`` of ``fi`` (libclang's, by its name's byte)."""
        from pcx_driver.engine.hostaccess import parameters, declared_identifier_node

        for p in parameters(fi.node):
            ident = declared_identifier_node(p)
            if ident is not None and self._t(ident) == name:
                return self.sem.decl_declared_at(ident.start_byte)
        return None

    def _outside_containers(self, y: ArrayRef, fn: Node, fi: FunctionInfo) -> bool:
        """``y`` (no container) points into storage that no container owns, so never into an
        owning container's buffer: a local or global array, a local pointer holding only
        fresh allocations (``origin``), or a parameter that every call in the unit passes
        one of those (LULESH's ``sigxx``, ``Allocate<Real_t>(numElem)`` in the caller,
        beside ``domain.p(i)``).  Not a pointer taken from a container (``v.data()``,
        ``&v[0]``: its origin is the container), a member, nor a restrict parameter."""
        if y.member or y.decl is None:
            return False
        o = self.origin(y.decl, fn)

        def owned_by_none(origin: tuple[str, str]) -> bool:
            return origin[0] == "object" and not origin[1].startswith("restrict:") and \
                not self.sem.is_container_key(origin[1])

        if o[0] == "param":
            return self._every_call_passes(fi, int(o[1]), owned_by_none)
        return owned_by_none(o)

    def _param_never_is(self, fi: FunctionInfo, i: int, obj: Decl) -> bool:
        return self._every_call_passes(fi, i, lambda o: o[0] == "object" and o[1] != obj.key)

    def _every_call_passes(self, fi: FunctionInfo, i: int, ok: Callable[[tuple[str, str]], bool]) -> bool:
        """Every call of ``fi`` in the unit (and only the unit can call it) passes as its
        ``i``-th argument something whose ``origin`` is ``ok``."""
        sites = self._call_sites(fi)
        if not sites or not self._callers_all_seen(fi):
            return False
        return all(ok(self._arg_origin(call, i, caller)) for call, caller in sites)
