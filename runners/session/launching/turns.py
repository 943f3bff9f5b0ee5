"""Who trains when, from the launcher's side: the schedule's order of starts and turns.

Parallel starts every runner at once. Sequential starts one and queues the rest, the next
starting once none runs. Interleaved starts every process at once and hands one turn at a
time round the ``Rotation``. The launcher and the user's controls ask this object, never
the schedule's name.
"""

from __future__ import annotations

import asyncio

from runners.protocol import Phase
from runners.session.launching.rotation import Rotation
from runners.session.planning.schedules import Schedule


class Turns:
    def __init__(self, schedule: Schedule, slice_s: float, launcher):
        """``launcher``: spawns (``spawn``), says events for a runner (``announce``), counts a runner that will never
        start as ended (``never_starts``), orders each round of turns (``arrange_round``), and knows its children
        and whether it is stopping."""
        self.schedule = schedule
        self._launcher = launcher
        self.rotation = (Rotation(slice_s, launcher.announce, launcher.arrange_round) if schedule.takes_turns
                         else None)
        self.queue: list = []  # sequential: runners whose turn has not come
        self.paused = False
        self._tasks: set[asyncio.Task] = set()

    async def start(self, children: list) -> None:
        if self.rotation is not None:
            for child in children:  # every process at once; each stops itself until its turn
                await self._launcher.spawn(child)
                await self.rotation.join(child, take_if_free=False)
            await self.rotation.begin()
            return
        if self.schedule.queued:
            children, self.queue = children[:1], children[1:]
            for child in self.queue:
                await self._launcher.announce(child, Phase(child.spec.name, "queued"))
        for child in children:
            await self._launcher.spawn(child)

    def yielded(self, child) -> None:
        """The runner said "waiting": it gives its turn back (handled on the loop, after the event is queued)."""
        if self.rotation is None:
            return
        task = asyncio.ensure_future(self.rotation.yielded(child))
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    async def ended(self, child) -> None:
        """The runner's process is gone: the turn passes on, or the next queued runner starts."""
        if self.rotation is not None:
            await self.rotation.ended(child)
        await self._next()

    async def _next(self) -> None:
        if self.queue and not self._launcher.stopping and not self.paused:
            if not any(c.alive for c in self._launcher.children):
                await self._launcher.spawn(self.queue.pop(0))

    # What the user's controls ask.

    def pause(self) -> None:
        self.paused = True
        if self.rotation is not None:
            self.rotation.pause()

    async def resume(self) -> None:
        self.paused = False
        if self.rotation is not None:
            await self.rotation.resume()
        await self._next()

    def stopped_by_rotation(self, child) -> bool:
        """Stopped waiting for its turn (not by the user): a pause leaves it as it is."""
        return self.rotation is not None and self.rotation.is_waiting(child)

    def continues_on_resume(self, child) -> bool:
        """Whether a resume continues this runner itself; if not, the rotation decides who goes on."""
        return not (self.rotation and (self.rotation.is_waiting(child) or self.rotation.yielded_while_paused))

    async def drop_queued(self, child) -> bool:
        """A queued runner the user stopped: it will never start. False if it is not queued."""
        if child not in self.queue:
            return False
        self.queue.remove(child)
        await self._launcher.announce(child, Phase(child.spec.name, "stopped"))
        await self._launcher.never_starts()
        return True

    async def restart(self, child) -> None:
        """A runner started again: it takes turns or queues like the others."""
        if self.rotation is not None:
            await self._launcher.spawn(child)
            await self.rotation.join(child)
        elif self.schedule.queued and any(c.alive for c in self._launcher.children):
            self.queue.append(child)  # its turn comes after the runner training now
            await self._launcher.announce(child, Phase(child.spec.name, "queued"))
        else:
            await self._launcher.spawn(child)

    async def stop_all(self) -> None:
        """Everything stops: no turn is handed on, and the queued runners' turn never comes."""
        if self.rotation is not None:
            self.rotation.pause()
        for child in self.queue:
            await self._launcher.announce(child, Phase(child.spec.name, "stopped"))
            await self._launcher.never_starts()
        self.queue = []
