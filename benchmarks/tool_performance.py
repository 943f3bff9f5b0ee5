"""How light the dashboard itself is: start-up, imports, event ingest, event-to-screen delay, CPU, memory.

    python benchmarks/tool_performance.py [--events 1000000]

Prints one figure per line (targets from issue 6 in brackets). Nothing trains:
the events are synthetic, fed through the real app (DashboardApp, headless
Pilot) or the real state.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runners.protocol import Metrics, Phase  # noqa: E402
from tui.app import DashboardApp  # noqa: E402
from tui.widgets.runner_panel import RunnerPanel  # noqa: E402

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras")


def help_wall_time(repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tui.cli", "--help"], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def frameworks_imported_by_the_parent() -> list[str]:
    """-X importtime of the dashboard's own modules (app, CLI): which frameworks show up."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tui.cli, tui.app, tui.headless"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    names = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    return sorted(names & set(FRAMEWORKS))


class FloodSource:
    """A live-looking source that emits events as fast as asked, stamping each with its birth time."""

    live = False
    schedule = "parallel"

    def __init__(self, runners: int, per_runner_hz: float | None, total: int):
        self.runner_names = [f"runner{i}" for i in range(runners)]
        self.total_steps = total // runners
        self.rate = per_runner_hz
        self.total = total
        self.stopped = False
        self.born: dict[tuple[str, int], float] = {}

    async def start(self):
        pass

    async def events(self):
        runners = self.runner_names
        for name in runners:
            yield Phase(name, "training")
        interval = 1 / (self.rate * len(runners)) if self.rate else 0
        next_at = time.perf_counter()
        for index in range(self.total):
            if self.stopped:
                return
            name = runners[index % len(runners)]
            step = index // len(runners)
            now = time.perf_counter()
            self.born[(name, step)] = now
            yield Metrics(name, first_step=step, step=step, losses=[1.0 / (1 + step)], window_s=0.01,
                          batch_size=32, warmup=step < 2, t=time.time())
            if interval:
                next_at += interval
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif index % 2000 == 0:
                await asyncio.sleep(0)  # let the screen draw, as a real source does between reads
        for name in runners:
            yield Phase(name, "done")

    async def stop(self):
        self.stopped = True

    def output_path(self, runner):
        return None

    def describe(self):
        return "flood"

    def pids(self):
        return {}

    def sharing(self):
        return {n: [] for n in self.runner_names}


async def ingest(total: int) -> tuple[float, float]:
    """Events per second through the app as fast as it takes them, and RSS growth (MiB) after ``total``."""
    source = FloodSource(5, None, total)
    app = DashboardApp(source, "ingest", animate=False)
    rss_before = psutil.Process().memory_info().rss
    async with app.run_test(size=(160, 48)) as pilot:
        start = time.perf_counter()
        while not all(s.ended for s in app.states.values()):
            await pilot.pause(0.05)
        elapsed = time.perf_counter() - start
        rss_after = psutil.Process().memory_info().rss
    return total / elapsed, (rss_after - rss_before) / 2**20


async def latency(refresh_hz: float, runners: int = 5, hz: float = 200, seconds: float = 10) -> tuple[float, float]:
    """p95 delay from an event's birth to the redraw that shows it, and the app's CPU % meanwhile."""
    source = FloodSource(runners, hz, int(runners * hz * seconds))
    app = DashboardApp(source, "latency", animate=False, refresh_hz=refresh_hz)
    delays: list[float] = []
    shown: dict[str, int] = {}
    original = RunnerPanel.show

    def show(panel, state, *args):
        """Every event that arrived since this panel's last redraw waited until now."""
        original(panel, state, *args)
        now, latest = time.perf_counter(), state.latest
        if latest is None:
            return
        for step in range(shown.get(panel.runner, -1) + 1, latest.step + 1):
            if (panel.runner, step) in source.born:
                delays.append(now - source.born[(panel.runner, step)])
        shown[panel.runner] = latest.step

    RunnerPanel.show = show
    process = psutil.Process()
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            cpu_start, wall_start = process.cpu_times(), time.perf_counter()
            while not all(s.ended for s in app.states.values()):
                await pilot.pause(0.1)
            cpu_end, wall_end = process.cpu_times(), time.perf_counter()
    finally:
        RunnerPanel.show = original
    cpu = (cpu_end.user + cpu_end.system - cpu_start.user - cpu_start.system) / (wall_end - wall_start)
    return statistics.quantiles(delays, n=20)[-1], cpu * 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    os.sched_setaffinity(0, [0])  # "at one CPU core"
    print(f"kvp-dash --help wall time (median of 5): {help_wall_time():.3f} s   [target <= 0.3 s]")
    found = frameworks_imported_by_the_parent()
    print(f"frameworks imported by the dashboard (-X importtime): {', '.join(found) or 'none'}   [target: none]")
    for refresh in (4, 10):
        p95, cpu = asyncio.run(latency(refresh))
        print(f"--refresh {refresh}: event -> screen p95 {p95 * 1000:.0f} ms [target <= 200 ms] at 5 runners x "
              f"200 events/s; dashboard CPU {cpu:.1f} % of one core [target <= 5 %]")
    rate, growth = asyncio.run(ingest(args.events))
    print(f"ingest: {rate:,.0f} events/s on one core ({args.events:,} events through the app)")
    print(f"RSS growth after {args.events:,} events: {growth:.1f} MiB (state is downsampled: bounded)")


if __name__ == "__main__":
    main()
