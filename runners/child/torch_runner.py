"""Native PyTorch: an idiomatic hand-written training loop."""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from torch import nn

from runners.child import devices
from runners.child.probe import PROBE_SAMPLES, probe_values
from runners.child.torch_weights import load_initial_weights
from runners.child.windows import WindowReporter
from runners.config import ADAM_BETA_2, TORCH_ADAM_EPSILON, RunConfig
from runners.protocol import Done, Hello, Phase, Probe
from workloads import get_workload
from workloads.base import resolve


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _build(workload, settings, device):
    model = workload.build_torch(settings)
    weights = workload.initial_weights(settings)
    if workload.load_torch_weights:
        resolve(workload.load_torch_weights)(model, weights)
    else:
        load_initial_weights(model, weights, workload.specs(settings))
    return model.to(device)


def _tensors(workload, data):
    x = data.x if workload.torch_input_axes is None else data.x.transpose(workload.torch_input_axes)
    inputs = torch.from_numpy(np.ascontiguousarray(x))
    if workload.input_dtype == "int32":
        inputs = inputs.long()  # token ids: nn.Embedding's index type
    return inputs, torch.from_numpy(data.y).long()


AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def run(spec, config: RunConfig, writer) -> None:
    emit, name = writer.emit, spec.name
    devices.cap_threads("torch", config.threads)
    tf32 = devices.set_tf32("torch", config.tf32)
    workload = get_workload(config.workload)
    settings = config.settings

    emit(Phase(name, "building"))
    torch.manual_seed(settings.seed)
    device = torch.device("cuda" if config.device == "cuda" and torch.cuda.is_available() else "cpu")
    model = _build(workload, settings, device)
    data = workload.dataset(settings)
    epoch_batches = data.epoch_batches(settings.batch_size)
    inputs, targets = _tensors(workload, data)
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
        )
    )
    model.eval()  # inference mode: batch-norm uses its (initial) running statistics, as in Keras
    with torch.no_grad():
        logits = model(inputs[:PROBE_SAMPLES].to(device)).cpu().numpy()
    values, shape = probe_values(logits)
    emit(Probe(name, values=values, shape=shape))

    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate, betas=(0.9, ADAM_BETA_2), eps=TORCH_ADAM_EPSILON,
    )
    loss_fn = nn.CrossEntropyLoss()
    autocast_dtype = AUTOCAST_DTYPES.get(config.precision)
    # fp16 needs loss scaling (Keras's mixed_float16 policy scales the loss the same way).
    scaler = torch.amp.GradScaler(device.type) if config.precision == "fp16" else None
    reporter = WindowReporter(
        emit, name, settings.batch_size, settings.steps, config.warmup_steps,
        config.report_interval_s, devices.memory_probe("torch"),
    )
    batch = settings.batch_size
    model.train()
    pending: list[torch.Tensor] = []
    reporter.begin()
    for step in range(settings.steps):
        if step == config.crash_at_step:
            raise RuntimeError(f"crash injected at step {step} (--inject-crash)")
        start = step % epoch_batches * batch  # epoch after epoch over the same batches, as Keras's fit goes
        xb = inputs[start : start + batch].to(device, non_blocking=True)
        yb = targets[start : start + batch].to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = trained(xb)
            # Language models predict every position: fold (batch, time) into one axis.
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        # Keep the loss on the device; it is read once per window, not once per step.
        pending.append(loss.detach())
        if reporter.due(step, time.perf_counter()):
            _synchronize(device)
            losses = torch.stack(pending).tolist()
            reporter.close(step, losses, time.perf_counter())
            pending.clear()
            if reporter.finishing:
                break
    emit(Done(name, steps=step + 1, train_s=time.perf_counter() - reporter.started_at))
