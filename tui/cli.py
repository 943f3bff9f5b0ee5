"""The command line: ``kvp-dash [options]`` (the live dashboard) and ``kvp-dash check [options]``.

Bad input gets one line on stderr and exit code 2, before any runner starts.
Textual and the launcher are imported only once the input is valid, so
``--help`` and ``--list`` answer instantly; no framework is ever imported here.
"""

from __future__ import annotations

import argparse
import atexit
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from runners.specs import SPECS, RunnerSpec, install_hint, parse_runner_list
from tui.formatting import fmt_bytes
from workloads import Workload, WorkloadSettings, get_workload, workload_names
from workloads.base import SIZE_NAMES

DEFAULT_WORKLOAD = "mlp"
# In-memory data per runner above which we refuse rather than swap (one epoch is never shorter than
# one pass over the 4,096 generated samples: large images at large batches reach it).
MAX_DATA_BYTES = 4 * 1024**3
# A runner's memory per byte of laid-out data, measured here (mlp, 3.7 GiB of data): TensorFlow copies the
# arrays into its own tensors; the others hold them plus the model and framework.
MEMORY_PER_DATA_BYTE = {"tensorflow": 2.8, "other": 1.3}


class UsageError(Exception):
    """Bad input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage wall becomes one line
        self.exit(2, f"kvp-dash: error: {message}\n")


def _number_in(kind: type, low: float, high: float | None, bounds: str, expected: str = "a number"):
    """An argparse type: a number of ``kind`` in [low, high], else one line saying which are valid."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value:g}")
        return value

    return parse


_positive_int = _number_in(int, 1, None, "at least 1", "a whole number")
_seed = _number_in(int, 0, 2**32 - 1, "between 0 and 2**32-1", "a whole number")
_refresh = _number_in(float, 0.2, 60, "between 0.2 and 60 redraws per second", "a number of redraws per second")
_speed = _number_in(float, 0.01, 10_000, "between 0.01 and 10000")


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workload", default=DEFAULT_WORKLOAD, metavar="NAME",
                        help=f"{', '.join(workload_names())}, a registered workload, or a path to your own "
                        f".py file (default: {DEFAULT_WORKLOAD})")
    parser.add_argument("--size", choices=SIZE_NAMES, metavar="SIZE",
                        help="model size preset: tiny, small, base or large (default: small; "
                        "tiny and small suit a CPU)")
    parser.add_argument("--runners", metavar="SPECS",
                        help=f"comma-separated runner specs (default: every installed one of {','.join(SPECS)})")
    parser.add_argument("--batch-size", type=_positive_int, metavar="B", help="samples per step")
    parser.add_argument("--image-size", type=_positive_int, metavar="PX",
                        help="image height and width, for image workloads")
    parser.add_argument("--seed", type=_seed, default=0, help="seed for data and initial weights (default: 0)")
    parser.add_argument("--data", type=Path, metavar="FILE.npz",
                        help="train on your own arrays: x_train, y_train (and optionally x_val, y_val)")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where run folders go (default: ./runs)")
    _add_device_options(parser)


def _gpu_list(text: str) -> list[int]:
    try:
        gpus = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected GPU indices like 0,1, got {text!r}") from None
    if not gpus or min(gpus) < 0:
        raise argparse.ArgumentTypeError(f"expected GPU indices like 0,1, got {text!r}")
    return gpus


