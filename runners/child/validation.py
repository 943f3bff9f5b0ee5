"""Validation inside a runner: when to evaluate, and the evaluation itself, timed apart from training.

An evaluation happens at a window edge (every step before it finished, the
window closed), and the next window's clock starts after it: no training
figure holds evaluation time. The outputs come from the framework's own
inference call (``predict``); loss and metric are computed from them in
numpy by ``workloads.tasks``, one formula for every runner.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from runners.protocol import Evaluation
from workloads.tasks import Task, batch_loss_and_metric, positions


class Validator:
    def __init__(self, emit: Callable, runner: str, task: Task, x_val, y_val, batch_size: int,
                 every_steps: int | None, every_s: float | None, until_s: float | None = None):
        self._emit, self._runner, self._task = emit, runner, task
        self._batch_size = min(batch_size, len(x_val)) if x_val is not None else batch_size
        # Whole batches only: a last, smaller batch would make XLA and torch.compile compile again.
        whole = (len(x_val) // self._batch_size * self._batch_size) if x_val is not None else 0
        self._x, self._y = (x_val[:whole], y_val[:whole]) if whole else (None, None)
        self._every_steps, self._every_s = every_steps, every_s
        # The budget (--duration): its quarters are due by the runner's clock, and the run's end evaluates on its
        # own. When the launcher's count of the budget lags the runner's (its windows left out differ by a
        # moment per turn), the runner trains on past it; evaluating again there would be a fifth "quarter".
        self._until_s = until_s
        self._next_s = every_s
        self._last_step = -1  # the last step evaluated after
        self._spent_s = 0.0

    @property
    def spent_s(self) -> float:
        """Every evaluation's time so far."""
        return self._spent_s

    @property
    def enabled(self) -> bool:
        return self._x is not None

    def edge_after(self, step: int) -> bool:
        """Must a window close after ``step`` (0-based), for an evaluation after it?"""
        return self.enabled and bool(self._every_steps) and (step + 1) % self._every_steps == 0

    def due(self, step: int, steady_s: float) -> bool:
        """Evaluate now, after ``step`` (a window edge), ``steady_s`` of steady training so far?"""
        if not self.enabled or step <= self._last_step:
            return False
        if self._every_steps:
            return self.edge_after(step)
        if self._next_s is None or (self._until_s is not None and self._next_s > self._until_s * (1 + 1e-9)):
            return False
        return steady_s >= self._next_s

    def run(self, step: int, predict: Callable[[np.ndarray], np.ndarray], steady_s: float = 0.0) -> None:
        """Evaluate the model as it is after ``step`` (``steady_s`` of steady training so far), and say so in an
        ``Evaluation`` event."""
        if not self.enabled or step <= self._last_step:
            return
        started = time.perf_counter()
        loss_sum = metric_sum = 0.0
        count = 0
        for lo in range(0, len(self._x), self._batch_size):
            outputs = np.asarray(predict(self._x[lo : lo + self._batch_size]))
            loss, metric = batch_loss_and_metric(self._task, outputs, self._y[lo : lo + self._batch_size])
            loss_sum, metric_sum = loss_sum + loss, metric_sum + metric
            count += positions(self._task, outputs.shape)
        took = time.perf_counter() - started
        self._spent_s += took
        self._last_step = step
        while self._every_s and self._next_s <= steady_s:
            self._next_s += self._every_s
        self._emit(Evaluation(self._runner, step=step, loss=loss_sum / count, metric=metric_sum / count,
                              metric_name=self._task.metric, samples=len(self._x), eval_s=took,
                              eval_total_s=self._spent_s))
