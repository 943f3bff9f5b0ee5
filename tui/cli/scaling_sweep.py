"""``kvp-dash sweep --devices 1,2,4``: how each runner's framework scales over devices, at one model size.

One headless run session per device count, sequential schedule (each runner alone
with the machine), every runner data-parallel with its own engine. Scaling
efficiency is a runner's throughput on N devices over N times its own on one.
"""

from __future__ import annotations

import argparse

from tui.cli.options import plan_from
from workloads.errors import InputError

FIELDS = ["devices", "runner", "throughput", "unit", "per_device", "efficiency", "run"]


def scaling_sweep(args: argparse.Namespace) -> int:
    from runners.session.record.run_folder import RunFolder
    from runners.session.repeats import combine, run_repeats
    from tui.cli.sweep import save_sweep
    from tui.console import headless
    from tui.console.output import console as output_console
    from tui.console.output import text_of
    from tui.console.sweep_report import scaling_chart, scaling_table

    counts = sorted(args.devices)
    if counts[0] != 1:
        raise InputError("sweep --devices measures scaling against one device: include 1 (e.g. --devices 1,2,4)")
    sizes = [s.strip() for s in (args.sizes or "").split(",") if s.strip()]
    if len(sizes) > 1:
        raise InputError("sweep --devices measures scaling at one model size: give one --sizes, or none")
    size = sizes[0] if sizes else args.size
    # Every device count checked before anything trains.
    plans = [plan_from(argparse.Namespace(**{**vars(args), "size": size, "devices": count}), steps=args.steps,
                       schedule="sequential", duration_s=args.duration) for count in counts]
    workload = plans[0].workload.name
    sweep_folder = RunFolder.create(args.output, f"scaling-{workload}")
    rows, failures, alone = [], 0, {}
    for count, plan in zip(counts, plans):
        done, code = run_repeats(plan, sweep_folder.path, args.repeats, headless.run, f"{workload}-x{count}")
        failures += code != 0
        standings, _ = combine([table for _, table in done]) if done else ([], {})
        for standing in standings:
            if not standing.throughput:
                continue
            if count == 1:
                alone[standing.runner] = standing.throughput
            one = alone.get(standing.runner)
            rows.append({"devices": count, "runner": standing.runner, "throughput": standing.throughput,
                         "unit": standing.unit, "per_device": standing.throughput / count,
                         "efficiency": standing.throughput / (count * one) if one else None,
                         "run": " ".join(path.name for path, _ in done)})
        if code == 130:
            break
    console = output_console()
    table, chart = scaling_table(rows), scaling_chart(rows, workload)
    console.print(table)
    console.print(chart)
    save_sweep(sweep_folder, {"workload": workload, "size": plans[0].settings.size,
                              "batch_size": plans[0].settings.batch_size}, rows, FIELDS,
               f"# scaling sweep: {workload}\n\n```\n{text_of(table)}\n{chart}\n```\n")
    console.print(f"sweep folder: {sweep_folder.path}")
    return 1 if failures else 0
