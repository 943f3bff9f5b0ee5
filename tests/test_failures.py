"""A runner that crashes fails alone (in Keras here; PyTorch's crash: test_app, a killed runner: test_hardening)."""

from __future__ import annotations

from runners.protocol import Error, Phase
from tests.conftest import collect, tiny_launcher


def _final_phase(events) -> str:
    return [e.phase for e in events if isinstance(e, Phase)][-1]


async def test_keras_exception_mid_run(tmp_path):
    launcher = tiny_launcher(tmp_path, ["keras/torch"], overrides={"keras/torch": {"crash_at_step": 3}})
    events = (await collect(launcher))["keras/torch"]
    assert _final_phase(events) == "failed"
    assert any(isinstance(e, Error) and "step 3" in e.message for e in events)
