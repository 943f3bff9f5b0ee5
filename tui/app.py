"""The dashboard app: leaderboard, overlaid charts and one panel per runner, fed by any event source.

Data flows one way: events fold into ``RunnerState`` (``tui.state``) and each
frame hands the changed states down to the widgets. Frames follow the data: the
launcher reads the channels once per refresh interval and each read asks for a
frame, drawn at once, so an event reaches the screen within about one interval
however many arrive. A clock at the refresh rate turns the spinners and brings what waits
for its own pace (charts, leaderboard) when no data comes.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Callable

import psutil
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from runners.host_monitor import HostMonitor
from runners.nvml_monitor import GpuSnapshot, NvmlMonitor
from runners.parity import STEP_LOSS_RTOL, ParityTracker, compare
from runners.protocol import Phase
from runners.sources import EventSource
from tui.palette import hex_colour, runner_colours
from tui.screens.confirm_quit import ConfirmQuitScreen
from tui.screens.detail_screen import RunnerDetailScreen
from tui.screens.help_screen import HelpScreen
from tui.state import RunnerState
from tui.terminal_signals import resume_only_after_suspend
from tui.widgets.leaderboard import Leaderboard
from tui.widgets.metric_chart import METRICS, ChartView, MetricChart
from tui.widgets.parity_bar import ParityBar
from tui.widgets.runner_panel import ACTIVE_PHASES, RunnerPanel

# Terminal width from which the runners sit side by side and all three charts show.
WIDE_FROM = 160
# Below this width the panels stack in one column.
STACK_BELOW = 80
# Below this height the panels drop their least important lines and the charts get a fixed height.
SHORT_BELOW = 40
# Below this size nothing readable fits: a notice replaces the screen.
MIN_WIDTH, MIN_HEIGHT = 60, 18
# How often the dashboard samples CPU, RSS and GPU use of the runners itself.
SAMPLE_EVERY_S = 1.0
QUIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# Charts are the costliest widgets to draw (plotext builds each one in Python): they redraw at most
# once a second, and less often when drawing them would take more than this share of one core.
CHARTS_MAX_HZ = 1.0
CHART_CPU_SHARE = 0.005
# The leaderboard's figures are steady-state means: once a second is live enough.
LEADERBOARD_HZ = 1.0
PANEL_FIGURES_EVERY_S = 1.0
CHART_ORDER = tuple(METRICS)


class DashboardApp(App):
    CSS_PATH = "app.tcss"
    AUTO_FOCUS = None  # the first panel is focused in on_mount, without scrolling to it
    TITLE = "kvp-dash"
    BINDINGS = [
        Binding("q", "request_quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit now", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("enter", "detail", "Detail"),
        Binding("o", "detail('log')", "Output log", show=False),
        Binding("p", "pause", "Pause"),
        Binding("k", "stop_runner", "Stop runner"),
        Binding("r", "restart_runner", "Restart"),
        Binding("s", "smoothing", "Smooth"),
        Binding("l", "log_scale", "Log"),
        Binding("x", "x_axis", "X axis"),
        Binding("c", "next_chart", "Next chart", show=False),
        # Shown only when the event source is a recording (check_action).
        Binding("space", "replay_pause", "Pause replay", show=False),
        Binding("full_stop", "replay_step", "Step", key_display="."),
        Binding("right_square_bracket", "replay_jump", "Jump 10 s", key_display="]"),
    ]

    def __init__(
        self,
        source: EventSource,
        description: str,
        refresh_hz: float = 6.0,
        expected_params: int | None = None,
        parity_step_rtol: float = STEP_LOSS_RTOL,
        gpu_monitor: NvmlMonitor | None = None,
        parity_judged: bool = True,
        on_finished: Callable[[list[RunnerState]], str] | None = None,
        settings: dict[str, str] | None = None,
        animate: bool = True,
        theme: str | None = None,
    ):
        """``on_finished`` ranks and records the run once every runner has ended, returning the verdict.

        ``animate`` False keeps spinners still (deterministic snapshots).
        """
        super().__init__()
        if theme:
            self.theme = theme
        self.host_monitor = HostMonitor()
        self.host_memory = psutil.virtual_memory().total
        self.gpu_monitor = gpu_monitor or NvmlMonitor()
        self.gpu: GpuSnapshot | None = None
        self.source = source
        self.sub_title = description
        self.settings = {"run": description, **(settings or {})}
        self.refresh_hz = refresh_hz
        self.animate = animate
        self.colours = runner_colours(source.runner_names)
        self.states = {name: RunnerState(name, source.total_steps) for name in source.runner_names}
        self.parity = ParityTracker(source.runner_names)
        self.view = ChartView()
        self.chart = CHART_ORDER[0]  # the one chart shown when the terminal is not wide
        self._expected_params = expected_params
        self._parity_step_rtol = parity_step_rtol
        self._parity_judged = parity_judged
        self._on_finished = on_finished
        self.verdict: str | None = None
        self._changed: set[str] = set(self.states)
        self._charts_changed = True
        self._parity_changed = True
        self._stopping = False
        self._started = False
        self._consuming = False
        self._frame = 0  # the spinners' position
        self._frame_s = 1 / refresh_hz
        self._frame_at = 0.0  # when the last frame was drawn (monotonic)
        self._data_frame_at = 0.0  # and the last one new data asked for
        self._figures_at = 0.0  # and the last that redrew the panels' steady-state means
        self._frame_handle: asyncio.TimerHandle | None = None
        self._told_record_error = False
        self._charts_drawn_at = 0.0
        self._charts_cost_s = 0.0  # CPU the last charts' frame took, to pace the next
        self._devices_shown = ""
        self._leaderboard_drawn_at = 0.0
        self._leaderboard_changed = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="too-small")
        yield ParityBar(id="parity")
        with VerticalScroll(id="body", can_focus=False):
            yield Leaderboard(id="leaderboard")
            with Horizontal(id="charts"):
                for metric in CHART_ORDER:
                    yield MetricChart(metric, id=f"chart-{metric}")
            with Grid(id="panels"):
                for name in self.source.runner_names:
                    yield RunnerPanel(name, self.source.total_steps, hex_colour(self.colours[name]), id=_panel_id(name))
        yield Static("", id="verdict")
        yield Static("", id="devices")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        # A dropped SSH session sends SIGHUP; `kill` sends SIGTERM: both end the runners first.
        for sig in QUIT_SIGNALS:
            loop.add_signal_handler(sig, lambda: self.call_later(self.action_quit))
        resume_only_after_suspend()  # SIGHUP comes with a SIGCONT that must not wake a dead terminal
        # The main screen and its widgets, held: other screens may be on top when the timer redraws.
        self._main = self.screen
        self.panels = {name: self._main.query_one(f"#{_panel_id(name)}", RunnerPanel) for name in self.states}
        self.charts = {metric: self._main.query_one(f"#chart-{metric}", MetricChart) for metric in CHART_ORDER}
        self.leaderboard = self._main.query_one(Leaderboard)
        # Held too: a sampling worker may report while the app is being torn down.
        self.devices_line = self._main.query_one("#devices", Static)
        self.verdict_line = self._main.query_one("#verdict", Static)
        self.parity_bar = self._main.query_one(ParityBar)
        self.verdict_line.display = False
        self._layout_for(self.size.width, self.size.height)
        self.set_interval(self._frame_s, self._tick)
        if self.source.live:
            self.set_interval(SAMPLE_EVERY_S, self._sample_runners)
        else:
            self.devices_line.update(self.source.describe() + _source_warnings(self.source))
        # Not scrolled into view: on a short terminal that scrolls the leaderboard off the top.
        self.panels[self.source.runner_names[0]].focus(scroll_visible=False)
        self._consume_events()

    @work(thread=True, exclusive=True, group="sampling")
    def _sample_runners(self) -> None:
        """psutil and NVML can block: sample on a thread, hand the figures to the app's loop."""
        pids = self.source.pids()
        host = self.host_monitor.sample(pids)
        gpu = self.gpu_monitor.sample(pids)
        self.call_from_thread(self._take_samples, host, gpu, self.source.sharing())

    def _take_samples(self, host, gpu: GpuSnapshot, sharing: dict[str, list[str]]) -> None:
        self.gpu = gpu
        record_error = getattr(self.source, "record_error", None)
        if record_error and not self._told_record_error:
            self._told_record_error = True  # the devices line keeps saying it; the toast says it once
            self.notify(record_error, title="recording", severity="warning", timeout=15)
        for name, state in self.states.items():
            if state.ended or state.paused:
                continue  # keep the last figures a finished runner had; a paused one has none
            state.sampled(host.get(name), gpu.runners.get(name))
            state.sharing_with = sharing.get(name, [])
            self._changed.add(name)
        # No frame of its own: the next data frame or clock tick shows the figures (a frame more
        # each second redrew every panel's progress row for nothing new).
        devices = _devices_line(gpu, self.source) + _source_warnings(self.source)
        # One row, always (no re-layout of the screen), and repainted only when it changed.
        if devices != self._devices_shown:
            self._devices_shown = devices
            self.devices_line.update(devices, layout=False)

    @work(exclusive=True, group="events")
    async def _consume_events(self) -> None:
        self._consuming = True
        if not self._started:
            self._started = True
            await self.source.start()
        async for event in self.source.events():
            if isinstance(event, Phase) and event.phase == "restarting":
                # A new run of the runner: nothing it said before counts any more.
                self.states[event.runner] = RunnerState(event.runner, self.source.total_steps)
                self.parity.forget(event.runner)
            state = self.states.get(event.runner)
            if state is not None:
                state.apply(event)
                self._changed.add(event.runner)
                self._charts_changed = True
                self._parity_changed |= self.parity.observe(event) or state.phase == "failed"
                self._frame_due()
        self._consuming = False
        if self._stopping or not self.is_running:
            return  # quitting: the CLI records the stopped run
        self._redraw(force_charts=True)
        failed = self._failed_runners()
        summary = "all runners finished" + (f"; failed: {', '.join(failed)}" if failed else "")
        if self._on_finished is not None:
            self.verdict = self._on_finished(list(self.states.values()))
            summary = self.verdict
        verdict = self.verdict_line
        verdict.update(f"[b]verdict[/b] · {summary}")
        verdict.display = True
        verdict.set_class(bool(failed), "-failed")
        self.notify(summary, title="verdict", severity="error" if failed else "information", timeout=6)

    async def on_unmount(self) -> None:
        if self._frame_handle is not None:
            self._frame_handle.cancel()
        loop = asyncio.get_running_loop()
        for sig in QUIT_SIGNALS:
            loop.remove_signal_handler(sig)
        if not self._stopping:  # the app is going away by another road than `q`
            self._stopping = True
            await self.source.stop()

    def _frame_due(self) -> None:
        """New data: a frame at once, unless the last data frame was less than half an interval ago.

        Live, the launcher reads the channels once per refresh interval, so data frames
        come at the refresh rate and never wait; the half interval only caps sources
        that deliver continuously (a replay at speed) at twice the refresh rate.
        """
        if self._frame_handle is None and self.is_running:
            delay = max(0.0, self._data_frame_at + self._frame_s / 2 - time.monotonic())
            self._frame_handle = asyncio.get_running_loop().call_later(delay, self._draw_data_frame)

    def _draw_data_frame(self) -> None:
        self._frame_handle = None
        if self._stopping or not self.is_running:
            return  # a frame asked for as the app was closing
        self._data_frame_at = time.monotonic()
        self._redraw()

    def _tick(self) -> None:
        """The clock's frames, when no frame came lately: spinners turn, charts and leaderboard come due.

        A clock frame never holds back the next data frame: their pace is counted apart.
        """
        if time.monotonic() - self._frame_at < self._frame_s:
            return
        spinning = self.animate and any(s.phase in ACTIVE_PHASES for s in self.states.values())
        stale = any(panel.stale for panel in self.panels.values())
        if spinning or stale or self._changed or self._charts_changed or self._leaderboard_changed:
            self._redraw(figures=True)  # the data paused: every figure catches up

    def _redraw(self, force_charts: bool = False, figures: bool = False) -> None:
        """Each changed widget redraws once, however many events arrived since the last frame."""
        now = self._frame_at = time.monotonic()
        if self.animate:
            self._frame += 1
            self._changed |= {name for name, s in self.states.items() if s.phase in ACTIVE_PHASES}
        frame = self._frame if self.animate else None
        # The panels' slow rows (means, device, CPU, memory): once a second while data flows, like the leaderboard.
        figures = figures or force_charts or now - self._figures_at >= PANEL_FIGURES_EVERY_S
        if figures:
            self._figures_at = now
            self._changed |= {name for name, panel in self.panels.items() if panel.stale}
        compact = self._main.has_class("-short")
        for name in self._changed:
            self.panels[name].show(self.states[name], self.gpu, self.host_memory, frame, compact, figures)
        if self._changed:
            self._leaderboard_changed = True
        if self._leaderboard_changed and (force_charts or now - self._leaderboard_drawn_at >= 1 / LEADERBOARD_HZ):
            self._leaderboard_changed = False
            self._leaderboard_drawn_at = now
            self.leaderboard.show(list(self.states.values()), self.colours)
        due = now - self._charts_drawn_at >= max(1 / CHARTS_MAX_HZ, self._charts_cost_s / CHART_CPU_SHARE)
        charts_now = self._charts_changed and (due or force_charts)
        if charts_now:
            self._charts_changed = False
            self._charts_drawn_at = now
            started = time.process_time()
            for metric, chart in self.charts.items():
                if chart.display:
                    chart.show(list(self.states.values()), self.colours, self.view)
            self.call_after_refresh(self._charts_on_screen, started, now)
        # The detail screen's charts keep the same pace (and always draw when it opens).
        if isinstance(self.screen, RunnerDetailScreen) and (charts_now or force_charts):
            self.screen.show(self.states[self.screen.runner], self.colours, self.view)
        self._changed.clear()
        if self._parity_changed:
            self._parity_changed = False
            bar = self.parity_bar
            if self._parity_judged:
                bar.show(self.parity_report(), self._failed_runners())
            else:
                bar.update("parity · not judged in mixed precision: `kvp-dash check` verifies it in fp32")

    def _charts_on_screen(self, started: float, shown_at: float) -> None:
        """What the charts' frame cost this process, all threads: plotext, compositing, escape codes.

        Timing only the charts' own rendering missed half of it. Whatever else ran
        in between (a few events, the frame's panel rows) is counted too: charts
        come a little later rather than costing more than their share.
        """
        if any(chart.display and chart.pending for chart in self.charts.values()):
            if time.monotonic() - shown_at < 1.0:  # else hidden behind another screen: not measured
                self.call_after_refresh(self._charts_on_screen, started, shown_at)  # a refresh came first
            return
        self._charts_cost_s = time.process_time() - started

    def _failed_runners(self) -> list[str]:
        return [name for name, state in self.states.items() if state.phase == "failed"]

    def parity_report(self):
        """Parity among the runners still standing: a crashed runner proves nothing either way."""
        failed = set(self._failed_runners())
        facts = {name: f for name, f in self.parity.facts.items() if name not in failed}
        return compare(facts, expected_params=self._expected_params, step_rtol=self._parity_step_rtol)

    # Layout: adapts to the terminal; classes on the screen, sizes in app.tcss.

    def on_resize(self, event) -> None:
        if hasattr(self, "_main"):  # resizes before mount are laid out in on_mount
            self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        screen = self._main
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        screen.set_class(too_small, "-too-small")
        self._main.query_one("#too-small", Static).update(
            f"[b]kvp-dash needs at least {MIN_WIDTH}×{MIN_HEIGHT}[/b]\n"
            f"this terminal is {width}×{height}: enlarge it or zoom out.\n"
            "Training goes on; q quits."
        )
        wide = width >= WIDE_FROM
        screen.set_class(wide, "-wide")
        if screen.has_class("-short") != (height < SHORT_BELOW):
            screen.set_class(height < SHORT_BELOW, "-short")
            self._changed.update(self.states)  # panels drop or bring back their detail lines
        count = max(1, len(self.states))
        columns = count if wide else (min(2, count) if width >= STACK_BELOW else 1)
        grid = self._main.query_one("#panels", Grid)
        grid.styles.grid_size_columns = columns
        grid.set_class(columns == 1, "-stacked")
        self._show_charts()

    def _show_charts(self) -> None:
        wide = self._main.has_class("-wide")
        for metric, chart in self.charts.items():
            chart.display = wide or metric == self.chart
        self._charts_changed = True

    # Keys.

    def check_action(self, action: str, parameters) -> bool | None:
        if action.startswith("replay_"):
            return hasattr(self.source, "toggle_pause")
        if action in ("stop_runner", "restart_runner"):
            return True if self.source.live else None  # shown disabled: a recording is read-only
        if action == "pause":
            return True if self.source.live or hasattr(self.source, "toggle_pause") else None
        if action == "next_chart":
            return not self._main.has_class("-wide")
        return True

    def action_help(self) -> None:
        extra = [("Tab / Shift+Tab / arrows", "move between runner panels"), ("Esc", "back from a detail screen"),
                 ("1 / 2 / 3", "detail screen: charts, output log, settings & versions")]
        if hasattr(self.source, "toggle_pause"):
            extra.append(("Space / p", "pause / resume the replay"))
        self.push_screen(HelpScreen(self.BINDINGS, extra))

    def _focused_runner(self) -> str:
        panel = self.focused if isinstance(self.focused, RunnerPanel) else None
        return panel.runner if panel is not None else self.source.runner_names[0]

    def action_detail(self, tab: str = "charts") -> None:
        runner = self._focused_runner()
        self.push_screen(RunnerDetailScreen(runner, self.source.output_path(runner), self.settings, tab))
        self.call_after_refresh(self._redraw, force_charts=True)

    def action_smoothing(self) -> None:
        self._set_view(self.view.next_smoothing())

    def action_log_scale(self) -> None:
        self._set_view(self.view.toggled_log())

    def action_x_axis(self) -> None:
        self._set_view(self.view.toggled_x())

    def _set_view(self, view: ChartView) -> None:
        self.view = view
        self._charts_changed = True
        self.notify(f"charts: {view.describe()}", timeout=2)
        self._redraw(force_charts=True)

    def action_next_chart(self) -> None:
        self.chart = CHART_ORDER[(CHART_ORDER.index(self.chart) + 1) % len(CHART_ORDER)]
        self._show_charts()
        self._redraw(force_charts=True)

    async def action_pause(self) -> None:
        if hasattr(self.source, "toggle_pause"):
            return self.action_replay_pause()
        if not any(not s.ended for s in self.states.values()):
            return self.notify("nothing is training", timeout=2)
        if self.source.paused:
            await self.source.resume()
            self.notify("resumed: timing figures leave the pause out", timeout=3)
        else:
            await self.source.pause()
            self.notify("paused every runner (p resumes)", timeout=3)

    async def action_stop_runner(self) -> None:
        self.notify(await self.source.stop_runner(self._focused_runner()), timeout=3)

    async def action_restart_runner(self) -> None:
        self.notify(await self.source.restart_runner(self._focused_runner()), timeout=3)
        if not self._consuming and not self._stopping:
            self.verdict_line.display = False
            self.verdict = None
            self._consume_events()  # the run had ended: follow the restarted runner to its end

    def action_replay_pause(self) -> None:
        self.source.toggle_pause()
        self.notify("replay paused" if self.source.paused else "replay resumed", timeout=2)

    def action_replay_step(self) -> None:
        if not self.source.paused:
            self.source.toggle_pause()
        self.source.step()

    def action_replay_jump(self) -> None:
        self.source.jump(10.0)

    def action_request_quit(self) -> None:
        active = [s.name for s in self.states.values() if not s.ended]
        if not self.source.live or not active or self._stopping:
            self.call_later(self.action_quit)
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.call_later(self.action_quit)

        self.push_screen(ConfirmQuitScreen(active), answered)

    async def action_quit(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.notify("stopping runners…", timeout=5)
        await self.source.stop()
        self.exit()


def _devices_line(gpu: GpuSnapshot, source) -> str:
    schedule = source.schedule
    if not gpu.available:
        return f"devices · cpu only (gpu n/a: {gpu.reason}) · {schedule} schedule"
    parts = []
    for d in gpu.devices:
        name = d.name.value if d.name.ok else f"gpu{d.index}"
        util = f"{d.utilization.value}%" if d.utilization.ok else "n/a"
        mem = (
            f"{d.memory_used.value / 1024**3:.1f}/{d.memory_total.value / 1024**3:.0f} GiB"
            if d.memory_used.ok else "mem n/a"
        )
        power = f"{d.power_watts.value:.0f} W" if d.power_watts.ok else "power n/a"
        parts.append(f"{d.index}: {name} util {util} · {mem} · {power}")
    return "devices · " + " | ".join(parts) + f" · {schedule} schedule"


def _source_warnings(source) -> str:
    """What went wrong on the way in: garbage on a channel, a record the disk refused."""
    text = ""
    if getattr(source, "bad_lines", 0):
        text += f" · [b]{source.bad_lines} bad channel line(s) skipped[/b]"
    if getattr(source, "record_error", None):
        text += f" · [b]{source.record_error}[/b]"
    return text


def _panel_id(runner: str) -> str:
    return "panel-" + runner.replace("/", "-")
