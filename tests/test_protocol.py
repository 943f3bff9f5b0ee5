"""The event protocol: round trips, and garbage is rejected with ProtocolError, never a crash."""

from __future__ import annotations

import json

import pytest

from runners.protocol import (
    PROTOCOL_VERSION,
    Done,
    Error,
    Hello,
    Metrics,
    Phase,
    ProtocolError,
    decode,
)

EXAMPLES = [
    Hello("torch", pid=42, framework="torch", backend="torch", versions={"torch": "2.13.0"},
          device="cpu", params=10, threads=1, cpus=[0]),
    Phase("keras/jax", "training"),
    Metrics("keras/jax", first_step=3, step=5, losses=[1.0, 0.9, 0.8], window_s=0.25, batch_size=16,
            warmup=False, rss_bytes=1 << 20, device_bytes=None),
    Error("torch", error_type="RuntimeError", message="boom", traceback="..."),
    Done("torch", steps=6, train_s=1.5),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_round_trip(event):
    line = event.to_json()
    assert "\n" not in line
    data = json.loads(line)
    assert data["v"] == PROTOCOL_VERSION and data["type"] == event.type and data["runner"] == event.runner
    assert decode(line) == event
    assert decode(line.encode()) == event


def test_metrics_derived_figures():
    m = EXAMPLES[2]
    assert m.steps == 3
    assert m.step_time_s == pytest.approx(0.25 / 3)
    assert m.samples_per_s == pytest.approx(16 * 3 / 0.25)


def test_unknown_fields_are_ignored_for_forward_compatibility():
    data = json.loads(EXAMPLES[1].to_json())
    data["added_in_a_later_version"] = 1
    assert decode(json.dumps(data)) == EXAMPLES[1]


@pytest.mark.parametrize(
    "line",
    [
        "",
        "not json",
        "[1, 2]",
        '{"v": 1, "type": "nope", "runner": "x"}',
        '{"v": 99, "type": "phase", "runner": "x", "phase": "done"}',
        '{"v": 1, "type": "phase", "runner": "x"}',
        b"\xff\xfe",
        '{"v": 1, "type": "metrics", "runner": "x", "step": 1}',
    ],
)
def test_garbage_raises_protocol_error(line):
    with pytest.raises(ProtocolError):
        decode(line)
