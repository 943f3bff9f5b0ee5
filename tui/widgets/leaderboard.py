"""Runners ranked by steady-state throughput, always on screen, updated live.

One list of columns serves the screen (rows of fixed-width text, repainted row by
row) and the rich table of headless mode and the end of a run.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from textual.content import Content

from tui.formatting import fmt_bytes, fmt_duration_ms, fmt_loss, fmt_rate, short_name
from tui.palette import hex_colour
from tui.state import RunnerState
from tui.summary import Standing, relative, standings
from tui.widgets.rows_view import RowsView

# (title, width, justify) of the columns after the runner's; a None title: the throughput unit.
COLUMNS = ((None, 9, "right"), ("relative", 12, "right"), ("step", 8, "right"), ("compile", 7, "right"),
           ("peak mem", 8, "right"), ("loss", 7, "right"))
FIGURE_LAYOUT = [(width, justify) for _, width, justify in COLUMNS]
RUNNER_WIDTH = (12, 26)  # the runner's name gives way on a narrow terminal, down to this
FIGURES_WIDTH = 1 + sum(1 + width for _, width, _ in COLUMNS) + 1  # with the gaps


def figures(s: Standing) -> list[str]:
    """The cells after the runner's, in COLUMNS order. Peak memory: the framework's GPU peak, else peak RSS."""
    peak = s.peak_device_bytes or s.peak_rss_bytes
    return [
        fmt_rate(s.throughput),
        relative(s).replace(" (fastest)", "") if s.slower_by is not None else "–",
        fmt_duration_ms(s.step_time_s),
        f"{s.warmup_s:.1f} s" if s.warmup_s else "–",
        fmt_bytes(peak) if peak else "–",
        fmt_loss(s.final_loss),
    ]


def _unit(rows: list[Standing]) -> str:
    return next((s.unit for s in rows if s.throughput), "samples/s")


def _shown_name(s: Standing, narrow: bool) -> tuple[str, str]:
    """The runner's name (short when narrow: "k/tf" rather than a cut "keras/tenso…") and its phase note."""
    note = f" ({s.phase})" if s.phase not in ("training", "done") else ""
    return (short_name(s.runner) if narrow else s.runner), note


class Leaderboard(RowsView):
    _last: tuple | None = None

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)  # the runner's column takes the new width

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        self._last = (states, colours)
        rows = standings(states)
        runner_width = max(RUNNER_WIDTH[0], min(RUNNER_WIDTH[1], self.size.width - FIGURES_WIDTH))
        titles = ["#", "runner", *((title or _unit(rows)) for title, _, _ in COLUMNS)]
        layout = [(1, "right"), (runner_width, "left"), *FIGURE_LAYOUT]
        header = Content.styled(_line(titles, layout), "bold")
        lines = [header, Content.styled("─" * sum(1 + width for width, _ in layout), "dim")]
        for s in rows:
            name, note = _shown_name(s, runner_width < 18)
            label = _fit(f"■ {name}{note}", runner_width, "left")
            rank = _fit(str(s.rank or "–"), 1, "right")
            lines.append(Content.assemble(
                rank, " ", (label[:1], hex_colour(colours[s.runner]) if s.runner in colours else ""),
                label[1 : 2 + len(name)], (label[2 + len(name) :], "dim"),
                " ", _line(figures(s), FIGURE_LAYOUT),
            ))
        self.set_rows(lines)


def _fit(text: str, width: int, justify: str) -> str:
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.rjust(width) if justify == "right" else text.ljust(width)


def _line(cells: list[str], layout: list[tuple[int, str]]) -> str:
    """Cells fitted to their (width, justify), one space apart."""
    return " ".join(_fit(cell, width, justify) for cell, (width, justify) in zip(cells, layout))


def leaderboard_table(rows: list[Standing], colours: dict[str, tuple[int, int, int]] | None = None,
                      title: str | None = None) -> Table:
    """The same columns as a rich table: headless mode and the end of a run."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), title=title, title_justify="left",
                  pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("#", justify="right", min_width=1, no_wrap=True)
    table.add_column("runner", min_width=RUNNER_WIDTH[0], max_width=RUNNER_WIDTH[1], no_wrap=True,
                     overflow="ellipsis")
    for column, width, justify in COLUMNS:
        table.add_column(column or _unit(rows), justify=justify, min_width=width, no_wrap=True,
                         overflow="ellipsis")
    for s in rows:
        name, note = _shown_name(s, narrow=False)
        colour = hex_colour(colours[s.runner]) if colours and s.runner in colours else None
        label = (f"[{colour}]■[/] {name}" if colour else name) + (f" [dim]{note.strip()}[/dim]" if note else "")
        table.add_row(str(s.rank or "–"), label, *figures(s))
    return table
