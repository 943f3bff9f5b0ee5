"""A deterministic event stream for pilot and snapshot tests: no processes, no clocks.

Four runners at known speeds train a made-up loss curve; timestamps are fixed,
so every figure on screen is the same on every run.
"""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path

from runners.protocol import Done, Error, Hello, Metrics, Phase, Probe
from runners.session.state.runner_state import RunnerState

RUNNERS = ["keras/jax", "keras/tensorflow", "keras/torch", "torch"]
# Seconds per step, start-up and warm-up seconds: made up, distinct, fixed.
PACE = {"keras/jax": (0.004, 5.0, 2.0), "keras/tensorflow": (0.006, 6.0, 1.0),
        "keras/torch": (0.009, 4.0, 0.5), "torch": (0.005, 3.0, 0.1)}
T0 = 1_800_000_000.0
WINDOW = 10


def synthetic_events(steps: int = 200, until_step: int | None = None, fail: str | None = None):
    """Every runner's events in time order; ``until_step`` stops the stream mid-run."""
    events = []
    for index, name in enumerate(RUNNERS):
        step_s, startup_s, warmup_s = PACE[name]
        framework, _, backend = name.partition("/")
        t = T0
        events += [Phase(name, "importing", t=t), Phase(name, "building", t=t + startup_s * 0.8)]
        t += startup_s
        events.append(Hello(name, t=t, pid=1000 + index, framework=framework, backend=backend or "torch",
                            versions={"keras": "3.15.1", backend or "torch": "1.0"} if backend else {"torch": "2.13.0"},
                            device="cpu", params=118_282, threads=1, cpus=[index % 2], flops_per_step=2.3e8,
                            compiler="XLA" if backend == "jax" else "eager"))
        events.append(Probe(name, t=t, values=[0.1, -0.2, 0.3], shape=[1, 3]))
        events.append(Phase(name, "warmup", t=t))
        rng = random.Random(index)
        last = min(steps, until_step or steps)
        for first in range(0, last, WINDOW):
            end = min(first + WINDOW, last) - 1
            warm = first == 0
            window_s = warmup_s if warm else step_s * (end - first + 1)
            t += window_s
            # The first steps agree across runners (parity holds); batch noise after that.
            losses = [2.3011 * math.exp(-s / 60) + 0.05 + (0.08 * rng.random() if s > 5 else 0.0)
                      for s in range(first, end + 1)]
            events.append(Metrics(name, t=t, first_step=first, step=end, losses=losses, window_s=window_s,
                                  batch_size=32, warmup=warm, rss_bytes=(400 + 100 * index) * 2**20))
            if warm:
                events.append(Phase(name, "training", t=t))
            if name == fail and end >= steps // 2:
                events += [Error(name, t=t, error_type="RuntimeError", message="crash injected at step 100"),
                           Phase(name, "failed", t=t)]
                break
        else:
            if last == steps:
                events += [Done(name, t=t, steps=steps, train_s=t - T0), Phase(name, "done", t=t)]
    return sorted(events, key=lambda e: e.t)


class SyntheticRun:
    """An event source (``runners.session.sources.EventSource``) over a fixed list of events."""

    live = False
    schedule = "parallel"
    until = None
    controls = None  # a fixed stream: nothing to pause, stop or restart
    replay = None
    bad_lines = 0
    record_error = None

    def __init__(self, steps: int = 200, until_step: int | None = None, fail: str | None = None,
                 output: Path | None = None):
        self.runner_names = list(RUNNERS)
        self.total_steps = steps
        self.duration_s = None
        self._events = synthetic_events(steps, until_step, fail)
        self._finishes = until_step is None
        self._stopped = asyncio.Event()
        self._output = output

    async def start(self) -> None:
        pass

    def new_state(self, runner: str) -> RunnerState:
        return RunnerState(runner, self.total_steps, self.duration_s)

    async def events(self):
        for event in self._events:
            yield event
        if not self._finishes:
            await self._stopped.wait()  # mid-run: the stream stays open, like a run in progress

    async def stop(self) -> None:
        self._stopped.set()

    def output_path(self, runner: str) -> Path | None:
        return self._output

    def describe(self) -> str:
        return "synthetic run · fixed events for tests"

    def pids(self) -> dict[str, int]:
        return {}

    def sharing(self) -> dict[str, list[str]]:
        return {name: [] for name in self.runner_names}
