"""A bare best-practice training loop of one framework: no callback, no events, no dashboard.

The reference that kvp-dash's reported figures are held against
(benchmarks/timing_fidelity.py). It trains exactly what a runner trains (same
model, weights, optimizer, data, thread cap) and prints one JSON line:
steady-state seconds per step (the steps after the warm-up ones, timed as one
block) and the whole training's seconds (from the first step's start, as a
runner's own figure).

    python benchmarks/bare_loop.py SPEC WORKLOAD SIZE STEPS BATCH WARMUP THREADS
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def keras_loop(spec, workload, settings, warmup: int):
    os.environ["KERAS_BACKEND"] = spec.backend
    import keras

    from runners.child.keras_recipe import optimizer
    from runners.child.keras_runner import fit_steps
    from runners.child.keras_weights import load_initial_weights
    from runners.recipe import Recipe

    keras.utils.set_random_seed(settings.seed)
    model = workload.build_keras(settings)
    load_initial_weights(model, workload.initial_weights(settings))
    model.compile(
        optimizer=optimizer(spec.backend, Recipe(), settings.steps),  # the default recipe: Adam at 1e-3
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    data, batch = workload.dataset(settings), settings.batch_size

    class SteadyClock(keras.callbacks.Callback):
        """Three timestamps, as the Keras benchmarks take them. It leaves on_train_batch_end alone,
        so Keras keeps dispatching batch callbacks asynchronously: no added per-step sync."""

        start = steady_start = None
        steps_begun = 0  # over every epoch and fit() call

        def on_train_begin(self, logs=None):
            self.start = self.start or time.perf_counter()  # a second fit() finishes the same run

        def on_train_batch_begin(self, batch, logs=None):
            if self.steps_begun == warmup:
                self.steady_start = time.perf_counter()
            self.steps_begun += 1

        def on_train_end(self, logs=None):
            self.end = time.perf_counter()  # fit() has waited for every step by now

    clock = SteadyClock()
    fit_steps(model, data, batch, settings.steps, [clock])
    return clock.steady_start, clock.end, clock.start


def torch_loop(spec, workload, settings, warmup: int):
    import torch

    from runners.child.initial_weights import InitialWeights
    from runners.child.torch_recipe import optimizer as recipe_optimizer
    from runners.child.torch_runner import build_torch_model as _build
    from runners.child.torch_runner import torch_inputs as _inputs
    from runners.recipe import Recipe

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(settings.seed)
    frozen = {s.name for s in workload.specs(settings) if not s.trainable}
    model = _build(workload, settings, device, InitialWeights(workload.initial_weights(settings), frozen), None)
    data = workload.dataset(settings)
    epoch_batches = data.epoch_batches(settings.batch_size)
    inputs, targets = _inputs(workload, data.x), torch.from_numpy(data.y).long()
    trained = torch.compile(model) if spec.compile else model
    optimizer = recipe_optimizer(model.parameters(), Recipe())  # the default recipe: Adam at 1e-3
    loss_fn, batch = torch.nn.CrossEntropyLoss(), settings.batch_size

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    model.train()
    start = time.perf_counter()
    steady_start = None
    for step in range(settings.steps):
        if step == warmup:
            sync()
            steady_start = time.perf_counter()
        start_row = step % epoch_batches * batch
        xb = inputs[start_row : start_row + batch].to(device, non_blocking=True)
        yb = targets[start_row : start_row + batch].to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        logits = trained(xb)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        loss.backward()
        optimizer.step()
    sync()
    return steady_start, time.perf_counter(), start


def main() -> None:
    spec_name, workload_name, size, steps, batch, warmup, threads = sys.argv[1:8]
    steps, batch, warmup, threads = int(steps), int(batch), int(warmup), int(threads)
    from runners.child import devices
    from runners.specs import SPECS
    from workloads import get_workload

    spec = SPECS[spec_name]
    workload = get_workload(workload_name)
    settings = workload.settings(size=size, steps=steps, batch_size=batch)
    if spec.framework == "keras":
        os.environ["KERAS_BACKEND"] = spec.backend
    __import__(spec.backend)
    devices.cap_threads(spec.backend, threads)
    loop = keras_loop if spec.framework == "keras" else torch_loop
    steady_start, end, start = loop(spec, workload, settings, warmup)
    print(json.dumps({"steady_s_per_step": (end - steady_start) / (steps - warmup), "total_s": end - start}))


if __name__ == "__main__":
    main()
