"""Runner state and its bounded series: what the panels, charts and summary read."""

from __future__ import annotations

import random
import statistics

import pytest

from runners.child import windows as windows_module
from runners.child.devices import DeviceMemory
from runners.protocol import Metrics, Phase
from runners.session.state.series import Quantiles, StepSeries
from runners.session.state.runner_state import RunnerState


def window(first, last, losses, window_s, warmup=False, t=100.0):
    return Metrics("keras/jax", first_step=first, step=last, losses=losses, window_s=window_s,
                   batch_size=8, warmup=warmup, t=t)


def test_state_orders_windows_by_step_not_arrival():
    state = RunnerState("keras/jax", total_steps=6)
    state.apply(window(3, 5, [0.4, 0.3, 0.2], 0.3))
    state.apply(window(0, 2, [2.0, 1.0, 0.5], 1.0, warmup=True))
    assert [b.first for b in state.loss.buckets()] == [0, 1, 2, 3, 4, 5]
    assert [b.mean for b in state.loss.buckets()] == [2.0, 1.0, 0.5, 0.4, 0.3, 0.2]
    assert state.steps_done == 6 and state.current_loss == 0.2 and state.first_loss == 2.0
    # Warm-up windows never count in steady state.
    assert state.median_step_time_s == pytest.approx(0.1, rel=3e-3) and state.warmup_s == 1.0
    assert state.mean_step_time_s == pytest.approx(0.1)
    assert state.samples_per_s == pytest.approx(3 * 8 / 0.3)


def test_each_step_gets_the_wall_time_it_ended():
    state = RunnerState("keras/jax", total_steps=4)
    state.apply(window(0, 3, [1.0, 0.9, 0.8, 0.7], 0.4, t=10.0))
    assert [b.t_end for b in state.loss.buckets()] == pytest.approx([9.7, 9.8, 9.9, 10.0])


def test_a_pause_is_left_out_of_every_timing_figure():
    state = RunnerState("torch", total_steps=30)
    state.apply(Phase("torch", "training", t=0.0))
    state.apply(window(0, 9, [1.0] * 10, 1.0, t=1.0))  # 0.1 s/step
    state.apply(Phase("torch", "paused", t=1.5))
    assert state.paused and state.phase == "paused"
    # A word the runner said just before it was stopped does not end the pause.
    state.apply(Phase("torch", "training", t=1.4))
    assert state.paused
    state.apply(Phase("torch", "resumed", t=9.5))
    assert state.phase == "training"
    state.apply(window(10, 19, [1.0] * 10, 8.8, t=9.8))  # straddles the pause: 8 s of it
    state.apply(window(20, 24, [1.0] * 5, 0.6, t=10.4))  # began 0.3 s after the pause: settling, left out too
    state.apply(window(25, 29, [1.0] * 5, 0.5, t=10.9))
    assert state.paused_windows == 1 and state.settling_windows == 1
    assert state.mean_step_time_s == pytest.approx(0.1)
    assert state.steady_steps == 15 and state.steps_done == 30


def test_the_steady_window_after_a_hand_over_is_left_out_only_if_it_began_while_the_runner_was_settling():
    state = RunnerState("torch", total_steps=100)
    state.apply(Phase("torch", "training", t=0.0))
    state.apply(window(0, 9, [1.0] * 10, 1.0, t=1.0))
    for turn_start in (10.0, 20.0):  # two hand-overs of fast steps: waiting 1 s before each turn start
        state.apply(Phase("torch", "waiting", t=turn_start - 1.0))
        state.apply(Phase("torch", "resumed", t=turn_start))
        first = state.steps_done
        state.apply(window(first, first + 1, [1.0] * 2, 1.2, t=turn_start + 0.2))  # spans the wait
        state.apply(window(first + 2, first + 11, [1.0] * 10, 1.3, t=turn_start + 1.5))  # began at +0.2: settling
        state.apply(window(first + 12, first + 21, [1.0] * 10, 1.0, t=turn_start + 2.5))
        state.apply(window(first + 22, first + 31, [1.0] * 10, 1.0, t=turn_start + 3.5))
    assert state.turn == 2 and state.paused_windows == 2 and state.settling_windows == 2
    assert state.steady_steps == 10 + 2 * 20 and state.mean_step_time_s == pytest.approx(0.1)
    # The paired intervals read the same windows: turns 1 and 2, two timed windows each, 0.1 s a step.
    assert state.turn_steps == {0: [10, 1.0], 1: [20, 2.0], 2: [20, 2.0]}
    # A slow step (resnet18 on a CPU): the runner settled inside the window that spans the wait; the next counts.
    state.apply(Phase("torch", "waiting", t=29.0))
    state.apply(Phase("torch", "resumed", t=30.0))
    first = state.steps_done
    state.apply(window(first, first, [1.0], 2.0, t=31.0))  # spans the wait: one step of 1 s after it
    state.apply(window(first + 1, first + 1, [1.0], 1.0, t=32.0))  # began 1 s after the resume: counted
    assert state.settling_windows == 2 and state.turn_steps[3] == [1, 1.0]


