"""CUDA source to OpenMP target-offload source, by reprinting the tree-sitter tree.

``translate_source(unit) -> CudaTranslation`` is the contract the driver and ``pcx
translate`` use.  The translation reprints the source node by node: every node without
a rule is copied byte for byte (comments and layout included), a node with a rule is
replaced by the rule's text, which is built from its children reprinted the same way.
Where a rule produces new lines, a ``#line`` directive puts the following text back on
its original line, so compiler diagnostics name the user's ``.cu`` file and line.

What each construct becomes (details in ``kernels.py`` and ``prologue.py``):

* ``__global__ void k(P)`` -> a ``declare target`` body function
  ``k__pcx_body(blockIdx, threadIdx, blockDim, gridDim, P)`` holding the kernel body
  unchanged, plus a host launcher ``k(dim3 grid, dim3 block, size_t shmem, P)`` that runs
  the body once per (block, thread) of the launch grid in a ``target teams distribute
  parallel for collapse(2)`` loop with the pointer parameters ``is_device_ptr``.  Any
  1D/2D/3D index arithmetic, ``if (i < n)`` guard, early ``return`` or grid-stride loop
  therefore keeps its exact CUDA meaning.
* kernels with ``__shared__`` or ``__syncthreads()`` -> split at the barriers into phases,
  each a loop over the block's threads, values living across a barrier expanded to
  per-thread arrays (``phases.py``: MCUDA/COX style); where that cannot be proved right,
  one team per block with the shared arrays team-local, and a ``parallel num_threads(B)``
  region whose threads are the block's threads; ``__syncthreads()`` is ``#pragma omp
  barrier``.  The PCX400 remark says which, and why not phases.
* template kernels -> template body functions and template launchers (C++ output).
* ``k<<<g, b, shmem, stream>>>(args)`` -> ``k(dim3 g, dim3 b, shmem, args)``; an extent
  is dim3 or an integer by its syntax or declaration, else by type at compile time
  (``pcx_dim3_of``: C11 ``_Generic`` in C, an overload in C++).  Streams are dropped:
  every launch and copy is synchronous (default-stream semantics).
* ``__device__`` / ``__host__ __device__`` functions and ``__device__`` / ``__constant__``
  variables -> ``declare target``; ``cudaMemcpyToSymbol`` -> memcpy + ``target update``.
* atomics -> ``omp atomic`` update/write/capture/compare forms.
* a function declared only ``inline`` (C++'s one definition program-wide) -> ``static
  inline``, since C's ``inline`` alone emits no definition (``inline_only_functions``).
* warp shuffles and votes -> exchanges between barrier phases (``phases.py``); where that
  scheme does not apply (in a ``__device__`` function, inside an expression), PCX401.
* cooperative groups (PCX402), textures (PCX403), launches
  from device code (PCX404), untranslatable atomics (PCX405) and runtime calls (PCX406),
  other constructs (PCX407), and Thrust and CUB (PCX409: each header and each use) are refused with the construct's name and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from tree_sitter import Node

from pcx_driver.cuda import kernels, phases, tables
from pcx_driver.cuda.parse import (
    call_args,
    call_name,
    declarator_name,
    function_declarator,
    has_keyword,
    has_side_effects,
    parameters,
    parse,
    text,
    walk,
)
from pcx_driver.cuda.prologue import prologue
from pcx_driver.diagnostics import level_of
from pcx_driver.model import Remark, SourceUnit

#: Keywords dropped wherever they appear (their meaning is carried by the rules).
_DROPPED_KEYWORDS = frozenset({
    "__global__", "__device__", "__host__", "__constant__", "__shared__", "__forceinline__",
    "__noinline__", "launch_bounds",
})


@dataclass
class CudaTranslation:
    """The result of translating one CUDA unit.

    ``text`` is a complete C++ source (also C when the input used no C++) for
    ``clang++-19 -x c++ -fopenmp -fopenmp-targets=...``; ``ok`` is False when something
    was refused, and then the error remarks say what and where.
    """

    text: str
    remarks: list[Remark] = field(default_factory=list)
    ok: bool = True
    kernels: list[str] = field(default_factory=list)  # kernels translated, in source order
    body: str = ""  # the translated unit without its prologue (equal to the source: nothing to translate)


class _Refused(Exception):
    """A construct the current rule cannot express (already reported)."""


@dataclass
class _Ctx:
    device: bool = False  # inside __global__ / __device__ code
    kernel: kernels.KernelInfo | None = None  # the kernel whose body is being printed
    per_thread: frozenset[str] = frozenset()  # locals living across a barrier: one per thread
    thread_exit: bool = False  # in a final phase: ``return`` ends only the thread's iteration
    guards: tuple[str, ...] = ()  # per-thread conditions around the phases being printed (phases.Predicate)


@dataclass
class Names:
    """What a unit declares that changes how other code is translated: the program's own
    names (a ``cudaCheck`` is user code), macros, dim3 and scalar variables, and
    ``__device__``/``__constant__`` variables (``cudaMemcpyToSymbol`` targets).  A
    multi-file translation hands each file the names of the headers it includes."""

    user: set[str] = field(default_factory=set)
    macros: set[str] = field(default_factory=set)
    dim3: set[str] = field(default_factory=set)
    scalars: set[str] = field(default_factory=set)
    symbols: dict[str, str] = field(default_factory=dict)
    #: macros whose expansion holds a refused construct: macro -> (ID, the construct)
    hidden: dict[str, tuple[str, str]] = field(default_factory=dict)

    def update(self, other: Names) -> None:
        self.hidden.update(other.hidden)
        self.user |= other.user
        self.macros |= other.macros
        self.dim3 |= other.dim3
        self.scalars |= other.scalars
        self.symbols.update(other.symbols)


def scan_names(root: Node) -> Names:
    """The names a syntax tree declares (see ``Names``)."""
    names = Names()
    for n in walk(root):
        if n.type in ("parameter_declaration", "declaration"):
            typ = n.child_by_field_name("type")
            if typ is not None and text(typ) == "dim3":
                for d in n.children_by_field_name("declarator"):
                    names.dim3.add(declarator_name(d))
            elif typ is not None and typ.type in ("primitive_type", "sized_type_specifier"):
                for d in n.children_by_field_name("declarator"):
                    if d.type in ("identifier", "init_declarator") and (
                        d.type == "identifier" or d.child_by_field_name("declarator").type == "identifier"
                    ):
                        names.scalars.add(declarator_name(d))
        if n.type == "enumerator":  # an int constant: dim3 t(NT * NT) at file scope is a constructor
            names.scalars.add(text(n.child_by_field_name("name")))
        if n.type in ("preproc_function_def", "preproc_def"):
            names.user.add(text(n.child_by_field_name("name")))
            names.macros.add(text(n.child_by_field_name("name")))
        elif n.type in ("function_definition", "declaration", "parameter_declaration", "field_declaration"):
            cuda_var = has_keyword(n, "__device__") or has_keyword(n, "__constant__")
            if n.type == "declaration" and cuda_var and not _in_function(n) and function_declarator(n) is None:
                for d in n.children_by_field_name("declarator"):
                    names.symbols[declarator_name(d)] = "constant" if has_keyword(n, "__constant__") else "device"
            if has_keyword(n, "__global__") or cuda_var:
                continue  # CUDA entities keep their CUDA meaning
            for d in n.children_by_field_name("declarator"):
                name = declarator_name(d)
                if name:
                    names.user.add(name)
    names.hidden = _hidden_refusals(root, {})
    return names


_TOKEN = re.compile(r"[A-Za-z_]\w*")


def _hidden_refusals(root: Node, known: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Macros whose bodies use a construct the translator refuses (warp shuffles and
    votes, ``warpSize``, cooperative groups, textures, a CUDA runtime API without a
    translation such as an error-check helper calling ``cudaGraphLaunch``), directly or
    through another such macro.  The preprocessor would paste it into translated code
    that cannot compile, so each use of the macro is refused with the construct's ID."""
    bodies: dict[str, set[str]] = {}
    for n in walk(root):
        if n.type in ("preproc_def", "preproc_function_def"):
            value = n.child_by_field_name("value")
            bodies[text(n.child_by_field_name("name"))] = set(_TOKEN.findall(text(value))) if value is not None else set()
    hidden = dict(known)
    changed = True
    while changed:
        changed = False
        for macro, tokens in bodies.items():
            if macro in hidden:
                continue
            for tok in sorted(tokens):
                r = tables.refusal_for(tok)
                if r is not None and r.id in ("PCX401", "PCX402", "PCX403"):
                    found = (r.id, tok)
                elif tables.is_api_name(tok) and tok not in tables.KNOWN_NAMES and tok not in bodies:
                    found = ("PCX406", f"CUDA runtime API {tok}")
                elif tok in hidden and tok != macro:
                    found = (hidden[tok][0], f"{hidden[tok][1]} (through {tok})")
                else:
                    continue
                hidden[macro] = found
                changed = True
                break
    return hidden


