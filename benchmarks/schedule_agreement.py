"""Does the interleaved schedule measure what a runner alone on the machine measures? And the parallel race?

Two measurements per workload and runner.

**Within one process (turn start ÷ training on).** The four runners take turns
twice the default's length (``--slice``, default 3 s). The first half of each turn
is what a default turn measures: the runner was stopped while the others trained,
has just been continued (cold caches, thread pools waking up), and the window
that spans the hand-over and the one after it (settling) are left out, as the
dashboard leaves them out (``runners.session.state.runner_state``). The second
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
taking turns. The hypervisor's steal is the other thing no schedule causes: on
this virtual machine it comes in bursts of 10–40 % of the CPU, a half it hits
runs about twice its share slower, and on cnn it explained most of the pairs'
scatter (correlation 0.85–0.89 between a turn's difference in steal between its
halves and its log-ratio, for keras/jax and keras/tensorflow). It is sampled
throughout (``benchmarks/host_steal.py``) and the target's figure is adjusted for
it: the intercept of the log-ratios' least-squares line on each turn's steal
difference (``benchmarks.pairing.adjusted_ratio``), the ratio where both halves
lost the same share. The column beside it is the same turns without adjustment.

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
        [--duration 6] [--skip-runs] [--keep FOLDER] [--from FOLDER/<time>-mlp-halves]
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

from benchmarks.host_steal import StealSampler, steal_share  # noqa: E402
from benchmarks.host_steal import load as load_steal  # noqa: E402
from benchmarks.pairing import abba, adjusted_ratio, cell, inside, ratio  # noqa: E402
from runners.config import RunConfig  # noqa: E402
from runners.protocol import Metrics, Phase, decode_lines  # noqa: E402
from runners.session.planning.cpu_share import available_cpus  # noqa: E402
from runners.session.planning.defaults import DEFAULT_SLICE_S  # noqa: E402
from runners.session.launching.launcher import Launcher, run_headless  # noqa: E402
from runners.session.planning.plan import DURATION_STEP_CAP  # noqa: E402
from runners.session.record.run_folder import RunFolder  # noqa: E402
from runners.session.state.runner_state import RunnerState  # noqa: E402
from runners.specs import SPECS  # noqa: E402
from workloads import get_workload  # noqa: E402

RUNNERS = ["keras/jax", "keras/tensorflow", "keras/torch", "torch"]
SCHEDULES = {"A": "sequential", "B": "interleaved"}


def small(workload_name: str):
    """The workload and its small size's settings, trained by time (no step count reached)."""
    workload = get_workload(workload_name)
    return workload, workload.settings(size="small", steps=DURATION_STEP_CAP)


def run(workload_name: str, schedule: str, duration_s: float, slice_s: float, folder: Path) -> dict[str, float]:
    """Each runner's steady step time (the panel's figure) in one run of ``schedule``."""
    _, settings = small(workload_name)
    config = RunConfig(workload=workload_name, settings=settings, duration_s=duration_s)
    launcher = Launcher([SPECS[r] for r in RUNNERS], config, RunFolder.create(folder, f"{workload_name}-{schedule}"),
                        available_cpus(), schedule=schedule, slice_s=slice_s)
    states = {name: launcher.new_state(name) for name in RUNNERS}
    asyncio.run(run_headless(launcher, lambda event: states[event.runner].apply(event)))
    for name, state in states.items():
        if state.phase != "done":
            raise SystemExit(f"{name} did not finish under {schedule}: {state.error}")
    return {name: state.mean_step_time_s for name, state in states.items()}


