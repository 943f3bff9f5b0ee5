"""Before the runners start: the initial weights of a workload without ``param_specs``.

The PyTorch model is built from the seed in a subprocess of its own (the
dashboard never imports a framework) and its ``state_dict`` saved in the run
folder; every runner then loads that one file.
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


def prepare_initial_weights(workload_ref: str, settings: WorkloadSettings, folder: Path) -> Path:
    """Write ``initial_weights.npz`` into ``folder``; InputError (the model's error, one line) if it cannot."""
    out = folder / FILE_NAME
    env = framework_environment("torch", "cpu")  # built on the CPU: the weights are the same anywhere
    env[PARENT_PID_ENV] = str(os.getpid())
    command = [sys.executable, "-m", "runners.child.prepare_weights", workload_ref,
               json.dumps(asdict(settings)), str(out)]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PREPARE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise InputError(f"building the PyTorch model for its initial weights took over {PREPARE_TIMEOUT_S} s") from None
    if result.returncode != 0 or not out.is_file():
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise InputError(lines[-1] if lines else f"the weight preparation failed (exit {result.returncode})")
    return out
