"""``kvp-dash join HOST:PORT --token T``: this host's ranks of a run whose dashboard is on another host.

It presents the token, is told its node rank and the run, starts one runner
process per runner (on torch, ``runners.child.distributed.ddp_launch``, whose torchrun ranks meet
node 0's at its rendezvous address; on jax, the Keras runner, whose process joins
node 0's through ``jax.distributed`` there) and streams their events back over the
same connection. When the dashboard goes (or drops), every runner here is stopped;
the runners die with this process in any case (parent-death signal).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from runners.config import RunConfig
from runners.protocol import (
    EVENT_FD_ENV,
    NODE_ADDRESS_ENV,
    NODE_RANK_ENV,
    NODES_ENV,
    PARENT_PID_ENV,
    RENDEZVOUS_ENV,
    RUN_ID_ENV,
)
from runners.session.planning.cpu_share import available_cpus, thread_environment
from runners.session.hosts.gate import free_port, parse_address, read_message, send_message
from runners.session.launching.runner_environment import data_parallel_environment, framework_environment, runner_module
from runners.specs import SPECS
from workloads.errors import InputError

CONNECT_TIMEOUT_S = 30.0


def node_environment(run: dict, runner: str, node_rank: int, node_address: str) -> dict[str, str]:
    """What a runner process needs to meet the other nodes: the same on the dashboard's host (node 0). A Keras
    runner on tensorflow reads the cluster from TF_CONFIG: every host's worker, this one's index among them."""
    environment = {NODES_ENV: str(run["nodes"]), NODE_RANK_ENV: str(node_rank),
                   RENDEZVOUS_ENV: run["rendezvous"][runner],
                   RUN_ID_ENV: f"{run['run_id']}-{runner.replace('/', '-')}", NODE_ADDRESS_ENV: node_address}
    if SPECS[runner].backend == "tensorflow":
        environment["TF_CONFIG"] = json.dumps({"cluster": {"worker": run["tf_workers"]},
                                               "task": {"type": "worker", "index": node_rank}})
    return environment


class JoinedRun:
    def __init__(self, address: str, token: str, node_address: str | None, output: Path):
        host, port = parse_address(address)
        try:
            self.connection = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            raise InputError(f"cannot reach the dashboard at {address}: {exc.strerror or exc}") from None
        self.node_address = node_address or self.connection.getsockname()[0]
        send_message(self.connection, {"token": token, "host": socket.gethostname(), "address": self.node_address,
                                       "worker_port": free_port("")})
        self.connection.settimeout(None)  # the run comes once every host has joined, however long that takes
        self.run = read_message(self.connection.makefile("rb"))
        if "node_rank" not in self.run:
            raise InputError(f"the dashboard at {address} refused this host: {self.run.get('refused', 'no answer')}")
        self.connection.settimeout(None)
        self.folder = output / f"join-{self.run['run_id']}-node{self.run['node_rank']}"
        self._send_lock = threading.Lock()
        self.processes: list[subprocess.Popen] = []
        self.dashboard_gone = threading.Event()

    def start(self) -> None:
        config = RunConfig.from_json(self.run["config"])
        cpus = available_cpus()  # this host's own CPUs, all of them, not node 0's share
        config = dataclasses.replace(config, cpus=cpus, threads=len(cpus))
        self.folder.mkdir(parents=True, exist_ok=True)
        pumps = self._pumps = []
        for runner in self.run["runners"]:
            spec = SPECS[runner]
            read_fd, write_fd = os.pipe()
            gpus = list(range(config.devices)) if config.device == "cuda" else None
            env = framework_environment(spec.backend, config.device, gpus)
            env.update(thread_environment(config.threads))
            env.update(data_parallel_environment(spec.backend, config.device, config.devices))
            env.update(node_environment(self.run, runner, self.run["node_rank"], self.node_address))
            env.update({EVENT_FD_ENV: str(write_fd), PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})
            with open(self.folder / f"{spec.slug}.output.log", "ab") as log:
                self.processes.append(subprocess.Popen(
                    [sys.executable, "-m", runner_module(spec, config), runner, config.to_json()],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                    pass_fds=(write_fd,), start_new_session=True,
                ))
            os.close(write_fd)
            pumps.append(threading.Thread(target=self._pump, args=(read_fd,), daemon=True))
        for pump in pumps:
            pump.start()
        threading.Thread(target=self._watch_dashboard, daemon=True).start()

    def _pump(self, read_fd: int) -> None:
        with os.fdopen(read_fd, "rb") as lines:
            for line in lines:
                try:
                    with self._send_lock:
                        self.connection.sendall(line)
                except OSError:
                    return  # the dashboard is gone: _watch_dashboard stops the runners

    def _watch_dashboard(self) -> None:
        """The dashboard closes the connection when the run ends or it quits; a drop looks the same."""
        try:
            while self.connection.recv(4096):
                pass
        except OSError:
            pass
        self.dashboard_gone.set()
        self.stop()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass

    def wait(self) -> int:
        codes = [process.wait() for process in self.processes]
        for pump in self._pumps:
            pump.join(10)  # their last lines sent before we say we leave
        try:
            with self._send_lock:  # a leaving host, not a dropped one
                self.connection.sendall(b'{"left": true}\n')
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()
        return 0 if all(code == 0 for code in codes) else 1


def join(address: str, token: str, node_address: str | None, output: Path) -> int:
    joined = JoinedRun(address, token, node_address, output)

    def leave(signum, frame):
        joined.stop()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, leave)
    print(f"kvp-dash join: node {joined.run['node_rank']} of {joined.run['nodes']}, runners "
          f"{', '.join(joined.run['runners'])}; output in {joined.folder}", file=sys.stderr)
    joined.start()
    code = joined.wait()
    if joined.dashboard_gone.is_set() and code:
        print("kvp-dash join: the dashboard went away; this host's runners were stopped", file=sys.stderr)
    return code
