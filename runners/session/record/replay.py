"""A recorded run folder as an event source: the same dashboard, driven from the JSONL files.

Events are replayed in the order and at the pace they were recorded (their
wall-clock ``t``), sped up by ``speed``. Nothing is started: a replay never
trains. Lines that are not valid events are counted and skipped.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from pathlib import Path
from typing import AsyncIterator

from runners.protocol import Event, decode_lines
from runners.session.record.run_folder import recorded_config
from runners.session.state.runner_state import RunnerState
from workloads.errors import InputError

SHIPPED = Path(__file__).resolve().parent / "recordings" / "demo-mlp"


class NotARunFolder(InputError):
    pass


class RecordedRun:
    """A finished recording, played back at will (``replay`` controls); nothing can be stopped or restarted."""

    live = False  # nothing to sample: the figures on screen are the recorded ones
    controls = None
    record_error = None  # nothing is recorded while reading

    @property
    def replay(self) -> "RecordedRun | None":
        return self

    def __init__(self, path: Path, speed: float = 1.0):
        self.path = path
        self.speed = speed
        try:
            config = recorded_config(path)
        except (OSError, ValueError, KeyError) as exc:
            raise NotARunFolder(f"{path} is not a kvp-dash run folder (no readable run.json: {exc})") from None
        self.config = config
        self.runner_names: list[str] = list(config["runners"])
        self.total_steps: int = int(config["settings"]["steps"])
        self.duration_s: float | None = config.get("duration_s")
        self.schedule: str = config.get("schedule") or "parallel"
        self.until: float | None = config.get("until")
        self.bad_lines = 0
        self._stopped = False
        # Replay controls: paused, single steps granted while paused, recorded seconds to skip ahead.
        self.paused = False
        self._steps = 0
        self._skip_s = 0.0
        self._streams = {name: self._read(name) for name in self.runner_names}

    def _file(self, runner: str, suffix: str) -> Path:
        return self.path / f"{runner.replace('/', '-')}.{suffix}"

    def events_of(self, runner: str) -> list[Event]:
        """Every recorded event of one runner, in order (the valid ones)."""
        return list(self._streams[runner])

    def _read(self, runner: str) -> list[Event]:
        try:
            return self._decode(self._file(runner, "events.jsonl").read_bytes().splitlines())
        except OSError:
            return []

    def _decode(self, lines: list[bytes]) -> list[Event]:
        events, bad = decode_lines(lines)
        self.bad_lines += bad
        return events

    async def start(self) -> None:
        return None

    def new_state(self, runner: str) -> RunnerState:
        return RunnerState(runner, self.total_steps, self.duration_s)

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def step(self) -> None:
        """While paused: let exactly one more event through."""
        self._steps += 1

    def jump(self, recorded_seconds: float) -> None:
        """Skip ahead: events of the next ``recorded_seconds`` arrive at once."""
        self._skip_s += recorded_seconds

    async def events(self) -> AsyncIterator[Event]:
        merged = list(heapq.merge(*self._streams.values(), key=lambda e: e.t))
        if not merged:
            return
        played, last_wall = 0.0, time.monotonic()  # recorded seconds shown so far
        for event in merged:
            due = event.t - merged[0].t
            while not self._stopped:
                now = time.monotonic()
                if self.paused:
                    last_wall = now
                    if self._steps:
                        self._steps -= 1
                        played = max(played, due)
                        break
                    await asyncio.sleep(0.05)
                    continue
                played += (now - last_wall) * self.speed + self._skip_s
                self._skip_s, last_wall = 0.0, now
                if played >= due:
                    break
                await asyncio.sleep(min(0.05, (due - played) / self.speed))
            if self._stopped:
                return
            yield event

    async def stop(self) -> None:
        self._stopped = True

    def output_path(self, runner: str) -> Path | None:
        path = self._file(runner, "output.log")
        return path if path.exists() else None

    def describe(self) -> str:
        return f"replay of {self.path} · {self.speed:g}× · recorded figures only, nothing is sampled"

    def pids(self) -> dict[str, int]:
        return {}  # nothing runs: nothing to sample

    def sharing(self) -> dict[str, list[str]]:
        return {name: [] for name in self.runner_names}


class AttachedRun(RecordedRun):
    """A run folder that is still being written: follow its files as they grow, read-only.

    Nothing is started or stopped: detaching leaves the session running. The
    stream ends when every runner has reached a final phase.
    """

    POLL_S = 0.25

    @property
    def replay(self) -> None:
        return None  # it follows the files as they grow: no pausing, stepping or jumping

    def describe(self) -> str:
        return f"attached to {self.path} · read-only: q leaves, the session goes on · recorded figures only"

    def __init__(self, path: Path):
        super().__init__(path, speed=1.0)
        self._offsets = {name: 0 for name in self.runner_names}
        self._partial = {name: b"" for name in self.runner_names}

    def _read(self, runner: str) -> list[Event]:
        return []  # everything comes through events(), as it is written

    def _new_events(self, runner: str) -> list[Event]:
        try:
            with open(self._file(runner, "events.jsonl"), "rb") as handle:
                handle.seek(self._offsets[runner])
                data = handle.read()
        except OSError:
            return []  # not created yet
        self._offsets[runner] += len(data)
        lines = (self._partial[runner] + data).split(b"\n")
        self._partial[runner] = lines.pop()  # a line still being written waits for its end
        return self._decode(lines)

    async def events(self) -> AsyncIterator[Event]:
        from runners.protocol import FINAL_PHASES, Phase

        ended: set[str] = set()
        while not self._stopped and len(ended) < len(self.runner_names):
            batch = []
            for runner in self.runner_names:
                batch.extend(self._new_events(runner))
            for event in sorted(batch, key=lambda e: e.t):
                if isinstance(event, Phase) and event.phase in FINAL_PHASES:
                    ended.add(event.runner)
                elif isinstance(event, Phase) and event.phase == "restarting":
                    ended.discard(event.runner)
                yield event
            if len(ended) < len(self.runner_names):
                await asyncio.sleep(self.POLL_S)
