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

from tui.cli.options import add_length_options, add_plan_options, command, plan_from, positive_int
from workloads.errors import InputError

REFERENCE = "torch"  # the native PyTorch runner every Keras runner is compared with
FIELDS = ["size", "params", "runner", "keras_over_torch", "low", "high", "repeats", "run"]


def register(commands) -> None:
    parser = command(
        commands, "sweep",
        "Train the workload at several model sizes, one headless run per size with the "
        "sequential schedule, and show the Keras ÷ PyTorch throughput ratio per backend against size "
        "(a table and a chart, saved in a sweep folder with every run).",
        sweep,
    )
    add_plan_options(parser, device_ladder=True)
    parser.add_argument("--sizes", metavar="S1,S2,…",
                        help="size presets to sweep (default: tiny,small,base; with --devices N1,N2,…: one size, "
                        "the workload's default)")
    add_length_options(parser, "default: the size's preset")
    parser.add_argument("--repeats", type=positive_int, default=1, metavar="N",
                        help="runs per size, in fresh processes with the runner order rotated: each ratio gets a "
                        "95%% interval across them (default: 1)")


def ratios(tables: list) -> dict[str, dict]:
    """Keras throughput ÷ PyTorch throughput per Keras runner (above 1: Keras is faster), paired repeat by
    repeat: the geometric mean, its 95 % interval (three repeats or more) and how many repeats it rests on."""
    from runners.session.repeats import combine, ratio_over_repeats

    _, by_repeat = combine(tables)
    result = {}
    for name in by_repeat:
        if name.startswith("keras/"):
            ratio = ratio_over_repeats(by_repeat, name, REFERENCE)
            result[name] = {"keras_over_torch": ratio.value if ratio else None, "low": ratio.low if ratio else None,
                            "high": ratio.high if ratio else None, "repeats": ratio.pairs if ratio else 0}
    return result


def sweep(args: argparse.Namespace) -> int:
    try:
        return _sweep(args)
    except OSError as exc:
        raise InputError(f"cannot write the sweep folder in {args.output}: {exc.strerror or exc}") from None


def _sweep(args: argparse.Namespace) -> int:
    if args.devices != [1]:
        from tui.cli.scaling_sweep import scaling_sweep

        return scaling_sweep(args)
    return _size_sweep(args)


def _size_sweep(args: argparse.Namespace) -> int:
    from runners.session.planning.preparation import prepared_parameters
    from runners.session.record.run_folder import RunFolder
    from runners.session.repeats import run_repeats
    from tui.console import headless
    from tui.console.output import console as output_console
    from tui.console.output import text_of
    from tui.console.sweep_report import ratio_chart, ratio_table

    sizes = [s.strip() for s in (args.sizes or "tiny,small,base").split(",") if s.strip()]
    # Every size checked before anything trains.
    plans = [plan_from(argparse.Namespace(**{**vars(args), "size": size, "devices": 1}), steps=args.steps,
                       schedule="sequential", duration_s=args.duration) for size in sizes]
    if REFERENCE not in [spec.name for spec in plans[0].specs]:
        raise InputError("sweep compares every Keras runner with the torch runner: include torch in --runners")
    workload = plans[0].workload.name
    sweep_folder = RunFolder.create(args.output, f"sweep-{workload}")
    rows, failures = [], 0
    for size, plan in zip(sizes, plans):
        done, code = run_repeats(plan, sweep_folder.path, args.repeats, headless.run, f"{workload}-{size}")
        failures += code != 0
        params = plan.workload.trainable_params(plan.settings)
        if params is None and done:  # a model that only its own framework counts: what its run prepared
            params = prepared_parameters(done[0][0])
        runs = " ".join(path.name for path, _ in done)
        for runner, ratio in ratios([table for _, table in done]).items():
            rows.append({"size": size, "params": params, "runner": runner, **ratio, "run": runs})
        if code == 130:
            break
    table, chart = ratio_table(rows), ratio_chart(rows, workload)
    console = output_console()
    console.print(table)
    console.print(chart)
    save_sweep(sweep_folder, {"workload": workload, "reference": REFERENCE}, rows, FIELDS,
               f"# sweep: {workload}\n\n```\n{text_of(table)}\n{chart}\n```\n")
    console.print(f"sweep folder: {sweep_folder.path}")
    return 1 if failures else 0


def save_sweep(folder, about: dict, rows: list[dict], fields: list[str], report: str) -> None:
    """sweep.json (``about`` and the rows), sweep.csv (the rows) and sweep.md (``report``) in the sweep folder."""
    folder.write_json("sweep.json", {**about, "rows": rows})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    folder.write_text("sweep.csv", buffer.getvalue())
    folder.write_text("sweep.md", report)
