"""The workload interface every built-in (and later, user) workload implements."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class WorkloadSettings:
    """The knobs that change what is trained; identical for every runner."""

    batch_size: int
    steps: int
    seed: int
    image_size: int | None = None


@dataclass(frozen=True)
class Dataset:
    """Training arrays in the Keras layout (channels last), already in step order."""

    x: np.ndarray
    y: np.ndarray

    def batch(self, step: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        lo = step * batch_size
        return self.x[lo : lo + batch_size], self.y[lo : lo + batch_size]


@dataclass(frozen=True)
class Workload:
    """A model plus its data, with one builder per framework.

    ``keras_builder`` and ``torch_builder`` are ``"module:function"`` strings so
    that the dashboard process can list and validate workloads without ever
    importing a framework.
    """

    name: str
    description: str
    num_classes: int
    keras_builder: str
    torch_builder: str
    make_dataset: Callable[[WorkloadSettings, int], Dataset]
    default_steps: int
    default_batch_size: int
    default_image_size: int | None = None
    min_image_size: int | None = None
    # Layout change the PyTorch model needs, applied once to the whole data set.
    torch_input_axes: tuple[int, ...] | None = None
    # Shape of one sample (Keras layout) for a given image size, to size the data up front.
    sample_shape: Callable[[WorkloadSettings], tuple[int, ...]] = lambda settings: ()
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self, *, steps=None, batch_size=None, seed=0, image_size=None) -> WorkloadSettings:
        """Fill unset values with this workload's CPU-friendly defaults."""
        return WorkloadSettings(
            batch_size=batch_size or self.default_batch_size,
            steps=steps or self.default_steps,
            seed=seed,
            image_size=(image_size or self.default_image_size) if self.default_image_size else None,
        )

    def validate(self, settings: WorkloadSettings) -> None:
        """Raise ValueError with a one-line reason for settings that make no sense."""
        if settings.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1 (got {settings.batch_size})")
        if settings.steps < 1:
            raise ValueError(f"--steps must be at least 1 (got {settings.steps})")
        if self.default_image_size is None:
            return
        size = settings.image_size
        if size is None or size < (self.min_image_size or 1):
            raise ValueError(
                f"--image-size for {self.name} must be at least {self.min_image_size} (got {size})"
            )
        if size > 1024:
            raise ValueError(f"--image-size {size} is larger than kvp-dash supports (1024)")

    def data_bytes(self, settings: WorkloadSettings) -> int:
        """float32 inputs for every step, as each runner holds them in memory."""
        return settings.steps * settings.batch_size * 4 * int(np.prod(self.sample_shape(settings)))

    def dataset(self, settings: WorkloadSettings) -> Dataset:
        """The exact arrays every runner trains on, one row per sample in step order."""
        return self.make_dataset(settings, self.num_classes)

    def build_keras(self, settings: WorkloadSettings):
        return _resolve(self.keras_builder)(settings, self.num_classes)

    def build_torch(self, settings: WorkloadSettings):
        return _resolve(self.torch_builder)(settings, self.num_classes)


def _resolve(ref: str) -> Callable:
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)
