"""The dashboard app: one panel per runner, fed by any event source."""

from __future__ import annotations

import asyncio
import signal
from typing import Callable

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Footer, Header, Static

from runners.host_monitor import HostMonitor
from runners.nvml_monitor import GpuSnapshot, NvmlMonitor
from runners.parity import STEP_LOSS_RTOL, ParityTracker, compare
from runners.sources import EventSource
from tui.screens.output_screen import OutputScreen
from tui.state import RunnerState
from tui.widgets.parity_bar import ParityBar
from tui.widgets.runner_panel import RunnerPanel

# Terminal width at which the panels go side by side (4 across), and below which they stack.
WIDE_FROM = 160
STACK_BELOW = 80
# Below this height, two rows of panels drop their least important lines.
COMPACT_BELOW = 40
# How often the dashboard samples CPU, RSS and GPU use of the runners itself.
SAMPLE_EVERY_S = 1.0
QUIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class DashboardApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "kvp-dash"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("enter,o", "show_output", "Runner output"),
        # Shown only when the event source is a recording (check_action).
        Binding("space", "replay_pause", "Pause/resume"),
        Binding("full_stop", "replay_step", "Step"),
        Binding("right_square_bracket", "replay_jump", "Jump 10 s"),
    ]

    def __init__(
        self,
        source: EventSource,
        description: str,
        refresh_hz: float = 4.0,
        expected_params: int | None = None,
        parity_step_rtol: float = STEP_LOSS_RTOL,
        gpu_monitor: NvmlMonitor | None = None,
        parity_judged: bool = True,
        on_finished: Callable[[list[RunnerState]], str] | None = None,
    ):
        """``on_finished`` ranks and records the run once every runner has ended, returning the verdict."""
        super().__init__()
        self.host_monitor = HostMonitor()
        self.gpu_monitor = gpu_monitor or NvmlMonitor()
        self.gpu: GpuSnapshot | None = None
        self.source = source
        self.sub_title = description
        self.refresh_hz = refresh_hz
        self.states = {name: RunnerState(name, source.total_steps) for name in source.runner_names}
        self.parity = ParityTracker(source.runner_names)
        self._expected_params = expected_params
        self._parity_step_rtol = parity_step_rtol
        self._parity_judged = parity_judged
        self._on_finished = on_finished
        self.verdict: str | None = None
        self._changed: set[str] = set(self.states)
        self._parity_changed = True
        self._stopping = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield ParityBar(id="parity")
        with Grid(id="panels"):
            for name in self.source.runner_names:
                yield RunnerPanel(name, self.source.total_steps, id=_panel_id(name))
        yield Static("", id="devices")
        yield Footer()

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        # A dropped SSH session sends SIGHUP; `kill` sends SIGTERM: both end the runners first.
        for sig in QUIT_SIGNALS:
            loop.add_signal_handler(sig, lambda: self.call_later(self.action_quit))
        self._layout_for(self.size.width, self.size.height)
        self.set_interval(1 / self.refresh_hz, self._redraw)
        if self.source.live:
            self.set_interval(SAMPLE_EVERY_S, self._sample_runners)
        else:
            self.query_one("#devices", Static).update(_recording_line(self.source))
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
        for name, state in self.states.items():
            if state.ended:
                continue  # keep the last figures a finished runner had
            state.sampled(host.get(name), gpu.runners.get(name))
            state.sharing_with = sharing.get(name, [])
            self._changed.add(name)
        self.query_one("#devices", Static).update(_devices_line(gpu, self.source))

    @work(exclusive=True, group="events")
    async def _consume_events(self) -> None:
        await self.source.start()
        async for event in self.source.events():
            state = self.states.get(event.runner)
            if state is not None:
                state.apply(event)
                self._changed.add(event.runner)
                self._parity_changed |= self.parity.observe(event) or state.phase == "failed"
        self._redraw()
        if self._stopping:
            return  # quitting: the CLI records the stopped run
        failed = [s.name for s in self.states.values() if s.phase == "failed"]
        summary = "all runners finished" + (f"; failed: {', '.join(failed)}" if failed else "")
        if self._on_finished is not None:
            self.verdict = self._on_finished(list(self.states.values()))
            summary = self.verdict
        self.notify(summary, title="verdict", severity="error" if failed else "information", timeout=60)

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in QUIT_SIGNALS:
            loop.remove_signal_handler(sig)
        if not self._stopping:  # the app is going away by another road than `q`
            self._stopping = True
            await self.source.stop()

    def _redraw(self) -> None:
        """Coalesce: however many events arrived, each changed panel redraws once per tick."""
        for name in self._changed:
            self.query_one(f"#{_panel_id(name)}", RunnerPanel).show(self.states[name], self.gpu)
        self._changed.clear()
        if self._parity_changed:
            self._parity_changed = False
            bar = self.query_one(ParityBar)
            if self._parity_judged:
                bar.show(self.parity_report(), self._failed_runners())
            else:
                bar.update("parity · not judged in mixed precision: `kvp-dash check` verifies it in fp32")

    def _failed_runners(self) -> list[str]:
        return [name for name, state in self.states.items() if state.phase == "failed"]

    def parity_report(self):
        """Parity among the runners still standing: a crashed runner proves nothing either way."""
        failed = set(self._failed_runners())
        facts = {name: f for name, f in self.parity.facts.items() if name not in failed}
        return compare(facts, expected_params=self._expected_params, step_rtol=self._parity_step_rtol)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        grid = self.query_one("#panels", Grid)
        count = max(1, len(self.states))
        columns = count if width >= WIDE_FROM else (min(2, count) if width >= STACK_BELOW else 1)
        grid.styles.grid_size_columns = columns
        grid.set_class(columns == 1, "-stacked")
        rows = -(-count // columns)
        grid.set_class(rows > 1 and height < COMPACT_BELOW, "-compact")

    def check_action(self, action: str, parameters) -> bool | None:
        if action.startswith("replay_"):
            return hasattr(self.source, "toggle_pause")
        return True

    def action_replay_pause(self) -> None:
        self.source.toggle_pause()
        self.notify("replay paused" if self.source.paused else "replay resumed", timeout=2)

    def action_replay_step(self) -> None:
        if not self.source.paused:
            self.source.toggle_pause()
        self.source.step()

    def action_replay_jump(self) -> None:
        self.source.jump(10.0)

    def action_show_output(self) -> None:
        panel = self.focused if isinstance(self.focused, RunnerPanel) else None
        if panel is None:
            panel = self.query(RunnerPanel).first()
        self.push_screen(OutputScreen(panel.runner, self.source.output_path(panel.runner)))

    async def action_quit(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.notify("stopping runners…", timeout=5)
        await self.source.stop()
        self.exit()


def _recording_line(source) -> str:
    from runners.replay import AttachedRun

    if isinstance(source, AttachedRun):
        return f"attached to {source.path} · read-only: q leaves, the session goes on · recorded figures only"
    return f"replay of {source.path} · {source.speed:g}× · recorded figures only, nothing is sampled"


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


def _panel_id(runner: str) -> str:
    return "panel-" + runner.replace("/", "-")
