"""kvp-dash serve: a read-only dashboard of a run folder in the browser, through textual-serve.

textual-serve starts the given command once per browser tab. That command is
``kvp-dash attach RUN_DIR``: it follows the folder's files and never starts a
runner, so however many tabs open, nothing trains twice.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def viewer_command(run_dir: Path) -> str:
    """What each browser tab runs: the read-only attach viewer, with this Python."""
    return shlex.join([sys.executable, "-m", "tui.cli", "attach", str(run_dir.resolve())])


def latest_run(base: Path) -> Path | None:
    """The most recently started run folder under ``base`` (sweeps included)."""
    runs = [p.parent for p in base.glob("*/run.json")] + [p.parent for p in base.glob("*/*/run.json")]
    return max(runs, key=lambda p: (p / "run.json").stat().st_mtime, default=None)


def serve(run_dir: Path, host: str, port: int) -> int:
    from textual_serve.server import Server

    if host not in LOCAL_HOSTS:
        print(f"kvp-dash: warning: serving on {host}:{port} with no authentication: anyone who can reach "
              "this port sees the run (read-only)", file=sys.stderr)
    print(f"kvp-dash: serving {run_dir} read-only at http://{host}:{port} (Ctrl+C stops the server, "
          "not the session)", file=sys.stderr)
    Server(viewer_command(run_dir), host=host, port=port, title=f"kvp-dash · {run_dir.name}").serve()
    return 0
