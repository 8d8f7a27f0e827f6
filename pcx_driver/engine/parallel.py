"""Which loops of a nest run in parallel: dependence tests of its arrays, and collapse depth.

Contract: ``Parallelism(model, ranges)`` for one translation unit:
- ``check_root(nest, refs, reasons)``: tests the nest's root loop against the accesses
  ``refs`` to one array; a dependence it carries (PCX101) or subscripts isl cannot test
  (PCX102, PCX103) go in ``reasons``, unless every access is an update with one
  commutative operator, compound (``h[k] += v``) or spelled out (``s[j] = s[j] + v``), a
  histogram: then it returns True and the updates are to be made atomic.  Parametric
  strides (``a[i * n + j]``) are delinearised first (``a.delin``).
- ``collapse(nest)``: how many perfectly nested, rectangular loops from the root carry
  no dependence either (the ``collapse`` clause).
The dependence tests themselves (isl) are in ``engine/dependence.py``.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine.access import ArrayRef
from pcx_driver.engine.dependence import NotAffine, carried_conflict, delinearise
from pcx_driver.engine.loops import Loop, Poly, single_statement
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.ranges import AccessRanges
from pcx_driver.engine.source import SourceModel, strip_parens, walk


class Parallelism:
    """Dependence verdicts for one unit's nests (see the module docstring)."""

    def __init__(self, model: SourceModel, ranges: AccessRanges):
        self.model = model
        self.ranges = ranges

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def _line(self, n: Node | int) -> int:
        return self.model.line_col(n if isinstance(n, int) else n.start_byte)[0]

    def check_root(self, nest: Nest, refs: list[ArrayRef], reasons: list[tuple[str, str]]) -> bool:
        """Test the root loop; True when the array's updates must be atomic (histogram)."""
        writes = [a for a in refs if a.write]
        if not writes:
            return False
        name = refs[0].base
        indices = set(nest.index_keys) | {a.window for a in refs if a.window}  # a window's index is a loop's
        # every subscript must be affine (after delinearisation of parametric strides)
        nonaffine = [a for a in refs if any(p is None or p.degree_in(indices) > 1 for p in a.polys)]
        needs_delin = [a for a in refs if a not in nonaffine and any(_index_param_product(p, indices) for p in a.polys)]
        if nonaffine or needs_delin and not self._delinearise(nest, refs, indices):
            if self._histogram(refs, nest):
                return True
            bad = (nonaffine or needs_delin)[0]
            if bad.write:
                reasons.append(("PCX103", f"write to '{self._t(bad.node)}' (line {self._line(bad.node)}) through a "
                                "subscript that is not affine may conflict between iterations"))
            else:
                reasons.append(("PCX102", f"subscript of '{self._t(bad.node)}' (line {self._line(bad.node)}) is not an "
                                f"affine function of the loop indices while '{name}' is written in the nest"))
            return False
        root_key = nest.root.node.id
        seen = set()
        for w in writes:
            for x in refs:
                if x.fields and w.fields and x.fields[0] != w.fields[0]:
                    continue
                sig = (tuple(w.delin or w.polys), tuple(x.delin or x.polys), id(w.loops[-1]) if w.loops else 0,
                       id(x.loops[-1]) if x.loops else 0)
                if sig in seen:
                    continue
                seen.add(sig)
                ia = self.ranges.domain_of(w, nest, w.delin or w.polys, True)
                ib = self.ranges.domain_of(x, nest, x.delin or x.polys, x.write)
                try:
                    conflict = carried_conflict(ia, ib, [], root_key, nest.values)
                except NotAffine:
                    reasons.append(("PCX102", f"subscripts of '{name}' cannot be tested exactly"))
                    return False
                if conflict is not None:
                    if self._histogram(refs, nest):
                        return True
                    dist = f" (distance {conflict.distance})" if conflict.distance else ""
                    kind = "written" if x.write else "read"
                    same = x is w
                    what = (f"'{self._t(w.node)}' is written by different iterations of loop '{nest.root.index}'" if same
                            else f"{self._t(w.node)} written, {self._t(x.node)} {kind}{dist}")
                    reasons.append(("PCX101", f"loop-carried dependence on '{name}': {what} (line {self._line(w.node)})"))
                    return False
        return False

    def _delinearise(self, nest: Nest, refs: list[ArrayRef], indices: set[str]) -> bool:
        if any(len(a.polys) != 1 for a in refs):
            return False
        facts: list[Poly] = []
        dims = delinearise([a.polys[0] for a in refs], [self.ranges.domain_of(a, nest) for a in refs], indices,
                           nest.values, assume=facts)
        if dims is None:
            return False
        nest.row_facts.extend(f for f in facts if f not in nest.row_facts)
        for a, d in zip(refs, dims):
            a.delin = d
        return True

    def histogram_operator(self, refs: list[ArrayRef]) -> str:
        """For an array whose updates ``check_root`` made atomic: the one OpenMP reduction
        operator they all apply (``+`` for ``+=``, ``-=``, ``++``, ``--``; ``*``, ``&``,
        ``|``, ``^``), or "" where several operators update elements of their own."""
        by_op = self._updates_by_operator(refs)
        return next(iter(by_op))[:-1] if by_op is not None and len(by_op) == 1 else ""

    def _histogram(self, refs: list[ArrayRef], nest: Nest) -> bool:
        """All accesses are updates with one commutative operator, compound (``h[k] += v``)
        or spelled out (``s[j] = s[j] + v``, PolyBench's bicg and atax): make them atomic.
        Several operators are fine where each one's updates touch elements no other
        operator's do: constant subscripts, different for each operator (HeCBench
        atomicIntrinsics: ``g[0] += 10; g[4] &= v; g[5] |= w;`` in one loop)."""
        by_op = self._updates_by_operator(refs)
        if by_op is None:
            return False
        d = refs[0].decl
        element = d.element_type if d is not None else ""
        if any(w in element for w in ("long double", "__float128", "_Float128", "_Complex", "complex", "__int128")):
            # no hardware atomic: clang calls libatomic's __atomic_* (a link failure), and
            # nvptx has none for 128-bit types
            return False
        if len(by_op) == 1:
            return True
        # each operator on elements of its own: constant subscripts, no element shared
        elements: list[set] = []
        for group in by_op.values():
            consts = set()
            for a in group:
                if not a.polys or any(p is None or not p.is_const for p in a.polys):
                    return False
                consts.add(tuple(p.const_value for p in a.polys))
            elements.append(consts)
        return all(not (x & y) for i, x in enumerate(elements) for y in elements[i + 1:])

    def _updates_by_operator(self, refs: list[ArrayRef]) -> dict[str, list[ArrayRef]] | None:
        """Each compound operator's updates (``-=``, ``++`` and ``--`` under ``+=``), where
        every access is an update whose value does not read the array; None otherwise."""
        by_op: dict[str, list[ArrayRef]] = {}  # each operator's updates
        # spelled-out updates: the target's node -> the read of the same element on the right
        spelled = {a.node.id: x for a in refs if a.write and a.op == "=" for x in [self._spelled_out(a, refs)] if x}
        operands = {x.node.id for x in spelled.values()}
        for a in refs:
            if not a.write and a.node.id in operands:
                continue  # the ``s[j]`` read on the right of a spelled-out update
            if not a.write or a.op not in ("+=", "-=", "++", "--", "*=", "|=", "&=", "^=", "="):
                return None
            if a.fields:
                return None
            st = a.stmt
            if st is None or st.type != "expression_statement" or st.named_child_count != 1:
                return None
            if st.named_children[0].id != (a.node.parent.id if a.node.parent is not None else -1):
                return None
            assign = st.named_children[0]
            right = assign.child_by_field_name("right")
            if a.op == "=":
                read = spelled.get(a.node.id)
                if read is None:
                    return None
                value = strip_parens(right)
                op = self._t(value.child_by_field_name("operator"))
                by_op.setdefault({"-": "+="}.get(op, op + "="), []).append(a)
                # the rest of the value must not read the same array
                rest = [c for c in (value.child_by_field_name(f) for f in ("left", "right"))
                        if c is not None and c.id != read.node.id]
                if any(x.type == "identifier" and self._t(x) == a.root for c in rest for x in walk(c)):
                    return None
                continue
            by_op.setdefault({"-=": "+=", "++": "+=", "--": "+="}.get(a.op, a.op), []).append(a)
            # the update's value must not read the same array
            if right is not None and any(x.type == "identifier" and self._t(x) == a.root for x in walk(right)):
                return None
        return by_op

    def _spelled_out(self, w: ArrayRef, refs: list[ArrayRef]) -> ArrayRef | None:
        """The read ``x[e]`` of ``x[e] = x[e] op v`` (or ``v op x[e]`` for a commutative
        op) when ``w`` is that assignment's target: OpenMP's ``x = x binop expr`` form of
        an atomic update.  The subscripts must be the same side-effect-free text, and the
        statement the nest's own (not a helper's walked as if inlined)."""
        assign = w.node.parent
        if w.via is not None or assign is None or assign.type != "assignment_expression" or \
                assign.child_by_field_name("left") != w.node:
            return None
        right = strip_parens(assign.child_by_field_name("right"))
        if right is None or right.type != "binary_expression":
            return None
        op = self._t(right.child_by_field_name("operator"))
        sides = {"+": ("left", "right"), "*": ("left", "right"), "|": ("left", "right"), "&": ("left", "right"),
                 "^": ("left", "right"), "-": ("left",)}.get(op, ())
        target = "".join(self._t(w.node).split())
        if any(x.type in ("call_expression", "assignment_expression", "update_expression", "comma_expression")
               for x in walk(w.node)):
            return None
        for side in sides:
            operand = strip_parens(right.child_by_field_name(side))
            if operand is None or "".join(self._t(operand).split()) != target:
                continue
            for x in refs:
                if not x.write and x.node.id == operand.id and not x.fields:
                    return x
        return None

    def collapse(self, nest: Nest) -> int:
        depth = 1
        lp = nest.root
        collapsed = [lp]
        outer_keys = [lp.node.id]
        if any(x.type == "break_statement" for x in walk(nest.root.node)):
            return 1
        while True:
            inner = single_statement(lp.body)
            if inner is None or inner.type != "for_statement" or inner.id not in nest.by_node:
                break
            child = nest.by_node[inner.id]
            if child.problem is not None or child.low is None or child.high is None or child.conditions:
                break  # (a loop with an ``&&`` test is no OpenMP loop)
            outer_idx = {c.index for c in collapsed}
            if (child.low.symbols() | child.high.symbols()) & outer_idx:
                break  # triangular: not collapsed
            if not self._parallel_at(nest, child, outer_keys):
                break
            depth += 1
            collapsed.append(child)
            outer_keys.append(child.node.id)
            lp = child
        return depth

    def _parallel_at(self, nest: Nest, loop: Loop, outer_keys: list[int]) -> bool:
        groups: dict[str, list[ArrayRef]] = {}
        for a in nest.facts.arrays:
            if a.decl is not None and a.decl.key in nest.facts.local_keys and not a.member:
                continue
            if a.base in nest.private_arrays and not a.member:
                continue  # a copy per iteration (engine/privatise.py)
            if a.base in nest.pivot_arrays and not a.member:
                continue  # stores that change nothing under the kernel's pivot test (engine/pivot.py)
            groups.setdefault(a.root + "." + a.base, []).append(a)
        domains: dict[int, object] = {}  # each access's domain, built once for all its pairs

        def domain(a: ArrayRef):
            if id(a) not in domains:
                domains[id(a)] = self.ranges.domain_of(a, nest, a.delin or a.polys, a.write)
            return domains[id(a)]

        for refs in groups.values():
            writes = [a for a in refs if a.write]
            if not writes:
                continue
            if any(any(p is None for p in a.polys) for a in refs):
                return False  # histogram or unanalysable: keep the proven level only
            for w in writes:
                for x in refs:
                    if x.fields and w.fields and x.fields[0] != w.fields[0]:
                        continue
                    try:
                        c = carried_conflict(domain(w), domain(x), outer_keys, loop.node.id, nest.values)
                    except NotAffine:
                        return False
                    if c is not None:
                        return False
        return True


def _index_param_product(p: Poly, indices: set[str]) -> bool:
    return any(any(s in indices for s in m) and any(s not in indices for s in m) for m in p.terms)
