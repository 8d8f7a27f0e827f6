"""CUDA source to OpenMP target-offload source, by reprinting the tree-sitter tree.

``translate_source(unit) -> CudaTranslation`` is the contract the driver and ``pcx
translate`` use.  The translation reprints the source node by node: every node without
a rule is copied byte for byte (comments and layout included), a node with a rule is
replaced by the rule's text, which is built from its children reprinted the same way.
Where a rule produces new lines, a ``#line`` directive puts the following text back on
its original line, so compiler diagnostics name the user's ``.cu`` file and line.

This module decides which rule a node gets; the rest of the translation is one module
per question:

* ``names.py``: what the unit and its headers declare (read before printing);
* ``printer.py``: the reprinting itself, remarks and ``#line`` directives;
* ``kernel_def.py``: a kernel definition's form (and ``phase_print.py`` for a kernel split
  at its barriers), with ``kernels.py`` building the body function and launcher texts;
* ``calls.py``: launches, runtime API calls, symbol copies, intrinsics;
* ``statements.py``: barriers, fences and atomics in device code;
* ``declarations.py``: device variables and functions, per-thread locals;
* ``dim3.py``: dim3 declarations and launch extents;
* ``thrust.py``: the Thrust subset translated, the rest refused;
* ``prologue.py``: the C runtime that heads the output (``thrust_runtime.py`` its C++
  Thrust part); ``tables.py``: what each CUDA name becomes or why it is refused.

What each construct becomes:

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
  inline``, since C's ``inline`` alone emits no definition (``names.inline_only_functions``).
* warp shuffles and votes -> exchanges between barrier phases (``phases.py``); where that
  scheme does not apply (in a ``__device__`` function, inside an expression), PCX401.
* cooperative groups: the thread block and its ``tiled_partition<N>`` tiles (N up to 32)
  -> the same barriers, exchanges and thread-index arithmetic (``coop.py``), with
  ``cg::reduce`` an exchange that combines the tile's values; every other group PCX402.
* textures (PCX403), launches
  from device code (PCX404), untranslatable atomics (PCX405) and runtime calls (PCX406),
  other constructs (PCX407), and Thrust and CUB (PCX409: each header and each use) are refused with the construct's name and line.
* except the Thrust subset (``thrust.py``): ``thrust::NAME`` -> ``pcx_thrust::NAME``, defined
  by the Thrust runtime (``thrust_runtime.py``) after the prologue as OpenMP target loops;
  the output is then C++ only (``CudaTranslation.cxx``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tree_sitter import Node, Tree

from pcx_driver.cuda import coop, kernels, tables
from pcx_driver.cuda.calls import CallRules
from pcx_driver.cuda.cublas_runtime import CUBLAS_RUNTIME
from pcx_driver.cuda.curand_runtime import curand_runtime
from pcx_driver.cuda.declarations import DeclarationRules
from pcx_driver.cuda.inline import callee_name, header_helpers, inline_cooperative_helpers
from pcx_driver.cuda.dim3 import Dim3Rules
from pcx_driver.cuda.kernel_def import KernelDefinitions
from pcx_driver.cuda.names import MACRO_LAUNCH, Names, UnitScope, unit_scope
from pcx_driver.cuda.parse import at_file_scope, declarator_name, function_declarator, has_keyword, parse, text, uses_cxx, walk
from pcx_driver.cuda.printer import Ctx, Printer
from pcx_driver.cuda.prologue import prologue
from pcx_driver.cuda.statements import DeviceStatements
from pcx_driver.cuda.thrust import ThrustRules, thrust_callee
from pcx_driver.cuda.thrust_runtime import THRUST_RUNTIME
from pcx_driver.diagnostics import level_of
from pcx_driver.model import Remark, SourceUnit

#: Keywords dropped wherever they appear (their meaning is carried by the rules).
_DROPPED_KEYWORDS = frozenset({
    "__global__", "__device__", "__host__", "__constant__", "__shared__", "__forceinline__",
    "__noinline__", "launch_bounds",
})


#: What is translated of a library, for the refusal of its other names.
_LIBRARY_SUBSETS = {
    "cuRAND": "of cuRAND, the device API of its default XORWOW generator is translated: curandState, curand_init, "
              "curand, curand_uniform, curand_normal, curand_log_normal and their _double forms, skipahead",
    "cuBLAS": "of cuBLAS, <cublas_v2.h>'s handle, modes and streams and, in S and D precision, gemm, "
              "gemmStridedBatched, gemv, axpy, dot, scal, nrm2 and copy are translated",
}


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
    cxx: bool = False  # the text is C++ only (C++ syntax, or the Thrust runtime)


class _Translator(Printer):
    """The printer whose ``rule`` sends each node to the rule module for its construct."""

    def __init__(self, unit: SourceUnit, tree: Tree, scope: UnitScope, runtime_include: str | None,
                 include_map: dict[str, str], cxx: bool = False, foreign: frozenset[str] = frozenset()) -> None:
        super().__init__(unit, tree)
        self.foreign_cooperative = foreign  # cooperative helpers of its headers: calls must be inlined
        self.cxx = cxx  # C++ before its helpers were inlined
        self.scope = scope
        self.runtime_include = runtime_include
        self.include_map = include_map
        self.dim3 = Dim3Rules(self, scope)
        self.statements = DeviceStatements(self)
        self.cg = coop.Groups(coop.namespaces(tree.root_node))  # cooperative_groups and its aliases, no groups
        self.kernel_defs = KernelDefinitions(self, self.cg.namespaces)
        self.declarations = DeclarationRules(self, scope, self.dim3, self.kernel_defs, self.statements)
        self.calls = CallRules(self, scope, self.dim3)
        self.thrust = ThrustRules(self)
        self.libraries: set[str] = set()  # toolkit headers included whose runtime heads the text

    def rule(self, node: Node, ctx: Ctx) -> str | None:
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
        if t == "preproc_arg" and node.parent is not None and node.parent.type in ("preproc_def", "preproc_function_def"):
            return self.calls.macro_body(node)
        if t == "namespace_alias_definition" and coop.is_alias(node):
            return f"/* pcx: {text(node)} (its translated subset needs no namespace) */"
        if t == "qualified_identifier" and (what := self.cg.in_namespace(node)):
            raise self.refuse("PCX402", node, f"cooperative groups {text(node)} has no translation"
                              if what not in ("thread_block", "thread_block_tile", "this_thread_block", "tiled_partition",
                                              "reduce", "plus", "less", "greater", "bit_and", "bit_or", "bit_xor")
                              else f"cooperative groups {text(node)} is translated only in the forms "
                              "'cg::thread_block b = cg::this_thread_block();', 'cg::thread_block_tile<N> t = "
                              "cg::tiled_partition<N>(b);' (N a power of two up to 32) and 'x = cg::reduce(t, v, cg::plus<T>());' "
                              "in a kernel")
        if t == "storage_class_specifier" and text(node) == "inline" and node.parent is not None and (
            node.parent.type in ("function_definition", "declaration") and at_file_scope(node.parent)
            and declarator_name(function_declarator(node.parent)) in self.scope.inline_only
        ):
            return "static inline"  # C's inline is not C++'s (names.inline_only_functions)
        if t == "function_definition":
            if has_keyword(node, "__global__"):
                return self.kernel_defs.definition(node)
            if has_keyword(node, "__device__"):
                return self.declarations.device_function(node, Ctx(device=True))
            return None
        if t == "template_declaration" and at_file_scope(node) and (var := self.declarations.variable_template(node)) is not None:
            return var
        if t == "template_declaration" and (inner := _device_function_template(node)) is not None:
            return self.declarations.device_function(inner, Ctx(device=True), head=self.src(node.start_byte, inner.start_byte))
        if t == "template_declaration" and any(n.type == "__global__" for n in walk(node)):
            inner = next((c for c in node.named_children if c.type in ("function_definition", "declaration")), None)
            if inner is None or not has_keyword(inner, "__global__"):
                raise self.refuse("PCX407", node, "this form of template kernel is not supported")
            tmpl = self.kernel_defs.template_info(node)
            return self.kernel_defs.definition(inner, tmpl) if inner.type == "function_definition" else self.kernel_defs.prototype(inner, tmpl)
        if t == "enum_specifier" and node.child_by_field_name("body") is None and (
            text(node.child_by_field_name("name") or node) == "cudaError"
        ):
            return "cudaError_t"  # the legacy ``enum cudaError e;``
        if t == "declaration":
            return self.declarations.declaration(node, ctx)
        if t == "expression_statement" and ctx.device:
            return self.statements.expression_statement(node, ctx)
        if t == "return_statement" and ctx.thread_exit:
            return "goto pcx_thread_done;"
        if t == "return_statement" and ctx.leave_label:
            return f"{{ pcx_left[pcx_t] = 1; goto {ctx.leave_label}; }}"
        if t == "call_expression":
            callee = callee_name(node.child_by_field_name("function"))
            if callee in self.foreign_cooperative:
                raise self.refuse("PCX401", node, f"{callee}, a __device__ helper of a header with barriers, warp functions "
                                  "or the launch geometry, is not inlined into its kernel here (called where it may not "
                                  "run, or from host code); call it as a statement of its own or a declaration's value")
            if thrust_callee(node) in tables.THRUST_ALGORITHMS:
                self.thrust.call(node, thrust_callee(node), ctx)
                return None  # reprinted as it is: thrust:: becomes the runtime's namespace
            self.thrust.member_call(node)
            return self.calls.call(node, ctx)
        if t == "template_function" and text(node.child_by_field_name("name")) in self.scope.templates:
            return self.declarations.template_use(node, self.emit(node.child_by_field_name("arguments"), ctx))
        if t in ("identifier", "type_identifier", "namespace_identifier"):
            return self.name(node, ctx)
        return None

    def include(self, node: Node) -> str | None:
        path = node.child_by_field_name("path")
        name = text(path).strip('<>"') if path is not None else ""
        base = name.rsplit("/", 1)[-1]
        library = name.split("/", 1)[0]
        if library == "thrust" and "/" in name and (kept := self.thrust.include(node, name)) is not None:
            return kept
        if library in tables.REFUSED_LIBRARIES and "/" in name:
            raise self.refuse("PCX409", node, f"<{name}>: {tables.REFUSED_LIBRARIES[library]} is not translated")
        if name.split("/", 1)[0].startswith("cooperative_groups"):
            if name not in coop.HEADERS:
                raise self.refuse("PCX402", node, f"cooperative groups <{name}> are not supported")
            return f"/* pcx: #include <{name}>: its translated subset needs no header */" + ("\n" if text(node).endswith("\n") else "")
        if base in tables.REFUSED_HEADERS:
            rid, msg = tables.REFUSED_HEADERS[base]
            raise self.refuse(rid, node, msg)
        if name in tables.TRANSLATED_LIBRARIES:
            self.libraries.add(name)
            return (f"/* pcx: #include <{name}> is replaced by the {tables.TRANSLATED_LIBRARIES[name][0]} runtime */"
                    + ("\n" if text(node).endswith("\n") else ""))
        if library := tables.toolkit_library(name):
            raise self.refuse("PCX406", node, f"<{name}>: {library} from the CUDA toolkit is not translated")
        nl = "\n" if text(node).endswith("\n") else ""
        if base in tables.CUDA_HEADERS:
            return f"/* pcx: #include <{name}> is replaced by the prologue */{nl}"
        if name in self.include_map:
            return f'#include "{self.include_map[name]}"{nl}'
        return None

    def name(self, node: Node, ctx: Ctx) -> str | None:
        name = text(node)
        if name in self.scope.hidden and not (node.parent is not None and node.parent.type in (
            "preproc_def", "preproc_function_def", "preproc_ifdef", "preproc_defined"
        )):
            rid, what = self.scope.hidden[name]
            tail = ("; launch the kernel where the macro is used" if what.startswith(MACRO_LAUNCH)
                    else ", which has no OpenMP equivalent")
            raise self.refuse(rid, node, f"macro {name} expands to {what}{tail}")
        if node.type == "namespace_identifier" and name == "thrust" and (kept := self.thrust.name(node, ctx)) is not None:
            return kept
        if node.type == "identifier" and name in tables.REFUSED_LIBRARIES and node.parent is not None \
                and node.parent.type == "using_declaration":  # using namespace thrust;
            raise self.refuse("PCX409", node, f"{tables.REFUSED_LIBRARIES[name]} {text(node.parent)} has no translation")
        if node.type == "namespace_identifier" and name in tables.REFUSED_LIBRARIES and node.parent is not None:
            raise self.refuse("PCX409", node, f"{tables.REFUSED_LIBRARIES[name]} {text(node.parent)} has no translation")
        if name in self.scope.user:
            pass  # the program's own helper (cudaCheck, a variable named clock, ...)
        elif (r := tables.refusal_for(name)) is not None and (
            (r.id != "PCX407" or ctx.device)  # clock() etc. are refused on the device only
            and (name not in ("texture", "surface") or node.type == "type_identifier")
        ):
            raise self.refuse(r.id, node, r.what.format(name=name))
        elif library := tables.untranslated_library_name(name):
            raise self.refuse("PCX406", node, f"{library} {name} has no translation ({_LIBRARY_SUBSETS[library]})")
        elif tables.is_api_name(name) and name not in tables.KNOWN_NAMES:
            raise self.refuse("PCX406", node, f"CUDA runtime API {name} has no translation")
        if node.type == "identifier" and ctx.kernel is not None and (
            name in ctx.kernel.groups.groups or name in ctx.kernel.groups.others
        ):
            use = node.parent.parent if node.parent is not None and node.parent.type == "field_expression" else node
            if name in ctx.kernel.groups.others:
                raise self.refuse("PCX402", node, f"{text(use)}: {name} is a {ctx.kernel.groups.others[name]}, which has no "
                                  "translation (only the thread block and its tiles of 1 to 32 threads have)")
            raise self.refuse("PCX402", node, f"{text(use)}: the group {name} is translated only through its methods "
                              "thread_rank, size, num_threads, sync (a block also group_index, thread_index, dim_threads; "
                              "a tile also shfl, shfl_up, shfl_down, shfl_xor, any, all, ballot, meta_group_rank, "
                              "meta_group_size) and cg::reduce")
        if node.type == "identifier" and ctx.kernel is not None and name in ctx.kernel.shared_scalars:
            return f"(*{name})"
        if node.type == "identifier" and ctx.uniform_values and name in dict(ctx.uniform_values):
            return f"({dict(ctx.uniform_values)[name]})"
        if node.type == "identifier" and name in ctx.per_thread:
            return f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t]"
        return None

    def run(self) -> CudaTranslation:
        root = self.tree.root_node
        # The root starts at its first token: keep what precedes it (blank lines), or
        # every #line-less line of the unit would be off by that many.
        body = self.src(0, root.start_byte) + self.emit(root, Ctx()) + self.src(root.end_byte, len(self.data))
        path = self.file.replace("\\", "\\\\").replace('"', '\\"')
        head = f'#include "{self.runtime_include}"\n' if self.runtime_include else prologue()
        if tables.CURAND_HEADER in self.libraries:
            head += curand_runtime()
        if tables.CUBLAS_HEADER in self.libraries:
            head += CUBLAS_RUNTIME
        if self.thrust.used:
            head += THRUST_RUNTIME
        out = head + f'#line 1 "{path}"\n' + body
        ok = not any(level_of(r.id) == "error" for r in self.remarks)
        self.remarks.sort(key=lambda r: (r.line, r.column))
        return CudaTranslation(out, self.remarks, ok=ok, kernels=self.kernel_defs.translated, body=body,
                               cxx=self.thrust.used or self.cxx or uses_cxx(root))


def _device_function_template(node: Node) -> Node | None:
    """The ``__device__`` function a template declaration defines, or None."""
    inner = next((c for c in node.named_children if c.type == "function_definition"), None)
    if inner is None or not has_keyword(inner, "__device__") or has_keyword(inner, "__global__"):
        return None
    return inner


def translate_source(unit: SourceUnit, context: Names | None = None, runtime_include: str | None = None,
                     include_map: dict[str, str] | None = None, included: bool = False,
                     headers: Sequence[bytes] = ()) -> CudaTranslation:
    """Translate one CUDA unit; never raises for bad input (remarks say what went wrong).

    ``context``: names the unit's headers declare (``names.scan_names``); ``runtime_include``:
    include this header instead of heading the text with the prologue; ``include_map``:
    ``#include`` spellings to replace (a header's place in the output tree); ``included``:
    other files of the program include this one (its cooperative helpers are theirs to
    inline: ``inline.py``); ``headers``: the texts of the project files it includes, whose
    cooperative helpers its kernels inline (a call left is refused)."""
    foreign = header_helpers(headers)
    inlined = inline_cooperative_helpers(unit.data, foreign, header=included)
    cxx = False
    if inlined != unit.data:  # the helpers inlined may have been the unit's only C++ (templates)
        cxx = uses_cxx(parse(unit.data).root_node)
        unit = replace(unit, text=inlined.decode("utf-8", "surrogateescape"))
    tree = parse(unit.data)
    root = tree.root_node
    if root.has_error:
        bad = next((n for n in walk(root) if n.is_error or n.is_missing), root)
        reporter = Printer(unit, tree)
        reporter.remark("PCX407", bad, "CUDA source has syntax errors the translator cannot parse")
        return CudaTranslation(unit.text, reporter.remarks, ok=False)
    return _Translator(unit, tree, unit_scope(root, context), runtime_include, include_map or {}, cxx, frozenset(foreign)).run()
