"""``--images DIR``: an image folder becomes the run's data, decoded once into the arrays every runner trains on
(``workloads.images``), kept in the cache while the files are unchanged. Framework-free (Pillow and NumPy)."""

from __future__ import annotations

from pathlib import Path

from runners.session.planning.prepared_cache import cache_root
from workloads.base import Workload, WorkloadSettings
from workloads.errors import InputError


def images_as_data(workload: Workload, settings: WorkloadSettings, images: Path) -> Path:
    """The .npz the folder decodes to at this workload's image size and channels; one line for a folder or a
    workload that cannot be trained this way."""
    from workloads.images.decode import decoded_file
    from workloads.images.folder import read_folder

    hyper = workload.hyper(settings)
    shape = tuple(workload.sample_shape(settings, hyper))
    if workload.task != "classification" or len(shape) != 3 or workload.input_dtype != "float32":
        raise InputError(f"--images trains image classifiers (cnn, resnet18, vit, deit, dinov2, swin, or your own); "
                         f"{workload.name} is not one")
    folder = read_folder(images)
    classes = workload.num_classes(hyper)
    if len(folder.classes) > classes:
        raise InputError(f"--images {folder.root} has {len(folder.classes)} classes; {workload.name} classifies "
                         f"{classes}")
    size, width, channels = shape
    if size != width:
        raise InputError(f"--images needs square images; {workload.name} takes {size}×{width}")
    return decoded_file(folder, size, channels, settings.seed, cache_root() / "images")
