"""``python -m tests.forward_agreement NAME...`` (KERAS_BACKEND=torch): each built-in workload's Keras and PyTorch
models, built by the runners' own builders from the same generated weights at tiny size, run forward on the same
batch in inference mode; prints, as one JSON line, each workload's logits shape on both sides and their largest
difference. What ``kvp-dash check`` first compares (the runners' probes), without four runner processes: run by
tests/test_parity.py in a process of its own for the workloads whose four-runner check is in the extended tier.

Keras on torch runs the forward pass eagerly: 12 CPU-s here for gpt, lstm and resnet18, against 43 on jax, whose
eager ops each compile. What is compared is the two models' definitions and the weights' layout, not a backend's
kernels: the four-runner checks in the extended tier compare every backend."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

from runners.child.initial_weights import initial_weights
from runners.child.pytorch.runner import build_torch_model, torch_inputs
from runners.config import RunConfig
from workloads import get_workload

BATCH = 8


def main(names: list[str]) -> dict:
    from runners.child.keras3.frameworks_kept_out import keep_jax_out, keep_tensorflow_out

    backend = os.environ.get("KERAS_BACKEND", "torch")
    keep_jax_out(backend)  # the other frameworks out, as in a Keras runner on that backend
    import keras

    keep_tensorflow_out(backend)
    from runners.child.keras3.runner import built_with_weights

    found = {}
    for name in names:
        workload = get_workload(name)
        settings = workload.settings(size="tiny")
        config = RunConfig(workload=name, settings=settings)
        weights = initial_weights(workload, config)
        x = workload.dataset(settings).x[:BATCH]
        with torch.no_grad():
            reference = build_torch_model(workload, settings, "cpu", weights, None).eval()(
                torch_inputs(workload, x)).numpy()
        converted = keras.ops.convert_to_numpy(built_with_weights(workload, settings, config, weights)(
            x, training=False))
        found[name] = [list(reference.shape), list(converted.shape),
                       float(np.max(np.abs(converted - reference)))]
    return found


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
