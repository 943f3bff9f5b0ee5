"""The ranks' events onto their runner's one channel.

torchrun's workers do not inherit the runner's event pipe (its launcher closes
every other descriptor), so each rank connects to a Unix socket here, says who it
is, and sends its event lines; they are written to the channel whole, one line at
a time, so ranks never interleave inside a line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import threading

from runners.child.distributed.scratch import make_folder

# What rank 0 sends, after "waiting", to have the runner's process group stopped for the others' turns.
STOP_GROUP = b'{"stop_group"'


class RankRelay:
    def __init__(self, channel_fd: int, on_rank=lambda rank, pid: None):
        """``on_rank(rank, pid)`` is called as each rank says who it is."""
        self._channel_fd = channel_fd
        self._on_rank = on_rank
        self._folder = make_folder("ranks")  # 0700: only this user may connect
        self.path = os.path.join(self._folder, "events.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen()
        self._lock = threading.Lock()
        self.rank_pids: dict[int, int] = {}
        self.failed_said = False  # a rank has already said "failed" (with its error)
        self.done_said = False  # rank 0 said the run is done: what happens to a rank after that is no failure
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, name="kvp-dash-rank-relay", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            thread = threading.Thread(target=self._relay, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _relay(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as lines:
            who = json.loads(lines.readline() or b"{}")
            if "rank" in who:
                self.rank_pids[who["rank"]] = who["pid"]
                self._on_rank(who["rank"], who["pid"])
            for line in lines:
                if line.startswith(STOP_GROUP):
                    # Rank 0 gives its turn back: "waiting" is on the channel now (written above, in order), so
                    # the whole runner stops here: this process, torchrun's agent and every rank.
                    os.killpg(os.getpgid(0), signal.SIGSTOP)
                    continue
                if self.failed_said and (b'"type": "error"' in line or b'"phase": "failed"' in line):
                    continue  # the first rank to fail speaks for the runner: the others die of its going
                if b'"phase": "failed"' in line:
                    self.failed_said = True
                elif b'"phase": "done"' in line:
                    self.done_said = True
                self.write(line if line.endswith(b"\n") else line + b"\n")

    def write(self, line: bytes) -> None:
        with self._lock:
            view = memoryview(line)
            try:
                while view:
                    view = view[os.write(self._channel_fd, view):]
            except BrokenPipeError:
                os._exit(3)  # the dashboard is gone

    def drain(self, timeout_s: float = 5.0) -> None:
        """Wait for the ranks' connections to end (their last lines relayed), up to ``timeout_s``."""
        for thread in list(self._threads):
            thread.join(timeout_s)

    def close(self) -> None:
        self._server.close()
        shutil.rmtree(self._folder, ignore_errors=True)
