"""Before the runners start: what every runner loads, made once in a subprocess of its own (the dashboard
never imports a framework) and kept in the run folder.

- A workload without ``param_specs``: the PyTorch model built from the seed, its ``state_dict``
  saved as ``initial_weights.npz``.
- A hub workload: the Transformers model built from the seed, saved in the hub's layout in
  ``checkpoint/`` (``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from runners.protocol import PARENT_PID_ENV
from runners.session.runner_environment import framework_environment
from runners.weights_file import FILE_NAME
from workloads import WorkloadSettings
from workloads.errors import InputError

PREPARE_TIMEOUT_S = 600
CHECKPOINT_FOLDER = "checkpoint"


def prepare_initial_weights(workload_ref: str, settings: WorkloadSettings, folder: Path) -> Path:
    """Write ``initial_weights.npz`` into ``folder``; InputError (the model's error, one line) if it cannot."""
    return _prepare("runners.child.prepare_weights", workload_ref, settings, folder / FILE_NAME,
                    "building the PyTorch model for its initial weights")


def prepare_checkpoint(workload_ref: str, settings: WorkloadSettings, folder: Path) -> Path:
    """Write the hub workload's checkpoint folder into ``folder``; returns it."""
    return _prepare("runners.child.prepare_checkpoint", workload_ref, settings, folder / CHECKPOINT_FOLDER,
                    "building the Transformers model for its checkpoint")


def prepared_parameters(folder: Path) -> int | None:
    """Trainable parameters of what a run folder's preparation made (None: it made nothing)."""
    from runners import weights_file
    from workloads.hub.checkpoint import parameter_count

    if (folder / CHECKPOINT_FOLDER).is_dir():
        return parameter_count(folder / CHECKPOINT_FOLDER)
    if (folder / FILE_NAME).is_file():
        return weights_file.trainable_count(folder / FILE_NAME)
    return None


def _prepare(module: str, workload_ref: str, settings: WorkloadSettings, out: Path, what: str) -> Path:
    env = framework_environment("torch", "cpu")  # built on the CPU: the weights are the same anywhere
    env[PARENT_PID_ENV] = str(os.getpid())
    command = [sys.executable, "-m", module, workload_ref, json.dumps(asdict(settings)), str(out)]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PREPARE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise InputError(f"{what} took over {PREPARE_TIMEOUT_S} s") from None
    if result.returncode != 0 or not out.exists():
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise InputError(lines[-1] if lines else f"{what} failed (exit {result.returncode})")
    return out
