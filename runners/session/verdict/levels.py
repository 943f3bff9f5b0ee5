"""Noise at two levels, process and turn, and the split of a run between them (Kalibera and Jones, ISMM 2013).

A runner's speed moves from turn to turn within one process, and it also moves from one process to the next
(where its memory landed, which code paths its start-up chose, what the machine did meanwhile). The paired
log-ratios of one comparison, grouped by process, give both:

- the turn variance S²: the pooled variance of the log-ratios about their own process's mean;
- the process component T²: the variance of the process means less the share of it their turns explain,
  S²_means − S²/n (n turns a process), as Kalibera and Jones estimate it; below zero it is taken as zero.

The ratio is the geometric mean of the process means and its interval a t-interval over them (R − 1 degrees of
freedom): the process level is in it whatever its size. A process mean over n turns has the variance T² + S²/n,
and a process costs its start-up c_p (import, compilation, warm-up) where a round of turns costs c_t; the turns a
process that reach a precision at the least cost are n* = √(c_p·S² / (c_t·T²)) (their equation for two levels),
and the processes then follow from the interval's width.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from runners.session.verdict.confidence import LEVEL, Ratio, t_quantile

MIN_PROCESSES = 3  # for an interval over processes: with two, t(1) = 12.7 and the interval says nothing
MAX_TURNS = 30  # the most turns a process is given when its process component looks like nothing
MAX_PROCESSES = 1000  # beyond this the answer is "not on this machine at this noise"


@dataclass(frozen=True)
class Levels:
    """One comparison's noise at each level, from ``processes`` processes' paired turns."""

    comparison: str  # "keras/jax ÷ torch"
    ratio: Ratio  # over the process means; ``pairs`` counts processes
    turn_variance: float  # S²: of a log-ratio about its process's mean
    process_variance: float  # T²: the process component
    turns: float  # mean turns a process so far

    @property
    def processes(self) -> int:
        return self.ratio.pairs

    @property
    def half_width(self) -> float | None:
        """The interval's half-width as a ratio (0.05: ±5 %); None below ``MIN_PROCESSES``."""
        if self.ratio.low is None:
            return None
        return math.sqrt(self.ratio.high / self.ratio.low) - 1

    def record(self) -> dict:
        return {"comparison": self.comparison, "processes": self.processes, "turns": self.turns,
                "ratio": self.ratio.value, "low": self.ratio.low, "high": self.ratio.high,
                "half_width": self.half_width, "turn_sd": math.sqrt(self.turn_variance),
                "process_sd": math.sqrt(self.process_variance)}


def levels_of(comparison: str, logs_by_process: list[list[float]], level: float = LEVEL) -> Levels | None:
    """The levels of one comparison from its paired log-ratios, a list per process (processes with none left out)."""
    groups = [logs for logs in logs_by_process if logs]
    if not groups:
        return None
    means = [statistics.fmean(logs) for logs in groups]
    grand = statistics.fmean(means)
    freedom = sum(len(logs) - 1 for logs in groups)
    turn_variance = (sum((x - m) ** 2 for logs, m in zip(groups, means) for x in logs) / freedom) if freedom else 0.0
    turns = statistics.fmean(len(logs) for logs in groups)
    if len(groups) < MIN_PROCESSES:
        return Levels(comparison, Ratio(math.exp(grand), None, None, len(groups)), turn_variance, 0.0, turns)
    means_variance = statistics.variance(means)
    # The harmonic mean of the turn counts: each process mean's own-turn share is S²/n_i.
    harmonic = len(groups) / sum(1 / len(logs) for logs in groups)
    process_variance = max(means_variance - turn_variance / harmonic, 0.0)
    half = t_quantile(level, len(groups) - 1) * math.sqrt(means_variance / len(groups))
    ratio = Ratio(math.exp(grand), math.exp(grand - half), math.exp(grand + half), len(groups))
    return Levels(comparison, ratio, turn_variance, process_variance, turns)


def best_turns(turn_variance: float, process_variance: float, process_cost_s: float, round_cost_s: float,
               fewest: int = 1) -> int:
    """Turns a process that buy the most precision per second: √(c_p·S² / (c_t·T²)), rounded up, at least
    ``fewest``; ``MAX_TURNS`` when the process component is nothing (more turns then cost less than processes)."""
    if turn_variance <= 0:
        return fewest
    if process_variance <= 0 or round_cost_s <= 0:
        return MAX_TURNS
    best = math.sqrt(process_cost_s * turn_variance / (round_cost_s * process_variance))
    return min(max(math.ceil(best), fewest), MAX_TURNS)


def processes_needed(turn_variance: float, process_variance: float, turns: int, target: float,
                     level: float = LEVEL) -> int:
    """The fewest processes of ``turns`` turns each whose interval is within ±target at these variances."""
    bound = math.log1p(target)
    per_process = process_variance + turn_variance / turns
    for count in range(MIN_PROCESSES, MAX_PROCESSES + 1):
        if t_quantile(level, count - 1) * math.sqrt(per_process / count) <= bound:
            return count
    return MAX_PROCESSES


@dataclass(frozen=True)
class Split:
    """How the rest of a run is best spent: ``turns`` a process, ``processes`` in all, and what that costs."""

    turns: int
    processes: int  # in all, those run so far included
    seconds_left: float  # wall seconds for the processes still to run

    def describe(self) -> str:
        from runners.session.state.formatting import fmt_span

        return (f"{self.turns} turn{'s' * (self.turns != 1)} a process, {self.processes} processes "
                f"(about {fmt_span(self.seconds_left)} more)")


def split_for(levels: Levels, target: float, process_cost_s: float, round_cost_s: float, fewest_turns: int = 1
              ) -> Split:
    """The best split of the rest of the run, from one comparison's levels and the costs measured so far."""
    turns = best_turns(levels.turn_variance, levels.process_variance, process_cost_s, round_cost_s, fewest_turns)
    processes = max(processes_needed(levels.turn_variance, levels.process_variance, turns, target),
                    levels.processes + (0 if levels.half_width is not None and levels.half_width <= target else 1))
    left = max(processes - levels.processes, 0) * (process_cost_s + turns * round_cost_s)
    return Split(turns, processes, left)
