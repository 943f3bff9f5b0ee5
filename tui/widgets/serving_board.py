"""A serving run's leaderboard: every path at one batch size (``c`` takes the next), fastest first, with its
latency percentiles, the ratio to the fastest and its interval, parity, and what the export cost."""

from __future__ import annotations

from textual.content import Content

from runners.session.state.runner_state import RunnerState
from runners.session.state.formatting import fmt_latency, fmt_size
from runners.session.verdict.serving import ServingRow, relative_cell, serving_rows
from tui.palette import hex_colour
from tui.widgets.leaderboard import _fit, _line
from tui.widgets.rows_view import RowsView

# (title, width, justify); the path's column takes what is left (within PATH_WIDTH).
COLUMNS = (
    ("p50", 7, "right"), ("p90", 7, "right"), ("p99", 7, "right"), ("samples/s", 9, "right"),
    ("× slower (95% CI)", 20, "right"), ("=", 1, "right"), ("export", 6, "right"), ("artifact", 8, "right"),
)
PATH_WIDTH = (14, 22)
FIGURES_WIDTH = sum(1 + width for _, width, _ in COLUMNS) + 3  # the rank's column (13 paths: two digits), a space


class ServingBoard(RowsView):
    batch_size: int = 1
    _last: tuple | None = None

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        self._last = (states, colours)
        rows = serving_rows(states, [self.batch_size])
        path_width = max(PATH_WIDTH[0], min(PATH_WIDTH[1], self.size.width - FIGURES_WIDTH))
        layout = [(2, "right"), (path_width, "left"), *[(w, j) for _, w, j in COLUMNS]]
        titles = ["#", f"path · batch {self.batch_size}", *[t for t, _, _ in COLUMNS]]
        lines = [Content.styled(_line(titles, layout), "bold"),
                 Content.styled("─" * sum(1 + w for w, _ in layout), "dim")]
        for r in rows:
            name = r.runner + (f" {r.precision}" if r.precision != "fp32" else "")
            label = _fit(f"■ {name}", path_width, "left")
            cells = _cells(r)
            lines.append(Content.assemble(
                _fit(str(r.rank or "–"), 2, "right"), " ",
                (label[:1], hex_colour(colours[r.runner]) if r.runner in colours else ""), label[1:], " ",
                _line(cells, [(w, j) for _, w, j in COLUMNS]),
            ))
        self.set_rows(lines)


def _cells(r: ServingRow) -> list[str]:
    if r.phase == "failed":
        return ["FAILED", "", "", "", "", "", "", ""]
    return [fmt_latency(r.p50_s), fmt_latency(r.p90_s), fmt_latency(r.p99_s),
            f"{r.throughput:,.0f}" if r.throughput else "–", relative_cell(r),
            {True: "✓", False: "✗", None: "·"}[r.parity],
            f"{r.export_s:.1f}s" if r.export_s and r.export_s >= 0.05 else "–", fmt_size(r.artifact_bytes)]
