"""Per-backend device facts and settings, inside a runner subprocess (the backend is imported).

One function per question, keyed by tensor library, so the Keras runner on the
torch backend and the native PyTorch runner report the same way.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from typing import Callable, NamedTuple

import psutil


class DeviceMemory(NamedTuple):
    """Framework-reported device memory; all None on a CPU."""

    in_use: int | None = None
    peak: int | None = None
    reserved: int | None = None


def _jax_device():
    import jax

    return jax.devices()[0]


def on_gpu(backend: str) -> bool:
    if backend == "jax":
        return _jax_device().platform == "gpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    import torch

    return torch.cuda.is_available()


def describe_device(backend: str) -> str:
    if not on_gpu(backend):
        return "cpu"
    if backend == "jax":
        device = _jax_device()
        return f"{device.platform}:{device.id} {device.device_kind}"
    if backend == "tensorflow":
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return f"gpu:0 {details.get('device_name', '')}".strip()
    import torch

    return f"cuda:0 {torch.cuda.get_device_name(0)}"


def versions(backend: str, with_keras: bool) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in (("keras",) if with_keras else ()) + (backend,):
        found[name] = importlib.import_module(name).__version__
    # The model zoo a hub workload was built with, where this runner loaded one.
    zoo = "keras_hub" if with_keras else "transformers"
    if zoo in sys.modules:
        found[zoo] = sys.modules[zoo].__version__
    return found


def memory_probe(backend: str) -> Callable[[], tuple[int | None, DeviceMemory]]:
    """A function returning (this process's RSS, framework-reported device memory)."""
    process = psutil.Process(os.getpid())
    device_memory = _device_memory_reader(backend) if on_gpu(backend) else DeviceMemory

    def probe():
        return process.memory_info().rss, device_memory()

    return probe


def _device_memory_reader(backend: str) -> Callable[[], DeviceMemory]:
    if backend == "jax":
        device = _jax_device()

        def read():
            stats = device.memory_stats() or {}
            return DeviceMemory(stats.get("bytes_in_use"), stats.get("peak_bytes_in_use"), stats.get("bytes_reserved"))

        return read
    if backend == "tensorflow":
        import tensorflow as tf

        def read():
            info = tf.config.experimental.get_memory_info("GPU:0")
            return DeviceMemory(info["current"], info["peak"], None)

        return read
    import torch

    # The current GPU: a data-parallel rank's own (torch.cuda.set_device), else the one visible.
    return lambda: DeviceMemory(
        torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated(), torch.cuda.memory_reserved()
    )


def cap_threads(backend: str, threads: int) -> None:
    """Apply the launcher's CPU thread cap through the backend's own API, before any op runs.

    Environment variables (OMP/MKL/TF_NUM_*) were set by the launcher already;
    JAX/XLA ignores thread flags unreliably, so the launcher's CPU affinity holds it.
    """
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def set_tf32(backend: str, enabled: bool) -> str:
    """Set TF32 matmuls the same way in every framework; return what to show ("on", "off", "n/a").

    The launcher also sets NVIDIA_TF32_OVERRIDE=0 when TF32 is off, which cuBLAS and
    cuDNN honour whatever a framework asks for.
    """
    if backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(enabled)
    elif backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "tensorfloat32" if enabled else "float32")
    if not on_gpu(backend):
        return "n/a"
    return "on" if enabled else "off"
