"""The standings as a rich table: headless mode and the end of a run, with the screen's columns."""

from __future__ import annotations

from rich import box
from rich.table import Table

from runners.session.verdict.summary import Standing
from tui.palette import hex_colour
from tui.standings_columns import COLUMNS, RUNNER_WIDTH, figures, shown_name, unit_of


def leaderboard_table(rows: list[Standing], colours: dict[str, tuple[int, int, int]] | None = None,
                      title: str | None = None) -> Table:
    """The same columns as a rich table: headless mode and the end of a run."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), title=title, title_justify="left",
                  pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("#", justify="right", min_width=1, no_wrap=True)
    table.add_column("runner", min_width=RUNNER_WIDTH[0], no_wrap=True, overflow="ellipsis")
    for column, width, justify in COLUMNS:
        table.add_column(column or unit_of(rows), justify=justify, min_width=width, no_wrap=True,
                         overflow="ellipsis")
    for s in rows:
        name, note = shown_name(s, narrow=False)
        colour = hex_colour(colours[s.runner]) if colours and s.runner in colours else None
        label = (f"[{colour}]■[/] {name}" if colour else name) + (f" [dim]{note.strip()}[/dim]" if note else "")
        table.add_row(str(s.rank or "–"), label, *figures(s))
    return table
