"""--repeats: whole runs again in fresh processes, combined with intervals across runs."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace

from runners.session.repeats import combine, repeats_verdict, rotated
from runners.session.verdict.summary import Standing

BLANK = Standing(rank=1, runner="", phase="done", step_time_s=None, throughput=None, unit="samples/s",
                 slower_by=None, startup_s=1.0, warmup_s=0.5, peak_rss_bytes=None, peak_device_bytes=None,
                 final_loss=0.1, tflops=None, mfu=None, error=None)


def _repeat(rng: random.Random, rates: dict[str, float]) -> list[Standing]:
    drift = rng.uniform(0.7, 1.3)  # the machine of this repeat: pairing by repeat cancels it
    return [replace(BLANK, runner=name, throughput=rate * drift * rng.lognormvariate(0, 0.03),
                    step_time_s=32 / (rate * drift)) for name, rate in rates.items()]


def test_combined_repeats_rank_by_geometric_mean_and_pair_ratios_by_repeat():
    rng = random.Random(5)
    tables = [_repeat(rng, {"torch": 1000.0, "keras/jax": 2000.0, "keras/torch": 500.0}) for _ in range(6)]
    table, by_repeat = combine(tables)
    assert [s.runner for s in table] == ["keras/jax", "torch", "keras/torch"]
    assert [s.rank for s in table] == [1, 2, 3] and all(s.turns == 6 for s in table)
    torch = table[1]
    assert 1.8 < torch.slower_low < 2.0 < torch.slower_high < 2.2  # drift of ±30 %, yet a tight interval
    assert set(by_repeat["torch"]) == set(range(6))
    text = repeats_verdict(table, by_repeat, "mlp", 32, "cpu")
    assert text.startswith("keras/jax trained mlp 2.0") and "faster than torch" in text
    assert "over 6 repeats" in text and "keras/torch 4.0" in text


def test_a_runner_that_failed_a_repeat_is_said_and_pairs_only_where_it_finished():
    rng = random.Random(1)
    tables = [_repeat(rng, {"torch": 1000.0, "keras/jax": 1000.0}) for _ in range(4)]
    tables[2][1] = replace(tables[2][1], phase="failed", throughput=None, error="RuntimeError: boom")
    table, by_repeat = combine(tables)
    jax = next(s for s in table if s.runner == "keras/jax")
    assert jax.phase == "partial" and jax.turns == 3 and jax.error == "RuntimeError: boom"
    assert "did not finish every repeat: keras/jax" in repeats_verdict(table, by_repeat, "mlp", 32, "cpu")


def test_runner_order_rotates_each_repeat():
    assert [rotated(["a", "b", "c"], k) for k in range(4)] == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"],
                                                              ["a", "b", "c"]]


def test_headless_repeats_run_fresh_processes_and_combine_them(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--headless", "--workload", "mlp", "--size", "tiny", "--runners",
         "torch,keras/torch", "--steps", "40", "--schedule", "parallel", "--repeats", "2", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=400,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    parent = next(tmp_path.glob("*-repeats-mlp"))
    runs = sorted(parent.glob("*-mlp-repeat-*"))
    assert len(runs) == 2
    orders = [json.loads((run / "run.json").read_text())["config"]["runners"] for run in runs]
    assert orders == [["torch", "keras/torch"], ["keras/torch", "torch"]]
    pids = set()
    for run in runs:
        for line in (run / "torch.events.jsonl").read_text().splitlines():
            event = json.loads(line)
            if event["type"] == "hello":
                pids.add(event["pid"])
    assert len(pids) == 2, "each repeat is a fresh process"
    record = json.loads((parent / "repeats.json").read_text())
    assert set(record["throughput_by_repeat"]["torch"]) == {"1", "2"}
    # Two repeats pair twice: too few for an interval (the interval itself: the tests above), and it says so.
    assert "2 paired repeats: too few for an interval" in record["verdict"]
    assert record["verdict"] in result.stdout.replace("\n", " ")
    second = record["standings"][1]
    assert second["slower_by"] > 1 and second["slower_low"] is None and second["turns"] == 2
    assert "over 2 repeats" in result.stdout and (parent / "repeats.md").read_text().startswith("# mlp (tiny)")
