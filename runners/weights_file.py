"""The initial-weights file of a workload without ``param_specs``: the PyTorch model's own ``state_dict``.

Written once per run by a preparation subprocess (``runners.child.preparing.weights``), read
by every runner. Framework-free (numpy), so the dashboard can count the trainable
parameters from it without importing torch.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from pathlib import Path

import numpy as np

FILE_NAME = "initial_weights.npz"
# A training run's native PyTorch model as trained, in the same layout: what `kvp-dash infer --from RUN_DIR` serves.
FINAL_NAME = "final_weights.npz"
# The names of the trainable tensors (parameters, not buffers such as batch-norm statistics).
TRAINABLE_KEY = "__trainable__"


def read(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors by PyTorch name (which are trainable: ``trainable_count``)."""
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files if name != TRAINABLE_KEY}


def trainable_count(path: str | Path) -> int:
    with np.load(path) as archive:
        trainable = {str(name) for name in archive[TRAINABLE_KEY]}
        return sum(math.prod(archive[name].shape) for name in trainable)


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(out: str | Path, tensors: dict[str, np.ndarray], trainable: list[str]) -> None:
    """The tensors by PyTorch name and which are trainable, whole or not at all (written beside, then renamed)."""
    # Serialised in memory first: the partial file exists only while its bytes are written.
    buffer = io.BytesIO()
    np.savez(buffer, **tensors, **{TRAINABLE_KEY: np.array(trainable)})
    partial = f"{out}.partial"
    with open(partial, "wb") as handle:
        handle.write(buffer.getbuffer())
    os.replace(partial, out)
