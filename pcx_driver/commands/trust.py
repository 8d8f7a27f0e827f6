"""``pcx trust [DIR]``: let the pcx.toml in DIR run programs and write files.

A pcx.toml comes with whatever directory a build runs in (a cloned repository, a shared
parent such as /tmp), so its settings that run programs, load code, send data or write
outside the build tree (``cc``, ``cxx``, ``plugin``, ``report``, ``emit``, ``record``,
``plan-cache``, plugin settings such as ``llm-base-url``) are ignored, with one warning,
until the user trusts its directory here, as direnv and mise do.  The list lives in
``$XDG_CONFIG_HOME/pcx/trusted`` (default ``~/.config/pcx/trusted``), one directory a line;
trust covers the pcx.toml of exactly that directory, not the ones below it.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from pcx_driver.config import set_trust, trust_store, trusted_directories


@click.command("trust")
@click.argument("directory", required=False, type=click.Path(file_okay=True, dir_okay=True, path_type=Path))
@click.option("--revoke", is_flag=True, help="Stop trusting DIR.")
@click.option("--list", "show", is_flag=True, help="List the trusted directories.")
def trust(directory: Path | None, revoke: bool, show: bool) -> None:
    """Trust the pcx.toml in DIR (default: the current directory).

    \b
    Until then its settings that run programs or write files (cc, cxx, plugin, report,
    emit, record, plan-cache, llm-base-url, ...) are ignored with a warning; its other
    settings apply.  The command line and PCX_* environment variables are always honoured.
    \b
    Examples:
        pcx trust                 trust ./pcx.toml
        pcx trust ~/src/app       trust ~/src/app/pcx.toml
        pcx trust --revoke .      forget it again
        pcx trust --list
    """
    if show:
        for d in trusted_directories():
            click.echo(d)
        return
    target = Path(directory) if directory is not None else Path(".")
    if target.name == "pcx.toml" and target.is_file():
        target = target.parent
    if not target.is_dir():
        raise click.UsageError(f"{target}: not a directory")
    real = os.path.realpath(target)
    if revoke:
        changed = set_trust(real, False)
        click.echo(f"pcx: {real} is no longer trusted" if changed else f"pcx: {real} was not trusted")
        return
    if not (Path(real) / "pcx.toml").is_file():
        click.echo(f"pcx: note: {real} has no pcx.toml yet", err=True)
    set_trust(real, True)
    click.echo(f"pcx: trusted {real}: its pcx.toml may now run programs and write files (recorded in "
               f"{trust_store()})")
