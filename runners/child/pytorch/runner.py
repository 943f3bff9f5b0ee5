"""Native PyTorch: an idiomatic hand-written training loop."""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from torch import nn

from runners.child import devices
from runners.child.pytorch import noise_floor
from runners.child.pytorch import recipe as torch_recipe
from runners.child.initial_weights import initial_weights
from runners.child.input.native import hello_fields, native_input, timed_pulls
from runners.child.input.torch_loader import describe as describe_loader
from runners.child.input.torch_loader import first_batch as loader_first_batch
from runners.child.probe import PROBE_SAMPLES, probe_values
from runners.child.pytorch.weights import load_initial_weights
from runners.child.validation import Validator
from runners.child.windows import WindowReporter
from runners.config import RunConfig
from runners.protocol import PARITY_REFERENCE, PARITY_STEPS, Done, Hello, Phase, Probe
from workloads import get_workload
from workloads.base import resolve
from workloads.tasks import get_task


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_torch_model(workload, settings, device, weights, checkpoint):
    model = workload.build_torch(settings, checkpoint=checkpoint)
    if workload.load_torch_weights:
        resolve(workload.load_torch_weights)(model, weights.tensors)
    elif not checkpoint:  # a checkpoint's weights came with the model (Transformers' from_pretrained)
        load_initial_weights(model, weights.tensors, weights.frozen)
    return model.to(device)


def torch_inputs(workload, x):
    x = x if workload.torch_input_axes is None else x.transpose(workload.torch_input_axes)
    inputs = torch.from_numpy(np.ascontiguousarray(x))
    if workload.input_dtype == "int32":
        inputs = inputs.long()  # token ids: nn.Embedding's index type
    return inputs


STOCHASTIC_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


def stochastic_layers(model) -> list[str]:
    """Modules that draw random numbers in training: their masks differ from Keras's."""
    return [name for name, module in model.named_modules() if isinstance(module, STOCHASTIC_MODULES) and module.p > 0]


class ArrayBatches:
    """Batches sliced from arrays in step order: epoch after epoch over the same batches, as Keras's fit goes."""

    def __init__(self, inputs, targets, epoch_batches: int, batch: int):
        self.inputs, self.targets, self.epoch_batches, self.batch = inputs, targets, epoch_batches, batch

    def get(self, step: int):
        start = step % self.epoch_batches * self.batch
        return self.inputs[start : start + self.batch], self.targets[start : start + self.batch]


class LoaderBatches:
    """Batches from a ``DataLoader``, epoch after epoch, the wait for each told to the window reporter."""

    def __init__(self, loader, reporter):
        self._batches = timed_pulls(lambda: iter(loader), reporter)

    def get(self, step: int):
        return next(self._batches)


def train_steps(train_step, batches, steps: int, device, reporter, validator=None, evaluate=None,
                crash_at_step: int | None = None) -> int:
    """The timed loop: ``steps`` steps over ``batches`` (``get(step)``), windows closed at device syncs.
    Returns the last step taken (earlier than ``steps - 1`` when the launcher asked the runner to finish)."""
    pending: list[torch.Tensor] = []
    for step in range(steps):
        if step == crash_at_step:
            raise RuntimeError(f"crash injected at step {step} (--inject-crash)")
        xb, yb = batches.get(step)
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        loss = train_step(xb, yb)
        # Keep the loss on the device; it is read once per window, not once per step.
        pending.append(loss.detach())
        if reporter.due(step, time.perf_counter()):
            _synchronize(device)
            losses = torch.stack(pending).tolist()
            reporter.close(step, losses, time.perf_counter())
            pending.clear()
            if reporter.finishing:
                break
            if validator is not None and validator.due(step, reporter.steady_s):
                evaluate(step)
    return step


