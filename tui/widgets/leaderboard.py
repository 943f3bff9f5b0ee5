"""Runners ranked by steady-state throughput, always on screen, updated live.

Rows of fixed-width text, repainted row by row; the columns are the console
table's too (``tui.standings_columns``).
"""

from __future__ import annotations

from textual.content import Content

from runners.session.state import RunnerState
from runners.session.summary import standings
from tui.palette import hex_colour
from tui.standings_columns import (
    COLUMNS,
    FIGURE_LAYOUT,
    FIGURES_WIDTH,
    RUNNER_WIDTH,
    figures,
    shown_name,
    unit_of,
)
from tui.widgets.rows_view import RowsView


class Leaderboard(RowsView):
    _last: tuple | None = None

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)  # the runner's column takes the new width

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        self._last = (states, colours)
        rows = standings(states)
        runner_width = max(RUNNER_WIDTH[0], min(RUNNER_WIDTH[1], self.size.width - FIGURES_WIDTH))
        titles = ["#", "runner", *((title or unit_of(rows)) for title, _, _ in COLUMNS)]
        layout = [(1, "right"), (runner_width, "left"), *FIGURE_LAYOUT]
        header = Content.styled(_line(titles, layout), "bold")
        lines = [header, Content.styled("─" * sum(1 + width for width, _ in layout), "dim")]
        for s in rows:
            name, note = shown_name(s, runner_width < 18)
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
