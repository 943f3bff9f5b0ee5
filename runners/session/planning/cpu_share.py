"""Fair CPU shares: four runners on two cores must not thrash each other."""

from __future__ import annotations

import os


def available_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def plan_cpu_shares(runners: int, cpus: list[int]) -> list[list[int]]:
    """Give each runner a disjoint set of CPUs; when runners outnumber CPUs, pair them up round-robin."""
    if runners <= 0:
        return []
    if runners >= len(cpus):
        return [[cpus[i % len(cpus)]] for i in range(runners)]
    per_runner = len(cpus) // runners
    return [cpus[i * per_runner : (i + 1) * per_runner] for i in range(runners)]


def thread_environment(threads: int) -> dict[str, str]:
    """Variables the native thread pools read at start-up, before any framework loads."""
    value = str(threads)
    return {
        "OMP_NUM_THREADS": value,
        "MKL_NUM_THREADS": value,
        "TF_NUM_INTRAOP_THREADS": value,
        "TF_NUM_INTEROP_THREADS": value,
    }
