"""Calls inside a nest: math library, I/O, allocation, exits, and user functions.

Contract:
- ``classify_call(name, callee)`` sorts one call by what it calls (libclang's callee when
  known, else the spelled name) into a ``CallKind``.
- ``UserFunctions.check(callee)`` decides whether a user function defined in this unit
  may run on the device: its body (and those of the user functions it calls) writes no
  global or static object, does no I/O or allocation, takes no pointer or reference
  parameter (but pointers a nest's walk read it through as if inlined, which are only
  read), reads no global variable (it would need ``declare target``), and
  calls only math functions and other such user functions.  Results are memoised;
  recursion is refused.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine import callgraph, hostaccess
from pcx_driver.engine.functors import enclosing_class, stateless_class
from pcx_driver.engine.semantics import Callee, Semantics
from pcx_driver.engine.source import SourceModel, function_declarator, strip_parens, walk

_MATH_BASE = {
    "sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow", "hypot",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "fabs", "floor", "ceil", "round", "trunc", "rint", "nearbyint", "lround", "llround", "lrint", "fmod",
    "remainder", "fmin", "fmax", "fdim", "fma", "copysign", "erf", "erfc", "tgamma", "lgamma", "ldexp",
    "frexp_", "logb", "ilogb", "scalbn", "nextafter",
}
MATH_FUNCTIONS = (
    _MATH_BASE | {f + "f" for f in _MATH_BASE} | {f + "l" for f in _MATH_BASE}
    | {"abs", "labs", "llabs", "isnan", "isinf", "isfinite", "signbit", "min", "max", "__builtin_expect"}
    # what <math.h>'s INFINITY, HUGE_VAL, NAN (constants) and isinf, isnan, isfinite,
    # signbit (values of their argument) expand to with glibc, clang and gcc
    | {f"__builtin_{c}{w}" for c in ("inf", "huge_val", "nan") for w in ("", "f", "l")}
    | {"__builtin_isinf_sign", "__builtin_isinf", "__builtin_isnan", "__builtin_isfinite", "__builtin_signbit",
       "__builtin_signbitf", "__builtin_signbitl", "__builtin_fpclassify", "__builtin_isnormal"}
)
MATH_STD = {"std::" + f for f in _MATH_BASE | {"abs", "min", "max", "isnan", "isinf", "isfinite", "signbit", "clamp"}}
#: bit-counting builtins: values of their argument, which clang and gcc compile for every target
#: (HeCBench's ``__builtin_popcountll`` in a Hamming-distance loop)
BIT_BUILTINS = {f"__builtin_{f}{w}" for f in ("popcount", "clz", "ctz", "ffs", "parity", "clrsb")
                for w in ("", "l", "ll")} | {"__builtin_bswap16", "__builtin_bswap32", "__builtin_bswap64"}

IO_FUNCTIONS = {
    "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf", "puts", "fputs", "putchar", "fputc",
    "putc", "scanf", "fscanf", "sscanf", "getchar", "getc", "fgetc", "fgets", "gets", "fopen", "fclose",
    "fread", "fwrite", "fflush", "fseek", "ftell", "rewind", "perror", "remove", "rename", "write", "read",
    "open", "close", "system", "std::printf", "std::puts",
}
#: functions with hidden state (random generators, clocks): side effects, not I/O
STATEFUL_FUNCTIONS = {"rand", "srand", "random", "drand48", "srand48", "std::rand", "time", "clock", "gettimeofday",
                      "clock_gettime"}
ALLOC_FUNCTIONS = {"malloc", "calloc", "realloc", "free", "aligned_alloc", "posix_memalign", "alloca",
                   "std::malloc", "std::free", "memalign"}
EXIT_FUNCTIONS = {"exit", "abort", "_Exit", "quick_exit", "longjmp", "assert", "__assert_fail", "std::exit",
                  "std::abort", "std::terminate"}
MEMORY_FUNCTIONS = {"memcpy", "memset", "memmove", "std::memcpy", "std::memset", "std::copy", "std::fill"}


def definition_node(model: SourceModel, rng: tuple[int, int]) -> Node | None:
    """The function_definition covering byte range ``rng`` (a callee's definition)."""
    n = model.root.descendant_for_byte_range(rng[0], max(rng[0], rng[1] - 1))
    while n is not None and n.type != "function_definition":
        n = n.parent
    return n


class CallKind(enum.Enum):
    MATH = "math"
    IO = "io"
    ALLOC = "alloc"
    EXIT = "exit"
    USER = "user"
    UNKNOWN = "unknown"
    MEMORY = "memory"


def classify_call(name: str, callee: Callee | None) -> CallKind:
    qualified = callee.qualified if callee is not None else name
    plain = callee.name if callee is not None else name.split("::")[-1]
    for n in (qualified, name):
        if n in IO_FUNCTIONS or n.split("::")[-1] in IO_FUNCTIONS and n.startswith("std::"):
            return CallKind.IO
        if n in ALLOC_FUNCTIONS:
            return CallKind.ALLOC
        if n in EXIT_FUNCTIONS:
            return CallKind.EXIT
        if n in MEMORY_FUNCTIONS:
            return CallKind.MEMORY
        if n in STATEFUL_FUNCTIONS:
            return CallKind.UNKNOWN
    if callee is not None and callee.definition is not None and callee.in_main_file:
        return CallKind.USER
    if qualified in MATH_STD or (qualified.startswith("std::") and plain in MATH_FUNCTIONS):
        return CallKind.MATH
    if plain in MATH_FUNCTIONS and (callee is None or callee.definition is None):
        return CallKind.MATH
    if name in BIT_BUILTINS or name.startswith("__builtin_") and name[len("__builtin_"):] in MATH_FUNCTIONS:
        return CallKind.MATH
    return CallKind.UNKNOWN


@dataclass
class UserFunctions:
    model: SourceModel
    sem: Semantics
    verdicts: dict[str, tuple[bool, str]] = field(default_factory=dict)
    _active: set[str] = field(default_factory=set)
    definitions: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> byte range
    # a function template's explicit specializations (``_specializations``): name -> the
    # ``name@byte`` keys of ``definitions`` that each of them has
    specializations: dict[str, list[str]] = field(default_factory=dict)

    def _definition_node(self, rng: tuple[int, int]) -> Node | None:
        return definition_node(self.model, rng)

    @functools.cached_property
    def file_reads_errno(self) -> bool:
        """Whether the file names ``errno``, which a math function called on the device sets
        there, never where the host reads it."""
        return re.search(rb"\berrno\b", self.model.data) is not None

    def check(self, callee: Callee, inlined: bool = False) -> tuple[bool, str]:
        """(ok, reason): may this user function be compiled for the device?  ``inlined``:
        the nest's walk read its body in place of the call (access/inline.py), so its
        pointer and array parameters are known to be only subscripted and read."""
        key = callee.qualified + (" (inlined)" if inlined else "")
        if key in self.verdicts:
            return self.verdicts[key]
        if key in self._active:
            return (False, f"'{callee.name}' is recursive")
        if callee.definition is None:
            return (False, f"no definition of '{callee.name}' in this file")
        self._active.add(key)
        try:
            verdict = self._check(callee, inlined)
        finally:
            self._active.discard(key)
        self.verdicts[key] = verdict
        return verdict

    def _check(self, callee: Callee, inlined: bool) -> tuple[bool, str]:
        fn = self._definition_node(callee.definition)
        # a method of a class with no data, walked in place of its call: a helper spelled
        # through an object (engine/functors.py)
        functor = callee.kind == "method" and inlined and fn is not None and stateless_class(enclosing_class(fn),
                                                                                             self.model)
        if callee.kind in ("method", "constructor") and not functor:
            return (False, f"'{callee.qualified}' is a member function")
        # (a free ``operator+`` is a function like any other: its parameters decide)
        if fn is None:
            return (False, f"definition of '{callee.name}' not found")
        m, sem = self.model, self.sem
        name = callee.name
        hidden = user_object_code(sem, fn.start_byte, fn.end_byte, m.line_col)
        if hidden is not None:
            return (False, f"'{name}' {hidden}")
        body = fn.child_by_field_name("body")
        decl = fn.child_by_field_name("declarator")
        if body is not None and self.file_reads_errno and any(
                x.type == "identifier" and m.text(x) == "errno" for x in walk(body)):
            # (a macro for the calling thread's own: the device's, called from a kernel)
            return (False, f"'{name}' reads or sets errno, which a call from a kernel would keep on the device")
        # parameters: only values and pointers/references to const
        params = []
        if decl is not None:
            for n in walk(decl):
                if n.type in ("parameter_declaration", "optional_parameter_declaration"):
                    params.append(n)
        for p in params:
            default = p.child_by_field_name("default_value") if p.type == "optional_parameter_declaration" else None
            for x in walk(default) if default is not None else ():
                if x.type == "call_expression" and not is_cast_call(sem, x, x.child_by_field_name("function"),
                                                                   lambda y: sem.decl_of(y.start_byte)):
                    # (``int k = next()``: evaluated at every call, in the kernel, with whatever
                    # it changes; a held-out check's device link lacked the counter it bumped)
                    return (False, f"'{name}' has a default argument that calls '{m.text(x.child_by_field_name('function'))}'")
                d = sem.decl_of(x.start_byte) if x.type == "identifier" else None
                if d is not None and d.kind in ("global", "static-local", "static-member") and \
                        not (d.const and d.shape == "scalar"):
                    # evaluated where the call is, in the kernel, which never named it (a
                    # held-out check: the device link lacked the global)
                    return (False, f"'{name}' has a default argument that reads the global '{d.name}'")
            # down the declarator chain: the last identifier of `u32 p0[restrict N]` is N
            ident = hostaccess.declared_identifier_node(p)
            d = sem.decl_declared_at(ident.start_byte) if ident is not None else None
            if d is None:
                if any(x.type in ("pointer_declarator", "reference_declarator", "abstract_pointer_declarator",
                                  "array_declarator", "abstract_array_declarator") for x in walk(p)):
                    return (False, f"'{name}' takes an unnamed pointer, array or reference parameter")
                continue
            if d.shape in ("pointer", "array") and inlined and not d.reference:
                continue
            if d.shape == "record" and d.reference and inlined:
                continue  # bound to a struct of the iteration by the walk (access/inline.py)
            if d.shape == "scalar" and d.reference and (d.const or only_read(body, d.name, m.text)):
                # a reference that is only read: a value (the function takes no pointer that
                # could write what it names, and no global), bound to its argument by the
                # walk or read at the call as the argument's expression
                continue
            if d.shape in ("pointer", "array", "container") or d.reference:
                if not d.const:
                    return (False, f"'{name}' may write through its parameter '{d.name}'")
                return (False, f"'{name}' reads memory through its parameter '{d.name}'")
        if body is None:
            return (False, f"'{name}' has no body")
        if m.has_error_in(fn.start_byte, fn.end_byte):
            return (False, f"'{name}' could not be parsed")
        for n in walk(body):
            ty = n.type
            if ty == "field_expression":
                member = sem.member_of(n.child_by_field_name("field").start_byte) \
                    if n.child_by_field_name("field") is not None else None
                root = hostaccess.expression_root(n)
                d = sem.decl_of(root.start_byte) if root is not None and root.type == "identifier" else None
                if member is not None and member[0].shape == "pointer" and d is not None and d.kind == "param":
                    # a struct passed by value still points where the caller's does
                    # (``bump(Vec s) { s.v[i] += 1; }``: a held-out check's kernel lost it)
                    return (False, f"'{name}' reaches memory through the pointer member '{m.text(n)}' "
                                   f"of its parameter '{d.name}'")
            if ty == "identifier":
                d = sem.decl_of(n.start_byte)
                if d is None and sem.decl_declared_at(n.start_byte) is not None:
                    continue  # the name in a local declaration
                if d is None:
                    callee_name = n.parent is not None and (n.parent.type == "call_expression" or (
                        n.parent.type == "template_function" and n.parent.parent is not None
                        and n.parent.parent.type == "call_expression"))  # (``poly<D>(x)``: the call's walk)
                    if sem.macro_at(n.start_byte) is None and not callee_name:
                        return (False, f"'{name}' uses '{m.text(n)}', which cannot be resolved")
                    continue
                if d.kind in ("global", "static-local") and not (d.const and d.shape == "scalar"):
                    return (False, f"'{name}' uses the global or static variable '{d.name}'")
            elif ty == "declaration" and hostaccess.declared_static(n, m.data):
                return (False, f"'{name}' declares a static variable")
            elif ty in ("new_expression", "delete_expression", "throw_statement", "throw_expression",
                        "try_statement", "lambda_expression", "goto_statement", "gnu_asm_expression"):
                return (False, f"'{name}' contains '{m.text(n).split()[0]}'")
            elif ty == "call_expression":
                f = n.child_by_field_name("function")
                fname = m.text(f)
                if is_cast_call(sem, n, f, lambda x: sem.decl_of(x.start_byte)):
                    continue  # a conversion (its operand is walked as any expression)
                mu = sem.macro_at(f.start_byte) if f is not None and f.type == "identifier" else None
                if mu is not None and mu.function_like:
                    # a macro whose expansion is an expression over its arguments reads them
                    # and nothing else (engine/macros.py, which reads this module's tables
                    # of math functions); the walk goes on into them
                    from pcx_driver.engine.macros import use_problem

                    why = use_problem(fname, n.child_by_field_name("arguments"), sem,
                                      lambda x: sem.decl_of(x.start_byte))
                    if why is not None:
                        return (False, f"'{name}' uses macro '{fname}', which cannot be read through: {why}")
                    continue
                c = sem.callee_of(n.start_byte, n.end_byte)
                kind = classify_call(fname, c)
                specs = self._specializations(f, c) if kind is not CallKind.USER else []
                if specs:
                    # a dependent call in a template (``poly<D>(x)`` in ``approx<D>``) reaches
                    # one of the explicit specializations: each must be fit for the device
                    for spec in specs:
                        ok, why = self.check(spec, inlined)
                        if not ok:
                            return (False, f"'{name}' calls '{fname}', whose specialization {why}"
                                    if why.startswith("'") else why)
                    continue
                if kind is CallKind.USER and c is not None:
                    ok, why = self.check(c, inlined)
                    if not ok:
                        head = f"'{c.name}' "
                        if why.startswith(head):  # "'f' calls 'g', which declares a static variable"
                            return (False, f"'{name}' calls '{c.name}', which {why[len(head):]}")
                        return (False, f"'{name}' calls {why}" if why.startswith("'") else why)
                elif kind is CallKind.MATH and self.file_reads_errno:
                    return (False, f"'{name}' calls '{fname}', which may set errno, which this file reads")
                elif kind is not CallKind.MATH:
                    if kind is CallKind.IO:
                        return (False, f"'{name}' performs input/output ('{fname}')")
                    if kind is CallKind.ALLOC:
                        return (False, f"'{name}' allocates memory ('{fname}')")
                    return (False, f"'{name}' calls '{fname}', which has no visible definition")
            elif ty == "pointer_expression" and m.text(n.child_by_field_name("operator")) == "*":
                arg = strip_parens(n.child_by_field_name("argument"))
                d = sem.decl_of(arg.start_byte) if inlined and arg is not None and arg.type == "identifier" else None
                if d is None or d.kind != "param":  # (``*dx`` of a parameter the walk bound to ``&g``)
                    return (False, f"'{name}' dereferences a pointer")
        self.definitions[callee.qualified if "@" in callee.qualified else callee.name] = self._range_with_template(fn)
        return (True, "")

    def _specializations(self, f: Node | None, c: Callee | None) -> list[Callee]:
        """The functions a call ``f<args>(...)`` in a template may reach when libclang names
        no definition for it (its arguments depend on the template's parameters): every
        explicit specialization of a function template ``f`` at namespace scope in this file
        (``template <> float poly<3>(float x) {...}``), and its primary definition if it has
        one; [] when there is none, or ``c`` names a definition.  Each gets
        its own ``qualified`` key (``poly@<byte>``), so that each is checked and declared
        on the device (``closure``)."""
        if f is None or f.type != "template_function" or (c is not None and c.definition is not None):
            return []
        name_node = f.child_by_field_name("name")
        if name_node is None or name_node.type != "identifier":
            return []
        name = self.model.text(name_node)
        found: list[Node] = []
        for decl in walk(self.model.root):
            if decl.type != "template_declaration" or decl.parent is None or \
                    decl.parent.type not in ("translation_unit", "declaration_list"):
                continue  # (a member template is reached through its class)
            fn = next((x for x in decl.named_children if x.type == "function_definition"), None)
            declarator = function_declarator(fn)
            target = declarator.child_by_field_name("declarator") if declarator is not None else None
            own = target.child_by_field_name("name") if target is not None and target.type == "template_function" \
                else target
            if own is None or self.model.text(own) != name:
                continue
            found.append(fn)
        if not found:
            return []
        self.specializations.setdefault(name, [])
        out = []
        for fn in found:
            key = f"{name}@{fn.start_byte}"
            if key not in self.specializations[name]:
                self.specializations[name].append(key)
            out.append(Callee(name, key, "function", definition=(fn.start_byte, fn.end_byte), in_main_file=True))
        return out

    def reads_only_through_pointers(self, callee: Callee) -> tuple[bool, str]:
        """(ok, reason): every pointer or array parameter of ``callee`` is only read, element
        by element (``p[i]``, ``p[i][j]``, ``p[i].x``), or passed, as it is or offset, to a
        user function that reads its own in the same way.  Any other use (a write through
        it, a copy into a pointer variable, an address taken, a row passed on) is refused.
        With ``check(callee, True)`` this is what a call whose array arguments are read
        whole (access/footprint.py) relies on."""
        key = "reads only: " + callee.qualified
        if key in self.verdicts:
            return self.verdicts[key]
        if key in self._active:
            return (False, f"'{callee.name}' is recursive")
        fn = self._definition_node(callee.definition) if callee.definition is not None else None
        if fn is None:
            return (False, f"no definition of '{callee.name}' in this file")
        self._active.add(key)
        try:
            verdict = self._reads_only(callee.name, fn)
        finally:
            self._active.discard(key)
        self.verdicts[key] = verdict
        return verdict

    def _reads_only(self, name: str, fn: Node) -> tuple[bool, str]:
        m, sem = self.model, self.sem
        decl = fn.child_by_field_name("declarator")
        ranks: dict[str, int] = {}  # parameter key -> subscripts that reach an element
        for p in walk(decl) if decl is not None else ():
            if p.type not in ("parameter_declaration", "optional_parameter_declaration"):
                continue
            ident = hostaccess.declared_identifier_node(p)
            d = sem.decl_declared_at(ident.start_byte) if ident is not None else None
            if d is not None and d.shape in ("pointer", "array") and not d.reference:
                ranks[d.key] = len(d.dims) or 1  # ``T *p``: [None]; ``T (*p)[C]``: [None, C]
        body = fn.child_by_field_name("body")
        for n in walk(body) if body is not None else ():
            if n.type == "subscript_expression" and not (n.parent is not None and n.parent.type == "subscript_expression"
                                                         and n.parent.child_by_field_name("argument").id == n.id):
                # what it may read: its parameters' elements and its own arrays, nothing a
                # pointer variable or an expression computes (``((double *)addr)[0]``)
                base = strip_parens(n.child_by_field_name("argument"))
                while base is not None and base.type == "subscript_expression":
                    base = strip_parens(base.child_by_field_name("argument"))
                d = sem.decl_of(base.start_byte) if base is not None and base.type == "identifier" else None
                if d is None or not (d.key in ranks or (d.shape == "array" and d.kind == "local")):
                    return (False, f"'{name}' reads through '{m.text(base)}', which is neither its parameter nor an "
                                   f"array of its own (line {m.line_col(n.start_byte)[0]})")
            if n.type in ("assignment_expression", "update_expression"):
                # what it may write: its own scalars, and elements of its own local arrays
                target = n.child_by_field_name("left" if n.type == "assignment_expression" else "argument")
                base = strip_parens(target)
                while base is not None and base.type in ("subscript_expression", "field_expression"):
                    base = strip_parens(base.child_by_field_name("argument"))
                chain = base is not None and target is not None and base.id != strip_parens(target).id
                if chain and not (base.type == "identifier" and (d := sem.decl_of(base.start_byte)) is not None
                                  and d.shape in ("array", "record") and d.kind == "local" and d.key not in ranks):
                    return (False, f"'{name}' writes through '{m.text(target)}', which is not an array of its own "
                                   f"(line {m.line_col(n.start_byte)[0]})")
            if n.type != "identifier":
                continue
            d = sem.decl_of(n.start_byte)
            if d is None or d.key not in ranks:
                continue
            why = self._pointer_use(n, ranks[d.key])
            if why is not None:
                return (False, f"'{name}' does more than read its parameter '{d.name}': it {why} (line {m.line_col(n.start_byte)[0]})")
        return (True, "")

    def _pointer_use(self, n: Node, rank: int) -> str | None:
        """None when this use of a pointer parameter only reads; else what it does."""
        m = self.model

        def up(x: Node) -> Node:
            while x.parent is not None and x.parent.type == "parenthesized_expression":
                x = x.parent
            return x

        cur = up(n)
        parent = cur.parent
        if parent is not None and parent.type == "subscript_expression" \
                and parent.child_by_field_name("argument").id == cur.id:
            elem, depth = up(parent), 1
            while elem.parent is not None and elem.parent.type == "subscript_expression" \
                    and elem.parent.child_by_field_name("argument").id == elem.id:
                elem, depth = up(elem.parent), depth + 1
            if depth < rank:
                return "passes a row of it on"
            while elem.parent is not None and elem.parent.type == "field_expression" \
                    and m.text(elem.parent.child_by_field_name("operator")) == "." \
                    and elem.parent.child_by_field_name("argument").id == elem.id:
                elem = up(elem.parent)
            q = elem.parent
            if q is None:
                return None
            if q.type == "assignment_expression" and q.child_by_field_name("left").id == elem.id:
                return "writes through it"
            if q.type == "update_expression":
                return "writes through it"
            if q.type == "pointer_expression" and m.text(q.child_by_field_name("operator")) == "&":
                return "takes the address of an element"
            if q.type == "field_expression" and m.text(q.child_by_field_name("operator")) == "->":
                return "follows a pointer stored in it"
            return None
        arg = cur
        if parent is not None and parent.type == "binary_expression" \
                and m.text(parent.child_by_field_name("operator")) in ("+", "-"):
            arg = up(parent)  # p + k, passed on
        if arg.parent is not None and arg.parent.type == "argument_list":
            call = arg.parent.parent
            f = call.child_by_field_name("function") if call is not None else None
            c = self.sem.callee_of(call.start_byte, call.end_byte) if call is not None else None
            if f is None or c is None or classify_call(m.text(f), c) is not CallKind.USER:
                return f"passes it to '{m.text(f) if f is not None else '?'}'"
            ok, why = self.reads_only_through_pointers(c)
            return None if ok else f"passes it to '{c.name}' ({why})"
        return "uses it as a pointer value"

    def _range_with_template(self, fn: Node) -> tuple[int, int]:
        """What ``declare target`` wraps: the function with its template header; a
        method's whole class (with its own), as the directive stands at namespace scope."""
        cls = enclosing_class(fn)
        if cls is not None:
            fn = cls
            after = fn.next_sibling
            if fn.parent is not None and fn.parent.type != "template_declaration" and after is not None \
                    and after.type == ";":  # ``struct S {...};``: the semicolon is the class's
                return (fn.start_byte, after.end_byte)
        p = fn.parent
        if p is not None and p.type == "template_declaration":
            return (p.start_byte, p.end_byte)
        return (fn.start_byte, fn.end_byte)

    def closure(self, names: list[str]) -> dict[str, tuple[int, int]]:
        """Definitions of ``names`` and of every user function they call, transitively (the
        unit's call graph, through the functions ``check`` passed)."""
        calls = callgraph.of(self.model.data, self.model.unit.language).calls
        out: dict[str, tuple[int, int]] = {}
        todo = list(names)
        while todo:
            n = todo.pop()
            if n in out:
                continue
            for key in self.specializations.get(n, ()):  # (each is its own definition)
                if key in self.definitions:
                    out[key] = self.definitions[key]
            if n not in self.definitions:
                if n in self.specializations:
                    out[n] = out[self.specializations[n][0]]  # (so that it is not walked again)
                    todo.extend(calls.get(n, ()))
                continue
            out[n] = self.definitions[n]
            todo.extend(calls.get(n, ()))
        return out


def user_object_sites(sem: Semantics) -> list[tuple[int, bool, str]]:
    """Where objects run code of the user's that no call shows, in byte order: (byte, made,
    name) for a construction by a constructor the user wrote (``Mark k(b, i);``, ``t[i] =
    x[i]`` through ``Point(double)``; ``name`` the class) and for a local object whose
    destructor the user wrote (``made`` False; ``name`` the object)."""
    return sorted([(b, True, c) for b, c in sem.user_constructions.items()] +
                  [(off, False, d.name) for off, d in sem.decls_at.items()
                   if d.user_destructor and not d.reference and d.kind in ("local", "static-local")])


def user_object_code(sem: Semantics, lo: int, hi: int, line_col) -> str | None:
    """What the first of ``user_object_sites`` within bytes ``lo..hi`` runs, as a phrase,
    or None.  A kernel would run it on the device unread (a held-out check: a constructor
    writing ``b[i]`` left ``b`` mapped ``to`` only; one defined in another file broke the
    offload link)."""
    inside = [s for s in user_object_sites(sem) if lo <= s[0] < hi]
    if not inside:
        return None
    b, made, name = next((s for s in inside if s[1]), inside[0])  # (a construction first)
    if made:
        return f"constructs a '{name}' (line {line_col(b)[0]}), whose constructor is code pcx does not analyse"
    return f"destroys '{name}' (line {line_col(b)[0]}) with a destructor of its class, code pcx does not analyse"


def is_cast_call(sem: Semantics, n: Node, f: Node | None, decl_of) -> bool:
    """tree-sitter's call ``n`` (function part ``f``) is a cast to an arithmetic type in
    libclang's view: ``(DATA_TYPE) (e)`` with a macro or typedef type, ``Real_t(e)``.
    ``decl_of`` gives a name's declaration.

    The start byte must be a real token of the call (``(`` of a C cast, the type name of a
    C++ functional cast), not a macro whose whole expansion is a cast: that expansion may
    read more than the arguments show."""
    from pcx_driver.engine.macros import arithmetic_type_tokens

    builtin_type = f is not None and (f.type in ("primitive_type", "sized_type_specifier") or (
        f.type == "identifier" and f.text in (b"short", b"long", b"unsigned", b"signed")))  # (``short(e)``)
    if builtin_type and n.child_by_field_name("arguments") is not None and sem.macro_at(n.start_byte) is None:
        # ``int(e)``: a built-in type's name can be nothing but a conversion, also where
        # libclang records none (a dependent operand in a template: ``int(P<D>(r))``)
        return True
    if f is None or n.start_byte not in sem.casts:
        return False
    if f.type == "parenthesized_expression":
        inner = strip_parens(f)
        if inner is None or inner.type not in ("identifier", "type_identifier", "primitive_type"):
            return False
        mu = sem.macro_at(inner.start_byte)
        # (a macro for a typedef, ``#define q31_t int32_t``: one name, which libclang's cast
        # at this byte says is an arithmetic type)
        named_type = mu is not None and len(mu.body) == 1 and mu.body[0].isidentifier()
        if mu is not None and (mu.function_like or not (arithmetic_type_tokens(mu.body, sem) or named_type)):
            return False
        return sem.macro_at(n.start_byte) is None
    if f.type == "identifier":  # Real_t(e): a type name, neither a macro nor a variable
        return sem.macro_at(f.start_byte) is None and decl_of(f) is None
    return f.type in ("type_identifier", "primitive_type", "qualified_identifier")


def only_read(body: Node | None, name: str, text) -> bool:
    """Whether ``name`` is only read in ``body``: never assigned, incremented, addressed
    or passed to a call (which might bind it to a reference and write it).  A non-const
    ``double &density`` parameter used so is a value, as a const one is (Rodinia cfd's
    ``compute_velocity``, a held-out check)."""
    if body is None:
        return False
    for n in walk(body):
        if n.type != "identifier" or text(n) != name:
            continue
        p = n.parent
        while p is not None and p.type == "parenthesized_expression":
            p = p.parent
        if p is None:
            return False
        if p.type == "assignment_expression" and p.child_by_field_name("left") is not None \
                and strip_parens(p.child_by_field_name("left")) == n:
            return False
        if p.type in ("update_expression", "argument_list", "init_declarator", "reference_declarator") or \
                (p.type == "pointer_expression" and text(p.child_by_field_name("operator")) == "&"):
            return False
    return True
