"""Hardening: garbage on the channel, a reader that never reads, runners killed mid-run, failing disks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runners.child.event_writer import EventWriter
from runners.protocol import Metrics, Phase
from runners.session.launching.channel_reader import (
    MAX_EVENT_BYTES,
    READ_BYTES,
    ChannelDecoder,
    ChannelReader,
)
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import finish_run
from tests.conftest import collect, tiny_launcher

VALID = [
    Phase("torch", "training", t=1.0),
    Metrics("torch", first_step=0, step=1, losses=[2.0, 1.5], window_s=0.1, batch_size=8, warmup=False, t=2.0),
]
GARBAGE = st.one_of(
    st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")),  # anything at all
    st.just(b'{"v": 1, "type": "weather", "runner": "torch", "t": 1}'),  # unknown event type
    st.just(b'{"v": 2, "type": "phase", "runner": "torch", "t": 1, "phase": "done"}'),  # another version
    st.just(b'{"v": 1, "type": "metrics", "runner": "torch"}'),  # fields missing
    st.just(b"[1, 2, 3]"),
    st.just(b"x" * 5000),  # over the test reader's 4 KiB limit
)


def _read_all(chunks: list[bytes], limit: int) -> tuple[list, int, list[bytes]]:
    """Events, bad lines, and the lines the decoder recorded (it records a read's lines in one write)."""
    recorded: list[bytes] = []
    decoder = ChannelDecoder(recorded.append, limit)
    events = [event for chunk in chunks for event in decoder.feed(chunk)] + decoder.close()
    return events, decoder.bad_lines, [line + b"\n" for line in b"".join(recorded).split(b"\n")[:-1]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.one_of(st.sampled_from(VALID), GARBAGE), max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=64), max_size=10),
    tail=st.binary(max_size=100).map(lambda b: b.replace(b"\n", b"")),
)
def test_garbage_on_the_channel_is_counted_and_skipped_never_raised(lines, cuts, tail):
    """Valid events come through in order whatever surrounds them; the rest is counted.

    The stream is cut into arbitrary pieces (the pipe delivers partial writes) and may
    end in a partial line with no newline (a runner killed mid-write).
    """
    data = b"".join((item.to_json().encode() if not isinstance(item, bytes) else item) + b"\n" for item in lines)
    data += tail
    chunks, at = [], 0
    for cut in cuts:
        chunks.append(data[at : at + cut])
        at += cut
    chunks.append(data[at:])
    events, bad, recorded = _read_all(chunks, limit=4096)
    assert events == [item for item in lines if not isinstance(item, bytes)]
    garbage = [item for item in lines if isinstance(item, bytes)] + ([tail] if tail else [])
    assert bad == len(garbage)  # each bad line counted once, over-long ones included
    # Every line is recorded except over-long ones, which are dropped as they arrive.
    assert len(recorded) == len(events) + sum(1 for g in garbage if len(g) <= 4096)


def test_a_ten_megabyte_line_is_one_bad_line_and_the_next_event_arrives():
    huge = b'{"v": 1, "type": "phase", "runner": "torch", "t": 1, "phase": "' + b"x" * 10_000_000 + b'"}'
    events, bad, _ = _read_all([huge[i : i + 65536] for i in range(0, len(huge), 65536)]
                               + [b"\n" + VALID[1].to_json().encode() + b"\n"], MAX_EVENT_BYTES)
    # It parses as JSON but is no phase a runner has: counted by the state, not a crash anywhere.
    state = RunnerState("torch", 2)
    for event in events:
        state.apply(event)
    assert bad == 0 and len(events) == 2 and state.steps_done == 2
    garbage = b"{" * 10_000_000
    events, bad, _ = _read_all([garbage + b"\n", VALID[0].to_json().encode()], MAX_EVENT_BYTES)
    assert bad == 1 and events == [VALID[0]]  # and a final line without a newline still counts
    over_limit = b"y" * (MAX_EVENT_BYTES + 10)
    events, bad, recorded = _read_all([over_limit[i : i + 65536] for i in range(0, len(over_limit), 65536)]
                                      + [b"\n", VALID[0].to_json().encode() + b"\n"], MAX_EVENT_BYTES)
    assert bad == 1 and events == [VALID[0]] and len(recorded) == 1  # dropped as it came, counted once


def _metrics(runner: str, count: int) -> list[Metrics]:
    return [Metrics(runner, first_step=i, step=i, losses=[1.0], window_s=0.1, batch_size=8, warmup=False, t=1.0)
            for i in range(count)]


def test_one_thread_reads_every_channel_in_paced_batches():
    """ChannelReader: each channel's events arrive whole and in order, many per hand-over, then EOF is told."""
    reader_passes: list[list] = []
    ended = threading.Event()

    def hand_over(batches):
        reader_passes.append(batches)
        if sum(closed for passes in reader_passes for _, _, closed in passes) == 2:
            ended.set()

    reader = ChannelReader(hand_over, pace_s=0.05)
    pipes = {name: os.pipe() for name in ("torch", "keras/jax")}
    for name, (read_fd, _) in pipes.items():
        reader.watch(read_fd, ChannelDecoder(), name)
    sent = {name: _metrics(name, 100) for name in pipes}
    started = time.monotonic()
    for i in range(100):  # both runners report every 2 ms for 0.2 s
        for name, (_, write_fd) in pipes.items():
            os.write(write_fd, (sent[name][i].to_json() + "\n").encode())
        time.sleep(0.002)
    for _, write_fd in pipes.values():
        os.close(write_fd)
    assert ended.wait(10)
    elapsed = time.monotonic() - started
    for name in pipes:
        got = [e for passes in reader_passes for key, events, _ in passes if key == name for e in events]
        assert got == sent[name]
    # One hand-over per pass for all channels, at most one pass per pace: not one per event.
    assert len(reader_passes) <= elapsed / 0.05 + 2
    for read_fd, _ in pipes.values():
        with pytest.raises(OSError):
            os.fstat(read_fd)  # closed by the reader at EOF


