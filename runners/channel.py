"""Both ends of the event channel: JSON lines over a pipe fd.

Not stdout: frameworks print warnings and progress bars there.

Reporting never blocks training: ``emit`` only queues the line, and a writer
thread does the (possibly blocking) pipe writes. A dashboard that is slow or
frozen lets events pile up in this process (a few hundred bytes per window)
instead of stalling the training loop on a full pipe.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from typing import AsyncIterator, Callable

from runners.protocol import Event, ProtocolError, decode

EVENT_FD_ENV = "KVP_DASH_EVENT_FD"
_CLOSE = None


class EventWriter:
    def __init__(self, runner: str, fd: int):
        self.runner = runner
        self._fd = fd
        self._lines: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write_lines, name="kvp-dash-events", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> None:
        """Queue one event; returns at once whatever the reader is doing."""
        self._lines.put((event.to_json() + "\n").encode())

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (waiting up to ``timeout_s`` for a slow reader), then stop."""
        self._lines.put(_CLOSE)
        self._thread.join(timeout_s)

    def _write_lines(self) -> None:
        while (data := self._lines.get()) is not _CLOSE:
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


class ChannelReader:
    """The dashboard's end: valid events from a runner's channel, whatever else arrives on it.

    Malformed JSON, unknown event types, lines over the reader's limit and a
    partial line at EOF are counted in ``bad_lines`` and skipped, never raised.
    """

    def __init__(self, reader: asyncio.StreamReader):
        self.reader = reader
        self.bad_lines = 0

    async def events(self, record: Callable[[bytes], None] = lambda line: None) -> AsyncIterator[Event]:
        """Each line (valid or not) goes to ``record`` first, so the run's record is complete."""
        while True:
            try:
                line = await self.reader.readline()
            except ValueError:  # longer than the reader's limit: its buffer is dropped
                self.bad_lines += 1
                continue
            if not line:
                return
            record(line if line.endswith(b"\n") else line + b"\n")
            try:
                event = decode(line)
            except ProtocolError:
                self.bad_lines += 1
                continue
            yield event
