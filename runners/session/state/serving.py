"""A serving path's figures, by batch size: its timed windows (each with its own steady state, as a training
runner's) and the latency of every call in them, from which the percentiles come.

Fed by ``RunnerState`` with the windows its rules time (no hold in them, not settling), so a serving path's
figures leave out the others' turns exactly as a training runner's do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from runners import latency
from runners.protocol import Metrics
from runners.session.state.timed_windows import TimedWindows

PERCENTILES = (0.5, 0.9, 0.99)


@dataclass
class BatchFigures:
    batch_size: int
    timed: TimedWindows = field(default_factory=TimedWindows)
    bins: list[dict[str, int]] = field(default_factory=list)  # each timed window's, in order
    maxima: list[float] = field(default_factory=list)
    _merged: tuple[int, int, Counter] | None = None  # (from window, to window, counts)

    def add(self, turn: int, event: Metrics) -> None:
        self.timed.add(turn, event.steps, event.window_s, event.step_time_s)
        self.bins.append(event.call_bins or {})
        self.maxima.append(event.call_max_s or 0.0)

    def counts(self, ended: bool) -> Counter:
        """Every call of the steady-state windows, binned."""
        start = self.timed.steady_state(ended).start
        merged = self._merged
        if merged is None or merged[0] != start:
            merged = (start, start, Counter())
        begin, end, counts = merged
        for bins in self.bins[end:]:
            latency.merge(counts, bins)
        self._merged = (begin, len(self.bins), counts)
        return counts

    def percentile(self, q: float, ended: bool = False) -> float | None:
        """Within a 1 % bin: its upper edge, or the slowest call where that is lower."""
        found = latency.quantile(self.counts(ended), q)
        slowest = self.max_s(ended)
        return min(found, slowest) if found is not None and slowest else found

    def max_s(self, ended: bool = False) -> float | None:
        start = self.timed.steady_state(ended).start
        return max(self.maxima[start:], default=None)

    def calls(self, ended: bool = False) -> int:
        return self.timed.steady_steps(ended)

    def throughput(self, ended: bool = False) -> float | None:
        """Samples a second over the steady-state windows' wall time."""
        seconds = self.timed.steady_seconds(ended)
        return self.timed.steady_steps(ended) * self.batch_size / seconds if seconds > 0 else None

    def turn_rates(self, ended: bool = False) -> dict[int, float]:
        """Samples a second in each turn that timed calls at this batch size (turn 0: before any hand-over)."""
        return {turn: steps * self.batch_size / seconds
                for turn, (steps, seconds) in self.timed.steady_per_turn(ended).items() if turn and seconds > 0}


@dataclass
class ServingFigures:
    by_batch: dict[int, BatchFigures] = field(default_factory=dict)

    def add(self, turn: int, event: Metrics) -> None:
        figures = self.by_batch.get(event.batch_size)
        if figures is None:
            figures = self.by_batch[event.batch_size] = BatchFigures(event.batch_size)
        figures.add(turn, event)

    def at(self, batch_size: int) -> BatchFigures | None:
        return self.by_batch.get(batch_size)
