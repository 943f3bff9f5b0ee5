"""Shared helpers: real runner subprocesses on tiny settings."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import psutil
import pytest

from runners.config import RunConfig
from runners.cpu_share import available_cpus
from runners.launcher import Launcher, run_headless
from runners.recording import RunFolder
from runners.specs import SPECS
from workloads import get_workload

ALL_SPECS = list(SPECS)
# Small enough for 2 cores, long enough for the loss to fall visibly on the synthetic data.
TINY_MLP = dict(steps=60, batch_size=32, seed=0)


def tiny_launcher(tmp_path: Path, runners: list[str], overrides=None, **settings) -> Launcher:
    workload = get_workload(settings.pop("workload", "mlp"))
    config = RunConfig(
        workload=workload.name,
        settings=workload.settings(**{**TINY_MLP, **settings}),
        report_interval_s=0.05,  # several windows even in a short run
    )
    folder = RunFolder.create(tmp_path / "runs", workload.name)
    return Launcher([SPECS[r] for r in runners], config, folder, available_cpus(), overrides=overrides)


async def collect(launcher: Launcher, on_event=None, timeout_s: float = 240) -> dict[str, list]:
    """Run the launcher to the end; every event, per runner, in arrival order."""
    events = defaultdict(list)

    def keep(event):
        events[event.runner].append(event)
        if on_event is not None:
            on_event(event)

    await asyncio.wait_for(run_headless(launcher, keep), timeout_s)
    return events


def runner_processes() -> list[psutil.Process]:
    """Live (non-zombie) runner subprocesses anywhere on the machine started by this test run."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if "runners.child" in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


@pytest.fixture(autouse=True)
def no_runner_left_behind():
    """Every test must leave no runner process alive."""
    before = {p.pid for p in runner_processes()}
    yield
    leftover = [p for p in runner_processes() if p.pid not in before]
    for proc in leftover:
        proc.kill()
    assert not leftover, f"runner processes left behind: {[p.pid for p in leftover]}"
