"""``kvp-dash make-images DIR``: a small image folder (one subfolder a class) to train on with ``--images DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.cli.options import command, positive_int


def register(commands) -> None:
    parser = command(
        commands, "make-images",
        "Write a small image folder, one subfolder a class (JPEG or PNG), for --images DIR: a pattern a class, "
        "shifted and noised, at sizes around --size. Nothing is downloaded.",
        make_images,
    )
    parser.add_argument("folder", type=Path, metavar="DIR", help="a new or empty folder")
    parser.add_argument("--classes", type=positive_int, default=10, help="classes (default: 10)")
    parser.add_argument("--per-class", type=positive_int, default=100, metavar="N", help="images a class (default: 100)")
    parser.add_argument("--size", type=positive_int, default=64, metavar="PX",
                        help="the images' typical side; each varies from 0.8 to 1.25 times it (default: 64)")
    parser.add_argument("--format", choices=("jpeg", "png"), default="jpeg", help="(default: jpeg)")
    parser.add_argument("--seed", type=positive_int, default=1, help="(default: 1)")


def make_images(args: argparse.Namespace) -> int:
    from workloads.images.generate import make_images as write

    count = write(args.folder, args.classes, args.per_class, args.size, args.format, args.seed)
    print(f"kvp-dash: {count} images in {args.classes} classes written to {args.folder}; train on them with "
          f"--images {args.folder}")
    return 0
