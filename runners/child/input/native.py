"""Whether a runner reads its training batches from image files (``--images DIR --input native``), and the recipe
and step order its pipeline follows. The probe and validation still use the decoded arrays (the same pixels)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

from runners.child.input.order import StepOrder, step_order
from workloads.images.decode import ImageRecipe


@dataclass(frozen=True)
class NativeInput:
    recipe: ImageRecipe
    order: StepOrder


def native_input(workload, config) -> NativeInput | None:
    if not config.images:
        return None
    from workloads.images.decode import image_recipe
    from workloads.images.folder import read_folder

    settings = config.settings
    size, _, channels = workload.sample_shape(settings, workload.hyper(settings))
    recipe = image_recipe(read_folder(config.images), size, channels, settings.seed)
    return NativeInput(recipe, step_order(len(recipe.files), size, channels, settings))


def timed_pulls(fresh: Callable[[], Iterator], reporter) -> Iterator:
    """A pipeline's batches epoch after epoch without end (``fresh()`` starts an epoch), each pull's wait told to
    the window reporter: what the training thread spends waiting for input."""
    while True:
        iterator = fresh()
        while True:
            started = time.perf_counter()
            try:
                batch = next(iterator)
            except StopIteration:
                break
            reporter.waited_for_input(time.perf_counter() - started)
            yield batch


def hello_fields(native: NativeInput | None, pipeline: str, first_batch: Callable[[], object], memory_batch) -> dict:
    """What a runner's hello says of its input: the pipeline in words, and how its first batch differs from the
    decoded arrays; nothing from memory."""
    if native is None:
        return {}
    return {"input_pipeline": pipeline, "input_note": input_note(pipeline, first_batch(), memory_batch)}


def input_note(pipeline: str, first_batch, memory_batch) -> str | None:
    """How the pipeline's first batch differs from the decoded arrays' (Pillow's pixels), in pixel levels: None
    when it is the same. A pipeline that resizes or decodes its own way shows here, not as a mystery in parity."""
    import numpy as np

    from workloads.images.decode import STD

    difference = np.abs(np.asarray(first_batch, dtype=np.float32) - memory_batch)
    if not difference.size or difference.max() < 1e-6:
        return None
    levels = float(difference.max()) * STD * 255
    return (f"{pipeline}: its first batch is up to {levels:.1f}/255 from Pillow's pixels in "
            f"{float((difference > 1e-6).mean()):.0%} of them")
