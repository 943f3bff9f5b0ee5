"""Fidelity and overhead of kvp-dash's timing, against bare loops measured in the same run.

- fidelity: kvp-dash's reported steady-state step time (steady time over steady
  steps, the panel's headline figure) divided by a bare best-practice loop's,
  same framework, model, data, thread cap and environment (target 1.00 ± 0.03,
  with its interval inside the band); the median-of-windows figure is printed beside it;
- overhead: training throughput with kvp-dash's instrumentation (its callback,
  windows and event channel) divided by the bare loop's, over the whole run
  (target >= 0.98).

Each runner runs alone with every CPU (the sequential schedule), its kvp-dash runs
and its bare loops alternating in ABBA order over --pairs pairs
(``benchmarks/pairing.py``): each figure is the geometric mean of the pairs' ratios
with its 95 % t-interval, so a bias of a few per cent shows apart from the drift
of a shared machine.

    python benchmarks/timing_fidelity.py [--workloads mlp,cnn] [--runners ...] [--steps N] [--pairs 6]
    [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pairing import abba, cell, inside, ratio  # noqa: E402
from runners.config import RunConfig  # noqa: E402
from runners.protocol import Done  # noqa: E402
from runners.session.cpu_share import available_cpus, thread_environment  # noqa: E402
from runners.session.launcher import Launcher, run_headless  # noqa: E402
from runners.session.recording import RunFolder  # noqa: E402
from runners.session.runner_environment import framework_environment  # noqa: E402
from runners.session.state import RunnerState  # noqa: E402
from runners.specs import SPECS  # noqa: E402
from workloads import get_workload  # noqa: E402

DEFAULT_STEPS = {"mlp": 2000, "cnn": 600}


def kvp_dash_run(spec_name: str, workload_name: str, steps: int, folder: Path, device: str
                 ) -> tuple[float, float, float]:
    """(reported steady step time, median-of-windows step time, training seconds) of one runner."""
    workload = get_workload(workload_name)
    settings = workload.settings(size="small", steps=steps)
    config = RunConfig(workload=workload_name, settings=settings, device=device)
    launcher = Launcher([SPECS[spec_name]], config, RunFolder.create(folder, workload_name), available_cpus(),
                        schedule="sequential")
    state = RunnerState(spec_name, steps)
    asyncio.run(run_headless(launcher, state.apply))
    if state.error is not None or not isinstance(state.done, Done):
        raise RuntimeError(f"{spec_name} failed: {state.error}")
    return state.mean_step_time_s, state.median_step_time_s, state.done.train_s


def bare_run(spec_name: str, workload_name: str, steps: int, threads: int, device: str) -> dict:
    settings = get_workload(workload_name).settings(size="small", steps=steps)
    warmup = RunConfig(workload=workload_name, settings=settings).warmup_steps
    # The environment a runner gets from the launcher (devices, thread pools), nothing else.
    env = {**framework_environment(SPECS[spec_name].backend, device, 0 if device == "cuda" else None),
           **thread_environment(threads)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bare_loop.py"), spec_name, workload_name, "small",
         str(steps), str(settings.batch_size), str(warmup), str(threads)],
        capture_output=True, text=True, check=True, env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,cnn")
    parser.add_argument("--runners", default="keras/jax,keras/tensorflow,keras/torch,torch")
    parser.add_argument("--steps", type=int, help="steps per run (default: 2000 for mlp, 600 for cnn)")
    parser.add_argument("--pairs", type=int, default=6, help="kvp-dash/bare pairs of runs per runner, ABBA order")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    threads = len(available_cpus())
    print(f"{'workload':9s} {'runner':17s} {'kvp-dash ms':>11s} {'bare ms':>8s} {'fidelity (95% CI)':>22s} "
          f"{'in band':>8s} {'median-window':>13s} {'overhead (95% CI)':>22s}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for workload_name in args.workloads.split(","):
            steps = args.steps or DEFAULT_STEPS.get(workload_name, 500)
            for spec_name in args.runners.split(","):
                kvp: dict[int, tuple] = {}
                bare: dict[int, dict] = {}
                for pair, which in abba(args.pairs):
                    if which == "A":
                        kvp[pair] = kvp_dash_run(spec_name, workload_name, steps, Path(folder), args.device)
                    else:
                        bare[pair] = bare_run(spec_name, workload_name, steps, threads, args.device)
                bare_step = {k: b["steady_s_per_step"] for k, b in bare.items()}
                fidelity = ratio({k: v[0] for k, v in kvp.items()}, bare_step)
                windows = ratio({k: v[1] for k, v in kvp.items()}, bare_step)
                # Throughput with instrumentation over throughput without it, over the whole run.
                overhead = ratio({k: b["total_s"] for k, b in bare.items()}, {k: v[2] for k, v in kvp.items()})
                kvp_ms = statistics.median(v[0] for v in kvp.values()) * 1000
                bare_ms = statistics.median(bare_step.values()) * 1000
                print(f"{workload_name:9s} {spec_name:17s} {kvp_ms:11.3f} {bare_ms:8.3f} {cell(fidelity):>22s} "
                      f"{inside(fidelity, 0.03):>8s} {windows.value:13.3f} {cell(overhead):>22s}", flush=True)
                results.append({"workload": workload_name, "runner": spec_name, "kvp_dash_ms": kvp_ms,
                                "bare_ms": bare_ms, "fidelity": fidelity.value, "fidelity_low": fidelity.low,
                                "fidelity_high": fidelity.high, "overhead": overhead.value,
                                "overhead_low": overhead.low, "overhead_high": overhead.high, "pairs": args.pairs})
    print(f"(small size, {args.device}, {threads} CPU threads, each run alone, {args.pairs} ABBA pairs per runner; "
          "targets: fidelity 1.00 ± 0.03 with its interval inside the band, overhead ≥ 0.98)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
