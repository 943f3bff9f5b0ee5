"""What the launcher tells a runner subprocess: the same for every runner but its CPUs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from runners.recipe import Recipe
from workloads import WorkloadSettings


@dataclass(frozen=True)
class RunConfig:
    workload: str
    settings: WorkloadSettings
    recipe: Recipe = field(default_factory=Recipe)
    # The first steps hold tracing/compilation; they are reported apart from steady state.
    warmup_steps: int = 2
    # A metrics window closes at the first step end this long after the previous edge.
    report_interval_s: float = 0.5
    threads: int = 1
    cpus: list[int] = field(default_factory=list)
    precision: str = "fp32"  # "fp32", "bf16" or "fp16" (mixed precision)
    keras_jit: str = "auto"  # Keras compile(jit_compile=...): "auto", "on" or "off"
    tf32: bool = False  # TF32 matmuls on Ampere+ GPUs, set the same way in every framework
    device: str = "cpu"  # "cpu" or "cuda", as the launcher resolved --device
    # --devices: data-parallel over this many devices (CPU host devices or GPUs), with the framework's own engine.
    devices: int = 1
    hosts: int = 1  # --hosts: on each of this many hosts (torchrun's nodes)
    # --duration: steady training seconds per runner (its own device time); settings.steps is then a cap.
    duration_s: float | None = None
    # Validation: after every this many steps, or (a --duration run) this much steady training time;
    # neither: only at the end. No validation data: never.
    eval_every_steps: int | None = None
    eval_every_s: float | None = None
    validation: bool = True  # False: no evaluation at all (check)
    # The PyTorch model's own initial weights (.npz in the run folder), for workloads without param_specs.
    weights_file: str | None = None
    # A hub workload's checkpoint folder (config.json + model.safetensors) that every runner loads.
    checkpoint: str | None = None
    # The reference runner (native PyTorch) measures the parity noise floor before it trains (runners.child.pytorch.noise_floor).
    parity_floor: bool = True
    # For tests of crash handling: raise inside the training loop at this step.
    crash_at_step: int | None = None
    # --images DIR --input native: the folder the runner's own input pipeline reads its training batches from
    # (runners.child.input), with this many workers; None: the arrays (settings.data_path) in memory.
    images: str | None = None
    input_workers: int = 2
    # `kvp-dash infer`: the batch sizes every serving path is timed at, in turn (None: the runner trains).
    batch_sizes: list[int] | None = None
    # Where the native PyTorch runner writes its model as trained (``runners.weights_file``), for `infer --from`.
    final_weights: str | None = None
    exports: str | None = None  # `infer`: the folder each path's exported model is written to (one folder a path)
    keras_predict: bool = False  # `infer --keras-predict`: Keras's backends serve through predict_on_batch

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        data = json.loads(text)
        data["settings"] = WorkloadSettings(**data["settings"])
        data["recipe"] = Recipe(**data["recipe"])
        return cls(**data)
