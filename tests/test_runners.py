"""Each runner spec trains mlp in a real subprocess and speaks the protocol correctly."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from runners.protocol import PHASES, Done, Error, Hello, Metrics, Phase, decode
from tests.conftest import ALL_SPECS, FOUR_RUNS
from workloads import get_workload


@pytest.mark.parametrize("runner", ALL_SPECS)
def test_runner_emits_a_valid_stream(four_runs, runner):
    launcher, all_events = four_runs
    events = all_events[runner]
    kinds = [e.type for e in events]
    assert not [e for e in events if isinstance(e, Error)], [e.message for e in events if isinstance(e, Error)]
    assert "hello" in kinds and kinds.index("hello") < kinds.index("metrics")

    phases = [e.phase for e in events if isinstance(e, Phase)]
    assert phases == ["importing", "building", "warmup", "training", "done"]
    assert all(p in PHASES for p in phases)

    hello = next(e for e in events if isinstance(e, Hello))
    assert hello.framework == runner.split("/")[0]
    assert hello.backend == runner.split("/")[-1]
    assert hello.device == "cpu"
    assert hello.params > 0 and hello.threads >= 1 and hello.cpus

    metrics = sorted((e for e in events if isinstance(e, Metrics)), key=lambda m: m.first_step)
    covered = [s for m in metrics for s in range(m.first_step, m.step + 1)]
    assert covered == list(range(FOUR_RUNS["steps"])), "every step reported exactly once"
    losses = [v for m in metrics for v in m.losses]
    assert len(losses) == FOUR_RUNS["steps"] and all(math.isfinite(v) for v in losses)
    assert all(m.window_s > 0 and m.rss_bytes > 0 for m in metrics)
    assert [m.warmup for m in metrics][:2] == [True, True] and not metrics[-1].warmup
    # Learnable data: the loss must clearly fall.
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.7 * first, (first, last)
    assert initial_loss_is_chance_level(losses[0])

    done = next(e for e in events if isinstance(e, Done))
    assert done.steps == FOUR_RUNS["steps"] and done.train_s > 0


def initial_loss_is_chance_level(loss: float) -> bool:
    # 10 classes: an untrained model sits near ln(10) = 2.30.
    return 1.5 < loss < 4.0


def test_every_runner_trains_the_same_size_model(four_runs):
    _, events = four_runs
    params = {r: next(e.params for e in evs if isinstance(e, Hello)) for r, evs in events.items()}
    assert len(set(params.values())) == 1, params
    assert set(params.values()) == {784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10}


def test_run_folder_records_every_event_and_the_output(four_runs):
    launcher, events = four_runs
    for runner in ALL_SPECS:
        spec_slug = runner.replace("/", "-")
        lines = (launcher.folder.path / f"{spec_slug}.events.jsonl").read_text().splitlines()
        recorded = [decode(line) for line in lines]
        assert [e.type for e in recorded] == [e.type for e in events[runner]]
        assert json.loads(lines[0])["v"] == 1
        assert launcher.output_path(runner).exists()


def test_runners_get_fair_cpu_shares(four_runs):
    launcher, events = four_runs
    hellos = [next(e for e in evs if isinstance(e, Hello)) for evs in events.values()]
    # On any machine, no runner gets more CPUs than an even split would give it.
    cpus = {c for h in hellos for c in h.cpus}
    for hello in hellos:
        assert len(hello.cpus) <= max(1, len(cpus) // len(hellos)) or len(cpus) < len(hellos)
        assert hello.threads == len(hello.cpus)


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


def test_a_keras_runner_on_jax_loads_no_other_framework():
    """What the runner process imports before it trains: Keras and its backend, nothing that would be charged to
    its start-up and memory (a torch exception class once brought all of torch in: 2.5 s and 190 MiB)."""
    import subprocess
    import sys

    code = ("import os, sys\n"
            "os.environ['KERAS_BACKEND'] = 'jax'\n"
            "import runners.child.keras3.runner\n"
            "print(','.join(m for m in ('torch', 'tensorflow', 'transformers') if sys.modules.get(m) is not None))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""
