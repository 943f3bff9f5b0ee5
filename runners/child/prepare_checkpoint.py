"""Preparation subprocess: ``python -m runners.child.prepare_checkpoint WORKLOAD SETTINGS_JSON OUT_FOLDER``.

For a hub workload: builds the Transformers model from the seed and saves it in the hub's
layout (``config.json`` + ``model.safetensors``), which every runner then loads with its own
framework's loader. Written into a sibling folder, then renamed: the folder appears whole or
not at all. A failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
import os
import shutil
import sys


def main(argv: list[str]) -> int:
    from runners.child.main import die_with_parent

    die_with_parent()
    workload_ref, settings_json, out = argv
    partial = f"{out}.partial"
    try:
        from workloads import WorkloadSettings, get_workload
        from workloads.base import resolve

        workload = get_workload(workload_ref)
        settings = WorkloadSettings(**json.loads(settings_json))
        shutil.rmtree(partial, ignore_errors=True)
        resolve(workload.make_checkpoint)(settings, workload.hyper(settings), partial)
        os.replace(partial, out)
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback wall
        shutil.rmtree(partial, ignore_errors=True)
        print(f"cannot build the Transformers model for its checkpoint: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
