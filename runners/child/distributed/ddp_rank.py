"""What each torchrun rank runs: the function ``runners.child.distributed.ddp_launch`` hands torchrun's launcher."""

from __future__ import annotations

import os
import signal
import threading
import time

from torch.distributed.elastic.multiprocessing.errors import record

from runners.child import finish, turns
from runners.child.event_writer import EventWriter
from workloads.base import resolve
from runners.child.main import die_with_parent, report_failure
from runners.child.distributed.rank_relay import STOP_GROUP
from runners.config import RunConfig
from runners.protocol import FINISH_SIGNAL, YIELD_SIGNAL, Phase
from runners.specs import SPECS

# How long rank 0 waits for its turn to come back (the launcher's own limit on a turn hand-over is longer).
TURN_WAIT_S = 24 * 3600.0
CONTINUE_POLL_S = 0.01


def _take_turns_through_the_relay(writer, runner: str) -> None:
    """Interleaved schedule: rank 0 gives the turn back at its window edges (``runners.child.turns``), but its
    "waiting" reaches the dashboard through the runner process, which must not be stopped before passing it on:
    that process stops the group on rank 0's word, and rank 0 waits for the SIGCONT that ends the wait."""
    continued = threading.Event()
    signal.signal(signal.SIGCONT, lambda signum, frame: continued.set())

    def stop_through_relay() -> None:
        continued.clear()
        writer.emit_line(STOP_GROUP + b": true}\n")
        # In short waits: SIGCONT may land on the writer thread, and the handler then runs only once this
        # (main) thread wakes up by itself.
        deadline = time.monotonic() + TURN_WAIT_S
        while not continued.wait(CONTINUE_POLL_S) and time.monotonic() < deadline:
            pass

    turns.install(writer, runner)
    turns.stop_with(stop_through_relay)


@record  # torchrun's own error file: the launcher reads the failing rank's error from it
def run_rank(spec_name: str, config_json: str) -> None:
    spec, config = SPECS[spec_name], RunConfig.from_json(config_json)
    rank, world, local_rank = (int(os.environ[key]) for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    # The launcher's requests (finish, give the turn back) may come as soon as the relay knows us: the handlers
    # first, or the default action of SIGUSR1/SIGUSR2 would end the rank.
    finish.install()
    turns.install(None, spec.name)
    writer = EventWriter.for_rank(spec.name, rank)
    die_with_parent()  # the runner process that started us (KVP_DASH_PARENT_PID is its pid)
    _take_turns_through_the_relay(writer, spec.name)
    if config.cpus:
        os.sched_setaffinity(0, config.cpus)
    try:
        if spec.setup:  # before the framework is imported (Keras: its backend, torch for every rank)
            resolve(spec.setup)(spec)
        from runners.child.distributed import ddp_runner

        ddp_runner.run(spec, config, writer, rank, world, local_rank)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the panel
        if isinstance(exc, SystemExit) and not exc.code:
            raise
        report_failure(writer, spec.name, exc, where=f"rank {rank} of {world}: ")
        raise
    # A request that comes now must not kill the rank on its way out (Python restores the default actions of the
    # signals it handled as it exits; ignored ones stay ignored).
    signal.signal(YIELD_SIGNAL, signal.SIG_IGN)
    signal.signal(FINISH_SIGNAL, signal.SIG_IGN)
    if rank == 0:
        writer.emit(Phase(spec.name, "done"))
    writer.close()
