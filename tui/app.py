"""The dashboard app: follows any event source and hands what changed to the main screen's widgets.

Data flows one way: events fold into ``RunnerState`` (``runners.session.state.runner_state``)
and each frame hands the changed states down to the widgets. Which frame is due
and what it redraws is the pacer's decision (``tui.pacing``); how the screen
fits the terminal is the main screen's (``tui.main_screen``). This class wires
them to the event source, the samplers and the keys.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

import psutil
from textual import work
from textual.app import App
from textual.binding import Binding

from runners.session.planning.defaults import DEFAULT_REFRESH_HZ
from runners.session.monitoring.nvml_monitor import GpuSnapshot, NvmlMonitor
from runners.session.observer import RunObserver, Sample, on_quit_signals
from runners.session.verdict.parity import ParityContext, ParityTracker
from runners.session.planning.schedules import schedule_named
from runners.session.sources import EventSource
from runners.session.state.runner_state import RunnerState
from tui.main_screen import MainScreen
from tui.pacing import FramePacer
from tui.palette import runner_colours
from tui.screens.confirm_quit import ConfirmQuitScreen
from tui.screens.detail_screen import RunnerDetailScreen
from tui.screens.help_screen import HelpScreen
from tui.terminal_signals import resume_only_after_suspend
from tui.widgets.metric_chart import ChartView
from tui.widgets.serving_parity import serving_parity_text
from tui.widgets.runner_panel import ACTIVE_PHASES

# How often the dashboard samples CPU, RSS and GPU use of the runners itself.
SAMPLE_EVERY_S = 1.0


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
        # Shown only when the event source is a recording that plays back (check_action).
        Binding("space", "replay_pause", "Pause replay", show=False),
        Binding("full_stop", "replay_step", "Step", key_display="."),
        Binding("right_square_bracket", "replay_jump", "Jump 10 s", key_display="]"),
    ]

    def __init__(
        self,
        source: EventSource,
        description: str,
        refresh_hz: float = DEFAULT_REFRESH_HZ,
        parity: ParityContext = ParityContext(),
        gpu_monitor: NvmlMonitor | None = None,
        on_finished: Callable[[list[RunnerState]], str] | None = None,
        settings: dict[str, str] | None = None,
        animate: bool = True,
        theme: str | None = None,
        device: str | None = None,
        target=None,
        batch_sizes: list[int] | None = None,
    ):
        """``on_finished`` ranks and records the run once every runner has ended, returning the verdict.

        ``animate`` False keeps spinners still (deterministic snapshots). ``device``: the run's device
        ("cpu" or "cuda"), against which each runner's own is checked.
        """
        super().__init__()
        self.device = device
        self.batch_sizes = batch_sizes  # a serving run's (`kvp-dash infer`); None: training
        self.target = target  # --target: its time to reach, on the panels and the leaderboard
        if theme:
            self.theme = theme
        self.observer = RunObserver(source, parity, gpu_monitor)
        self.host_memory = psutil.virtual_memory().total
        self.source = source
        self.sub_title = description
        self.settings = {"run": description, **(settings or {})}
        self.colours = runner_colours(source.runner_names)
        self.pacer = FramePacer(source.runner_names, refresh_hz, animate)
        self.view = ChartView()
        self._on_finished = on_finished
        self.verdict: str | None = None
        self._stopping = False
        self._started = False
        self._consuming = False
        self._frame_handle: asyncio.TimerHandle | None = None
        self._told_record_error = False
        self._devices_shown = ""
        self._restore_signals: Callable[[], None] = lambda: None
        self._remove_quit_signals: Callable[[], None] = lambda: None

    # What the observer holds, under the names the views and tests read.
    @property
    def states(self) -> dict[str, RunnerState]:
        return self.observer.states

    @property
    def parity(self) -> ParityTracker:
        return self.observer.parity

    @property
    def gpu(self) -> GpuSnapshot | None:
        return self.observer.gpu

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen(self.source.runner_names, self.source.total_steps, self.colours, self.device,
                               self.target, self.batch_sizes)
        return self.main

    def on_mount(self) -> None:
        # A dropped SSH session sends SIGHUP; `kill` sends SIGTERM: both end the runners first.
        self._remove_quit_signals = on_quit_signals(lambda: self.call_later(self.action_quit))
        # SIGHUP comes with a SIGCONT that must not wake a dead terminal.
        self._restore_signals = resume_only_after_suspend()

    def on_main_screen_ready(self) -> None:
        """The main screen's widgets exist: lay them out, start the clocks, follow the events."""
        self._fit(self.size.width, self.size.height)
        self.set_interval(self.pacer.frame_s, self._tick)
        if self.source.live:
            self.set_interval(SAMPLE_EVERY_S, self._sample_runners)
        else:
            self.main.devices_line.update(self.source.describe() + _source_warnings(self.source))
        # Not scrolled into view: on a short terminal that scrolls the leaderboard off the top.
        self.main.panels[self.source.runner_names[0]].focus(scroll_visible=False)
        self._consume_events()

    # Input: events from the source, samples from the runners' processes.

    @work(thread=True, exclusive=True, group="sampling")
    def _sample_runners(self) -> None:
        """psutil and NVML can block: sample on a thread, hand the figures to the app's loop."""
        self.call_from_thread(self._take_samples, self.observer.measure())

    def _take_samples(self, sample: Sample) -> None:
        record_error = self.source.record_error
        if record_error and not self._told_record_error:
            self._told_record_error = True  # the devices line keeps saying it; the toast says it once
            self.notify(record_error, title="recording", severity="warning", timeout=15)
        # A finished runner keeps its last figures; a held one is sampled too: it uses no CPU, keeps its memory.
        sampled = self.observer.take(sample)
        # No frame of its own: the next data frame or clock tick shows the figures (a frame more
        # each second redrew every panel's progress row for nothing new).
        self.pacer.runners_changed(sampled)
        devices = _devices_line(sample.gpu, self.source) + _source_warnings(self.source)
        # One row, always (no re-layout of the screen), and repainted only when it changed.
        if devices != self._devices_shown:
            self._devices_shown = devices
            self.main.devices_line.update(devices, layout=False)

    @work(exclusive=True, group="events")
    async def _consume_events(self) -> None:
        self._consuming = True
        if not self._started:
            self._started = True
            await self.source.start()
        async for event in self.source.events():
            state, parity_moved = self.observer.fold(event)
            if state is not None:
                self.pacer.runner_changed(event.runner, parity_moved or state.phase == "failed")
                self._frame_due()
        self._consuming = False
        if self._stopping or not self.is_running:
            return  # quitting: the CLI records the stopped run
        self._redraw(force_charts=True)
        self._show_verdict()

    def _show_precision(self) -> None:
        """--until, while the run goes on: how sure the headline ratios are, and the time left to the target."""
        precision = self.observer.precision()
        if precision is None or self.verdict is not None or not self._consuming:
            return
        text = f"[b]precision[/b] · {precision.describe()}"
        line = self.main.verdict_line
        if text != str(line.content):
            line.update(text)
        line.display = True
        line.set_class(True, "-until")

    def _show_verdict(self) -> None:
        failed = self._failed_runners()
        summary = "all runners finished" + (f"; failed: {', '.join(failed)}" if failed else "")
        if self._on_finished is not None:
            self.verdict = self._on_finished(list(self.states.values()))
            summary = self.verdict
        verdict = self.main.verdict_line
        verdict.update(f"[b]verdict[/b] · {summary}")
        verdict.display = True
        verdict.set_class(False, "-until")
        verdict.set_class(bool(failed), "-failed")
        self.notify(summary, title="verdict", severity="error" if failed else "information", timeout=6)

    async def on_unmount(self) -> None:
        if self._frame_handle is not None:
            self._frame_handle.cancel()
        self._remove_quit_signals()
        self._restore_signals()
        if not self._stopping:  # the app is going away by another road than `q`
            self._stopping = True
            await self.source.stop()

    # Frames: the pacer says which is due and what it redraws.

    def _frame_due(self) -> None:
        """New data: a data frame as soon as the pacer allows."""
        if self._frame_handle is None and self.is_running:
            delay = self.pacer.data_frame_delay()
            self._frame_handle = asyncio.get_running_loop().call_later(delay, self._draw_data_frame)

    def _draw_data_frame(self) -> None:
        self._frame_handle = None
        if self._stopping or not self.is_running:
            return  # a frame asked for as the app was closing
        self.pacer.data_frame_started()
        self._redraw()

    def _tick(self) -> None:
        """The clock's frames, when no frame came lately: spinners turn, charts and leaderboard come due."""
        spinning = any(s.phase in ACTIVE_PHASES for s in self.states.values())
        stale = any(panel.stale for panel in self.main.panels.values())
        if self.pacer.clock_frame_wanted(spinning, stale):
            self._redraw(figures=True)  # the data paused: every figure catches up

    def _redraw(self, force_charts: bool = False, figures: bool = False) -> None:
        """Each changed widget redraws once, however many events arrived since the last frame."""
        main = self.main
        frame = self.pacer.next_frame(
            active=[name for name, s in self.states.items() if s.phase in ACTIVE_PHASES],
            stale=[name for name, panel in main.panels.items() if panel.stale],
            force_charts=force_charts, figures=figures,
        )
        for name in frame.panels:
            main.panels[name].show(self.states[name], self.gpu, self.host_memory, frame.spinner, main.short,
                                   frame.figures)
        if frame.leaderboard:
            main.leaderboard.show(list(self.states.values()), self.colours)
        if frame.charts:
            started, shown_at = time.process_time(), time.monotonic()
            for chart in main.charts.values():
                if chart.display:
                    chart.show(list(self.states.values()), self.colours, self.view)
            self.call_after_refresh(self._charts_on_screen, started, shown_at)
        # The detail screen's charts keep the same pace (and always draw when it opens).
        if isinstance(self.screen, RunnerDetailScreen) and (frame.charts or force_charts):
            self.screen.show(self.states[self.screen.runner], self.colours, self.view)
        if frame.leaderboard:
            self._show_precision()
        if frame.parity and self.batch_sizes:
            main.parity_bar.update(serving_parity_text(self.states.values()), layout=False)
        elif frame.parity:
            main.parity_bar.show(self.parity_report(), self._failed_runners(), self.observer.parity_context.judged)

    def _charts_on_screen(self, started: float, shown_at: float) -> None:
        """What the charts' frame cost this process, all threads: plotext, compositing, escape codes.

        Timing only the charts' own rendering missed half of it. Whatever else ran
        in between (a few events, the frame's panel rows) is counted too: charts
        come a little later rather than costing more than their share.
        """
        if any(chart.display and chart.pending for chart in self.main.charts.values()):
            if time.monotonic() - shown_at < 1.0:  # else hidden behind another screen: not measured
                self.call_after_refresh(self._charts_on_screen, started, shown_at)  # a refresh came first
            return
        self.pacer.charts_cost_s = time.process_time() - started

    def _failed_runners(self) -> list[str]:
        return [name for name, state in self.states.items() if state.phase == "failed"]

    def parity_report(self):
        """Parity among the runners still standing: a crashed runner proves nothing either way."""
        return self.observer.parity_report()

    # Layout: the main screen fits the terminal.

    def on_resize(self, event) -> None:
        if self.main.is_mounted:  # resizes before mount are laid out in on_mount
            self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        was_short = self.main.short
        self.main.fit(width, height)
        if self.main.short != was_short:
            self.pacer.runners_changed(self.states)  # panels drop or bring back their detail lines
        self.pacer.charts_changed()

    # Keys.

    def check_action(self, action: str, parameters) -> bool | None:
        controls, replay = self.source.controls, self.source.replay
        if action.startswith("replay_"):
            return replay is not None
        if action in ("stop_runner", "restart_runner"):
            return True if controls is not None else None  # shown disabled: a recording is read-only
        if action == "pause":
            return True if controls is not None or replay is not None else None
        if action == "next_chart":
            return not self.main.wide or bool(self.batch_sizes)  # serving: the next batch size
        if action in ("smoothing", "log_scale", "x_axis") and self.batch_sizes:
            return False  # the latency chart is a CDF: nothing to smooth, log already, no step axis
        return True

    def action_help(self) -> None:
        extra = [("Tab / Shift+Tab / arrows", "move between runner panels"), ("Esc", "back from a detail screen"),
                 ("1 / 2 / 3", "detail screen: charts, output log, settings & versions")]
        if self.source.replay is not None:
            extra.append(("Space / p", "pause / resume the replay"))
        self.push_screen(HelpScreen(self.BINDINGS, extra))

    def _focused_runner(self) -> str:
        runner = getattr(self.focused, "runner", None)  # a runner panel has the focus, or nothing does
        return runner if runner in self.states else self.source.runner_names[0]

    def action_detail(self, tab: str = "charts") -> None:
        runner = self._focused_runner()
        self.push_screen(RunnerDetailScreen(runner, self.source.output_path(runner), self.settings, tab,
                                            self.batch_sizes))
        self.call_after_refresh(self._redraw, force_charts=True)

    def action_smoothing(self) -> None:
        self._set_view(self.view.next_smoothing())

    def action_log_scale(self) -> None:
        self._set_view(self.view.toggled_log())

    def action_x_axis(self) -> None:
        self._set_view(self.view.toggled_x())

    def _set_view(self, view: ChartView) -> None:
        self.view = view
        self.pacer.charts_changed()
        self.notify(f"charts: {view.describe()}", timeout=2)
        self._redraw(force_charts=True)

    def action_next_chart(self) -> None:
        self.main.next_chart()
        self.pacer.charts_changed(leaderboard=bool(self.batch_sizes))
        self._redraw(force_charts=True)

    async def action_pause(self) -> None:
        controls = self.source.controls
        if controls is None:
            return self.action_replay_pause()
        if not any(not s.ended for s in self.states.values()):
            return self.notify("nothing is training", timeout=2)
        if controls.paused:
            await controls.resume()
            self.notify("resumed: timing figures leave the pause out", timeout=3)
        else:
            await controls.pause()
            self.notify("paused every runner (p resumes)", timeout=3)

    async def action_stop_runner(self) -> None:
        self.notify(await self.source.controls.stop_runner(self._focused_runner()), timeout=3)

    async def action_restart_runner(self) -> None:
        self.notify(await self.source.controls.restart_runner(self._focused_runner()), timeout=3)
        if not self._consuming and not self._stopping:
            self.main.verdict_line.display = False
            self.verdict = None
            self._consume_events()  # the run had ended: follow the restarted runner to its end

    def action_replay_pause(self) -> None:
        replay = self.source.replay
        replay.toggle_pause()
        self.notify("replay paused" if replay.paused else "replay resumed", timeout=2)

    def action_replay_step(self) -> None:
        replay = self.source.replay
        if not replay.paused:
            replay.toggle_pause()
        replay.step()

    def action_replay_jump(self) -> None:
        self.source.replay.jump(10.0)

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


def _devices_line(gpu: GpuSnapshot, source: EventSource) -> str:
    schedule = schedule_named(source.schedule).name
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


def _source_warnings(source: EventSource) -> str:
    """What went wrong on the way in: garbage on a channel, a record the disk refused."""
    text = ""
    if source.bad_lines:
        text += f" · [b]{source.bad_lines} bad channel line(s) skipped[/b]"
    if source.record_error:
        text += f" · [b]{source.record_error}[/b]"
    return text
