"""``pcx explain PCX101``: what a remark ID means; ``pcx explain`` (or ``--list``): the whole table.

The text comes from the one diagnostics table (``pcx_driver.diagnostics.REMARKS``), so
what a user reads here is what the compiler's remarks carry.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from pcx_driver.diagnostics import REMARKS, explain as explain_id

#: Exit status for an ID that is not in the table (click uses 2 for usage errors too).
EXIT_UNKNOWN = 2


def remarks_table() -> Table:
    """Every remark as a rich table: ID, level, summary, in ID order."""
    table = Table(title="pcx remarks", show_lines=False)
    table.add_column("ID", style="bold", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("meaning")
    styles = {"error": "red", "warning": "yellow", "remark": "green"}
    for rid in sorted(REMARKS):
        spec = REMARKS[rid]
        table.add_row(spec.id, f"[{styles.get(spec.level, '')}]{spec.level}[/]", spec.summary)
    return table


@click.command("explain")
@click.argument("remark_ids", metavar="[PCXnnn]...", nargs=-1)
@click.option("--list", "list_all", is_flag=True, help="Print every remark ID with its level and meaning.")
def explain(remark_ids: tuple[str, ...], list_all: bool) -> None:
    """Explain a pcx remark ID such as PCX101; without one, list them all.

    \b
    Examples:
        pcx explain PCX101
        pcx explain            (the same as --list)
    """
    if list_all or not remark_ids:
        Console(soft_wrap=False).print(remarks_table())
        if not remark_ids:
            click.echo("pcx explain PCXnnn shows what one of them means.")
        return
    unknown = []
    for rid in remark_ids:
        try:
            click.echo(explain_id(rid.strip()))
        except KeyError:
            unknown.append(rid)
    if unknown:
        click.echo(
            f"pcx explain: unknown remark ID {', '.join(unknown)} (`pcx explain --list` shows them all)",
            err=True,
        )
        raise SystemExit(EXIT_UNKNOWN)
