"""Fidelity and overhead of kvp-dash's timing, against a bare loop timed in the same process.

- fidelity: kvp-dash's reported steady-state step time (its steady windows' time
  over their steps, the panel's headline figure) divided by a bare loop's, same
  framework, model, weights, data, recipe, thread cap and environment (target
  1.00 ± 0.03, with its interval inside the band);
- overhead: training throughput with kvp-dash's instrumentation (its callback,
  windows and event writer) divided by the bare loop's, over whole segments
  (target >= 0.98).

Each runner trains in one process (``benchmarks/fidelity_in_process.py``, with the
environment the launcher gives a runner), its segments alternating between
kvp-dash's timing and the bare loop's in ABBA order over --pairs pairs of segments
of about --segment seconds (``benchmarks/pairing.py``): each figure is the
geometric mean of the pairs' ratios with its 95 % t-interval. Pairing segments
seconds apart in one process leaves out what makes two processes differ here
(about 10 % between two runs of one runner a few seconds apart).

    python benchmarks/timing_fidelity.py [--workloads mlp,cnn] [--runners ...] [--pairs 40] [--segment 3]
    [--device cpu|cuda] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pairing import cell, inside, ratio  # noqa: E402
from runners.session.planning.cpu_share import available_cpus, thread_environment  # noqa: E402
from runners.session.launching.runner_environment import framework_environment  # noqa: E402
from runners.specs import SPECS  # noqa: E402


def paired_segments(spec_name: str, workload_name: str, pairs: int, segment_s: float, threads: int,
                    device: str) -> dict:
    # The environment a runner gets from the launcher (devices, thread pools), nothing else.
    env = {**os.environ, **framework_environment(SPECS[spec_name].backend, device, 0 if device == "cuda" else None),
           **thread_environment(threads)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fidelity_in_process.py"), spec_name, workload_name, "small",
         str(pairs), str(segment_s), device, str(threads)],
        capture_output=True, text=True, env=env,
    )
    if out.returncode:
        raise SystemExit(f"{spec_name} on {workload_name} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,cnn")
    parser.add_argument("--runners", default="keras/jax,keras/tensorflow,keras/torch,torch")
    parser.add_argument("--pairs", type=int, default=40, help="kvp-dash/bare pairs of segments per runner, ABBA")
    parser.add_argument("--segment", type=float, default=3.0, help="seconds of a segment")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    threads = len(available_cpus())
    print(f"{'workload':9s} {'runner':17s} {'steps':>6s} {'kvp-dash ms':>11s} {'bare ms':>8s} "
          f"{'fidelity (95% CI)':>22s} {'in band':>8s} {'overhead (95% CI)':>22s}", flush=True)
    results = []
    for workload_name in args.workloads.split(","):
        for spec_name in args.runners.split(","):
            run = paired_segments(spec_name, workload_name, args.pairs, args.segment, threads, args.device)
            pairs = dict(enumerate(run["pairs"]))  # [kvp-dash step s, bare step s, kvp-dash total s, bare total s]
            fidelity = ratio({k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()})
            # Throughput with instrumentation over throughput without it: the same steps, bare time over kvp-dash's.
            overhead = ratio({k: p[3] for k, p in pairs.items()}, {k: p[2] for k, p in pairs.items()})
            kvp_ms = statistics.median(p[0] for p in pairs.values()) * 1000
            bare_ms = statistics.median(p[1] for p in pairs.values()) * 1000
            print(f"{workload_name:9s} {spec_name:17s} {run['steps']:6d} {kvp_ms:11.3f} {bare_ms:8.3f} "
                  f"{cell(fidelity):>22s} {inside(fidelity, 0.03):>8s} {cell(overhead):>22s}", flush=True)
            results.append({"workload": workload_name, "runner": spec_name, "kvp_dash_ms": kvp_ms,
                            "bare_ms": bare_ms, "fidelity": fidelity.value, "fidelity_low": fidelity.low,
                            "fidelity_high": fidelity.high, "overhead": overhead.value,
                            "overhead_low": overhead.low, "overhead_high": overhead.high, "pairs": args.pairs,
                            "segment_steps": run["steps"]})
    print(f"(small size, {args.device}, {threads} CPU threads, one process per runner, {args.pairs} ABBA pairs of "
          f"about {args.segment:g} s segments; targets: fidelity 1.00 ± 0.03 with its interval inside the band, "
          "overhead ≥ 0.98)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
