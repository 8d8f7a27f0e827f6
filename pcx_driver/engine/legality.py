"""Legality checks of a nest: hazards, loop indices and bounds, calls and templates.

Each check appends ``(PCX id, message)`` reasons that keep a nest serial, or raises
``Refusal`` (one reason) or ``MultiRefusal`` (several, the most specific first, see
``PRIORITY``) when the nest cannot be analysed further.  Whether a call may run on the
device is decided by ``engine/calls.py``; these checks ask it.

Contract: ``Legality(model, sem, userfns, affine)`` for one translation unit:
- ``template(fi)``: a function template is analysed only when every instantiation in the
  file is with arithmetic types (PCX136).
- ``hazards(nest, reasons)``: the syntactic hazards ``access.collect`` found.
- ``indices_and_bounds(nest, reasons)``: no loop index written in the body (PCX109), no
  bound that changes while its loop runs (PCX111), a root loop with invariant integer
  bounds (PCX110).
- ``calls(nest, reasons) -> list[str]``: every call is a math function or a user function
  that may run on the device (PCX105-PCX108); returns the user functions called.
"""

from __future__ import annotations

import os

from tree_sitter import Node

from pcx_driver.engine import callgraph, hostaccess
from pcx_driver.engine.affine import AffineForms
from pcx_driver.engine.calls import CallKind, UserFunctions, classify_call
from pcx_driver.engine.functors import class_named, enclosing_class, stateless_class
from pcx_driver.engine.minimum import computes_minimum
from pcx_driver.engine.nest import Nest
from pcx_driver.engine.semantics import ARITH_TYPES, INTEGERS_32, UNSIGNED_32, Semantics, narrow_integer, unqualified
from pcx_driver.engine.source import FunctionInfo, SourceModel, function_declarator, walk
from pcx_driver.model import Decision


class Refusal(Exception):
    """The nest is not offloaded, for one reason (its PCX id and message)."""

    def __init__(self, rid: str, message: str, decision: Decision = Decision.SERIAL, recurse: bool = True):
        super().__init__(message)
        self.rid = rid
        self.message = message
        self.decision = decision
        self.recurse = recurse


#: when a nest has several problems, the most specific comes first
PRIORITY = ["PCX113", "PCX114", "PCX122", "PCX110", "PCX108", "PCX106", "PCX107", "PCX133", "PCX134", "PCX130",
            "PCX131", "PCX132", "PCX135", "PCX145", "PCX137", "PCX136", "PCX105", "PCX109", "PCX111", "PCX119", "PCX118",
            "PCX104", "PCX112", "PCX101", "PCX103", "PCX102", "PCX116", "PCX115"]


class MultiRefusal(Exception):
    """The nest is not offloaded, for several reasons, the most specific first."""

    def __init__(self, reasons: list[tuple[str, str]], decision: Decision = Decision.SERIAL, recurse: bool = True):
        super().__init__(reasons[0][1] if reasons else "")
        order = {rid: k for k, rid in enumerate(PRIORITY)}
        reasons = sorted(reasons, key=lambda r: order.get(r[0], len(order)))
        self.reasons = reasons
        self.decision = decision
        self.recurse = recurse


