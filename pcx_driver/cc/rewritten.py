"""The compile of the rewritten sources: each rewritten text in a private temp dir under
its own base name, ``-iquote`` the original directory and the family's offload flags,
the ``.d`` file fixed to name the original source; if the text does not compile, the
original is compiled instead with one PCX007 warning naming the compiler's first error."""

from __future__ import annotations

import os
import re
import sys

from pcx_driver import toolchain
from pcx_driver.cc.compilers import capture
from pcx_driver.cc.state import StrictFailure

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pcx_driver.cc.sources import SourceJob
    from pcx_driver.cc.state import Command
    from pcx_driver.invocation import Input, Invocation


def try_rewritten(
    cmd: Command,
    inv: Invocation,
    jobs: list[SourceJob],
    changed: list[SourceJob],
    compiler: toolchain.Compiler,
    target: str,
    arch: str | None,
    link_flags: list[str],
) -> int | None:
    """Compile with the rewritten sources.  Returns the status to exit with, or None
    to compile the original instead (the rewritten text failed, or building the
    command failed)."""
    try:
        real = compiler_for(cmd, inv, jobs, compiler, rewritten=True)
        args = _rewritten_args(cmd, inv, changed, real, target, arch, link_flags)
    except StrictFailure:
        raise
    except Exception as exc:  # noqa: BLE001
        cmd.internal_error(None, exc)
        cmd.warn_internal()
        for j in changed:
            j.text = None
        return None
    status, out, err = capture(cmd, real, args)
    if status == 0:
        sys.stdout.buffer.write(_originals_named(out, changed))
        sys.stdout.flush()
        sys.stderr.buffer.write(_kernel_files_named(err, changed))
        sys.stderr.flush()
        for j in changed:
            j.applied = not j.inert_only
            try:
                _fix_depfiles(cmd, inv, j)
            except Exception as exc:  # noqa: BLE001
                cmd.internal_error(j, exc)
                cmd.warn_internal()
        return 0
    if cmd.config.get("strict"):
        sys.stderr.buffer.write(err)
        sys.stderr.flush()
        cmd.say("error", "the rewritten source failed to compile (strict mode) [PCX007]")
        return status
    first = _first_error(err, {**{j.temp_path: j.input.path for j in changed if j.temp_path},
                               **{j.kernel_file: j.input.path for j in changed if j.kernel_file}})
    where = _error_file(first)
    culprit = [j for j in changed if os.path.realpath(j.input.path) == where]
    if culprit and len(changed) > 1:
        # one rewritten source of several failed: it alone is compiled as written, the
        # others keep their rewrites (a helper's RSBench build lost all three for one)
        j = culprit[0]
        j.remark("PCX007", "rewritten source failed to compile; the original source was compiled instead")
        j.text = None
        if not _original_fails_too(cmd, inv, [j], real, target, arch):
            cmd.say("warning", f"{j.input.path}: the rewritten source failed to compile ({first}); compiled the "
                               f"original source unchanged [PCX007]")
        return try_rewritten(cmd, inv, jobs, [c for c in changed if c is not j], compiler, target, arch, link_flags)
    untouched = {os.path.realpath(j.input.path) for j in jobs if j not in changed}
    link_error = where is None and bool(link_flags)
    for j in changed:
        if where not in untouched and not link_error:  # (an error of a source as written blames no rewrite)
            j.remark("PCX007", "rewritten source failed to compile; the original source was compiled instead")
        j.text = None
    names = ", ".join(j.input.path for j in changed)
    if where is None and link_flags:
        # no source line (the linker's, or its wrapper's): the user's link error as often
        # as the rewrite's; the original command decides, and only if it builds is the
        # rewrite to blame
        cmd.warn_if_original_builds = (f"{names}: the rewritten program failed to link ({first}); built the "
                                       f"original sources unchanged [PCX007]")
        return None
    if where in untouched:
        # the first error is in a source this command compiles as the user wrote it: the
        # original compile fails the same way and says so; no pcx warning to blame a rewrite
        return None
    if _original_fails_too(cmd, inv, changed, real, target, arch):
        # the sources as the user wrote them fail the same checks (Rodinia backprop's two
        # stacked ``#pragma omp target``): the original compile says why; no pcx warning
        return None
    cmd.say("warning", f"{names}: the rewritten source failed to compile ({first}); compiled the original "
                       f"source unchanged [PCX007]")
    return None


