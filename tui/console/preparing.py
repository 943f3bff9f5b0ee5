"""Preparation's progress on a console (headless, check, sweep): a live status line on a terminal, a plain line
every few seconds otherwise (CI logs)."""

from __future__ import annotations

import contextlib
import time
from typing import Iterator

from rich.console import Console

from runners.session.planning.preparation import Progress

PLAIN_EVERY_S = 5.0


@contextlib.contextmanager
def console_progress(console: Console, title: str) -> Iterator:
    """A callback for ``RunSession(on_progress=…)``; the status line goes when the block ends."""
    if not console.is_terminal:
        yield plain_progress(console, title)
        return
    with console.status(f"{title}…") as status:
        yield lambda progress: status.update(f"{title}: {progress.describe()}")


def needs_preparation(plan) -> bool:
    """Generated initial weights or a generated hub checkpoint: something is made (or verified) before training."""
    return bool(plan.workload.weights_from_torch or plan.workload.make_checkpoint)


def session_on_console(console: Console, plan, output, **options):
    """A ``RunSession`` whose preparation shows its progress on ``console``, then says what it used."""
    from runners.session.planning.preparation import prepared_summary
    from runners.session.run_session import RunSession

    if not needs_preparation(plan):
        return RunSession(plan, output, **options)
    with console_progress(console, f"preparing {plan.workload.name} ({plan.settings.size})") as report:
        session = RunSession(plan, output, on_progress=report, **options)
    console.print(f"prepared {prepared_summary(session.folder.path)}", highlight=False)
    return session


def plain_progress(console: Console, title: str):
    """A line every few seconds, whatever the console (for runs that draw their own live view afterwards)."""
    last_printed = [0.0]

    def report(progress: Progress) -> None:
        if time.monotonic() - last_printed[0] >= PLAIN_EVERY_S:
            last_printed[0] = time.monotonic()
            console.print(f"{title}: {progress.describe()}", highlight=False)
    return report
