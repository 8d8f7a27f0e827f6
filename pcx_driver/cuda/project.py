"""Translate a CUDA program, not a file: sources, the project headers they include, and
one runtime header.

``pcx translate main.cu other.cu -o outdir/`` follows the ``#include``s of each source
(quoted ones next to the including file, then in ``-I`` directories; ``<...>`` ones in
``-I`` directories only), translates every project file it reaches with the names all of
them declare (a ``cudaCheck`` or ``__constant__`` table in a header is known in the
sources), and writes:

* ``outdir/pcx_cuda_runtime.h``: the runtime prologue, once, behind an include guard;
* each source at its place relative to the files' common directory, ``.cu`` becoming
  ``.c`` (``.cpp`` when it or a header it reaches uses C++);
* each header under its own name, translated (it then includes the runtime header) when
  its translation differs from it, else copied unchanged.  Includes found through ``-I``
  are respelled relative to the including file, so ``outdir`` compiles with no ``-I``.

``translate_single`` is ``pcx translate app.cu -o app.c``: the prologue inline as
before; the headers it reaches lend their names, and one that holds CUDA code is refused
(PCX408): a single output file cannot carry its translation.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from pcx_driver.cuda import tables
from pcx_driver.cuda.runtime_names import DRIVER_NAMES, RUNTIME_NAMES
from pcx_driver.cuda.parse import CXX_NODES, parse, text, walk
from pcx_driver.cuda.prologue import prologue
from pcx_driver.cuda.inline import cooperative_names
from pcx_driver.cuda.names import Names, scan_names
from pcx_driver.cuda.translate import CudaTranslation, translate_source
from pcx_driver.diagnostics import level_of
from pcx_driver.model import Language, Remark, SourceUnit

RUNTIME_HEADER = "pcx_cuda_runtime.h"


@dataclass
class Include:
    spelled: str  # as written between the quotes or brackets
    target: str  # absolute path of the file it names
    line: int
    column: int


@dataclass
class ProjectFile:
    path: str  # absolute
    display: str  # what #line and remarks name (relative to the base directory)
    data: bytes
    source: bool  # named on the command line (a translation unit)
    includes: list[Include] = field(default_factory=list)
    missing: list[Include] = field(default_factory=list)  # quoted includes found nowhere (PCX411)
    cxx: bool = False
    names: Names = field(default_factory=Names)
    cooperative: frozenset[str] = frozenset()  # its cooperative __device__ helpers (inline.py)
    #: a header tree-sitter cannot parse that holds no CUDA (``extern "C" {`` opened and
    #: closed under ``#ifdef __cplusplus``): the compiler reads it as it is, so it is copied
    plain_unparsable: bool = False


@dataclass
class ProjectTranslation:
    files: dict[str, str] = field(default_factory=dict)  # output path -> text
    remarks: list[Remark] = field(default_factory=list)
    ok: bool = True
    kernels: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # output paths of the translation units


def _display(path: str, base: str) -> str:
    rel = os.path.relpath(path, base)
    return path if rel.startswith("..") else rel


def _resolve(spelled: str, quoted: bool, including_dir: str, include_dirs: list[str]) -> str | None:
    for d in ([including_dir] if quoted else []) + include_dirs:
        cand = os.path.normpath(os.path.join(d, spelled))
        if os.path.isfile(cand):
            return cand
    return None


#: Words only CUDA code holds (with the runtime's and driver's names and ``<<<``).
_CUDA_WORDS = frozenset({
    "__global__", "__device__", "__host__", "__shared__", "__constant__", "__managed__", "__launch_bounds__",
    "threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize", "__syncthreads", "dim3", "<<<",
})


def _holds_cuda(root) -> bool:
    """Whether any token of the tree (error nodes included) is CUDA's own, or it includes
    a header of the CUDA toolkit, Thrust, CUB or cooperative groups."""
    for n in walk(root):
        if n.type == "preproc_include" and n.child_by_field_name("path") is not None:
            name = text(n.child_by_field_name("path")).strip('<>"')
            if (name.rsplit("/", 1)[-1] in tables.CUDA_HEADERS or tables.toolkit_library(name)
                    or name.split("/", 1)[0] in tables.REFUSED_LIBRARIES
                    or name.split("/", 1)[0].startswith("cooperative_groups")):
                return True
        if n.child_count == 0:
            word = text(n)
            if word in _CUDA_WORDS or word in RUNTIME_NAMES or word in DRIVER_NAMES or word.startswith("__shfl"):
                return True
    return False


def _scan(pf: ProjectFile, include_dirs: list[str]) -> None:
    root = parse(pf.data).root_node
    pf.names = scan_names(root)
    pf.cooperative = cooperative_names(root)
    pf.plain_unparsable = not pf.source and root.has_error and not _holds_cuda(root)
    for n in walk(root):
        if n.type in CXX_NODES:
            pf.cxx = True
        if n.type != "preproc_include":
            continue
        p = n.child_by_field_name("path")
        if p is None:
            continue
        raw = text(p)
        spelled = raw.strip('<>"')
        if spelled.rsplit("/", 1)[-1] in tables.CUDA_HEADERS:
            continue
        if raw.startswith("<") and "." not in spelled.rsplit("/", 1)[-1]:
            pf.cxx = True  # <cstdio>, <vector>: the C++ library
        target = _resolve(spelled, raw.startswith('"'), os.path.dirname(pf.path), include_dirs)
        if target is not None:
            pf.includes.append(Include(spelled, target, n.start_point.row + 1, n.start_point.column + 1))
        elif raw.startswith('"'):
            pf.missing.append(Include(spelled, "", n.start_point.row + 1, n.start_point.column + 1))


def collect(sources: list[str], include_dirs: list[str], base: str) -> dict[str, ProjectFile]:
    """Every project file the sources reach through their includes, by absolute path
    (sources first, in order).  Files outside ``base`` and ``-I`` directories are reached
    too if an include names them: the compiler would read them as well."""
    incs = [os.path.abspath(d) for d in include_dirs]
    files: dict[str, ProjectFile] = {}
    todo: deque[tuple[str, bool]] = deque((os.path.abspath(s), True) for s in sources)
    while todo:
        path, is_source = todo.popleft()
        if path in files:
            files[path].source |= is_source
            continue
        with open(path, "rb") as f:
            data = f.read()
        pf = ProjectFile(path, _display(path, base), data, is_source)
        _scan(pf, incs)
        files[path] = pf
        todo.extend((inc.target, False) for inc in pf.includes)
    return files


def _reach(files: dict[str, ProjectFile], start: str) -> list[ProjectFile]:
    """``start`` and every file it reaches, in discovery order."""
    seen, order, todo = {start}, [], deque([start])
    while todo:
        pf = files[todo.popleft()]
        order.append(pf)
        for inc in pf.includes:
            if inc.target not in seen:
                seen.add(inc.target)
                todo.append(inc.target)
    return order


def _context(files: dict[str, ProjectFile], start: str) -> Names:
    names = Names()
    for pf in _reach(files, start)[1:]:
        names.update(pf.names)
    return names


def _missing_includes(files: dict[str, ProjectFile]) -> list[Remark]:
    return [Remark("PCX411", pf.display, inc.line, inc.column,
                   f'#include "{inc.spelled}" is found neither next to {os.path.basename(pf.path)} nor in an -I '
                   "directory: the CUDA code it may hold is not translated (pass its directory with -I)")
            for pf in files.values() for inc in pf.missing]


def _helper_sources(files: dict[str, ProjectFile], start: str) -> list[bytes]:
    """The texts of the files ``start`` reaches that define cooperative helpers."""
    return [pf.data for pf in _reach(files, start)[1:] if pf.cooperative]


def _unit(pf: ProjectFile, base: str) -> SourceUnit:
    return SourceUnit(path=pf.display, text=pf.data.decode("utf-8", "surrogateescape"), language=Language.CUDA,
                      directory=base)


def translate_single(source: str, include_dirs: list[str] = (), base: str | None = None) -> CudaTranslation:
    """One source into one text with the prologue inline (``pcx translate app.cu -o app.c``)."""
    base = base or os.getcwd()
    files = collect([source], list(include_dirs), base)
    main = files[os.path.abspath(source)]
    result = translate_source(_unit(main, base), context=_context(files, main.path), headers=_helper_sources(files, main.path))
    result.remarks += _missing_includes(files)
    includer = {inc.target: (f, inc) for f in files.values() for inc in f.includes}
    for pf in _reach(files, main.path)[1:]:
        if pf.plain_unparsable:
            continue  # nothing to translate: the compiler reads it as it is
        tr = translate_source(_unit(pf, base), context=_context(files, pf.path), runtime_include=RUNTIME_HEADER,
                              included=True, headers=_helper_sources(files, pf.path))
        if tr.body == pf.data.decode("utf-8", "surrogateescape"):
            continue
        by, inc = includer[pf.path]
        result.remarks.append(Remark(
            "PCX408", by.display, inc.line, inc.column,
            f"header {pf.display} holds CUDA code that must be translated too; translate the program into a "
            f"directory: pcx translate {main.display} -o OUTDIR/"))
        result.ok = False
    return result


def _out_path(pf: ProjectFile, root: str, outdir: str, cxx: bool) -> str:
    rel = os.path.relpath(pf.path, root)
    if pf.source:
        rel = str(Path(rel).with_suffix(".cpp" if cxx else ".c"))
    return os.path.join(outdir, rel)


def translate_project(sources: list[str], outdir: str, include_dirs: list[str] = (),
                      base: str | None = None) -> ProjectTranslation:
    """Translate the program made of ``sources`` into ``outdir`` (nothing is written:
    ``files`` maps each output path to its text)."""
    base = base or os.getcwd()
    files = collect(sources, list(include_dirs), base)
    root = os.path.commonpath([os.path.dirname(p) for p in files])
    cxx = {p: any(f.cxx for f in _reach(files, p)) for p in files}
    out = {p: _out_path(pf, root, outdir, cxx[p]) for p, pf in files.items()}
    runtime = os.path.join(outdir, RUNTIME_HEADER)
    result = ProjectTranslation(remarks=_missing_includes(files))
    guard = "PCX_CUDA_RUNTIME_H"
    body = prologue().split("\n", 1)[1]  # without its #line: it is a real file now
    result.files[runtime] = f"#ifndef {guard}\n#define {guard}\n{body}#endif /* {guard} */\n"
    included = {inc.target for f in files.values() for inc in f.includes}
    for path, pf in files.items():
        here = os.path.dirname(out[path])
        include_map = {}
        for inc in pf.includes:
            spelled = os.path.relpath(out[inc.target], here).replace(os.sep, "/")
            if spelled != inc.spelled:
                include_map[inc.spelled] = spelled
        if pf.plain_unparsable and not include_map:
            result.files[out[path]] = pf.data.decode("utf-8", "surrogateescape")  # as the compiler reads it
            continue
        tr = translate_source(_unit(pf, base), context=_context(files, path),
                              runtime_include=os.path.relpath(runtime, here).replace(os.sep, "/"),
                              include_map=include_map, included=path in included,
                              headers=_helper_sources(files, path))
        result.remarks += tr.remarks
        result.kernels += tr.kernels
        result.ok &= tr.ok
        original = pf.data.decode("utf-8", "surrogateescape")
        result.files[out[path]] = original if (not pf.source and tr.body == original) else tr.text
        if pf.source:
            result.sources.append(out[path])
    result.ok = result.ok and not any(level_of(r.id) == "error" for r in result.remarks)
    return result
