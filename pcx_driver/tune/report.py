"""What pcx tune and pcx report show: the per-kernel table, JSON, and a plot.

Rows are plain dicts (``KernelRow`` as JSON, with ``speedup``) so the table can be drawn
from a fresh tune result or from the measurements saved in the plan cache alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

STATUS_STYLE = {
    "offloaded": "green",
    "demoted": "red",
    "kept serial": "yellow",
    "cold": "dim",
    "not run": "dim",
}


def _seconds(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v * 1e3:.1f} ms" if v < 1 else f"{v:.3f} s"


def _bytes(v: Any) -> str:
    if v is None:
        return "-"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if v >= size:
            return f"{v / size:.1f} {unit}"
    return f"{v} B"


def _short(text: str, limit: int = 90) -> str:
    """Reasons can quote whole output lines; the table shows the start (JSON has it all)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kernel_table(rows: Iterable[dict[str, Any]], title: str = "pcx tune") -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("kernel", "left"), ("status", "left"), ("reason", "left"), ("baseline", "right"),
        ("offloaded", "right"), ("speedup", "right"), ("bytes before", "right"),
        ("bytes after", "right"), ("launches", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for r in rows:
        status = r.get("status", "")
        speed = r.get("speedup")
        table.add_row(
            f"{r.get('path')}:{r.get('line')} {r.get('function', '')}",
            f"[{STATUS_STYLE.get(status, '')}]{status}[/]" if STATUS_STYLE.get(status) else status,
            escape(_short(r.get("reason", ""))),  # reasons quote sections like a[0:n]
            _seconds(r.get("baseline_seconds")),
            _seconds(r.get("offloaded_seconds")),
            f"{speed:.2f}x" if speed else "-",
            _bytes(r.get("bytes_before")),
            _bytes(r.get("bytes_after")),
            "-" if r.get("launches") is None else str(r.get("launches")),
        )
    return table


def summary_lines(result: dict[str, Any]) -> list[str]:
    base, off = result.get("baseline") or {}, result.get("offloaded") or {}
    lines = []
    if base.get("median"):
        line = f"whole program: serial {_seconds(base['median'])} (noise {100 * base.get('noise', 0):.1f}%)"
        if off.get("median"):
            line += (f", offloaded {_seconds(off['median'])} (noise {100 * off.get('noise', 0):.1f}%), "
                     f"speedup {base['median'] / off['median']:.2f}x")
        lines.append(line)
    for v in result.get("variants", []):
        verdict = "kept" if v.get("kept") else "dropped"
        detail = (f"{_seconds(v.get('best_median'))} -> {_seconds(v.get('median'))}, needs "
                  f"{100 * v.get('threshold', 0):.0f}% to count" if v.get("passed")
                  else _short(v.get("reason", "failed the gate")))
        lines.append(f"variant {v['variant']}: {verdict} ({detail})")
    ignored = result.get("ignored") or []
    if ignored:
        lines.append(f"not compared by the gate ({len(ignored)}):")
        lines.extend(f"  {text}" for text in ignored[:20])
        if len(ignored) > 20:
            lines.append(f"  ... and {len(ignored) - 20} more (result.json in the run directory lists them all)")
    if result.get("saved"):
        lines.append(f"saved {len(result['saved'])} validated plan(s) to {Path(result['saved'][0]).parent}")
    if result.get("run_dir"):
        lines.append(f"logs and outputs: {result['run_dir']}")
    return lines


def print_result(result: dict[str, Any], console: Console, title: str = "pcx tune") -> None:
    console.print(kernel_table(result.get("kernels", []), title))
    for line in summary_lines(result):
        console.print(line, highlight=False, markup=False)


def rows_from_cache(directory: Path) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """Kernel rows of every entry in a plan cache, warnings for unreadable entries, and the
    whole-program numbers of the most recent tune."""
    from pcx_driver import plancache

    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    latest: dict[str, Any] = {}
    for path, entry, problem in plancache.iter_entries(directory):
        if entry is None:
            warnings.append(f"{path}: ignored ({problem}) [PCX307]")
            continue
        m = entry.get("measurements") or {}
        if isinstance(m, dict) and str(m.get("run_id", "")) >= str(latest.get("run_id", "")):
            latest = {k: m.get(k) for k in ("run_id", "baseline", "offloaded", "runs", "build")}
        kernels = m.get("kernels")
        if isinstance(kernels, list) and kernels:
            rows.extend(k for k in kernels if isinstance(k, dict))
            continue
        # an entry without measurements: list its plan's kernels
        source = (entry.get("source") or {}).get("path", "?")
        for k in (entry.get("decisions") or {}).get("kernels", []):
            function, _, line = str(k.get("nest_id", "")).rpartition(":")
            rows.append({"path": source, "line": int(line) if line.isdigit() else None, "function": function,
                         "status": "offloaded" if k.get("offload") else "demoted", "reason": k.get("reason", "")})
    rows.sort(key=lambda r: -(r.get("baseline_seconds") or 0.0))
    return rows, warnings, latest


def plot(rows: list[dict[str, Any]], out: Path) -> None:
    """Per-kernel time (serial vs offloaded) and bytes moved (before vs after) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.get("baseline_seconds") or r.get("offloaded_seconds")]
    labels = [f"{Path(str(r.get('path'))).name}:{r.get('line')}" for r in shown]
    x = range(len(shown))
    fig, (ax_t, ax_b) = plt.subplots(1, 2, figsize=(max(8, 1.2 * len(shown) + 4), 4.5))
    w = 0.4
    ax_t.bar([i - w / 2 for i in x], [r.get("baseline_seconds") or 0 for r in shown], w, label="serial")
    ax_t.bar([i + w / 2 for i in x], [r.get("offloaded_seconds") or 0 for r in shown], w, label="offloaded")
    ax_t.set_ylabel("seconds")
    ax_t.set_title("time per kernel")
    ax_b.bar([i - w / 2 for i in x], [r.get("bytes_before") or 0 for r in shown], w, label="first plan")
    ax_b.bar([i + w / 2 for i in x], [r.get("bytes_after") or 0 for r in shown], w, label="final plan")
    ax_b.set_ylabel("bytes moved")
    ax_b.set_title("data movement per kernel")
    for ax in (ax_t, ax_b):
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=30, ha="right")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
