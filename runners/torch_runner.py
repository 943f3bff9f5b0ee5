"""Native PyTorch: an idiomatic hand-written training loop."""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from torch import nn

from runners import devices
from runners.config import RunConfig
from runners.protocol import Done, Hello, Phase
from runners.windows import WindowReporter
from workloads import get_workload


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(spec, config: RunConfig, writer) -> None:
    emit, name = writer.emit, spec.name
    devices.cap_threads("torch", config.threads)
    workload = get_workload(config.workload)
    settings = config.settings

    emit(Phase(name, "building"))
    torch.manual_seed(settings.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = workload.build_torch(settings).to(device)
    data = workload.dataset(settings)
    x = data.x if workload.torch_input_axes is None else data.x.transpose(workload.torch_input_axes)
    inputs = torch.from_numpy(np.ascontiguousarray(x))
    targets = torch.from_numpy(data.y)
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
        )
    )

    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=config.adam_epsilon)
    loss_fn = nn.CrossEntropyLoss()
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
        xb = inputs[step * batch : (step + 1) * batch].to(device, non_blocking=True)
        yb = targets[step * batch : (step + 1) * batch].to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        # Keep the loss on the device; it is read once per window, not once per step.
        pending.append(loss.detach())
        if reporter.due(step, time.perf_counter()):
            _synchronize(device)
            losses = torch.stack(pending).tolist()
            reporter.close(step, losses, time.perf_counter())
            pending.clear()
    emit(Done(name, steps=settings.steps, train_s=time.perf_counter() - reporter.started_at))
