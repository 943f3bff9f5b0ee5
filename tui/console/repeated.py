"""``kvp-dash --headless --repeats N``: N whole runs, each followed like one headless run, then combined."""

from __future__ import annotations

from pathlib import Path

from runners.session.record.run_folder import RunFolder
from runners.session.repeats import combine, repeats_verdict, run_repeats
from runners.session.verdict.summary import markdown
from tui.console import headless
from tui.console.output import console as output_console
from tui.console.preparing import plain_progress
from tui.console.standings import leaderboard_table
from workloads.errors import InputError


def run_repeated(plan, output: Path, count: int, session_options: dict) -> int:
    try:
        parent = RunFolder.create(output, f"repeats-{plan.workload.name}")
    except OSError as exc:
        raise InputError(f"cannot create a run folder in {output}: {exc.strerror or exc}") from None
    progress = plain_progress(output_console(), f"preparing {plan.workload.name} ({plan.settings.size})")
    done, code = run_repeats(plan, parent.path, count, headless.run, plan.workload.name, on_progress=progress,
                             **session_options)
    tables = [table for _, table in done]
    table, by_repeat = combine(tables)
    header = f"{plan.describe()} · {len(tables)} of {count} repeats"
    verdict = repeats_verdict(table, by_repeat, plan.workload.name, plan.settings.batch_size, plan.device)
    console = output_console()
    title = f"over {len(tables)} repeats (geometric means; × slower with its 95 % interval across repeats)"
    console.print(leaderboard_table(table, title=title))
    console.print(f"verdict over repeats: {verdict}")
    try:
        parent.write_json("repeats.json", {
            "run": header, "verdict": verdict, "standings": [row.__dict__ for row in table],
            "throughput_by_repeat": {name: {str(k + 1): v for k, v in rates.items()} for name, rates in by_repeat.items()},
        })
        parent.write_text("repeats.md", markdown(table, verdict, header, over="repeat"))
    except OSError as exc:
        console.print(f"repeats summary not saved: {exc.strerror or exc}")
    console.print(f"repeats folder: {parent.path}")
    return code
