"""Does the interleaved schedule measure what a runner alone on the machine measures? And the parallel race?

Two measurements per workload and runner.

**Within one process (turns ÷ continuous).** The four runners take turns in one
launch whose rounds alternate, in ABBA order, between long turns (``--long``
seconds, default 9: a runner training on, alone, as under the sequential
schedule) and the default's short ones (``--slice``, default 3). Each runner's
steady step time in a short turn ÷ in the adjacent long turn is one pair; their
geometric mean with a 95 % t-interval says whether being stopped and continued
every few seconds (cold caches, thread pools waking up, the window that spans a
hand-over left out) moves the figure (target 1.00 ± 0.03, the interval inside
the band). Pairing inside one process cancels what makes two runs of one runner
differ here (the machine's drift, and where each process lands), which no
comparison of whole runs can on this machine.

**Whole runs (interleaved ÷ sequential).** All four runners train under the sequential schedule (each
alone, one after another: the reference) and under the interleaved one (the
default: turns with the whole machine), the two alternating in ABBA order over
``--pairs`` pairs of runs (``benchmarks/pairing.py``), each runner training
``--duration`` seconds of steady state per run. For each runner: its steady step
time interleaved ÷ sequential, one ratio per adjacent pair, their geometric mean
with a 95 % t-interval (target 1.00 ± 0.03, with the interval inside the band).
One parallel race, run before the pairs, is set against the first sequential run
to show why the default changed.

    python benchmarks/schedule_agreement.py [--workloads mlp,cnn] [--pairs 4] [--duration 6] [--slice 3]
        [--long 9] [--rounds 6] [--skip-runs]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pairing import abba, cell, inside, ratio  # noqa: E402
from runners.config import RunConfig  # noqa: E402
from runners.session.cpu_share import available_cpus  # noqa: E402
from runners.session.launcher import Launcher, run_headless  # noqa: E402
from runners.session.plan import DURATION_STEP_CAP  # noqa: E402
from runners.session.recording import RunFolder  # noqa: E402
from runners.session.rotation import Rotation  # noqa: E402
from runners.specs import SPECS  # noqa: E402
from workloads import get_workload  # noqa: E402

RUNNERS = ["keras/jax", "keras/tensorflow", "keras/torch", "torch"]
SCHEDULES = {"A": "sequential", "B": "interleaved"}


def run(workload_name: str, schedule: str, duration_s: float, slice_s: float, folder: Path) -> dict[str, float]:
    """Each runner's steady step time (the panel's figure) in one run of ``schedule``."""
    settings = get_workload(workload_name).settings(size="small", steps=DURATION_STEP_CAP)
    config = RunConfig(workload=workload_name, settings=settings, duration_s=duration_s)
    launcher = Launcher([SPECS[r] for r in RUNNERS], config, RunFolder.create(folder, f"{workload_name}-{schedule}"),
                        available_cpus(), schedule=schedule, slice_s=slice_s)
    states = {name: launcher.new_state(name) for name in RUNNERS}
    asyncio.run(run_headless(launcher, lambda event: states[event.runner].apply(event)))
    for name, state in states.items():
        if state.phase != "done":
            raise SystemExit(f"{name} did not finish under {schedule}: {state.error}")
    return {name: state.mean_step_time_s for name, state in states.items()}


class AlternatingRotation(Rotation):
    """The interleaved schedule's rotation, each runner's turns long or short in a given order.

    A runner's k-th turn (k from 1, its start-up turn, which is short) lasts ``slices[k - 2]``."""

    def __init__(self, slices: list[float], short_s: float, announce):
        super().__init__(short_s, announce)
        self._slices, self._short_s = slices, short_s
        self._given: dict[int, int] = {}

    def _arm_timer(self, child) -> None:
        turn = self._given[id(child)] = self._given.get(id(child), 0) + 1
        self.slice_s = self._slices[turn - 2] if 2 <= turn < len(self._slices) + 2 else self._short_s
        super()._arm_timer(child)


