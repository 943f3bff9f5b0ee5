"""``kvp-dash check``'s table: each runner's parameters, initial logits and losses against the reference."""

from __future__ import annotations

from rich.table import Table

from runners.session.verdict.parity import PARITY_STEPS, ParityReport, ParityTracker


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
    if report.floor_rdiff is not None and tracker.floor_losses:
        # The noise floor: the reference's own steps from weights perturbed at float32 rounding.
        table.add_row(f"{report.reference}, perturbed (floor)", "", _sci(report.floor_logits_diff),
                      f"{tracker.floor_losses[0]:.6f}", _sci(report.floor_initial_rdiff),
                      f"{tracker.floor_losses[PARITY_STEPS]:.6f}", _sci(report.floor_rdiff), style="dim")
    return table


def _sci(value: float | None) -> str:
    return "–" if value is None else f"{value:.1e}"
