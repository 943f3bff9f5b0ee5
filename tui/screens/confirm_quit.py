"""Asked when `q` is pressed while runners still train: quitting stops them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmQuitScreen(ModalScreen[bool]):
    AUTO_FOCUS = "*"  # the app turns auto-focus off for its main screen only
    BINDINGS = [
        Binding("y,q", "answer(True)", "Stop and quit"),
        Binding("n,escape", "answer(False)", "Keep training"),
    ]

    def __init__(self, active: list[str]):
        super().__init__()
        self.active = active

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(f"[b]Stop {len(self.active)} running runner(s) and quit?[/b]")
            yield Static(", ".join(self.active), classes="runners")
            yield Static("[b]y[/b] / q: stop and quit   [b]n[/b] / Esc: keep training")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
