"""``--duration``: each runner trains until it has had that much steady training time of its own.

Measured from the runner's own windows exactly as the figures are (``RunnerState``:
warm-up, held time and windows that touch a hold left out), so a runner that waits
for its turn or is paused does not spend its budget meanwhile. The launcher asks a
runner whose budget is spent to finish (``runners.child.finish``); it does so at its
next window edge.
"""

from __future__ import annotations

from runners.protocol import Event, Phase
from runners.session.state.runner_state import RunnerState


class DurationBudget:
    def __init__(self, duration_s: float, total_steps: int):
        self.duration_s = duration_s
        self._total_steps = total_steps
        self._states: dict[str, RunnerState] = {}
        self._asked: set[str] = set()

    def spent_by(self, event: Event) -> bool:
        """Fold in one of a runner's events; True once, when it spends the runner's budget."""
        name = event.runner
        if isinstance(event, Phase) and event.phase == "restarting":
            self._states.pop(name, None)  # a restarted runner starts its budget afresh
            self._asked.discard(name)
        state = self._states.setdefault(name, RunnerState(name, self._total_steps))
        state.apply(event)
        if name in self._asked or state.steady_s < self.duration_s:
            return False
        self._asked.add(name)
        return True
