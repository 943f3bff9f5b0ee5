"""The interval code against distributions with a known answer."""

from __future__ import annotations

import random

from runners.session.verdict.confidence import describe, paired_ratio, spread


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
    assert one.value == 2.0 and one.low is None and not one.clear
    assert describe(one) == "1 paired turn: too few for an interval"
    two = paired_ratio({0: 100.0, 1: 90.0}, {0: 50.0, 1: 60.0})
    assert two.low is None and describe(two) == "2 paired turns: too few for an interval"
    assert paired_ratio({0: 100.0}, {1: 50.0}) is None
    assert spread({0: 1.0}) is None


def taking_turns(name: str, step_s: list[float], steps: list[int]):
    """A runner's state after one steady window per turn, told as the launcher and the runner tell it:
    wait, the turn comes, a window of ``steps[k]`` steps of ``step_s[k]`` seconds each."""
    from runners.protocol import Hello, Metrics, Phase
    from runners.session.state.runner_state import RunnerState

    state = RunnerState(name, total_steps=sum(steps))
    framework, _, backend = name.partition("/")
    state.apply(Phase(name, "importing", t=0.0))
    state.apply(Hello(name, pid=1, framework=framework, backend=backend or "torch", versions={}, device="cpu",
                      params=1, threads=1, cpus=[0]))
    t, first = 1.0, 0
    for seconds_per_step, count in zip(step_s, steps):
        state.apply(Phase(name, "waiting", t=t))
        t += 5.0
        state.apply(Phase(name, "resumed", t=t))
        seconds = count * seconds_per_step
        state.apply(Metrics(name, first_step=first, step=first + count - 1, losses=[1.0] * count, window_s=seconds,
                            batch_size=8, warmup=False, t=t + seconds + 0.001))
        t, first = t + seconds + 0.01, first + count
    state.apply(Phase(name, "done", t=t))
    return state


def test_the_verdict_states_the_interval_of_the_ratio_as_it_reads():
    """PyTorch faster than the best Keras backend: "torch … 1.30× faster than keras/jax (95 % CI > 1)"."""
    from runners.session.verdict.summary import standings, verdict

    def jittered(step_s: float, seed: int) -> list[float]:
        rng = random.Random(seed)
        return [step_s * rng.uniform(0.97, 1.03) for _ in range(6)]

    states = [taking_turns("keras/jax", jittered(0.013, 1), [10] * 6), taking_turns("torch", jittered(0.010, 2), [10] * 6)]
    assert len(states[0].turn_rates()) == 6
    text = verdict(states, standings(states), "mlp", 8, "cpu")
    assert text.startswith("torch trained mlp ") and " faster than keras/jax " in text, text
    value = float(text.split("torch trained mlp ")[1].split("×")[0])
    low, high = (float(v) for v in text.split("95 % CI ")[1].split(" over")[0].split("–"))
    assert 1.0 < low < value < high < 1.6 and 1.2 < value < 1.4 and "over 6 turns" in text


def test_the_leaderboard_shows_the_verdicts_ratio_inside_its_own_interval():
    """Turns of unequal length weigh unequally in whole-run throughputs, not in the paired estimate: the
    leaderboard's "× slower" is the paired one, the centre of the interval beside it, as the verdict says it."""
    from runners.session.verdict.summary import keras_against_pytorch, standings

    # keras/jax: one long slow turn, then five short quicker ones; torch steady and faster than both.
    keras = taking_turns("keras/jax", [0.02] + [0.012] * 5, [200] + [10] * 5)
    torch = taking_turns("torch", [0.011] * 6, [10] * 6)
    table = standings([keras, torch])
    plain = table[0].throughput / table[1].throughput
    paired = keras_against_pytorch([keras, torch], table)[0][2]
    behind = table[1]
    assert behind.runner == "keras/jax" and abs(plain - paired.inverted().value) > 0.3  # the two estimators differ
    assert behind.slower_by == paired.inverted().value
    assert behind.slower_low < behind.slower_by < behind.slower_high


