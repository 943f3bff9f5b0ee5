"""The Textual app with the real launcher and real runners on mlp."""

from __future__ import annotations

import time

import psutil
import pytest
from textual.content import Content

from tests.conftest import ALL_SPECS, tiny_launcher
from tui.app import DashboardApp
from tui.screens.detail_screen import RunnerDetailScreen
from tui.widgets.runner_panel import RunnerPanel


async def wait_until(pilot, condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the dashboard"
        await pilot.pause(0.2)


def panel_text(panel: RunnerPanel, line: str) -> str:
    """The text a line of the panel shows, markup removed."""
    return panel.line(line)


async def test_four_panels_train_to_done_taking_turns(tmp_path):
    """The default (interleaved) schedule in the dashboard: all four panels move, one runner trains at a time,
    no figure counts the waiting, and the verdict states the Keras-against-PyTorch ratio with its interval."""
    from runners.session.verdict.summary import finish_run
    from tests.turns import SLICE_S, ProcessWatch, check_figures_leave_the_waiting_out

    # 900 steps: three turns with steady windows for the fastest runner (keras/jax at 1.7 ms a step here), the
    # least a paired interval needs; with 600 it had two on a fast afternoon (2026-12-05).
    launcher = tiny_launcher(tmp_path, ALL_SPECS, steps=900, schedule="interleaved", slice_s=SLICE_S)
    app = DashboardApp(launcher, "mlp test",
                       on_finished=lambda states: finish_run(launcher.folder, states, "mlp test", "mlp", 32, "cpu")[1])
    async with app.run_test(size=(160, 48)) as pilot:
        panels = list(app.query(RunnerPanel))
        assert [p.runner for p in panels] == ALL_SPECS
        with ProcessWatch(launcher, app.states) as watch:
            started = time.time()
            await wait_until(pilot, lambda: all(s.ended for s in app.states.values()), 300)
            wall_s = time.time() - started
        assert watch.samples > 100 and not watch.overlaps, f"two runners ran at once: {watch.overlaps[:5]}"
        check_figures_leave_the_waiting_out(app.states, wall_s)
        await pilot.pause(0.6)  # one redraw tick after the last event
        for panel in panels:
            state = app.states[panel.runner]
            assert state.phase == "done", (panel.runner, state.error)
            assert state.steps_done == launcher.total_steps
            assert panel.has_class("-done")
            assert panel.border_subtitle == "done"
            assert panel_text(panel, "progress").startswith(f"step {launcher.total_steps}/{launcher.total_steps} ")
            assert panel_text(panel, "progress").endswith(" ✓")
            timing = panel_text(panel, "timing")
            assert "start-up " in timing and "compile/warm-up " in timing and "TFLOP/s" in timing
            assert "MFU" not in timing  # no peak is known for a CPU: no MFU, never a made-up one
            speed = panel_text(panel, "speed")
            assert speed.startswith(f"{state.samples_per_s:,.0f} samples/s · step {state.mean_step_time_s * 1000:.1f} ms")
            assert " · p90 " in speed
            host = panel_text(panel, "host")
            assert host.startswith("cpu ") and "RSS " in host and "%" in host  # sampled by the dashboard (psutil)
            assert "runs on the cpu" in panel_text(panel, "gpu")
            assert f"{state.current_loss:.4f}" in panel_text(panel, "loss")
            assert "cpu" in panel_text(panel, "meta")
        parity = app.query_one("#parity")
        assert parity.has_class("-verified"), str(parity.content)
        assert "✓ verified" in Content.from_markup(str(parity.content)).plain
        first_losses = {state.first_loss for state in app.states.values()}
        assert max(first_losses) - min(first_losses) <= 1e-4 * max(first_losses)
        # The verdict at the end, on screen and saved with the run (once every process has exited).
        await wait_until(pilot, lambda: app.verdict is not None, 30)
        assert " faster than " in app.verdict or "no clear difference" in app.verdict
        assert "95 % CI" in app.verdict and "torch" in app.verdict
        assert (launcher.folder.path / "summary.json").exists()
        assert app.verdict in Content.from_markup(str(app.query_one("#verdict").content)).plain
        await pilot.press("q")  # nothing trains any more: no question asked
        await pilot.pause(0.5)
    assert not app.is_running


@pytest.mark.extended  # q, confirmed, in a real terminal: tests/test_lifecycle.py, in the default tier
async def test_q_mid_run_stops_every_runner(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch", "keras/jax"], steps=5000, epoch_bytes=1)
    app = DashboardApp(launcher, "quit test")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: all(s.latest is not None for s in app.states.values()), 120)
        children = [psutil.Process(pid) for pid in launcher.pids().values()]
        assert len(children) == 2 and all(c.is_running() for c in children)
        await pilot.press("q")
        await pilot.pause(0.2)
        assert app.is_running and type(app.screen).__name__ == "ConfirmQuitScreen"  # training: asks first
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running, 20)
    for child in children:
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    # Stopped by the user, not failed.
    assert {s.phase for s in app.states.values()} <= {"stopped", "done"}


async def test_crashed_runner_shows_its_error_in_its_own_panel(tmp_path):
    launcher = tiny_launcher(tmp_path, ["keras/tensorflow", "torch"], overrides={"torch": {"crash_at_step": 4}})
    app = DashboardApp(launcher, "crash test")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: all(s.ended for s in app.states.values()), 180)
        await pilot.pause(0.6)
        torch_panel = app.query_one("#panel-torch", RunnerPanel)
        keras_panel = app.query_one("#panel-keras-tensorflow", RunnerPanel)
        assert torch_panel.has_class("-failed") and torch_panel.border_subtitle == "FAILED"
        # What the runner said: the error with its traceback, no "done"; the others carry on.
        torch_state = app.states["torch"]
        assert torch_state.error.error_type == "RuntimeError" and "step 4" in torch_state.error.message
        assert "Traceback" in torch_state.error.traceback or "raise" in torch_state.error.traceback
        assert torch_state.phase == "failed" and torch_state.done is None
        assert "RuntimeError" in launcher.output_path("torch").read_text()
        assert app.states["keras/tensorflow"].phase == "done"
        assert "RuntimeError: crash injected at step 4" in " ".join(panel_text(torch_panel, "error").split())
        assert keras_panel.has_class("-done") and "error" not in keras_panel.lines
        # A crashed runner proves nothing about parity; the one left has nothing to compare with.
        parity_text = Content.from_markup(str(app.query_one("#parity").content)).plain
        assert "not judged: torch (failed)" in parity_text

        # Enter on the failed panel opens its detail; its captured output holds the traceback.
        torch_panel.focus()
        await pilot.press("enter", "2")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RunnerDetailScreen) and app.screen.runner == "torch"
        log_text = "\n".join(str(line) for line in app.screen.query_one("Log").lines)
        assert "RuntimeError" in log_text
        await pilot.press("escape")
        assert not isinstance(app.screen, RunnerDetailScreen)
