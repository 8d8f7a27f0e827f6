"""What one host statement of a data region does to the arrays the region tracks.

``HostScanner.scan(statement) -> HostUse``: the tracked names it reads and writes,
element writes it makes (pushed back element by element when they can be named), pointer
moves between tracked buffers and temporaries (``tmp = a; a = b; b = tmp;``,
``std::swap``), and calls of kernel functions, which act on their array arguments like
their kernels (``Callee``).  Anything the region cannot follow soundly (a ``return`` out
of it, a tracked pointer stored or reallocated, part of an array passed to a function that
offloads) raises ``RegionRefused``, whose message is the PCX203 reason.  The flow walk
(``engine.dataflow``) asks this module about every host statement it meets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import READ_ONLY_STD, declared_identifier, text_of
from pcx_driver.engine.source import arguments_of, strip_parens, uncast
from pcx_driver.model import Language, Section, TypedNames

# Library calls that neither read nor write arrays passed to them through globals.
PURE_CALLS = frozenset(
    "printf fprintf puts putchar sqrt sqrtf fabs fabsf exp expf log logf sin cos tan pow powf "
    "floor ceil fmin fmax abs labs rand srand clock time".split()
)
SWAP = "\0swap"  # the hidden temporary of std::swap
#: C library functions that take an array: a call of one is no other file's code (remarks)
LIBRARY_NAMES = frozenset(
    "strlen strnlen strcmp strncmp strcpy strncpy strcat strncat strchr strrchr strstr strtok memcpy memmove "
    "memset memcmp memchr qsort bsearch fread fwrite fgets fputs fscanf sscanf scanf sprintf snprintf atoi atof "
    "strtol strtod".split()
)


class RegionRefused(Exception):
    """A data region cannot be formed soundly; the message is the PCX203 reason, ``byte``
    the host statement that stops it, when one does (a region beside it may still do)."""

    def __init__(self, message: str, byte: int | None = None) -> None:
        super().__init__(message)
        self.byte = byte


@dataclass
class HostUse:
    """What one host statement does to the tracked names."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    # pointer assignments ``dst = src`` between tracked names and temporaries, in order
    moves: list[tuple[str, str]] = field(default_factory=list)
    # calls of functions whose kernels do all their work on an array argument: (name, reads
    # it before writing ``defined`` whole, writes it, reads it at all, the section of it the
    # call writes whole before reading it, in the caller's names, or None)
    device: list[tuple[str, bool, bool, bool, Section | None]] = field(default_factory=list)
    # writes of single elements (``a[i] = ...``, ``a[i][j] += ...``): name -> index lists
    elements: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)  # names written in any other way
    # names passed to a kernel function that only reads them (on the host and in its
    # kernels): both copies must be current at the call, and the call changes neither
    shared: set[str] = field(default_factory=set)
    # of those, names the callee reads on the host through element updates of its own
    # (it assumes nothing about the host copy): no ``update from`` for the call
    shared_device: set[str] = field(default_factory=set)
    # names written element by element whose other elements were not read (``a[i] = x``):
    # the host copy need not be current when only the written elements are pushed
    partial: set[str] = field(default_factory=set)


@dataclass
class Callee:
    """A function whose pointer parameters are touched only inside its offloaded kernels:
    a call acts, for the caller's data plan, like those kernels on the arguments."""

    name: str
    params: list[str]
    # parameter index -> (reads before ``defined`` is written, writes, reads at all)
    effects: dict[int, tuple[bool, bool, bool]]
    containers: set[int] = field(default_factory=set)  # parameters that are C++ containers
    # parameter index -> the section (in the callee's names) its kernels write whole before
    # anything reads it: what a call defines of its argument, once the caller's values are
    # put in (``HostScanner.defined_section``) and the section is the caller's whole array
    defined: dict[int, Section] = field(default_factory=dict)


