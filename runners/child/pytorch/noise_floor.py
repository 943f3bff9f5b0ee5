"""The parity noise floor, measured in the run itself by the PyTorch reference: its initial logits and first
steps again, from the same initial weights perturbed at the run's rounding (each weight times 1 + u·N(0, 1),
u the unit roundoff of the precision it computes in: about 1e-7 in fp32), under the same threads, on the same
batches and recipe. How far those figures move from the unperturbed ones is how far rounding alone moves this
model on this machine: a batch-norm ResNet's chaotic first steps move by several per cent, an MLP's by about
1e-7; in bf16 everything moves by about 1e-2. The judge holds the Keras runners to that floor
(``runners.session.verdict.parity``) instead of a fixed tolerance."""

from __future__ import annotations

import time

import torch

from runners.protocol import NoiseFloor

# About one rounding of the precision the model computes in: float32's 2^-24 ≈ 6e-8 (as
# benchmarks/parity_noise.py perturbs), bfloat16's 2^-8 and float16's 2^-11 under mixed precision.
PERTURBATIONS = {"fp32": 1e-7, "bf16": 2.0 ** -8, "fp16": 2.0 ** -11}


def perturb(model, perturbation: float) -> None:
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.is_floating_point():
                noise = torch.randn(parameter.shape, generator=generator).to(parameter.device, parameter.dtype)
                parameter.mul_(1 + perturbation * noise)


def perturbed_losses(model, train_step, inputs, targets, batch: int, epoch_batches: int, steps: int,
                     device) -> list[float]:
    """The losses of ``steps`` steps of ``model`` (already perturbed)."""
    model.train()
    losses = []
    for step in range(steps):
        start = step % epoch_batches * batch
        loss = train_step(inputs[start: start + batch].to(device), targets[start: start + batch].to(device))
        losses.append(float(loss.detach()))
    return losses


def measure(emit, name: str, build, probe, make_train_step, inputs, targets, batch: int, epoch_batches: int,
            steps: int, device, precision: str) -> None:
    """Build a model, perturb it, take its probe (``probe(model)``: the initial logits as the run takes them)
    and train it, report both (a NoiseFloor event), and let it go."""
    started = time.perf_counter()
    model = build()
    perturbation = PERTURBATIONS[precision]
    perturb(model, perturbation)
    logits = probe(model)
    losses = perturbed_losses(model, make_train_step(model), inputs, targets, batch, epoch_batches, steps, device)
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)  # the run's peak is its own training's
    emit(NoiseFloor(name, losses=losses, perturbation=perturbation, logits=logits,
                    seconds=time.perf_counter() - started))
