"""Which training image each step's batch holds, as ``workloads.data.in_step_order`` lays arrays out: step ``k``
trains on batch ``k % epoch_batches``, whose row ``r`` is image ``r % images`` of the recipe's order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workloads.data import epoch_batches


@dataclass(frozen=True)
class StepOrder:
    images: int  # in the recipe
    batch: int
    epoch_batches: int

    def positions(self, first_batch: int = 0, batches: int | None = None) -> np.ndarray:
        """The recipe indices of ``batches`` batches from ``first_batch`` on, row after row."""
        count = self.epoch_batches if batches is None else batches
        rows = np.arange(first_batch * self.batch, (first_batch + count) * self.batch)
        return rows % self.images


def step_order(images: int, size: int, channels: int, settings) -> StepOrder:
    sample_bytes = 4 * size * size * channels  # float32 pixels, as the arrays would hold them
    return StepOrder(images, settings.batch_size, epoch_batches(images, sample_bytes, settings))
