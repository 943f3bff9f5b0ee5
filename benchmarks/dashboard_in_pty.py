"""The dashboard as a user runs it: the real app on a terminal, fed by stand-in runners.

    dashboard_in_pty.py RESULT_JSON REFRESH_HZ RUNNERS EVENTS_PER_S SECONDS SETTLE_S

Run by ``tool_performance.py`` on the slave side of a pseudo-terminal it reads
like a terminal emulator would, so every frame is rendered to escape codes and
written. Writes to RESULT_JSON: the delay of every event from its birth (in its
runner) to the first write to the terminal after its panel showed it, and this
process's CPU share once SETTLE_S seconds of the flow have passed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from flood import DASHBOARD_CPU, FloodLauncher  # noqa: E402

from tui.app import DashboardApp  # noqa: E402
from tui.widgets.runner_panel import RunnerPanel  # noqa: E402


class MeasuredDashboard(DashboardApp):
    CSS_PATH = ROOT / "tui" / "app.tcss"  # a relative path would be looked up beside this file

    def __init__(self, launcher: FloodLauncher, refresh_hz: float, settle_s: float):
        super().__init__(launcher, "tool performance", refresh_hz=refresh_hz)
        self.launcher, self.settle_s = launcher, settle_s
        self.waiting: list[tuple[str, int, int]] = []  # shown by a panel, not yet written: (runner, from, to)
        self.delays: list[float] = []
        self.cpu: float | None = None
        self._window: tuple | None = None
        self._first_event_at: float | None = None

    def on_mount(self) -> None:
        super().on_mount()
        driver_write = self._driver.write

        def write(data: str) -> None:
            driver_write(data)
            now = time.time()
            for runner, first, last in self.waiting:
                for step in range(first, last + 1):
                    if (runner, step) in self.launcher.born:
                        self.delays.append(now - self.launcher.born[(runner, step)])
            self.waiting.clear()

        self._driver.write = write
        self.set_interval(0.1, self._watch)

    def _watch(self) -> None:
        process = psutil.Process()
        if self._first_event_at is None and any(s.latest for s in self.states.values()):
            self._first_event_at = time.monotonic()
        if self._window is None and self._first_event_at and time.monotonic() - self._first_event_at >= self.settle_s:
            self._window = (process.cpu_times(), time.monotonic(), len(self.delays))
        if self._window is not None and all(s.ended for s in self.states.values()):
            (start, wall_start, first_delay), end = self._window, process.cpu_times()
            used = end.user + end.system - start.user - start.system
            self.cpu = 100 * used / (time.monotonic() - wall_start)
            self.delays = self.delays[first_delay:]  # the settled window only, like the CPU
            self.exit()


def main() -> None:
    result, refresh, runners, rate, seconds, settle = sys.argv[1:7]
    os.sched_setaffinity(0, [DASHBOARD_CPU])
    base = Path(tempfile.mkdtemp(prefix="kvp-dash-bench-"))
    launcher = FloodLauncher(int(runners), float(rate), int(float(rate) * float(seconds)), base, float(refresh))
    app = MeasuredDashboard(launcher, float(refresh), float(settle))
    original = RunnerPanel.show
    shown: dict[str, int] = {}

    def show(panel, state, *args):
        original(panel, state, *args)
        if state.latest is not None and state.latest.step > shown.get(panel.runner, -1):
            app.waiting.append((panel.runner, shown.get(panel.runner, -1) + 1, state.latest.step))
            shown[panel.runner] = state.latest.step

    RunnerPanel.show = show
    try:
        app.run()
    finally:
        launcher.kill_now()
        shutil.rmtree(base, ignore_errors=True)
    if app.cpu is None:
        raise SystemExit("the run ended before it was measured")
    Path(result).write_text(json.dumps({"cpu": app.cpu, "delays": app.delays}))


if __name__ == "__main__":
    main()
