"""Load a workload's generated initial weights (PyTorch names and layout) into a PyTorch model."""

from __future__ import annotations

import numpy as np
import torch

from workloads.weights import WeightMismatch


def load_initial_weights(model: torch.nn.Module, weights: dict[str, np.ndarray], frozen: set[str]) -> None:
    state = {name: torch.from_numpy(array) for name, array in weights.items()}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a shape differs
        raise WeightMismatch(f"the PyTorch model does not match the workload's weights: {exc}") from None
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise WeightMismatch(
            f"the PyTorch model does not match the workload's weights: "
            f"not in the weights {missing}, not in the model {result.unexpected_keys}"
        )
    # Tensors the other framework has no parameter for (an LSTM's second bias) stay fixed.
    for name, parameter in model.named_parameters():
        if name in frozen:
            parameter.requires_grad_(False)
