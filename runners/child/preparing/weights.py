"""Preparation subprocess: ``python -m runners.child.preparing.weights WORKLOAD SETTINGS_JSON OUT.npz``.

For a workload without ``param_specs``: builds the PyTorch model from the seed
(PyTorch's own initialisers) and saves its ``state_dict`` as the run's initial
weights, which every runner then loads (Keras's converted by layer name). The
file appears whole or not at all (written beside, then renamed). A failure is
one line on stderr and exit status 1.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np

from runners.child.preparing.common import prepare
from runners.child.quick_exit import exit_now


def save_initial_weights(workload, settings, out: str) -> None:
    import torch

    from runners.weights_file import TRAINABLE_KEY

    torch.manual_seed(settings.seed)
    model = workload.build_torch(settings)
    state = {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()
             if not name.endswith("num_batches_tracked")}  # a counter, not a weight: Keras has none
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    # Serialised in memory first: the partial file exists only while its bytes are written.
    buffer = io.BytesIO()
    np.savez(buffer, **state, **{TRAINABLE_KEY: np.array(trainable)})
    partial = f"{out}.partial"
    with open(partial, "wb") as handle:
        handle.write(buffer.getbuffer())
    os.replace(partial, out)


if __name__ == "__main__":
    # What it made is written whole.
    exit_now(prepare(sys.argv[1:], save_initial_weights, "the PyTorch model for its initial weights"))
