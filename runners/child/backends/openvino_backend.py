"""OpenVINO's device facts and settings (Keras's inference-only openvino backend): kvp-dash serves it on the CPU."""

from __future__ import annotations

from runners.child.devices import DeviceMemory


class OpenVinoBackend:
    def on_gpu(self) -> bool:
        return False  # its GPU plugin drives Intel GPUs: on a CUDA box it serves on the CPU

    def describe(self) -> str:
        return "cpu"

    def memory_reader(self):
        return DeviceMemory

    def cap_threads(self, threads: int) -> None:
        """The launcher's CPU affinity and OMP_NUM_THREADS hold its thread pool."""

    def set_tf32(self, enabled: bool) -> None:
        """No TF32 on a CPU."""
