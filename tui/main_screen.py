"""The main screen: what it holds (leaderboard, charts, one panel per runner) and how it fits the terminal.

Layout is state, not styling read back: ``wide``, ``short``, ``too_small``,
``columns`` and the ``chart`` shown are reactive attributes that the app reads;
their watchers set the CSS classes (``app.tcss``) that size things. Watchers run
on a change only: the initial values are what the stylesheet assumes.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tui.palette import hex_colour
from tui.widgets.latency_chart import LatencyChart
from tui.widgets.leaderboard import Leaderboard
from tui.widgets.metric_chart import METRICS, MetricChart
from tui.widgets.parity_bar import ParityBar
from tui.widgets.runner_panel import RunnerPanel
from tui.widgets.serving_board import ServingBoard

# Terminal width from which the runners sit side by side and all three charts show.
WIDE_FROM = 160
# Below this width the panels stack in one column.
STACK_BELOW = 80
# Below this height the panels drop their least important lines and the charts get a fixed height.
SHORT_BELOW = 40
# Below this size nothing readable fits: a notice replaces the screen.
MIN_WIDTH, MIN_HEIGHT = 60, 18
CHART_ORDER = tuple(METRICS)


class MainScreen(Screen):
    wide = var(False, init=False)  # runners side by side, all three charts
    short = var(False, init=False)  # panels drop their least important lines
    too_small = var(False, init=False)  # a notice instead of the dashboard
    columns = var(2, init=False)  # panels per row
    chart = var(CHART_ORDER[0], init=False)  # the one chart shown when the terminal is not wide

    class Ready(Message):
        """The screen's widgets exist: the app may lay them out and feed them."""

    def __init__(self, runner_names: list[str], total_steps: int, colours: dict[str, tuple[int, int, int]],
                 device: str | None = None, target=None, batch_sizes: list[int] | None = None):
        """``batch_sizes``: a serving run's (`kvp-dash infer`): its board and latency chart instead of the
        leaderboard and the training charts, at one batch size at a time (``next_chart`` takes the next)."""
        super().__init__()
        self._batch_sizes = batch_sizes
        self._target = target
        self._device = device  # the run's device kind: a runner on another is marked
        self._runner_names = runner_names
        self._total_steps = total_steps
        self._colours = colours

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="too-small")
        yield ParityBar(id="parity")
        with VerticalScroll(id="body", can_focus=False):
            if self._batch_sizes:
                yield ServingBoard(id="leaderboard")
                with Horizontal(id="charts"):
                    yield LatencyChart(id="chart-latency")
            else:
                yield Leaderboard(id="leaderboard")
                with Horizontal(id="charts"):
                    for metric in CHART_ORDER:
                        yield MetricChart(metric, id=f"chart-{metric}")
            with Grid(id="panels"):
                for name in self._runner_names:
                    yield RunnerPanel(name, self._total_steps, hex_colour(self._colours[name]), self._device,
                                      self._target, serving=bool(self._batch_sizes), id=_panel_id(name))
        yield Static("", id="verdict")
        yield Static("", id="devices")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # Held: other screens may be on top when the app redraws, and workers may report during teardown.
        self.panels = {name: self.query_one(f"#{_panel_id(name)}", RunnerPanel) for name in self._runner_names}
        if self._batch_sizes:
            self.charts = {"latency": self.query_one(LatencyChart)}
            self.leaderboard = self.query_one(ServingBoard)
            self.batch_size = self._batch_sizes[0]
        else:
            self.charts = {metric: self.query_one(f"#chart-{metric}", MetricChart) for metric in CHART_ORDER}
            self.leaderboard = self.query_one(Leaderboard)
            self.leaderboard.target = self._target
        self.parity_bar = self.query_one(ParityBar)
        self.devices_line = self.query_one("#devices", Static)
        self.verdict_line = self.query_one("#verdict", Static)
        self.verdict_line.display = False
        self.post_message(self.Ready())

    def fit(self, width: int, height: int) -> None:
        """Lay the screen out for a terminal of this size."""
        self.too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.query_one("#too-small", Static).update(
            f"[b]kvp-dash needs at least {MIN_WIDTH}×{MIN_HEIGHT}[/b]\n"
            f"this terminal is {width}×{height}: enlarge it or zoom out.\n"
            "Training goes on; q quits."
        )
        self.wide = width >= WIDE_FROM
        self.short = height < SHORT_BELOW
        count = max(1, len(self._runner_names))
        self.columns = count if self.wide else (min(2, count) if width >= STACK_BELOW else 1)
        self._show_charts()

    def next_chart(self) -> None:
        if self._batch_sizes:
            self.batch_size = self._batch_sizes[(self._batch_sizes.index(self.batch_size) + 1) % len(self._batch_sizes)]
            return
        self.chart = CHART_ORDER[(CHART_ORDER.index(self.chart) + 1) % len(CHART_ORDER)]

    @property
    def batch_size(self) -> int:
        return self.leaderboard.batch_size

    @batch_size.setter
    def batch_size(self, size: int) -> None:
        """The serving board and the latency chart show this batch size."""
        self.leaderboard.batch_size = self.charts["latency"].batch_size = size

    def watch_too_small(self, too_small: bool) -> None:
        self.set_class(too_small, "-too-small")

    def watch_wide(self, wide: bool) -> None:
        self.set_class(wide, "-wide")

    def watch_short(self, short: bool) -> None:
        self.set_class(short, "-short")

    def watch_columns(self, columns: int) -> None:
        grid = self.query_one("#panels", Grid)
        grid.styles.grid_size_columns = columns
        grid.set_class(columns == 1, "-stacked")

    def watch_chart(self) -> None:
        self._show_charts()

    def _show_charts(self) -> None:
        for metric, chart in self.charts.items():
            chart.display = self.wide or metric == self.chart or bool(self._batch_sizes)


def _panel_id(runner: str) -> str:
    return "panel-" + runner.replace("/", "-")
