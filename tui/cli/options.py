"""What the commands' options share: one-line errors, checked numbers, the plan and screen options."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runners.session.planning.defaults import DEFAULT_REFRESH_HZ
from runners.specs import SPECS
from workloads import workload_names
from workloads.base import SIZE_NAMES

DEFAULT_WORKLOAD = "mlp"
# Textual's own themes; the plots follow them.
THEMES = {"dark": "textual-dark", "light": "textual-light", "ansi": "textual-ansi"}


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage wall becomes one line
        self.exit(2, f"kvp-dash: error: {message}\n")


def command(commands, name: str, description: str, handler, **defaults) -> argparse.ArgumentParser:
    """A command's parser (``kvp-dash NAME``), whose parsed arguments go to ``handler``."""
    parser = commands.add_parser(name, prog=f"kvp-dash {name}", description=description)
    parser.set_defaults(handler=handler, **defaults)
    return parser


def number_in(kind: type, low: float, high: float | None, bounds: str, expected: str = "a number"):
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


positive_int = number_in(int, 1, None, "at least 1", "a whole number")


def repeat_count(text: str) -> int | str:
    """--repeats: a count, or "auto" (with --until: as many processes as the target needs)."""
    return "auto" if text.strip().lower() == "auto" else positive_int(text)
seed = number_in(int, 0, 2**32 - 1, "between 0 and 2**32-1", "a whole number")
refresh = number_in(float, 0.2, 60, "between 0.2 and 60 redraws per second", "a number of redraws per second")
speed = number_in(float, 0.01, 10_000, "between 0.01 and 10000")
port = number_in(int, 1, 65535, "between 1 and 65535", "a port number")
seconds = number_in(float, 0.5, 3600, "between 0.5 and 3600 seconds", "a number of seconds")
learning_rate = number_in(float, 1e-9, 10, "between 1e-9 and 10")
non_negative = number_in(float, 0, 10, "between 0 and 10")
non_negative_int = number_in(int, 0, None, "0 or more", "a whole number")
positive_number = number_in(float, 1e-9, None, "above 0")
fraction = number_in(float, 0, 0.999, "between 0 and 0.999")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration(text: str) -> float:
    """"90", "90s", "2m" or "1h": seconds, at least one."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in DURATION_UNITS else (text, "s")
    try:
        value = float(number) * DURATION_UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a time like 60s, 2m or 90, got {text!r}") from None
    if not 1 <= value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"must be between 1 s and a week, got {text!r}")
    return value


def percentage(example: str):
    """An argparse type: "5%", "5" (or "±5%" for a half-width) as the fraction 0.05, above 0 and below 100 %."""

    def parse(text: str) -> float:
        number = text.strip().removeprefix("±").removeprefix("+-").removeprefix("+/-").removesuffix("%").strip()
        try:
            value = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}") from None
        if not 0 < value < 100:
            raise argparse.ArgumentTypeError(f"must be above 0 % and below 100 %, got {text!r}")
        return value / 100

    return parse


half_width = percentage("a half-width like ±5% or 10%")
share = percentage("a percentage like 5%")


def gpu_list(text: str) -> list[int]:
    try:
        gpus = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected GPU indices like 0,1, got {text!r}") from None
    if not gpus or min(gpus) < 0:
        raise argparse.ArgumentTypeError(f"expected GPU indices like 0,1, got {text!r}")
    return gpus


def device_counts(text: str) -> list[int]:
    """"1,2,4": the device counts of a scaling sweep, each at least one, none twice."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected device counts like 1,2,4, got {text!r}") from None
    if not counts or min(counts) < 1 or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"expected distinct device counts like 1,2,4, got {text!r}")
    return counts


