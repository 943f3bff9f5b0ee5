"""Does the interleaved schedule measure what a runner alone on the machine measures? And the parallel race?

For each workload, all four runners train three times, one run per schedule,
in this order: sequential (each alone, one after another: the reference),
interleaved (the default: turns with the whole machine) and parallel (the race,
sharing it). For each runner: its steady step time under a schedule ÷ its
steady step time under the sequential one (target 1.00 ± 0.03 for interleaved),
with a 95 % interval: a Welch t-interval (scipy) on the difference of mean log
step times between the schedule's chunks of steady time (its turns; for the
sequential and parallel runs, consecutive steady windows grouped into chunks of
the same length as a turn), taken back with exp.

    python benchmarks/schedule_agreement.py [--workloads mlp,cnn] [--slice 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runners.config import RunConfig  # noqa: E402
from runners.protocol import Metrics  # noqa: E402
from runners.session.cpu_share import available_cpus  # noqa: E402
from runners.session.launcher import Launcher, run_headless  # noqa: E402
from runners.session.recording import RunFolder  # noqa: E402
from runners.session.state import RunnerState  # noqa: E402
from runners.specs import SPECS  # noqa: E402
from workloads import get_workload  # noqa: E402

RUNNERS = ["keras/jax", "keras/tensorflow", "keras/torch", "torch"]
# Enough steps for several turns of the slowest runner at --slice 1 on 2 cores (small size).
STEPS = {"mlp": 4000, "cnn": 1200}


def chunks(state: RunnerState, windows: list[Metrics], chunk_s: float, by_turn: bool) -> list[float]:
    """Seconds per step of each chunk of steady, unheld time: the runner's turns, or windows grouped by time."""
    if by_turn:
        return [seconds / steps for steps, seconds in state.turn_steps.values() if steps and seconds > 0.2 * chunk_s]
    result, steps, seconds = [], 0, 0.0
    for window in windows:
        if window.warmup or state.held_seconds(window.t - window.window_s, window.t):
            continue
        steps, seconds = steps + window.steps, seconds + window.window_s
        if seconds >= chunk_s:
            result.append(seconds / steps)
            steps, seconds = 0, 0.0
    return result


def run(workload_name: str, schedule: str, slice_s: float, folder: Path) -> dict[str, list[float]]:
    workload = get_workload(workload_name)
    settings = workload.settings(size="small", steps=STEPS[workload_name])
    launcher = Launcher([SPECS[r] for r in RUNNERS], RunConfig(workload=workload_name, settings=settings),
                        RunFolder.create(folder, f"{workload_name}-{schedule}"), available_cpus(),
                        schedule=schedule, slice_s=slice_s)
    states = {name: RunnerState(name, settings.steps) for name in RUNNERS}
    windows: dict[str, list[Metrics]] = {name: [] for name in RUNNERS}

    def on_event(event) -> None:
        states[event.runner].apply(event)
        if isinstance(event, Metrics):
            windows[event.runner].append(event)

    asyncio.run(run_headless(launcher, on_event))
    for name, state in states.items():
        if state.phase != "done":
            raise SystemExit(f"{name} did not finish under {schedule}: {state.error}")
    return {name: chunks(states[name], windows[name], slice_s, schedule == "interleaved") for name in RUNNERS}


def ratio_with_interval(measured: list[float], reference: list[float]) -> tuple[float, float, float]:
    """exp of the difference of mean log step times, and its 95 % Welch interval."""
    from scipy import stats

    a, b = [math.log(v) for v in measured], [math.log(v) for v in reference]
    test = stats.ttest_ind(a, b, equal_var=False)
    low, high = test.confidence_interval(0.95)
    difference = sum(a) / len(a) - sum(b) / len(b)
    return math.exp(difference), math.exp(low), math.exp(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,cnn")
    parser.add_argument("--slice", type=float, default=1.0, help="seconds per turn (and per chunk)")
    args = parser.parse_args()
    print(f"{'workload':9s} {'runner':17s} {'interleaved ÷ sequential (95% CI)':>36s} {'turns':>5s} "
          f"{'parallel ÷ sequential (95% CI)':>34s}")
    with tempfile.TemporaryDirectory() as folder:
        for workload_name in args.workloads.split(","):
            results = {schedule: run(workload_name, schedule, args.slice, Path(folder))
                       for schedule in ("sequential", "interleaved", "parallel")}
            for name in RUNNERS:
                reference = results["sequential"][name]
                cells = []
                for schedule in ("interleaved", "parallel"):
                    value, low, high = ratio_with_interval(results[schedule][name], reference)
                    cells.append(f"{value:.3f} ({low:.3f}–{high:.3f})")
                print(f"{workload_name:9s} {name:17s} {cells[0]:>36s} {len(results['interleaved'][name]):5d} "
                      f"{cells[1]:>34s}", flush=True)
    print(f"(small size, {len(available_cpus())} CPU threads, one run per schedule, {args.slice:g} s turns; "
          "target for interleaved: 1.00 ± 0.03 with its interval inside the band)")


if __name__ == "__main__":
    main()
