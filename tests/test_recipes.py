"""Training recipes: the same optimizer, schedule, clipping and smoothing in every runner."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from runners.recipe import Recipe
from workloads.errors import InputError


def test_schedules_warm_up_linearly_then_decay_to_zero():
    cosine = Recipe(schedule="cosine", warmup_steps=4)
    assert [cosine.factor(step, 14) for step in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert cosine.factor(9, 14) == pytest.approx(0.5)  # half-way through the decay
    assert cosine.factor(14, 14) == pytest.approx(0.0) and cosine.factor(40, 14) == pytest.approx(0.0)
    linear = Recipe(schedule="linear")
    assert [linear.factor(step, 4) for step in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert Recipe(warmup_steps=2).factor(1, 10) == 0.5 and Recipe(warmup_steps=2).factor(7, 10) == 1.0
    assert Recipe().factor(123, 10) == 1.0


@pytest.mark.parametrize("recipe, task, message", [
    (Recipe(optimizer="adam", weight_decay=0.1), "classification", "use --optimizer adamw"),
    (Recipe(optimizer="adamw", momentum=0.9), "classification", "apply to --optimizer sgd only"),
    (Recipe(optimizer="sgd", nesterov=True), "classification", "--nesterov needs a --momentum"),
    (Recipe(label_smoothing=0.1), "regression", "not to a regression task"),
    (Recipe(optimizer="lion"), "classification", "--optimizer must be one of"),
])
def test_recipes_that_cannot_mean_the_same_in_both_frameworks_are_refused(recipe, task, message):
    with pytest.raises(InputError, match=message):
        recipe.check(100, task)


def test_keras_schedule_gives_every_step_the_rate_torch_gives_it():
    """Keras's schedule object (keras.ops) and PyTorch's LambdaLR, stepped as the runners step them."""
    code = """
import os
os.environ["KERAS_BACKEND"] = "jax"
import torch
from runners.child.keras3.recipe import RecipeSchedule
from runners.child.pytorch.recipe import optimizer, scheduler
from runners.recipe import Recipe
for recipe in (Recipe(schedule="cosine", warmup_steps=3), Recipe(schedule="linear", warmup_steps=2),
               Recipe(warmup_steps=4)):
    keras_rates = [float(RecipeSchedule(recipe, 12)(step)) for step in range(15)]
    optim = optimizer([torch.nn.Parameter(torch.zeros(1))], recipe)
    lambda_lr = scheduler(optim, recipe, 12)
    torch_rates = []
    for step in range(15):
        torch_rates.append(optim.param_groups[0]["lr"])
        optim.step()
        lambda_lr.step()
    print(max(abs(a - b) for a, b in zip(keras_rates, torch_rates)), max(torch_rates), min(torch_rates))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        worst, highest, lowest = map(float, line.split())
        assert worst < 1e-9 and math.isclose(highest, 1e-3) and lowest == 0.0


@pytest.mark.parametrize("options, described", [
    # adamw, cosine with warm-up, a global norm small enough to clip every step, label smoothing
    (("--optimizer", "adamw", "--weight-decay", "0.05", "--lr-schedule", "cosine", "--warmup-steps", "2",
      "--clip-norm", "0.05", "--label-smoothing", "0.1"),
     "adamw lr 0.001 wd 0.05 · cosine, warm-up 2 · clip 0.05 · smoothing 0.1"),
    # sgd with Nesterov momentum and L2 decay under a linear schedule: where Keras's SGD differs from PyTorch's
    (("--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--nesterov", "--weight-decay", "0.01",
      "--lr-schedule", "linear", "--warmup-steps", "1"),
     "sgd lr 0.05 wd 0.01 momentum 0.9 nesterov · linear, warm-up 1"),
], ids=["adamw-cosine-clip-smoothing", "sgd-nesterov-linear-l2"])
def test_every_recipe_passes_check_in_every_runner(checked, options, described):
    result, folder = checked("mlp", *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ parity verified" in result.stdout
    assert described in result.stdout  # the title says which recipe was checked
    for runner in ("keras/jax", "keras/tensorflow", "keras/torch"):
        assert runner in result.stdout


def test_bad_recipe_options_get_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--workload", "mlp", "--weight-decay", "0.1",
                             "--output", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "use --optimizer adamw" in result.stderr and "Traceback" not in result.stderr


def test_the_learning_rate_schedule_and_the_runners_schedule_are_two_options():
    from tui.cli import build_parser
    from tui.cli.options import recipe_given

    parser, _ = build_parser()
    args = parser.parse_args(["run", "--schedule", "sequential", "--lr-schedule", "cosine", "--optimizer", "sgd",
                              "--momentum", "0.9"])
    assert args.schedule == "sequential"
    given = {k: v for k, v in recipe_given(args).items() if v is not None}
    assert given == {"schedule": "cosine", "optimizer": "sgd", "momentum": 0.9}
