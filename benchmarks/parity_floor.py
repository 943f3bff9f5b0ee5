"""How far each Keras runner's first step losses sit from PyTorch's, in units of the noise floor measured in the
same run (``runners.child.pytorch.noise_floor``): the margin parity's step tolerance uses (``FLOOR_MARGIN``) must sit
above every correct run's ratio, and a real difference must sit above it.

Runs ``kvp-dash check`` once per seed (each seed is another initialisation and other batches) and prints, per
runner, the ratio Δ / floor: its median, its largest, and how many runs the tolerance passed.

    python benchmarks/parity_floor.py --workload resnet18 --size tiny --seeds 0-7
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def seeds(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="resnet18")
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--seeds", type=seeds, default=seeds("0-7"))
    parser.add_argument("--runners", default="torch,keras/jax,keras/tensorflow,keras/torch")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from runners.session.verdict.parity import FLOOR_MARGIN, STEP_LOSS_RTOL

    ratios: dict[str, list[float]] = {}
    passed: dict[str, int] = {}
    floors = []
    with tempfile.TemporaryDirectory() as runs:
        for seed in args.seeds:
            subprocess.run([sys.executable, "-m", "tui.cli", "check", "--workload", args.workload, "--size", args.size,
                            "--seed", str(seed), "--runners", args.runners, "--output", runs],
                           capture_output=True, text=True, timeout=900)
            folder = max(Path(runs).glob("*-check-*"), key=lambda p: p.stat().st_mtime)
            parity = json.loads((folder / "parity.json").read_text())
            floor = parity["floor_rdiff"]
            floors.append(floor)
            line = [f"seed {seed}: floor {floor:.2e}"]
            for row in parity["rows"]:
                if row["steps_rdiff"] is not None and row["runner"] != parity["reference"]:
                    # A floor of 0: the perturbation moved no loss at float32 (a calm model); no ratio then.
                    ratio = row["steps_rdiff"] / floor if floor else float("nan")
                    ratios.setdefault(row["runner"], []).append(ratio)
                    passed[row["runner"]] = passed.get(row["runner"], 0) + (row["steps_rdiff"] <= parity["step_rtol"])
                    line.append(f"{row['runner']} Δ {row['steps_rdiff']:.2e} ({ratio:.2f}×)")
            print(" · ".join(line), flush=True)
    print(f"\n{args.workload} ({args.size}), {len(args.seeds)} seeds; floor median {np.median(floors):.2e} "
          f"(range {min(floors):.2e}–{max(floors):.2e}); tolerance {FLOOR_MARGIN:g} × floor, at least {STEP_LOSS_RTOL:g}")
    print("| runner | Δ / floor, median | largest | within tolerance |")
    print("|---|---|---|---|")
    for runner, values in ratios.items():
        print(f"| {runner} | {np.nanmedian(values):.2f} | {np.nanmax(values):.2f} | {passed[runner]} of {len(values)} |")


if __name__ == "__main__":
    main()
