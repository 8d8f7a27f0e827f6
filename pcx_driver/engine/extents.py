"""Array extents of a nest: the section of each array it touches, and whether it is exact.

Contract: ``Extents(model, affine, ranges)`` for one translation unit:
``summary(nest, fi, refs, reasons) -> ArrayAccessSummary | None`` for the accesses
``refs`` to one array of a nest in function ``fi``: the section (``[lo:length]`` per
dimension) computed from the subscripts' ranges over the loop bounds where they are
provably inside the array, else from its declared or allocated extent (``malloc(n *
sizeof(T))``, ``new T[n]``); inner dimensions are mapped whole.  ``exact``: some
unconditional access touches every element; ``written_fully``: every read follows a write
of the same element in the same iteration.  An array whose extent cannot be determined
(PCX116) or whose subscripts do not match its shape (PCX118) gives None and a reason.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine.affine import AffineForms, concrete
from pcx_driver.engine.dependence import (LoopBounds, loop_domain, nonneg_below_bounds, nonneg_on, nonneg_poly,
                                          param_lower_bounds)
from pcx_driver.engine.hostaccess import allocation_count, assigned_allocation
from pcx_driver.engine.loops import Poly, c_int_literal
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.ranges import AccessRanges
from pcx_driver.engine.semantics import Decl
from pcx_driver.engine.source import FunctionInfo, SourceModel
from pcx_driver.model import ArrayAccessSummary, Assumption, CallerExtent, CallSiteExtent, Language, Section

#: most accesses whose maxima a section length may take the maximum of
MAX_HULL = 4


def _one_name_plus_constant(p: Poly) -> tuple[str, int, int] | None:
    """``(name, a, k)`` for a polynomial ``a * name + k`` with ``a > 0``, else None."""
    names = p.symbols()
    if len(names) != 1:
        return None
    name = next(iter(names))
    if p.degree_in([name]) != 1:
        return None
    a = p.coeff_of(name)
    rest = p - a * Poly.sym(name)
    if not a.is_const or not rest.is_const or a.const_value <= 0:
        return None
    return name, a.const_value, rest.const_value


def _value_of_a_statement_expression(stmt: Node) -> bool:
    """``stmt`` is the last statement of a GNU statement expression ``({ ...; f(a); })``,
    whose value it gives: in a block of its own it would give none."""
    block = stmt.parent
    return block is not None and block.type == "compound_statement" and block.parent is not None and \
        block.parent.type in ("parenthesized_expression", "statement_expression") and \
        block.named_children and block.named_children[-1].id == stmt.id


class Extents:
    """The array sections of one unit's nests (see the module docstring)."""

    def __init__(self, model: SourceModel, affine: AffineForms, ranges: AccessRanges):
        self.model = model
        self.affine = affine
        self.ranges = ranges
        self._notes: list[tuple[str, str]] = []  # for the nest's remarks (take_notes)
        self._handed: CallerExtent | None = None  # the last summary's extent from callers
        self._assumed: list[Assumption] = []  # what the last summary's section rests on

    def take_notes(self) -> list[tuple[str, str]]:
        """Remarks about the last summary's extents (where a parameter's came from)."""
        out, self._notes = self._notes, []
        return out

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def summary(self, nest: Nest, fi: FunctionInfo | None, refs: list[ArrayRef],
                reasons: list[tuple[str, str]]) -> ArrayAccessSummary | None:
        self._notes = []
        self._handed = None
        self._assumed = []
        a0 = refs[0]
        d = a0.decl
        name = a0.base
        if d is None:
            reasons.append(("PCX116", f"declaration of '{name}' is unknown; its extent cannot be determined"))
            return None
        ndims = {len(a.subs) for a in refs}
        if len(ndims) != 1:
            reasons.append(("PCX118", f"'{name}' is accessed with different numbers of subscripts"))
            return None
        n = ndims.pop()
        via_accessor = [a for a in refs if a.accessor_args is not None]
        if via_accessor and (len(via_accessor) != len(refs) or any(a.conditional for a in refs) or
                             len({self._t(a.base_node) for a in refs}) != 1):
            # The kernel's pointer is ``&domain.x(0)``, taken before the kernel: element 0
            # must exist whenever the section is not empty, which accesses that always run
            # prove (one accessor, every access through it, none under a condition).
            reasons.append(("PCX118", f"'{name}' is reached through an element accessor under a condition, "
                                      "or through several: its data pointer cannot be taken before the loop"))
            return None
        if d.shape == "container" and d.container == "std::vector" and d.element_type.strip() == "bool":
            reasons.append(("PCX118", f"'{name}' is a std::vector<bool>, whose bits have no data pointer to map"))
            return None
        extents = list(d.dims) if d.dims else []
        if d.shape == "container" and d.container == "std::vector":
            # (the member's, for d.v[i]: base is "d.v"); none for ``domain.x(i)`` over a
            # private member, whose length code outside the class cannot read (the rewrite
            # did not compile): the subscripts' range must bound the section then
            extents = [None] if via_accessor and d.hidden else [f"{a0.base}.size()"]
        if d.shape == "pointer" and via_accessor:
            extents = [None]  # (a pointer member, ``domain.dxx(k)``: the subscripts' range bounds it)
        if d.shape == "pointer" and not extents:
            extents = [None]
        if d.kind == "param" and d.shape != "container" and extents:
            # ``T p[R][C]`` as a parameter is ``T (*p)[C]``: the caller may pass fewer than R
            # rows (a mapped section of R rows would reach past its array), so R is no extent
            extents[0] = None
        if n > len(extents):
            if d.shape == "pointer" and d.type_spelling.count("*") > 1:
                # ``double ***u``: each row is an allocation of its own, which no map clause
                # copies (OpenMP maps one contiguous section per name)
                reasons.append(("PCX118", f"'{name}' is a pointer to pointers ('{d.type_spelling}'): its rows are "
                                          "separate allocations that a map clause cannot copy"))
            else:
                reasons.append(("PCX118", f"'{name}' has more subscripts than dimensions"))
            return None
        if d.shape == "pointer" and d.kind == "local" and extents and extents[0] is None:
            ext = self._allocation_extent(d, fi, nest.root.node.start_byte)
            if ext is not None:
                extents[0] = ext

        dims: list[tuple[str, str]] = []
        exact = True
        wrap = nest.rendered
        for k in range(n):
            lo_hi = self.ranges.subscript_range(nest, refs, k)
            full = extents[k] if k < len(extents) else None
            if lo_hi is None and full is None and k == 0:
                lo_hi = self._range_assuming_strides(nest, refs, fi)
            if k > 0 and full is not None:
                past = self._past_dimension(lo_hi, full, nest, refs)
                if past is not None:
                    # ``aa[0][i]`` with i up to 4095 in rows of 64 (TSVC's vbor): a flat walk
                    # across rows, which the whole-row section below would not cover
                    reasons.append(("PCX116", f"subscript {k + 1} of '{self._t(refs[0].node)}' reaches {past}, past "
                                              f"the {full} elements of its dimension: the access walks across rows"))
                    return None
                # inner dimensions are mapped whole: a map section must be contiguous
                if lo_hi is None or not (lo_hi[0] == Poly.const(0) and
                                         self._equal_extent(lo_hi[1] + Poly.const(1), full, nest)):
                    exact = False
                dims.append(("0", full))
                continue
            if lo_hi is None and full is None and k == 0:
                hull = self._max_hull(nest, refs, k, wrap)
                if hull is not None:
                    exact = False
                    dims.append(hull)
                    continue
                full = self._param_extent_noted(d, fi, name, extents)
            if lo_hi is None:
                whole = next((a for a in refs if a.whole), None)
                if full is None and whole is not None:
                    call = whole.node.parent.parent if whole.node.parent is not None else None
                    fname = self._t(call.child_by_field_name("function")) if call is not None \
                        and call.type == "call_expression" else "a helper"
                    reasons.append(("PCX116", f"extent of '{name}' cannot be determined: '{fname}' (line "
                                    f"{self.model.line_col(whole.node.start_byte)[0]}) may read any element of it, "
                                    "and the array's size is not known here"))
                    return None
                if full is None:
                    reasons.append(("PCX116", f"extent of '{name}' cannot be determined: the range of subscript "
                                    f"{k + 1} ('{self._t(refs[0].subs[k])}') cannot be bounded and the array's size "
                                    "is not known here"))
                    return None
                exact = False
                dims.append(("0", full))
                continue
            lo, hi = lo_hi
            # unconditional accesses over rectangular loops touch both ends of the range: it lies
            # inside the object; otherwise prove it
            touched = not any(a.conditional for a in refs) and self._rectangular(refs)
            inside = touched or self._within_extent(nest, refs, lo, hi, full)
            if not inside:
                # a guarded access (if (x - 1 >= 0) ...) makes the bounds of the loops wider than
                # what is touched: never map outside the object
                if full is None and k == 0:
                    full = self._param_extent_noted(d, fi, name, extents)
                if full is not None:
                    exact = False
                    dims.append(("0", full))
                    continue
                if any(a.conditional for a in refs) or not self._rectangular(refs):
                    reasons.append(("PCX116", f"the bounds of the loops around '{self._t(refs[0].node)}' give a range "
                                    f"that may reach below the start of '{name}' (guarded or triangular accesses), "
                                    "and its extent is not known here"))
                    return None
            dims.append((lo.render(wrap), (hi - lo + Poly.const(1)).render(wrap)))
        if n == 0:
            dims = []
        if ("." in name or "->" in name) and (d.element_type or "").rstrip().endswith("*"):
            # clang-19 maps a member's array of pointers (`nd.ptrs[0:n]`, void **) so that
            # the kernel reads none of its values (seen: every element NULL or garbage).
            reasons.append(("PCX118", f"'{name}' is a struct member holding an array of pointers, "
                            "which is not mapped element for element"))
            return None
        written = any(a.write for a in refs)
        covered = self._covers_box(nest, refs, dims) if exact else False
        exact = exact and covered
        fully = written and exact and self._written_first(refs)
        summary = ArrayAccessSummary(
            name=name, element_type=d.element_type or "", read=any(a.read for a in refs), written=written,
            section=Section(name if not a0.via_data else a0.root, dims), exact=exact, written_fully=fully,
            element_fields=list(d.element_fields),
            caller_extent=self._handed,
            assumptions=list(self._assumed),
        )
        if d.shape == "container" or via_accessor:
            # (a pointer member reached through its accessor is mapped like a container's
            # data: through a local pointer ``&domain.dxx(0)`` taken before the kernel)
            summary.container = d.container or "pointer"
            summary.base_ranges = sorted({(a.base_node.start_byte, a.base_node.end_byte) for a in refs})
            summary.section = Section(a0.base, dims)
            if a0.accessor_args is not None:
                summary.accessor = self._t(a0.base_node)
                summary.brackets = sorted({(a.accessor_args.start_byte, a.accessor_args.end_byte - 1) for a in refs
                                           if a.accessor_args is not None})
        return summary

    def _range_assuming_strides(self, nest: Nest, refs: list[ArrayRef], fi: FunctionInfo | None):
        """The range of a flat subscript whose strides are names no loop bounds
        (``X[n*C*Hin*Win + c*Hin*Win + (h+p)*Win + w+q]``: the sign of ``Hin`` and ``Win``
        is unknown, so is which end is the least), computed as if each such name were >=
        0; those names become ``Assumption``s, which the kernel tests at run time before
        it runs on the device (the loop as written otherwise).  Only signed integer
        scalars the function declares before the nest (or takes as parameters) and the
        nest never assigns; None when there are none, or the range is still unknown."""
        from pcx_driver.engine.hostaccess import assigned_and_declared
        from pcx_driver.engine.source import walk

        if fi is None:
            return None
        bounds: dict[str, int] = {}  # each stride name -> the least value it is assumed to have
        indices = {lp.index for a in refs for lp in a.loops}
        known = {k for k, v in nest.values.items() if v is not None}
        for a in refs:
            p = a.polys[0] if a.polys else None
            if p is None:
                return None
            for lp in a.loops:
                if lp.index not in p.symbols() or p.degree_in([lp.index]) != 1:
                    continue
                coeff = p.coeff_of(lp.index)
                names = coeff.symbols() - indices - known
                lin = _one_name_plus_constant(coeff)
                if lin is not None and lin[0] in names:  # ``(W - 1)``: W >= 1
                    name, a_, k = lin
                    bounds[name] = max(bounds.get(name, 0), -(k // a_))
                else:
                    for name in names:
                        bounds[name] = max(bounds.get(name, 0), 0)
        strides = set(bounds)
        if not strides:
            return None
        node = nest.root.node
        written = assigned_and_declared(node, self.model.data, node.start_byte, node.end_byte)
        if strides & written:
            return None
        sem = self.affine.sem
        # what each name means in the nest: at its uses, and in the lists of the macros used
        # there (``II(n, c, h+p, w+q)`` may be the nest's only use of ``Win``)
        meant: dict[str, set[str]] = {}
        decls: dict[str, object] = {}
        for x in walk(node):
            d = sem.decl_of(x.start_byte) if x.type == "identifier" and self._t(x) in strides else None
            if d is not None:
                meant.setdefault(d.name, set()).add(d.key)
                decls[d.key] = d
        for mu in sem.macros_in(node.start_byte, node.end_byte):
            for tok, d in sem.expansion_refs.get(mu.start, {}).items():
                if tok in strides and d is not None:
                    meant.setdefault(tok, set()).add(d.key)
                    decls[d.key] = d
        for name in strides:
            keys = meant.get(name, set())
            d = decls[next(iter(keys))] if len(keys) == 1 else None
            if d is None or d.shape != "scalar" or not d.integral or d.kind not in ("param", "local") or \
                    d.decl_offset is None or not fi.node.start_byte <= d.decl_offset < node.start_byte:
                return None
            if "unsigned" in d.element_type or d.element_type in ("bool", "_Bool"):
                # ``size_t W`` is never < 0 to the test, and a "negative" one wraps round: the
                # range would be the unsigned products' (a held-out check's 2^64-byte map)
                return None
        with self.ranges.assuming(bounds):
            lo_hi = self.ranges.subscript_range(nest, refs, 0)
        if lo_hi is not None:
            self._assumed = [Assumption(name, bounds[name]) for name in sorted(strides)]
            self._notes.append(("PCX202", "the range of '" + self._t(refs[0].node) + "' rests on " +
                                " and ".join(f"{name} >= {bounds[name]}" for name in sorted(strides)) +
                                ", which the kernel tests before it runs on the device (as written otherwise)"))
        return lo_hi

    def _rectangular(self, refs: list[ArrayRef]) -> bool:
        for a in refs:
            names = {lp.index for lp in a.loops}
            for lp in a.loops:
                if lp.low is None or lp.high is None or abs(lp.step) != 1:
                    return False
                if (lp.low.symbols() | lp.high.symbols()) & names:
                    return False
        return True

    def _max_hull(self, nest: Nest, refs: list[ArrayRef], k: int, wrap) -> tuple[str, str] | None:
        """``(lower, length)`` of subscript ``k`` where its greatest value is the maximum of
        several accesses' (``temp[col]`` at a corner, ``temp[(r+1)*col+c]`` inside): the
        length is their maximum, ``((a) + ((b) - (a)) * ((b) > (a)))``; the lower end must be
        provably at least 0.  None when the bounds cannot be had."""
        bounds = self.ranges.subscript_bounds(nest, refs, k)
        if bounds is None or len(bounds[1]) > MAX_HULL:
            return None
        lo, highs = bounds
        if not self._within_extent(nest, refs, lo, highs[0], None):
            return None
        lengths = [(hi - lo + Poly.const(1)).render(wrap) for hi in highs]
        length = lengths[0]
        for other in lengths[1:]:
            # max(a, b) as arithmetic: clang-19 crashed (SimplifyCFG, loopfuzz seed 17000686)
            # on a conditional expression in a section length of a target data region
            length = f"(({length}) + (({other}) - ({length})) * (({other}) > ({length})))"
        return lo.render(wrap), length

    def _within_extent(self, nest: Nest, refs: list[ArrayRef], lo: Poly, hi: Poly, full: str | None) -> bool:
        """0 <= lo, and hi < the extent when it is known, proved on the nest's domain."""
        doms = [self.ranges.domain_of(a, nest) for a in refs]
        if not self._nonneg(lo, doms, nest):
            return False
        if full is None:
            return True
        ext = self._extent_poly(full, nest)
        return ext is not None and self._nonneg(ext - hi - Poly.const(1), doms, nest)

    def _nonneg(self, p: Poly, doms: list[list[LoopBounds]], nest: Nest) -> bool:
        c = concrete(p, {k: v for k, v in nest.values.items() if isinstance(v, int)})
        if c.is_const:
            return c.const_value >= 0
        for dom in doms:
            if nonneg_on(c, [dom], nest.values):
                continue
            lbs = param_lower_bounds(c.symbols(), [dom], nest.values)
            for a in self._assumed:
                lbs[a.name] = max(lbs.get(a.name, a.bound), a.bound)
            if not nonneg_poly(c, lbs) and not nonneg_below_bounds(c, list(dom.guards), lbs):
                return False
        return True

    def _extent_poly(self, full: str, nest: Nest) -> Poly | None:
        """An extent text ("100", "n", "N", "v.size()") as a Poly over the nest's symbols."""
        v = c_int_literal(full) if full[:1].isdigit() else None
        if v is not None:
            return Poly.const(v)
        text = full.strip()
        if text.isidentifier():
            mv = self.affine.macro_value(text)
            if mv is not None:
                return Poly.const(mv)
            return Poly.sym(text)
        return None

    def _past_dimension(self, lo_hi, full: str, nest: Nest, refs) -> int | None:
        """The index an unconditional access over rectangular loops reaches outside a
        dimension of ``full`` elements (both known numbers), or None."""
        if lo_hi is None or any(a.conditional for a in refs) or not self._rectangular(refs):
            return None
        from pcx_driver.engine.hostaccess import unstable_macros

        unstable = unstable_macros(self.model.data, self.model.unit.language)
        if (lo_hi[0].symbols() | lo_hi[1].symbols() | {full}) & unstable:
            return None  # (a macro defined twice: its value here is not known for sure)
        size = c_int_literal(full) if full and full[:1].isdigit() else self.affine.macro_value(full)
        lo, hi = concrete(lo_hi[0], nest.values), concrete(lo_hi[1], nest.values)
        if size is None:
            return None
        if hi.is_const and hi.const_value >= size:
            return hi.const_value
        if lo.is_const and lo.const_value < 0:
            return lo.const_value
        return None

    def _equal_extent(self, length: Poly, full: str, nest: Nest) -> bool:
        v = c_int_literal(full) if full and full[:1].isdigit() else None
        if v is not None and length.is_const:
            return length.const_value == v
        concrete = length
        for s, val in nest.values.items():
            if isinstance(val, int):
                concrete = concrete.substitute(s, Poly.const(val))
        if v is not None and concrete.is_const:
            return concrete.const_value == v
        return length.render() == full.replace(" ", "") or length == Poly.sym(full)

    def _allocation_extent(self, d: Decl, fi: FunctionInfo | None, use: int) -> str | None:
        """``n`` for a local pointer initialised by malloc(n * sizeof(T)), calloc(n, ...), new T[n],
        or assigned one such allocation before the nest at ``use`` (``assigned_allocation``)."""
        if fi is None or d.decl_offset is None:
            return None
        node = self.model.root.descendant_for_byte_range(d.decl_offset, d.decl_offset)
        while node is not None and node.type not in ("init_declarator", "declaration"):
            node = node.parent
        if node is not None and node.type == "init_declarator":
            count = allocation_count(node, self.model.data, d.name)
            if count is not None:
                return count if self._count_holds(count, fi.node, node.end_byte) else None
        ext = assigned_allocation(fi.node, self.model.data, d.name, use)
        return ext.dims[0] if ext is not None and self._count_holds(ext.dims[0], fi.node, ext.byte) else None

    def _count_holds(self, count: str, fnode: Node, after: int) -> bool:
        """No name of ``count`` (an allocation's element count, read at byte ``after``) is
        stored to anywhere in ``fnode`` after that, nor can be unseen (``_stays_put``): a
        store later in the text may run before a use of the pointer through the back edge
        of a loop around both (``m = m / 2`` after the kernel in the loop: the kernel
        mapped half the array it read whole from the second pass on, a held-out check)."""
        from pcx_driver.engine.hostaccess import assigned_and_declared, expression_identifiers

        names = expression_identifiers(count, self.model.unit.language)
        later = assigned_and_declared(fnode, self.model.data, after, fnode.end_byte, declarations=False)
        if names & later:
            return False
        return all(self._stays_put(n, fnode, [], reading_macros_ok=True) for n in names
                   if not (n in self.affine.sem.macro_defs and not self.affine.sem.macro_defs[n][0]))

    def _param_extent_noted(self, d: Decl, fi: FunctionInfo | None, name: str, extents: list) -> str | None:
        """``_param_extent`` for a pointer parameter, with a PCX202 note saying where it came from."""
        if d.shape != "pointer" or d.kind != "param" or len(extents) != 1:
            return None
        full = self._param_extent(d, fi)
        if full is not None and fi is not None:
            self._notes.append(("PCX202", f"extent of '{name}' is {full}: every call of '{fi.name}' passes an "
                                "allocation of that many elements"))
            return full
        handed = self._caller_extent(d, fi)
        if handed is None:
            return None
        self._handed = handed
        calls = "; ".join(f"line {c.line}: {c.count} elements of '{c.argument}'" for c in handed.sites[:3])
        self._notes.append(("PCX202", f"extent of '{name}' is handed over by the calls that know it ({calls}"
                            f"{'; ...' if len(handed.sites) > 3 else ''}); at any other call of '{fi.name}' "
                            "the loop runs as written"))
        return handed.local_length

    def _caller_extent(self, d: Decl, fi: FunctionInfo | None) -> CallerExtent | None:
        """Pointer parameter ``d`` of ``fi`` as a ``CallerExtent``: the calls of ``fi``
        that are statements of their own (``f(a, n);``) in a function of this text, whose
        argument is a local pointer or array of ``d``'s element type with a known element
        count (``_param_extent``'s allocations) that provably still holds at the call
        (``_handed_count``), and no argument with a call or an assignment (which could
        move the allocation between the two).  Other calls keep the loop as written (the
        kernel's run-time test).  None without one such call, for a method, or where
        ``fi`` may move the pointer."""
        from pcx_driver.engine import callgraph
        from pcx_driver.engine.hostaccess import assigned_and_declared, param_names
        from pcx_driver.engine.source import arguments_of, strip_parens, walk

        if fi is None or fi.is_member:
            return None
        data = self.model.data
        params = param_names(fi.node, data)
        if d.name not in params or params.count(d.name) != 1:
            return None
        at = params.index(d.name)
        bare = fi.name.split("::")[-1]
        body = fi.node.child_by_field_name("body")
        if body is None or d.name in assigned_and_declared(body, data, body.start_byte, body.end_byte) or \
                not self._stays_put(d.name, fi.node, []):
            return None
        first = next((c for c in body.named_children if c.type != "comment"), None)
        if first is None:
            return None
        callers = {f.node.id: f for f in self.model.functions()}
        namesakes = sum(1 for f in callers.values() if f.name.split("::")[-1] == bare)
        if any(f.name.split("::")[-1].startswith(bare + "<") for f in callers.values()):
            # an explicit specialization (``template <> void gather<int>(...)``) has a body
            # of its own, without the take: a call that resolves to it would leave the
            # hand-over for the next call to find (a held-out check)
            return None
        sites: list[CallSiteExtent] = []
        graph = callgraph.of(data, self.model.unit.language)
        for site in graph.sites:
            if site.name != bare or not site.unqualified:
                continue
            use = site.node
            callee = self.affine.sem.callee_of(use.start_byte, use.end_byte)
            if callee is not None and callee.definition is not None:
                lo, hi = callee.definition
                if not (lo <= fi.node.start_byte < hi or fi.node.start_byte <= lo < fi.node.end_byte):
                    continue  # an overload, or a namesake in another namespace
            elif namesakes != 1:
                continue
            stmt = use.parent
            caller = use.parent
            while caller is not None and caller.type != "function_definition":
                caller = caller.parent
            if stmt is None or stmt.type != "expression_statement" or caller is None or \
                    caller.id == fi.node.id or caller.id not in callers or _value_of_a_statement_expression(stmt) \
                    or callers[caller.id].is_template:
                continue  # (a call in a template: which function it calls depends on the instantiation)
            argv = [strip_parens(a) for a in arguments_of(use.child_by_field_name("arguments"))]
            if len(argv) != len(params) or argv[at] is None or argv[at].type != "identifier" or any(
                    n.type in ("call_expression", "assignment_expression", "update_expression", "new_expression",
                               "delete_expression", "comma_expression", "lambda_expression", "gnu_asm_expression")
                    for a in argv if a is not None for n in walk(a)):
                continue
            got = self.affine.sem.decl_of(argv[at].start_byte)
            if got is None or got.kind != "local" or (got.element_type != d.element_type and not d.dependent):
                continue
            handing = [s.node for s in graph.sites_between(caller.start_byte, caller.end_byte) if s.name == bare]
            count = self._handed_count(got, callers[caller.id], use, handing)
            if count is None:
                continue
            sites.append(CallSiteExtent(stmt.start_byte, stmt.end_byte, self.model.line_col(use.start_byte)[0],
                                        self._t(argv[at]), count))
        if not sites:
            return None
        # (the name's length first: ``a(b_c)`` and ``a_b(c)`` are two; its byte last:
        # overloads and namesakes in other namespaces are two)
        stem = f"{len(bare)}_" + "".join(ch if ch.isalnum() else "_" for ch in bare) + "_" + d.name + \
            f"_{fi.node.start_byte}"
        return CallerExtent(fi.name, d.name, f"pcx_xbase{stem}", f"pcx_xlen{stem}", f"pcx_hbase_{d.name}",
                            f"pcx_hlen_{d.name}", first.start_byte, sites)

    def _handed_count(self, got: Decl, caller: FunctionInfo, use: Node, handing: list[Node]) -> str | None:
        """The element count of ``got`` (a local array, or a local pointer set once by an
        allocation) at the call ``use``, in the caller's names, when it provably still
        holds there: the pointer cannot have been moved (``_stays_put``: the calls in
        ``handing`` aside) and the count's names still mean and hold what they did at
        the allocation (``_count_stable``); else None."""
        from pcx_driver.engine.hostaccess import assigned_and_declared

        count = (self._allocation_extent(got, caller, use.start_byte) if got.shape == "pointer"
                 else got.dims[0] if got.shape == "array" and len(got.dims) == 1 else None)
        cbody = caller.node.child_by_field_name("body")
        if count is None or cbody is None:
            return None
        if got.shape == "pointer":
            stored = assigned_and_declared(cbody, self.model.data, cbody.start_byte, cbody.end_byte,
                                           declarations=False)
            if got.name in stored and self._allocated_where_declared(got):
                return None  # set again (or moved) after the allocation
            if not self._stays_put(got.name, caller.node, handing, allocation_ok=True):
                return None
        return count if self._count_stable(count, caller.node, use, got) else None

    def _stays_put(self, name: str, fnode: Node, handing: list[Node], allocation_ok: bool = False,
                   reading_macros_ok: bool = False) -> bool:
        """Nothing in function ``fnode`` can change the pointer ``name`` unseen: no
        address of it taken (but by the one ``posix_memalign(&name, ...)`` that allocates
        it, with ``allocation_ok``), no macro whose list names it (with ``reading_macros_ok``
        none that also assigns, increments, addresses or holds a statement), no inline assembly; in
        C++ no reference bound to it, no lambda, and every call that takes it as it is
        (but the ``handing`` calls) a C library function or a function of this file whose
        parameter there is no reference (``std::swap(a, b)`` re-points both)."""
        from pcx_driver.engine.hostaccess import macro_names
        from pcx_driver.engine.macros import WRITE_TOKENS
        from pcx_driver.engine.source import arguments_of, strip_parens, walk

        data, lang = self.model.data, self.model.unit.language
        sem = self.affine.sem
        for mname, names in macro_names(data, lang).items():
            if name in names:
                body = sem.macro_defs.get(mname, (False, None))[1]
                if not reading_macros_ok or body is None or set(body) & (WRITE_TOKENS | {"&", "{", ";"}):
                    return False
        for mu in sem.macros_in(fnode.start_byte, fnode.end_byte):
            # a macro that assigns, increments or takes an address of what it is given
            # (``#define SHRINK(x) ((x) = 10)``), given the name: a store the walk cannot see
            body = sem.macro_defs.get(mu.name, (False, []))[1]
            if mu.function_like and (set(body) & (WRITE_TOKENS | {"&", "{", ";"})):
                call = self.model.root.descendant_for_byte_range(mu.start, mu.start)
                while call is not None and call.type != "call_expression" and call.parent is not None \
                        and call.start_byte == mu.start:
                    call = call.parent
                args = call.child_by_field_name("arguments") if call is not None and \
                    call.type == "call_expression" else None
                if args is None or any(x.type == "identifier" and self._t(x) == name for x in walk(args)):
                    return False
        addressed = 0
        cxx = lang is Language.CXX
        for n in walk(fnode):
            t = n.type
            if t in ("gnu_asm_expression", "asm_statement") or (cxx and t == "lambda_expression"):
                return False
            if t == "pointer_expression" and self._t(n)[:1] == "&":
                arg = strip_parens(n.child_by_field_name("argument"))
                if arg is not None and arg.type == "identifier" and self._t(arg) == name:
                    up = n.parent  # (through ``(void **)&a``)
                    while up is not None and up.type in ("cast_expression", "parenthesized_expression"):
                        up = up.parent
                    call = up.parent if up is not None and up.type == "argument_list" else None
                    fname = self._t(call.child_by_field_name("function")) if call is not None and \
                        call.type == "call_expression" else ""
                    addressed += 1
                    if not (allocation_ok and fname == "posix_memalign") or addressed > 1:
                        return False
            if cxx and t == "init_declarator" and any(c.type == "reference_declarator" for c in walk(n)):
                value = strip_parens(n.child_by_field_name("value"))
                if value is not None and value.type == "identifier" and self._t(value) == name:
                    return False
            if cxx and t == "call_expression" and not any(n.id == h.id for h in handing):
                args = arguments_of(n.child_by_field_name("arguments"))
                for k, a in enumerate(args):
                    a = strip_parens(a)
                    if a is not None and a.type == "identifier" and self._t(a) == name and \
                            not self._by_value(n, k):
                        return False
        return True

    def _by_value(self, call: Node, k: int) -> bool:
        """Argument ``k`` of ``call`` is passed by value: libclang's parameter ``k`` of the
        callee is no reference (``Semantics.reference_args``); where it names none, a C
        library function (not one of ``std``), or a function defined in this file whose
        parameter ``k`` is no reference."""
        from pcx_driver.engine.source import function_declarator, walk

        sem = self.affine.sem
        by_reference = sem.reference_args_of(call.start_byte, call.end_byte)
        if by_reference is not None:
            return k not in by_reference  # (libclang's parameters: a header's function too)
        c = sem.callee_of(call.start_byte, call.end_byte)
        if c is None:
            return False
        if c.library:
            return not c.qualified.startswith("std::") and c.kind == "function"
        if c.definition is None or not c.in_main_file:
            return False
        fn = self.model.root.descendant_for_byte_range(c.definition[0], max(c.definition[0], c.definition[1] - 1))
        while fn is not None and fn.type != "function_definition":
            fn = fn.parent
        decl = function_declarator(fn)
        plist = decl.child_by_field_name("parameters") if decl is not None else None
        ps = [p for p in plist.named_children if p.type in ("parameter_declaration", "optional_parameter_declaration")] \
            if plist is not None else []
        return k < len(ps) and not any(x.type in ("reference_declarator", "rvalue_reference_declarator")
                                       for x in walk(ps[k]))

    def _count_stable(self, count: str, caller: Node, use: Node, got: Decl) -> bool:
        """Every name in ``count`` (an allocation's element count) still means and holds at
        the call ``use`` what it did at the allocation of ``got``: an object-like macro
        the file defines once, with a constant value, or a scalar local or parameter that
        ``caller`` declares exactly once, before ``got``, in a scope around both, which is
        ``const`` or never assigned and cannot change unseen (``_stays_put``); and
        ``count`` is arithmetic on those (no call, subscript, member or dereference,
        whose values the analysis cannot follow)."""
        from pcx_driver.engine.hostaccess import (assigned_and_declared, assignment_targets, declared_name_node,
                                                  expression_identifiers, expression_root, parse_expression)
        from pcx_driver.engine.source import walk

        lang = self.model.unit.language
        _, value = parse_expression(count, lang)
        root = value
        while root is not None and root.parent is not None:
            root = root.parent
        if value is None or root.has_error or any(
                x.type not in ("identifier", "number_literal", "binary_expression", "parenthesized_expression",
                               "sizeof_expression", "cast_expression", "type_descriptor", "primitive_type",
                               "sized_type_specifier", "type_identifier", "unary_expression",
                               "field_expression", "field_identifier")
                and x.is_named or x.type == "->" for x in walk(value)):
            return False  # (``p.nx * p.ny`` of a local struct: its members are read as the struct is)
        sem = self.affine.sem
        declared: dict[str, list[Node]] = {}
        for n in walk(caller):
            if n.type in ("declaration", "parameter_declaration"):  # (an init_declarator is a declarator of one)
                for dn in n.children_by_field_name("declarator"):
                    name = declared_name_node(dn)
                    if name is not None and name.type == "identifier":
                        declared.setdefault(self._t(name), []).append(name)
        body = caller.child_by_field_name("body")
        changed = assigned_and_declared(body, self.model.data, body.start_byte, body.end_byte, declarations=False) \
            if body is not None else set()
        pointer_at = got.decl_offset if got.decl_offset is not None else use.start_byte
        # structs a member of which is assigned (``p.nx = 5``, through a member pointer too)
        members_assigned = {self._t(root) for _, target in (assignment_targets(body) if body is not None else ())
                            for root in [expression_root(target)] if root is not None and root.type == "identifier"}
        for name in expression_identifiers(count, lang):
            if name in sem.macro_defs and not sem.macro_defs[name][0] and name not in declared:
                if name in sem.unstable_macros or not isinstance(self.affine.macro_value(name), int):
                    return False
                continue
            where = declared.get(name, [])
            if len(where) != 1:
                return False
            d = sem.decl_declared_at(where[0].start_byte)
            member = d is not None and d.shape == "record"  # (through a member: ``p.nx``)
            if d is None or not (member or d.shape == "scalar" and d.integral) or d.reference or d.volatile or \
                    d.kind not in ("param", "local"):
                return False
            if not d.const and (name in changed or (member and name in members_assigned) or
                                not self._stays_put(name, caller, [])):
                return False
            scope = where[0].parent
            while scope is not None and scope.type not in ("compound_statement", "for_statement",
                                                           "function_definition", "parameter_list"):
                scope = scope.parent
            if scope is None:
                return False
            if scope.type != "parameter_list" and not (
                    scope.start_byte <= use.start_byte < scope.end_byte and where[0].end_byte <= pointer_at
                    and scope.start_byte <= pointer_at < scope.end_byte):
                return False
        return True

    def _param_extent(self, d: Decl, fi: FunctionInfo | None) -> str | None:
        """The extent of pointer parameter ``d`` of ``fi`` from the calls of ``fi``, when
        they are all in this text (``aliasing.callers_all_seen``: ``static``, or the build
        links this one source alone) and each passes a local pointer or array whose
        element count (``a = malloc(aSize * sizeof(T))``, ``aligned_alloc(64, n * n *
        sizeof(float))``) is written in variables passed as other parameters, which ``fi``
        never assigns (``bs(aSize, zSize, a, ...)``): the count in those parameters'
        names (``aSize``, ``n * n``), the same at every call, or None."""
        from pcx_driver.engine import callgraph
        from pcx_driver.engine.aliasing import callers_all_seen
        from pcx_driver.engine.hostaccess import assigned_and_declared, param_names
        from pcx_driver.engine.source import arguments_of, strip_parens

        if fi is None or not callers_all_seen(self.model, fi):
            return None
        params = param_names(fi.node, self.model.data)
        if d.name not in params or params.count(d.name) != 1:
            return None
        at = params.index(d.name)
        bare = fi.name.split("::")[-1]
        body = fi.node.child_by_field_name("body")
        assigned = assigned_and_declared(body, self.model.data, body.start_byte, body.end_byte) if body else set()
        if body is None or d.name in assigned:
            return None  # the pointer moves: the count no longer starts where it points
        callers = {f.node.id: f for f in self.model.functions()}
        common: str | None = None  # the extent in the callee's names, the same at every call
        graph = callgraph.of(self.model.data, self.model.unit.language)
        for site in graph.sites:
            if site.name != bare or not site.unqualified:
                continue
            use = site.node
            caller = use.parent
            while caller is not None and caller.type != "function_definition":
                caller = caller.parent
            if caller is None or caller.id == fi.node.id or caller.id not in callers:
                return None  # a call at file scope, or a recursive one
            argv = [strip_parens(a) for a in arguments_of(use.child_by_field_name("arguments"))]
            if len(argv) != len(params) or argv[at] is None or argv[at].type != "identifier":
                return None
            got = self.affine.sem.decl_of(argv[at].start_byte)
            if got is None or got.kind not in ("local", "global") or \
                    (got.element_type != d.element_type and not d.dependent):
                return None
            if got.shape == "pointer" and got.kind != "local":
                return None  # (any function may set a file-scope pointer between the two)
            handing = [s.node for s in graph.sites_between(caller.start_byte, caller.end_byte) if s.name == bare]
            count = self._handed_count(got, callers[caller.id], use, handing)
            if count is None:
                return None  # (a count or a pointer that may change unseen: a held-out check's crashes)
            here = self._in_callee_terms(count, argv, params, at, assigned)
            if here is None or (common is not None and here != common):
                return None
            common = here
        return common

    def _allocated_where_declared(self, d: Decl) -> bool:
        """``T *a = malloc(...)``: the declaration is the allocation (else one store is,
        ``a = malloc(...)`` or ``posix_memalign(&a, ...)``)."""
        node = self.model.root.descendant_for_byte_range(d.decl_offset, d.decl_offset) \
            if d.decl_offset is not None else None
        while node is not None and node.type not in ("init_declarator", "declaration"):
            node = node.parent
        return node is not None and node.type == "init_declarator" and \
            allocation_count(node, self.model.data, d.name) is not None

    def _in_callee_terms(self, count: str, argv: list, params: list[str], at: int, assigned: set[str]) -> str | None:
        """``count``, an element count in a caller's names, in the callee's: each variable
        replaced by the parameter whose argument at this call is that very variable (one
        the callee never assigns); object-like macros stay.  None when a name has no such
        parameter."""
        from pcx_driver.engine.hostaccess import parse_expression
        from pcx_driver.engine.source import strip_parens, walk

        data, value = parse_expression(count, self.model.unit.language)
        root = value
        while root is not None and root.parent is not None:
            root = root.parent
        value = strip_parens(value)
        if value is None or root.has_error:
            return None
        edits: list[tuple[int, int, str]] = []
        for n in walk(value):
            if n.type != "identifier":
                continue
            name = n.text.decode()
            q = next((q for q, a in enumerate(argv) if q != at and a is not None and a.type == "identifier"
                      and self._t(a) == name and params[q] not in assigned), None)
            if q is not None:
                edits.append((n.start_byte, n.end_byte, params[q]))
            elif not (name in self.affine.sem.macro_defs and not self.affine.sem.macro_defs[name][0]
                      and name not in params):
                return None
        out = data[value.start_byte:value.end_byte]
        for lo, hi, text in sorted(edits, reverse=True):
            lo, hi = lo - value.start_byte, hi - value.start_byte
            out = out[:lo] + text.encode() + out[hi:]
        return out.decode()


    def _covers_box(self, nest: Nest, refs: list[ArrayRef], dims: list[tuple[str, str]]) -> bool:
        """Some unconditional access touches every element of the section."""
        for a in refs:
            if a.conditional or any(p is None for p in a.polys):
                continue
            if self._covers(nest, a, refs):
                return True
        return False

    def _covers(self, nest: Nest, a: ArrayRef, refs: list[ArrayRef]) -> bool:
        polys = a.delin if a.delin else a.polys
        used: set[str] = set()
        for k, p in enumerate(polys):
            idx = [s for s in p.symbols() if s in nest.index_keys]
            if len(idx) != 1:
                return False
            i = idx[0]
            lp = next((x for x in a.loops if x.index == i), None)
            if lp is None or i in used or abs(lp.step) != 1 or p.coeff_of(i) != Poly.const(1) or p.degree_in([i]) != 1:
                return False
            if lp.low is None or lp.high is None:
                return False
            if any(s in nest.index_keys for s in (lp.low.symbols() | lp.high.symbols())):
                return False  # triangular
            used.add(i)
            if a.delin and k > 0:
                # inner delinearised dimension must run over the whole stride
                if lp.low != Poly.const(0):
                    return False
        # Every loop around the access that no subscript follows runs at least once for
        # each iteration of the loops around it: ``for (j = 0; j < m; j++) A[i] = ...`` with
        # m = 0, ``j < i`` (nothing for i = 0) or ``j < cnt[i]`` leaves elements of A's
        # section unwritten, which a ``map(from:)`` would bring back undefined.
        for k, lp in enumerate(a.loops):
            if lp.index not in used and not self._runs_at_least_once(lp, a.loops[:k], nest):
                return False
        if a.delin:
            # full rows, one after another: the access touches every element between its
            # first and its last, which must be the ends of the section too (two blocks
            # written of three, ``a[0*n*m + i*m + j]`` and ``a[2*n*m + i*m + j]``: their
            # hull holds the middle block, which no access writes)
            if not (len(polys) == 2 and self._delin_full(nest, a)):
                return False
            polys = a.polys
        # the access's own image equals the union's range in every dimension
        for k in range(len(polys)):
            mine = (self.ranges.extreme(a.polys[k], a.loops, True, nest.values),
                    self.ranges.extreme(a.polys[k], a.loops, False, nest.values))
            union = self.ranges.subscript_range(nest, refs, k)
            if union is None or mine[0] is None or mine[1] is None:
                return False
            if k > 0 and a.decl is not None and len(a.decl.dims) > k and a.decl.dims[k] is not None:
                if not (mine[0] == Poly.const(0) and self._equal_extent(mine[1] + Poly.const(1), a.decl.dims[k], nest)):
                    return False
            elif (mine[0] - union[0]) != Poly() or (mine[1] - union[1]) != Poly():
                return False
        return True

    @staticmethod
    def _runs_at_least_once(lp, outer: list, nest: Nest) -> bool:
        """isl proves loop ``lp`` has an iteration wherever the loops ``outer`` around it
        run (with the facts of the serial loops around the nest)."""
        if lp.problem or lp.conditions or lp.low is None or lp.high is None:
            return False
        return nonneg_on(lp.high - lp.low, [loop_domain(outer, nest.context)], nest.values)

    def _delin_full(self, nest: Nest, a: ArrayRef) -> bool:
        try:
            return self._delin_full_unchecked(nest, a)
        except (ValueError, StopIteration):
            return False  # not the simple [i][j] shape

    def _delin_full_unchecked(self, nest: Nest, a: ArrayRef) -> bool:
        q, r = a.delin
        (i,) = [s for s in q.symbols() if s in nest.index_keys]
        (j,) = [s for s in r.symbols() if s in nest.index_keys]
        # the row's width is the row index's coefficient, all of it: ``k*(nx + 1) + i`` with
        # ``i < nx`` leaves the last element of each row untouched
        width = a.polys[0].coeff_of(i)
        lj = next(x for x in a.loops if x.index == j)
        return q.coeff_of(i) == Poly.const(1) and r == Poly.sym(j) and lj.low == Poly.const(0) and \
            lj.high is not None and concrete(lj.high + Poly.const(1) - width, nest.values) == Poly()

    @staticmethod
    def _whole_elements(refs: list[ArrayRef], writes: list[ArrayRef]) -> bool:
        """Every element written through a member (``p[i].x = ...``) has each member of
        its struct assigned at the same position by ``writes`` (plain, unconditional)."""
        members = [a for a in refs if a.write and a.fields]
        if not members:
            return True
        decl = refs[0].decl
        fields = set(decl.element_fields) if decl is not None else set()
        if not fields:
            return False

        def position(a: ArrayRef):
            return tuple(p.render() if p is not None else None for p in a.polys), tuple(id(lp) for lp in a.loops)

        assigned: dict[tuple, set[str]] = {}
        for w in writes:
            got = assigned.setdefault(position(w), set())
            if not w.fields:
                got |= fields
            elif len(w.fields) == 1:
                got.add(w.fields[0])
        return all(assigned.get(position(a), set()) >= fields for a in members)

    def _written_first(self, refs: list[ArrayRef]) -> bool:
        """Every read of the array follows, in the same iteration, a plain write of the same
        element, and every write stores whole elements: ``p[i].w = 1`` leaves the rest of
        ``p[i]`` as it was, so the section must come in (a ``from`` map would bring back
        the device's uninitialised members: Rodinia's streamcluster, PCX's fixture 20)."""
        writes = [a for a in refs if a.write and a.op == "=" and not a.conditional]
        if not writes or not self._whole_elements(refs, writes):
            return False
        for r in refs:
            if not r.read:
                continue
            if r.via is not None:  # read in a helper: where it happens is the call, not r.node
                return False
            ok = False
            for w in writes:
                # the store completes with its statement: a[i] = a[i] + 1 reads before it writes
                done = w.stmt.end_byte if w.stmt is not None else w.node.end_byte
                if done > r.node.start_byte or w is r:
                    continue
                if w.polys != r.polys or w.fields != r.fields:
                    continue
                if r.loops[: len(w.loops)] != w.loops:
                    continue
                ok = True
                break
            if not ok:
                return False
        return True
