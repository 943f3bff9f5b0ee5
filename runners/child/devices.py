"""Device facts and settings inside a runner subprocess, asked the same way of every backend.

Each backend answers in its own module (``runners.child.backends``), imported when first asked, so a runner
loads only its own framework.
"""

from __future__ import annotations

import functools
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


@functools.cache
def backend_of(name: str):
    from runners.child.backends import BACKENDS

    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)()


def on_gpu(backend: str) -> bool:
    return backend_of(backend).on_gpu()


def describe_device(backend: str) -> str:
    return backend_of(backend).describe() if on_gpu(backend) else "cpu"


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
    device_memory = backend_of(backend).memory_reader() if on_gpu(backend) else DeviceMemory

    def probe():
        return process.memory_info().rss, device_memory()

    return probe


def cap_threads(backend: str, threads: int) -> None:
    """Apply the launcher's CPU thread cap through the backend's own API, before any op runs (the launcher has set
    OMP/MKL/TF_NUM_* already)."""
    backend_of(backend).cap_threads(threads)


def set_tf32(backend: str, enabled: bool) -> str:
    """Set TF32 matmuls the same way in every framework; return what to show ("on", "off", "n/a").

    The launcher also sets NVIDIA_TF32_OVERRIDE=0 when TF32 is off, which cuBLAS and
    cuDNN honour whatever a framework asks for.
    """
    backend_of(backend).set_tf32(enabled)
    if not on_gpu(backend):
        return "n/a"
    return "on" if enabled else "off"
