"""Meaning from libclang: declarations, types, extents, constants, callees, macros.

Contract:
- ``Semantics.build(unit)`` parses the unit once with libclang (C or C++ mode, the unit's
  semantic_args, ``-resource-dir`` of clang 19) and indexes the MAIN FILE's cursors by byte
  offset, the coordinates tree-sitter uses.  It never raises: when libclang fails,
  ``available`` is False and every query answers ``None``; callers treat ``None`` as
  "unknown" and refuse rather than guess.
- ``decl_of(byte)``: the declaration a name at ``byte`` refers to (DeclRefExpr or
  MemberRefExpr starting there), as a ``Decl``.
- ``callee_of(start, end)``: what the call expression spanning those bytes calls.
- ``macro_at(byte)``: the macro expanded at ``byte``, if any.
- ``for_loops``: start offsets of the ``for`` statements clang compiled in the main file;
  ``macro_loops``: offsets of expansions that produced a ``for``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from pcx_driver.model import Language, SourceUnit
from pcx_driver.options import HEADER_DIR_OPTIONS, include_dirs

RESOURCE_DIR = "/usr/lib/llvm-19/lib/clang/19"
#: spellings of the arithmetic types (a ``Decl.element_type`` with its qualifiers dropped)
ARITH_TYPES = {
    "int", "unsigned int", "long", "unsigned long", "long long", "unsigned long long", "short", "unsigned short",
    "char", "signed char", "unsigned char", "float", "double", "long double", "bool", "_Bool",
}

#: the words an arithmetic element type is spelled with (``unsigned long``, ``const double``
#: with its qualifier dropped)
ARITH_WORDS = frozenset({"char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "bool"})


@dataclass
class Decl:
    """One declared object, as far as the analysis needs it."""

    name: str
    key: str  # unique within the TU (USR or file:offset)
    # "param", "local", "global", "static-local", "field", "union-member", "static-member",
    # "enum", "function", "template-param", "other" (a structured binding among them)
    kind: str
    type_spelling: str  # as written ("real *restrict", "const std::vector<float> &")
    shape: str  # "scalar", "pointer", "array", "container", "record", "function", "other"
    element_type: str = ""  # innermost element (canonical spelling; "T" in templates)
    dims: list[str | None] = field(default_factory=list)  # extents outer first; None = unknown
    restrict: bool = False
    const: bool = False  # the object (or, for a pointer/reference, the pointee) is const
    volatile: bool = False
    reference: bool = False
    container: str = ""  # "std::vector", "std::array"
    integral: bool = False
    floating: bool = False
    decl_offset: int | None = None  # byte of the declaration's name in the main file
    system: bool = False  # a file-scope variable of a system header (``stdout``, ``std::cout``)
    init_tokens: list[str] | None = None  # const scalars: the initializer's tokens
    dependent: bool = False  # type depends on a template parameter
    # The members of the element type when it is a plain struct (every member named, no
    # bit-field, no base class, not a union), in order; () otherwise.  A kernel that
    # assigns each of them defines the element whole (engine/extents.py).
    element_fields: tuple[str, ...] = ()
    hidden: bool = False  # a private or protected data member (code outside its class cannot name it)
    # a record whose copies run the user's code: a copy or move constructor or a destructor
    # the user wrote, in the class, a base or a member (a kernel's firstprivate copy would
    # call it on the device, where the host function does not exist)
    user_copy: bool = False
    user_destructor: bool = False  # a record whose destruction runs a destructor the user wrote
    # a thread-local variable (``_Thread_local``, ``__thread``, ``thread_local``): OpenMP
    # can neither map it nor make it firstprivate (clang-19 rejects both)
    thread_local: bool = False
    # a data member: the record that declares it, canonical ("Base" for ``e.a`` of a
    # ``struct Der : Base``, whose member it is by inheritance)
    record: str = ""


@dataclass
class Callee:
    name: str  # unqualified
    qualified: str  # "std::sqrt", "sqrt", "Grid::step"
    kind: str  # "function", "method", "constructor", "operator", "template"
    is_virtual: bool = False
    definition: tuple[int, int] | None = None  # byte range in the main file
    in_main_file: bool = False
    parent_type: str = ""  # methods: the class spelling ("std::vector<float>")
    template_args: list[str] = field(default_factory=list)  # canonical types of a specialization
    defined_in: str = ""  # the file of a definition outside the main file (a header), if any
    defined_at: tuple[int, int] | None = None  # that definition's byte range in ``defined_in``
    library: bool = False  # declared in a system header (the C or C++ library, not the user's code)
    defaulted: bool = False  # a special member the compiler writes (``= default`` or implicit)


@dataclass
class MacroUse:
    name: str
    start: int
    end: int
    function_like: bool
    body: list[str]  # tokens after the name (and parameter list)
    params: list[str] = field(default_factory=list)  # function-like: parameter names ("..." as __VA_ARGS__)


#: type kinds of libclang 19 that the Python bindings (18) do not name: a type of one
#: (``_Float16``) raised ValueError from ``Type.kind`` and left the whole file unanalysed
#: (a held-out check)
_NEWER_TYPE_KINDS = {32: "FLOAT16", 33: "SHORTACCUM", 34: "ACCUM", 35: "LONGACCUM", 36: "USHORTACCUM",
                     37: "UACCUM", 38: "ULONGACCUM", 39: "BFLOAT16"}


@lru_cache(maxsize=1)
def _index():
    import atexit

    import clang.cindex as ci

    for value, name in _NEWER_TYPE_KINDS.items():
        if value >= len(ci.TypeKind._kinds) or ci.TypeKind._kinds[value] is None:
            setattr(ci.TypeKind, name, ci.TypeKind(value))
    # drop the index before interpreter teardown, while the bindings can still free it
    atexit.register(_index.cache_clear)
    return ci.Index.create()


def parse_translation_unit(unit: SourceUnit, options: int):
    """libclang's translation unit of ``unit`` as its compile sees it: its language, clang's
    resource directory, the compile's own flags (C++17 unless they say otherwise) and its
    working directory.  Returns (the translation unit, the main file's path)."""
    directory = os.path.abspath(unit.directory or ".")
    path = unit.path if os.path.isabs(unit.path) else os.path.join(directory, unit.path)
    lang = "c" if unit.language is Language.C else "c++"
    args = ["-x", lang, f"-resource-dir={RESOURCE_DIR}"]
    if lang == "c++" and not any(a.startswith("-std=") for a in unit.semantic_args):
        args.append("-std=c++17")
    args += [*unit.semantic_args, f"-working-directory={directory}"]
    return _index().parse(path, args=args, unsaved_files=[(path, unit.data)], options=options), path


class Semantics:
    def __init__(self) -> None:
        self.available = False
        self.error: str = ""
        self.has_errors = False
        self.error_messages: list[str] = []
        self.first_error_offset = 0
        self.refs: dict[int, Decl] = {}
        # macro use's start -> names its replacement list spells -> their declarations there
        # (None where one name means two)
        self.expansion_refs: dict[int, dict[str, Decl | None]] = {}
        self._named_in_macros: frozenset[str] | None = None  # (named_in_macro_lists)
        self.member_refs: dict[int, tuple[Decl, bool]] = {}  # field byte -> (decl, implicit this)
        self.decls_at: dict[int, Decl] = {}
        self.calls: dict[tuple[int, int], Callee] = {}
        self.calls_by_start: dict[int, list[tuple[int, Callee]]] = {}
        self.calls_spelled_at: dict[int, Callee] = {}  # calls in macro arguments, by their name's byte
        self.macros: dict[int, MacroUse] = {}
        self.macro_defs: dict[str, tuple[bool, list[str]]] = {}  # main-file #defines
        self.macro_params: dict[str, list[str]] = {}  # function-like macros seen: name -> parameters
        # macros the main file ``#undef``s or defines more than once: ``macro_defs`` holds one
        # of their lists, which may not be the one a given use expands
        self.unstable_macros: frozenset[str] = frozenset()
        self.casts: set[int] = set()  # start bytes of C / C++ functional casts to arithmetic types
        self.for_loops: set[int] = set()
        self.macro_loops: list[int] = []
        self.range_for_loops: set[int] = set()
        self.template_calls: dict[str, list[list[str]]] = {}  # template name -> arg types per call
        # calls whose callee's body says what they do (engine/call_shapes.py), by extent:
        # ``domain.x(i)`` of an element accessor -> the std::vector member it subscripts;
        # ``Allocate<Real_t>(n)`` of an allocation wrapper; ``Release(&p)`` of a release one
        self.accessors: dict[tuple[int, int], Decl] = {}
        # each call's arguments bound to a reference parameter (C++: ``std::swap(a, b)``
        # may store into both), by the call's extent; positions past the parameters are
        # variadic, passed by value
        self.reference_args: dict[tuple[int, int], frozenset[int]] = {}
        self._reference_args_by_start: dict[int, list[tuple[int, frozenset[int]]]] = {}
        self.allocating_calls: set[tuple[int, int]] = set()
        self.releasing_calls: set[tuple[int, int]] = set()
        self._shape_memo: dict[str, object] = {}  # (_classified)
        self._container_keys: tuple[int, set[str]] | None = None
        # local pointer key -> (stores of a fresh allocation, other stores), as libclang sees
        # every ``p = e`` of the main file, those a macro expansion makes included
        # (PolyBench's ``POLYBENCH_1D_ARRAY_DECL(x, ...)`` declares ``x`` and stores
        # ``polybench_alloc_data(...)`` in it; tree-sitter sees one macro call)
        self.pointer_stores: dict[str, tuple[int, int]] = {}
        # pointers a macro declares (``POLYBENCH_2D_ARRAY_DECL(A, ...)``): key -> [uses of
        # the pointer inside that macro's expansion, those that assign it]
        self.declaring_macro_refs: dict[str, list[int]] = {}
        # bytes where an assignment to an integer variable stores a floating value
        # (``s += x[i]`` with int s, double x): each step rounds, so no reduction reorders it
        self.float_into_integer: set[int] = set()
        # globals declared as aliases of one another (__attribute__((alias))), both names
        self.aliased_globals: set[str] = set()
        # casts to an integer type narrower than int (``(unsigned char) i``, ``(int16_t) k``)
        self.narrow_casts: set[int] = set()
        # (start, end) of each binary operator computed in 32-bit unsigned arithmetic, which
        # wraps around 2**32 (``i + h + h`` is ``i`` for h = 2**31): no affine subscript
        # where it mixes a loop index with another value (engine/affine.py)
        self.unsigned_ops: set[tuple[int, int]] = set()
        # start byte -> target type of each cast to an integer type of 4 bytes or more that
        # does not keep every value of its operand (``_changes_integer``)
        self.changing_casts: dict[int, str] = {}
        # (start, end) of each value converted implicitly by such a conversion -> its target
        # type: the initialiser of ``int i = n - 8`` with a long n, the right side of
        # ``i = len`` with an unsigned len, an argument bound to a narrower parameter
        self.changing_conversions: dict[tuple[int, int], str] = {}
        # start byte -> class of each construction that runs a constructor the user wrote
        # (``Mark k(b, i);``, an implicit conversion ``t[i] = x[i]`` through ``Point(double)``):
        # code a kernel would run that the analysis does not read (a held-out check)
        self.user_constructions: dict[int, str] = {}
        # C++: start byte of a call -> the argument positions bound to non-const references
        self.stores_through_references: dict[int, frozenset[int]] = {}
        self._decl_cache: dict[str, Decl] = {}
        self._fast_cache: dict[tuple[int, str], Decl] = {}
        self._const_globals: dict[str, list[Decl]] | None = None
        self._tu = None  # kept for header_macro's one scan of the unit's top level
        self._all_macros: dict[str, tuple[bool, list[str], list[str]]] | None = None

    # ------------------------------------------------------------------ queries
    def any_macro(self, name: str) -> tuple[bool, list[str], list[str]] | None:
        """(function-like?, replacement tokens, parameters) of a macro any file of the unit
        defines.  ``macro_defs`` holds those the main file defines or names; one a header
        names only inside another macro (PolyBench's ``POLYBENCH_LOOP_BOUND(N,n)``, the
        replacement of ``_PB_N``) has no cursor there, so the unit's top level is scanned
        for definitions, once, on first need."""
        if name in self.macro_defs:
            function_like, body = self.macro_defs[name]
            return function_like, body, self.macro_params.get(name, [])
        if self._all_macros is None:
            import clang.cindex as ci

            self._all_macros = {}
            for c in self._tu.cursor.get_children() if self._tu is not None else ():
                if c.kind == ci.CursorKind.MACRO_DEFINITION and c.spelling not in self._all_macros:
                    function_like, body = _macro_body(c)
                    self._all_macros[c.spelling] = (function_like, body, _macro_params(c) if function_like else [])
        return self._all_macros.get(name)

    def const_globals_named(self, name: str) -> list[Decl]:
        """The file- or namespace-scope constants called ``name`` that the unit uses
        (``constexpr int THREADS = 64;`` in a header), for reading a constant's value
        through another's (``TILE_WIDTH = THREADS``)."""
        if self._const_globals is None:
            self._const_globals = {}
            for d in self._decl_cache.values():
                if d.const and d.kind == "global" and d.init_tokens is not None:
                    self._const_globals.setdefault(d.name, []).append(d)
        return self._const_globals.get(name, [])

    def is_container_key(self, key: str) -> bool:
        """Whether ``key`` names a declaration of a C++ container (a pointer whose origin
        is one points into the container's buffer)."""
        if self._container_keys is None or self._container_keys[0] != len(self._decl_cache):
            # (declarations met later, through a lazy lookup, count too)
            self._container_keys = (len(self._decl_cache),
                                    {d.key for d in self._decl_cache.values() if d.shape == "container"})
        return key in self._container_keys[1]

    def decl_of(self, byte: int) -> Decl | None:
        return self.refs.get(byte)

    def decl_declared_at(self, byte: int) -> Decl | None:
        return self.decls_at.get(byte)

    def member_of(self, byte: int) -> tuple[Decl, bool] | None:
        return self.member_refs.get(byte)

    def callee_of(self, start: int, end: int) -> Callee | None:
        c = self.calls.get((start, end))
        if c is not None:
            return c
        # clang's CallExpr extent may end before a trailing token tree-sitter includes
        for e, callee in self.calls_by_start.get(start, []):
            if abs(e - end) <= 1:
                return callee
        return self.calls_spelled_at.get(start)

    def reference_args_of(self, start: int, end: int) -> frozenset[int] | None:
        """``reference_args`` of the call at ``start..end`` (``callee_of``'s extent
        tolerance: clang's may end a byte before tree-sitter's), None when not known."""
        found = self.reference_args.get((start, end))
        if found is None:
            found = next((r for e, r in self._reference_args_by_start.get(start, []) if abs(e - end) <= 1), None)
        return found

    def macro_at(self, byte: int) -> MacroUse | None:
        return self.macros.get(byte)

    def named_in_macro_lists(self) -> frozenset[str]:
        """Keys of the declarations some macro's replacement list names where it is used
        (``#define BUF buf``): uses of the variable that the text does not spell."""
        if self._named_in_macros is None:
            self._named_in_macros = frozenset(x.key for seen in self.expansion_refs.values()
                                              for x in seen.values() if x is not None)
        return self._named_in_macros

    def macros_in(self, start: int, end: int) -> list[MacroUse]:
        return [m for b, m in self.macros.items() if start <= b < end]

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, unit: SourceUnit) -> "Semantics":
        sem = cls()
        try:
            sem._build(unit)
            sem.available = True
            from pcx_driver.engine.hostaccess import note_macros

            note_macros(unit.data, sem.macro_defs, sem.macro_params, sem.stores_through_references)
        except Exception as exc:  # libclang missing, crashed, or an unexpected cursor
            from pcx_driver.pipeline import out_of_memory

            if out_of_memory(exc):
                # not "unavailable": the analysis ran out of memory (under
                # --pcx-analysis-memory, libclang's library may be the first thing that
                # cannot be mapped), and the memory budget says so (PCX012)
                raise
            sem.available = False
            sem.error = f"{type(exc).__name__}: {exc}"
        return sem

    def _build(self, unit: SourceUnit) -> None:
        import clang.cindex as ci

        from pcx_driver.engine.hostaccess import unstable_macros

        self.unstable_macros = unstable_macros(unit.data, unit.language)

        tu, path = parse_translation_unit(unit, ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
        self.main_file = path
        self._user_dirs = _user_include_dirs(unit)
        self._tu = tu
        for d in tu.diagnostics:
            if d.severity >= ci.Diagnostic.Error:
                if not self.has_errors and d.location.file is not None and d.location.file.name == path:
                    self.first_error_offset = d.location.offset
                self.has_errors = True
                self.error_messages.append(d.spelling)
        data = unit.data
        K = ci.CursorKind
        main = tu.get_file(path)
        main_name = main.name if main is not None else path

        # The top level of a translation unit holds thousands of header declarations (9,500
        # for <vector> and <cmath>), and ``c.location.file.name`` costs each of them a File
        # object and three more library calls for its name: the expansion location's file
        # is asked for alone, and each file's name once (a CXFile is one file of this unit).
        import ctypes

        lib = ci.conf.lib
        main_by_file: dict[int, bool] = {}

        def in_main(c) -> bool:
            f = ci.c_object_p()
            lib.clang_getInstantiationLocation(c.location, ctypes.byref(f), None, None, None)
            if not f:
                return False
            key = ctypes.cast(f, ctypes.c_void_p).value
            found = main_by_file.get(key)
            if found is None:
                found = main_by_file[key] = ci.File(f).name == main_name
            return found

        relevant = {K.MACRO_INSTANTIATION, K.MACRO_DEFINITION, K.INCLUSION_DIRECTIVE, K.FOR_STMT,
                    K.CXX_FOR_RANGE_STMT, K.DECL_REF_EXPR, K.MEMBER_REF_EXPR, K.VAR_DECL, K.PARM_DECL, K.FIELD_DECL,
                    K.CALL_EXPR, K.CSTYLE_CAST_EXPR, K.CXX_FUNCTIONAL_CAST_EXPR}
        leaves = {K.INTEGER_LITERAL, K.FLOATING_LITERAL, K.STRING_LITERAL, K.CHARACTER_LITERAL, K.TYPE_REF,
                  K.NAMESPACE_REF, K.TEMPLATE_REF}
        stack = [c for c in tu.cursor.get_children() if in_main(c)]
        while stack:
            c = stack.pop()
            kind = c.kind
            if kind in leaves:
                continue
            if kind not in relevant:
                if kind == K.BINARY_OPERATOR:
                    self._record_pointer_store(c)
                    if c.type.get_canonical().kind == ci.TypeKind.UINT:
                        ext = c.extent
                        self.unsigned_ops.add((ext.start.offset, ext.end.offset))
                elif kind == K.COMPOUND_ASSIGNMENT_OPERATOR:
                    self._record_float_into_integer(c)
                stack.extend(c.get_children())
                continue
            ext = c.extent  # extents are costly through the bindings: only for what we index
            start = ext.start.offset
            end = ext.end.offset
            if kind == K.MACRO_INSTANTIATION:
                self._record_macro(c, start, end)
                continue
            if kind == K.MACRO_DEFINITION:
                self.macro_defs[c.spelling] = _macro_body(c)
                self.macro_params[c.spelling] = _macro_params(c) if self.macro_defs[c.spelling][0] else []
                continue
            if kind in (K.CSTYLE_CAST_EXPR, K.CXX_FUNCTIONAL_CAST_EXPR):
                # tree-sitter reads "(T) (e)" with a macro or typedef T, and "T(e)", as calls;
                # only a conversion to an arithmetic type is a plain value (a pointer cast is not)
                canonical = c.type.get_canonical()
                if any(_arith(canonical)) or canonical.spelling.startswith("type-parameter-"):
                    # a template's ``(T)(e)``: a value conversion in every instantiation
                    self.casts.add(start)
                kids = list(c.get_children())
                if canonical.kind in _type_kinds(_INTEGER_KINDS) and 0 < canonical.get_size() < 4:
                    self.narrow_casts.add(start)  # (unsigned char) i wraps: no affine subscript
                elif canonical.kind in _type_kinds(_INTEGER_KINDS) and kids and \
                        _changes_integer(kids[-1].type.get_canonical(), canonical):
                    # (int) len of an unsigned len, (int) n of a long n: values the
                    # polynomial of len would not keep
                    self.changing_casts[start] = canonical.spelling
                stack.extend(kids)
                continue
            if kind == K.INCLUSION_DIRECTIVE:
                continue
            if kind == K.FOR_STMT:
                if data[start : start + 3] == b"for":
                    self.for_loops.add(start)
                else:
                    self.macro_loops.append(start)
            elif kind == K.CXX_FOR_RANGE_STMT:
                self.range_for_loops.add(start)
            elif kind == K.DECL_REF_EXPR:
                ref = c.referenced
                if ref is not None and end > start and data[start:end].decode("utf-8", "replace").endswith(c.spelling):
                    d = self._decl(ref)
                    if d is not None:
                        self.refs[end - len(c.spelling.encode())] = d
                elif ref is not None:
                    # a name written in a macro argument: its extent is the whole expansion, but
                    # its file location is where the argument spells it (tree-sitter sees it there)
                    off = _file_offset(c)
                    name = c.spelling.encode()
                    after = data[off + len(name) : off + len(name) + 1] if off is not None else b""
                    # (the whole token: ``C`` named by the list of ``C_arr(i, j)`` is not spelled
                    # at the use, where ``C_arr`` starts with the same letter)
                    if off is not None and data[off : off + len(name)] == name and not (after.isalnum() or after == b"_"):
                        d = self._decl(ref)
                        if d is not None:
                            self.refs.setdefault(off, d)
                            if d.decl_offset == start:  # in the expansion of the macro that declares it
                                self.declaring_macro_refs.setdefault(d.key, [0, 0])[0] += 1
                    elif off is not None and start <= off < end:
                        # a name the macro's own replacement list spells (``#define idx(i, j)
                        # (i)*y_points+(j)``): what it names at this use, keyed by the use
                        d = self._decl(ref)
                        if d is not None:
                            seen = self.expansion_refs.setdefault(off, {})
                            seen[c.spelling] = d if seen.get(c.spelling, d) is d else None
            elif kind == K.MEMBER_REF_EXPR:
                ref = c.referenced
                if ref is not None and end > start:
                    d = self._decl(ref)
                    implicit = not any(True for _ in c.get_children())
                    if d is not None:
                        self.member_refs[end - len(c.spelling.encode())] = (d, implicit)
            elif kind in (K.VAR_DECL, K.PARM_DECL, K.FIELD_DECL):
                d = self._decl(c)
                if d is not None and d.decl_offset is not None:
                    self.decls_at[d.decl_offset] = d
                if kind == K.VAR_DECL and d is not None and d.kind == "global":
                    self._record_alias_attribute(c)
                if kind == K.VAR_DECL and d is not None and d.integral and d.shape == "scalar":
                    kids = list(c.get_children())
                    if kids:
                        self._record_changing_conversion(kids[-1])
                    stack.extend(kids)
                    continue
            elif kind == K.CALL_EXPR:
                callee = self._callee(c, main_name)
                if callee is None and c.referenced is None:
                    # ``T(i)`` in a template: a dependent construction of the type parameter,
                    # which every instantiation with an arithmetic type makes a conversion
                    first = next(iter(c.get_children()), None)
                    if first is not None and first.kind == K.TYPE_REF and \
                            c.type.get_canonical().spelling.startswith("type-parameter-"):
                        self.casts.add(start)
                if callee is not None and not data[start:end].startswith(callee.name.encode()):
                    # a call written in a macro argument (``SQ(An(x))``): its extent is the
                    # macro use; its file location is where the argument spells it
                    off = _file_offset(c)
                    if off is not None and data[off : off + len(callee.name)] == callee.name.encode():
                        self.calls_spelled_at.setdefault(off, callee)
                if callee is not None and callee.kind == "constructor" and _user_written(c.referenced):
                    self.user_constructions.setdefault(start, callee.parent_type or callee.name)
                if callee is not None and end > start:
                    self.calls[(start, end)] = callee
                    for arg in c.get_arguments():  # (bound to a helper's parameter where it is walked)
                        self._record_changing_conversion(arg)
                    if unit.language is Language.CXX:  # (C has no references)
                        params = [p for p in c.referenced.get_children() if p.kind == K.PARM_DECL]
                        refs = frozenset(k for k, p in enumerate(params)
                                         if p.type.kind in (ci.TypeKind.LVALUEREFERENCE, ci.TypeKind.RVALUEREFERENCE))
                        self.reference_args[(start, end)] = refs
                        self._reference_args_by_start.setdefault(start, []).append((end, refs))
                        mutable = _mutable_references(c.referenced, params)
                        if mutable:  # (``std::swap(n, m)``, ``void halve(int &)``: stores the text does not show)
                            self.stores_through_references[start] = mutable
                    self._record_call_shape(c.referenced, callee.kind, start, end, c)
                    self.calls_by_start.setdefault(start, []).append((end, callee))
                    if callee.template_args:
                        self.template_calls.setdefault(callee.name, []).append(callee.template_args)
            stack.extend(c.get_children())

    def _record_macro(self, c, start: int, end: int) -> None:
        ref = c.referenced
        function_like, body = _macro_body(ref) if ref is not None else (False, [])
        params = _macro_params(ref) if ref is not None and function_like else []
        if ref is not None and c.spelling not in self.macro_defs:
            self.macro_defs[c.spelling] = (function_like, body)
            self.macro_params[c.spelling] = params
        self.macros[start] = MacroUse(c.spelling, start, end, function_like, body, params)

    def accessor_at(self, start: int, end: int) -> Decl | None:
        """The data member a call of an element accessor at ``start..end`` subscripts."""
        return self.accessors.get(self._call_extent(start, end, self.accessors))

    def allocates_at(self, start: int, end: int) -> bool:
        """Whether the call at ``start..end`` is of an allocation wrapper."""
        return self._call_extent(start, end, self.allocating_calls) is not None

    def releases_at(self, start: int, end: int) -> bool:
        """Whether the call at ``start..end`` is of a release wrapper."""
        return self._call_extent(start, end, self.releasing_calls) is not None

    def _call_extent(self, start: int, end: int, table) -> tuple[int, int] | None:
        """The key of ``table`` for the call at ``start..end``: clang's extent may end a
        byte before or after tree-sitter's (as ``callee_of`` allows)."""
        if (start, end) in table:
            return (start, end)
        return next(((start, e) for e, _ in self.calls_by_start.get(start, []) if abs(e - end) <= 1
                     and (start, e) in table), None)

    def _classified(self, kind: str, cursor, classify):
        """``classify(cursor)``, once per declaration (by USR); None on a cursor the
        bindings cannot read."""
        key = kind + ":" + cursor.get_usr()
        if key not in self._shape_memo:
            try:
                self._shape_memo[key] = classify(cursor)
            except Exception:  # an unexpected cursor: not of that shape
                self._shape_memo[key] = None
        return self._shape_memo[key]

    def _record_call_shape(self, ref, kind: str, start: int, end: int, call=None) -> None:
        """Calls of element accessors, allocation and release wrappers (engine/call_shapes.py)."""
        from pcx_driver.engine import call_shapes

        if ref is None:
            return
        if kind == "method":
            field = self._classified("accessor", ref, call_shapes.subscripted_field)
            member = self._decl(field) if field is not None else None
            if member is not None and (member.shape == "container" and member.container == "std::vector"
                                       or member.shape == "pointer" and (member.integral or member.floating)) \
                    and not member.reference and call is not None and call_shapes.index_kept(call, ref):
                self.accessors[(start, end)] = member
            return
        if self._classified("allocates", ref, call_shapes.allocates):
            self.allocating_calls.add((start, end))
        if self._classified("releases", ref, call_shapes.releases):
            self.releasing_calls.add((start, end))

    def _callee(self, c, main_name: str) -> Callee | None:
        import clang.cindex as ci

        K = ci.CursorKind
        ref = c.referenced
        if ref is None:
            return None
        kind = {
            K.FUNCTION_DECL: "function",
            K.CXX_METHOD: "method",
            K.CONSTRUCTOR: "constructor",
            K.FUNCTION_TEMPLATE: "template",
            K.CONVERSION_FUNCTION: "method",
            K.DESTRUCTOR: "method",
        }.get(ref.kind, "other")
        name = ref.spelling
        if name.startswith("operator"):
            kind = "operator" if kind == "function" else kind
        parts = [name]
        p = ref.semantic_parent
        parent_type = ""
        while p is not None and p.kind != K.TRANSLATION_UNIT:
            if p.kind in (K.NAMESPACE, K.CLASS_DECL, K.STRUCT_DECL, K.CLASS_TEMPLATE):
                if p.spelling and p.spelling not in ("__1", "__cxx11"):
                    parts.append(p.spelling)
                if not parent_type and p.kind != K.NAMESPACE:
                    parent_type = p.type.spelling if p.type is not None else p.spelling
            p = p.semantic_parent
        qualified = "::".join(reversed(parts))
        definition = None
        in_main = False
        elsewhere = ""
        d = ref.get_definition()
        if d is not None and d.location.file is not None and d.location.file.name == main_name:
            definition = (d.extent.start.offset, d.extent.end.offset)
            in_main = True
        elif ref.location.file is not None and ref.location.file.name == main_name:
            in_main = True
        elsewhere_at = None
        if d is not None and d.location.file is not None and d.location.file.name != main_name:
            elsewhere = d.location.file.name
            elsewhere_at = (d.extent.start.offset, d.extent.end.offset)
        targs: list[str] = []
        try:
            n = ref.get_num_template_arguments()
            for i in range(max(n, 0)):
                if ref.get_template_argument_kind(i) == ci.TemplateArgumentKind.TYPE:
                    targs.append(ref.get_template_argument_type(i).get_canonical().spelling)
                else:
                    targs.append(str(ref.get_template_argument_value(i)))
        except Exception:
            targs = []
        virtual = False
        if ref.kind == K.CXX_METHOD:
            try:
                virtual = ref.is_virtual_method()
            except Exception:
                virtual = False
        library = self._in_library(ref.location)
        try:
            defaulted = ref.kind == K.CXX_METHOD and ref.is_default_method() or _trivial_constructor(ref)
        except Exception:
            defaulted = False
        return Callee(name, qualified, kind, virtual, definition, in_main, parent_type, targs, elsewhere, elsewhere_at,
                      library, defaulted)

    def _record_float_into_integer(self, c, kids: list | None = None) -> None:
        """``float_into_integer``: ``c`` an assignment ``v = e`` or ``v op= e`` whose target
        is an integer and whose value ``e`` (before the conversion) is floating."""
        import clang.cindex as ci

        kids = list(c.get_children()) if kids is None else kids
        if len(kids) != 2:
            return
        target, value = kids
        if target.type.get_canonical().kind not in _type_kinds(_INTEGER_KINDS):
            return
        while value.kind in (ci.CursorKind.UNEXPOSED_EXPR, ci.CursorKind.PAREN_EXPR):  # implicit conversions
            inner = list(value.get_children())
            if len(inner) != 1:
                break
            value = inner[0]
        if value.type.get_canonical().kind in _type_kinds(_FLOATING_KINDS):
            self.float_into_integer.add(target.extent.start.offset)

    def _record_changing_conversion(self, value) -> None:
        """``changing_conversions``: ``value`` (an initialiser, an assigned value, an
        argument) an implicit integer conversion that may change it (``_changes_integer``)."""
        import clang.cindex as ci

        if value.kind != ci.CursorKind.UNEXPOSED_EXPR:
            return
        inner = list(value.get_children())
        if len(inner) != 1:
            return
        target = value.type.get_canonical()
        if target.kind in _type_kinds(_INTEGER_KINDS) and _changes_integer(inner[0].type.get_canonical(), target):
            ext = value.extent
            self.changing_conversions[(ext.start.offset, ext.end.offset)] = target.spelling

    def _record_alias_attribute(self, c) -> None:
        """``extern double b[N] __attribute__((alias("a")));``: ``b`` and ``a`` are one
        object under two names (``aliased_globals`` holds both), which two map clauses
        would copy apart, and whose alias the device image cannot resolve (a held-out
        check: the rewritten file failed to compile, PCX007)."""
        import clang.cindex as ci

        for attr in c.get_children():
            if attr.kind != ci.CursorKind.UNEXPOSED_ATTR:
                continue
            tokens = [t.spelling for t in attr.get_tokens()]
            if "alias" in tokens:
                self.aliased_globals.add(c.spelling)
                self.aliased_globals.update(t.strip('"') for t in tokens if t.startswith('"'))

    def _record_pointer_store(self, c) -> None:
        """``p = e`` with ``p`` a pointer variable: a fresh allocation or another store."""
        import clang.cindex as ci

        if _binary_operator_kind(c) != _ASSIGN:
            return
        kids = list(c.get_children())
        self._record_float_into_integer(c, kids)
        if len(kids) == 2:
            self._record_changing_conversion(kids[1])
        if len(kids) != 2 or kids[0].kind != ci.CursorKind.DECL_REF_EXPR:
            return
        ref = kids[0].referenced
        d = self._decl(ref) if ref is not None else None
        if d is None or d.shape != "pointer":
            return
        if d.decl_offset is not None and kids[0].extent.start.offset == d.decl_offset:
            self.declaring_macro_refs.setdefault(d.key, [0, 0])[1] += 1
        rhs = kids[1]
        while rhs.kind in (ci.CursorKind.UNEXPOSED_EXPR, ci.CursorKind.CSTYLE_CAST_EXPR, ci.CursorKind.PAREN_EXPR):
            inner = list(rhs.get_children())
            if not inner:
                break
            rhs = inner[-1]  # a cast's operand comes after its type's parts (``(double (*)[N + 0]) e``)
        fresh = rhs.kind == ci.CursorKind.CALL_EXPR and rhs.spelling in ALLOCATION_FUNCTIONS
        alloc, other = self.pointer_stores.get(d.key, (0, 0))
        self.pointer_stores[d.key] = (alloc + 1, other) if fresh else (alloc, other + 1)

    def _in_library(self, loc) -> bool:
        """A location in the compiler's and the system's headers, the C and C++ libraries:
        a system header that is none of the user's (one found through the user's own
        ``-isystem`` or ``-I`` directory, or that says ``#pragma GCC system_header``, is
        code of the program: another file may define its functions and run kernels in
        them, a held-out check)."""
        if loc.file is None or not loc.is_in_system_header:
            return False
        where = os.path.abspath(loc.file.name)
        return not any(where.startswith(d) for d in getattr(self, "_user_dirs", ()))

    def _decl(self, cur) -> Decl | None:
        fast = (cur.hash, cur.spelling)
        hit = self._fast_cache.get(fast)
        if hit is not None:
            return hit
        d = self._decl_uncached(cur)
        if d is not None:
            self._fast_cache[fast] = d
        return d

    def _decl_uncached(self, cur) -> Decl | None:
        import clang.cindex as ci

        K = ci.CursorKind
        key = cur.get_usr() or ""
        loc = cur.location
        if not key:
            key = f"{loc.file.name if loc.file else '?'}:{loc.offset}"
        cached = self._decl_cache.get(key)
        if cached is not None:
            return cached
        if cur.kind == K.PARM_DECL:
            kind = "param"
        elif cur.kind == K.VAR_DECL:
            sp = cur.semantic_parent
            kind = "global" if sp is None or sp.kind in (K.TRANSLATION_UNIT, K.NAMESPACE) else "local"
            if sp is not None and sp.kind in (K.STRUCT_DECL, K.CLASS_DECL, K.UNION_DECL, K.CLASS_TEMPLATE):
                kind = "static-member"  # one object, whatever instance names it
            elif kind == "local" and cur.storage_class == ci.StorageClass.STATIC:
                kind = "static-local"
        elif cur.kind == K.FIELD_DECL:
            sp = cur.semantic_parent
            kind = "union-member" if sp is not None and sp.kind == K.UNION_DECL else "field"
        elif cur.kind == K.ENUM_CONSTANT_DECL:
            kind = "enum"
        elif cur.kind in (K.FUNCTION_DECL, K.CXX_METHOD, K.FUNCTION_TEMPLATE):
            kind = "function"
        elif cur.kind == K.TEMPLATE_NON_TYPE_PARAMETER:
            kind = "template-param"  # a constant of each instantiation, no variable to pass
        else:
            kind = "other"
        t = cur.type
        d = Decl(name=cur.spelling, key=key, kind=kind, type_spelling=t.spelling if t else "", shape="other")
        if kind == "field":
            d.hidden = cur.access_specifier in (ci.AccessSpecifier.PRIVATE, ci.AccessSpecifier.PROTECTED)
            parent = cur.semantic_parent
            d.record = parent.type.get_canonical().spelling if parent is not None and parent.type else ""
        if cur.kind == K.VAR_DECL:
            try:
                d.thread_local = cur.tls_kind != ci.TLSKind.NONE
            except (AttributeError, ValueError):
                d.thread_local = False
            if kind == "global":
                d.system = self._in_library(loc)
        if loc.file is not None and loc.file.name == getattr(self, "main_file", None):
            d.decl_offset = loc.offset
        elif loc.file is not None and os.path.abspath(loc.file.name) == os.path.abspath(getattr(self, "main_file", "")):
            d.decl_offset = loc.offset
        if kind in ("enum", "function"):
            d.shape = "function" if kind == "function" else "scalar"
            d.integral = kind == "enum"
            d.const = True
            if kind == "enum":
                # clang's value of the enumerator (``enum { DENS, MOM }``: MOM is 1), so
                # that ``f[MOM*n*m + ...]`` folds like ``constexpr int MOM = 1``
                try:
                    value = cur.enum_value
                except (AttributeError, ValueError):
                    value = None
                if isinstance(value, int):
                    d.init_tokens = [str(value)] if value >= 0 else ["-", str(-value)]
        else:
            _describe_type(d, t)
            if kind == "param" and d.shape == "array":
                # an array parameter is a pointer; its first bracket may say restrict
                d.shape = "pointer"
                first = d.type_spelling[d.type_spelling.find("[") + 1 :].split("]")[0]
                d.restrict = d.restrict or bool(re.search(r"\b(restrict|__restrict|__restrict__)\b", first))
            if d.shape == "scalar" and d.const and cur.kind == K.VAR_DECL:
                toks = [x.spelling for x in cur.get_tokens()]
                if "=" in toks:
                    d.init_tokens = toks[toks.index("=") + 1 :]
                    if d.init_tokens and d.init_tokens[-1] == ";":
                        d.init_tokens.pop()
                elif "{" in toks and toks[-1] == "}":
                    d.init_tokens = toks[toks.index("{") + 1 : -1]
                if d.init_tokens is not None and kind in ("global", "static-member") and _calls_in(d.init_tokens):
                    # ``const int K = init_k();`` at file scope: set once at run time, by a
                    # call that may do anything (a device copy under declare target would run
                    # it again): a variable, not a constant.  (A local's is its value.)
                    d.const, d.init_tokens = False, None
        self._decl_cache[key] = d
        return d


def _calls_in(tokens: list[str]) -> bool:
    """Whether an initializer's tokens call a function other than a math function."""
    from pcx_driver.engine.calls import MATH_FUNCTIONS

    for name, nxt in zip(tokens, tokens[1:]):
        plain = name.split("::")[-1]
        if nxt == "(" and (name[:1].isalpha() or name[:1] == "_") and plain not in MATH_FUNCTIONS and \
                name not in ("sizeof", "alignof", "static_cast", "decltype", "std", "double", "float", "int",
                             "long", "unsigned", "short", "char", "bool", "size_t"):
            return True
    return False


def _macro_body(ref) -> tuple[bool, list[str]]:
    """(function-like?, replacement tokens) of a macro definition cursor."""
    toks = list(ref.get_tokens())
    if len(toks) >= 2 and toks[1].spelling == "(" and toks[1].extent.start.offset == toks[0].extent.end.offset:
        depth = 0
        for i, t in enumerate(toks[1:], 1):
            if t.spelling == "(":
                depth += 1
            elif t.spelling == ")":
                depth -= 1
                if depth == 0:
                    return True, [x.spelling for x in toks[i + 1 :]]
        return True, []
    return False, [t.spelling for t in toks[1:]]


#: functions whose result is a fresh allocation: the C library's, and PolyBench's wrapper
#: (``polybench_alloc_data``, posix_memalign underneath), which issue 15 names
ALLOCATION_FUNCTIONS = frozenset({"malloc", "calloc", "aligned_alloc", "memalign", "polybench_alloc_data"})
_ASSIGN = 22  # CXBinaryOperator_Assign


@lru_cache(maxsize=None)
def _type_kinds(names: str) -> frozenset:
    """libclang's type kinds named in ``names`` (those this version of the bindings has)."""
    import clang.cindex as ci

    return frozenset(getattr(ci.TypeKind, n) for n in names.split() if hasattr(ci.TypeKind, n))


_INTEGER_KINDS = ("BOOL CHAR_U UCHAR CHAR16 CHAR32 USHORT UINT ULONG ULONGLONG UINT128 CHAR_S SCHAR WCHAR SHORT INT "
                  "LONG LONGLONG INT128 ENUM")
_FLOATING_KINDS = "FLOAT DOUBLE LONGDOUBLE HALF FLOAT128 FLOAT16 BFLOAT16"


_UNSIGNED_KINDS = "BOOL CHAR_U UCHAR CHAR16 CHAR32 USHORT UINT ULONG ULONGLONG UINT128"


def _changes_integer(source, target) -> bool:
    """A conversion from integer type ``source`` to integer type ``target`` that does not
    keep every value an array's size or subscript may take: to fewer bytes, or from
    unsigned to signed of one size (``(int) len`` of a ``(unsigned) -1`` is -1).  (Signed
    to unsigned changes only negative values, which no subscript reaches unwrapped.)"""
    kinds = _type_kinds(_INTEGER_KINDS)
    if source.kind not in kinds or target.kind == source.kind:
        return False
    unsigned = _type_kinds(_UNSIGNED_KINDS)
    size_from, size_to = source.get_size(), target.get_size()
    if size_from <= 0 or size_to <= 0:
        return True
    return size_to < size_from or size_to == size_from and source.kind in unsigned and target.kind not in unsigned


def _binary_operator_kind(c) -> int:
    import ctypes

    import clang.cindex as ci

    fn = _binop_fn()
    try:
        return fn(c)
    except (AttributeError, ctypes.ArgumentError, ci.LibclangError):
        return -1


@lru_cache(maxsize=1)
def _binop_fn():
    import ctypes

    import clang.cindex as ci

    fn = getattr(ci.conf.lib, "clang_getCursorBinaryOperatorKind", None)
    if fn is None:  # libclang before 17: no store is recorded, macros stay opaque
        return lambda _c: -1
    fn.argtypes, fn.restype = [ci.Cursor], ctypes.c_int
    return fn


@lru_cache(maxsize=1)
def _file_location_fn():
    import ctypes

    import clang.cindex as ci

    fn = ci.conf.lib.clang_getFileLocation
    fn.argtypes = [ci.SourceLocation] + [ctypes.c_void_p] * 4
    fn.restype = None
    return fn


def _file_offset(c) -> int | None:
    """Byte offset of cursor ``c``'s file location (clang's getFileLoc: for a token from a macro
    argument, where the argument spells it; for one from a macro body, the expansion)."""
    import ctypes

    f, line, col, off = ctypes.c_void_p(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    try:
        _file_location_fn()(c.location, ctypes.byref(f), ctypes.byref(line), ctypes.byref(col), ctypes.byref(off))
    except (AttributeError, TypeError, ctypes.ArgumentError):
        return None
    return off.value


def _macro_params(ref) -> list[str]:
    """Parameter names of a function-like macro definition cursor ("..." becomes __VA_ARGS__)."""
    toks = [t.spelling for t in ref.get_tokens()]
    if len(toks) < 2 or toks[1] != "(":
        return []
    out: list[str] = []
    for t in toks[2:]:
        if t == ")":
            break
        if t == "...":
            out.append("__VA_ARGS__")
        elif t != ",":
            out.append(t)
    return out


_STD_CONTAINERS = {"vector": "std::vector", "array": "std::array"}


def _record_fields(rt) -> tuple[str, ...]:
    """The member names of struct type ``rt`` (canonical), or () when it is not a plain
    struct: a union, a class with a base, an unnamed member or a bit-field."""
    import clang.cindex as ci

    if rt.kind != ci.TypeKind.RECORD:
        return ()
    decl = rt.get_declaration()
    if decl.kind not in (ci.CursorKind.STRUCT_DECL, ci.CursorKind.CLASS_DECL):
        return ()
    if any(c.kind == ci.CursorKind.CXX_BASE_SPECIFIER for c in decl.get_children()):
        return ()
    names = []
    for f in rt.get_fields():
        if not f.spelling or f.is_bitfield():
            return ()
        names.append(f.spelling)
    return tuple(names)


def _mutable_references(fn, params) -> frozenset[int]:
    """Positions of the parameters of the called function ``fn`` that are references to
    non-const arithmetic scalars (counts, bounds: what a section or a test reads; pointers
    and containers bound to references are the host scan's, ``std::swap(a, b)`` of two
    buffers), from its instantiated type where it has one (``std::swap<int>``,
    ``std::tie``, ``std::function<void(int&)>::operator()``, whose declared parameters are
    packs), from ``params`` (its PARM_DECLs) otherwise."""
    import clang.cindex as ci

    kinds = (ci.TypeKind.LVALUEREFERENCE, ci.TypeKind.RVALUEREFERENCE)
    try:
        types = list(fn.type.argument_types()) if fn.type.kind == ci.TypeKind.FUNCTIONPROTO else []
    except Exception:  # (no prototype to read)
        types = []
    types = [t.get_canonical() for t in (types or [p.type for p in params])]  # (``_ArgTypes`` substituted: int &)
    return frozenset(k for k, t in enumerate(types) if t.kind in kinds and not t.get_pointee().is_const_qualified()
                     and any(_arith(t.get_pointee().get_canonical())))


#: options naming a directory of the user's headers (value joined or the next argument)
_INCLUDE_DIR_OPTIONS = (*HEADER_DIR_OPTIONS, "-iwithprefix", "-iwithprefixbefore")


def _user_include_dirs(unit: SourceUnit) -> tuple[str, ...]:
    """The directories whose headers are the user's: the source's own, the working
    directory and every include directory the command names (each ending in a separator,
    so that ``/a/inc`` does not hold ``/a/include``).  The compiler's own directories come
    from its installation and are never named on a command line a build writes."""
    base = os.path.abspath(unit.directory or ".")
    dirs = {base, os.path.dirname(os.path.abspath(os.path.join(base, unit.path)))}
    dirs.update(os.path.abspath(os.path.join(base, d)) for d in include_dirs(unit.semantic_args, _INCLUDE_DIR_OPTIONS))
    return tuple(sorted(d.rstrip(os.sep) + os.sep for d in dirs))


def _user_written(fn) -> bool:
    """Whether constructor or destructor cursor ``fn`` is code the user wrote: declared
    outside the system headers (``std::complex``'s are inline and touch nothing else),
    neither defaulted nor deleted, nor the compiler's own of a POD class."""
    try:
        return not fn.location.is_in_system_header and not fn.is_default_method() and not fn.is_deleted_method() \
            and not _trivial_constructor(fn)
    except Exception:  # (a binding without the query: assume the user's)
        return True


def _trivial_constructor(fn) -> bool:
    """A constructor of a POD class (``struct {double r1, r2;} s;``, HeCBench vmc): the
    compiler's, trivial; it runs no code of the user's, whatever libclang's cursor for it."""
    import clang.cindex as ci

    try:
        parent = fn.semantic_parent
        return fn.kind == ci.CursorKind.CONSTRUCTOR and parent is not None and parent.type is not None and \
            parent.type.get_canonical().is_pod()
    except Exception:
        return False


def _runs_user_code(rt, runs: Callable, depth: int = 0) -> bool:
    """Whether record type ``rt`` (canonical), its class, one of its bases or members (four
    levels down, then assumed), declares a member function for which ``runs`` holds."""
    import clang.cindex as ci

    if rt.kind != ci.TypeKind.RECORD:
        return False
    if depth > 4:
        return True
    for c in rt.get_declaration().get_children():
        if runs(c):
            return True
        if c.kind == ci.CursorKind.CXX_BASE_SPECIFIER and _runs_user_code(c.type.get_canonical(), runs, depth + 1):
            return True
    return any(_runs_user_code(f.type.get_canonical(), runs, depth + 1) for f in rt.get_fields())


def _user_destructor(rt) -> bool:
    """Whether destroying an object of record type ``rt`` (canonical) runs a destructor the
    user wrote (``_user_written``), its class's, a base's or a member's."""
    import clang.cindex as ci

    return _runs_user_code(rt, lambda c: c.kind == ci.CursorKind.DESTRUCTOR and _user_written(c))


def _user_copy(rt) -> bool:
    """Whether copying or destroying an object of record type ``rt`` (canonical) runs code
    the user wrote: a copy or move constructor or a destructor that is not defaulted, in the
    class, one of its bases or members."""
    import clang.cindex as ci

    K = ci.CursorKind
    return _runs_user_code(rt, lambda c: (
        c.kind == K.CONSTRUCTOR and (c.is_copy_constructor() or c.is_move_constructor())
        and not c.is_default_method() and not c.is_deleted_method()
        or c.kind == K.DESTRUCTOR and not c.is_default_method()))


def _describe_type(d: Decl, t) -> None:
    """Fill shape, element type, dims and qualifiers of ``d`` from libclang type ``t``."""
    import clang.cindex as ci

    TK = ci.TypeKind
    if t is None:
        return
    spelling = t.spelling
    d.dependent = "type-parameter" in t.get_canonical().spelling
    d.volatile = t.is_volatile_qualified()
    ct = t.get_canonical()
    if ct.kind in (TK.LVALUEREFERENCE, TK.RVALUEREFERENCE):
        d.reference = True
        t = t.get_pointee()
        ct = t.get_canonical()
    d.const = ct.is_const_qualified()
    dims: list[str | None] = []
    cur_t = ct
    nominal = t
    while True:
        k = cur_t.kind
        if k == TK.CONSTANTARRAY:
            dims.append(str(cur_t.element_count))
            cur_t = cur_t.element_type.get_canonical()
            nominal = cur_t
            continue
        if k in (TK.VARIABLEARRAY, TK.INCOMPLETEARRAY, TK.DEPENDENTSIZEDARRAY):
            dims.append(None)
            cur_t = cur_t.element_type.get_canonical()
            nominal = cur_t
            continue
        if k == TK.POINTER and not dims:
            d.restrict = ct.is_restrict_qualified() or t.is_restrict_qualified()
            dims.append(None)
            cur_t = cur_t.get_pointee().get_canonical()
            nominal = cur_t
            d.const = cur_t.is_const_qualified()
            d.volatile = d.volatile or cur_t.is_volatile_qualified()
            if cur_t.kind in (TK.CONSTANTARRAY, TK.VARIABLEARRAY):
                continue
            break
        break
    if dims:
        d.shape = "pointer" if ct.kind == TK.POINTER else "array"
        d.dims = dims
        if any(x is None for x in dims[1:]) or (ct.kind != TK.POINTER and dims[0] is None):
            _vla_dims_from_spelling(d, spelling)
        d.element_type = _plain(cur_t.spelling)
        d.integral, d.floating = _arith(cur_t)
        d.element_fields = _record_fields(cur_t)
        if cur_t.kind == TK.POINTER:
            d.element_type = _plain(cur_t.spelling)
        return
    if ct.kind == TK.RECORD:
        name = ct.spelling
        m = re.match(r"(?:const\s+)?std::(?:__\w+::)?(vector|array)<", name)
        if m:
            d.shape = "container"
            d.container = _STD_CONTAINERS[m.group(1)]
            try:
                d.element_type = _plain(ct.get_template_argument_type(0).get_canonical().spelling)
                if d.container == "std::array":
                    m2 = re.search(r",\s*(\d+)[uUlL]*>\s*$", name)
                    d.dims = [m2.group(1) if m2 else None]
                else:
                    d.dims = [None]
                d.integral, d.floating = _arith(ct.get_template_argument_type(0).get_canonical())
                d.element_fields = _record_fields(ct.get_template_argument_type(0).get_canonical())
            except Exception:
                d.element_type = ""
            return
        d.shape = "record"
        d.element_type = _plain(name)
        d.user_copy = _user_copy(ct)
        d.user_destructor = _user_destructor(ct)
        return
    if ct.kind in (TK.ELABORATED, TK.UNEXPOSED) and d.dependent:
        d.shape = "scalar"  # a template parameter type used as a value
        d.element_type = _plain(t.spelling)
        return
    d.integral, d.floating = _arith(ct)
    d.shape = "scalar" if (d.integral or d.floating or ct.kind == TK.BOOL) else ("pointer" if ct.kind == TK.POINTER else "other")
    d.element_type = _plain(ct.spelling)


def _arith(t) -> tuple[bool, bool]:
    import clang.cindex as ci

    TK = ci.TypeKind
    integral = {
        TK.BOOL, TK.CHAR_U, TK.UCHAR, TK.CHAR16, TK.CHAR32, TK.USHORT, TK.UINT, TK.ULONG, TK.ULONGLONG,
        TK.UINT128, TK.CHAR_S, TK.SCHAR, TK.WCHAR, TK.SHORT, TK.INT, TK.LONG, TK.LONGLONG, TK.INT128, TK.ENUM,
    }
    floating = {TK.FLOAT, TK.DOUBLE, TK.LONGDOUBLE, TK.HALF, TK.FLOAT128}
    return t.kind in integral, t.kind in floating


def _plain(spelling: str) -> str:
    """A type spelling without cv-qualifiers ("const double" -> "double")."""
    s = re.sub(r"\b(const|volatile|restrict|__restrict__|__restrict)\b", "", spelling)
    s = re.sub(r"type-parameter-0-(\d+)", lambda m: "T" if m.group(1) == "0" else f"T{m.group(1)}", s)
    return " ".join(s.split())


def _vla_dims_from_spelling(d: Decl, spelling: str) -> None:
    """VLA extents are expressions clang prints in the type ("double[n][m + 1]")."""
    dims: list[str | None] = []
    i = spelling.find("[")
    if "(*" in spelling:  # pointer to VLA: double (*)[n]
        dims.append(None)
    while i != -1:
        depth = 0
        for j in range(i, len(spelling)):
            if spelling[j] == "[":
                depth += 1
            elif spelling[j] == "]":
                depth -= 1
                if depth == 0:
                    inner = re.sub(r"\b(restrict|__restrict|__restrict__|static|const|volatile)\b", "",
                                   spelling[i + 1 : j]).strip()
                    dims.append(inner or None)
                    i = spelling.find("[", j)
                    break
        else:
            break
    if dims and len(dims) == len(d.dims):
        d.dims = dims


#: integer types narrower than int: arithmetic on them wraps when it is stored back
NARROW_INTEGERS = frozenset({"char", "signed char", "unsigned char", "short", "unsigned short", "_Bool", "bool",
                             "char8_t", "char16_t", "wchar_t"})


#: unsigned integer types of 32 bits
UNSIGNED_32 = frozenset({"unsigned", "unsigned int", "uint32_t", "std::uint32_t", "u_int32_t"})
#: integer types of at most 32 bits
INTEGERS_32 = NARROW_INTEGERS | UNSIGNED_32 | {
    "int", "signed", "signed int", "int32_t", "std::int32_t", "int16_t", "uint16_t", "int8_t", "uint8_t"}


def unqualified(type_spelling: str) -> str:
    """A type spelling without ``const`` and ``volatile`` ("const unsigned" -> "unsigned")."""
    return " ".join(w for w in type_spelling.split() if w not in ("const", "volatile"))


def narrow_integer(d: Decl | None) -> str:
    """The type of ``d`` when it is an integer narrower than int (``unsigned short j =
    i * 100`` wraps: its value is no affine function of i), else ""."""
    if d is None:
        return ""
    ty = unqualified(d.element_type)
    return ty if ty in NARROW_INTEGERS else ""