def turns_within_one_process(workload_name: str, pairs: int, short_s: float, long_s: float,
                             folder: Path) -> dict[str, object]:
    """Each runner's short-turn step time ÷ its adjacent long turn's, paired (``benchmarks/pairing.py``)."""
    order = abba(pairs)  # A: a long turn, B: a short one; runner turn k + 2 is order[k]
    settings = get_workload(workload_name).settings(size="small", steps=DURATION_STEP_CAP)
    launcher = Launcher([SPECS[r] for r in RUNNERS], RunConfig(workload=workload_name, settings=settings),
                        RunFolder.create(folder, f"{workload_name}-turns"), available_cpus(),
                        schedule="interleaved", slice_s=short_s)
    launcher._rotation = AlternatingRotation([long_s if which == "A" else short_s for _, which in order],
                                             short_s, launcher._announce)
    states = {name: launcher.new_state(name) for name in RUNNERS}
    last_turn = len(order) + 1
    stopping: list = []

    def on_event(event) -> None:
        states[event.runner].apply(event)
        if not stopping and all(s.turn > last_turn for s in states.values()):
            stopping.append(asyncio.ensure_future(launcher.stop()))  # every runner is past its last measured turn

    asyncio.run(run_headless(launcher, on_event))
    result = {}
    for name, state in states.items():
        rates = state.turn_rates()
        long_rate = {pair: rates[k + 2] for k, (pair, which) in enumerate(order) if which == "A" and k + 2 in rates}
        short_rate = {pair: rates[k + 2] for k, (pair, which) in enumerate(order) if which == "B" and k + 2 in rates}
        result[name] = ratio(long_rate, short_rate)  # long rate ÷ short rate = short step time ÷ long step time
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,cnn")
    parser.add_argument("--rounds", type=int, default=6, help="within one process: long/short pairs of turns")
    parser.add_argument("--long", type=float, default=9.0, help="seconds of a long turn")
    parser.add_argument("--slice", type=float, default=3.0, help="seconds of a short turn (the default's)")
    parser.add_argument("--pairs", type=int, default=4, help="whole runs: sequential/interleaved pairs, ABBA order")
    parser.add_argument("--duration", type=float, default=6.0, help="whole runs: steady seconds per runner per run")
    parser.add_argument("--skip-runs", action="store_true", help="only the measurement within one process")
    parser.add_argument("--keep", type=Path, help="keep the run folders here (default: a temporary folder)")
    args = parser.parse_args()
    print(f"{'workload':9s} {'runner':17s} {'short turns ÷ continuous':>26s} {'in band':>8s} "
          f"{'interleaved ÷ sequential runs':>30s} {'in band':>8s} {'parallel ÷ sequential':>22s}", flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        for workload_name in args.workloads.split(","):
            within = turns_within_one_process(workload_name, args.rounds, args.slice, args.long, Path(folder))
            runs: dict[str, object] = {}
            race: dict[str, float] = {}
            if not args.skip_runs:
                race_times = run(workload_name, "parallel", args.duration, args.slice, Path(folder))
                step_times: dict[str, dict[str, dict[int, float]]] = {"A": {}, "B": {}}
                for pair, which in abba(args.pairs):
                    figures = run(workload_name, SCHEDULES[which], args.duration, args.slice, Path(folder))
                    for name, seconds in figures.items():
                        step_times[which].setdefault(name, {})[pair] = seconds
                runs = {name: ratio(step_times["B"][name], step_times["A"][name]) for name in RUNNERS}
                race = {name: race_times[name] / step_times["A"][name][0] for name in RUNNERS}
            for name in RUNNERS:
                print(f"{workload_name:9s} {name:17s} {cell(within[name]):>26s} {inside(within[name], 0.03):>8s} "
                      f"{cell(runs.get(name)):>30s} {inside(runs.get(name), 0.03) if runs else '':>8s} "
                      f"{race[name] if race else float('nan'):22.3f}", flush=True)
    print(f"(small size, {len(available_cpus())} CPU threads. Within one process: {args.rounds} ABBA pairs of "
          f"{args.slice:g} s and {args.long:g} s turns. Whole runs: {args.pairs} ABBA pairs of runs, "
          f"{args.duration:g} s of steady state per runner per run, {args.slice:g} s turns; the parallel race once, "
          "against the first sequential run. Target: 1.00 ± 0.03 with the interval inside the band)")


if __name__ == "__main__":
    main()
