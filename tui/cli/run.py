"""``kvp-dash [options]``: train the workload in every runner, live on the dashboard or ``--headless``."""

from __future__ import annotations

import argparse
import sys

from runners.session.planning.defaults import (
    DEFAULT_DURATION_S,
    DEFAULT_SLICE_S,
    UNTIL_CAP_S,
    UNTIL_PROCESSES_CAP_S,
)
from runners.specs import SPECS
from tui.cli.options import (
    THEMES,
    add_length_options,
    add_numerics_options,
    add_plan_options,
    add_screen_options,
    add_validation_options,
    half_width,
    plan_from,
    positive_int,
    repeat_count,
    seconds,
)
from workloads import get_workload, workload_names
from workloads.errors import InputError


def register(commands) -> None:
    parser = commands.add_parser(
        "run", prog="kvp-dash",
        description="Train the same workload in Keras 3 (jax, tensorflow, torch backends) and "
        "native PyTorch, side by side, live in the terminal. Other commands: check, infer, replay, attach, "
        "serve, sweep, compare, doctor, join (`kvp-dash COMMAND --help`); `kvp-dash check --help` verifies that the runners "
        "train the same model.",
    )
    add_plan_options(parser)
    add_length_options(parser, f"default: none, a --duration of {DEFAULT_DURATION_S:g}s")
    add_validation_options(parser)
    parser.add_argument("--until", type=half_width, metavar="±PCT",
                        help="train until every Keras-against-PyTorch ratio's 95%% interval is within this "
                        f"half-width (±5%%), taking turns as long as that needs; --duration is then the cap "
                        f"(default {UNTIL_CAP_S:g}s of steady training per runner)")
    parser.add_argument("--schedule", choices=("interleaved", "parallel", "sequential"),
                        help="interleaved: every runner live, taking turns with the whole machine, each figure "
                        "measured alone, ratios with 95%% intervals; parallel: a race sharing the machine; "
                        "sequential: one runner after another (default: interleaved; parallel with --hosts)")
    parser.add_argument("--slice", type=seconds, default=DEFAULT_SLICE_S, metavar="SECONDS",
                        help=f"interleaved: seconds of a turn before it passes on, at the next window edge "
                        f"(default: {DEFAULT_SLICE_S:g})")
    add_numerics_options(parser)
    add_screen_options(parser)
    parser.add_argument("--headless", action="store_true",
                        help="no dashboard: a live table on a terminal, plain lines otherwise (CI logs); "
                        "standings and verdict at the end; exit code 1 if a runner failed")
    parser.add_argument("--repeats", type=repeat_count, default=1, metavar="N|auto",
                        help="with --headless: N whole runs, one after another in fresh processes (runner order "
                        "rotated), combined with 95%% intervals across runs (default: 1); with --until, auto: "
                        "fresh processes until the interval over processes is within the target, each given the "
                        "turns the measured noise says reach it soonest (--duration: the cap over all of them, "
                        f"default {UNTIL_PROCESSES_CAP_S:g}s a runner)")
    parser.add_argument("--hosts", type=positive_int, default=1, metavar="H",
                        help="train every runner across H hosts (torch and keras/torch through torchrun, "
                        "keras/jax through jax.distributed, keras/tensorflow through MultiWorkerMirroredStrategy, one "
                        "device a host): this one and H-1 that join with the `kvp-dash join` "
                        "command it prints (default: 1)")
    parser.add_argument("--listen", metavar="ADDR:PORT",
                        help="with --hosts: the address the other hosts reach this one at; only hosts presenting "
                        "the run's token are admitted")
    parser.add_argument("--list", action="store_true", help="list workloads and runner specs, then exit")
    parser.add_argument("--version", action="version", version=f"kvp-dash {installed_version()}")
    # For tests of crash handling: RUNNER:STEP makes that runner raise at that step.
    parser.add_argument("--inject-crash", metavar="RUNNER:STEP", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.list:
        print_list()
        return 0
    auto = args.repeats == "auto"
    if (auto or args.repeats > 1) and not args.headless:
        raise InputError("--repeats runs whole runs one after another: use it with --headless")
    if auto and not args.until:
        raise InputError("--repeats auto runs processes until a precision: give it with --until (--until 5%)")
    if args.until and not auto and args.repeats > 1:
        raise InputError("--until with --repeats: use --repeats auto (the processes the target needs are chosen "
                         "from the noise measured)")
    cap = UNTIL_PROCESSES_CAP_S if auto else UNTIL_CAP_S
    duration_s = args.duration or (cap if args.until else None if args.steps else DEFAULT_DURATION_S)
    if args.hosts > 1 and not args.listen:
        raise InputError("--hosts needs --listen ADDR:PORT: the address the other hosts reach this one at")
    # No --schedule: interleaved, or (ranks on other hosts cannot take turns with this host's) parallel.
    plan = plan_from(args, steps=args.steps, schedule=args.schedule, duration_s=duration_s, until=args.until)
    options = dict(precision=args.precision, keras_jit=args.keras_jit, tf32=args.tf32 == "on",
                   overrides=crash_overrides(args.inject_crash), read_every_s=1 / args.refresh, slice_s=args.slice)
    if auto:
        from tui.console.repeated import run_until_sure_over_processes

        return run_until_sure_over_processes(plan, args.output, options)
    if args.repeats > 1:
        from tui.console.repeated import run_repeated

        return run_repeated(plan, args.output, args.repeats, options)
    session = _session(args, plan, options)
    if session is None:
        print("kvp-dash: stopped while preparing; nothing was kept", file=sys.stderr)
        return 130
    if plan.hosts > 1:
        from runners.session.hosts.gate import gather_hosts

        gather_hosts(session, args.listen)
    if args.headless:
        from tui.console import headless

        return headless.run(session)
    return _dashboard(args, session)


def _session(args: argparse.Namespace, plan, options: dict):
    """The run session, its preparation's progress shown where the run will be: on the console (headless) or on
    a screen of its own before the dashboard. None when the user stopped the preparation."""
    from runners.session.run_session import RunSession
    from tui.console.output import console
    from tui.console.preparing import needs_preparation, session_on_console

    if args.headless:
        return session_on_console(console(), plan, args.output, **options)
    if not needs_preparation(plan):
        return RunSession(plan, args.output, **options)
    from tui.screens.preparing import PreparingApp

    app = PreparingApp(f"preparing {plan.describe()}", lambda on_progress, cancel: RunSession(
        plan, args.output, on_progress=on_progress, cancel=cancel, **options))
    session = app.run()
    if app.error is not None and not app.stopped:
        raise app.error
    return session


def _dashboard(args: argparse.Namespace, session) -> int:
    from tui.app import DashboardApp

    plan = session.plan
    app = DashboardApp(
        session.launcher, session.description, refresh_hz=args.refresh,
        parity=session.parity_context,
        on_finished=lambda states: session.finish(states)[1],
        theme=THEMES[args.theme],
        settings=session.settings_shown(),
        device=plan.device,
        target=plan.target,
        batch_sizes=plan.batch_sizes,
    )
    app.run()
    session.close()
    if app.verdict is None:  # quit before the end: record what there was, runners marked stopped
        app.verdict = session.finish(app.states.values())[1]
    failed = [s.name for s in app.states.values() if s.phase == "failed"]
    try:
        print(f"kvp-dash: {app.verdict}")
        print(f"kvp-dash: run folder {session.folder.path}")
        if failed:
            print(f"kvp-dash: failed runners: {', '.join(failed)}", file=sys.stderr)
    except OSError:
        pass  # the terminal is gone (a dropped session): the run folder holds it all
    return 1 if failed else 0


def installed_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("kvp-dash")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def crash_overrides(text: str | None) -> dict[str, dict]:
    if not text:
        return {}
    runner, _, step = text.rpartition(":")
    if runner not in SPECS or not step.isdigit():
        raise InputError(f"--inject-crash takes RUNNER:STEP, got {text!r}")
    return {runner: {"crash_at_step": int(step)}}


def _sizes(name: str, workload) -> str:
    """Hub workloads name the real checkpoint each large size has the shape of."""
    from workloads.hub.architectures import ARCHITECTURES

    shapes = ARCHITECTURES[name].shapes_of if workload.loads_checkpoint and name in ARCHITECTURES else {}
    return ", ".join(f"{size} ({shapes[size]})" if size in shapes else size for size in workload.sizes)


def _hub_status() -> str:
    from workloads.hub import missing_hub_modules

    missing = missing_hub_modules()
    return f";\n             not installed here: {', '.join(missing)}: pip install 'kvp-dash[hub]'" if missing else ""


def print_list() -> None:
    print(f"workloads (CPU defaults at the small size; each runner trains {DEFAULT_DURATION_S:g} s of steady state "
          "unless --steps or --duration says otherwise; sweep and check count the preset's steps):")
    for name in workload_names():
        w = get_workload(name)
        preset = w.sizes[w.default_size]
        image = f", {preset.image_size} px" if preset.image_size else ""
        tokens = f", {preset.model['length']} tokens" if w.loads_checkpoint and "length" in preset.model else ""
        if w.loads_checkpoint and "image_size" in preset.model.get("config", {}):
            tokens = f", {preset.model['config']['image_size']} px images"
        print(f"  {name:10s} {w.description}")
        print(f"  {'':10s} batch {preset.batch_size}{image}{tokens}, {preset.steps} preset steps; "
              f"sizes {_sizes(name, w)}")
    print("  or --workload path/to/your_workload.py; examples in workloads/examples/: convnet_workload.py (no\n"
          "             tensor list), regression_workload.py, multilabel_workload.py, tabular_workload.py (param_specs)")
    print("  or --workload hub:FOLDER, a Llama, Gemma, GPT-2, Qwen2, BERT, ViT, DeiT, DINOv2 or Swin checkpoint on disk in\n"
          f"             the Hugging Face hub's layout (config.json + model.safetensors){_hub_status()}")
    print("runner specs:")
    for spec in SPECS.values():
        missing = spec.missing_modules()
        status = "installed" if not missing else f"missing {', '.join(missing)}: pip install 'kvp-dash[{spec.extra}]'"
        print(f"  {spec.name:18s} {status}")
