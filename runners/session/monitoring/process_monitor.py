"""Each runner's CPU use and memory, as the operating system sees them (psutil).

Sampled from the dashboard process, children of a runner included (compilers and
data workers count against the runner that started them). A child's memory is its unique
set (USS): a DataLoader worker is a fork of its runner, and its resident set counts the
pages it shares with it again (four workers of a 1 GiB runner read as 5 GiB).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class HostSample:
    cpu_percent: float  # of one core, summed over the runner's processes (200 = two cores busy)
    rss_bytes: int


# Walking every process on the machine for the runners' trees cost more than sampling them: the
# trees are found again this often (a new compiler or data worker is counted from then on).
TREES_EVERY_S = 5.0


class HostMonitor:
    def __init__(self):
        self._processes: dict[int, psutil.Process] = {}
        self._children: dict[int, list[int]] = {}
        self._children_at = -TREES_EVERY_S
        self._roots: set[int] = set()  # the runners' pids the trees were found for: a new one is looked up at once

    def _tracked(self, pid: int) -> psutil.Process:
        # Kept between samples: cpu_percent() measures since the previous call on the same object.
        if pid not in self._processes:
            self._processes[pid] = psutil.Process(pid)
            self._processes[pid].cpu_percent()
        return self._processes[pid]

    def sample(self, pids: dict[str, int]) -> dict[str, HostSample]:
        if time.monotonic() - self._children_at >= TREES_EVERY_S or not set(pids.values()) <= self._roots:
            self._children, self._children_at = _children_by_parent(), time.monotonic()  # one pass over /proc
            self._roots = set(pids.values())
        children = self._children
        found, seen = {}, set()
        for runner, pid in pids.items():
            tree, cpu, rss = [pid], 0.0, 0
            for member in tree:  # grows as it goes: the runner's descendants, breadth first
                tree.extend(children.get(member, ()))
                try:
                    process = self._tracked(member)
                    with process.oneshot():
                        cpu += process.cpu_percent()
                        rss += process.memory_info().rss if member == pid else process.memory_full_info().uss
                except psutil.Error:
                    if member == pid:
                        break  # the runner is gone: nothing to show, nothing to invent
                    continue
                seen.add(member)
            else:
                found[runner] = HostSample(cpu, rss)
        self._processes = {pid: process for pid, process in self._processes.items() if pid in seen}
        return found


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for process in psutil.process_iter(["ppid"]):
        children.setdefault(process.info["ppid"], []).append(process.pid)
    return children
