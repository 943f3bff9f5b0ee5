"""``--until ±X% --repeats auto``: fresh processes, one after another, until the verdict is that sure with the
process-to-process noise in its interval, each process given the turns that reach it soonest.

The first ``CALIBRATION`` processes take ``CALIBRATION_TURNS`` turns each: enough to see both levels of noise
(``runners.session.verdict.levels``) and what a process and a round of turns cost here. After each process the
levels and costs are measured again and the next process is given the best number of turns; the run ends when
every headline comparison's interval over processes is within the target, or when a runner's steady training
time over all processes reaches the cap (``--duration``). Each process is a whole run session in a folder of its
own (replayable like any run), the runners' order rotated from one to the next.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from runners.session.planning.defaults import DEFAULT_SLICE_S
from runners.session.record.finished_run import read_run
from runners.session.repeats import rotated, run_one
from runners.session.verdict.confidence import paired_logs
from runners.session.verdict.levels import MIN_PROCESSES, Levels, Split, levels_of, split_for
from runners.session.verdict.precision import MIN_SURE_PAIRS, headline_pairs, plus_minus, seconds_per_round
from runners.session.verdict.summary import Standing

CALIBRATION = MIN_PROCESSES  # processes before the split is chosen from what they measured
CALIBRATION_TURNS = MIN_SURE_PAIRS  # turns each of them takes
FEWEST_TURNS = 2  # a process's own turn-to-turn spread needs two


@dataclass
class Process:
    folder: Path
    standings: list[Standing]
    states: dict  # runner → RunnerState, read back from the folder
    wall_s: float  # from the session's start to its end, preparation included
    turns: int  # the turns it was given

    @property
    def timed_s(self) -> float:
        return max((s.timed_s for s in self.states.values()), default=0.0)


@dataclass
class UntilSure:
    """Where an ``--until`` run over processes stands: its processes, each comparison's levels, the split."""

    target: float
    processes: list[Process] = field(default_factory=list)
    levels: list[Levels] = field(default_factory=list)
    split: Split | None = None
    costs: tuple[float, float] | None = None  # a process's start-up and a round of turns, wall seconds

    @property
    def widest(self) -> Levels | None:
        """The comparison the run waits for: the widest interval, or one without an interval yet."""
        if not self.levels:
            return None
        return max(self.levels, key=lambda lv: float("inf") if lv.half_width is None else lv.half_width)

    @property
    def reached(self) -> bool:
        widest = self.widest
        return widest is not None and widest.half_width is not None and widest.half_width <= self.target

    @property
    def spent_s(self) -> float:
        return sum(p.timed_s for p in self.processes)

    def next_turns(self) -> int:
        return self.split.turns if self.split else CALIBRATION_TURNS

    def add(self, process: Process) -> None:
        self.processes.append(process)
        self.levels = measured_levels(self.processes)
        self.costs = costs_of(self.processes)
        widest = self.widest
        if len(self.processes) >= CALIBRATION and widest is not None and self.costs is not None:
            self.split = split_for(widest, self.target, *self.costs, fewest_turns=FEWEST_TURNS)

    def progress(self) -> str:
        """"process 4: keras/jax ÷ torch ±8.1 % over 4 processes (turn sd 5.2 %, process sd 3.9 %) · next: 3 turns a
        process, 7 processes (about 3m 10s more)"."""
        widest = self.widest
        count = len(self.processes)
        if widest is None:
            return f"process {count}: no comparison has paired turns yet"
        now = (f"{plus_minus(widest.half_width, 1)} over {count} processes" if widest.half_width is not None
               else f"{count} of {MIN_PROCESSES} processes for an interval")
        spread = f"turn sd {_percent(widest.turn_variance)}"
        if widest.half_width is not None:  # the process component needs the processes an interval does
            spread += f", process sd {_percent(widest.process_variance)}"
        text = f"process {count}: {widest.comparison} {now} ({spread})"
        if self.reached:
            return text + f" · within {plus_minus(self.target)}"
        if self.split:
            text += f" · next: {self.split.describe()}"
        return text

    def outcome(self) -> str:
        """What ended the run, for the verdict."""
        widest = self.widest
        count = len(self.processes)
        wanted = plus_minus(self.target)
        if widest is None or widest.half_width is None:
            return f"--until {wanted} not reached: {count} processes, fewer than {MIN_PROCESSES} for an interval"
        if self.reached:
            return f"sure to {plus_minus(widest.half_width, 1)} over {count} processes, process noise included (--until {wanted})"
        text = (f"--until {wanted} not reached: {plus_minus(widest.half_width, 1)} over {count} processes when the "
                f"cap ran out")
        if self.split:
            text += f"; {self.split.describe()} would reach it on this machine"
        return text

    def method(self) -> str:
        """What the measured levels chose, and why: for the report and the README's figures."""
        if not self.levels or self.costs is None:
            return "too few processes to measure the levels"
        process_s, round_s = self.costs
        parts = [f"a process costs {process_s:.0f} s before its first timed round, a round of turns {round_s:.1f} s"]
        for lv in self.levels:
            parts.append(f"{lv.comparison}: turn-to-turn sd {_percent(lv.turn_variance)}, process-to-process sd "
                         f"{_percent(lv.process_variance)}")
        if self.split:
            parts.append(f"best split for {plus_minus(self.target)}: {self.split.turns} turns a process, "
                         f"{self.split.processes} processes")
        return "; ".join(parts)

    def record(self) -> dict:
        return {"target": self.target, "reached": self.reached, "processes": len(self.processes),
                "turns_given": [p.turns for p in self.processes],
                "process_cost_s": self.costs[0] if self.costs else None,
                "round_cost_s": self.costs[1] if self.costs else None,
                "levels": [lv.record() for lv in self.levels],
                "best_turns": self.split.turns if self.split else None,
                "processes_needed": self.split.processes if self.split else None,
                "seconds_left": 0.0 if self.reached else self.split.seconds_left if self.split else None}


