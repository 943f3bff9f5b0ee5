"""The workload interface every built-in and user workload implements."""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from workloads.errors import InputError
from workloads.weights import ParamSpec, init_weights, trainable_count

SIZE_NAMES = ("tiny", "small", "base", "large")


@dataclass(frozen=True)
class WorkloadSettings:
    """The knobs that change what is trained; identical for every runner."""

    batch_size: int
    steps: int
    seed: int
    size: str = "small"
    image_size: int | None = None
    data_path: str | None = None  # a user's .npz instead of the synthetic data
    seq_len: int | None = None  # --seq-len: the context of a sequence workload (None: its size's)
    # Epochs are made this long (the data repeated in order) as far as this many bytes go: each epoch
    # boundary costs Keras on TensorFlow about 45 ms (measured on mlp). The CLI lowers it to what the
    # machine's memory holds for all runners; tests lower it to cross epochs quickly.
    epoch_bytes: int = 1 << 30


@dataclass(frozen=True)
class SizePreset:
    """Model hyperparameters plus the run length that suits them."""

    steps: int
    batch_size: int
    model: dict[str, Any]
    image_size: int | None = None


@dataclass(frozen=True)
class Dataset:
    """One epoch of training arrays in the Keras layout (channels last), in whole batches in step order."""

    x: np.ndarray
    y: np.ndarray
    # Held-out samples, evaluated apart from training (None: the workload has no validation data).
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def epoch_batches(self, batch_size: int) -> int:
        """Batches in one pass over the arrays: step ``k`` trains on batch ``k % epoch_batches``."""
        return len(self.x) // batch_size


