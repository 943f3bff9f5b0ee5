"""Every built-in workload learns: on its default synthetic data the loss visibly falls."""

from __future__ import annotations

import asyncio

import pytest

from runners.config import RunConfig
from runners.protocol import Metrics
from runners.session.planning.cpu_share import available_cpus
from runners.session.launching.launcher import Launcher, run_headless
from runners.session.record.run_folder import RunFolder
from runners.specs import SPECS
from tests.conftest import tiered
from workloads import get_workload, workload_names
from workloads.hub import HUB_WORKLOADS

# The hub workloads learn and count their FLOPs in tests/test_hub_workloads.py (their model is a checkpoint).
OWN_MODELS = [name for name in workload_names() if name not in HUB_WORKLOADS]


# resnet18's 30 steps take 30 s of CPU here: in the extended tier, with its four-runner check. The default tier
# compares its Keras and PyTorch logits (test_parity) and trains cnn, whose conv and batch-norm layers it shares.
@pytest.mark.parametrize("name", tiered(OWN_MODELS, {"resnet18"}))
def test_loss_falls_within_the_tiny_preset(tmp_path, name):
    workload = get_workload(name)
    settings = workload.settings(size="tiny")
    # Parity holds across runners (test_parity), so one runner speaks for all four here.
    launcher = Launcher([SPECS["torch"]], RunConfig(workload=name, settings=settings),
                        RunFolder.create(tmp_path, name), available_cpus())
    losses: list[float] = []
    asyncio.run(run_headless(launcher, lambda e: losses.extend(e.losses) if isinstance(e, Metrics) else None))
    assert len(losses) == settings.steps
    k = max(1, len(losses) // 10)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    assert last < 0.95 * first and first - last > 0.05, (first, last)


def _counted_forward_flops(workload, settings) -> float:
    """Forward FLOPs per sample of the PyTorch model, by torch's own counter.

    The counter sees matmuls and convolutions. Two fused CPU kernels hide theirs, so
    the test opens them up: attention runs on the math backend (plain matmuls), and
    the LSTM is unrolled as LSTMCell steps of the same sizes.
    """
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from runners.child.pytorch.runner import torch_inputs as _inputs

    model = workload.build_torch(settings)
    inputs = _inputs(workload, workload.dataset(settings).x)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        if workload.name == "lstm":
            embedded = model.embedding(inputs[:2])
            cell = torch.nn.LSTMCell(model.lstm.input_size, model.lstm.hidden_size)
            state = None
            for t in range(embedded.shape[1]):
                state = cell(embedded[:, t], state)
            model.fc(state[0])
        else:
            model(inputs[:2])
    return counter.get_total_flops() / 2


@pytest.mark.parametrize("name", OWN_MODELS)
def test_analytic_flops_match_pytorchs_flop_counter(name):
    """The FLOPs behind TFLOP/s and MFU: analytic forward FLOPs agree with torch's counter."""
    pytest.importorskip("torch")
    workload = get_workload(name)
    for size in ("tiny", "small"):
        settings = workload.settings(size=size, steps=1, batch_size=2)
        counted = _counted_forward_flops(workload, settings)
        analytic = workload.forward_flops(settings, workload.hyper(settings))
        assert analytic == pytest.approx(counted, rel=0.01), (size, analytic, counted)
        assert workload.train_flops_per_step(settings) == 3 * analytic * 2
