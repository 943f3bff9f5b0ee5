"""An image folder in the usual layout, ``DIR/<class>/<image>`` (JPEG or PNG), as torchvision's ``ImageFolder`` and
Keras's ``image_dataset_from_directory`` read it: the classes are the subfolders in name order, their index the
label. Checked here, framework-free, before anything starts.

The split into training and validation is a fixed rule every runner and every run applies alike: within each
class, files in name order, every tenth (the 10th, 20th, …) is held out for validation. The training images are
then put in one order drawn from the seed (``shuffled``), the order every runner trains in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workloads.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
HELD_OUT_EVERY = 10


@dataclass(frozen=True)
class ImageFolder:
    root: Path
    classes: list[str]
    train: list[tuple[Path, int]]  # (file, label), class by class, files in name order
    val: list[tuple[Path, int]]

    def describe(self) -> str:
        return (f"{self.root.name}: {len(self.classes)} classes, {len(self.train)} training and {len(self.val)} "
                f"validation images")


def read_folder(root: Path) -> ImageFolder:
    """The folder's classes and files; a folder that is not one (missing, no class folders, a class without
    images) is refused in one line, as ``ImageFolder`` refuses it."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise InputError(f"--images {root} is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise InputError(f"--images {root} has no class folders: put each class's images in a subfolder of its own")
    train, val = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError(f"--images class folder {root / name} has no JPEG or PNG images")
        for index, file in enumerate(files):
            (val if index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train).append((file, label))
    return ImageFolder(root, classes, train, val)


def shuffled(items: list[tuple[Path, int]], seed: int) -> list[tuple[Path, int]]:
    """The training order: one permutation from the seed (class-by-class batches would teach one class a step)."""
    import numpy as np

    order = np.random.default_rng((seed, 0x1A6E)).permutation(len(items))
    return [items[i] for i in order]


def fingerprint(folder: ImageFolder) -> list:
    """What the decoded arrays depend on, file by file: path, size and modification time."""
    return [(str(path.relative_to(folder.root)), path.stat().st_size, path.stat().st_mtime_ns, label)
            for path, label in folder.train + folder.val]
