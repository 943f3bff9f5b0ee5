"""How long ``--until`` takes to a sure verdict here, against the fixed default run, and how good its time-left
estimate is.

For each target (±10 %, ±5 %) the script runs ``kvp-dash --headless --until T`` on a workload ``--runs`` times
(the four default runners, the default 3-s turns, a 120-s cap per runner), then reads each run folder back:

- the wall time from the first training step to the end, the pairs, and whether the target was reached;
- the estimate's error: at each turn's end the run's precision is worked out again from the events recorded
  until then (``precision_now``, the same code the dashboard and the launcher use); the first estimate and the
  one at half the run are compared with the time the run then really took to reach its target.

The fixed default (20 s a runner, no --until) runs once per repeat for comparison: its interval's half-width.

    python benchmarks/until_sure.py --workload mlp --runs 3
"""

from __future__ import annotations

import argparse
import heapq
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from runners.session.record.finished_run import read_run
from runners.session.record.replay import RecordedRun
from runners.session.verdict.precision import precision_now


def run(workload: str, output: Path, *args: str) -> Path:
    before = set(output.iterdir())
    subprocess.run([sys.executable, "-m", "tui.cli", "--headless", "--workload", workload, "--output", str(output),
                    *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (folder,) = set(output.iterdir()) - before
    return folder


def estimates(folder: Path, target: float) -> dict:
    """The run's precision re-judged at each turn's end from its recorded events."""
    recorded = RecordedRun(folder)
    states = {name: recorded.new_state(name) for name in recorded.runner_names}
    merged = heapq.merge(*(recorded.events_of(name) for name in recorded.runner_names), key=lambda e: e.t)
    first_training, points, end = None, [], None
    for event in merged:
        states[event.runner].apply(event)
        if getattr(event, "phase", None) == "training" and first_training is None:
            first_training = event.t
        if getattr(event, "phase", None) in ("waiting", "done"):
            precision = precision_now(list(states.values()), target)
            if precision.seconds_left is not None:
                points.append((event.t, precision.seconds_left, precision.half_width))
            if precision.reached and end is None:
                end = event.t
        last = event.t
    summary = json.loads((folder / "summary.json").read_text())
    end = end if end is not None else last
    first = points[0] if points else None
    middle = next((p for p in points if p[0] >= first_training + (end - first_training) / 2), None)
    return {
        "wall_s": end - first_training, "pairs": summary["until"]["pairs"], "reached": summary["until"]["reached"],
        "half_width": summary["until"]["half_width"],
        "first_estimate": (first[1], end - first[0]) if first else None,  # (predicted, actual) seconds left
        "mid_estimate": (middle[1], end - middle[0]) if middle else None,
    }


def default_half_width(folder: Path) -> float | None:
    return precision_now(list(read_run(folder).states.values()), 0.05).half_width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mlp")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--targets", default="10,5")
    args = parser.parse_args()
    targets = [float(t) / 100 for t in args.targets.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch)
        rows = {target: [] for target in targets}
        defaults = []
        for repeat in range(args.runs):
            defaults.append(default_half_width(run(args.workload, output)))
            for target in targets:
                folder = run(args.workload, output, "--until", f"{target * 100:g}%")
                rows[target].append(estimates(folder, target))
                print(f"repeat {repeat + 1} ±{target * 100:g} %: {rows[target][-1]}", flush=True)
    print(f"\n{args.workload}, {args.runs} runs a target, the four default runners, 3-s turns, 120-s cap a runner")
    print("fixed default (20 s a runner): headline half-width "
          + ", ".join(f"±{h * 100:.1f} %" if h else "none" for h in defaults))
    print("| target | reached | wall s to the end (median, range) | pairs | first estimate: predicted / actual s "
          "| mid-run estimate: predicted / actual s |")
    print("|---|---|---|---|---|---|")
    for target, found in rows.items():
        walls = [r["wall_s"] for r in found]
        print(f"| ±{target * 100:g} % | {sum(r['reached'] for r in found)}/{len(found)} | "
              f"{statistics.median(walls):.0f} ({min(walls):.0f}–{max(walls):.0f}) | "
              f"{', '.join(str(r['pairs']) for r in found)} | "
              + ", ".join(f"{p:.0f}/{a:.0f}" for r in found if r["first_estimate"] for p, a in [r["first_estimate"]])
              + " | "
              + ", ".join(f"{p:.0f}/{a:.0f}" for r in found if r["mid_estimate"] for p, a in [r["mid_estimate"]])
              + " |")


if __name__ == "__main__":
    main()
