"""The run's initial weights, in PyTorch's names and layout, as every runner loads them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runners import weights_file
from runners.config import RunConfig
from workloads.hub import checkpoint


@dataclass(frozen=True)
class InitialWeights:
    tensors: dict[str, np.ndarray]
    frozen: set[str]  # tensors that are state, not parameters (an LSTM's second bias)
    sha256: str | None = None  # of the file they came from, when they came from one


def initial_weights(workload, config: RunConfig) -> InitialWeights:
    """The PyTorch model's own weights saved for this run, or the ones generated from ``param_specs``.
    A hub workload's are in its checkpoint, which the model builders load: only the hash is here."""
    if config.checkpoint:
        return InitialWeights({}, set(), checkpoint.sha256(config.checkpoint))
    if config.weights_file:
        tensors = weights_file.read(config.weights_file)
        # Buffers (batch-norm statistics) are loaded, never trained: only parameters can be frozen.
        return InitialWeights(tensors, set(), weights_file.sha256(config.weights_file))
    settings = config.settings
    frozen = {spec.name for spec in workload.specs(settings) if not spec.trainable}
    return InitialWeights(workload.initial_weights(settings), frozen)
