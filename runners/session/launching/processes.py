"""Signalling a runner's whole process group: every runner runs in a session of its own, so its compile
workers, torchrun ranks and data loaders stop with it."""

from __future__ import annotations

import asyncio
import os
import signal


def signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def terminate(processes: list[asyncio.subprocess.Process], grace_s: float) -> None:
    """SIGTERM each process group (SIGCONT too, in case it is paused), SIGKILL after ``grace_s``."""
    for process in processes:
        signal_group(process.pid, signal.SIGTERM)
        signal_group(process.pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once continued
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in processes)), grace_s)
    except asyncio.TimeoutError:
        for process in processes:
            signal_group(process.pid, signal.SIGKILL)
        await asyncio.gather(*(p.wait() for p in processes))
