"""A runner's timed windows, and the figures of its steady state among them.

Timed windows are steady by the runner's own warm-up flag, with no hold in them and not settling
(``runner_state``). The steady state is the part of them from where the step time settled
(``steady_state``): every figure is taken from there, while ``--duration``'s clock counts them all, as
the runner's own does. The classification is redone as the windows grow by a tenth, and once more on the
whole run when it has ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runners.session.state.series import Quantiles
from runners.session.state.steady_state import SteadyState, classify_windows


@dataclass
class _Before:
    """The windows before the steady state, for the start they were summed at."""

    start: int
    steps: int
    seconds: float
    per_turn: dict[int, list[float]]
    quantiles: Quantiles  # the steady windows' step times, added as they come
    counted: int  # windows in ``quantiles`` or before ``start``


@dataclass
class TimedWindows:
    quantiles: Quantiles = field(default_factory=Quantiles)  # seconds per step of each timed window
    steps: int = 0
    seconds: float = 0.0  # the --duration budget's clock
    per_turn: dict[int, list[float]] = field(default_factory=dict)  # steps and seconds of each turn
    windows: list[tuple[int, int, float]] = field(default_factory=list)  # (turn, steps, seconds), in order
    _found: SteadyState | None = None
    _before: _Before | None = None

    def add(self, turn: int, steps: int, seconds: float, step_time_s: float) -> None:
        self.quantiles.add(step_time_s)
        self.steps += steps
        self.seconds += seconds
        steps_and_seconds = self.per_turn.setdefault(turn, [0, 0.0])
        steps_and_seconds[0] += steps
        steps_and_seconds[1] += seconds
        self.windows.append((turn, steps, seconds))

    def steady_state(self, ended: bool) -> SteadyState:
        found, count = self._found, len(self.windows)
        if found is None or (count != found.windows and (count >= found.windows * 1.1 or ended)):
            self._found = classify_windows([(steps, seconds) for _, steps, seconds in self.windows])
        return self._found

    def steady_steps(self, ended: bool) -> int:
        before = self._before_steady(ended)
        return self.steps - (before.steps if before else 0)

    def steady_seconds(self, ended: bool) -> float:
        before = self._before_steady(ended)
        return self.seconds - (before.seconds if before else 0.0)

    def steady_per_turn(self, ended: bool) -> dict[int, list[float]]:
        before = self._before_steady(ended)
        left_out = before.per_turn if before else {}
        result = {}
        for turn, (steps, seconds) in self.per_turn.items():
            out_steps, out_seconds = left_out.get(turn, (0, 0.0))
            if steps - out_steps > 0:
                result[turn] = [steps - out_steps, seconds - out_seconds]
        return result

    def steady_quantiles(self, ended: bool) -> Quantiles:
        before = self._before_steady(ended)
        return self.quantiles if before is None else before.quantiles

    def _before_steady(self, ended: bool) -> _Before | None:
        """The windows left out before the steady state; None when every timed window is steady."""
        start = self.steady_state(ended).start
        if start == 0:
            return None
        before = self._before
        if before is None or before.start != start:
            steps, seconds, per_turn = 0, 0.0, {}
            for turn, window_steps, window_s in self.windows[:start]:
                steps += window_steps
                seconds += window_s
                left = per_turn.setdefault(turn, [0, 0.0])
                left[0] += window_steps
                left[1] += window_s
            before = self._before = _Before(start, steps, seconds, per_turn, Quantiles(), start)
        for _, window_steps, window_s in self.windows[before.counted:]:  # steady windows since last asked
            if window_steps:
                before.quantiles.add(window_s / window_steps)
        before.counted = len(self.windows)
        return before
