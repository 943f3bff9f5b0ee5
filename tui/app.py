"""The dashboard app: one panel per runner, fed by any event source."""

from __future__ import annotations

import asyncio
import signal

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Footer, Header

from runners.parity import STEP_LOSS_RTOL, ParityTracker, compare
from runners.sources import EventSource
from tui.screens.output_screen import OutputScreen
from tui.state import RunnerState
from tui.widgets.parity_bar import ParityBar
from tui.widgets.runner_panel import RunnerPanel

# Terminal width at which the panels go side by side (4 across), and below which they stack.
WIDE_FROM = 160
STACK_BELOW = 80
QUIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class DashboardApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "kvp-dash"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("enter,o", "show_output", "Runner output"),
    ]

    def __init__(
        self,
        source: EventSource,
        description: str,
        refresh_hz: float = 4.0,
        expected_params: int | None = None,
        parity_step_rtol: float = STEP_LOSS_RTOL,
    ):
        super().__init__()
        self.source = source
        self.sub_title = description
        self.refresh_hz = refresh_hz
        self.states = {name: RunnerState(name, source.total_steps) for name in source.runner_names}
        self.parity = ParityTracker(source.runner_names)
        self._expected_params = expected_params
        self._parity_step_rtol = parity_step_rtol
        self._changed: set[str] = set(self.states)
        self._parity_changed = True
        self._stopping = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield ParityBar(id="parity")
        with Grid(id="panels"):
            for name in self.source.runner_names:
                yield RunnerPanel(name, self.source.total_steps, id=_panel_id(name))
        yield Footer()

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        # A dropped SSH session sends SIGHUP; `kill` sends SIGTERM: both end the runners first.
        for sig in QUIT_SIGNALS:
            loop.add_signal_handler(sig, lambda: self.call_later(self.action_quit))
        self._layout_for(self.size.width)
        self.set_interval(1 / self.refresh_hz, self._redraw)
        self._consume_events()

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
        failed = [s.name for s in self.states.values() if s.phase == "failed"]
        summary = "all runners finished" + (f"; failed: {', '.join(failed)}" if failed else "")
        self.notify(summary, severity="error" if failed else "information", timeout=30)

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
            self.query_one(f"#{_panel_id(name)}", RunnerPanel).show(self.states[name])
        self._changed.clear()
        if self._parity_changed:
            self._parity_changed = False
            self.query_one(ParityBar).show(self.parity_report(), self._failed_runners())

    def _failed_runners(self) -> list[str]:
        return [name for name, state in self.states.items() if state.phase == "failed"]

    def parity_report(self):
        """Parity among the runners still standing: a crashed runner proves nothing either way."""
        failed = set(self._failed_runners())
        facts = {name: f for name, f in self.parity.facts.items() if name not in failed}
        return compare(facts, expected_params=self._expected_params, step_rtol=self._parity_step_rtol)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        grid = self.query_one("#panels", Grid)
        count = max(1, len(self.states))
        columns = count if width >= WIDE_FROM else (min(2, count) if width >= STACK_BELOW else 1)
        grid.styles.grid_size_columns = columns
        grid.set_class(columns == 1, "-stacked")

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


def _panel_id(runner: str) -> str:
    return "panel-" + runner.replace("/", "-")
