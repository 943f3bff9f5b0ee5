"""Workloads by name: the built-ins, those other packages register, and a user's own file."""

from __future__ import annotations

from workloads.base import Workload
from workloads.cnn import WORKLOAD as CNN
from workloads.errors import InputError
from workloads.gpt import WORKLOAD as GPT
from workloads.hub import HUB_WORKLOADS, PREFIX, checkpoint_workload
from workloads.lstm import WORKLOAD as LSTM
from workloads.mlp import WORKLOAD as MLP
from workloads.resnet18 import WORKLOAD as RESNET18

WORKLOADS: dict[str, Workload] = {w.name: w for w in (MLP, CNN, RESNET18, LSTM, GPT)} | HUB_WORKLOADS


def workload_names() -> list[str]:
    return list(WORKLOADS)


def get_workload(name: str) -> Workload:
    if name in WORKLOADS:
        return WORKLOADS[name]
    if name.startswith(PREFIX):
        return checkpoint_workload(name)
    if name.endswith(".py"):
        from workloads.user import load_workload_file

        return load_workload_file(name)
    from workloads.user import entry_point_workloads

    registered = entry_point_workloads()
    if name in registered:
        return registered[name]()
    known = ", ".join([*WORKLOADS, *registered])
    raise InputError(f"unknown workload {name!r} (known: {known}, a path to a .py file, or hub:CHECKPOINT_FOLDER)")
