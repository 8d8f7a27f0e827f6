"""``pcx translate app.cu -o app.c``: CUDA to OpenMP target offload, source to source.

The output compiles with ``clang-19 -fopenmp -fopenmp-targets=...`` (as C when the
input used no C++, else as C++).  Remarks print compiler-style on stderr, e.g.
``app.cu:12:5: error: warp shuffle __shfl_down_sync has no OpenMP equivalent [PCX401]``.
Exit status: 0 translated, 1 something was refused (nothing is written), 2 usage error.
"""

from __future__ import annotations

import os
import sys

import click

from pcx_driver.model import Language, SourceUnit

EXIT_REFUSED = 1


@click.command("translate")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-",
              show_default=True, help="Where the translated source goes ('-' is stdout).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, not the PCX400 remarks.")
def translate(source: str, output: str, quiet: bool) -> None:
    """Translate a CUDA source (.cu) into C/C++ with OpenMP target offload.

    \b
    Examples:
        pcx translate app.cu -o app.c
        clang-19 -O2 -fopenmp -fopenmp-targets=x86_64-pc-linux-gnu app.c -o app -lm
    """
    from pcx_driver.cuda import translate_source
    from pcx_driver.diagnostics import level_of

    with open(source, "rb") as f:
        data = f.read()
    unit = SourceUnit(path=source, text=data.decode("utf-8", "surrogateescape"),
                      language=Language.CUDA, directory=os.getcwd())
    try:
        result = translate_source(unit)
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a user
        click.echo(f"{source}:1:1: error: internal error in the CUDA translator: {exc!r} [PCX001]", err=True)
        sys.exit(EXIT_REFUSED)
    for r in result.remarks:
        if not quiet or level_of(r.id) == "error":
            click.echo(r.format(), err=True)
    if not result.ok:
        sys.exit(EXIT_REFUSED)
    if output == "-":
        click.echo(result.text, nl=False)
    else:
        with open(output, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(result.text)
