"""Issue-4 measurement paths on this CPU: schedules, precision, compilers, host sampling, MFU."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from runners.config import RunConfig
from runners.protocol import Done, Hello, Metrics, Phase
from runners.session.monitoring import process_monitor as host_monitor
from runners.session.planning.cpu_share import available_cpus
from runners.session.monitoring.process_monitor import HostMonitor
from runners.session.launching.launcher import Launcher
from runners.session.monitoring.nvml_monitor import NvmlMonitor
from runners.session.record.run_folder import RunFolder
from runners.session.state.runner_state import RunnerState
from runners.specs import SPECS
from tests.conftest import collect
from tests.fake_nvml import FakeGpu, FakeNvml
from tui.widgets.runner_panel import _gpu_line, _timing_line
from workloads import get_workload


def _launcher(tmp_path, runners, **kwargs):
    workload = get_workload("mlp")
    config = RunConfig(workload="mlp", settings=workload.settings(size="tiny", steps=20),
                       **kwargs.pop("config", {}))
    return Launcher([SPECS[r] for r in runners], config, RunFolder.create(tmp_path, "mlp"), available_cpus(),
                    **kwargs)


async def test_stopping_a_sequential_run_stops_the_queued_ones_too(tmp_path):
    launcher = _launcher(tmp_path, ["torch", "keras/jax", "keras/torch"], schedule="sequential")
    await launcher.start()
    await launcher.stop()
    phases = {}
    async for event in launcher.events():
        if isinstance(event, Phase):
            phases[event.runner] = event.phase
    assert phases["keras/jax"] == "stopped" and phases["keras/torch"] == "stopped"


def test_parallel_runners_on_shared_cpus_know_it():
    launcher = Launcher([SPECS[r] for r in ("torch", "keras/jax", "keras/torch")],
                        RunConfig(workload="mlp", settings=get_workload("mlp").settings()),
                        RunFolder(None), [0, 1])
    assert launcher.sharing() == {"torch": ["keras/torch"], "keras/jax": [], "keras/torch": ["torch"]}


def test_device_environment_per_runner():
    settings = get_workload("mlp").settings()
    cpu = Launcher([SPECS["keras/jax"]], RunConfig(workload="mlp", settings=settings, device="cpu"),
                   RunFolder(None), [0])
    env = cpu._environment(cpu._children["keras/jax"], 99)
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["JAX_PLATFORMS"] == "cpu" and env["KERAS_BACKEND"] == "jax"
    assert env["NVIDIA_TF32_OVERRIDE"] == "0" and env["OMP_NUM_THREADS"] == "1"
    specs = [SPECS[r] for r in ("torch", "keras/jax", "keras/tensorflow")]
    cuda = Launcher(specs, RunConfig(workload="mlp", settings=settings, device="cuda", tf32=True),
                    RunFolder(None), [0, 1], gpus=[0, 1])
    visible = {name: cuda._environment(child, 99)["CUDA_VISIBLE_DEVICES"] for name, child in cuda._children.items()}
    assert visible == {"torch": "0", "keras/jax": "1", "keras/tensorflow": "0"}  # round-robin
    assert "NVIDIA_TF32_OVERRIDE" not in cuda._environment(cuda._children["torch"], 99)
    assert cuda.sharing()["torch"] == ["keras/tensorflow"]
    env = cuda._environment(cuda._children["keras/jax"], 99)
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


async def test_mixed_precision_and_compiler_choices_run_and_are_reported(tmp_path):
    launcher = _launcher(tmp_path, ["torch", "keras/jax", "keras/tensorflow"],
                         config={"precision": "bf16", "keras_jit": "off"})
    events = await collect(launcher)
    hellos = {r: next(e for e in evs if isinstance(e, Hello)) for r, evs in events.items()}
    assert {h.precision for h in hellos.values()} == {"bf16"}
    assert hellos["keras/jax"].compiler == "no jit"
    assert hellos["keras/tensorflow"].compiler == "tf.function"
    assert hellos["torch"].compiler == "eager" and hellos["torch"].tf32 == "n/a"
    for runner, evs in events.items():
        assert any(isinstance(e, Done) for e in evs), runner


async def test_torch_compile_trains_the_same_numbers_as_eager_one_runner_at_a_time(tmp_path):
    """The sequential schedule too: each runner alone with every CPU, the second started when the first ended."""
    launcher = _launcher(tmp_path, ["torch", "torch/compile"], schedule="sequential")
    assert launcher.sharing() == {"torch": [], "torch/compile": []}
    order = []
    events = await collect(launcher, on_event=lambda e: order.append((e.runner, getattr(e, "phase", e.type))),
                           timeout_s=400)
    assert order[0] == ("torch/compile", "queued")
    assert order.index(("torch", "done")) < order.index(("torch/compile", "importing")), \
        "the second runner starts only when the first has finished"
    for runner in ("torch", "torch/compile"):
        hello = next(e for e in events[runner] if isinstance(e, Hello))
        assert hello.cpus == available_cpus() and hello.threads == len(available_cpus())
        assert any(isinstance(e, Done) for e in events[runner])
    losses = {r: [v for e in evs if isinstance(e, Metrics) for v in e.losses] for r, evs in events.items()}
    assert next(e for e in events["torch/compile"] if isinstance(e, Hello)).compiler == "torch.compile"
    assert len(losses["torch/compile"]) == 20
    assert losses["torch/compile"] == pytest.approx(losses["torch"], rel=1e-4)


def _sampled_beside_its_own(monitor: HostMonitor, pids: dict[str, int], busy: psutil.Process):
    """Two samples 0.6 s apart, and the busy process's own CPU use over the same time (per cent of a core). The
    share a spinning process gets depends on what else the machine runs (the other tests' runners): the monitor
    must report that share, whatever it is."""
    monitor.sample(pids)
    before, started = sum(busy.cpu_times()[:2]), time.monotonic()
    time.sleep(0.6)
    sample = monitor.sample(pids)
    own = (sum(busy.cpu_times()[:2]) - before) / (time.monotonic() - started) * 100
    assert own > 2, own  # it did run
    return sample, own


def test_host_monitor_samples_a_busy_process_and_skips_a_gone_one():
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        monitor = HostMonitor()
        sample, own = _sampled_beside_its_own(monitor, {"busy": busy.pid, "gone": 2**22 + 7}, psutil.Process(busy.pid))
        assert sample["busy"].cpu_percent == pytest.approx(own, rel=0.4) and sample["busy"].rss_bytes > 1_000_000
        assert "gone" not in sample
    finally:
        busy.kill()
        busy.wait()


def test_host_monitor_counts_a_runners_children_against_it():
    """A compiler or data worker the runner started is the runner's cost: its CPU and memory are summed in."""
    spin = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'while True: pass']).wait()"
    parent = subprocess.Popen([sys.executable, "-c", spin])
    try:
        monitor = HostMonitor()
        deadline = time.monotonic() + 10
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        sample, own = _sampled_beside_its_own(monitor, {"runner": parent.pid}, psutil.Process(parent.pid).children()[0])
        # The parent only waits: the CPU is its child's.
        assert sample["runner"].cpu_percent == pytest.approx(own, rel=0.4)
        # The child's own memory (its unique set: the interpreter's shared libraries are counted once, the parent's).
        child_uss = psutil.Process(parent.pid).children()[0].memory_full_info().uss
        assert sample["runner"].rss_bytes > psutil.Process(parent.pid).memory_info().rss + child_uss / 2
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()


