"""The runner's end of the event channel: JSON lines written to a pipe fd.

Not stdout: frameworks print warnings and progress bars there.
"""

from __future__ import annotations

import os
import threading

from runners.protocol import Event

EVENT_FD_ENV = "KVP_DASH_EVENT_FD"


class EventWriter:
    def __init__(self, runner: str, fd: int):
        self.runner = runner
        self._fd = fd
        # Keras may call batch callbacks from a worker thread: one writer at a time.
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        data = (event.to_json() + "\n").encode()
        with self._lock:
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
