"""Each runner's events file in the run folder, appended as the events arrive.

Recording is best effort: a full or failing disk ends the record, never the training. The first
failure is kept (``error``) and every view shows it.
"""

from __future__ import annotations

from typing import BinaryIO

from runners.protocol import Event
from runners.session.record.run_folder import RunFolder
from runners.specs import RunnerSpec


class EventRecord:
    def __init__(self, folder: RunFolder):
        self.folder = folder
        self.error: str | None = None  # why recording stopped, once it has

    def open(self, spec: RunnerSpec) -> BinaryIO | None:
        """The runner's events file, or None once recording has failed."""
        if self.error is not None:
            return None
        try:
            return open(self.folder.events_path(spec), "ab")
        except OSError as exc:
            self._failed(exc)
            return None

    def write(self, record: BinaryIO | None, data: bytes) -> None:
        if record is None or self.error is not None:
            return
        try:
            record.write(data)
        except OSError as exc:
            self._failed(exc)

    def flush(self, record: BinaryIO | None) -> None:
        """After each read pass: the record on disk is never more than one read interval behind."""
        if record is None or self.error is not None:
            return
        try:
            record.flush()
        except OSError as exc:
            self._failed(exc)

    def close(self, record: BinaryIO | None) -> None:
        try:
            if record is not None:
                record.close()  # flushes what a failed write left behind: may fail again
        except OSError as exc:
            self._failed(exc)

    def append(self, spec: RunnerSpec, event: Event) -> None:
        """One event the launcher says for a runner (not read from its channel)."""
        record = self.open(spec)
        self.write(record, line_of(event))
        self.close(record)

    def _failed(self, exc: OSError) -> None:
        if self.error is None:
            self.error = f"recording stopped ({exc.strerror or exc}) in {self.folder.path}; training goes on"


def line_of(event: Event) -> bytes:
    return (event.to_json() + "\n").encode()
