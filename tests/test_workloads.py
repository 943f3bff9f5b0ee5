"""Every built-in workload learns: on its default synthetic data the loss visibly falls."""

from __future__ import annotations

import asyncio

import pytest

from runners.config import RunConfig
from runners.cpu_share import available_cpus
from runners.launcher import Launcher, run_headless
from runners.protocol import Metrics
from runners.recording import RunFolder
from runners.specs import SPECS
from workloads import get_workload, workload_names


@pytest.mark.parametrize("name", workload_names())
def test_loss_falls_within_the_tiny_preset(tmp_path, name):
    workload = get_workload(name)
    settings = workload.settings(size="tiny")
    # Parity holds across runners (test_parity), so one runner speaks for all four here.
    launcher = Launcher([SPECS["torch"]], RunConfig(workload=name, settings=settings),
                        RunFolder.create(tmp_path, name), available_cpus())
    losses: list[float] = []
    asyncio.run(run_headless(launcher, lambda e: losses.extend(e.losses) if isinstance(e, Metrics) else None))
    assert len(losses) == settings.steps
    k = max(1, len(losses) // 10)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    assert last < 0.95 * first and first - last > 0.05, (first, last)
