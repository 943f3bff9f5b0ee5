"""Other hosts' shares of every runner (``--hosts``), from the launcher's side: each host's event lines read on
a thread of their own until it leaves (it says so) or drops, and the connections closed at the end."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Callable

from runners.protocol import Event, ProtocolError, decode

# At the end of a run, how long joined hosts get to end their ranks and say they leave before they are told to stop.
HOSTS_LEAVE_S = 15.0


class JoinedHosts:
    def __init__(self):
        self.hosts: list = []  # runners.session.hosts.gate.JoinedHost
        self._node_environment: dict[str, dict[str, str]] = {}

    def add(self, hosts: list, node_environment: dict[str, dict[str, str]]) -> None:
        """``node_environment``: what each runner's process here needs to meet them (node 0)."""
        self.hosts, self._node_environment = hosts, node_environment

    def environment(self, runner: str) -> dict[str, str]:
        return self._node_environment.get(runner, {})

    def watch(self, on_event: Callable[[Event], None], on_dropped: Callable[[object], None]) -> None:
        """Events and drops are handed to the running loop, never called on the reading threads."""
        loop = asyncio.get_running_loop()
        for host in self.hosts:
            threading.Thread(target=self._read, args=(host, loop, on_event, on_dropped), daemon=True).start()

    @staticmethod
    def _read(host, loop: asyncio.AbstractEventLoop, on_event, on_dropped) -> None:
        left = False
        try:
            for line in host.lines:
                if line.startswith(b'{"left"'):
                    left = True
                    break
                try:
                    event = decode(line)
                except ProtocolError:
                    continue
                loop.call_soon_threadsafe(on_event, event)
        except (OSError, ValueError):
            pass
        host.gone.set()
        if not left:
            loop.call_soon_threadsafe(on_dropped, host)

    async def close(self, let_them_leave: bool) -> None:
        """``let_them_leave``: every runner finished, so their ranks are ending too; give them time to say so.
        A joined host stops its ranks when its connection closes."""
        if let_them_leave and self.hosts:
            await asyncio.to_thread(lambda: [host.gone.wait(HOSTS_LEAVE_S) for host in self.hosts])
        for host in self.hosts:
            try:
                host.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            host.connection.close()
