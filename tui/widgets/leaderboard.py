"""Runners ranked by steady-state throughput, always on screen, updated live."""

from __future__ import annotations

from rich import box
from rich.table import Table
from textual.widgets import Static

from tui.formatting import fmt_bytes, fmt_duration_ms, fmt_loss, fmt_rate
from tui.palette import hex_colour
from tui.state import RunnerState
from tui.summary import Standing, relative, standings


class Leaderboard(Static):
    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        self.update(leaderboard_table(standings(states), colours))


def leaderboard_table(rows: list[Standing], colours: dict[str, tuple[int, int, int]] | None = None,
                      title: str | None = None) -> Table:
    """The same table on screen, in headless mode and at the end of a run.

    Peak memory is the framework's device peak on a GPU, else the process tree's peak RSS.
    """
    unit = next((s.unit for s in rows if s.throughput), "samples/s")
    table = Table(box=box.SIMPLE_HEAD, expand=True, padding=(0, 1), title=title, title_justify="left",
                  pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("#", justify="right", width=1, no_wrap=True)
    table.add_column("runner", ratio=1, min_width=12, no_wrap=True, overflow="ellipsis")
    table.add_column(unit, justify="right", width=9, no_wrap=True)
    table.add_column("relative", justify="right", width=12, no_wrap=True)
    table.add_column("step", justify="right", width=8, no_wrap=True)
    table.add_column("compile", justify="right", width=7, no_wrap=True)
    table.add_column("peak mem", justify="right", width=8, no_wrap=True, overflow="ellipsis")
    table.add_column("loss", justify="right", width=7, no_wrap=True)
    for s in rows:
        colour = hex_colour(colours[s.runner]) if colours and s.runner in colours else None
        name = f"[{colour}]■[/] {s.runner}" if colour else s.runner
        if s.phase not in ("training", "done"):
            name += f" [dim]({s.phase})[/dim]"
        peak = s.peak_device_bytes or s.peak_rss_bytes
        table.add_row(
            str(s.rank or "–"),
            name,
            fmt_rate(s.throughput),
            relative(s).replace(" (fastest)", "") if s.slower_by is not None else "–",
            fmt_duration_ms(s.step_time_s),
            f"{s.warmup_s:.1f} s" if s.warmup_s else "–",
            fmt_bytes(peak) if peak else "–",
            fmt_loss(s.final_loss),
        )
    return table
