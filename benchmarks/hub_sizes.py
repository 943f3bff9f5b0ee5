"""The hub workloads' sizes: parameters counted by Transformers itself (models built on PyTorch's meta
device, so a 3B model costs no memory), analytic training FLOPs per token, and the float32 weights plus
Adam state a run holds. Prints the table the README carries.

    python benchmarks/hub_sizes.py
"""

from __future__ import annotations

import torch
import transformers

from workloads.hub import HUB_WORKLOADS
from workloads.hub.architectures import ARCHITECTURES
from workloads.hub.torch_model import hf_config


def main() -> None:
    print(f"{'workload':8s} {'size':6s} {'shape of':22s} {'params':>14s} {'tokens':>6s} {'train GFLOP/token':>18s} "
          f"{'weights+Adam':>12s}")
    for name, workload in HUB_WORKLOADS.items():
        arch = ARCHITECTURES[name]
        for size in workload.sizes:
            settings = workload.settings(size=size)
            hyper = workload.hyper(settings)
            with torch.device("meta"):
                model = getattr(transformers, arch.torch_class)(hf_config(hyper))
            params = sum(p.numel() for p in model.parameters())
            per_token = workload.train_flops_per_step(settings) / settings.batch_size / hyper["length"]
            state_gib = params * 16 / 2**30  # float32 weights, gradients and Adam's two moments
            print(f"{name:8s} {size:6s} {arch.shapes_of.get(size, '-'):22s} {params:14,d} {hyper['length']:6d} "
                  f"{per_token / 1e9:18.3f} {state_gib:10.1f} GiB")


if __name__ == "__main__":
    main()
