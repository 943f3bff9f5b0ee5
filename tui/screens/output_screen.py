"""A runner's captured stdout/stderr (framework warnings, tracebacks), read from its log file."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Log

# Enough to see the end of a long run's log without loading all of it.
TAIL_BYTES = 256 * 1024


class OutputScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, runner: str, path: Path | None):
        super().__init__()
        self.runner = runner
        self.path = path

    def compose(self) -> ComposeResult:
        yield Header()
        yield Log(highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.runner} output · {self.path or 'not captured'}"
        self.action_reload()

    def action_reload(self) -> None:
        log = self.query_one(Log)
        log.clear()
        log.write(_read_tail(self.path))


def _read_tail(path: Path | None) -> str:
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
