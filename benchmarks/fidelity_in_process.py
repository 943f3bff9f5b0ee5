"""One runner's training timed two ways, in alternating segments of one process: kvp-dash's way and a bare loop's.

The model, weights, data, recipe and thread cap are a runner's (its own builders,
``runners.child``). Segment A trains with kvp-dash's instrumentation, exactly as
the runner does (Keras: ``fit()`` with the runner's ``StepReporter``; PyTorch:
the runner's ``train_steps`` loop), its windows written through a real event
writer; kvp-dash's figure is its steady windows' time over their steps, as the
panel reads it. Segment B trains the same model on the same batches with nothing
but clock reads: at the start, when the last warm-up step has ended and when the
last step has ended (Keras: in batch-end callbacks, where kvp-dash's steady windows
open and close; PyTorch: after a sync, as a PyTorch user times a loop), and at
the end of the segment. Both leave out the
warm-up steps of every segment (``RunConfig.warmup_steps``). Segments alternate in ABBA order
(``benchmarks/pairing.py``), each about ``SEGMENT_S`` seconds, so each pair is
measured seconds apart, under the same machine conditions, by one process: what
makes two processes differ (where each lands, its memory) is not in the ratio.

    python benchmarks/fidelity_in_process.py SPEC WORKLOAD SIZE PAIRS SEGMENT_S DEVICE THREADS

Prints one JSON line: the segment length in steps and, per pair, kvp-dash's steady
step time, the bare one, and each segment's whole time (for the overhead).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pairing import abba  # noqa: E402
from runners.child.event_writer import EventWriter  # noqa: E402
from runners.config import RunConfig  # noqa: E402
from runners.protocol import Metrics  # noqa: E402

CALIBRATION_STEPS = 50


class KvpDashFigure:
    """What the panel reads from one segment's windows: steady time over steady steps."""

    def __init__(self, writer: EventWriter):
        self._writer = writer
        self.steps, self.seconds = 0, 0.0

    def emit(self, event) -> None:
        self._writer.emit(event)
        if isinstance(event, Metrics) and not event.warmup:
            self.steps += event.steps
            self.seconds += event.window_s

    @property
    def step_s(self) -> float:
        return self.seconds / self.steps


def keras_segments(spec, workload, config: RunConfig):
    """(kvp-dash segment, bare segment) for a Keras runner, both on one compiled model."""
    import keras

    from runners.child import devices
    from runners.child.initial_weights import initial_weights
    from runners.child.keras3.runner import StepReporter, _built_and_compiled, fit_steps
    from runners.child.windows import WindowReporter

    settings = config.settings
    keras.utils.set_random_seed(settings.seed)
    model = _built_and_compiled(workload, settings, spec, config, initial_weights(workload, config))
    data, batch = workload.dataset(settings), settings.batch_size

    class SteadyClock(keras.callbacks.Callback):
        """Clock reads where kvp-dash's steady windows open and close: when the last warm-up step has ended and when
        the last step has ended, both in the batch-end callback (on Keras's worker thread, once the step's logs are
        on the host), and around the whole segment for the overhead. Read at the next step's batch begin instead
        (as Keras's benchmarks do), the steady start would come before the last warm-up step had finished whenever
        fit() dispatches ahead: a 50-step segment read up to 2 % slow. Read at the end of training instead, the
        steady end would hold what fit() does after the last step, which is not training: on tensorflow, finding
        the end of the data takes 23–26 ms here (jax and torch: under 1 ms), 0.8 % of a 3 s segment, which read
        keras/tensorflow 0.8 % faster than its bare loop. Nothing else per step: Keras converts every step's
        logs anyway."""

        async_safe = True

        def __init__(self, warmup: int):
            super().__init__()
            self.warmup, self.start, self.steady_start = warmup, None, None

        def on_train_begin(self, logs=None):
            self.start = self.start or time.perf_counter()  # fit_steps' second fit() finishes the same segment

        def on_train_batch_end(self, batch, logs=None):
            self.last_step_end = time.perf_counter()
            if batch == self.warmup - 1 and self.steady_start is None:
                self.steady_start = self.last_step_end

        def on_train_end(self, logs=None):
            self.end = time.perf_counter()  # the whole segment, as kvp-dash's is timed for the overhead

    def kvp_dash(steps: int, figure: KvpDashFigure) -> float:
        reporter = WindowReporter(figure.emit, spec.name, batch, steps, config.warmup_steps,
                                  config.report_interval_s, devices.memory_probe(spec.backend))
        step_reporter = StepReporter(reporter, None)
        fit_steps(model, data, batch, steps, [step_reporter])
        return step_reporter.ended_at - reporter.started_at

    def bare(steps: int) -> tuple[float, float]:
        clock = SteadyClock(config.warmup_steps)
        fit_steps(model, data, batch, steps, [clock])
        return (clock.last_step_end - clock.steady_start) / (steps - config.warmup_steps), clock.end - clock.start

    return kvp_dash, bare