def _original_fails_too(cmd: Command, inv: Invocation, changed: list[SourceJob], compiler: toolchain.Compiler,
                        target: str, arch: str | None) -> bool:
    """Whether the original sources, given the flags the rewritten ones were compiled
    with, fail clang's or gcc's front end too (``-fsyntax-only``: no object is written).
    Asked only after a rewritten compile failed."""
    from pcx_driver import families as fam

    if compiler.family not in (fam.CLANG, fam.GCC):
        return False
    extra: list[str] = []
    if any(j.offload for j in changed):
        extra = fam.offload_flags(compiler.family, target, "compile", inv.expanded, arch,
                                  toolchain.llvm_libdir(compiler))
    elif any(j.openmp for j in changed):
        extra = [f for f in compiler.family.openmp if f not in inv.expanded]
    sources = {j.input.position for j in changed}
    args = [a for k, a in enumerate(inv.args) if k in sources or not _output_word(inv.args, k)]
    status, _, _ = capture(cmd, compiler, [*extra, *args, "-fsyntax-only"])
    return status != 0


def _output_word(args: list[str], k: int) -> bool:
    """Whether ``args[k]`` writes a file: ``-o F``, ``-MF F``, ``-MD``/``-MMD`` and
    their joined forms (a syntax check must leave the build's outputs alone)."""
    a = args[k]
    if a in ("-o", "-MF", "-MD", "-MMD", "-MT", "-MQ") or a.startswith(("-o", "-MF", "-MT", "-MQ")):
        return True
    return k > 0 and args[k - 1] in ("-o", "-MF", "-MT", "-MQ")


def _error_file(line: str) -> str | None:
    """The real path of the file a ``file:line:col: error: ...`` (or ``fatal error:``, a
    missing header) line names, if any."""
    marker = next((m for m in (": fatal error:", ": error:") if m in line), None)
    head = line.split(marker, 1)[0] if marker else ""
    parts = head.rsplit(":", 2)
    return os.path.realpath(parts[0]) if len(parts) == 3 and parts[1].isdigit() else None


def compiler_for(
    cmd: Command, inv: Invocation, jobs: list[SourceJob], base: toolchain.Compiler, rewritten: bool
) -> toolchain.Compiler:
    """The C driver links like the real driver would; C++ compiles use the C++ driver
    of the family; translated CUDA needs the C++ driver throughout (it links C++)."""
    from pcx_driver.invocation import Mode

    if cmd.cxx or "++" in os.path.basename(base.path):
        return base
    if rewritten and any(j.language == "c++" and j.input.language == "cuda" and j.text is not None for j in jobs):
        return toolchain.cxx_companion(base)
    if inv.mode is Mode.COMPILE and inv.sources and all(s.language == "c++" for s in inv.sources):
        return toolchain.cxx_companion(base)
    return base


