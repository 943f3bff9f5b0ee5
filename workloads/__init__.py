"""Workloads: models and data, defined once per framework.

This package knows nothing about processes or screens. Importing it never
imports a framework: each workload names its framework-specific builders as
``"module:function"`` strings that only a runner subprocess resolves.
"""

from workloads.base import Workload, WorkloadSettings
from workloads.registry import WORKLOADS, get_workload, workload_names

__all__ = ["Workload", "WorkloadSettings", "WORKLOADS", "get_workload", "workload_names"]
