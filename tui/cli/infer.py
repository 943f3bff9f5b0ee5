"""``kvp-dash infer``: the same weights served by every deployment path, each in its own process, timed call by
call at each batch size, live on the dashboard or ``--headless``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runners.serving_paths import PATHS
from tui.cli.options import (
    add_screen_options,
    command,
    duration,
    gpu_list,
    seconds,
    seed,
    positive_int,
)
from workloads import workload_names
from workloads.base import SIZE_NAMES

DEFAULT_BATCH_SIZES = "1,8,64"
DEFAULT_INFER_S = 10.0  # timed calls per path, every batch size together (its own time: turns left out)


def register(commands) -> None:
    parser = command(
        commands, "infer",
        "Serve the same weights through every deployment path (Keras on each backend, PyTorch eager, "
        "torch.compile, torch.export, ONNX Runtime, OpenVINO, SavedModel, LiteRT), each in its own process: latency "
        "percentiles and throughput at each batch size, export cost and artifact size, outputs against PyTorch "
        "eager's, and the fastest path a batch size with its 95%% interval.",
        infer,
    )
    parser.add_argument("--workload", metavar="NAME",
                        help=f"{', '.join(workload_names())}, your own .py file, or hub:FOLDER (default: resnet18, "
                        "or the --from run's)")
    parser.add_argument("--size", choices=SIZE_NAMES, metavar="SIZE", help="model size preset (default: small)")
    parser.add_argument("--batch-sizes", default=DEFAULT_BATCH_SIZES, metavar="B1,B2,…",
                        help=f"batch sizes every path serves, in turn (default: {DEFAULT_BATCH_SIZES})")
    default_paths = [name for name, spec in PATHS.items() if spec.default]
    opt_in = [name for name, spec in PATHS.items() if not spec.default and spec.listed]
    parser.add_argument("--paths", metavar="PATHS",
                        help=f"comma-separated serving paths (default: every installed one of "
                        f"{','.join(default_paths)}; {', '.join(opt_in)} on "
                        "request); `kvp-dash infer --list-paths` says what each does and whether it is installed")
    parser.add_argument("--from", dest="from_run", type=Path, metavar="RUN_DIR",
                        help="serve a training run's final weights (its native PyTorch model as trained; the run's "
                        "workload and size) instead of the initial ones")
    parser.add_argument("--duration", type=duration, default=DEFAULT_INFER_S, metavar="TIME",
                        help=f"timed calls per path, all batch sizes together (default: {DEFAULT_INFER_S:g}s)")
    parser.add_argument("--slice", type=seconds, default=3.0, metavar="SECONDS",
                        help="seconds of a turn before it passes on (default: 3)")
    parser.add_argument("--schedule", choices=("interleaved", "sequential"),
                        help="interleaved: paths take turns with the whole machine, ratios with 95%% intervals; "
                        "sequential: one path after another (default: interleaved where every path's process "
                        "fits in memory at once, else sequential)")
    parser.add_argument("--seed", type=seed, default=0, help="seed for data and weights (default: 0)")
    parser.add_argument("--image-size", type=positive_int, metavar="PX", help="for image workloads")
    parser.add_argument("--seq-len", type=positive_int, metavar="T", help="for sequence workloads")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where the paths serve (default: auto = cuda when NVML finds a GPU)")
    parser.add_argument("--gpus", type=gpu_list, metavar="0,1,…", help="GPUs to spread paths over")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where run folders go (default: ./runs)")
    parser.add_argument("--keras-predict", action="store_true",
                        help="keras/jax, keras/tensorflow and keras/torch serve through model.predict_on_batch, with "
                        "Keras's per-call overhead, instead of the model's compiled call (default: the compiled call)")
    parser.add_argument("--keep-exports", action="store_true",
                        help="keep each path's exported model in the run folder's exports/ (by default they go once "
                        "their size is measured)")
    parser.add_argument("--headless", action="store_true",
                        help="no dashboard: plain lines or a live table, then the figures and the verdict")
    parser.add_argument("--list-paths", action="store_true", help="list the serving paths, then exit")
    add_screen_options(parser)


def infer(args: argparse.Namespace) -> int:
    from runners.session.planning.serving_plan import make_serving_plan, parse_batch_sizes

    if args.list_paths:
        print_paths()
        return 0
    plan = make_serving_plan(
        args.workload, size=args.size, batch_sizes=parse_batch_sizes(args.batch_sizes), paths=args.paths,
        duration_s=args.duration, seed=args.seed, image_size=args.image_size, seq_len=args.seq_len,
        device=args.device, gpus=args.gpus, schedule=args.schedule, from_run=args.from_run,
        keep_exports=args.keep_exports, keras_predict=args.keras_predict,
    )
    for notice in plan.skipped:
        print(f"kvp-dash: skipping {notice}", file=sys.stderr)
    for notice in plan.notices:
        print(f"kvp-dash: {notice}", file=sys.stderr)
    from tui.cli.run import _dashboard, _session

    options = dict(read_every_s=1 / args.refresh, slice_s=args.slice, warmup_steps=0)
    session = _session(args, plan, options)
    if session is None:
        print("kvp-dash: stopped while preparing; nothing was kept", file=sys.stderr)
        return 130
    if args.headless:
        from tui.console import headless

        return headless.run(session)
    return _dashboard(args, session)


def print_paths() -> None:
    print("serving paths (`kvp-dash infer --paths A,B`):")
    for spec in (p for p in PATHS.values() if p.listed):
        missing = spec.missing_modules()
        status = "installed" if not missing else f"missing {', '.join(missing)}: pip install 'kvp-dash[{spec.extra}]'"
        opt_in = "" if spec.default else " (on request)"
        print(f"  {spec.name:18s} {spec.route}{opt_in}\n  {'':18s} {status}")