def torch_segments(spec, workload, config: RunConfig):
    """(kvp-dash segment, bare segment) for the PyTorch runner, both on one model and one optimizer."""
    import torch

    from runners.child import devices
    from runners.child.pytorch import recipe as torch_recipe
    from runners.child.initial_weights import initial_weights
    from runners.child.pytorch.runner import _synchronize, build_torch_model, torch_inputs, train_steps
    from runners.child.windows import WindowReporter
    from workloads.tasks import get_task

    settings = config.settings
    device = torch.device("cuda" if config.device == "cuda" and torch.cuda.is_available() else "cpu")
    torch.manual_seed(settings.seed)
    model = build_torch_model(workload, settings, device, initial_weights(workload, config), None)
    data, batch = workload.dataset(settings), settings.batch_size
    epoch_batches = data.epoch_batches(batch)
    task = get_task(workload.task)
    inputs, targets = torch_inputs(workload, data.x), torch.from_numpy(task.targets(data.y))
    trained = torch.compile(model) if spec.compile else model
    train_step = torch_recipe.TrainStep(model, trained, task, config.recipe, config.precision, device.type,
                                        settings.steps)
    model.train()

    def kvp_dash(steps: int, figure: KvpDashFigure) -> float:
        reporter = WindowReporter(figure.emit, spec.name, batch, steps, config.warmup_steps,
                                  config.report_interval_s, devices.memory_probe("torch"))
        reporter.begin()
        train_steps(train_step, inputs, targets, epoch_batches, batch, steps, device, reporter)
        return time.perf_counter() - reporter.started_at

    def bare(steps: int) -> tuple[float, float]:
        start = time.perf_counter()
        for step in range(steps):
            if step == config.warmup_steps:
                _synchronize(device)
                steady_start = time.perf_counter()
            first = step % epoch_batches * batch
            train_step(inputs[first : first + batch].to(device, non_blocking=True),
                       targets[first : first + batch].to(device, non_blocking=True))
        _synchronize(device)
        end = time.perf_counter()
        return (end - steady_start) / (steps - config.warmup_steps), end - start

    return kvp_dash, bare


def main() -> None:
    spec_name, workload_name, size, pairs, segment_s, device, threads = sys.argv[1:8]
    pairs, segment_s, threads = int(pairs), float(segment_s), int(threads)
    from runners.child import devices
    from runners.specs import SPECS
    from workloads import get_workload

    spec, workload = SPECS[spec_name], get_workload(workload_name)
    if spec.framework == "keras":  # as the runner imports it: the other backends' frameworks kept out
        from runners.child.keras3.frameworks_kept_out import keep_jax_out, keep_tensorflow_out

        os.environ["KERAS_BACKEND"] = spec.backend
        keep_jax_out(spec.backend)
        __import__("keras")
        keep_tensorflow_out(spec.backend)
    __import__(spec.backend)
    devices.cap_threads(spec.backend, threads)
    config = RunConfig(workload=workload_name, settings=workload.settings(size=size), device=device,
                       threads=threads)
    kvp_dash, bare = (keras_segments if spec.framework == "keras" else torch_segments)(spec, workload, config)
    warmup = config.warmup_steps
    bare(warmup + CALIBRATION_STEPS)  # compiles; the second call times the steady step
    step_s, _ = bare(warmup + CALIBRATION_STEPS)
    steps = warmup + max(CALIBRATION_STEPS, round(segment_s / step_s))
    writer = EventWriter(spec_name, os.open(os.devnull, os.O_WRONLY))
    measured: dict[int, list[float]] = {}
    for pair, which in abba(pairs):
        if which == "A":
            figure = KvpDashFigure(writer)
            total_s = kvp_dash(steps, figure)
            measured.setdefault(pair, [0.0] * 4)[0::2] = [figure.step_s, total_s]
        else:
            step_s, total_s = bare(steps)
            measured.setdefault(pair, [0.0] * 4)[1::2] = [step_s, total_s]
    writer.close()
    print(json.dumps({"steps": steps, "pairs": [measured[k] for k in sorted(measured)]}))


if __name__ == "__main__":
    main()
