"""A serving run's figures as rich tables: one a batch size, headless mode and the end of a run."""

from __future__ import annotations

from rich import box
from rich.table import Table

from runners.session.state.formatting import fmt_latency, fmt_size
from runners.session.verdict.serving import PARITY_MARKS, ServingRow, relative_cell


def serving_table(rows: list[ServingRow], batch_size: int) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), title=f"batch {batch_size}", title_justify="left",
                  pad_edge=False, show_edge=False, collapse_padding=True)
    for column in ("#", "path", "p50", "p90", "p99", "max", "samples/s", "× slower (95% CI)", "parity", "export",
                   "artifact", "peak RSS"):
        table.add_column(column, justify="left" if column == "path" else "right", no_wrap=True)
    for r in rows:
        if r.batch_size != batch_size:
            continue
        path = r.runner + (f" [dim]{r.precision}[/dim]" if r.precision != "fp32" else "")
        if r.phase == "failed":
            path += " [red]FAILED[/red]"
        table.add_row(str(r.rank or "–"), path, fmt_latency(r.p50_s), fmt_latency(r.p90_s), fmt_latency(r.p99_s),
                      fmt_latency(r.max_s), f"{r.throughput:,.0f}" if r.throughput else "–", relative_cell(r),
                      PARITY_MARKS[r.parity],
                      f"{r.export_s:.1f} s" if r.export_s else "–", fmt_size(r.artifact_bytes),
                      fmt_size(r.peak_rss_bytes))
    return table


def failures(rows: list[ServingRow], batch_size: int) -> list[str]:
    """Each failed path's error, one line each, for below the tables."""
    return [f"{r.runner} failed: {(r.error or '').splitlines()[0][:200]}" for r in rows
            if r.batch_size == batch_size and r.phase == "failed"]
