"""The run's parity status: do the runners train the same model from the same start?"""

from __future__ import annotations

from textual.widgets import Static

from runners.session.parity import (
    INITIAL_LOSS_RTOL,
    LOGITS_ATOL,
    PARITY_STEPS,
    ParityReport,
)


class ParityBar(Static):
    _shown = ""

    def show(self, report: ParityReport, failed_runners: list[str]) -> None:
        for status in ("verified", "pending", "failed", "single"):
            self.set_class(report.status == status, f"-{status}")
        text = _describe(report, failed_runners)
        if text != self._shown:  # one row, always: redraw only on news, never re-layout
            self._shown = text
            self.update(text, layout=False)


def _describe(report: ParityReport, failed_runners: list[str]) -> str:
    excluded = f" · not judged: {', '.join(failed_runners)} (failed)" if failed_runners else ""
    if report.status == "failed":
        return f"parity [b]✗ FAILED[/b] · {report.problems[0]}" + (
            f" (+{len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        ) + excluded
    if report.status == "single":
        return "parity · one runner, nothing to compare against" + excluded
    if report.status == "pending":
        return (
            f"parity · checking: identical initial weights loaded; waiting for every runner's first "
            f"{PARITY_STEPS + 1} steps…" + excluded
        )
    worst_logits = max((r.logits_diff or 0.0) for r in report.rows)
    if report.losses_not_compared:
        return (f"parity [b]✓ verified[/b] · same parameters · initial logits Δ {worst_logits:.0e} "
                f"(tolerance {LOGITS_ATOL:g}) · {report.losses_not_compared}" + excluded)
    worst_steps = max((r.steps_rdiff or 0.0) for r in report.rows)
    initial = next((r.initial_loss for r in report.rows if r.runner == report.reference), None)
    return (
        f"parity [b]✓ verified[/b] · initial loss {initial:.4f} in all {len(report.rows)} · "
        f"logits Δ {worst_logits:.0e} · steps 1–{PARITY_STEPS} Δ {worst_steps:.0e} rel "
        f"(tolerances {LOGITS_ATOL:g} / {INITIAL_LOSS_RTOL:g} / {report.step_rtol:g}) · same parameters" + excluded
    )
