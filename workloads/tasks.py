"""What a workload learns: its task decides the loss, the validation metric and the targets' type.

The validation loss and metric are computed here, in numpy, from each
framework's own predictions: one formula for every runner, so a difference on
screen is the models', never the metric code's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workloads.errors import InputError


@dataclass(frozen=True)
class Task:
    name: str
    loss: str  # what both frameworks train on
    metric: str  # the validation metric besides the loss
    higher_is_better: bool
    target_dtype: str  # the targets as both frameworks take them

    def targets(self, y: np.ndarray) -> np.ndarray:
        return y.astype(self.target_dtype, copy=False)


TASKS = {
    "classification": Task("classification", "cross-entropy", "accuracy", True, "int64"),
    "language_model": Task("language_model", "cross-entropy", "accuracy", True, "int64"),
    "multilabel": Task("multilabel", "binary cross-entropy", "accuracy", True, "float32"),
    "regression": Task("regression", "mean squared error", "mae", False, "float32"),
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise InputError(f"unknown task {name!r} (known: {', '.join(TASKS)})")
    return TASKS[name]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def batch_loss_and_metric(task: Task, outputs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Sums over the batch's positions (divided by ``positions`` later): loss and metric, float64.

    Classifiers and language models: cross-entropy without label smoothing (the
    quality a user reads) and top-1 accuracy, per position. Multi-label: binary
    cross-entropy on logits and per-label accuracy at 0.5. Regression: squared
    error and absolute error.
    """
    outputs = outputs.astype(np.float64)
    if task.name in ("classification", "language_model"):
        flat = outputs.reshape(-1, outputs.shape[-1])
        labels = y.reshape(-1).astype(np.int64)
        picked = _log_softmax(flat)[np.arange(len(labels)), labels]
        return float(-picked.sum()), float((flat.argmax(axis=-1) == labels).sum())
    target = y.astype(np.float64).reshape(outputs.shape)
    if task.name == "multilabel":
        # log(1 + exp(-|x|)) + max(x, 0) - x*z: the stable form both frameworks use.
        loss = np.logaddexp(0.0, -np.abs(outputs)) + np.maximum(outputs, 0.0) - outputs * target
        return float(loss.sum()), float(((outputs > 0) == (target > 0.5)).sum())
    error = outputs - target
    return float((error**2).sum()), float(np.abs(error).sum())


def positions(task: Task, outputs_shape: tuple[int, ...]) -> int:
    """How many values the sums of ``batch_loss_and_metric`` are over (their mean's denominator)."""
    if task.name in ("classification", "language_model"):
        return int(np.prod(outputs_shape[:-1]))
    return int(np.prod(outputs_shape))
