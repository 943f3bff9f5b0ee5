"""Textual's SIGCONT handling, made safe for terminals that go away.

Textual's Linux driver sets its terminal up again on every SIGCONT, whether or not
it had suspended it. A closing tmux or a dropped SSH session sends SIGHUP and
SIGCONT together: the terminal set up again is dead, the second output thread the
driver starts dies on it, and the app's exit then waits for that thread forever
(seen here: the dashboard outlived its tmux with two output threads, one gone).
"""

from __future__ import annotations

import signal
from typing import Callable


def resume_only_after_suspend() -> Callable[[], None]:
    """Pass SIGCONT on to Textual only after Textual's own SIGTSTP (Ctrl+Z) suspended the terminal.

    Returns what puts Textual's own handlers back (the app calls it as it unmounts).
    """
    on_stop, on_continue = signal.getsignal(signal.SIGTSTP), signal.getsignal(signal.SIGCONT)
    if not (callable(on_stop) and callable(on_continue)):
        return lambda: None  # not a driver that handles them (headless, web): nothing to guard
    suspended = False

    def stop(signum, frame):
        nonlocal suspended
        suspended = True
        on_stop(signum, frame)  # suspends the terminal, then stops this process until SIGCONT

    def resume(signum, frame):
        nonlocal suspended
        if suspended:
            suspended = False
            on_continue(signum, frame)

    signal.signal(signal.SIGTSTP, stop)
    signal.signal(signal.SIGCONT, resume)

    def restore() -> None:
        if signal.getsignal(signal.SIGTSTP) is stop:  # still ours: nobody replaced them since
            signal.signal(signal.SIGTSTP, on_stop)
            signal.signal(signal.SIGCONT, on_continue)

    return restore
