"""--until ±X%: the precision judged on the headline pairs, the time left estimated from them, and real runs that
end once sure or say how far their cap let them get."""

from __future__ import annotations

import json
import math
import random
import statistics

from runners.protocol import Metrics, Phase
from runners.session.record.finished_run import read_run
from runners.session.launching.endings import PrecisionGoal
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.confidence import paired_ratio, t_quantile
from runners.session.verdict.precision import MIN_SURE_PAIRS, headline_pairs, pairs_needed, precision_now, side_by_side
from tests.test_headless import headless

ROUND_S = 4.0  # wall seconds from one of a runner's turns to its next, in the simulated rounds


def _turns(rates: dict[str, list[float]]) -> list:
    """The events of an interleaved run: every runner waits, then each round each takes a 1-s turn of two 0.5-s
    windows at its rate (samples/s, batch 10), one after another, ``ROUND_S`` seconds a round."""
    events, names = [], list(rates)
    for name in names:
        events += [Phase(name, "warmup", t=0.0), Phase(name, "training", t=0.1), Phase(name, "waiting", t=0.2)]
    step = {name: 0 for name in names}
    for k in range(len(rates[names[0]])):
        for i, name in enumerate(names):
            start = 10.0 + k * ROUND_S + i * ROUND_S / len(names)
            events.append(Phase(name, "resumed", t=start))
            for w in range(3):  # the first window after a hand-over settles: left out
                seconds = 5 / rates[name][k]
                events.append(Metrics(name, first_step=step[name], step=step[name] + 4, losses=[1.0] * 5,
                                      window_s=seconds, batch_size=1, warmup=False, rss_bytes=0, device_bytes=None,
                                      device_peak_bytes=None, device_reserved_bytes=None, t=start + 0.5 + 0.5 * w))
                step[name] += 5
            events.append(Phase(name, "waiting", t=start + 2.0))
    return events


def _states(rates: dict[str, list[float]]) -> list[RunnerState]:
    states = {name: RunnerState(name, 10**9) for name in rates}
    for event in _turns(rates):
        states[event.runner].apply(event)
    return list(states.values())


