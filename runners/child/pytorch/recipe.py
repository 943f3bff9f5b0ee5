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


AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device_type: str, precision: str) -> torch.autocast:
    """Mixed precision as PyTorch users write it (off for fp32)."""
    dtype = AUTOCAST_DTYPES.get(precision)
    return torch.autocast(device_type, dtype=dtype, enabled=dtype is not None)


class TrainStep:
    """One optimizer step of the recipe, as a PyTorch user writes it: autocast forward, the task's loss, backward,
    clipping, the optimizer (through a grad scaler for fp16) and the schedule. ``trained`` is the module called
    (maybe compiled, maybe wrapped in DDP), ``model`` the one whose parameters are trained."""

    def __init__(self, model, trained, task, recipe: Recipe, precision: str, device_type: str, steps: int,
                 **call_options):
        self._model, self._trained, self._task, self._recipe = model, trained, task, recipe
        self._call_options = call_options  # Keras models take training=True per call
        self.optimizer = optimizer(model.parameters(), recipe)
        self._scheduler = scheduler(self.optimizer, recipe, steps)
        self._loss = loss_function(task.name, recipe)
        self._device_type, self._precision = device_type, precision
        # fp16 needs loss scaling (Keras's mixed_float16 policy scales the loss the same way).
        self._scaler = torch.amp.GradScaler(device_type) if precision == "fp16" else None

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """Train on one batch; returns its loss, left on the device."""
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self._device_type, self._precision):
            outputs = self._trained(xb, **self._call_options)
            if self._task.target_dtype == "int64":
                # Language models predict every position: fold (batch, time) into one axis.
                loss = self._loss(outputs.reshape(-1, outputs.shape[-1]), yb.reshape(-1))
            else:
                loss = self._loss(outputs, yb.reshape(outputs.shape))
        parameters = self._model.parameters()
        if self._scaler is None:
            loss.backward()
            clip(parameters, self._recipe)
            self.optimizer.step()
        else:
            self._scaler.scale(loss).backward()
            self._scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
            clip(parameters, self._recipe)
            self._scaler.step(self.optimizer)
            self._scaler.update()
        if self._scheduler is not None:
            self._scheduler.step()
        return loss