def _rewritten_args(
    cmd: Command,
    inv: Invocation,
    changed: list[SourceJob],
    compiler: toolchain.Compiler,
    target: str,
    arch: str | None,
    link_flags: list[str],
) -> list[str]:
    """The original arguments with each rewritten source replaced by its temp copy."""
    import tempfile

    from pcx_driver import families as fam
    from pcx_driver.cc import kernel_files
    from pcx_driver.engine.rewrite import c_string

    from pcx_driver.report import atomic_write

    front: list[str] = []
    replace: dict[int, list[str]] = {}
    # The C++ driver (chosen for translated CUDA) would compile .c files as C++.
    keep_c = "++" in os.path.basename(compiler.path) and not cmd.cxx
    for j in changed:
        tmp = tempfile.mkdtemp(prefix="pcx-")
        cmd.temp_dirs.append(tmp)
        j.temp_path = os.path.join(tmp, os.path.basename(j.input.path))
        text = j.text or ""
        if j.offload and j.unit is not None:
            text, j.kernel_file = kernel_files.named_apart(text, j.unit.path, cmd.cwd, list(inv.args))
        if j.unit is not None and j.unit.text.startswith("\ufeff"):
            # a UTF-8 byte-order mark opens the user's file, and the compiler skips it there
            # only: after the '#line 1' the rewrite puts first it was a stray character, the
            # compile failed and the file fell back (a held-out check).  Nothing the rewrite
            # inserts holds one, so the first is the file's own.
            text = text.replace("\ufeff", "", 1)
        if j.unit is not None and (j.language or j.input.language) == "c++" and "-Wold-style-cast" in inv.expanded \
                and compiler.family in (fam.CLANG, fam.GCC):
            # the rewrite's own casts in clauses and tests ((long)n) are C casts, which a
            # -Werror build with -Wold-style-cast rejected: the file fell back (a held-out check)
            text = (f'#pragma GCC diagnostic ignored "-Wold-style-cast"\n'
                    f"#line 1 {c_string(j.unit.path)}\n{text}")
        atomic_write(j.temp_path, text)
        orig_dir = os.path.dirname(j.input.path) or "."
        # The original directory stands where the source's own directory stood in the
        # include search: first of the quoted-include directories.
        front.extend(("-iquote", orig_dir))
        if compiler.family in (fam.CLANG, fam.GCC):  # debug info names the user's dir
            front.append(f"-fdebug-prefix-map={tmp}={os.path.abspath(os.path.join(cmd.cwd, orig_dir))}")
        language = j.language or j.input.language
        words = [j.temp_path]
        if language != j.input.language or (keep_c and language == "c" and j.input.x_language is None):
            words = _with_language(language, j.temp_path, j.input, inv)
        replace[j.input.position] = words  # type: ignore[index]
    if keep_c:
        for src in inv.sources:
            if src.language == "c" and src.position is not None and src.position not in replace \
                    and src.x_language is None:
                replace[src.position] = _with_language("c", src.path, src, inv)
    args = substitute(inv.args, {**cmd.archive_words, **replace})
    offload = any(j.offload for j in changed)
    extra: list[str] = []
    if offload:
        extra = fam.offload_flags(compiler.family, target, "compile", inv.expanded, arch,
                                  toolchain.llvm_libdir(compiler))
    elif any(j.openmp for j in changed):
        extra = [f for f in compiler.family.openmp if f not in inv.expanded]
    link = [f for f in link_flags if f not in extra]
    return [*_dedupe_pairs(front), *extra, *args, *link]


def _originals_named(out: bytes, changed: list[SourceJob]) -> bytes:
    """The compiler's standard output with each temp copy's path replaced by its source's,
    as in a ``.d`` file: dependencies written there (``-MF -``) must name the user's
    source, never a file that is gone (make then has no rule for it)."""
    text = out.decode("utf-8", "surrogateescape")
    for j in changed:
        text = _original_named(text, j)
    return _one_rule_per_target(text).encode("utf-8", "surrogateescape")


