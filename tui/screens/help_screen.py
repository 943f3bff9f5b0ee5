"""Every key, read from the bindings themselves so the list cannot drift from what the keys do."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen):
    AUTO_FOCUS = "*"  # the app turns auto-focus off for its main screen only
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def __init__(self, bindings: list[Binding], extra: list[tuple[str, str]]):
        super().__init__()
        self.keys = [(b.key_display or _key_names(b.key), b.description) for b in bindings if b.description]
        self.keys += extra

    def compose(self) -> ComposeResult:
        table = Table(title="kvp-dash keys", box=None, padding=(0, 2), title_style="bold")
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        for key, description in self.keys:
            table.add_row(key, description)
        with Vertical(id="help"):
            yield Static(table)
            yield Static("[dim]Escape or ? closes this help.[/dim]")


def _key_names(keys: str) -> str:
    names = {"question_mark": "?", "full_stop": ".", "right_square_bracket": "]", "ctrl+c": "Ctrl+C",
             "escape": "Esc", "enter": "Enter", "space": "Space"}
    return " / ".join(names.get(k, k) for k in keys.split(","))
