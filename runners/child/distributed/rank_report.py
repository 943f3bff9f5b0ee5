"""One process of a runner that spans several (torchrun's ranks, or one jax process a host) says, about once a
second, where it runs and what memory it holds: a ``Rank`` event, shown per rank on the detail screen."""

from __future__ import annotations

import os
import socket
import time

from runners.protocol import NODE_ADDRESS_ENV, Rank

RANK_REPORT_EVERY_S = 1.0


class RankReport:
    def __init__(self, emit, runner: str, rank: int, world: int, device: str, memory):
        address = os.environ.get(NODE_ADDRESS_ENV)
        self._emit, self._memory = emit, memory
        self._fields = dict(rank=rank, world_size=world, pid=os.getpid(),
                            host=socket.gethostname() + (f" {address}" if address else ""), device=device)
        self._runner = runner
        self._next = time.monotonic()

    def __call__(self, now: bool = False) -> None:
        """A report when one is due (or ``now``)."""
        if not now and time.monotonic() < self._next:
            return
        rss, on_device = self._memory()
        self._emit(Rank(self._runner, **self._fields, rss_bytes=rss, device_bytes=on_device.in_use,
                        device_peak_bytes=on_device.peak))
        self._next = time.monotonic() + RANK_REPORT_EVERY_S
