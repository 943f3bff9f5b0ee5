"""`kvp-dash replay`: the dashboard driven by a recorded run, starting nothing."""

from __future__ import annotations

import json
import subprocess
import sys

from runners.session.record.replay import SHIPPED, RecordedRun
from tests.test_app import panel_text, wait_until
from tui.app import DashboardApp
from tui.widgets.runner_panel import RunnerPanel


async def test_shipped_recording_replays_to_the_recorded_outcome():
    source = RecordedRun(SHIPPED, speed=1000)
    recorded = {s["runner"]: s for s in json.loads((SHIPPED / "summary.json").read_text())["standings"]}
    app = DashboardApp(source, "replay test", on_finished=lambda states: "judged")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.verdict == "judged", 60)
        await pilot.pause(0.6)
        assert [p.runner for p in app.query(RunnerPanel)] == source.runner_names
        for name, state in app.states.items():
            assert state.phase == recorded[name]["phase"] == "done"
            assert state.current_loss == recorded[name]["final_loss"]
            assert state.mean_step_time_s == recorded[name]["step_time_s"]
            assert state.host is None, "a replay samples nothing: every figure is a recorded one"
        assert "replay of" in str(app.query_one("#devices").content)
        assert app.query_one("#parity").has_class("-verified")
        panel = app.query_one("#panel-torch", RunnerPanel)
        # A --duration run (the shipped one): its steps and its steady seconds, done.
        torch = app.states["torch"]
        assert panel_text(panel, "progress").startswith(f"step {torch.steps_done:,} · {torch.steady_s:.0f} s ")
        assert panel_text(panel, "progress").endswith("✓")
        assert recorded["torch"]["turns"] >= 3 and recorded["torch"]["slower_low"] is not None  # with intervals
    assert source.bad_lines == 0


def test_replay_of_something_that_is_not_a_run_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "replay", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "is not a kvp-dash run folder" in result.stderr


def test_garbage_lines_in_a_recording_are_counted_and_skipped(tmp_path):
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(SHIPPED, folder)
    with open(folder / "torch.events.jsonl", "a") as events:
        events.write("not json\n{\"v\": 1, \"type\": \"mystery\", \"runner\": \"torch\"}\n")
    source = RecordedRun(folder)
    assert source.bad_lines == 2


async def test_attach_follows_a_live_headless_session_and_leaving_does_not_stop_it(tmp_path):
    """Viewers attach to a headless session; the session's own output is checked in test_headless."""
    import time

    from runners.session.record.replay import AttachedRun
    from tests.conftest import runner_children
    from tests.test_headless import check_headless_output, headless

    # The default schedule, with a time budget: each runner trains 3 s of its own steady time.
    session = headless(tmp_path, "--runners", "torch,keras/torch", "--duration", "3s", schedule="")
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("*-mlp/run.json")):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        folder = next(tmp_path.glob("*-mlp"))
        # A viewer that attaches and leaves early: the session goes on.
        first = DashboardApp(AttachedRun(folder), "attach test")
        async with first.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: any(s.latest for s in first.states.values()), 60)
            await pilot.press("q")
        assert session.poll() is None, "leaving the viewer must not stop the session"
        assert runner_children(session.pid, recursive=False)
        # A second viewer follows it to the end.
        second = DashboardApp(AttachedRun(folder), "attach test", on_finished=lambda states: "seen")
        async with second.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: second.verdict == "seen", 120)
            assert {s.phase for s in second.states.values()} == {"done"}
            for state in second.states.values():
                # Asked to finish once its steady windows add up to 3 s, it ends at its next window edge
                # (0.5 s windows), a little later when the request waits for its next turn.
                assert 3.0 <= state.steady_s < 4.5, (state.name, state.steady_s)
                assert state.done.steps == state.steps_done and state.turn_rates(), state.name
        out, _ = session.communicate(timeout=60)
        assert session.returncode == 0, out
        check_headless_output(out, tmp_path)
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()


async def test_replay_pause_step_and_jump():
    source = RecordedRun(SHIPPED, speed=1.0)
    total = sum(len(events) for events in source._streams.values())
    seen = []
    replay = source.events

    async def counted():  # every event the replay hands to the app
        async for event in replay():
            seen.append(event)
            yield event

    source.events = counted
    app = DashboardApp(source, "replay controls")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")  # pause
        await pilot.pause(0.3)
        count = len(seen)
        await pilot.pause(0.6)
        assert len(seen) == count, "nothing arrives while paused"
        await pilot.press("full_stop")
        await pilot.pause(0.3)
        assert len(seen) == count + 1, "a step lets exactly one event through"
        await pilot.press("space")  # resume
        for _ in range(10):
            await pilot.press("right_square_bracket")  # 100 recorded seconds ahead: past the end
        await wait_until(pilot, lambda: len(seen) == total, 20)
        await wait_until(pilot, lambda: all(s.phase == "done" for s in app.states.values()), 5)
