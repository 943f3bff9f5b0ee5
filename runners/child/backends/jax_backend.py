"""JAX's device facts and settings."""

from __future__ import annotations

import jax

from runners.child.devices import DeviceMemory


class JaxBackend:
    def _device(self):
        return jax.devices()[0]

    def on_gpu(self) -> bool:
        return self._device().platform == "gpu"

    def describe(self) -> str:
        device = self._device()
        return f"{device.platform}:{device.id} {device.device_kind}"

    def memory_reader(self):
        device = self._device()

        def read():
            stats = device.memory_stats() or {}
            return DeviceMemory(stats.get("bytes_in_use"), stats.get("peak_bytes_in_use"), stats.get("bytes_reserved"))

        return read

    def cap_threads(self, threads: int) -> None:
        """JAX/XLA ignores thread flags unreliably: the launcher's CPU affinity holds it."""

    def set_tf32(self, enabled: bool) -> None:
        jax.config.update("jax_default_matmul_precision", "tensorfloat32" if enabled else "float32")
