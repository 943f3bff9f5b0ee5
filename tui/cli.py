"""The command line: ``kvp-dash [--workload NAME] [--runners ...] ...``.

Bad input gets one line on stderr and exit code 2, before any runner starts.
Textual and the launcher are imported only once the input is valid, so
``--help`` and ``--list`` answer instantly; no framework is ever imported here.
"""

from __future__ import annotations

import argparse
import atexit
import sys
from pathlib import Path

from runners.specs import SPECS, RunnerSpec, install_hint, parse_runner_list
from workloads import get_workload, workload_names

DEFAULT_WORKLOAD = "mlp"
# In-memory data per runner above which we refuse rather than swap.
MAX_DATA_BYTES = 4 * 1024**3


class UsageError(Exception):
    """Bad input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage wall becomes one line
        self.exit(2, f"kvp-dash: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32-1, got {value}")
    return value


def _refresh(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of redraws per second, got {text!r}") from None
    if not 0.2 <= value <= 60:
        raise argparse.ArgumentTypeError(f"must be between 0.2 and 60 redraws per second, got {value:g}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash",
        description="Train the same workload in Keras 3 (jax, tensorflow, torch backends) and "
        "native PyTorch, side by side, live in the terminal.",
    )
    parser.add_argument("--workload", default=DEFAULT_WORKLOAD, metavar="NAME",
                        help=f"what to train: {', '.join(workload_names())} (default: {DEFAULT_WORKLOAD})")
    parser.add_argument("--runners", metavar="SPECS",
                        help=f"comma-separated runner specs (default: every installed one of {','.join(SPECS)})")
    parser.add_argument("--steps", type=_positive_int, metavar="N", help="optimizer steps per runner")
    parser.add_argument("--batch-size", type=_positive_int, metavar="B", help="samples per step")
    parser.add_argument("--image-size", type=_positive_int, metavar="PX",
                        help="image height and width, for image workloads")
    parser.add_argument("--seed", type=_seed, default=0, help="seed for data and models (default: 0)")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where run folders go (default: ./runs)")
    parser.add_argument("--refresh", type=_refresh, default=4.0, metavar="HZ",
                        help="screen redraws per second (default: 4)")
    parser.add_argument("--list", action="store_true", help="list workloads and runner specs, then exit")
    # For tests of crash handling: RUNNER:STEP makes that runner raise at that step.
    parser.add_argument("--inject-crash", metavar="RUNNER:STEP", help=argparse.SUPPRESS)
    return parser


def _choose_runners(text: str | None) -> tuple[list[RunnerSpec], list[str]]:
    """The runners to start, and notices about default runners skipped for lack of a framework."""
    if text is not None:
        specs = parse_runner_list(text)
        for spec in specs:
            if spec.missing_modules():
                raise UsageError(install_hint(spec))
        return specs, []
    installed = [s for s in SPECS.values() if not s.missing_modules()]
    skipped = [install_hint(s) for s in SPECS.values() if s.missing_modules()]
    if not installed:
        raise UsageError("no framework is installed: pip install 'kvp-dash[all]'")
    return installed, skipped


def _print_list() -> None:
    print("workloads:")
    for name in workload_names():
        w = get_workload(name)
        size = f", image {w.default_image_size}px" if w.default_image_size else ""
        print(f"  {name:10s} {w.description}")
        print(f"  {'':10s} CPU defaults: {w.default_steps} steps, batch {w.default_batch_size}{size}")
    print("runner specs:")
    for spec in SPECS.values():
        missing = spec.missing_modules()
        status = "installed" if not missing else f"missing {', '.join(missing)}: pip install 'kvp-dash[{spec.extra}]'"
        print(f"  {spec.name:18s} {status}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        _print_list()
        return 0
    try:
        return _run(args)
    except (UsageError, ValueError) as exc:
        print(f"kvp-dash: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    workload = get_workload(args.workload)
    if args.image_size and workload.default_image_size is None:
        raise UsageError(f"--image-size does not apply to {workload.name}, which is not an image workload")
    settings = workload.settings(
        steps=args.steps, batch_size=args.batch_size, seed=args.seed, image_size=args.image_size
    )
    workload.validate(settings)
    data_bytes = workload.data_bytes(settings)
    if data_bytes > MAX_DATA_BYTES:
        raise UsageError(
            f"{settings.steps} steps x batch {settings.batch_size} needs {data_bytes / 1024**3:.1f} GiB "
            f"of data per runner (limit {MAX_DATA_BYTES // 1024**3} GiB); lower --steps or --batch-size"
        )
    specs, skipped = _choose_runners(args.runners)
    for notice in skipped:
        print(f"kvp-dash: skipping {notice}", file=sys.stderr)

    from runners.config import RunConfig
    from runners.cpu_share import available_cpus
    from runners.launcher import Launcher
    from runners.recording import RunFolder

    try:
        folder = RunFolder.create(args.output, workload.name)
    except OSError as exc:
        raise UsageError(f"cannot create a run folder in {args.output}: {exc.strerror or exc}") from None
    config = RunConfig(workload=workload.name, settings=settings)
    launcher = Launcher(specs, config, folder, available_cpus(), overrides=_crash_overrides(args.inject_crash))
    folder.write_json("run.json", {"argv": sys.argv, "config": config_summary(config, specs)})
    atexit.register(launcher.kill_now)  # whatever happens to the app, no runner outlives us

    from tui.app import DashboardApp

    description = f"{workload.name} · batch {settings.batch_size} · {settings.steps} steps · seed {settings.seed}"
    if settings.image_size:
        description += f" · {settings.image_size}px"
    app = DashboardApp(launcher, description, refresh_hz=args.refresh)
    app.run()
    launcher.kill_now()
    print(f"kvp-dash: run folder {folder.path}")
    failed = [s.name for s in app.states.values() if s.phase == "failed"]
    if failed:
        print(f"kvp-dash: failed runners: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _crash_overrides(text: str | None) -> dict[str, dict]:
    if not text:
        return {}
    runner, _, step = text.rpartition(":")
    if runner not in SPECS or not step.isdigit():
        raise UsageError(f"--inject-crash takes RUNNER:STEP, got {text!r}")
    return {runner: {"crash_at_step": int(step)}}


def config_summary(config, specs: list[RunnerSpec]) -> dict:
    from dataclasses import asdict

    summary = asdict(config)
    summary.pop("cpus")
    summary["runners"] = [s.name for s in specs]
    return summary


if __name__ == "__main__":
    sys.exit(main())