def measured_levels(processes: list[Process]) -> list[Levels]:
    """Each headline comparison's levels over the processes so far (the comparisons as the latest process words them)."""
    latest = processes[-1].states
    found = []
    for first, second in headline_pairs(list(latest.values())):
        logs = [paired_logs(p.states[first.name].turn_rates(), p.states[second.name].turn_rates())
                for p in processes if first.name in p.states and second.name in p.states]
        levels = levels_of(f"{first.name} ÷ {second.name}", logs)
        if levels is not None:
            found.append(levels)
    return found


def costs_of(processes: list[Process]) -> tuple[float, float] | None:
    """(a process's start-up, a round of turns) in wall seconds, medians over the processes: the rounds from the
    turns' start times, the start-up as what the rest of the process's wall time was."""
    rounds, starts = [], []
    for p in processes:
        per_round = seconds_per_round(list(p.states.values()))
        if per_round is None:
            continue
        rounds.append(per_round)
        taken = max((len(s.turn_rates()) for s in p.states.values()), default=0)
        starts.append(max(p.wall_s - taken * per_round, 0.0))
    if not rounds:
        return None
    return statistics.median(starts), statistics.median(rounds)


def run_until_sure(plan, parent: Path, target: float, cap_s: float, view: Callable[[object], int], stem: str,
                   on_process: Callable[[UntilSure], None] = lambda sure: None, **session_options
                   ) -> tuple[UntilSure, int]:
    """Processes of ``plan`` under ``parent`` until sure to ±``target`` or ``cap_s`` of a runner's steady time is
    spent; ``on_process`` hears after each. Returns where it stands and the worst exit code (130: interrupted)."""
    sure = UntilSure(target)
    slice_s = session_options.get("slice_s", DEFAULT_SLICE_S)
    worst = 0
    while not sure.reached:
        left_s = cap_s - sure.spent_s
        turns = min(sure.next_turns(), int(left_s // slice_s))  # what the cap still has room for
        if turns < FEWEST_TURNS:
            break
        index = len(sure.processes)
        process_plan = replace(plan, specs=rotated(plan.specs, index), until=None, turns=turns,
                               duration_s=round(left_s, 1))
        started = time.monotonic()
        folder, standings, code = run_one(process_plan, parent, f"{stem}-process-{index + 1}", view,
                                          **session_options)
        worst = max(worst, code)
        if standings is not None:
            sure.add(Process(folder, standings, read_run(folder).states, time.monotonic() - started, turns))
            on_process(sure)
        if code == 130 or standings is None or not sure.processes[-1].timed_s:
            break  # interrupted, unrecorded, or a process that trained nothing: another would do the same
    return sure, worst


def _percent(variance: float) -> str:
    """A variance of log-ratios as the spread it means: 0.0025 → "5.0 %"."""
    return f"{variance ** 0.5 * 100:.1f} %"

