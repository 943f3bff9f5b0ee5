"""A stand-in for the ``pynvml`` module: same function names, return types and NVMLError codes.

Return values are pynvml's own ctypes structs (or its friendly objects, like the
real process queries return), and errors are pynvml's own NVMLError built from
its NVML_ERROR_* codes, so the monitor meets exactly what a real driver hands it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pynvml


@dataclass
class FakeGpu:
    name: str = "NVIDIA A100-SXM4-40GB"
    total: int = 40 * 1024**3
    used: int = 10 * 1024**3
    utilization: int = 87
    power_mw: int = 250_000
    processes: list[tuple[int, int | None]] = field(default_factory=list)  # (pid, used bytes or None)
    process_utilization: list[tuple[int, int]] = field(default_factory=list)  # (pid, SM %)
    errors: dict[str, int] = field(default_factory=dict)  # function name -> NVML_ERROR_* code


class FakeNvml:
    NVMLError = pynvml.NVMLError

    def __init__(self, gpus: list[FakeGpu] | None = None, init_error: int | None = None, missing=()):
        self.gpus = gpus or []
        self.init_error = init_error
        self.calls: list[str] = []
        self.initialized = False
        for name in dir(pynvml):
            if name.startswith("NVML_"):
                setattr(self, name, getattr(pynvml, name))
        for function in missing:  # an older nvidia-ml-py without this binding
            setattr(self, function, None)

    def _check(self, function: str, gpu: FakeGpu | None = None):
        self.calls.append(function)
        if not self.initialized and function != "nvmlInit":
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        if gpu is not None and function in gpu.errors:
            raise pynvml.NVMLError(gpu.errors[function])

    def nvmlInit(self):
        self.calls.append("nvmlInit")
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.initialized = True

    def nvmlShutdown(self):
        self._check("nvmlShutdown")
        self.initialized = False

    def nvmlSystemGetDriverVersion(self):
        self._check("nvmlSystemGetDriverVersion")
        return "550.54.15"

    def nvmlDeviceGetCount(self):
        self._check("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        self._check("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.gpus):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]  # a real handle is an opaque pointer; ours is the device

    def nvmlDeviceGetName(self, handle):
        self._check("nvmlDeviceGetName", handle)
        return handle.name

    def nvmlDeviceGetMemoryInfo(self, handle, version=None):
        self._check("nvmlDeviceGetMemoryInfo", handle)
        return pynvml.c_nvmlMemory_t(total=handle.total, free=handle.total - handle.used, used=handle.used)

    def nvmlDeviceGetUtilizationRates(self, handle):
        self._check("nvmlDeviceGetUtilizationRates", handle)
        return pynvml.c_nvmlUtilization_t(gpu=handle.utilization, memory=handle.utilization // 2)

    def nvmlDeviceGetPowerUsage(self, handle):
        self._check("nvmlDeviceGetPowerUsage", handle)
        return handle.power_mw

    def _processes(self, function, handle):
        self._check(function, handle)
        found = []
        for pid, used in handle.processes:
            struct = pynvml.c_nvmlProcessInfo_v2_t(pid=pid, usedGpuMemory=used or 0)
            obj = pynvml.nvmlStructToFriendlyObject(struct)
            obj.usedGpuMemory = used  # pynvml turns NVML_VALUE_NOT_AVAILABLE into None
            found.append(obj)
        return found

    def nvmlDeviceGetComputeRunningProcesses_v3(self, handle):
        return self._processes("nvmlDeviceGetComputeRunningProcesses_v3", handle)

    def nvmlDeviceGetComputeRunningProcesses_v2(self, handle):
        return self._processes("nvmlDeviceGetComputeRunningProcesses_v2", handle)

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return self._processes("nvmlDeviceGetComputeRunningProcesses", handle)

    def nvmlDeviceGetProcessUtilization(self, handle, timeStamp):
        self._check("nvmlDeviceGetProcessUtilization", handle)
        if not handle.process_utilization:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)  # what drivers say with no samples
        return [
            pynvml.c_nvmlProcessUtilizationSample_t(pid=pid, timeStamp=timeStamp + 1, smUtil=sm, memUtil=0)
            for pid, sm in handle.process_utilization
        ]
