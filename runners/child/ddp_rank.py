"""What each torchrun rank runs: the function ``runners.child.ddp_launch`` hands torchrun's launcher."""

from __future__ import annotations

import os

from torch.distributed.elastic.multiprocessing.errors import record

from runners.child import finish
from runners.child.event_writer import EventWriter
from runners.child.main import die_with_parent, report_failure
from runners.config import RunConfig
from runners.protocol import Phase
from runners.specs import SPECS


@record  # torchrun's own error file: the launcher reads the failing rank's error from it
def run_rank(spec_name: str, config_json: str) -> None:
    spec, config = SPECS[spec_name], RunConfig.from_json(config_json)
    rank, world, local_rank = (int(os.environ[key]) for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    writer = EventWriter.for_rank(spec.name, rank)
    die_with_parent()  # the runner process that started us (KVP_DASH_PARENT_PID is its pid)
    finish.install()
    if config.cpus:
        os.sched_setaffinity(0, config.cpus)
    try:
        if spec.framework == "keras":
            os.environ["KERAS_BACKEND"] = "torch"  # before `import keras`
        from runners.child import ddp_runner

        ddp_runner.run(spec, config, writer, rank, world, local_rank)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the panel
        if isinstance(exc, SystemExit) and not exc.code:
            raise
        report_failure(writer, spec.name, exc, where=f"rank {rank} of {world}: ")
        raise
    if rank == 0:
        writer.emit(Phase(spec.name, "done"))
    writer.close()