def test_the_rank_follows_the_paired_estimate_when_it_puts_another_runner_ahead():
    """One long slow turn makes keras/jax slower by whole-run throughput, while turn by turn it is mostly the
    faster: the ranking, the "× slower" beside it and the verdict all follow the paired estimate, so no
    second-ranked runner reads "0.85× slower"."""
    from runners.session.verdict.summary import keras_against_pytorch, standings, verdict

    keras = taking_turns("keras/jax", [0.02] + [0.008] * 5, [200] + [10] * 5)
    torch = taking_turns("torch", [0.011] * 6, [10] * 6)
    assert torch.throughput[0] > keras.throughput[0]  # by whole-run throughput torch is ahead
    table = standings([torch, keras])
    assert [s.runner for s in table] == ["keras/jax", "torch"]
    assert table[1].slower_by > 1 and table[1].slower_low < table[1].slower_by < table[1].slower_high
    paired = keras_against_pytorch([keras, torch], table)[0][2]
    assert table[1].slower_by == paired.value
    assert verdict([keras, torch], table, "mlp", 8, "cpu").startswith(
        f"no clear difference between keras/jax and torch on mlp at batch 8 on cpu: keras/jax {paired.value:.2f}× "
        "faster")


def test_an_unclear_verdict_names_the_faster_first_with_the_ratio_the_leaderboard_shows():
    """torch 1.13× faster than keras/tensorflow with an interval holding 1.00: the sentence reads it that way
    round (it read "between keras/tensorflow and torch: 0.89× (0.71–1.11)", the leaderboard's figures inverted)."""
    from runners.session.verdict.confidence import Ratio
    from runners.session.verdict.summary import Standing, comparison

    same = dict(phase="done", unit="samples/s", startup_s=None, warmup_s=0.5, peak_rss_bytes=None,
                peak_device_bytes=None, final_loss=None, tflops=None, mfu=None, error=None)
    keras = Standing(rank=2, runner="keras/tensorflow", step_time_s=0.29, throughput=55.1, slower_by=1.13, **same)
    torch = Standing(rank=1, runner="torch", step_time_s=0.25, throughput=64.0, slower_by=1.0, **same)
    keras_over_torch = Ratio(1 / 1.13, 1 / 1.40, 1 / 0.90, 9)
    assert comparison(keras, torch, keras_over_torch, "resnet18", 16, "cpu") == (
        "no clear difference between torch and keras/tensorflow on resnet18 at batch 16 on cpu: torch 1.13× faster "
        "(95 % CI 0.90–1.40 over 9 turns)")


def test_with_two_pairs_the_verdict_says_the_leaderboards_plain_ratio():
    """Below three pairs there is no interval and the leaderboard shows the whole-run ratio: the verdict says
    that same number (and that the pairs are too few), not a paired mean the screen shows nowhere."""
    from runners.session.verdict.summary import standings, verdict

    keras = taking_turns("keras/jax", [0.02, 0.012], [200, 10])
    torch = taking_turns("torch", [0.011, 0.011], [10, 10])
    table = standings([keras, torch])
    assert [s.runner for s in table] == ["torch", "keras/jax"] and table[1].slower_low is None
    assert verdict([keras, torch], table, "mlp", 8, "cpu").startswith(
        f"torch trained mlp {table[1].slower_by:.2f}× faster than keras/jax at batch 8 on cpu "
        "(2 paired turns: too few for an interval)")


def test_the_steal_adjusted_ratio_recovers_the_ratio_where_both_sides_lost_the_same():
    """The agreement benchmark's adjustment (benchmarks/pairing.py) against a known answer: pairs whose log-ratio
    is 2 × the difference in steal between their sides plus noise, a true ratio of 1.00 where both lost the same.
    The plain paired ratio carries the steal (here more often on the measured side); the adjusted one does not."""
    import math

    from benchmarks.pairing import adjusted_ratio
    from runners.session.verdict.confidence import paired_ratio

    rng = random.Random(7)
    difference = {k: rng.choice([0.0, 0.1, 0.2, 0.1, -0.05]) for k in range(60)}
    measured = {k: math.exp(2 * d + rng.gauss(0, 0.02)) for k, d in difference.items()}
    reference = {k: 1.0 for k in difference}
    plain = paired_ratio(measured, reference)
    adjusted = adjusted_ratio(measured, reference, difference)
    assert plain.low > 1.0 and plain.value > 1.05  # the steal reads as a slow first half
    assert adjusted.pairs == 60 and adjusted.low < 1.0 < adjusted.high and adjusted.high - adjusted.low < 0.03
    # With nothing to fit (no steal anywhere) it is the plain paired ratio.
    assert adjusted_ratio(measured, reference, {k: 0.0 for k in difference}) == plain
