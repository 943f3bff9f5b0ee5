"""One metric of several runners overlaid on shared axes (textual-plotext).

TensorBoard's conventions: a stable colour per runner, exponential smoothing
with the raw line faint behind the smoothed one, a log scale, and the x axis by
step or by wall time since each runner started (so start-up and compilation
show as a head start). However long the run, at most about two points per
column are drawn: each group of buckets keeps its min and its max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from textual.color import Color
from textual_plotext import PlotextPlot

from runners.session.state.formatting import short_name
from runners.session.state.series import Bucket, StepSeries
from runners.session.state.runner_state import RunnerState
from tui.palette import faded, hex_colour

SMOOTHING_STEPS = (0.0, 0.6, 0.9, 0.99)


@dataclass(frozen=True)
class ChartView:
    """The user's chart settings, shared by every chart (keys s, l, x)."""

    smoothing: float = 0.6
    log_scale: bool = False
    x_axis: str = "step"  # or "time"

    def next_smoothing(self) -> "ChartView":
        at = SMOOTHING_STEPS.index(self.smoothing) if self.smoothing in SMOOTHING_STEPS else 0
        return ChartView(SMOOTHING_STEPS[(at + 1) % len(SMOOTHING_STEPS)], self.log_scale, self.x_axis)

    def toggled_log(self) -> "ChartView":
        return ChartView(self.smoothing, not self.log_scale, self.x_axis)

    def toggled_x(self) -> "ChartView":
        return ChartView(self.smoothing, self.log_scale, "time" if self.x_axis == "step" else "step")

    def describe(self) -> str:
        smoothing = f"smoothing {self.smoothing:g}" if self.smoothing else "raw"
        x = "x: step" if self.x_axis == "step" else "x: s since start"
        return f"{smoothing} · {'log' if self.log_scale else 'linear'} · {x}"


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    series: Callable[[RunnerState], StepSeries]
    scale: Callable[[RunnerState], float]  # display unit per stored unit


METRICS = {
    "loss": Metric("loss", "loss", lambda s: s.loss, lambda s: 1.0),
    "step_time": Metric("step_time", "step time (ms)", lambda s: s.step_time, lambda s: 1000.0),
    "throughput": Metric(
        "throughput", "throughput (samples/s, tokens/s for text)", lambda s: s.rate,
        lambda s: float(s.hello.tokens_per_sample) if s.hello else 1.0,
    ),
}
# Charted in a runner's detail screen only: a handful of points per run, next to the training loss.
VALIDATION = Metric("validation", "validation loss", lambda s: s.val_loss, lambda s: 1.0)


class MetricChart(PlotextPlot):
    """Attributes down: the app calls ``show(states, colours, view)``; the chart only draws."""

    def __init__(self, metric: str, **kwargs):
        super().__init__(**kwargs)
        self.metric = VALIDATION if metric == "validation" else METRICS[metric]
        self.border_title = self.metric.title
        self.drawn: dict[str, tuple[list[float], list[float]]] = {}  # runner -> the raw points drawn
        self._shown: tuple | None = None
        self.pending = False  # shown new points not drawn yet

    def show(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]], view: ChartView) -> None:
        """Take what to draw; the points are worked out in ``render``, for the size the chart has then."""
        self._shown = (states, colours, view)
        self.pending = True
        with_data = [s for s in states if self._plottable(s, view)]
        # The legend sits in the border, where it never hides the start of a curve.
        self.border_title = f"{self.metric.title} " + " ".join(
            f"[{hex_colour(colours[s.name])}]■[/] {short_name(s.name)}" for s in with_data
        )
        self.border_subtitle = view.describe() if with_data else "waiting for the first steps…"
        self.refresh()

    def _plottable(self, state: RunnerState, view: ChartView) -> bool:
        return bool(len(self.metric.series(state))) and (view.x_axis == "step" or state.started_at is not None)

    def render(self):
        if self._shown is not None:
            self._draw_points(*self._shown)
        self.pending = False
        return super().render()

    def _draw_points(self, states: list[RunnerState], colours: dict[str, tuple[int, int, int]], view: ChartView) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.xscale("linear")
        plt.yscale("log" if view.log_scale else "linear")
        background = Color.parse(self.app.theme_variables.get("surface", "#1e1e1e")).rgb
        # Columns the plot area has, roughly: one min and one max point per column.
        groups = max(8, self.size.width - 10)
        self.drawn = {}
        for state in states:
            if not self._plottable(state, view):
                continue
            buckets = self.metric.series(state).buckets()
            scale = self.metric.scale(state)
            x_of = _x_axis(view.x_axis, state)
            colour = colours[state.name]
            xs, ys = envelope(buckets, groups, x_of, scale)
            if view.log_scale:
                xs, ys = _positive(xs, ys)
            self.drawn[state.name] = (xs, ys)
            if view.smoothing and len(buckets) > 1:
                plt.plot(xs, ys, color=faded(colour, background), marker="braille")
                sx, sy = smoothed(buckets, view.smoothing, groups, x_of, scale)
                if view.log_scale:
                    sx, sy = _positive(sx, sy)
                plt.plot(sx, sy, color=colour, marker="braille")
            else:
                plt.plot(xs, ys, color=colour, marker="braille")


def _x_axis(axis: str, state: RunnerState) -> Callable[[Bucket], float]:
    if axis == "time":
        start = state.started_at
        return lambda b: b.t_end - start
    return lambda b: b.middle


def envelope(buckets: list[Bucket], groups: int, x_of, scale: float) -> tuple[list[float], list[float]]:
    """At most ``groups`` groups of buckets, each drawn as its min and its max (in x order)."""
    size = max(1, math.ceil(len(buckets) / groups))
    xs, ys = [], []
    for start in range(0, len(buckets), size):
        chunk = buckets[start : start + size]
        if len(chunk) == 1 and chunk[0].count == 1:
            xs.append(x_of(chunk[0]))
            ys.append(chunk[0].low * scale)
            continue
        low = min(chunk, key=lambda b: b.low)
        high = max(chunk, key=lambda b: b.high)
        points = sorted([(x_of(low), low.low), (x_of(high), high.high)])
        for x, y in points:
            xs.append(x)
            ys.append(y * scale)
    return xs, ys


def smoothed(buckets: list[Bucket], weight: float, groups: int, x_of, scale: float):
    """TensorBoard's debiased exponential moving average over the bucket means, thinned to ``groups`` points."""
    size = max(1, math.ceil(len(buckets) / groups))
    xs, ys = [], []
    last, debias = 0.0, 0.0
    for index, bucket in enumerate(buckets):
        last = last * weight + (1 - weight) * bucket.mean
        debias = debias * weight + (1 - weight)
        if index % size == size - 1 or index == len(buckets) - 1:
            xs.append(x_of(bucket))
            ys.append(last / debias * scale)
    return xs, ys


def _positive(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """A log axis cannot show zero or less: such points are left out, not bent."""
    kept = [(x, y) for x, y in zip(xs, ys) if y > 0]
    return [x for x, _ in kept], [y for _, y in kept]