class HostScanner:
    """Reads host statements: tracked array names used, pointer moves, refusals."""

    def __init__(self, data: bytes, tracked: set[str], globals_: set[str],
                 callees: dict[str, Callee] | None = None) -> None:
        self.data = data
        self.tracked = tracked
        self.globals = globals_
        self.callees = callees or {}
        self.containers: set[str] = set()  # tracked names that are C++ containers
        self.kernel_functions: set[str] = set()  # functions that offload, directly or not
        self.temps: set[str] = set()  # pointer temporaries that hold a tracked buffer
        # kernel functions (not summarised as callees) -> indices of parameters they only
        # read, element by element, on the host and in their kernels
        self.read_only: dict[str, set[int]] = {}
        # kernel functions -> read-only parameters whose host copy they never assume current
        self.entry_safe: dict[str, set[int]] = {}
        # calls this file cannot see into (hostaccess.unseen_call), by name
        self.unseen: Callable[[str], bool] = lambda _name: False
        # C++: an element passed to a call may bind a reference parameter (set by the planner)
        self.cxx = False
        # tracked pointers to whole arrays passed as ``*p`` (``pointee_passed``), and the
        # macros that are ``*p`` (set by the planner)
        self.pointees: set[str] = set()
        self.deref_macros: set[str] = set()
        # tracked names another name may reach (parameters, globals), and whether a call of
        # a function may reach them so (escapes.reaches_globals; set by the planner)
        self.reachable: set[str] = set()
        self.reaches_globals: Callable[[str], bool] = lambda _name: True
        self.file_scope: set[str] = set()  # the unit's file-scope names (set by the planner)
        # functions of the user's other files, and the tracked globals they can name (set by
        # the planner): such a call may run kernels of its own on those globals
        self.foreign: set[str] = set()
        self.shared_globals: set[str] = set()
        # tracked name -> dimensions of its section: ``m[3]`` of a 2-D ``m`` is a row, a
        # pointer into it (set by the flow walk)
        self.ranks: dict[str, int] = {}
        # the unit's calls as libclang resolves them (UnitAnalysis.call_targets; set by the planner)
        self.call_targets: list[tuple[int, int, int, int, str]] = []
        self.object_code: list[tuple[int, str]] = []  # (UnitAnalysis.object_code; set by the planner)
        self.typed_names = TypedNames()  # (UnitAnalysis.typed_names; set by the planner)

    def names(self) -> set[str]:
        return self.tracked | self.temps

    @functools.cached_property
    def _lang(self) -> Language:
        return Language.CXX if self.cxx else Language.C

    @functools.cached_property
    def _kernel_names(self) -> set[str]:
        """The last names of the functions that offload (``kernel_functions``, which the
        planner sets before the first scan): computed once, not at every name and call."""
        from pcx_driver.engine import callgraph

        return {callgraph.last_name(k) for k in self.kernel_functions}

    @functools.cached_property
    def _kernel_reach(self) -> set[str]:
        """``_kernel_names`` and every function that calls one, by last names."""
        from pcx_driver.engine import callgraph

        return callgraph.of(self.data, self._lang).reaching(self._kernel_names)

    @functools.cached_property
    def _kernel_starts(self) -> list[int]:
        """Start bytes of the definitions of ``_kernel_reach``."""
        from pcx_driver.engine import callgraph

        return [f.start_byte for f in hostaccess.function_definitions(self.data, self._lang)
                if callgraph.last_name(hostaccess.function_name(f, self.data)) in self._kernel_reach]

    def scan(self, node: tree_sitter.Node) -> HostUse:
        use = HostUse()
        self._resolved_calls(node)
        self._visit(node, use)
        # calls, stored pointers and loops write more than the elements named
        use.whole |= use.writes - set(use.elements)
        if node.type != "expression_statement":
            use.whole |= set(use.elements)
        use.reads |= use.partial & use.whole  # the whole section goes back: all of it must be current
        use.partial -= use.reads
        return use

    def _row(self, node: tree_sitter.Node | None) -> str | None:
        """The tracked name ``node`` is a row of (``m[3]`` or ``m[i][j]`` with fewer subscripts
        than ``m`` has dimensions: a pointer into it, as C decays it), else None."""
        node = strip_parens(node)
        depth = 0
        while node is not None and node.type == "subscript_expression":
            depth += 1
            node = strip_parens(node.child_by_field_name("argument"))
        name = self._ident(node) if depth else None
        return name if name in self.names() and depth < self.ranks.get(name, 1) else None

    def _pointer_into(self, node: tree_sitter.Node | None) -> str | None:
        """The tracked name a pointer value points into through a row: ``m[10]``,
        ``(unsigned char *)a[7]``, ``m[i] + 1``, ``c ? m[0] : m[1]``; None otherwise."""
        node = strip_parens(node)
        if node is None:
            return None
        if node.type == "cast_expression":
            return self._pointer_into(node.child_by_field_name("value"))
        if node.type == "conditional_expression":
            return self._pointer_into(node.child_by_field_name("consequence")) or \
                self._pointer_into(node.child_by_field_name("alternative"))
        if node.type == "binary_expression" and text_of(self.data, node.child_by_field_name("operator")) in "+-":
            return self._pointer_into(node.child_by_field_name("left")) or \
                self._pointer_into(node.child_by_field_name("right"))
        return self._row(node)

    def _member_of(self, node: tree_sitter.Node | None) -> str | None:
        """The tracked name of ``s[i].v`` or ``s.v`` (a member, which may be an array that
        decays to a pointer when passed); None otherwise."""
        node = strip_parens(node)
        if node is None or node.type != "field_expression":
            return None
        while node is not None and node.type in ("field_expression", "subscript_expression"):
            node = strip_parens(node.child_by_field_name("argument"))
        name = self._ident(node)
        return name if name in self.names() else None

    def _ident(self, node: tree_sitter.Node | None) -> str | None:
        node = strip_parens(node)
        return text_of(self.data, node) if node is not None and node.type == "identifier" else None

    def _visit(self, node: tree_sitter.Node, use: HostUse) -> None:
        t = node.type
        if t in ("return_statement", "goto_statement", "throw_statement", "throw_expression"):
            raise RegionRefused(f"'{t.split('_')[0]}' at line {node.start_point[0] + 1} leaves the region")
        if t in ("expression_statement", "call_expression", "identifier"):
            leaving = hostaccess.leaving_macro(self.data, node)
            if leaving is not None:
                raise RegionRefused(f"macro '{leaving[0]}' at line {node.start_point[0] + 1} may leave the region "
                                    f"(its expansion holds '{leaving[1]}')")
        if node.has_error:
            # (``(po->*pm)(3)``: tree-sitter's C++ grammar reads no call there; what the code
            # does with the region's arrays is unknown)
            raise RegionRefused(f"the parser could not read the code at line {node.start_point[0] + 1}")
        if t == "field_expression":
            self._member_access(node)
        if self.cxx:
            self._references(node, use)
        if t in ("init_declarator", "assignment_expression"):
            value = node.child_by_field_name("value" if t == "init_declarator" else "right")
            row = self._pointer_into(value)
            if row is None and t == "init_declarator" and self._member_of(value) is not None and any(
                    d.type == "pointer_declarator" for d in hostaccess.declarator_chain(node)):
                row = self._member_of(value)  # ``double *p = s[7].v;``: a member array
            if row is not None and (t == "init_declarator" or text_of(
                    self.data, node.child_by_field_name("operator")) == "="):
                # ``double *r = m[10]; r[2] = 0;``: writes through r are writes into m that
                # the scan does not follow (a held-out check found them missed)
                raise RegionRefused(f"a pointer into '{row}' is stored at line {node.start_point[0] + 1}")
        if t == "init_declarator":
            dst = declared_identifier(node, self.data)
            src = self._ident(node.child_by_field_name("value"))
            if dst is not None and src in self.names():
                d = node.child_by_field_name("declarator")
                if src in self.containers and (d is None or d.type != "reference_declarator"):
                    # ``std::vector<double> z = u;``: a copy, another buffer (a held-out check
                    # found it read as z naming u's storage)
                    raise RegionRefused(f"container '{src}' is copied at line {node.start_point[0] + 1}")
                self.temps.add(dst)
                use.moves.append((dst, src))
                return
        if t == "assignment_expression":
            left = strip_parens(node.child_by_field_name("left"))
            right = node.child_by_field_name("right")
            op = text_of(self.data, node.child_by_field_name("operator"))
            dst = self._ident(left)
            if {dst, self._ident(right)} & self.containers:
                # ``v = u`` between std::vectors copies the elements (and may reallocate v):
                # no pointer move (wrong outputs and crashes when it was read as one)
                raise RegionRefused(f"container '{dst or self._ident(right)}' is assigned at line "
                                    f"{node.start_point[0] + 1}")
            if dst is not None and dst in self.names():
                src = self._ident(right)
                if op == "=" and src is not None and src in self.names():
                    use.moves.append((dst, src))
                    return
                raise RegionRefused(f"pointer '{dst}' is reassigned at line {node.start_point[0] + 1}")
            if dst is not None and op == "=" and self._ident(right) in self.names():
                self.temps.add(dst)
                use.moves.append((dst, self._ident(right)))
                return
            self._lvalue(left, use)
            if op != "=":
                self._visit(left, use)
            else:
                for c in hostaccess.all_nodes(left):
                    # ``keep(0)[9] = x``: the call runs; ``saved[11] = x``: a global that
                    # may hold what a function kept
                    if c.type == "call_expression" or (c.type == "identifier" and text_of(self.data, c) in
                                                        self.file_scope - self.names()):
                        self._visit(c, use)
            self._visit(right, use)
            return
        if t == "update_expression":
            arg = node.child_by_field_name("argument")
            if self._ident(arg) in self.names():
                raise RegionRefused(f"pointer '{self._ident(arg)}' is moved at line {node.start_point[0] + 1}")
            self._lvalue(arg, use)
            self._visit(arg, use)
            return
        if t == "call_expression":
            fn = node.child_by_field_name("function")
            fname = text_of(self.data, fn) if fn is not None else ""
            if fname in ("free", "realloc") or fname.endswith((".resize", ".push_back", ".clear", ".assign",
                                                               ".swap", ".reserve", ".emplace_back",
                                                               ".insert", ".erase", ".pop_back")):
                for a in hostaccess.identifiers_in(node, self.data) & self.names():
                    raise RegionRefused(f"'{a}' is reallocated or freed at line {node.start_point[0] + 1}")
            if hostaccess.leaves_nonlocally(self.data, Language.CXX if self.cxx else Language.C, fname):
                raise RegionRefused(f"'{fname}' at line {node.start_point[0] + 1} may leave the region by "
                                    "longjmp or an exception")
            if self.shared_globals and fname in self.foreign:
                g = sorted(self.shared_globals)[0]
                raise RegionRefused(f"'{fname}' at line {node.start_point[0] + 1} is defined in another file and may "
                                    f"use '{g}' (its host code would read the host copy, its kernels the device's)",
                                    node.start_byte)
            reached = sorted(self.shared_globals | self.reachable)
            below = self._foreign_below(fname) if reached and fname not in self.foreign else None
            if below is not None:
                # a function of this file that calls one of another file's (or through a
                # pointer), maybe with what it was passed or kept (``gp = a; touch(n);``):
                # that function's kernels would find the array present, as below
                raise RegionRefused(f"'{fname}' at line {node.start_point[0] + 1} calls {below}, which may reach "
                                    f"'{reached[0]}' (its kernels would use the device copy the region holds)",
                                    node.start_byte)
            if reached and (fname in self.foreign or hostaccess.calls_through_pointer(node, self.data, self._lang)
                            and not self._local_lambda(fn)):
                # A parameter may point to a global of the file that defines the callee, or a
                # global of another file's: its kernels (pcx-compiled there) would find the
                # array present and use the device copy, which the region's ``update to``
                # after the call overwrites with the host's (a held-out check, two archives)
                how = "is defined in another file" if fname in self.foreign else "is a call through a pointer"
                raise RegionRefused(f"'{fname}' at line {node.start_point[0] + 1} {how} and may reach '{reached[0]}' "
                                    "(its kernels would use the device copy the region holds)", node.start_byte)
            self._indirect(node, fn, fname)
            if fn is not None and fn.type == "identifier":
                self._other_name(fn, fname)  # ``s += A(2, 2)`` of ``#define A(i,j) a[(i)*n+(j)]``
            args = node.child_by_field_name("arguments")
            if fname in ("std::swap", "swap") and args is not None:
                pair = [self._ident(a) for a in arguments_of(args)]
                if len(pair) == 2 and all(x in self.names() for x in pair):
                    if set(pair) & self.containers:
                        raise RegionRefused(f"containers swapped at line {node.start_point[0] + 1}")
                    x, y = pair  # exchange the buffers the two pointers hold
                    use.moves.extend([(SWAP, x), (x, y), (y, SWAP)])
                    return
            callee = self.callees.get(fname)
            if callee is None and fname not in self.kernel_functions and self.reachable and \
                    self.reaches_globals(fname):
                # a global or static may hold what the caller passed (``g = v;`` before):
                # the call may read and write it whole
                use.reads |= self.reachable
                use.writes |= self.reachable
            shared: set[int] = set()  # argument indices passed to a reading kernel function
            if callee is None and fname in self.kernel_functions and args is not None:
                # Its kernels map their data themselves, assuming nothing is present.  An
                # array it only reads may be present if both copies are current: its maps
                # then copy nothing and its host code reads the same values.
                ro = self.read_only.get(fname, set())
                argv = arguments_of(args)
                for i, a in enumerate(argv):
                    name = self._ident(a)
                    if i in ro and name in self.tracked:
                        shared.add(i)
                        use.shared.add(name)
                        if i in self.entry_safe.get(fname, set()):
                            use.shared_device.add(name)
                passed = set().union(set(), *(hostaccess.identifiers_in(a, self.data) for i, a in enumerate(argv)
                                              if i not in shared)) & self.names()
                if passed or self.globals:
                    what = f"'{sorted(passed)[0]}'" if passed else "a mapped global"
                    raise RegionRefused(f"{what} is passed at line {node.start_point[0] + 1} to '{fname}', which "
                                        "offloads with host code between its kernels")
            if args is not None:
                argv = arguments_of(args)
                for i, a in enumerate(argv):
                    name = self._ident(a)
                    if name is None and (got := passed_array(a, self.data)) is not None and got[1] \
                            and got[0] in self.names():
                        name = got[0]  # ``poke(v.data(), 7)`` passes v's array as ``poke(p, 7)`` passes p
                    if i in shared:
                        continue
                    if self.cxx and name is None and fname not in PURE_CALLS | READ_ONLY_STD:
                        # ``inc(u[0])``, ``std::swap(u[0], x)``: a reference parameter may
                        # write the element (C passes values; C++ may bind a reference)
                        bound = hostaccess.identifiers_in(a, self.data) & self.names()
                        if bound and strip_parens(a) is not None and \
                                strip_parens(a).type in ("subscript_expression", "field_expression"):
                            use.reads |= bound
                            use.writes |= bound
                    if callee is not None and i in callee.effects:
                        got = passed_array(a, self.data)
                        if got is None and (p := pointee_passed(a, self.data, self.deref_macros)) in self.pointees:
                            got = (p, False)
                        if got is not None and got[0] in self.names():
                            use.device.append((got[0], *callee.effects[i],
                                               self.defined_section(callee, i, got[0], argv)))
                            continue
                        if hostaccess.identifiers_in(a, self.data) & self.names():
                            raise RegionRefused(f"line {node.start_point[0] + 1} passes part of a mapped array "
                                                f"to '{fname}'")
                        continue
                    row = (self._pointer_into(a) or self._member_of(a)) if name is None else None
                    if row is not None and fname not in PURE_CALLS:
                        # ``memcpy(dst[3], ...)``, ``fill(m[i], n)``, ``memcpy(d[i].v, ...)``:
                        # a row, or a member that may be an array, is a pointer the callee
                        # may write through
                        use.reads.add(row)
                        use.writes.add(row)
                        use.whole.add(row)
                        continue
                    if name in self.names():  # the callee may read and write through it
                        if self.unseen(fname):
                            what = "a macro whose expansion the scan does not follow" if fname in \
                                hostaccess.macro_names(self.data, self._lang) else \
                                "a library function the scan does not follow" if fname in LIBRARY_NAMES else \
                                "an instantiation of a template of this file, which the scan does not follow by " \
                                "name" if self._template_of_this_file(fname) else \
                                "defined in another file, whose kernels would find it on the device"
                            raise RegionRefused(f"'{name}' is passed at line {node.start_point[0] + 1} to '{fname}', "
                                                f"{what}", node.start_byte)
                        use.reads.add(name)
                        use.writes.add(name)
                    elif name is None:
                        self._visit(a, use)
                if fn is not None and fn.type != "identifier":
                    self._visit(fn, use)
                if fname not in PURE_CALLS and self.globals:
                    use.reads |= self.globals
                    use.writes |= self.globals
                return
            if fname not in PURE_CALLS and self.globals:
                use.reads |= self.globals
                use.writes |= self.globals
        if t == "pointer_expression" and text_of(self.data, node)[:1] == "&":
            self._lvalue(node.child_by_field_name("argument"), use, element=False)
        if t == "identifier":
            name = text_of(self.data, node)
            self._other_name(node, name)
            if name in self.names():
                use.reads.add(name)
                self._pointer_use(node, name, use)
            elif name in self.file_scope and self.reachable:
                # a global may hold what was passed to a function that keeps it
                use.reads |= self.reachable
                use.writes |= self.reachable
            return
        if t == "field_expression":
            arg = node.child_by_field_name("argument")
            if arg is not None:
                self._visit(arg, use)
            return
        for c in node.children:
            self._visit(c, use)

    def defined_section(self, callee: Callee, i: int, name: str, argv: list) -> Section | None:
        """The section of ``name`` (passed as argument ``i``) that the call surely writes
        whole before reading it, in the caller's names: the callee's section with each of
        its parameters replaced by the argument passed for it, where every name in it is a
        parameter and those arguments are plain values (names, numbers, arithmetic)."""
        from pcx_driver.engine.workguard import substitute

        sec = callee.defined.get(i)
        if sec is None:
            return None
        values = {}
        for k, p in enumerate(callee.params):
            if k < len(argv) and p and all(n.type in ("identifier", "number_literal", "binary_expression",
                                                       "parenthesized_expression", "unary_expression")
                                           or not n.is_named for n in hostaccess.all_nodes(argv[k])):
                values[p] = text_of(self.data, argv[k])
        dims = []
        for lo, ln in sec.dims:
            for part in (lo, ln):
                if not hostaccess.expression_identifiers(part, self._lang) <= set(values):
                    return None
            dims.append((substitute(lo, values, self._lang), substitute(ln, values, self._lang)))
        return Section(name, dims)

    def _template_of_this_file(self, fname: str) -> bool:
        """``fname`` (``vol2col_kernel<T>``) names an instantiation of a function template
        this file defines."""
        return "<" in fname and not fname.startswith("operator") and \
            fname.split("<")[0].strip() in hostaccess.functions_by_name(self.data, self._lang)

    def _resolved_calls(self, node: tree_sitter.Node) -> None:
        """Calls the text does not show as calls of a function by name, which libclang
        resolves: ``ops::k()``, ``k<2>()``, ``U::k()``, an overloaded operator, a
        constructor.  One that reaches an offloading function, and in C++ any operator or
        constructor of the unit's own (it may write what the region holds: the scan cannot
        see into it), stops the region unless the scan handles it by name."""
        if self.cxx and self.names():
            for b, what in self.object_code:
                if node.start_byte <= b < node.end_byte:
                    # a constructor or destructor of the user's (this file's or another's):
                    # it may write what the region holds through what it was given or kept
                    # (no region after it either: a constructor may keep a reference that
                    # code inside a later region writes through)
                    line = self.data.count(b"\n", 0, b) + 1
                    raise RegionRefused(f"{what} at line {line} by code of the user's that runs where the text "
                                        "shows no call")
        if not self.call_targets or not self.kernel_functions and not self.cxx:
            return
        for s, e, ds, de, name in self.call_targets:
            if not (node.start_byte <= s < node.end_byte and e <= node.end_byte):
                continue
            call = node.descendant_for_byte_range(s, max(s, e - 1))
            fn = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
            spelled = text_of(self.data, fn) if fn is not None else ""
            if spelled in self.callees or spelled in self.kernel_functions:
                continue  # a kernel function the scan follows by name
            line = self.data.count(b"\n", 0, s) + 1
            if any(ds <= k < de for k in self._kernel_starts):
                raise RegionRefused(f"the call of '{name}' at line {line} reaches code that offloads", s)
            if self.cxx and fn is None and self.names():
                # ``w[5] = x`` through a user ``operator[]``, ``R r(a)``: code of the unit's
                # own that runs where the text shows no call
                # (no region beside it either: a constructor may keep a reference that code
                # inside a later region writes through, ``Obs o(v); ... o.tick();``)
                raise RegionRefused(f"'{name}' of the unit runs at line {line} where the text shows no call")

    def _other_name(self, node: tree_sitter.Node, name: str) -> None:
        """Refuse a name that stands for a tracked array or an offloading call the scan
        does not follow: a macro naming the array (``#define DATA storage``) or calling a
        function that offloads (``#define SUMMARIZE summ()``), the scan reading the text as
        written, not the expansion; a reference to a whole array (``double (&ra)[N] = a;``,
        whose declaration tree-sitter misreads, so no move is followed)."""
        line = node.start_point[0] + 1
        named = hostaccess.macro_names(self.data, self._lang).get(name, ())
        if name not in self.names() and set(named) & self.names():
            raise RegionRefused(f"macro '{name}' at line {line} names '{sorted(set(named) & self.names())[0]}'",
                                node.start_byte)
        calls = set(named) & self._kernel_names
        if calls:
            raise RegionRefused(f"macro '{name}' at line {line} calls '{sorted(calls)[0]}', which offloads",
                                node.start_byte)
        if name in self.typed_names.array_references and name not in self.names():
            raise RegionRefused(f"'{name}' at line {line} is a reference to an array", node.start_byte)

    def _indirect(self, call: tree_sitter.Node, fn: tree_sitter.Node | None, fname: str) -> None:
        """Refuse a call that may run kernels the scan cannot name: through a pointer or an
        object (``hook()``, ``table[k]()``, ``s.fp()``, ``std::function``) while a function
        with kernels has its address taken, or a method call named like a function with
        kernels (a virtual ``st->run()``).  Their kernels would find the region's arrays
        present and use the device copies, where the scan saw host code (a held-out check:
        wrong outputs)."""
        if not self.kernel_functions or fn is None:
            return
        from pcx_driver.engine import callgraph

        lang, kernels = self._lang, self._kernel_names
        bare = strip_parens(fn)
        line = call.start_point[0] + 1
        hidden = sorted(set(hostaccess.macro_names(self.data, lang).get(fname, ())) & kernels)
        if hidden:  # ``#define RESET() zero_head()``
            raise RegionRefused(f"macro '{fname}' at line {line} calls '{hidden[0]}', which offloads",
                                call.start_byte)
        if self.cxx and "operator()" in kernels and bare is not None and bare.type == "identifier" and \
                fname in hostaccess.pointer_variables(self.data, lang):
            # ``sc(2.0)`` of an object whose class has an offloading ``operator()``
            raise RegionRefused(f"the call '{fname}(...)' at line {line} may run the kernels of an 'operator()'",
                                call.start_byte)
        pointer = hostaccess.calls_through_pointer(call, self.data, lang)
        through = pointer or callgraph.last_name(fname) in hostaccess.pointer_callers(self.data, lang) or \
            (bare is not None and bare.type == "identifier" and text_of(self.data, bare) in self.typed_names.callable_variables)
        if bare is not None and bare.type == "identifier" and text_of(self.data, bare) in kernels and \
                fname != text_of(self.data, bare):
            # ``(k)()``: the function itself, by a name the scan did not follow
            raise RegionRefused(f"the call '{fname}()' at line {line} runs '{text_of(self.data, bare)}', "
                                "which offloads", call.start_byte)
        args = call.child_by_field_name("arguments")
        passed = sorted({text_of(self.data, a) for a in (args.named_children if args is not None else ())
                         if a.type == "identifier"} & kernels)
        if passed:  # ``std::invoke(k)``, ``run_twice(k)``: the callee may call it
            raise RegionRefused(f"'{passed[0]}', which offloads, is passed to '{fname}' at line {line}",
                                call.start_byte)
        if bare is not None and bare.type == "field_expression" and callgraph.last_name(fname) in self._kernel_reach:
            # (``n.run()`` whose ``run`` calls ``static_cast<D*>(this)->impl()``, CRTP: names
            # compared by their last part, as a method call may reach any of that name)
            raise RegionRefused(f"the call '{fname}' at line {line} may run the kernels of "
                                f"'{callgraph.last_name(fname)}' on the region's arrays", call.start_byte)
        addressed = sorted(kernels & hostaccess.addressed_functions(self.data, lang))
        if through and addressed:
            how = "the call through" if pointer else "a function that calls through a pointer,"
            raise RegionRefused(f"{how} '{fname}' at line {line} may run the kernels of "
                                f"'{addressed[0]}' on the region's arrays", call.start_byte)

    def _references(self, node: tree_sitter.Node, use: HostUse) -> None:
        """C++ forms that reach a tracked array through a reference the scan cannot follow:
        a reference bound into it (``double& r = u[0];``) or an object constructed from it
        (``std::vector<double> tmp(u);``, which may keep a reference) stop the region; a
        range-for by reference over it (``for (auto& e : u)``) writes it whole (the visit
        goes on into the node either way)."""
        t = node.type
        line = node.start_point[0] + 1
        if t == "init_declarator":
            d = node.child_by_field_name("declarator")
            value = node.child_by_field_name("value")
            used = hostaccess.identifiers_in(value, self.data) & self.names() if value is not None else set()
            if used and d is not None and d.type == "reference_declarator":
                raise RegionRefused(f"a reference into '{sorted(used)[0]}' is bound at line {line}; writes through "
                                    "it are not followed")
            if used and value.type in ("argument_list", "initializer_list"):
                raise RegionRefused(f"'{sorted(used)[0]}' is passed at line {line} to a constructor, which may keep "
                                    "a reference to it")
        if t == "function_declarator" and node.parent is not None and node.parent.type == "declaration":
            params = node.child_by_field_name("parameters")
            # ``std::vector<double> tmp(u);`` reads as a function taking a ``u``: a type name
            used = {text_of(self.data, x) for x in hostaccess.all_nodes(params)
                    if x.type in ("identifier", "type_identifier")} & self.names() if params is not None else set()
            if used:
                raise RegionRefused(f"'{sorted(used)[0]}' is passed at line {line} to a constructor, which may keep "
                                    "a reference to it")
        if t == "for_range_loop":
            d = node.child_by_field_name("declarator")
            right = strip_parens(node.child_by_field_name("right"))
            used = hostaccess.identifiers_in(right, self.data) & self.names() if right is not None else set()
            if right is not None and not used and right.type != "initializer_list" and (
                    right.type != "identifier" or text_of(self.data, right) in self.typed_names.user_objects):
                # ``for (double &x : view)``: a user type's ``begin()`` may return a pointer
                # into a region's array, read and written through the loop variable
                raise RegionRefused(f"the range-for at line {line} goes over '{text_of(self.data, right)}', whose "
                                    "begin() and end() may reach a region's arrays")
            if used and d is not None and d.type == "reference_declarator":
                use.reads |= used
                use.writes |= used

    def _foreign_below(self, fname: str) -> str | None:
        """How a call of ``fname``, a function of this file, may run another file's code:
        "'g' (defined in another file)" or "'h' through a pointer" for the first function
        of its call closure that does; None when none does (or ``fname`` is not this file's)."""
        from pcx_driver.engine import callgraph

        graph = callgraph.of(self.data, self._lang)
        bare = callgraph.last_name(fname)
        if bare not in graph.definitions:
            return None
        closure = graph.reachable({bare})
        for site in graph.sites:
            if site.caller is None or callgraph.last_name(site.caller) not in closure:
                continue
            if site.name in self.foreign or site.spelled in self.foreign:
                return f"'{site.spelled}' (defined in another file)"
            if hostaccess.calls_through_pointer(site.node, self.data, self._lang) and not self._local_lambda(
                    site.node.child_by_field_name("function")):
                return f"'{site.spelled}' through a pointer"
        return None

    def _local_lambda(self, fn: tree_sitter.Node | None) -> bool:
        """``fn`` names a lambda the enclosing function defines (``auto poke = [&](int k)
        {...};``): its body is this file's, which the escape scan reads (its captures)."""
        if fn is None or fn.type != "identifier":
            return False
        name = text_of(self.data, fn)
        f = fn
        while f is not None and f.type != "function_definition":
            f = f.parent
        return f is not None and any(
            d.type == "init_declarator" and declared_identifier(d, self.data) == name
            and (v := d.child_by_field_name("value")) is not None and v.type == "lambda_expression"
            for d in hostaccess.all_nodes(f))

    def _member_access(self, node: tree_sitter.Node) -> None:
        """Refuse a member access that reaches memory the scan does not follow: through a
        pointer to member (``(obj.*pm)()``), or a member declared as a reference."""
        op = node.child_by_field_name("operator")
        field = node.child_by_field_name("field")
        if op is not None and text_of(self.data, op) in (".*", "->*"):
            raise RegionRefused(f"a pointer to member is used at line {node.start_point[0] + 1}: what it "
                                "reaches is not followed")
        if field is not None and text_of(self.data, field) in self.typed_names.reference_members:
            raise RegionRefused(f"member '{text_of(self.data, field)}' at line {node.start_point[0] + 1} is a "
                                "reference: what it was bound to is not followed")

    def _pointer_use(self, ident: tree_sitter.Node, name: str, use: HostUse) -> None:
        """A mapped pointer used as a value (``a + 1``, a cast, ``c ? a : b``) may be
        written through later: count a write, and refuse if it is stored anywhere."""
        top, moved = ident, False
        while top.parent is not None and (
                top.parent.type in ("parenthesized_expression", "cast_expression", "conditional_expression")
                or (top.parent.type == "binary_expression"
                    and text_of(self.data, top.parent.child_by_field_name("operator")) in ("+", "-"))):
            top, moved = top.parent, True
        if not moved:
            return
        parent = top.parent
        if parent is not None and parent.type in ("subscript_expression", "pointer_expression") and \
                parent.child_by_field_name("argument") == top:
            return  # an element access: the lvalue rules see writes
        if parent is not None and (parent.type == "init_declarator" or (
                parent.type == "assignment_expression" and parent.child_by_field_name("right") == top)):
            raise RegionRefused(f"a pointer into '{name}' is stored at line {ident.start_point[0] + 1}")
        use.writes.add(name)

    def _lvalue(self, node: tree_sitter.Node | None, use: HostUse, element: bool = True) -> None:
        """Record writes through ``node`` (``a[i]``, ``*a``, ``*(a + i)``, ``a[i].x``)."""
        node = strip_parens(node)
        index: list[str] = []
        plain = element  # only subscripts all the way down to the name
        while node is not None and node.type in ("subscript_expression", "field_expression", "pointer_expression"):
            if node.type == "subscript_expression" and node.child_by_field_name("index") is not None:
                index.insert(0, text_of(self.data, node.child_by_field_name("index")))
                self._visit(node.child_by_field_name("index"), use)  # ``a[idx[i]] = ..`` reads idx
            else:
                plain = False
            if node.type == "field_expression":
                self._member_access(node)
            node = strip_parens(node.child_by_field_name("argument"))
        names = {self._ident(node)} if node is not None and node.type == "identifier" else (
            hostaccess.identifiers_in(node, self.data) if node is not None else set())
        for name in names:
            self._other_name(node, name)
        for name in names & self.names():
            use.writes.add(name)
            if plain and index and node.type == "identifier":
                # Pushing back only these elements needs no other element current;
                # ``scan`` turns this into a read if the whole section must go back.
                use.partial.add(name)
                use.elements.setdefault(name, []).append(tuple(index))
            else:
                use.reads.add(name)  # a partial write needs the rest of the host copy current
                use.whole.add(name)


