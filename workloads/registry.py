"""The built-in workloads by name."""

from __future__ import annotations

from workloads.base import Workload
from workloads.mlp import WORKLOAD as MLP
from workloads.resnet18 import WORKLOAD as RESNET18

WORKLOADS: dict[str, Workload] = {w.name: w for w in (MLP, RESNET18)}


def workload_names() -> list[str]:
    return list(WORKLOADS)


def get_workload(name: str) -> Workload:
    try:
        return WORKLOADS[name]
    except KeyError:
        known = ", ".join(WORKLOADS)
        raise ValueError(f"unknown workload {name!r} (known: {known})") from None
