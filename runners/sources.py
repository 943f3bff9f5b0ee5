"""Event sources: where the dashboard's events come from.

The app only knows this interface. The live launcher is the first source;
a recorded run folder (replay, attach) is another.
"""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Protocol

from runners.protocol import Event


class EventSource(Protocol):
    runner_names: list[str]
    total_steps: int
    schedule: str  # "parallel" or "sequential"
    live: bool  # True when the runners are running now (and can be sampled)

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

    def sharing(self) -> dict[str, list[str]]:
        """For each runner, the others training at the same time on the same CPUs or GPU."""
        ...
