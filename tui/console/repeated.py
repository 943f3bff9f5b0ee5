"""``kvp-dash --headless --repeats N``: N whole runs, each followed like one headless run, then combined; and
``--until ±X% --repeats auto``: processes until the interval over them is that sure."""

from __future__ import annotations

from pathlib import Path

from runners.session.record.run_folder import RunFolder
from runners.session.repeats import combine, repeats_verdict, run_repeats
from runners.session.verdict.confidence import plural_of
from runners.session.verdict.summary import Standing, markdown
from tui.console import headless
from tui.console.output import console as output_console
from tui.console.preparing import plain_progress
from tui.console.standings import leaderboard_table
from workloads.errors import InputError


def run_repeated(plan, output: Path, count: int, session_options: dict) -> int:
    parent = _parent_folder(output, f"repeats-{plan.workload.name}")
    done, code = run_repeats(plan, parent.path, count, headless.run, plan.workload.name,
                             on_progress=_progress(plan), **session_options)
    tables = [table for _, table in done]
    _report(parent, plan, tables, f"{len(tables)} of {count} repeats", "repeat", shown=f"{len(tables)} repeats")
    return code


def run_until_sure_over_processes(plan, output: Path, session_options: dict) -> int:
    """``--until ±X% --repeats auto``: ``runners.session.until_processes``, followed on the console."""
    from runners.session.until_processes import run_until_sure

    parent = _parent_folder(output, f"until-{plan.workload.name}")
    console = output_console()
    sure, code = run_until_sure(plan, parent.path, plan.until, plan.duration_s, headless.run, plan.workload.name,
                                on_process=lambda state: console.print(f"until over processes: {state.progress()}"),
                                on_progress=_progress(plan), **session_options)
    levels = {lv.comparison: lv for lv in sure.levels}

    def ratio_of(first: str, second: str):
        found = levels.get(f"{first} ÷ {second}")
        return found.ratio if found else None

    tables = [p.standings for p in sure.processes]
    _report(parent, plan, tables, f"{len(tables)} processes", "process", ratio_of=ratio_of,
            outcome=sure.outcome(), method=sure.method(), until=sure.record())
    return code


def _parent_folder(output: Path, name: str) -> RunFolder:
    try:
        return RunFolder.create(output, name)
    except OSError as exc:
        raise InputError(f"cannot create a run folder in {output}: {exc.strerror or exc}") from None


def _progress(plan):
    return plain_progress(output_console(), f"preparing {plan.workload.name} ({plan.settings.size})")


def _report(parent: RunFolder, plan, tables: list[list[Standing]], count: str, over: str, ratio_of=None,
            outcome: str | None = None, method: str | None = None, until: dict | None = None,
            shown: str | None = None) -> None:
    """The runs combined: a leaderboard and a verdict on the console, repeats.json and repeats.md in ``parent``.
    ``count``: the runs, in the header ("2 of 3 repeats"); ``shown``: in the leaderboard's title, if other."""
    table, by_repeat = combine(tables)
    header = f"{plan.describe()} · {count}"
    verdict = repeats_verdict(table, by_repeat, plan.workload.name, plan.settings.batch_size, plan.device,
                              ratio_of=ratio_of, over=over)
    if outcome:
        verdict += f"; {outcome}"
    console = output_console()
    plural = plural_of(over)
    title = f"over {shown or count} (geometric means; × slower with its 95 % interval across {plural})"
    console.print(leaderboard_table(table, title=title))
    console.print(f"verdict over {plural}: {verdict}")
    if method:
        console.print(f"levels of noise: {method}")
    record = {"run": header, "verdict": verdict, "standings": [row.__dict__ for row in table],
              "throughput_by_repeat": {name: {str(k + 1): v for k, v in rates.items()}
                                       for name, rates in by_repeat.items()}}
    if until is not None:
        record["until"] = {**until, "method": method}
    try:
        parent.write_json("repeats.json", record)
        parent.write_text("repeats.md", markdown(table, verdict, header, over=over))
    except OSError as exc:
        console.print(f"repeats summary not saved: {exc.strerror or exc}")
    console.print(f"repeats folder: {parent.path}")
