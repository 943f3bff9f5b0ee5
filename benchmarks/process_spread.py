"""How much a runner's speed moves from one process to the next, and whether a setting of the process removes it.

Runs ``--processes`` one-runner headless runs (a fresh process each) of a workload, alternating between the
variants named (``--variant NAME=ENV=VALUE,ENV=VALUE``; ``plain`` is the default environment) so that the
machine's drift falls on every variant alike, and prints each process's steady step time and, per variant, the
spread over processes (min–max, coefficient of variation).

    python benchmarks/process_spread.py --runner torch --processes 12 \
        --variant bound=OMP_PROC_BIND=close,OMP_PLACES=cores
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def one_process(runner: str, workload: str, duration: str, output: Path, env: dict[str, str]) -> float | None:
    before = set(output.iterdir())
    subprocess.run([sys.executable, "-m", "tui.cli", "--headless", "--workload", workload, "--runners", runner,
                    "--duration", duration, "--output", str(output)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, **env})
    (folder,) = set(output.iterdir()) - before
    rows = json.loads((folder / "summary.json").read_text())["standings"]
    return rows[0]["step_time_s"] if rows and rows[0].get("step_time_s") else None


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, settings = text.partition("=")
    env = dict(item.split("=", 1) for item in settings.split(",") if item)
    return name, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", default="torch")
    parser.add_argument("--workload", default="mlp")
    parser.add_argument("--processes", type=int, default=12, help="per variant")
    parser.add_argument("--duration", default="6s")
    parser.add_argument("--variant", action="append", default=[], type=parse_variant)
    args = parser.parse_args()
    variants = [("plain", {})] + args.variant
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.processes):
            for name, env in variants:
                step = one_process(args.runner, args.workload, args.duration, Path(scratch), env)
                if step:
                    times[name].append(step * 1000)
                print(f"process {index + 1:2d} {name:>8}: {step * 1000 if step else float('nan'):.2f} ms a step",
                      flush=True)
    print(f"\n{args.runner} on {args.workload}, {args.processes} processes a variant, alternating:")
    for name, values in times.items():
        if len(values) >= 2:
            cv = statistics.stdev(values) / statistics.fmean(values) * 100
            print(f"  {name:>8}: {min(values):.2f}–{max(values):.2f} ms a step, median {statistics.median(values):.2f}, "
                  f"cv {cv:.1f} %  ({', '.join(f'{v:.2f}' for v in sorted(values))})")


if __name__ == "__main__":
    main()