@dataclass(frozen=True)
class Workload:
    """A model plus its data, with one builder per framework.

    The builders are ``"module:function"`` strings so the dashboard process can
    list and validate workloads without importing a framework. Each builder is
    called as ``build(settings, hyper)`` with ``hyper = workload.hyper(settings)``.
    ``param_specs`` lists the model's tensors in PyTorch's names and layout; both
    models are loaded from the same generated arrays, and both must consume
    every one of them, which is what makes the two architectures the same.
    """

    name: str
    description: str
    keras_builder: str | Callable
    torch_builder: str | Callable
    # None: the initial weights are the PyTorch model's own, saved by a preparation subprocess
    # (``runners.child.preparing.weights``) and converted for Keras by layer name.
    param_specs: Callable[[WorkloadSettings, dict], list[ParamSpec]] | None
    make_dataset: Callable[[WorkloadSettings, dict], Dataset]
    # One sample's input shape (Keras layout) and dtype, to check a user's data file.
    sample_shape: Callable[[WorkloadSettings, dict], tuple[int, ...]]
    sizes: dict[str, SizePreset]
    input_dtype: str = "float32"  # "float32" features or "int32" token ids
    # Shape of one sample's target: () for a class label, (T,) for next-token targets.
    target_shape: Callable[[WorkloadSettings, dict], tuple[int, ...]] = lambda settings, hyper: ()
    # The number of classes (or vocabulary size) the logits range over.
    num_classes: Callable[[dict], int] = lambda hyper: hyper["classes"]
    default_size: str = "small"
    min_image_size: int | None = None
    # Layout change the PyTorch model needs, applied once to the whole data set.
    torch_input_axes: tuple[int, ...] | None = None
    # Optional hooks, (model, weights) -> None, for models the generic by-name loaders cannot map.
    load_keras_weights: str | Callable | None = None
    load_torch_weights: str | Callable | None = None
    # Forward-pass FLOPs of one sample (matmuls and convolutions, a multiply-add counted as 2).
    forward_flops: Callable[[WorkloadSettings, dict], float] | None = None
    # How far the first optimizer steps' losses may drift apart across frameworks (relative).
    # 1e-3 unless float32 rounding alone moves this model further (say why where you raise it).
    parity_step_rtol: float = 1e-3
    # What it learns (``workloads.tasks``): the loss, the validation metric and the targets' type follow.
    task: str = "classification"
    # Its training recipe's defaults (``runners.recipe.Recipe`` fields); the command line overrides them.
    recipe: dict | None = None
    # Hub workloads: the model lives in a checkpoint folder in the hub's layout that each framework loads with
    # its own loader (Transformers' from_pretrained, KerasHub's from_preset). Either made from the seed before
    # the runners start, by ``make_checkpoint(settings, hyper, folder)``, or a folder already on disk.
    make_checkpoint: str | Callable | None = None
    checkpoint_folder: str | None = None
    # More checks of the settings, (settings, hyper) -> None, raising InputError.
    check_settings: Callable[[WorkloadSettings, dict], None] | None = None
    source: str = "built-in"

    # --- settings -----------------------------------------------------------------

    @property
    def takes_images(self) -> bool:
        return self.min_image_size is not None

    @property
    def loads_checkpoint(self) -> bool:
        return bool(self.make_checkpoint or self.checkpoint_folder)

    @property
    def takes_seq_len(self) -> bool:
        return all("length" in preset.model for preset in self.sizes.values())

    def settings(self, *, size=None, steps=None, batch_size=None, seed=0, image_size=None,
                 data_path=None, seq_len=None) -> WorkloadSettings:
        """Fill unset values from the size preset (CPU-friendly for tiny and small)."""
        size = size or self.default_size
        if size not in self.sizes:
            raise InputError(f"unknown size {size!r} for {self.name} (known: {', '.join(self.sizes)})")
        preset = self.sizes[size]
        return WorkloadSettings(
            batch_size=batch_size or preset.batch_size,
            steps=steps or preset.steps,
            seed=seed,
            size=size,
            image_size=(image_size or preset.image_size) if self.takes_images else None,
            data_path=str(data_path) if data_path else None,
            seq_len=seq_len,
        )

    def hyper(self, settings: WorkloadSettings) -> dict[str, Any]:
        model = self.sizes[settings.size].model
        return {**model, "length": settings.seq_len} if settings.seq_len else model

    def validate(self, settings: WorkloadSettings) -> None:
        """Raise ValueError with a one-line reason for settings that make no sense."""
        if settings.batch_size < 1:
            raise InputError(f"--batch-size must be at least 1 (got {settings.batch_size})")
        if settings.steps < 1:
            raise InputError(f"--steps must be at least 1 (got {settings.steps})")
        if settings.seq_len is not None:
            if not self.takes_seq_len:
                raise InputError(f"--seq-len does not apply to {self.name}, which is not a sequence workload")
            if settings.seq_len < 2:
                raise InputError(f"--seq-len must be at least 2 (got {settings.seq_len})")
        if self.check_settings is not None:
            self.check_settings(settings, self.hyper(settings))
        if not self.takes_images:
            return
        size = settings.image_size
        if size is None or size < self.min_image_size:
            raise InputError(f"--image-size for {self.name} must be at least {self.min_image_size} (got {size})")
        if size > 1024:
            raise InputError(f"--image-size {size} is larger than kvp-dash supports (1024)")

    # --- what the runners call --------------------------------------------------------

    def input_shape(self, settings: WorkloadSettings) -> tuple[int, ...]:
        return self.sample_shape(settings, self.hyper(settings))

    def data_bytes(self, settings: WorkloadSettings) -> int:
        """The generated inputs as each runner holds them in memory: one epoch (see ``in_step_order``)."""
        from workloads.data import POOL_SIZE, epoch_batches

        sample_bytes = 4 * math.prod(self.input_shape(settings))
        return epoch_batches(POOL_SIZE, sample_bytes, settings) * settings.batch_size * sample_bytes

    def dataset(self, settings: WorkloadSettings) -> Dataset:
        """The exact arrays every runner trains on, one row per sample in step order."""
        if settings.data_path:
            from workloads.user_data import load_dataset

            return load_dataset(self, settings)
        return self.make_dataset(settings, self.hyper(settings))

    @property
    def weights_from_torch(self) -> bool:
        """No ``param_specs``: the PyTorch model's own initial weights, saved before the runners start."""
        return self.param_specs is None and not self.loads_checkpoint

    def specs(self, settings: WorkloadSettings) -> list[ParamSpec]:
        return self.param_specs(settings, self.hyper(settings))

    def initial_weights(self, settings: WorkloadSettings) -> dict[str, np.ndarray]:
        return init_weights(self.specs(settings), settings.seed)

    def trainable_params(self, settings: WorkloadSettings) -> int | None:
        """None without ``param_specs``: the preparation step counts them (the PyTorch model's own, or a hub
        checkpoint's)."""
        if self.param_specs is None:
            return None
        return trainable_count(self.specs(settings))

    def tokens_per_sample(self, settings: WorkloadSettings) -> int:
        """Positions a sample trains on: the sequence length for a language model, else 1 (a multi-label or
        regression sample has several targets, but it is one sample)."""
        if self.task != "language_model":
            return 1
        return math.prod(self.target_shape(settings, self.hyper(settings))) or 1

    def train_flops_per_step(self, settings: WorkloadSettings) -> float | None:
        """Training FLOPs of one step: forward plus backward, taken as 3x forward (the usual convention)."""
        if self.forward_flops is None:
            return None
        return 3.0 * self.forward_flops(settings, self.hyper(settings)) * settings.batch_size

    def build_keras(self, settings: WorkloadSettings, checkpoint: str | None = None):
        """``checkpoint``: the folder a hub workload's model loads from (weights included)."""
        extra = {"checkpoint": checkpoint} if checkpoint else {}
        return resolve(self.keras_builder)(settings, self.hyper(settings), **extra)

    def build_torch(self, settings: WorkloadSettings, checkpoint: str | None = None):
        extra = {"checkpoint": checkpoint} if checkpoint else {}
        return resolve(self.torch_builder)(settings, self.hyper(settings), **extra)


def resolve(ref: str | Callable) -> Callable:
    if callable(ref):
        return ref
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)
