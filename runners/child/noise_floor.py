"""The parity noise floor, measured in the run itself by the PyTorch reference: its first steps trained again
from the same initial weights perturbed at float32 rounding (each weight times 1 + 1e-7·N(0, 1)), under the
same threads, on the same batches and recipe. How far those losses move from the unperturbed ones is how far
float32 rounding alone moves this model's first steps on this machine: a batch-norm ResNet's chaotic first
steps move by several per cent, an MLP's by about 1e-7. The dashboard judges the Keras runners' step losses
against that floor (``runners.session.parity``) instead of a fixed tolerance."""

from __future__ import annotations

import torch

from runners.protocol import NoiseFloor

# About one float32 rounding (2^-24 ≈ 6e-8), as benchmarks/parity_noise.py perturbs.
PERTURBATION = 1e-7


def perturbed_losses(model, train_step, inputs, targets, batch: int, epoch_batches: int, steps: int,
                     device) -> list[float]:
    """The losses of ``steps`` steps of ``model`` (built from the run's initial weights, then perturbed here)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.is_floating_point():
                noise = torch.randn(parameter.shape, generator=generator).to(parameter.device, parameter.dtype)
                parameter.mul_(1 + PERTURBATION * noise)
    model.train()
    losses = []
    for step in range(steps):
        start = step % epoch_batches * batch
        loss = train_step(inputs[start: start + batch].to(device), targets[start: start + batch].to(device))
        losses.append(float(loss.detach()))
    return losses


def measure(emit, name: str, build, make_train_step, inputs, targets, batch: int, epoch_batches: int,
            steps: int, device) -> None:
    """Build a model, train it perturbed, report its losses (a NoiseFloor event), and let it go."""
    model = build()
    losses = perturbed_losses(model, make_train_step(model), inputs, targets, batch, epoch_batches, steps, device)
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)  # the run's peak is its own training's
    emit(NoiseFloor(name, losses=losses, perturbation=PERTURBATION))
