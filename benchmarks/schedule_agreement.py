"""Does the interleaved schedule measure what a runner alone on the machine measures? And the parallel race?

Two measurements per workload and runner.

**Within one process (turn start ÷ training on).** The four runners take turns
twice the default's length (``--slice``, default 3 s). The first half of each turn
is what a default turn measures: the runner was stopped while the others trained,
has just been continued (cold caches, thread pools waking up) and the window
that spans the hand-over is left out, as the dashboard leaves it out. The second
half is the same runner training on alone, as under the sequential schedule. The
two halves are seconds apart in one process, so each turn is one pair (start-up
and compilation, turn 1, in none): their geometric mean with a 95 % t-interval
(target 1.00 ± 0.03, the interval inside the band) says whether taking turns
moves the figure. Pairing halves of one turn cancels what makes two runs of one
runner differ here (where each process lands, the machine's drift over minutes),
which no comparison of whole runs can on this machine; what is left is the
machine's noise from one 3 s stretch to the next (6–10 % here), so it takes
tens of turns per runner. A turn in which an epoch of the data ends is left out of
the target's figure (and kept in the "every turn" column beside it): an epoch's end
is work of its own (Keras on tensorflow: its data iterator ends and is made again;
here its first step of some epochs took 10–40 s), at a step the hand-overs do not choose, so it lands
in either half by chance and swamps the interval without saying anything about
taking turns.

**Whole runs (interleaved ÷ sequential).** All four runners train under the sequential schedule (each
alone, one after another: the reference) and under the interleaved one (the
default: turns with the whole machine), the two alternating in ABBA order over
``--pairs`` pairs of runs (``benchmarks/pairing.py``), each runner training
``--duration`` seconds of steady state per run. For each runner: its steady step
time interleaved ÷ sequential, one ratio per adjacent pair, their geometric mean
with a 95 % t-interval (target 1.00 ± 0.03, with the interval inside the band).
One parallel race, run before the pairs, is set against the first sequential run
to show why the default changed.

    python benchmarks/schedule_agreement.py [--workloads mlp,cnn] [--turns 40] [--slice 3] [--pairs 4]
        [--duration 6] [--skip-runs] [--keep FOLDER]
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

from benchmarks.pairing import abba, cell, inside, ratio  # noqa: E402
from runners.config import RunConfig  # noqa: E402
from runners.protocol import Metrics, Phase  # noqa: E402
from runners.session.cpu_share import available_cpus  # noqa: E402
from runners.session.defaults import DEFAULT_SLICE_S  # noqa: E402
from runners.session.launcher import Launcher, run_headless  # noqa: E402
from runners.session.plan import DURATION_STEP_CAP  # noqa: E402
from runners.session.recording import RunFolder  # noqa: E402
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


def halves_of_each_turn(workload_name: str, turns: int, half_s: float, folder: Path) -> dict[str, object]:
    """Each runner's step time in the first ``half_s`` seconds of a turn ÷ in the rest of that same turn.

    The four runners take turns of twice ``half_s``. The first half of a turn is what a turn of ``half_s``
    (the default slice) measures: the runner was stopped while the others trained and has just been continued,
    and the window that spans the hand-over is left out as the dashboard leaves it out. The second half is the
    same runner training on alone, as under the sequential schedule. Both halves are seconds apart, so each
    turn is one pair (``benchmarks/pairing.py``); start-up and compilation (turn 1) are not in any pair."""
    workload = get_workload(workload_name)
    settings = workload.settings(size="small", steps=DURATION_STEP_CAP)
    epoch_steps = epoch_length(workload, settings)
    launcher = Launcher([SPECS[r] for r in RUNNERS], RunConfig(workload=workload_name, settings=settings),
                        RunFolder.create(folder, f"{workload_name}-halves"), available_cpus(),
                        schedule="interleaved", slice_s=2 * half_s)
    states = {name: launcher.new_state(name) for name in RUNNERS}
    resumed_at: dict[str, dict[int, float]] = {name: {} for name in RUNNERS}  # turn -> when it was continued
    halves: dict[str, dict[str, dict[int, list[float]]]] = {
        name: {"first": {}, "second": {}} for name in RUNNERS}  # half -> turn -> [steps, seconds]
    step_span: dict[str, dict[int, list[int]]] = {name: {} for name in RUNNERS}  # turn -> [first step, last step]
    last_turn = turns + 1
    stopping: list = []

    def on_event(event) -> None:
        state = states[event.runner]
        state.apply(event)
        if isinstance(event, Phase) and event.phase == "resumed" and state.turn >= 2:
            resumed_at[event.runner][state.turn] = event.t
        elif isinstance(event, Metrics):
            span = step_span[event.runner].setdefault(state.turn, [event.first_step, event.step])
            span[0], span[1] = min(span[0], event.first_step), max(span[1], event.step)
        if (isinstance(event, Metrics) and not event.warmup and state.turn in resumed_at[event.runner]
                and not state.held_seconds(event.t - event.window_s, event.t)):  # the dashboard's steady windows
            begun = event.t - event.window_s - resumed_at[event.runner][state.turn]
            half = halves[event.runner]["first" if begun < half_s else "second"]
            steps_and_seconds = half.setdefault(state.turn, [0, 0.0])
            steps_and_seconds[0] += event.steps
            steps_and_seconds[1] += event.window_s
        if not stopping and all(s.turn > last_turn for s in states.values()):
            stopping.append(asyncio.ensure_future(launcher.stop()))  # every runner is past its last measured turn

    asyncio.run(run_headless(launcher, on_event))
    every_turn, without_epoch_ends = {}, {}
    for name in RUNNERS:
        step_time = {half: {turn: seconds / steps for turn, (steps, seconds) in by_turn.items()
                            if 2 <= turn <= last_turn and steps}
                     for half, by_turn in halves[name].items()}
        every_turn[name] = ratio(step_time["first"], step_time["second"])
        crossed = {turn for turn, (first, last) in step_span[name].items()
                   if first // epoch_steps != last // epoch_steps}  # an epoch ended in this turn
        kept = {half: {turn: value for turn, value in by_turn.items() if turn not in crossed}
                for half, by_turn in step_time.items()}
        without_epoch_ends[name] = ratio(kept["first"], kept["second"])
    return every_turn, without_epoch_ends


def epoch_length(workload, settings) -> int:
    """Steps in one epoch of the runners' data (``workloads.data.in_step_order``)."""
    batch_bytes = settings.batch_size * 4 * math.prod(workload.input_shape(settings))
    return max(1, workload.data_bytes(settings) // batch_bytes)


def turns_in(value) -> str:
    """How many turns a figure rests on."""
    return str(value.pairs) if value is not None else "0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,cnn")
    parser.add_argument("--turns", type=int, default=40, help="within one process: measured turns per runner")
    parser.add_argument("--slice", type=float, default=DEFAULT_SLICE_S,
                        help="seconds of a turn under the interleaved schedule (the default's)")
    parser.add_argument("--pairs", type=int, default=4, help="whole runs: sequential/interleaved pairs, ABBA order")
    parser.add_argument("--duration", type=float, default=6.0, help="whole runs: steady seconds per runner per run")
    parser.add_argument("--skip-runs", action="store_true", help="only the measurement within one process")
    parser.add_argument("--keep", type=Path, help="keep the run folders here (default: a temporary folder)")
    args = parser.parse_args()
    print(f"{'workload':9s} {'runner':17s} {'turn start ÷ training on':>26s} {'turns':>5s} {'in band':>8s} "
          f"{'every turn':>26s} "
          f"{'interleaved ÷ sequential runs':>30s} {'in band':>8s} {'parallel ÷ sequential':>22s}", flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        for workload_name in args.workloads.split(","):
            every_turn, within = halves_of_each_turn(workload_name, args.turns, args.slice, Path(folder))
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
                print(f"{workload_name:9s} {name:17s} {cell(within[name]):>26s} {turns_in(within[name]):>5s} "
                      f"{inside(within[name], 0.03):>8s} {cell(every_turn[name]):>26s} "
                      f"{cell(runs.get(name)):>30s} {inside(runs.get(name), 0.03) if runs else '':>8s} "
                      f"{race[name] if race else float('nan'):22.3f}", flush=True)
    print(f"(small size, {len(available_cpus())} CPU threads. Within one process: {args.turns} turns of "
          f"{2 * args.slice:g} s per runner, the first {args.slice:g} s of each against the rest; the target is "
          "on the turns in which no epoch ended, every turn beside it. "
          f"Whole runs: {args.pairs} ABBA pairs of runs, "
          f"{args.duration:g} s of steady state per runner per run, {args.slice:g} s turns; the parallel race once, "
          "against the first sequential run. Target: 1.00 ± 0.03 with the interval inside the band)")


if __name__ == "__main__":
    main()
