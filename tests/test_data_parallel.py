"""--devices: every runner data-parallel over two CPU devices with its own engine, as one device would train."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from runners.child.distributed.scratch import PREFIX, remove_orphans
from runners.protocol import Error, Hello, Metrics, Phase, Rank, decode_lines
from runners.session.planning.plan import make_plan
from tests.conftest import FOUR_RUNS, collect, runner_processes, tiered, tiny_launcher
from workloads import get_workload
from workloads.errors import InputError

# The first steps of the four runners' one-device run (``four_runs``): same data, order and weights.
STEPS = 32  # the whole pool of 4,096 samples at batch 128: the same data as the 70-step run
ENGINES = {
    "keras/jax": "keras.distribution.DataParallel",
    "keras/tensorflow": "tf.distribute.MirroredStrategy",
    "keras/torch": "DDP via torchrun",
    "torch": "DDP via torchrun",
}


def _losses(events) -> list[float]:
    return [loss for event in events if isinstance(event, Metrics) for loss in event.losses]


# Keras on torch's two-device run (a custom loop under DDP, three processes with Keras and torch each: about 35
# CPU-s here) is in the extended tier; the default tier runs each engine once: torch's torchrun, keras/jax's
# DataParallel and keras/tensorflow's MirroredStrategy.
@pytest.mark.parametrize("runners", [
    ["keras/jax", "keras/tensorflow", "torch"],
    pytest.param(["keras/torch"], marks=pytest.mark.extended),
], ids=["every-engine", "keras-torch"])
def test_every_runner_trains_on_two_devices_as_one_device_does(tmp_path, four_runs, runners):
    launcher = tiny_launcher(tmp_path, runners, devices=2, **{**FOUR_RUNS, "steps": STEPS})
    events = asyncio.run(collect(launcher))
    _, one_device = four_runs
    for runner in runners:
        phases = [e.phase for e in events[runner] if isinstance(e, Phase)]
        assert phases[-1] == "done", (runner, [e for e in events[runner] if isinstance(e, Error)])
        hello = next(e for e in events[runner] if isinstance(e, Hello))
        assert hello.devices == 2 and hello.distribution.startswith(ENGINES[runner])
        losses, reference = _losses(events[runner]), _losses(one_device[runner])[:STEPS]
        assert len(losses) == STEPS
        # Measured here over 32 steps: jax, tensorflow and torch within 1e-5 (float32 sums in another order);
        # Keras on torch 5e-5, as it trains with torch.optim in place of its one-device run's Keras optimizer (the
        # cross-framework tolerance). A wrong slice or a missing all-reduce moves step 1's loss by 1e-3 or more.
        rtol = get_workload("mlp").parity_step_rtol if runner == "keras/torch" else 1e-5
        np.testing.assert_allclose(losses, reference, rtol=rtol, err_msg=runner)
        assert abs(losses[1] - reference[1]) < 1e-5  # before the optimizers could drift: the same gradient
    for runner in {"torch", "keras/torch"} & set(runners):  # torchrun's ranks each said who they are
        ranks = {e.rank: e for e in events[runner] if isinstance(e, Rank)}
        assert sorted(ranks) == [0, 1] and all(r.world_size == 2 and r.rss_bytes > 0 for r in ranks.values())
        assert ranks[0].pid != ranks[1].pid
    if "keras/torch" in runners:
        assert "custom loop" in next(e for e in events["keras/torch"] if isinstance(e, Hello)).distribution


def test_a_rank_that_dies_fails_its_runner_with_that_ranks_error_and_the_others_go_on(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch", "keras/jax"], devices=2, steps=12,
                             overrides={"torch": {"crash_at_step": 3}})
    events = asyncio.run(collect(launcher))
    errors = [e for e in events["torch"] if isinstance(e, Error)]
    assert len(errors) == 1 and errors[0].message.startswith("rank 1 of 2: crash injected at step 3")
    assert [e.phase for e in events["torch"] if isinstance(e, Phase)][-1] == "failed"
    assert [e.phase for e in events["keras/jax"] if isinstance(e, Phase)][-1] == "done"


def _ranks_seen(runs) -> list[Rank]:
    found = []
    for path in runs.glob("*/torch.events.jsonl"):
        events, _ = decode_lines(path.read_bytes().splitlines())
        found += [e for e in events if isinstance(e, Rank)]
    return found


# SIGTERM in the extended tier: the dashboard then stops its runners as on q (tests/test_lifecycle.py), and this
# runner's ranks with it; SIGKILL leaves it nothing to do, which is the path the parent-death signals must take.
@pytest.mark.parametrize("how", tiered([signal.SIGKILL, signal.SIGTERM], {signal.SIGTERM}))
def test_no_rank_outlives_the_dashboard(tmp_path, how):
    runs = tmp_path / "runs"
    dashboard = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--workload", "mlp", "--size", "tiny", "--runners", "torch",
         "--devices", "2", "--duration", "600", "--headless", "--output", str(runs)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while {r.rank for r in _ranks_seen(runs)} != {0, 1}:
        assert time.monotonic() < deadline and dashboard.poll() is None, "the ranks never reported"
        time.sleep(0.2)
    ranks = [psutil.Process(r.pid) for r in {r.rank: r for r in _ranks_seen(runs)}.values()]
    runner_pid = ranks[0].ppid()  # runners.child.distributed.ddp_launch: it started the ranks
    assert len(_scratch_folders(runner_pid)) == 2  # the ranks' socket, torchrun's error files
    dashboard.send_signal(how)
    dashboard.wait(timeout=30)
    gone, alive = psutil.wait_procs(ranks, timeout=20)
    assert not alive, f"ranks left behind after {how.name}: {[p.pid for p in alive]}"
    deadline = time.monotonic() + 20
    while runner_processes() and time.monotonic() < deadline:
        time.sleep(0.2)  # the runner process and torchrun's helpers follow their parents
    assert not runner_processes()
    if how == signal.SIGKILL:  # no clean-up could run: the next data-parallel runner to start removes them (any
        # other test's may have, by now)
        remove_orphans("ranks")
        remove_orphans("torchrun")
    assert not _scratch_folders(runner_pid)


def _scratch_folders(pid: int) -> list[str]:
    return sorted(str(p) for p in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-{pid}-*"))


def test_only_the_folders_of_ended_processes_are_removed(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    for name in (f"kvp-dash-ranks-{ended.pid}-a", f"kvp-dash-ranks-{os.getpid()}-b",
                 f"kvp-dash-torchrun-{ended.pid}-c", "kvp-dash-ranks-x-d"):
        (tmp_path / name).mkdir()
    assert remove_orphans("ranks", str(tmp_path)) == [str(tmp_path / f"kvp-dash-ranks-{ended.pid}-a")]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"kvp-dash-ranks-{os.getpid()}-b", f"kvp-dash-torchrun-{ended.pid}-c", "kvp-dash-ranks-x-d"])


@pytest.mark.parametrize(("options", "refusal"), [
    (dict(batch_size=30, devices=4), "not a multiple of 4"),
    (dict(devices=9), "at most 8 devices on a CPU"),
    (dict(devices=2, hosts=2, schedule="interleaved"), "cannot take turns"),
])
def test_data_parallel_input_is_checked_before_anything_starts(options, refusal):
    with pytest.raises(InputError, match=refusal):
        make_plan("mlp", size="tiny", device="cpu", **{"schedule": "parallel", **options})


def test_data_parallel_runners_take_turns_by_default_every_rank_of_one_runner_at_a_time(tmp_path):
    """The default (interleaved) schedule: torchrun's runner gives its turn back through its runner process,
    which stops every rank with it; the run ends with a verdict and its interval."""
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--workload", "mlp", "--size", "tiny", "--runners", "torch,keras/jax",
         "--devices", "2", "--duration", "3", "--slice", "0.5", "--headless", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=200, env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "× 2 data-parallel" in result.stdout and "95 % CI" in result.stdout
    folder = next(tmp_path.iterdir())
    for runner in ("torch", "keras-jax"):
        events, _ = decode_lines((folder / f"{runner}.events.jsonl").read_bytes().splitlines())
        phases = [e.phase for e in events if isinstance(e, Phase)]
        assert phases.count("waiting") >= 3 and phases[-1] == "done", (runner, phases)


# Extended tier (27 CPU-s): the default one runs the sweep's ladder over sizes (tests/test_sweep.py) and these
# runners on two devices (above).
@pytest.mark.extended
def test_sweep_over_device_counts_measures_each_runners_scaling_efficiency(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "sweep", "--workload", "mlp", "--sizes", "tiny", "--devices", "1,2",
         "--steps", "30", "--runners", "keras/jax,torch", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=400, env={**os.environ, "COLUMNS": "160"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    rows = json.loads(next(tmp_path.glob("*-scaling-mlp/sweep.json")).read_text())["rows"]
    by = {(r["devices"], r["runner"]): r for r in rows}
    assert set(by) == {(n, r) for n in (1, 2) for r in ("keras/jax", "torch")}
    for runner in ("keras/jax", "torch"):
        one, two = by[1, runner], by[2, runner]
        assert one["efficiency"] == pytest.approx(1.0)
        # Each figure from its own run's standings: throughput on two devices over twice that on one.
        assert two["efficiency"] == pytest.approx(two["throughput"] / (2 * one["throughput"]))
        assert two["per_device"] == pytest.approx(two["throughput"] / 2)
    assert "scaling efficiency vs devices" in result.stdout


def test_a_scaling_sweep_needs_one_device_to_compare_with():
    result = subprocess.run([sys.executable, "-m", "tui.cli", "sweep", "--workload", "mlp", "--devices", "2,4"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "include 1" in result.stderr and "Traceback" not in result.stderr
