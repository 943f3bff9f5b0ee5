"""Runners ranked by steady-state throughput, always on screen, updated live.

Rows of fixed-width text, repainted row by row; the columns are the console
table's too (``tui.standings_columns``).
"""

from __future__ import annotations

from textual.content import Content

from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import standings
from tui.palette import hex_colour
from tui.standings_columns import (
    COLUMNS,
    FIGURES_WIDTH,
    RUNNER_WIDTH,
    figures,
    shown_name,
    unit_of,
)
from tui.widgets.rows_view import RowsView

# With a --target: one more column, each runner's time to reach it.
TARGET_COLUMN = ("to target", 9, "right")


class Leaderboard(RowsView):
    _last: tuple | None = None
    target = None  # the run's --target (a ``Target``), set by the app

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)  # the runner's column takes the new width

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        self._last = (states, colours)
        rows = standings(states, self.target)
        columns = COLUMNS + ((TARGET_COLUMN,) if self.target else ())
        figure_layout = [(width, justify) for _, width, justify in columns]
        extra = 1 + TARGET_COLUMN[1] if self.target else 0
        runner_width = max(RUNNER_WIDTH[0], min(RUNNER_WIDTH[1], self.size.width - FIGURES_WIDTH - extra))
        titles = ["#", "runner", *((title or unit_of(rows)) for title, _, _ in columns)]
        layout = [(1, "right"), (runner_width, "left"), *figure_layout]
        header = Content.styled(_line(titles, layout), "bold")
        lines = [header, Content.styled("─" * sum(1 + width for width, _ in layout), "dim")]
        for s in rows:
            name, note = shown_name(s, runner_width < 18)
            label = _fit(f"■ {name}{note}", runner_width, "left")
            rank = _fit(str(s.rank or "–"), 1, "right")
            lines.append(Content.assemble(
                rank, " ", (label[:1], hex_colour(colours[s.runner]) if s.runner in colours else ""),
                label[1 : 2 + len(name)], (label[2 + len(name) :], "dim"),
                " ", _line(figures(s) + ([_to_target(s)] if self.target else []), figure_layout),
            ))
        self.set_rows(lines)


def _to_target(s) -> str:
    if s.time_to_target_s is not None:
        return f"{s.time_to_target_s:.1f} s"
    return "not hit" if s.phase in ("done", "failed", "stopped") else "–"


def _fit(text: str, width: int, justify: str) -> str:
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.rjust(width) if justify == "right" else text.ljust(width)


def _line(cells: list[str], layout: list[tuple[int, str]]) -> str:
    """Cells fitted to their (width, justify), one space apart."""
    return " ".join(_fit(cell, width, justify) for cell, (width, justify) in zip(cells, layout))
