"""Every path's latency distribution at one batch size, as a CDF on a log time axis (textual-plotext): the
share of calls that returned within each latency, from every timed call's bin."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from runners import latency
from runners.session.state.formatting import short_name
from runners.session.state.runner_state import RunnerState
from tui.palette import hex_colour


class LatencyChart(PlotextPlot):
    batch_size: int = 1
    hint = " · c: next batch size"  # the main screen's; a detail screen shows every batch size at once

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.border_title = "latency CDF"
        self._shown: tuple | None = None
        self.pending = False
        self.drawn: dict[str, list[tuple[float, float]]] = {}

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]], view=None) -> None:
        self._shown = (states, colours)
        self.pending = True
        with_data = [s for s in states if self._figures(s) is not None]
        self.border_title = f"latency CDF · batch {self.batch_size} " + " ".join(
            f"[{hex_colour(colours[s.name])}]■[/] {short_name(s.name)}" for s in with_data)
        self.border_subtitle = (f"x: ms, log · y: share of calls{self.hint}" if with_data
                                else "waiting for the first calls…")
        self.refresh()

    def _figures(self, state: RunnerState):
        figures = state.serving.at(self.batch_size)
        return figures if figures is not None and figures.calls(state.ended) else None

    def render(self):
        if self._shown is not None:
            self._draw(*self._shown)
        self.pending = False
        return super().render()

    def _draw(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]]) -> None:
        plt = self.plt
        plt.clear_figure()
        self.drawn = {}
        for state in states:
            figures = self._figures(state)
            if figures is None:
                continue
            points = latency.cumulative(figures.counts(state.ended))
            # log10 of milliseconds by hand: plotext's log x axis leaves out the ticks' labels at this size
            xs = [math.log10(seconds * 1e3) for seconds, _ in points]
            ys = [share for _, share in points]
            self.drawn[state.name] = points
            plt.plot(xs, ys, color=colours[state.name], marker="braille")
        if self.drawn:
            low = min(math.log10(p[0][0] * 1e3) for p in self.drawn.values())
            high = max(math.log10(p[-1][0] * 1e3) for p in self.drawn.values())
            ticks = log_ticks(low, high)
            plt.xticks([math.log10(t) for t in ticks], [f"{t:g}" for t in ticks])
            plt.ylim(0, 1)


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 steps in milliseconds between 10**low and 10**high; the ends themselves when fewer than two fall
    inside (a narrow distribution)."""
    candidates = [m * 10.0 ** k for k in range(math.floor(low) - 1, math.ceil(high) + 1) for m in (1, 2, 5)]
    inside = [t for t in candidates if low <= math.log10(t) <= high]
    if len(inside) > 6:  # a wide range: decades only, or the labels run into each other
        inside = [t for t in inside if f"{t:g}".lstrip("0.").startswith("1")]
    if len(inside) < 2:
        inside = sorted({float(f"{10 ** low:.2g}"), float(f"{10 ** high:.2g}")} | set(inside))
    return inside