@pytest.mark.parametrize(("windows", "timed_s"), [
    # Fast steps (0.1 s): the window after the one that holds the wait began just after the resume: settling.
    (((9, 1.0), (19, 2.0), (29, 7.1), (39, 8.0), (49, 8.5)), 1.0 + 1.0 + 0.5),
    # Slow steps (1 s): the window that holds the wait ends a whole step after the resume; the next one counts.
    (((0, 1.0), (1, 2.0), (2, 8.0), (3, 9.0), (4, 10.0)), 1.0 + 1.0 + 1.0 + 1.0),
])
def test_the_runners_own_clock_leaves_out_the_same_windows_as_the_dashboard(monkeypatch, windows, timed_s):
    """A --duration run's evaluation schedule follows the runner's clock, its budget the dashboard's: the two must
    leave out the same windows, or the runner would evaluate past its last quarter. And a turn is not given back
    before it has timed a window."""
    monkeypatch.setattr(windows_module.time, "perf_counter", lambda: 0.0)
    asked_at: list[int] = []

    def at_window_edge():  # the launcher asks for the turn at every edge; it is given back after the second window
        asked_at.append(len(asked_at))
        return 2.05 if len(asked_at) == 2 else None

    monkeypatch.setattr(windows_module.turns, "at_window_edge", at_window_edge)
    reporter = windows_module.WindowReporter(lambda event: None, "torch", batch_size=8, steps=100, warmup_steps=0,
                                             interval_s=0.5, memory=lambda: (1, DeviceMemory()))
    reporter.begin()
    for last_step, now in windows:
        reporter.close(last_step, [1.0] * 10, now)
    assert reporter.steady_s == pytest.approx(timed_s)
    # Fast steps: not after the window that held the wait, nor after the settling one; again after a timed one.
    assert len(asked_at) == (3 if timed_s == 2.5 else 4)


def test_the_input_wait_leaves_out_the_pull_that_may_hold_the_runners_own_stop(monkeypatch):
    """SIGSTOP lands a moment after the runner stops itself: the next pull can hold the others' turns. Its wait is
    left out; the pulls around it count."""

    events = []
    stops = iter([None, 1.0])
    monkeypatch.setattr(windows_module.turns, "at_window_edge", lambda: next(stops, None))
    reporter = windows_module.WindowReporter(events.append, "torch", batch_size=8, steps=100, warmup_steps=0,
                                             interval_s=0.5, memory=lambda: (1, DeviceMemory()))
    reporter.begin()
    reporter.waited_for_input(0.1)
    reporter.close(4, [1.0] * 5, 0.5)
    reporter.waited_for_input(0.2)
    reporter.close(9, [1.0] * 5, 1.0)  # the runner gives its turn back here
    reporter.waited_for_input(13.0)  # the pull the stop landed in
    reporter.waited_for_input(0.1)
    reporter.close(14, [1.0] * 5, 15.0)
    assert [e.input_wait_s for e in events if hasattr(e, "input_wait_s")] == pytest.approx([0.1, 0.2, 0.1])


def test_a_wait_said_before_a_pause_and_read_after_it_does_not_count_the_pause_twice():
    # The runner said "waiting" at 2.0 as it gave its turn back, but p stopped it before that reached the pipe:
    # the dashboard reads the pause (2.1–5.0) first, the wait after the resume.
    state = RunnerState("keras/jax", total_steps=30)
    state.apply(Phase("keras/jax", "training", t=0.0))
    state.apply(Phase("keras/jax", "paused", t=2.1))
    state.apply(Phase("keras/jax", "resumed", t=5.0))
    state.apply(Phase("keras/jax", "waiting", t=2.0))
    state.apply(Phase("keras/jax", "resumed", t=7.0))
    assert state.held_seconds(0.0, 10.0) == pytest.approx(2.9 + 2.0)  # not 2.9 + 5.0
    assert state.turn == 1 and state.phase == "training"


def test_series_stays_bounded_and_keeps_the_envelope():
    series = StepSeries(capacity=64)
    rng = random.Random(1)
    values = [rng.uniform(0, 1) for _ in range(100_000)]
    values[77_777] = 5.0  # a spike must survive downsampling
    for step, value in enumerate(values):
        series.add(step, value, float(step))
    buckets = series.buckets()
    assert len(buckets) <= 64 and series.width >= 100_000 // 64
    assert max(b.high for b in buckets) == 5.0 and min(b.low for b in buckets) == min(values)
    assert sum(b.count for b in buckets) == len(values) == len(series)
    assert sum(b.total for b in buckets) == pytest.approx(sum(values))
    assert series.first == (0, values[0]) and series.last == (99_999, values[-1])


def test_series_is_exact_until_it_fills_and_order_free():
    series = StepSeries(capacity=16)
    for step in [5, 3, 9, 0, 1, 2, 4, 6, 7, 8]:
        series.add(step, float(step), 0.0)
    assert [b.mean for b in series.buckets()] == [float(i) for i in range(10)]
    means = [m for _, m in series.running_means(3)]
    assert means == pytest.approx([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])


