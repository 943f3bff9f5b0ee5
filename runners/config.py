"""What the launcher tells a runner subprocess: the same for every runner but its CPUs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from workloads import WorkloadSettings

# Optimizer settings shared by every runner. Adam's epsilon is set explicitly
# because the defaults differ (Keras 1e-7, PyTorch 1e-8).
LEARNING_RATE = 1e-3
ADAM_EPSILON = 1e-7


@dataclass(frozen=True)
class RunConfig:
    workload: str
    settings: WorkloadSettings
    learning_rate: float = LEARNING_RATE
    adam_epsilon: float = ADAM_EPSILON
    # The first steps hold tracing/compilation; they are reported apart from steady state.
    warmup_steps: int = 2
    # A metrics window closes at the first step end this long after the previous edge.
    report_interval_s: float = 0.5
    threads: int = 1
    cpus: list[int] = field(default_factory=list)
    # For tests of crash handling: raise inside the training loop at this step.
    crash_at_step: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        data = json.loads(text)
        data["settings"] = WorkloadSettings(**data["settings"])
        return cls(**data)
