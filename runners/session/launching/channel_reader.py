"""The dashboard's end of the runners' event channels: read on one thread, decoded, recorded, handed over.

The runner's end is ``runners.child.event_writer``; the lines are the events of
``runners.protocol``.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import Callable

from runners.protocol import Event, decode_lines

# Room for a generous event; a longer line is counted as bad and skipped.
MAX_EVENT_BYTES = 16 * 1024 * 1024
# One read takes at most this much; a fuller channel is read again at once.
READ_BYTES = 1 << 16
# Half a pipe's capacity on Linux (64 KiB, less in practice: small writes fill its pages unevenly). A read
# pass that took this much found a runner close to blocking on its pipe: no rest before the next.
BUSY_BYTES = 1 << 15
FLOOD_S, FLOOD_REST_S = 1.0, 0.005


class ChannelDecoder:
    """The dashboard's end: valid events from the bytes of a runner's channel, whatever else arrives.

    Malformed JSON, unknown event types, lines longer than ``limit`` and a partial
    line at EOF are counted in ``bad_lines`` and skipped, never raised. Every line
    that is kept in memory goes to ``record`` first, so the run's record is complete.
    """

    def __init__(self, record: Callable[[bytes], None] = lambda line: None, limit: int = MAX_EVENT_BYTES):
        self.record = record
        self.limit = limit
        self.bad_lines = 0
        self._pieces: list[bytes] = []  # the line being received, in pieces (a 10 MB line is not copied per read)
        self._pending = 0
        self._skipping = False  # inside an over-long line: dropped up to its newline

    def feed(self, data: bytes) -> list[Event]:
        lines = []
        *complete, rest = data.split(b"\n")
        for index, piece in enumerate(complete):
            line = b"".join(self._pieces) + piece if index == 0 else piece
            if index == 0:
                self._pieces, self._pending = [], 0
                if self._skipping:
                    self._skipping = False
                    self.bad_lines += 1  # counted once, at its end
                    continue
            if len(line) > self.limit:  # arrived whole in one read
                self.bad_lines += 1
                continue
            lines.append(line)
        if rest:
            self._pieces.append(rest)
            self._pending += len(rest)
            if self._pending > self.limit:
                self._pieces, self._pending, self._skipping = [], 0, True
        return self._decode(lines)

    def close(self) -> list[Event]:
        """End of the channel: a line still unfinished is a runner cut off mid-write."""
        if self._skipping:
            self._skipping = False
            self.bad_lines += 1
            return []
        line, self._pieces, self._pending = b"".join(self._pieces), [], 0
        return self._decode([line]) if line else []

    def _decode(self, lines: list[bytes]) -> list[Event]:
        if not lines:
            return []
        self.record(b"".join(line + b"\n" for line in lines))
        events, bad = decode_lines(lines)
        self.bad_lines += bad
        return events


class ChannelReader:
    """Every runner's channel, read on one thread and handed over in batches.

    Decoding and recording happen here, off the dashboard's event loop. After each
    pass the thread rests ``pace_s`` (the dashboard passes its frame interval):
    runners reporting every millisecond cost the dashboard at most 1/pace_s wake-ups
    a second in all (each a thread switch and one hand-over to the loop), while a
    quiet runner's event is read the moment it lands. A channel whose pipe was
    filling up turns the rest down to FLOOD_REST_S for FLOOD_S, so the pace never
    caps throughput. The thread starts with the first channel and ends with the last.

    ``hand_over`` gets, on the reading thread, a list of ``(key, events, closed)``:
    the events each channel gave since the last pass, and whether it reached EOF
    (its fd is then closed).
    """

    def __init__(self, hand_over: Callable[[list[tuple[object, list[Event], bool]]], None], pace_s: float = 0.025):
        self._hand_over = hand_over
        self.pace_s = pace_s
        self._lock = threading.Lock()
        self._channels: dict[int, tuple[object, ChannelDecoder]] = {}
        self._wake: tuple[int, int] | None = None  # a pipe that interrupts the wait when a channel is added

    def watch(self, fd: int, decoder: ChannelDecoder, key: object) -> None:
        os.set_blocking(fd, False)  # a pass reads what is there and never waits for more
        with self._lock:
            self._channels[fd] = (key, decoder)
            if self._wake is None:
                self._wake = os.pipe()
                threading.Thread(target=self._run, args=(self._wake,), name="kvp-dash-channels", daemon=True).start()
            os.write(self._wake[1], b".")

    def _run(self, wake: tuple[int, int]) -> None:
        flooded_until = 0.0
        try:
            while fds := self._watched():
                ready = select.select(fds + [wake[0]], [], [])[0]
                if wake[0] in ready:
                    os.read(wake[0], 1024)
                passes = [self._read(fd) for fd in ready if fd != wake[0]]
                if passes:
                    self._hand_over([batch for batch, _ in passes])
                    if any(busy for _, busy in passes):
                        flooded_until = time.monotonic() + FLOOD_S
                    # Let the next events gather; but a channel whose pipe was filling up is read again
                    # almost at once for a while: the pace must never cap throughput.
                    time.sleep(FLOOD_REST_S if time.monotonic() < flooded_until else self.pace_s)
        except Exception:  # nobody to hand over to any more (the dashboard's loop closed): stop reading
            with self._lock:
                for fd in self._channels:
                    os.close(fd)
                self._channels.clear()
                self._wake = None
        finally:
            os.close(wake[0])
            os.close(wake[1])

    def _watched(self) -> list[int]:
        with self._lock:
            if not self._channels:
                self._wake = None  # this thread ends: the next watch() starts another
            return list(self._channels)

    def _read(self, fd: int) -> tuple[tuple[object, list[Event], bool], bool]:
        """What the channel holds now, whether it reached EOF, and whether its pipe was filling up."""
        key, decoder = self._channels[fd]
        events: list[Event] = []
        taken = 0
        while True:
            try:
                data = os.read(fd, READ_BYTES)
            except BlockingIOError:
                return (key, events, False), taken >= BUSY_BYTES
            if not data:
                events.extend(decoder.close())
                with self._lock:
                    del self._channels[fd]
                os.close(fd)
                return (key, events, True), False
            taken += len(data)
            events.extend(decoder.feed(data))
