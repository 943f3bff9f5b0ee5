"""``kvp-dash serve``: a read-only dashboard of a run folder in the browser, through textual-serve.

textual-serve starts the given command once per browser tab. That command is
``kvp-dash attach RUN_DIR``: it follows the folder's files and never starts a
runner, so however many tabs open, nothing trains twice.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from pathlib import Path

from tui.cli.options import command, port
from workloads.errors import InputError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# Set in each viewer's environment: the server it must not outlive.
SERVER_PID_ENV = "KVP_DASH_SERVER_PID"


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
    # exec: textual-serve starts it through a shell; the viewer replaces it, so the server is its parent and its
    # death (tui.cli.replay) takes the viewer with it.
    return "exec " + shlex.join([sys.executable, "-P", "-m", "tui.cli", "attach", str(run_dir.resolve())])


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
    class ViewerServer(Server):
        def request_exit(self) -> None:
            """Ctrl+C or SIGTERM: the open tabs' viewers first, so the server's shutdown has no session to wait
            for (aiohttp would wait a minute for each open websocket)."""
            _stop_viewers()
            super().request_exit()

    os.environ[SERVER_PID_ENV] = str(os.getpid())
    signal.signal(signal.SIGHUP, _exit_on_signal)  # a dropped SSH session: the viewers are stopped below
    try:
        ViewerServer(viewer_command(run_dir), host=host, port=port, title=f"kvp-dash · {run_dir.name}").serve()
    finally:
        _stop_viewers()
    return 0


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _stop_viewers(grace_s: float = 3.0) -> None:
    """Every viewer still running (a tab open when the server stops): SIGTERM, then SIGKILL after ``grace_s``."""
    import psutil

    viewers = psutil.Process().children(recursive=True)
    for viewer in viewers:
        try:
            viewer.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(viewers, timeout=grace_s)
    for viewer in alive:
        try:
            viewer.kill()
        except psutil.Error:
            pass
