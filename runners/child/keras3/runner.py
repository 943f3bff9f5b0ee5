"""Keras 3 on one backend, trained the way Keras users train: compile() + fit().

``KERAS_BACKEND`` is set by the runner subprocess before this module is imported.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

import keras

from runners.child import devices
from runners.child.distributed import keras_data_parallel
from runners.child.keras3 import recipe as keras_recipe
from runners.child.keras3.frameworks_kept_out import keep_tensorflow_out
from runners.child.initial_weights import initial_weights
from runners.child.input import keras_sources
from runners.child.input.native import hello_fields, native_input
from runners.child.keras3.weights import load_initial_weights, order_notes
from runners.child.probe import PROBE_SAMPLES, probe_values
from runners.child.distributed.rank_report import RankReport
from runners.child.validation import Validator
from runners.child.windows import WindowReporter
from runners.config import RunConfig
from runners.protocol import Done, Hello, Phase, Probe
from workloads import get_workload
from workloads.base import resolve
from workloads.tasks import get_task


class StepReporter(keras.callbacks.Callback):
    """Turns fit()'s batch callbacks into in-order, per-step batch losses, across epochs and fit() calls.

    Three facts of Keras 3 shape this class:
    - ``logs["loss"]`` is the running mean of the epoch so far, so the batch loss
      is recovered as ``mean_i*(i+1) - mean_{i-1}*i``, ``i`` counted within the epoch;
    - with ``async_safe`` the callbacks run on a worker thread (jax and torch
      backends) and may arrive out of order, so they are buffered by step;
    - ``on_epoch_end`` waits for those callbacks, so when an epoch begins every
      step before it has been taken.
    """

    # Keras then runs batch hooks off the training thread: reporting forces no per-step sync.
    async_safe = True
    # How far fit() may dispatch beyond the last step reported, in time: AHEAD_S of steps, at least two.
    # Unbounded, Keras's jax trainer queues dozens of steps ahead of the device (measured: 32 with resnet18
    # on this CPU), so a request to finish, or to hand the turn over, would take effect only after all of them
    # had run. Two steps flat starved fast steps: each report waits for a worker thread to wake on a loaded
    # CPU, and mlp's 3.4 ms steps on keras/jax ran 6 % slower than unbounded (16 pairs each, one run).
    AHEAD_S = 0.05
    MIN_STEPS_AHEAD = 2
    MAX_STEPS_AHEAD = 64

    def __init__(self, reporter: WindowReporter, crash_at_step: int | None, validator: Validator | None = None,
                 predict=None, agree=lambda *flags: flags, report_rank=lambda: None):
        super().__init__()
        self._reporter = reporter
        self._agree = agree  # across hosts: node 0's decisions, taken by every process at the same step
        self._report_rank = report_rank
        self.finished = False  # the run was asked to end early (a spent --duration), as every process agreed
        self._validator = validator
        self._predict = predict
        self._crash_at_step = crash_at_step
        self._lock = threading.Lock()
        self._taken = threading.Condition(self._lock)  # a step was reported (or reporting broke down)
        self._broken = False
        self._arrived: dict[int, tuple[float, float, int]] = {}
        self._next_step = 0
        self._epoch_start = 0  # the run's step the current epoch began at
        self._previous_mean = 0.0
        self._window_losses: list[float] = []
        self._last_step_ended_at = 0.0
        self._steps_ahead = self.MIN_STEPS_AHEAD  # until a window says how long a step takes
        self._began = False

    def on_train_begin(self, logs=None):
        if not self._began:  # a second fit() (the last, partial epoch) continues the same run
            self._began = True
            self._reporter.begin()

    def on_train_end(self, logs=None):
        # Every step has finished here; what fit() does after it is teardown, not training.
        self.ended_at = time.perf_counter()
        if self._reporter.finishing and self._window_losses:
            # Steps since the last edge: one last window, closed when its last step ended.
            self._reporter.close(self._next_step - 1, self._window_losses, self._last_step_ended_at)
            self._window_losses = []

    def on_train_batch_begin(self, batch, logs=None):
        with self._taken:  # on the training thread: hold back while too many steps are unreported
            step = self._epoch_start + batch
            self._taken.wait_for(lambda: self._next_step >= step - self._steps_ahead or self._broken)
        # The --duration budget is spent: stop before the next step. Set here, on the training thread:
        # set from an asynchronous batch-end callback, Keras 3.15's jax trainer breaks mid-epoch with
        # "Array has been deleted" (its state sync races the flag).
        due = bool(step and self._validator and self._validator.due(step - 1, self._reporter.steady_s))
        finishing, due = self._agree(self._reporter.finishing, due)
        if finishing:
            self.finished = self.model.stop_training = True
        elif due:
            self.evaluate_before(step)

    def evaluate_before(self, step: int) -> None:
        """On the training thread, before ``step`` is dispatched: once every step before it is reported, the
        steps since the last edge close a window, the model is evaluated, and the next window starts after."""
        with self._taken:
            self._taken.wait_for(lambda: self._next_step >= step or self._broken)
            if self._broken:
                return
            if self._window_losses:
                self._reporter.close(self._next_step - 1, self._window_losses, self._last_step_ended_at)
                self._window_losses = []
        self.evaluate(step - 1)

    def evaluate(self, step: int) -> None:
        sync = getattr(self.model, "jax_state_sync", None)
        if sync:
            sync()  # the jax trainer keeps the weights outside the model between epochs: put them back first
        self._validator.run(step, self._predict, self._reporter.steady_s)
        self._reporter.restart_clock()

    @property
    def steps_taken(self) -> int:
        return self._next_step

    def on_epoch_begin(self, epoch, logs=None):
        with self._lock:
            self._epoch_start = self._next_step

    def on_train_batch_end(self, batch, logs=None):
        # Keras converted the logs to floats before calling us, so the step is finished now.
        now = time.perf_counter()
        step = self._epoch_start + batch
        self._report_rank()
        with self._taken:
            try:
                if step == self._crash_at_step:
                    raise RuntimeError(f"crash injected at step {step} (--inject-crash)")
                self._arrived[step] = (float(logs["loss"]), now, batch)
                self._order_end_times()
                while self._next_step in self._arrived:
                    self._take(self._next_step, *self._arrived.pop(self._next_step))
                    self._next_step += 1
            except BaseException:
                self._broken = True  # the training thread must not wait for steps that will never be reported
                raise
            finally:
                self._taken.notify_all()

    def _order_end_times(self) -> None:
        """Steps end in order, but their callbacks run on worker threads and read the clock when they get to run:
        one held up between its step's end and its clock read (frozen by a hand-over's SIGSTOP, say) reads a later
        time than the next step's. A step ended no later than any step after it, so every step still waiting here
        takes the earliest time read for it or a step after it (one already taken is behind ``_take``'s floor).
        Out of order, a window could close before it opened: a negative window_s that took its length off the
        steady time, and evaluated the same quarter of a --duration twice."""
        earliest = float("inf")
        for waiting in sorted(self._arrived, reverse=True):
            loss, ended_at, batch = self._arrived[waiting]
            earliest = min(earliest, ended_at)
            self._arrived[waiting] = (loss, earliest, batch)

    def _take(self, step: int, running_mean: float, ended_at: float, batch: int) -> None:
        ended_at = max(ended_at, self._last_step_ended_at)  # no earlier than the step before it
        batch_loss = running_mean * (batch + 1) - self._previous_mean * batch
        self._last_step_ended_at = ended_at
        self._previous_mean = running_mean
        self._window_losses.append(batch_loss)
        if self._reporter.due(step, ended_at):
            step_s = max(1e-6, ended_at - self._reporter.window_started_at) / len(self._window_losses)
            self._steps_ahead = min(self.MAX_STEPS_AHEAD, max(self.MIN_STEPS_AHEAD, int(self.AHEAD_S / step_s)))
            self._reporter.close(step, self._window_losses, ended_at)
            self._window_losses = []


def fit_steps(model, data, batch_size: int, steps: int, callbacks: list, finished=lambda: False) -> None:
    """Train exactly ``steps`` steps with ``fit()``, epoch after epoch over arrays laid out in step order.

    A run that ends mid-epoch trains its last steps in a second ``fit()`` on the
    epoch's first batches: ``fit()`` has no exact "stop after this step" (a callback's
    ``stop_training`` is seen late when callbacks run asynchronously). ``finished()``
    says the run ended early (a spent --duration): no second ``fit()`` then.
    """
    epochs, rest = divmod(steps, data.epoch_batches(batch_size))
    model.fit(data.x, data.y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    if rest and not finished():
        head = rest * batch_size
        model.fit(data.x[:head], data.y[:head], batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                  callbacks=callbacks)


def fit_source_steps(model, make_source, epoch_batches: int, steps: int, callbacks: list, finished=lambda: False
                     ) -> None:
    """``fit_steps`` over an input pipeline (``--input native``): ``make_source(batches)`` gives one epoch of
    batches in step order (or the first ``batches``), as ``fit()`` takes a ``tf.data.Dataset``, a ``PyDataset`` or
    a ``DataLoader``."""
    epochs, rest = divmod(steps, epoch_batches)
    if epochs:
        model.fit(make_source(None), epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    if rest and not finished():
        model.fit(make_source(rest), epochs=1, shuffle=False, verbose=0, callbacks=callbacks)


MIXED_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
JIT_COMPILE = {"auto": "auto", "on": True, "off": False}


def _describe_compiler(model, backend: str) -> str:
    # After compile(), Keras has resolved "auto": XLA on jax, and on tensorflow only where a
    # GPU is present (Keras turns XLA off for tensorflow on CPU-only machines); eager on torch.
    if model.jit_compile:
        return "torch.compile" if backend == "torch" else "XLA"
    return {"tensorflow": "tf.function", "jax": "no jit"}.get(backend, "eager")


STOCHASTIC_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
                     "GaussianDropout", "GaussianNoise")


def _stochastic_layers(model) -> list[str]:
    """Layers that draw random numbers in training: their masks differ from PyTorch's."""
    return [layer.name for layer in model._flatten_layers(include_self=False, recursive=True)
            if type(layer).__name__ in STOCHASTIC_LAYERS and getattr(layer, "rate", 1.0) > 0]


