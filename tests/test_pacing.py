"""The dashboard's pacing, without Textual: which frame is due and what it redraws."""

from __future__ import annotations

from tui.pacing import CHART_CPU_SHARE, FramePacer

RUNNERS = ["keras/jax", "torch"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pacer(refresh_hz: float = 4, animate: bool = True) -> tuple[FramePacer, Clock]:
    clock = Clock()
    return FramePacer(RUNNERS, refresh_hz, animate, clock=clock), clock


def test_the_first_frame_draws_everything_and_then_only_what_changed():
    p, clock = pacer()
    first = p.next_frame(active=[], stale=[])
    assert first.panels == set(RUNNERS) and first.leaderboard and first.charts and first.parity
    clock.now += 0.1
    p.runner_changed("torch")
    second = p.next_frame(active=[], stale=[])
    assert second.panels == {"torch"} and not second.parity
    # New data for the charts and leaderboard, but each waits for its own once-a-second turn.
    assert not second.leaderboard and not second.charts
    clock.now += 1.0
    p.runner_changed("torch", parity=True)
    third = p.next_frame(active=[], stale=[])
    assert third.leaderboard and third.charts and third.parity


def test_data_frames_wait_half_an_interval_at_most():
    p, clock = pacer(refresh_hz=4)
    assert p.data_frame_delay() == 0.0
    p.data_frame_started()
    clock.now += 0.05
    assert abs(p.data_frame_delay() - (0.125 - 0.05)) < 1e-9
    clock.now += 0.1
    assert p.data_frame_delay() == 0.0


def test_the_clock_draws_only_when_something_waits_and_no_frame_came_for_an_interval():
    p, clock = pacer(refresh_hz=4)
    p.next_frame(active=[], stale=[])
    clock.now += 0.1
    assert not p.clock_frame_wanted(spinning=True, stale=True)  # a frame came 0.1 s ago
    clock.now += 0.2
    assert not p.clock_frame_wanted(spinning=False, stale=False)  # nothing waits
    assert p.clock_frame_wanted(spinning=True, stale=False)
    assert p.clock_frame_wanted(spinning=False, stale=True)
    still, clock2 = pacer(refresh_hz=4, animate=False)
    still.next_frame(active=[], stale=[])
    clock2.now += 1.0
    assert not still.clock_frame_wanted(spinning=True, stale=False)  # still spinners never ask for a frame


def test_spinners_turn_only_when_animated_and_active_panels_redraw():
    p, clock = pacer()
    p.next_frame(active=[], stale=[])
    clock.now += 0.3
    frame = p.next_frame(active=["keras/jax"], stale=[])
    assert frame.panels == {"keras/jax"} and frame.spinner == 2
    still, _ = pacer(animate=False)
    assert still.next_frame(active=["keras/jax"], stale=[]).spinner is None


def test_slow_rows_come_once_a_second_or_when_asked():
    p, clock = pacer()
    p.next_frame(active=[], stale=[])
    clock.now += 0.5
    frame = p.next_frame(active=[], stale=["torch"])
    assert not frame.figures and not frame.panels
    clock.now += 0.6
    frame = p.next_frame(active=[], stale=["torch"])
    assert frame.figures and frame.panels == {"torch"}
    assert p.next_frame(active=[], stale=["torch"], figures=True).figures


def test_charts_are_held_to_their_share_of_a_core():
    p, clock = pacer()
    p.next_frame(active=[], stale=[])
    p.charts_cost_s = 0.05  # a charts' frame that cost 50 ms: at 0.5 % of a core, one every 10 s
    for seconds in (1.5, 5.0, 9.0):
        clock.now = 1000.0 + seconds
        p.runner_changed("torch")
        assert not p.next_frame(active=[], stale=[]).charts, seconds
    clock.now = 1000.0 + 0.05 / CHART_CPU_SHARE
    p.runner_changed("torch")
    assert p.next_frame(active=[], stale=[]).charts
    clock.now += 0.1
    p.charts_changed()
    assert p.next_frame(active=[], stale=[], force_charts=True).charts  # a key redraws them at once
    clock.now += 0.1
    assert not p.next_frame(active=[], stale=[], force_charts=True).charts  # nothing new: nothing to draw
