"""What a framework process started by the dashboard sees: the one definition of its device environment.

Used for runners (the launcher adds threads, channel and schedule) and for the
framework reports of ``doctor`` and the device guard, so both see exactly the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import runners

_PACKAGE_ROOT = str(Path(runners.__file__).resolve().parents[1])  # the folder that holds the `runners` package


def framework_environment(backend: str, device: str, gpus: list[int] | int | None = None) -> dict[str, str]:
    """This process's environment, plus: the package importable, ``KERAS_BACKEND``, and ``device`` ("cpu" or
    "cuda", with ``gpus`` the visible GPUs) as every framework is held to it."""
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")])),
        # `python -m` would put the working folder first on sys.path: a user's own workloads/ or runners/ package
        # there would shadow kvp-dash's. Safe-path mode leaves it off (a workload file's own folder is added,
        # after kvp-dash's packages, where the file is loaded: workloads.user).
        "PYTHONSAFEPATH": "1",
        # Runners may share a GPU: no framework may grab all of its memory up front.
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
        "KERAS_BACKEND": backend,  # read by keras only: the native torch runner ignores it
        # Nothing is ever downloaded: Transformers and KerasHub load local checkpoint folders only.
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    })
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # every framework then stays on the CPU
        env["JAX_PLATFORMS"] = "cpu"
    elif gpus is not None and gpus != []:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpus if isinstance(gpus, list) else [gpus]))
    return env


def data_parallel_environment(backend: str, device: str, devices: int) -> dict[str, str]:
    """--devices N on a CPU: JAX splits the host into N devices only when told before it starts.
    (TensorFlow's logical CPU devices are set inside the runner; torchrun's ranks need nothing.)"""
    if devices > 1 and device == "cpu" and backend == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        return {"XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={devices}".strip()}
    return {}


def runner_module(spec, config) -> str:
    """The module a runner process runs: its spec's ranks launcher when it spans several devices or hosts as one
    process per device (torchrun), else ``runners.child`` (one process, jax across hosts included)."""
    many = config.devices > 1 or config.hosts > 1
    return spec.ranks if many and spec.ranks else "runners.child"
