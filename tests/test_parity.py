"""Every built-in workload trains the same model from the same start in all four runners."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from runners.protocol import Metrics
from runners.session.parity import PARITY_STEPS, compare
from runners.session.preparation import prepared_parameters
from tests.conftest import ALL_SPECS, FOUR_RUNS, recorded_parity
from workloads import get_workload, workload_names
from workloads.weights import init_weights

EXAMPLE = str(Path(__file__).resolve().parent.parent / "workloads" / "examples" / "tabular_workload.py")


# BERT's parity is judged on its longer run, the one that shows it learn (tests/test_hub_workloads.py).
CHECKED = [name for name in workload_names() if name != "bert"]


@pytest.mark.parametrize("workload_ref", [*CHECKED, EXAMPLE])
def test_all_four_runners_agree_at_tiny_size(checked, workload_ref):
    """``kvp-dash check`` at tiny size, as a user runs it: its verdict, its table and its record agree."""
    result, folder = checked(workload_ref)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "✓ parity verified" in result.stdout
    workload = get_workload(workload_ref)
    settings = workload.settings(size="tiny", steps=PARITY_STEPS + 1)
    tracker = recorded_parity(folder)
    # A model only its own framework counts (a hub checkpoint): the count of what the run prepared.
    expected = workload.trainable_params(settings) or prepared_parameters(folder)
    report = compare(tracker.facts, expected_params=expected, step_rtol=workload.parity_step_rtol)
    assert report.status == "verified", report.problems
    assert report.reference == "torch"
    assert json.loads((folder / "parity.json").read_text())["status"] == "verified"
    assert set(tracker.facts) == set(ALL_SPECS)
    for name, facts in tracker.facts.items():
        assert facts.params == expected, name
        assert len(facts.losses) == PARITY_STEPS + 1 and all(math.isfinite(v) for v in facts.losses)
    # "Every panel's first loss point is the same number": identical to 1e-4 relative, or better.
    first = [f.losses[0] for f in tracker.facts.values()]
    assert max(first) - min(first) <= 1e-4 * abs(first[0])
    rows = {r.runner: r for r in report.rows}
    for name in ("keras/jax", "keras/tensorflow", "keras/torch"):
        assert rows[name].logits_diff is not None and rows[name].logits_diff <= 1e-4
    # Piped, as into a CI log: no runner name and no parameter count is cut.
    table = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(table) == len(ALL_SPECS) and "…" not in result.stdout
    for name in ALL_SPECS:
        assert any(line.split("│")[1].strip() == name for line in table), name
    assert all(f"{expected:,}" in line for line in table)


def test_compare_catches_a_runner_that_trains_something_else():
    from runners.session.parity import RunnerFacts

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
    from runners.child.torch_weights import load_initial_weights

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


def test_runs_longer_than_an_epoch_train_on_the_same_batches_everywhere(four_runs):
    """70 steps of 128 over a pool of 4,096 samples, epochs held to one pass over it (``epoch_bytes``):
    two whole epochs of 32 batches, then 6 steps of a third.

    Keras goes through them with fit()'s epochs (and a second fit() for the last 6), PyTorch by
    indexing: a batch out of place, or a loss recovered wrongly at an epoch boundary, would differ by
    tens of per cent (batches differ that much); the same batches agree to float noise.
    """
    workload = get_workload("mlp")
    one_pass = replace(workload.settings(size="tiny", steps=FOUR_RUNS["steps"], batch_size=FOUR_RUNS["batch_size"]),
                       epoch_bytes=FOUR_RUNS["epoch_bytes"])
    assert workload.dataset(one_pass).epoch_batches(128) == 32
    _, events = four_runs
    losses = {}
    for runner, stream in events.items():
        metrics = sorted((e for e in stream if isinstance(e, Metrics)), key=lambda m: m.first_step)
        assert [s for m in metrics for s in range(m.first_step, m.step + 1)] == list(range(70)), runner
        losses[runner] = [v for m in metrics for v in m.losses]
    for runner, values in losses.items():
        worst = max(abs(a - b) / b for a, b in zip(values, losses["torch"]))
        assert worst < 0.03, (runner, worst)
    # The second epoch revisits the first one's samples: its losses are lower, not a restart.
    torch_losses = losses["torch"]
    assert sum(torch_losses[32:38]) < 0.8 * sum(torch_losses[:6])
