"""The user's controls over live runners: pause and resume them all (p), stop one (k), restart one (r).

They act on the real processes (SIGSTOP, SIGCONT, SIGTERM): training really halts, and the
"paused"/"resumed" phases said for each runner let the figures leave the pause out.
"""

from __future__ import annotations

import asyncio
import signal
import time

from runners.protocol import Phase
from runners.session.launching.processes import signal_group, terminate


class ProcessControls:
    def __init__(self, launcher, turns):
        self._launcher, self._turns = launcher, turns

    @property
    def paused(self) -> bool:
        return self._turns.paused

    async def pause(self) -> None:
        if self.paused:
            return
        self._turns.pause()
        for child in self._launcher.children:
            if child.alive and not self._turns.stopped_by_rotation(child):
                # Stamped before the stop and (in resume) after the restart: a window that
                # touches the pause is always seen as touching it.
                at = time.time()
                signal_group(child.process.pid, signal.SIGSTOP)
                await self._launcher.announce(child, Phase(child.spec.name, "paused", t=at))

    async def resume(self) -> None:
        if not self.paused:
            return
        for child in self._launcher.children:
            if child.alive and self._turns.continues_on_resume(child):
                signal_group(child.process.pid, signal.SIGCONT)
                await self._launcher.announce(child, Phase(child.spec.name, "resumed"))
        await self._turns.resume()

    async def stop_runner(self, runner: str, grace_s: float = 3.0) -> str:
        """End one runner (it shows as "stopped"); the others carry on. Returns what happened."""
        child = self._launcher.child(runner)
        if await self._turns.drop_queued(child):
            return f"{runner} will not start"
        if not child.alive:
            return f"{runner} is not running"
        child.stop_requested = True
        await terminate([child.process], grace_s)
        return f"{runner} stopped"

    async def restart_runner(self, runner: str, grace_s: float = 3.0) -> str:
        """Start one runner again from scratch (stopping it first if it runs)."""
        child = self._launcher.child(runner)
        if self.paused:
            return "resume (p) before restarting a runner"
        if child in self._turns.queue or child.process is None:
            return f"{runner} has not started yet"
        self._launcher.expect_another_end()  # before the old process's end is counted: events() must not finish
        if child.alive:
            child.stop_requested = True
            await terminate([child.process], grace_s)
        if child.pump is not None:
            await asyncio.gather(child.pump, return_exceptions=True)
        child.ended = child.stop_requested = child.failed_elsewhere = False
        await self._launcher.announce(child, Phase(runner, "restarting"))
        await self._turns.restart(child)
        return f"{runner} restarted"
