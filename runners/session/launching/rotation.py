"""The interleaved schedule's turns, from the launcher's side: whose turn it is, and handing it on.

Every runner process starts at once and stops itself before it imports anything
(``runners.child.turns``). One at a time, round-robin, a runner is continued
(SIGCONT) and trains with the whole machine; after ``slice_s`` seconds, if
another runner is waiting, it is asked (SIGUSR1) to give the turn back, which it
does at its next window edge: it says "waiting" and stops itself. Only once it
is really stopped does the next runner continue, so two runners never run at
once. A runner that ends leaves the rotation; its turn passes at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Awaitable, Callable

import psutil

from runners.protocol import YIELD_SIGNAL, Phase  # the runner's handler is runners.child.turns

# How long a runner may take to stop itself once it should have (start-up, or its last window edge).
STOP_TIMEOUT_S = 600.0
_POLL_S = 0.005


class Rotation:
    def __init__(self, slice_s: float, announce: Callable[[object, Phase], Awaitable[None]],
                 arrange: Callable[[list], list] | None = None):
        """``announce(child, event)`` records and queues an event the launcher says for a runner; ``arrange(order)``,
        the order of the next round, asked as each round ends (the same children, perhaps reordered)."""
        self.slice_s = slice_s
        self._announce = announce
        self._arrange = arrange
        self._order: list = []  # every runner that takes turns, in rotation order (children of the launcher)
        self.holder = None  # the runner whose turn it is
        self._yield_timer: asyncio.TimerHandle | None = None
        self.yielded_while_paused = False
        self.paused = False

    async def join(self, child, take_if_free: bool = True) -> None:
        """A runner just started (it stops itself at once): it waits for its turn, or takes it if nobody has it."""
        if child not in self._order:
            self._order.append(child)
        await self._announce(child, Phase(child.spec.name, "waiting"))
        if take_if_free and self.holder is None and not self.paused:
            await self._give(child)

    async def begin(self) -> None:
        """Every runner has joined: the first turn goes to the first."""
        if self.holder is None and not self.paused:
            await self._pass_on(None)

    async def yielded(self, child) -> None:
        """The runner said "waiting": it is giving its turn back."""
        if child is not self.holder:
            return
        if self.paused:
            self.yielded_while_paused = True  # handed on when the user resumes
            return
        await self._pass_on(child)

    async def ended(self, child) -> None:
        """The runner's process is gone: it leaves the rotation and, if it had the turn, passes it on."""
        had_turn = child is self.holder
        if had_turn:
            self._cancel_timer()
            self.holder = None
            if not self.paused:
                await self._pass_on(child)
        if child in self._order:
            self._order.remove(child)

    def pause(self) -> None:
        """The user paused everything (the launcher stops the holder itself): no hand-over until resume()."""
        self.paused = True
        self._cancel_timer()

    async def resume(self) -> None:
        self.paused = False
        if self.holder is None or self.yielded_while_paused:
            self.yielded_while_paused = False
            await self._pass_on(self.holder)
        else:
            self._arm_timer(self.holder)

    def is_waiting(self, child) -> bool:
        """Stopped by the rotation (not by the user): the launcher must not continue it on resume."""
        return child in self._order and child is not self.holder

    async def _pass_on(self, after) -> None:
        """The turn to the next waiting runner after ``after`` (back to ``after`` when it is the only one left)."""
        candidates = [c for c in self._order if c.alive and not c.ended]
        if not candidates:
            self.holder = None
            return
        start = self._order.index(after) + 1 if after in self._order else 0
        if self._arrange is not None and after is not None and not any(c in candidates for c in self._order[start:]):
            # A round ends: the next goes in the order asked for, from its first runner (which may be the one
            # whose turn just ended: two turns back to back, rather than a round without its turn).
            self._order = self._arrange(self._order)
            following = next(c for c in self._order if c in candidates)
        else:
            ring = self._order[start:] + self._order[:start]
            following = next((c for c in ring if c in candidates and c is not after), None)
        chosen = following or (after if after in candidates else None)
        if chosen is None:
            self.holder = None
            return
        if after is not None and after is not chosen and after.alive:
            await self._until_yielded(after)  # never two at once: the last one must really be stopped
        await self._give(chosen)

    async def _until_yielded(self, child) -> None:
        """Wait until the runner giving its turn back has stopped; ask again if it goes on (a resume raced it)."""
        while child.alive and not await _until_stopped(child.process.pid, timeout_s=max(self.slice_s, 1.0)):
            if not child.alive:
                return
            try:
                os.kill(child.process.pid, YIELD_SIGNAL)
            except ProcessLookupError:
                return

    async def _give(self, child) -> None:
        self.holder = child
        await _until_stopped(child.process.pid)  # a new runner may still be on its way to stopping itself
        if child is not self.holder or not child.alive or self.paused:
            return  # paused meanwhile: the launcher's resume continues the holder
        # Stamped before the SIGCONT: the window that spans the wait ends at the runner's first step after it, and
        # a stamp taken after (the dashboard descheduled meanwhile on a loaded machine) would make the next window,
        # all training, look as if it touched the wait too and leave it out of the budget and the figures.
        at = time.time()
        _continue(child.process.pid)
        await self._announce(child, Phase(child.spec.name, "resumed", t=at))
        self._arm_timer(child)

    def _arm_timer(self, child) -> None:
        self._cancel_timer()
        self._yield_timer = asyncio.get_running_loop().call_later(self.slice_s, self._ask_to_yield, child)

    def _cancel_timer(self) -> None:
        if self._yield_timer is not None:
            self._yield_timer.cancel()
            self._yield_timer = None

    def _ask_to_yield(self, child) -> None:
        """The slice is over: hand the turn on if anyone else waits (else the holder trains on)."""
        self._yield_timer = None
        if child is not self.holder or self.paused or not child.alive:
            return
        if any(c is not child and c.alive and not c.ended for c in self._order):
            try:
                os.kill(child.process.pid, YIELD_SIGNAL)  # the runner alone: its compile workers ignore it
            except ProcessLookupError:
                pass
        else:
            self._arm_timer(child)


async def _until_stopped(pid: int, timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Wait until the process is stopped (True), or gone (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() in (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE):
                return True
        except psutil.NoSuchProcess:
            return False
        await asyncio.sleep(_POLL_S)
    return False


def _continue(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGCONT)
    except (ProcessLookupError, PermissionError):
        pass
