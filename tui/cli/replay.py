"""``kvp-dash replay`` and ``kvp-dash attach``: the dashboard over a run folder, finished or still growing."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from tui.cli.options import THEMES, add_screen_options, command, speed


def register(commands) -> None:
    replay = command(
        commands, "replay",
        "Drive the dashboard from a recorded run folder (no training). Without RUN_DIR, "
        "replays the small recorded run shipped with kvp-dash.",
        watch, attach=False,
    )
    replay.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR")
    replay.add_argument("--speed", type=speed, default=1.0, help="replay speed (default: 1, as recorded)")
    add_screen_options(replay)
    attach = command(
        commands, "attach",
        "Watch a session that is still running (started by kvp-dash or kvp-dash --headless) "
        "by following its run folder: read-only, starts nothing, and leaving does not stop the session.",
        watch, attach=True,
    )
    attach.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    add_screen_options(attach)


def watch(args: argparse.Namespace) -> int:
    from runners.session.record.replay import SHIPPED, AttachedRun, RecordedRun
    from tui.cli.serve import SERVER_PID_ENV

    if args.attach and os.environ.get(SERVER_PID_ENV):  # a browser tab's viewer: gone with its server, however
        from runners.parent_death import die_with_parent  # the server ends (SIGKILL included)

        die_with_parent(int(os.environ[SERVER_PID_ENV]), signal.SIGTERM)

    source = AttachedRun(args.run_dir) if args.attach else RecordedRun(args.run_dir or SHIPPED, speed=args.speed)
    viewer(source, args.attach, refresh_hz=args.refresh, theme=THEMES[args.theme]).run()
    return 0


def viewer(source, attached: bool, refresh_hz: float | None = None, theme: str | None = None):
    """The dashboard over a recorded or growing run folder, judging parity and the verdict as the live run did."""
    from runners.session.planning.defaults import DEFAULT_REFRESH_HZ
    from runners.session.monitoring.host_steal import steal_sentence
    from runners.session.verdict.parity import ParityContext
    from runners.session.verdict.summary import standings, verdict
    from runners.session.verdict.target import Target
    from tui.app import DashboardApp

    settings = source.config["settings"]
    workload = Path(source.config["workload"]).stem
    # A --duration run's step count is only a cap: its length was the time (as its live title said).
    length = f"{source.duration_s:g} s each" if source.duration_s else f"{settings['steps']} steps"
    description = f"{'attached' if attached else 'replay'} · {workload} · batch {settings['batch_size']} · {length}"

    recorded_target = source.config.get("target")  # --target, when the run had one
    target = Target(**recorded_target) if recorded_target else None
    batch_sizes = source.config.get("batch_sizes")  # a serving run's (`kvp-dash infer`)
    if batch_sizes:
        description = (f"{'attached' if attached else 'replay'} · {workload} · serving at batch "
                       f"{', '.join(map(str, batch_sizes))} · {length}")

    def judge(states) -> str:  # the verdict of the replayed events; the recording is left as it is
        device = next((s.hello.device for s in states if s.hello), "the recorded device")
        if batch_sizes:
            from runners.session.verdict.serving import serving_rows, serving_verdict

            return serving_verdict(states, serving_rows(states, batch_sizes), workload, batch_sizes, device)
        text = verdict(states, standings(states, target), workload, settings["batch_size"], device, target)
        shared = steal_sentence(_recorded_steal(source.path))  # measured live, on the machine, not in events
        return f"{text}; {shared}" if shared else text

    return DashboardApp(source, description, refresh_hz=refresh_hz or DEFAULT_REFRESH_HZ, on_finished=judge,
                        theme=theme, target=target, parity=ParityContext.from_record(source.config),
                        batch_sizes=batch_sizes)


def _recorded_steal(folder: Path) -> float | None:
    import json

    try:
        return json.loads((folder / "summary.json").read_text()).get("host_steal")
    except (OSError, ValueError, AttributeError):
        return None
