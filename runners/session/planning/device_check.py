"""Which device each framework will really use, asked before anything trains: ``kvp-dash doctor`` and the
guard against a comparison across device kinds.

Each installed framework is asked in its own subprocess (``runners.child.device_report``),
with the environment its runner would get for the chosen device, all at once. A race
where torch trains on the GPU and keras/jax on the CPU (a CPU-only jax or
tensorflow-cpu wheel on a GPU box) would rank the devices, not the frameworks: it is
refused, one line per runner with the fix, unless the user allows it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from runners.session.launching.runner_environment import framework_environment
from runners.specs import RunnerSpec

ASK_TIMEOUT_S = 180.0
# What makes each framework see the GPU the others use.
FIXES = {
    "jax": "pip install 'kvp-dash[jax-cuda]' (jax with CUDA; the plain jax wheel is CPU-only)",
    "tensorflow": "pip install 'kvp-dash[tensorflow-cuda]' (tensorflow-cpu cannot see a GPU)",
    "torch": "install a CUDA build of torch that matches the driver (pip's default on Linux x86_64; "
             "the +cpu build cannot see a GPU)",
}


def ask_frameworks(backends: list[str], device: str) -> dict[str, dict]:
    """Each backend's own report (``runners.child.device_report``), asked in parallel subprocesses."""
    processes = {
        backend: subprocess.Popen([sys.executable, "-m", "runners.child.device_report", backend],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**framework_environment(backend, device), "TF_CPP_MIN_LOG_LEVEL": "2"},
                                  start_new_session=True)
        for backend in dict.fromkeys(backends)
    }
    reports = {}
    for backend, process in processes.items():
        try:
            out, err = process.communicate(timeout=ASK_TIMEOUT_S)
            reports[backend] = json.loads(out.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            reports[backend] = {"backend": backend, "error": f"no answer in {ASK_TIMEOUT_S:g} s"}
        except (ValueError, IndexError):
            tail = (err or "").strip().splitlines()[-1:] or ["no output"]
            reports[backend] = {"backend": backend, "error": f"the report failed: {tail[0]}"}
    return reports


def device_kind(device: str) -> str:
    """"cpu" or "gpu", from a device as a run, a runner's hello or a report names it ("cuda:0 …", "gpu:0 …")."""
    return "cpu" if device.split(":")[0].split(" ")[0].strip().lower() in ("cpu", "") else "gpu"


def off_device(sees: dict[str, str], device: str) -> dict[str, str]:
    """Runners that would train on another device kind than the one chosen (``sees``: runner -> device)."""
    want = "gpu" if device == "cuda" else "cpu"
    return {runner: seen for runner, seen in sees.items() if device_kind(seen) != want}


def mixed_device_lines(specs: list[RunnerSpec], reports: dict[str, dict], device: str) -> list[str]:
    """One line per runner that would not use ``device``, naming the fix; empty when every runner would."""
    sees = {}
    lines = []
    for spec in specs:
        report = reports.get(spec.backend, {})
        if "error" in report:
            lines.append(f"{spec.name}: {spec.backend} did not say what it sees ({report['error']})")
            continue
        sees[spec.name] = report["devices"][0] if report.get("devices") else "cpu"
    for runner, seen in off_device(sees, device).items():
        backend = next(s.backend for s in specs if s.name == runner)
        lines.append(f"{runner} would train on {seen}, not the GPU the others use: {FIXES[backend]}")
    return lines
