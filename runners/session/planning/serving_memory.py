"""Whether the serving paths fit in this machine's memory before any starts.

The interleaved schedule keeps every path's process alive at once (resnet18 small's 13 paths: about 10 GiB
together on 2026-12-05); the kernel's OOM killer is no message. What a path holds at the least is known
ahead: its libraries' own footprint (``PathSpec.floor_bytes``, measured), the weights twice (as read from the
weights file and in the model built from them), and the inputs (held for the whole run).
Exports, compiled copies and activations come on top and depend on the model, so the figure is a floor: where
even the floor does not fit, the run would not, and that is said before anything starts.
"""

from __future__ import annotations

import math
from pathlib import Path

from runners.serving_paths import SERVING_SAMPLES, PathSpec
from runners.session.planning.plan import available_memory
from runners.session.planning.schedules import INTERLEAVED, SEQUENTIAL, Schedule
from runners.session.state.formatting import fmt_bytes
from workloads.errors import InputError

WEIGHT_COPIES = 2  # the weights as read from the file, and in the model built from them
FLOAT_BYTES = 4  # the weights and inputs are float32 on the way in (a bf16 path converts its own copy)


def weights_bytes(workload, settings, weights_from: str | None) -> int:
    """The served weights' bytes where they are known before a runner starts: a training run's saved weights
    (``--from``), a checkpoint folder's weight files as stored (``hub:PATH``), or a built-in's parameter table;
    0 where only a runner can tell (a PyTorch model file's own weights, a checkpoint the preparation makes)."""
    if weights_from:
        return Path(weights_from).stat().st_size
    if workload.checkpoint_folder:
        from workloads.hub.checkpoint import weight_files

        return sum(file.stat().st_size for file in weight_files(Path(workload.checkpoint_folder)))
    params = workload.trainable_params(settings)
    return params * FLOAT_BYTES if params else 0


def least_bytes(spec: PathSpec, weights: int, input_bytes: int) -> int:
    """What one path's process holds at the least (see the module's docstring)."""
    return spec.floor_bytes + WEIGHT_COPIES * weights + input_bytes


def inputs_bytes(sample_shape: tuple[int, ...], batch_sizes: list[int]) -> int:
    """A serving runner holds its generated samples and one input batch of every size for the whole run."""
    return FLOAT_BYTES * math.prod(sample_shape) * (SERVING_SAMPLES + sum(batch_sizes))


def fit_paths_in_memory(specs: list[PathSpec], weights: int, input_bytes: int, schedule: Schedule, *,
                        explicit: bool, available: int | None = None) -> tuple[Schedule, str | None]:
    """The schedule to serve under, and a notice when it is not the one asked for.

    Under the interleaved schedule every path is alive at once: where their floors together exceed the memory
    available, a default schedule becomes sequential (one path after another, no paired intervals) and says
    so; one the user named is refused in one line, as is a path that alone exceeds it.
    """
    if available is None:
        available = available_memory()
    each = {spec.name: least_bytes(spec, weights, input_bytes) for spec in specs}
    largest = max(each, key=each.get)
    if each[largest] > available:
        raise InputError(f"{largest} alone would hold at least {fmt_bytes(each[largest])} (its libraries, the "
                         f"weights twice, the inputs) and {fmt_bytes(available)} is available; lower "
                         "--batch-sizes or serve a smaller model")
    together = sum(each.values())
    if schedule is not INTERLEAVED or together <= available:
        return schedule, None
    head = (f"the {len(specs)} paths would hold at least {fmt_bytes(together)} together under the interleaved "
            f"schedule (each alive for the whole run) and {fmt_bytes(available)} is available")
    if explicit:
        raise InputError(f"{head}; use --schedule sequential or fewer --paths")
    return SEQUENTIAL, (f"{head}: serving them one after another (--schedule sequential), so the ratios come "
                        "without paired intervals; fewer --paths keep them")