def passed_array(arg: tree_sitter.Node | None, data: bytes) -> tuple[str, bool] | None:
    """The array an argument passes: ``x`` -> (x, False); ``x.data()`` -> (x, True);
    ``&x[0]`` -> (x, False); ``(T *) x`` as ``x`` (a C cast keeps the address, and a
    mapped buffer is found by its address: HeCBench ace passes ``(nRarray *) d_phi``);
    None for anything else."""
    arg = uncast(arg)
    if arg is None:
        return None
    if arg.type == "identifier":
        return text_of(data, arg), False
    if arg.type == "call_expression":
        fe = arg.child_by_field_name("function")
        args = arg.child_by_field_name("arguments")
        if fe is not None and fe.type == "field_expression" and args is not None and args.named_child_count == 0:
            base = strip_parens(fe.child_by_field_name("argument"))
            field_ = fe.child_by_field_name("field")
            if base is not None and base.type == "identifier" and field_ is not None and text_of(data, field_) == "data":
                return text_of(data, base), True
    if arg.type == "pointer_expression" and text_of(data, arg)[:1] == "&":
        sub = strip_parens(arg.child_by_field_name("argument"))
        if sub is not None and sub.type == "subscript_expression":
            base = strip_parens(sub.child_by_field_name("argument"))
            idx = sub.child_by_field_name("index")
            if base is not None and base.type == "identifier" and idx is not None and text_of(data, idx).strip() == "0":
                return text_of(data, base), False
    return None


def pointee_passed(arg: tree_sitter.Node | None, data: bytes, deref_macros: set[str] | frozenset[str]) -> str | None:
    """``p`` for an argument ``*p`` (or ``POLYBENCH_ARRAY(p)``, a macro that is ``*p``:
    ``deref_macros``): the call is passed the array that pointer ``p`` points to."""
    arg = uncast(arg)
    if arg is not None and arg.type == "call_expression":
        fn = arg.child_by_field_name("function")
        inner = arguments_of(arg.child_by_field_name("arguments"))
        if fn is None or fn.type != "identifier" or text_of(data, fn) not in deref_macros or len(inner) != 1:
            return None
        arg = strip_parens(inner[0])
    elif arg is not None and arg.type == "pointer_expression" and text_of(data, arg)[:1] == "*":
        arg = strip_parens(arg.child_by_field_name("argument"))
    else:
        return None
    return text_of(data, arg) if arg is not None and arg.type == "identifier" else None
