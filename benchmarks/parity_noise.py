"""How far does float32 rounding alone move the first optimizer steps' losses, within PyTorch?

Cross-framework parity tolerances must sit above this floor: two libraries'
float32 kernels round differently (about one unit in the last place, ~1e-7
relative), and some models amplify such differences step after step. This
script trains each workload's PyTorch model twice from the shared initial
weights, once as is and once with every weight perturbed by 1e-7 relative,
and prints the largest relative difference of the losses of steps 1-5.

    python benchmarks/parity_noise.py [--sizes tiny,small] [--workloads mlp,cnn,...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from runners.child.pytorch.weights import load_initial_weights  # noqa: E402
from runners.session.verdict.parity import PARITY_STEPS  # noqa: E402
from workloads import get_workload, workload_names  # noqa: E402

PERTURBATION = 1e-7


def losses(workload, settings, perturbation: float) -> np.ndarray:
    torch.manual_seed(settings.seed)
    model = workload.build_torch(settings)
    load_initial_weights(model, workload.initial_weights(settings),
                         {s.name for s in workload.specs(settings) if not s.trainable})
    if perturbation:
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + perturbation * torch.randn(p.shape, generator=generator))
    data = workload.dataset(settings)
    x = data.x if workload.torch_input_axes is None else data.x.transpose(workload.torch_input_axes)
    x = torch.from_numpy(np.ascontiguousarray(x))
    x = x.long() if workload.input_dtype == "int32" else x
    y = torch.from_numpy(data.y).long()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, eps=1e-8)
    batch, out = settings.batch_size, []
    model.train()
    for step in range(PARITY_STEPS + 1):
        optimizer.zero_grad()
        logits = model(x[step * batch : (step + 1) * batch])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[step * batch : (step + 1) * batch].reshape(-1))
        loss.backward()
        optimizer.step()
        out.append(loss.item())
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,small")
    parser.add_argument("--workloads", default=",".join(workload_names()))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'workload':10s} {'size':6s} {'steps 1-5 max rel diff from a 1e-7 weight perturbation':>40s}")
    for name in args.workloads.split(","):
        workload = get_workload(name)
        for size in args.sizes.split(","):
            settings = workload.settings(size=size, steps=PARITY_STEPS + 1)
            base, moved = losses(workload, settings, 0.0), losses(workload, settings, PERTURBATION)
            rdiff = np.max(np.abs(moved[1:] - base[1:]) / np.abs(base[1:]))
            print(f"{name:10s} {size:6s} {rdiff:40.1e}   (tolerance {workload.parity_step_rtol:g})")


if __name__ == "__main__":
    main()
