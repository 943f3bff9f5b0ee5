"""Whether a runner reads its training batches from image files (``--images DIR --input native``), and the recipe
and step order its pipeline follows. The probe and validation still use the decoded arrays (the same pixels)."""

from __future__ import annotations

from dataclasses import dataclass

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
