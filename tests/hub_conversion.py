"""``python -m tests.hub_conversion FOLDER NAME...`` (KERAS_BACKEND=jax): each hub workload's tiny checkpoint, made
by Transformers and loaded by KerasHub's converter; prints, as one JSON line, each model's logits shapes on both
sides and their largest difference (token ids for a text model, images for a vision model: NCHW for PyTorch). Run by tests/test_hub_workloads.py in a process of its own."""

from __future__ import annotations

import json
import sys

import numpy as np
import torch

from workloads.hub import HUB_WORKLOADS, torch_model


def main(folder: str, names: list[str]) -> dict:
    reference, inputs = {}, {}
    for name in names:  # Transformers first: its lazy imports look for TensorFlow
        workload = HUB_WORKLOADS[name]
        settings = workload.settings(size="tiny")
        torch_model.make_checkpoint(settings, workload.hyper(settings), f"{folder}/{name}")
        inputs[name] = workload.dataset(settings).x[:2]
        with torch.no_grad():
            model = torch_model.build(settings, workload.hyper(settings), f"{folder}/{name}").eval()
            reference[name] = model(torch_inputs(workload, inputs[name])).numpy()
    import keras  # noqa: F401  (before the finder below, as in a runner)

    from runners.child.keras3.frameworks_kept_out import keep_tensorflow_out

    keep_tensorflow_out("jax")  # as in a keras/jax runner: KerasHub would import TensorFlow for nothing used here
    from workloads.hub import keras_model

    found = {}
    for name in names:
        workload = HUB_WORKLOADS[name]
        settings = workload.settings(size="tiny")
        model = keras_model.build(settings, workload.hyper(settings), f"{folder}/{name}")
        converted = np.asarray(model.predict(inputs[name], verbose=0))
        found[name] = [list(reference[name].shape), list(converted.shape),
                       float(np.max(np.abs(converted - reference[name])))]
    return found


def torch_inputs(workload, x: np.ndarray) -> torch.Tensor:
    """The batch as the PyTorch runner feeds it: token ids as int64, images moved to NCHW."""
    if workload.input_dtype == "int32":
        return torch.from_numpy(x.astype(np.int64))
    return torch.from_numpy(np.ascontiguousarray(x.transpose(workload.torch_input_axes)))


def own_vit_checkpoint(folder: str, epsilon: float) -> float:
    """A user's ViT checkpoint with another LayerNorm epsilon (Transformers' default, 1e-12), loaded as
    ``hub:FOLDER`` loads it: the largest logit difference between Transformers and KerasHub."""
    from workloads.hub import checkpoint_workload

    workload = HUB_WORKLOADS["vit"]
    settings = workload.settings(size="tiny")
    hyper = {**workload.hyper(settings), "config": {**workload.hyper(settings)["config"], "layer_norm_eps": epsilon}}
    torch_model.make_checkpoint(settings, hyper, folder)
    own = checkpoint_workload(f"hub:{folder}")
    own_settings = own.settings()
    images = own.dataset(own_settings).x[:2]
    with torch.no_grad():
        reference = torch_model.build(own_settings, own.hyper(own_settings), folder).eval()(
            torch_inputs(own, images)).numpy()
    import keras  # noqa: F401

    from workloads.hub import keras_model

    converted = np.asarray(keras_model.build(own_settings, own.hyper(own_settings), folder).predict(images, verbose=0))
    return float(np.max(np.abs(converted - reference)))


if __name__ == "__main__":
    if sys.argv[1] == "--own-vit":
        print(json.dumps({"max_diff": own_vit_checkpoint(sys.argv[2], float(sys.argv[3]))}))
    else:
        print(json.dumps(main(sys.argv[1], sys.argv[2:])))
