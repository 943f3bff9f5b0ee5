"""Load a workload's generated initial weights (PyTorch names and layout) into a Keras model.

Keras layers are named after the PyTorch module holding the same tensors,
dots written as dashes (``layer1-0-conv1`` holds ``layer1.0.conv1.weight``);
each layer type converts its layout here.
Every weight of the model must be set and every generated tensor used, or the
two models are not the same architecture and loading fails. A Dense layer reading
a flattened image takes its rows in the order the Keras graph flattens it
(``runners.child.keras3.feature_order``); where that order cannot be read, the rows are
loaded as PyTorch has them and ``order_notes`` says so.
"""

from __future__ import annotations

import numpy as np

from runners.child.keras3.feature_order import Unknown, dense_input_order
from workloads.weights import WeightMismatch, keras_name, torch_name


def _dense(layer, w, name):
    weight = w[f"{name}.weight"]
    order = dense_input_order(layer)
    if isinstance(order, np.ndarray) and order.size == weight.shape[1]:
        weight = weight[:, order]  # Keras's input j is PyTorch's feature order[j] (runners.child.keras3.feature_order)
    return [weight.T] + ([w[f"{name}.bias"]] if layer.use_bias else [])


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


def _shapes(arrays) -> str:
    return ", ".join(str(tuple(a.shape)) for a in arrays)


def load_initial_weights(model, weights: dict[str, np.ndarray]) -> None:
    """Every Keras weight set from its PyTorch tensor, every tensor used: else one error naming both sides."""
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
            near = sorted(k for k in weights if k.rsplit(".", 1)[0] == name) or sorted(weights)[:4]
            raise WeightMismatch(
                f"Keras layer {layer.name!r} ({kind}) found no PyTorch tensor {exc.args[0]!r} "
                f"(PyTorch has {', '.join(near)}{'…' if len(weights) > 4 and not near else ''}): name each Keras "
                "layer after the PyTorch module that holds the same tensors, dots written as dashes"
            ) from None
        mine = [f"{name}.{s}" for s in suffixes if f"{name}.{s}" in weights]
        try:
            layer.set_weights(values)
        except ValueError:
            raise WeightMismatch(
                f"Keras layer {layer.name!r} ({kind}) holds weights of shapes {_shapes(layer.weights)}; PyTorch's "
                f"{', '.join(f'{k} {tuple(weights[k].shape)}' for k in mine)} convert to {_shapes(values)}"
            ) from None
        assigned.update(v.path for v in layer.weights)
        consumed.update(mine)
    unset = [v for v in model.weights if v.path not in assigned]
    unused = sorted(set(weights) - consumed)
    if unset:
        v = unset[0]
        raise WeightMismatch(
            f"Keras weight {v.path!r} {tuple(v.shape)} has no PyTorch tensor"
            + (f" (PyTorch tensors without a Keras layer: {', '.join(unused[:4])})" if unused else "")
            + f"; {len(unset)} Keras weight(s) unset in all. Layers kvp-dash converts: {', '.join(CONVERTERS)}; "
            "for others define load_keras_weights(model, weights)"
        )
    if unused:
        raise WeightMismatch(
            f"PyTorch tensor {unused[0]!r} {tuple(weights[unused[0]].shape)} has no Keras layer "
            f"(expected one named {keras_name(unused[0].rsplit('.', 1)[0])!r}); {len(unused)} tensor(s) unused in all"
        )


def order_notes(model) -> list[str]:
    """One line for each Dense whose input order kvp-dash could not read, with the fix: shown when parity fails."""
    dense = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
             if type(layer).__name__ == "Dense" and layer.weights]
    notes = []
    for layer in dense:
        order = dense_input_order(layer)
        if isinstance(order, Unknown):
            notes.append(f"Keras layer {layer.name!r} (Dense): {order.why}, so its rows were loaded in PyTorch's "
                         "order; if it reads a flattened image, put layers.Permute((3, 1, 2)) just before the "
                         "Flatten (it then reads PyTorch's channels-first order), or define load_keras_weights")
    has_graph = all(_has_graph(layer) for layer in dense)
    images = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
              if hasattr(layer, "data_format") and type(layer).__name__ != "Flatten"]
    if dense and images and not has_graph:
        names = ", ".join(repr(layer.name) for layer in dense[:4])
        notes.append(f"Keras layers {names} (Dense): the model has no graph kvp-dash can read (a subclassed model), "
                     "so their rows were loaded in PyTorch's order; if one reads a flattened image, transpose it to "
                     "channels first before flattening (keras.ops.transpose(x, (0, 3, 1, 2))) or build the model "
                     "with keras.Input")
    return notes


def _has_graph(layer) -> bool:
    try:
        layer.input
    except (AttributeError, ValueError):
        return False
    return True
