"""Hosts joining a run (``--hosts N --listen ADDR:PORT``), on the dashboard's host.

The listener binds the address the user names and admits only a host that
presents the run's token. Each joined host is told its node rank and the run
(runners, config, each runner's rendezvous address), starts its ranks
(``runners.session.hosts.join``) and streams their events back on the same
connection, one JSON line each.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

from workloads.errors import InputError

# A host has this long to present its token once connected: a stray connection cannot hold the door.
HELLO_TIMEOUT_S = 10.0


def send_message(connection: socket.socket, message: dict) -> None:
    connection.sendall((json.dumps(message) + "\n").encode())


def read_message(lines) -> dict:
    """The next JSON line of a connection's ``makefile("rb")``; {} at its end or for anything not JSON."""
    line = lines.readline()
    try:
        value = json.loads(line) if line else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError(f"expected an address like 10.0.0.5:29400, got {text!r}")
    return host.strip("[]"), int(port)


def free_port(address: str) -> int:
    """A port free now on ``address`` ('' for every address: TensorFlow's worker server listens on all of them)."""
    with socket.create_server((address, 0)) as probe:
        return probe.getsockname()[1]


@dataclass
class JoinedHost:
    name: str  # its hostname, as it said
    address: str  # where its ranks are reached
    node_rank: int
    connection: socket.socket
    lines: object  # the connection's makefile("rb")
    worker_port: int  # a port free on that host for its TensorFlow worker (TF_CONFIG)
    gone: threading.Event = field(default_factory=threading.Event)  # it left, or dropped


class HostGate:
    def __init__(self, listen: str, hosts: int, token: str | None = None):
        self.address = parse_address(listen)
        self.expected = hosts - 1  # the dashboard's host is node 0
        # Hex: a URL-safe token may begin with '-', and `join --token -x…` is then read as an option (it was:
        # 'argument --token: expected one argument', about one run in 64).
        self.token = token or secrets.token_hex(16)
        self.refused = 0
        try:
            self._server = socket.create_server(self.address)
        except OSError as exc:
            raise InputError(f"--listen {listen}: cannot listen there ({exc.strerror or exc})") from None
        self.port = self._server.getsockname()[1]

    def join_command(self) -> str:
        return f"kvp-dash join {self.address[0]}:{self.port} --token {self.token}"

    def free_port(self) -> int:
        """A free port on the listening address, for a runner's rendezvous store on this host."""
        return free_port(self.address[0])

    def wait(self, run: dict, timeout_s: float) -> list[JoinedHost]:
        """Admit hosts until every expected one has joined, then send each ``run`` with its node rank, and with
        every host's TensorFlow worker address (``tf_workers``, node 0's first): TF_CONFIG names them all."""
        joined: list[JoinedHost] = []
        deadline = time.monotonic() + timeout_s
        while len(joined) < self.expected:
            self._server.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                connection, peer = self._server.accept()
            except TimeoutError:
                for host in joined:
                    host.connection.close()
                raise InputError(f"only {len(joined)} of {self.expected} host(s) joined within {timeout_s:g} s") \
                    from None
            host = self._admit(connection, peer, len(joined) + 1)
            if host is not None:
                joined.append(host)
        self._server.close()
        run["tf_workers"] = [f"{self.address[0]}:{free_port('')}"] + [f"{h.address}:{h.worker_port}" for h in joined]
        for host in joined:
            send_message(host.connection, {"node_rank": host.node_rank, **run})
        return joined

    def _admit(self, connection: socket.socket, peer, node_rank: int) -> JoinedHost | None:
        connection.settimeout(HELLO_TIMEOUT_S)
        lines = connection.makefile("rb")
        try:
            hello = read_message(lines)
        except OSError:
            hello = {}
        if not secrets.compare_digest(str(hello.get("token", "")), self.token):
            self.refused += 1
            try:
                send_message(connection, {"refused": "wrong or missing token"})
            except OSError:
                pass
            connection.close()
            return None
        connection.settimeout(None)
        address = str(hello.get("address") or peer[0])
        return JoinedHost(str(hello.get("host", peer[0])), address, node_rank, connection, lines,
                          int(hello.get("worker_port", 0)))

    def close(self) -> None:
        self._server.close()


# How long the dashboard waits for the other hosts to join before it gives up.
JOIN_TIMEOUT_S = 600.0


def gather_hosts(session, listen: str, timeout_s: float = JOIN_TIMEOUT_S) -> None:
    """Before the runners start: wait for the other hosts (printing the command each runs), tell them the run, and
    hand them to the launcher. A failure leaves nothing started."""
    import shutil
    import sys

    from runners.session.hosts.join import node_environment

    plan = session.plan
    gate = HostGate(listen, plan.hosts)
    run = {"nodes": plan.hosts, "runners": [spec.name for spec in plan.specs], "config": session.config.to_json(),
           "run_id": session.folder.path.name,
           "rendezvous": {spec.name: f"{gate.address[0]}:{gate.free_port()}" for spec in plan.specs}}
    print(f"kvp-dash: waiting for {plan.hosts - 1} more host(s) to join; on each, run:\n  {gate.join_command()}",
          file=sys.stderr, flush=True)
    try:
        hosts = gate.wait(run, timeout_s)
    except BaseException as exc:  # a timeout, or Ctrl-C while waiting: nothing trained, no run folder left behind
        gate.close()
        session.close()
        shutil.rmtree(session.folder.path, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            print("kvp-dash: stopped while waiting for hosts; nothing was trained", file=sys.stderr)
            raise SystemExit(130) from None
        raise
    print(f"kvp-dash: joined: {', '.join(f'{h.name} ({h.address})' for h in hosts)}", file=sys.stderr, flush=True)
    session.launcher.add_hosts(hosts, {name: node_environment(run, name, 0, gate.address[0]) for name in run["runners"]})
