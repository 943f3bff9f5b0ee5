"""Re-record the run shipped for ``kvp-dash replay`` (``runners/session/record/recordings/demo-mlp``).

An interleaved headless run of the four default runners on mlp at its small size, each for ``--duration``
seconds of its own steady training (long enough for paired turns, so the replay shows ratios with their
intervals), recorded into a temporary folder and then moved over the shipped one whole.

    python benchmarks/record_demo.py [--duration 8s]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "runners" / "session" / "record" / "recordings" / "demo-mlp"
# Not shipped: where this machine cached generated weights (mlp has none), and per-machine paths' noise.
LEFT_OUT = ("prepared.json",)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="8s", help="steady training per runner (default: 8s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        result = subprocess.run([sys.executable, "-m", "tui.cli", "--headless", "--workload", "mlp", "--size", "small",
                                 "--duration", args.duration, "--output", runs], text=True)
        if result.returncode != 0:
            print(f"record_demo: the run failed (exit {result.returncode}); the shipped recording is unchanged")
            return 1
        (folder,) = list(Path(runs).iterdir())
        for name in LEFT_OUT:
            (folder / name).unlink(missing_ok=True)
        staged = SHIPPED.with_name(SHIPPED.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(folder, staged)
        shutil.rmtree(SHIPPED, ignore_errors=True)
        staged.rename(SHIPPED)
    print(f"record_demo: {SHIPPED} re-recorded")
    print((SHIPPED / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
