"""Every built-in workload trains the same model from the same start in all four runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runners.session.verdict.parity import compare
from tests.check_runs import assert_check_agrees
from tests.conftest import tiered
from workloads import get_workload, workload_names
from workloads.hub import HUB_WORKLOADS
from workloads.weights import init_weights

EXAMPLE = str(Path(__file__).resolve().parent.parent / "workloads" / "examples" / "tabular_workload.py")


# The hub workloads' check runs are judged in tests/test_hub_workloads.py, beside what else they show.
CHECKED = [name for name in workload_names() if name not in HUB_WORKLOADS]


# In the extended tier: mlp, whose four-runner parity the four-panel dashboard test also verifies; the example
# file, whose kind of workload (a user's .py file) the default tier checks with tests/test_user_workloads.py; and
# gpt, lstm and resnet18 (68, 47 and 127 CPU-s here), whose Keras and PyTorch models the default tier holds against
# each other in one process (12 CPU-s for the three). It keeps cnn's full check: an image model with batch-norm
# trained four ways, resnet18's layers at a fraction of the cost.
FORWARD_ONLY = ["gpt", "lstm", "resnet18"]
EXTENDED = {"mlp", EXAMPLE, *FORWARD_ONLY}
LOGITS_ATOL = 1e-4  # measured: gpt 1.0e-6, lstm 3.7e-8, resnet18 2.4e-8 (float32 sums in another order)


@pytest.mark.parametrize("workload_ref", tiered([*CHECKED, EXAMPLE], EXTENDED))
def test_all_four_runners_agree_at_tiny_size(checked, workload_ref):
    """``kvp-dash check`` at tiny size, as a user runs it: its verdict, its table and its record agree."""
    assert_check_agrees(*checked(workload_ref), workload_ref)


def test_keras_and_pytorch_models_give_the_same_logits_from_the_same_weights():
    """The first thing ``kvp-dash check`` compares (the runners' probes), for the workloads whose four-runner check is
    extended: both models built by the runners' own builders from one set of generated weights, in one process."""
    result = subprocess.run([sys.executable, "-m", "tests.forward_agreement", *FORWARD_ONLY], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": "torch"})
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(found) == sorted(FORWARD_ONLY)
    for name, (torch_shape, keras_shape, max_diff) in found.items():
        assert torch_shape == keras_shape and torch_shape[0] > 1, (name, torch_shape, keras_shape)
        assert max_diff <= LOGITS_ATOL, (name, max_diff)


@pytest.mark.extended
def test_check_command_passes_on_the_example_and_prints_the_table(checked):
    result, folder = checked(EXAMPLE)  # the check judged above
    assert result.returncode == 0, result.stdout + result.stderr
    assert "parity verified" in result.stdout
    assert "keras/jax" in result.stdout and "reference" in result.stdout
    assert folder.name.endswith("-check-tabular") and (folder / "parity.json").exists()


def test_compare_catches_a_runner_that_trains_something_else():
    from runners.session.verdict.parity import RunnerFacts

    same = RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.3, 2.2, 2.1, 2.0, 1.9, 1.8])
    assert compare({"torch": same, "keras/jax": same}).status == "verified"
    other_start = RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.31, 2.2, 2.1, 2.0, 1.9, 1.8])
    assert compare({"torch": same, "keras/jax": other_start}).status == "failed"
    other_model = RunnerFacts(params=11, logits=[0.1, 0.2], losses=same.losses)
    report = compare({"torch": same, "keras/jax": other_model})
    assert report.status == "failed" and "11 trainable parameters" in report.problems[0]
    other_logits = RunnerFacts(params=10, logits=[0.1, 0.3], losses=same.losses)
    assert compare({"torch": same, "keras/jax": other_logits}).status == "failed"
    drifting = RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.3, 2.2, 2.1, 2.0, 1.9, 1.85])
    assert compare({"torch": same, "keras/jax": drifting}).status == "failed"
    assert compare({"torch": same, "keras/jax": drifting}, step_rtol=0.05).status == "verified"
    early = RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.3])
    assert compare({"torch": same, "keras/jax": early}).status == "pending"
    assert compare({"torch": same}).status == "single"


