"""Per-unit facts the plan checker's walk asks about: names, definitions, what code may change, kernels' accesses, liveness.

``UnitFacts`` is built once per check from the unit, its analysis and the plan under
check; the walk (``walk.py``) sets ``defs`` to the function it walks.  The analysis's
sections are trusted only where the syntax agrees (``kernel_accesses``).
"""

from __future__ import annotations

import functools

import tree_sitter

from pcx_driver.engine import escapes, hostaccess
from pcx_driver.engine.callgraph import reaching_closure
from pcx_driver.engine.hostaccess import LOOP_TYPES, param_names, text_of
from pcx_driver.engine.plancheck.coverage import covers
from pcx_driver.engine.plancheck.frame import PlacedKernel
from pcx_driver.engine.plancheck.reach import Reach
from pcx_driver.engine.plancheck.syntax import (
    by_value,
    declared_in,
    declared_name,
    function_named,
    is_static_local,
    pointer_copies,
    preorder,
    skippable_writes,
    strip,
    syntactic_accesses,
)
from pcx_driver.engine.source import arguments_of, node_key
from pcx_driver.engine.symsect import WHOLE, add, freeze, lin_node, lin_text, sect_names, sect_of, subst
from pcx_driver.model import Language, Plan, SourceUnit, UnitAnalysis


