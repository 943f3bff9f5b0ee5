"""An image folder decoded into the arrays every runner trains on (``--images DIR``), and the one recipe every
input pipeline follows: each file decoded, converted to the workload's channels, cropped, resized to its image
size and, for training, flipped; then scaled to float32 (pixel / 255 − 0.5) / 0.25, NHWC.

The augmentation is deterministic from the seed: each training image's random-resized crop (a share of 0.35–1
of its area, an aspect ratio of 3/4–4/3, as torchvision's RandomResizedCrop draws them) and horizontal flip are
drawn from a generator seeded by (seed, image index) in ``image_recipe``, so every runner's pipeline crops the
same boxes of the same images in the same order. Validation images are resized whole. Each image has one crop:
every epoch sees the same pixels (the decoded arrays are the same in ``--input memory`` as in ``native``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workloads.errors import InputError
from workloads.images.folder import ImageFolder, fingerprint, shuffled

SCALE = (0.35, 1.0)
RATIO = (3 / 4, 4 / 3)
MEAN, STD = 0.5, 0.25


@dataclass(frozen=True)
class ImageRecipe:
    """What every pipeline does to the training images, in training order: file, label, crop box, flip."""

    files: list[str]
    labels: np.ndarray  # int64
    boxes: np.ndarray  # (n, 4) int32: left, top, right, bottom
    flips: np.ndarray  # (n,) bool
    size: int
    channels: int

    def image(self, index: int) -> np.ndarray:
        """Training image ``index`` as every Pillow pipeline makes it: decoded, cropped, resized, flipped."""
        return pixels(self.files[index], self.size, self.channels, self.boxes[index], bool(self.flips[index]))


def crop_box(width: int, height: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A random-resized crop's box (left, top, right, bottom), drawn as torchvision draws it: ten tries at a share
    of the area and an aspect ratio (log-uniform), else the whole image."""
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(*SCALE)
        ratio = math.exp(rng.uniform(math.log(RATIO[0]), math.log(RATIO[1])))
        w, h = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
        if 0 < w <= width and 0 < h <= height:
            left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
            return left, top, left + w, top + h
    return 0, 0, width, height


def image_recipe(folder: ImageFolder, size: int, channels: int, seed: int) -> ImageRecipe:
    """The training images in the seed's order, each with its crop and flip (from its header's size: no decode)."""
    from PIL import Image, UnidentifiedImageError

    items = shuffled(folder.train, seed)
    boxes, flips = [], []
    for index, (path, _) in enumerate(items):
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (OSError, UnidentifiedImageError) as exc:
            raise InputError(f"--images {path} is not a readable image ({exc}): remove or replace it") from None
        rng = np.random.default_rng((seed, index))
        boxes.append(crop_box(width, height, rng))
        flips.append(bool(rng.random() < 0.5))
    return ImageRecipe([str(p) for p, _ in items], np.array([label for _, label in items], dtype=np.int64),
                       np.array(boxes, dtype=np.int32).reshape(-1, 4), np.array(flips, dtype=bool), size, channels)


def pixels(path: str, size: int, channels: int, box=None, flip: bool = False) -> np.ndarray:
    """One image as (size, size, channels) float32, cropped to ``box`` and flipped when asked: Pillow's decode and
    bilinear resize (with its antialiasing), as a PyTorch ``Dataset`` or a Keras ``PyDataset`` does it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if box is not None:
                image = image.crop(tuple(int(v) for v in box))
            image = image.resize((size, size), Image.Resampling.BILINEAR)
            if flip:
                image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            values = np.asarray(image, dtype=np.float32)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise InputError(f"--images {path} is not a readable image ({exc}): remove or replace it") from None
    return ((values.reshape(size, size, channels) / 255.0 - MEAN) / STD).astype(np.float32)


def decoded(folder: ImageFolder, size: int, channels: int, seed: int) -> dict[str, np.ndarray]:
    recipe = image_recipe(folder, size, channels, seed)
    x_train = np.stack([recipe.image(index) for index in range(len(recipe.files))])
    arrays = {"x_train": x_train, "y_train": recipe.labels}
    if folder.val:
        arrays["x_val"] = np.stack([pixels(str(path), size, channels) for path, _ in folder.val])
        arrays["y_val"] = np.array([label for _, label in folder.val], dtype=np.int64)
    return arrays


def decoded_file(folder: ImageFolder, size: int, channels: int, seed: int, cache: Path) -> Path:
    """The folder's arrays as an .npz under ``cache``, named by what they depend on (the files, the size, the
    channels, the seed): decoded once, reused while the files are unchanged. Written beside its name and renamed
    into place, so a stopped run leaves no half-written file."""
    key = json.dumps({"files": fingerprint(folder), "size": size, "channels": channels, "seed": seed,
                      "scale": SCALE, "ratio": RATIO, "normalise": [MEAN, STD], "order": 1})
    path = cache / f"images-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    try:
        np.savez(partial, **decoded(folder, size, channels, seed))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
