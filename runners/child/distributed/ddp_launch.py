"""A data-parallel runner on the torch backend: ``python -m runners.child.distributed.ddp_launch SPEC CONFIG_JSON``.

The runner process the launcher starts in place of ``runners.child`` when ``--devices``
is above one for native PyTorch or Keras on torch. It starts the ranks with torchrun's
elastic launcher (``torch.distributed.launcher.api.elastic_launch``, what the
``torchrun`` command runs) and relays their events to the dashboard.

The ranks are started as a function (spawn) rather than as a command: torchrun gives a
command's workers sessions of their own, out of reach of the dashboard's signals to the
runner's process group (pause, stop); spawned workers stay in it. Each rank also dies
with this process (parent-death signal), and this one with the dashboard.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys

from runners.child import turns
from runners.child.main import die_with_parent
from runners.child.distributed.rank_relay import RankRelay
from runners.child.distributed.scratch import make_folder, remove_orphans
from runners.config import RunConfig
from runners.protocol import (
    EVENT_FD_ENV,
    EVENT_SOCKET_ENV,
    FINISH_SIGNAL,
    NODE_ADDRESS_ENV,
    NODE_RANK_ENV,
    NODES_ENV,
    PARENT_PID_ENV,
    RENDEZVOUS_ENV,
    RUN_ID_ENV,
    YIELD_SIGNAL,
    Error,
    Phase,
)
from runners.specs import SPECS


def main(argv: list[str] | None = None) -> int:
    spec_name, config_json = (argv if argv is not None else sys.argv[1:])[:2]
    spec, config = SPECS[spec_name], RunConfig.from_json(config_json)
    die_with_parent()
    for kind in ("ranks", "torchrun"):
        remove_orphans(kind)  # left by runners killed with their dashboard
    requests: set[int] = set()  # the launcher's requests that came before rank 0 could take them

    def on_rank(rank: int, pid: int) -> None:
        if rank == 0:
            for signum in sorted(requests):
                os.kill(pid, signum)

    relay = RankRelay(int(os.environ[EVENT_FD_ENV]), on_rank)

    def say(event) -> None:
        relay.write((event.to_json() + "\n").encode())

    def pass_to_rank_0(signum, frame) -> None:
        # Rank 0 decides when every rank stops (runners.child.distributed.ddp_runner.FINISH_LAG), and when the runner gives
        # its turn back: the launcher's requests go to it.
        if 0 in relay.rank_pids:
            os.kill(relay.rank_pids[0], signum)
        else:  # still starting: rank 0 gets it as soon as it says who it is
            requests.add(signum)

    signal.signal(FINISH_SIGNAL, pass_to_rank_0)
    signal.signal(YIELD_SIGNAL, pass_to_rank_0)  # rank 0 gives the turn back at its next window edge
    turns.wait_for_first_turn()  # interleaved: start-up, the ranks' too, is timed with the machine to ourselves
    say(Phase(spec.name, "importing"))
    logs = make_folder("torchrun")  # torchrun's error files
    try:
        return _launch(spec, config, config_json, relay, say, logs)
    finally:
        relay.drain()
        relay.close()
        shutil.rmtree(logs, ignore_errors=True)


def _launch(spec, config: RunConfig, config_json: str, relay: RankRelay, say, logs: str) -> int:
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    from runners.child.distributed.ddp_rank import run_rank

    os.environ[PARENT_PID_ENV] = str(os.getpid())  # the ranks' parent: they die with us
    os.environ[EVENT_SOCKET_ENV] = relay.path
    os.environ.pop(EVENT_FD_ENV, None)  # not theirs: they use the relay
    launch = LaunchConfig(nproc_per_node=config.devices, max_restarts=0, monitor_interval=0.1, start_method="spawn",
                          logs_specs=DefaultLogsSpecs(log_dir=logs), **_rendezvous())
    try:
        elastic_launch(launch, run_rank)(spec.name, config_json)
    except ChildFailedError as exc:
        relay.drain()
        if relay.done_said:
            return 0  # trained to the end and reported; a rank's exit after that is no failure of the run
        rank, failure = exc.get_first_failure()
        if not relay.failed_said:  # a rank that died without a word (killed, out of memory)
            say(Error(spec.name, error_type="RankFailed",
                      message=f"rank {rank} failed: {failure.message or failure.exitcode}"))
            say(Phase(spec.name, "failed"))
        return 1
    return 0


def _rendezvous() -> dict:
    """torchrun's rendezvous: on one host, ``--standalone`` (a local store on a free loopback port); across hosts
    (``kvp-dash join``), ``--node-rank``/``--master-addr``'s static rendezvous on node 0, so that global rank 0,
    which reports the training figures, is always on the dashboard's host."""
    nodes = int(os.environ.get(NODES_ENV, "1"))
    if nodes == 1:
        return dict(min_nodes=1, max_nodes=1, run_id=f"kvp-dash-{os.getpid()}", rdzv_backend="c10d",
                    rdzv_endpoint="127.0.0.1:0", local_addr="127.0.0.1")
    return dict(min_nodes=nodes, max_nodes=nodes, run_id=os.environ[RUN_ID_ENV], rdzv_backend="static",
                rdzv_endpoint=os.environ[RENDEZVOUS_ENV], local_addr=os.environ[NODE_ADDRESS_ENV],
                rdzv_configs={"rank": int(os.environ[NODE_RANK_ENV]), "timeout": RENDEZVOUS_TIMEOUT_S})


# How long node 0's store waits for every node to arrive (the hosts joined before the runners started).
RENDEZVOUS_TIMEOUT_S = 120


if __name__ == "__main__":
    sys.exit(main())