def inline_only_functions(root: Node) -> set[str]:
    """The functions every file-scope declaration of the unit declares ``inline``, never
    ``static`` or ``extern`` (``inline void checkCuda(cudaError_t e) {...}``).

    CUDA is C++, where such a function has one definition program-wide.  In C it is an
    inline definition that emits no symbol, so a call the compiler does not inline (any
    -O0 build) fails to link; these are translated ``static inline``, a copy per unit as
    a header-defined helper gets anyway.  A function also declared without ``inline`` is
    left alone: C then emits its definition.  Templates are C++ only and keep theirs."""
    inline_everywhere: dict[str, bool] = {}
    for n in walk(root):
        if n.type not in ("function_definition", "declaration") or not _at_file_scope(n):
            continue
        fd = function_declarator(n)
        if fd is None or fd.child_by_field_name("declarator").type != "identifier":
            continue  # a variable, or a pointer to a function
        specs = {text(c) for c in n.children if c.type == "storage_class_specifier"}
        name = declarator_name(fd)
        inline_everywhere[name] = inline_everywhere.get(name, True) and "inline" in specs and not (
            specs & {"static", "extern"}
        )
    return {name for name, only in inline_everywhere.items() if only}


def _at_file_scope(node: Node) -> bool:
    """Whether ``node`` is a top-level declaration of the unit (also inside ``#if``s)."""
    p = node.parent
    while p is not None and p.type.startswith("preproc_"):
        p = p.parent
    return p is not None and p.type == "translation_unit"


def _in_function(node: Node) -> bool:
    """Whether ``node`` lies inside a function body (not at file or namespace scope)."""
    p = node.parent
    while p is not None:
        if p.type in ("compound_statement", "function_definition"):
            return True
        p = p.parent
    return False


