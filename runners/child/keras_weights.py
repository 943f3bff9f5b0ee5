"""Load a workload's generated initial weights (PyTorch names and layout) into a Keras model.

Keras layers are named after the PyTorch module holding the same tensors,
dots written as dashes (``layer1-0-conv1`` holds ``layer1.0.conv1.weight``);
each layer type converts its layout here.
Every weight of the model must be set and every generated tensor used, or the
two models are not the same architecture and loading fails.
"""

from __future__ import annotations

import numpy as np

from runners.child.torch_weights import WeightMismatch
from workloads.weights import torch_name


def _dense(layer, w, name):
    return [w[f"{name}.weight"].T] + ([w[f"{name}.bias"]] if layer.use_bias else [])


def _conv2d(layer, w, name):
    # PyTorch (out, in, kh, kw) -> Keras (kh, kw, in, out)
    return [w[f"{name}.weight"].transpose(2, 3, 1, 0)] + ([w[f"{name}.bias"]] if layer.use_bias else [])


def _batch_norm(layer, w, name):
    return [w[f"{name}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]


def _layer_norm(layer, w, name):
    return [w[f"{name}.weight"], w[f"{name}.bias"]]


def _embedding(layer, w, name):
    return [w[f"{name}.weight"]]


def _lstm(layer, w, name):
    # Same gate order (i, f, g/c, o); Keras keeps one bias, the sum of PyTorch's two.
    return [
        w[f"{name}.weight_ih_l0"].T,
        w[f"{name}.weight_hh_l0"].T,
        w[f"{name}.bias_ih_l0"] + w[f"{name}.bias_hh_l0"],
    ]


CONVERTERS = {
    "Dense": (_dense, ("weight", "bias")),
    "Conv2D": (_conv2d, ("weight", "bias")),
    "BatchNormalization": (_batch_norm, ("weight", "bias", "running_mean", "running_var")),
    "LayerNormalization": (_layer_norm, ("weight", "bias")),
    "Embedding": (_embedding, ("weight",)),
    "LSTM": (_lstm, ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")),
}


def load_initial_weights(model, weights: dict[str, np.ndarray]) -> None:
    assigned: set[str] = set()
    consumed: set[str] = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        kind = type(layer).__name__
        if kind not in CONVERTERS or not layer.weights:
            continue
        convert, suffixes = CONVERTERS[kind]
        name = torch_name(layer.name)
        try:
            values = convert(layer, weights, name)
        except KeyError as exc:
            raise WeightMismatch(f"Keras layer {layer.name!r} ({kind}) has no weights named {exc.args[0]!r}") from None
        try:
            layer.set_weights(values)
        except ValueError as exc:
            raise WeightMismatch(f"Keras layer {layer.name!r} ({kind}): {exc}") from None
        assigned.update(v.path for v in layer.weights)
        consumed.update(f"{name}.{s}" for s in suffixes if f"{name}.{s}" in weights)
    unset = [v.path for v in model.weights if v.path not in assigned]
    unused = sorted(set(weights) - consumed)
    if unset or unused:
        raise WeightMismatch(
            f"the Keras model does not match the workload's weights: unset {unset[:5]}, unused {unused[:5]}"
        )
