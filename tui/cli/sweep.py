"""``kvp-dash sweep``: one sequential run per model size, and the Keras ÷ PyTorch speed ratio against size.

The seed article's central claim ("Keras is slower for small models, catches
up on large ones"), measured on the user's machine: each size is a full
headless run session with the sequential schedule (every runner alone with the
whole machine), recorded in its own run folder inside the sweep folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json

from tui.cli.options import add_length_options, add_plan_options, command, plan_from
from workloads.errors import InputError

REFERENCE = "torch"  # the native PyTorch runner every Keras runner is compared with
FIELDS = ["size", "params", "runner", "keras_over_torch", "run"]


def register(commands) -> None:
    parser = command(
        commands, "sweep",
        "Train the workload at several model sizes, one headless run per size with the "
        "sequential schedule, and show the Keras ÷ PyTorch throughput ratio per backend against size "
        "(a table and a chart, saved in a sweep folder with every run).",
        sweep,
    )
    add_plan_options(parser)
    parser.add_argument("--sizes", default="tiny,small,base", metavar="S1,S2,…",
                        help="size presets to sweep (default: tiny,small,base)")
    add_length_options(parser, "default: the size's preset")


def ratios(summary: dict) -> dict[str, float | None]:
    """Keras throughput ÷ PyTorch throughput per Keras runner (above 1: Keras is faster)."""
    by_runner = {s["runner"]: s for s in summary["standings"]}
    reference = by_runner.get(REFERENCE, {}).get("throughput")
    return {
        name: (row["throughput"] / reference if reference and row["throughput"] else None)
        for name, row in by_runner.items() if name.startswith("keras/")
    }


def sweep(args: argparse.Namespace) -> int:
    try:
        return _sweep(args)
    except OSError as exc:
        raise InputError(f"cannot write the sweep folder in {args.output}: {exc.strerror or exc}") from None


def _sweep(args: argparse.Namespace) -> int:
    from runners.session.recording import RunFolder
    from runners.session.run_session import RunSession
    from tui.console import headless
    from tui.console.output import console as output_console
    from tui.console.output import text_of
    from tui.console.sweep_report import ratio_chart, ratio_table

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    # Every size checked before anything trains.
    plans = [plan_from(argparse.Namespace(**{**vars(args), "size": size}), steps=args.steps,
                       duration_s=args.duration) for size in sizes]
    if REFERENCE not in [spec.name for spec in plans[0].specs]:
        raise InputError("sweep compares every Keras runner with the torch runner: include torch in --runners")
    workload = plans[0].workload.name
    sweep_folder = RunFolder.create(args.output, f"sweep-{workload}")
    rows, failures = [], 0
    for size, plan in zip(sizes, plans):
        session = RunSession(plan, sweep_folder.path, folder_name=f"{workload}-{size}", schedule="sequential")
        failures += headless.run(session) != 0
        summary = json.loads((session.folder.path / "summary.json").read_text())
        params = plan.workload.trainable_params(plan.settings)
        for runner, ratio in ratios(summary).items():
            rows.append({"size": size, "params": params, "runner": runner, "keras_over_torch": ratio,
                         "run": session.folder.path.name})
    table, chart = ratio_table(rows), ratio_chart(rows, workload)
    console = output_console()
    console.print(table)
    console.print(chart)
    sweep_folder.write_json("sweep.json", {"workload": workload, "reference": REFERENCE, "rows": rows})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    sweep_folder.write_text("sweep.csv", buffer.getvalue())
    sweep_folder.write_text("sweep.md", f"# sweep: {workload}\n\n```\n{text_of(table)}\n{chart}\n```\n")
    console.print(f"sweep folder: {sweep_folder.path}")
    return 1 if failures else 0
