"""The user's controls on real runners taking turns (the default schedule): p pauses training for real,
k stops one, r restarts one; the rotation goes on around them."""

from __future__ import annotations

import asyncio

import psutil

from runners.session.verdict.summary import finish_run
from tests.conftest import tiny_launcher
from tests.test_app import wait_until
from tui.app import DashboardApp


async def test_p_really_pauses_training_and_timing_leaves_the_pause_out(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch", "keras/jax"], steps=600, schedule="interleaved", slice_s=0.5)
    app = DashboardApp(launcher, "pause test", animate=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: all(s.steps_done > 20 for s in app.states.values()), 120)
        await pilot.press("p")
        await pilot.pause(0.5)  # events already in the pipe drain
        processes = [psutil.Process(pid) for pid in launcher.pids().values()]
        assert all(p.status() == psutil.STATUS_STOPPED for p in processes)
        # The one whose turn it was is paused; the other was already waiting for its turn. When p comes as the turn
        # is being handed over, the one giving it back said "waiting" before the pause and the dashboard reads that
        # after it (seen once in CI's conditions): both show "waiting", and the rotation hands on at resume.
        assert sorted(s.phase for s in app.states.values()) in (
            ["paused", "waiting"], ["paused", "paused"], ["waiting", "waiting"])
        frozen = {name: s.steps_done for name, s in app.states.items()}
        await asyncio.sleep(2.0)
        await pilot.pause(0.1)
        assert {name: s.steps_done for name, s in app.states.items()} == frozen
        await pilot.press("p")
        await wait_until(pilot, lambda: all(s.ended for s in app.states.values()), 120)
        for state in app.states.values():
            assert state.phase == "done"
            held = state.held_seconds(state.phase_since["warmup"], state.phase_since["done"])
            assert held >= 2.0  # the pause, and the other's turns
            assert state.paused_windows >= 1
            # Timed windows never cover a pause or a wait: they fit in the training time without them.
            trained = state.phase_since["done"] - state.phase_since["warmup"]
            assert state.steady_s + state.warmup_s <= trained - 0.9 * held
        await pilot.press("q")


async def test_k_stops_one_runner_and_r_restarts_another_from_scratch(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch", "keras/jax"], steps=100_000, schedule="interleaved", slice_s=0.5,
                             epoch_bytes=1)
    app = DashboardApp(
        launcher, "control test", animate=False,
        on_finished=lambda states: finish_run(launcher.folder, states, "control test", "mlp", 32, "cpu")[1],
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: all(s.steps_done > 20 for s in app.states.values()), 120)
        old_pid = launcher.pids()["torch"]
        app.main.panels["torch"].focus()
        await pilot.press("r")
        await wait_until(pilot, lambda: app.states["torch"].hello is not None
                         and app.states["torch"].hello.pid != old_pid, 60)
        assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE
        assert app.states["torch"].steps_done < 1000  # the new run's state, not the old one's
        await wait_until(pilot, lambda: app.states["torch"].steps_done > 10, 60)

        app.main.panels["keras/jax"].focus()
        await pilot.press("k")
        await wait_until(pilot, lambda: app.states["keras/jax"].phase == "stopped", 20)
        # The others carry on: torch, alone in the rotation now, keeps the turn and trains on.
        steps = app.states["torch"].steps_done
        await wait_until(pilot, lambda: app.states["torch"].phase == "training"
                         and app.states["torch"].steps_done > steps + 50, 30)
        app.main.panels["torch"].focus()
        await pilot.press("k")
        await wait_until(pilot, lambda: app.verdict is not None, 30)
        assert {s.phase for s in app.states.values()} == {"stopped"}
        summary = (launcher.folder.path / "summary.md").read_text()
        assert "keras/jax (stopped)" in summary and "torch (stopped)" in summary
        await pilot.press("q")
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in launcher.pids().values())
