"""A runner that crashes fails alone (in Keras here; PyTorch's crash: test_app, a killed runner: test_hardening)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runners.protocol import Error, Phase
from tests.conftest import collect, tiny_launcher


def _final_phase(events) -> str:
    return [e.phase for e in events if isinstance(e, Phase)][-1]


async def test_keras_exception_mid_run(tmp_path):
    launcher = tiny_launcher(tmp_path, ["keras/torch"], overrides={"keras/torch": {"crash_at_step": 3}})
    events = (await collect(launcher))["keras/torch"]
    assert _final_phase(events) == "failed"
    assert any(isinstance(e, Error) and "step 3" in e.message for e in events)


DYING = Path(__file__).with_name("dying_workload.py")


@pytest.mark.parametrize("how, says", [
    ("sigkill", "runner process killed by SIGKILL — out of memory? (the kernel's out-of-memory killer sends it"),
    ("abort", "runner process killed by SIGABRT — a native library gave up; its last output: F1205 12:00:00.000 "
              "allocator.cc:42] Check failed: arena != nullptr"),
    # The same exit as the headless test below, in check's words.
    pytest.param("exit", "runner process exited with code 1: ImportError: cannot import name 'fused_kernel' from "
                 "'mylib'", marks=pytest.mark.extended),
])
def test_a_runner_that_dies_without_an_error_event_says_why_in_check(tmp_path, how, says):
    """Killed, aborted in native code, or exited past its own error handling: the signal and what it usually
    means, or its output's last error line, never only an exit code; the other runner carries on."""
    file = tmp_path / f"dying_{how}.py"
    file.write_text(DYING.read_text().replace('HOW = "sigkill"', f"HOW = {how!r}"))
    result = subprocess.run([sys.executable, "-m", "tui.cli", "check", "--workload", str(file), "--runners",
                             "torch,keras/jax", "--output", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=300)
    text = " ".join(result.stdout.split())
    assert result.returncode == 1
    assert f"keras/jax failed: RunnerExited: {says}" in text, text
    assert "whole output: " in text and "keras-jax.output.log" in text
    logs = list((tmp_path / "runs").glob("*/keras-jax.output.log"))
    assert len(logs) == 1
    if how != "sigkill":  # a killed process writes nothing more
        assert says.rsplit(": ", 1)[-1] in logs[0].read_text()


def test_headless_shows_why_a_runner_died(tmp_path):
    file = tmp_path / "dying_exit.py"
    file.write_text(DYING.read_text().replace('HOW = "sigkill"', 'HOW = "exit"'))
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--headless", "--workload", str(file), "--runners",
                             "torch,keras/jax", "--steps", "8", "--output", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert ("error: RunnerExited: runner process exited with code 1: ImportError: cannot import name "
            "'fused_kernel' from 'mylib'") in result.stdout, result.stdout
