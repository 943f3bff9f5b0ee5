"""``kvp-dash make-images DIR``: a small image folder to train on, for tests and demos, with no download.

Each class is a smooth random colour pattern (drawn from the seed); each image is that pattern shifted, scaled
and noised, at a size that varies around ``size`` (real folders' images differ in size, and the pipelines must
resize them), written as JPEG (quality 90) or PNG with Pillow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workloads.errors import InputError


def make_images(root: Path, classes: int, per_class: int, size: int = 64, image_format: str = "jpeg",
                seed: int = 0) -> int:
    """Write the folder; returns the number of images. Refuses a folder that exists and is not empty."""
    from PIL import Image

    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InputError(f"{root} exists and is not an empty folder: choose a new one")
    rng = np.random.default_rng(seed)
    suffix = "jpg" if image_format == "jpeg" else "png"
    written = 0
    for label in range(classes):
        pattern = rng.uniform(0, 255, size=(4, 4, 3))
        folder = root / f"class_{label:02d}"
        folder.mkdir(parents=True)
        for index in range(per_class):
            side = int(size * rng.uniform(0.8, 1.25))
            base = Image.fromarray(pattern.astype(np.uint8)).resize((side, side), Image.Resampling.BICUBIC)
            pixels = np.asarray(base, dtype=np.float32)
            pixels = np.roll(pixels, shift=(int(rng.integers(0, side)), int(rng.integers(0, side))), axis=(0, 1))
            pixels += rng.normal(0, 20, size=pixels.shape)
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            image.save(folder / f"{index:04d}.{suffix}", **({"quality": 90} if suffix == "jpg" else {}))
            written += 1
    return written
