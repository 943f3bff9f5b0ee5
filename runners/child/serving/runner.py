"""A serving path in its runner process: the same weights as every other path, exported and loaded the path's
way, then timed call by call at each batch size in turn.

Each window holds calls at one batch size; the next window takes the next size, and a turn of the interleaved
schedule is handed over only after the last size, so every turn times every size. Each call is timed alone and has finished when timed
(a host array comes back); the window reports every call's latency in 1 % bins (``runners.latency``) beside its
wall time, from which throughput follows. Before the first window, the first calls at every batch size (tracing,
compiling a shape) are timed apart as warm-up.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from dataclasses import replace
from itertools import cycle
from pathlib import Path

import numpy as np

from runners import latency
from runners.child import devices
from runners.child.initial_weights import initial_weights
from runners.child.probe import PROBE_SAMPLES, probe_values
from runners.child.serving.routes import ROUTES, Context
from runners.child.windows import WindowReporter
from runners.config import RunConfig
from runners.protocol import Done, Export, Hello, Phase, Probe
from runners.serving_paths import SERVING_SAMPLES
from workloads import get_workload

# Warm-up at each batch size: at least this many calls and this long, at most WARMUP_MAX_CALLS calls.
WARMUP_CALLS, WARMUP_S, WARMUP_MAX_CALLS = 3, 0.2, 200
# The run's step cap: never reached (the --duration budget ends it); it only sizes the reporter.
CALL_CAP = 1_000_000_000


def batch_of(x: np.ndarray, size: int) -> np.ndarray:
    """The first ``size`` samples, the data repeated when it holds fewer."""
    return np.ascontiguousarray(x[np.arange(size) % len(x)])


def _keras_model(spec, workload, config, weights):
    import keras

    from runners.child.keras3.frameworks_kept_out import keep_tensorflow_out
    from runners.child.keras3.runner import built_with_weights
    from runners.child.keras3.weights import order_notes

    keep_tensorflow_out(spec.backend)
    keras.utils.set_random_seed(config.settings.seed)
    model = built_with_weights(workload, config.settings, config, weights)
    notes = [] if workload.load_keras_weights or config.checkpoint else order_notes(model)
    params = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return model, (lambda x: x), params, notes


def _torch_model(spec, workload, config, weights):
    import torch

    from runners.child.pytorch.runner import build_torch_model, torch_inputs

    torch.manual_seed(config.settings.seed)
    model = build_torch_model(workload, config.settings, torch.device("cpu"), weights, config.checkpoint).eval()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)

    def layout(x: np.ndarray) -> np.ndarray:  # PyTorch's layout and dtypes, as the torch runner feeds it
        return torch_inputs(workload, x).numpy()

    return model, layout, params, []


def exported(route, model, example, folder: Path) -> tuple[Path | None, float, int | None]:
    """The route's export into ``folder`` (written in ``folder.partial``, then renamed: whole or not at all): the
    artifact, the seconds it took, and every file's bytes (an ONNX model's external data, OpenVINO's .bin beside
    its .xml). None and no bytes for a route that serves the model as built."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.perf_counter()
    artifact = route.export(model, example, partial)
    seconds = time.perf_counter() - started
    if artifact is None:
        partial.rmdir()
        return None, seconds, None
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder / artifact.relative_to(partial), seconds, sum(
        p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(spec, config: RunConfig, writer) -> None:
    emit, name = writer.emit, spec.name
    devices.cap_threads(spec.backend, config.threads)
    workload = get_workload(config.workload)
    settings, sizes = config.settings, list(config.batch_sizes)
    context = Context(config.threads, config.device, sizes, config.keras_predict)
    route = ROUTES[name]()
    route.max_batch = max(sizes)

    emit(Phase(name, "building"))
    weights = initial_weights(workload, config)
    build = _keras_model if spec.framework == "keras" else _torch_model
    model, layout, params, notes = build(spec, workload, config, weights)
    x = workload.dataset(replace(settings, steps=1, batch_size=SERVING_SAMPLES)).x
    example = layout(batch_of(x, 2))  # a batch of 2: exporters keep the batch dimension symbolic

    if spec.framework == "torch":
        import torch

        example = torch.from_numpy(example)
    else:
        model(example, training=False)  # Keras's exporters need a model that has been called
    # The run folder's exports/ (RunSession sets it for every serving run; it removes them at the end).
    artifact, export_s, artifact_bytes = exported(route, model, example, Path(config.exports) / spec.slug)
    started = time.perf_counter()
    serve = route.load(model, artifact, context)
    load_s = time.perf_counter() - started

    inputs = {size: layout(batch_of(x, size)) for size in sizes}
    started = time.perf_counter()  # the first call (tracing, compiling) is warm-up too
    probe_out = serve(layout(batch_of(x, PROBE_SAMPLES)))
    for size in sizes:
        calls, began = 0, time.perf_counter()
        while calls < WARMUP_MAX_CALLS and (calls < WARMUP_CALLS or time.perf_counter() - began < WARMUP_S):
            serve(inputs[size])
            calls += 1
    warmup_s = time.perf_counter() - started
    emit(Hello(
        name, pid=os.getpid(), framework=spec.framework, backend=spec.backend,
        versions=devices.versions(spec.backend, with_keras=spec.framework == "keras"),
        # Where its calls run: a CPU-only runtime on a GPU box says so (the panel marks it, the verdict too).
        device="cpu" if route.cpu_only else devices.describe_device(spec.backend), params=params,
        threads=config.threads,
        cpus=sorted(os.sched_getaffinity(0)),
        gpu=os.environ.get("CUDA_VISIBLE_DEVICES") if devices.on_gpu(spec.backend) else None,
        tokens_per_sample=1, precision=route.precision, compiler=route.describe(), task=workload.task,
        conversion_notes=notes, weights_sha256=weights.sha256,
    ))
    emit(Export(
        name, route=route.describe(), export_s=export_s, load_s=load_s, warmup_s=warmup_s,
        artifact_bytes=artifact_bytes, artifact=route.artifact_format,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, precision=route.precision,
        batch_sizes=sizes,
    ))
    values, shape = probe_values(np.asarray(probe_out, dtype=np.float64))
    emit(Probe(name, values=values, shape=shape))  # after the export's precision: parity is judged at it
    timed_calls(emit, name, serve, inputs, sizes, config, devices.memory_probe(spec.backend))


def timed_calls(emit, name: str, serve, inputs: dict, sizes: list[int], config: RunConfig, memory) -> None:
    """Windows of calls, one batch size a window in turn, until the launcher says the budget is spent."""
    reporter = WindowReporter(emit, name, sizes[0], CALL_CAP, 0, config.report_interval_s, memory)
    reporter.begin()
    step = 0
    for size in cycle(sizes):
        batch, calls = inputs[size], []
        while True:
            began = time.perf_counter()
            serve(batch)
            ended = time.perf_counter()
            calls.append(ended - began)
            if reporter.due(step, ended):
                break
            step += 1
        # A turn ends only after the last batch size: every turn then times every size, and each size pairs over
        # every turn (the first included, whose slice import and export have mostly spent).
        reporter.close(step, [], ended, batch_size=size, call_bins=latency.count(calls), call_max_s=max(calls),
                       may_hand_over=size == sizes[-1])
        reporter.restart_clock()  # binning and sending the window is the tool's work, in no window's time
        step += 1
        if reporter.finishing:
            break
    emit(Done(name, steps=step, train_s=time.perf_counter() - reporter.started_at))
