"""``kvp-dash serve``: a read-only dashboard of a run folder in the browser, through textual-serve.

textual-serve starts the given command once per browser tab. That command is
``kvp-dash attach RUN_DIR``: it follows the folder's files and never starts a
runner, so however many tabs open, nothing trains twice.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tui.cli.options import command, port
from workloads.errors import InputError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(commands) -> None:
    parser = command(
        commands, "serve",
        "Show a run (live or finished) in a browser, read-only, through textual-serve. "
        "Each browser tab runs `kvp-dash attach RUN_DIR`: a viewer never starts training.",
        serve_command,
    )
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR")
    parser.add_argument("--latest", action="store_true", help="the most recent run folder under --output")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where --latest looks (default: ./runs)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=port, default=8000, help="port (default: 8000)")


def serve_command(args: argparse.Namespace) -> int:
    from runners.session.record.replay import AttachedRun

    if (args.run_dir is None) == (not args.latest):
        raise InputError("give RUN_DIR or --latest (one of them)")
    run_dir = args.run_dir or latest_run(args.output)
    if run_dir is None:
        raise InputError(f"no run folder under {args.output}")
    AttachedRun(run_dir)  # refuse (NotARunFolder) a folder the viewers could not open
    return serve(run_dir, args.host, args.port)


def viewer_command(run_dir: Path) -> str:
    """What each browser tab runs: the read-only attach viewer, with this Python."""
    # -P: the folder serve was started in (a user's own tui/ package, say) is not put on the viewer's sys.path.
    return shlex.join([sys.executable, "-P", "-m", "tui.cli", "attach", str(run_dir.resolve())])


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
