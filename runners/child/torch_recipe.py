"""The run's recipe in native PyTorch: torch.optim, a LambdaLR schedule, clip_grad_norm_, the task's loss."""

from __future__ import annotations

import torch
from torch import nn

from runners.recipe import ADAM_BETA_1, ADAM_BETA_2, TORCH_ADAM_EPSILON, Recipe


def optimizer(parameters, recipe: Recipe) -> torch.optim.Optimizer:
    parameters = [p for p in parameters if p.requires_grad]
    if recipe.optimizer == "sgd":
        # weight_decay here is L2 added to the gradient before momentum: PyTorch's SGD, and the Keras
        # runner's too (see keras_recipe.TorchStyleSGD).
        return torch.optim.SGD(parameters, lr=recipe.learning_rate, momentum=recipe.momentum,
                               nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    adam = torch.optim.AdamW if recipe.optimizer == "adamw" else torch.optim.Adam
    return adam(parameters, lr=recipe.learning_rate, betas=(ADAM_BETA_1, ADAM_BETA_2), eps=TORCH_ADAM_EPSILON,
                weight_decay=recipe.weight_decay)


def scheduler(optim: torch.optim.Optimizer, recipe: Recipe, steps: int):
    """Stepped once after every optimizer step: step ``k`` trains at ``recipe.factor(k)`` × the rate."""
    if recipe.schedule == "constant" and not recipe.warmup_steps:
        return None
    return torch.optim.lr_scheduler.LambdaLR(optim, lambda step: recipe.factor(step, steps))


def loss_function(task: str, recipe: Recipe) -> nn.Module:
    if task == "multilabel":
        return nn.BCEWithLogitsLoss()
    if task == "regression":
        return nn.MSELoss()
    return nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)


def clip(parameters, recipe: Recipe) -> None:
    """One global norm over every gradient, as Keras's ``global_clipnorm`` (not its per-variable ``clipnorm``)."""
    if recipe.clip_norm:
        torch.nn.utils.clip_grad_norm_(parameters, recipe.clip_norm)
