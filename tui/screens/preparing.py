"""Before the dashboard: a screen that shows a preparation's progress (what is being made, bytes written or
verified) while a worker thread makes the run session; q or Ctrl-C stops it, leaving nothing behind."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Callable

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.widgets import Static

from runners.session.planning.preparation import Progress


class PreparingApp(App):
    """Runs ``make(on_progress, cancel)`` in a thread; ``return_value`` is what it made (None: stopped or failed,
    ``error`` then holds the exception)."""

    BINDINGS = [Binding("q", "stop", "Stop"), Binding("ctrl+c", "stop", "Stop", priority=True)]
    CSS = """
    Screen { align: center middle; }
    #preparing { width: auto; max-width: 90%; border: round $accent; padding: 1 2; }
    """

    def __init__(self, title: str, make: Callable[[Callable[[Progress], None], threading.Event], object]):
        super().__init__()
        self._title, self._make = title, make
        self._cancel = threading.Event()
        self.error: BaseException | None = None

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(f"[b]kvp-dash[/b] · {self._title}\n\nstarting…\n\n[dim]q: stop[/dim]", id="preparing")

    def on_mount(self) -> None:
        # `kill` or a dropped SSH session stops the preparation as q does: its subprocess and partial files go.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.action_stop)
        self._work()

    @work(thread=True, exclusive=True)
    def _work(self) -> None:
        try:
            made = self._make(lambda progress: self.call_from_thread(self._show, progress), self._cancel)
        except BaseException as exc:  # noqa: BLE001 - told to the caller after the screen is gone
            self.error = exc
            self.call_from_thread(self.exit, None)
            return
        self.call_from_thread(self.exit, made)

    def _show(self, progress: Progress) -> None:
        self.query_one("#preparing", Static).update(
            f"[b]kvp-dash[/b] · {self._title}\n\n{progress.describe()}\n\n[dim]q: stop[/dim]")

    @property
    def stopped(self) -> bool:
        return self._cancel.is_set()

    def action_stop(self) -> None:
        self._cancel.set()  # the worker's preparation stops its subprocess and raises; the app then exits
