"""``compare``'s table: a runner a row, its throughput in both runs and the change with its interval."""

from __future__ import annotations

from rich.table import Table

from runners.session.state.formatting import fmt_rate


def changes_table(found: list, base_name: str, other_name: str) -> Table:
    table = Table(title_justify="left")
    table.add_column("runner")
    table.add_column(f"{base_name}", justify="right")
    table.add_column(f"{other_name}", justify="right")
    table.add_column("change (95% CI)")
    for change in found:
        unit = f" {change.unit}"
        table.add_row(change.runner, fmt_rate(change.base) + (unit if change.base else ""),
                      fmt_rate(change.other) + (unit if change.other else ""), change.words())
    return table
