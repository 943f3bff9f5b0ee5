"""Each runner's CPU use and memory, as the operating system sees them (psutil).

Sampled from the dashboard process, children of a runner included (compilers and
data workers count against the runner that started them).
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class HostSample:
    cpu_percent: float  # of one core, summed over the runner's processes (200 = two cores busy)
    rss_bytes: int


class HostMonitor:
    def __init__(self):
        self._processes: dict[int, psutil.Process] = {}

    def _tracked(self, pid: int) -> psutil.Process:
        # Kept between samples: cpu_percent() measures since the previous call on the same object.
        if pid not in self._processes:
            self._processes[pid] = psutil.Process(pid)
            self._processes[pid].cpu_percent()
        return self._processes[pid]

    def sample(self, pids: dict[str, int]) -> dict[str, HostSample]:
        found = {}
        for runner, pid in pids.items():
            try:
                root = self._tracked(pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue  # the runner is gone: nothing to show, nothing to invent
            cpu, rss = 0.0, 0
            for process in tree:
                try:
                    process = self._tracked(process.pid)
                    with process.oneshot():
                        cpu += process.cpu_percent()
                        rss += process.memory_info().rss
                except psutil.Error:
                    continue
            found[runner] = HostSample(cpu, rss)
        return found