def test_a_quiet_channel_is_read_at_once_and_a_full_read_never_blocks():
    """A lone event is handed over well within the pace; a read that exactly fills the buffer does not hang."""
    got: list = []
    arrived = threading.Event()

    def hand_over(batches):
        got.extend(e for _, events, _ in batches for e in events)
        arrived.set()

    reader = ChannelReader(hand_over, pace_s=0.5)
    read_fd, write_fd = os.pipe()
    reader.watch(read_fd, ChannelDecoder(), "torch")
    event = _metrics("torch", 1)[0]
    started = time.monotonic()
    os.write(write_fd, (event.to_json() + "\n").encode())
    assert arrived.wait(5) and time.monotonic() - started < 0.4 and got == [event]
    # Exactly READ_BYTES of complete lines, then silence: the reader must come back for more, not block.
    line = (event.to_json() + "\n").encode()
    filler = b" " * (READ_BYTES - len(line) - 1) + b"\n"  # a blank line: counted bad, no event
    os.write(write_fd, filler + line)  # the write end stays open: a blocking read would wait here for ever
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.close(write_fd)
    assert got == [event, event]


def test_reporting_never_blocks_training_when_nobody_reads():
    """The dashboard frozen: the pipe fills (64 KiB) but emit() keeps returning at once."""
    read_fd, write_fd = os.pipe()
    writer = EventWriter("torch", write_fd)
    event = Metrics("torch", first_step=0, step=0, losses=[0.5] * 500, window_s=0.1, batch_size=8, warmup=False)
    count = 2000  # about 13 MB: two hundred pipes' worth
    done = threading.Event()

    def train():
        for _ in range(count):
            writer.emit(event)
        done.set()

    started = time.monotonic()
    threading.Thread(target=train, daemon=True).start()
    assert done.wait(20), "emit() blocked on a full pipe"
    emit_s = time.monotonic() - started
    # Now the dashboard wakes up: every event arrives, whole and in order.
    received = b""
    with os.fdopen(read_fd, "rb") as pipe:
        closer = threading.Thread(target=lambda: (writer.close(), os.close(write_fd)))
        closer.start()
        received = pipe.read()
        closer.join()
    lines = received.splitlines()
    assert len(lines) == count and all(json.loads(line)["type"] == "metrics" for line in lines)
    assert emit_s < 20


async def test_runners_killed_mid_run_are_marked_and_the_others_finish(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch", "keras/jax", "keras/torch"], steps=400)
    victims = {"torch": signal.SIGKILL, "keras/torch": signal.SIGABRT}  # SIGABRT: what os.abort() raises
    states = {name: RunnerState(name, launcher.total_steps) for name in launcher.runner_names}

    def on_event(event):
        states[event.runner].apply(event)
        state = states[event.runner]
        if event.runner in victims and state.steps_done >= 20 and state.phase == "training":
            os.kill(launcher.pids()[event.runner], victims.pop(event.runner))

    await collect(launcher, on_event)
    assert states["keras/jax"].phase == "done" and states["keras/jax"].steps_done == 400
    assert states["torch"].phase == "failed" and "killed by SIGKILL" in states["torch"].error.message
    assert states["torch"].error.error_type == "RunnerExited" and states["torch"].done is None
    assert states["keras/torch"].phase == "failed" and "killed by SIGABRT" in states["keras/torch"].error.message
    table, verdict = finish_run(launcher.folder, list(states.values()), "kill test", "mlp", 32, "cpu")
    assert "failed: " in verdict and "torch" in verdict.split("failed: ")[1] and "keras/torch" in verdict.split("failed: ")[1]
    summary = json.loads((launcher.folder.path / "summary.json").read_text())
    assert {s["runner"]: s["phase"] for s in summary["standings"]} == {
        "keras/jax": "done", "torch": "failed", "keras/torch": "failed"}


async def test_a_full_disk_stops_the_record_not_the_training(tmp_path):
    launcher = tiny_launcher(tmp_path, ["torch"], steps=40)
    launcher.folder.events_path = lambda spec: Path("/dev/full")  # every write: ENOSPC
    events = await collect(launcher)
    assert events["torch"][-1] == Phase("torch", "done", t=events["torch"][-1].t)
    assert "No space left on device" in launcher.record_error and "training goes on" in launcher.record_error


def test_an_unwritable_output_directory_is_one_clear_line(tmp_path):
    # Under a file: unwritable for every user, root included (chmod does not stop root).
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--workload", "mlp", "--headless", "--output", str(blocker / "runs")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("kvp-dash: error: cannot create a run folder in ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