class Legality:
    """The legality checks of one unit's nests (see the module docstring)."""

    def __init__(self, model: SourceModel, sem: Semantics, userfns: UserFunctions, affine: AffineForms):
        self.model = model
        self.sem = sem
        self.userfns = userfns
        self.affine = affine
        # each function template's instantiations, as ``template`` found them (its node id ->
        # the template arguments of each): what its dependent scalars are in every one
        self.instantiations: dict[int, list[list[str]]] = {}

    def _t(self, n: Node | None) -> str:
        return self.model.text(n)

    def _line(self, n: Node | int) -> int:
        return self.model.line_col(n if isinstance(n, int) else n.start_byte)[0]

    def _class_template(self, fi: FunctionInfo) -> str:
        """The class template whose member ``fi`` is: named in its qualified name
        (``Stream<T>::copy``), or the template around the class body that defines it (its
        name then says nothing of the class).  "" for none."""
        owner = fi.name.rpartition("::")[0]
        if "<" in owner:
            return owner.split("<")[0]
        cls = enclosing_class(fi.node)
        if cls is None or cls.parent is None or cls.parent.type != "template_declaration":
            return ""
        named = cls.child_by_field_name("name")
        return self._t(named) if named is not None else "?"

    def template(self, fi: FunctionInfo) -> None:
        name = fi.name.split("::")[-1].split("<")[0]
        # Every instantiation the file makes: calls, calls in other templates, explicit
        # instantiations, all of them (a held-out check: ``tsum<float>(x)`` beside
        # ``wrap<int>`` calling ``tsum<U>``, or beside ``template int tsum<int>(...)``, was
        # taken for float alone and its sum reduced in int).
        in_templates = self._instantiated_in_templates(fi, name)
        insts = [*self.sem.template_calls.get(name, []), *(in_templates or []), *self._explicit_instantiations(name)]
        elsewhere = self._named_elsewhere(fi, name)
        if in_templates is None or elsewhere is not None:
            why = f"its name is used at line {elsewhere} other than in a call" if elsewhere is not None else \
                "a template calls it with arguments pcx cannot follow"
            raise Refusal("PCX136", f"function template '{name}' may be instantiated where pcx cannot see with "
                          f"what: {why}", recurse=False)
        if not insts:
            owner = self._class_template(fi)
            if owner:
                # (BabelStream's SerialStream<T>: instantiated, explicitly or by use, as a class)
                raise Refusal("PCX136", f"'{name}' is a member function of class template '{owner}', "
                              "whose instantiations pcx does not follow", recurse=False)
            raise Refusal("PCX136", f"function template '{name}' has no instantiation in this file", recurse=False)
        self.instantiations[fi.node.id] = insts
        for args in insts:
            for a in args:
                base = a.replace("const ", "").replace("*", "").strip()
                if base and not base.lstrip("-").isdigit() and base not in ARITH_TYPES and not self._functor_type(base):
                    raise Refusal("PCX136", f"function template '{name}' is instantiated with '{a}', which "
                                  "cannot be offloaded", recurse=False)

    def _named_elsewhere(self, fi: FunctionInfo, name: str) -> int | None:
        """The line where template ``name`` is named other than as a call's function, a
        declaration or an explicit instantiation, outside its own definition: ``&tsum<int>``,
        ``fp = tmin``; those make instantiations no call shows.  None where there is none."""
        for n in walk(self.model.root):
            if n.type not in ("identifier", "field_identifier") or self._t(n) != name:
                continue
            if fi.node.start_byte <= n.start_byte < fi.node.end_byte:
                continue
            up = n.parent
            if up is not None and up.type == "template_function":
                up = up.parent  # name<args>
            while up is not None and up.type in ("qualified_identifier", "template_function", "template_method",
                                                 "field_expression"):
                up = up.parent  # ns::name, Class<T>::name, obj.name
            if up is None:
                continue
            if up.type in ("call_expression", "function_declarator") or \
                    any(a.type == "template_instantiation" for a in _ancestors(up)):
                continue
            return self._line(n)
        return None

    def _explicit_instantiations(self, name: str) -> list[list[str]]:
        """The template arguments of each explicit instantiation ``template void
        name<float>(float *, int);`` in the file, as written (libclang lists no cursor for
        one): HeCBench cross instantiates its kernels so, with no call in the file."""
        out = []
        for n in self.model.root.children:
            if n.type != "template_instantiation":
                continue
            decl = function_declarator(n)
            target = decl.child_by_field_name("declarator") if decl is not None else None
            if target is None or target.type != "template_function" or \
                    self._t(target.child_by_field_name("name")) != name:
                continue
            args = target.child_by_field_name("arguments")
            out.append([self._t(a) for a in args.named_children] if args is not None else [])
        return out

    def _functor_type(self, spelled: str) -> bool:
        """``AvgPoolGrad<float>``: a class (template) of the unit with no data
        (engine/functors.py), over arithmetic types: passed by value, it is a policy
        whose methods are helpers, never data."""
        name, _, rest = spelled.partition("<")
        targs = [t.strip() for t in rest.rstrip(">").split(",")] if rest else []
        return stateless_class(class_named(name.strip(), self.model), self.model) and all(
            t.replace("const ", "").strip() in ARITH_TYPES for t in targs if t)

    def _instantiated_in_templates(self, fi: FunctionInfo, name: str, depth: int = 0) -> list[list[str]] | None:
        """The instantiations of function template ``name`` made only by calls in other
        templates' bodies (HeCBench atomicCost<T> calling ``wiAtomicOnGlobalMem<T>(...)``,
        conv1D<T> calling ``conv1d(mask, a, b, ...)``): each instantiation of the calling
        template, its arguments put in for the call's, written (``<T>``) or deduced from an
        argument declared with the caller's parameter (``T *a`` passed for ``T *in``).  None
        when a call cannot be followed, so the template keeps PCX136."""
        own = template_parameters(fi.node, self.model)
        if depth > 3 or not own:
            return None if depth > 3 else []
        graph = callgraph.of(self.model.data, self.model.unit.language)
        out: list[list[str]] = []
        for caller in self.model.functions():
            if not caller.is_template or caller.node.id == fi.node.id:
                continue
            calls = [c.node for c in graph.sites_between(caller.node.start_byte, caller.node.end_byte)
                     if c.name == name and c.unqualified]
            if not calls:
                continue
            cparams = [p for p, _ in template_parameters(caller.node, self.model)]
            cname = caller.name.split("::")[-1].split("<")[0]
            above = self._instantiated_in_templates(caller, cname, depth + 1)
            if above is None:
                return None
            cinsts = [*self.sem.template_calls.get(cname, []), *above, *self._explicit_instantiations(cname)]
            for call in calls:
                binding = self._template_binding(call, fi, own, cparams)
                if binding is None:
                    return None
                for cargs in cinsts:
                    actual = dict(zip(cparams, cargs))
                    out.append([actual.get(binding[p], binding[p]) for p, _ in own])
        return out

    def _template_binding(self, call: Node, fi: FunctionInfo, own: list[tuple[str, str | None]],
                          cparams: list[str]) -> dict[str, str] | None:
        """Each type parameter of ``fi`` at ``call`` (inside a template with type
        parameters ``cparams``): one of those names, or an arithmetic type; None if not known."""
        fn = call.child_by_field_name("function")
        written: list[str] = []
        if fn is not None and fn.type == "template_function":
            targs = fn.child_by_field_name("arguments")
            written = [self._t(a).strip() for a in (targs.named_children if targs is not None else [])]
        argv = [a for a in (call.child_by_field_name("arguments").named_children
                            if call.child_by_field_name("arguments") is not None else []) if a.type != "comment"]
        ptypes = _parameter_types(fi.node, self.model)
        binding: dict[str, str] = {}
        for k, (p, default) in enumerate(own):
            got = written[k] if k < len(written) else None
            if got is None:  # deduced from an argument whose parameter is declared with p
                at = next((i for i, t in enumerate(ptypes) if _type_base(t) == p), None)
                if at is not None and at < len(argv) and argv[at].type == "identifier":
                    d = self.sem.decl_of(argv[at].start_byte)
                    got = _type_base(d.type_spelling) if d is not None else None
                elif default is not None:
                    got = default
            if got is None or not (got in cparams or _type_base(got) in ARITH_TYPES):
                return None
            binding[p] = got
        return binding

    def hazards(self, nest: Nest, reasons: list[tuple[str, str]]) -> None:
        seen = set()
        for h in nest.facts.hazards:
            key = (h.id, h.message)
            if key not in seen:
                seen.add(key)
                reasons.append(key)
        # (a non-canonical inner loop simply stays a serial loop inside the kernel)
        if any(r[0] in ("PCX113", "PCX114", "PCX122") for r in reasons):
            raise MultiRefusal(reasons, Decision.NOT_ANALYSED)

    def indices_and_bounds(self, nest: Nest, reasons: list[tuple[str, str]]) -> None:
        owners = {lp.index: lp for lp in nest.loops}
        for r in nest.facts.scalars:
            if not r.write or r.decl is None:
                continue
            lp = owners.get(r.name)
            if lp is not None and r.decl.key in nest.index_key_set and r.header_of is None:
                reasons.append(("PCX109", f"loop index '{r.name}' is written inside the body (line {self._line(r.node)})"))
        for lp in nest.loops:
            why = self._wrapping_index(lp)
            if why:
                reasons.append(("PCX110", why))
            # keys written inside this loop (its bounds must not change while it runs)
            inside = {r.decl.key for r in nest.facts.scalars if r.write and r.decl is not None
                      and lp.node.start_byte <= r.node.start_byte < lp.node.end_byte}
            written_arrays = {a.root for a in nest.facts.arrays if a.write
                              and lp.node.start_byte <= a.node.start_byte < lp.node.end_byte}
            for bn in lp.bound_nodes:
                # (``sizeof a / sizeof a[0]`` reads no element of a)
                sized = {y.id for z in walk(bn) if z.type == "sizeof_expression" for y in walk(z)}
                for x in walk(bn):
                    if x.id in sized:
                        continue
                    if x.type == "subscript_expression":
                        base = x.child_by_field_name("argument")
                        while base is not None and base.type == "subscript_expression":
                            base = base.child_by_field_name("argument")
                        if base is not None and self._t(base) in written_arrays:
                            reasons.append(("PCX111", f"bound of loop '{lp.index}' (line {self._line(lp.node)}) reads "
                                            f"'{self._t(base)}', which is written inside the loop"))
                    if x.type == "identifier":
                        d = self.sem.decl_of(x.start_byte)
                        if d is not None and d.key in inside and d.key not in nest.index_key_set:
                            reasons.append(("PCX111", f"bound of loop '{lp.index}' (line {self._line(lp.node)}) uses "
                                            f"'{d.name}', which changes inside the nest"))
                    elif x.type == "call_expression":
                        f = x.child_by_field_name("function")
                        if not (f is not None and f.type == "field_expression"
                                and self._t(f.child_by_field_name("field")) == "size") and not self.affine.pure_macro(f):
                            callee = self.sem.callee_of(x.start_byte, x.end_byte)
                            kind = classify_call(self._t(f), callee)
                            if kind is not CallKind.MATH and not computes_minimum(callee, self.model):
                                # (a minimum of two values, ``imin(ii + B, n)``, changes with them alone)
                                reasons.append(("PCX111", f"bound of loop '{lp.index}' calls '{self._t(f)}', which "
                                                "may change between iterations"))
            if lp.inexact:
                reach = self.overreaching(nest, lp)
                if reach is not None:
                    reasons.append(("PCX116", f"the last value of strided loop '{lp.index}' (line "
                                    f"{self._line(lp.node)}) is not known at compile time, so the section of "
                                    f"'{reach[0]}' from its subscript with '{reach[1]}' could "
                                    "reach past the elements it touches"))
            if lp.low is None or lp.high is None:
                unstable = sorted({self._t(x) for b in lp.bound_nodes for x in walk(b) if x.type == "identifier"}
                                  & self.sem.unstable_macros)
                if unstable:
                    reasons.append(("PCX110", f"bound of loop '{lp.index}' names macro '{unstable[0]}', which this "
                                              "file redefines or #undefs: which value it has here is not known"))
                elif lp is nest.root and not any(r[0] == "PCX111" for r in reasons):
                    reasons.append(("PCX110", f"bounds of loop '{lp.index}' are not loop-invariant integer "
                                    "expressions"))

    def overreaching(self, nest, lp) -> tuple[str, str] | None:
        """For inexact strided loop ``lp`` (``Loop.inexact``): the first array, and another
        index, of a subscript that adds another loop's index to ``lp``'s unbounded by a
        guard, a loop condition or a minimum (``t < TILE && b + t < n``, ``i < min(ii + B,
        n)``): its section, from ``lp``'s bound rather than its last index, could reach
        past the elements the loop touches (``b[i + j]``, ``j < 256``).  None when none does."""
        others = {x.index for x in nest.loops if x is not lp}
        for a in nest.facts.arrays:
            names = {self._t(x) for s in a.subs for x in walk(s) if x.type == "identifier"}
            bounded = a.guards or any(x.conditions or x.min_arms for x in a.loops)
            if lp.index in names and names & others and not bounded:
                return a.base, sorted(names & others)[0]
        return None

    def _wrapping_index(self, lp) -> str:
        """Why loop ``lp``'s index may wrap around where OpenMP's iteration count does not:
        an index narrower than int (``unsigned short i = 65000; i != 300; i++`` runs 836
        iterations; the offloaded loop ran none), or an unsigned index tested with ``!=``
        that may start past its bound.  "" when it cannot."""
        if lp.index_node is None or lp.init is None or lp.bound is None:
            return ""
        at = lp.index_node.start_byte
        d = self.sem.decl_declared_at(at) if lp.index_declared else self.sem.decl_of(at)
        ty = unqualified(d.element_type if d is not None else "")
        if d is not None and d.floating:
            # (clang: "variable must be of integer or pointer type"; partialsums' ``double k``)
            return f"loop index '{lp.index}' is a '{ty}'; an OpenMP loop needs an integer or pointer index"
        if narrow_integer(d):
            return f"loop index '{lp.index}' is a '{ty}', whose increments wrap around; use an int index"
        if abs(lp.step) >= 1 << 31:
            return f"loop step {lp.step} of '{lp.index}' is too large not to wrap around"
        if abs(lp.step) > 1 and ty in UNSIGNED_32 and not self._bound_within_32_bits(lp):
            # clang-19 miscompiles it: a plain ``parallel for`` of ``for (unsigned i = 0;
            # i < n; i += 8)`` with a size_t n crashes (a held-out check)
            return (f"unsigned loop index '{lp.index}' steps by {lp.step} up to a bound that may be wider than it; "
                    "clang-19 miscompiles that OpenMP loop: use a size_t (or int) index")
        if lp.op == "!=" and ty.startswith("unsigned") or lp.op == "!=" and ty in ("size_t", "std::size_t"):
            # (read through casts as written: ``(unsigned long)-1`` is -1 here, a wrap)
            first, last = (lp.init, lp.bound) if lp.step > 0 else (lp.bound, lp.init)
            if not (first.is_const and first.const_value == 0) and not (
                    first.is_const and last.is_const and 0 <= first.const_value <= last.const_value):
                return (f"unsigned loop index '{lp.index}' is tested with '!=' and may start past its bound, "
                        "where it wraps around; write '<' (or '>')")
        return ""

    def _bound_within_32_bits(self, lp) -> bool:
        """Loop ``lp``'s bound reads only constants and names of integer types of at most
        32 bits (no call, member, sizeof or long literal, whose type could be wider)."""
        for b in lp.bound_nodes:
            for x in walk(b):
                if x.type in ("call_expression", "field_expression", "sizeof_expression", "subscript_expression",
                              "cast_expression", "pointer_expression", "qualified_identifier"):
                    return False
                if x.type == "number_literal" and self._t(x).lower().rstrip("u").endswith("l"):
                    return False
                if x.type == "identifier":
                    d = self.sem.decl_of(x.start_byte)
                    if d is None:
                        continue  # a macro's name: its constant value is read with the bound
                    if unqualified(d.element_type) not in INTEGERS_32:
                        return False
        return True

    def _pure_header_helper(self, callee) -> bool:
        from pcx_driver.engine.header_helpers import is_pure_helper

        if callee.defined_at is None or callee.kind not in ("function", "template"):
            return False
        return is_pure_helper(callee.defined_in, *callee.defined_at, self.model.unit.language, _is_math_name)

    def pure_calls(self, nest: Nest) -> frozenset[int]:
        """Start bytes of the nest's calls that compute a value of their arguments and do
        nothing else (a math function; a user function that writes no global and only
        reads through its pointers; a pure helper of a header): calling one once more or
        once less changes nothing but that value."""
        out = set()
        for c in nest.facts.calls:
            kind = classify_call(c.name, c.callee)
            if kind is CallKind.MATH:
                out.add(c.node.start_byte)
            elif kind is CallKind.USER and c.callee is not None:
                if self.userfns.check(c.callee, True)[0] and self.userfns.reads_only_through_pointers(c.callee)[0]:
                    out.add(c.node.start_byte)
            elif c.callee is not None and c.callee.defined_in and self._pure_header_helper(c.callee):
                out.add(c.node.start_byte)
        return frozenset(out)

    def calls(self, nest: Nest, reasons: list[tuple[str, str]],
              exits: list[tuple[int, int]] | None = None) -> list[str]:
        """The user functions the nest calls; a reason for each call that keeps it serial.
        ``exits``: where given, the statements ``exit(E);`` (``abort();``) the kernel can
        turn into a flag and a ``continue``, the program leaving after it (``exit_problem``),
        are collected there instead of refused."""
        users: list[str] = []
        leaving: list[tuple[Node, str]] = []  # (statement, its text) of each exit taken
        for c in nest.facts.calls:
            kind = classify_call(c.name, c.callee)
            where = f"(line {self._line(c.node)})"
            if kind is CallKind.MATH:
                if self.userfns.file_reads_errno:
                    # a math function sets errno where it runs: on the device, where the host
                    # never sees it (a held-out check read EDOM after the loop; 0 offloaded)
                    reasons.append(("PCX105", f"'{c.name}' may set errno, which this file reads {where}"))
                continue
            if kind is CallKind.IO:
                reasons.append(("PCX106", f"input/output call '{c.name}' inside the nest {where}"))
            elif kind is CallKind.ALLOC:
                reasons.append(("PCX107", f"memory allocation call '{c.name}' inside the nest {where}"))
            elif kind is CallKind.EXIT:
                stmt, why = self.exit_problem(c, nest) if exits is not None else (None, "")
                if stmt is not None:
                    leaving.append((stmt, self.model.text(stmt)))
                else:
                    reasons.append(("PCX108", f"'{c.name}' may leave the nest {where}" + (f": {why}" if why else "")))
            elif kind is CallKind.MEMORY:
                reasons.append(("PCX105", f"'{c.name}' writes memory the analysis cannot see {where}"))
            elif kind is CallKind.USER and c.callee is not None:
                ok, why = self.userfns.check(c.callee, c.inlined or c.footprint or c.windowed)
                if ok and c.footprint:
                    ok, why = self.userfns.reads_only_through_pointers(c.callee)
                if ok:
                    if c.callee.name not in users:
                        users.append(c.callee.name)
                else:
                    reasons.append(("PCX105", f"call to '{c.name}' {where}: {why}"))
            elif c.callee is not None and c.callee.defined_in and self._pure_header_helper(c.callee):
                continue  # a scalar function of its arguments, defined in a header (engine/header_helpers.py)
            elif c.callee is not None and c.callee.defined_in:
                reasons.append(("PCX105", f"call to '{c.name}', defined in {os.path.basename(c.callee.defined_in)}, "
                                          f"where pcx does not analyse it {where}"))
            elif c.name.startswith("omp_"):
                # serial code written for CPU threads (HeCBench's ``omp_get_team_num()`` in
                # its serial versions): on the device the call answers for a device thread
                reasons.append(("PCX105", f"OpenMP runtime call '{c.name}' inside the nest {where}: in a kernel "
                                          "it answers for the device thread that runs it, not what the serial "
                                          "program sees"))
            else:
                reasons.append(("PCX105", f"call to '{c.name}', which has no visible definition {where}"))
        if len({text for _, text in leaving}) > 1:
            # (after the kernel one statement leaves: which iteration came first is not kept)
            lines = ", ".join(str(self._line(st)) for st, _ in leaving)
            reasons.append(("PCX108", f"the nest leaves the program by different statements (lines {lines})"))
        elif exits is not None:
            exits.extend((st.start_byte, st.end_byte) for st, _ in leaving)
        return users

    def exit_problem(self, c, nest: Nest) -> tuple[Node | None, str]:
        """(its statement, "") when call ``c`` of ``exit``/``abort`` can leave the program
        after the kernel instead (``NestAnalysis.exits``), else (None, why not).

        Serially the iterations before the one that reaches it ran, and the program ended
        there; nothing they wrote can be seen after ``exit`` (no I/O runs in a kernel; a file
        that registers an ``atexit`` handler is refused, as the handler may read it).  The
        kernel runs every iteration but the rest of any that reaches the call, which the
        rewrite makes ``{ FLAG = 1; continue; }``, and the program leaves right after it
        with the same statement, so: the call is a statement of its own in the body of the
        nest's outer loop, under ``if``s only (a ``continue`` there ends the iteration), and
        its status is the same in every iteration (no name the nest assigns, no call)."""
        call = c.node
        root = nest.root.node
        if not (root.start_byte <= call.start_byte < root.end_byte):
            return None, "in a function the nest calls"
        if any(callee.name in _EXIT_HANDLERS or callee.qualified in _EXIT_HANDLERS
               for callee in self.sem.calls.values()):
            # (a handler ``exit`` runs may read what the iterations after the failing one
            # wrote, which serially never ran)
            return None, "the file registers exit handlers (atexit), which may read what the loop wrote"
        stmt = call.parent
        if stmt is None or stmt.type != "expression_statement":
            return None, "not a statement of its own"
        up = stmt.parent
        while up is not None and up != root:
            if up.type not in ("compound_statement", "if_statement", "else_clause"):
                return None, "inside an inner loop or a switch"
            up = up.parent
        if up is None:
            return None, "not in the body of the outer loop"
        args = call.child_by_field_name("arguments")
        for x in walk(args) if args is not None else ():
            if x.type in ("call_expression", "assignment_expression", "update_expression"):
                return None, "its status is computed by the nest"
            if x.type == "identifier":
                d = self.sem.decl_of(x.start_byte)
                if d is not None and (d.key in nest.written or d.key in nest.facts.local_keys):
                    return None, f"its status '{self.model.text(x)}' changes in the nest"
        return stmt, ""