def test_tail_mean_is_the_last_running_mean_however_coarse_the_buckets():
    rng = random.Random(3)
    for capacity, steps, span in [(16, 10, 3), (16, 1000, 10), (64, 5000, 1), (8, 50, 100)]:
        series = StepSeries(capacity=capacity)
        for step in range(steps):
            series.add(step, rng.uniform(0, 1), 0.0)
        assert series.tail_mean(span) == pytest.approx(series.running_means(span)[-1][1])
    assert StepSeries().tail_mean(10) is None


def test_quantiles_within_a_quarter_percent():
    rng = random.Random(2)
    values = [rng.lognormvariate(-3, 0.5) for _ in range(10_001)]
    q = Quantiles()
    for v in values:
        q.add(v)
    assert q.quantile(0.5) == pytest.approx(statistics.median(values), rel=3e-3)
    assert q.quantile(0.9) == pytest.approx(statistics.quantiles(values, n=10)[-1], rel=3e-3)
    assert len(q._counts) < 1000
    q.add(100.0)  # an answer is kept only until the next value
    assert q.quantile(0.5) == pytest.approx(statistics.median(values + [100.0]), rel=3e-3)


def test_bucket_order_stays_right_whether_steps_come_in_order_or_not():
    """buckets() keeps its sorted list while steps arrive in order and rebuilds it when one does not."""
    rng = random.Random(4)
    steps = list(range(300)) + [rng.randrange(300) for _ in range(50)] + list(range(300, 700))
    steps[120:130] = reversed(steps[120:130])
    series = StepSeries(capacity=64)
    for step in steps:
        series.add(step, rng.uniform(0, 1), float(step))
        listed = series.buckets()
        assert listed == sorted(series._buckets.values(), key=lambda b: b.first)
        assert [b.first // series.width for b in listed] == sorted(series._buckets)


def test_a_runner_whose_process_just_went_keeps_its_last_host_sample():
    """Runners leave the moment their last event is written: a sample taken before the dashboard reads that event
    finds no process, and must not wipe the CPU and memory the panel ends with."""
    from runners.session.monitoring.process_monitor import HostSample

    state = RunnerState("torch", 10)
    state.sampled(HostSample(cpu_percent=97.0, rss_bytes=300 * 2**20), None)
    state.sampled(None, None)
    assert state.host == HostSample(cpu_percent=97.0, rss_bytes=300 * 2**20)
    assert state.peak_rss_bytes == 300 * 2**20


def test_one_observer_folds_events_and_samples_for_every_view():
    """What the dashboard and headless both hold: a restart forgets the runner's past (state and parity), and a
    sample reaches only the runners still going, with whom each shares a device (headless had dropped that)."""
    from runners.protocol import Hello, Phase
    from runners.session.monitoring.process_monitor import HostSample
    from runners.session.observer import RunObserver, Sample
    from runners.session.state.runner_state import RunnerState

    class Source:
        runner_names = ["torch", "keras/jax"]

        def new_state(self, name):
            return RunnerState(name, 10)

    observer = RunObserver(Source(), gpu_monitor=type("NoGpu", (), {"close": lambda self: None})())
    hello = Hello("torch", pid=1, framework="torch", backend="torch", versions={}, device="cpu", params=7, threads=1,
                  cpus=[0])
    state, parity_moved = observer.fold(hello)
    assert state is observer.states["torch"] and parity_moved and observer.parity.facts["torch"].params == 7
    observer.fold(Phase("keras/jax", "done"))
    observer.fold(Phase("torch", "restarting"))
    assert observer.states["torch"].hello is None and observer.parity.facts["torch"].params is None
    assert observer.fold(Phase("someone else", "done")) == (None, False)
    sample = Sample({"torch": HostSample(cpu_percent=90.0, rss_bytes=2**20), "keras/jax": HostSample(50.0, 2**20)},
                    None, {"torch": ["keras/jax"], "keras/jax": ["torch"]})
    assert observer.take(sample) == ["torch"]  # keras/jax has ended: it keeps its last figures
    assert observer.states["torch"].sharing_with == ["keras/jax"] and observer.states["keras/jax"].host is None


def test_the_parity_floors_time_is_not_the_runners_start_up():
    """The PyTorch reference trains an extra perturbed model before its own (the noise floor): that is kvp-dash's
    work, so start-up leaves it out as it leaves out waiting for a turn."""
    from runners.protocol import NoiseFloor, Phase
    from runners.session.state.runner_state import RunnerState

    state = RunnerState("torch", 10)
    state.apply(Phase("torch", "importing", t=100.0))
    state.apply(Phase("torch", "building", t=102.0))
    state.apply(NoiseFloor("torch", losses=[2.3] * 6, perturbation=1e-7, seconds=5.0, t=108.0))
    state.apply(Phase("torch", "warmup", t=109.0))
    assert state.startup_s == 9.0 - 5.0
