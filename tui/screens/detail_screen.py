"""One runner in depth (Enter on its panel): its charts, its captured output, its settings."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Log, Static, TabbedContent, TabPane

from runners.session.state.formatting import fmt_bytes
from runners.session.state.runner_state import RunnerState
from tui.widgets.latency_chart import LatencyChart
from tui.widgets.metric_chart import ChartView, MetricChart

# Enough to see the end of a long run's log without loading all of it.
TAIL_BYTES = 256 * 1024
TABS = ("charts", "log", "settings")


class RunnerDetailScreen(Screen):
    AUTO_FOCUS = "*"  # the app turns auto-focus off for its main screen only
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("1", "tab('charts')", "Charts"),
        Binding("2", "tab('log')", "Output log"),
        Binding("3", "tab('settings')", "Settings"),
        Binding("f5", "reload_log", "Reload log"),
    ]

    def __init__(self, runner: str, output_path: Path | None, settings: dict[str, str], tab: str = "charts",
                 batch_sizes: list[int] | None = None):
        """``batch_sizes``: a serving path's (`kvp-dash infer`): a latency CDF a batch size instead of the training
        charts."""
        super().__init__()
        self.batch_sizes = batch_sizes
        self.runner = runner
        self.output_path = output_path
        self.settings = settings
        self.initial_tab = tab
        self._mounted = False

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=self.initial_tab):
            with TabPane("Charts", id="charts"):
                with Vertical(classes="detail-charts"):
                    if self.batch_sizes:
                        for size in self.batch_sizes:
                            chart = LatencyChart()
                            chart.batch_size, chart.hint = size, ""
                            yield chart
                    else:
                        yield MetricChart("loss")
                        yield MetricChart("step_time")
                        yield MetricChart("throughput")
                        yield MetricChart("validation", id="validation-chart")
            with TabPane("Output log", id="log"):
                yield Log(highlight=False)
            with TabPane("Settings & versions", id="settings"):
                with VerticalScroll():
                    yield Static(id="settings-table")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.runner} · Escape: back to all runners"
        self.action_reload_log()
        self._mounted = True

    def show(self, state: RunnerState, colours: dict[str, tuple[int, int, int]], view: ChartView) -> None:
        """Attributes down: the app hands over the runner's state at every redraw."""
        if not self._mounted:
            return  # the app's timer can tick between push and mount
        for chart in self.query(MetricChart):
            chart.show([state], colours, view)
        for chart in self.query(LatencyChart):
            chart.show([state], colours)
        if not self.batch_sizes:
            # The validation chart takes room only once there is something on it (a run with validation data).
            self.query_one("#validation-chart", MetricChart).display = bool(state.evaluations)
        self.query_one("#settings-table", Static).update(settings_table(state, self.settings))

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_reload_log(self) -> None:
        log = self.query_one(Log)
        log.clear()
        log.write(read_tail(self.output_path))


def settings_table(state: RunnerState, settings: dict[str, str]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    hello = state.hello
    rows = dict(settings)
    if hello is not None:
        rows.update(
            {
                "framework": f"{hello.framework} (backend {hello.backend})",
                "device": hello.device + (f" (CUDA_VISIBLE_DEVICES={hello.gpu})" if hello.gpu else ""),
                "compiler": hello.compiler,
                "precision": hello.precision + (f", tf32 {hello.tf32}" if hello.tf32 != "n/a" else ""),
                "parameters": f"{hello.params:,}",
                "threads / cpus": f"{hello.threads} / {','.join(map(str, hello.cpus))}",
                "pid": str(hello.pid),
                "analytic FLOPs / step": f"{hello.flops_per_step:.3g}" if hello.flops_per_step else "–",
                "task": hello.task,
                "recipe (as this runner built it)": hello.recipe or "–",
            }
        )
        if hello.distribution:
            rows["data-parallel"] = hello.distribution
        if hello.weights_sha256:
            rows["initial weights sha256"] = hello.weights_sha256[:16] + "…"
        if hello.stochastic_layers:
            rows["random in training"] = ", ".join(hello.stochastic_layers) + " (masks differ across frameworks)"
        rows.update({f"version: {k}": v for k, v in hello.versions.items()})
    else:
        rows["runner"] = "has not reported yet"
    for rank in sorted(state.ranks.values(), key=lambda r: r.rank):
        device = f" · {fmt_bytes(rank.device_bytes)} on the device (peak {fmt_bytes(rank.device_peak_bytes)})" \
            if rank.device_bytes is not None else ""
        rows[f"rank {rank.rank} of {rank.world_size} ({rank.device}, pid {rank.pid} on {rank.host})"] = \
            f"RSS {fmt_bytes(rank.rss_bytes)}{device}"
    export = state.export
    if export is not None:  # a serving path
        rows["served by"] = export.route
        rows["artifact"] = (f"{export.artifact}, {fmt_bytes(export.artifact_bytes)}, exported in {export.export_s:.2f} s"
                            if export.artifact else "none: served as built")
        rows["load · warm-up"] = f"{export.load_s:.2f} s · {export.warmup_s:.2f} s (the first calls at every batch size)"
        rows["peak RSS when ready"] = fmt_bytes(export.peak_rss_bytes)
    if state.sharing_with:
        rows["shares the device with"] = ", ".join(state.sharing_with)
    if state.paused_windows:
        rows["windows left out of timing"] = \
            f"{state.paused_windows} spanning a pause or hand-over, {state.settling_windows} settling just after"
    if state.error is not None:
        rows["error"] = f"{state.error.error_type}: {state.error.message}"
    for key, value in rows.items():
        table.add_row(key, value)
    return table


def read_tail(path: Path | None) -> str:
    if path is None:
        return "This event source has no captured output for the runner."
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            text = handle.read().decode(errors="replace")
    except OSError as exc:
        return f"Cannot read {path}: {exc.strerror}"
    return text or "(the runner has printed nothing yet)"