class _Translator:
    def __init__(self, unit: SourceUnit, context: Names | None = None, runtime_include: str | None = None,
                 include_map: dict[str, str] | None = None) -> None:
        self.context = context
        self.runtime_include = runtime_include
        self.include_map = include_map or {}
        self.unit = unit
        self.file = unit.path
        self.data = unit.data
        self.tree = parse(self.data)
        self.remarks: list[Remark] = []
        self._seen: set[tuple[str, int, int]] = set()
        self.dim3_names: set[str] = set()
        self.scalar_names: set[str] = set()  # names declared with an arithmetic type, enumerators
        self.symbols: dict[str, str] = {}  # __device__/__constant__ variable -> its kind
        self.user_minmax: set[str] = set()
        self.user_names: set[str] = set()  # functions, macros, variables the unit defines
        self.macro_names: set[str] = set()  # the unit's #define names
        self.kernel_names: list[str] = []
        self.hidden: dict[str, tuple[str, str]] = {}  # macros hiding a refused construct
        self.inline_only: set[str] = set()  # functions translated static inline

    # ------------------------------------------------------------------ reporting

    def remark(self, rid: str, node: Node, message: str) -> None:
        line, col = node.start_point.row + 1, node.start_point.column + 1
        if (rid, line, col) in self._seen:
            return
        self._seen.add((rid, line, col))
        self.remarks.append(Remark(rid, self.file, line, col, message))

    def refuse(self, rid: str, node: Node, message: str) -> _Refused:
        self.remark(rid, node, message)
        return _Refused()

    # ------------------------------------------------------------------ printing

    def src(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "surrogateescape")

    def line_at(self, node: Node, end: bool = False) -> str:
        """A ``#line`` directive (on its own line) placing the next text where ``node``
        starts (or ends), padded to its column."""
        row, col = node.end_point if end else node.start_point
        path = self.file.replace("\\", "\\\\").replace('"', '\\"')
        return f'\n#line {row + 1} "{path}"\n' + " " * col

    def emit(self, node: Node, ctx: _Ctx) -> str:
        try:
            out = self.rule(node, ctx)
        except _Refused:
            # Already reported; the unit fails, so keep the original text (reprinting
            # it under another rule would only repeat the report).
            return self.src(node.start_byte, node.end_byte)
        if out is not None:
            return out
        return self.emit_children(node, ctx)

    def emit_children(self, node: Node, ctx: _Ctx) -> str:
        if not node.children:
            return self.src(node.start_byte, node.end_byte)
        out, pos = [], node.start_byte
        for c in node.children:
            out.append(self.src(pos, c.start_byte))
            out.append(self.emit(c, ctx))
            pos = c.end_byte
        out.append(self.src(pos, node.end_byte))
        return "".join(out)

    def inner_args(self, call: Node, ctx: _Ctx) -> list[str]:
        return [self.emit(a, ctx) for a in call_args(call)]

    # ------------------------------------------------------------------ rules

    def rule(self, node: Node, ctx: _Ctx) -> str | None:
        t = node.type
        if t == "__forceinline__" and node.parent is not None and node.parent.type in ("function_definition", "declaration") \
                and not any(c.type == "storage_class_specifier" for c in node.parent.children):
            # CUDA's __forceinline__ is inline: in a header shared by two sources it must not
            # become an external definition in each (C's plain inline emits none at all).
            return "static inline"
        if t in _DROPPED_KEYWORDS:
            return ""
        if t == "preproc_include":
            return self.include(node)
        if t == "storage_class_specifier" and text(node) == "inline" and node.parent is not None and (
            node.parent.type in ("function_definition", "declaration") and _at_file_scope(node.parent)
            and declarator_name(function_declarator(node.parent)) in self.inline_only
        ):
            return "static inline"  # C's inline is not C++'s (inline_only_functions)
        if t == "function_definition":
            if has_keyword(node, "__global__"):
                return self.kernel(node)
            if has_keyword(node, "__device__"):
                return self.declare_target(node, _Ctx(device=True))
            return None
        if t == "template_declaration" and any(n.type == "__global__" for n in walk(node)):
            inner = next((c for c in node.named_children if c.type in ("function_definition", "declaration")), None)
            if inner is None or not has_keyword(inner, "__global__"):
                raise self.refuse("PCX407", node, "this form of template kernel is not supported")
            tmpl = self.template_info(node)
            return self.kernel(inner, tmpl) if inner.type == "function_definition" else self.kernel_prototype(inner, tmpl)
        if t == "enum_specifier" and node.child_by_field_name("body") is None and (
            text(node.child_by_field_name("name") or node) == "cudaError"
        ):
            return "cudaError_t"  # the legacy ``enum cudaError e;``
        if t == "declaration":
            return self.declaration(node, ctx)
        if t == "expression_statement" and ctx.device:
            return self.device_statement(node, ctx)
        if t == "return_statement" and ctx.thread_exit:
            return "goto pcx_thread_done;"
        if t == "call_expression":
            return self.call(node, ctx)
        if t in ("identifier", "type_identifier", "namespace_identifier"):
            return self.name(node, ctx)
        return None

    def include(self, node: Node) -> str | None:
        path = node.child_by_field_name("path")
        name = text(path).strip('<>"') if path is not None else ""
        base = name.rsplit("/", 1)[-1]
        library = name.split("/", 1)[0]
        if library in tables.REFUSED_LIBRARIES and "/" in name:
            raise self.refuse("PCX409", node, f"<{name}>: {tables.REFUSED_LIBRARIES[library]} is not translated")
        if base in tables.REFUSED_HEADERS:
            rid, msg = tables.REFUSED_HEADERS[base]
            raise self.refuse(rid, node, msg)
        nl = "\n" if text(node).endswith("\n") else ""
        if base in tables.CUDA_HEADERS:
            return f"/* pcx: #include <{name}> is replaced by the prologue */{nl}"
        if name in self.include_map:
            return f'#include "{self.include_map[name]}"{nl}'
        return None

    def name(self, node: Node, ctx: _Ctx) -> str | None:
        name = text(node)
        if name in self.hidden and not (node.parent is not None and node.parent.type in (
            "preproc_def", "preproc_function_def", "preproc_ifdef", "preproc_defined"
        )):
            rid, what = self.hidden[name]
            raise self.refuse(rid, node, f"macro {name} expands to {what}, which has no OpenMP equivalent")
        if node.type == "namespace_identifier" and name in tables.REFUSED_LIBRARIES and node.parent is not None:
            raise self.refuse("PCX409", node, f"{tables.REFUSED_LIBRARIES[name]} {text(node.parent)} has no translation")
        if name in self.user_names:
            pass  # the program's own helper (cudaCheck, a variable named clock, ...)
        elif (r := tables.refusal_for(name)) is not None and (
            (r.id != "PCX407" or ctx.device)  # clock() etc. are refused on the device only
            and (name not in ("texture", "surface") or node.type == "type_identifier")
        ):
            raise self.refuse(r.id, node, r.what.format(name=name))
        elif tables.is_api_name(name) and name not in tables.KNOWN_NAMES:
            raise self.refuse("PCX406", node, f"CUDA runtime API {name} has no translation")
        if node.type == "identifier" and ctx.kernel is not None and name in ctx.kernel.shared_scalars:
            return f"(*{name})"
        if node.type == "identifier" and name in ctx.per_thread:
            return f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t]"
        return None

    # -- declarations ---------------------------------------------------------

    def declaration(self, node: Node, ctx: _Ctx) -> str | None:
        if has_keyword(node, "__global__"):
            return self.kernel_prototype(node)
        if has_keyword(node, "__managed__") or "__managed__" in text(node).split():
            raise self.refuse("PCX407", node, "__managed__ variables are not supported")
        if not ctx.device and (has_keyword(node, "__device__") or has_keyword(node, "__constant__")):
            return self.device_variable(node)
        if has_keyword(node, "__shared__"):
            if ctx.kernel is None:
                raise self.refuse("PCX407", node, "__shared__ variable outside a kernel body is not supported")
            return ""  # hoisted into the team by the kernel's launcher
        typ = node.child_by_field_name("type")
        if ctx.per_thread and any(declarator_name(d) in ctx.per_thread for d in node.children_by_field_name("declarator")):
            return self.per_thread_declaration(node, ctx)
        if typ is not None and text(typ) == "dim3":
            return self.dim3_declaration(node, ctx)
        if ctx.device:
            inits = [c for c in node.children_by_field_name("declarator")]
            for d in inits:
                v = d.child_by_field_name("value") if d.type == "init_declarator" else None
                if v is not None and v.type == "call_expression" and tables.atomic_base(call_name(v)) in tables.ATOMICS:
                    if len(inits) != 1:
                        raise self.refuse("PCX405", v, f"{call_name(v)} in a declaration of several variables is not supported")
                    # ``T old = atomicAdd(p, v);`` -> ``T old; <atomic capture into old>``
                    head = self.emit_children_range(node, ctx, node.start_byte, d.start_byte)
                    name_part = self.emit(d.child_by_field_name("declarator"), ctx)
                    target = declarator_name(d)
                    return head + name_part + "; " + self.atomic(v, ctx, capture=target, stmt=node)
        return None

    def per_thread_declaration(self, node: Node, ctx: _Ctx) -> str:
        """``float acc = 0, t;`` where acc lives across a barrier: its element of the
        thread is assigned (``acc__pcx[pcx_t] = 0;``), the other declarators stay."""
        typ = node.child_by_field_name("type")
        head = self.emit_children_range(node, ctx, node.start_byte, typ.end_byte)
        parts = []
        for d in node.children_by_field_name("declarator"):
            name = declarator_name(d)
            if name not in ctx.per_thread:
                parts.append(f"{head} {self.emit(d, ctx)};")
            elif d.type == "init_declarator":  # without one the element keeps its value (CUDA: indeterminate)
                parts.append(f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t] = {self.emit(d.child_by_field_name('value'), ctx)};")
        return " ".join(parts)

    def emit_children_range(self, node: Node, ctx: _Ctx, start: int, end: int) -> str:
        out, pos = [], start
        for c in node.children:
            if c.start_byte < start or c.end_byte > end:
                continue
            out.append(self.src(pos, c.start_byte))
            out.append(self.emit(c, ctx))
            pos = c.end_byte
        out.append(self.src(pos, end))
        return "".join(out)

    def dim3_declaration(self, node: Node, ctx: _Ctx) -> str | None:
        """Every CUDA way of declaring a dim3 (C has no constructors):

        ``dim3 g(a, b);`` ``dim3 t(NT * NT);`` (both parse as prototypes) ``dim3 b(n / 256);``
        ``dim3 b = dim3(16, 16);`` ``dim3 b{16, 16};`` ``dim3 b = {16, 16, 1};`` ``dim3 b = 64;``
        ``dim3 b;`` (1, 1, 1).  Locals get ``pcx_dim3_make(...)``; file-scope ones a brace
        initializer (C wants a constant there).  Arrays of and pointers to dim3 pass."""
        file_scope = not _in_function(node)
        parts = []
        for d in node.children_by_field_name("declarator"):
            name = declarator_name(d)
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if d.type == "function_declarator":
                plist = d.child_by_field_name("parameters")
                ps = [p for p in plist.named_children if p.type != "comment"]
                if not self.dim3_constructor_params(ps, file_scope):
                    return None  # a real prototype of a function returning dim3
                self.dim3_names.add(name)
                parts.append(f"{name} = {self.dim3_constructed(ps, d, ctx, file_scope)}")
                continue
            inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            if inner is None or inner.type != "identifier":
                parts.append(self.emit(d, ctx))  # dim3 grids[2], dim3 *p = &g: no constructor
                continue
            self.dim3_names.add(name)
            if value is None:
                parts.append(f"{name} = {self.dim3_make([], d, file_scope)}")
            elif value.type in ("argument_list", "initializer_list"):
                args = [a for a in value.named_children if a.type != "comment"]
                parts.append(f"{name} = {self.dim3_constructed(args, value, ctx, file_scope)}")
            elif file_scope and value.type == "call_expression" and call_name(value) == "dim3":
                args = self.inner_args(value, ctx)
                parts.append(f"{name} = {self.dim3_make(args, value, file_scope)}")
            elif file_scope and value.type in ("number_literal", "binary_expression", "sizeof_expression"):
                parts.append(f"{name} = {self.dim3_make([self.emit(value, ctx)], value, file_scope)}")
            else:
                parts.append(f"{name} = {self.dim3_value(value, ctx)}")
        head = self.src(node.start_byte, node.child_by_field_name("type").end_byte)
        return f"{head} {', '.join(parts)};"

    def dim3_constructor_params(self, ps: list[Node], file_scope: bool) -> bool:
        """Whether ``dim3 x(P...)`` that tree-sitter read as a prototype is a constructor.

        In a function body it always is (nobody declares functions returning dim3
        there) unless a parameter has a builtin type (``dim3 f(int n);``).  At file
        scope, ``dim3 block(TILE, TILE);`` (bare names) and ``dim3 thr(NT * NT);``
        where NT is a macro, an enumerator or an arithmetic variable of the program are;
        ``dim3 f(Grid *g);`` is a prototype."""
        for p in ps:
            if p.type != "parameter_declaration":
                return False
            typ = p.child_by_field_name("type")
            if typ is None or typ.type != "type_identifier":
                return False
            if any(c.type in ("type_qualifier", "storage_class_specifier") for c in p.children):
                return False
            if file_scope and p.child_by_field_name("declarator") is not None and (
                text(typ) not in self.macro_names and text(typ) not in self.scalar_names
            ):
                return False
        return True

    def dim3_constructed(self, args: list[Node], node: Node, ctx: _Ctx, file_scope: bool) -> str:
        """The value of ``dim3 x(args)``, ``dim3 x{args}`` or ``dim3 x = {args}``.

        ``args`` are expressions, or the parameter declarations tree-sitter read them as
        (``dim3 t(NT * NT)`` is a prototype to it).  Each is printed through the rules, so
        a refused or renamed name in it is handled like anywhere else.  A single argument
        may be a dim3 itself (``dim3 b(grid)``, ``dim3 b(make_grid(n))``: a copy), so a
        local one is decided like a launch extent (``dim3_value``); file-scope ones stay
        constant brace initializers, where only extents can appear."""
        if len(args) == 1 and not file_scope:
            arg = args[0]
            if arg.type != "parameter_declaration":
                return self.dim3_value(arg, ctx)
            declarator = arg.child_by_field_name("declarator")
            if declarator is None and text(arg) in self.dim3_names:
                return self.emit(arg, ctx)  # dim3 b(grid): a copy
            # n * m reads as ``n *m``: a product.  A name of unknown type, geo[0] or
            # make_grid(n) may be a dim3: the type decides.
            if not (declarator is None and text(arg) in self.scalar_names) and (
                declarator is None or declarator.type != "pointer_declarator"
            ):
                return f"pcx_dim3_of({self.emit(arg, ctx)})"
        return self.dim3_make([self.emit(a, ctx) for a in args], node, file_scope)

    def dim3_make(self, args: list[str], node: Node, file_scope: bool = False) -> str:
        if len(args) > 3:
            raise self.refuse("PCX407", node, "dim3 with more than three extents")
        args = [f"(unsigned int)({a})" for a in args] + ["1"] * (3 - len(args))
        if file_scope:
            return "{" + ", ".join(args) + "}"
        return f"pcx_dim3_make({', '.join(args)})"

    def dim3_value(self, expr: Node, ctx: _Ctx) -> str:
        """A launch extent or dim3 initialiser: dim3-typed expressions pass, integers wrap.

        The syntax decides where it can (a name declared dim3, a ``dim3(...)`` call, a
        number or arithmetic); otherwise the prologue's ``pcx_dim3_of`` decides by type
        (C11 ``_Generic`` in C, overloading in C++)."""
        out = self.emit(expr, ctx)
        if (expr.type == "identifier" and text(expr) in self.dim3_names) or (
            expr.type == "call_expression" and call_name(expr) == "dim3"
        ):
            return out
        if expr.type in ("number_literal", "binary_expression", "sizeof_expression", "cast_expression") or (
            expr.type == "identifier" and text(expr) not in self.dim3_names and text(expr) in self.scalar_names
        ):
            return f"pcx_dim3_make((unsigned int)({out}), 1, 1)"
        return f"pcx_dim3_of({out})"

    def device_variable(self, node: Node) -> str:
        """File-scope ``__device__``/``__constant__`` variables (and ``__device__``
        prototypes) live on the device too: ``declare target``."""
        ctx = _Ctx()
        body = self.emit_children(node, ctx)
        helpers = []
        for d in node.children_by_field_name("declarator"):
            if function_declarator(node) is not None:
                break
            name = declarator_name(d)
            self.symbols[name] = "constant" if has_keyword(node, "__constant__") else "device"
            helpers.append(kernels.symbol_helpers(name))
        return (
            "\n#pragma omp declare target" + self.line_at(node) + body.strip()
            + "\n#pragma omp end declare target\n" + "".join(helpers) + self.line_at(node, end=True)
        )

    def declare_target(self, node: Node, ctx: _Ctx) -> str:
        for n in walk(node):
            if n.type == "call_expression" and call_name(n) == "__syncthreads":
                raise self.refuse("PCX407", n, "__syncthreads() in a __device__ function is not supported; call it from the kernel")
            if n.type == "call_expression" and call_name(n) in phases.WARP_CALLS:
                raise self.refuse("PCX401", n, f"warp function {call_name(n)} in a __device__ function is not supported; "
                                               "write it in the kernel")
            if n.type == "field_expression" and text(n.child_by_field_name("argument")) in (
                "threadIdx", "blockIdx", "blockDim", "gridDim"
            ):
                raise self.refuse("PCX407", n, f"{text(n)} in a __device__ function is not supported; pass it from the kernel")
        body = self.emit_children(node, ctx)
        return (
            "\n#pragma omp declare target" + self.line_at(node) + body.lstrip()
            + "\n#pragma omp end declare target" + self.line_at(node, end=True)
        )

    # -- kernels --------------------------------------------------------------

    def template_info(self, node: Node) -> tuple[str, str]:
        """(``template <...> `` head, ``<A, B>`` arguments naming its parameters)."""
        plist = node.child_by_field_name("parameters")
        names = []
        for p in plist.named_children if plist is not None else []:
            if p.type == "type_parameter_declaration":
                name = next((text(c) for c in p.named_children if c.type == "type_identifier"), "")
            elif p.type == "parameter_declaration":
                name = declarator_name(p.child_by_field_name("declarator"))
            else:
                name = ""
            if not name:
                raise self.refuse("PCX407", p, f"template parameter {text(p)} of a kernel is not supported")
            names.append(name)
        return f"template {text(plist)} ", f"<{', '.join(names)}>"

    def kernel_info(self, node: Node) -> kernels.KernelInfo:
        fd = function_declarator(node)
        if fd is None:
            raise self.refuse("PCX407", node, "kernel declarator not understood")
        name = declarator_name(fd)
        params = parameters(fd)
        if params is None:
            raise self.refuse("PCX407", fd, f"kernel {name} has an unnamed or variadic parameter")
        plist = fd.child_by_field_name("parameters")
        return kernels.KernelInfo(name=name, params=params, static=has_keyword(node, "static"),
                                  param_text="", line=node.start_point.row + 1, plist=plist)

    def param_text(self, info: kernels.KernelInfo, ctx: _Ctx) -> str:
        inner = self.emit_children(info.plist, ctx)[1:-1].strip()
        return "" if inner in ("", "void") else inner

    def kernel_prototype(self, node: Node, template: tuple[str, str] = ("", "")) -> str:
        info = self.kernel_info(node)
        info.template, info.template_args = template
        info.param_text = self.param_text(info, _Ctx())
        return kernels.launcher_prototype(info) + ";"

    def kernel(self, node: Node, template: tuple[str, str] = ("", "")) -> str:
        info = self.kernel_info(node)
        info.template, info.template_args = template
        body = node.child_by_field_name("body")
        info.param_text = self.param_text(info, _Ctx())
        refused = False
        plan: phases.PhasePlan | str = ""
        try:
            self.collect_shared(info, body)
            if info.block:
                shared = {s.name for s in info.shared} | {name for _, name in info.dynamic_shared}
                plan = phases.plan_phases(body, {p.name for p in info.params}, shared)
            if not isinstance(plan, phases.PhasePlan):
                warp = next((n for n in walk(body) if n.type == "call_expression" and call_name(n) in phases.WARP_CALLS), None)
                if warp is not None:
                    raise self.refuse("PCX401", warp, f"warp function {call_name(warp)} cannot be translated here: {plan}")
                self.check_block_returns(info, body)
        except _Refused:
            refused = True  # still print the body: it reports its own refusals too
        errors_before = len(self.remarks)
        if isinstance(plan, phases.PhasePlan):
            info.phases = max(plan.phases, 1)
            body_text = (self.phased_body(info, plan, parallel=True) + "\n" + kernels.block_header(info, serial=True)
                         + self.phased_body(info, plan, parallel=False))
            header = kernels.block_header(info)
        else:
            body_text = self.emit(body, _Ctx(device=True, kernel=info))
            # The body may use only some of the launch geometry: keep -Wunused-parameter
            # quiet (on the line of the opening brace, so no line moves).
            body_text = "{ (void)blockIdx; (void)threadIdx; (void)blockDim; (void)gridDim;" + body_text[1:]
            header = kernels.body_header(info)
        if len(self.remarks) > errors_before:
            refused = True  # something in the body was refused: the kernel is not translated
        if refused:
            raise _Refused()
        self.kernel_names.append(info.name)
        if info.phases:
            how = (f"a target teams region, one team per block, its {info.phases} barrier phase(s) each a "
                   "parallel loop over the block's threads")
        elif info.block:
            how = ("a target teams region, one team per block with a parallel region of blockDim threads "
                   f"(not split at its barriers: {plan})")
        else:
            how = "a target teams distribute parallel for loop over its launch grid"
        self.remark("PCX400", node, f"CUDA kernel {info.name} translated to {how}")
        return (
            "\n#pragma omp declare target" + self.line_at(info.plist)
            + header + body_text
            + "\n#pragma omp end declare target\n"
            + f'#line {info.line} "{self.file}"\n'
            + kernels.launcher(info, self.file.replace("\\", "\\\\").replace('"', '\\"'))
            + self.line_at(node, end=True)
        )

    def phased_body(self, info: kernels.KernelInfo, plan: phases.PhasePlan, parallel: bool) -> str:
        """A block function's body: per-thread arrays, then the steps (``phases.py``), each
        phase a ``parallel for`` over the block's threads or, for the device thread that
        runs a whole block (``kernels.launcher``), a plain loop."""
        ctx = _Ctx(device=True, kernel=info, per_thread=frozenset(plan.per_thread))
        out = ["{ (void)blockIdx; (void)blockDim; (void)gridDim;",
               "\n  const int pcx_nt = (int)(blockDim.x * blockDim.y * blockDim.z); (void)pcx_nt;"]
        for ex in plan.exchanges:
            elem = self.emit(ex.type, ctx) if ex.type is not None else "int"
            out.append(f"\n  {elem} pcx_xchg{ex.index}[{kernels.MAX_BLOCK}];")
        out += [f"\n  int pcx_pred{k}[{kernels.MAX_BLOCK}];" for k in range(plan.predicates)]
        for v in plan.per_thread.values():
            d = v.declarator
            ident = next(n for n in walk(d) if n.type == "identifier")
            decl = (self.src(d.start_byte, ident.start_byte)
                    + f"{v.name}{kernels.PER_THREAD_SUFFIX}[{kernels.MAX_BLOCK}]" + self.src(ident.end_byte, d.end_byte))
            out.append(f"\n  {'const ' if v.const_pointee else ''}{self.emit(v.type, ctx)} {decl};")
        out.append(self.print_steps(plan.steps, ctx, "#pragma omp parallel for collapse(3)\n" if parallel else ""))
        return "".join(out) + "\n}"

    def print_steps(self, steps: list[phases.Step], ctx: _Ctx, loop_pragma: str) -> str:
        out = []
        for st in steps:
            if isinstance(st, phases.Phase):
                inner = "".join(
                    self.line_at(r.statement) + self.emit_children_range(
                        r.statement, ctx, r.statement.start_byte, r.statement.child_by_field_name("type").end_byte)
                    + " " + self.emit(r.declarator, ctx) + ";"
                    for r in st.preamble
                ) + (self.receive(st.opening, ctx) if st.opening is not None else "") + "".join(
                    self.line_at(s) + self.emit(s, replace(ctx, thread_exit=st.final)) for s in st.statements
                ) + (self.publish(st.closing, ctx) if st.closing is not None else "")
                if ctx.guards:
                    inner = f"\nif ({' && '.join(ctx.guards)}) {{" + inner + "\n}"
                if st.final:  # a return leaves this block scope, never jumps over a declaration
                    inner = "{" + inner + "\n}\npcx_thread_done: ;"
                # Three loops, not one over pcx_t unflattened: no divisions per thread.
                out.append("\n" + loop_pragma
                           + "for (unsigned int pcx_z = 0; pcx_z < blockDim.z; pcx_z++)\n"
                           "for (unsigned int pcx_y = 0; pcx_y < blockDim.y; pcx_y++)\n"
                           "for (unsigned int pcx_x = 0; pcx_x < blockDim.x; pcx_x++) {\n"
                           "const int pcx_t = (int)((pcx_z * blockDim.y + pcx_y) * blockDim.x + pcx_x); (void)pcx_t;\n"
                           "dim3 threadIdx = pcx_dim3_make(pcx_x, pcx_y, pcx_z); (void)threadIdx;"
                           + inner + "\n}")
            elif st.kind == "uniform":
                out.append(self.line_at(st.node) + self.emit(st.node, ctx))
            elif st.kind == "guarded":
                pred = f"pcx_pred{st.predicate}[pcx_t]"
                out.append(self.print_steps(st.body, replace(ctx, guards=ctx.guards + (pred,)), loop_pragma))
                if st.orelse is not None:
                    out.append(self.print_steps(st.orelse, replace(ctx, guards=ctx.guards + ("!" + pred,)), loop_pragma))
            elif st.kind == "block":
                out.append("\n{" + self.print_steps(st.body, ctx, loop_pragma) + "\n}")
            else:
                body = st.node.child_by_field_name("body" if st.kind == "for" else "consequence")
                out.append(self.line_at(st.node) + self.emit_children_range(st.node, ctx, st.node.start_byte, body.start_byte)
                           + "{" + self.print_steps(st.body, ctx, loop_pragma) + "\n}")
                if st.orelse is not None:
                    out.append(" else {" + self.print_steps(st.orelse, ctx, loop_pragma) + "\n}")
        return "".join(out)

    def publish(self, what: phases.Exchange | phases.Predicate, ctx: _Ctx) -> str:
        """The end of a phase: each thread stores what the next phase reads (phases.py)."""
        if isinstance(what, phases.Predicate):
            return self.line_at(what.condition) + f"pcx_pred{what.index}[pcx_t] = ({self.emit(what.condition, ctx)}) != 0;"
        value = self.emit(call_args(what.call)[1], ctx)
        if what.name in phases.VOTES:
            value = f"({value}) != 0"
        return self.line_at(what.statement) + f"pcx_xchg{what.index}[pcx_t] = {value};"

    def receive(self, ex: phases.Exchange, ctx: _Ctx) -> str:
        """The start of the next phase: each thread reads its source lane's value (a warp
        is 32 consecutive threads of the block; ``pcx_warp_*`` in the prologue)."""
        args = [self.emit(a, ctx) for a in call_args(ex.call)]
        if ex.name in phases.SHUFFLES:
            width = f"(int)({args[3]})" if len(args) == 4 else "32"
            rhs = f"pcx_xchg{ex.index}[pcx_warp_src(pcx_t, pcx_nt, {phases.SHUFFLES[ex.name]}, (int)({args[2]}), {width})]"
        else:
            ballot = f"pcx_warp_ballot(pcx_xchg{ex.index}, pcx_t, pcx_nt, (unsigned int)({args[0]}))"
            rhs = {"__ballot_sync": ballot, "__any_sync": f"({ballot} != 0u)",
                   "__all_sync": f"({ballot} == pcx_warp_present(pcx_t, pcx_nt, (unsigned int)({args[0]})))"}[ex.name]
        name = text(ex.target)
        if ex.op != "decl":
            stmt = f"{self.emit(ex.target, ctx)} {ex.op} {rhs};"
        elif name in ctx.per_thread:
            stmt = f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t] = {rhs};"
        else:
            typ = ex.statement.child_by_field_name("type")
            stmt = f"{self.emit_children_range(ex.statement, ctx, ex.statement.start_byte, typ.end_byte)} {name} = {rhs};"
        return self.line_at(ex.statement) + stmt

    def collect_shared(self, info: kernels.KernelInfo, body: Node) -> None:
        for n in walk(body):
            if n.type == "call_expression" and (call_name(n) == "__syncthreads" or call_name(n) in phases.WARP_CALLS):
                info.block = True
            if n.type != "declaration" or not has_keyword(n, "__shared__"):
                continue
            info.block = True
            is_extern = has_keyword(n, "extern")
            typ = n.child_by_field_name("type")
            spec = " ".join(
                text(c) for c in n.children
                if c.end_byte <= typ.end_byte and c.type not in ("storage_class_specifier",)
                and not (c.type == "type_qualifier" and text(c) == "__shared__")
            )
            for d in n.children_by_field_name("declarator"):
                name = declarator_name(d)
                if d.type == "init_declarator":
                    raise self.refuse("PCX407", d, f"__shared__ variable {name} with an initializer")
                if is_extern:
                    if d.type != "array_declarator" or d.child_by_field_name("size") is not None:
                        raise self.refuse("PCX407", d, f"extern __shared__ {name} must be an unsized array")
                    info.dynamic_shared.append((spec, name))
                elif d.type == "identifier":
                    info.shared_scalars.append(name)
                    info.shared.append(kernels.SharedVar(spec, name, text(d), scalar=True))
                else:
                    info.shared.append(kernels.SharedVar(spec, name, text(d), scalar=False))

    def check_block_returns(self, info: kernels.KernelInfo, body: Node) -> None:
        if not info.block:
            return
        syncs = [n.end_byte for n in walk(body) if n.type == "call_expression" and call_name(n) == "__syncthreads"]
        last = max(syncs, default=-1)
        for n in walk(body):
            if n.type == "return_statement" and n.start_byte < last:
                raise self.refuse(
                    "PCX407", n,
                    f"return before __syncthreads() in kernel {info.name}: the threads that left would miss the barrier",
                )

    # -- calls ----------------------------------------------------------------

    def call(self, node: Node, ctx: _Ctx) -> str | None:
        launch = next((c for c in node.children if c.type == "kernel_call_syntax"), None)
        if launch is not None:
            return self.launch(node, launch, ctx)
        name = call_name(node)
        if not name:
            return None
        if name == "dim3":
            return self.dim3_make(self.inner_args(node, ctx), node)
        base = tables.atomic_base(name)
        if base in tables.ATOMICS:
            raise self.refuse("PCX405", node, f"{name} whose result is used inside an expression has no OpenMP atomic form; assign it to a variable")
        if base in tables.ATOMICS_REFUSED:
            raise self.refuse("PCX405", node, f"{name} (wrap-around atomic) has no OpenMP equivalent")
        if name in ("__syncthreads", "__threadfence", "__threadfence_block", "__threadfence_system"):
            raise self.refuse("PCX407", node, f"{name}() must be a statement of its own")
        if name == "__ldg":
            args = self.inner_args(node, ctx)
            return f"(*({args[0]}))" if len(args) == 1 else None
        if name in tables.INTRINSICS:
            return tables.INTRINSICS[name] + self.emit(node.child_by_field_name("arguments"), ctx)
        if name in tables.MINMAX and name not in self.user_minmax:
            if any(n.type in ("assignment_expression", "update_expression") for a in call_args(node) for n in walk(a)):
                raise self.refuse("PCX407", node, f"{name}() with an argument that has side effects (it would be evaluated twice)")
            return tables.MINMAX[name] + self.emit(node.child_by_field_name("arguments"), ctx)
        if name in tables.SYMBOL_COPIES:
            return self.symbol_copy(node, name, ctx)
        api = tables.API.get(name)
        if api is not None:
            if ctx.device:
                raise self.refuse("PCX406", node, f"{name} called from device code has no translation")
            return self.api_call(node, name, api, ctx)
        return None

    def api_call(self, node: Node, name: str, api: tables.ApiCall, ctx: _Ctx) -> str:
        args = self.inner_args(node, ctx)
        missing = api.arity - len(args)
        if missing < 0 or missing > len(api.defaults):
            raise self.refuse("PCX406", node, f"{name} called with {len(args)} arguments")
        if missing:
            args += list(api.defaults[len(api.defaults) - missing:])
        if api.cast_first and args:
            args[0] = f"(void **)({args[0]})"
        return f"{api.rename or name}({', '.join(args)})"

    def symbol_copy(self, node: Node, name: str, ctx: _Ctx) -> str:
        direction = tables.SYMBOL_COPIES[name]
        raw = call_args(node)
        if not raw:
            raise self.refuse("PCX406", node, f"{name} without arguments")
        # cudaMemcpyToSymbol(symbol, src, ...) / cudaMemcpyFromSymbol(dst, symbol, ...)
        sym_index = 0 if direction == "to" else 1
        if len(raw) <= sym_index:
            raise self.refuse("PCX406", node, f"{name} without a symbol argument")
        sym_node = raw[sym_index]
        if sym_node.type == "pointer_expression":
            sym_node = sym_node.child_by_field_name("argument")
        sym = text(sym_node)
        if sym not in self.symbols:
            raise self.refuse("PCX406", node, f"{name} on {sym}, which is not a __device__/__constant__ variable defined earlier in this file")
        args = self.inner_args(node, ctx)
        del args[sym_index]
        defaults = ["0", "cudaMemcpyHostToDevice" if direction == "to" else "cudaMemcpyDeviceToHost"]
        if not 2 <= len(args) <= 4 + (1 if name.endswith("Async") else 0):
            raise self.refuse("PCX406", node, f"{name} called with {len(args) + 1} arguments")
        args = args[:4]
        args += defaults[len(args) - 2:]
        return f"pcx_{direction}_symbol_{sym}({', '.join(args[:4])})"

    def launch(self, node: Node, config: Node, ctx: _Ctx) -> str:
        kname = text(node.child_by_field_name("function"))
        if ctx.device:
            raise self.refuse("PCX404", node, f"kernel launch {kname}<<<...>>> from device code (dynamic parallelism) is not supported")
        fn = node.child_by_field_name("function")
        if fn.type == "template_function":  # k<float, 64><<<...>>>: the launcher is a template too
            kname = self.emit(fn, ctx)
        elif fn.type != "identifier":
            raise self.refuse("PCX407", node, f"launch of {kname} (a member or qualified kernel) is not supported")
        parts = [c for c in config.named_children if c.type != "comment"]
        if not 2 <= len(parts) <= 4:
            raise self.refuse("PCX407", config, "launch configuration needs 2 to 4 values")
        grid, block = self.dim3_value(parts[0], ctx), self.dim3_value(parts[1], ctx)
        shmem = f"(size_t)({self.emit(parts[2], ctx)})" if len(parts) > 2 else "0"
        args = self.inner_args(node, ctx)
        return f"{kname}({', '.join([grid, block, shmem] + args)})"

    # -- device statements ------------------------------------------------------

    def device_statement(self, node: Node, ctx: _Ctx) -> str | None:
        expr = node.named_children[0] if node.named_children else None
        if expr is None:
            return None
        if expr.type == "call_expression":
            name = call_name(expr)
            if name == "__syncthreads":
                if ctx.kernel is None:
                    raise self.refuse("PCX407", expr, "__syncthreads() outside a kernel")
                return "{\n#pragma omp barrier" + self.line_at(node) + "}"
            if name in ("__threadfence", "__threadfence_block", "__threadfence_system"):
                return "{\n#pragma omp flush" + self.line_at(node) + "}"
            if tables.atomic_base(name) in tables.ATOMICS:
                return self.atomic(expr, ctx, capture=None, stmt=node)
        if expr.type == "assignment_expression" and text(expr.child_by_field_name("operator")) == "=":
            right = expr.child_by_field_name("right")
            if right.type == "call_expression" and tables.atomic_base(call_name(right)) in tables.ATOMICS:
                left = expr.child_by_field_name("left")
                if has_side_effects(left):
                    raise self.refuse("PCX405", left, "atomic capture into an expression with side effects")
                return self.atomic(right, ctx, capture=self.emit(left, ctx), stmt=node)
        return None

    def atomic(self, call: Node, ctx: _Ctx, capture: str | None, stmt: Node) -> str:
        """One atomic call as an ``omp atomic`` construct; ``capture`` receives the old value."""
        name = call_name(call)
        op = tables.ATOMICS[tables.atomic_base(name)]
        raw = call_args(call)
        want = 3 if op == "cas" else 2
        if len(raw) != want:
            raise self.refuse("PCX405", call, f"{name} with {len(raw)} arguments")
        ptr = raw[0]
        if has_side_effects(ptr):
            raise self.refuse("PCX405", ptr, f"{name} on an address with side effects")
        if ptr.type == "pointer_expression" and text(ptr.child_by_field_name("operator")) == "&":
            lv = self.emit(ptr.child_by_field_name("argument"), ctx)
        else:
            lv = f"(*({self.emit(ptr, ctx)}))"
        vals = [self.emit(a, ctx) for a in raw[1:]]
        back = self.line_at(stmt, end=True)
        if op in ("max", "min", "cas"):
            temps = f"__typeof__({lv}) pcx_v = ({vals[-1]})"
            if op == "cas":
                temps += f", pcx_c = ({vals[0]})"
                cond = f"{lv} == pcx_c"
            else:
                cond = f"{lv} < pcx_v" if op == "max" else f"{lv} > pcx_v"
            update = f"if ({cond}) {{ {lv} = pcx_v; }}"
            if capture is None:
                return f"{{ {temps};\n#pragma omp atomic compare\n{update} }}" + back
            return f"{{ {temps};\n#pragma omp atomic compare capture\n{{ {capture} = {lv}; {update} }} }}" + back
        update = f"{lv} = ({vals[0]});" if op == "=" else f"{lv} {op}= ({vals[0]});"
        if capture is None:
            kind = "write" if op == "=" else "update"
            return f"{{\n#pragma omp atomic {kind}\n{update} }}" + back
        return f"{{\n#pragma omp atomic capture\n{{ {capture} = {lv}; {update} }} }}" + back

    # ------------------------------------------------------------------ driver

    def prescan(self) -> None:
        names = scan_names(self.tree.root_node)
        if self.context is not None:
            names.update(self.context)
        self.dim3_names |= names.dim3
        self.scalar_names |= names.scalars
        self.user_names |= names.user
        self.macro_names |= names.macros
        # Symbols of this unit are registered where their definitions are printed (with
        # their copy helpers); the context's come from headers translated alongside.
        if self.context is not None:
            self.symbols.update(self.context.symbols)
        self.user_minmax = {m for m in tables.MINMAX if m in self.user_names}
        # A header's macro may be used in this unit's macros: close over both.
        self.hidden = _hidden_refusals(self.tree.root_node, names.hidden)
        # A function its headers declare too may be declared there without inline: C would
        # then reject a static definition here (the header's own translation handles its).
        self.inline_only = inline_only_functions(self.tree.root_node) - (self.context.user if self.context else set())

    def run(self) -> CudaTranslation:
        root = self.tree.root_node
        if root.has_error:
            bad = next((n for n in walk(root) if n.is_error or n.is_missing), root)
            self.remark("PCX407", bad, "CUDA source has syntax errors the translator cannot parse")
            return CudaTranslation(self.unit.text, self.remarks, ok=False)
        self.prescan()
        # The root starts at its first token: keep what precedes it (blank lines), or
        # every #line-less line of the unit would be off by that many.
        body = self.src(0, root.start_byte) + self.emit(root, _Ctx()) + self.src(root.end_byte, len(self.data))
        path = self.file.replace("\\", "\\\\").replace('"', '\\"')
        head = f'#include "{self.runtime_include}"\n' if self.runtime_include else prologue()
        out = head + f'#line 1 "{path}"\n' + body
        ok = not any(level_of(r.id) == "error" for r in self.remarks)
        self.remarks.sort(key=lambda r: (r.line, r.column))
        return CudaTranslation(out, self.remarks, ok=ok, kernels=self.kernel_names, body=body)


def translate_source(unit: SourceUnit, context: Names | None = None, runtime_include: str | None = None,
                     include_map: dict[str, str] | None = None) -> CudaTranslation:
    """Translate one CUDA unit; never raises for bad input (remarks say what went wrong).

    ``context``: names the unit's headers declare (``scan_names``); ``runtime_include``:
    include this header instead of heading the text with the prologue; ``include_map``:
    ``#include`` spellings to replace (a header's place in the output tree)."""
    return _Translator(unit, context, runtime_include, include_map).run()