def _add_device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where runners train (default: auto = cuda when NVML finds a GPU)")
    parser.add_argument("--gpus", type=_gpu_list, metavar="0,1,…",
                        help="GPUs to spread runners over, round-robin (CUDA_VISIBLE_DEVICES per runner)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash",
        description="Train the same workload in Keras 3 (jax, tensorflow, torch backends) and "
        "native PyTorch, side by side, live in the terminal. "
        "`kvp-dash check --help` verifies that the runners train the same model.",
    )
    _add_common_options(parser)
    parser.add_argument("--steps", type=_positive_int, metavar="N", help="optimizer steps per runner")
    parser.add_argument("--schedule", choices=("parallel", "sequential"), default="parallel",
                        help="parallel: a live race sharing the machine; sequential: one runner at a time "
                        "with the whole machine, the numbers to quote (default: parallel)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                        help="fp32, or mixed precision: Keras's mixed policy / PyTorch autocast (default: fp32)")
    parser.add_argument("--tf32", choices=("off", "on"), default="off",
                        help="TF32 matmuls on Ampere+ GPUs, set alike in every framework (default: off)")
    parser.add_argument("--keras-jit", choices=("auto", "on", "off"), default="auto",
                        help="Keras compile(jit_compile=...): auto = XLA on jax/tensorflow, eager on torch")
    _add_refresh_option(parser)
    parser.add_argument("--headless", action="store_true",
                        help="no dashboard: a live table on a terminal, plain lines otherwise (CI logs); "
                        "standings and verdict at the end; exit code 1 if a runner failed")
    parser.add_argument("--list", action="store_true", help="list workloads and runner specs, then exit")
    # For tests of crash handling: RUNNER:STEP makes that runner raise at that step.
    parser.add_argument("--inject-crash", metavar="RUNNER:STEP", help=argparse.SUPPRESS)
    return parser


def build_replay_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash replay",
        description="Drive the dashboard from a recorded run folder (no training). Without RUN_DIR, "
        "replays the small recorded run shipped with kvp-dash.",
    )
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR")
    parser.add_argument("--speed", type=_speed, default=1.0, help="replay speed (default: 1, as recorded)")
    _add_refresh_option(parser)
    return parser


# Six frames a second put 95 % of events on a terminal within 200 ms (benchmarks/tool_performance.py).
DEFAULT_REFRESH_HZ = 6.0


def _add_refresh_option(parser: argparse.ArgumentParser) -> None:
    """The screen options every dashboard command shares."""
    parser.add_argument("--refresh", type=_refresh, default=DEFAULT_REFRESH_HZ, metavar="HZ",
                        help=f"screen redraws per second (default: {DEFAULT_REFRESH_HZ:g})")
    parser.add_argument("--theme", choices=sorted(THEMES), default="dark",
                        help="colour theme (default: dark). NO_COLOR=1 in the environment turns colour off")


# Textual's own themes; the plots follow them.
THEMES = {"dark": "textual-dark", "light": "textual-light", "ansi": "textual-ansi"}


def build_attach_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash attach",
        description="Watch a session that is still running (started by kvp-dash or kvp-dash --headless) "
        "by following its run folder: read-only, starts nothing, and leaving does not stop the session.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    _add_refresh_option(parser)
    return parser


def _replay(args: argparse.Namespace, attach: bool = False) -> int:
    from runners.replay import SHIPPED, AttachedRun, NotARunFolder, RecordedRun

    try:
        source = AttachedRun(args.run_dir) if attach else RecordedRun(args.run_dir or SHIPPED, speed=args.speed)
    except NotARunFolder as exc:
        raise UsageError(str(exc)) from None
    from tui.app import DashboardApp
    from tui.summary import standings, verdict

    settings = source.config["settings"]
    workload = Path(source.config["workload"]).stem
    description = (
        f"{'attached' if attach else 'replay'} · {workload} · batch {settings['batch_size']} · {settings['steps']} steps"
    )

    def judge(states) -> str:  # the verdict of the replayed events; the recording is left as it is
        device = next((s.hello.device for s in states if s.hello), "the recorded device")
        return verdict(states, standings(states), workload, settings["batch_size"], device)

    DashboardApp(source, description, refresh_hz=args.refresh, on_finished=judge, theme=THEMES[args.theme]).run()
    return 0


def build_check_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash check",
        description="Run every installed runner from the same initial weights on the same batches and "
        "print a parity table: trainable parameters, initial logits, initial loss and the first "
        "optimizer steps' losses. Exits 1 when the runners disagree beyond tolerance.",
    )
    _add_common_options(parser)
    return parser


def build_serve_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash serve",
        description="Show a run (live or finished) in a browser, read-only, through textual-serve. "
        "Each browser tab runs `kvp-dash attach RUN_DIR`: a viewer never starts training.",
    )
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR")
    parser.add_argument("--latest", action="store_true", help="the most recent run folder under --output")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where --latest looks (default: ./runs)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=_number_in(int, 1, 65535, "between 1 and 65535", "a port number"),
                        default=8000, help="port (default: 8000)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from runners.replay import AttachedRun, NotARunFolder
    from tui.serve import latest_run, serve

    if (args.run_dir is None) == (not args.latest):
        raise UsageError("give RUN_DIR or --latest (one of them)")
    run_dir = args.run_dir or latest_run(args.output)
    if run_dir is None:
        raise UsageError(f"no run folder under {args.output}")
    try:
        AttachedRun(run_dir)  # refuse a folder the viewers could not open
    except NotARunFolder as exc:
        raise UsageError(str(exc)) from None
    return serve(run_dir, args.host, args.port)


