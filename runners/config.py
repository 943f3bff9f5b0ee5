"""What the launcher tells a runner subprocess: the same for every runner but its CPUs."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

from workloads import WorkloadSettings

LEARNING_RATE = 1e-3
ADAM_BETA_2 = 0.999  # both frameworks' default, like beta_1 = 0.9
# Adam's epsilon means different things: PyTorch adds it to the bias-corrected
# sqrt(v_t / (1 - beta_2^t)), Keras to the raw sqrt(v_t) (the paper's "epsilon hat").
# PyTorch's default 1e-8, and the Keras value that makes the first update identical;
# later updates differ only by an epsilon far below any real gradient's size.
TORCH_ADAM_EPSILON = 1e-8
KERAS_ADAM_EPSILON = TORCH_ADAM_EPSILON * math.sqrt(1 - ADAM_BETA_2)


@dataclass(frozen=True)
class RunConfig:
    workload: str
    settings: WorkloadSettings
    learning_rate: float = LEARNING_RATE
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
    # --duration: steady training seconds per runner (its own device time); settings.steps is then a cap.
    duration_s: float | None = None
    # For tests of crash handling: raise inside the training loop at this step.
    crash_at_step: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        data = json.loads(text)
        data["settings"] = WorkloadSettings(**data["settings"])
        return cls(**data)