def halves_of_each_turn(workload_name: str, turns: int, half_s: float, folder: Path) -> dict[str, dict]:
    """Each runner's step time in the first ``half_s`` seconds of a turn ÷ in the rest of that same turn.

    The four runners take turns of twice ``half_s``. The first half of a turn is what a turn of ``half_s``
    (the default slice) measures: the runner was stopped while the others trained and has just been continued,
    and the windows the dashboard leaves out (spanning the hand-over, settling after it) are left out here. The
    second half is the same runner training on alone, as under the sequential schedule. Both halves are seconds
    apart, so each turn is one pair (``benchmarks/pairing.py``); start-up and compilation (turn 1) are in none."""
    workload, settings = small(workload_name)
    run_folder = RunFolder.create(folder, f"{workload_name}-halves")
    launcher = Launcher([SPECS[r] for r in RUNNERS], RunConfig(workload=workload_name, settings=settings),
                        run_folder, available_cpus(), schedule="interleaved", slice_s=2 * half_s)
    halves = {name: TurnHalves(launcher.new_state(name), half_s) for name in RUNNERS}
    stopping: list = []

    def on_event(event) -> None:
        halves[event.runner].add(event)
        if not stopping and all(h.state.turn > turns + 1 for h in halves.values()):
            stopping.append(asyncio.ensure_future(launcher.stop()))  # every runner is past its last measured turn

    with StealSampler() as steal:
        asyncio.run(run_headless(launcher, on_event))
    steal.save(run_folder.path)
    return ratios_of_halves(halves, turns, epoch_length(workload, settings), steal.samples)


def halves_of_a_kept_run(folder: Path, workload_name: str, turns: int, half_s: float) -> dict[str, dict]:
    """The same figures from a run folder --keep left (``*-halves``), under today's rules: no training."""
    workload, settings = small(workload_name)
    halves = {}
    for name in RUNNERS:
        path = folder / f"{name.replace('/', '-')}.events.jsonl"
        try:
            events, _ = decode_lines(path.read_bytes().splitlines())
        except OSError as exc:
            raise SystemExit(f"--from {folder}: cannot read {path.name} ({exc.strerror})") from None
        halves[name] = TurnHalves(RunnerState(name, settings.steps), half_s)
        for event in events:
            halves[name].add(event)
    return ratios_of_halves(halves, turns, epoch_length(workload, settings), load_steal(folder))


