"""PyTorch's device facts and settings: the native runner and Keras on the torch backend report the same way."""

from __future__ import annotations

import torch

from runners.child.devices import DeviceMemory


class TorchBackend:
    def on_gpu(self) -> bool:
        return torch.cuda.is_available()

    def describe(self) -> str:
        return f"cuda:0 {torch.cuda.get_device_name(0)}"

    def memory_reader(self):
        # The current GPU: a data-parallel rank's own (torch.cuda.set_device), else the one visible.
        return lambda: DeviceMemory(
            torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated(), torch.cuda.memory_reserved()
        )

    def cap_threads(self, threads: int) -> None:
        torch.set_num_threads(threads)

    def set_tf32(self, enabled: bool) -> None:
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled
