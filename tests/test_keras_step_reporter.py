"""Keras's batch callbacks, as fit() delivers them on worker threads, turned into windows: out of order, and with
clock reads that do not follow the steps' order."""

from __future__ import annotations

import pytest

from runners.child.devices import DeviceMemory
from runners.child.windows import WindowReporter
from runners.protocol import Metrics

keras_runner = pytest.importorskip("runners.child.keras3.runner")


class Clock:
    """Stands in for time.perf_counter: each callback reads the time the test says."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _reporter_and_events(monkeypatch, steps: int):
    clock = Clock()
    monkeypatch.setattr(keras_runner.time, "perf_counter", clock)
    events = []
    windows = WindowReporter(events.append, "keras/jax", batch_size=4, steps=steps, warmup_steps=0, interval_s=0.5,
                             memory=lambda: (1, DeviceMemory()))
    reporter = keras_runner.StepReporter(windows, crash_at_step=None)
    reporter.on_train_begin()
    reporter.on_epoch_begin(0)
    return clock, reporter, windows, events


def _end(reporter, clock, batch: int, at: float, loss: float = 1.0) -> None:
    clock.now = at
    reporter.on_train_batch_end(batch, {"loss": loss})


def test_a_step_whose_callback_read_the_clock_late_ends_no_later_than_the_next_one(monkeypatch):
    """Seen in a --duration run taking turns: step 618's callback read the clock before the hand-over's stop,
    step 617's only after the resume, half a second later; the window closed at 618 came out at -0.524 s and took
    that off the runner's steady time."""
    clock, reporter, windows, events = _reporter_and_events(monkeypatch, steps=10)
    _end(reporter, clock, 0, at=0.6)  # closes a window (0.5 s interval)
    _end(reporter, clock, 2, at=0.7)  # step 2 ended by 0.7 ...
    _end(reporter, clock, 1, at=5.0)  # ... so step 1 did too, whatever its late clock read says
    _end(reporter, clock, 3, at=5.2)
    windows_s = [e.window_s for e in events if isinstance(e, Metrics)]
    assert all(w >= 0 for w in windows_s), windows_s
    assert [(e.first_step, e.step) for e in events if isinstance(e, Metrics)] == [(0, 0), (1, 3)]
    assert windows.steady_s == pytest.approx(5.2)  # the two windows, end to end: no time lost or counted twice


def test_a_late_clock_read_taken_before_the_next_step_arrives_never_makes_a_negative_window(monkeypatch):
    """The other order: the late read is taken at once (its step was next), the next step's earlier read after it.
    That window cannot be reopened; the last one closes no earlier than it began."""
    clock, reporter, windows, events = _reporter_and_events(monkeypatch, steps=3)
    _end(reporter, clock, 0, at=0.6)
    _end(reporter, clock, 1, at=5.0)  # closes a window at 5.0
    _end(reporter, clock, 2, at=0.7)  # the last step closes the last window
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [(e.first_step, e.step) for e in metrics] == [(0, 0), (1, 1), (2, 2)]
    assert [e.window_s for e in metrics] == pytest.approx([0.6, 4.4, 0.0])
    assert windows.steady_s == pytest.approx(5.0)
