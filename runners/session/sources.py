"""Event sources: where a view's events come from, and what the view may do with them.

A view knows only this interface. The live launcher is one source; a recorded
run folder (replay) and a run folder still being written (attach) are others.
What a source can do beyond streaming events is declared, never guessed: live
runner controls (``controls``), replay controls (``replay``), and the health of
its input (``bad_lines``, ``record_error``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Protocol

from runners.protocol import Event
from runners.session.state.runner_state import RunnerState

if TYPE_CHECKING:
    from runners.session.planning.schedules import Schedule


class RunnerControls(Protocol):
    """Real processes the user steers: pause and resume them all (p), stop (k) or restart (r) one."""

    paused: bool

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def stop_runner(self, runner: str) -> str:
        """End one runner; returns what happened, in words."""
        ...

    async def restart_runner(self, runner: str) -> str:
        """Start one runner again from scratch; returns what happened, in words."""
        ...


class ReplayControls(Protocol):
    """A recording played back: pause it, let one event through, skip ahead."""

    paused: bool

    def toggle_pause(self) -> None: ...

    def step(self) -> None: ...

    def jump(self, recorded_seconds: float) -> None: ...


class EventSource(Protocol):
    runner_names: list[str]
    total_steps: int  # with duration_s: the step cap
    duration_s: float | None  # --duration: each runner's steady training seconds
    schedule: Schedule | str  # runners.session.planning.schedules (a recording holds its name)
    until: float | None  # --until: the half-width the run trains until (0.05: ±5 %), else None
    live: bool  # True when the runners are running now (and can be sampled)
    controls: RunnerControls | None  # None: nothing here can be paused, stopped or restarted
    replay: ReplayControls | None  # None: not a recording that can be played back at will
    bad_lines: int  # lines of input that were not valid events: counted, skipped, shown
    record_error: str | None  # why recording stopped, when it did (training goes on)

    async def start(self) -> None: ...

    def events(self) -> AsyncIterator[Event]:
        """Every event, until every runner has ended."""
        ...

    async def stop(self) -> None:
        """End whatever the source owns (for the live launcher: every runner process)."""
        ...

    def output_path(self, runner: str) -> Path | None:
        """Where the runner's captured stdout/stderr are, if anywhere."""
        ...

    def describe(self) -> str:
        """One line on where the events come from (shown when the source is not live)."""
        ...

    def pids(self) -> dict[str, int]:
        """Live runner processes to sample for CPU, RSS and GPU use (empty for a recording)."""
        ...

    def new_state(self, runner: str) -> RunnerState:
        """What the dashboard knows of a runner before its first event (and after a restart)."""
        ...

    def sharing(self) -> dict[str, list[str]]:
        """For each runner, the others training at the same time on the same CPUs or GPU."""
        ...
