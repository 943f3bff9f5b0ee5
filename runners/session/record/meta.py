"""What a run ran on, recorded as meta.json: read without importing any framework."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import runners

DISTRIBUTIONS = ("kvp-dash", "keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch", "numpy",
                 "textual", "nvidia-ml-py")
SOURCE_ROOT = Path(runners.__file__).resolve().parents[1]  # the checkout (or site-packages): what holds `runners`


def installed_versions() -> dict[str, str]:
    """Versions from the installed packages' metadata (importing a framework here is not allowed)."""
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision() -> str | None:
    if not (SOURCE_ROOT / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(SOURCE_ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def run_meta(argv: list[str], config: dict, gpu_devices: list[dict], gpu_note: str | None) -> dict:
    return {
        "command": argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        "versions": {"python": platform.python_version(), **installed_versions()},
        "host": platform.node(),
        "os": platform.platform(),
        "cpu": {"model": cpu_model(), "cores": os.cpu_count(), "usable": len(os.sched_getaffinity(0))},
        "gpus": gpu_devices,
        "gpu_note": gpu_note,
        "git_revision": git_revision(),
        "executable": sys.executable,
    }
