"""GPU facts from NVIDIA's management library (nvidia-ml-py), sampled in the dashboard process.

Every NVML call goes through one wrapper that turns an error into "n/a" with a
one-line reason (after nvitop's libnvml layer), so no GPU, an old driver, a
driver/library mismatch or a process that just ended never crash the dashboard.
The library is passed in, so tests drive this with a fake that mimics pynvml's
functions, return types and NVMLError codes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import psutil

# What NVML's error codes mean to someone looking at the dashboard.
REASONS = {
    "NVML_ERROR_LIBRARY_NOT_FOUND": "no NVIDIA driver library (libnvidia-ml) on this machine",
    "NVML_ERROR_DRIVER_NOT_LOADED": "the NVIDIA driver is not loaded",
    "NVML_ERROR_LIB_RM_VERSION_MISMATCH": "NVIDIA driver and library versions differ (reload the driver or reboot)",
    "NVML_ERROR_NOT_SUPPORTED": "not supported by this GPU or driver",
    "NVML_ERROR_NO_PERMISSION": "no permission to query the GPU",
    "NVML_ERROR_NOT_FOUND": "not found (the process may have ended)",
    "NVML_ERROR_GPU_IS_LOST": "the GPU fell off the bus",
    "NVML_ERROR_FUNCTION_NOT_FOUND": "not available in this driver version",
    "NVML_ERROR_NO_DATA": "no sample yet",
    "NVML_ERROR_UNINITIALIZED": "NVML is not initialised",
}


@dataclass(frozen=True)
class Reading:
    """A value, or None with the reason it is not available."""

    value: Any = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class DeviceSample:
    index: int
    name: Reading
    memory_used: Reading  # bytes, all processes
    memory_total: Reading
    utilization: Reading  # percent of time a kernel ran, whole device
    power_watts: Reading


@dataclass(frozen=True)
class ProcessSample:
    """One runner's share of the GPUs: its processes' memory (their pools, as NVML sees them)."""

    used_bytes: Reading
    sm_utilization: Reading  # percent, where the driver reports per-process utilization
    devices: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class GpuSnapshot:
    available: bool
    reason: str | None
    devices: list[DeviceSample]
    runners: dict[str, ProcessSample]


def _load_pynvml():
    import pynvml

    return pynvml


class NvmlMonitor:
    def __init__(self, nvml: Any | None = None):
        self._nvml = nvml
        self._started = False
        self.unavailable: str | None = None
        self._handles: list[Any] = []
        self._missing_functions: set[str] = set()

    def _reason(self, error: Exception) -> str:
        nvml = self._nvml
        code = getattr(error, "value", None)
        for name, text in REASONS.items():
            if code is not None and code == getattr(nvml, name, object()):
                return text
        return str(error) or type(error).__name__

    def _query(self, function: str, *args) -> Reading:
        """The one way this module calls NVML."""
        nvml = self._nvml
        fn: Callable | None = getattr(nvml, function, None)
        if fn is None or function in self._missing_functions:
            return Reading(reason="not available in this nvidia-ml-py / driver")
        try:
            return Reading(fn(*args))
        except nvml.NVMLError as error:
            reason = self._reason(error)
            if reason == REASONS["NVML_ERROR_FUNCTION_NOT_FOUND"]:
                self._missing_functions.add(function)  # asked once, then remembered
            return Reading(reason=reason)

    def start(self) -> bool:
        """Initialise NVML; False (with ``unavailable`` set to why) when there is no usable GPU."""
        if self._started:
            return self.unavailable is None
        self._started = True
        try:
            if self._nvml is None:
                self._nvml = _load_pynvml()
        except ImportError:
            self.unavailable = "nvidia-ml-py is not installed"
            return False
        init = self._query("nvmlInit")
        if not init.ok:
            self.unavailable = init.reason
            return False
        count = self._query("nvmlDeviceGetCount")
        if not count.ok or count.value == 0:
            self.unavailable = count.reason or "no NVIDIA GPU found"
            return False
        for index in range(count.value):
            handle = self._query("nvmlDeviceGetHandleByIndex", index)
            if handle.ok:
                self._handles.append((index, handle.value))
        return True

    def device_count(self) -> int:
        return len(self._handles) if self.start() else 0

    def describe(self) -> list[dict]:
        """Each GPU's name and memory, and the driver version, for the run's record."""
        if not self.start():
            return []
        driver = self._query("nvmlSystemGetDriverVersion")
        found = []
        for index, handle in self._handles:
            name, memory = self._query("nvmlDeviceGetName", handle), self._query("nvmlDeviceGetMemoryInfo", handle)
            found.append({
                "index": index,
                "name": name.value if name.ok else None,
                "memory_bytes": memory.value.total if memory.ok else None,
                "driver": driver.value if driver.ok else None,
            })
        return found

    def close(self) -> None:
        if self._started and self.unavailable is None:
            self._query("nvmlShutdown")

    def sample(self, pids: dict[str, int]) -> GpuSnapshot:
        if not self.start():
            return GpuSnapshot(False, self.unavailable, [], {})
        devices, per_pid_memory, per_pid_util = [], {}, {}
        since = int((time.time() - 1.0) * 1_000_000)  # process utilization over about the last second
        for index, handle in self._handles:
            memory = self._query("nvmlDeviceGetMemoryInfo", handle)
            utilization = self._query("nvmlDeviceGetUtilizationRates", handle)
            power = self._query("nvmlDeviceGetPowerUsage", handle)
            devices.append(
                DeviceSample(
                    index,
                    self._query("nvmlDeviceGetName", handle),
                    Reading(memory.value.used) if memory.ok else memory,
                    Reading(memory.value.total) if memory.ok else memory,
                    Reading(utilization.value.gpu) if utilization.ok else utilization,
                    Reading(power.value / 1000.0) if power.ok else power,
                )
            )
            processes = self._running_processes(handle)
            if processes.ok:
                for process in processes.value:
                    per_pid_memory.setdefault(process.pid, []).append((index, process.usedGpuMemory))
            else:
                per_pid_memory.setdefault(None, []).append((index, processes.reason))
            samples = self._query("nvmlDeviceGetProcessUtilization", handle, since)
            if samples.ok:
                for s in samples.value:
                    per_pid_util[s.pid] = max(per_pid_util.get(s.pid, 0), s.smUtil)
            else:
                per_pid_util.setdefault(None, samples.reason)
        runners = {name: self._runner_sample(pid, per_pid_memory, per_pid_util) for name, pid in pids.items()}
        return GpuSnapshot(True, None, devices, runners)

    def _running_processes(self, handle) -> Reading:
        # Newest query first; an older driver lacks it (nvitop does the same fallback).
        for function in (
            "nvmlDeviceGetComputeRunningProcesses_v3",
            "nvmlDeviceGetComputeRunningProcesses_v2",
            "nvmlDeviceGetComputeRunningProcesses",
        ):
            reading = self._query(function, handle)
            if reading.ok or reading.reason not in (
                REASONS["NVML_ERROR_FUNCTION_NOT_FOUND"], "not available in this nvidia-ml-py / driver"
            ):
                return reading
        return reading

    @staticmethod
    def _runner_sample(pid, per_pid_memory, per_pid_util) -> ProcessSample:
        try:
            family = {pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))}
        except psutil.Error:
            family = {pid}
        entries = [entry for p in family for entry in per_pid_memory.get(p, [])]
        if not entries:
            failure = per_pid_memory.get(None)
            reason = failure[0][1] if failure else "no GPU memory held by this process (in a container: run with --pid=host)"
            memory = Reading(reason=reason)
        elif any(used is None for _, used in entries):
            memory = Reading(reason="not reported by the driver (NVML_VALUE_NOT_AVAILABLE)")
        else:
            memory = Reading(sum(used for _, used in entries))
        utils = [per_pid_util[p] for p in family if p in per_pid_util]
        utilization = Reading(max(utils)) if utils else Reading(reason=per_pid_util.get(None) or "no sample yet")
        return ProcessSample(memory, utilization, sorted({index for index, _ in entries}))