def _noisy(ratio: float, count: int, noise: float, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    drift = [rng.uniform(0.8, 1.2) for _ in range(count)]  # the machine, shared by a round's turns
    return {"keras/jax": [1000 * ratio * d * rng.lognormvariate(0, noise) for d in drift],
            "torch": [1000 * d * rng.lognormvariate(0, noise) for d in drift],
            "keras/torch": [500 * d * rng.lognormvariate(0, noise) for d in drift]}


def test_the_half_width_is_the_headline_intervals_and_the_time_left_follows_the_pairs_needed():
    states = _states(_noisy(1.3, 8, 0.08, seed=1))
    by = {s.name: s for s in states}
    # The verdict's comparison: the best Keras backend against native PyTorch (keras/torch is not headline).
    assert [(a.name, b.name) for a, b in headline_pairs(states)] == [("keras/jax", "torch")]
    ratio = paired_ratio(by["keras/jax"].turn_rates(), by["torch"].turn_rates())
    precision = precision_now(states, 0.01)
    assert precision.pairs == ratio.pairs == 8
    assert math.isclose(precision.half_width, math.sqrt(ratio.high / ratio.low) - 1, rel_tol=1e-9)
    assert not precision.reached and "now · about" in precision.describe()
    # The time left: the rounds still to go at the pace of those so far.
    logs = [math.log(by["keras/jax"].turn_rates()[k] / by["torch"].turn_rates()[k]) for k in range(1, 9)]
    needed = pairs_needed(statistics.stdev(logs), 0.01)
    assert math.isclose(precision.seconds_left, (needed - 8) * ROUND_S, rel_tol=1e-6)
    wide = precision_now(states, precision.half_width * 1.01)
    assert wide.reached and wide.seconds_left == 0 and "within ±" in wide.describe()


def test_pairs_needed_is_the_fewest_whose_t_interval_is_within_the_target():
    for sd, target in ((0.05, 0.05), (0.12, 0.05), (0.12, 0.02), (0.3, 0.1)):
        n = pairs_needed(sd, target)
        assert t_quantile(0.95, n - 1) * sd / math.sqrt(n) <= math.log1p(target)
        assert n == 3 or t_quantile(0.95, n - 2) * sd / math.sqrt(n - 1) > math.log1p(target)  # one fewer: not


def test_too_few_pairs_have_no_figure_and_say_so():
    precision = precision_now(_states(_noisy(1.3, 2, 0.05, seed=2)), 0.05)
    assert precision.half_width is None and not precision.reached and precision.seconds_left is None
    assert "2 paired turns so far, 3 for an interval" in precision.describe()
    assert "too few for an interval" in precision.outcome()


def test_an_interval_within_the_target_on_few_pairs_is_not_yet_sure():
    """Stopping on the first narrow interval of three pairs would favour intervals narrow by chance."""
    states = _states(_noisy(1.3, MIN_SURE_PAIRS - 2, 0.01, seed=4))
    precision = precision_now(states, 0.5)
    assert precision.half_width < 0.5 and not precision.reached and precision.seconds_left > 0
    assert "2 more paired turns before it counts as sure (±50 %)" in precision.describe()
    assert precision_now(_states(_noisy(1.3, MIN_SURE_PAIRS, 0.01, seed=4)), 0.5).reached


def test_the_goal_asks_every_process_to_finish_once_when_sure():
    goal = PrecisionGoal(0.10, total_steps=10**9)
    asked, at = [], None
    for index, event in enumerate(_turns(_noisy(1.3, 12, 0.02, seed=3))):
        names = goal.to_finish(event)
        if names:
            asked.append(names)
            at = index
    assert asked == [["keras/jax", "torch", "keras/torch"]]  # all of them, once
    assert at is not None and isinstance(_turns(_noisy(1.3, 12, 0.02, seed=3))[at], Phase)


def test_a_run_until_sure_ends_when_sure_and_says_so(tmp_path):
    """Real runners, a wide target that a few turns reach on a quiet machine (16 s here, against a 40 s cap)."""
    process = headless(tmp_path, "--runners", "torch,keras/jax", "--until", "40%", "--duration", "40",
                       "--slice", "1", schedule="interleaved")
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    folder = next(tmp_path.glob("*-mlp"))
    summary = json.loads((folder / "summary.json").read_text())
    until = summary["until"]
    assert summary["schema"] >= 1 and until["pairs"] >= 1 and "precision · " in out
    run = json.loads((folder / "run.json").read_text())
    assert run["config"]["until"] == 0.40  # replay and attach show the same precision
    steady_s = {name: _steady_seconds(folder, name) for name in ("torch", "keras/jax")}
    if until["reached"]:
        assert until["half_width"] <= 0.40 and until["pairs"] >= MIN_SURE_PAIRS and "within ±40 %" in out
        assert "sure to ±" in summary["verdict"] and "(--until ±40 %)" in summary["verdict"]
        assert min(steady_s.values()) < 40 * 0.8, steady_s  # it ended because it was sure, long before its cap
    else:  # the other test worker starved this one's turns (torch's threads stall on a shared core)
        assert min(steady_s.values()) >= 40 * 0.9 and "--until ±40 % not reached" in summary["verdict"]


def _steady_seconds(folder, runner: str) -> float:
    return read_run(folder).states[runner].steady_s


def test_a_run_whose_cap_runs_out_says_how_far_it_got_and_how_long_the_rest_takes(tmp_path):
    process = headless(tmp_path, "--runners", "torch,keras/jax", "--until", "0.1%", "--duration", "3",
                       "--slice", "0.5", schedule="interleaved")
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    summary = json.loads(next(tmp_path.glob("*-mlp/summary.json")).read_text())
    assert not summary["until"]["reached"]
    assert "--until ±0.1 % not reached" in summary["verdict"]
    if summary["until"]["half_width"] is not None:  # three pairs or more in 3 s each: the usual case
        assert "more would reach it on this machine" in summary["verdict"]
        assert summary["until"]["seconds_left"] > 0


def test_the_noise_probe_measures_paired_turns_of_real_runners_and_says_what_a_verdict_takes(monkeypatch):
    """doctor's probe, shortened: real keras/jax and torch runners taking turns on mlp."""
    from runners.session import machine_noise

    monkeypatch.setattr(machine_noise, "PROBE_SIZE", "tiny")
    monkeypatch.setattr(machine_noise, "PROBE_SLICE_S", 1.0)
    monkeypatch.setattr(machine_noise, "PROBE_DURATION_S", 6.0)
    assert machine_noise.probe_pair(["keras/tensorflow", "torch", "keras/jax"]) == ("keras/jax", "torch")
    assert machine_noise.probe_pair(["torch"]) is None
    noise = machine_noise.measure_noise(("keras/jax", "torch"), "cpu")
    assert noise is not None and noise.pairs >= 3 and noise.sd > 0 and noise.round_s > 2 * 1.0
    five, ten = noise.turns_for(0.05), noise.turns_for(0.10)
    assert five >= ten >= MIN_SURE_PAIRS
    assert t_quantile(0.95, five - 1) * noise.sd / math.sqrt(five) <= math.log1p(0.05) or five == MIN_SURE_PAIRS
    assert noise.seconds_for(0.05, runners=4) == 2 * noise.seconds_for(0.05, runners=2)
    lines = noise.sentences(runners=4)
    assert lines[1].startswith(f"on this machine a ±5 % verdict on mlp takes about {five} paired turns")


def test_each_round_puts_the_headline_comparisons_side_by_side():
    names = ["keras/jax", "keras/tensorflow", "keras/torch", "torch"]
    rates = {"keras/jax": 900.0, "keras/tensorflow": 400.0, "keras/torch": 300.0, "torch": 600.0}
    # The fastest Keras backend next to torch: the pair the verdict words is one turn apart, not three.
    assert side_by_side(names, rates) == ["keras/tensorflow", "keras/torch", "torch", "keras/jax"]
    # With torch/compile too, the fastest Keras backend sits between the two PyTorch runners.
    five = names + ["torch/compile"]
    assert side_by_side(five, {**rates, "keras/torch": 1000.0}) == [
        "keras/jax", "keras/tensorflow", "torch", "keras/torch", "torch/compile"]
    # Until every Keras runner has a throughput, the order stays.
    assert side_by_side(names, {"keras/jax": 900.0, "torch": 600.0}) == names
    assert side_by_side(["keras/jax", "keras/torch"], rates) == ["keras/jax", "keras/torch"]


async def test_the_rotation_asks_for_each_round_s_order_as_the_last_turn_of_a_round_ends(monkeypatch):
    """The rotation alone, its processes faked (stopping and continuing them is the launcher tests' part)."""
    from types import SimpleNamespace

    from runners.session.launching import rotation as rotation_module

    async def stopped(pid, timeout_s=None):
        return True

    monkeypatch.setattr(rotation_module, "_until_stopped", stopped)
    monkeypatch.setattr(rotation_module, "_continue", lambda pid: None)
    names = ["keras/jax", "keras/tensorflow", "torch"]
    children = [SimpleNamespace(spec=SimpleNamespace(name=n), alive=True, ended=False,
                                process=SimpleNamespace(pid=10_000 + i)) for i, n in enumerate(names)]
    asked = []

    def arrange(order):
        asked.append([c.spec.name for c in order])
        return list(reversed(order))

    async def announce(child, event):
        pass

    rotation = rotation_module.Rotation(60.0, announce, arrange)
    for child in children:
        await rotation.join(child, take_if_free=False)
    await rotation.begin()
    held = []
    for _ in range(7):
        held.append(rotation.holder.spec.name)
        await rotation.yielded(rotation.holder)
    rotation.pause()
    # Round one in the joining order; each next round in the order asked for at the end of the last (reversed,
    # then back), from its first runner even when that one's turn just ended: no runner misses a round.
    assert held == ["keras/jax", "keras/tensorflow", "torch", "torch", "keras/tensorflow", "keras/jax", "keras/jax"]
    assert asked == [names, list(reversed(names))]
