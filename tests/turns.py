"""Checks of the interleaved schedule on real runners (used by test_app and test_controls): one runner
trains at a time, and no figure counts the waiting."""
from __future__ import annotations

import threading
import time

from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import standings

SLICE_S = 0.5  # a few 50 ms windows a turn (tiny_launcher reports every 50 ms)


class ProcessWatch:
    """Samples /proc/<pid>/stat of every runner whose start-up has begun, every 10 ms, on a thread."""

    def __init__(self, launcher, states):
        self.launcher, self.states = launcher, states
        self.samples = 0
        self.overlaps: list[tuple[float, list[str]]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(0.01):
            running = []
            for name, pid in self.launcher.pids().items():
                if "importing" not in self.states[name].phase_since:
                    continue  # not yet given its first turn: a process may be on its way to stopping itself
                try:
                    with open(f"/proc/{pid}/stat") as stat:
                        state = stat.read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue  # gone
                if state in ("R", "S", "D"):  # not stopped (T), not a zombie (Z)
                    running.append(name)
            self.samples += 1
            if len(running) > 1:
                self.overlaps.append((time.monotonic(), running))


def check_figures_leave_the_waiting_out(states: dict[str, RunnerState], wall_s: float) -> None:
    own = {}
    for name, state in states.items():
        assert state.phase == "done", (name, state.error)
        assert len(state.turn_rates()) >= 2, (name, state.turn_steps)  # several turns with steady windows
        assert state.paused_windows >= 1  # the windows that spanned a hand-over were left out
        waited = state.held_seconds(state.phase_since["importing"], state.phase_since["done"])
        assert waited > SLICE_S
        # Start-up, warm-up and steady time all fit in the time it had the machine to itself.
        own[name] = state.startup_s + state.warmup_s + state.steady_s
        mine = state.phase_since["done"] - state.phase_since["importing"] - waited
        assert own[name] <= mine * 1.02 + 0.05, (name, own[name], mine)
    # One at a time: the runners' own times add up to no more than the run's wall time.
    assert sum(own.values()) <= wall_s, (own, wall_s)
    table = standings(states.values())
    for row in table[1:]:
        assert row.turns >= 2 and row.slower_low is not None, (row, {n: s.steady_state for n, s in states.items()})
        assert row.slower_low <= row.slower_by * 1.25 and row.slower_high >= row.slower_by / 1.25
