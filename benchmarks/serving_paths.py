"""Every serving path on one workload (`kvp-dash infer --headless`), as a Markdown table a batch size a column:
p50 latency and throughput at each batch size, export time, artifact size, parity, and the Keras-against-PyTorch
ratio of the fastest fp32 paths with its interval.

    python benchmarks/serving_paths.py --workload resnet18 [--size small] [--duration 10]
    python benchmarks/serving_paths.py --summary runs/<an infer run>      # the table of a run already made
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runners.session.state.formatting import fmt_latency, fmt_size  # noqa: E402


def table(summary: dict) -> str:
    rows = summary["paths"]
    sizes = sorted({r["batch_size"] for r in rows})
    paths = list(dict.fromkeys(r["runner"] for r in rows if r["batch_size"] == sizes[0]))
    at = {(r["runner"], r["batch_size"]): r for r in rows}
    head = ["path", *(f"b{b} p50" for b in sizes[:1]), *(f"b{b} samples/s" for b in sizes), "export", "artifact",
            "parity"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in paths:
        first = at[(name, sizes[0])]
        label = name + (f" ({first['precision']})" if first["precision"] != "fp32" else "")
        if first["phase"] == "failed":
            lines.append(f"| {label} | failed: {(first['error'] or '')[:80]} |" + " |" * (len(head) - 2))
            continue
        rates = [f"{at[(name, b)]['throughput']:,.0f}" if at[(name, b)]["throughput"] else "–" for b in sizes]
        export = f"{first['export_s']:.1f} s" if first["artifact"] else "–"
        parity = {True: "✓", False: "✗", None: "–"}[first["parity"]]
        lines.append(f"| {label} | {fmt_latency(first['p50_s'])} | " + " | ".join(rates)
                     + f" | {export} | {fmt_size(first['artifact_bytes'])} | {parity} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="resnet18")
    parser.add_argument("--size", default="small")
    parser.add_argument("--duration", default="10")
    parser.add_argument("--summary", type=Path, help="an infer run folder: print its table, run nothing")
    args = parser.parse_args()
    if args.summary:
        summary = json.loads((args.summary / "summary.json").read_text())
    else:
        with tempfile.TemporaryDirectory() as output:
            subprocess.run([sys.executable, "-m", "tui.cli", "infer", "--headless", "--workload", args.workload,
                            "--size", args.size, "--duration", args.duration, "--output", output], cwd=ROOT,
                           check=False)
            folder = next(Path(output).glob("*"))
            summary = json.loads((folder / "summary.json").read_text())
    print(summary["run"])
    print(table(summary))
    print(f"\nverdict: {summary['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
