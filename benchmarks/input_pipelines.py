"""Each framework's input pipeline alone, without training: images per second delivered and CPU seconds spent per
image, on a generated image folder (``kvp-dash make-images``), against decoding the folder once into memory.

Each pipeline runs in a process of its own (only its framework imported) and iterates ``--batches`` batches of
the same recipe the runners follow (``runners.child.input``): decode, crop, resize, flip, batch. The first batch is
left out of the timing (worker start-up, tracing). CPU is the process's and its live workers' (psutil).

    python benchmarks/input_pipelines.py --images /tmp/images --size 64 --batch 32 --batches 40 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIPELINES = {  # name: (KERAS_BACKEND or None, how the runner builds it)
    "DataLoader (torch)": None,
    "PyDataset (keras/jax)": "jax",
    "tf.data (keras/tensorflow)": "tensorflow",
}


def _cpu_s() -> float:
    """CPU seconds of this process and its live workers (DataLoader's processes; threads are this process's)."""
    import psutil

    total = 0.0
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def one(name: str, images: str, size: int, batch: int, batches: int, workers: int) -> dict:
    """Iterate one pipeline in this process; the figures as a dict."""
    from runners.child.input.order import StepOrder
    from workloads.images.decode import image_recipe
    from workloads.images.folder import read_folder

    recipe = image_recipe(read_folder(images), size, 3, seed=0)
    order = StepOrder(len(recipe.files), batch, batches)
    if name.startswith("DataLoader"):
        from runners.child.input.torch_loader import data_loader

        source = data_loader(recipe, order, workers, channels_first=True)
    else:
        from runners.child.input.keras_sources import source as keras_source

        source = keras_source(PIPELINES[name], recipe, order, workers)
    if name.startswith("PyDataset"):
        # As fit() iterates it, through its worker pool (Keras has no public iterator over a PyDataset's workers).
        from keras.src.trainers.data_adapters import get_data_adapter

        iterator = get_data_adapter(source, shuffle=False).get_numpy_iterator()
    else:
        iterator = iter(source)
    next(iterator)  # workers started, graph traced
    started, cpu = time.perf_counter(), _cpu_s()
    count = 0
    for batch_data in iterator:
        count += len(batch_data[1])
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    return {"pipeline": name, "images_per_s": count / seconds, "cpu_ms_per_image": 1000 * cpu / count}


def memory(images: str, size: int) -> dict:
    """Decoding the whole folder once (``--input memory``), on one core."""
    from workloads.images.decode import decoded
    from workloads.images.folder import read_folder

    folder = read_folder(images)
    started, cpu = time.perf_counter(), _cpu_s()
    count = len(decoded(folder, size, 3, seed=0)["x_train"])
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    return {"pipeline": "decode once (memory)", "images_per_s": count / seconds, "cpu_ms_per_image": 1000 * cpu / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", help="an image folder (default: a new one, 10 classes × 100 at --size)")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.images, args.size, args.batch, args.batches, args.workers)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        images = args.images
        if images is None:
            from workloads.images.generate import make_images

            images = str(Path(scratch) / "images")
            make_images(Path(images), 10, 100, size=args.size)
        rows = [memory(images, args.size)]
        for name, backend in PIPELINES.items():
            env = {**os.environ, **({"KERAS_BACKEND": backend} if backend else {})}
            result = subprocess.run([sys.executable, __file__, "--one", name, "--images", images, "--size",
                                     str(args.size), "--batch", str(args.batch), "--batches", str(args.batches),
                                     "--workers", str(args.workers)], capture_output=True, text=True, env=env)
            if result.returncode:
                print(f"{name}: failed: {result.stderr.strip().splitlines()[-1]}")
                continue
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(f"{args.size} px images, batch {args.batch}, {args.batches} batches, {args.workers} workers:")
    print(f"{'pipeline':<28} {'images/s':>10} {'CPU ms/image':>13}")
    for row in rows:
        print(f"{row['pipeline']:<28} {row['images_per_s']:>10,.0f} {row['cpu_ms_per_image']:>13.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