class UnitFacts:
    """Per-unit facts the walk needs: names, definitions, what code may change, kernels' accesses,
    functions with device code, liveness."""

    def __init__(self, unit: SourceUnit, analysis: UnitAnalysis | None, plan: Plan) -> None:
        self.unit = unit
        self.data = unit.data
        self.lang = Language.C if unit.language is Language.C else Language.CXX
        self.root = hostaccess.parse(self.data, self.lang).root_node
        self.nests = {n.nest_id: n for n in analysis.nests()} if analysis is not None else {}
        self.plan = plan
        # (name, start byte) -> the function's analysis: its arrays of arrays' row extents,
        # the pointer parameters proved distinct at every call
        self.functions = {(fa.name, fa.start_byte): fa for fa in analysis.functions} if analysis is not None else {}
        self.aliases = {lp.name: lp.container for lp in plan.local_pointers if not lp.type}
        # a member function's kernels name the object's arrays ``a`` (``this->a``), which
        # their maps spell in full (an ``a`` of its own elsewhere is then the same buffer
        # to the checker: one that merges two never passes what one alone would fail)
        for n in self.nests.values():
            for a in n.arrays:
                if a.name.startswith("this->"):
                    self.aliases.setdefault(a.name[len("this->"):], a.name)
        # object-like macros that stand for a linear expression of variables (PolyBench's
        # ``_PB_N``, which is ``n`` wherever it is used): a section that names one names them
        self.macro_forms = _macro_forms(analysis, self.lang) if analysis is not None else {}
        # object-like macros that are integer constants (``N`` 260): a kernel's loop bound
        # names one where the analysis wrote its value into a section (coverage.py)
        self.macro_values = _macro_forms(analysis, self.lang, constants=True) if analysis is not None else {}
        self.macro_table = dict(analysis.macro_table) if analysis is not None else {}
        self.writing_macros: set[str] = set(analysis.writing_macros) if analysis is not None else set()
        # libclang's word on which arguments of a C++ call bind a reference (to a non-const
        # scalar: reference_stores), a header's callee too
        self.reference_args: dict = analysis.reference_args if analysis is not None else {}
        self.reference_stores: dict = analysis.reference_stores if analysis is not None else {}
        self.accessor_calls: dict[int, str] = analysis.accessor_calls if analysis is not None else {}
        # one-parameter macros that are their argument (``POLYBENCH_ARRAY(A)``)
        self.identity_macros: set[str] = set(analysis.identity_macros) if analysis is not None else set()
        self.pure_macros: set[str] = set(analysis.pure_macros) if analysis is not None else set()
        # where macros that declare pointers to whole arrays start (``POLYBENCH_2D_ARRAY_DECL(A,
        # ...)``, TypedNames.pointed_arrays): the name among their arguments is declared there
        self.declaring_uses: frozenset[int] = frozenset(
            at for entries in analysis.typed_names.pointed_arrays.values() for at, _ in entries
        ) if analysis is not None else frozenset()
        self.reach = Reach()  # the current function's other names for its buffers (reach.py)
        self._device_functions: set[str] | None = None
        self.defs: dict = {}  # the current function's fixed linear definitions
        self.depth = 0  # callees being walked inside one another (walk.callee_effect)
        # the callee's parameters whose arguments the caller holds on the device (callee_effect)
        self.held_params: frozenset[str] = frozenset()
        self.file_scope: set[str] = set()
        # functions of the user's other files (UnitAnalysis.foreign_functions), and the
        # file-scope names other files can name (not ``static``)
        self.foreign_functions: set[str] = set(analysis.foreign_functions) if analysis is not None else set()
        self.shared_globals: set[str] = set()
        # file-scope arrays by libclang (a header's too): never one array with each other
        self.global_arrays: set[str] = set(analysis.typed_names.global_arrays) if analysis is not None else set()
        self.file_scope_buffers: set[str] = set()  # file-scope arrays and pointers
        for child in hostaccess.file_scope_declarations(self.root):
            if child.type == "declaration":
                quals = {text_of(self.data, c) for c in child.children if c.type == "type_qualifier"}
                if quals & {"const", "constexpr"}:
                    continue  # a constant: no call can change it
                static = hostaccess.declared_static(child, self.data)
                for d in child.named_children:
                    n = declared_name(d, self.data)
                    if n:
                        self.file_scope.add(n)
                        if not static:
                            self.shared_globals.add(n)
                        inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
                        if inner is not None and inner.type in ("array_declarator", "pointer_declarator"):
                            self.file_scope_buffers.add(n)
        # a header's variables, which this file's syntax does not declare: file-scope all the
        # same, and (the checker cannot tell a header's ``static`` from its ``extern``) shared
        for n, shape in (analysis.typed_names.header_globals.items() if analysis is not None else ()):
            self.file_scope.add(n)
            self.shared_globals.add(n)
            if shape in ("array", "pointer"):
                self.file_scope_buffers.add(n)

    def global_arrays_in(self, fnode: tree_sitter.Node) -> set[str]:
        """``global_arrays`` as ``fnode`` names them: not those a parameter or a local of
        its own hides."""
        return self.global_arrays - set(param_names(fnode, self.data)) - hostaccess.locally_declared(fnode, self.data)

    def globals_used(self, fnode: tree_sitter.Node) -> set[str]:
        """The file-scope arrays and pointers that ``fnode`` names (by name: a local of the
        same name makes this larger, never smaller)."""
        body = fnode.child_by_field_name("body")
        if body is None or not self.file_scope_buffers:
            return set()
        return {text_of(self.data, n) for n in preorder(body)
                if n.type == "identifier" and text_of(self.data, n) in self.file_scope_buffers}

    def canonical(self, name: str) -> str:
        name = name.replace(" ", "")
        return self.aliases.get(name, name)

    # names ------------------------------------------------------------
    def track(self, fnode: tree_sitter.Node, plan: Plan, fname: str) -> set[str]:
        names: set[str] = set()
        for k in plan.offloaded():
            if k.function != fname:
                continue
            for m in k.maps:
                names.update(self.canonical(s.base) for s in m.sections)
            nest = self.nests.get(k.nest_id)
            for a in nest.arrays if nest is not None else ():
                names.add(self.canonical(a.name))
        for r in plan.regions:
            if r.function == fname:
                for m in r.maps:
                    names.update(self.canonical(s.base) for s in m.sections)
                for u in r.updates:
                    names.update(self.canonical(s.base) for s in u.sections)
        # pointers that take the value of a tracked pointer follow it (swaps), and what a
        # tracked pointer takes its value from (``nxt = bufB``: bufB is that buffer's name too)
        changed = True
        while changed:
            changed = False
            for lhs, rhs in pointer_copies(fnode, self.data):
                for a, b in ((lhs, rhs), (rhs, lhs)):
                    if b in names and a not in names:
                        names.add(a)
                        changed = True
        return names

    def index_range(self, loop: tree_sitter.Node) -> dict:
        """{index: (lo, hi)} (inclusive, linear) inside the body of a counted ``for``
        whose index and bounds the body does not change; {} otherwise."""
        if loop.type != "for_statement":
            return {}
        init, cond, upd = (loop.child_by_field_name(f) for f in ("initializer", "condition", "update"))
        if init is None or cond is None or upd is None or cond.type != "binary_expression":
            return {}
        if init.type == "declaration":
            decls = [c for c in init.named_children if c.type == "init_declarator"]
            if len(decls) != 1:
                return {}
            name, start = declared_name(decls[0], self.data), decls[0].child_by_field_name("value")
        elif init.type == "assignment_expression" and init.child_by_field_name("left").type == "identifier":
            name, start = text_of(self.data, init.child_by_field_name("left")), init.child_by_field_name("right")
        else:
            return {}
        left, right, op = (cond.child_by_field_name(f) for f in ("left", "right", "operator"))
        if not name or left is None or right is None or op is None or text_of(self.data, left) != name:
            return {}
        step = text_of(self.data, upd).replace(" ", "")
        up = step in (f"{name}++", f"++{name}") or step.startswith(f"{name}+=")
        down = step in (f"{name}--", f"--{name}") or step.startswith(f"{name}-=")
        first, bound = lin_node(start, self.data), lin_node(right, self.data)
        if first is None or bound is None or not (up or down):
            return {}
        first, bound = subst(freeze(first), self.defs), subst(freeze(bound), self.defs)
        changed = self.assigned(loop.child_by_field_name("body"), calls=True)
        if name in changed or (sect_names(((first, bound),)) & changed):
            return {}
        one = ((((), 1),))
        edge = {"<": add(bound, one, -1), "<=": bound, ">": add(bound, one), ">=": bound}.get(op.type)
        if edge is None:
            return {}
        if up and op.type in ("<", "<="):
            return {name: (first, edge)}
        if down and op.type in (">", ">="):
            return {name: (edge, first)}
        return {}

    def definitions(self, fnode: tree_sitter.Node) -> dict:
        """Locals declared once with a linear initialiser and never changed
        (``size_t nn = (size_t)n * n;``): sections may name them or their value."""
        body = fnode.child_by_field_name("body")
        changed: dict[str, int] = {}
        inits: dict = {}
        for n in preorder(body):
            if n.type == "init_declarator":
                name = declared_name(n, self.data)
                form = lin_node(n.child_by_field_name("value"), self.data)
                if name:
                    changed[name] = changed.get(name, 0) + 1
                    if form is not None and n.child_by_field_name("declarator").type == "identifier":
                        inits[name] = freeze(form)
        for name in self.assigned(body, calls=False):
            changed[name] = changed.get(name, 0) + 10
        for n in preorder(body):  # ``std::vector<T> v(count);``: v.size() is count
            if n.parent is None or n.parent.type != "declaration" or \
                    "vector" not in text_of(self.data, n.parent.child_by_field_name("type")):
                continue
            form, name = None, None
            if n.type == "init_declarator" and n.named_children and n.named_children[-1].type == "argument_list":
                args = n.named_children[-1].named_children
                name = declared_name(n, self.data)
                form = freeze(lin_node(args[0], self.data) or {}) if len(args) >= 1 and lin_node(args[0], self.data) else None
            elif n.type == "function_declarator":  # the most vexing parse: v(a * b)
                inner, params = n.child_by_field_name("declarator"), n.child_by_field_name("parameters")
                name = text_of(self.data, inner) if inner is not None and inner.type == "identifier" else None
                text = text_of(self.data, params)[1:-1] if params is not None else ""
                form = lin_text(text, Language.CXX) if text and "," not in text else None
            if name and form is not None:
                key = f"{name}.size()"
                changed[key] = changed.get(key, 0) + 1
                inits[key] = form
        # (a definition holds while what it names holds: ``int h = n; n += 3000;`` leaves
        # h the old n, an adversarial check's wrong answer)
        defs = {k: v for k, v in inits.items() if changed.get(k) == 1 and
                all(changed.get(x, 0) <= 1 and x not in self.file_scope for m, _ in v for x in m)}
        # (a macro is no variable: it means its expansion in whatever function names it)
        defs.update({m: f for m, f in self.macro_forms.items() if m not in changed})
        for _ in range(3):  # definitions in terms of earlier definitions
            defs = {k: subst(v, {d: f for d, f in defs.items() if d != k}) for k, v in defs.items()}
        return defs

    def assigned(self, node: tree_sitter.Node, calls: bool = True) -> set[str]:
        """Variables (and member chains) that ``node`` may change: assigned (``(h) = ...``
        too), incremented, declared (with ``calls``), their address taken, passed to a
        macro that writes, and in C++ bound to a reference (``int &r = m;``, an argument of
        a function that does not take it by value, ``S s{h};``); with ``calls``, every
        file-scope variable at a call."""
        out: set[str] = set()

        def name_of(x: tree_sitter.Node | None) -> None:
            x = strip(x)
            if x is not None and x.type in ("identifier", "field_expression"):
                out.add(text_of(self.data, x).replace(" ", ""))

        cxx = self.lang is Language.CXX
        for n in preorder(node):
            t = n.type
            if t == "assignment_expression":
                name_of(n.child_by_field_name("left"))
            elif t == "update_expression":
                name_of(n.child_by_field_name("argument"))
            elif t == "pointer_expression" and text_of(self.data, n).startswith("&"):
                name_of(n.child_by_field_name("argument"))
            elif t == "init_declarator":
                if calls:
                    d = declared_name(n, self.data)
                    if d:
                        out.add(d)
                if cxx and n.child_by_field_name("declarator") is not None and \
                        n.child_by_field_name("declarator").type == "reference_declarator":
                    name_of(n.child_by_field_name("value"))  # ``int &r = m;``: r changes m
            elif t == "call_expression":
                if calls:
                    out.update(self.file_scope)
                fn = n.child_by_field_name("function")
                fname = text_of(self.data, fn) if fn is not None else ""
                writing = fname in self.writing_macros
                if writing or (cxx and not escapes.pure_call(fname)):
                    # (libclang's types where it resolved the call, a header's accessor
                    # included; this file's definitions otherwise)
                    known = n.start_byte in self.reference_args
                    refs = self.reference_stores.get(n.start_byte, frozenset())
                    for k, a in enumerate(arguments_of(n.child_by_field_name("arguments"))):
                        if writing or (k in refs if known else not by_value(self.data, self.lang, fname, k)):
                            name_of(a)
            elif cxx and t in ("initializer_list", "argument_list") and n.parent is not None and \
                    n.parent.type in ("init_declarator", "initializer_list", "compound_literal_expression"):
                for a in n.named_children:  # ``S s{h};``, ``S s(h);``: a member may be a reference to h
                    name_of(a)
        return out

    def scalars_written_by(self, k: PlacedKernel) -> set[str]:
        return {r.variable for r in k.plan.reductions} | set(k.plan.private)

    # kernels ------------------------------------------------------------
    def kernel_accesses(self, k: PlacedKernel, node: tree_sitter.Node):
        """(reads, writes, surely_written) per array name, as sections.  The analysis
        gives sections; the syntax of the nest is the check: an array the syntax sees
        written that the analysis does not, is read and written whole; a write counts
        as total only if the analysis says so, no write of it sits under a condition or
        a jump, and ``coverage.covers`` proves it again from the syntax."""
        syn_reads, syn_writes, guarded, members = syntactic_accesses(node, self.data)
        skipped = skippable_writes(node, self.data)  # None: a return or goto may skip any write
        reads: dict[str, list] = {}
        writes: dict[str, list] = {}
        sure: set[str] = set()
        known: dict[str, object] = {}
        for a in k.nest.arrays if k.nest is not None else ():
            name = self.canonical(a.name)
            known[name] = a
            s = sect_of(a.section, self.lang, self.defs)
            if a.read or (a.written and not a.written_fully):
                reads.setdefault(name, []).append(s)
            if a.written:  # the section of its writes alone, where the analysis has one
                ws = sect_of(a.write_section, self.lang, self.defs) if a.write_section is not None else s
                writes.setdefault(name, []).append(ws)
                # written member by member: whole only if the syntax assigns every member
                whole = name not in members or (a.element_fields and members[name] >= set(a.element_fields))
                if a.written_fully and a.exact and skipped is not None and name not in skipped \
                        and name not in guarded and whole:
                    sure.add(name)
        # the checker's own proof that the writes are total (coverage.py), not the analysis's word
        sure = {name for name in sure if covers(self, node, name, writes.get(name, []))}
        # a private array the kernel copies nothing back to: it names only its own copy
        own = {p.name for p in k.plan.private_arrays if not p.copy}
        for name in syn_reads | syn_writes:
            if name in own:
                continue
            name = self.canonical(name)
            a = known.get(name)
            if a is None or (name in syn_writes and not a.written):
                reads.setdefault(name, []).append(WHOLE)
                if name in syn_writes:
                    writes.setdefault(name, []).append(WHOLE)
                sure.discard(name)
        return reads, writes, sure

    def device_functions(self) -> set[str]:
        """Functions with offloaded kernels, and every function of the unit that calls one."""
        if self._device_functions is None:
            found = {k.function for k in self.plan.offloaded()} | {r.function for r in self.plan.regions}
            self._device_functions = reaching_closure(found, _callees_by_function(self.data, self.lang))
        return self._device_functions

    def argument_forms(self, args: tree_sitter.Node | None) -> list:
        """Each argument of a call as a linear form in the caller's names (or None)."""
        out = []
        for a in arguments_of(args):
            form = lin_node(a, self.data)
            out.append(None if form is None else subst(freeze(form), self.defs))
        return out

    def read_only_param(self, fname: str, args: tree_sitter.Node, arg: tree_sitter.Node) -> bool:
        """A call to a function of this unit that has no device code and never writes
        through (or passes on) that parameter."""
        fnode = function_named(self.data, self.lang, fname)
        if fnode is None or any(k.function == fname for k in self.plan.offloaded()):
            return False
        try:
            pos = [c.id for c in arguments_of(args)].index(arg.id)
        except ValueError:
            return False
        params = param_names(fnode, self.data)
        if pos >= len(params) or not params[pos]:
            return False
        reads, writes, _, _ = syntactic_accesses(fnode.child_by_field_name("body"), self.data, params[pos])
        return params[pos] not in writes

    def live_after(self, buf: str, byte: int, fnode: tree_sitter.Node) -> bool:
        """May the host use buffer ``buf`` (a name) after ``byte``?  Parameters, file-scope
        and static names, member chains, locals that borrow other storage (``double *wv =
        w;``) and names mentioned later (or anywhere in a loop around ``byte``) are live; a
        later ``free(name)`` is not a use."""
        name = self.canonical(buf.split("@")[0])
        if "->" in name or "." in name or name in self.file_scope:
            return True
        # a name not declared in the body is the caller's (a parameter, also one declared
        # through a macro, or a global): it escapes
        if not declared_in(fnode.child_by_field_name("body"), name, self.data):
            return True
        if hostaccess.borrows(fnode, name, self.data):
            return True  # a local pointer or reference into storage that outlives the call
        if is_static_local(fnode, name, self.data) and hostaccess.function_name(fnode, self.data) != "main":
            return True  # the next call sees it (main is not called again)
        lo = byte
        node = self.root.descendant_for_byte_range(byte, byte)
        while node is not None and node_key(node) != node_key(fnode):
            if node.type in LOOP_TYPES:
                lo = node.start_byte
            node = node.parent
        body = fnode.child_by_field_name("body")
        for n in preorder(body):
            if n.type == "identifier" and name in hostaccess.stands_for(self.data, self.lang, text_of(self.data, n)) \
                    and (n.start_byte >= byte or n.start_byte >= lo):
                if n.start_byte < byte and n.start_byte >= lo:
                    pass
                call = n.parent.parent if n.parent is not None and n.parent.type == "argument_list" else None
                fn = call.child_by_field_name("function") if call is not None else None
                if fn is not None and text_of(self.data, fn) == "free" or (
                        n.parent is not None and n.parent.type == "delete_expression"):
                    continue
                return True
        return False