#: functions that register code ``exit`` runs
_EXIT_HANDLERS = ("atexit", "at_quick_exit", "on_exit", "std::atexit", "std::at_quick_exit")


def _ancestors(n: Node):
    while n is not None:
        yield n
        n = n.parent


def _is_math_name(name: str) -> bool:
    return classify_call(name, None) is CallKind.MATH


def template_parameters(fnode: Node, model: SourceModel) -> list[tuple[str, str | None]]:
    """The type parameters of the template whose definition is ``fnode``, in order, with
    their default types (``template <typename T, typename I = int>``: T, then I = int)."""
    decl = fnode.parent
    if decl is None or decl.type != "template_declaration":
        return []
    plist = decl.child_by_field_name("parameters")
    out: list[tuple[str, str | None]] = []
    for p in plist.named_children if plist is not None else []:
        if p.type == "type_parameter_declaration":
            ident = next((c for c in p.named_children if c.type == "type_identifier"), None)
            if ident is not None:
                out.append((model.text(ident), None))
        elif p.type == "optional_type_parameter_declaration":
            ident, default = p.child_by_field_name("name"), p.child_by_field_name("default_type")
            if ident is not None:
                out.append((model.text(ident), model.text(default) if default is not None else None))
    return out


def _parameter_types(fnode: Node, model: SourceModel) -> list[str]:
    """The declared type of each parameter of ``fnode`` as written (``const T *``)."""
    out = []
    for p in hostaccess.parameters(fnode):
        ty = p.child_by_field_name("type")
        d = p.child_by_field_name("declarator")
        stars = "".join(ch for ch in (model.text(d) if d is not None else "") if ch in "*&")
        out.append((model.text(ty) if ty is not None else "") + " " + stars)
    return out


def _type_base(spelling: str | None) -> str | None:
    """``T`` of ``const T *``, ``T &``, ``T [10]``, ``T``."""
    if spelling is None:
        return None
    spelling = spelling.split("[")[0]  # an array ``T [10]``: its element type
    words = [w for w in spelling.replace("*", " ").replace("&", " ").split() if w not in ("const", "volatile",
                                                                                          "restrict", "__restrict")]
    return " ".join(words) if words else None