def run(spec, config: RunConfig, writer) -> None:
    emit, name = writer.emit, spec.name
    devices.cap_threads("torch", config.threads)
    tf32 = devices.set_tf32("torch", config.tf32)
    workload = get_workload(config.workload)
    settings = config.settings

    emit(Phase(name, "building"))
    device = torch.device("cuda" if config.device == "cuda" and torch.cuda.is_available() else "cpu")
    weights = initial_weights(workload, config)
    data = workload.dataset(settings)
    epoch_batches = data.epoch_batches(settings.batch_size)
    task = get_task(workload.task)
    inputs = torch_inputs(workload, data.x)
    targets = torch.from_numpy(task.targets(data.y))  # class ids int64 (nn.CrossEntropyLoss), else float32
    native = native_input(workload, config)  # --input native: training batches from the image files

    def built():
        torch.manual_seed(settings.seed)  # the same draws for every model built here
        return build_torch_model(workload, settings, device, weights, config.checkpoint)

    def probe(module) -> np.ndarray:
        # Inference mode (batch norm on its initial running statistics, as in Keras), at the run's precision.
        module.eval()
        with torch.no_grad(), torch_recipe.autocast(device.type, config.precision):
            return module(inputs[:PROBE_SAMPLES].to(device)).float().cpu().numpy()

    if config.parity_floor and spec.name == PARITY_REFERENCE:
        # Before the run's own model exists: never two models in memory at once.
        noise_floor.measure(emit, name, built, lambda m: probe_values(probe(m))[0], lambda m: torch_recipe.TrainStep(
            m, m, task, config.recipe, config.precision, device.type, settings.steps),
            inputs, targets, settings.batch_size, epoch_batches, PARITY_STEPS + 1, device, config.precision)
    model = built()
    # Trained through the compiled module; the probe below runs the plain one (same weights).
    trained = torch.compile(model) if spec.compile else model
    emit(
        Hello(
            name,
            pid=os.getpid(),
            framework="torch",
            backend="torch",
            versions=devices.versions("torch", with_keras=False),
            device=devices.describe_device("torch"),
            params=sum(p.numel() for p in model.parameters() if p.requires_grad),
            threads=torch.get_num_threads(),
            cpus=sorted(os.sched_getaffinity(0)),
            gpu=os.environ.get("CUDA_VISIBLE_DEVICES") if device.type == "cuda" else None,
            tokens_per_sample=workload.tokens_per_sample(settings),
            flops_per_step=workload.train_flops_per_step(settings),
            precision=config.precision,
            tf32=tf32,
            compiler="torch.compile" if spec.compile else "eager",
            recipe=config.recipe.describe(),
            task=task.name,
            stochastic_layers=stochastic_layers(model),
            weights_sha256=weights.sha256,
            **hello_fields(native, describe_loader(config.input_workers),
                           lambda: loader_first_batch(native.recipe, native.order), data.x[:settings.batch_size]),
        )
    )
    values, shape = probe_values(probe(model))
    emit(Probe(name, values=values, shape=shape))

    train_step = torch_recipe.TrainStep(model, trained, task, config.recipe, config.precision, device.type,
                                        settings.steps)
    reporter = WindowReporter(
        emit, name, settings.batch_size, settings.steps, config.warmup_steps,
        config.report_interval_s, devices.memory_probe("torch"),
    )
    held_out = (data.x_val, data.y_val) if config.validation else (None, None)
    validator = Validator(emit, name, task, *held_out, settings.batch_size,
                          config.eval_every_steps, config.eval_every_s, config.duration_s)
    reporter.forced_edge = validator.edge_after

    def predict(x):
        # The trained (maybe compiled) module in inference mode, as a PyTorch user evaluates.
        with torch.no_grad(), torch_recipe.autocast(device.type, config.precision):
            return trained(torch_inputs(workload, x).to(device)).float().cpu().numpy()

    def evaluate(step):
        model.eval()
        validator.run(step, predict, reporter.steady_s)
        model.train()
        reporter.restart_clock()

    if native is not None:
        from runners.child.input.torch_loader import data_loader

        batches = LoaderBatches(data_loader(native.recipe, native.order, config.input_workers, channels_first=True),
                                reporter)
    else:
        batches = ArrayBatches(inputs, targets, epoch_batches, settings.batch_size)
    model.train()
    reporter.begin()
    step = train_steps(train_step, batches, settings.steps, device, reporter, validator, evaluate,
                       config.crash_at_step)
    train_s = time.perf_counter() - reporter.started_at - validator.spent_s
    evaluate(step)  # the model as trained (nothing when the last step was just evaluated)
    if config.final_weights and spec.name == PARITY_REFERENCE and not config.checkpoint:
        from runners.child.preparing.weights import save_torch_weights

        save_torch_weights(model, config.final_weights)  # what `kvp-dash infer --from` serves
    emit(Done(name, steps=step + 1, train_s=train_s))
