"""``kvp-dash pipelines --images DIR``: each framework's input pipeline alone, without training: images/s and CPU
an image, beside decoding the folder once (what ``--input memory`` pays up front)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tui.cli.options import command, positive_int
from workloads.errors import InputError


def register(commands) -> None:
    parser = command(
        commands, "pipelines",
        "Each framework's input pipeline over an image folder, alone (nothing trains): images a second and CPU "
        "an image for tf.data, PyDataset and DataLoader, as the runners build them for --input native, beside "
        "decoding the folder once (--input memory).",
        pipelines,
    )
    parser.add_argument("--images", type=Path, required=True, metavar="DIR", help="a folder, one subfolder a class")
    parser.add_argument("--image-size", type=positive_int, default=224, metavar="PX",
                        help="the side the images are cropped and resized to (default: 224)")
    parser.add_argument("--batch-size", type=positive_int, default=32, metavar="B", help="(default: 32)")
    parser.add_argument("--batches", type=positive_int, default=20, metavar="N",
                        help="batches timed, after the first (default: 20)")
    parser.add_argument("--input-workers", type=positive_int, default=2, metavar="N",
                        help="each pipeline's workers (default: 2)")


def pipelines(args: argparse.Namespace) -> int:
    from runners.child.input.alone import PIPELINES
    from runners.specs import SPECS
    from tui.console.output import console as output_console
    from workloads.images.folder import read_folder

    folder = read_folder(args.images)  # one line for a folder that is not one, before anything starts
    needs = {"DataLoader": "torch", "PyDataset": "keras/jax", "tf.data": "keras/tensorflow"}
    console = output_console()
    console.print(f"{folder.describe()}; {args.image_size} px, batch {args.batch_size}, {args.batches} batches, "
                  f"{args.input_workers} workers")
    rows, failed = [], False
    for name, backend in PIPELINES.items():
        spec = SPECS.get(needs.get(name, ""))
        if spec is not None and spec.missing_modules():
            console.print(f"  {name:<10} not installed: {', '.join(spec.missing_modules())}")
            continue
        env = {**os.environ, **({"KERAS_BACKEND": backend} if backend else {})}
        result = subprocess.run(
            [sys.executable, "-m", "runners.child.input.alone", name, str(folder.root), str(args.image_size),
             str(args.batch_size), str(args.batches), str(args.input_workers)],
            capture_output=True, text=True, env=env,
        )
        if result.returncode:
            failed = True
            lines = result.stderr.strip().splitlines()
            console.print(f"  {name:<10} failed: {lines[-1] if lines else f'exit {result.returncode}'}")
            continue
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    for row in rows:
        label = "decode once (--input memory), one core" if row["pipeline"] == "memory" else row["pipeline"]
        console.print(f"  {label:<40} {row['images_per_s']:>9,.0f} images/s  {row['cpu_ms_per_image']:>6.2f} CPU-ms "
                      "an image")
    if not rows:
        raise InputError("no pipeline could run: install kvp-dash[torch], [jax] or [tensorflow]")
    return 1 if failed else 0
