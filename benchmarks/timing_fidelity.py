"""Fidelity and overhead of kvp-dash's timing, against bare loops measured in the same run.

- fidelity: kvp-dash's reported steady-state step time (steady time over steady
  steps, the panel's headline figure) divided by a bare best-practice loop's,
  same framework, model, data, thread cap and environment (target 1.00 +- 0.03);
  the median-of-windows figure is printed beside it;
- overhead: training throughput with kvp-dash's instrumentation (its callback,
  windows and event channel) divided by the bare loop's, over the whole run
  (target >= 0.98).

Each runner runs alone with every CPU (the sequential schedule), alternating with
its bare loop, --repeats times; each figure is the median of its repeats, because
one run on a shared machine moves by a few per cent.

    python benchmarks/timing_fidelity.py [--workloads mlp,cnn] [--runners ...] [--steps N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runners.config import RunConfig  # noqa: E402
from runners.protocol import Done  # noqa: E402
from runners.session.cpu_share import available_cpus, thread_environment  # noqa: E402
from runners.session.launcher import Launcher, run_headless  # noqa: E402
from runners.session.recording import RunFolder  # noqa: E402
from runners.session.state import RunnerState  # noqa: E402
from runners.specs import SPECS  # noqa: E402
from workloads import get_workload  # noqa: E402

DEFAULT_STEPS = {"mlp": 2000, "cnn": 600}


def kvp_dash_run(spec_name: str, workload_name: str, steps: int, folder: Path) -> tuple[float, float, float]:
    """(reported steady step time, median-of-windows step time, training seconds) of one runner."""
    workload = get_workload(workload_name)
    settings = workload.settings(size="small", steps=steps)
    config = RunConfig(workload=workload_name, settings=settings)
    launcher = Launcher([SPECS[spec_name]], config, RunFolder.create(folder, workload_name), available_cpus(),
                        schedule="sequential")
    state = RunnerState(spec_name, steps)
    asyncio.run(run_headless(launcher, state.apply))
    if state.error is not None or not isinstance(state.done, Done):
        raise RuntimeError(f"{spec_name} failed: {state.error}")
    return state.mean_step_time_s, state.median_step_time_s, state.done.train_s


def bare_run(spec_name: str, workload_name: str, steps: int, threads: int) -> dict:
    settings = get_workload(workload_name).settings(size="small", steps=steps)
    warmup = RunConfig(workload=workload_name, settings=settings).warmup_steps
    # The environment a runner gets from the launcher (thread pools, CPU-only devices), nothing else.
    env = {**os.environ, **thread_environment(threads), "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
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
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    threads = len(available_cpus())
    print(f"{'workload':9s} {'runner':17s} {'kvp-dash ms':>11s} {'(median)':>8s} {'bare ms':>8s} "
          f"{'fidelity':>8s} {'(median)':>8s} {'overhead':>8s}")
    with tempfile.TemporaryDirectory() as folder:
        for workload_name in args.workloads.split(","):
            steps = args.steps or DEFAULT_STEPS.get(workload_name, 500)
            for spec_name in args.runners.split(","):
                kvp, bare = [], []
                for _ in range(args.repeats):
                    kvp.append(kvp_dash_run(spec_name, workload_name, steps, Path(folder)))
                    bare.append(bare_run(spec_name, workload_name, steps, threads))
                reported = statistics.median(k[0] for k in kvp)
                windows_median = statistics.median(k[1] for k in kvp)
                kvp_total = statistics.median(k[2] for k in kvp)
                bare_step = statistics.median(b["steady_s_per_step"] for b in bare)
                bare_total = statistics.median(b["total_s"] for b in bare)
                print(f"{workload_name:9s} {spec_name:17s} {reported * 1000:11.3f} {windows_median * 1000:8.3f} "
                      f"{bare_step * 1000:8.3f} {reported / bare_step:8.3f} {windows_median / bare_step:8.3f} "
                      # Throughput with instrumentation over throughput without it.
                      f"{bare_total / kvp_total:8.3f}", flush=True)
    print(f"(small size, {threads} CPU threads, each run alone, median of {args.repeats} alternating repeats; "
          "targets: fidelity 1.00 ± 0.03, overhead ≥ 0.98)")


if __name__ == "__main__":
    main()
