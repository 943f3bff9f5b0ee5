"""A process that must not outlive its parent asks Linux to signal it when the parent dies, even by SIGKILL."""

from __future__ import annotations

import ctypes
import os
import signal


def die_with_parent(parent_pid: int | None, sig: int = signal.SIGKILL) -> None:
    """``sig`` to this process when its parent dies (PR_SET_PDEATHSIG); exits at once when the parent named is
    already gone (it died before the request took effect)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass  # not Linux: the callers have a second way to notice (a closed pipe)
    if parent_pid and os.getppid() != parent_pid:
        os._exit(3)
