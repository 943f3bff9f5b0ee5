"""Ending training early, on the launcher's word: a ``--duration`` budget is spent.

The launcher measures each runner's steady training time the way the figures do
(held time left out, from the runner's own windows) and, once the budget is
spent, asks the runner to finish with SIGUSR2. The runner ends at its next window
edge, so the last window is a whole one and its loss values are on the host.
"""

from __future__ import annotations

import signal

from runners.protocol import FINISH_SIGNAL

_requested = False


def install() -> None:
    """Before anything else: SIGUSR2 would otherwise end the process."""
    signal.signal(FINISH_SIGNAL, _on_request)


def requested() -> bool:
    return _requested


def _on_request(signum, frame) -> None:
    global _requested
    _requested = True