def test_the_step_tolerance_follows_the_noise_floor_measured_in_the_run():
    """A chaotic model's reference moved 5 % by float32 rounding alone: a runner 10 % off passes (rounding
    explains it), 30 % off fails, and the failure names both figures; a calm model's floor of ~1e-7 leaves the
    1e-3 minimum in force."""
    from runners.session.verdict.parity import FLOOR_MARGIN, STEP_LOSS_RTOL, RunnerFacts

    reference = RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.3, 2.2, 2.1, 2.0, 1.9, 1.8])
    chaotic_floor = [2.3, 2.2, 2.1, 2.0, 1.9, 1.8 * 1.05]

    def runner(last_step_off: float) -> RunnerFacts:
        return RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.3, 2.2, 2.1, 2.0, 1.9, 1.8 * (1 + last_step_off)])

    near = compare({"torch": reference, "keras/jax": runner(0.10)}, floor_losses=chaotic_floor)
    assert near.status == "verified" and near.floor_rdiff == pytest.approx(0.05)
    assert near.step_rtol == pytest.approx(FLOOR_MARGIN * 0.05)
    far = compare({"torch": reference, "keras/jax": runner(0.30)}, floor_losses=chaotic_floor)
    assert far.status == "failed"
    assert far.problems == ["keras/jax: step losses differ by up to 3.0e-01 relative from torch (against a floor of "
                            "5.0e-02: tolerance 2.0e-01)"]
    calm = compare({"torch": reference, "keras/jax": runner(0.01)},
                   floor_losses=[2.3, 2.2, 2.1, 2.0, 1.9, 1.8 * (1 + 1e-7)])
    assert calm.status == "failed" and calm.step_rtol == STEP_LOSS_RTOL
    # The floor needs the reference's own first steps: until then nothing is judged on the steps.
    waiting = compare({"torch": RunnerFacts(params=10, logits=[0.1, 0.2], losses=[2.3, 2.2]), "keras/jax": runner(0.3)},
                      floor_losses=chaotic_floor)
    assert waiting.status == "pending"


@pytest.mark.extended
def test_a_runner_training_with_another_learning_rate_fails_against_resnet18s_floor(tmp_path):
    """resnet18's first steps are chaotic (floor about 3e-2 at seed 0), yet keras/jax at 1.5× the learning rate
    is caught: its steps differ by about 0.26, over twice the 4 × floor tolerance."""
    import asyncio
    from dataclasses import replace

    from runners.session.verdict.parity import ParityTracker, judge
    from runners.session.run_session import RunSession
    from tui.cli import build_parser
    from tui.cli.options import plan_from

    args = build_parser()[0].parse_args(["run", "--workload", "resnet18", "--size", "tiny",
                                         "--runners", "torch,keras/jax", "--seed", "0"])
    plan = replace(plan_from(args, steps=6, schedule="parallel"), validation=False)
    wrong = replace(plan.recipe, learning_rate=plan.recipe.learning_rate * 1.5)
    session = RunSession(plan, tmp_path, warmup_steps=0,
                         overrides={"keras/jax": {"recipe": wrong}})
    tracker = ParityTracker(session.launcher.runner_names)
    asyncio.run(session.run_to_end(tracker.observe))
    report = judge(tracker, session.parity_context, [])
    assert report.status == "failed" and report.floor_rdiff is not None
    assert "against a floor of" in report.problems[0]


def test_resnet18_parameter_count_is_torchvisions():
    """torchvision's resnet18() has 11,689,512 parameters (1000 classes, ImageNet stem)."""
    torch = pytest.importorskip("torch")
    workload = get_workload("resnet18")
    imagenet_1000 = workload.settings(size="base")
    assert imagenet_1000.image_size == 224
    assert workload.trainable_params(imagenet_1000) == 11_689_512
    model = workload.build_torch(imagenet_1000)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512
    # Same stem, 10 classes: the classifier shrinks by 512 * 990 + 990.
    imagenet_10 = workload.settings(size="tiny", image_size=64)
    assert sum(p.numel() for p in workload.build_torch(imagenet_10).parameters()) == 11_689_512 - 513 * 990
    # The CIFAR stem swaps the 7x7x3x64 stem convolution for a 3x3x3x64 one.
    cifar_10 = workload.settings(size="tiny")
    expected = 11_689_512 - 513 * 990 - 7 * 7 * 3 * 64 + 3 * 3 * 3 * 64
    assert sum(p.numel() for p in workload.build_torch(cifar_10).parameters()) == expected == 11_173_962
    del torch


@pytest.mark.parametrize("name", [name for name in workload_names() if get_workload(name).param_specs])
def test_specs_match_the_torch_model_at_every_size(name):
    """The generated weights cover exactly the PyTorch model's tensors (shapes included) at every size."""
    pytest.importorskip("torch")
    from runners.child.pytorch.weights import load_initial_weights

    workload = get_workload(name)
    for size in ("tiny", "small"):
        settings = workload.settings(size=size)
        model = workload.build_torch(settings)
        load_initial_weights(model, workload.initial_weights(settings),
                         {s.name for s in workload.specs(settings) if not s.trainable})
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert trainable == workload.trainable_params(settings)


def test_initial_weights_are_a_pure_function_of_the_seed():
    workload = get_workload("gpt")
    a = workload.initial_weights(workload.settings(size="tiny", seed=3))
    b = workload.initial_weights(workload.settings(size="tiny", seed=3))
    c = workload.initial_weights(workload.settings(size="tiny", seed=4))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["head.weight"], c["head.weight"])
    assert init_weights([], 0) == {}
