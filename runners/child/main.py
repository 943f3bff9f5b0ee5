"""Entry point of a runner subprocess: ``python -m runners.child SPEC CONFIG_JSON``.

The launcher passes the event pipe's fd in ``KVP_DASH_EVENT_FD`` and has set
thread caps and backend environment variables before this process started.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from runners import parent_death
from runners.child import finish, turns
from runners.child.event_writer import EventWriter, RankOnlyWriter
from runners.config import RunConfig
from runners.protocol import NODE_RANK_ENV, PARENT_PID_ENV, Error, Phase
from runners.serving_paths import PATHS
from runners.specs import SPECS
from workloads.base import resolve


def die_with_parent() -> None:
    """SIGKILL from Linux when the dashboard dies, even by SIGKILL (no orphans)."""
    parent = os.environ.get(PARENT_PID_ENV)
    parent_death.die_with_parent(int(parent) if parent else None)


def _out_of_memory(exc: BaseException) -> bool:
    """Each framework's out-of-memory error (torch.OutOfMemoryError, XLA's and TensorFlow's RESOURCE_EXHAUSTED)."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return isinstance(exc, MemoryError) or "out of memory" in text or "resource_exhausted" in text \
        or "resourceexhausted" in text or "outofmemory" in text


def report_failure(writer, runner: str, exc: BaseException, where: str = "") -> None:
    """The error on the runner's panel (``where``: which rank, for a data-parallel runner), and "failed"."""
    tail = "".join(traceback.format_exception(exc)[-12:])
    message = where + str(exc)
    if turns.takes_turns() and _out_of_memory(exc):
        message += (" · runners waiting for their turn keep their memory: all of them must fit at once; "
                    "--schedule sequential runs one at a time")
    writer.emit(Error(runner, error_type=type(exc).__name__, message=message, traceback=tail))
    writer.emit(Phase(runner, "failed"))
    traceback.print_exc()  # also into the runner's captured output
    writer.close()


def main(argv: list[str] | None = None) -> int:
    spec_name, config_json = (argv if argv is not None else sys.argv[1:])[:2]
    config = RunConfig.from_json(config_json)
    spec = (PATHS if config.batch_sizes else SPECS)[spec_name]  # serving paths share the training runners' names
    on_joined_host = int(os.environ.get(NODE_RANK_ENV, "0")) > 0  # --hosts: node 0's process reports
    writer = (RankOnlyWriter if on_joined_host else EventWriter).from_environment(spec.name)
    die_with_parent()
    turns.install(writer, spec.name)
    finish.install()
    if config.cpus:
        os.sched_setaffinity(0, config.cpus)  # before the framework starts its thread pools
    turns.wait_for_first_turn()  # interleaved: start-up, too, is timed with the machine to ourselves
    try:
        writer.emit(Phase(spec.name, "importing"))
        if spec.setup:  # before the framework is imported (Keras: its backend)
            resolve(spec.setup)(spec)
        importlib.import_module(spec.child).run(spec, config, writer)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the panel
        if isinstance(exc, SystemExit) and not exc.code:
            raise
        report_failure(writer, spec.name, exc)
        return 1
    writer.emit(Phase(spec.name, "done"))
    writer.close()
    return 0
