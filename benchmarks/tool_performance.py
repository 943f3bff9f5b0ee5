"""How light the dashboard itself is: start-up, imports, event ingest, event-to-screen delay, CPU, memory.

    python benchmarks/tool_performance.py [--events 1000000]

Prints one figure per line (targets from issue 6 in brackets). Nothing trains:
stand-in runners (flood_runner.py, on the other core) write synthetic events into
the real launcher's pipes, and the real app (Textual's headless driver) takes
them in, records them and draws them on the dashboard's own core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runners.config import RunConfig  # noqa: E402
from runners.launcher import Launcher  # noqa: E402
from runners.protocol import Metrics  # noqa: E402
from runners.recording import RunFolder  # noqa: E402
from runners.specs import SPECS  # noqa: E402
from tui.app import DashboardApp  # noqa: E402
from tui.widgets.runner_panel import RunnerPanel  # noqa: E402
from workloads import get_workload  # noqa: E402

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras")
FLOOD_RUNNER = Path(__file__).resolve().parent / "flood_runner.py"
# The dashboard gets core 0 to itself; the stand-in runners share core 1.
DASHBOARD_CPU, FLOOD_CPU = 0, 1


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


class FloodLauncher(Launcher):
    """The real launcher (pipes, pumps, JSONL record, queue), with flood_runner.py in place of each runner."""

    def __init__(self, runners: int, per_runner_hz: float, count: int, base: Path, refresh_hz: float = 6):
        specs = list(SPECS.values())[:runners]
        workload = get_workload("mlp")
        config = RunConfig(workload="mlp", settings=workload.settings(steps=count))
        super().__init__(specs, config, RunFolder.create(base, "flood"), cpus=[FLOOD_CPU], read_every_s=1 / refresh_hz)
        self.rate, self.count = per_runner_hz, count
        self.born: dict[tuple[str, int], float] = {}

    def _child_command(self, child) -> list[str]:
        return ["taskset", "-c", str(FLOOD_CPU), sys.executable, str(FLOOD_RUNNER), child.spec.name,
                str(self.rate), str(self.count)]

    async def events(self):
        async for event in super().events():
            if isinstance(event, Metrics) and self.rate < 1e6:
                self.born[(event.runner, event.step)] = event.t  # stamped in the flood process
            yield event


async def ingest(total: int, base: Path) -> tuple[float, float]:
    """Events per second the app takes in on one core, and its RSS growth (MiB) after ``total`` events."""
    launcher = FloodLauncher(5, 1e9, total // 5, base)
    app = DashboardApp(launcher, "ingest", animate=False)
    rss_before = psutil.Process().memory_info().rss
    async with app.run_test(size=(160, 48)):
        while not any(s.latest for s in app.states.values()):
            await asyncio.sleep(0.01)
        start = time.perf_counter()
        while not all(s.ended for s in app.states.values()):
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        rss_after = psutil.Process().memory_info().rss
    return total / elapsed, (rss_after - rss_before) / 2**20


async def latency(refresh_hz: float, base: Path, runners: int = 5, hz: float = 200,
                  seconds: float = 10) -> tuple[float, float]:
    """p95 delay from an event's birth (in its runner) to the redraw that shows it, and the app's CPU %."""
    launcher = FloodLauncher(runners, hz, int(hz * seconds), base, refresh_hz)  # as the CLI does
    app = DashboardApp(launcher, "latency", refresh_hz=refresh_hz)
    delays: list[float] = []
    shown: dict[str, int] = {}
    original = RunnerPanel.show

    def show(panel, state, *args):
        """Every event that arrived since this panel's last redraw waited until now."""
        original(panel, state, *args)
        now, latest = time.time(), state.latest
        if latest is None:
            return
        for step in range(shown.get(panel.runner, -1) + 1, latest.step + 1):
            if (panel.runner, step) in launcher.born:
                delays.append(now - launcher.born[(panel.runner, step)])
        shown[panel.runner] = latest.step

    RunnerPanel.show = show
    process = psutil.Process()
    try:
        async with app.run_test(size=(160, 48)):
            while not any(s.latest for s in app.states.values()):
                await asyncio.sleep(0.01)
            cpu_start, wall_start = process.cpu_times(), time.perf_counter()
            while not all(s.ended for s in app.states.values()):
                await asyncio.sleep(0.1)  # not pilot.pause(): that forces work a real terminal never sees
            cpu_end, wall_end = process.cpu_times(), time.perf_counter()
    finally:
        RunnerPanel.show = original
    cpu = (cpu_end.user + cpu_end.system - cpu_start.user - cpu_start.system) / (wall_end - wall_start)
    return statistics.quantiles(delays, n=20)[-1], cpu * 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    os.sched_setaffinity(0, [DASHBOARD_CPU])  # "at one CPU core"
    base = Path(tempfile.mkdtemp(prefix="kvp-dash-bench-"))
    print(f"kvp-dash --help wall time (median of 5): {help_wall_time():.3f} s   [target <= 0.3 s]")
    found = frameworks_imported_by_the_parent()
    print(f"frameworks imported by the dashboard (-X importtime): {', '.join(found) or 'none'}   [target: none]")
    for refresh in (4, 6, 10):
        p95, cpu = asyncio.run(latency(refresh, base))
        print(f"--refresh {refresh}: event -> screen p95 {p95 * 1000:.0f} ms [target <= 200 ms] at 5 runners x "
              f"200 events/s; dashboard CPU {cpu:.1f} % of one core [target <= 5 %]")
    # A real runner reports once per timing window (about every 0.5 s): the everyday load.
    _, cpu = asyncio.run(latency(6, base, hz=2, seconds=10))
    print(f"dashboard CPU at a real runner's pace (5 runners x 2 events/s, --refresh 6): {cpu:.1f} % of one core")
    rate, growth = asyncio.run(ingest(args.events, base))
    shutil.rmtree(base, ignore_errors=True)
    print(f"ingest: {rate:,.0f} events/s on one core ({args.events:,} events through the app)")
    print(f"RSS growth after {args.events:,} events: {growth:.1f} MiB (state is downsampled: bounded)")


if __name__ == "__main__":
    main()