def _one_rule_per_target(text: str) -> str:
    """Dependency rules with one rule per target: an offload compile writes its rules once
    for the host and once for the device (``-MF -`` printed them twice), the device's
    naming its own wrapper headers too.  ``text`` unchanged unless it is rules alone and a
    target repeats."""
    logical = [ln for ln in text.replace("\\\n", " ").split("\n") if ln.strip()]
    rules: dict[str, list[str]] = {}
    for ln in logical:
        target, colon, deps = ln.partition(": ")
        if not colon and ln.endswith(":"):
            target, colon, deps = ln[:-1], ":", ""
        if not colon or not target.strip() or target[:1].isspace():
            return text
        words = rules.setdefault(target.strip(), [])
        words.extend(w for w in re.findall(r"(?:\\.|[^\s\\])+", deps) if w not in words)
    if len(rules) == len(logical):
        return text  # (no target repeats: as the compiler wrote it)
    return "".join(f"{target}:" + "".join(f" \\\n  {w}" if k else f" {w}" for k, w in enumerate(words)) + "\n"
                   for target, words in rules.items())


def _kernel_files_named(err: bytes, changed: list[SourceJob]) -> bytes:
    """The compiler's diagnostics with each kernel file (``kernel_files.named_apart``, the
    file a kernel directive's ``#line`` names) named as the user's source it stands for."""
    text = err.decode("utf-8", "surrogateescape")
    for j in changed:
        if j.kernel_file:
            text = text.replace(j.kernel_file, j.input.path)
    return text.encode("utf-8", "surrogateescape")


def _original_named(text: str, job: SourceJob) -> str:
    """``text`` (dependency rules) with ``job``'s temp copy named as its source."""
    if not job.temp_path:
        return text
    # The compiler escapes the temp path as make reads it (``my\ loop.c``): look for it in
    # that form first, then as written.
    for form in dict.fromkeys((_make_escape(job.temp_path), job.temp_path)):
        text = text.replace(form, _make_escape(job.input.path))
    return text


def _fix_depfiles(cmd: Command, inv: Invocation, job: SourceJob) -> None:
    """Make the .d file name the original source, never the temp copy (atomic)."""
    from pcx_driver.invocation import depfile_candidates
    from pcx_driver.report import atomic_write

    if not job.temp_path:
        return
    for cand in depfile_candidates(inv, job.input):
        full = os.path.join(cmd.cwd, cand)
        try:
            with open(full, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError:
            continue
        fixed = _original_named(text, job)
        if fixed != text:
            atomic_write(full, fixed)


def _with_language(language: str, path: str, original: Input, inv: Invocation) -> list[str]:
    """``-x LANGUAGE path``, then the ``-x`` that was in force again if inputs follow
    (a trailing ``-x`` draws an "unused argument" warning)."""
    later = any(i.position is not None and i.position > (original.position or 0) for i in inv.inputs)
    return ["-x", language, path, *(["-x", original.x_language or "none"] if later else [])]


def substitute(args: list[str], words: dict[int, list[str]]) -> list[str]:
    """``args`` with the argument at each position in ``words`` replaced by those words."""
    out: list[str] = []
    for k, a in enumerate(args):
        out.extend(words.get(k, [a]))
    return out


def _first_error(stderr: bytes, names: dict[str, str]) -> str:
    """The compiler's first error line, naming the user's files rather than temp copies."""
    text = stderr.decode("utf-8", "replace")
    lines = text.splitlines()
    line = next((ln for ln in lines if "error:" in ln), next((ln for ln in lines if ln.strip()), ""))
    for temp, user in names.items():
        line = line.replace(temp, user)
    line = " ".join(line.split())
    return (line[:300] + "...") if len(line) > 300 else (line or "no message")


def _make_escape(path: str) -> str:
    """A path as make reads it in a dependency file."""
    return path.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")


def _dedupe_pairs(words: list[str]) -> list[str]:
    """Drop repeated ``-iquote DIR`` pairs and repeated single flags, keeping order."""
    out: list[str] = []
    seen: set[tuple[str, ...]] = set()
    i = 0
    while i < len(words):
        item = tuple(words[i : i + 2]) if words[i] == "-iquote" else (words[i],)
        if item not in seen:
            seen.add(item)
            out.extend(item)
        i += len(item)
    return out