def _macro_forms(analysis: UnitAnalysis, lang: Language, constants: bool = False) -> dict:
    """Object-like macro -> the linear form of its expansion, for the unit's macros whose
    expansion names a variable (``_PB_N`` -> ``n``); constants stay names (the plan's
    sections spell them, and ``Plan.constants`` values them).  With ``constants``, the
    macros whose expansion is an integer constant instead."""
    from pcx_driver.engine.macros import expand_expression

    out = {}
    for name, (function_like, _, _) in analysis.macro_table.items():
        if function_like:
            continue
        text = expand_expression(name, analysis.macro_table, lang)
        if not text or bool(hostaccess.expression_identifiers(text, lang)) == constants \
                or not _plain_arithmetic(text, lang):
            continue
        form = lin_text(text, lang)
        if form is not None:
            out[name] = form
    return out


def _plain_arithmetic(text: str, lang: Language) -> bool:
    """Whether ``text`` is names and integers under ``+``, ``-`` and ``*`` (no cast, which may
    change a value, no call, division or condition)."""
    data, node = hostaccess.parse_expression(text, lang)
    if node is None:
        return False
    for n in hostaccess.all_nodes(node):
        if not n.is_named:
            if text_of(data, n) not in ("(", ")", "+", "-", "*"):
                return False
        elif n.type not in ("identifier", "number_literal", "binary_expression", "parenthesized_expression",
                            "unary_expression"):
            return False
    return True


@functools.lru_cache(maxsize=8)
def _callees_by_function(data: bytes, lang: Language) -> dict[str, frozenset[str]]:
    """Each function definition of the unit (by name) with the callee expressions of the
    calls in its body, as written: read once per unit, where every function check of the
    plan checker walked every function again (NPB SP: 1.4 s)."""
    out: dict[str, frozenset[str]] = {}
    for n in preorder(hostaccess.parse(data, lang).root_node):
        if n.type == "function_definition":
            name = hostaccess.function_name(n, data)
            if name:
                out[name] = frozenset(text_of(data, fn) for c in preorder(n) if c.type == "call_expression"
                                      and (fn := c.child_by_field_name("function")) is not None)
    return out
