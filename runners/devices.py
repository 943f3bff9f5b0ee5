"""Per-backend device facts, read inside a runner subprocess (the backend is already imported).

One function per question, keyed by tensor library, so the Keras runner on the
torch backend and the native PyTorch runner report the same way.
"""

from __future__ import annotations

import importlib
import os
import platform
from typing import Callable

import psutil


def _jax_device():
    import jax

    return jax.devices()[0]


def describe_device(backend: str) -> str:
    if backend == "jax":
        device = _jax_device()
        return "cpu" if device.platform == "cpu" else f"{device.platform}:{device.id} {device.device_kind}"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return f"gpu:0 ({len(gpus)} visible)" if gpus else "cpu"
    import torch

    if torch.cuda.is_available():
        return f"cuda:0 {torch.cuda.get_device_name(0)}"
    return "cpu"


def versions(backend: str, with_keras: bool) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in (("keras",) if with_keras else ()) + (backend,):
        found[name] = importlib.import_module(name).__version__
    return found


def memory_probe(backend: str) -> Callable[[], tuple[int | None, int | None]]:
    """A function returning (this process's RSS, framework-reported device bytes in use or None)."""
    process = psutil.Process(os.getpid())
    device_bytes = _device_bytes_reader(backend)

    def probe():
        return process.memory_info().rss, device_bytes()

    return probe


def _device_bytes_reader(backend: str) -> Callable[[], int | None]:
    if backend == "jax":
        device = _jax_device()
        if device.platform == "cpu":
            return lambda: None
        return lambda: (device.memory_stats() or {}).get("bytes_in_use")
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            return lambda: None
        return lambda: tf.config.experimental.get_memory_info("GPU:0")["current"]
    import torch

    if not torch.cuda.is_available():
        return lambda: None
    return lambda: torch.cuda.memory_allocated(0)


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
