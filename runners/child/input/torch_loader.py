"""PyTorch's way: a ``Dataset`` that decodes, crops, resizes and flips each image with Pillow (as torchvision's
transforms do; torchvision itself is not needed), batched by a ``DataLoader`` with worker processes."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from runners.child.input.order import StepOrder
from workloads.images.decode import ImageRecipe


class RecipeImages(Dataset):
    """The recipe's images at the given positions; NCHW for a PyTorch model, NHWC for Keras on torch."""

    def __init__(self, recipe: ImageRecipe, positions: np.ndarray, channels_first: bool):
        self.recipe, self.positions, self.channels_first = recipe, positions, channels_first

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, item: int):
        index = int(self.positions[item])
        image = self.recipe.image(index)
        if self.channels_first:
            image = np.ascontiguousarray(image.transpose(2, 0, 1))
        return torch.from_numpy(image), torch.tensor(self.recipe.labels[index])


def data_loader(recipe: ImageRecipe, order: StepOrder, workers: int, channels_first: bool,
                batches: int | None = None) -> DataLoader:
    """One epoch (or ``batches`` batches) in step order: no shuffling (the recipe's order is the shuffle)."""
    dataset = RecipeImages(recipe, order.positions(batches=batches), channels_first)
    return DataLoader(dataset, batch_size=order.batch, shuffle=False, drop_last=True, num_workers=workers,
                      persistent_workers=workers > 0, prefetch_factor=2 if workers else None)


def describe(workers: int) -> str:
    return f"DataLoader, Pillow, {workers} worker{'s' * (workers != 1)}"


def first_batch(recipe: ImageRecipe, order: StepOrder) -> np.ndarray:
    """The first batch as this pipeline makes it, NHWC (for ``native.input_note``)."""
    images = RecipeImages(recipe, order.positions(batches=1), channels_first=False)
    return np.stack([images[i][0].numpy() for i in range(order.batch)])
