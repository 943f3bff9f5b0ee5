"""The NVML monitor against a faithful fake of pynvml: real numbers through, errors to n/a + reason."""

from __future__ import annotations

import os

import pynvml
import pytest

from runners.session.monitoring.nvml_monitor import NvmlMonitor
from tests.fake_nvml import FakeGpu, FakeNvml

ME = os.getpid()


def test_per_process_memory_device_utilization_and_power():
    gpu = FakeGpu(processes=[(ME, 3 * 1024**3), (999_999, 1024)], process_utilization=[(ME, 64)])
    monitor = NvmlMonitor(FakeNvml([gpu]))
    snapshot = monitor.sample({"torch": ME})
    assert snapshot.available and snapshot.reason is None
    device = snapshot.devices[0]
    assert device.name.value == "NVIDIA A100-SXM4-40GB"
    assert device.memory_used.value == 10 * 1024**3 and device.memory_total.value == 40 * 1024**3
    assert device.utilization.value == 87 and device.power_watts.value == 250.0
    runner = snapshot.runners["torch"]
    assert runner.used_bytes.value == 3 * 1024**3  # only its own process, not the other one
    assert runner.sm_utilization.value == 64 and runner.devices == [0]


def test_runner_on_two_gpus_sums_its_memory():
    gpus = [FakeGpu(processes=[(ME, 100)]), FakeGpu(processes=[(ME, 50)])]
    snapshot = NvmlMonitor(FakeNvml(gpus)).sample({"keras/jax": ME})
    assert snapshot.runners["keras/jax"].used_bytes.value == 150
    assert snapshot.runners["keras/jax"].devices == [0, 1]


@pytest.mark.parametrize(
    "code, reason",
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver library"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "driver is not loaded"),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "driver and library versions differ"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
    ],
)
def test_no_usable_gpu_is_na_with_a_reason(code, reason):
    monitor = NvmlMonitor(FakeNvml(init_error=code))
    snapshot = monitor.sample({"torch": ME})
    assert not snapshot.available and reason in snapshot.reason
    assert monitor.device_count() == 0


def test_zero_devices():
    snapshot = NvmlMonitor(FakeNvml([])).sample({"torch": ME})
    assert not snapshot.available and snapshot.reason == "no NVIDIA GPU found"


def test_unsupported_queries_are_na_not_crashes():
    gpu = FakeGpu(
        processes=[(ME, 10)],
        errors={
            "nvmlDeviceGetPowerUsage": pynvml.NVML_ERROR_NOT_SUPPORTED,
            "nvmlDeviceGetUtilizationRates": pynvml.NVML_ERROR_GPU_IS_LOST,
        },
    )
    snapshot = NvmlMonitor(FakeNvml([gpu])).sample({"torch": ME})
    device = snapshot.devices[0]
    assert device.power_watts.value is None and "not supported" in device.power_watts.reason
    assert device.utilization.value is None and "fell off the bus" in device.utilization.reason
    assert device.memory_used.value == 10 * 1024**3
    runner = snapshot.runners["torch"]
    assert runner.used_bytes.value == 10
    assert runner.sm_utilization.value is None and "not found" in runner.sm_utilization.reason


def test_old_driver_falls_back_to_older_process_queries_and_remembers():
    gpu = FakeGpu(processes=[(ME, 77)], errors={
        "nvmlDeviceGetComputeRunningProcesses_v3": pynvml.NVML_ERROR_FUNCTION_NOT_FOUND,
    })
    fake = FakeNvml([gpu])
    monitor = NvmlMonitor(fake)
    assert monitor.sample({"torch": ME}).runners["torch"].used_bytes.value == 77
    monitor.sample({"torch": ME})
    assert fake.calls.count("nvmlDeviceGetComputeRunningProcesses_v3") == 1  # asked once
    assert fake.calls.count("nvmlDeviceGetComputeRunningProcesses_v2") == 2


def test_binding_missing_from_an_old_nvidia_ml_py():
    fake = FakeNvml([FakeGpu(processes=[(ME, 5)])], missing=["nvmlDeviceGetComputeRunningProcesses_v3"])
    assert NvmlMonitor(fake).sample({"torch": ME}).runners["torch"].used_bytes.value == 5


def test_process_that_vanished_or_holds_nothing():
    gpu = FakeGpu(processes=[(123_456_789, 5)])
    snapshot = NvmlMonitor(FakeNvml([gpu])).sample({"torch": 2**22 + 12345})
    runner = snapshot.runners["torch"]
    assert runner.used_bytes.value is None and "no GPU memory held" in runner.used_bytes.reason


def test_memory_not_available_from_the_driver():
    gpu = FakeGpu(processes=[(ME, None)])
    runner = NvmlMonitor(FakeNvml([gpu])).sample({"torch": ME}).runners["torch"]
    assert runner.used_bytes.value is None and "NVML_VALUE_NOT_AVAILABLE" in runner.used_bytes.reason


def test_process_query_failing_says_why():
    gpu = FakeGpu(errors={"nvmlDeviceGetComputeRunningProcesses_v3": pynvml.NVML_ERROR_NO_PERMISSION})
    runner = NvmlMonitor(FakeNvml([gpu])).sample({"torch": ME}).runners["torch"]
    assert runner.used_bytes.value is None and "no permission" in runner.used_bytes.reason


def test_real_library_on_this_machine_never_raises():
    """Whatever this machine has (CI has no GPU), the real pynvml path answers, never raises."""
    monitor = NvmlMonitor()
    snapshot = monitor.sample({"torch": ME})
    if not snapshot.available:
        assert snapshot.reason
    monitor.close()


def test_describe_for_the_run_record():
    described = NvmlMonitor(FakeNvml([FakeGpu()])).describe()
    assert described == [{"index": 0, "name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 40 * 1024**3,
                          "driver": "550.54.15"}]
    assert NvmlMonitor(FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)).describe() == []
