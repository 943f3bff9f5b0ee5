"""Keras's ways, by backend: ``tf.data`` on tensorflow (``tf.io`` decode, ``tf.image`` crop, resize and flip,
parallel map, prefetch), a ``keras.utils.PyDataset`` with Pillow and worker threads on jax, and PyTorch's
``DataLoader`` on torch.

``fit()`` takes the ``tf.data.Dataset`` as it is: its batches are fetched inside the compiled step, where no
callback sees the wait. On jax and torch ``fit()`` pulls each batch in Python on the training thread (no
look-ahead on a CPU), so the pipeline's batches are handed over by a generator that times each pull: the input
wait, told to the window reporter as the native PyTorch loop tells it."""

from __future__ import annotations

import numpy as np

from runners.child.input.native import timed_pulls
from runners.child.input.order import StepOrder
from workloads.images.decode import MEAN, STD, ImageRecipe


def source(backend: str, recipe: ImageRecipe, order: StepOrder, workers: int, batches: int | None = None):
    """What ``fit()`` trains on: one epoch of batches in step order (or the first ``batches``)."""
    if backend == "tensorflow":
        return tf_data(recipe, order, workers, batches)
    if backend == "torch":
        from runners.child.input.torch_loader import data_loader

        return data_loader(recipe, order, workers, channels_first=False, batches=batches)
    return RecipeBatches(recipe, order, workers, batches)


def first_batch(backend: str, recipe: ImageRecipe, order: StepOrder, workers: int) -> np.ndarray:
    """The pipeline's first batch of images (NHWC), for ``native.input_note``."""
    if backend == "tensorflow":
        return next(iter(tf_data(recipe, order, workers, batches=1)))[0].numpy()
    if backend == "torch":
        from runners.child.input.torch_loader import first_batch as loader_first_batch

        return loader_first_batch(recipe, order)
    return RecipeBatches(recipe, order, workers, batches=1)[0][0]


def waits_seen(backend: str) -> bool:
    """Whether the training loop's wait for input is measured (``timed_batches``): not inside tf.data's graph."""
    return backend != "tensorflow"


def timed_batches(backend: str, recipe: ImageRecipe, order: StepOrder, workers: int, reporter):
    """The pipeline's batches, epoch after epoch without end (``fit()`` stops at its step count), each pull's
    wait told to ``reporter``. The pipeline is the backend's own: PyDataset's worker pool as ``fit()`` drives it
    on jax, a ``DataLoader`` on torch."""
    if backend == "torch":
        from runners.child.input.torch_loader import data_loader

        loader = data_loader(recipe, order, workers, channels_first=False)
        fresh = lambda: iter(loader)  # noqa: E731 - its workers persist across epochs
    else:
        # Keras has no public iterator over a PyDataset's workers; this is the one fit() itself uses.
        from keras.src.trainers.data_adapters import get_data_adapter

        batches = RecipeBatches(recipe, order, workers)
        fresh = lambda: get_data_adapter(batches, shuffle=False).get_numpy_iterator()  # noqa: E731
    for batch in timed_pulls(fresh, reporter):
        yield tuple(batch)  # a DataLoader's batch is a list; fit() takes (inputs, targets)


def describe(backend: str, workers: int) -> str:
    if backend == "tensorflow":
        return f"tf.data, tf.image, {workers} parallel call{'s' * (workers != 1)}"
    if backend == "torch":
        from runners.child.input.torch_loader import describe as loader

        return loader(workers)
    return f"PyDataset, Pillow, {workers} worker thread{'s' * (workers != 1)}"


def tf_data(recipe: ImageRecipe, order: StepOrder, workers: int, batches: int | None = None):
    import tensorflow as tf

    positions = order.positions(batches=batches)
    files = tf.constant(np.array(recipe.files)[positions])
    boxes = tf.constant(recipe.boxes[positions])
    flips = tf.constant(recipe.flips[positions])
    labels = tf.constant(recipe.labels[positions])
    size, channels = recipe.size, recipe.channels

    def decode(contents):
        # JPEG with the accurate integer IDCT, as Pillow's libjpeg decodes (TensorFlow's default, INTEGER_FAST,
        # gives pixels up to 4 levels apart from it); PNG is lossless either way.
        return tf.cond(tf.io.is_jpeg(contents),
                       lambda: tf.io.decode_jpeg(contents, channels=channels, dct_method="INTEGER_ACCURATE"),
                       lambda: tf.io.decode_png(contents, channels=channels))

    def load(file, box, flip, label):
        image = decode(tf.io.read_file(file))
        image = tf.image.crop_to_bounding_box(image, box[1], box[0], box[3] - box[1], box[2] - box[0])
        # Antialiased bilinear, as Pillow resizes; rounded to whole pixel values as Pillow's 8-bit images are.
        image = tf.image.resize(image, (size, size), method="bilinear", antialias=True)
        image = tf.clip_by_value(tf.round(image), 0.0, 255.0)
        image = tf.cond(flip, lambda: tf.image.flip_left_right(image), lambda: image)
        return (image / 255.0 - MEAN) / STD, label

    dataset = tf.data.Dataset.from_tensor_slices((files, boxes, flips, labels))
    dataset = dataset.map(load, num_parallel_calls=workers or None, deterministic=True)
    return dataset.batch(order.batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _py_dataset_base():
    import keras

    return keras.utils.PyDataset


class RecipeBatches(_py_dataset_base()):
    """Batches of the recipe's images decoded with Pillow on ``workers`` threads (Keras's own worker pool)."""

    def __init__(self, recipe: ImageRecipe, order: StepOrder, workers: int, batches: int | None = None):
        super().__init__(workers=max(workers, 1), use_multiprocessing=False, max_queue_size=4)
        self.recipe, self.order = recipe, order
        self.batches = order.epoch_batches if batches is None else batches

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int):
        positions = self.order.positions(first_batch=index, batches=1)
        return np.stack([self.recipe.image(i) for i in positions]), self.recipe.labels[positions]
