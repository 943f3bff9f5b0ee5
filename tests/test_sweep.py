"""kvp-dash sweep: one sequential run per size, the Keras ÷ PyTorch ratio per backend, saved with the runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_sweep_measures_the_ratio_per_size_and_saves_it(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "sweep", "--workload", "mlp", "--sizes", "tiny,small", "--steps", "30",
         "--runners", "torch,keras/jax", "--device", "cpu", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=400,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    sweep = next(tmp_path.glob("*-sweep-mlp"))
    record = json.loads((sweep / "sweep.json").read_text())
    assert [r["size"] for r in record["rows"]] == ["tiny", "small"]
    for row in record["rows"]:
        summary = json.loads((sweep / row["run"] / "summary.json").read_text())
        by = {s["runner"]: s for s in summary["standings"]}
        assert row["keras_over_torch"] == pytest.approx(by["keras/jax"]["throughput"] / by["torch"]["throughput"],
                                                        rel=1e-12)
        assert row["repeats"] == 1 and row["low"] is None  # one run per size: no interval
        run = json.loads((sweep / row["run"] / "run.json").read_text())
        assert run["config"]["schedule"] == "sequential"
    assert record["rows"][0]["params"] < record["rows"][1]["params"]
    assert (sweep / "sweep.csv").exists() and "Keras ÷ PyTorch" in (sweep / "sweep.md").read_text()
    assert "Keras ÷ PyTorch throughput" in result.stdout
    # Piped, as into a CI log: no runner name, parameter count or ratio is cut, here or in sweep.md.
    for text in (result.stdout, (sweep / "sweep.md").read_text()):
        assert "…" not in text and "keras/jax" in text
        for row in record["rows"]:
            assert f"{row['params']:,}" in text and f"{row['keras_over_torch']:.2f}×" in text


def test_sweep_needs_the_torch_runner_and_known_sizes(tmp_path):
    for args, message in [(["--runners", "keras/jax"], "include torch in --runners"),
                          (["--sizes", "tiny,giant"], "unknown size 'giant'")]:
        result = subprocess.run([sys.executable, "-m", "tui.cli", "sweep", "--workload", "mlp", *args,
                                 "--device", "cpu", "--output", str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
