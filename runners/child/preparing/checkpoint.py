"""Preparation subprocess: ``python -m runners.child.preparing.checkpoint WORKLOAD SETTINGS_JSON OUT_FOLDER``.

For a hub workload: builds the Transformers model from the seed and saves it in the hub's
layout (``config.json`` + ``model.safetensors``), which every runner then loads with its own
framework's loader. Written into a sibling folder, then renamed: the folder appears whole or
not at all. A failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import os
import shutil
import sys

from runners.child.preparing.common import prepare
from runners.child.quick_exit import exit_now


def save_checkpoint(workload, settings, out: str) -> None:
    from workloads.base import resolve

    partial = f"{out}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        resolve(workload.make_checkpoint)(settings, workload.hyper(settings), partial)
        os.replace(partial, out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


if __name__ == "__main__":
    # What it made is written whole.
    exit_now(prepare(sys.argv[1:], save_checkpoint, "the Transformers model for its checkpoint"))
