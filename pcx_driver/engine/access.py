"""What a loop nest touches: array accesses, scalar references, calls and hazards.

Contract: ``collect(root, loops_by_node, model, sem)`` walks the nest rooted at the ``for``
statement ``root`` once and returns ``NestFacts``:
- ``arrays``: each subscripted access ``base[s1][s2]...(.field)*`` with its subscript
  nodes (outer first), read/write flags, the loops of the nest enclosing it (outer first)
  and whether it sits under a condition;
- ``scalars``: each reference to a non-array variable, with read/write flags;
- ``calls``: each call expression with what libclang says it calls;
- ``hazards``: constructs that stop the nest from being offloaded, each with a stable
  remark id and a message naming the construct and its line.
The walk never decides legality beyond these syntactic hazards; the other modules do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine.loops import Loop
from pcx_driver.engine.macros import arithmetic_type_tokens as _arithmetic_type_tokens
from pcx_driver.engine.macros import use_problem
from pcx_driver.engine.semantics import Callee, Decl, Semantics
from pcx_driver.engine.source import SourceModel, declarator_identifier, strip_parens, subscript_index

GROWING_METHODS = frozenset(
    {"push_back", "emplace_back", "pop_back", "resize", "reserve", "insert", "emplace", "erase",
     "clear", "assign", "shrink_to_fit", "swap", "append"}
)
READONLY_METHODS = frozenset({"size", "data", "empty", "capacity", "max_size"})

CONDITIONAL_TYPES = frozenset({"if_statement", "conditional_expression", "switch_statement", "while_statement",
                               "do_statement", "case_statement"})


@dataclass
class ArrayRef:
    base: str  # text of the array expression: "a", "s->a", "s.a", "v"
    decl: Decl | None  # the array's declaration (variable, parameter or field)
    root: str  # the variable the base starts from ("s" for s->a)
    root_decl: Decl | None
    subs: list[Node]  # subscript expressions, outer first
    fields: tuple[str, ...]  # members selected after the subscripts (p[i].x -> ("x",))
    node: Node  # the whole access
    base_node: Node
    read: bool
    write: bool
    op: str  # "=", "+=", "++", ... for writes; "" for reads
    stmt: Node | None  # the enclosing expression statement
    loops: list[Loop]
    conditional: bool
    via_data: bool = False  # v.data()[i]
    member: bool = False  # base is a struct member (s.a, s->a)
    guards: list = field(default_factory=list)  # (condition node, taken branch) of enclosing ifs in the nest
    polys: list = field(default_factory=list)  # subscripts as Polys (None: not affine); set by the analysis
    delin: list = field(default_factory=list)  # delinearised subscripts of a flattened access


@dataclass
class ScalarRef:
    name: str
    decl: Decl | None
    node: Node
    read: bool
    write: bool
    op: str
    assign: Node | None  # the assignment/update expression when written
    stmt: Node | None
    loops: list[Loop]
    conditional: bool
    header_of: Loop | None = None  # reference in this loop's own init/test/update


@dataclass
class CallRef:
    node: Node
    name: str
    callee: Callee | None
    loops: list[Loop]


@dataclass
class Hazard:
    id: str
    message: str
    node: Node


@dataclass
class NestFacts:
    arrays: list[ArrayRef] = field(default_factory=list)
    scalars: list[ScalarRef] = field(default_factory=list)
    calls: list[CallRef] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    local_keys: set[str] = field(default_factory=set)  # declared inside the nest
    local_arrays: set[str] = field(default_factory=set)  # array keys declared inside
    container_sizes: list[tuple[str, Node]] = field(default_factory=list)  # v.size() uses
    statements: int = 0  # rough body cost


class _Walker:
    def __init__(self, model: SourceModel, sem: Semantics, loops_by_node: dict[int, Loop], root: Node):
        self.m = model
        self.sem = sem
        self.loops_by_node = loops_by_node
        self.root = root
        self.facts = NestFacts()
        self.guards: list[tuple[Node, bool]] = []  # if conditions around the current statement

    # ------------------------------------------------------------------ helpers
    def t(self, n: Node | None) -> str:
        return self.m.text(n)

    def line(self, n: Node) -> int:
        return self.m.line_col(n.start_byte)[0]

    def hazard(self, rid: str, msg: str, n: Node) -> None:
        self.facts.hazards.append(Hazard(rid, f"{msg} (line {self.line(n)})", n))

    def decl(self, ident: Node) -> Decl | None:
        return self.sem.decl_of(ident.start_byte)

    # ------------------------------------------------------------------ statements
    def visit(self, n: Node, loops: list[Loop], cond: bool, stmt: Node | None, in_switch_or_loop: bool) -> None:
        ty = n.type
        if ty == "for_statement":
            loop = self.loops_by_node.get(n.id)
            inner = loops + [loop] if loop is not None else loops
            for f in ("initializer", "condition", "update"):
                c = n.child_by_field_name(f)
                if c is not None:
                    self.expr(c, inner, cond, n, header_of=loop)
            body = n.child_by_field_name("body")
            if body is not None:
                # a break in the nest root's own body leaves the parallel loop
                self.visit(body, inner, cond if loop is not None else True, None, n.id != self.root.id)
            return
        if ty in ("for_range_loop",):
            self.hazard("PCX110", "range-based for loop inside the nest", n)
            return
        if ty in ("while_statement", "do_statement"):
            for c in n.named_children:
                if c.type in ("parenthesized_expression", "condition_clause"):
                    self.expr(c, loops, True, n)
                else:
                    self.visit(c, loops, True, None, True)
            return
        if ty == "if_statement":
            c = n.child_by_field_name("condition")
            if c is not None:
                self.expr(c, loops, cond, n)
            for f in ("consequence", "alternative"):
                b = n.child_by_field_name(f)
                if b is not None:
                    if c is not None:
                        self.guards.append((c, f == "consequence"))
                    self.visit(b, loops, True, None, in_switch_or_loop)
                    if c is not None:
                        self.guards.pop()
            return
        if ty == "else_clause":
            for c in n.named_children:
                self.visit(c, loops, True, None, in_switch_or_loop)
            return
        if ty == "switch_statement":
            c = n.child_by_field_name("condition")
            if c is not None:
                self.expr(c, loops, cond, n)
            b = n.child_by_field_name("body")
            if b is not None:
                self.visit(b, loops, True, None, True)
            return
        if ty in ("compound_statement", "case_statement", "labeled_statement"):
            value = n.child_by_field_name("value") if ty == "case_statement" else None
            label = n.child_by_field_name("label") if ty == "labeled_statement" else None
            for c in n.named_children:
                if (value is not None and c.id == value.id) or (label is not None and c.id == label.id):
                    continue  # the case constant / the label name
                self.visit(c, loops, cond or ty == "case_statement", None, in_switch_or_loop)
            return
        if ty == "expression_statement":
            self.facts.statements += 1
            for c in n.named_children:
                self.expr(c, loops, cond, n)
            return
        if ty == "declaration":
            self.facts.statements += 1
            self.declaration(n, loops, cond)
            return
        if ty == "return_statement":
            self.hazard("PCX108", "return statement leaves the nest", n)
            return
        if ty == "goto_statement":
            self.hazard("PCX108", "goto statement inside the nest", n)
            return
        if ty == "break_statement":
            if not in_switch_or_loop:
                self.hazard("PCX108", "break leaves the parallel loop", n)
            return
        if ty in ("continue_statement", "comment", ";", "empty_statement"):
            return
        if ty in ("throw_statement", "try_statement"):
            self.hazard("PCX132", "exception handling (throw/try) inside the nest", n)
            return
        if ty in ("gnu_asm_expression", "asm_statement"):
            self.hazard("PCX122", "inline assembly inside the nest", n)
            return
        if ty in ("type_definition", "struct_specifier", "class_specifier", "alias_declaration",
                  "using_declaration", "static_assert_declaration"):
            return
        if ty.startswith("preproc"):
            self.hazard("PCX114", "preprocessor directive inside the nest", n)
            return
        if n.is_named and ty.endswith("_expression"):
            self.expr(n, loops, cond, stmt)
            return
        self.hazard("PCX122", f"statement '{ty}' is not supported inside a nest", n)

    def declaration(self, n: Node, loops: list[Loop], cond: bool) -> None:
        if any(c.type == "storage_class_specifier" and self.t(c) == "static" for c in n.children):
            self.hazard("PCX119", "static local variable declared inside the nest", n)
            return
        for d in n.children_by_field_name("declarator"):
            ident = declarator_identifier(d)
            decl = self.sem.decl_declared_at(ident.start_byte) if ident is not None else None
            if decl is not None:
                self.facts.local_keys.add(decl.key)
                if decl.shape == "array":
                    self.facts.local_arrays.add(decl.key)
                if decl.shape == "pointer" and d.type == "init_declarator":
                    self.hazard("PCX118", f"pointer '{decl.name}' declared inside the nest may alias an array", d)
                if decl.reference and d.type == "init_declarator":
                    self.hazard("PCX118", f"reference '{decl.name}' declared inside the nest may alias an array", d)
                if decl.shape == "container":
                    self.hazard("PCX135", f"container '{decl.name}' constructed inside the nest", d)
            elif ident is not None:
                self.hazard("PCX122", f"cannot resolve the declaration of '{self.t(ident)}'", d)
            if d.type == "init_declarator":
                v = d.child_by_field_name("value")
                if v is not None:
                    self.expr(v, loops, cond, n)
                if ident is not None and decl is not None:
                    self.facts.scalars.append(
                        ScalarRef(decl.name, decl, ident, False, True, "=", d, n, loops, cond)
                    )
            # VLA sizes and array declarators: their size expressions are reads
            for sub in _walk_sizes(d):
                self.expr(sub, loops, cond, n)

    # ------------------------------------------------------------------ expressions
    def expr(self, n: Node, loops: list[Loop], cond: bool, stmt: Node | None,
             header_of: Loop | None = None) -> None:
        ty = n.type
        if ty == "assignment_expression":
            op = self.t(n.child_by_field_name("operator"))
            right = n.child_by_field_name("right")
            if right is not None:
                self.expr(right, loops, cond, stmt, header_of)
            left = n.child_by_field_name("left")
            if left is not None:
                self.lvalue(left, loops, cond, stmt, op, n, read=op != "=", header_of=header_of)
            return
        if ty == "update_expression":
            arg = n.child_by_field_name("argument")
            op = "++" if "++" in self.t(n) else "--"
            if arg is not None:
                self.lvalue(arg, loops, cond, stmt, op, n, read=True, header_of=header_of)
            return
        if ty == "declaration":  # for-init declaration
            for d in n.children_by_field_name("declarator"):
                ident = declarator_identifier(d)
                decl = self.sem.decl_declared_at(ident.start_byte) if ident is not None else None
                if decl is not None:
                    self.facts.local_keys.add(decl.key)
                v = d.child_by_field_name("value") if d.type == "init_declarator" else None
                if v is not None:
                    self.expr(v, loops, cond, stmt, header_of)
                if ident is not None:
                    self.facts.scalars.append(ScalarRef(self.t(ident), decl, ident, False, True, "=", d, stmt, loops,
                                                        cond, header_of))
            return
        if ty in ("subscript_expression",):
            self.access(n, loops, cond, stmt, read=True, write=False, op="", assign=None)
            return
        if ty == "field_expression":
            if self._is_access_chain(n):
                self.access(n, loops, cond, stmt, read=True, write=False, op="", assign=None)
                return
            self.member_read(n, loops, cond, stmt, header_of)
            return
        if ty == "call_expression":
            self.call(n, loops, cond, stmt, header_of)
            return
        if ty == "identifier":
            self.ident(n, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
            return
        if ty == "pointer_expression":
            op = self.t(n.child_by_field_name("operator"))
            if op == "&":
                self.hazard("PCX119", f"address of '{self.t(n.child_by_field_name('argument'))}' taken inside the nest", n)
            else:
                self.hazard("PCX118", f"dereference '{self.t(n)}' through a pointer cannot be analysed", n)
            return
        if ty == "conditional_expression":
            c = n.child_by_field_name("condition")
            if c is not None:
                self.expr(c, loops, cond, stmt, header_of)
            for f in ("consequence", "alternative"):
                b = n.child_by_field_name(f)
                if b is not None:
                    self.expr(b, loops, True, stmt, header_of)
            return
        if ty == "binary_expression":
            op = self.t(n.child_by_field_name("operator"))
            left = n.child_by_field_name("left")
            right = n.child_by_field_name("right")
            if left is not None:
                self.expr(left, loops, cond, stmt, header_of)
            if right is not None:
                self.expr(right, loops, cond or op in ("&&", "||"), stmt, header_of)
            if op in ("<<", ">>") and self._is_stream(left):
                self.hazard("PCX134", "iostream output/input inside the nest", n)
            return
        if ty == "lambda_expression":
            self.hazard("PCX130", "lambda expression inside the nest", n)
            return
        if ty in ("new_expression", "delete_expression"):
            self.hazard("PCX133", f"'{self.t(n).split()[0].split('[')[0]}' expression inside the nest", n)
            return
        if ty == "throw_expression":
            self.hazard("PCX132", "throw inside the nest", n)
            return
        if ty in ("sizeof_expression", "alignof_expression", "string_literal", "number_literal", "char_literal",
                  "true", "false", "null", "nullptr", "concatenated_string", "type_descriptor", "comment"):
            return
        if ty == "qualified_identifier":
            text = self.t(n)
            if text in ("std::cout", "std::cerr", "std::clog", "std::cin", "std::endl"):
                self.hazard("PCX134", f"'{text}' used inside the nest", n)
                return
            name = n.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                self.ident(name, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
            return
        if ty == "compound_literal_expression":
            self.hazard("PCX122", "compound literal inside the nest", n)
            return
        if ty == "comma_expression":
            for c in n.named_children:
                self.expr(c, loops, cond, stmt, header_of)
            return
        for c in n.named_children:
            if c.type in ("type_descriptor", "primitive_type", "type_identifier"):
                continue
            self.expr(c, loops, cond, stmt, header_of)

    def lvalue(self, n: Node, loops, cond, stmt, op: str, assign: Node, read: bool, header_of=None) -> None:
        n = strip_parens(n)
        if n.type == "identifier":
            self.ident(n, loops, cond, stmt, read=read, write=True, op=op, assign=assign, header_of=header_of)
            return
        if n.type == "subscript_expression" or (n.type == "field_expression" and self._is_access_chain(n)):
            self.access(n, loops, cond, stmt, read=read, write=True, op=op, assign=assign)
            return
        if n.type == "field_expression":
            self.hazard("PCX118", f"write to struct member '{self.t(n)}' inside the nest", n)
            return
        if n.type == "pointer_expression":
            self.hazard("PCX118", f"write through pointer dereference '{self.t(n)}'", n)
            return
        if n.type == "call_expression":
            # v.at(i) = x, or a user operator: analysed as a call and refused there
            self.call(n, loops, cond, stmt, None)
            self.hazard("PCX118", f"write through the result of a call '{self.t(n)}'", n)
            return
        self.hazard("PCX118", f"write to '{self.t(n)}' cannot be analysed", n)

    def ident(self, n: Node, loops, cond, stmt, read: bool, write: bool, op: str, assign, header_of=None) -> None:
        name = self.t(n)
        decl = self.decl(n)
        if decl is None:
            if self.sem.member_of(n.start_byte) is not None:
                self.hazard("PCX137", f"member '{name}' of this object used inside the nest", n)
                return
            macro = self.sem.macro_at(n.start_byte)
            if macro is not None:
                if write:
                    self.hazard("PCX113", f"write to macro '{name}'", n)
                return
            self.hazard("PCX122", f"cannot resolve '{name}'", n)
            return
        if decl.kind in ("enum", "function"):
            return
        if decl.shape in ("array", "pointer", "container") and not (decl.shape == "pointer" and write and False):
            if decl.key in self.facts.local_arrays:
                return
            self.hazard("PCX118", f"'{name}' is used as a pointer value, not through a subscript", n)
            return
        if decl.volatile:
            self.hazard("PCX119", f"volatile variable '{name}' used inside the nest", n)
            return
        self.facts.scalars.append(ScalarRef(name, decl, n, read, write, op, assign, stmt, loops, cond, header_of))

    def member_read(self, n: Node, loops, cond, stmt, header_of) -> None:
        arg = strip_parens(n.child_by_field_name("argument"))
        op = self.t(n.child_by_field_name("operator"))
        if arg is not None and arg.type == "this":
            self.hazard("PCX137", f"member '{self.t(n)}' of this object used inside the nest", n)
            return
        if op == "->":
            if header_of is not None and header_of.depth == 0:
                return  # evaluated once on the host before the nest starts
            self.hazard("PCX118", f"member '{self.t(n)}' read through a pointer inside the nest", n)
            return
        root = arg
        while root is not None and root.type == "field_expression":
            root = strip_parens(root.child_by_field_name("argument"))
        if root is not None and root.type == "identifier":
            self.ident(root, loops, cond, stmt, read=True, write=False, op="", assign=None, header_of=header_of)
            return
        self.expr(arg, loops, cond, stmt, header_of) if arg is not None else None

    def _is_access_chain(self, n: Node) -> bool:
        """field_expression over a subscript (p[i].x) or a member array (s.a / s->a used as a base)."""
        while n.type == "field_expression":
            n = strip_parens(n.child_by_field_name("argument"))
            if n is None:
                return False
        return n.type == "subscript_expression"

    def _is_stream(self, n: Node | None) -> bool:
        while n is not None and n.type == "binary_expression":
            n = n.child_by_field_name("left")
        if n is None:
            return False
        text = self.t(n)
        if text in ("std::cout", "std::cerr", "std::clog", "std::cin", "cout", "cerr", "cin", "clog"):
            return True
        if n.type == "identifier":
            d = self.decl(n)
            return d is not None and ("ostream" in d.type_spelling or "istream" in d.type_spelling)
        return False

    # ------------------------------------------------------------------ accesses and calls
    def access(self, n: Node, loops, cond, stmt, read: bool, write: bool, op: str, assign) -> None:
        fields: list[str] = []
        cur = strip_parens(n)
        while cur.type == "field_expression":
            if self.t(cur.child_by_field_name("operator")) != ".":
                self.hazard("PCX118", f"pointer chain '{self.t(n)}' cannot be analysed", n)
                return
            fields.insert(0, self.t(cur.child_by_field_name("field")))
            cur = strip_parens(cur.child_by_field_name("argument"))
        subs: list[Node] = []
        while cur is not None and cur.type == "subscript_expression":
            idx = subscript_index(cur)
            if idx is None:
                self.hazard("PCX102", f"subscript of '{self.t(cur)}' cannot be analysed", cur)
                return
            subs.insert(0, idx)
            cur = strip_parens(cur.child_by_field_name("argument"))
        for s in subs:
            self.expr(s, loops, cond, stmt)
        base = cur
        if base is None:
            return
        via_data = False
        member = False
        if base.type == "identifier":
            if self.sem.member_of(base.start_byte) is not None:
                self.hazard("PCX137", f"member array '{self.t(base)}' of this object used inside the nest", n)
                return
            decl = self.decl(base)
            root_decl = decl
            root = self.t(base)
        elif base.type == "call_expression" and self._data_call(base) is not None:
            obj = self._data_call(base)
            decl = self.decl(obj)
            root_decl = decl
            root = self.t(obj)
            via_data = True
        elif base.type == "field_expression":
            arg = strip_parens(base.child_by_field_name("argument"))
            fname = base.child_by_field_name("field")
            if arg is not None and arg.type == "this":
                self.hazard("PCX137", f"array '{self.t(base)}' of this object used inside the nest", n)
                return
            if arg is None or arg.type != "identifier" or fname is None:
                self.hazard("PCX118", f"pointer chain '{self.t(base)}' cannot be analysed", n)
                return
            info = self.sem.member_of(fname.start_byte)
            decl = info[0] if info else None
            root_decl = self.decl(arg)
            root = self.t(arg)
            member = True
            if root_decl is not None and root_decl.shape == "pointer" and decl is not None and decl.shape == "array":
                self.hazard("PCX118", f"array member '{self.t(base)}' reached through a pointer", n)
                return
        else:
            self.hazard("PCX118", f"access '{self.t(n)}' through a computed pointer cannot be analysed", n)
            return
        if base.type == "identifier" and decl is None:
            self.hazard("PCX122", f"cannot resolve '{self.t(base)}'", n)
            return
        if decl is not None and base.type == "identifier" and self.sem.member_of(base.start_byte) is not None:
            # an implicit this->member inside a member function
            self.hazard("PCX137", f"member array '{root}' of this object used inside the nest", n)
            return
        if decl is not None and decl.shape == "record" and not via_data:
            self.hazard("PCX118", f"subscript on class object '{root}' (user operator[])", n)
            return
        if decl is not None and decl.shape not in ("array", "pointer", "container"):
            self.hazard("PCX118", f"'{self.t(base)}' is not an array", n)
            return
        if decl is not None and decl.volatile:
            self.hazard("PCX119", f"volatile array '{root}' used inside the nest", n)
            return
        self.facts.arrays.append(ArrayRef(
            base=self.t(base) if not via_data else root, decl=decl, root=root, root_decl=root_decl, subs=subs,
            fields=tuple(fields), node=n, base_node=base, read=read, write=write, op=op, stmt=stmt, loops=loops,
            conditional=cond, via_data=via_data, member=member, guards=list(self.guards),
        ))

    def _data_call(self, n: Node) -> Node | None:
        f = n.child_by_field_name("function")
        if f is not None and f.type == "field_expression" and self.t(f.child_by_field_name("field")) == "data":
            obj = strip_parens(f.child_by_field_name("argument"))
            if obj is not None and obj.type == "identifier":
                return obj
        return None

    def _is_cast(self, n: Node, f: Node | None) -> bool:
        """tree-sitter's call ``n`` is a cast to an arithmetic type in libclang's view.

        The start byte must be a real token of the call (``(`` of a C cast, the type name of a
        C++ functional cast), not a macro whose whole expansion is a cast: that expansion may
        read more than the arguments show."""
        if f is None or n.start_byte not in self.sem.casts:
            return False
        if f.type == "parenthesized_expression":
            inner = strip_parens(f)
            if inner is None or inner.type not in ("identifier", "type_identifier", "primitive_type"):
                return False
            mu = self.sem.macro_at(inner.start_byte)
            if mu is not None and (mu.function_like or not _arithmetic_type_tokens(mu.body, self.sem)):
                return False
            return self.sem.macro_at(n.start_byte) is None
        if f.type == "identifier":  # Real_t(e): a type name, neither a macro nor a variable
            return self.sem.macro_at(f.start_byte) is None and self.decl(f) is None
        return f.type in ("type_identifier", "primitive_type", "qualified_identifier")

    def _macro_call(self, n: Node, name: str, args: Node | None, loops, cond, stmt, header_of) -> None:
        """``M(e1, ...)`` of a function-like macro: when its expansion is an expression over its
        arguments alone (engine/macros.py), the arguments are what the expansion reads."""
        why = use_problem(name, args, self.sem, self.decl)
        if why is not None:
            self.hazard("PCX113", f"function-like macro '{name}' cannot be analysed through: {why}", n)
            return
        if args is not None:
            for a in args.named_children:
                self.expr(a, loops, cond, stmt, header_of)

    def call(self, n: Node, loops, cond, stmt, header_of) -> None:
        f = n.child_by_field_name("function")
        args = n.child_by_field_name("arguments")
        callee = self.sem.callee_of(n.start_byte, n.end_byte)
        if f is not None and f.type == "field_expression":
            obj = strip_parens(f.child_by_field_name("argument"))
            method = self.t(f.child_by_field_name("field"))
            obj_decl = self.decl(obj) if obj is not None and obj.type == "identifier" else None
            if obj is not None and obj.type == "this":
                self.hazard("PCX137", f"member function '{method}' of this object called inside the nest", n)
                return
            if obj_decl is not None and obj_decl.shape == "container":
                if method in GROWING_METHODS:
                    self.hazard("PCX135", f"'{obj_decl.name}.{method}()' may grow or reallocate the container", n)
                elif method == "at":
                    self.hazard("PCX132", f"'{obj_decl.name}.at()' may throw", n)
                elif method == "size":
                    self.facts.container_sizes.append((obj_decl.name, n))
                elif method == "data":
                    self.hazard("PCX118", f"'{obj_decl.name}.data()' used other than as a subscript base", n)
                elif method not in READONLY_METHODS:
                    self.hazard("PCX118", f"container method '{obj_decl.name}.{method}()' inside the nest", n)
                if args is not None:
                    for a in args.named_children:
                        self.expr(a, loops, cond, stmt, header_of)
                return
            if callee is not None and callee.is_virtual:
                self.hazard("PCX131", f"virtual call '{self.t(f)}()' inside the nest", n)
                return
            self.hazard("PCX105", f"method call '{self.t(f)}()' inside the nest", n)
            return
        name = self.t(f) if f is not None else "?"
        if self._is_cast(n, f):
            # "(DATA_TYPE) (e)" with a macro or typedef type, "Real_t(e)": libclang says cast,
            # and a cast reads its operand and nothing else
            if args is not None:
                for a in args.named_children:
                    self.expr(a, loops, cond, stmt, header_of)
            return
        if name.startswith(("static_cast<", "const_cast<", "std::move", "std::forward")):
            if args is not None:  # a conversion, not a call
                for a in args.named_children:
                    self.expr(a, loops, cond, stmt, header_of)
            return
        if name.startswith(("reinterpret_cast<", "dynamic_cast<", "std::bit_cast")):
            self.hazard("PCX118", f"'{name.split('<')[0]}' inside the nest cannot be analysed", n)
            return
        if f is not None and f.type == "identifier":
            d = self.decl(f)
            if d is not None and d.kind != "function":
                if self.m.is_cxx:
                    self.hazard("PCX130", f"call through '{name}', a function pointer or function object", n)
                else:
                    self.hazard("PCX105", f"call through function pointer '{name}'", n)
                return
            if self.sem.macro_at(f.start_byte) is not None:
                self._macro_call(n, name, args, loops, cond, stmt, header_of)
                return
        elif f is not None and f.type not in ("qualified_identifier", "template_function"):
            self.hazard("PCX130", f"call through expression '{name}'", n)
            return
        if callee is not None and callee.kind == "other":
            self.hazard("PCX130", f"call to function object '{name}'", n)
            return
        self.facts.calls.append(CallRef(n, name, callee, loops))
        if args is not None:
            for a in args.named_children:
                bare = strip_parens(a)
                if bare is not None and bare.type == "identifier":
                    d = self.decl(bare)
                    if d is not None and d.shape in ("array", "pointer", "container") \
                            and d.key not in self.facts.local_arrays:
                        self.hazard("PCX105", f"array '{d.name}' is passed to '{name}', which may access it", n)
                        continue
                self.expr(a, loops, cond, stmt, header_of)


def _walk_sizes(d: Node):
    """Size expressions of array declarators inside declarator ``d``."""
    out = []
    stack = [d]
    while stack:
        n = stack.pop()
        if n.type == "array_declarator":
            s = n.child_by_field_name("size")
            if s is not None:
                out.append(s)
        if n.type in ("init_declarator",):
            x = n.child_by_field_name("declarator")
            if x is not None:
                stack.append(x)
            continue
        x = n.child_by_field_name("declarator")
        if x is not None:
            stack.append(x)
    return out


def collect(root: Node, loops_by_node: dict[int, Loop], model: SourceModel, sem: Semantics) -> NestFacts:
    w = _Walker(model, sem, loops_by_node, root)
    w.visit(root, [], False, None, False)
    return w.facts