def build_sweep_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvp-dash sweep",
        description="Train the workload at several model sizes, one headless run per size with the "
        "sequential schedule, and show the Keras ÷ PyTorch throughput ratio per backend against size "
        "(a table and a chart, saved in a sweep folder with every run).",
    )
    _add_common_options(parser)
    parser.add_argument("--sizes", default="tiny,small,base", metavar="S1,S2,…",
                        help="size presets to sweep (default: tiny,small,base)")
    parser.add_argument("--steps", type=_positive_int, metavar="N", help="optimizer steps per runner and size")
    return parser


def _sweep(args: argparse.Namespace) -> int:
    from runners.config import RunConfig
    from runners.cpu_share import available_cpus
    from runners.launcher import Launcher
    from tui import headless
    from tui.sweep import run_sweep

    def plan_for(size: str) -> Plan:
        return _plan(argparse.Namespace(**{**vars(args), "size": size}), steps=args.steps)

    def run_one(plan: Plan, folder) -> int:
        config = RunConfig(workload=plan.workload_ref, settings=plan.settings, device=plan.device)
        launcher = Launcher(plan.specs, config, folder, available_cpus(), schedule="sequential", gpus=plan.gpus)
        folder.write_json("run.json", run_record(config, plan, "sequential"))
        folder.write_json("meta.json", _meta(config, plan, "sequential"))
        atexit.register(launcher.kill_now)
        return headless.run(launcher, describe(plan), plan.workload.name, plan.settings.batch_size, plan.device)

    try:
        return run_sweep(args, plan_for, run_one)
    except OSError as exc:
        raise UsageError(f"cannot write the sweep folder in {args.output}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class Plan:
    """Validated input: what to train, with which runners."""

    workload: Workload
    workload_ref: str  # what a runner subprocess resolves the workload from
    settings: WorkloadSettings
    specs: list[RunnerSpec]
    device: str  # "cpu" or "cuda", --device resolved
    gpus: list[int] | None


def _fit_data_in_memory(workload: Workload, settings: WorkloadSettings, specs: list[RunnerSpec], schedule: str,
                        available: int | None = None) -> WorkloadSettings:
    """Epochs as long as the memory of this machine allows; refuse, in one line, data that fits in no epoch.

    The OOM killer is no message: the runners' data is counted together (one at a
    time under the sequential schedule), TensorFlow's copy included.
    """
    if available is None:
        import psutil  # here, not at the top: --help stays fast

        available = psutil.virtual_memory().available
    weights = [MEMORY_PER_DATA_BYTE.get(spec.backend, MEMORY_PER_DATA_BYTE["other"]) for spec in specs]
    weight = sum(weights) if schedule == "parallel" else max(weights)
    settings = replace(settings, epoch_bytes=min(settings.epoch_bytes, int(available / weight)))
    data_bytes = workload.data_bytes(settings)  # at least one pass over the generated samples
    head = f"one epoch of data takes {fmt_bytes(data_bytes)} per runner at batch {settings.batch_size}"
    advice = "lower --batch-size" + (" or --image-size" if workload.takes_images else "")
    if data_bytes > MAX_DATA_BYTES:
        raise UsageError(f"{head} (limit {MAX_DATA_BYTES // 2**30} GiB); {advice}")
    if data_bytes * weight > available:
        together = "together " if schedule == "parallel" else ""
        sequential = ", or use --schedule sequential" if schedule == "parallel" and len(specs) > 1 else ""
        raise UsageError(
            f"{head}: the runners would hold about {fmt_bytes(int(data_bytes * weight))} {together}and "
            f"{fmt_bytes(available)} is available; {advice}{sequential}"
        )
    return settings


def _choose_runners(text: str | None) -> tuple[list[RunnerSpec], list[str]]:
    """The runners to start, and notices about default runners skipped for lack of a framework."""
    if text is not None:
        specs = parse_runner_list(text)
        for spec in specs:
            if spec.missing_modules():
                raise UsageError(install_hint(spec))
        return specs, []
    defaults = [s for s in SPECS.values() if s.default]
    installed = [s for s in defaults if not s.missing_modules()]
    skipped = [install_hint(s) for s in defaults if s.missing_modules()]
    if not installed:
        raise UsageError("no framework is installed: pip install 'kvp-dash[all]'")
    return installed, skipped


def _plan(args: argparse.Namespace, steps: int | None) -> Plan:
    workload_ref = args.workload
    if workload_ref.endswith(".py"):
        workload_ref = str(Path(workload_ref).resolve())  # runners resolve it from the same file
    workload = get_workload(workload_ref)
    if args.image_size and not workload.takes_images:
        raise UsageError(f"--image-size does not apply to {workload.name}, which is not an image workload")
    settings = workload.settings(
        size=args.size, steps=steps, batch_size=args.batch_size, seed=args.seed,
        image_size=args.image_size, data_path=args.data.resolve() if args.data else None,
    )
    workload.validate(settings)
    if settings.data_path:
        from workloads.user_data import check_data_file

        check_data_file(workload, settings)
    specs, skipped = _choose_runners(args.runners)
    if not settings.data_path:
        settings = _fit_data_in_memory(workload, settings, specs, getattr(args, "schedule", "sequential"))
    device, gpus = _resolve_device(args.device, args.gpus)
    for notice in skipped:
        print(f"kvp-dash: skipping {notice}", file=sys.stderr)
    return Plan(workload, workload_ref, settings, specs, device, gpus)


def _resolve_device(device: str, gpus: list[int] | None) -> tuple[str, list[int] | None]:
    """--device auto|cpu|cuda and --gpus, checked against what NVML finds (the parent never imports CUDA)."""
    if device == "cpu":
        if gpus:
            raise UsageError("--gpus needs --device cuda or auto")
        return "cpu", None
    from runners.nvml_monitor import NvmlMonitor

    monitor = NvmlMonitor()
    count = monitor.device_count()
    monitor.close()
    if count == 0:
        if device == "cuda" or gpus:
            raise UsageError(f"--device cuda / --gpus: no usable NVIDIA GPU ({monitor.unavailable})")
        return "cpu", None
    gpus = gpus or list(range(count))
    if max(gpus) >= count:
        raise UsageError(f"--gpus {','.join(map(str, gpus))}: this machine has GPUs 0..{count - 1}")
    return "cuda", gpus


def _print_list() -> None:
    print("workloads (CPU defaults at the small size):")
    for name in workload_names():
        w = get_workload(name)
        preset = w.sizes[w.default_size]
        image = f", {preset.image_size} px" if preset.image_size else ""
        print(f"  {name:10s} {w.description}")
        print(f"  {'':10s} {preset.steps} steps, batch {preset.batch_size}{image}; sizes {', '.join(w.sizes)}")
    print("  or --workload path/to/your_workload.py (see workloads/examples/tabular_workload.py)")
    print("runner specs:")
    for spec in SPECS.values():
        missing = spec.missing_modules()
        status = "installed" if not missing else f"missing {', '.join(missing)}: pip install 'kvp-dash[{spec.extra}]'"
        print(f"  {spec.name:18s} {status}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["replay"]:
            return _replay(build_replay_parser().parse_args(argv[1:]))
        if argv[:1] == ["attach"]:
            return _replay(build_attach_parser().parse_args(argv[1:]), attach=True)
        if argv[:1] == ["serve"]:
            return _serve(build_serve_parser().parse_args(argv[1:]))
        if argv[:1] == ["sweep"]:
            return _sweep(build_sweep_parser().parse_args(argv[1:]))
        if argv[:1] == ["check"]:
            args = build_check_parser().parse_args(argv[1:])
            from runners.parity import PARITY_STEPS
            from tui.check import run_check

            return run_check(_plan(args, steps=PARITY_STEPS + 1), args.output)
        args = build_parser().parse_args(argv)
        if args.list:
            _print_list()
            return 0
        return _run_dashboard(args, _plan(args, steps=args.steps))
    except (UsageError, ValueError) as exc:
        print(f"kvp-dash: error: {exc}", file=sys.stderr)
        return 2


def _run_dashboard(args: argparse.Namespace, plan: Plan) -> int:
    from runners.config import RunConfig
    from runners.cpu_share import available_cpus
    from runners.launcher import Launcher

    settings = plan.settings
    overrides = _crash_overrides(args.inject_crash)
    folder = create_run_folder(args.output, plan.workload.name)
    config = RunConfig(
        workload=plan.workload_ref, settings=settings, precision=args.precision,
        keras_jit=args.keras_jit, tf32=args.tf32 == "on", device=plan.device,
    )
    launcher = Launcher(
        plan.specs, config, folder, available_cpus(), overrides=overrides,
        schedule=args.schedule, gpus=plan.gpus, read_every_s=1 / args.refresh,
    )
    folder.write_json("run.json", run_record(config, plan, args.schedule))
    folder.write_json("meta.json", _meta(config, plan, args.schedule))
    atexit.register(launcher.kill_now)  # whatever happens to the app, no runner outlives us
    if args.headless:
        from tui import headless

        return headless.run(launcher, describe(plan), plan.workload.name, settings.batch_size, plan.device)

    from tui.app import DashboardApp
    from tui.summary import finish_run

    def record(states) -> str:
        return finish_run(folder, states, describe(plan), plan.workload.name, settings.batch_size, plan.device)[1]

    app = DashboardApp(
        launcher, describe(plan), refresh_hz=args.refresh,
        expected_params=plan.workload.trainable_params(settings),
        parity_step_rtol=plan.workload.parity_step_rtol,
        parity_judged=args.precision == "fp32",
        on_finished=record,
        theme=THEMES[args.theme],
        settings={"run folder": str(folder.path), "schedule": args.schedule, "precision": args.precision,
                  "keras jit": args.keras_jit, "tf32": args.tf32},
    )
    app.run()
    launcher.kill_now()
    if app.verdict is None:  # quit before the end: record what there was, runners marked stopped
        for state in app.states.values():
            if not state.ended:
                state.phase = "stopped"
        app.verdict = record(list(app.states.values()))
    failed = [s.name for s in app.states.values() if s.phase == "failed"]
    try:
        print(f"kvp-dash: {app.verdict}")
        print(f"kvp-dash: run folder {folder.path}")
        if failed:
            print(f"kvp-dash: failed runners: {', '.join(failed)}", file=sys.stderr)
    except OSError:
        pass  # the terminal is gone (a dropped session): the run folder holds it all
    return 1 if failed else 0


def describe(plan: Plan) -> str:
    s = plan.settings
    text = f"{plan.workload.name} ({s.size}) · batch {s.batch_size} · {s.steps} steps · seed {s.seed} · {plan.device}"
    if s.image_size:
        text += f" · {s.image_size}px"
    if s.data_path:
        text += f" · data {Path(s.data_path).name}"
    return text


def create_run_folder(base: Path, name: str):
    from runners.recording import RunFolder

    try:
        return RunFolder.create(base, name)
    except OSError as exc:
        raise UsageError(f"cannot create a run folder in {base}: {exc.strerror or exc}") from None


def _crash_overrides(text: str | None) -> dict[str, dict]:
    if not text:
        return {}
    runner, _, step = text.rpartition(":")
    if runner not in SPECS or not step.isdigit():
        raise UsageError(f"--inject-crash takes RUNNER:STEP, got {text!r}")
    return {runner: {"crash_at_step": int(step)}}


def _meta(config, plan: Plan, schedule: str) -> dict:
    from runners.meta import run_meta
    from runners.nvml_monitor import NvmlMonitor

    monitor = NvmlMonitor()
    gpus = monitor.describe()
    monitor.close()
    return run_meta(sys.argv, run_record(config, plan, schedule)["config"], gpus, monitor.unavailable)


def run_record(config, plan: Plan, schedule: str) -> dict:
    from dataclasses import asdict

    summary = asdict(config)
    summary.pop("cpus")
    summary["runners"] = [s.name for s in plan.specs]
    summary["schedule"] = schedule
    summary["workload_source"] = plan.workload.source
    return {"argv": sys.argv, "config": summary}


if __name__ == "__main__":
    sys.exit(main())
