"""``pcx translate app.cu -o app.c``: CUDA to OpenMP target offload, source to source.

The output compiles with ``clang-19 -fopenmp -fopenmp-targets=...`` (as C when the
input used no C++, else as C++).  Remarks print compiler-style on stderr, e.g.
``app.cu:12:5: error: warp shuffle __shfl_down_sync has no OpenMP equivalent [PCX401]``.
``pcx translate main.cu other.cu -o outdir/`` translates a program: the sources, the
project headers they include, and one runtime header (see ``pcx_driver.cuda.project``).
Exit status: 0 translated, 1 something was refused (nothing is written), 2 usage error.
"""

from __future__ import annotations

import os
import sys

import click

EXIT_REFUSED = 1


@click.command("translate")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(writable=True), default="-", show_default=True,
              help="Where the translated source goes ('-' is stdout); a directory (OUTDIR/) for a program.")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Where #include files are searched after the including file's directory (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, not the PCX400 remarks.")
def translate(sources: tuple[str, ...], output: str, include_dirs: tuple[str, ...], quiet: bool) -> None:
    """Translate a CUDA source (.cu) into C/C++ with OpenMP target offload, or a whole
    program (several sources, or -o OUTDIR/) into a directory.

    \b
    Examples:
        pcx translate app.cu -o app.c
        clang-19 -O2 -fopenmp -fopenmp-targets=x86_64-pc-linux-gnu app.c -o app -lm
        pcx translate main.cu solver.cu -o out/      # also the headers they include
        clang-19 -O2 -fopenmp -fopenmp-targets=x86_64-pc-linux-gnu out/main.c out/solver.c -o app -lm

    A program's translation follows its #include "..." files, translates the project
    headers that hold CUDA code, and writes the runtime prologue once, as
    OUTDIR/pcx_cuda_runtime.h.
    """
    from pcx_driver.cuda.project import translate_project, translate_single
    from pcx_driver.diagnostics import level_of

    project = len(sources) > 1 or output.endswith(("/", os.sep)) or os.path.isdir(output)
    if project and output == "-":
        raise click.UsageError("several sources need -o OUTDIR/")
    try:
        if project:
            result = translate_project(list(sources), output, list(include_dirs))
        else:
            result = translate_single(sources[0], list(include_dirs))
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a user
        click.echo(f"{sources[0]}:1:1: error: internal error in the CUDA translator: {exc!r} [PCX001]", err=True)
        sys.exit(EXIT_REFUSED)
    for r in sorted(result.remarks, key=lambda r: (r.file, r.line, r.column)) if project else result.remarks:
        if not quiet or level_of(r.id) == "error":
            click.echo(r.format(), err=True)
    if not result.ok:
        sys.exit(EXIT_REFUSED)
    if project:
        for path, content in result.files.items():
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(content)
        return
    if output == "-":
        click.echo(result.text, nl=False)
    else:
        with open(output, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(result.text)
