"""The runner's end of the event channel: JSON lines over a pipe fd (not stdout: frameworks print there).

Reporting never blocks training: ``emit`` only queues the line, and a writer
thread does the (possibly blocking) pipe writes. A dashboard that is slow or
frozen lets events pile up in this process (a few hundred bytes per window)
instead of stalling the training loop on a full pipe.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading

from runners.protocol import EVENT_FD_ENV, EVENT_SOCKET_ENV, Error, Event, Phase, Rank

_CLOSE = None


class EventWriter:
    def __init__(self, runner: str, fd: int):
        self.runner = runner
        self._fd = fd
        self._lines: queue.SimpleQueue[bytes | threading.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write_lines, name="kvp-dash-events", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> None:
        """Queue one event; returns at once whatever the reader is doing."""
        self._lines.put((event.to_json() + "\n").encode())

    def emit_line(self, data: bytes) -> None:
        """Queue a line that is not an event (a message to the runner process a rank reports through)."""
        self._lines.put(data)

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until everything emitted so far is in the pipe (up to ``timeout_s`` for a slow reader)."""
        written = threading.Event()
        self._lines.put(written)
        written.wait(timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (waiting up to ``timeout_s`` for a slow reader), then stop."""
        self._lines.put(_CLOSE)
        self._thread.join(timeout_s)

    def _write_lines(self) -> None:
        while (data := self._lines.get()) is not _CLOSE:
            if isinstance(data, threading.Event):  # a drain() marker: what came before it is written
                data.set()
                continue
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
            except BrokenPipeError:
                # The dashboard is gone: nobody is watching, so stop training at once.
                os._exit(3)

    @classmethod
    def from_environment(cls, runner: str) -> "EventWriter":
        return cls(runner, int(os.environ[EVENT_FD_ENV]))

    @classmethod
    def for_rank(cls, runner: str, rank: int) -> "EventWriter":
        """A torchrun rank's writer: connected to its runner process's relay, which it first tells who it is."""
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(os.environ[EVENT_SOCKET_ENV])
        connection.sendall((json.dumps({"rank": rank, "pid": os.getpid()}) + "\n").encode())
        writer = cls(runner, connection.fileno())
        writer._connection = connection  # kept open as long as the writer
        return writer


class RankOnlyWriter(EventWriter):
    """The writer of a runner's process on a joined host (one jax process a host): node 0's process reports the
    training; this one says only where it runs and what it holds (``Rank``), and how it fails."""

    def emit(self, event: Event) -> None:
        if isinstance(event, (Rank, Error)) or (isinstance(event, Phase) and event.phase == "failed"):
            super().emit(event)