def add_plan_options(parser: argparse.ArgumentParser, device_ladder: bool = False) -> None:
    """What to train and where: every command that starts runners takes these (``device_ladder``: --devices is
    a list of counts, for sweep)."""
    parser.add_argument("--workload", default=DEFAULT_WORKLOAD, metavar="NAME",
                        help=f"{', '.join(workload_names())}, a registered workload, a path to your own "
                        f".py file, or hub:FOLDER, a local checkpoint in the Hugging Face hub's layout "
                        f"(default: {DEFAULT_WORKLOAD})")
    parser.add_argument("--size", choices=SIZE_NAMES, metavar="SIZE",
                        help="model size preset: tiny, small, base or large (default: small; "
                        "tiny and small suit a CPU)")
    defaults = [name for name, spec in SPECS.items() if spec.default]
    opt_in = [name for name, spec in SPECS.items() if not spec.default]
    parser.add_argument("--runners", metavar="SPECS",
                        help=f"comma-separated runner specs (default: every installed one of {','.join(defaults)}; "
                        f"{', '.join(opt_in)} on request)")
    parser.add_argument("--batch-size", type=positive_int, metavar="B", help="samples per step")
    parser.add_argument("--image-size", type=positive_int, metavar="PX",
                        help="image height and width, for image workloads")
    parser.add_argument("--seq-len", type=positive_int, metavar="T",
                        help="tokens per sequence (the context), for sequence workloads: gpt, lstm, the hub models")
    parser.add_argument("--seed", type=seed, default=0, help="seed for data and initial weights (default: 0)")
    parser.add_argument("--data", type=Path, metavar="FILE.npz",
                        help="train on your own arrays: x_train, y_train (and optionally x_val, y_val)")
    parser.add_argument("--images", type=Path, metavar="DIR",
                        help="train an image classifier on a folder of JPEG/PNG images, one subfolder a class "
                        "(`kvp-dash make-images DIR` writes one): decoded once, every tenth image of a class held "
                        "out for validation, a seeded random crop and flip for training")
    parser.add_argument("--input", choices=("native", "memory"), dest="input_mode",
                        help="with --images: native feeds each runner through its framework's own input pipeline "
                        "(tf.data, DataLoader, PyDataset) reading the files as it trains; memory decodes them once "
                        "and feeds the same arrays to all (the model-only comparison) (default: native)")
    parser.add_argument("--input-workers", type=positive_int, default=2, metavar="N",
                        help="with --input native: the pipelines' workers (DataLoader processes, PyDataset "
                        "threads, tf.data parallel calls) (default: 2)")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where run folders go (default: ./runs)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where runners train (default: auto = cuda when NVML finds a GPU)")
    parser.add_argument("--gpus", type=gpu_list, metavar="0,1,…",
                        help="GPUs to spread runners over, round-robin (CUDA_VISIBLE_DEVICES per runner)")
    if device_ladder:
        parser.add_argument("--devices", type=device_counts, default=[1], metavar="N1,N2,…",
                            help="device counts to measure scaling over, 1 among them (e.g. 1,2,4): one run each "
                            "at one size, throughput per device and scaling efficiency per runner (default: 1)")
    else:
        parser.add_argument("--devices", type=positive_int, default=1, metavar="N",
                            help="each runner trains data-parallel over N devices with its framework's own engine "
                            "(DDP via torchrun, keras.distribution, tf.distribute): N GPUs, or N CPU host devices; "
                            "the global batch is --batch-size (default: 1)")
    parser.add_argument("--allow-mixed-devices", action="store_true",
                        help="race runners that would train on different device kinds (refused otherwise); "
                        "they are marked and left out of the verdict")
    add_recipe_options(parser)


def add_numerics_options(parser: argparse.ArgumentParser) -> None:
    """How the runners compute: what a run and its check share, so a bf16 run can be checked as it ran."""
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                        help="fp32, or mixed precision: Keras's mixed policy / PyTorch autocast (default: fp32)")
    parser.add_argument("--tf32", choices=("off", "on"), default="off",
                        help="TF32 matmuls on Ampere+ GPUs, set alike in every framework (default: off)")
    parser.add_argument("--keras-jit", choices=("auto", "on", "off"), default="auto",
                        help="Keras compile(jit_compile=...): auto = XLA on jax/tensorflow, eager on torch")