def _describe_params(model) -> int:
    # Trainable only: Keras also counts batch-norm moving statistics in count_params().
    return int(sum(keras.ops.size(w) for w in model.trainable_weights))


def built_with_weights(workload, settings, config: RunConfig, weights):
    """The workload's Keras model, holding the run's initial weights (also what a DDP rank wraps)."""
    model = workload.build_keras(settings, checkpoint=config.checkpoint)
    if workload.load_keras_weights:
        resolve(workload.load_keras_weights)(model, weights.tensors)
    elif not config.checkpoint:  # a checkpoint's weights came with the model (KerasHub's from_preset)
        load_initial_weights(model, weights.tensors)
    return model


def _built_and_compiled(workload, settings, spec, config: RunConfig, weights):
    model = built_with_weights(workload, settings, config, weights)
    task = get_task(workload.task)
    classes = workload.num_classes(workload.hyper(settings)) if task.target_dtype == "int64" else 0
    model.compile(
        optimizer=keras_recipe.optimizer(spec.backend, config.recipe, settings.steps),
        loss=keras_recipe.loss_function(task.name, config.recipe, classes),
        jit_compile=JIT_COMPILE[config.keras_jit],
    )
    return model


def run(spec, config: RunConfig, writer) -> None:
    emit, name = writer.emit, spec.name
    keep_tensorflow_out(spec.backend)
    devices.cap_threads(spec.backend, config.threads)
    scope, distribution = contextlib.nullcontext(), None
    node_rank, nodes = keras_data_parallel.node()
    if config.devices > 1 or nodes > 1:  # before anything starts TensorFlow's runtime: its devices are fixed then
        scope, distribution = keras_data_parallel.enter(spec.backend, config.devices)
    tf32 = devices.set_tf32(spec.backend, config.tf32)
    workload = get_workload(config.workload)
    settings = config.settings

    emit(Phase(name, "building"))
    keras.utils.set_random_seed(settings.seed)
    if config.precision != "fp32":
        keras.mixed_precision.set_global_policy(MIXED_POLICIES[config.precision])
    weights = initial_weights(workload, config)
    with scope:  # the engine's: variables mirrored on every device, the optimizer's too
        model = _built_and_compiled(workload, settings, spec, config, weights)
    task = get_task(workload.task)
    data = workload.dataset(settings)
    native = native_input(workload, config)  # --input native: training batches from the image files
    emit(
        Hello(
            name,
            pid=os.getpid(),
            framework="keras",
            backend=spec.backend,
            versions=devices.versions(spec.backend, with_keras=True),
            device=devices.describe_device(spec.backend),
            params=_describe_params(model),
            threads=config.threads,
            cpus=sorted(os.sched_getaffinity(0)),
            gpu=os.environ.get("CUDA_VISIBLE_DEVICES") if devices.on_gpu(spec.backend) else None,
            tokens_per_sample=workload.tokens_per_sample(settings),
            flops_per_step=workload.train_flops_per_step(settings),
            precision=config.precision,
            tf32=tf32,
            compiler=_describe_compiler(model, spec.backend),
            recipe=config.recipe.describe(),
            task=task.name,
            stochastic_layers=_stochastic_layers(model),
            conversion_notes=[] if workload.load_keras_weights or config.checkpoint else order_notes(model),
            weights_sha256=weights.sha256,
            devices=config.devices * nodes,
            distribution=distribution,
            **hello_fields(native, keras_sources.describe(spec.backend, config.input_workers),
                           lambda: keras_sources.first_batch(spec.backend, native.recipe, native.order,
                                                             config.input_workers), data.x[:settings.batch_size]),
        )
    )
    # Inference mode: batch-norm uses its (initial) running statistics, as PyTorch's eval() does.
    logits = keras.ops.convert_to_numpy(model(data.x[:PROBE_SAMPLES], training=False))
    values, shape = probe_values(logits)
    emit(Probe(name, values=values, shape=shape))

    reporter = WindowReporter(
        emit, name, settings.batch_size, settings.steps, config.warmup_steps,
        config.report_interval_s, devices.memory_probe(spec.backend),
    )
    held_out = (data.x_val, data.y_val) if config.validation else (None, None)
    validator = Validator(emit, name, task, *held_out, settings.batch_size,
                          config.eval_every_steps, config.eval_every_s, config.duration_s)
    reporter.forced_edge = validator.edge_after

    across_workers = spec.backend == "tensorflow" and nodes > 1  # MultiWorkerMirroredStrategy: no fit()
    if across_workers:
        from runners.child.distributed import keras_multi_worker

    def predict(x):
        # Keras's compiled inference step, as model.predict() runs it, one batch at a time.
        if across_workers:  # every worker holds the same weights: inference is local, as the probe's
            return keras.ops.convert_to_numpy(model(x, training=False)).astype("float32")
        if config.devices > 1 and spec.backend == "tensorflow":
            # Under MirroredStrategy, Keras 3.15's predict_on_batch returns every replica's output of the whole
            # batch, concatenated (64 rows for 32); predict() splits the batch across the replicas as fit() does.
            return model.predict(x, batch_size=len(x), verbose=0).astype("float32")
        return keras.ops.convert_to_numpy(model.predict_on_batch(x)).astype("float32")

    report_rank = lambda now=False: None  # noqa: E731 - one process: no ranks to tell apart
    if nodes > 1:  # --hosts: every host's process says where it runs and what memory it holds
        report_rank = RankReport(writer.emit, name, node_rank, nodes, devices.describe_device(spec.backend),
                                 devices.memory_probe(spec.backend))
    timed = config.duration_s is not None or config.eval_every_s is not None
    agree = (keras_multi_worker if across_workers else keras_data_parallel).agreement(timed)
    step_reporter = StepReporter(reporter, config.crash_at_step, validator, predict, agree, report_rank)
    share, batch = keras_data_parallel.process_share(data, settings.batch_size)
    if across_workers:
        keras_multi_worker.build(model, share.x[:batch], share.y[:batch])
        keras_multi_worker.train_steps(model, share, batch, settings.steps, [step_reporter])
    elif native is not None and keras_sources.waits_seen(spec.backend):
        batches = keras_sources.timed_batches(spec.backend, native.recipe, native.order, config.input_workers,
                                              reporter)
        model.fit(batches, steps_per_epoch=settings.steps, epochs=1, shuffle=False, verbose=0,
                  callbacks=[step_reporter])
    elif native is not None:
        def make_source(batches):
            return keras_sources.source(spec.backend, native.recipe, native.order, config.input_workers, batches)

        fit_source_steps(model, make_source, native.order.epoch_batches, settings.steps, [step_reporter],
                         lambda: reporter.finishing)
    else:
        finished = (lambda: reporter.finishing) if nodes == 1 else (lambda: step_reporter.finished)
        fit_steps(model, share, batch, settings.steps, [step_reporter], finished)
    report_rank(now=True)
    train_s = step_reporter.ended_at - reporter.started_at - validator.spent_s
    if validator.enabled and step_reporter.steps_taken:
        step_reporter.evaluate(step_reporter.steps_taken - 1)  # the model as trained (once per step at most)
    emit(Done(name, steps=step_reporter.steps_taken, train_s=train_s))