class TurnHalves:
    """One runner's timed steps and seconds in the first and second half of each turn, folded from its events."""

    def __init__(self, state: RunnerState, half_s: float):
        self.state, self.half_s = state, half_s
        self.resumed_at: dict[int, float] = {}  # turn -> when it was continued
        self.by_half: dict[str, dict[int, list[float]]] = {"first": {}, "second": {}}  # turn -> [steps, seconds]
        self.spans: dict[str, dict[int, list[tuple[float, float]]]] = {"first": {}, "second": {}}  # timed windows
        self.step_span: dict[int, list[int]] = {}  # turn -> [first step, last step]

    def add(self, event) -> None:
        state = self.state
        timed_before = state.steady_steps
        state.apply(event)
        if isinstance(event, Phase) and event.phase == "resumed" and state.turn >= 2:
            self.resumed_at[state.turn] = event.t
        if not isinstance(event, Metrics):
            return
        span = self.step_span.setdefault(state.turn, [event.first_step, event.step])
        span[0], span[1] = min(span[0], event.first_step), max(span[1], event.step)
        # Only the windows the dashboard times (neither spanning a hand-over nor settling just after one).
        if state.steady_steps > timed_before and state.turn in self.resumed_at:
            begun = event.t - event.window_s
            half = "first" if begun - self.resumed_at[state.turn] < self.half_s else "second"
            steps_and_seconds = self.by_half[half].setdefault(state.turn, [0, 0.0])
            steps_and_seconds[0] += event.steps
            steps_and_seconds[1] += event.window_s
            self.spans[half].setdefault(state.turn, []).append((begun, event.t))

    def step_times(self, last_turn: int) -> dict[str, dict[int, float]]:
        return {half: {turn: seconds / steps for turn, (steps, seconds) in by_turn.items()
                       if 2 <= turn <= last_turn and steps}
                for half, by_turn in self.by_half.items()}

    def epoch_ends(self, epoch_steps: int) -> set[int]:
        """The turns in which an epoch of the data ended."""
        return {turn for turn, (first, last) in self.step_span.items() if first // epoch_steps != last // epoch_steps}

    def steal_by_half(self, samples) -> dict[str, dict[int, float]]:
        """Per half, per turn: the share of the CPU the hypervisor took during that half's timed windows."""
        return {half: {turn: share for turn, windows in by_turn.items()
                       if (share := steal_share(samples, windows)) is not None}
                for half, by_turn in self.spans.items()}


def ratios_of_halves(halves: dict[str, TurnHalves], turns: int, epoch_steps: int,
                     steal_samples) -> dict[str, dict]:
    """First half ÷ second half for each runner: over every turn ("every turn"); over the turns in which no epoch
    ended ("not adjusted"); and the same turns adjusted for the hypervisor's steal ("target"; not adjusted when
    ``steal_samples`` is None: a run kept before steal was sampled)."""
    figures: dict[str, dict] = {"every turn": {}, "not adjusted": {}, "target": {}, "steal": {}}
    for name, runner_halves in halves.items():
        step_time = runner_halves.step_times(last_turn=turns + 1)
        figures["every turn"][name] = ratio(step_time["first"], step_time["second"])
        ended = runner_halves.epoch_ends(epoch_steps)
        kept = {half: {turn: value for turn, value in by_turn.items() if turn not in ended}
                for half, by_turn in step_time.items()}
        figures["not adjusted"][name] = ratio(kept["first"], kept["second"])
        figures["target"][name] = figures["not adjusted"][name]
        if steal_samples:
            steal = runner_halves.steal_by_half(steal_samples)
            both = [turn for turn in kept["first"] if turn in kept["second"]
                    and turn in steal["first"] and turn in steal["second"]]
            difference = {turn: steal["first"][turn] - steal["second"][turn] for turn in both}
            figures["target"][name] = adjusted_ratio(kept["first"], kept["second"], difference)
            # Whether steal has to do with taking turns: its mean share in each half.
            figures["steal"][name] = tuple(sum(steal[half][turn] for turn in both) / max(1, len(both))
                                           for half in ("first", "second"))
    return figures


def epoch_length(workload, settings) -> int:
    """Steps in one epoch of the runners' data (``workloads.data.in_step_order``)."""
    batch_bytes = settings.batch_size * 4 * math.prod(workload.input_shape(settings))
    return max(1, workload.data_bytes(settings) // batch_bytes)


def steal_cell(shares: tuple[float, float] | None) -> str:
    """"4.1 % / 3.9 %": the hypervisor's mean share of the CPU in the first and the second halves."""
    return "–" if shares is None else f"{shares[0]:.1%} / {shares[1]:.1%}"


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
    parser.add_argument("--from", dest="kept", type=Path, metavar="FOLDER",
                        help="within one process only, from a '-halves' folder --keep left: no training")
    args = parser.parse_args()
    print(f"{'workload':9s} {'runner':17s} {'turn start ÷ training on':>26s} {'turns':>5s} {'in band':>8s} "
          f"{'not adjusted':>26s} {'every turn':>26s} {'steal 1st/2nd':>14s} "
          f"{'interleaved ÷ sequential runs':>30s} {'in band':>8s} {'parallel ÷ sequential':>22s}", flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        for workload_name in args.workloads.split(","):
            if args.kept:
                halves = halves_of_a_kept_run(args.kept, workload_name, args.turns, args.slice)
            else:
                halves = halves_of_each_turn(workload_name, args.turns, args.slice, Path(folder))
            within = halves["target"]
            runs: dict[str, object] = {}
            race: dict[str, float] = {}
            if not (args.skip_runs or args.kept):
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
                      f"{inside(within[name], 0.03):>8s} {cell(halves['not adjusted'][name]):>26s} "
                      f"{cell(halves['every turn'][name]):>26s} {steal_cell(halves['steal'].get(name)):>14s} "
                      f"{cell(runs.get(name)):>30s} {inside(runs.get(name), 0.03) if runs else '':>8s} "
                      f"{race[name] if race else float('nan'):22.3f}", flush=True)
    print(f"(small size, {len(available_cpus())} CPU threads. Within one process: {args.turns} turns of "
          f"{2 * args.slice:g} s per runner, the first {args.slice:g} s of each against the rest; the target is "
          "on the turns in which no epoch ended, adjusted for the hypervisor's steal in each half; the same turns "
          "not adjusted and every turn beside it, and the steal's mean share in each half. "
          f"Whole runs: {args.pairs} ABBA pairs of runs, "
          f"{args.duration:g} s of steady state per runner per run, {args.slice:g} s turns; the parallel race once, "
          "against the first sequential run. Target: 1.00 ± 0.03 with the interval inside the band)")


if __name__ == "__main__":
    main()
