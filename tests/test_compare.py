"""``kvp-dash compare``: unpaired ratios across runs, what differs, a CI gate on real runs, and bad input."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from runners.session.record.finished_run import FinishedRun
from runners.session.verdict.across_runs import differences, unpaired_ratio
from tests.test_until import _states


def test_the_unpaired_interval_holds_the_true_ratio_about_95_times_in_100():
    held = 0
    for seed in range(100):
        rng = random.Random(seed)
        base = {k: 1000 * rng.lognormvariate(0, 0.08) for k in range(1, 9)}
        other = {k: 900 * rng.lognormvariate(0, 0.08) for k in range(1, 11)}
        ratio = unpaired_ratio(base, other)
        assert ratio.pairs == 8 and ratio.low < ratio.value < ratio.high
        held += ratio.low <= 0.9 <= ratio.high
    assert held >= 88


def test_too_few_turns_give_a_ratio_without_an_interval():
    ratio = unpaired_ratio({1: 100.0, 2: 110.0}, {1: 50.0, 2: 55.0, 3: 52.0})
    assert ratio.low is None and math.isclose(ratio.value, math.exp(
        sum(map(math.log, (50, 55, 52))) / 3 - sum(map(math.log, (100, 110))) / 2))


def test_differences_name_settings_versions_and_machine():
    config = {"workload": "mlp", "settings": {"batch_size": 64, "size": "small", "seed": 0}, "precision": "fp32"}
    meta = {"versions": {"torch": "2.13.0", "keras": "3.15.1"}, "cpu": {"model": "Xeon", "usable": 2},
            "git_revision": "a" * 40}
    states = {s.name: s for s in _states({"torch": [1000.0] * 3})}
    base = FinishedRun(Path("a"), config, meta, states)
    other = FinishedRun(Path("b"), {**config, "settings": {**config["settings"], "batch_size": 32}},
                        {**meta, "versions": {"torch": "2.12.0", "keras": "3.15.1"}, "git_revision": "b" * 40}, states)
    assert differences(base, other) == ["batch 64 → 32", "torch 2.13.0 → 2.12.0", "revision aaaaaaaaaa → bbbbbbbbbb"]
    assert differences(base, base) == []


def _run(output: Path, *args: str) -> Path:
    before = set(output.glob("*-mlp"))
    subprocess.run([sys.executable, "-m", "tui.cli", "--headless", "--workload", "mlp", "--size", "tiny",
                    "--runners", "torch,keras/jax", "--duration", "5", "--slice", "1", "--output", str(output), *args],
                   check=True, capture_output=True, timeout=300)
    (folder,) = set(output.glob("*-mlp")) - before
    return folder


def _compare(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "compare", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_a_slower_run_fails_the_gate_and_a_rerun_of_the_same_settings_passes(tmp_path):
    base, rerun = _run(tmp_path), _run(tmp_path)
    smaller = _run(tmp_path, "--batch-size", "4")  # a quarter of the default batch: far fewer samples a second
    # The rerun is not in this comparison: at 5 % it fails whenever the other test worker loads one run and not
    # the other (seen in CI: torch 17 % slower in a rerun beside the --until-over-processes test).
    caught = _compare(base, smaller, "--fail-if-slower", "5%")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "differs: batch 32 → 4" in caught.stdout
    fails = [line for line in caught.stdout.splitlines() if line.startswith("FAIL")]
    assert fails and all(smaller.name in line and "% slower (95 % CI" in line for line in fails)
    # 5 % passes on a quiet machine (benchmarks/README.md); here the other test worker may load one run and not
    # the other, which the turns of one process cannot see: the gate's threshold is what absorbs that.
    same = _compare(base, rerun, "--fail-if-slower", "30%")
    assert same.returncode == 0, same.stdout
    assert "pass: no runner slower than in" in same.stdout and "differs: nothing recorded" in same.stdout
    summary = json.loads((base / "summary.json").read_text())
    assert summary["schema"] == 1  # docs/summary-json.md


@pytest.mark.parametrize("make_args, message", [
    (lambda run, other: [run], "compare needs two run folders or more"),
    (lambda run, other: [run, other], "is not a kvp-dash run folder"),
    (lambda run, other: [run, run, "--fail-if-slower", "lots"], "argument --fail-if-slower: expected a percentage"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, make_args, message):
    run = Path(__file__).resolve().parents[1] / "runners" / "session" / "record" / "recordings" / "demo-mlp"
    result = _compare(*make_args(run, tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_runs_of_different_sizes_are_refused(tmp_path):
    shipped = Path(__file__).resolve().parents[1] / "runners" / "session" / "record" / "recordings" / "demo-mlp"
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    record = json.loads((shipped / "run.json").read_text())
    record["config"]["settings"]["size"] = "tiny"
    (tiny / "run.json").write_text(json.dumps(record))
    result = _compare(shipped, tiny)
    assert result.returncode == 2 and "compare needs runs of the same workload and size" in result.stderr
    assert "mlp (small)" in result.stderr and "mlp (tiny)" in result.stderr
