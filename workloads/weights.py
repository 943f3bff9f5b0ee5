"""Initial weights generated once from the seed, in numpy, in PyTorch's layout and names.

Every runner loads these same arrays (converting layouts for Keras), so every
framework starts from the same point. The initialisers follow PyTorch's
defaults so a model starts where a PyTorch user's would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class WeightMismatch(ValueError):
    """A model does not match the workload's weights. Defined here, framework-free: the Keras runners raise it
    too, and importing it from a torch module put all of torch into every Keras runner (2.3 s of its start-up)."""


@dataclass(frozen=True)
class ParamSpec:
    """One tensor of the model: its PyTorch ``state_dict`` name, shape and initialiser."""

    name: str
    shape: tuple[int, ...]
    init: str  # "uniform" (bound below), "normal" (std below), "ones" or "zeros"
    scale: float = 0.0
    trainable: bool = True  # batch-norm running statistics are state, not parameters


def init_weights(specs: list[ParamSpec], seed: int) -> dict[str, np.ndarray]:
    # A stream of its own, so changing the data never changes the weights and vice versa.
    rng = np.random.default_rng([seed, 0x5EED])
    weights = {}
    for spec in specs:
        if spec.init == "uniform":
            array = rng.uniform(-spec.scale, spec.scale, size=spec.shape)
        elif spec.init == "normal":
            array = rng.normal(0.0, spec.scale, size=spec.shape)
        elif spec.init == "ones":
            array = np.ones(spec.shape)
        elif spec.init == "zeros":
            array = np.zeros(spec.shape)
        else:
            raise ValueError(f"unknown initialiser {spec.init!r} for {spec.name}")
        weights[spec.name] = array.astype(np.float32)
    return weights


def trainable_count(specs: list[ParamSpec]) -> int:
    return sum(math.prod(s.shape) for s in specs if s.trainable)


# PyTorch's default initialisers, layer by layer (kaiming_uniform with a=sqrt(5) gives 1/sqrt(fan_in)).


def linear(name: str, fan_in: int, fan_out: int, bias: bool = True) -> list[ParamSpec]:
    bound = 1 / math.sqrt(fan_in)
    specs = [ParamSpec(f"{name}.weight", (fan_out, fan_in), "uniform", bound)]
    if bias:
        specs.append(ParamSpec(f"{name}.bias", (fan_out,), "uniform", bound))
    return specs


def conv2d(name: str, in_channels: int, out_channels: int, kernel: int, bias: bool = True) -> list[ParamSpec]:
    fan_in = in_channels * kernel * kernel
    bound = 1 / math.sqrt(fan_in)
    specs = [ParamSpec(f"{name}.weight", (out_channels, in_channels, kernel, kernel), "uniform", bound)]
    if bias:
        specs.append(ParamSpec(f"{name}.bias", (out_channels,), "uniform", bound))
    return specs


def batch_norm(name: str, channels: int) -> list[ParamSpec]:
    return [
        ParamSpec(f"{name}.weight", (channels,), "ones"),
        ParamSpec(f"{name}.bias", (channels,), "zeros"),
        ParamSpec(f"{name}.running_mean", (channels,), "zeros", trainable=False),
        ParamSpec(f"{name}.running_var", (channels,), "ones", trainable=False),
    ]


def layer_norm(name: str, features: int) -> list[ParamSpec]:
    return [ParamSpec(f"{name}.weight", (features,), "ones"), ParamSpec(f"{name}.bias", (features,), "zeros")]


def embedding(name: str, vocab: int, dim: int, std: float = 1.0) -> list[ParamSpec]:
    return [ParamSpec(f"{name}.weight", (vocab, dim), "normal", std)]


def lstm(name: str, input_size: int, hidden: int) -> list[ParamSpec]:
    """One PyTorch LSTM layer (gates i, f, g, o). The hidden-to-hidden bias is zero:
    Keras has a single bias, so the two PyTorch biases must sum to the shared one."""
    bound = 1 / math.sqrt(hidden)
    return [
        ParamSpec(f"{name}.weight_ih_l0", (4 * hidden, input_size), "uniform", bound),
        ParamSpec(f"{name}.weight_hh_l0", (4 * hidden, hidden), "uniform", bound),
        ParamSpec(f"{name}.bias_ih_l0", (4 * hidden,), "uniform", bound),
        ParamSpec(f"{name}.bias_hh_l0", (4 * hidden,), "zeros", trainable=False),
    ]


def keras_name(torch_name: str) -> str:
    """The Keras layer name for a PyTorch module path: Keras's torch backend rejects dots in names,
    and a PyTorch path never holds a dash, so ``layer1.0.conv1`` <-> ``layer1-0-conv1``."""
    return torch_name.replace(".", "-")


def torch_name(keras_layer_name: str) -> str:
    return keras_layer_name.replace("-", ".")
