"""A runner that crashes or is killed fails alone; the others finish."""

from __future__ import annotations

import os
import signal

from runners.protocol import Done, Error, Metrics, Phase
from tests.conftest import collect, tiny_launcher


def _final_phase(events) -> str:
    return [e.phase for e in events if isinstance(e, Phase)][-1]


async def test_exception_mid_run_fails_only_that_runner(tmp_path):
    launcher = tiny_launcher(
        tmp_path, ["keras/jax", "torch"], overrides={"torch": {"crash_at_step": 5}}
    )
    events = await collect(launcher)
    torch_events = events["torch"]
    error = next(e for e in torch_events if isinstance(e, Error))
    assert error.error_type == "RuntimeError" and "step 5" in error.message
    assert "Traceback" in error.traceback or "raise" in error.traceback
    assert _final_phase(torch_events) == "failed"
    assert not [e for e in torch_events if isinstance(e, Done)]
    # The traceback is in the runner's captured output too.
    assert "RuntimeError" in launcher.output_path("torch").read_text()
    assert _final_phase(events["keras/jax"]) == "done"


async def test_keras_exception_mid_run(tmp_path):
    launcher = tiny_launcher(tmp_path, ["keras/torch"], overrides={"keras/torch": {"crash_at_step": 3}})
    events = (await collect(launcher))["keras/torch"]
    assert _final_phase(events) == "failed"
    assert any(isinstance(e, Error) and "step 3" in e.message for e in events)


async def test_killed_runner_is_reported_failed_and_others_finish(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch", "keras/tensorflow"], steps=400)
    killed = []

    def kill_torch_after_first_metrics(event):
        if event.runner == "torch" and isinstance(event, Metrics) and not killed:
            pid = launcher.pids()["torch"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    events = await collect(launcher, on_event=kill_torch_after_first_metrics)
    assert killed
    error = next(e for e in events["torch"] if isinstance(e, Error))
    assert error.error_type == "RunnerExited" and "SIGKILL" in error.message
    assert _final_phase(events["torch"]) == "failed"
    assert _final_phase(events["keras/tensorflow"]) == "done"
