"""``kvp-dash compare RUN_A RUN_B [RUN_C …]``: each runner's throughput in the later runs against the first, with
intervals and what differs between the runs; ``--fail-if-slower 5%`` makes it a CI gate (exit 1)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.cli.options import command, share
from workloads.errors import InputError


def register(commands) -> None:
    parser = command(
        commands, "compare",
        "Each runner's steady throughput in RUN_B (and further runs) against RUN_A: the ratio with a 95%% "
        "interval from each run's turns, and what differs between the runs (settings, versions, machine).",
        compare,
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run folders of the same workload and size; the first is the baseline")
    parser.add_argument("--fail-if-slower", type=share, metavar="PCT",
                        help="exit 1 when any runner is slower than in the first run by more than this (5%%), at "
                        "95%% confidence: a CI gate")


def compare(args: argparse.Namespace) -> int:
    from runners.session.record.finished_run import read_run
    from runners.session.verdict.across_runs import changes, differences
    from tui.console.compare_table import changes_table
    from tui.console.output import console as output_console

    if len(args.runs) < 2:
        raise InputError("compare needs two run folders or more: the baseline first")
    runs = [read_run(path) for path in args.runs]
    base = runs[0]
    for run in runs[1:]:
        if (run.workload, run.size) != (base.workload, base.size):
            raise InputError(f"compare needs runs of the same workload and size: {base.path} is "
                             f"{base.describe()}, {run.path} is {run.describe()}")
    console = output_console()
    failed = []
    for run in runs[1:]:
        found = changes(base, run)
        console.print(f"[b]{run.path}[/b] against [b]{base.path}[/b] · {base.describe()}")
        differ = differences(base, run)
        console.print("differs: " + ("; ".join(differ) if differ else "nothing recorded (same settings, versions, "
                                      "machine)"))
        console.print(changes_table(found, base.path.name, run.path.name))
        if args.fail_if_slower is not None:
            failed += [(run, change) for change in found if change.slower_beyond(args.fail_if_slower)]
    if args.fail_if_slower is not None:
        limit = f"{args.fail_if_slower * 100:g} %"
        for run, change in failed:
            console.print(f"[b]FAIL[/b] {change.runner} in {run.path.name}: {change.words()}; more than {limit}")
        if not failed:
            console.print(f"pass: no runner slower than in {base.path.name} by more than {limit} at 95 % confidence")
    return 1 if failed else 0
