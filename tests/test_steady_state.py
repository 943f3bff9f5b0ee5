"""Steady state found by changepoint analysis: each kind on series with a known answer, and the figures
taken from where it starts."""

from __future__ import annotations

import random

import pytest

from runners.protocol import Metrics, Phase
from runners.session.state.runner_state import RunnerState
from runners.session.state.steady_state import FLAT, MIN_BLOCKS, NONE, SLOWDOWN, TOO_FEW, WARMUP, classify
from runners.session.verdict.summary import standings, verdict


def _series(seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)

    def noisy(seconds: float, count: int) -> list[float]:
        return [seconds * rng.lognormvariate(0, 0.05) for _ in range(count)]

    return {
        FLAT: noisy(0.01, 200),
        WARMUP: noisy(0.02, 40) + noisy(0.01, 200),  # twice as slow while caches and autotuning settle
        SLOWDOWN: noisy(0.01, 200) + noisy(0.013, 100),  # 30 % slower from window 200 on
        NONE: [0.01 * (1 + i / 100) * rng.lognormvariate(0, 0.03) for i in range(200)],  # twice as slow by the end
    }


@pytest.mark.parametrize("seed", range(5))
def test_each_kind_is_told_apart_and_starts_where_it_changed(seed):
    found = {kind: classify(series) for kind, series in _series(seed).items()}
    assert {kind: state.kind for kind, state in found.items()} == {k: k for k in found}
    assert found[FLAT].start == 0 and found[NONE].start == 0
    assert 36 <= found[WARMUP].start <= 44 and 196 <= found[SLOWDOWN].start <= 204


def test_an_isolated_stall_at_the_end_is_not_a_change():
    """Seen on keras/tensorflow (2026-12-05): a flat run whose last half-second held a 6× stall (an epoch
    start's tf.data pause) was called "no steady state" before spikes were set aside."""
    series = _series(3)[FLAT]
    assert classify(series[:-1] + [0.06]).kind == FLAT
    assert classify(series[:100] + [0.06] + series[100:]).kind == FLAT


def test_a_drift_smaller_than_the_machines_is_not_a_change():
    rng = random.Random(7)
    drift = [0.01 * (1.06 if (i // 20) % 2 else 1.0) * rng.lognormvariate(0, 0.05) for i in range(240)]
    assert classify(drift).kind == FLAT
    assert classify(drift[:MIN_BLOCKS - 1]).kind == TOO_FEW


def _window(step: int, seconds_per_step: float, t: float) -> Metrics:
    return Metrics("torch", first_step=step, step=step + 9, losses=[1.0] * 10, window_s=10 * seconds_per_step,
                   batch_size=4, warmup=False, rss_bytes=0, device_bytes=None, device_peak_bytes=None,
                   device_reserved_bytes=None, t=t)


def _state(step_times: list[float]) -> RunnerState:
    state = RunnerState("torch", 10**9)
    state.apply(Phase("torch", "training", t=0.0))
    t = 0.0
    for index, seconds in enumerate(step_times):
        t += 10 * seconds
        state.apply(_window(10 * index, seconds, t))
    return state


def test_the_figures_start_at_the_steady_state_and_the_budget_keeps_every_timed_window():
    series = _series(1)[WARMUP]
    state = _state(series)
    start = state.steady_state.start
    assert state.steady_state.kind == WARMUP and start > 0
    assert state.steady_steps == 10 * (len(series) - start)
    assert state.steady_s == pytest.approx(sum(10 * s for s in series[start:]))
    assert state.timed_s == pytest.approx(sum(10 * s for s in series))  # --duration's clock counts them all
    assert state.median_step_time_s == pytest.approx(sorted(series[start:])[(len(series) - start + 1) // 2 - 1],
                                                     rel=0.01)
    assert state.turn_steps == {0: [10 * (len(series) - start), pytest.approx(state.steady_s)]}


def test_a_runner_with_no_steady_state_is_marked_in_the_standings_and_the_verdict():
    state = _state(_series(2)[NONE])
    state.apply(Phase("torch", "done", t=1e6))
    table = standings([state])
    assert table[0].steady_state == NONE
    assert "no steady state: torch (its step time kept changing to the end" in verdict([state], table, "mlp", 4,
                                                                                       "cpu")
