"""A recorded run folder as an event source: the same dashboard, driven from the JSONL files.

Events are replayed in the order and at the pace they were recorded (their
wall-clock ``t``), sped up by ``speed``. Nothing is started: a replay never
trains. Lines that are not valid events are counted and skipped.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from pathlib import Path
from typing import AsyncIterator

from runners.protocol import Event, ProtocolError, decode

SHIPPED = Path(__file__).resolve().parent / "recordings" / "demo-mlp-tiny"


class NotARunFolder(ValueError):
    pass


class RecordedRun:
    live = False  # nothing to sample: the figures on screen are the recorded ones

    def __init__(self, path: Path, speed: float = 1.0):
        self.path = path
        self.speed = speed
        try:
            record = json.loads((path / "run.json").read_text())
            config = record["config"]
        except (OSError, ValueError, KeyError) as exc:
            raise NotARunFolder(f"{path} is not a kvp-dash run folder (no readable run.json: {exc})") from None
        self.config = config
        self.runner_names: list[str] = list(config["runners"])
        self.total_steps: int = int(config["settings"]["steps"])
        self.schedule: str = config.get("schedule") or "parallel"
        self.bad_lines = 0
        self._stopped = False
        self._streams = {name: self._read(name) for name in self.runner_names}

    def _file(self, runner: str, suffix: str) -> Path:
        return self.path / f"{runner.replace('/', '-')}.{suffix}"

    def _read(self, runner: str) -> list[Event]:
        events = []
        try:
            lines = self._file(runner, "events.jsonl").read_bytes().splitlines()
        except OSError:
            return events
        for line in lines:
            try:
                events.append(decode(line))
            except ProtocolError:
                self.bad_lines += 1
        return events

    async def start(self) -> None:
        return None

    async def events(self) -> AsyncIterator[Event]:
        merged = list(heapq.merge(*self._streams.values(), key=lambda e: e.t))
        if not merged:
            return
        first_t, started = merged[0].t, time.monotonic()
        for event in merged:
            if self._stopped:
                return
            delay = (event.t - first_t) / self.speed - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            yield event

    async def stop(self) -> None:
        self._stopped = True

    def output_path(self, runner: str) -> Path | None:
        path = self._file(runner, "output.log")
        return path if path.exists() else None

    def pids(self) -> dict[str, int]:
        return {}  # nothing runs: nothing to sample

    def sharing(self) -> dict[str, list[str]]:
        return {name: [] for name in self.runner_names}
