"""Shared helpers: real runner subprocesses on tiny settings."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from runners.config import RunConfig
from runners.protocol import PARENT_PID_ENV, decode_lines
from runners.session.planning.cpu_share import available_cpus
from runners.session.planning.defaults import DEFAULT_SLICE_S
from runners.session.launching.launcher import Launcher, run_headless
from runners.session.verdict.parity import ParityTracker
from runners.session.record.run_folder import RunFolder
from runners.specs import SPECS
from workloads import get_workload

ALL_SPECS = [name for name, spec in SPECS.items() if spec.default]
# Small enough for 2 cores, long enough for the loss to fall visibly on the synthetic data.
TINY_MLP = dict(steps=60, batch_size=32, seed=0)
# The four runners' shared mlp run: 70 steps of 128 over the pool of 4,096 samples, epochs held to one
# pass over it, so it crosses two epoch boundaries and ends mid-epoch (a second fit() in Keras).
FOUR_RUNS = dict(steps=70, batch_size=128, epoch_bytes=1)


def tiny_launcher(tmp_path: Path, runners: list[str], overrides=None, epoch_bytes: int | None = None,
                  schedule: str = "parallel", slice_s: float = DEFAULT_SLICE_S, devices: int = 1,
                  **settings) -> Launcher:
    workload = get_workload(settings.pop("workload", "mlp"))
    workload_settings = workload.settings(**{**TINY_MLP, **settings})
    if epoch_bytes is not None:
        workload_settings = replace(workload_settings, epoch_bytes=epoch_bytes)
    config = RunConfig(
        workload=workload.name,
        settings=workload_settings,
        report_interval_s=0.05,  # several windows even in a short run
        devices=devices,
    )
    folder = RunFolder.create(tmp_path / "runs", workload.name)
    return Launcher([SPECS[r] for r in runners], config, folder, available_cpus(), overrides=overrides,
                    schedule=schedule, slice_s=slice_s)


async def collect(launcher: Launcher, on_event=None, timeout_s: float = 240) -> dict[str, list]:
    """Run the launcher to the end; every event, per runner, in arrival order."""
    events = defaultdict(list)

    def keep(event):
        events[event.runner].append(event)
        if on_event is not None:
            on_event(event)

    await asyncio.wait_for(run_headless(launcher, keep), timeout_s)
    return events


@pytest.fixture(scope="session")
def four_runs(tmp_path_factory):
    """All four runner specs train mlp once, concurrently, as the dashboard would start them.

    Started once per test session: the protocol, run folder, CPU share and epoch tests all read it.
    """
    launcher = tiny_launcher(tmp_path_factory.mktemp("four"), ALL_SPECS, **FOUR_RUNS)
    events = asyncio.run(collect(launcher))
    return launcher, events


@pytest.fixture(scope="session")
def checked(tmp_path_factory):
    """``kvp-dash check --workload W --size tiny`` with every default runner, its output piped as a CI log
    would take it: (completed process, run folder). Run once per workload per test session."""
    runs = {}

    def check(workload_ref: str, *options: str):
        key = (workload_ref, *options)
        if key not in runs:
            output = tmp_path_factory.mktemp("check")
            result = subprocess.run(
                [sys.executable, "-m", "tui.cli", "check", "--workload", workload_ref, "--size", "tiny",
                 "--output", str(output), *options],
                capture_output=True, text=True, timeout=400,
            )
            runs[key] = (result, next(output.glob("*-check-*"), None))
        return runs[key]

    return check


_TEST_JAX_CACHE = "KVP_DASH_TEST_JAX_CACHE"  # the controller's folder, for its workers


def _one_jax_compilation_cache() -> None:
    """The session's keras/jax runners share one JAX compilation cache, so XLA compiles the same tiny programs once
    per session, not once per runner: a keras/jax runner of tiny gpt2 spent 18.5 s of CPU with a cold cache and
    6.2 s with a warm one here. Compile times in the tests' figures are then short; no test judges their size.
    A user's runs compile as before: kvp-dash sets no cache of its own.

    Under pytest-xdist the controller makes the folder before it starts its workers, which inherit it, so a program
    one worker compiled is not compiled again by the other; the controller removes it at exit."""
    folder = os.environ.get(_TEST_JAX_CACHE)
    if folder is None:
        folder = tempfile.mkdtemp(prefix="kvp-dash-test-jax-cache-")
        os.environ[_TEST_JAX_CACHE] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.update(JAX_COMPILATION_CACHE_DIR=folder, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                      JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")


_one_jax_compilation_cache()

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers share the cores: OpenMP threads that spin while they wait (the default) would burn the other
    # worker's core (a torch test ran 6x slower that way); passive ones sleep. Timing only, never numbers.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Every process this test session starts inherits this mark, so the leak check below
# looks only at our own runners, never at a real run elsewhere on the machine.
SESSION_MARK = "KVP_DASH_TEST_SESSION"
os.environ[SESSION_MARK] = uuid.uuid4().hex


def runner_children(pid: int, recursive: bool = True) -> list[psutil.Process]:
    """The runner subprocesses under ``pid``. A child that is exiting (a zombie, such as the dashboard's short
    ``git rev-parse`` for meta.json in the moment before it is reaped) has no command line: it is no runner."""
    found = []
    for child in psutil.Process(pid).children(recursive=recursive):
        try:
            if "runners.child" in child.cmdline():
                found.append(child)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return found


def runner_processes() -> list[psutil.Process]:
    """Live (non-zombie) runner subprocesses started by this test session, orphans included: every process
    started with a runner's environment (the ranks of a data-parallel runner, and their helpers, too)."""
    found = []
    for proc in psutil.process_iter(["status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE or proc.pid == os.getpid():
            continue
        try:
            environment = proc.environ()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if environment.get(SESSION_MARK) == os.environ[SESSION_MARK] and PARENT_PID_ENV in environment:
            found.append(proc)
    return found


EXIT_GRACE_S = 3.0


@pytest.fixture(autouse=True, scope="session")
def own_prepared_cache(tmp_path_factory):
    """Generated weights and checkpoints cached for this test session alone (each xdist worker its own), never
    in the user's ~/.cache; the subprocesses the tests start inherit it."""
    from runners.session.planning.prepared_cache import CACHE_ENV

    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("prepared-cache"))
    yield Path(os.environ[CACHE_ENV])
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


def prepared_path(folder: Path) -> Path:
    """What a run folder's preparation used (``prepared.json``): the weights file or checkpoint folder."""
    return Path(json.loads((folder / "prepared.json").read_text())["path"])


@pytest.fixture(autouse=True)
def no_runner_left_behind():
    """Every test must leave no runner process alive."""
    before = {p.pid for p in runner_processes()}
    yield
    leftover = [p for p in runner_processes() if p.pid not in before]
    # A helper that outlives its runner by a moment (multiprocessing's resource tracker exits once the runner
    # process that held it is gone) is exiting, not left behind: a real leak is still there after this.
    _, leftover = psutil.wait_procs(leftover, timeout=EXIT_GRACE_S)
    for proc in leftover:
        proc.kill()
    assert not leftover, f"runner processes left behind: {[p.pid for p in leftover]}"


def recorded_parity(folder: Path) -> ParityTracker:
    """The parity facts of a run folder's recorded events, as the judge saw them live."""
    runners = json.loads((folder / "run.json").read_text())["config"]["runners"]
    tracker = ParityTracker(runners)
    for runner in runners:
        events, bad = decode_lines((folder / f"{runner.replace('/', '-')}.events.jsonl").read_bytes().splitlines())
        assert not bad
        for event in events:
            tracker.observe(event)
    return tracker


def tiered(values, extended) -> list:
    """Parameters for ``pytest.mark.parametrize``: those in ``extended`` marked for the extended tier."""
    return [pytest.param(value, marks=pytest.mark.extended if value in extended else ()) for value in values]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A worker a file, as ``--dist loadfile`` would give (a file's session fixtures start once), except that the
    files with a test reading the ``four_runs`` run share a worker, so that run starts once. Before xdist's own
    hook, which reads the groups."""
    four_runs_files = {item.path for item in items if "four_runs" in item.fixturenames}
    for item in items:
        item.add_marker(pytest.mark.xdist_group("four_runs" if item.path in four_runs_files else item.path.name))
