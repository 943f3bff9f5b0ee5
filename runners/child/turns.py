"""Taking turns with the other runners (the interleaved schedule), from inside a runner.

Only one runner trains at a time, with the whole machine. A runner starts
stopped and waits for its first turn before it imports anything, so its
start-up is timed alone. The launcher asks it to give the turn back with
SIGUSR1; it does so at its next window edge once the turn has timed a window
(``runners.child.windows``), where the loss is on the host and the device has
finished (nothing of its work is left running on a GPU). It says
"waiting", makes sure the dashboard has that event, and stops its process
group; the launcher continues it with SIGCONT when its turn comes again.
"""

from __future__ import annotations

import os
import signal
import time

from runners.protocol import TAKES_TURNS_ENV, YIELD_SIGNAL, Phase

_asked = False
_writer = None
_runner = ""


def install(writer, runner: str) -> None:
    """Before anything else: the request handler (SIGUSR1 would otherwise end the process)."""
    global _writer, _runner
    _writer, _runner = writer, runner
    signal.signal(YIELD_SIGNAL, _on_request)


def takes_turns() -> bool:
    return os.environ.get(TAKES_TURNS_ENV) == "1"


def wait_for_first_turn() -> None:
    if takes_turns():
        _stop_here()


def at_window_edge() -> float | None:
    """Called after each window is reported: give the turn back if the launcher asked for it. Returns when it
    stopped itself (``time.perf_counter``), or None when it kept its turn. Not how long: SIGSTOP may land a
    moment after ``killpg`` returns, so the time around the call can miss the wait."""
    global _asked
    if not _asked:
        return None
    _asked = False
    _writer.emit(Phase(_runner, "waiting"))
    _writer.drain()  # the launcher passes the turn on when it reads this: it must be there before we stop
    stopped_at = time.perf_counter()
    _stop_here()
    return stopped_at


def _on_request(signum, frame) -> None:
    global _asked
    _asked = True


_stopper = None


def stop_with(stopper) -> None:
    """Stop the group another way: a torchrun rank has the runner process stop it, once that process has passed
    "waiting" on (``runners.child.distributed.ddp_rank``); ``stopper()`` returns once the group is continued."""
    global _stopper
    _stopper = stopper


def _stop_here() -> None:
    """Stop the whole process group (compile workers too) until the launcher's SIGCONT."""
    if _stopper is not None:
        _stopper()
        return
    os.killpg(os.getpgid(0), signal.SIGSTOP)
