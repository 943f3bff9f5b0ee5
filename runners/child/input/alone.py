"""One input pipeline alone, without training (``kvp-dash pipelines``): the batches it delivers a second and the
CPU it spends an image, in a process of its own with only its framework imported.

    python -m runners.child.input.alone PIPELINE IMAGES SIZE BATCH BATCHES WORKERS   (prints one JSON line)

PIPELINE: ``memory`` (Pillow, decoding once on one core), ``DataLoader``, ``PyDataset`` or ``tf.data``, each built
as the runners build it (``torch_loader``, ``keras_sources``) over the same recipe. The first batch is left out
of the timing (workers starting, tracing).
"""

from __future__ import annotations

import json
import sys
import time

PIPELINES = {"memory": None, "DataLoader": None, "PyDataset": "jax", "tf.data": "tensorflow"}  # KERAS_BACKEND


def cpu_seconds() -> float:
    """This process's CPU and its live workers' (DataLoader's processes; threads are this process's)."""
    import psutil

    total = 0.0
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def iterate(pipeline: str, images: str, size: int, batch: int, batches: int, workers: int) -> dict:
    from runners.child.input.order import StepOrder
    from workloads.images.decode import image_recipe
    from workloads.images.folder import read_folder

    recipe = image_recipe(read_folder(images), size, 3, seed=0)
    order = StepOrder(len(recipe.files), batch, batches + 1)
    if pipeline == "memory":
        positions = order.positions()
        iterator = ([recipe.image(i) for i in positions[first:first + batch]]
                    for first in range(0, len(positions), batch))
    elif pipeline == "DataLoader":
        from runners.child.input.torch_loader import data_loader

        iterator = iter(data_loader(recipe, order, workers, channels_first=True))
    elif pipeline == "PyDataset":
        # As fit() iterates it, through Keras's worker pool (Keras has no public iterator over it).
        from keras.src.trainers.data_adapters import get_data_adapter

        from runners.child.input.keras_sources import RecipeBatches

        iterator = get_data_adapter(RecipeBatches(recipe, order, workers), shuffle=False).get_numpy_iterator()
    else:
        from runners.child.input.keras_sources import tf_data

        iterator = iter(tf_data(recipe, order, workers))
    next(iterator)
    started, cpu = time.perf_counter(), cpu_seconds()
    delivered = sum(batch for _ in iterator)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"pipeline": pipeline, "images_per_s": delivered / seconds, "cpu_ms_per_image": 1000 * cpu / delivered}


if __name__ == "__main__":
    name, folder, *numbers = sys.argv[1:]
    print(json.dumps(iterate(name, folder, *map(int, numbers))))
