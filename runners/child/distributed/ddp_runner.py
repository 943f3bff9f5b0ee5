"""Data-parallel training in one torchrun rank: native PyTorch, or Keras on torch as Keras's own guide does it.

Every rank builds the same model from the same initial weights, takes its slice of each
global batch (the batches and their order are one device's), and DDP all-reduces the
gradients every step. Rank 0 reports what a one-device runner reports; every rank
reports its own memory (``Rank`` events).

Keras on torch is wrapped in DDP and trained with a custom loop, a torch optimizer and
a torch loss, as in Keras's guide "Multi-GPU distributed training with PyTorch": not
with ``fit()``, and its panel says so.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from runners.child import devices, finish
from runners.child.pytorch import recipe as torch_recipe
from runners.child.initial_weights import initial_weights
from runners.child.probe import PROBE_SAMPLES, probe_values
from runners.child.distributed.rank_report import RankReport
from runners.child.pytorch.runner import build_torch_model, stochastic_layers, torch_inputs
from runners.child.validation import Validator
from runners.child.windows import WindowReporter
from runners.config import RunConfig
from runners.protocol import NODES_ENV, Done, Hello, Phase, Probe
from workloads import get_workload
from workloads.tasks import get_task

# Steps between rank 0 asking to finish (its --duration is spent) and every rank stopping: each rank reads the
# request from an all-reduce this many steps old, so all stop after the same step. On a CPU gloo's all-reduce has
# finished when it returns: one step. On GPUs two, so that reading it never stalls the queue of work (as Keras's
# runner lets fit() run two steps ahead).
FINISH_LAG = {"cpu": 1, "cuda": 2}


def _keras_model(workload, settings, config: RunConfig, weights):
    import keras

    from runners.child.keras3.runner import built_with_weights

    keras.utils.set_random_seed(settings.seed)
    return built_with_weights(workload, settings, config, weights)


def run(spec, config: RunConfig, writer, rank: int, world: int, local_rank: int) -> None:
    name, keras_model = spec.name, spec.framework == "keras"
    say = writer.emit if rank == 0 else (lambda event: None)  # rank 0 speaks for the runner
    torch.set_num_threads(max(1, config.threads // world))  # the runner's CPUs, shared by its ranks
    tf32 = devices.set_tf32("torch", config.tf32)
    cuda = config.device == "cuda" and torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)  # before anything is built: Keras puts its variables on the current GPU
    dist.init_process_group("nccl" if cuda else "gloo")
    workload = get_workload(config.workload)
    settings = config.settings

    say(Phase(name, "building"))
    torch.manual_seed(settings.seed)
    weights = initial_weights(workload, config)
    if keras_model:
        model = _keras_model(workload, settings, config, weights).to(device)
        call = {"training": True}  # Keras layers (batch-norm, dropout) take the mode per call
    else:
        model = build_torch_model(workload, settings, device, weights, config.checkpoint)
        call = {}
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    trained = torch.compile(ddp) if spec.compile else ddp
    data = workload.dataset(settings)
    epoch_batches = data.epoch_batches(settings.batch_size)
    task = get_task(workload.task)

    def model_inputs(x):
        if not keras_model:
            return torch_inputs(workload, x)
        tensor = torch.from_numpy(np.ascontiguousarray(x))  # Keras's own layout (channels last)
        return tensor.long() if workload.input_dtype == "int32" else tensor

    inputs = model_inputs(data.x)
    targets = torch.from_numpy(task.targets(data.y))
    nodes = int(os.environ.get(NODES_ENV, "1"))
    spread = f" on {nodes} hosts" if nodes > 1 else ""
    engine = (f"DDP via torchrun · {dist.get_backend()} · {world} ranks{spread} · "
              f"gradient buckets {ddp.bucket_bytes_cap / 2**20:g} MiB")
    if keras_model:
        engine += " · custom loop with a torch optimizer (Keras's DDP guide), not fit()"
    say(Hello(
        name, pid=os.getpid(), framework=spec.framework, backend="torch",
        versions=devices.versions("torch", with_keras=keras_model), device=devices.describe_device("torch"),
        params=sum(p.numel() for p in model.parameters() if p.requires_grad), threads=torch.get_num_threads(),
        cpus=sorted(os.sched_getaffinity(0)), gpu=os.environ.get("CUDA_VISIBLE_DEVICES") if cuda else None,
        tokens_per_sample=workload.tokens_per_sample(settings), flops_per_step=workload.train_flops_per_step(settings),
        precision=config.precision, tf32=tf32, compiler="torch.compile" if spec.compile else "eager",
        recipe=config.recipe.describe() + (" (torch.optim)" if keras_model else ""), task=task.name,
        stochastic_layers=stochastic_layers(model) if not keras_model else [],
        weights_sha256=weights.sha256, devices=world, distribution=engine,
    ))

    def predict(x):
        # Rank 0 alone, on the module inside DDP: no collective may run while the others train on.
        x = model_inputs(x)
        with torch.no_grad(), torch_recipe.autocast(device.type, config.precision):
            outputs = model(x.to(device), training=False) if keras_model else model(x.to(device))
        return outputs.float().cpu().numpy()

    if rank == 0:
        if not keras_model:
            model.eval()
        say(Probe(name, *probe_values(predict(data.x[:PROBE_SAMPLES]))))

    train_step = torch_recipe.TrainStep(model, trained, task, config.recipe, config.precision, device.type,
                                        settings.steps, **call)
    memory = devices.memory_probe("torch")
    reporter = WindowReporter(say, name, settings.batch_size, settings.steps, config.warmup_steps,
                              config.report_interval_s, memory)
    held_out = (data.x_val, data.y_val) if config.validation and rank == 0 else (None, None)
    validator = Validator(say, name, task, *held_out, settings.batch_size, config.eval_every_steps,
                          config.eval_every_s, config.duration_s)
    reporter.forced_edge = validator.edge_after

    report_rank = RankReport(writer.emit, name, rank, world, str(device), memory)

    def evaluate(step):
        if not keras_model:
            model.eval()
        validator.run(step, predict, reporter.steady_s)
        model.train()
        reporter.restart_clock()

    share = settings.batch_size // world
    finish_flags = {False: torch.zeros((), device=device), True: torch.ones((), device=device)}  # made once
    model.train()
    pending: list[torch.Tensor] = []  # rank 0: each step's [global mean loss, finish asked], read once per window
    packets: list[torch.Tensor] = []  # the last FINISH_LAG steps' packets, for the request to finish
    reporter.begin()
    step = 0
    for step in range(settings.steps):
        if len(packets) == FINISH_LAG[device.type] and packets.pop(0)[1].item() > 0:
            step -= 1  # every rank stops here: the last step taken is the one before
            break
        if step == config.crash_at_step and rank == world - 1:  # the last rank: a rank other than the reporter
            raise RuntimeError(f"crash injected at step {step} in rank {rank} (--inject-crash)")
        start = step % epoch_batches * settings.batch_size + rank * share
        xb = inputs[start : start + share].to(device, non_blocking=True)
        yb = targets[start : start + share].to(device, non_blocking=True)
        loss = train_step(xb, yb)  # DDP all-reduces the gradients, bucket by bucket, as backward computes them
        # Equal slices: the mean of the ranks' mean losses is the global batch's, as one device reports it.
        asked = finish_flags[rank == 0 and finish.requested()]
        packet = torch.stack([loss.detach().float() / world, asked])
        dist.all_reduce(packet)
        packets.append(packet)
        if rank == 0:
            pending.append(packet)
            if reporter.due(step, time.perf_counter()):
                losses = [float(value) for value in torch.stack(pending)[:, 0].tolist()]
                reporter.close(step, losses, time.perf_counter())
                pending.clear()
                if validator.due(step, reporter.steady_s):
                    evaluate(step)
        report_rank()
    if rank == 0 and pending:  # the steps since the last edge, when the run was asked to finish
        reporter.close(step, [float(v) for v in torch.stack(pending)[:, 0].tolist()], time.perf_counter())
    train_s = time.perf_counter() - reporter.started_at - validator.spent_s
    report_rank(now=True)
    if rank == 0:
        evaluate(step)
        say(Done(name, steps=step + 1, train_s=train_s))
    dist.destroy_process_group()
