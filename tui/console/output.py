"""The console every command prints to: on a terminal, its width; anywhere else, as wide as a line needs.

Rich assumes 80 columns when the output is not a terminal and squeezes tables to
fit, cutting names and numbers ("keras/t…", "11,173,9…"). A pipe, a file or a CI
log has no width: there, lines are never cut or wrapped.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console

# Wider than any line kvp-dash prints: rich then lays tables out at their natural width.
UNCUT_WIDTH = 10_000


def console(file: IO[str] | None = None, record: bool = False) -> Console:
    terminal = Console(file=file)
    if terminal.is_terminal:
        return Console(file=file, record=record) if record else terminal
    return Console(file=file, width=UNCUT_WIDTH, record=record, soft_wrap=True)


def text_of(*renderables) -> str:
    """Renderables as plain text, uncut (for the files a run writes)."""
    import io

    capture = Console(file=io.StringIO(), width=UNCUT_WIDTH, record=True, soft_wrap=True)
    for renderable in renderables:
        capture.print(renderable)
    return capture.export_text()
