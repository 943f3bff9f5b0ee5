"""Runners ranked by steady-state throughput, always on screen, updated live."""

from __future__ import annotations

from rich import box
from rich.table import Table
from textual.widgets import Static

from tui.formatting import fmt_bytes, fmt_duration_ms, fmt_loss, fmt_rate, short_name
from tui.palette import hex_colour
from tui.state import RunnerState
from tui.summary import Standing, relative, standings

# Columns other than the runner's name, with the gaps between them.
FIGURES_WIDTH = 1 + 9 + 12 + 8 + 7 + 8 + 7 + 12


class Leaderboard(Static):
    _rows = -1

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        # The figures keep their width; the runner's name gives way on a narrow terminal.
        runner_width = max(12, min(26, self.size.width - FIGURES_WIDTH))
        # Its height only changes with the number of runners: no screen re-layout on every redraw.
        self.update(leaderboard_table(standings(states), colours, runner_width=runner_width),
                    layout=len(states) != self._rows)
        self._rows = len(states)


def leaderboard_table(rows: list[Standing], colours: dict[str, tuple[int, int, int]] | None = None,
                      title: str | None = None, runner_width: int | None = None) -> Table:
    """The same table on screen, in headless mode and at the end of a run.

    Peak memory is the framework's device peak on a GPU, else the process tree's peak RSS.
    """
    unit = next((s.unit for s in rows if s.throughput), "samples/s")
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), title=title, title_justify="left",
                  pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("#", justify="right", min_width=1, no_wrap=True)
    table.add_column("runner", width=runner_width, min_width=12, max_width=26, no_wrap=True, overflow="ellipsis")
    table.add_column(unit, justify="right", min_width=9, no_wrap=True)
    table.add_column("relative", justify="right", min_width=12, no_wrap=True)
    table.add_column("step", justify="right", min_width=8, no_wrap=True)
    table.add_column("compile", justify="right", min_width=7, no_wrap=True)
    table.add_column("peak mem", justify="right", min_width=8, no_wrap=True, overflow="ellipsis")
    table.add_column("loss", justify="right", min_width=7, no_wrap=True)
    for s in rows:
        colour = hex_colour(colours[s.runner]) if colours and s.runner in colours else None
        # Too narrow for "keras/tensorflow": the charts' short names (k/tf) instead of a cut one.
        shown = short_name(s.runner) if runner_width is not None and runner_width < 18 else s.runner
        name = f"[{colour}]■[/] {shown}" if colour else shown
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
