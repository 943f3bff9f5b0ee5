"""A training recipe, the same in every runner: optimizer, learning-rate schedule, clipping, label smoothing.

Framework-free: the dashboard validates and shows it, and each runner builds it
with its framework's own optimizer (``runners.child.pytorch.recipe``,
``runners.child.keras3.recipe``). Where Keras and PyTorch mean different things
by the same word, the runners are aligned to PyTorch's meaning, and the README's
table says how.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from workloads.errors import InputError

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "linear")
LEARNING_RATE = 1e-3
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999  # both frameworks' default, like beta_1 = 0.9
# Adam's epsilon means different things: PyTorch adds it to the bias-corrected
# sqrt(v_t / (1 - beta_2^t)), Keras to the raw sqrt(v_t) (the paper's "epsilon hat").
# PyTorch's default 1e-8, and the Keras value that makes the first update identical;
# later updates differ only by an epsilon far below any real gradient's size.
TORCH_ADAM_EPSILON = 1e-8
KERAS_ADAM_EPSILON = TORCH_ADAM_EPSILON * math.sqrt(1 - ADAM_BETA_2)


@dataclass(frozen=True)
class Recipe:
    optimizer: str = "adam"
    learning_rate: float = LEARNING_RATE
    weight_decay: float = 0.0  # adamw: decoupled (both frameworks); sgd: L2 added to the gradient (PyTorch's)
    momentum: float = 0.0  # sgd only
    nesterov: bool = False  # sgd only
    schedule: str = "constant"
    warmup_steps: int = 0  # linear warm-up from 0 to learning_rate, before the schedule
    clip_norm: float | None = None  # one global norm over all gradients (clip_grad_norm_ / global_clipnorm)
    label_smoothing: float = 0.0  # classification and language modelling only

    def check(self, steps: int, task: str) -> None:
        """Raise InputError, one line, for a recipe that cannot run as asked."""
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)} (got {self.optimizer!r})")
        if self.schedule not in SCHEDULES:
            raise InputError(f"--lr-schedule must be one of {', '.join(SCHEDULES)} (got {self.schedule!r})")
        if self.weight_decay and self.optimizer == "adam":
            # PyTorch's Adam adds the decay to the gradient (L2); Keras's Adam decays the weights directly:
            # one flag cannot mean both, and adamw is what either user means by "Adam with weight decay".
            raise InputError("--weight-decay with adam means L2 in PyTorch but decoupled decay in Keras: "
                             "use --optimizer adamw (decoupled in both)")
        if (self.momentum or self.nesterov) and self.optimizer != "sgd":
            raise InputError("--momentum and --nesterov apply to --optimizer sgd only")
        if self.nesterov and not self.momentum:
            raise InputError("--nesterov needs a --momentum above 0")
        if self.label_smoothing and task not in ("classification", "language_model"):
            raise InputError(f"--label-smoothing applies to classifiers and language models, not to a {task} task")
        if steps < 1:
            raise InputError(f"a training run needs at least one step (got {steps})")

    def factor(self, step: int, steps: int) -> float:
        """The learning rate of step ``step`` (0-based) ÷ ``learning_rate``: warm-up, then the schedule.

        PyTorch's schedulers step after each optimizer step and Keras reads its
        schedule at ``optimizer.iterations`` (the steps taken so far): both use
        the value at ``step`` for step ``step``, and both runners take it from here.
        """
        if step < self.warmup_steps:
            return step / self.warmup_steps
        if self.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - self.warmup_steps) / max(1, steps - self.warmup_steps))
        if self.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return 1.0 - progress

    def describe(self) -> str:
        """"adamw lr 0.001 wd 0.01 · cosine, warm-up 100 · clip 1 · smoothing 0.1": what the panel and title show."""
        parts = [f"{self.optimizer} lr {self.learning_rate:g}"]
        if self.weight_decay:
            parts[0] += f" wd {self.weight_decay:g}"
        if self.momentum:
            parts[0] += f" momentum {self.momentum:g}" + (" nesterov" if self.nesterov else "")
        if self.schedule != "constant" or self.warmup_steps:
            parts.append(self.schedule + (f", warm-up {self.warmup_steps}" if self.warmup_steps else ""))
        if self.clip_norm:
            parts.append(f"clip {self.clip_norm:g}")
        if self.label_smoothing:
            parts.append(f"smoothing {self.label_smoothing:g}")
        return " · ".join(parts)


def recipe_from(defaults: dict | None, **given) -> Recipe:
    """The workload's defaults (its ``RECIPE``), overridden by what the user gave (None: not given)."""
    try:
        recipe = Recipe(**(defaults or {}))
    except TypeError as exc:
        raise InputError(f"the workload's RECIPE has an unknown setting: {exc}") from None
    return replace(recipe, **{k: v for k, v in given.items() if v is not None})
