"""One device kind per comparison: the guard, the verdict, the panel, and ``kvp-dash doctor`` on this machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runners.protocol import Hello
from runners.session.planning import plan as plan_module
from runners.session.planning.device_check import device_kind, mixed_device_lines
from runners.session.monitoring.nvml_monitor import NvmlMonitor
from runners.session.verdict.summary import standings, verdict
from runners.specs import SPECS
from tests.fake_nvml import FakeGpu, FakeNvml
from tests.test_headless import _state
from workloads.errors import InputError

DEFAULTS = [spec for spec in SPECS.values() if spec.default]


def reports_from_hellos(hellos: list[Hello]) -> dict[str, dict]:
    """What each framework said it uses, as recorded in runners' hellos (one per backend)."""
    return {SPECS[h.runner].backend: {"devices": [h.device]} for h in hellos}


def hello(runner: str, device: str) -> Hello:
    framework, _, backend = runner.partition("/")
    return Hello(runner, pid=1, framework=framework, backend=backend or "torch", versions={}, device=device,
                 params=1, threads=1, cpus=[0])


def test_device_kinds_as_runners_and_runs_name_them():
    assert [device_kind(d) for d in ("cpu", "cuda", "cuda:0 NVIDIA H200", "gpu:0 NVIDIA H200", "cpu:0 cpu")] == [
        "cpu", "gpu", "gpu", "gpu", "cpu"]


def test_a_cpu_only_wheel_on_a_gpu_box_is_refused_with_its_fix(monkeypatch):
    # NVML finds a GPU, so --device auto picks cuda ...
    import runners.session.monitoring.nvml_monitor as nvml_module

    monkeypatch.setattr(nvml_module, "NvmlMonitor", lambda: NvmlMonitor(FakeNvml([FakeGpu()])))
    assert plan_module.resolve_device("auto", None) == ("cuda", [0])
    # ... and jax (a CPU-only wheel) would train on the CPU while the others use the GPU.
    recorded = [hello("keras/jax", "cpu"), hello("keras/tensorflow", "gpu:0 NVIDIA A100-SXM4-40GB"),
                hello("torch", "cuda:0 NVIDIA A100-SXM4-40GB")]
    ask = lambda backends, device: reports_from_hellos(recorded)  # noqa: E731
    with pytest.raises(InputError) as refused:
        plan_module.check_devices(DEFAULTS, "cuda", allow_mixed=False, ask=ask)
    lines = str(refused.value).splitlines()
    assert "--allow-mixed-devices" in lines[0]
    assert lines[1:] == ["  keras/jax would train on cpu, not the GPU the others use: pip install 'kvp-dash[jax-cuda]' "
                         "(jax with CUDA; the plain jax wheel is CPU-only)"]
    assert plan_module.check_devices(DEFAULTS, "cuda", allow_mixed=True, ask=ask) == [lines[1].strip()]
    # Every framework on the GPU: nothing to say. On the CPU nothing is asked (every runner is held to it).
    on_gpu = [hello(r, "cuda:0 GPU") for r in ("keras/jax", "keras/tensorflow", "torch")]
    assert not mixed_device_lines(DEFAULTS, reports_from_hellos(on_gpu), "cuda")
    assert plan_module.check_devices(DEFAULTS, "cpu", allow_mixed=False, ask=None) == []


def test_a_framework_that_cannot_say_is_named():
    lines = mixed_device_lines([SPECS["keras/tensorflow"]], {"tensorflow": {"error": "ImportError: no module"}}, "cuda")
    assert lines == ["keras/tensorflow: tensorflow did not say what it sees (ImportError: no module)"]


def test_a_runner_on_another_device_is_marked_and_left_out_of_the_verdict():
    from tui.widgets.runner_panel import RunnerPanel

    losses = [2.0 - 0.1 * i for i in range(20)]
    on_gpu = _state("torch", 0.02, losses, start=90.0)
    elsewhere = _state("keras/jax", 0.01, losses, start=90.0)  # twice as fast, on the CPU of a GPU box
    on_gpu.hello = hello("torch", "cuda:0 NVIDIA H200")
    elsewhere.hello = hello("keras/jax", "cpu")
    table = standings([on_gpu, elsewhere])
    text = verdict([on_gpu, elsewhere], table, "mlp", 10, "cuda")
    assert "faster" not in text and text.endswith("left out, on another device: keras/jax (cpu)")
    panel = RunnerPanel("keras/jax", 20, "#ffffff", device="cuda")
    assert "other device" in panel._title(False, other_device=True)


def test_doctor_on_this_machine_says_no_gpu_per_framework():
    result = subprocess.run([sys.executable, "-m", "tui.cli", "doctor", "--device", "cpu", "--no-noise"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "a run would use: cpu" in out and "every installed default runner trains on the cpu" in out
    for backend in ("torch", "jax", "tensorflow"):
        row = next(line for line in out.splitlines() if line.startswith(f"│ {backend} "))
        assert "cpu (no GPU)" in row and "…" not in row, row
    assert "cores" in out and "usable by this process" in out
    steal = float(out.split("hypervisor steal ")[1].split("%")[0])  # Linux reports steal, 0 on a machine of its own
    assert 0.0 <= steal < 100.0
    assert "noise:" not in out  # --no-noise: no probe
