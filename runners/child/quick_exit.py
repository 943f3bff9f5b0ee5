"""Leaving a subprocess whose work is written, without the interpreter's teardown of the framework it loaded:
that teardown only delays the exit (0.5 s of CPU for jax, 1.2 s for torch, 1.6 s for TensorFlow, measured here)."""

from __future__ import annotations

import os
import sys

from runners.protocol import NODES_ENV


def exit_now(code: int) -> None:
    if int(os.environ.get(NODES_ENV, "1")) > 1:
        sys.exit(code)  # across hosts, jax's exit hook keeps jax.distributed in step with the other processes
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
