"""Which of PyTorch's features a Keras ``Dense`` reads at each input position, read from the Keras graph.

A PyTorch ``Linear`` after ``nn.Flatten`` reads an image as (channels, height, width); a Keras ``Dense``
after ``Flatten`` reads whatever order the Keras graph left the tensor in: (height, width, channels) after a
channels-last convolution, PyTorch's own order after a ``Permute((3, 1, 2))``, anything after a reshape.
The order is found exactly by carrying an index array through the layers between the last layer whose
layout is known (a convolution or pooling layer: its ``data_format``; the model's image input, fed channels
last) and the ``Dense``: each value is the position of that element in PyTorch's flattened tensor, and
every layout op (``Permute``, ``Reshape``, ``Flatten``, ``ops.transpose``…) is applied to it as Keras applies
it to the data. Layers that keep the layout (activations, dropout, normalisation) pass it on. Anything else
between an image and the ``Dense`` — a ``Lambda``, a custom layer, a subclassed model with no graph — makes
the order unknown, and the caller says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Layers whose output has their input's layout: the same elements in the same places.
_LAYOUT_KEEPING = {
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout", "GaussianDropout", "GaussianNoise",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization", "Rescaling",
    "ActivityRegularization", "Identity", "Masking", "Relu", "Sigmoid", "Tanh", "Gelu", "Silu",
}
# Layers combining inputs of one shape element by element: the output has their (shared) layout.
_MERGING = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


@dataclass(frozen=True)
class Unknown:
    """The order could not be traced; ``why`` names the layer that hides it."""

    why: str


def dense_input_order(layer) -> np.ndarray | Unknown | None:
    """For a Dense ``layer``: PyTorch's feature index at each of its inputs, None when no reordering is needed.

    Unknown when the layer reads an image through something whose layout cannot be traced, or when the
    model has no graph to read (a subclassed model) and holds image layers.
    """
    try:
        tensor = layer.input
    except (AttributeError, ValueError):  # a subclassed model (no graph), or a layer called more than once
        return None
    order = _Tracer().layout(tensor)
    if isinstance(order, np.ndarray) and order.ndim != 1:
        return None  # a Dense over the last axis of a tensor (per pixel) reads that axis alike in both
    return order


def _channels_first_index(shape: tuple[int, ...], channels_last: bool) -> np.ndarray:
    """An image's PyTorch positions, laid out as Keras holds it (``shape`` is Keras's, without the batch)."""
    if not channels_last:
        return np.arange(int(np.prod(shape))).reshape(shape)
    channels, spatial = shape[-1], shape[:-1]
    return np.moveaxis(np.arange(int(np.prod(shape))).reshape(channels, *spatial), 0, -1)


def _inputs(tensor) -> tuple[object, list]:
    operation, node_index, _ = tensor._keras_history
    return operation, list(operation._inbound_nodes[node_index].input_tensors)


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape[1:])


class _Tracer:
    """Layouts of a graph's tensors, each worked out once: a residual graph reaches a tensor by many paths, and
    walking every path again would grow exponentially with its depth."""

    def __init__(self):
        self._known: dict[int, object] = {}

    def layout(self, tensor):
        """The layout of a Keras tensor: None when both frameworks hold it alike (no image in its past), an
        index array (PyTorch positions, in the tensor's own non-batch shape) when it comes from an image, or
        Unknown."""
        key = id(tensor)
        if key not in self._known:
            self._known[key] = self._traced(tensor)
        return self._known[key]

    def _traced(self, tensor):
        try:
            operation, inputs = _inputs(tensor)
        except (AttributeError, IndexError, ValueError):
            return None
        kind = type(operation).__name__
        shape = _shape(tensor)
        if kind == "InputLayer":  # kvp-dash feeds Keras images channels last (workloads.base.Dataset)
            return _channels_first_index(shape, channels_last=True) if len(shape) >= 3 else None
        if kind == "Flatten":
            source = self.layout(inputs[0])
            if not isinstance(source, np.ndarray):
                return source
            if getattr(operation, "data_format", "channels_last") == "channels_first" and source.ndim > 1:
                source = np.moveaxis(source, 0, -1)  # Keras's Flatten moves channels last first (its call())
            return source.reshape(-1)
        if hasattr(operation, "data_format"):
            if len(shape) < 2:  # global pooling: one value per channel, the same in both
                return None
            # A convolution, pooling, padding or resizing layer: its output's layout is its data_format.
            return _channels_first_index(shape, channels_last=operation.data_format == "channels_last")
        if len(inputs) != 1:
            return self._combined(inputs, operation, kind)
        source = self.layout(inputs[0])
        if not isinstance(source, np.ndarray):
            return source if isinstance(source, Unknown) else None
        if kind in _LAYOUT_KEEPING:
            return source
        if kind in ("Dense", "EinsumDense") and source.ndim == 1:  # its own rows take the reordering
            return None
        if kind == "Permute":  # dims count from 1, the batch axis left out
            return np.transpose(source, [d - 1 for d in operation.dims])
        if kind == "Transpose" and getattr(operation, "axes", None) is not None:  # keras.ops.transpose
            axes = list(operation.axes)  # the batch axis included
            if axes[0] == 0:
                return np.transpose(source, [a - 1 for a in axes[1:]])
        if kind == "Reshape":  # the layer and keras.ops.reshape both keep the row-major order
            return source.reshape(shape)
        return Unknown(f"{operation.name!r} ({kind}) lies between an image and it, and kvp-dash cannot trace "
                       "the order of the features through that")

    def _combined(self, inputs, operation, kind):
        """Several inputs: element-wise merges keep a layout all their inputs share; anything else that takes
        an image in cannot be traced."""
        layouts = [self.layout(t) for t in inputs]
        if all(layout is None for layout in layouts):
            return None
        unknown = next((x for x in layouts if isinstance(x, Unknown)), None)
        if unknown is not None:
            return unknown
        first = layouts[0]
        if kind in _MERGING and all(isinstance(x, np.ndarray) and x.shape == first.shape and np.array_equal(x, first)
                                    for x in layouts):
            return first
        why = "adds tensors laid out differently" if kind in _MERGING else "combines an image with other inputs"
        return Unknown(f"{operation.name!r} ({kind}) {why}")
