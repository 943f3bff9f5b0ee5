"""The dashboard run as a user runs it, in a real terminal (a pty): no runner outlives it."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time

import psutil
import pytest

from tests.conftest import runner_children

RUNNERS = "torch,keras/jax"


class TerminalSession:
    """kvp-dash on a pseudo-terminal of a given size, its screen output drained in the background."""

    def __init__(self, tmp_path, *args: str, columns: int = 100, rows: int = 30):
        self.runs = tmp_path / "runs"
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--output", str(tmp_path / "runs"), *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=_own_terminal,
        )
        os.close(slave)
        self.master = master
        self.screen = bytearray()
        self._draining = threading.Event()
        self._draining.set()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        while self._draining.is_set():
            if not select.select([self.master], [], [], 0.1)[0]:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen += data

    def hang_up(self) -> None:
        """The terminal goes away, as when SSH drops or tmux is killed: the kernel sends SIGHUP and SIGCONT."""
        self._draining.clear()
        self._drainer.join()  # a read in progress would keep the terminal open
        os.close(self.master)
        self.master = os.open(os.devnull, os.O_RDONLY)  # for close()

    def runners(self, count: int, timeout_s: float = 60) -> list[psutil.Process]:
        """Wait until ``count`` runner subprocesses are training (their events file has metrics)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            children = runner_children(self.process.pid)
            training = [
                f for f in self.runs.glob("*/*.events.jsonl") if '"type": "metrics"' in f.read_text()
            ]
            if len(children) == count and len(training) == count:
                return children
            time.sleep(0.2)
        raise AssertionError(f"expected {count} runners, output so far: {bytes(self.screen[-2000:])!r}")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_exit(self, timeout_s: float = 20) -> int:
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def _own_terminal() -> None:
    """In the child: a session of its own with the pty as its controlling terminal, like a login shell's."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _all_gone(processes: list[psutil.Process], timeout_s: float) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    return all(p.status() == psutil.STATUS_ZOMBIE for p in alive if p.is_running())


@pytest.fixture
def session(tmp_path):
    sessions = []

    def start(*args, runners: str = RUNNERS, **kwargs):
        # A time budget that outlasts the test: its epoch is the size's preset's, not one laid out for a step count
        # (50,000 steps made 300 MiB a runner, seconds of page faults before the first step).
        s = TerminalSession(tmp_path, "--workload", "mlp", "--size", "tiny", "--duration", "600",
                            "--runners", runners, *args, **kwargs)
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.close()


@pytest.mark.parametrize(
    "how, schedule, names",
    [
        # One runner where the way out is what is tested (the CPU goes to the suite's other tests); two where a
        # stopped runner waits beside a training one, and in the SIGKILL test below.
        pytest.param(lambda s: (s.type(b"q"), time.sleep(0.5), s.type(b"y")), "parallel", "torch", id="q-then-confirm"),
        pytest.param(lambda s: s.type(b"\x03"), "parallel", "torch", id="ctrl-c"),
        pytest.param(lambda s: s.process.send_signal(signal.SIGTERM), "parallel", "torch", id="sigterm"),
        # The default schedule: one runner trains, the other is stopped waiting for its turn.
        pytest.param(lambda s: s.process.send_signal(signal.SIGHUP), "interleaved", RUNNERS, id="sighup-dropped-ssh"),
    ],
)
def test_leaving_the_dashboard_stops_every_runner(session, how, schedule, names, tmp_path):
    s = session("--schedule", schedule, runners=names)
    runners = s.runners(len(names.split(",")))
    time.sleep(1.0)  # let the app settle into its event loop
    how(s)
    s.wait_exit(timeout_s=20)
    assert _all_gone(runners, timeout_s=5)
    # The record is readable (every events line is complete JSON) and says the user stopped them, not that they
    # failed.
    events_files = list((tmp_path / "runs").glob("*/*.events.jsonl"))
    assert len(events_files) == len(runners)
    for events_file in events_files:
        events = [json.loads(line) for line in events_file.read_text().splitlines()]
        assert [e["phase"] for e in events if e["type"] == "phase"][-1] == "stopped", events_file.name


def test_a_terminal_that_goes_away_ends_the_dashboard(session, tmp_path):
    """A dropped SSH session or a killed tmux, after the run finished: the dashboard must still exit.

    The hang-up brings SIGHUP with a SIGCONT; Textual set its dead terminal up again on
    that SIGCONT, and its exit then waited forever for an output thread that had died.
    """
    s = session("--size", "tiny", "--steps", "100", columns=160, rows=48)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("runs/*/summary.json")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert list(tmp_path.glob("runs/*/summary.json")), "the run did not finish"
    time.sleep(1.0)
    s.hang_up()
    assert s.wait_exit(timeout_s=20) == 0


def test_dashboard_killed_with_sigkill_takes_its_runners_along(session):
    s = session()
    runners = s.runners(2)
    s.process.send_signal(signal.SIGKILL)
    s.wait_exit(timeout_s=5)
    # Nobody can clean up after SIGKILL: the parent-death signal must end the runners.
    assert _all_gone(runners, timeout_s=5)