def test_host_monitor_counts_a_forked_workers_shared_pages_once():
    """A DataLoader worker is a fork of its runner: the pages they share are the runner's, counted once."""
    fork = ("import os, time; block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); "
            "[os.fork() or time.sleep(60) for _ in range(2)] if True else None; time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", fork])
    try:
        deadline = time.monotonic() + 10
        while len(psutil.Process(parent.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = psutil.Process(parent.pid).children()
        assert len(workers) == 2 and all(w.memory_info().rss > 150 * 2**20 for w in workers)  # each "holds" 200 MiB
        sample = HostMonitor().sample({"runner": parent.pid})["runner"]
        own = psutil.Process(parent.pid).memory_info().rss
        assert own <= sample.rss_bytes < own + 100 * 2**20, (sample.rss_bytes, own)  # not three times 200 MiB
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()


def test_host_monitor_finds_a_child_started_later(monkeypatch):
    """The trees are looked up again every TREES_EVERY_S: a compiler started mid-run is counted from then on."""
    monkeypatch.setattr(host_monitor, "TREES_EVERY_S", 0.5)
    spin = "import subprocess, sys, time; time.sleep(1); subprocess.Popen([sys.executable, '-c', 'while True: pass']).wait()"
    parent = subprocess.Popen([sys.executable, "-c", spin])
    try:
        monitor = HostMonitor()
        assert monitor.sample({"runner": parent.pid})["runner"].cpu_percent < 30  # no child yet
        deadline = time.monotonic() + 10
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The child found at the first of these samples: its CPU is measured from there.
        sample, own = _sampled_beside_its_own(monitor, {"runner": parent.pid}, psutil.Process(parent.pid).children()[0])
        assert sample["runner"].cpu_percent == pytest.approx(own, rel=0.4)
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()


def _gpu_state(device: str = "cuda:0 NVIDIA A100-SXM4-40GB", precision="bf16") -> RunnerState:
    state = RunnerState("torch", total_steps=10)
    state.apply(Hello("torch", pid=1, framework="torch", backend="torch", versions={}, device=device,
                      params=1, threads=1, cpus=[0], gpu="0", flops_per_step=3.12e12, precision=precision,
                      tf32="off"))
    state.apply(Metrics("torch", first_step=0, step=1, losses=[1.0, 1.0], window_s=2.0, batch_size=8,
                        warmup=True))
    state.apply(Metrics("torch", first_step=2, step=5, losses=[1.0] * 4, window_s=0.04, batch_size=8,
                        warmup=False, device_bytes=2 * 1024**3, device_peak_bytes=3 * 1024**3,
                        device_reserved_bytes=4 * 1024**3))
    return state


def test_mfu_from_the_peak_table_only_when_the_device_is_known():
    state = _gpu_state()
    assert state.achieved_flops == pytest.approx(3.12e12 / 0.01)
    assert state.mfu == pytest.approx(312e12 / 312e12)  # A100 bf16 peak: 312 TFLOP/s
    assert "MFU 100%" in _timing_line(state).plain
    unknown = _gpu_state(device="cuda:0 Some Future GPU")
    assert unknown.mfu is None and "MFU" not in _timing_line(unknown).plain


def test_gpu_line_shows_framework_and_nvml_memory_side_by_side():
    import os

    state = _gpu_state()
    gpu = FakeGpu(processes=[(os.getpid(), 6 * 1024**3)], process_utilization=[(os.getpid(), 71)])
    snapshot = NvmlMonitor(FakeNvml([gpu])).sample({"torch": os.getpid()})
    state.sampled(None, snapshot.runners["torch"])
    line = _gpu_line(state, snapshot).plain
    assert "fw 2.00 GiB (peak 3.00 GiB), pool 4.00 GiB" in line
    # NVML's per-process memory against the device's 40 GiB (fake A100), and its SM utilisation.
    assert "mem █░░░░░ 6.00 GiB" in line and "sm ████░░ 71%" in line
    no_gpu = NvmlMonitor(FakeNvml(init_error=FakeNvml().NVML_ERROR_DRIVER_NOT_LOADED)).sample({"torch": 1})
    assert "nvml n/a: the NVIDIA driver is not loaded" in _gpu_line(state, no_gpu).plain
