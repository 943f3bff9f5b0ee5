"""`kvp-dash --headless`: plain lines for CI logs, standings and verdict, summary files, exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace

import psutil

from runners.protocol import Done, Hello, Metrics, Phase
from runners.session.verdict.confidence import Ratio
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import Standing, comparison, standings, verdict
from tests.conftest import runner_children


def headless(tmp_path, *args, schedule: str = "parallel", **kwargs) -> subprocess.Popen:
    """A headless session; the parallel race unless ``schedule`` says otherwise (the default's turns cost time)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--headless", "--workload", "mlp", "--size", "tiny",
         "--output", str(tmp_path), *(["--schedule", schedule] if schedule else []), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs,
    )


def check_headless_output(out: str, tmp_path) -> None:
    """A finished two-runner headless run (torch, keras/torch) printed plain lines, standings and a verdict,
    and wrote its summary. Run by test_replay's attach test, which follows such a session live."""
    assert "torch             training" in out and "keras/torch       done" in out
    assert "verdict: " in out and "faster than" in out
    folder = next(tmp_path.glob("*-mlp"))
    summary = json.loads((folder / "summary.json").read_text())
    ranks = [s["rank"] for s in summary["standings"]]
    assert ranks == [1, 2] and summary["standings"][0]["slower_by"] == 1.0
    assert summary["standings"][1]["slower_by"] > 1.0
    assert summary["verdict"] in out.replace("\n", " ") or summary["verdict"][:40] in out
    assert (folder / "summary.md").read_text().startswith("# mlp (tiny)")
    assert len((folder / "summary.csv").read_text().splitlines()) == 3
    assert not list(folder.glob("*.tmp")), "no half-written file is left"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["versions"]["keras"] and meta["versions"]["torch"] and meta["cpu"]["cores"] >= 1
    assert meta["config"]["settings"]["seed"] == 0 and meta["command"]
    assert meta["git_revision"] and len(meta["git_revision"]) == 40  # run from this checkout
    # Piped, as into a CI log: the standings table cuts no runner name and no figure.
    standings = out[out.index("standings (steady-state throughput)"):out.index("verdict: ")]
    assert "…" not in standings
    rows = [line.split() for line in standings.splitlines() if line.strip()[:1] in ("1", "2")]
    assert [row[1] for row in rows] == [s["runner"] for s in summary["standings"]]
    for row, standing in zip(rows, summary["standings"]):
        assert row[2] == f"{standing['throughput']:,.0f}"


def test_headless_exit_code_is_1_when_a_runner_fails(tmp_path):
    process = headless(tmp_path, "--runners", "torch,keras/jax", "--inject-crash", "torch:3", "--steps", "60")
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 1, out
    assert "torch             error: RuntimeError: crash injected at step 3" in out
    summary = json.loads(next(tmp_path.glob("*-mlp/summary.json")).read_text())
    failed = [s for s in summary["standings"] if s["phase"] == "failed"]
    assert [s["runner"] for s in failed] == ["torch"] and failed[0]["rank"] is None
    assert "failed: torch" in summary["verdict"]


def test_sigterm_stops_a_headless_run_cleanly(tmp_path):
    process = headless(tmp_path, "--runners", "torch,keras/jax", "--duration", "600")  # outlasts the test
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = runner_children(process.pid)
        files = list(tmp_path.glob("*-mlp/*.events.jsonl"))
        if len(children) == 2 and len(files) == 2 and all('"metrics"' in f.read_text() for f in files):
            break
        time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 130, out
    _, alive = psutil.wait_procs(children, timeout=5)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    summary = json.loads(next(tmp_path.glob("*-mlp/summary.json")).read_text())
    assert {s["phase"] for s in summary["standings"]} == {"stopped"}


def _state(name: str, step_s: float, losses: list[float], start: float) -> RunnerState:
    state = RunnerState(name, total_steps=len(losses))
    state.apply(Phase(name, "importing", t=start))
    state.apply(Hello(name, pid=1, framework="torch", backend="torch", versions={}, device="cpu",
                      params=1, threads=1, cpus=[0]))
    state.apply(Metrics(name, first_step=0, step=len(losses) - 1, losses=losses, window_s=step_s * len(losses),
                        batch_size=10, warmup=False, t=start + 1 + step_s * len(losses)))
    state.apply(Done(name, steps=len(losses), train_s=1.0))
    state.apply(Phase(name, "done"))
    return state


def test_verdict_names_the_faster_runner_and_who_reached_the_loss_first():
    losses = [2.0 - 0.1 * i for i in range(20)]
    fast = _state("keras/jax", 0.01, losses, start=100.0)  # fast steps, late start
    slow = _state("torch", 0.02, losses, start=90.0)
    table = standings([fast, slow])
    assert [(s.rank, s.runner) for s in table] == [(1, "keras/jax"), (2, "torch")]
    assert table[1].slower_by == 2.0
    text = verdict([fast, slow], table, "mlp", 10, "cpu")
    assert text.startswith("keras/jax trained mlp 2.00× faster than torch at batch 10 on cpu")
    # Same smoothed loss curve, but keras/jax started later: torch gets there sooner in wall time.
    assert "; keras/jax reached loss" in text or "; torch reached loss" in text
    level = min(slow.smoothed_losses())
    assert slow.time_to_loss(level) is not None and fast.time_to_loss(level) is not None


def test_a_crossing_beyond_the_run_is_told_as_a_projection_not_as_what_happened():
    """The slower-stepping runner that started sooner stays ahead until the other's faster steps make up its
    head start: within the run that is what happened; past the run's last step it is only a projection."""
    torch = Standing(rank=1, runner="torch", phase="done", step_time_s=0.01, throughput=100.0, unit="samples/s",
                     slower_by=1.0, startup_s=2.0, warmup_s=1.0, peak_rss_bytes=None, peak_device_bytes=None,
                     final_loss=None, tflops=None, mfu=None, error=None, steps=32)
    # 2 s ahead at the start, 10 ms a step slower: torch overtakes it after 200 steps.
    keras = replace(torch, rank=2, runner="keras/jax", step_time_s=0.02, throughput=50.0, slower_by=2.0,
                    startup_s=0.5, warmup_s=0.5)
    half = Ratio(0.5, None, None, 0)
    assert ("; keras/jax stayed ahead over this run's 32 steps (start-up and compile); torch would overtake it "
            "after about 200") in comparison(keras, torch, half, "mlp", 10, "cpu")
    longer = comparison(replace(keras, steps=500), replace(torch, steps=500), half, "mlp", 10, "cpu")
    assert "; keras/jax is ahead for the first 200 steps (start-up and compile), torch after that" in longer
    # A summary written before the steps were kept: the crossing as before.
    older = comparison(replace(keras, steps=None), replace(torch, steps=None), half, "mlp", 10, "cpu")
    assert "is ahead for the first 200 steps" in older
