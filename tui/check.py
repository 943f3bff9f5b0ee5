"""``kvp-dash check``: every runner from the same start on the same batches, and a parity table."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from runners.config import RunConfig
from runners.cpu_share import available_cpus
from runners.launcher import Launcher, run_headless
from runners.parity import (
    INITIAL_LOSS_RTOL,
    LOGITS_ATOL,
    PARITY_STEPS,
    ParityReport,
    ParityTracker,
    compare,
)
from runners.protocol import Error
from runners.recording import RunFolder


def run_check(plan, output) -> int:
    from tui.cli import create_run_folder, describe

    console = Console()
    folder: RunFolder = create_run_folder(output, f"check-{plan.workload.name}")
    # fp32 with TF32 off: the precision parity tolerances are set for.
    config = RunConfig(workload=plan.workload_ref, settings=plan.settings, warmup_steps=0, device=plan.device)
    launcher = Launcher(plan.specs, config, folder, available_cpus(), gpus=plan.gpus)
    tracker = ParityTracker(launcher.runner_names)
    errors: dict[str, Error] = {}

    def observe(event):
        tracker.observe(event)
        if isinstance(event, Error):
            errors[event.runner] = event

    console.print(f"[b]kvp-dash check[/b] · {describe(plan)} · {len(plan.specs)} runners")
    with console.status("runners importing, building and training the first steps…"):
        try:
            asyncio.run(run_headless(launcher, observe))
        except KeyboardInterrupt:
            console.print("interrupted; every runner was stopped")
            return 130
    report = compare(
        tracker.facts,
        expected_params=plan.workload.trainable_params(plan.settings),
        step_rtol=plan.workload.parity_step_rtol,
    )
    folder.write_json("parity.json", {"status": report.status, "reference": report.reference,
                                      "rows": [asdict(r) for r in report.rows]})
    console.print(parity_table(report, tracker))
    for runner, error in errors.items():
        console.print(f"[red]{runner} failed: {error.error_type}: {error.message}[/red]")
    for problem in report.problems:
        console.print(f"[red]✗ {problem}[/red]")
    if report.status == "verified" and not errors:
        console.print(
            f"[green]✓ parity verified[/green]: same trainable parameters, initial logits within "
            f"{LOGITS_ATOL:g}, initial loss within {INITIAL_LOSS_RTOL:g} and the next {PARITY_STEPS} "
            f"step losses within {report.step_rtol:g} (relative) of {report.reference}"
        )
        return 0
    if report.status == "single" and not errors:
        console.print("only one runner: nothing to compare against")
        return 0
    console.print(f"[red]✗ parity {report.status}[/red] (records in {folder.path})")
    return 1


def parity_table(report: ParityReport, tracker: ParityTracker) -> Table:
    table = Table(title=f"parity against {report.reference}", title_justify="left")
    table.add_column("runner")
    table.add_column("params", justify="right")
    table.add_column("max |Δ logit|", justify="right")
    table.add_column("initial loss", justify="right")
    table.add_column("Δ rel", justify="right")
    table.add_column(f"step {PARITY_STEPS} loss", justify="right")
    table.add_column(f"steps 1–{PARITY_STEPS} max Δ rel", justify="right")
    # The reference first: every other row is read against it.
    for row in sorted(report.rows, key=lambda r: r.runner != report.reference):
        losses = tracker.facts[row.runner].losses[1:]
        is_reference = row.runner == report.reference
        table.add_row(
            row.runner,
            f"{row.params:,}" if row.params is not None else "–",
            "reference" if is_reference else _sci(row.logits_diff),
            f"{row.initial_loss:.6f}" if row.initial_loss is not None else "–",
            "" if is_reference else _sci(row.initial_loss_rdiff),
            f"{losses[-1]:.6f}" if losses else "–",
            "" if is_reference else _sci(row.steps_rdiff),
            style="red" if row.problems else None,
        )
    return table


def _sci(value: float | None) -> str:
    return "–" if value is None else f"{value:.1e}"