def add_recipe_options(parser: argparse.ArgumentParser) -> None:
    """The training recipe, aligned across frameworks (``runners.recipe``); a workload file may set defaults."""
    from runners.recipe import OPTIMIZERS, SCHEDULES

    group = parser.add_argument_group("training recipe (the same in every runner; defaults: the workload's, "
                                      "else adam at 1e-3, constant)")
    group.add_argument("--optimizer", choices=OPTIMIZERS, help="adam, adamw (decoupled weight decay) or sgd")
    group.add_argument("--lr", type=learning_rate, dest="learning_rate", metavar="RATE", help="peak learning rate")
    group.add_argument("--weight-decay", type=non_negative, metavar="WD",
                       help="adamw: decoupled decay; sgd: L2 added to the gradient (PyTorch's meaning, both frameworks)")
    group.add_argument("--momentum", type=fraction, metavar="M", help="sgd momentum (0 to 1)")
    group.add_argument("--nesterov", action="store_true", default=None, help="sgd: Nesterov momentum")
    group.add_argument("--lr-schedule", choices=SCHEDULES,
                       help="constant, cosine or linear decay to 0 over the run's --steps")
    group.add_argument("--warmup-steps", type=non_negative_int, metavar="N",
                       help="linear warm-up from 0 over the first N steps")
    group.add_argument("--clip-norm", type=positive_number, metavar="NORM",
                       help="clip the global gradient norm (clip_grad_norm_ / Keras global_clipnorm)")
    group.add_argument("--label-smoothing", type=fraction, metavar="EPS", help="classifiers: label smoothing")


def recipe_given(args: argparse.Namespace) -> dict:
    """The recipe settings the user gave (the rest come from the workload's defaults)."""
    names = ("optimizer", "learning_rate", "weight_decay", "momentum", "nesterov", "warmup_steps", "clip_norm",
             "label_smoothing")
    # --lr-schedule, not "schedule": that is the runners' --schedule (interleaved, parallel, sequential).
    return {name: getattr(args, name, None) for name in names} | {"schedule": getattr(args, "lr_schedule", None)}


def add_validation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--eval-every", type=positive_int, metavar="N",
                        help="evaluate on the validation data every N steps, timed apart from training "
                        "(default: four times per run, and at the end)")
    parser.add_argument("--target", metavar="METRIC=VALUE",
                        help="time each runner takes to reach this validation quality: accuracy=0.9, loss=0.3, "
                        "mae=0.2 (start-up and compile counted, waiting turns and evaluations not)")


def add_length_options(parser: argparse.ArgumentParser, default: str) -> None:
    """How long each runner trains: a step count or a time budget (or both: whichever ends first)."""
    parser.add_argument("--steps", type=positive_int, metavar="N", help=f"optimizer steps per runner ({default})")
    parser.add_argument("--duration", type=duration, metavar="TIME",
                        help="steady training time per runner, its own device time (60s, 2m): start-up, "
                        "compilation and waiting for its turn come on top; with --steps, whichever ends first")


def add_screen_options(parser: argparse.ArgumentParser) -> None:
    """The options every dashboard command shares."""
    parser.add_argument("--refresh", type=refresh, default=DEFAULT_REFRESH_HZ, metavar="HZ",
                        help=f"screen redraws per second (default: {DEFAULT_REFRESH_HZ:g})")
    parser.add_argument("--theme", choices=sorted(THEMES), default="dark",
                        help="colour theme (default: dark). NO_COLOR=1 in the environment turns colour off")


def plan_from(args: argparse.Namespace, steps: int | None, schedule: str | None = "sequential",
              duration_s: float | None = None, until: float | None = None):
    """The run's plan from the plan options (``runners.session.planning.plan``); skipped runners are said on stderr."""
    from runners.session.planning.plan import make_plan

    plan = make_plan(
        args.workload, size=args.size, steps=steps, batch_size=args.batch_size, seed=args.seed,
        image_size=args.image_size, seq_len=args.seq_len, data=args.data, runners=args.runners, device=args.device,
        gpus=args.gpus, devices=args.devices, hosts=getattr(args, "hosts", 1),
        schedule=schedule, allow_mixed_devices=args.allow_mixed_devices, duration_s=duration_s,
        recipe=recipe_given(args), eval_every=getattr(args, "eval_every", None), target=getattr(args, "target", None),
        until=until, images=getattr(args, "images", None), input_mode=getattr(args, "input_mode", None),
        input_workers=getattr(args, "input_workers", 2),
    )
    for notice in plan.skipped:
        print(f"kvp-dash: skipping {notice}", file=sys.stderr)
    for line in plan.mixed:
        print(f"kvp-dash: warning: {line} (marked, and left out of the verdict)", file=sys.stderr)
    return plan
