"""Generated initial weights and checkpoints: made once into the cache, reused and verified by hash, their
progress shown while they are made; a stopped preparation leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from runners.session.planning.prepared_cache import CACHE_ENV, cache_key
from runners.session.run_session import RunSession
from tests.conftest import prepared_path
from tui.cli import build_parser
from tui.cli.options import plan_from
from workloads import get_workload

CONVNET = str(Path(__file__).resolve().parents[1] / "workloads" / "examples" / "convnet_workload.py")


def _check(tmp_path: Path, cache: Path, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    runs = tmp_path / "runs"
    before = set(runs.glob("*")) if runs.exists() else set()
    result = subprocess.run([sys.executable, "-m", "tui.cli", "check", "--workload", CONVNET, "--size", "tiny",
                             "--runners", "torch,keras/jax", "--output", str(runs), *extra],
                            capture_output=True, text=True, timeout=300, env={**os.environ, CACHE_ENV: str(cache)})
    (folder,) = set(runs.glob("*")) - before
    return result, folder


def test_initial_weights_are_made_once_then_reused_verified_and_made_again_when_damaged(tmp_path):
    cache = tmp_path / "cache"
    first, folder = _check(tmp_path, cache)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "preparing convnet (tiny): building the PyTorch model's initial weights" in first.stdout
    assert "prepared the PyTorch model's initial weights: made now and cached" in first.stdout
    record = json.loads((folder / "prepared.json").read_text())
    assert not record["reused"] and not (folder / "initial_weights.npz").exists()  # not copied into each run
    weights = prepared_path(folder)
    assert weights.parent.parent == cache and weights.name == "initial_weights.npz"

    second, folder = _check(tmp_path, cache)
    assert second.returncode == 0
    assert "reused from the cache (SHA-256 verified)" in second.stdout
    assert json.loads((folder / "prepared.json").read_text())["reused"] and prepared_path(folder) == weights

    weights.write_bytes(weights.read_bytes()[:-8] + b"damaged!")
    third, folder = _check(tmp_path, cache)
    assert third.returncode == 0, third.stdout
    assert "made now and cached" in third.stdout
    assert json.loads((folder / "prepared.json").read_text())["sha256"] == record["sha256"]  # the same bytes again
    assert not list(cache.glob("*.partial-*"))


def test_the_key_follows_what_determines_the_weights_and_nothing_else():
    workload = get_workload(CONVNET)
    tiny = workload.settings(size="tiny")
    key, made_from = cache_key("initial_weights.npz", workload, tiny)
    assert cache_key("initial_weights.npz", workload, workload.settings(size="tiny", batch_size=64, steps=3))[0] == key
    assert cache_key("initial_weights.npz", workload, workload.settings(size="tiny", seed=1))[0] != key
    assert cache_key("initial_weights.npz", workload, workload.settings(size="small"))[0] != key
    assert made_from["versions"]["torch"] and "file_sha256" in made_from


def test_a_preparation_stopped_on_its_screen_leaves_no_process_and_no_partial_entry(tmp_path, own_prepared_cache):
    """The dashboard's preparation screen: q while the PyTorch model is being built stops it cleanly."""
    from tui.screens.preparing import PreparingApp

    args = build_parser()[0].parse_args(["run", "--workload", CONVNET, "--size", "small", "--seed", "7"])
    plan = plan_from(args, steps=5, schedule="parallel", duration_s=None)
    shown: list[str] = []

    def make(on_progress, cancel):
        def seen(progress):
            shown.append(progress.describe())
            on_progress(progress)
        return RunSession(plan, tmp_path / "runs", on_progress=seen, cancel=cancel)

    async def drive():
        app = PreparingApp("preparing convnet", make)
        async with app.run_test() as pilot:
            while not shown:
                await pilot.pause(0.1)
            await pilot.press("q")
            while app.is_running and app.return_value is None and app.error is None:
                await pilot.pause(0.1)
        return app

    app = asyncio.run(asyncio.wait_for(drive(), 120))
    assert app.stopped and app.return_value is None
    assert "stopped" in str(app.error)
    assert shown[0].startswith("building the PyTorch model's initial weights")
    assert not list(own_prepared_cache.glob("*.partial-*"))
    assert not list((tmp_path / "runs").glob("*"))  # the run folder goes with it
