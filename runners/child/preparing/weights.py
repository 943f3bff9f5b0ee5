"""Preparation subprocess: ``python -m runners.child.preparing.weights WORKLOAD SETTINGS_JSON OUT.npz``.

For a workload without ``param_specs``: builds the PyTorch model from the seed
(PyTorch's own initialisers) and saves its ``state_dict`` as the run's initial
weights, which every runner then loads (Keras's converted by layer name). The
file appears whole or not at all (written beside, then renamed). A failure is
one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys

from runners import weights_file
from runners.child.preparing.common import prepare
from runners.child.quick_exit import exit_now


def save_initial_weights(workload, settings, out: str) -> None:
    import torch

    torch.manual_seed(settings.seed)
    save_torch_weights(workload.build_torch(settings), out)


def save_torch_weights(model, out: str) -> None:
    """A PyTorch model's ``state_dict`` in the weights file's layout (``runners.weights_file``)."""
    state = {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()
             if not name.endswith("num_batches_tracked")}  # a counter, not a weight: Keras has none
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    weights_file.write(out, state, trainable)


if __name__ == "__main__":
    # What it made is written whole.
    exit_now(prepare(sys.argv[1:], save_initial_weights, "the PyTorch model for its initial weights"))
