"""Noise at the process and turn levels (Kalibera and Jones): the components recovered, an interval over processes
that covers what a rerun bears out, the best split of a budget, and a real --until run over processes."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import pytest

from runners.protocol import Phase
from runners.session.launching.endings import TurnCount
from runners.session.record.finished_run import read_run
from runners.session.verdict.confidence import paired_ratio, t_quantile
from runners.session.verdict.levels import MAX_TURNS, best_turns, levels_of, processes_needed, split_for
from tests.test_until import _noisy, _turns


def _nested(processes: int, turns: int, process_sd: float, turn_sd: float, rng: random.Random,
            log_ratio: float = 0.0) -> list[list[float]]:
    """Log-ratios of ``processes`` processes, each offset by its own draw, each turn by another."""
    result = []
    for _ in range(processes):
        offset = rng.gauss(log_ratio, process_sd)
        result.append([rng.gauss(offset, turn_sd) for _ in range(turns)])
    return result


def test_the_components_at_each_level_are_recovered():
    levels = levels_of("a ÷ b", _nested(600, 5, 0.05, 0.08, random.Random(1), log_ratio=0.3))
    assert math.sqrt(levels.turn_variance) == pytest.approx(0.08, rel=0.05)
    assert math.sqrt(levels.process_variance) == pytest.approx(0.05, rel=0.12)
    assert levels.ratio.value == pytest.approx(math.exp(0.3), rel=0.01) and levels.processes == 600
    assert levels.turns == 5


def test_the_interval_over_processes_covers_a_rerun_where_one_process_s_turns_do_not():
    """Process noise large against turn noise (torch's clusters here): the interval over six processes covers the
    true ratio about 95 % of the time; an interval from the turns of one process, narrower, mostly does not."""
    rng = random.Random(2)
    over_processes = one_process = 0
    trials = 400
    for _ in range(trials):
        data = _nested(6, 6, 0.10, 0.02, rng)
        ratio = levels_of("a ÷ b", data).ratio
        over_processes += ratio.low <= 1.0 <= ratio.high
        single = paired_ratio({k: math.exp(x) for k, x in enumerate(data[0])}, {k: 1.0 for k in range(6)})
        one_process += single.low <= 1.0 <= single.high
    assert 0.90 <= over_processes / trials <= 0.99
    assert one_process / trials < 0.5


def test_below_three_processes_there_is_no_interval():
    levels = levels_of("a ÷ b", [[0.1, 0.2, 0.15], [0.12, 0.18]])
    assert levels.ratio.low is None and levels.half_width is None and levels.processes == 2


def test_the_best_turns_a_process_follow_the_costs_and_the_variances():
    # √(c_p·S² / (c_t·T²)) = √(20·0.01 / (5·0.0025)) = 4
    assert best_turns(0.01, 0.0025, process_cost_s=20, round_cost_s=5) == 4
    # A dearer process: more turns in each; a larger process component: fewer.
    assert best_turns(0.01, 0.0025, 80, 5) == 8 and best_turns(0.01, 0.01, 20, 5) == 2
    assert best_turns(0.01, 0.0, 20, 5) == MAX_TURNS  # no process component: turns are the cheap level
    assert best_turns(0.01, 0.04, 1, 5, fewest=2) == 2


def test_processes_needed_is_the_fewest_whose_interval_is_within_the_target():
    for turn_var, process_var, turns, target in ((0.01, 0.0025, 4, 0.05), (0.0004, 0.0001, 6, 0.02)):
        count = processes_needed(turn_var, process_var, turns, target)
        per = process_var + turn_var / turns
        assert t_quantile(0.95, count - 1) * math.sqrt(per / count) <= math.log1p(target)
        assert count == 3 or t_quantile(0.95, count - 2) * math.sqrt(per / (count - 1)) > math.log1p(target)


def test_the_split_adds_processes_until_the_target_and_costs_the_ones_to_come():
    levels = levels_of("a ÷ b", _nested(3, 6, 0.05, 0.05, random.Random(3)))
    split = split_for(levels, 0.01, process_cost_s=20, round_cost_s=5)
    assert split.processes > 3
    assert split.seconds_left == (split.processes - 3) * (20 + split.turns * 5)
    assert f"{split.turns} turns a process, {split.processes} processes" in split.describe()


def test_a_turn_count_asks_every_runner_to_finish_once_each_has_its_turns():
    ending = TurnCount(4, total_steps=10**9)
    asked = []
    for event in _turns(_noisy(1.3, 8, 0.02, seed=5)):
        names = ending.to_finish(event)
        if names:
            asked.append((names, {name: len(state.turn_rates()) for name, state in ending.states.items()}))
            assert isinstance(event, Phase) and event.phase == "waiting" and event.runner == "keras/torch"
    # At the end of the last runner's fourth turn: all of them, once.
    assert asked == [(["keras/jax", "torch", "keras/torch"], {"keras/jax": 4, "torch": 4, "keras/torch": 4})]


def test_until_over_processes_runs_fresh_processes_measures_both_levels_and_says_what_they_chose(tmp_path):
    """Real runners: three processes of six short turns, then as the levels say, within a small cap."""
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--headless", "--workload", "mlp", "--size", "tiny", "--runners",
         "torch,keras/jax", "--until", "60%", "--repeats", "auto", "--duration", "12", "--slice", "0.5",
         "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    parent = next(tmp_path.glob("*-until-mlp"))
    processes = sorted(parent.glob("*-mlp-process-*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    assert len(processes) >= 3
    record = json.loads((parent / "repeats.json").read_text())
    until = record["until"]
    assert until["turns_given"][:3] == [6, 6, 6] and until["processes"] == len(processes)
    pids = set()
    for folder, turns in zip(processes, until["turns_given"]):
        run = read_run(folder)
        assert run.config["turns"] == turns
        for state in run.states.values():
            # All are asked to finish once the last has its turns; a runner whose first turn went to compilation
            # takes a round more, and the others with it.
            assert turns <= len(state.turn_rates()) <= turns + 2, (folder.name, state.name, state.turn_rates())
        for line in (folder / "torch.events.jsonl").read_text().splitlines():
            event = json.loads(line)
            if event["type"] == "hello":
                pids.add(event["pid"])
    assert len(pids) == len(processes), "each process is a fresh one"
    (levels,) = until["levels"]
    assert set(levels["comparison"].split(" ÷ ")) == {"torch", "keras/jax"}
    assert levels["processes"] == len(processes) and levels["turn_sd"] > 0 and levels["process_sd"] >= 0
    assert until["process_cost_s"] > 0 and until["round_cost_s"] > 0
    if until["reached"]:
        assert levels["half_width"] <= 0.60 and "process noise included (--until ±60 %)" in record["verdict"]
    else:
        assert "--until ±60 % not reached" in record["verdict"]
    assert "over 3 processes" in result.stdout or f"over {len(processes)} processes" in record["verdict"]
    assert "levels of noise: a process costs" in result.stdout and "until over processes: process 3:" in result.stdout
