"""``--target METRIC=VALUE``: the quality each runner must reach on the validation data, as MLPerf ranks
training systems by the time they take to reach one."""

from __future__ import annotations

from dataclasses import dataclass

from workloads.errors import InputError
from workloads.tasks import Task


@dataclass(frozen=True)
class Target:
    metric: str  # "loss" (validation loss) or the task's metric ("accuracy", "mae")
    value: float
    higher_is_better: bool

    def reached(self, loss: float, metric: float) -> bool:
        seen = loss if self.metric == "loss" else metric
        return seen >= self.value if self.higher_is_better else seen <= self.value

    def describe(self) -> str:
        return f"{self.metric} {'≥' if self.higher_is_better else '≤'} {self.value:g}"


def parse_target(text: str, task: Task) -> Target:
    """"accuracy=0.9" (or 90%), "loss=0.35", "mae=0.2": checked against what the workload's task measures."""
    metric, sep, value_text = text.partition("=")
    metric = metric.strip().lower()
    known = ("loss", task.metric)
    if not sep or metric not in known:
        raise InputError(f"--target takes METRIC=VALUE with METRIC one of {', '.join(known)} for a {task.name} "
                         f"workload (got {text!r})")
    try:
        value = float(value_text.strip().rstrip("%")) / (100 if value_text.strip().endswith("%") else 1)
    except ValueError:
        raise InputError(f"--target {metric}= needs a number (got {value_text!r})") from None
    if metric == "accuracy" and not 0 < value <= 1:
        raise InputError(f"--target accuracy must be between 0 and 1 (or 0–100 %), got {value_text!r}")
    if metric != "accuracy" and value <= 0:
        raise InputError(f"--target {metric} must be above 0 (got {value_text!r})")
    return Target(metric, value, higher_is_better=metric != "loss" and task.higher_is_better)
