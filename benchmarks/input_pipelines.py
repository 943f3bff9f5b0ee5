"""Each framework's input pipeline alone, without training, on a generated image folder: ``kvp-dash pipelines``
(``runners/child/input/alone.py``) over a new folder of 1,000 JPEGs of about ``--size`` px.

    python benchmarks/input_pipelines.py --size 64 --batch 32 --batches 25 --workers 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", help="an image folder (default: a new one, 10 classes × 100 at --size)")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        images = args.images or str(Path(scratch) / "images")
        if args.images is None:
            subprocess.run([sys.executable, "-m", "tui.cli", "make-images", images, "--size", str(args.size)],
                           check=True, cwd=ROOT)
        subprocess.run([sys.executable, "-m", "tui.cli", "pipelines", "--images", images, "--image-size",
                        str(args.size), "--batch-size", str(args.batch), "--batches", str(args.batches),
                        "--input-workers", str(args.workers)], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
