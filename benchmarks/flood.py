"""The real launcher (pipes, channel thread, JSONL record, queue) with stand-in runners (flood_runner.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from runners.config import RunConfig
from runners.protocol import Metrics
from runners.session.launching.launcher import Launcher
from runners.session.record.run_folder import RunFolder
from runners.specs import SPECS
from workloads import get_workload

FLOOD_RUNNER = Path(__file__).resolve().parent / "flood_runner.py"
# The dashboard gets core 0 to itself; the stand-in runners share core 1.
DASHBOARD_CPU, FLOOD_CPU = 0, 1


class FloodLauncher(Launcher):
    """Each runner is flood_runner.py writing synthetic events at ``per_runner_hz`` (stamped when written)."""

    def __init__(self, runners: int, per_runner_hz: float, count: int, base: Path, refresh_hz: float = 6):
        specs = list(SPECS.values())[:runners]
        workload = get_workload("mlp")
        config = RunConfig(workload="mlp", settings=workload.settings(steps=count))
        # The channels are read once per frame, as the CLI sets it up.
        super().__init__(specs, config, RunFolder.create(base, "flood"), cpus=[FLOOD_CPU],
                         read_every_s=1 / refresh_hz)
        self.rate, self.count = per_runner_hz, count
        self.born: dict[tuple[str, int], float] = {}

    def _child_command(self, child) -> list[str]:
        return ["taskset", "-c", str(FLOOD_CPU), sys.executable, str(FLOOD_RUNNER), child.spec.name,
                str(self.rate), str(self.count)]

    def _deliver(self, batches) -> None:
        # Here rather than around events(): one more async generator per event would be
        # the benchmark's own cost, counted as the dashboard's.
        if self.rate < 1e6:
            born = self.born
            for channel, events, _ in batches:
                for event in events:
                    if isinstance(event, Metrics):
                        born[(event.runner, event.step)] = event.t  # stamped in the flood process
        super()._deliver(batches)
