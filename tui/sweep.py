"""kvp-dash sweep: one sequential run per model size, and the Keras ÷ PyTorch speed ratio against size.

The seed article's central claim ("Keras is slower for small models, catches
up on large ones"), measured on the user's machine: each size is a full
headless run with the sequential schedule (every runner alone with the whole
machine), recorded in its own run folder inside the sweep folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json

from rich.console import Console
from rich.table import Table

from runners.recording import RunFolder

REFERENCE = "torch"  # the native PyTorch runner every Keras runner is compared with


def ratios(summary: dict) -> dict[str, float | None]:
    """Keras throughput ÷ PyTorch throughput per Keras runner (above 1: Keras is faster)."""
    by_runner = {s["runner"]: s for s in summary["standings"]}
    reference = by_runner.get(REFERENCE, {}).get("throughput")
    return {
        name: (row["throughput"] / reference if reference and row["throughput"] else None)
        for name, row in by_runner.items() if name.startswith("keras/")
    }


def run_sweep(args: argparse.Namespace, plan_for, run_one) -> int:
    """``plan_for(size)`` validates one size; ``run_one(plan, folder)`` trains it headless (exit code)."""
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    plans = [plan_for(size) for size in sizes]  # every size checked before anything trains
    if REFERENCE not in [spec.name for spec in plans[0].specs]:
        raise ValueError("sweep compares every Keras runner with the torch runner: include torch in --runners")
    sweep = RunFolder.create(args.output, f"sweep-{plans[0].workload.name}")
    rows, failures = [], 0
    for size, plan in zip(sizes, plans):
        folder = RunFolder.create(sweep.path, f"{plan.workload.name}-{size}")
        failures += run_one(plan, folder) != 0
        summary = json.loads((folder.path / "summary.json").read_text())
        params = plan.workload.trainable_params(plan.settings)
        for runner, ratio in ratios(summary).items():
            rows.append({"size": size, "params": params, "runner": runner, "keras_over_torch": ratio,
                         "run": folder.path.name})
    table, chart = _table(rows), _chart(rows, plans[0].workload.name)
    console = Console()
    console.print(table)
    console.print(chart)
    sweep.write_json("sweep.json", {"workload": plans[0].workload.name, "reference": REFERENCE, "rows": rows})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["size", "params", "runner", "keras_over_torch", "run"])
    writer.writeheader()
    writer.writerows(rows)
    sweep.write_text("sweep.csv", buffer.getvalue())
    text = Console(file=io.StringIO(), width=100, record=True)
    text.print(table)
    sweep.write_text("sweep.md", f"# sweep: {plans[0].workload.name}\n\n```\n{text.export_text()}\n{chart}\n```\n")
    console.print(f"sweep folder: {sweep.path}")
    return 1 if failures else 0


def _table(rows: list[dict]) -> Table:
    table = Table(title="Keras ÷ PyTorch throughput (above 1.00: Keras faster; sequential schedule)",
                  title_justify="left")
    runners = sorted({r["runner"] for r in rows})
    table.add_column("size")
    table.add_column("params", justify="right")
    for runner in runners:
        table.add_column(runner, justify="right")
    for size in dict.fromkeys(r["size"] for r in rows):
        cells = {r["runner"]: r for r in rows if r["size"] == size}
        params = next(iter(cells.values()))["params"]
        table.add_row(size, f"{params:,}", *(
            f"{cells[n]['keras_over_torch']:.2f}×" if n in cells and cells[n]["keras_over_torch"] else "–"
            for n in runners))
    return table


def _chart(rows: list[dict], workload: str) -> str:
    """The ratio against parameter count, as text (plotext), with the 1.00 line where Keras equals PyTorch."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(90, 22)
    plt.theme("clear")
    plt.title(f"{workload}: Keras ÷ PyTorch throughput vs parameters")
    plt.xscale("log")
    for runner in sorted({r["runner"] for r in rows}):
        points = [(r["params"], r["keras_over_torch"]) for r in rows if r["runner"] == runner and r["keras_over_torch"]]
        if points:
            plt.plot([p for p, _ in points], [v for _, v in points], label=runner, marker="dot")
    plt.hline(1.0)
    return plt.uncolorize(plt.build())
