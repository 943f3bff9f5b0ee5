"""What every preparation subprocess shares: it dies with the dashboard, reads its three arguments
(workload, settings as JSON, output path), and turns any failure into one line on stderr and exit 1."""

from __future__ import annotations

import json
import sys
from typing import Callable


def prepare(argv: list[str], make: Callable, what: str) -> int:
    """``make(workload, settings, out)`` writes ``out`` whole or not at all."""
    from runners.child.main import die_with_parent

    die_with_parent()
    workload_ref, settings_json, out = argv
    try:
        from workloads import WorkloadSettings, get_workload

        make(get_workload(workload_ref), WorkloadSettings(**json.loads(settings_json)), out)
    except Exception as exc:  # noqa: BLE001 - the user's model code: one line, not a traceback wall
        print(f"cannot build {what}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
