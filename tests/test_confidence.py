"""The interval code against distributions with a known answer."""

from __future__ import annotations

import random

from runners.session.confidence import describe, paired_ratio, spread


def turns(ratio: float, count: int, noise: float, seed: int) -> tuple[dict[int, float], dict[int, float]]:
    """Two runners' per-turn throughputs: the second ``ratio`` times slower, both moved by the same drift per
    round (the machine's) and by their own noise."""
    rng = random.Random(seed)
    first, second = {}, {}
    for turn in range(count):
        drift = rng.uniform(0.7, 1.3)  # the shared machine speeds up and slows down: pairing cancels it
        first[turn] = 1000 * drift * rng.lognormvariate(0, noise)
        second[turn] = 1000 / ratio * drift * rng.lognormvariate(0, noise)
    return first, second


def test_equal_runners_get_an_interval_that_holds_one():
    held = 0
    for seed in range(40):
        ratio = paired_ratio(*turns(1.0, 12, 0.05, seed))
        assert ratio.pairs == 12 and ratio.low < ratio.value < ratio.high
        held += ratio.low <= 1.0 <= ratio.high
        assert not ratio.clear or not (ratio.low <= 1.0 <= ratio.high)
    assert held >= 34  # a 95 % interval holds the truth in about 38 of 40 runs


def test_a_runner_twice_as_slow_gets_an_interval_around_two():
    held = 0
    for seed in range(20):
        ratio = paired_ratio(*turns(2.0, 10, 0.05, seed))
        assert ratio.clear and 1.7 < ratio.low <= ratio.value <= ratio.high < 2.3, ratio
        held += ratio.low <= 2.0 <= ratio.high
        assert "95 % CI" in describe(ratio) and "over 10 turns" in describe(ratio)
        back = ratio.inverted()
        assert abs(back.value * ratio.value - 1) < 1e-9 and abs(back.low * ratio.high - 1) < 1e-9
    assert held >= 16


def test_pairing_cancels_the_drift_that_the_unpaired_ratio_suffers():
    first, second = turns(1.5, 8, 0.01, seed=3)
    ratio = paired_ratio(first, second)
    assert ratio.high / ratio.low < 1.05  # tight: the drift (±30 %) moved both runners of a pair alike
    assert spread(first) > 0.1  # while each runner's own turn-to-turn spread is wide


def test_too_few_turns_give_no_interval_and_unshared_turns_no_ratio():
    one = paired_ratio({0: 100.0}, {0: 50.0})
    assert one.value == 2.0 and one.low is None and not one.clear and "no interval" in describe(one)
    assert paired_ratio({0: 100.0}, {1: 50.0}) is None
    assert spread({0: 1.0}) is None
