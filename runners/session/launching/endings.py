"""When the launcher asks runners to finish early: a ``--duration`` budget spent, an ``--until`` precision reached, or
a count of turns taken (each process of an ``--until`` run over processes).

Both are measured from the runners' own events exactly as the figures are (``RunnerState``: warm-up, held
time and windows that touch a hold left out), so a runner that waits for its turn or is paused does not
spend its budget meanwhile. The launcher asks each runner named to finish (``runners.child.finish``); it
does so at its next window edge.
"""

from __future__ import annotations

from runners.protocol import Event, Phase
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.precision import precision_now


class StateFold:
    """Each runner's state, folded from its events once however many endings read it; a restarted runner starts
    afresh."""

    def __init__(self, total_steps: int):
        self._total_steps = total_steps
        self.states: dict[str, RunnerState] = {}
        self._last: Event | None = None  # the event applied last: every ending is handed the same one in turn

    def fold(self, event: Event) -> RunnerState:
        name = event.runner
        if event is not self._last:
            self._last = event
            if isinstance(event, Phase) and event.phase == "restarting":
                self.states.pop(name, None)
            self.states.setdefault(name, RunnerState(name, self._total_steps)).apply(event)
        return self.states[name]


class _Ending:
    def __init__(self, total_steps: int, fold: StateFold | None):
        self._fold = fold or StateFold(total_steps)
        self.asked: set[str] = set()

    @property
    def states(self) -> dict[str, RunnerState]:
        return self._fold.states

    def fold(self, event: Event) -> RunnerState:
        if isinstance(event, Phase) and event.phase == "restarting":
            self.asked.discard(event.runner)
        return self._fold.fold(event)


class DurationBudget(_Ending):
    """``--duration``: each runner trains until it has had that much steady training time of its own."""

    def __init__(self, duration_s: float, total_steps: int, fold: StateFold | None = None):
        super().__init__(total_steps, fold)
        self.duration_s = duration_s

    def to_finish(self, event: Event) -> list[str]:
        """Fold in one of a runner's events; the runner, once, when that spends its budget."""
        state = self.fold(event)
        if event.runner in self.asked or state.timed_s < self.duration_s:
            return []
        self.asked.add(event.runner)
        return [event.runner]


class _AllAtOnce(_Ending):
    """Every runner finishes at once when ``reached()`` says so, judged at each turn's end (a runner says
    "waiting", or ends): a runner finished alone would leave the last one with nobody to hand its turn to."""

    def reached(self) -> bool:
        raise NotImplementedError

    def to_finish(self, event: Event) -> list[str]:
        self.fold(event)
        if not (isinstance(event, Phase) and event.phase in ("waiting", "done")) or not self.reached():
            return []
        names = [name for name in self.states if name not in self.asked]
        self.asked.update(names)
        return names


class PrecisionGoal(_AllAtOnce):
    """``--until ±X%``: every runner finishes once the headline comparisons' intervals are within ±X % (a new pair
    may have formed at each turn's end)."""

    def __init__(self, target: float, total_steps: int, fold: StateFold | None = None):
        super().__init__(total_steps, fold)
        self.target = target

    def reached(self) -> bool:
        return precision_now(list(self.states.values()), self.target).reached


class TurnCount(_AllAtOnce):
    """Every runner finishes once each one still training has had ``turns`` timed turns: the turns one process
    gives to an ``--until`` run over processes (``runners.session.until_processes``). A runner whose first turns
    went to compilation needs a round more than the others to have its count; the others train it with it."""

    def __init__(self, turns: int, total_steps: int, fold: StateFold | None = None):
        super().__init__(total_steps, fold)
        self.turns = turns

    def reached(self) -> bool:
        going = [s for s in self.states.values() if s.phase not in ("failed", "stopped", "done")]
        return bool(going) and all(len(s.turn_rates()) >= self.turns for s in going)
